"""Hypothesis strategies for ansätze and for the values they are evaluated at (public API).

Use them in your own tests::

    from hypothesis import given
    from privqml.verify.strategies import ansatze, points

    @given(data=st.data())
    def test_mine(data):
        ansatz = data.draw(ansatze(max_qubits=3, gate_sets=("native",)))
        weights, inputs = data.draw(points(ansatz))

Random ansätze are drawn from:

- qubits ``min_qubits..max_qubits`` (``cirq.LineQubit``), layers ``1..max_layers``;
- an encoding layer ``rx(x_i)``/``ry(x_i)`` and, with ``reupload``, re-encoding in every layer;
- gate sets: ``rotations`` (rx, ry, rz in radians; CZ, CNOT), ``eigen`` (X/Y/Z/H-Pow,
  CZPow, CXPow, XXPow, YYPow, ZZPow, ISwapPow, SwapPow with symbolic exponents), ``native``
  (Google-native: PhasedXZ, PhasedXPow, FSim);
- angle expressions ``w``, ``a·w``, ``a·w·x + b`` (b a number or another weight), ``w + x``;
- weight sharing (a weight reused by several gates) with ``sharing``;
- observables: Pauli strings and Pauli sums with up to ``max_terms`` terms and real
  coefficients (optionally a constant), one or several (multi-class readout);
- public input domains from a small table, and fixed readout scales.
"""

from __future__ import annotations

import math

import cirq
import numpy as np
import sympy
from hypothesis import strategies as st

from privqml.theory.ansatz import Ansatz, Readout
from privqml.verify.noise import NoiseModel

GATE_SETS = ("rotations", "eigen", "native")
DOMAINS = ((-math.pi, math.pi), (0.0, 1.0), (-2.0, 3.0), (-0.5, 0.5))
COEFFICIENTS = (1.0, -1.0, 0.5, -0.5, 2.0, 0.3)
SCALES = (0.5, 1.0, 2.0)
_SINGLE = {
    "rotations": ("rx", "ry", "rz"),
    "eigen": ("XPow", "YPow", "ZPow", "HPow"),
    "native": ("PhasedXZ", "PhasedXPow"),
}
_DOUBLE = {
    "rotations": ("CZ", "CNOT"),
    "eigen": ("CZPow", "CXPow", "XXPow", "YYPow", "ZZPow", "ISwapPow", "SwapPow"),
    "native": ("FSim",),
}
_EIGEN = {
    "XPow": cirq.XPowGate, "YPow": cirq.YPowGate, "ZPow": cirq.ZPowGate, "HPow": cirq.HPowGate,
    "CZPow": cirq.CZPowGate, "CXPow": cirq.CXPowGate, "XXPow": cirq.XXPowGate, "YYPow": cirq.YYPowGate,
    "ZZPow": cirq.ZZPowGate, "ISwapPow": cirq.ISwapPowGate, "SwapPow": cirq.SwapPowGate,
}


class _Symbols:
    """Hands out weight symbols, reusing existing ones when sharing is drawn."""

    def __init__(self, draw, sharing: bool):
        self.draw, self.sharing, self.weights = draw, sharing, []

    def weight(self) -> sympy.Symbol:
        if self.sharing and self.weights and self.draw(st.integers(0, 3)) == 0:
            return self.draw(st.sampled_from(self.weights))
        symbol = sympy.Symbol(f"w{len(self.weights)}")
        self.weights.append(symbol)
        return symbol


def _angle(draw, symbols: _Symbols, inputs, affine: bool) -> sympy.Expr:
    kinds = ["w", "aw"] + (["affine", "w+x"] if affine and inputs else [])
    kind = draw(st.sampled_from(kinds))
    w = symbols.weight()
    if kind == "w":
        return w
    a = sympy.Float(draw(st.sampled_from((0.5, -1.0, 1.5, 2.0, -0.25))))
    if kind == "aw":
        return a * w
    x = draw(st.sampled_from(inputs))
    if kind == "w+x":
        return w + x
    b = symbols.weight() if draw(st.booleans()) else sympy.Float(draw(st.sampled_from((0.0, 0.3, -1.2))))
    return a * w * x + b


def _single(draw, name: str, q, symbols, inputs, affine) -> cirq.Operation:
    angle = lambda: _angle(draw, symbols, inputs, affine)  # noqa: E731 - local shorthand
    if name in ("rx", "ry", "rz"):
        return getattr(cirq, name)(angle()).on(q)
    if name == "PhasedXZ":
        return cirq.PhasedXZGate(x_exponent=angle(), z_exponent=angle(), axis_phase_exponent=angle()).on(q)
    if name == "PhasedXPow":
        return cirq.PhasedXPowGate(exponent=angle(), phase_exponent=angle()).on(q)
    return _EIGEN[name](exponent=angle()).on(q)


def _double(draw, name: str, a, b, symbols, inputs, affine) -> cirq.Operation:
    if name == "CZ":
        return cirq.CZ(a, b)
    if name == "CNOT":
        return cirq.CNOT(a, b)
    if name == "FSim":
        return cirq.FSimGate(theta=_angle(draw, symbols, inputs, affine), phi=_angle(draw, symbols, inputs, affine)).on(a, b)
    return _EIGEN[name](exponent=_angle(draw, symbols, inputs, affine)).on(a, b)


@st.composite
def pauli_sums(draw, qubits, max_terms: int = 3, constant: bool = True) -> cirq.PauliSum:
    """A Hermitian Pauli sum on ``qubits``: 1..max_terms non-identity strings, real coefficients."""
    total = cirq.PauliSum()
    for _ in range(draw(st.integers(1, max_terms))):
        support = draw(st.lists(st.sampled_from(qubits), min_size=1, max_size=min(3, len(qubits)), unique=True))
        string = cirq.PauliString({q: draw(st.sampled_from((cirq.X, cirq.Y, cirq.Z))) for q in support})
        total += draw(st.sampled_from(COEFFICIENTS)) * string
    if constant and draw(st.booleans()):
        total += draw(st.sampled_from((0.5, -0.25)))
    if not any(len(t) for t in total):  # terms cancelled: fall back to Z on the first qubit
        total = cirq.PauliSum.wrap(cirq.Z(qubits[0]))
    return total


@st.composite
def ansatze(
    draw,
    min_qubits: int = 1,
    max_qubits: int = 3,
    max_layers: int = 2,
    gate_sets: tuple[str, ...] = GATE_SETS,
    sharing: bool = True,
    reupload: bool = True,
    affine: bool = True,
    max_observables: int = 1,
    max_terms: int = 3,
    max_inputs: int = 2,
) -> Ansatz:
    """A random :class:`~privqml.theory.Ansatz` (see the module docstring for the families)."""
    unknown = set(gate_sets) - set(GATE_SETS)
    if unknown or not gate_sets:
        raise ValueError(f"gate_sets={gate_sets!r}: choose from {GATE_SETS}")
    n_qubits = draw(st.integers(min_qubits, max_qubits))
    qubits = cirq.LineQubit.range(n_qubits)
    n_inputs = draw(st.integers(0, max_inputs))
    inputs = [sympy.Symbol(f"x{i}") for i in range(n_inputs)]
    symbols = _Symbols(draw, sharing)
    circuit = cirq.Circuit()
    if inputs:
        encoder = draw(st.sampled_from((cirq.rx, cirq.ry)))
        circuit.append(encoder(inputs[i % n_inputs]).on(q) for i, q in enumerate(qubits))
    layer_inputs = inputs if reupload else []
    for layer in range(draw(st.integers(1, max_layers))):
        chosen = draw(st.lists(st.sampled_from(qubits), min_size=1, max_size=n_qubits, unique=True))
        singles = [g for s in gate_sets for g in _SINGLE[s]]
        ops = [_single(draw, draw(st.sampled_from(singles)), q, symbols, layer_inputs, affine) for q in sorted(chosen)]
        circuit.append(cirq.Moment(ops))
        if n_qubits >= 2:
            start = draw(st.integers(0, 1)) if n_qubits > 2 else 0
            pairs = [(qubits[i], qubits[i + 1]) for i in range(start, n_qubits - 1, 2)]
            names = [g for s in gate_sets for g in _DOUBLE[s]]
            circuit.append(cirq.Moment(_double(draw, draw(st.sampled_from(names)), a, b, symbols, layer_inputs, affine)
                                       for a, b in pairs))
    if not symbols.weights:  # every ansatz has at least one weight
        circuit.append(cirq.ry(symbols.weight()).on(qubits[0]))
    n_observables = draw(st.integers(1, max_observables)) if max_observables > 1 else 1
    observables = tuple(draw(pauli_sums(qubits, max_terms)) for _ in range(n_observables))
    domain = tuple(draw(st.sampled_from(DOMAINS)) for _ in inputs)
    scale = draw(st.sampled_from(SCALES))
    return Ansatz(
        circuit=circuit,
        weights=tuple(symbols.weights),
        inputs=tuple(inputs),
        observables=observables,
        input_domain=domain,
        readout=Readout(scale=scale),
        name=f"random({n_qubits}q, {len(symbols.weights)}w, {'+'.join(gate_sets)})",
    )


def weight_values(max_abs: float = 2 * math.pi) -> st.SearchStrategy[float]:
    """One weight value: a float in [−max_abs, max_abs] or a special angle (0, ±π/4, ±π/2, π)."""
    special = st.sampled_from((0.0, math.pi / 4, math.pi / 2, -math.pi / 2, math.pi))
    return st.one_of(special, st.floats(-max_abs, max_abs, allow_nan=False, allow_infinity=False, width=64))


def weights_for(ansatz: Ansatz, max_abs: float = 2 * math.pi) -> st.SearchStrategy[np.ndarray]:
    """A weight vector [P] for ``ansatz`` (weights are unbounded in the theory; we search a period box)."""
    return st.lists(weight_values(max_abs), min_size=ansatz.n_weights, max_size=ansatz.n_weights).map(
        lambda v: np.asarray(v, dtype=np.float64)
    )


def inputs_for(ansatz: Ansatz) -> st.SearchStrategy[np.ndarray]:
    """An input vector [I] inside the ansatz's declared public domain (endpoints included)."""
    parts = [st.just(lo) if lo == hi else st.floats(lo, hi, allow_nan=False, width=64) for lo, hi in ansatz.input_domain]
    return st.tuples(*parts).map(lambda v: np.asarray(v, dtype=np.float64).reshape(ansatz.n_inputs))


@st.composite
def points(draw, ansatz: Ansatz, max_batch: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """A batch (weights [B, P], inputs [B, I]) of 1..max_batch evaluation points."""
    rows = draw(st.lists(st.tuples(weights_for(ansatz), inputs_for(ansatz)), min_size=1, max_size=max_batch))
    return np.stack([w for w, _ in rows]), np.stack([x for _, x in rows]).reshape(len(rows), ansatz.n_inputs)


def labels_for(ansatz: Ansatz, loss: str, batch: int) -> st.SearchStrategy[np.ndarray]:
    """Labels for ``loss``: {0,1} (bce), {−1,+1} (mse, hinge), classes 0..C−1 (softmax_ce)."""
    from privqml.verify.losses import LABEL_SETS

    choices = LABEL_SETS.get(loss, tuple(range(ansatz.n_outputs)))
    return st.lists(st.sampled_from(choices), min_size=batch, max_size=batch).map(np.asarray)


def noise_models(max_strength: float = 0.2) -> st.SearchStrategy[NoiseModel]:
    """Depolarising noise plus one other channel (amplitude/phase damping, bit/phase flip)."""
    strength = st.floats(0.0, max_strength, allow_nan=False)
    other = st.sampled_from(("amplitude_damp", "phase_damp", "bit_flip", "phase_flip"))
    return st.tuples(strength, other, strength).map(
        lambda t: NoiseModel((("depolarize", t[0]), (t[1], t[2])))
    )


def shot_counts(min_shots: int = 1, max_shots: int = 2000) -> st.SearchStrategy[int]:
    """Shots per circuit and Pauli term (1 shot included: the extreme of a single estimate)."""
    return st.one_of(st.sampled_from((1, 2, 10)), st.integers(min_shots, max_shots))


__all__ = [
    "COEFFICIENTS",
    "DOMAINS",
    "GATE_SETS",
    "ansatze",
    "inputs_for",
    "labels_for",
    "noise_models",
    "pauli_sums",
    "points",
    "shot_counts",
    "weight_values",
    "weights_for",
]
