r"""The contract every privqml model keeps (quantum and classical alike).

A model is a function f(x; θ) ∈ ∏_c [o_min,c, o_max,c] of a feature vector x in a public
domain and a flat trainable weight vector θ ∈ ℝ^P, read out as logits z_c = s·f_c with a
*fixed* scale s (a trainable scale would make the loss gradient unbounded). Two things make
per-example gradients cheap and uniform:

- :meth:`Model.outputs` accepts θ either as [P] (shared by the batch) or as [B, P] (one row per
  example). With tiled rows θ_i = θ, the gradient of Σ_i ℓ_i with respect to the [B, P] tensor
  is the matrix of per-example gradients ∇_θ ℓ_i (row i only depends on example i).
- the weights live in one ``tf.Variable`` of shape [P], which TF Privacy's optimizers can take
  as their ``var_list``.

Contract tests (tests/models/test_contract.py) hold every family to this.
"""

from __future__ import annotations

import abc
import contextlib
import contextvars
import functools
import math

import numpy as np
import tensorflow as tf

from privqml import validation
from privqml.models import losses as losses_mod


_INLINE: contextvars.ContextVar[bool] = contextvars.ContextVar("privqml_engine_inline", default=False)


@contextlib.contextmanager
def traced_inline():
    """While tracing a caller's own compiled function that differentiates the outputs itself
    (the fused DP step), engines put their raw row computation into that graph instead of calling
    their separately compiled functions: one forward and one backward pass, in one graph."""
    token = _INLINE.set(True)
    try:
        yield
    finally:
        _INLINE.reset(token)


def inline_requested() -> bool:
    """Whether :func:`traced_inline` is active (read by engines while a caller traces)."""
    return _INLINE.get()


class Model(abc.ABC):
    """Base class: subclasses implement :meth:`outputs` and set the attributes below.

    Attributes:
        name: a label for reports.
        family: ``"quantum"`` or ``"classical"``.
        n_features: length of x.
        n_outputs: number of outputs (1 for binary, K for K classes).
        scale: the fixed readout scale s (logit = s·f).
        output_ranges: (o_min, o_max) per output; f_c stays inside.
        input_domain: the public (lo, hi) of every feature.
        loss: the loss name (privqml.models.losses).
        clamp: probability clamp for ``bce_prob`` (else None).
        weights: the trainable ``tf.Variable`` [P] (float32).
        xla: whether the fast DP step compiles with XLA (class attribute; the classical models: their
            compile takes ~0.2 s per padded row count and the step runs ~30 % faster).
    """

    family = "abstract"
    xla = False

    def __init__(
        self,
        *,
        name: str,
        n_features: int,
        n_outputs: int,
        scale: float,
        output_ranges,
        input_domain,
        loss: str,
        initial_weights: np.ndarray,
        clamp: float | None = None,
    ) -> None:
        self.name = name
        self.n_features = int(n_features)
        self.n_outputs = int(n_outputs)
        self.scale = float(scale)
        self.output_ranges = tuple((float(lo), float(hi)) for lo, hi in output_ranges)
        self.input_domain = tuple((float(lo), float(hi)) for lo, hi in input_domain)
        self.loss = losses_mod.check_loss(loss, self.n_outputs)
        self.clamp = None if clamp is None else validation.in_interval(
            "clamp", clamp, 0.0, 0.5, hi_open=True,
            hint="the bce_prob probability clamp c keeps p in [c, 1 - c]; e.g. clamp=0.01")
        self.weights = tf.Variable(np.asarray(initial_weights, dtype=np.float32), name="weights")

    # -- what each model family defines -------------------------------------------------
    @abc.abstractmethod
    def outputs(self, weights: tf.Tensor, x: tf.Tensor) -> tf.Tensor:
        """f(x_i; θ_i) as [B, n_outputs]; ``weights`` is [P] or [B, P], ``x`` is [B, n_features]."""

    # -- derived -------------------------------------------------------------------------
    @property
    def n_weights(self) -> int:
        return int(self.weights.shape[0])

    def per_example_loss(self, weights: tf.Tensor, x: tf.Tensor, targets: tf.Tensor) -> tf.Tensor:
        """ℓ_i = loss(s·f(x_i; θ_i), y_i) as [B]; ``targets`` encoded by :func:`losses.encode_labels`."""
        return losses_mod.per_example_loss(
            self.loss, self.outputs(weights, x), targets, self.scale, self.output_ranges[0], self.clamp
        )

    def encode_labels(self, labels) -> np.ndarray:
        return losses_mod.encode_labels(self.loss, labels)

    @functools.cached_property
    def _outputs_fn(self):
        spec_x = tf.TensorSpec([None, self.n_features], tf.float32)
        return tf.function(lambda x: self.outputs(self.weights, x), input_signature=[spec_x])

    def predict_outputs(self, x, batch_size: int = 512) -> np.ndarray:
        """f(x; θ) with the current weights, as a float64 array [n, n_outputs]."""
        x = np.asarray(x, dtype=np.float32)
        chunks = [self._outputs_fn(x[i : i + batch_size]).numpy() for i in range(0, len(x), batch_size)]
        return np.concatenate(chunks, axis=0).astype(np.float64) if chunks else np.zeros((0, self.n_outputs))

    def predict(self, x, batch_size: int = 512) -> np.ndarray:
        """Integer class predictions of the current weights on ``x``, by the rule accuracy is measured with."""
        return losses_mod.predict_classes(self.loss, self.predict_outputs(x, batch_size), self.output_ranges[0])

    def evaluate(self, x, labels) -> tuple[float, float]:
        """(mean loss, accuracy) of the current weights on (x, integer labels)."""
        return self.evaluate_outputs(self.predict_outputs(x), labels)

    def evaluate_outputs(self, outputs: np.ndarray, labels) -> tuple[float, float]:
        """(mean loss, accuracy) of outputs f [n, n_outputs] (as :meth:`predict_outputs` gives) on labels."""
        labels = np.asarray(labels, dtype=np.int64)
        if len(labels) == 0:
            return math.nan, math.nan
        targets = self.encode_labels(labels)
        loss = losses_mod.per_example_loss(
            self.loss, tf.constant(outputs, tf.float32), tf.constant(targets), self.scale,
            self.output_ranges[0], self.clamp,
        )
        predicted = losses_mod.predict_classes(self.loss, outputs, self.output_ranges[0])
        return float(np.mean(loss.numpy())), float(np.mean(predicted == labels))

    def trace_key(self):
        """A hashable that fixes :meth:`outputs` as a function of (weights, x) — everything but the
        current weights — or None. Compiled per-example functions are shared between models with
        equal keys (replicates, the runs of a sweep); None shares nothing."""
        return None

    def _readout_key(self) -> tuple:
        return (type(self).__name__, self.n_features, self.n_outputs, self.n_weights, self.scale,
                self.output_ranges, self.loss, self.clamp)

    def loss_gradient_bound(self):
        """The theory's bound on ‖∇_θ ℓ‖₂ (a :class:`privqml.theory.LossGradientBound`), or None."""
        return None

    def describe(self) -> dict:
        return {
            "name": self.name,
            "family": self.family,
            "n_weights": self.n_weights,
            "n_features": self.n_features,
            "n_outputs": self.n_outputs,
            "readout_scale": self.scale,
            "output_ranges": [list(r) for r in self.output_ranges],
            "loss": self.loss,
        }


__all__ = ["Model"]
