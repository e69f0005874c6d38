r"""Audit a run's record itself: its released updates against the recorded σ, C, q and n.

At every step t = 1..T privqml's trainer releases

    g̃_t = (s_t + n_t) / L,   s_t = Σ_{i∈B_t} clip_C(∇_θ ℓ_i(θ_{t−1})),   n_t ~ N(0, σ²C² I_P),

with L = q·n the expected batch size (q the sampling probability, n = n_train), B_t the step's
Poisson batch, P the number of weights, and n_t drawn independently of everything before it (the
past releases, hence θ_{t−1}) and of B_t. ``run.json`` holds g̃_1..g̃_T and claims σ, C, q and n;
the checks below test the releases against those claims. Each has false-alarm probability at most
α on an honest record (:data:`DEFAULT_ALPHA`); a failed check is a ``violation``.

``noise-present``  F_{t−1} = everything up to step t's noise (the data, θ_0, g̃_1..g̃_{t−1},
    B_t) fixes s_t, so conditionally on it X_t = ‖L g̃_t‖²/(σC)² = ‖s_t/(σC) + Z_t‖²,
    Z_t ~ N(0, I_P), is noncentral χ²_P(λ_t) with λ_t = ‖s_t‖²/(σC)² ≥ 0. Noncentral χ²_P(λ) is a
    Poisson(λ/2) mixture of χ²_{P+2j}, so its CDF is at most the central one, G_P (Johnson, Kotz
    & Balakrishnan, *Continuous Univariate Distributions* vol. 2, 2nd ed., ch. 29). With the
    randomised probability-integral transforms U_t of X_t given F_{t−1} — each Uniform(0, 1)
    given F_{t−1}, which holds U_1..U_{t−1}, hence i.i.d. (Rüschendorf, "On the distributional transform, Sklar's theorem, and the empirical copula
    process", J. Stat. Plan. Inference 2009, Prop. 2.1) — X_t ≥ G_P^{-1}(U_t), hence
    S = Σ_t X_t ≥ Σ_t G_P^{-1}(U_t) ~ χ²_{TP}. The lower-tail p-value G_{TP}(S) is therefore at
    most α with probability at most α on an honest record (exactly α when every s_t = 0); below α
    the recorded noise is smaller than accounted (noise shrunk or removed).

    *Centred and projected.* The argument holds as well for ‖Π_t(L g̃_t − m_t)‖²/(σC)² with any
    centre m_t and any orthogonal projection Π_t of a fixed rank k that are functions of F_{t−1}
    (here of the data and the past releases): given F_{t−1}, Π_t n_t ~ N(0, σ²C² Π_t) and the
    shift Π_t(s_t − m_t) is fixed, so the sum S_k dominates χ²_{Tk}. :func:`centred_statistic` uses m_t = q Σ_i c_i = E[s_t | θ_{t−1}], with
    c_i = clip_C(∇ℓ_i(θ_{t−1})) over all n training examples, and the projection onto the k
    directions in which the sampling part s_t − m_t (covariance q(1−q) Σ_i c_i c_iᵀ) varies
    least: the complement of the P − k leading right singular vectors of the matrix of the c_i.
    k is fixed before any release is looked at (:func:`quiet_dimension`, at θ_0): the number of
    directions whose sampling variance is at most τσ²C², τ = :data:`SAMPLING_VARIANCE_FRACTION`.
    There a release is mostly noise, so a release without noise is near zero: this test has
    power against noise removed where the plain one has none (noise removed from a clipped sum
    as large as the noise cannot be told from noise by its norm). When both run, each is at
    α/2 (Bonferroni).
``sensitivity``  ‖L g̃_t‖ ≤ ‖s_t‖ + ‖n_t‖ ≤ |B_t|·C + ‖n_t‖. Z ↦ ‖Z‖ is 1-Lipschitz and
    E‖Z‖ ≤ √P, so Gaussian concentration (Tsirelson–Ibragimov–Sudakov; Boucheron, Lugosi &
    Massart, *Concentration Inequalities*, 2013, Thm 5.6) gives P(‖n_t‖ ≥ σC(√P + u)) ≤ e^{−u²/2};
    u = √(2 ln(1/α_n)). When the record holds the batch sizes |B_t| they are used (α_n = α/T);
    otherwise |B_t| ~ Binomial(n, q) is bounded by the Chernoff bound
    P(|B_t| ≥ j) ≤ exp(−n·D(j/n ‖ q)) for j ≥ nq, D the Bernoulli Kullback–Leibler divergence:
    |B_t| ≤ j − 1 for the smallest integer j with n·D(j/n ‖ q) ≥ ln(1/α_B) (|B_t| ≤ n when no j ≤ n
    reaches it), and α_B = α_n = α/(2T).
    By Bonferroni over the T steps every honest release is inside its bound with probability at
    least 1 − α; one outside it carries more than C per example: a clip larger than recorded.
``finite``       every released number is finite (a non-finite release reveals its example).
``record-shape`` T rows of P numbers, T the accounted steps and P the weights, and L = q·n: the
    record is what was accounted (this check is deterministic).

On an honest record the probability of any false alarm is at most 2α (``noise-present`` and
``sensitivity`` together). Norms get a relative slack of :data:`FLOAT32_SLACK` in the direction
that favours the record: the releases are float32 and the trainer applies the noise stddev
float32(σC).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from scipy import stats

from privqml import jsonio, validation
from privqml.verify.audit.verdicts import Check, record_as_dict

#: Default false-alarm probability of each statistical record check.
DEFAULT_ALPHA = 1e-6
#: Relative tolerance for float32 rounding of the releases and of the applied noise stddev.
FLOAT32_SLACK = 1e-5
#: τ: a direction is quiet when its batch-sampling variance is at most τσ²C² (centred test).
SAMPLING_VARIANCE_FRACTION = 0.25


@dataclasses.dataclass(frozen=True)
class ReleaseRecord:
    """What a run's record says it released and what it accounted for.

    Attributes:
        released_updates: g̃_t, one row per step, [T, P] (units of ∇_θ ℓ: loss per unit weight).
        noise_multiplier: σ = noise stddev / C as accounted.
        clip_norm: C, the clipping threshold (units of ∇_θ ℓ).
        sampling_probability: q, each example's probability of being in a step's batch.
        n_train: n, the training examples.
        expected_batch_size: L, the normaliser of every release (the trainer's batch_size).
        steps: T as accounted.
        n_weights: P, the model's number of weights.
        batch_sizes: |B_t| per step when the record holds them, else None.
    """

    released_updates: np.ndarray
    noise_multiplier: float
    clip_norm: float
    sampling_probability: float
    n_train: int
    expected_batch_size: float
    steps: int
    n_weights: int
    batch_sizes: tuple[int, ...] | None = None

    @classmethod
    def from_summary(cls, summary: dict) -> "ReleaseRecord":
        """The record of a private run's ``run.json`` (:meth:`RunResult.summary`) as read back."""
        g, covered, diagnostics = summary["guarantee"], summary["covered"], summary["not_covered"]
        rows = [[jsonio.number(v) for v in row] for row in covered["released_updates"]]
        n_weights = len(covered["final_weights"])
        released = np.array(rows, dtype=np.float64).reshape(len(rows), -1) if rows else np.zeros((0, n_weights))
        sizes = diagnostics.get("batch_sizes")
        return cls(
            released_updates=released, noise_multiplier=float(g["noise_multiplier"]),
            clip_norm=float(covered["clip"]), sampling_probability=float(g["sampling_probability"]),
            n_train=int(covered["dataset"]["n_train"]), expected_batch_size=float(summary["config"]["batch_size"]),
            steps=int(g["steps"]), n_weights=n_weights,
            batch_sizes=tuple(int(b) for b in sizes) if sizes else None,
        )


@dataclasses.dataclass(frozen=True)
class CentredNoise:
    """The centred, projected noise statistic of a record (module docstring).

    Attributes:
        statistic: S_k = Σ_t ‖Π_t(L g̃_t − m_t)‖²/(σC)² (dimensionless).
        dimension: k, the rank of every Π_t.
        steps: how many steps the sum runs over (T).
    """

    statistic: float
    dimension: int
    steps: int

    @property
    def degrees_of_freedom(self) -> int:
        return self.dimension * self.steps


@dataclasses.dataclass(frozen=True)
class RecordAudit:
    """The record checks of one run (module docstring).

    Attributes:
        alpha: the false-alarm probability of each statistical check.
        steps, n_weights: T and P as recorded (rows and columns of the releases).
        noise_statistic: S = Σ_t ‖L g̃_t‖²/(σC)² (dimensionless).
        degrees_of_freedom: T·P, the χ² that S dominates when the noise σC was added.
        noise_p_value: G_{TP}(S), the lower-tail p-value.
        centred_statistic, centred_degrees_of_freedom, centred_p_value: S_k, T·k and G_{Tk}(S_k)
            of the centred, projected test (None when it did not run).
        quiet_dimension: k (None when the centred test did not run).
        release_rms: sqrt(mean of g̃_t²) over all numbers (units of ∇_θ ℓ).
        noise_std_per_coordinate: σC/L, the per-coordinate noise std of g̃_t the accountant assumed
            (release_rms is at least about this when the noise was added).
        batch_size_bound: max_t of the |B_t| used in the sensitivity bound (recorded, or the
            Chernoff bound).
        batch_sizes_recorded: whether the record holds |B_t|.
        norm_ratio_max: max_t ‖L g̃_t‖ / (|B_t|·C + σC(√P + u)) (≤ 1 on an honest record w.p. ≥ 1 − α).
        checks: ``record-shape``, ``finite``, then (when both pass) ``noise-present``,
            ``sensitivity`` and any extra checks; the statistics are None when they could not run.
        verdict: ``violation`` if any check failed, else ``consistent``.
    """

    alpha: float
    steps: int
    n_weights: int
    noise_statistic: float | None
    degrees_of_freedom: int
    noise_p_value: float | None
    centred_statistic: float | None
    centred_degrees_of_freedom: int | None
    centred_p_value: float | None
    quiet_dimension: int | None
    release_rms: float | None
    noise_std_per_coordinate: float
    batch_size_bound: int | None
    batch_sizes_recorded: bool
    norm_ratio_max: float | None
    checks: tuple[Check, ...]
    verdict: str

    def as_dict(self) -> dict:
        """The audit as privqml JSON values."""
        return record_as_dict(self)


def noise_p_value(statistic: float, degrees_of_freedom: int) -> float:
    """P(χ²_k ≤ S), k = ``degrees_of_freedom``: the lower-tail p-value of ``noise-present``."""
    return float(stats.chi2.cdf(statistic, degrees_of_freedom))


def noise_norm_quantile(n_weights: int, alpha: float) -> float:
    """√P + √(2 ln(1/α)): ‖Z‖ of Z ~ N(0, I_P) exceeds it with probability at most α
    (Gaussian concentration of a 1-Lipschitz function, module docstring)."""
    return math.sqrt(n_weights) + math.sqrt(2.0 * math.log(1.0 / alpha))


def bernoulli_kl(a: np.ndarray | float, q: float) -> np.ndarray:
    """D(a ‖ q) = a ln(a/q) + (1 − a) ln((1 − a)/(1 − q)) in nats, with 0·ln 0 = 0."""
    a = np.asarray(a, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        first = np.where(a > 0, a * np.log(a / q), 0.0)
        second = np.where(a < 1, (1 - a) * np.log((1 - a) / (1 - q)), 0.0)
    return first + second


def chernoff_batch_bound(n: int, q: float, alpha: float) -> int:
    """k such that a Binomial(n, q) batch exceeds k with probability at most α: j − 1 for the
    smallest integer j ∈ (nq, n] with exp(−n·D(j/n ‖ q)) ≤ α (Chernoff: P(B ≥ j) ≤ that), else n."""
    n = validation.integer("n", n, 1)
    validation.probability("q", q)
    if q >= 1.0:
        return n
    js = np.arange(math.floor(n * q) + 1, n + 1)
    ok = js[n * bernoulli_kl(js / n, q) >= math.log(1.0 / alpha)]
    return int(ok[0]) - 1 if ok.size else n


def quiet_dimension(clipped: np.ndarray, q: float, sigma_c: float,
                    fraction: float = SAMPLING_VARIANCE_FRACTION) -> int:
    """k: how many of the P directions have batch-sampling variance q(1−q)·s_j² at most
    fraction·(σC)², s_j the singular values of the [n, P] clipped gradients ``clipped`` (the
    P − min(n, P) directions outside their row space have variance 0)."""
    clipped = np.asarray(clipped, dtype=np.float64)
    n, p = clipped.shape
    singular = np.linalg.svd(clipped, compute_uv=False) if n and p else np.zeros(0)
    loud = int(np.sum(q * (1.0 - q) * singular**2 > fraction * sigma_c**2))
    return p - loud


def centred_statistic(noised_sum: np.ndarray, clipped: np.ndarray, q: float, sigma_c: float, dimension: int) -> float:
    """‖Π(x − m)‖²/(σC)² for one step: x = L g̃_t the noised sum, m = q Σ_i c_i, Π the projection
    onto the complement of the P − k leading right singular vectors of the [n, P] clipped
    gradients c_i (module docstring); k = ``dimension``."""
    clipped = np.asarray(clipped, dtype=np.float64)
    residual = np.asarray(noised_sum, dtype=np.float64) - q * clipped.sum(axis=0)
    drop = residual.size - int(dimension)
    if drop > 0:
        _, _, vt = np.linalg.svd(clipped, full_matrices=False)
        assert drop <= vt.shape[0], (drop, vt.shape)  # the quiet directions include the null space
        top = vt[:drop]
        residual = residual - top.T @ (top @ residual)
    return float(residual @ residual) / sigma_c**2


def structure_checks(record: ReleaseRecord) -> tuple[Check, Check]:
    """``record-shape`` (T rows of P numbers, L = q·n, one batch size per step when recorded) and
    ``finite`` (every released number); the statistics need both to pass."""
    released, expected_l = record.released_updates, record.sampling_probability * record.n_train
    rows, cols = released.shape
    problems = []
    if rows != record.steps:
        problems.append(f"{rows} released updates for the {record.steps} steps accounted")
    if cols != record.n_weights:
        problems.append(f"updates of {cols} numbers for a model of {record.n_weights} weights")
    if abs(expected_l - record.expected_batch_size) > 1e-9 * max(1.0, expected_l):
        problems.append(f"normaliser L={record.expected_batch_size:g} but q*n = {expected_l:g}")
    if record.batch_sizes is not None and len(record.batch_sizes) != rows:
        problems.append(f"{len(record.batch_sizes)} batch sizes for {rows} updates")
    shape = (Check("record-shape", False, "the record is not what was accounted: " + "; ".join(problems)) if problems
             else Check("record-shape", True, f"{rows} updates of {cols} numbers for T={record.steps} steps, "
                                              f"L = q*n = {expected_l:g}"))
    n_bad = int(np.sum(~np.isfinite(released)))
    finite = Check("finite", n_bad == 0,
                   f"all {released.size} released numbers are finite" if n_bad == 0 else
                   f"{n_bad} of {released.size} released numbers are NaN or infinite: a release reveals its example")
    return shape, finite


def _noise_check(record: ReleaseRecord, alpha: float, centred: CentredNoise | None) -> tuple[Check, dict]:
    sigma_c = record.noise_multiplier * record.clip_norm
    sums = record.expected_batch_size * record.released_updates  # s_t + n_t
    inflate = (1.0 + FLOAT32_SLACK) ** 2  # in the record's favour
    statistic = float(np.sum((sums / sigma_c) ** 2)) * inflate
    dof = int(sums.size)
    tests = [("plain", statistic, dof)]
    if centred is not None and centred.dimension > 0:
        tests.append(("centred", centred.statistic * inflate, centred.degrees_of_freedom))
    level = alpha / len(tests)
    p_values = {name: noise_p_value(stat, k) for name, stat, k in tests}
    passed = all(p >= level for p in p_values.values())
    parts = [f"{name}: S = {stat:.6g} over {k} dof, lower-tail p = {p_values[name]:.3g}" for name, stat, k in tests]
    rms = float(np.sqrt(np.mean(record.released_updates**2)))
    detail = (
        f"at least chi2 if noise sigma*C = {sigma_c:.4g} was added ({'; '.join(parts)}; each vs alpha/{len(tests)} = "
        f"{level:.3g}); released updates RMS {rms:.4g} per coordinate, noise alone gives about sigma*C/L = "
        f"{sigma_c / record.expected_batch_size:.4g}"
        + ("" if passed else ": the recorded noise is smaller than accounted")
    )
    numbers = {"noise_statistic": statistic, "noise_p_value": p_values["plain"], "release_rms": rms,
               "centred_statistic": tests[1][1] if len(tests) > 1 else None,
               "centred_degrees_of_freedom": tests[1][2] if len(tests) > 1 else None,
               "centred_p_value": p_values.get("centred"),
               "quiet_dimension": centred.dimension if centred is not None else None}
    return Check("noise-present", passed, detail), numbers


def _sensitivity_check(record: ReleaseRecord, alpha: float) -> tuple[Check, dict]:
    sigma_c, steps = record.noise_multiplier * record.clip_norm, record.steps
    norms = np.linalg.norm(record.expected_batch_size * record.released_updates, axis=1)
    recorded = record.batch_sizes is not None
    alpha_step = alpha / steps if recorded else alpha / (2 * steps)
    batches = (np.asarray(record.batch_sizes, dtype=np.float64) if recorded else
               np.full(steps, chernoff_batch_bound(record.n_train, record.sampling_probability, alpha_step)))
    bounds = batches * record.clip_norm + sigma_c * noise_norm_quantile(record.n_weights, alpha_step)
    ratios = norms / (bounds * (1.0 + FLOAT32_SLACK))
    worst = int(np.argmax(ratios))
    source = ("recorded" if recorded else
              f"Chernoff bound of Binomial({record.n_train}, {record.sampling_probability:.4g})")
    check = Check(
        "sensitivity", bool(ratios[worst] <= 1.0),
        f"max_t ||L g_t|| / (|B_t| C + sigma C (sqrt P + sqrt(2 ln(1/a)))) = {ratios[worst]:.4g} at step {worst + 1} "
        f"(|B_t| {source}, at most {int(batches.max())}; a = {alpha_step:.3g} per step, Bonferroni over T={steps})"
        + ("" if ratios[worst] <= 1.0 else ": a release larger than the recorded clip allows"),
    )
    return check, {"batch_size_bound": int(batches.max()), "norm_ratio_max": float(ratios[worst])}


def audit_record(record: ReleaseRecord, alpha: float = DEFAULT_ALPHA, centred: CentredNoise | None = None,
                 extra_checks: tuple[Check, ...] = ()) -> RecordAudit:
    """The record checks of ``record`` at false-alarm probability ``alpha`` each (module docstring);
    ``centred`` adds the centred, projected noise test, ``extra_checks`` more checks of the record."""
    validation.in_interval("alpha", alpha, 0.0, 1.0, hi_open=True, hint="a false-alarm probability such as 1e-6")
    assert record.noise_multiplier > 0 and record.clip_norm > 0, "record checks need a private run"
    released = record.released_updates
    noise_std = record.noise_multiplier * record.clip_norm / record.expected_batch_size
    shape, finite = structure_checks(record)
    numbers = {"noise_statistic": None, "noise_p_value": None, "release_rms": None, "centred_statistic": None,
               "centred_degrees_of_freedom": None, "centred_p_value": None, "quiet_dimension": None,
               "batch_size_bound": None, "norm_ratio_max": None}
    checks = (shape, finite)
    if shape.passed and finite.passed:  # the statistics need T finite rows of P numbers
        noise, noise_numbers = _noise_check(record, alpha, centred)
        sensitivity, sensitivity_numbers = _sensitivity_check(record, alpha)
        numbers.update(noise_numbers, **sensitivity_numbers)
        checks += (noise, sensitivity) + tuple(extra_checks)
    return RecordAudit(alpha=alpha, steps=released.shape[0], n_weights=released.shape[1],
                       degrees_of_freedom=int(released.size), noise_std_per_coordinate=noise_std,
                       batch_sizes_recorded=record.batch_sizes is not None, checks=checks,
                       verdict="violation" if any(not c.passed for c in checks) else "consistent", **numbers)


__all__ = ["CentredNoise", "DEFAULT_ALPHA", "FLOAT32_SLACK", "RecordAudit", "ReleaseRecord",
           "SAMPLING_VARIANCE_FRACTION",
           "audit_record", "bernoulli_kl", "centred_statistic", "chernoff_batch_bound", "noise_norm_quantile",
           "noise_p_value", "quiet_dimension", "structure_checks"]
