"""Gate spectra against the FFT of simulated expectations, the spread of each gate family, and errors.

For every parametrised gate family we build  random fixed unitary → gate(symbol) → random fixed
unitary, measure Z on the first qubit with cirq.Simulator (complex128) on a grid of N points
over a window T in which every possible frequency is a multiple of 2π/T, and FFT it. The
largest frequency present must equal the canonical circuit's total spread for the symbol,
Σ_k Ω_k |∂t_k/∂θ| (``weight_spreads``), and nothing above it may be present.
"""

from __future__ import annotations

import math

import cirq
import numpy as np
import pytest
import scipy.stats
import sympy

from privqml.errors import AnsatzError, UnsupportedGateError
from privqml.theory import Ansatz, canonicalize, eigen_spectrum
from privqml.theory.slots import weight_spreads
from privqml.theory.diagonal import DiagonalPhaseGate
from privqml.theory.spectra import ControlledEigenGate, generator_matrix

A = sympy.Symbol("a")
PI = math.pi
N_SAMPLES = 64
PRESENT = 1e-6  # an FFT amplitude above this is a frequency "present"
ABSENT = 1e-10  # everything above the top frequency must be below this


def _ctrl(sub, **kwargs):
    return lambda s, q: cirq.ControlledGate(sub(s), **kwargs).on(*q)


# (id, number of qubits, op builder(symbol, qubits), expected spread per unit of the symbol, window T)
CASES = [
    ("rx", 1, lambda s, q: cirq.rx(s).on(q[0]), 1.0, 2 * PI),
    ("ry", 1, lambda s, q: cirq.ry(s).on(q[0]), 1.0, 2 * PI),
    ("rz", 1, lambda s, q: cirq.rz(s).on(q[0]), 1.0, 2 * PI),
    ("rx(2a+1)", 1, lambda s, q: cirq.rx(2 * s + 1).on(q[0]), 2.0, 2 * PI),
    ("XPow", 1, lambda s, q: (cirq.X**s).on(q[0]), PI, 2.0),
    ("YPow", 1, lambda s, q: (cirq.Y**s).on(q[0]), PI, 2.0),
    ("ZPow", 1, lambda s, q: (cirq.Z**s).on(q[0]), PI, 2.0),
    ("ZPow-shifted", 1, lambda s, q: cirq.ZPowGate(exponent=s, global_shift=0.3).on(q[0]), PI, 20.0),
    ("HPow", 1, lambda s, q: (cirq.H**s).on(q[0]), PI, 2.0),
    ("CZPow", 2, lambda s, q: (cirq.CZ**s).on(*q), PI, 2.0),
    ("CXPow", 2, lambda s, q: (cirq.CX**s).on(*q), PI, 2.0),
    ("ZZPow", 2, lambda s, q: (cirq.ZZ**s).on(*q), PI, 2.0),
    ("XXPow", 2, lambda s, q: (cirq.XX**s).on(*q), PI, 2.0),
    ("YYPow", 2, lambda s, q: (cirq.YY**s).on(*q), PI, 2.0),
    ("SwapPow", 2, lambda s, q: (cirq.SWAP**s).on(*q), PI, 2.0),
    ("ISwapPow", 2, lambda s, q: (cirq.ISWAP**s).on(*q), PI, 4.0),
    ("CCZPow", 3, lambda s, q: (cirq.CCZ**s).on(*q), PI, 2.0),
    ("CCXPow", 3, lambda s, q: (cirq.CCX**s).on(*q), PI, 2.0),
    ("PhasedXPow.exponent", 1, lambda s, q: cirq.PhasedXPowGate(exponent=s, phase_exponent=0.23).on(q[0]), PI, 2.0),
    ("PhasedXPow.phase_exponent", 1, lambda s, q: cirq.PhasedXPowGate(exponent=0.37, phase_exponent=s).on(q[0]), 2 * PI, 2.0),
    ("PhasedXZ.x", 1, lambda s, q: cirq.PhasedXZGate(x_exponent=s, z_exponent=0.3, axis_phase_exponent=0.2).on(q[0]), PI, 2.0),
    ("PhasedXZ.z", 1, lambda s, q: cirq.PhasedXZGate(x_exponent=0.4, z_exponent=s, axis_phase_exponent=0.2).on(q[0]), PI, 2.0),
    ("PhasedXZ.axis_phase", 1, lambda s, q: cirq.PhasedXZGate(x_exponent=0.4, z_exponent=0.3, axis_phase_exponent=s).on(q[0]), 2 * PI, 2.0),
    ("FSim.theta", 2, lambda s, q: cirq.FSimGate(theta=s, phi=0.7).on(*q), 2.0, 2 * PI),
    ("FSim.phi", 2, lambda s, q: cirq.FSimGate(theta=0.6, phi=s).on(*q), 1.0, 2 * PI),
    ("PhasedFSim.theta", 2, lambda s, q: cirq.PhasedFSimGate(s, 0.1, 0.2, 0.3, 0.4).on(*q), 2.0, 4 * PI),
    ("PhasedFSim.zeta", 2, lambda s, q: cirq.PhasedFSimGate(0.5, s, 0.2, 0.3, 0.4).on(*q), 2.0, 4 * PI),
    ("PhasedFSim.chi", 2, lambda s, q: cirq.PhasedFSimGate(0.5, 0.1, s, 0.3, 0.4).on(*q), 2.0, 4 * PI),
    ("PhasedFSim.gamma", 2, lambda s, q: cirq.PhasedFSimGate(0.5, 0.1, 0.2, s, 0.4).on(*q), 2.0, 4 * PI),
    ("PhasedFSim.phi", 2, lambda s, q: cirq.PhasedFSimGate(0.5, 0.1, 0.2, 0.3, s).on(*q), 1.0, 4 * PI),
    ("PhasedISwapPow.exponent", 2, lambda s, q: cirq.PhasedISwapPowGate(exponent=s, phase_exponent=0.15).on(*q), PI, 4.0),
    ("PhasedISwapPow.phase_exponent", 2, lambda s, q: cirq.PhasedISwapPowGate(exponent=0.45, phase_exponent=s).on(*q), 4 * PI, 4.0),
    ("Controlled(ZPow)", 2, _ctrl(lambda s: cirq.ZPowGate(exponent=s)), PI, 2.0),
    ("Controlled(rz)", 2, _ctrl(cirq.rz), 1.0, 4 * PI),
    ("Controlled(XPow, control 0)", 2, _ctrl(lambda s: cirq.XPowGate(exponent=s), control_values=[0]), PI, 2.0),
    ("Controlled(ry, 2 controls)", 3, _ctrl(cirq.ry, num_controls=2), 1.0, 4 * PI),
    ("shared: rx(a) ry(a)", 1, lambda s, q: [cirq.rx(s).on(q[0]), cirq.ry(s).on(q[0])], 2.0, 2 * PI),
]


def _random_unitary(dim: int, seed: int) -> np.ndarray:
    return scipy.stats.unitary_group.rvs(dim, random_state=seed)


def _sandwich(n_qubits: int, build, seed: int) -> tuple[Ansatz, list[cirq.Qid]]:
    qubits = cirq.LineQubit.range(n_qubits)
    before = cirq.MatrixGate(_random_unitary(2**n_qubits, seed)).on(*qubits)
    after = cirq.MatrixGate(_random_unitary(2**n_qubits, seed + 1)).on(*qubits)
    circuit = cirq.Circuit(before, build(A, qubits), after)
    ansatz = Ansatz(circuit, weights=(A,), inputs=(), observables=(cirq.Z(qubits[0]) * 1.0,))
    return ansatz, qubits


def _spectrum_of_expectation(ansatz: Ansatz, qubits, window: float) -> tuple[np.ndarray, np.ndarray]:
    values = np.arange(N_SAMPLES) * window / N_SAMPLES
    simulator = cirq.Simulator(dtype=np.complex128)
    results = simulator.simulate_expectation_values_sweep(
        ansatz.circuit, observables=[cirq.Z(qubits[0])], params=cirq.Points(A.name, list(values)),
        qubit_order=qubits,
    )
    samples = np.array([r[0] for r in results]).real
    amplitudes = np.abs(np.fft.rfft(samples)) / N_SAMPLES
    frequencies = 2 * PI * np.arange(amplitudes.size) / window
    return frequencies, amplitudes


@pytest.mark.parametrize("case_id, n_qubits, build, expected, window", CASES, ids=[c[0] for c in CASES])
def test_top_fft_frequency_equals_canonical_spread(case_id, n_qubits, build, expected, window):
    ansatz, qubits = _sandwich(n_qubits, build, seed=sum(map(ord, case_id)))
    spread = weight_spreads(ansatz)[A]
    assert spread == pytest.approx(expected, abs=1e-9), f"{case_id}: canonical spread {spread} vs table {expected}"
    frequencies, amplitudes = _spectrum_of_expectation(ansatz, qubits, window)
    present = np.nonzero(amplitudes > PRESENT)[0]
    top = frequencies[present.max()]
    assert top == pytest.approx(spread, abs=1e-9), f"{case_id}: top FFT frequency {top}, spread {spread}"
    assert np.all(amplitudes[frequencies > spread + 1e-9] < ABSENT)
    assert frequencies[-1] > 2 * spread  # the window resolves well above the spread


def test_canonical_slots_and_strategies():
    q0, q1 = cirq.LineQubit.range(2)
    b = sympy.Symbol("b")
    circuit = cirq.Circuit(
        cirq.rx(A).on(q0),
        cirq.PhasedXPowGate(exponent=b, phase_exponent=0.25).on(q1),
        cirq.ControlledGate(cirq.rz(A)).on(q0, q1),
        cirq.CZ(q0, q1),
    )
    canonical = canonicalize(Ansatz(circuit, weights=(A, b), inputs=(), observables=(cirq.Z(q0) * 1.0,)))
    assert [s.strategy for s in canonical.slots] == ["eigengate", "decompose", "controlled"]
    assert canonical.slot_of == (0, -1, 1, -1, 2, -1)  # PhasedXPow: fixed Z, X**b slot, fixed Z
    assert [str(s.exponent) for s in canonical.slots] == ["a/pi", "b", "a/pi"]
    assert isinstance(canonical.slots[2].operation.gate, ControlledEigenGate)


@pytest.mark.parametrize(
    "controlled",
    [
        cirq.ControlledGate(cirq.rz(0.83)),
        cirq.ControlledGate(cirq.XPowGate(exponent=0.3, global_shift=0.2), control_values=[0]),
        cirq.ControlledGate(cirq.ry(-1.1), num_controls=2, control_values=[1, 0]),
        cirq.ControlledGate(cirq.ZZPowGate(exponent=0.4)),
    ],
    ids=["C-rz", "C0-XPow-shifted", "C10-ry", "C-ZZPow"],
)
def test_controlled_eigengate_unitary_matches_cirq(controlled):
    symbolic = cirq.ControlledGate(
        controlled.sub_gate._with_exponent(A),
        control_values=controlled.control_values,
        control_qid_shape=controlled.control_qid_shape,
    )
    gate = ControlledEigenGate(symbolic)
    resolved = cirq.resolve_parameters(gate, {"a": controlled.sub_gate.exponent})
    np.testing.assert_allclose(cirq.unitary(resolved), cirq.unitary(controlled), atol=1e-12)


def test_eigen_spectrum_and_generator():
    iswap = eigen_spectrum(cirq.ISWAP**A)
    assert iswap.half_turns == (-0.5, 0.0, 0.5)
    assert iswap.frequencies == pytest.approx((PI / 2, PI))
    assert iswap.spread == pytest.approx(PI)
    # U(t) = e^{iπ t s} exp(i t H) for an EigenGate with global shift s.
    gate = cirq.XPowGate(exponent=0.3, global_shift=-0.5)
    h = generator_matrix(gate)
    w, v = np.linalg.eigh(h)
    expm = v @ np.diag(np.exp(1j * 0.3 * w)) @ v.conj().T
    np.testing.assert_allclose(np.exp(1j * PI * 0.3 * -0.5) * expm, cirq.unitary(gate), atol=1e-12)


class _Mystery(cirq.Gate):
    """A symbolic single-qubit gate with no EigenGate structure and no decomposition."""

    def __init__(self, angle):
        self.angle = angle

    def _num_qubits_(self):
        return 1

    def _is_parameterized_(self):
        return cirq.is_parameterized(self.angle)

    def _parameter_names_(self):
        return cirq.parameter_names(self.angle)

    def _resolve_parameters_(self, resolver, recursive):
        return _Mystery(resolver.value_of(self.angle, recursive))

    def _unitary_(self):
        if cirq.is_parameterized(self.angle):
            return NotImplemented
        return cirq.unitary(cirq.rx(self.angle))

    def __str__(self):
        return f"Mystery({self.angle})"


def test_the_spread_comes_from_unrounded_half_turns():
    # rounding λ = 0.1234567890123456 to 12 decimals first would shrink the spread below π λ
    half_turn = 0.1234567890123456
    spectrum = eigen_spectrum(DiagonalPhaseGate([0.0, half_turn], exponent=A))
    assert spectrum.spread == PI * half_turn and spectrum.spread > PI * round(half_turn, 12)


def test_unsupported_gate_names_gate_and_operation():
    q = cirq.LineQubit(0)
    ansatz = Ansatz(cirq.Circuit(_Mystery(A).on(q)), weights=(A,), inputs=(), observables=(cirq.Z(q) * 1.0,))
    with pytest.raises(UnsupportedGateError) as info:
        canonicalize(ansatz)
    message = str(info.value)
    assert "_Mystery" in message and "Mystery(a)(q(0))" in message
    assert "eigengate" in message and "controlled" in message and "decompose" in message
    assert isinstance(info.value, AnsatzError)


def test_symbolic_noise_channels_are_rejected():
    p = sympy.Symbol("p")
    # cirq itself refuses a symbolic depolarising probability at construction.
    with pytest.raises(TypeError):
        cirq.depolarize(p=p)
    # A channel that does accept a symbol is refused by canonicalize.
    q = cirq.LineQubit(0)
    channel = cirq.RandomGateChannel(sub_gate=cirq.X, probability=p).on(q)
    ansatz = Ansatz(cirq.Circuit(cirq.rx(A).on(q), channel), weights=(A, p), inputs=(), observables=(cirq.Z(q) * 1.0,))
    with pytest.raises(UnsupportedGateError, match=r"noise channel .* symbolic parameters \['p'\].*parameter-free"):
        canonicalize(ansatz)


def test_weight_spreads_nan_for_input_dependent_slots():
    q = cirq.LineQubit(0)
    w, b, x = sympy.symbols("w b x")
    ansatz = Ansatz(cirq.Circuit(cirq.ry(w * x + b).on(q)), weights=(w, b), inputs=(x,), observables=(cirq.Z(q) * 1.0,))
    spreads = weight_spreads(ansatz)
    assert math.isnan(spreads[w]) and spreads[b] == pytest.approx(1.0)
