r"""SGD and Adam on the released gradients of R runs at once (post-processing of DP releases).

The update of run r uses its own released gradient g̃_r and its own state only, elementwise in
float32 (IEEE-rounded NumPy operations), so R runs stepped together give exactly the weights each
would reach alone — the property replicate training rests on (tests/models/training/test_replicas.py).

Adam is Kingma & Ba's, in the form of TensorFlow's ``ApplyAdam`` kernel (what Keras' Adam runs):

    t ← t + 1,   α_t = α √(1 − β₂ᵗ) / (1 − β₁ᵗ),
    m ← m + (1 − β₁)(g − m),   v ← v + (1 − β₂)(g² − v),   θ ← θ − α_t m / (√v + ε̂),

with β₁ = 0.9, β₂ = 0.999, ε̂ = 10⁻⁷ (Keras' defaults). SGD is θ ← θ − α g.

:class:`StackedOptimizer` also answers Keras' ``apply_gradients([(g, variable)])``, ``get_weights``
and ``set_weights`` for a single run, so replay code that steps one ``tf.Variable`` keeps working.
"""

from __future__ import annotations

import numpy as np

from privqml import validation

KINDS = ("adam", "sgd")
BETA_1, BETA_2, EPSILON = 0.9, 0.999, 1e-7
STATE_FORMAT = "privqml-optimizer-1"


class StackedOptimizer:
    """SGD or Adam for ``n_runs`` weight vectors of length ``n_weights`` (module docstring); ``lr`` is
    one learning rate for every run or one per run."""

    def __init__(self, kind: str, lr, n_runs: int = 1, n_weights: int | None = None) -> None:
        self.kind = validation.choice("optimizer", kind, KINDS)
        self.n_runs = int(n_runs)
        self.lr = np.broadcast_to(np.asarray(lr, np.float32), (self.n_runs,)).copy()
        self.t = np.zeros(self.n_runs, np.int64)
        self.m = self.v = None
        if n_weights is not None:
            self._init_state(int(n_weights))

    def _init_state(self, n_weights: int) -> None:
        self.m = np.zeros((self.n_runs, n_weights), np.float32)
        self.v = np.zeros((self.n_runs, n_weights), np.float32)

    def step(self, weights: np.ndarray, grads: np.ndarray, runs=None) -> np.ndarray:
        """The new weights [R', P] of the runs ``runs`` (indices; default all) from their weights and
        released gradients [R', P]; their states advance by one step."""
        weights = np.asarray(weights, np.float32)
        grads = np.asarray(grads, np.float32)
        runs = np.arange(self.n_runs) if runs is None else np.asarray(runs, np.int64)
        if self.m is None:
            self._init_state(weights.shape[1])
        lr = self.lr[runs][:, np.newaxis]
        self.t[runs] += 1
        if self.kind == "sgd":
            return weights - lr * grads
        t = self.t[runs].astype(np.float64)
        # α_t in float32 from float32 powers, as the kernel computes it
        b1t = np.power(np.float32(BETA_1), t.astype(np.float32))
        b2t = np.power(np.float32(BETA_2), t.astype(np.float32))
        alpha = (lr * (np.sqrt(np.float32(1) - b2t) / (np.float32(1) - b1t))[:, np.newaxis]).astype(np.float32)
        m = self.m[runs]
        v = self.v[runs]
        m = m + (np.float32(1 - BETA_1)) * (grads - m)
        v = v + (np.float32(1 - BETA_2)) * (grads * grads - v)
        self.m[runs], self.v[runs] = m, v
        return (weights - alpha * m / (np.sqrt(v) + np.float32(EPSILON))).astype(np.float32)

    # -- state ---------------------------------------------------------------------------------------
    def state(self, run: int = 0) -> dict:
        """Run ``run``'s state as JSON-ready lists (for a checkpoint)."""
        out = {"format": STATE_FORMAT, "kind": self.kind, "t": int(self.t[run])}
        if self.m is not None:
            out.update(m=self.m[run].tolist(), v=self.v[run].tolist())
        return out

    def restore(self, saved: dict, run: int = 0) -> None:
        """Restore run ``run`` from :meth:`state` (refuses another optimizer's state)."""
        if saved.get("format") != STATE_FORMAT or saved.get("kind") != self.kind:
            raise ValueError(f"optimizer state {saved.get('format')}/{saved.get('kind')} is not {STATE_FORMAT}/{self.kind}")
        self.t[run] = int(saved["t"])
        if "m" in saved:
            if self.m is None:
                self._init_state(len(saved["m"]))
            self.m[run] = np.asarray(saved["m"], np.float32)
            self.v[run] = np.asarray(saved["v"], np.float32)

    # -- Keras-shaped single-run interface (replays step one tf.Variable) ------------------------------
    def apply_gradients(self, grads_and_vars) -> None:
        """Keras-style: step the single run's variable with its gradient (n_runs must be 1)."""
        (grad, variable), = list(grads_and_vars)
        new = self.step(np.asarray(variable.numpy())[None], np.asarray(grad)[None])
        variable.assign(new[0])

    def get_weights(self) -> list:
        return [self.state(0)]

    def set_weights(self, weights: list) -> None:
        self.restore(weights[0], 0)


def optimizer_for(config, n_runs: int = 1) -> StackedOptimizer:
    """The optimizer of a :class:`~privqml.models.training.records.TrainConfig` (or of a list of configs
    sharing the optimizer, one run each, each at its own learning rate) for ``n_runs`` runs."""
    if isinstance(config, (list, tuple)):
        kinds = {c.optimizer for c in config}
        if len(kinds) != 1:
            raise ValueError(f"runs stepped together need one optimizer; got {sorted(kinds)}")
        return StackedOptimizer(kinds.pop(), [c.lr for c in config], len(config))
    return StackedOptimizer(config.optimizer, config.lr, n_runs)


__all__ = ["KINDS", "STATE_FORMAT", "StackedOptimizer", "optimizer_for"]
