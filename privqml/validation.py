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

The float-exact range of C and σ
--------------------------------
DP-SGD's release is float32 arithmetic: TF Privacy's Gaussian sum query casts C and the noise
standard deviation σ·C to float32 and draws the noise in float32, and TensorFlow's CPU kernels flush
subnormal results to zero. The accountants (dp-accounting) work in float64. Write

    F = (2 − 2⁻²³)·2¹²⁷ ≈ 3.40e38   the largest float32,   m = 2⁻¹²⁶ ≈ 1.18e-38 the smallest normal one,
    N = 2²⁴                          the most rows a clipped sum adds (a Poisson batch, or L = q·n),
    z_max = 8 > √(−2 ln 10⁻⁷) = 5.68 the largest |z| TensorFlow's float32 normal sampler returns
                                     (Box–Muller with its uniform clamped to u ≥ 10⁻⁷).

The mechanism is exact — every clipped row has ‖·‖₂ ≤ C, each noise draw is float32(σC)·z to a
relative 2⁻²⁴, and the σ recorded for the accountant is the σ applied — when

1. C and σC are normal floats: C ≥ m and σC ≥ m (a subnormal stddev is read as 0 by the flushing
   kernels: no noise at all while σ > 0 is accounted).
2. No noise draw is flushed: the stock path's optimizer returns (Σ + noise)/|B| in float32 before it
   is scaled back by |B| ≤ N, so for every draw with |z| ≥ 2⁻²⁴ (all but a fraction 2φ(0)·2⁻²⁴ < 5e-8
   of them, carrying < 2⁻⁴⁸ of the variance) z·σC/N must be ≥ m: σC ≥ 2⁻¹²⁶·2²⁴·2²⁴ = 2⁻⁷⁸ ≈ 3.3e-24.
   (Measured before this range was enforced: at C = 1e-37, σ = 1, a stock-path batch of 8 divided
   the noise to ~1e-38 and 64 % of the draws came back as exact zeros.)
3. Nothing overflows, the trainer's post-processing included: a clipped sum plus its noise is at most
   N·C + z_max·σC per coordinate, which the trainer divides by L ≥ 1 and Adam squares, so
   (N·C + z_max·σC)² < F, i.e. N·C + z_max·σC < 2⁶⁴.
4. The recorded σ is not above the applied one: float32 C and float32 σC both normal have 24-bit
   significands, so σ_applied = f32(σC)/f32(C) lies within 2⁻²³ of σ; it is recorded as the largest
   float64 not above that quotient (the calibrated σ is raised by 1 + 2⁻²⁰ to cover the 2⁻²³).
5. The accountants are exact: dp-accounting's RDP of the Poisson-subsampled Gaussian (Mironov, Talwar
   & Zhang, arXiv:1908.10530) adds log-space terms of size ≈ 1 and loses up to ~6e-12 absolute
   (measured at q = 1/2, σ = 2¹⁹, where it returns a negative RDP at α = 1.1 and raises), while the
   per-step RDP at order α is ≈ (α/2)·q²(e^{1/σ²} − 1). Requiring q·√(e^{1/σ²} − 1) ≥ 2⁻¹⁶ keeps
   every default order within 2 % of an mpmath oracle (worst measured: 1.2 % at q = 1/2, α = 1.1;
   tests/models/privacy/test_accounting.py), an error far below any ε printed; at q = 1 it reads
   σ ≤ 2¹⁶. This joint condition is checked where q is known
   (:func:`privqml.models.privacy.accounting.check_accountable`). The PLD accountant also needs
   σ ≥ 0.3 to finish in bounded memory (``positive_floor``).

The range is a box, so that each value is checked on its own:

    C ∈ [2⁻⁶⁴, 2³²] ≈ [5.42e-20, 4.29e9]      (:data:`CLIP_MIN`, :data:`CLIP_MAX`)
    σ ∈ {0} ∪ [2⁻¹⁴, 2¹⁶] ≈ {0} ∪ [6.10e-5, 65536]   (:data:`NOISE_MULTIPLIER_MIN`, :data:`NOISE_MULTIPLIER_MAX`)

hence σC ∈ [2⁻⁷⁸, 2⁴⁸] (conditions 1 and 2 hold, 2 with equality at the corner) and
N·C + z_max·σC ≤ 2⁵⁶ + 2⁵¹ < 2⁵⁷, a factor 2⁷ inside condition 3.
"""

from __future__ import annotations

import decimal
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

#: The most rows one clipped sum adds (a Poisson batch): N = 2²⁴ (module docstring).
MAX_BATCH_ROWS = 2**24
#: The smallest clipping threshold C whose float32 mechanism is exact: 2⁻⁶⁴ (module docstring).
CLIP_MIN = 2.0**-64
#: The largest clipping threshold C whose float32 mechanism (and Adam on its release) is exact: 2³².
CLIP_MAX = 2.0**32
#: The smallest positive noise multiplier σ: with C ≥ 2⁻⁶⁴ it keeps σC ≥ 2⁻⁷⁸ (module docstring).
NOISE_MULTIPLIER_MIN = 2.0**-14
#: The largest noise multiplier σ the accountants are exact for (q·√(e^{1/σ²} − 1) ≥ 2⁻¹⁶ at q = 1).
NOISE_MULTIPLIER_MAX = 2.0**16
#: The smallest per-step signal q·√(e^{1/σ²} − 1) at which dp-accounting's RDP is within 2 %.
ACCOUNTING_MIN_SIGNAL = 2.0**-16
_FLOAT_RANGE = "the range where DP-SGD's float32 arithmetic and the accountants are exact"


def _fail(name: str, value: Any, requirement: str, hint: str = "") -> ConfigError:
    return ConfigError(f"{name}={value!r} {requirement}" + (f"; {hint}" if hint else ""))


def _real(name: str, value: Any, hint: str = "") -> float:
    """``value`` as a float (NaN allowed; the range checks refuse it); bools and text are not numbers."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise _fail(name, value, "is not a number", hint)
    return float(value)


def limit_text(value: float, *, lower: bool, digits: int = 4) -> str:
    """A limit for a message: ``value`` to ``digits`` significant digits, rounded up for a lower limit
    and down for an upper one, so that the number printed is itself inside the range it names
    ("use epsilon <= 55.7" when the limit is 55.78)."""
    exact = decimal.Decimal(value)
    exponent = exact.adjusted() - (digits - 1)
    rounding = decimal.ROUND_CEILING if lower else decimal.ROUND_FLOOR
    return f"{float(exact.scaleb(-exponent).to_integral_value(rounding).scaleb(exponent)):.{digits}g}"


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


def _clip_in_range(name: str, value: Any, hint: str) -> float:
    """A finite C > 0 inside [:data:`CLIP_MIN`, :data:`CLIP_MAX`] (module docstring)."""
    c = positive(name, value, hint=hint)
    if not CLIP_MIN <= c <= CLIP_MAX:
        interval = f"[{limit_text(CLIP_MIN, lower=True)}, {limit_text(CLIP_MAX, lower=False)}]"
        raise _fail(name, value, f"lies outside {interval} (2^-64 to 2^32), {_FLOAT_RANGE}",
                    "rescale the loss or the clip into that range; " + hint)
    return c


def clip_norm(name: str, value: Any) -> float:
    """A clipping threshold C given as a number (where ``"bound"`` has already been resolved):
    finite, > 0 and inside the float-exact range [2⁻⁶⁴, 2³²] (module docstring)."""
    return _clip_in_range(name, value, CLIP_NORM_HINT)


def clip(name: str, value: Any) -> float | str:
    """The clipping threshold: ``"bound"`` or a finite number > 0 inside the float-exact range
    [2⁻⁶⁴, 2³²] (module docstring), also when given as text (``"0.5"``, ``" bound "``, from a command
    line); any other text is refused."""
    if isinstance(value, str):
        text = value.strip()
        if text == BOUND:
            return BOUND
        try:
            number = float(text)
        except ValueError:
            raise _fail(name, value, "is neither a number nor 'bound'", CLIP_HINT) from None
        return _clip_in_range(name, number, CLIP_HINT)
    return _clip_in_range(name, value, CLIP_HINT)


def noise_multiplier(name: str, value: Any, *, positive_floor: float = NOISE_MULTIPLIER_MIN) -> float:
    """σ = noise standard deviation / clip: 0 (no noise) or a number in the float-exact range
    [2⁻¹⁴, 2¹⁶] (module docstring); a σ > 0 must also be at least ``positive_floor`` (give the
    smallest σ the PLD accountant can account for in bounded memory where σ is accounted)."""
    sigma = non_negative(name, value, hint="0 adds no noise (not private)")
    floor = max(float(positive_floor), NOISE_MULTIPLIER_MIN)
    if 0 < sigma < floor and floor > NOISE_MULTIPLIER_MIN:
        raise ConfigError(
            f"{name}={value!r} is below {floor:g}: the PLD accountant cannot finish in bounded memory "
            f"and the epsilon would be meaningless; use a noise multiplier >= {floor:g} or a target "
            "epsilon (--epsilon)"
        )
    if 0 < sigma < floor:
        smallest = limit_text(NOISE_MULTIPLIER_MIN, lower=True)
        raise _fail(name, value, f"is below {smallest} (2^-14), outside {_FLOAT_RANGE}",
                    f"use 0 (no noise) or a noise multiplier >= {smallest}")
    if sigma > NOISE_MULTIPLIER_MAX:
        raise _fail(name, value, f"is above {NOISE_MULTIPLIER_MAX:g} (2^16), outside {_FLOAT_RANGE}",
                    f"use a noise multiplier <= {NOISE_MULTIPLIER_MAX:g}")
    return sigma


__all__ = [
    "ACCOUNTING_MIN_SIGNAL", "BOUND", "CLIP_HINT", "CLIP_MAX", "CLIP_MIN", "CLIP_NORM_HINT", "DELTA_HINT",
    "MAX_BATCH_ROWS", "NOISE_MULTIPLIER_MAX", "NOISE_MULTIPLIER_MIN", "choice", "clip", "clip_norm", "confidence",
    "delta", "epsilon", "in_interval", "integer", "limit_text", "non_negative", "noise_multiplier", "positive",
    "probability", "seed", "size",
]
