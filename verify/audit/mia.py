"""Membership inference on trained models: threshold and logistic-regression attacks.

The attacker sees, for each candidate example, what a trained model reveals about it (its loss,
logits or probabilities) and guesses whether it was in the training set (member) or not.
Reported, as in TF Privacy's membership-inference code (Song & Mittal, USENIX Security 2021;
Shokri et al., IEEE S&P 2017; Yeom et al., CSF 2018):

* **AUC** of the ROC curve, members positive (0.5 = no better than a coin);
* **attacker advantage** max_t |TPR(t) − FPR(t)| over the thresholds t of the ROC curve
  (Yeom et al.'s membership advantage, maximised over the decision threshold).

Attacks:

* ``threshold``: score = −loss (members tend to have lower loss); no training.
* ``logistic_regression``: a standardised logistic regression on per-example features,
  scored out of fold (stratified k-fold: every example is scored by a model that did not see
  it), so its AUC is not inflated by fitting the attack on the examples it scores.

Under (ε, δ)-DP every test has TPR ≤ e^ε·FPR + δ and 1 − FPR ≤ e^ε(1 − TPR) + δ, so the
advantage of *any* attack (at base rate 1/2) is at most (e^ε − 1 + 2δ)/(e^ε + 1)
(Kairouz, Oh & Viswanath, ICML 2015, Thm. 2.1 in hypothesis-testing form):
:func:`advantage_bound`.

Why not TF Privacy's own code? Measured on this stack (Python 3.11, TF 2.15.0, TFQ 0.7.3,
TF Privacy 0.9.0, scikit-learn 1.9.1), in a throwaway virtual environment: the separate
package ``tensorflow-empirical-privacy`` 0.1.0 installs (its resolver adds tf-models-official
2.15.0, tensorflow-text 2.15.0, pandas 1.5.3, statsmodels 0.14.0, about 150 packages, 2.9 GB),
but ``membership_inference_attack`` fails to import: ``ImportError: cannot import name
'parallel_backend' from 'sklearn.utils'`` (removed from scikit-learn after 1.6; with
scikit-learn 1.6.1 it imports and runs). Using it would mean downgrading the pinned
scikit-learn and pulling that whole tree for a few hundred lines of statistics, so privqml
computes the same statistics with scikit-learn; the tests hold the threshold attack against the
numbers TF Privacy's code printed in that environment.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import tensorflow as tf
from sklearn import metrics
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from privqml import jsonio, validation
from privqml.errors import DataError
from privqml.models.training.records import TrainConfig
from privqml.models.training.setup import run_setup
from privqml.models.training.trainer import train


@dataclasses.dataclass(frozen=True)
class MembershipInferenceResult:
    """One attack's outcome.

    Attributes:
        attack: ``threshold`` or ``logistic_regression``.
        auc: area under the ROC curve, members positive (dimensionless, 0.5 = chance).
        attacker_advantage: max over thresholds of |TPR − FPR| (0 = chance, 1 = perfect).
        n_members, n_nonmembers: how many examples of each kind were scored.
    """

    attack: str
    auc: float
    attacker_advantage: float
    n_members: int
    n_nonmembers: int

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def _roc_statistics(labels: np.ndarray, scores: np.ndarray) -> tuple[float, float]:
    fpr, tpr, _ = metrics.roc_curve(labels, scores)
    return float(metrics.auc(fpr, tpr)), float(np.max(np.abs(tpr - fpr)))


def _as_array(name: str, values, ndim: int) -> np.ndarray:
    x = np.asarray(values, dtype=np.float64)
    if ndim == 2 and x.ndim == 1:
        x = x[:, None]
    if x.ndim != ndim or x.shape[0] < 1:
        raise DataError(f"{name} has shape {x.shape}; pass {'[n]' if ndim == 1 else '[n, d]'} with n >= 1")
    if not np.all(np.isfinite(x)):
        raise DataError(f"{name} contains NaN or infinite values; check the model outputs")
    return x


def threshold_attack(member_losses, nonmember_losses) -> MembershipInferenceResult:
    """Loss-threshold attack: guess "member" when the loss is below a threshold."""
    members = _as_array("member_losses", member_losses, 1)
    others = _as_array("nonmember_losses", nonmember_losses, 1)
    labels = np.concatenate([np.ones(members.size), np.zeros(others.size)])
    auc, advantage = _roc_statistics(labels, -np.concatenate([members, others]))
    return MembershipInferenceResult("threshold", auc, advantage, members.size, others.size)


def logistic_regression_attack(
    member_features, nonmember_features, *, folds: int = 5, seed: int = 0
) -> MembershipInferenceResult:
    """Logistic-regression attack on per-example features [n, d], scored out of fold."""
    members = _as_array("member_features", member_features, 2)
    others = _as_array("nonmember_features", nonmember_features, 2)
    if members.shape[1] != others.shape[1]:
        raise DataError(
            f"member_features have {members.shape[1]} columns, nonmember_features {others.shape[1]}; "
            "use the same features for both"
        )
    validation.integer("folds", folds, 2, min(members.shape[0], others.shape[0]),
                       hint="at most min(n_members, n_nonmembers) folds")
    x = np.vstack([members, others])
    labels = np.concatenate([np.ones(members.shape[0]), np.zeros(others.shape[0])])
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    scores = cross_val_predict(model, x, labels, cv=splitter, method="predict_proba")[:, 1]
    auc, advantage = _roc_statistics(labels, scores)
    return MembershipInferenceResult(
        "logistic_regression", auc, advantage, members.shape[0], others.shape[0]
    )


def advantage_bound(epsilon: float, delta: float = 0.0) -> float:
    """The largest attacker advantage any test can have against an (ε, δ)-DP mechanism:
    (e^ε − 1 + 2δ)/(e^ε + 1), capped at 1; 1 for ε = ∞."""
    validation.in_interval("epsilon", epsilon, 0.0, math.inf, lo_open=False)
    validation.in_interval("delta", delta, 0.0, 1.0, lo_open=False)
    if math.isinf(epsilon):
        return 1.0
    e = math.exp(min(epsilon, 700.0))
    return min(1.0, (e - 1.0 + 2.0 * delta) / (e + 1.0))


@dataclasses.dataclass(frozen=True)
class MembershipInferenceReport:
    """Both attacks on one trained model, with the advantage any attack may reach under the
    accounted (ε, δ) (``advantage_bound``; 1 when no finite ε is accounted)."""

    threshold: MembershipInferenceResult
    logistic_regression: MembershipInferenceResult
    epsilon_accounted: float
    delta: float
    advantage_bound: float

    @property
    def exceeds_bound(self) -> bool:
        """True if an attack's advantage is above what the accounted ε allows (a point
        estimate: treat as a red flag to audit, not as a proof)."""
        return max(self.threshold.attacker_advantage, self.logistic_regression.attacker_advantage) > self.advantage_bound

    def as_dict(self) -> dict:
        """The report as privqml JSON values (an infinite accounted ε is ``"inf"``)."""
        return jsonio.to_jsonable({
            "threshold": self.threshold.as_dict(),
            "logistic_regression": self.logistic_regression.as_dict(),
            "epsilon_accounted": self.epsilon_accounted,
            "delta": self.delta,
            "advantage_bound": self.advantage_bound,
            "exceeds_bound": self.exceeds_bound,
        })


def membership_inference(
    member_losses,
    nonmember_losses,
    member_features=None,
    nonmember_features=None,
    *,
    epsilon_accounted: float = math.inf,
    delta: float = 0.0,
    seed: int = 0,
) -> MembershipInferenceReport:
    """Run both attacks; the logistic regression uses ``*_features`` (default: the losses)."""
    member_features = member_losses if member_features is None else member_features
    nonmember_features = nonmember_losses if nonmember_features is None else nonmember_features
    folds = int(min(5, len(np.atleast_1d(member_losses)), len(np.atleast_1d(nonmember_losses))))
    return MembershipInferenceReport(
        threshold=threshold_attack(member_losses, nonmember_losses),
        logistic_regression=logistic_regression_attack(
            member_features, nonmember_features, folds=max(folds, 2), seed=seed
        ),
        epsilon_accounted=float(epsilon_accounted),
        delta=float(delta),
        advantage_bound=advantage_bound(epsilon_accounted, delta),
    )


def membership_inference_on_run(config: TrainConfig, seed: int = 0) -> MembershipInferenceReport:
    """Train ``config`` and attack the result: members are its training examples, non-members its
    held-out test examples (same public distribution), both as the run loaded them
    (:func:`~privqml.models.training.setup.run_setup`); the threshold attack uses the per-example
    loss, the logistic regression the (loss, model outputs) features. The advantage bound uses the
    run's PLD ε at its δ."""
    run = train(config)
    setup = run_setup(config)
    model, data = setup.model, setup.data
    model.weights.assign(np.asarray(run.final_weights, np.float32))

    def features(x, labels):
        outputs = model.predict_outputs(x)
        losses = model.per_example_loss(
            tf.constant(model.weights), tf.constant(np.asarray(x, np.float32)), tf.constant(model.encode_labels(labels))
        ).numpy().astype(np.float64)
        return losses, np.column_stack([losses, outputs])

    member_losses, member_features = features(data.x_train, data.y_train)
    other_losses, other_features = features(data.x_test, data.y_test)
    return membership_inference(
        member_losses, other_losses, member_features, other_features,
        epsilon_accounted=run.privacy.epsilon_pld, delta=run.privacy.delta, seed=seed,
    )


__all__ = [
    "MembershipInferenceReport",
    "MembershipInferenceResult",
    "advantage_bound",
    "logistic_regression_attack",
    "membership_inference",
    "membership_inference_on_run",
    "threshold_attack",
]
