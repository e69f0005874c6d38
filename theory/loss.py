r"""Bounds on the per-example loss gradient ‖∇_θ ℓ(f(x; θ), y)‖₂.

Binary models have one observable f ∈ [o_min, o_max] and logit z = s·f with a *fixed* readout
scale s > 0; by the chain rule ‖∇_θ ℓ‖ ≤ s · sup|∂ℓ/∂z| · G with G the bound on ‖∇_θ f‖
(:func:`privqml.theory.bounds.gradient_bound`) and the sup over z ∈ [s·o_min, s·o_max] and the
labels:

=============  ============================  ======================================
loss           ℓ(z, y)                        sup |∂ℓ/∂z|
=============  ============================  ======================================
``bce_logits`` softplus(z) − y z, y ∈ {0,1}   max(σ(s·o_max), 1 − σ(s·o_min))
``mse``        (z − y)², y ∈ {−1,+1}          2·max(|s·o_max + 1|, |s·o_min − 1|)
``hinge``      max(0, 1 − y z), y ∈ {−1,+1}   1 (subgradient)
``bce_prob``   −y log p − (1−y) log(1−p)      1/(c (o_max − o_min)) per unit f, with
               with p = (f − o_min)/(o_max − o_min) clamped to [c, 1 − c]; unbounded without c
=============  ============================  ======================================

Multi-class (``softmax_ce``, one observable per class, logits z_c = s·f_c, integer labels):
∇_θ ℓ = s Σ_c (p_c − 1[c=y]) ∇f_c, and with p_min = min_y inf p_y over the logit box,

    ‖∇_θ ℓ‖ ≤ s (1 − p_min) (G_(1) + G_(2))         (the two largest G_c)
    ‖∇_θ ℓ‖ ≤ s √2 (1 − p_min) (Σ_c G_c²)^{1/2}     (via the Jacobian: ‖J‖_op ≤ ‖J‖_F)

and the smaller is reported. A *trainable* readout scale makes every one of these unbounded
(the gradient grows with the scale): the result then says so and gives no number.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from privqml import jsonio
from privqml.errors import ConfigError
from privqml.theory.ansatz import Ansatz
from privqml.theory.bounds import GradientBound, gradient_bound
from privqml.theory.refinements.coupling import coupled_loss_bound, coupled_softmax_bound

BINARY_LOSSES = ("bce_logits", "mse", "hinge", "bce_prob")
MULTICLASS_LOSSES = ("softmax_ce",)
LOSSES = BINARY_LOSSES + MULTICLASS_LOSSES


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


@dataclasses.dataclass(frozen=True)
class LossGradientBound:
    """A bound on the per-example loss gradient norm ‖∇_θ ℓ‖₂ (per unit of the weights).

    Attributes:
        loss: the loss name (see the module table).
        readout_scale: s, the fixed logit scale.
        grad_norm_bound: G = max_c bound on ‖∇_θ f_c‖₂ of the model outputs.
        dloss_dlogit_sup: sup over outputs and labels of |∂ℓ/∂z| (binary) or ‖p − y‖₁
            (softmax), or ``inf``.
        value: the bound on ‖∇_θ ℓ‖₂ (finite), or ``None`` when no finite bound exists.
        unbounded_reason: why ``value`` is ``None`` (``None`` exactly when ``value`` is a number);
            an unbounded model gradient gives "the model gradient is unbounded: " followed by
            the model bound's own reason.
        formula: the inequality used, in words.
        model_bound: the underlying :class:`GradientBound`.
        uncoupled_value: the product bound s · sup|∂ℓ/∂z| · G; ``value`` is smaller when the
            coupled form (:mod:`privqml.theory.refinements.coupling`) applies.
    """

    loss: str
    readout_scale: float
    grad_norm_bound: float
    dloss_dlogit_sup: float
    value: float | None
    unbounded_reason: str | None
    formula: str
    model_bound: GradientBound = dataclasses.field(repr=False, compare=False)
    uncoupled_value: float | None = None

    def __post_init__(self) -> None:
        assert (self.value is None) == (self.unbounded_reason is not None), "value xor reason"
        assert self.value is None or math.isfinite(self.value), f"non-finite loss bound {self.value}"

    @property
    def bounded(self) -> bool:
        return self.value is not None

    def as_dict(self) -> dict:
        """The record as a dict of Python values (an infinite supremum stays ``inf``; ``value`` is
        ``None`` when there is no bound)."""
        return {
            "loss": self.loss,
            "loss_bounded": self.bounded,
            "readout_scale": self.readout_scale,
            "loss_dloss_dlogit_sup": self.dloss_dlogit_sup,
            "loss_grad_norm_bound": self.value,
            "loss_unbounded_reason": self.unbounded_reason,
            "loss_formula": self.formula,
            "loss_grad_norm_bound_uncoupled": self.uncoupled_value,
        }

    def to_json(self) -> dict:
        """:meth:`as_dict` in privqml's JSON convention (:mod:`privqml.jsonio`: ``inf`` as "inf")."""
        return jsonio.to_jsonable(self.as_dict())


def _unbounded(loss, scale, bound, reason) -> LossGradientBound:
    return LossGradientBound(loss, scale, bound.grad_norm_bound, math.inf, None, reason, "none: unbounded", bound)


def loss_gradient_bound(
    ansatz: Ansatz,
    loss: str,
    *,
    clamp: float | None = None,
    bound: GradientBound | None = None,
    sampled: bool = False,
) -> LossGradientBound:
    """Bound ‖∇_θ ℓ(f(x; θ), y)‖₂ over the public input domain, all weights and all labels.

    Args:
        ansatz: the model's ansatz; its readout gives the scale s.
        loss: one of ``LOSSES``.
        clamp: for ``bce_prob`` only, the probability clamp c ∈ (0, 1/2).
        bound: a precomputed :func:`gradient_bound` of ``ansatz`` (computed if omitted).
        sampled: bound single finite-shot / trajectory estimates (see ``gradient_bound``).

    Raises:
        ConfigError: unknown loss, a binary loss with several observables, softmax with one,
            or a clamp outside (0, 1/2).
    """
    _check_arguments(ansatz, loss, clamp)
    bound = bound if bound is not None else gradient_bound(ansatz, sampled=sampled)
    scale = float(ansatz.readout.scale)
    if ansatz.readout.trainable_scale:
        return _unbounded(
            loss, scale, bound,
            "the readout scale is trainable: ∂ℓ/∂θ = s·(∂ℓ/∂z)·∇f grows without limit with the "
            "scale s, so no clipping threshold can be derived; fix the scale",
        )
    if not bound.bounded:
        return _unbounded(loss, scale, bound, f"the model gradient is unbounded: {bound.unbounded_reason}")
    terms = _softmax_terms(bound, scale) if loss == "softmax_ce" else _binary_terms(loss, bound, scale, clamp)
    if isinstance(terms, str):
        return _unbounded(loss, scale, bound, terms)
    sup, formula, value = terms
    if loss in BINARY_LOSSES:
        coupled = coupled_loss_bound(loss, scale, *bound.observable_ranges[0], clamp, bound.coupled_bound(0))
        how = "G_c · max_(f,y) |∂ℓ/∂f| √(1 − ((f − c)/h)²) (coupled: Bernstein–Szegő)"
    else:
        coupled = coupled_softmax_bound(scale, bound.observable_ranges, bound.per_observable,
                                        [bound.coupled_bound(c) for c in range(len(bound.per_observable))])
        how = ("s · max_(f,y) Σ_c |p_c − 1[c=y]| · min(G_c, G̃_c √(1 − ((f_c − m_c)/h_c)²)) "
               "(coupled per class, branch and bound)")
    if coupled is not None and coupled < value:
        formula = f"{how}, below the product bound {formula} = {value:.6g}"
        return LossGradientBound(loss, scale, bound.grad_norm_bound, float(sup), float(coupled), None, formula, bound,
                                 uncoupled_value=float(value))
    return LossGradientBound(loss, scale, bound.grad_norm_bound, float(sup), float(value), None, formula, bound,
                             uncoupled_value=float(value))


def _check_arguments(ansatz: Ansatz, loss: str, clamp: float | None) -> None:
    """Raise :class:`ConfigError` for a loss the ansatz's readout does not fit, or a bad clamp."""
    if loss not in LOSSES:
        raise ConfigError(f"loss={loss!r} is not known; choose one of {list(LOSSES)}")
    if loss in BINARY_LOSSES and ansatz.n_outputs != 1:
        raise ConfigError(
            f"loss={loss!r} is binary but the ansatz has {ansatz.n_outputs} observables; "
            "use softmax_ce for multi-class readout or give one observable"
        )
    if loss in MULTICLASS_LOSSES and ansatz.n_outputs < 2:
        raise ConfigError(
            f"loss={loss!r} needs one observable per class (>= 2); the ansatz has one. "
            "Use observable='classes:K' or a binary loss"
        )
    if clamp is not None and not (0.0 < clamp < 0.5):
        raise ConfigError(f"clamp={clamp!r} must lie in (0, 0.5); e.g. 1e-3")


def _binary_terms(loss: str, bound: GradientBound, scale: float, clamp: float | None) -> tuple[float, str, float] | str:
    """(sup |∂ℓ/∂z|, formula, bound on ‖∇_θ ℓ‖) of a binary loss (see the module table), or why
    there is no finite bound."""
    g = bound.grad_norm_bound
    lo, hi = bound.observable_ranges[0]
    if loss == "bce_logits":
        sup = max(_sigmoid(scale * hi), 1.0 - _sigmoid(scale * lo))
        return sup, "s · max(σ(s·o_max), 1 − σ(s·o_min)) · G", scale * sup * g
    if loss == "mse":
        sup = 2.0 * max(abs(scale * hi + 1.0), abs(scale * lo - 1.0), abs(scale * hi - 1.0), abs(scale * lo + 1.0))
        return sup, "s · 2·max|s·f − y| · G, y ∈ {−1, +1}", scale * sup * g
    if loss == "hinge":
        return 1.0, "s · 1 · G (hinge subgradient, |y| = 1)", scale * g
    # bce_prob
    if clamp is None:
        return ("BCE on p = (f − o_min)/(o_max − o_min) has |∂ℓ/∂p| = 1/p or 1/(1 − p), unbounded as p "
                "reaches 0 or 1 (which the circuit can attain); clamp p to [c, 1 − c] or use bce_logits")
    width = hi - lo
    if width <= 0:
        return "the observable is constant: p is undefined"
    return 1.0 / clamp, "(1/c) · G / (o_max − o_min)", g / (clamp * width)


def _softmax_terms(bound: GradientBound, scale: float) -> tuple[float, str, float]:
    """(sup ‖p − e_y‖₁, formula, bound on ‖∇_θ ℓ‖) of softmax cross-entropy (see the module docstring)."""
    ranges = bound.observable_ranges
    worst = 1.0
    for y, (lo_y, _) in enumerate(ranges):
        others = sum(math.exp(scale * (ranges[c][1] - lo_y)) for c in range(len(ranges)) if c != y)
        worst = min(worst, 1.0 / (1.0 + others))
    per_class = sorted(bound.per_observable, reverse=True)
    via_two = scale * (1.0 - worst) * (per_class[0] + per_class[1])
    via_jacobian = scale * math.sqrt(2.0) * (1.0 - worst) * float(np.linalg.norm(per_class))
    return 2.0 * (1.0 - worst), "s·(1 − p_min)·min(G_(1) + G_(2), √2‖G‖₂)", min(via_two, via_jacobian)


__all__ = ["LOSSES", "BINARY_LOSSES", "MULTICLASS_LOSSES", "LossGradientBound", "loss_gradient_bound"]
