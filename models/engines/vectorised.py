r"""The vectorised engine: tensorcircuit-ng on its TensorFlow backend, one circuit per row, vmapped.

For a batch of rows i with their own weights θ_i and inputs x_i the engine computes

1. the slot exponents t_{i,k} = t_k(θ_i, x_i) (half-turns) from the slot table's SymPy expressions,
   lambdified to TensorFlow as for TFQ (:mod:`privqml.models.tfq_circuit`);
2. every row's gate matrices, batched: slot k as U_k(t_{i,k}) = Σ_λ e^{iπ t_{i,k} (λ+s)} P_λ, and
   each fused block of the program (:func:`~privqml.models.engines.program.fuse`) as the product
   M_{i,b} = S_m ⋯ S_1 of its steps;
3. per row, a TensorCircuit circuit of the blocks (constant ones as constants), the channels as
   Kraus maps, and f_{i,c} = Σ_terms c_term ⟨P_term⟩ (``expectation_ps``), mapped over the batch
   with TensorCircuit's ``vmap`` (``tf.vectorized_map``: one batched contraction per gate instead
   of one circuit per example) inside a ``tf.function`` (TensorCircuit's ``jit``; with
   ``jit_compile=True`` compiled by XLA).

Derivatives are TensorFlow autodiff through the contraction (Zhang et al., "TensorCircuit: a
quantum software framework for the NISQ era", Quantum 7, 912 (2023)). :meth:`VectorisedEngine.values`
carries a custom gradient: given the upstream u [B, C], the backward pass calls one compiled
vector–Jacobian product, ∇_{θ,x} Σ_{i,c} u_{i,c} f_{i,c}, which recomputes the rows (one more
forward pass) so that forward and backward run inside one compiled function; per-example Jacobians
come from :func:`~privqml.models.engines.base.stacked_jacobian` compiled the same way.

Noiseless circuits run on state vectors (``tc.Circuit``); circuits with channels on density
matrices (``tc.DMCircuit``, exact: no trajectories) up to
:data:`~privqml.models.engines.program.MAX_QUBITS_MIXED` qubits. Precision is ``complex64`` /
``float32`` by default (measured against the float64 engine on the built-in ansätze up to 4 qubits:
values within 1e-6 · Σ|c|, Jacobian entries within 7e-7 · Σ|c| · (1 + Σ_k Ω_k |∂t_k/∂θ_j|) at
moderate angles; at large exponents the float32 rounding of t_k itself adds Σ|c| · S_j · Σ_l Ω_l |δt_l|,
which reached 4× the first term at |t| ≈ 38 — :mod:`privqml.verify.vectorised_engine` states the
tolerance with both terms); ``complex128`` agrees with float64 simulation to 1e-10.

Cost: the first call traces the mapped circuit and its gradient (seconds at 4 qubits, tens of seconds
at 12 on a loaded two-core machine; XLA compilation roughly doubles it). Engines are cached per
(ansatz, dtype, jit_compile) by :func:`vectorised_engine`, so equal ansätze share their traces.
"""

from __future__ import annotations

import functools
import math

import sympy
import tensorcircuit as tc
import tensorflow as tf

from privqml.errors import ConfigError
from privqml.models.engines.base import Engine, inline_requested, stacked_jacobian
from privqml.models.engines.program import ChannelStep, Program, SlotStep, compile_program
from privqml.theory.ansatz import Ansatz

DTYPES = {"complex64": tf.float32, "complex128": tf.float64}


class VectorisedEngine(Engine):
    """f_{i,c} of an ansatz for a batch of rows, on tensorcircuit-ng's TensorFlow backend.

    Args:
        ansatz: the ansatz (every gate the theory canonicalises; parameter-free channels up to
            ``MAX_QUBITS_MIXED`` qubits).
        dtype: ``"complex64"`` (default; float32 outputs) or ``"complex128"`` (float64).
        jit_compile: compile with XLA (``tf.function(jit_compile=True)``); longer first call.

    Raises:
        UnsupportedGateError, ConfigError: from :func:`~privqml.models.engines.program.compile_program`,
            or for an unknown ``dtype``.
    """

    name = "vectorised"

    def __init__(self, ansatz: Ansatz, dtype: str = "complex64", jit_compile: bool = False) -> None:
        if dtype not in DTYPES:
            raise ConfigError(f"dtype={dtype!r} unknown; choose one of {sorted(DTYPES)}")
        super().__init__(ansatz)
        self.program: Program = compile_program(ansatz)
        self.dtype = dtype
        self.real_dtype = DTYPES[dtype]
        self.jit_compile = bool(jit_compile)

    # -- the exponents t_k(θ, x) ----------------------------------------------------------------
    @functools.cached_property
    def _slot_function(self):
        slots = self.program.slots
        return sympy.lambdify(list(slots.symbols), list(slots.exponents), modules="tensorflow")

    def slot_values(self, weights: tf.Tensor, inputs: tf.Tensor) -> tf.Tensor:
        """t_{i,k} as [B, K] from rows (weights [B, P], inputs [B, d]) — differentiable."""
        batch = tf.shape(inputs)[0]
        if not self.program.n_slots:
            return tf.zeros([batch, 0], dtype=self.real_dtype)
        columns = [weights[:, j] for j in range(self.n_weights)]
        columns += [inputs[:, i] for i in range(self.ansatz.n_inputs)]
        ones = tf.ones([batch], dtype=self.real_dtype)
        values = [tf.cast(v, self.real_dtype) * ones for v in self._slot_function(*columns)]
        return tf.stack(values, axis=1)

    # -- the batch's gate matrices ---------------------------------------------------------------
    def slot_unitaries(self, t: tf.Tensor, step: SlotStep) -> tf.Tensor:
        """U_k(t_{i,k}) = Σ_c e^{iπ t_{i,k} h_c} P_c for every row: [B, 2^m, 2^m]."""
        # a plain slice: TF 2.15's graph optimiser mis-shapes t[:, k, tf.newaxis] here once this
        # function is inlined into a caller whose batch size is static
        angles = math.pi * t[:, step.slot : step.slot + 1] * tf.constant(step.half_turns, dtype=self.real_dtype)
        phases = tf.complex(tf.cos(angles), tf.sin(angles))  # [B, n_components]
        return tf.einsum("bc,cij->bij", phases, tf.constant(step.projectors, dtype=self.dtype))

    def block_matrices(self, t: tf.Tensor) -> list[tf.Tensor]:
        """M_{i,b} = S_m ⋯ S_1 of every block b with a slot, for every row: a list of [B, 2^m, 2^m].

        Built with batched TensorFlow products before the row map, so the vmapped circuit holds one
        gate per block.
        """
        matrices = []
        for block in self.program.blocks:
            if isinstance(block, ChannelStep) or block.matrix is not None:
                continue
            product = None
            for step in block.steps:
                if isinstance(step, SlotStep):
                    factor = self.slot_unitaries(t, step)
                else:
                    factor = tf.constant(step.matrix, dtype=self.dtype)
                product = factor if product is None else tf.matmul(factor, product)
            matrices.append(product)
        return matrices

    # -- one row: the TensorCircuit function ----------------------------------------------------
    def _row(self, matrices: list[tf.Tensor]) -> tf.Tensor:
        """(f_1, …, f_C) of one row from its block matrices; traced under TensorCircuit's TF backend."""
        program = self.program
        circuit = tc.DMCircuit(program.n_qubits) if program.mixed else tc.Circuit(program.n_qubits)
        variable = iter(matrices)
        for block in program.blocks:
            if isinstance(block, ChannelStep):
                kraus = [tf.constant(k, dtype=self.dtype) for k in block.kraus]
                circuit.apply_general_kraus(kraus, *block.targets)
            elif block.matrix is not None:
                circuit.any(*block.targets, unitary=tf.constant(block.matrix, dtype=self.dtype))
            else:
                circuit.any(*block.targets, unitary=next(variable))
        outputs = []
        for terms in program.observables:
            total = tf.constant(0.0, dtype=self.real_dtype)
            for term in terms:
                if term.factors:
                    value = tf.math.real(circuit.expectation_ps(**term.letters()))
                else:
                    value = tf.constant(1.0, dtype=self.real_dtype)
                total = total + term.coefficient * value
            outputs.append(total)
        return tf.stack(outputs)

    def _values_rows(self, weights: tf.Tensor, inputs: tf.Tensor) -> tf.Tensor:
        t = self.slot_values(weights, inputs)
        # t rides along so that the map has a batch axis even when no block has a slot
        elements = (t, self.block_matrices(t))
        with tc.runtime_backend("tensorflow"), tc.runtime_dtype(self.dtype):
            mapped = tc.backend.vmap(lambda pair: self._row(pair[1]), vectorized_argnums=0)
            return mapped(elements)

    def _vector_jacobian_product(self, weights, inputs, upstream) -> list[tf.Tensor]:
        """(∂/∂θ, ∂/∂x) of Σ_{i,c} u_{i,c} f_{i,c}: row i of each is u_i · ∂f_i/∂(θ_i, x_i)."""
        with tf.GradientTape() as tape:
            tape.watch([weights, inputs])
            total = tf.reduce_sum(upstream * self._values_rows(weights, inputs))
        return tape.gradient(total, [weights, inputs], unconnected_gradients=tf.UnconnectedGradients.ZERO)

    def _jacobian_rows(self, weights, inputs) -> tuple[tf.Tensor, tf.Tensor]:
        return stacked_jacobian(self._values_rows, weights, inputs, self.n_outputs)

    def _compiled(self, function, *extra_specs):
        specs = [
            tf.TensorSpec([None, self.n_weights], self.real_dtype),
            tf.TensorSpec([None, self.ansatz.n_inputs], self.real_dtype),
            *extra_specs,
        ]
        return tf.function(function, input_signature=specs, jit_compile=self.jit_compile, autograph=False)

    @functools.cached_property
    def _values_fn(self):
        return self._compiled(self._values_rows)

    @functools.cached_property
    def _vjp_fn(self):
        return self._compiled(self._vector_jacobian_product, tf.TensorSpec([None, self.n_outputs], self.real_dtype))

    @functools.cached_property
    def _jacobian_fn(self):
        return self._compiled(self._jacobian_rows)

    # -- the engine interface ---------------------------------------------------------------------
    def values(self, weights, inputs) -> tf.Tensor:
        """f_{i,c} as [B, n_outputs] (``real_dtype``); ``weights`` [P] or [B, P], ``inputs`` [B, d].

        Differentiable with respect to weights and inputs: the backward pass recomputes the rows
        inside one compiled vector–Jacobian product (forward and backward together), so TensorFlow
        never differentiates the mapped circuit outside the compiled function.
        """
        weights, inputs = self.rows(weights, inputs)
        if inline_requested() and tf.inside_function():  # the caller's graph differentiates the rows itself
            return self._values_rows(weights, inputs)

        @tf.custom_gradient
        def differentiable(weights, inputs):
            def backward(upstream):
                return self._vjp_fn(weights, inputs, tf.cast(upstream, self.real_dtype))

            return self._values_fn(weights, inputs), backward

        return differentiable(weights, inputs)

    def per_example_value_and_jacobian(self, weights, inputs) -> tuple[tf.Tensor, tf.Tensor]:
        """(f [B, n_outputs], J [B, n_outputs, P]), J_{i,c,j} = ∂f_{i,c}/∂θ_{i,j}, in one compiled call."""
        weights, inputs = self.rows(weights, inputs)
        return self._jacobian_fn(weights, inputs)

    def describe(self) -> dict:
        out = super().describe()
        out.update(
            backend=f"tensorcircuit-ng {tc.__version__} (tensorflow)",
            simulation="density matrix" if self.program.mixed else "state vector",
            complex_dtype=self.dtype,
            jit_compile=self.jit_compile,
            n_slots=self.program.n_slots,
        )
        return out


@functools.lru_cache(maxsize=32)
def vectorised_engine(ansatz: Ansatz, dtype: str = "complex64", jit_compile: bool = False) -> VectorisedEngine:
    """The :class:`VectorisedEngine` of ``ansatz`` (one per ansatz value, dtype and jit_compile, so
    equal ansätze — replicates, tests — share their traced and compiled functions)."""
    return VectorisedEngine(ansatz, dtype=dtype, jit_compile=jit_compile)


__all__ = ["DTYPES", "VectorisedEngine", "vectorised_engine"]
