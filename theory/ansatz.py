"""The ansatz record: a parametrised Cirq circuit, its observables and its public input domain.

An *ansatz* defines a family of model outputs

    f_c(x; θ) = Tr[O_c Φ_{x,θ}(|0…0⟩⟨0…0|)],    c = 1, …, n_observables,

where Φ_{x,θ} is the channel of ``circuit`` with its gate parameters — SymPy expressions in the
declared weight symbols θ and input symbols x — resolved, and O_c are Hermitian Pauli sums
(``cirq.PauliSum`` with real coefficients). The model's logits are ``readout.scale · f_c``.

Symbols are matched by *name*, as Cirq resolves them: on construction every symbol of the
circuit becomes the plain ``sympy.Symbol(name)`` (so ``sympy.Symbol("w", real=True)`` and
``sympy.Symbol("w")`` are one weight), constant SymPy parameters become numbers,
``cirq.CircuitOperation``s are unrolled and symbolic global phases (no effect on any
expectation) are left out (:mod:`privqml.theory.symbols`).

The input domain is *public*: it is declared, never estimated from data (a bound maximised
over the training data would make the clipping threshold depend on the data, a privacy leak).

An ansatz is immutable — its circuit is stored as a ``cirq.FrozenCircuit`` — and hashable, so
what is derived from it (the slot table, compiled simulators, bounds) is cached by value with
``functools.lru_cache``.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Iterable, Mapping, Sequence

import cirq
import numpy as np
import sympy

from privqml.errors import AnsatzError, AnsatzTypeError, DomainError, ObservableError
from privqml.theory.symbols import canonical_circuit, canonical_symbol

DEFAULT_INPUT_DOMAIN = (-math.pi, math.pi)


@dataclasses.dataclass(frozen=True)
class Readout:
    """How observable expectations become logits: ``logit_c = scale · f_c``.

    Attributes:
        scale: fixed positive multiplier (dimensionless). A fixed scale keeps the loss
            gradient bounded; it is part of the model definition, not a trained weight.
        trainable_scale: if True the scale is a trained weight; then no finite bound on the
            loss gradient exists (∂ℓ/∂θ grows with the scale) and the bound says so.
    """

    scale: float = 1.0
    trainable_scale: bool = False

    def __post_init__(self) -> None:
        if not (isinstance(self.scale, (int, float)) and math.isfinite(self.scale) and self.scale > 0):
            raise AnsatzError(
                f"readout scale={self.scale!r} must be a finite number > 0; "
                "use 1.0 for raw expectations"
            )


def _as_symbols(name: str, values: Iterable) -> tuple[sympy.Symbol, ...]:
    """The declared symbols as canonical symbols (one plain ``sympy.Symbol`` per name)."""
    out = []
    seen, dupes = set(), set()
    for value in values:
        if not isinstance(value, (str, sympy.Symbol)):
            raise AnsatzTypeError(
                f"{name} entry {value!r} is a {type(value).__name__}; pass sympy.Symbol objects or names"
            )
        symbol = canonical_symbol(value if isinstance(value, str) else value.name)
        (dupes if symbol.name in seen else seen).add(symbol.name)
        out.append(symbol)
    dupes = sorted(dupes)
    if dupes:
        raise AnsatzError(f"{name} declares {dupes} more than once; declare each symbol once")
    return tuple(out)


def parameter_names(value) -> set[str]:
    """Names of the symbols in a circuit, operation or gate.

    ``cirq.parameter_names`` misses some gates (cirq 1.3's ``PhasedFSimGate`` defines
    ``_is_parameterized_`` but no ``_parameter_names_``); for an operation that is
    parameterized yet reports no names, the symbols are read from its JSON fields.
    """
    if isinstance(value, cirq.AbstractCircuit):
        return set().union(*(parameter_names(op) for op in value.all_operations()))
    names = set(cirq.parameter_names(value))
    if names or not cirq.is_parameterized(value):
        return names
    gate = getattr(value, "gate", value)
    fields = gate._json_dict_() if hasattr(gate, "_json_dict_") else vars(gate)  # noqa: SLF001
    for field in fields.values():
        if isinstance(field, sympy.Basic):
            names |= {s.name for s in field.free_symbols}
    return names


def _as_pauli_sum(obs, index: int) -> cirq.PauliSum:
    if isinstance(obs, (cirq.PauliString, cirq.GateOperation)):
        try:
            obs = cirq.PauliSum.wrap(obs)
        except Exception as exc:  # noqa: BLE001 - re-raised with a message
            raise ObservableError(f"observable[{index}]={obs!r} is not a Pauli string: {exc}") from exc
    if not isinstance(obs, cirq.PauliSum):
        raise AnsatzTypeError(
            f"observable[{index}] is a {type(obs).__name__}; pass a cirq.PauliSum "
            "(e.g. cirq.Z(q0) + 0.5 * cirq.Z(q0) * cirq.Z(q1))"
        )
    for term in obs:
        coefficient = complex(term.coefficient)
        if abs(coefficient.imag) > 1e-12 * max(1.0, abs(coefficient)):
            raise ObservableError(
                f"observable[{index}] term {term} has coefficient={coefficient}: not Hermitian. "
                "Pauli-sum observables need real coefficients"
            )
        if not math.isfinite(coefficient.real):
            raise ObservableError(f"observable[{index}] term {term} has a non-finite coefficient")
    return obs


def _checked_circuit(circuit) -> cirq.FrozenCircuit:
    """The canonical circuit, frozen; at least one operation."""
    if not isinstance(circuit, (cirq.Circuit, cirq.FrozenCircuit)):
        raise AnsatzTypeError(
            f"circuit is a {type(circuit).__name__}; pass a cirq.Circuit"
        )
    circuit = canonical_circuit(circuit)
    circuit = circuit if isinstance(circuit, cirq.FrozenCircuit) else circuit.freeze()
    if not any(True for _ in circuit.all_operations()):
        raise AnsatzError("circuit is empty; an ansatz needs at least one operation")
    return circuit


def _check_symbols(circuit: cirq.FrozenCircuit, weights: tuple, inputs: tuple) -> None:
    """Each symbol is a weight or an input, not both; no measurement; no undeclared symbol."""
    both = sorted(set(s.name for s in weights) & set(s.name for s in inputs))
    if both:
        raise AnsatzError(
            f"symbols {both} are declared both as weights and as inputs; "
            "a symbol is either trained (weight) or fed from data (input)"
        )
    for op in circuit.all_operations():
        if cirq.is_measurement(op):
            raise AnsatzError(
                f"measurement {op} found; remove measurements: the ansatz is read out "
                "through its observables"
            )
    declared = {s.name for s in weights} | {s.name for s in inputs}
    undeclared = sorted(parameter_names(circuit) - declared)
    if undeclared:
        raise AnsatzError(
            f"circuit uses undeclared symbols {undeclared}; declare each as a weight "
            "(trained) or as an input (data)"
        )


def _checked_observables(observables, circuit_qubits: set) -> tuple[cirq.PauliSum, ...]:
    """The observables as Hermitian Pauli sums on qubits of the circuit (at least one)."""
    if isinstance(observables, (cirq.PauliSum, cirq.PauliString)):
        observables = (observables,)
    observables = tuple(_as_pauli_sum(o, i) for i, o in enumerate(observables))
    if not observables:
        raise ObservableError("no observable given; pass at least one cirq.PauliSum")
    for i, obs in enumerate(observables):
        extra = sorted(set(obs.qubits) - circuit_qubits)
        if extra:
            raise ObservableError(
                f"observable[{i}] acts on qubits {extra} that the circuit does not touch; "
                "add them to the circuit (e.g. an identity) or change the observable"
            )
    return observables


def _checked_domain(input_domain, inputs: tuple) -> tuple[tuple[float, float], ...]:
    """One closed interval (lo, hi) per input, default [-π, π]; a mapping is read by symbol name."""
    domain = tuple(input_domain) or tuple(DEFAULT_INPUT_DOMAIN for _ in inputs)
    if isinstance(input_domain, Mapping):
        by_name = {k if isinstance(k, str) else getattr(k, "name", k): v for k, v in input_domain.items()}
        domain = tuple(by_name.get(s.name, DEFAULT_INPUT_DOMAIN) for s in inputs)
    if len(domain) != len(inputs):
        raise DomainError(
            f"input_domain has {len(domain)} intervals for {len(inputs)} inputs; "
            "give one (lo, hi) per input, or none for the default [-pi, pi]"
        )
    clean = []
    for symbol, interval in zip(inputs, domain):
        try:
            lo, hi = (float(v) for v in interval)
        except (TypeError, ValueError) as exc:
            raise DomainError(
                f"input_domain for {symbol}={interval!r} is not a (lo, hi) pair of numbers"
            ) from exc
        if math.isnan(lo) or math.isnan(hi) or lo > hi:
            raise DomainError(
                f"input_domain for {symbol}=({lo}, {hi}) is not an interval; need lo <= hi"
            )
        clean.append((lo, hi))
    return tuple(clean)


@dataclasses.dataclass(frozen=True)
class Ansatz:
    """A parametrised circuit with observables and a public input domain.

    Attributes:
        circuit: the Cirq circuit (a ``cirq.Circuit`` or ``cirq.FrozenCircuit``); gate
            parameters are numbers or SymPy expressions in ``weights`` and ``inputs`` only.
            Noise channels without parameters are allowed; measurement gates are not
            (expectations are taken of ``observables``). Stored as a ``cirq.FrozenCircuit``,
            canonical: one plain symbol per name, constant SymPy parameters evaluated, circuit
            operations unrolled, symbolic global phases left out (the given frozen circuit
            itself if nothing changes).
        weights: trainable symbols θ, in the order of the model's weight vector (symbols or
            names; stored as plain ``sympy.Symbol(name)``).
        inputs: data symbols x, in the order of the feature vector (likewise).
        observables: one Hermitian ``cirq.PauliSum`` per model output (one for binary
            models, one per class for multi-class softmax readout).
        input_domain: one closed interval (lo, hi) per input, in the units of the feature
            (radians for angle encodings), or a mapping from input (symbol or name) to its
            interval. Default: [-π, π] for every input. Public.
        readout: how expectations become logits.
        name: a label used in reports.

    Equality compares every attribute; the hash covers the cheap ones only (name, symbols,
    domain, readout and the number of moments): hashing a large frozen circuit hashes every
    gate, and a ``cirq.PauliSum`` is not hashable. Equal ansätze have equal hashes.
    """

    circuit: cirq.FrozenCircuit
    weights: tuple[sympy.Symbol, ...]
    inputs: tuple[sympy.Symbol, ...]
    observables: tuple[cirq.PauliSum, ...]
    input_domain: tuple[tuple[float, float], ...] = ()
    readout: Readout = dataclasses.field(default_factory=Readout)
    name: str = "custom"

    def __post_init__(self) -> None:
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731 - frozen dataclass init
        set_("circuit", _checked_circuit(self.circuit))
        set_("weights", _as_symbols("weights", self.weights))
        set_("inputs", _as_symbols("inputs", self.inputs))
        _check_symbols(self.circuit, self.weights, self.inputs)
        set_("observables", _checked_observables(self.observables, set(self.circuit.all_qubits())))
        set_("input_domain", _checked_domain(self.input_domain, self.inputs))
        if not isinstance(self.readout, Readout):
            raise AnsatzTypeError(f"readout is a {type(self.readout).__name__}; pass privqml.theory.Readout")

    def __hash__(self) -> int:
        return hash((self.name, self.weights, self.inputs, self.input_domain, self.readout, len(self.circuit)))

    # -- convenience -------------------------------------------------------------------
    @property
    def qubits(self) -> tuple[cirq.Qid, ...]:
        return tuple(sorted(self.circuit.all_qubits()))

    @property
    def n_qubits(self) -> int:
        return len(self.qubits)

    @property
    def n_weights(self) -> int:
        return len(self.weights)

    @property
    def n_inputs(self) -> int:
        return len(self.inputs)

    @property
    def n_outputs(self) -> int:
        return len(self.observables)

    def domain(self) -> dict[sympy.Symbol, tuple[float, float]]:
        """The public input domain as ``{input symbol: (lo, hi)}``."""
        return dict(zip(self.inputs, self.input_domain))

    def check_inputs(self, inputs: Sequence[float] | np.ndarray) -> np.ndarray:
        """Validate feature values against the declared domain; returns a float64 array [..., n_inputs].

        A value outside its interval [lo, hi] by at most 10⁻⁹ (the rounding of a rescaling) is
        accepted and returned clipped onto the interval, so every returned value lies in the domain
        the bounds are taken over; a value further outside raises :class:`DomainError`."""
        values = np.asarray(inputs, dtype=np.float64)
        if values.shape[-1:] != (self.n_inputs,) and not (self.n_inputs == 0 and values.size == 0):
            raise DomainError(
                f"inputs have shape {values.shape}; the ansatz {self.name!r} takes "
                f"{self.n_inputs} inputs per example (last axis)"
            )
        if not np.all(np.isfinite(values)):
            raise DomainError("inputs contain NaN or infinite values; clean or impute them first")
        for i, (symbol, (lo, hi)) in enumerate(zip(self.inputs, self.input_domain)):
            column = values[..., i]
            bad = (column < lo - 1e-9) | (column > hi + 1e-9)
            if np.any(bad):
                worst = float(column[bad].flat[0])
                raise DomainError(
                    f"input {symbol}={worst} lies outside its declared domain [{lo}, {hi}]; "
                    "rescale the features into the domain or declare a wider public domain"
                )
        if values.size and self.n_inputs:
            lows = np.array([lo for lo, _ in self.input_domain], dtype=np.float64)
            highs = np.array([hi for _, hi in self.input_domain], dtype=np.float64)
            if np.any((values < lows) | (values > highs)):
                values = np.clip(values, lows, highs)
        return values

    def resolver(self, weights: Sequence[float], inputs: Sequence[float] = ()) -> cirq.ParamResolver:
        """A resolver binding the weight and input symbols to numbers."""
        weights = np.asarray(weights, dtype=np.float64).reshape(-1)
        inputs = np.asarray(inputs, dtype=np.float64).reshape(-1)
        if weights.shape != (self.n_weights,):
            raise DomainError(
                f"weights have {weights.size} values; the ansatz {self.name!r} has {self.n_weights} weights"
            )
        if inputs.shape != (self.n_inputs,):
            raise DomainError(
                f"inputs have {inputs.size} values; the ansatz {self.name!r} takes {self.n_inputs} inputs"
            )
        mapping = {s.name: float(v) for s, v in zip(self.weights, weights)}
        mapping.update({s.name: float(v) for s, v in zip(self.inputs, inputs)})
        return cirq.ParamResolver(mapping)

    def with_readout(self, readout: Readout) -> "Ansatz":
        return dataclasses.replace(self, readout=readout)

    def summary(self) -> str:
        return (
            f"{self.name}: {self.n_qubits} qubits, {self.n_weights} weights, {self.n_inputs} inputs, "
            f"{len(list(self.circuit.all_operations()))} operations, {self.n_outputs} observable(s)"
        )
