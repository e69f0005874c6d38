"""Shared test data for the verify tests: a table of circuits and the Hypothesis settings.

Set ``PRIVQML_VERIFY_PROFILE=thorough`` (and optionally ``PRIVQML_VERIFY_EXAMPLES=N``) to run
the property tests at the thorough size instead of CI size.
"""

from __future__ import annotations

import os

import cirq
import numpy as np
import sympy
from hypothesis import settings

from privqml.theory import Ansatz, Readout, hea, native, parse_observables, reupload
from privqml.verify.runner import hypothesis_profile

PROFILE = os.environ.get("PRIVQML_VERIFY_PROFILE", "ci")
EXAMPLES = int(os.environ.get("PRIVQML_VERIFY_EXAMPLES", "0")) or None


def hypothesis_settings(ci_examples: int) -> settings:
    """privqml's registered ``privqml-ci`` profile with ``ci_examples``, or ``privqml-thorough``
    when asked for by the environment."""
    thorough = PROFILE == "thorough"
    base = settings.get_profile(hypothesis_profile(PROFILE))
    return settings(base, max_examples=EXAMPLES or (base.max_examples if thorough else ci_examples))


def google_native() -> Ansatz:
    """PhasedXPow, PhasedXZ, FSim and PhasedISwapPow with symbolic parameters on two qubits."""
    q0, q1 = cirq.LineQubit.range(2)
    w = sympy.symbols("w0:7")
    x = sympy.Symbol("x0")
    circuit = cirq.Circuit(
        cirq.rx(x).on(q0), cirq.ry(x).on(q1),
        cirq.PhasedXPowGate(exponent=w[0], phase_exponent=w[1]).on(q0),
        cirq.PhasedXZGate(x_exponent=w[2], z_exponent=0.3, axis_phase_exponent=w[3]).on(q1),
        cirq.FSimGate(theta=w[4], phi=w[5]).on(q0, q1),
        cirq.PhasedISwapPowGate(exponent=w[6], phase_exponent=0.25).on(q0, q1),
    )
    return Ansatz(circuit, w, (x,), parse_observables("X0*Z1", (q0, q1)), name="google_native")


def pauli_sum() -> Ansatz:
    """hea(2, 1) read out through a Pauli sum with a constant: Z0 Z1 + 0.5 X1 − 0.3 Y0 + 0.25."""
    base = hea(2, 1)
    q0, q1 = base.qubits
    observable = cirq.Z(q0) * cirq.Z(q1) + 0.5 * cirq.X(q1) - 0.3 * cirq.Y(q0) + 0.25
    return Ansatz(base.circuit, base.weights, base.inputs, (observable,), readout=Readout(2.0), name="pauli_sum")


def shared_weights() -> Ansatz:
    """One weight in several gates with different signs and affine angles (w·x + b re-uploading)."""
    q0, q1 = cirq.LineQubit.range(2)
    w0, w1, w2 = sympy.symbols("w0 w1 w2")
    x0, x1 = sympy.symbols("x0 x1")
    circuit = cirq.Circuit(
        cirq.ry(w0).on(q0), cirq.ry(2 * w0 * x0 + w2).on(q1),
        cirq.CZ(q0, q1),
        cirq.rx(-w0).on(q0), cirq.XXPowGate(exponent=0.5 * w1).on(q0, q1),
        cirq.rz(w1 + x1).on(q1), cirq.ry(-1.5 * w0 * x1 + 0.3).on(q1),
    )
    return Ansatz(circuit, (w0, w1, w2), (x0, x1), parse_observables("Z0,X1", (q0, q1)),
                  input_domain=((0.0, 1.0), (-2.0, 3.0)), name="shared_weights")


def iswap() -> Ansatz:
    """A multi-frequency slot: ISwapPow**w (frequencies π/2 and π per unit exponent)."""
    q0, q1 = cirq.LineQubit.range(2)
    w0, w1 = sympy.symbols("w0 w1")
    x0 = sympy.Symbol("x0")
    circuit = cirq.Circuit(cirq.rx(x0).on(q0), cirq.H(q1), cirq.ISwapPowGate(exponent=w0).on(q0, q1),
                           cirq.ry(w1).on(q0))
    return Ansatz(circuit, (w0, w1), (x0,), parse_observables("Z0+0.5*X1", (q0, q1)), name="iswap")


CASES = {
    "hea": lambda: hea(3, 2, "Z0"),
    "reupload": lambda: reupload(2, 2, "Z0"),
    "native": lambda: native(2, 1, "Z0"),
    "google_native": google_native,
    "pauli_sum": pauli_sum,
    "shared_weights": shared_weights,
    "iswap": iswap,
}


def points_for(ansatz: Ansatz, batch: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Seeded weights in [−2π, 2π] and inputs uniform in the declared domain."""
    rng = np.random.default_rng(seed)
    weights = rng.uniform(-2 * np.pi, 2 * np.pi, size=(batch, ansatz.n_weights))
    lo = np.asarray([d[0] for d in ansatz.input_domain]).reshape(1, -1)
    hi = np.asarray([d[1] for d in ansatz.input_domain]).reshape(1, -1)
    inputs = lo + (hi - lo) * rng.uniform(size=(batch, ansatz.n_inputs))
    return weights, inputs
