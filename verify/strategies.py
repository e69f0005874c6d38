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

Evaluation points (:func:`points`) probe the boundary of the search box as well as its inside,
because that is where the bounds are attained: an angle w·x + b turns fastest in w at the largest
|x| of the input domain, and a slot derivative reaches its bound at slot angles that are multiples
of π/2. Each point is a *corner point* (:func:`corner_points`: every weight on the quarter-turn
lattice of :func:`lattice_values`, every input at an end of its interval) or a point whose
coordinates are each such a value or a free one (:func:`weights_for`, :func:`inputs_for`: edges
and interior).
"""

from __future__ import annotations

import functools
import math

import cirq
import numpy as np
import sympy
from hypothesis import strategies as st

from privqml.theory.ansatz import Ansatz, Readout
from privqml.theory.slots import slot_table
from privqml.theory.noise import NoiseModel

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


def _far_corner(ansatz: Ansatz) -> np.ndarray:
    """[I] each input at the finite endpoint of its domain farthest from 0 (0 if neither is finite)."""
    far = [max((v for v in (lo, hi) if math.isfinite(v)), key=abs, default=0.0) for lo, hi in ansatz.input_domain]
    return np.asarray(far, dtype=np.float64).reshape(ansatz.n_inputs)


def quarter_turns(ansatz: Ansatz) -> np.ndarray:
    """[P] Δ_j: the change of weight θ_j that moves the fastest of its slot exponents t_k by ½ (a slot
    angle π·t_k of π/2), in units of θ_j.

    Δ_j = ½ / max_k |∂t_k/∂θ_j|, the derivative taken at θ = 0 and at the input corner farthest
    from 0 (where an angle a·w·x + b turns fastest in w: ``reupload``'s ``ry(w·x + b)`` on
    x ∈ [−π, π] has Δ_w = ½ and Δ_b = π/2; ``rx(θ)`` has Δ = π/2; a ``PhasedXZGate`` exponent
    in half-turns has Δ = ½). A weight no slot moves there gets π/2.
    """
    table = slot_table(ansatz)
    point = np.concatenate([np.zeros(ansatz.n_weights), _far_corner(ansatz)])[None, :]
    speed = np.abs(table.jacobian(point)[0, :, : ansatz.n_weights]).max(axis=0, initial=0.0)  # [P]
    with np.errstate(divide="ignore"):
        return np.where(speed > 0, 0.5 / np.where(speed > 0, speed, 1.0), math.pi / 2)


@functools.lru_cache(maxsize=128)  # the ansatz is hashable by value
def lattice_values(ansatz: Ansatz) -> tuple[tuple[float, ...], ...]:
    """Per weight θ_j the values m·Δ_j, m = 0, 1, 2, 3 (:func:`quarter_turns`): slot angles at the
    multiples of π/2, over one period of a rotation.

    Why these values: at such angles every rotation maps Pauli operators to Pauli operators, so the
    observable carried back to slot k is a signed Pauli string P; |∂f/∂t_k| reaches its bound when P
    anticommutes with the slot's generator G and the state there is an eigenstate of i[G, P].
    With the inputs at a random corner of the domain, a random point of this lattice attains
    some per-weight bound of every configuration of the built-in grid (``hea``, ``reupload``,
    ``native`` × 2–4 qubits × 1–2 layers × Z0, Z0·Z1, Σ_q Z_q) in 41–96 % of draws (200 per
    configuration).
    """
    return tuple(tuple(float(m * step) for m in range(4)) for step in quarter_turns(ansatz))


def lattice_weights(ansatz: Ansatz) -> st.SearchStrategy[np.ndarray]:
    """A weight vector [P] on the quarter-turn lattice of :func:`lattice_values`."""
    return st.tuples(*(st.sampled_from(values) for values in lattice_values(ansatz))).map(
        lambda v: np.asarray(v, dtype=np.float64).reshape(ansatz.n_weights)
    )


def weights_for(ansatz: Ansatz, max_abs: float = 2 * math.pi) -> st.SearchStrategy[np.ndarray]:
    """A weight vector [P] for ``ansatz`` (weights are unbounded in the theory; we search a period box):
    each weight a lattice value of :func:`lattice_values` or a value of :func:`weight_values`."""
    parts = [st.one_of(st.sampled_from(values), weight_values(max_abs)) for values in lattice_values(ansatz)]
    return st.tuples(*parts).map(lambda v: np.asarray(v, dtype=np.float64).reshape(ansatz.n_weights))


def _endpoints(lo: float, hi: float) -> tuple[float, ...]:
    finite = tuple(dict.fromkeys(v for v in (lo, hi) if math.isfinite(v)))
    return finite or (0.0,)


def corner_inputs(ansatz: Ansatz) -> st.SearchStrategy[np.ndarray]:
    """An input vector [I] at a corner of the declared domain: every input at ``lo`` or ``hi``."""
    parts = [st.sampled_from(_endpoints(lo, hi)) for lo, hi in ansatz.input_domain]
    return st.tuples(*parts).map(lambda v: np.asarray(v, dtype=np.float64).reshape(ansatz.n_inputs))


def inputs_for(ansatz: Ansatz) -> st.SearchStrategy[np.ndarray]:
    """An input vector [I] inside the ansatz's declared public domain (endpoints included): each
    input at an endpoint of its interval or a float inside it, so that edges of the domain box
    are drawn as well as its interior."""
    parts = [st.just(lo) if lo == hi else st.one_of(st.sampled_from(_endpoints(lo, hi)),
                                                    st.floats(lo, hi, allow_nan=False, width=64))
             for lo, hi in ansatz.input_domain]
    return st.tuples(*parts).map(lambda v: np.asarray(v, dtype=np.float64).reshape(ansatz.n_inputs))


def corner_points(ansatz: Ansatz) -> st.SearchStrategy[tuple[np.ndarray, np.ndarray]]:
    """One evaluation point (weights [P], inputs [I]): weights on the quarter-turn lattice
    (:func:`lattice_weights`), inputs at a corner of the domain (:func:`corner_inputs`)."""
    return st.tuples(lattice_weights(ansatz), corner_inputs(ansatz))


@st.composite
def points(draw, ansatz: Ansatz, max_batch: int = 2, corner_rows: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A batch (weights [B, P], inputs [B, I]): 1..max_batch evaluation points, each a corner point
    (:func:`corner_points`) or a point of :func:`weights_for` and :func:`inputs_for`, followed by
    ``corner_rows`` further corner points (B ≤ max_batch + corner_rows)."""
    row = st.one_of(corner_points(ansatz), st.tuples(weights_for(ansatz), inputs_for(ansatz)))
    rows = draw(st.lists(row, min_size=1, max_size=max_batch))
    if corner_rows:
        rows += draw(st.lists(corner_points(ansatz), min_size=corner_rows, max_size=corner_rows))
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
    "corner_inputs",
    "corner_points",
    "inputs_for",
    "labels_for",
    "lattice_values",
    "lattice_weights",
    "noise_models",
    "pauli_sums",
    "points",
    "quarter_turns",
    "shot_counts",
    "weight_values",
    "weights_for",
]
