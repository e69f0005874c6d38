"""How tight is a bound? A numerical estimate of the TRUE maximum per-example gradient norm.

For small circuits we maximise, over the weights θ (free), the inputs x (inside the declared
public domain) and — for a loss — the label y,

    G*(f_c) = sup_{θ, x} ‖∇_θ f_c(x; θ)‖₂    or    G*(ℓ) = sup_{θ, x, y} ‖∇_θ ℓ(s·f(x; θ), y)‖₂,

by multi-start L-BFGS-B (scipy.optimize) on g = ‖G‖², G = Σ_c a_c ∇_θ f_c, where a = ∂ℓ/∂f
(a = e_c without a loss). Values and Jacobians come from :mod:`privqml.theory.exact.numeric` (exact
adjoint gradients). The gradient of the objective needs a Hessian-vector product:

    ∇_z g = 2 [ J_zᵀ (∂a/∂f)ᵀ (J_θ G) + Σ_c a_c H_c (G, 0) ],   z = (θ, x),

where the last term is the directional derivative of J_zᵀa along u = (G, 0), taken as a central
difference of the exact Jacobian with step h‖u‖ = 1e-4 (error O(h²), about 1e-8 relative): three
simulations, batched, per evaluation.

The result is a local optimum, hence a *lower* estimate of the true supremum (a valid bound is
always ≥ it); the ratio bound / estimate says how much DP noise a loose bound costs.

Losses (Keras conventions, as in :mod:`privqml.theory.loss`; logits z = s·f with the readout's
fixed scale s):
``bce_logits`` y ∈ {0,1}, ∂ℓ/∂z = σ(z) − y; ``mse`` y ∈ {−1,+1}, 2(z − y); ``hinge`` y ∈ {−1,+1},
−y·1[yz < 1] — for every f the label y = −sign(z) is active, so G*(hinge) = s·G*(f), computed
that way; ``softmax_ce`` integer y over the observables, s(p − e_y) with p = softmax(z); ``bce_prob``
(``clamp`` c) y ∈ {0,1}, p = (f − o_min)/(o_max − o_min): (−y/p + (1−y)/(1−p))/(o_max − o_min) for
c < p < 1 − c and 0 where the clamp holds p (the loss is constant there).
Starts cycle through the labels (start i uses label i mod L) and every local optimum is
re-scored with all labels.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Callable, Optional, Union

import numpy as np
import scipy.optimize

from privqml.errors import ConfigError
from privqml.theory.ansatz import Ansatz
from privqml.theory.exact.numeric import NumericProgram, compile_numeric, evaluate
from privqml.theory.observable_range import observable_range

LOSSES = ("bce_logits", "mse", "hinge", "bce_prob", "softmax_ce")
_LABELS = {"bce_logits": (0, 1), "mse": (-1, 1), "hinge": (None,), "bce_prob": (0, 1), None: (None,)}
_HVP_STEP = 1e-4


@dataclasses.dataclass(frozen=True)
class TightnessResult:
    """The largest per-example gradient norm found by multi-start local optimisation.

    Attributes:
        true_max_estimate: max over the starts of ‖∇_θ f_c‖₂ (``loss`` None) or ‖∇_θ ℓ‖₂, in
            units of the output (or loss) per unit of the weights. A lower estimate of the
            true supremum over θ, x ∈ domain (and y).
        argmax_weights, argmax_inputs: where it was found (weights not reduced mod a period).
        argmax_label: the label there (None without a loss; for hinge, the active −sign(z)).
        observable: the observable index c (None for softmax_ce, which uses all of them).
        loss: the loss name, or None for the model output.
        n_starts: number of random starts.
        start_maxima: the local maximum reached from each start, in start order.
        n_evaluations: objective evaluations (each three batched simulations).
        method: how it was found.
    """

    true_max_estimate: float
    argmax_weights: tuple[float, ...]
    argmax_inputs: tuple[float, ...]
    argmax_label: Optional[int]
    observable: Optional[int]
    loss: Optional[str]
    n_starts: int
    start_maxima: tuple[float, ...]
    n_evaluations: int
    method: str

    def ratio(self, bound: float) -> float:
        """bound / true_max_estimate (≥ 1 for a valid bound; inf when the estimate is 0)."""
        return math.inf if self.true_max_estimate == 0 else float(bound) / self.true_max_estimate

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


class _Objective:
    """g(z) = ‖Σ_c a_c ∇_θ f_c‖² and its gradient; ``__call__`` returns (−g, −∇g) for minimisation."""

    def __init__(self, program: NumericProgram, loss: Optional[str], observable: int, scale: float,
                 clamp: Optional[float] = None, output_range: tuple[float, float] = (-1.0, 1.0)) -> None:
        self.program, self.loss, self.observable, self.scale = program, loss, observable, scale
        self.clamp, self.output_range = clamp, output_range
        self.n_weights = program.ansatz.n_weights
        self.label: Optional[int] = None
        self.n_evaluations = 0

    def loss_terms(self, f: np.ndarray, label: Optional[int]) -> tuple[np.ndarray, np.ndarray]:
        """a = ∂ℓ/∂f [n_obs] and ∂a/∂f [n_obs, n_obs] at outputs f [n_obs]."""
        n_obs, s, c = f.shape[0], self.scale, self.observable
        a, da = np.zeros(n_obs), np.zeros((n_obs, n_obs))
        if self.loss is None:
            a[c] = 1.0
        elif self.loss == "hinge":
            a[c] = s
        elif self.loss == "bce_logits":
            sigma = 1.0 / (1.0 + math.exp(-s * f[c]))
            a[c], da[c, c] = s * (sigma - label), s * s * sigma * (1.0 - sigma)
        elif self.loss == "mse":
            a[c], da[c, c] = 2.0 * s * (s * f[c] - label), 2.0 * s * s
        elif self.loss == "bce_prob":  # p = (f − o_min)/w clamped to [c, 1 − c]: constant (gradient 0) outside
            lo, hi = self.output_range
            width = hi - lo
            p = (f[c] - lo) / width
            if self.clamp < p < 1.0 - self.clamp:
                a[c] = (-label / p + (1 - label) / (1.0 - p)) / width
                da[c, c] = (label / p**2 + (1 - label) / (1.0 - p) ** 2) / width**2
        else:  # softmax_ce
            z = s * f
            p = np.exp(z - z.max())
            p /= p.sum()
            a = s * (p - np.eye(n_obs)[label])
            da = s * s * (np.diag(p) - np.outer(p, p))
        return a, da

    def value(self, z: np.ndarray, label: Optional[int]) -> float:
        f, jac = evaluate(self.program, z[None, :], "weights")
        a, _ = self.loss_terms(f[0], label)
        return float(np.sum((a @ jac[0]) ** 2))

    def __call__(self, z: np.ndarray) -> tuple[float, np.ndarray]:
        self.n_evaluations += 1
        f, jac = evaluate(self.program, z[None, :], "all")
        a, da = self.loss_terms(f[0], self.label)
        jac_theta = jac[0][:, : self.n_weights]
        g_vec = a @ jac_theta  # G = J_θᵀ a
        g = float(g_vec @ g_vec)
        norm = math.sqrt(g)
        if norm == 0.0:
            return -g, np.zeros_like(z)
        h = _HVP_STEP / norm
        u = np.concatenate([g_vec, np.zeros(z.size - self.n_weights)])
        _, shifted = evaluate(self.program, np.stack([z + h * u, z - h * u]), "all")
        hvp = (a @ shifted[0] - a @ shifted[1]) / (2.0 * h)
        grad = 2.0 * (jac[0].T @ (da.T @ (jac_theta @ g_vec)) + hvp)
        return -g, -grad


def _labels(loss: Optional[str], n_obs: int) -> tuple:
    return tuple(range(n_obs)) if loss == "softmax_ce" else _LABELS[loss]


def _validate(ansatz: Ansatz, observable: int, n_starts: int, loss: Optional[str], clamp: Optional[float]) -> None:
    if loss == "bce_prob" and not (clamp is not None and 0.0 < clamp < 0.5):
        raise ConfigError(f"loss='bce_prob' needs a probability clamp c in (0, 1/2), got clamp={clamp!r}: without it "
                          "the loss gradient is unbounded (see privqml.theory.loss_gradient_bound)")
    if loss is not None and loss not in LOSSES:
        raise ConfigError(
            f"loss={loss!r} is not supported here; choose one of {LOSSES} or None"
        )
    if loss is not None and ansatz.readout.trainable_scale:
        raise ConfigError(
            "the readout scale is trainable: the loss gradient has no finite maximum (it grows "
            "with the scale); fix the scale (Readout(scale=..., trainable_scale=False))"
        )
    if loss == "softmax_ce" and ansatz.n_outputs < 2:
        raise ConfigError(f"loss='softmax_ce' needs >= 2 observables; ansatz {ansatz.name!r} has {ansatz.n_outputs}")
    if loss != "softmax_ce" and not (isinstance(observable, int) and 0 <= observable < ansatz.n_outputs):
        raise ConfigError(f"observable={observable!r} must be an index in [0, {ansatz.n_outputs})")
    if not (isinstance(n_starts, int) and n_starts >= 1):
        raise ConfigError(f"n_starts={n_starts!r} must be an integer >= 1")


def max_gradient_norm(
    ansatz: Ansatz,
    observable: int = 0,
    n_starts: int = 8,
    seed: Union[int, np.random.Generator] = 0,
    loss: Optional[str] = None,
    maxiter: int = 500,
    progress: Optional[Callable[[int, int], None]] = None,
    clamp: Optional[float] = None,
) -> TightnessResult:
    """Estimate sup ‖∇_θ f_c‖₂ (or sup ‖∇_θ ℓ‖₂ with ``loss``) by multi-start L-BFGS-B; ``progress(done, total)``
    is called after every start.

    Starts: weights uniform in [−π, π], inputs uniform over the declared domain, drawn from one
    NumPy Generator (``seed`` is an int or a Generator). Inputs stay inside the domain (bounds);
    weights are free.
    """
    _validate(ansatz, observable, n_starts, loss, clamp)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    program = compile_numeric(ansatz)
    lo, hi, _ = observable_range(ansatz.observables[observable if loss != "softmax_ce" else 0])
    objective = _Objective(program, loss, observable, float(ansatz.readout.scale), clamp, (lo, hi))
    labels = _labels(loss, ansatz.n_outputs)
    lows = np.array([lo for lo, _ in ansatz.input_domain])
    highs = np.array([hi for _, hi in ansatz.input_domain])
    bounds = [(None, None)] * ansatz.n_weights + list(zip(lows, highs))
    best = (-1.0, None, None)
    start_maxima = []
    for start in range(n_starts):
        z0 = np.concatenate([rng.uniform(-math.pi, math.pi, ansatz.n_weights), rng.uniform(lows, highs)])
        objective.label = labels[start % len(labels)]
        result = scipy.optimize.minimize(
            objective, z0, jac=True, method="L-BFGS-B", bounds=bounds,
            options={"maxiter": maxiter, "ftol": 1e-15, "gtol": 1e-10},
        )
        z = np.clip(result.x, [-np.inf] * ansatz.n_weights + list(lows), [np.inf] * ansatz.n_weights + list(highs))
        scored = max((objective.value(z, y), i) for i, y in enumerate(labels))
        start_maxima.append(math.sqrt(scored[0]))
        if scored[0] > best[0]:
            best = (scored[0], z, labels[scored[1]])
        if progress is not None:
            progress(start + 1, n_starts)
    value, z, label = best
    weights, inputs = z[: ansatz.n_weights], z[ansatz.n_weights :]
    if loss == "hinge":
        f = evaluate(program, z[None, :], None)[0][0, observable]
        label = -1 if f > 0 else 1
    return TightnessResult(
        true_max_estimate=math.sqrt(value),
        argmax_weights=tuple(float(v) for v in weights),
        argmax_inputs=tuple(float(v) for v in inputs),
        argmax_label=label,
        observable=None if loss == "softmax_ce" else observable,
        loss=loss,
        n_starts=n_starts,
        start_maxima=tuple(start_maxima),
        n_evaluations=objective.n_evaluations,
        method="multi-start L-BFGS-B on ||grad||^2, exact adjoint Jacobians (privqml.theory.exact.numeric), "
        "Hessian-vector products by central differences of the Jacobian",
    )


__all__ = ["LOSSES", "TightnessResult", "max_gradient_norm"]
