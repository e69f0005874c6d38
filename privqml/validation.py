"""One checker per kind of value, for privqml's public boundary.

Every setting a user passes — on the command line or to the Python API — is checked once, where it
enters (the CLI, :class:`~privqml.models.training.records.TrainConfig`, the DP-SGD step, the
accountant, the audits, the data loaders), by the checker of its kind here; the code below that
boundary asserts invariants instead of checking again. Each checker returns the value in its
canonical type (``float``, ``int``, ``"bound"``) and raises :class:`~privqml.errors.ConfigError`
with one line that echoes ``name=value``, says what the value must be and what to do, e.g.
``validation.clip("clip", "-1")`` raises

    clip=-1.0 must be a finite number > 0; use 'bound' (the theory's loss-gradient bound over the
    public input domain) or a positive number; a clip computed from the training data is a privacy
    leak and is refused

Kinds: a real number in an interval (:func:`in_interval`, :func:`probability`, :func:`confidence`),
a privacy δ (:func:`delta`) and ε (:func:`epsilon`), a finite number > 0 or ≥ 0 (:func:`positive`,
:func:`non_negative`), an integer ≥ k (:func:`integer`, :func:`size`, :func:`seed`), one of a tuple
of choices (:func:`choice`), the clipping threshold (:func:`clip`, :func:`clip_norm`) and the noise
multiplier (:func:`noise_multiplier`). Every checker takes the name first, then the value.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Sequence

from privqml.errors import ConfigError

BOUND = "bound"
"""The clip that means "the theory's loss-gradient bound over the public input domain"."""

_DATA_CLIP = "a clip computed from the training data is a privacy leak and is refused"
CLIP_HINT = f"use 'bound' (the theory's loss-gradient bound over the public input domain) or a positive number; {_DATA_CLIP}"
CLIP_NORM_HINT = (
    f"use a positive number: the theory's loss-gradient bound over the public input domain (privqml bound) "
    f"or another public choice; {_DATA_CLIP}"
)
DELTA_HINT = "typically 1e-5, below 1/n_train"


def _fail(name: str, value: Any, requirement: str, hint: str = "") -> ConfigError:
    return ConfigError(f"{name}={value!r} {requirement}" + (f"; {hint}" if hint else ""))


def _real(name: str, value: Any, hint: str = "") -> float:
    """``value`` as a float (NaN allowed; the range checks refuse it); bools and text are not numbers."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise _fail(name, value, "is not a number", hint)
    return float(value)


def _bound(value: float) -> str:
    return f"{value:g}" if math.isfinite(value) else ("inf" if value > 0 else "-inf")


def in_interval(
    name: str, value: Any, lo: float, hi: float, *, lo_open: bool = True, hi_open: bool = False, hint: str = ""
) -> float:
    """A real number in the interval from ``lo`` to ``hi`` (open or closed at each end)."""
    v = _real(name, value, hint)
    inside = (v > lo if lo_open else v >= lo) and (v < hi if hi_open else v <= hi)
    if not inside:  # NaN fails both comparisons
        interval = f"{'(' if lo_open else '['}{_bound(lo)}, {_bound(hi)}{')' if hi_open else ']'}"
        raise _fail(name, value, f"must lie in {interval}", hint)
    return v


def probability(name: str, value: Any, *, hint: str = "") -> float:
    """A probability of something happening: a real number in (0, 1]."""
    return in_interval(name, value, 0.0, 1.0, hint=hint)


def confidence(name: str, value: Any) -> float:
    """The confidence 1 − α of an interval or a test: a real number in (0, 1)."""
    return in_interval(name, value, 0.0, 1.0, hi_open=True, hint="0.95 is the usual choice")


def delta(name: str, value: Any, *, allow_zero: bool = False) -> float:
    """The δ of (ε, δ)-DP: a real number in (0, 1) (in [0, 1) with ``allow_zero``, for pure-DP tests)."""
    return in_interval(name, value, 0.0, 1.0, lo_open=not allow_zero, hi_open=True, hint=DELTA_HINT)


def epsilon(name: str, value: Any) -> float:
    """A target ε of (ε, δ)-DP: a real number > 0, or ``inf`` for no privacy."""
    return in_interval(name, value, 0.0, math.inf, hint="a positive privacy budget, or inf for no privacy")


def positive(name: str, value: Any, *, hint: str = "") -> float:
    """A finite real number > 0."""
    v = _real(name, value, hint)
    if not (math.isfinite(v) and v > 0):
        raise _fail(name, value, "must be a finite number > 0", hint)
    return v


def non_negative(name: str, value: Any, *, hint: str = "") -> float:
    """A finite real number >= 0."""
    v = _real(name, value, hint)
    if not (math.isfinite(v) and v >= 0):
        raise _fail(name, value, "must be a finite number >= 0", hint)
    return v


def integer(name: str, value: Any, minimum: int = 0, maximum: int | None = None, *, hint: str = "") -> int:
    """An integer in [minimum, maximum] (``bool`` and integral floats such as 3.0 are not integers)."""
    ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if maximum is None:
        if not (ok and value >= minimum):
            raise _fail(name, value, f"must be an integer >= {minimum}", hint)
    elif not (ok and minimum <= value <= maximum):
        raise _fail(name, value, f"must be an integer in [{minimum}, {maximum}]", hint)
    return int(value)


def size(name: str, value: Any) -> int:
    """A number of examples: an integer >= 1 (callers take ``None`` as "the default size")."""
    return integer(name, value, 1, hint="a number of examples; omit it for the default")


def seed(name: str, value: Any, *, hint: str = "") -> int:
    """A seed of a random generator: an integer >= 0."""
    return integer(name, value, 0, hint=hint)


def choice(name: str, value: Any, choices: Sequence[Any], *, what: str = "", where: str = "") -> Any:
    """One of ``choices`` (compared with ``==``); ``what`` names the kind of thing in the message
    ("is not a known trainer fault"), ``where`` the data or command it applies to."""
    try:
        known = value in tuple(choices)
    except (TypeError, ValueError):  # e.g. an array, whose == is elementwise
        known = False
    if known:
        return value
    problem = f"is not a known {what}" if what else "is unknown"
    raise ConfigError(f"{name}={value!r} {problem}{where}; choose one of {list(choices)}")


def clip_norm(name: str, value: Any) -> float:
    """A clipping threshold C given as a number (where ``"bound"`` has already been resolved):
    finite and > 0."""
    return positive(name, value, hint=CLIP_NORM_HINT)


def clip(name: str, value: Any) -> float | str:
    """The clipping threshold: ``"bound"`` or a finite number > 0, also when given as text
    (``"0.5"``, ``" bound "``, from a command line); any other text is refused."""
    if isinstance(value, str):
        text = value.strip()
        if text == BOUND:
            return BOUND
        try:
            number = float(text)
        except ValueError:
            raise _fail(name, value, "is neither a number nor 'bound'", CLIP_HINT) from None
        return positive(name, number, hint=CLIP_HINT)
    return positive(name, value, hint=CLIP_HINT)


def noise_multiplier(name: str, value: Any, *, positive_floor: float = 0.0) -> float:
    """σ = noise standard deviation / clip: a finite number >= 0; a σ > 0 must also be at least
    ``positive_floor`` (the smallest σ the PLD accountant can account for in bounded memory)."""
    sigma = non_negative(name, value, hint="0 adds no noise (not private)")
    if 0 < sigma < positive_floor:
        raise ConfigError(
            f"{name}={value!r} is below {positive_floor:g}: the PLD accountant cannot finish in bounded memory "
            f"and the epsilon would be meaningless; use a noise multiplier >= {positive_floor:g} or a target "
            "epsilon (--epsilon)"
        )
    return sigma


__all__ = [
    "BOUND", "CLIP_HINT", "CLIP_NORM_HINT", "DELTA_HINT", "choice", "clip", "clip_norm", "confidence", "delta", "epsilon",
    "in_interval", "integer", "non_negative", "noise_multiplier", "positive", "probability", "seed",
    "size",
]
