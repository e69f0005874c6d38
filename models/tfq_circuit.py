"""Compile an :class:`~privqml.theory.Ansatz` for TensorFlow Quantum.

TFQ accepts gate parameters of the form ``coefficient · symbol`` only, while an ansatz may use
any SymPy expression of weights and inputs (``ry(w·x + b)``, PhasedXZ's ``z + a``). We therefore
run TFQ on the *canonical circuit* of the ansatz's slot table (:func:`privqml.theory.slot_table`),
with one fresh TFQ symbol per angle slot k whose value is the slot's exponent t_k(θ, x)
(half-turns), computed in TensorFlow from the table's expressions. Gradients then flow by the
chain rule

    ∂f/∂θ_j = Σ_k (∂f/∂t_k) (∂t_k/∂θ_j),

TFQ's differentiator (adjoint, parameter shift, …) giving ∂f/∂t_k and TensorFlow the rest.
Feeding weights as a [batch, P] tensor (one row per example) makes the gradient of a summed
loss with respect to that tensor the matrix of per-example gradients.
"""

from __future__ import annotations

import dataclasses
import functools

import cirq
import sympy
import tensorflow as tf
import tensorflow_quantum as tfq

from privqml.errors import ConfigError, UnsupportedGateError
from privqml.theory.ansatz import Ansatz
from privqml.theory.slots import SlotTable, slot_table
from privqml.theory.spectra import CanonicalCircuit, ControlledEigenGate

SLOT_PREFIX = "_pq_slot"


@functools.lru_cache(maxsize=1)
def _tfq_gate_types() -> tuple[type, ...]:
    return tuple(type(g) for g in tfq.util.get_supported_gates())


@functools.lru_cache(maxsize=1)
def _tfq_channel_types() -> tuple[type, ...]:
    return tuple(type(c) for c in tfq.util.get_supported_channels())


@dataclasses.dataclass(frozen=True)
class CompiledAnsatz:
    """An ansatz ready for TFQ.

    Attributes:
        ansatz: the source ansatz.
        slots: its slot table (canonical circuit, slot exponents t_k(θ, x)).
        circuit: the canonical circuit with slot k's exponent replaced by ``slot_symbols[k]``.
        slot_symbols: one TFQ symbol per slot, value in half-turns.
        noisy: True if the circuit contains noise channels (needs ``backend='noisy'``).
    """

    ansatz: Ansatz
    slots: SlotTable
    circuit: cirq.Circuit
    slot_symbols: tuple[sympy.Symbol, ...]
    noisy: bool

    @property
    def canonical(self) -> CanonicalCircuit:
        """The canonical circuit (angle slots) of the ansatz."""
        return self.slots.canonical

    @property
    def slot_names(self) -> list[str]:
        return [s.name for s in self.slot_symbols]

    @property
    def n_slots(self) -> int:
        return len(self.slot_symbols)

    def circuits(self, batch_size: int) -> tf.Tensor:
        """The serialized circuit repeated ``batch_size`` times (a [batch] string tensor)."""
        return tf.repeat(self.circuit_tensor, batch_size)

    @functools.cached_property
    def circuit_tensor(self) -> tf.Tensor:
        # Created eagerly (init_scope) so that a first call inside a tf.function does not
        # cache a graph tensor that later calls, in other graphs, cannot use.
        with tf.init_scope():
            return tfq.convert_to_tensor([self.circuit])

    @functools.cached_property
    def _slot_function(self):
        """The slot table's exponents t_k(θ, x) as one TensorFlow function of (θ, x) columns."""
        return sympy.lambdify(list(self.slots.symbols), list(self.slots.exponents), modules="tensorflow")

    def slot_values(self, weights: tf.Tensor, inputs: tf.Tensor) -> tf.Tensor:
        """Slot exponents t_k(θ, x) as a [batch, n_slots] float32 tensor (differentiable).

        Args:
            weights: [P] (shared by the batch) or [batch, P] (one row per example).
            inputs: [batch, n_inputs].
        """
        inputs = tf.convert_to_tensor(inputs, dtype=tf.float32)
        weights = tf.convert_to_tensor(weights, dtype=tf.float32)
        batch = tf.shape(inputs)[0]
        if weights.shape.rank == 1:
            weights = tf.tile(weights[tf.newaxis, :], [batch, 1])
        columns = [weights[:, j] for j in range(self.ansatz.n_weights)]
        columns += [inputs[:, i] for i in range(self.ansatz.n_inputs)]
        if not self.slots.n_slots:
            return tf.zeros([batch, 0], dtype=tf.float32)
        values = self._slot_function(*columns)
        ones = tf.ones([batch], dtype=tf.float32)
        values = [tf.cast(v, tf.float32) * ones for v in values]  # broadcast constants
        return tf.stack(values, axis=1)


def _with_slot_symbol(op: cirq.Operation, symbol: sympy.Symbol) -> cirq.Operation:
    gate = op.gate
    new_gate = gate._with_exponent(symbol)  # noqa: SLF001 - EigenGate protocol
    return new_gate.on(*op.qubits)


def parameter_shift_problem(canonical: CanonicalCircuit) -> str | None:
    """Why TFQ's ``ParameterShift`` differentiator is not exact for this circuit, or None.

    ``tfq_ps_decompose`` splits gates into two-eigenvalue pieces but keeps a controlled gate
    whole: C-U(t) has eigen half-turns {0} ∪ {λ + s}, three distinct values for a rotation
    (s = −½), and a two-term shift rule over three frequencies is wrong (measured, TFQ 0.7.3:
    C-Rx ∂f/∂t = −1.857 against the exact −1.313; C-Ry and C-Rz happened to agree). Controlled
    slots with more than two eigen half-turns are therefore refused for ParameterShift (shot and
    noisy models, the verify engines pshift/shots/noisy); the Adjoint differentiator is exact.
    """
    for slot in canonical.slots:
        if isinstance(slot.operation.gate, ControlledEigenGate) and len(slot.spectrum.half_turns) > 2:
            turns = ", ".join(f"{h:g}" for h in slot.spectrum.half_turns)
            return (f"TFQ's two-term ParameterShift is not exact for the controlled gate {slot.source} "
                    f"(eigen half-turns {turns}: three frequencies need a multi-term rule)")
    return None


def compile_ansatz(ansatz: Ansatz) -> CompiledAnsatz:
    """The ansatz's canonical circuit (from its slot table) with every angle slot on its own TFQ symbol.

    Raises:
        UnsupportedGateError: for an operation TFQ cannot simulate (named, with the fix).
    """
    slots = slot_table(ansatz)
    canonical = slots.canonical
    operations = []
    symbols = []
    noisy = False
    gate_types, channel_types = _tfq_gate_types(), _tfq_channel_types()
    for op, slot_index in zip(canonical.operations, canonical.slot_of):
        if slot_index >= 0:
            symbol = sympy.Symbol(f"{SLOT_PREFIX}{slot_index}")
            symbols.append(symbol)
            op = _with_slot_symbol(op, symbol)
        gate = op.gate
        if isinstance(gate, ControlledEigenGate):
            # the theory's view of C-U(t) as one EigenGate, back to the ControlledGate TFQ
            # serialises (controls, control values and the sub-gate's exponent symbol kept)
            controlled = gate.as_controlled_gate()
            if isinstance(controlled.sub_gate, gate_types):
                operations.append(controlled.on(*op.qubits))
                continue
            gate = controlled.sub_gate
        if isinstance(gate, channel_types):
            noisy = True
            operations.append(op)
            continue
        if isinstance(gate, gate_types):
            operations.append(op)
            continue
        # A fixed gate TFQ lacks (e.g. a MatrixGate or CCZ): decompose it into supported gates.
        if slot_index < 0:
            try:
                pieces = cirq.decompose(
                    op, keep=lambda o: isinstance(o.gate, gate_types + channel_types)
                )
                operations.extend(pieces)
                continue
            except (TypeError, ValueError):
                pass
        raise UnsupportedGateError(
            f"TFQ cannot simulate {type(gate).__name__} in operation {op} (from {op!r}); "
            "TFQ 0.7.3 supports "
            + ", ".join(sorted(t.__name__ for t in gate_types))
            + ". Rewrite the gate with these or use privqml's Cirq engines"
        )
    circuit = cirq.Circuit(operations)
    # TFQ needs every qubit of the observables in the circuit; the ansatz validated that.
    return CompiledAnsatz(ansatz, slots, circuit, tuple(symbols), noisy)


def expectation(
    compiled: CompiledAnsatz,
    weights: tf.Tensor,
    inputs: tf.Tensor,
    differentiator: tfq.differentiators.Differentiator | None = None,
    repetitions: int | None = None,
    trajectories: int | None = None,
) -> tf.Tensor:
    """f_c(x_i; θ_i) for every example i and observable c: a [batch, n_observables] tensor.

    With ``repetitions`` the expectation is estimated from that many shots (TFQ
    ``SampledExpectation``); with noise channels in the circuit the noisy backend is used.
    A noisy circuit without ``repetitions`` needs ``trajectories``: TFQ's noisy ``Expectation``
    then averages the exact expectation of that many Monte-Carlo trajectories (each one a pure
    state with the channels' Kraus operators sampled), an unbiased estimate of Tr[O Φ(ρ)].
    Noiseless circuits ignore ``trajectories``.
    """
    inputs = tf.convert_to_tensor(inputs, dtype=tf.float32)
    batch = tf.shape(inputs)[0]
    values = compiled.slot_values(weights, inputs)
    operators = [list(compiled.ansatz.observables)]
    backend = "noisy" if compiled.noisy else None
    operator_tensor = tf.repeat(tfq.convert_to_tensor(operators), batch, axis=0)
    if repetitions is None:
        layer = tfq.layers.Expectation(differentiator=differentiator, backend=backend)
        if compiled.noisy:
            if trajectories is None or int(trajectories) < 1:
                raise ConfigError(
                    f"trajectories={trajectories!r}: a noisy circuit needs a number of Monte-Carlo "
                    "trajectories >= 1 (or repetitions=shots for a sampled estimate)"
                )
            return layer(
                compiled.circuits(batch),
                symbol_names=compiled.slot_names,
                symbol_values=values,
                operators=operator_tensor,
                repetitions=int(trajectories),
            )
        return layer(
            compiled.circuits(batch),
            symbol_names=compiled.slot_names,
            symbol_values=values,
            operators=operator_tensor,
        )
    layer = tfq.layers.SampledExpectation(differentiator=differentiator, backend=backend)
    return layer(
        compiled.circuits(batch),
        symbol_names=compiled.slot_names,
        symbol_values=values,
        operators=operator_tensor,
        repetitions=int(repetitions),
    )


__all__ = ["CompiledAnsatz", "compile_ansatz", "expectation", "SLOT_PREFIX"]

