"""Run the properties with Hypothesis and report: per property pass/fail, examples, largest ratio.

:func:`verify_ansatz` holds one ansatz (a built-in or a user's) against its bound: Hypothesis
draws evaluation points (weights, inputs in the public domain), labels, shot counts and noise
models, runs the selected engines and checks every property of :mod:`privqml.verify.properties`,
steering the search towards large ``norm / bound`` ratios (``hypothesis.target``). On failure
Hypothesis shrinks the example and the report carries the shrunk counterexample — of the first
failing property, the one reported; a later property that fails too reports pass/fail and its
ratio without shrinking.
:func:`verify_random_ansatze` does the same with the ansatz itself drawn from
:func:`privqml.verify.strategies.ansatze`.

Profiles (``PROFILES``): ``ci`` (few examples, derandomised: the same examples every run) and
``thorough`` (many examples, seeded); ``examples`` overrides the count per property.

Corners first. Where a bound is attained, it is at special points of the search box: for an angle w·x + b,
|∂f/∂w| = |x|·|∂f/∂(w·x + b)| reaches its bound only at the largest |x| of the input domain, and a
slot derivative |∂f/∂t_k| reaches ½Ω_k·(o_max − o_min) (o the observable's eigenvalues) at slot
angles that are multiples of π/2 (:func:`privqml.verify.strategies.lattice_values`). Every point
the strategies draw is such a corner point or a point of the box with its edges
(:func:`~privqml.verify.strategies.points`), and the properties that hold exact gradients to a
bound (``SWEPT_PROPERTIES``) add ``Profile.corner_rows`` corner points to every example.
Hypothesis' targeted phase (``hypothesis.target`` on the ratio) climbs from the best examples
seen, which are corner examples wherever a bound is attained; it runs only from 10 valid examples
on (in Hypothesis 6.170 the optimisation pass is scheduled at max(max_examples // 2, 10)), so the
``thorough`` profile has both and the ``ci`` profile (6 examples) the corner points alone.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import time
from typing import Callable, Optional, Sequence

import numpy as np
from hypothesis import HealthCheck, Phase, given, settings, target
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from rich.console import Console

from privqml.errors import ConfigError
from privqml.theory.ansatz import Ansatz
from privqml.theory.bounds import gradient_bound
from privqml.verify import properties as props
from privqml.verify.engines import EngineOptions, get_engine, parse_engines
from privqml.verify.losses import applicable_losses
from privqml.theory.noise import NoiseModel, with_noise
from privqml.verify.report import Counterexample, PropertyReport, VerifyReport, format_failure, print_report
from privqml.verify.strategies import labels_for, noise_models, points, shot_counts

DEFAULT_ENGINES = ("adjoint", "pshift", "shots", "noisy", "numeric", "oracle")
BCE_PROB_CLAMP = 0.05


@dataclasses.dataclass(frozen=True)
class Profile:
    """How hard to search.

    Attributes:
        examples: Hypothesis examples per property.
        derandomize: draw the same examples every run (CI); otherwise seeded by ``seed``.
        max_batch: evaluation points per example.
        repetitions: default shots per circuit for the agreement check of ``shots``.
        trajectories: Monte-Carlo trajectories per circuit for ``noisy``.
        max_shots: the largest shot count drawn for the ``shots`` property.
        corner_rows: corner points (weights on the quarter-turn lattice, inputs at a corner of
            the domain) added to every example of the ``SWEPT_PROPERTIES``.
    """

    examples: int
    derandomize: bool
    max_batch: int = 2
    repetitions: int = 500
    trajectories: int = 100
    max_shots: int = 1000
    corner_rows: int = 4


PROFILES = {
    "ci": Profile(examples=6, derandomize=True, max_batch=2, repetitions=400, trajectories=60, max_shots=500,
                  corner_rows=4),
    "thorough": Profile(examples=200, derandomize=False, max_batch=3, repetitions=2000, trajectories=300, max_shots=4000,
                        corner_rows=2),
}
#: The properties whose examples carry ``Profile.corner_rows`` extra corner points: those that
#: hold exact (deterministic) gradients to a bound that a corner can attain. Not ``zero`` (a live
#: weight wrongly pruned shows a nonzero gradient almost everywhere), nor the stochastic engines
#: (shots, noisy trajectories), whose cost grows with the batch and which check estimator bounds.
SWEPT_PROPERTIES = ("per_weight", "total", "loss")

#: Settings every property search shares (no deadline: TFQ calls vary; no example database: runs
#: must not depend on earlier ones; health checks off: strategies build circuits, legitimately slow).
COMMON_SETTINGS = dict(deadline=None, database=None, suppress_health_check=list(HealthCheck), print_blob=False)


def hypothesis_profile(name: str) -> str:
    """The registered Hypothesis settings profile of privqml's profile ``name``: ``privqml-<name>``."""
    return f"privqml-{name}"


for _name, _profile in PROFILES.items():  # one registration per profile, usable in users' own tests
    settings.register_profile(hypothesis_profile(_name), max_examples=_profile.examples,
                              derandomize=_profile.derandomize, **COMMON_SETTINGS)


# ---------------------------------------------------------------------------------------
# one example of one property
# ---------------------------------------------------------------------------------------
@dataclasses.dataclass
class _Context:
    engines: tuple[str, ...]
    bound_for: Callable
    profile: Profile


@functools.lru_cache(maxsize=128)  # the ansatz is hashable by value
def sampled_bound(ansatz: Ansatz):
    """The theory's bound on single finite-sample (shot or trajectory) gradient estimates."""
    return gradient_bound(ansatz, sampled=True)


def _usable(engines: Sequence[str], ansatz: Ansatz, *, exact: Optional[bool] = None) -> list[str]:
    out = []
    for name in engines:
        engine = get_engine(name)
        if exact is not None and engine.exact != exact:
            continue
        if engine.declines(ansatz) is None:
            out.append(name)
    return out


def _reference(ctx: _Context, ansatz: Ansatz) -> Optional[str]:
    for name in ("oracle", "numeric"):
        if name in ctx.engines and get_engine(name).declines(ansatz) is None:
            return name
    exact = _usable(ctx.engines, ansatz, exact=True)
    return exact[0] if exact else None


def _check(name: str, ctx: _Context, ansatz: Ansatz, data, weights, inputs, extra: dict) -> list[props.Observation]:
    """Run property ``name`` on one batch; returns one observation per engine checked."""
    bound = ctx.bound_for(ansatz)
    options = EngineOptions(repetitions=ctx.profile.repetitions, trajectories=ctx.profile.trajectories)
    run = lambda engine, a=ansatz, o=options: get_engine(engine).gradients(a, weights, inputs, o)  # noqa: E731
    out: list[props.Observation] = []
    if name in ("per_weight", "total", "zero"):
        for engine in _usable(ctx.engines, ansatz, exact=True):
            result = run(engine)
            if name == "per_weight":
                out.append(props.check_per_weight(bound, result))
            elif name == "total":
                out.append(props.check_total(bound, result, inputs))
            else:
                out.append(props.check_zero(bound, result))
    elif name == "loss":
        loss = data.draw(st.sampled_from(applicable_losses(ansatz)), label="loss")
        labels = data.draw(labels_for(ansatz, loss, weights.shape[0]), label="labels")
        extra.update(loss=loss, labels=str(labels.tolist()))
        clamp = BCE_PROB_CLAMP if loss == "bce_prob" else None
        for engine in _usable(ctx.engines, ansatz, exact=True):
            out.append(props.check_loss(ansatz, bound, run(engine), loss, labels, clamp))
    elif name == "shots":
        if get_engine("shots").declines(ansatz) is not None:
            return []  # a drawn ansatz the engine cannot run (reported by _engines_for for a fixed one)
        shots = data.draw(shot_counts(1, ctx.profile.max_shots), label="shots")
        extra.update(shots=str(shots))
        result = get_engine("shots").gradients(ansatz, weights, inputs, dataclasses.replace(options, repetitions=shots))
        out.append(props.check_estimates("shots", ansatz, bound, result, weights, inputs,
                                         props.sample_mean_widths(ansatz)))
        out.append(props.check_sampled_bound("shots", sampled_bound(ansatz), result, inputs))
    elif name == "noisy":
        model: NoiseModel = data.draw(noise_models(), label="noise")
        extra.update(noise=model.label)
        noisy = with_noise(ansatz, model)
        noisy_bound = ctx.bound_for(noisy)
        exact = None
        if ("numeric" in ctx.engines or "oracle" in ctx.engines) and get_engine("numeric").declines(noisy) is None:
            exact = get_engine("numeric").gradients(noisy, weights, inputs, options)
            for b in (bound, noisy_bound):
                out.append(props.check_per_weight(b, exact))
                out.append(props.check_total(b, exact, inputs))
            out.append(props.check_zero(noisy_bound, exact))
        if "noisy" in ctx.engines and get_engine("noisy").declines(noisy) is None:
            estimate = get_engine("noisy").gradients(noisy, weights, inputs, options)
            out.append(props.check_estimates("noisy", noisy, noisy_bound, estimate, weights, inputs,
                                             props.eigenvalue_widths(noisy)))
            out.append(props.check_sampled_bound("noisy", sampled_bound(noisy), estimate, inputs))
            if exact is not None:
                out.append(props.check_agreement(estimate, exact, [w.name for w in ansatz.weights]))
    elif name == "agree":
        reference_name = _reference(ctx, ansatz)
        if reference_name is None:
            return []
        reference = run(reference_name)
        for engine in _usable(ctx.engines, ansatz):
            if engine == reference_name or engine == "noisy":
                continue
            out.append(props.check_agreement(run(engine), reference, [w.name for w in ansatz.weights]))
    else:  # pragma: no cover - validated earlier
        raise AssertionError(name)
    return [dataclasses.replace(o, property=name) for o in out]


def _engines_for(name: str, ctx: _Context, ansatz: Ansatz) -> tuple[tuple[str, ...], Optional[str]]:
    """(engines the property will check, reason it cannot run)."""
    exact = tuple(_usable(ctx.engines, ansatz, exact=True))
    if name in ("per_weight", "total", "zero", "loss"):
        return exact, None if exact else "no exact engine selected (adjoint, pshift, fd, numeric or oracle)"
    if name == "shots":
        if "shots" not in ctx.engines:
            return (), "engine 'shots' not selected"
        declined = get_engine("shots").declines(ansatz)
        return ((), declined) if declined else (("shots",), None)
    if name == "noisy":
        chosen = tuple(e for e in ("noisy", "numeric") if e in ctx.engines or (e == "numeric" and "oracle" in ctx.engines))
        chosen = tuple(e for e in chosen if e != "noisy" or get_engine("noisy").declines(ansatz) is None)
        return chosen, None if chosen else "select 'noisy' and/or 'numeric' to check noisy gradients"
    if name == "agree":
        others = [e for e in _usable(ctx.engines, ansatz) if e != "noisy"]
        return tuple(others), None if len(others) >= 2 and exact else "needs an exact engine and one more"
    raise ConfigError(f"property={name!r} is not known; choose from {props.PROPERTIES}")


# ---------------------------------------------------------------------------------------
# Hypothesis driver
# ---------------------------------------------------------------------------------------
def example_points(name: str, ansatz: Ansatz, profile: Profile):
    """The evaluation points of one example of property ``name``: 1..``profile.max_batch`` points
    of :func:`~privqml.verify.strategies.points`, then ``profile.corner_rows`` corner points for the
    ``SWEPT_PROPERTIES`` (a batch [B, P] of weights and [B, I] of inputs)."""
    corner_rows = profile.corner_rows if name in SWEPT_PROPERTIES else 0
    return points(ansatz, profile.max_batch, corner_rows)


def _run_property(name: str, ctx: _Context, ansatz_strategy, examples: int, seed: Optional[int],
                  profile_name: str = "ci", derandomize: bool = True, shrink: bool = True):
    state = {"examples": 0, "max_ratio": 0.0, "failure": None, "by_engine": {}}

    @given(data=st.data())
    def body(data):
        ansatz = data.draw(ansatz_strategy, label="ansatz")
        weights, inputs = data.draw(example_points(name, ansatz, ctx.profile), label="points")
        extra: dict = {}
        try:
            observations = _check(name, ctx, ansatz, data, weights, inputs, extra)
        except Exception as exc:  # noqa: BLE001 - an engine crash is a failed example, reported
            observations = [props.Observation(name, "-", False, math.inf, 0, f"{type(exc).__name__}: {exc}")]
        state["examples"] += 1
        for o in observations:
            state["by_engine"][o.engine] = max(state["by_engine"].get(o.engine, 0.0), o.ratio)
        observation = props.merge(name, observations)
        state["max_ratio"] = max(state["max_ratio"], observation.ratio if observation.passed else state["max_ratio"])
        if math.isfinite(observation.ratio):
            target(float(observation.ratio), label=name)
        if not observation.passed:
            row = observation.row
            state["failure"] = Counterexample(
                property=name,
                engine=observation.engine,
                ansatz=ansatz.name,
                weights=tuple(float(v) for v in weights[row]),
                inputs=tuple(float(v) for v in inputs[row]),
                ratio=observation.ratio,
                detail=observation.detail,
                extra=tuple(sorted((k, str(v)) for k, v in extra.items())),
                circuit=str(ansatz.circuit) if ansatz.name.startswith("random") else "",
            )
            raise AssertionError(observation.detail)

    configured = settings(
        settings.get_profile(hypothesis_profile(profile_name)),
        max_examples=examples,
        derandomize=derandomize and seed is None,
        phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.target) + ((Phase.shrink,) if shrink else ()),
        report_multiple_bugs=False,
    )(body)
    if seed is not None:
        configured = hypothesis_seed(seed)(configured)
    try:
        configured()
    except BaseException as exc:  # noqa: BLE001 - Hypothesis re-raises the shrunk failure (or a Flaky)
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        if state["failure"] is None:
            raise
    failure = state["failure"]
    max_ratio = state["max_ratio"] if failure is None else max(state["max_ratio"], failure.ratio)
    by_engine = tuple(sorted(state["by_engine"].items()))
    return state["examples"], max_ratio, failure, by_engine


def _verify(ansatz_strategy, label: str, probe: Optional[Ansatz], *, examples, engines, seed, profile, properties,
            bound_fn, progress) -> VerifyReport:
    profile_name = profile if isinstance(profile, str) else "ci"  # a custom Profile builds on the ci settings
    profile = PROFILES[profile] if isinstance(profile, str) else profile
    engines = parse_engines(",".join(engines)) if not isinstance(engines, str) else parse_engines(engines)
    properties = tuple(properties)
    unknown = [p for p in properties if p not in props.PROPERTIES]
    if unknown:
        raise ConfigError(f"properties {unknown} are not known; choose from {props.PROPERTIES}")
    n = profile.examples if examples is None else int(examples)
    if n < 1:
        raise ConfigError(f"examples={examples!r} must be >= 1")
    ctx = _Context(engines, functools.lru_cache(maxsize=128)(bound_fn), profile)
    start = time.perf_counter()
    reports, counterexample = [], None
    for name in properties:
        chosen, skipped = _engines_for(name, ctx, probe) if probe is not None else (engines, None)
        if skipped:
            reports.append(PropertyReport(name, True, 0, 0.0, chosen, skipped))
            continue
        if progress is not None:
            progress(name)
        # only the first counterexample is reported: later failing properties are not shrunk
        count, ratio, failure, by_engine = _run_property(name, ctx, ansatz_strategy, n, seed, profile_name,
                                                         profile.derandomize, shrink=counterexample is None)
        reports.append(PropertyReport(name, failure is None, count, ratio, chosen, max_ratio_by_engine=by_engine))
        counterexample = counterexample or failure
    passed = all(r.passed for r in reports)
    return VerifyReport(label, passed, tuple(reports), counterexample, engines, seed, time.perf_counter() - start)


def verify_ansatz(
    ansatz: Ansatz,
    *,
    examples: Optional[int] = None,
    engines: Sequence[str] | str = DEFAULT_ENGINES,
    seed: Optional[int] = 0,
    profile: str | Profile = "ci",
    properties: Sequence[str] = props.PROPERTIES,
    bound_fn: Callable = gradient_bound,
    progress: Optional[Callable[[str], None]] = None,
) -> VerifyReport:
    """Property-test ``ansatz``'s bound against the selected engines (see the module docstring).

    Args:
        ansatz: the ansatz (validated here: an unsupported gate raises before any search).
        examples: Hypothesis examples per property (default: the profile's).
        engines: names from :data:`privqml.verify.engines.ENGINE_NAMES`.
        seed: Hypothesis seed; ``None`` derandomises (the same examples every run).
        profile: ``"ci"``, ``"thorough"`` or a :class:`Profile`.
        properties: which properties to run (default: all).
        bound_fn: ansatz -> GradientBound; replace it to test a weakened bound (mutation check).
        progress: called with each property's name as it starts.

    Raises:
        PrivqmlError: an unsupported gate, a bad engine name, a bad setting.
    """
    engine_names = parse_engines(engines if isinstance(engines, str) else ",".join(engines))
    preflight(ansatz, engine_names, bound_fn)
    return _verify(st.just(ansatz), ansatz.name, ansatz, examples=examples, engines=engine_names, seed=seed,
                   profile=profile, properties=properties, bound_fn=bound_fn, progress=progress)


def verify_random_ansatze(
    strategy,
    *,
    examples: Optional[int] = None,
    engines: Sequence[str] | str = DEFAULT_ENGINES,
    seed: Optional[int] = 0,
    profile: str | Profile = "ci",
    properties: Sequence[str] = props.PROPERTIES,
    bound_fn: Callable = gradient_bound,
    progress: Optional[Callable[[str], None]] = None,
) -> VerifyReport:
    """As :func:`verify_ansatz`, with a new ansatz drawn from ``strategy`` in every example.

    Engines that decline an ansatz (oracle above its size limit) are left out for that example.
    """
    return _verify(strategy, "random ansätze", None, examples=examples, engines=engines, seed=seed, profile=profile,
                   properties=properties, bound_fn=bound_fn, progress=progress)


def preflight(ansatz: Ansatz, engines: Sequence[str], bound_fn: Callable = gradient_bound) -> None:
    """Fail fast with a :class:`PrivqmlError` if the bound or an engine cannot handle ``ansatz``:
    derive the bound and run every selected engine that accepts it once, at θ = 0 and the centre
    of the input domain."""
    bound_fn(ansatz)
    weights = np.zeros((1, ansatz.n_weights))
    inputs = np.asarray([[(lo + hi) / 2.0 for lo, hi in ansatz.input_domain]]).reshape(1, ansatz.n_inputs)
    for name in engines:
        engine = get_engine(name)
        if engine.declines(ansatz) is None:
            engine.gradients(ansatz, weights, inputs, EngineOptions(repetitions=1, trajectories=1))


def assert_bound_holds(ansatz: Ansatz, **kwargs) -> VerifyReport:
    """Run :func:`verify_ansatz` and raise ``AssertionError`` with the counterexample on failure
    (for a user's test suite)."""
    report = verify_ansatz(ansatz, **kwargs)
    if not report.passed:
        raise AssertionError(format_failure(report))
    return report


def demo_verify(examples: int = 4, seed: int = 0, console: Console | None = None) -> VerifyReport:
    """Property-test the default ansatz (hea, 4 qubits, 2 layers, Z0) with every engine and print
    a summary (~30 s on one core). Returns the report."""
    from privqml.theory import hea

    console = console or Console()
    ansatz = hea(4, 2, "Z0")
    console.print(f"[bold]verify[/]: property-testing the bound of {ansatz.name} against TFQ and Cirq gradients")
    start = time.perf_counter()
    report = verify_ansatz(ansatz, examples=examples, seed=seed,
                           engines=("adjoint", "pshift", "fd", "shots", "noisy", "numeric", "oracle"),
                           progress=lambda name: console.print(f"  checking {name} …", highlight=False))
    print_report(report, console)
    console.print(f"verify demo took {time.perf_counter() - start:.1f} s")
    return report


__all__ = [
    "DEFAULT_ENGINES",
    "PROFILES",
    "Profile",
    "SWEPT_PROPERTIES",
    "assert_bound_holds",
    "demo_verify",
    "example_points",
    "preflight",
    "verify_ansatz",
    "verify_random_ansatze",
]
