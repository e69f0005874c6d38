"""Exact float64 engines from the theory layer: ``numeric`` and ``oracle``.

``numeric``  :func:`privqml.theory.exact.numeric.batch_expectations_and_jacobians` — exact float64 simulation
             of the ansatz (state vector, or density matrix when it has noise channels) with an
             exact derivative rule; any size the simulator holds.
``oracle``   :func:`privqml.theory.exact.oracle.exact_gradient` — the symbolic (SymPy) gradient of
             circuits with at most four qubits, evaluated in float64: an independent check of
             every numerical engine. It declines circuits whose symbolic expansion takes longer
             than ``ORACLE_BUDGET_SECONDS`` of CPU time.

Both are exact up to float64 rounding; their agreement tolerance is 1e-9 per unit of
observable norm and of Σ_k|∂t_k/∂θ_j| (per weight).
"""

from __future__ import annotations

import functools
import signal
import threading

import numpy as np

from privqml.errors import ConfigError
from privqml.theory.ansatz import Ansatz
from privqml.theory.exact import numeric, oracle
from privqml.verify.engine_base import Engine, EngineOptions, GradientResult, angle_map, propagate_slot_tolerance
from privqml.theory.noise import has_noise

EXACT_SLOT_TOLERANCE = (1e-9, 1e-12)
ORACLE_MAX_QUBITS = 4
ORACLE_BUDGET_SECONDS = 10.0


def _result(name, ansatz, weights, inputs, values, jacobian, circuits) -> GradientResult:
    values = np.asarray(values, dtype=np.float64).reshape(weights.shape[0], ansatz.n_outputs)
    jacobian = np.asarray(jacobian, dtype=np.float64).reshape(weights.shape[0], ansatz.n_outputs, ansatz.n_weights)
    amap = angle_map(ansatz)
    tolerance = propagate_slot_tolerance(
        ansatz, amap.derivatives(weights, inputs), amap.values(weights, inputs), *EXACT_SLOT_TOLERANCE
    )
    return GradientResult(name, values, jacobian, tolerance, circuits)


def numeric_admits(ansatz: Ansatz):
    """None if the float64 simulator holds ``ansatz`` (state vector ≤ MAX_QUBITS_PURE qubits,
    density matrix ≤ MAX_QUBITS_MIXED with channels), else why not."""
    mixed = has_noise(ansatz)
    limit = numeric.MAX_QUBITS_MIXED if mixed else numeric.MAX_QUBITS_PURE
    if ansatz.n_qubits > limit:
        kind = "density-matrix" if mixed else "state-vector"
        return f"engine 'numeric' holds at most {limit} qubits in {kind} simulation; the ansatz has {ansatz.n_qubits}"
    return None


def numeric_gradients(ansatz: Ansatz, weights: np.ndarray, inputs: np.ndarray, options: EngineOptions) -> GradientResult:
    """Exact float64 outputs and Jacobian from :mod:`privqml.theory.exact.numeric`."""
    values, jacobian = numeric.batch_expectations_and_jacobians(ansatz, weights, inputs)
    return _result("numeric", ansatz, weights, inputs, values, jacobian, circuits=1)


class _OracleTimeout(Exception):
    pass


@functools.lru_cache(maxsize=64)
def _oracle_or_reason(ansatz: Ansatz):
    """The oracle's ExactGradient, or a string saying why it was not built within the budget.

    The symbolic expansion can swell (native PhasedXZ/FSim circuits of 2 qubits and 2 layers
    take minutes), so it runs under a budget of ``ORACLE_BUDGET_SECONDS`` of process CPU time
    (``ITIMER_VIRTUAL``: independent of how loaded the machine is; no budget outside the main
    thread)."""
    budget = ORACLE_BUDGET_SECONDS
    if threading.current_thread() is not threading.main_thread() or budget is None:
        return oracle.exact_gradient(ansatz)

    def alarm(signum, frame):
        raise _OracleTimeout()

    previous = signal.signal(signal.SIGVTALRM, alarm)
    signal.setitimer(signal.ITIMER_VIRTUAL, budget)
    try:
        return oracle.exact_gradient(ansatz)
    except _OracleTimeout:
        return (f"engine 'oracle' declined {ansatz.name!r}: its symbolic expansion exceeded the "
                f"{budget:g} s CPU budget; numeric gives the same exact gradient")
    finally:
        signal.setitimer(signal.ITIMER_VIRTUAL, 0)
        signal.signal(signal.SIGVTALRM, previous)


def oracle_admits(ansatz: Ansatz):
    """None if the oracle handles ``ansatz`` (building it, within the budget), else why not."""
    built = _oracle_or_reason(ansatz)
    return built if isinstance(built, str) else None


def _oracle_for(ansatz: Ansatz):
    built = _oracle_or_reason(ansatz)
    if isinstance(built, str):
        raise ConfigError(built)
    return built


def oracle_gradients(ansatz: Ansatz, weights: np.ndarray, inputs: np.ndarray, options: EngineOptions) -> GradientResult:
    """The symbolic gradient of :mod:`privqml.theory.exact.oracle` (≤ 4 qubits), evaluated in float64."""
    gradient = _oracle_for(ansatz)
    rows = [gradient(w, x) for w, x in zip(weights, inputs)]
    return _result("oracle", ansatz, weights, inputs, [f for f, _ in rows], [j for _, j in rows], circuits=0)


EXACT_ENGINES: dict[str, Engine] = {
    "numeric": Engine("numeric", numeric_gradients, exact=True, stochastic=False, max_qubits=None,
                      description="exact float64 simulation (privqml.theory.exact.numeric)", supports_noise=True,
                      admits=numeric_admits),
    "oracle": Engine("oracle", oracle_gradients, exact=True, stochastic=False, max_qubits=ORACLE_MAX_QUBITS,
                     description="exact symbolic gradient (privqml.theory.exact.oracle, <= 4 qubits)", supports_noise=True,
                     admits=oracle_admits),
}

__all__ = ["EXACT_ENGINES", "EXACT_SLOT_TOLERANCE", "ORACLE_BUDGET_SECONDS", "ORACLE_MAX_QUBITS", "numeric_gradients", "oracle_gradients"]
