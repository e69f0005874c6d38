r"""Classical baselines matched to a quantum model: same inputs, loss, readout and (at most) size.

Both baselines end in the quantum model's readout: a pre-activation u_c is squashed into the
observable's range and then scaled by the same fixed s,

    f_c = m_c + h_c · tanh(u_c),   m_c = (o_min,c + o_max,c)/2,  h_c = (o_max,c − o_min,c)/2,
    z_c = s · f_c,

so logits, loss and decision rule are exactly those of the quantum model (for Z0: f ∈ [−1, 1]).

``mlp``     u = W₂ tanh(W₁ x + b₁) + b₂ with hidden width H; P = H (F + 1 + C) + C weights
            (F features, C outputs). Keras-style Glorot-uniform init, zero biases.
``linear``  u = W φ(x) + b on M fixed random Fourier features φ_m(x) = √2 cos(ω_m·x + β_m),
            ω_m ~ N(0, I_F), β_m ~ U(0, 2π) (Rahimi & Recht, NeurIPS 2007; the classical surrogate
            of angle-encoded circuits, whose outputs are trigonometric polynomials of x —
            Landman et al., Quantum 7, 1198 (2023)). Only W, b are trained: P = C (M + 1).
            The features are drawn from the seed alone (public, data-independent).
``logistic`` u = W x + b on the inputs themselves: a generalised linear model whose decision rule
            sign(u) is a hyperplane (for two classes, logistic regression with the logit squashed into
            the quantum model's bounded readout range). Not size-matched: P = C (F + 1), whatever P_q
            is — the first model a DP practitioner tries, reported with its own weight count.

**Matching rule.** Given the quantum model's P_q weights, the baseline's width (H or M) is the
largest for which its count does not exceed P_q — the closest count from below — and at
least 1: H = max(1, ⌊(P_q − C)/(F + 1 + C)⌋), M = max(1, ⌊P_q / C⌋ − 1).
(For hea with 4 qubits, 2 layers, Z0: P_q = 16, H = 2 → P = 14; M = 15 → P = 16.)

Per-example weights [B, P] are supported as for the quantum models (einsum over the batch),
so the same tiled-weights path yields per-example gradients in one backward pass.
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from privqml import validation
from privqml.models.base import Model
from privqml.models.specs import CLASSICAL_FAMILIES



def matched_hidden_width(n_weights: int, n_features: int, n_outputs: int) -> int:
    """H = max(1, ⌊(P − C)/(F + 1 + C)⌋): the widest MLP with at most P weights."""
    return max(1, (n_weights - n_outputs) // (n_features + 1 + n_outputs))


def matched_feature_count(n_weights: int, n_outputs: int) -> int:
    """M = max(1, ⌊P / C⌋ − 1): the most random features with C (M + 1) ≤ P weights."""
    return max(1, n_weights // n_outputs - 1)


def _glorot(rng, fan_in: int, fan_out: int) -> np.ndarray:
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=(fan_in, fan_out))


def per_example(weights: tf.Tensor):
    """weights [P] → ([1, P], False); [B, P] → ([B, P], True)."""
    weights = tf.convert_to_tensor(weights, tf.float32)
    if weights.shape.rank == 1:
        return weights[tf.newaxis, :], False
    return weights, True


def affine(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, batched: bool) -> tf.Tensor:
    """x [B, a] with w [1|B, a, c], b [1|B, c] → [B, c] (one weight row per example when ``batched``)."""
    if batched:
        return tf.einsum("ba,bac->bc", x, w) + b
    return tf.matmul(x, w[0]) + b[0]


class _SquashedReadout(Model):
    """f_c = m_c + h_c tanh(u_c) (see the module docstring)."""

    family = "classical"
    xla = True  # the fast step compiles with XLA (privqml.models.privacy.fused): small graphs, fast compiles

    def _squash(self, u: tf.Tensor) -> tf.Tensor:
        lo = tf.constant([r[0] for r in self.output_ranges], tf.float32)
        hi = tf.constant([r[1] for r in self.output_ranges], tf.float32)
        return (lo + hi) / 2 + (hi - lo) / 2 * tf.tanh(u)

    def describe(self) -> dict:
        out = super().describe()
        out["matched_to"] = getattr(self, "matched_to", None)
        out["matched_n_weights"] = getattr(self, "matched_n_weights", None)
        return out



class MLPModel(_SquashedReadout):
    """One hidden tanh layer of width H (see the module docstring)."""

    def __init__(self, n_features, n_outputs, hidden, output_ranges, scale, input_domain, loss, seed=0, clamp=None):
        validation.integer("hidden", hidden, 1, hint="the width of the hidden layer")
        self.hidden = int(hidden)
        rng = np.random.default_rng([seed, 13])
        initial = np.concatenate([
            _glorot(rng, n_features, hidden).ravel(), np.zeros(hidden),
            _glorot(rng, hidden, n_outputs).ravel(), np.zeros(n_outputs),
        ])
        super().__init__(
            name=f"mlp(hidden={hidden})", n_features=n_features, n_outputs=n_outputs, scale=scale,
            output_ranges=output_ranges, input_domain=input_domain, loss=loss,
            initial_weights=initial, clamp=clamp,
        )

    def trace_key(self):
        return (self._readout_key(), self.hidden)

    def outputs(self, weights, x):
        x = tf.convert_to_tensor(x, tf.float32)
        w, batched = per_example(weights)
        f, h, c = self.n_features, self.hidden, self.n_outputs
        sizes = [f * h, h, h * c, c]
        w1, b1, w2, b2 = tf.split(w, sizes, axis=1)
        rows = tf.shape(w)[0]
        hidden = tf.tanh(affine(x, tf.reshape(w1, [rows, f, h]), b1, batched))
        u = affine(hidden, tf.reshape(w2, [rows, h, c]), b2, batched)
        return self._squash(u)


class LinearModel(_SquashedReadout):
    """A linear model on M fixed random Fourier features (see the module docstring)."""

    def __init__(self, n_features, n_outputs, n_random_features, output_ranges, scale, input_domain, loss, seed=0, clamp=None):
        validation.integer("n_random_features", n_random_features, 1, hint="the number of random Fourier features")
        self.n_random_features = int(n_random_features)
        self.feature_seed = int(seed)
        feature_rng = np.random.default_rng([seed, 17])
        self.frequencies = tf.constant(feature_rng.normal(size=(n_features, n_random_features)), tf.float32)
        self.phases = tf.constant(feature_rng.uniform(0, 2 * math.pi, n_random_features), tf.float32)
        rng = np.random.default_rng([seed, 19])
        initial = np.concatenate([_glorot(rng, n_random_features, n_outputs).ravel(), np.zeros(n_outputs)])
        super().__init__(
            name=f"linear(random_features={n_random_features})", n_features=n_features,
            n_outputs=n_outputs, scale=scale, output_ranges=output_ranges, input_domain=input_domain,
            loss=loss, initial_weights=initial, clamp=clamp,
        )

    def trace_key(self):  # the random features are constants of the trace, fixed by the seed
        return (self._readout_key(), self.n_random_features, self.feature_seed)

    def features(self, x):
        x = tf.convert_to_tensor(x, tf.float32)
        return math.sqrt(2.0) * tf.cos(tf.matmul(x, self.frequencies) + self.phases)

    def outputs(self, weights, x):
        w, batched = per_example(weights)
        m, c = self.n_random_features, self.n_outputs
        wm, b = tf.split(w, [m * c, c], axis=1)
        u = affine(self.features(x), tf.reshape(wm, [tf.shape(w)[0], m, c]), b, batched)
        return self._squash(u)


class LogisticModel(_SquashedReadout):
    """u = W x + b on the inputs, through the quantum model's readout (see the module docstring)."""

    def __init__(self, n_features, n_outputs, output_ranges, scale, input_domain, loss, seed=0, clamp=None):
        rng = np.random.default_rng([seed, 23])
        initial = np.concatenate([_glorot(rng, n_features, n_outputs).ravel(), np.zeros(n_outputs)])
        super().__init__(
            name="logistic", n_features=n_features, n_outputs=n_outputs, scale=scale,
            output_ranges=output_ranges, input_domain=input_domain, loss=loss, initial_weights=initial, clamp=clamp,
        )

    def trace_key(self):
        return self._readout_key()

    def outputs(self, weights, x):
        x = tf.convert_to_tensor(x, tf.float32)
        w, batched = per_example(weights)
        f, c = self.n_features, self.n_outputs
        wm, b = tf.split(w, [f * c, c], axis=1)
        return self._squash(affine(x, tf.reshape(wm, [tf.shape(w)[0], f, c]), b, batched))


def matched_classical(family: str, reference: Model, seed: int = 0) -> Model:
    """A classical ``family`` model matched to ``reference`` by the rule in the module docstring."""
    validation.choice("classical family", family, CLASSICAL_FAMILIES)
    common = dict(
        n_features=reference.n_features, n_outputs=reference.n_outputs,
        output_ranges=reference.output_ranges, scale=reference.scale,
        input_domain=reference.input_domain, loss=reference.loss, seed=seed, clamp=reference.clamp,
    )
    if family == "mlp":
        hidden = matched_hidden_width(reference.n_weights, reference.n_features, reference.n_outputs)
        model = MLPModel(hidden=hidden, **common)
    elif family == "linear":
        m = matched_feature_count(reference.n_weights, reference.n_outputs)
        model = LinearModel(n_random_features=m, **common)
    elif family == "logistic":
        model = LogisticModel(**common)
    model.matched_to = reference.name
    model.matched_n_weights = reference.n_weights
    return model


__all__ = [
    "CLASSICAL_FAMILIES",
    "LinearModel",
    "LogisticModel",
    "MLPModel",
    "matched_classical",
    "matched_feature_count",
    "matched_hidden_width",
]
