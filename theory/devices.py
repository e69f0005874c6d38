r"""An ansatz on a Google device: placed on its grid, compiled to its gates, with its calibrated noise.

:func:`on_device` turns an :class:`~privqml.theory.Ansatz` into the ansatz a Google processor would run,
in four steps:

1. **Calibration.** The median calibrations bundled with cirq-google (``rainbow`` 2021-11-16, ``weber``
   2021-11-03; the files ``cirq_google/devices/calibrations/*_calibration.json``) are read with
   ``cirq.read_json`` and turned into ``cirq_google.GoogleNoiseProperties`` by
   ``cirq_google.noise_properties_from_calibration`` (T1, Tφ from the RB incoherent error, RB/XEB Pauli
   errors, readout errors p(0→1), p(1→0), XEB entangling-angle errors θ, φ). Any
   ``GoogleNoiseProperties`` may be passed instead. The Floquet z-phase samples (ζ, γ of the entangler,
   measured on other dates) are not used.
2. **Placement** (:func:`place`). Ansatz qubit i goes to device qubit φ(i) such that every pair the
   ansatz couples is a device coupler and the chosen qubits are connected, with the least summed error
   (single-qubit Pauli error + mean readout error per qubit, Pauli error of the two-qubit gate per used
   coupler), by a deterministic branch and bound. No routing: a pair that cannot sit on a coupler is
   refused (SWAP insertion is out of scope).
3. **Compilation** (:func:`compile_circuit`). Parametrised single-qubit gates keep their symbols as
   device gates: rz(a) → Z^{a/π} (virtual on the device), rx(a) → PhasedXZ(x=a/π, a=0),
   ry(a) → PhasedXZ(x=a/π, a=½) (S Xᵗ S† = Yᵗ), PhasedX^t_p → PhasedXZ(x=t, a=p), up to global phases
   (no effect on any expectation). The fixed gates are compiled by ``cirq.optimize_for_target_gateset``
   to √iSWAP (``cirq.SqrtIswapTargetGateset``) or Sycamore (``cirq_google.SycamoreTargetGateset``) plus
   PhasedXZ and Z; the parametrised gates pass through it untouched. Parametrised gates on two or more
   qubits (FSim(θ, φ) with weights, XX^w, CZ^w) are refused: they have no fixed decomposition here; the
   noiseless engines run them as they are.
4. **Noise.** ``cirq_google.NoiseModelFromGoogleNoiseProperties`` inserts, after each physical moment,
   depolarising channels after the gates (Pauli error less its decoherence part), the thermal channel
   of every qubit for the moment's duration, and after each entangler on a calibrated pair the fixed
   coherent error PhasedFSim(δθ, δφ). It accepts symbolic gates: it matches gate *types* (PhasedXZ, Z,
   ISWAP powers, SYC), which is also why step 3 rewrites rx/ry/rz — as ``cirq.Rx`` they would get neither
   depolarising nor thermal noise, and Z^t counts as virtual (noiseless), as on the device. Its
   thermal ``cirq.KrausChannel`` (cooling rate 1/T1, dephasing rate 1/Tφ, no heating) is replaced by the
   equal channel amplitude_damp(γ) then phase_damp(λ), γ = 1 − e^{−t/T1}, λ = 1 − e^{−2t/Tφ} (the
   populations relax by γ, the coherences by √(1−γ)·√(1−λ) = e^{−t/(2T1) − t/Tφ}); the replacement is
   checked against the Kraus channel's superoperator. Named channels are hashable and the theory's noise
   refinements read them.

**Readout** error is folded into the observable exactly. A qubit read with confusion p(1|0) = e₀,
p(0|1) = e₁ reports for an eigenvalue s = ±1 of its Pauli factor P (measured after a basis change) the
mean (1 − e₀ − e₁)·s + (e₁ − e₀), so P ↦ (1 − e₀ − e₁) P + (e₁ − e₀) I; independent readout errors
on the qubits of a term multiply:

    c · ⊗_q P_q  ↦  c · ⊗_q [(1 − e₀_q − e₁_q) P_q + (e₁_q − e₀_q) I].

The device ansatz is still an :class:`Ansatz` with the same weight and input symbols and the same public
input domain: every parameter-free channel keeps f(x; θ) a trigonometric polynomial with the same
frequencies inside the (folded) observable's range, so ``gradient_bound`` applies to it as to any ansatz.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import functools
import hashlib
import math
import pathlib
import sys
import types
import warnings
from typing import Iterator, Mapping, Optional, Sequence, Union

import cirq
import numpy as np

from privqml.errors import ConfigError, UnsupportedGateError
from privqml.theory.ansatz import Ansatz, parameter_names


@contextlib.contextmanager
def _pkg_resources_stub() -> Iterator[None]:
    """cirq-google 1.3's package ``__init__`` imports its cloud client, which imports ``pkg_resources`` only to
    read its own version (``get_distribution``, else ``DistributionNotFound``); setuptools ≥ 81 no longer ships
    ``pkg_resources``. While cirq_google is first imported, a stub answers "not found" (the client then takes
    its default version string); it is removed again afterwards, so no other import sees it."""
    try:
        import pkg_resources  # noqa: F401 - present (setuptools < 81): nothing to do
    except ImportError:
        pass
    else:
        yield
        return
    stub = types.ModuleType("pkg_resources")

    class DistributionNotFound(Exception):
        pass

    def get_distribution(name):
        raise DistributionNotFound(name)

    stub.DistributionNotFound, stub.get_distribution = DistributionNotFound, get_distribution
    sys.modules["pkg_resources"] = stub
    try:
        yield
    finally:
        if sys.modules.get("pkg_resources") is stub:
            del sys.modules["pkg_resources"]


with _pkg_resources_stub(), warnings.catch_warnings():
    # google-api-core (imported by cirq_google's client) warns at import about future Python support
    warnings.filterwarnings("ignore", message="You are using a Python version", category=FutureWarning)
    import cirq_google  # noqa: E402

#: device name → (bundled calibration file, its timestamp in ms since the epoch, as cirq-google assigns it)
_CALIBRATIONS = {
    "rainbow": ("rainbow_2021_11_16_calibration.json", 1637058415838),
    "weber": ("weber_2021_11_03_calibration.json", 1635923188204),
}
DEVICES = tuple(_CALIBRATIONS)
#: the two-qubit gate families a device ansatz can be compiled to (√iSWAP, Sycamore); both are calibrated
GATESETS = ("sqrt_iswap", "sycamore")
#: how far a compiled exponent may lie from a multiple of 1/8 and still be set to it (:func:`_snapped`)
_SNAP = 1e-6
_ATOL = 1e-8


def _target_gateset(gateset: str) -> tuple[cirq.CompilationTargetGateset, type]:
    if gateset == "sqrt_iswap":
        return cirq.SqrtIswapTargetGateset(additional_gates=[cirq.ZPowGate]), cirq.ISwapPowGate
    if gateset == "sycamore":
        return cirq_google.SycamoreTargetGateset(), cirq_google.SycamoreGate
    raise ConfigError(f"gateset={gateset!r} is not known; choose one of {GATESETS}")


# -- calibrations -------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class CalibrationSource:
    """Where a device's noise properties came from.

    Attributes:
        device: the device name, or "custom" for properties passed in by the caller.
        file: the bundled calibration file (None for custom properties).
        timestamp_ms: the calibration's time, ms since the Unix epoch (None if unknown).
        cirq_google_version: the cirq-google release whose file and conversion were used.
    """

    device: str
    file: Optional[str]
    timestamp_ms: Optional[int]
    cirq_google_version: str

    @property
    def timestamp_utc(self) -> Optional[str]:
        if self.timestamp_ms is None:
            return None
        moment = datetime.datetime.fromtimestamp(self.timestamp_ms / 1000, tz=datetime.timezone.utc)
        return moment.isoformat(timespec="milliseconds")

    def to_dict(self) -> dict:
        return {**dataclasses.asdict(self), "timestamp_utc": self.timestamp_utc}


def _checked_device(device: str) -> str:
    if device not in _CALIBRATIONS:
        raise ConfigError(f"device={device!r} is not known; choose one of {DEVICES} "
                          "or pass a cirq_google.GoogleNoiseProperties")
    return device


def calibration_source(device: str) -> CalibrationSource:
    """The bundled calibration file and timestamp of ``device`` (one of :data:`DEVICES`)."""
    file, timestamp_ms = _CALIBRATIONS[_checked_device(device)]
    return CalibrationSource(device, file, timestamp_ms, cirq_google.__version__)


def load_calibration(device: str) -> "cirq_google.Calibration":
    """The bundled median calibration of ``device`` as a ``cirq_google.Calibration``, read with
    ``cirq.read_json`` (no engine client is called)."""
    source = calibration_source(device)
    path = pathlib.Path(cirq_google.__file__).parent / "devices" / "calibrations" / source.file
    calibration = cirq.read_json(str(path))
    assert isinstance(calibration, cirq_google.Calibration), type(calibration)
    calibration.timestamp = source.timestamp_ms
    return calibration


@functools.lru_cache(maxsize=None)
def noise_properties(device: str) -> "cirq_google.GoogleNoiseProperties":
    """``cirq_google.GoogleNoiseProperties`` of ``device`` from its bundled calibration (cached: the same
    object every call; change it with its ``with_params``, which returns a copy)."""
    return cirq_google.noise_properties_from_calibration(load_calibration(device))


# -- placement ----------------------------------------------------------------------------------
def couplers(properties: "cirq_google.GoogleNoiseProperties", gateset: str = "sqrt_iswap") -> dict:
    """{frozenset({a, b}): Pauli error per cycle} of the pairs with a calibrated two-qubit gate of ``gateset``."""
    _, two_qubit_type = _target_gateset(gateset)
    on_device = set(properties.qubits)
    out = {}
    for table in (properties.gate_pauli_errors, properties.fsim_errors):
        for op_id in table:
            pair = frozenset(op_id.qubits)
            if len(op_id.qubits) == 2 and op_id.gate_type is two_qubit_type and pair <= on_device:
                out.setdefault(pair, float(properties.gate_pauli_errors.get(op_id, 0.0)))
    return out


def _qubit_costs(properties) -> dict:
    """Single-qubit gate Pauli error + mean readout error, per device qubit."""
    costs = {}
    for q in properties.qubits:
        gate_error = properties.gate_pauli_errors.get(cirq.OpIdentifier(cirq.PhasedXZGate, q), 0.0)
        readout = properties.readout_errors.get(q, (0.0, 0.0))
        costs[q] = float(gate_error) + 0.5 * float(sum(readout))
    return costs


def _search_graph(n_qubits: int, pairs) -> tuple[list[int], dict, set]:
    """The BFS order of the ansatz qubits over the required pairs plus links chaining their components."""
    adjacency = {i: set() for i in range(n_qubits)}
    for i, j in pairs:
        adjacency[i].add(j)
        adjacency[j].add(i)
    links, seen, previous = set(), set(), None
    for root in range(n_qubits):
        if root in seen:
            continue
        if previous is not None:  # keep the chosen set connected: the next component sits next to the last
            adjacency[previous].add(root)
            adjacency[root].add(previous)
            links.add(frozenset((previous, root)))
        stack = [root]
        while stack:
            v = stack.pop()
            if v not in seen:
                seen.add(v)
                stack.extend(adjacency[v])
        previous = root
    order, queue = [], [0]
    while queue:
        v = queue.pop(0)
        if v not in order:
            order.append(v)
            queue.extend(sorted(adjacency[v] - set(order)))
    return order, adjacency, links


def _check_explicit(qubits, n_qubits: int, pairs, device_couplers, device_qubits, name: str):
    qubits = tuple(qubits)
    if len(qubits) != n_qubits or len(set(qubits)) != n_qubits:
        raise ConfigError(f"qubits={list(map(str, qubits))} must be {n_qubits} distinct device qubits")
    off = [str(q) for q in qubits if q not in device_qubits]
    if off:
        raise ConfigError(f"qubits {off} are not qubits of {name}; choose among {sorted(map(str, device_qubits))}")
    for i, j in sorted(pairs):
        if frozenset((qubits[i], qubits[j])) not in device_couplers:
            raise ConfigError(f"ansatz qubits {i} and {j} are coupled but {qubits[i]} and {qubits[j]} are not a "
                              f"coupler of {name}; pick coupled qubits (no routing or SWAP insertion is done)")
    return qubits


class _PlacementSearch:
    """Branch and bound over injective maps of the ansatz qubits (in BFS order) onto coupled device qubits."""

    def __init__(self, n_qubits: int, pairs: set, device_couplers: dict, properties, max_nodes: int):
        self.n_qubits, self.couplers, self.max_nodes = n_qubits, device_couplers, max_nodes
        self.device_qubits = sorted(properties.qubits)
        self.neighbours = {q: [] for q in self.device_qubits}
        for pair in device_couplers:
            a, b = sorted(pair)
            self.neighbours[a].append(b)
            self.neighbours[b].append(a)
        self.qubit_cost = _qubit_costs(properties)
        self.order, self.adjacency, self.links = _search_graph(n_qubits, pairs)
        self.best_cost, self.best = math.inf, None
        self.nodes = 0
        self.failed, self.failed_depth = None, -1  # the pair that found no coupler, at the deepest level

    def _candidates(self, v: int, mapping: dict, used: set) -> list[tuple[float, cirq.Qid]]:
        """(added cost, device qubit) for ansatz qubit v, cheapest first; couplers to every placed neighbour."""
        placed = [u for u in sorted(self.adjacency[v]) if u in mapping]
        if not placed:
            return sorted((self.qubit_cost[q], q) for q in self.device_qubits if q not in used)
        pool = [q for q in self.neighbours[mapping[placed[0]]] if q not in used
                and all(frozenset((q, mapping[u])) in self.couplers for u in placed)]
        if not pool and len(mapping) > self.failed_depth:
            self.failed, self.failed_depth = (min(v, placed[0]), max(v, placed[0])), len(mapping)
        required = [u for u in placed if frozenset((u, v)) not in self.links]
        return sorted((self.qubit_cost[q] + sum(self.couplers[frozenset((q, mapping[u]))] for u in required), q)
                      for q in pool)

    def extend(self, mapping: dict, used: set, cost: float) -> None:
        if cost >= self.best_cost or self.nodes >= self.max_nodes:
            return
        if len(mapping) == self.n_qubits:
            self.best_cost, self.best = cost, dict(mapping)
            return
        v = self.order[len(mapping)]
        for step, q in self._candidates(v, mapping, used):
            self.nodes += 1
            mapping[v] = q
            used.add(q)
            self.extend(mapping, used, cost + step)
            del mapping[v]
            used.discard(q)


def place(
    n_qubits: int,
    properties: "cirq_google.GoogleNoiseProperties",
    *,
    pairs: Sequence[tuple[int, int]] = (),
    gateset: str = "sqrt_iswap",
    qubits: Optional[Sequence[cirq.Qid]] = None,
    max_nodes: int = 200_000,
    name: str = "the device",
) -> tuple[cirq.Qid, ...]:
    """Device qubits (index i for ansatz qubit i) for ``n_qubits`` qubits that couple ``pairs``.

    Every pair (i, j) of ``pairs`` lands on a coupler of ``gateset``, and the chosen qubits are connected
    (components of the pair graph are chained by couplers too; with no pairs the qubits form a line). Among
    such placements the one with the least cost Σ_i c(φ(i)) + Σ_pairs p₂(φ(i), φ(j)) is taken, c = single-
    qubit Pauli error + mean readout error, p₂ = the coupler's Pauli error per cycle: an exhaustive branch
    and bound in a fixed order (cheapest candidates first, ties by qubit order) that stops after
    ``max_nodes`` partial placements with the best found so far — deterministic either way.

    Routing is out of scope: when the pair graph does not embed in the coupler graph (a triangle on a
    square grid), this refuses, naming the pair. ``qubits`` (explicit device qubits) is checked instead.
    """
    device_couplers = couplers(properties, gateset)
    pairs = {tuple(sorted(p)) for p in pairs}
    if qubits is not None:
        return _check_explicit(qubits, n_qubits, pairs, device_couplers, set(properties.qubits), name)
    if not 1 <= n_qubits <= len(properties.qubits):
        raise ConfigError(f"n_qubits={n_qubits} does not fit on {name} ({len(properties.qubits)} qubits)")
    search = _PlacementSearch(n_qubits, pairs, device_couplers, properties, max_nodes)
    search.extend({}, set(), 0.0)
    if search.best is None:
        where = f"ansatz qubits {search.failed[0]} and {search.failed[1]}" if search.failed else "the ansatz qubits"
        reason = "no placement exists" if search.nodes < max_nodes else f"none found in {max_nodes} search steps"
        raise ConfigError(f"cannot put {where} on a coupler of {name} ({reason}: the coupling graph does not "
                          "embed in the device's; no routing or SWAP insertion is done) - change the "
                          "entangling pattern or pass qubits=")
    return tuple(search.best[i] for i in range(n_qubits))


def interaction_pairs(ansatz: Ansatz) -> set[tuple[int, int]]:
    """Index pairs (i < j, in ``ansatz.qubits`` order) acted on together by a gate (every pair of a wider gate)."""
    index = {q: i for i, q in enumerate(ansatz.qubits)}
    pairs = set()
    for op in ansatz.circuit.all_operations():
        ids = sorted(index[q] for q in op.qubits)
        pairs |= {(a, b) for k, a in enumerate(ids) for b in ids[k + 1:]}
    return pairs


# -- compilation --------------------------------------------------------------------------------
def _native_parametrised(op: cirq.Operation) -> cirq.Operation:
    """A parametrised single-qubit gate as Z^t or PhasedXZ with the same symbolic exponents (up to phase)."""
    gate, (q,) = op.gate, op.qubits
    if isinstance(gate, cirq.ZPowGate):
        return cirq.ZPowGate(exponent=gate.exponent).on(q)
    if isinstance(gate, cirq.XPowGate):
        return cirq.PhasedXZGate(x_exponent=gate.exponent, z_exponent=0, axis_phase_exponent=0).on(q)
    if isinstance(gate, cirq.YPowGate):
        return cirq.PhasedXZGate(x_exponent=gate.exponent, z_exponent=0, axis_phase_exponent=0.5).on(q)
    if isinstance(gate, cirq.PhasedXPowGate):
        return cirq.PhasedXZGate(x_exponent=gate.exponent, z_exponent=0, axis_phase_exponent=gate.phase_exponent).on(q)
    if isinstance(gate, cirq.PhasedXZGate):
        return op.untagged
    raise UnsupportedGateError(f"gate {op} is parametrised and not rx/ry/rz, X/Y/Z powers, PhasedX or "
                               "PhasedXZ; on_device keeps only those symbolic; rewrite it with them")


def _snapped(gate: cirq.PhasedXZGate) -> cirq.PhasedXZGate:
    """``gate`` with each exponent that lies within :data:`_SNAP` of a multiple of 1/8 set to that multiple.

    Cirq's two-qubit decompositions are numerical: the single-qubit gates around each √iSWAP come out a
    few 1e-8 away from the exact (Clifford) angles. Those residues would make the gates non-Clifford and
    every Pauli they meet spread into strings of weight 1e-8, which the bound's walk must then carry as
    live. The snapped gate is the exact one the decomposition approximates (the compiled circuit still
    equals the source, now to rounding, checked in the tests)."""
    def snap(value: float) -> float:
        nearest = round(float(value) * 8) / 8
        return nearest if abs(float(value) - nearest) <= _SNAP else float(value)

    return cirq.PhasedXZGate(x_exponent=snap(gate.x_exponent), z_exponent=snap(gate.z_exponent),
                             axis_phase_exponent=snap(gate.axis_phase_exponent))


def _fixed_single(op: cirq.Operation) -> list[cirq.Operation]:
    """A fixed single-qubit gate as PhasedXZ, or as Z^z (virtual) when it has no X part; [] for the identity."""
    gate = _snapped(cirq.PhasedXZGate.from_matrix(cirq.unitary(op)))
    if abs(gate.x_exponent) > _ATOL:
        return [gate.on(*op.qubits)]
    z = (gate.z_exponent + 1) % 2 - 1
    return [] if abs(z) <= _ATOL else [cirq.ZPowGate(exponent=z).on(*op.qubits)]


def compile_circuit(circuit: cirq.AbstractCircuit, gateset: str = "sqrt_iswap", device_couplers=None) -> cirq.Circuit:
    """``circuit`` (on device qubits) in the device gate set, its parametrised single-qubit gates symbolic.

    Returns a circuit of ISWAP**0.5 (or SYC), PhasedXZ and Z^t gates. Raises
    :class:`~privqml.errors.UnsupportedGateError` for a parametrised gate on two or more qubits, a
    parametrised gate with no rule, or a channel; :class:`~privqml.errors.ConfigError` when a two-qubit gate
    lands off ``device_couplers``.
    """
    target, two_qubit_type = _target_gateset(gateset)
    prepared = []
    for moment in circuit:
        ops = []
        for op in moment:
            if cirq.is_parameterized(op):
                if len(op.qubits) > 1:
                    symbols = sorted(parameter_names(op))
                    raise UnsupportedGateError(
                        f"gate {op} is a parametrised {len(op.qubits)}-qubit gate (symbols {symbols}); on_device "
                        "compiles fixed multi-qubit gates only - the noiseless engines run it as is")
                ops.append(_native_parametrised(op))
            elif not cirq.has_unitary(op):
                raise UnsupportedGateError(f"operation {op} is not unitary; on_device adds the device's own noise - "
                                           "pass the ansatz without channels")
            else:
                ops.append(op.untagged)
        prepared.append(cirq.Moment(ops))
    with warnings.catch_warnings():  # cirq 1.5's own merge_k_qubit_unitaries warns about a default it passes
        warnings.filterwarnings("ignore", message="In cirq 1.6 the default value of `use_repetition_ids`",
                                category=FutureWarning)
        compiled = cirq.optimize_for_target_gateset(cirq.Circuit(prepared), gateset=target)
    moments = []
    for moment in compiled:
        ops = []
        for op in moment:
            if isinstance(op.gate, cirq.GlobalPhaseGate) or not op.qubits:
                continue
            if len(op.qubits) == 1 and not cirq.is_parameterized(op):
                ops += _fixed_single(op)
                continue
            if len(op.qubits) == 2:
                assert isinstance(op.gate, two_qubit_type) and op.gate in target, op
                if device_couplers is not None and frozenset(op.qubits) not in device_couplers:
                    raise ConfigError(f"compiled gate {op} acts on {op.qubits[0]}, {op.qubits[1]}, not a coupler")
            else:
                assert isinstance(op.gate, (cirq.PhasedXZGate, cirq.ZPowGate)), op
            ops.append(op)
        if ops:
            moments.append(cirq.Moment(ops))
    return cirq.Circuit(moments)


# -- noise --------------------------------------------------------------------------------------
def _thermal_as_named(op: cirq.Operation) -> tuple[cirq.Operation, cirq.Operation]:
    """A single-qubit T1/Tφ Kraus channel as amplitude_damp(γ) then phase_damp(λ) (the same channel, checked)."""
    kraus = [np.asarray(k) for k in cirq.kraus(op)]
    q = op.qubits[0]
    gamma = float(sum(abs(k[0, 1]) ** 2 for k in kraus))  # |1⟩ → |0⟩ population transfer
    coherence = abs(complex(sum(k[0, 0] * np.conj(k[1, 1]) for k in kraus)))
    lam = float(min(1.0, max(0.0, 1.0 - coherence**2 / (1.0 - gamma))))
    named = (cirq.amplitude_damp(gamma).on(q), cirq.phase_damp(lam).on(q))
    composed = cirq.kraus_to_superoperator(cirq.kraus(named[1])) @ cirq.kraus_to_superoperator(cirq.kraus(named[0]))
    if not np.allclose(composed, cirq.kraus_to_superoperator(kraus), atol=1e-9):
        raise UnsupportedGateError(f"thermal channel on {q} is not amplitude + phase damping (heating?); "
                                   "privqml converts only cooling and dephasing")
    return named


def add_device_noise(circuit: cirq.AbstractCircuit, properties: "cirq_google.GoogleNoiseProperties") -> cirq.Circuit:
    """``circuit`` with ``NoiseModelFromGoogleNoiseProperties(properties)``'s channels, tags removed and the
    thermal Kraus channels written as amplitude_damp then phase_damp (see the module docstring)."""
    noisy = cirq.Circuit(circuit).with_noise(cirq_google.NoiseModelFromGoogleNoiseProperties(properties))
    moments = []
    for moment in noisy:
        plain, damping, dephasing = [], [], []
        for op in moment:
            if isinstance(op.gate, cirq.KrausChannel) and len(op.qubits) == 1:
                amplitude, phase = _thermal_as_named(op)
                damping.append(amplitude)
                dephasing.append(phase)
            else:
                plain.append(op.untagged)
        # the noise model builds some moments from sets: sorted by qubit, the circuit (and every walk over it) is the
        # same in every process (operations in one moment act on disjoint qubits and commute)
        moments += [cirq.Moment(sorted(ops, key=lambda op: op.qubits)) for ops in (plain, damping, dephasing) if ops]
    return cirq.Circuit(moments)


def readout_observable(observable: cirq.PauliSum, readout_errors: Mapping) -> cirq.PauliSum:
    """The observable as read with independent confusions ``readout_errors[q] = (e₀, e₁)`` = (p(1|0), p(0|1)):
    each Pauli factor P_q ↦ (1 − e₀ − e₁) P_q + (e₁ − e₀) I, factors multiplied (module docstring).
    Qubits without an entry are read perfectly."""
    out = cirq.PauliSum()
    for term in observable:
        folded = cirq.PauliSum.from_pauli_strings([cirq.PauliString(coefficient=complex(term.coefficient).real)])
        for q, pauli in term.items():
            e0, e1 = (float(v) for v in readout_errors.get(q, (0.0, 0.0)))
            folded = folded * ((1.0 - e0 - e1) * cirq.PauliString(pauli(q)) + (e1 - e0))
        out += folded
    return out


@dataclasses.dataclass(frozen=True)
class ChannelStats:
    """One kind of inserted noise: how many, and the range of each of its parameters.

    Attributes:
        kind: ``depolarize_1q`` / ``depolarize_2q`` (p, the depolarising probability), ``amplitude_damp``
            (gamma = 1 − e^{−t/T1}), ``phase_damp`` (gamma = 1 − e^{−2t/Tφ}), ``coherent_fsim`` (theta, phi,
            zeta, gamma, chi of the PhasedFSim error, radians), ``readout`` (e0 = p(1|0), e1 = p(0|1) per
            read qubit; folded into the observable, count = qubits read).
        count: number of channels (or read qubits).
        ranges: ((parameter, min, max), ...), dimensionless probabilities or radians as stated.
    """

    kind: str
    count: int
    ranges: tuple[tuple[str, float, float], ...]

    def to_dict(self) -> dict:
        return {"count": self.count, **{name: [lo, hi] for name, lo, hi in self.ranges}}


def _channel_parameters(op: cirq.Operation) -> tuple[str, dict] | None:
    gate = op.gate
    if isinstance(gate, cirq.DepolarizingChannel):
        return f"depolarize_{gate.num_qubits()}q", {"p": gate.p}
    if isinstance(gate, cirq.AmplitudeDampingChannel):
        return "amplitude_damp", {"gamma": gate.gamma}
    if isinstance(gate, cirq.PhaseDampingChannel):
        return "phase_damp", {"gamma": gate._gamma}  # noqa: SLF001 - no public accessor in cirq 1.3
    if isinstance(gate, cirq.PhasedFSimGate):
        return "coherent_fsim", {k: float(getattr(gate, k)) for k in ("theta", "phi", "zeta", "gamma", "chi")}
    return None


def noise_stats(noisy: cirq.AbstractCircuit, readout: Mapping) -> tuple[ChannelStats, ...]:
    """Counts and parameter ranges of the channels in ``noisy`` and of the folded ``readout`` errors."""
    values: dict[str, dict[str, list[float]]] = {}
    counts: dict[str, int] = {}
    for op in noisy.all_operations():
        found = _channel_parameters(op)
        if found is None:
            continue
        kind, parameters = found
        counts[kind] = counts.get(kind, 0) + 1
        for name, value in parameters.items():
            values.setdefault(kind, {}).setdefault(name, []).append(float(value))
    if readout:
        counts["readout"] = len(readout)
        values["readout"] = {"e0": [float(e0) for e0, _ in readout.values()],
                             "e1": [float(e1) for _, e1 in readout.values()]}
    return tuple(ChannelStats(kind, counts[kind], tuple((name, min(v), max(v)) for name, v in values[kind].items()))
                 for kind in sorted(counts))


# -- the result ---------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class DeviceAnsatz:
    """An ansatz as a Google device runs it (module docstring).

    Attributes:
        ansatz: compiled, with the calibrated channels and (``readout=True``) readout error folded into its
            observables; same weight and input symbols, input domain and readout scale as the source.
        noiseless: the compiled circuit without channels, observables on the device qubits, no readout error.
        device: the device name ("custom" for caller-supplied properties).
        gateset: "sqrt_iswap" or "sycamore".
        calibration: where the noise properties came from.
        qubits: ((ansatz qubit, device qubit), ...) in ansatz qubit order.
        gate_counts: compiled gates by kind ("(symbolic)" marks gates with weight or input symbols).
        circuit_sha256: SHA-256 of ``cirq.to_json`` of the compiled noiseless circuit (identifies the
            compilation; it may differ across Cirq releases).
        noise_summary: the inserted channels and the folded readout errors, with parameter ranges.
        readout: whether readout error is folded into ``ansatz``'s observables.
    """

    ansatz: Ansatz
    noiseless: Ansatz
    device: str
    gateset: str
    calibration: CalibrationSource
    qubits: tuple[tuple[cirq.Qid, cirq.Qid], ...]
    gate_counts: Mapping[str, int]
    circuit_sha256: str
    noise_summary: tuple[ChannelStats, ...]
    readout: bool

    def summary(self) -> dict:
        """A JSON-able record (what ``run.json`` keeps and a command line prints)."""
        return {
            "device": self.device,
            "gateset": self.gateset,
            "calibration": self.calibration.to_dict(),
            "qubits": {str(a): str(d) for a, d in self.qubits},
            "gate_counts": dict(self.gate_counts),
            "moments": {"noiseless": len(self.noiseless.circuit), "noisy": len(self.ansatz.circuit)},
            "circuit_sha256": self.circuit_sha256,
            "noise": {s.kind: s.to_dict() for s in self.noise_summary},
            "readout_folded": self.readout,
            "source": self.noiseless.name,
        }


def _gate_label(op: cirq.Operation) -> str:
    gate = op.gate
    label = {cirq.PhasedXZGate: "PhasedXZ", cirq.ZPowGate: "Z"}.get(type(gate), str(gate))
    return f"{label} (symbolic)" if cirq.is_parameterized(op) else label


def _circuit_sha256(circuit: cirq.AbstractCircuit) -> str:
    return hashlib.sha256(cirq.to_json(cirq.Circuit(circuit)).encode()).hexdigest()


def on_device(
    ansatz: Ansatz,
    device: Union[str, "cirq_google.GoogleNoiseProperties"],
    *,
    qubits: Union[None, Sequence[cirq.Qid], Mapping[cirq.Qid, cirq.Qid]] = None,
    readout: bool = True,
    gateset: str = "sqrt_iswap",
) -> DeviceAnsatz:
    """``ansatz`` placed on ``device`` (a name of :data:`DEVICES` or ``GoogleNoiseProperties``), compiled to
    ``gateset``, with the device's calibrated noise and (``readout``) readout error (module docstring).

    ``qubits``: device qubits for the ansatz qubits (a sequence in ``ansatz.qubits`` order, or a mapping
    from ansatz qubit to device qubit); default: :func:`place`'s choice.
    """
    if isinstance(device, str):
        properties, source = noise_properties(device), calibration_source(device)
    elif isinstance(device, cirq_google.GoogleNoiseProperties):
        properties = device
        source = CalibrationSource("custom", None, None, cirq_google.__version__)
    else:
        raise ConfigError(f"device is a {type(device).__name__}; pass one of {DEVICES} or a "
                          "cirq_google.GoogleNoiseProperties")
    _target_gateset(gateset)
    if isinstance(qubits, Mapping):
        missing = [str(q) for q in ansatz.qubits if q not in qubits]
        if missing:
            raise ConfigError(f"qubits mapping has no device qubit for ansatz qubits {missing}")
        qubits = [qubits[q] for q in ansatz.qubits]
    name = source.device if isinstance(device, str) else "the given noise properties"
    chosen = place(ansatz.n_qubits, properties, pairs=interaction_pairs(ansatz), gateset=gateset, qubits=qubits,
                   name=name)
    mapping = dict(zip(ansatz.qubits, chosen))
    placed = ansatz.circuit.unfreeze().transform_qubits(mapping)
    compiled = compile_circuit(placed, gateset, couplers(properties, gateset))
    observables = tuple(cirq.PauliSum.from_pauli_strings([term.map_qubits(mapping) for term in o])
                        for o in ansatz.observables)
    noiseless = dataclasses.replace(ansatz, circuit=compiled, observables=observables,
                                    name=f"{ansatz.name}@{source.device}[{gateset}]")
    read = {}
    if readout:
        measured = sorted(set().union(*(o.qubits for o in observables)))
        read = {q: tuple(float(e) for e in properties.readout_errors.get(q, (0.0, 0.0))) for q in measured}
        observables = tuple(readout_observable(o, read) for o in observables)
    noisy_circuit = add_device_noise(compiled, properties)
    noisy = dataclasses.replace(noiseless, circuit=noisy_circuit, observables=observables,
                                name=f"{noiseless.name}+noise[{source.device}{'+readout' if readout else ''}]")
    counts: dict[str, int] = {}
    for op in compiled.all_operations():
        counts[_gate_label(op)] = counts.get(_gate_label(op), 0) + 1
    return DeviceAnsatz(
        ansatz=noisy,
        noiseless=noiseless,
        device=source.device,
        gateset=gateset,
        calibration=source,
        qubits=tuple(mapping.items()),
        gate_counts=dict(sorted(counts.items())),
        circuit_sha256=_circuit_sha256(compiled),
        noise_summary=noise_stats(noisy_circuit, read),
        readout=readout,
    )


__all__ = [
    "DEVICES",
    "GATESETS",
    "CalibrationSource",
    "ChannelStats",
    "DeviceAnsatz",
    "add_device_noise",
    "calibration_source",
    "compile_circuit",
    "couplers",
    "interaction_pairs",
    "load_calibration",
    "noise_properties",
    "noise_stats",
    "on_device",
    "place",
    "readout_observable",
]
