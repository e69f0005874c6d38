"""Gradient engines: agreement on a table of circuits, and the contract every engine inherits.

Tolerances (stated in privqml.verify.engines and asserted here):
- numeric vs oracle (both float64): 1e-9 absolute;
- adjoint / pshift / fd vs numeric: each engine's stated per-entry tolerance, slot tolerance
  (atol + b·|t_k|)·Σ|c_t| with (2e-4, 4e-5), (2e-5, 1e-6), (2e-3, 5e-4) propagated through
  Σ_k |∂t_k/∂θ_j|; and those tolerances must stay below 2e-2 on these circuits;
- shots / noisy (trajectories): Hoeffding half-width at δ = 1e-9 per entry.
"""

from __future__ import annotations

import ast
import math
import subprocess
import sys
from pathlib import Path

import cirq
import numpy as np
import pytest
import sympy

from privqml.errors import ConfigError, DomainError
from privqml.models.tfq_circuit import compile_ansatz
from privqml.theory import Ansatz, hea, parse_observables, slot_table
from privqml.theory import slots as slots_module
from privqml.verify.engines import ENGINE_NAMES, EngineOptions, angle_map, get_engine, gradients
from privqml.theory.noise import NoiseModel, with_noise
from privqml.verify.tfq_engines import gradient_plan, _differentiator
from tests.verify._cases import CASES, points_for

OPTIONS = EngineOptions(repetitions=400, trajectories=60)


@pytest.fixture(scope="module")
def table():
    """For every case: (ansatz, weights, inputs, numeric result)."""
    out = {}
    for name, make in CASES.items():
        ansatz = make()
        weights, inputs = points_for(ansatz, batch=3, seed=len(name))
        out[name] = (ansatz, weights, inputs, gradients("numeric", ansatz, weights, inputs))
    return out


@pytest.mark.parametrize("case", sorted(CASES))
def test_numeric_agrees_with_symbolic_oracle(table, case):
    ansatz, weights, inputs, numeric = table[case]
    oracle = gradients("oracle", ansatz, weights, inputs)
    np.testing.assert_allclose(oracle.values, numeric.values, atol=1e-9, rtol=0)
    np.testing.assert_allclose(oracle.jacobian, numeric.jacobian, atol=1e-9, rtol=0)
    assert np.abs(numeric.jacobian).max() > 0.05  # the table is not trivially zero


@pytest.mark.parametrize("engine", ["adjoint", "pshift", "fd"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_float32_engines_agree_with_numeric_within_stated_tolerance(table, case, engine):
    ansatz, weights, inputs, numeric = table[case]
    result = gradients(engine, ansatz, weights, inputs)
    difference = np.abs(result.jacobian - numeric.jacobian)
    assert np.all(difference <= result.tolerance + numeric.tolerance), (case, engine, difference.max())
    assert result.tolerance.max() < 2e-2
    np.testing.assert_allclose(result.values, numeric.values, atol=2e-5)


@pytest.mark.parametrize("case", ["hea", "native", "pauli_sum", "iswap"])
def test_finite_shot_estimates_agree_statistically(table, case):
    ansatz, weights, inputs, numeric = table[case]
    result = gradients("shots", ansatz, weights, inputs, OPTIONS)
    difference = np.abs(result.jacobian - numeric.jacobian)
    assert np.all(difference <= result.tolerance), (case, (difference / result.tolerance).max())
    assert 0.01 < result.tolerance.max() < 2.0  # a real statistical tolerance, not a blanket one
    # and every single estimate stays within what the estimator can return
    assert np.all(np.abs(result.jacobian) <= result.estimate_bound * (1 + 1e-5) + 1e-6)


def test_hoeffding_tolerance_shrinks_like_one_over_sqrt_shots(table):
    ansatz, weights, inputs, _ = table["hea"]
    small = gradients("shots", ansatz, weights, inputs, EngineOptions(repetitions=100))
    large = gradients("shots", ansatz, weights, inputs, EngineOptions(repetitions=10000))
    ratio = (small.tolerance - 1e-6 * small.estimate_bound).max() / (large.tolerance - 1e-6 * large.estimate_bound).max()
    assert ratio == pytest.approx(10.0, rel=1e-3)


NOISE = NoiseModel((("depolarize", 0.05), ("amplitude_damp", 0.1)))


def _cirq_density_expectations(ansatz: Ansatz, weights, inputs) -> np.ndarray:
    simulator = cirq.DensityMatrixSimulator(dtype=np.complex128)
    qubits = ansatz.qubits
    index = {q: i for i, q in enumerate(qubits)}
    rho = simulator.simulate(cirq.resolve_parameters(ansatz.circuit, ansatz.resolver(weights, inputs)),
                             qubit_order=qubits).final_density_matrix
    return np.asarray([o.expectation_from_density_matrix(rho, index).real for o in ansatz.observables])


@pytest.mark.parametrize("case", ["hea", "google_native", "shared_weights"])
def test_noisy_numeric_matches_cirq_density_matrix_values_and_differences(case):
    ansatz = with_noise(CASES[case](), NOISE)
    weights, inputs = points_for(ansatz, batch=1, seed=3)
    exact = gradients("numeric", ansatz, weights, inputs)
    np.testing.assert_allclose(exact.values[0], _cirq_density_expectations(ansatz, weights[0], inputs[0]), atol=1e-10)
    h = 1e-6
    for j in range(ansatz.n_weights):
        step = np.zeros(ansatz.n_weights)
        step[j] = h
        central = (_cirq_density_expectations(ansatz, weights[0] + step, inputs[0])
                   - _cirq_density_expectations(ansatz, weights[0] - step, inputs[0])) / (2 * h)
        np.testing.assert_allclose(exact.jacobian[0, :, j], central, atol=1e-7)


@pytest.mark.parametrize("case", ["hea", "native", "pauli_sum"])
def test_noisy_trajectories_agree_with_exact_density_matrix(case):
    ansatz = with_noise(CASES[case](), NOISE)
    weights, inputs = points_for(ansatz, batch=2, seed=5)
    exact = gradients("numeric", ansatz, weights, inputs)
    estimate = gradients("noisy", ansatz, weights, inputs, EngineOptions(trajectories=200))
    difference = np.abs(estimate.jacobian - exact.jacobian)
    assert np.all(difference <= estimate.tolerance), (difference / estimate.tolerance).max()
    # the channels matter: the noisy gradient differs from the noiseless one
    clean = gradients("numeric", CASES[case](), weights, inputs)
    assert np.abs(clean.jacobian - exact.jacobian).max() > 1e-3


def test_noise_really_is_simulated_by_tfq_trajectories():
    """A strong bit flip before measuring Z: f = (1 − 2p) cos θ exactly; trajectories see it."""
    q = cirq.LineQubit(0)
    theta = sympy.Symbol("theta")
    ansatz = Ansatz(cirq.Circuit(cirq.ry(theta).on(q), cirq.bit_flip(0.25).on(q)), (theta,), (),
                    parse_observables("Z0", (q,)))
    result = gradients("noisy", ansatz, [[0.0], [math.pi / 2]], None, EngineOptions(trajectories=2000))
    np.testing.assert_allclose(result.values[:, 0], [0.5, 0.0], atol=0.08)
    np.testing.assert_allclose(result.jacobian[:, 0, 0], [0.0, -0.5], atol=0.1)


# ---------------------------------------------------------------------------------------
# what TFQ's ParameterShift computes: Σ_m |w_km| = Ω_k for every slot, multi-frequency included
# ---------------------------------------------------------------------------------------
_t = sympy.Symbol("w0")
_TFQ_GATES = [
    cirq.XPowGate(exponent=_t), cirq.YPowGate(exponent=_t), cirq.ZPowGate(exponent=_t), cirq.HPowGate(exponent=_t),
    cirq.rx(_t), cirq.CZPowGate(exponent=_t), cirq.CXPowGate(exponent=_t), cirq.XXPowGate(exponent=_t),
    cirq.YYPowGate(exponent=_t), cirq.ZZPowGate(exponent=_t), cirq.ISwapPowGate(exponent=_t),
    cirq.SwapPowGate(exponent=_t), cirq.PhasedISwapPowGate(exponent=_t, phase_exponent=0.3),
]


@pytest.mark.parametrize("gate", _TFQ_GATES, ids=lambda g: type(g).__name__)
def test_parameter_shift_weights_sum_to_the_slot_spread(gate):
    qubits = cirq.LineQubit.range(gate.num_qubits())
    ansatz = Ansatz(cirq.Circuit(cirq.H.on_each(*qubits), gate.on(*qubits)), (_t,), (),
                    parse_observables("X0", qubits))
    plan = gradient_plan(ansatz, np.array([[0.37]]), np.zeros((1, 0)), _differentiator("pshift"))
    spread = slot_table(ansatz).rows[0].spread
    assert np.abs(plan.combination[0, 0]).sum() == pytest.approx(spread, rel=1e-6)
    pieces = 2 if isinstance(gate, (cirq.ISwapPowGate, cirq.PhasedISwapPowGate)) else 1
    assert plan.circuits_per_example == 2 * pieces  # two shifted circuits per two-eigenvalue piece


# ---------------------------------------------------------------------------------------
# the contract every engine inherits
# ---------------------------------------------------------------------------------------
def _expected_circuits(engine: str, ansatz: Ansatz) -> int:
    amap = angle_map(ansatz)
    rows = slot_table(ansatz).rows
    pieces = sum(2 if isinstance(rows[k].slot.operation.gate, (cirq.ISwapPowGate, cirq.PhasedISwapPowGate)) else 1
                 for k in amap.weight_slots)
    return {"adjoint": 1, "pshift": 2 * pieces + 1, "shots": 2 * pieces + 1, "noisy": 2 * pieces + 1,
            "fd": 2 * len(amap.weight_slots) + 1, "numeric": 1, "oracle": 0}[engine]


class EngineContract:
    """Inherit and set ``engine`` to hold a new engine to the contract."""

    engine: str = ""

    @pytest.fixture(scope="class")
    def case(self):
        ansatz = CASES["iswap"]()
        weights, inputs = points_for(ansatz, batch=3, seed=11)
        return ansatz, weights, inputs, gradients(self.engine, ansatz, weights, inputs, OPTIONS)

    def test_shapes_and_dtypes(self, case):
        ansatz, weights, _, result = case
        assert result.engine == self.engine
        assert result.values.shape == (3, ansatz.n_outputs) and result.values.dtype == np.float64
        assert result.jacobian.shape == (3, ansatz.n_outputs, ansatz.n_weights) and result.jacobian.dtype == np.float64
        assert result.tolerance.shape == result.jacobian.shape and np.all(result.tolerance > 0)
        assert result.stochastic == get_engine(self.engine).stochastic
        assert (result.estimate_bound is not None) == result.stochastic

    def test_counts_the_circuits_it_runs(self, case):
        ansatz, _, _, result = case
        assert result.circuits_per_example == _expected_circuits(self.engine, ansatz)

    def test_agrees_with_numeric(self, case):
        ansatz, weights, inputs, result = case
        reference = gradients("numeric", ansatz, weights, inputs)
        assert np.all(np.abs(result.jacobian - reference.jacobian) <= result.tolerance + reference.tolerance)

    def test_rows_are_independent_examples(self, case):
        ansatz, weights, inputs, result = case
        single = gradients(self.engine, ansatz, weights[1], inputs[1:2], OPTIONS)
        assert single.jacobian.shape == (1, ansatz.n_outputs, ansatz.n_weights)
        tolerance = result.tolerance[1] + single.tolerance[0]
        assert np.all(np.abs(single.jacobian[0] - result.jacobian[1]) <= tolerance)

    def test_shared_weight_vector_broadcasts_over_the_batch(self, case):
        ansatz, weights, inputs, _ = case
        result = gradients(self.engine, ansatz, weights[0], inputs, OPTIONS)
        assert result.jacobian.shape[0] == inputs.shape[0]

    def test_rejects_inputs_outside_the_declared_domain(self, case):
        ansatz, weights, inputs, _ = case
        with pytest.raises(DomainError, match="outside its declared domain"):
            gradients(self.engine, ansatz, weights, inputs + 10.0)

    def test_rejects_a_wrong_weight_vector(self, case):
        ansatz, _, inputs, _ = case
        with pytest.raises(DomainError, match="weights"):
            gradients(self.engine, ansatz, np.zeros(ansatz.n_weights + 1), inputs)


class TestAdjoint(EngineContract):
    engine = "adjoint"


class TestParameterShift(EngineContract):
    engine = "pshift"


class TestFiniteDifference(EngineContract):
    engine = "fd"


class TestShots(EngineContract):
    engine = "shots"


class TestNoisyTrajectories(EngineContract):
    engine = "noisy"


class TestNumeric(EngineContract):
    engine = "numeric"


class TestOracle(EngineContract):
    engine = "oracle"


def test_every_registered_engine_has_a_contract_test():
    # the vectorised engine's contract class lives in tests/verify/test_vectorised_engine.py
    import tests.verify.test_vectorised_engine  # noqa: F401 - registers TestVectorised

    tested = {cls.engine for cls in EngineContract.__subclasses__()}
    assert tested == set(ENGINE_NAMES)


def test_pure_state_engines_refuse_noise_channels_with_a_clear_error():
    ansatz = with_noise(hea(2, 1), NOISE)
    for name in ("adjoint", "pshift", "fd"):
        with pytest.raises(ConfigError, match="noise channels"):
            gradients(name, ansatz, np.zeros(ansatz.n_weights), np.zeros(ansatz.n_inputs))


def test_oracle_declines_large_circuits():
    reason = get_engine("oracle").declines(hea(5, 1))
    assert reason is not None and "at most 4 qubits" in reason
    with pytest.raises(ConfigError, match="at most 4 qubits"):
        gradients("oracle", hea(5, 1), np.zeros(10), np.zeros(5))


def test_unknown_engine_name_lists_the_choices():
    with pytest.raises(ConfigError, match="adjoint, pshift, fd, shots, noisy, numeric, oracle"):
        get_engine("autodiff")


# ---------------------------------------------------------------------------------------
# one slot table for every engine, and a registry without hidden cycles
# ---------------------------------------------------------------------------------------
def test_every_engine_reads_the_one_slot_table(monkeypatch):
    """The chain-rule factors ∂t_k/∂θ_j of every engine, the TFQ compilation and the exact
    simulators come from the one cached slot table: the canonical circuit is built once."""
    calls = []
    real = slots_module.canonicalize
    monkeypatch.setattr(slots_module, "canonicalize", lambda a: calls.append(a.name) or real(a))
    base = CASES["shared_weights"]()
    ansatz = Ansatz(base.circuit, base.weights, base.inputs, base.observables, input_domain=base.input_domain,
                    name="one slot table")
    weights, inputs = points_for(ansatz, batch=2, seed=1)
    for name in ("adjoint", "pshift", "fd", "shots", "numeric", "oracle"):
        gradients(name, ansatz, weights, inputs, OPTIONS)
    assert calls == ["one slot table"]
    table = slot_table(ansatz)
    assert angle_map(ansatz).table is table and compile_ansatz(ansatz).slots is table


def test_angle_map_is_the_slot_table_on_a_batch():
    ansatz = CASES["shared_weights"]()
    weights, inputs = points_for(ansatz, batch=3, seed=2)
    amap, table = angle_map(ansatz), slot_table(ansatz)
    z = np.concatenate([weights, inputs], axis=1)
    np.testing.assert_array_equal(amap.values(weights, inputs), table.exponent_values(z))
    np.testing.assert_array_equal(amap.derivatives(weights, inputs), table.jacobian(z)[:, :, : ansatz.n_weights])
    # ry(2·w0·x0 + w2) on q1: ∂t/∂w0 = 2·x0/π
    k = next(row.index for row in table.rows if len(row.weight_derivatives) == 2)
    np.testing.assert_allclose(amap.derivatives(weights, inputs)[:, k, 0], 2 * inputs[:, 0] / math.pi, rtol=1e-14)


_VERIFY = Path(__file__).resolve().parents[2] / "verify"
_LAZY_TFQ = {("engines.py", "privqml.verify")}  # get_engine imports tfq_engines (TensorFlow) on demand


@pytest.mark.parametrize("module", ["engines.py", "engine_base.py", "exact_engines.py", "tfq_engines.py",
                                    "losses.py", "mutations.py", "report.py"])
def test_verify_engine_modules_import_at_the_top(module):
    """No function-level import hides a cycle; the one lazy import is TensorFlow's, on demand."""
    tree = ast.parse((_VERIFY / module).read_text())
    nested = []
    for function in (n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
        for node in ast.walk(function):
            if isinstance(node, ast.ImportFrom):
                nested.append((module, node.module))
            elif isinstance(node, ast.Import):
                nested.extend((module, alias.name) for alias in node.names)
    assert set(nested) <= _LAZY_TFQ, nested


def test_the_registry_loads_without_tensorflow():
    code = ("import sys, privqml.verify.engines as e; e.get_engine('numeric'); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'tensorflow_quantum')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
