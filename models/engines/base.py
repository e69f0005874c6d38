r"""The engine contract: a batch of model outputs and their per-example derivatives, in TensorFlow.

An engine evaluates, for a batch of rows i = 1…B with their own weights θ_i ∈ ℝ^P and inputs
x_i ∈ ℝ^d,

    f_{i,c} = Tr[O_c Φ_{x_i,θ_i}(|0…0⟩⟨0…0|)],        c = 1…n_outputs,

as a [B, n_outputs] tensor that TensorFlow can differentiate. Row i depends on (θ_i, x_i) only, so
for any per-row function ℓ_i = ℓ(f_i) the gradient of Σ_i ℓ_i with respect to the [B, P] weight
tensor has ∇_θ ℓ_i as its row i — the per-example gradients of DP-SGD (Abadi et al., "Deep
learning with differential privacy", CCS 2016) from one backward pass — and by the chain rule

    ∇_θ ℓ_i = Σ_c (∂ℓ/∂f_c)(f_i) · ∂f_{i,c}/∂θ_i,

so the per-example Jacobians J_i = ∂f_i/∂θ_i [n_outputs, P] serve every loss. Tensors stay in
TensorFlow, so TF Privacy's queries clip and noise them unchanged; every method may be called
inside a ``tf.function``.
"""

from __future__ import annotations

import abc
from typing import Callable

import tensorflow as tf

from privqml.errors import DataError
from privqml.models.base import inline_requested, traced_inline  # noqa: F401 - the engines' side of it
from privqml.theory.ansatz import Ansatz


class Engine(abc.ABC):
    """Base class: subclasses implement :meth:`values`; the derivatives follow by autodiff.

    Attributes:
        ansatz: the ansatz whose observables are the outputs.
        name: a label for reports.
        real_dtype: the float dtype of ``values`` (``tf.float32`` unless stated).
    """

    name = "abstract"
    real_dtype = tf.float32

    def __init__(self, ansatz: Ansatz) -> None:
        self.ansatz = ansatz

    @property
    def n_weights(self) -> int:
        return self.ansatz.n_weights

    @property
    def n_outputs(self) -> int:
        return self.ansatz.n_outputs

    @abc.abstractmethod
    def values(self, weights: tf.Tensor, inputs: tf.Tensor) -> tf.Tensor:
        """f_{i,c} as [B, n_outputs]; ``weights`` [P] (shared) or [B, P], ``inputs`` [B, d]."""

    def rows(self, weights, inputs) -> tuple[tf.Tensor, tf.Tensor]:
        """(weights [B, P], inputs [B, d]) in ``real_dtype``, a [P] weight vector tiled over the batch."""
        inputs = tf.convert_to_tensor(inputs, dtype=self.real_dtype)
        weights = tf.convert_to_tensor(weights, dtype=self.real_dtype)
        if inputs.shape.rank != 2 or (inputs.shape[1] is not None and inputs.shape[1] != self.ansatz.n_inputs):
            raise DataError(
                f"inputs have shape {inputs.shape}; the ansatz {self.ansatz.name!r} takes "
                f"[batch, {self.ansatz.n_inputs}]"
            )
        if weights.shape.rank == 1:
            weights = tf.tile(weights[tf.newaxis, :], [tf.shape(inputs)[0], 1])
        if weights.shape.rank != 2 or (weights.shape[1] is not None and weights.shape[1] != self.n_weights):
            raise DataError(
                f"weights have shape {weights.shape}; the ansatz {self.ansatz.name!r} has "
                f"[{self.n_weights}] or [batch, {self.n_weights}] weights"
            )
        return weights, inputs

    def per_example_value_and_jacobian(self, weights, inputs) -> tuple[tf.Tensor, tf.Tensor]:
        """(f [B, n_outputs], J [B, n_outputs, P]) with J_{i,c,j} = ∂f_{i,c}/∂θ_{i,j} (see :func:`stacked_jacobian`)."""
        weights, inputs = self.rows(weights, inputs)
        return stacked_jacobian(self.values, weights, inputs, self.n_outputs)

    def per_example_value_and_gradient(
        self, weights, inputs, row_function: Callable[[tf.Tensor], tf.Tensor]
    ) -> tuple[tf.Tensor, tf.Tensor]:
        """(ℓ [B], ∇_θ ℓ_i [B, P]) of a per-row scalar ℓ_i = ``row_function``(f)_i.

        ``row_function`` maps f [B, n_outputs] to [B] with row i a function of f_i alone (a
        per-example loss with its targets bound); one backward pass gives every row's gradient.
        """
        weights, inputs = self.rows(weights, inputs)
        with tf.GradientTape() as tape:
            tape.watch(weights)
            per_row = row_function(self.values(weights, inputs))
            total = tf.reduce_sum(per_row)
        return per_row, tape.gradient(total, weights, unconnected_gradients=tf.UnconnectedGradients.ZERO)

    def describe(self) -> dict:
        return {"engine": self.name, "ansatz": self.ansatz.name, "dtype": self.real_dtype.name}


def stacked_jacobian(values, weights: tf.Tensor, inputs: tf.Tensor, n_outputs: int) -> tuple[tf.Tensor, tf.Tensor]:
    """(f [B, C], J [B, C, P]) of a row-wise ``values``(weights [B, P], inputs [B, d]) -> [B, C].

    One forward and one backward pass over C·B stacked rows: row (c, i) is a copy of row i, and the
    gradient of S = Σ_{c,i} f_{(c,i),c} with respect to the [C·B, P] stacked weights has
    ∂f_{i,c}/∂θ_i as row (c, i), since each stacked row enters S through its own output c only.
    Against C backward passes over one forward pass this spends C − 1 more forward passes of B rows
    but builds one gradient graph instead of C (tracing time grows with the graph).
    """
    batch = tf.shape(inputs)[0]
    stacked_weights = tf.tile(weights, [n_outputs, 1])
    stacked_inputs = tf.tile(inputs, [n_outputs, 1])
    # selector[(c, i), c'] = 1 if c' = c: the output each stacked row contributes
    selector = tf.repeat(tf.eye(n_outputs, dtype=weights.dtype), batch, axis=0)
    with tf.GradientTape() as tape:
        tape.watch(stacked_weights)
        stacked = values(stacked_weights, stacked_inputs)
        total = tf.reduce_sum(stacked * selector)
    grads = tape.gradient(total, stacked_weights, unconnected_gradients=tf.UnconnectedGradients.ZERO)
    jacobian = tf.transpose(tf.reshape(grads, [n_outputs, batch, -1]), [1, 0, 2])
    return stacked[:batch], jacobian


__all__ = ["Engine", "inline_requested", "stacked_jacobian", "traced_inline"]
