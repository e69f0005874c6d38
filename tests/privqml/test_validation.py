"""One checker per kind of value: accepted values come back canonical, refused ones are one
ConfigError line that echoes name=value and says what to do."""

from __future__ import annotations

import math

import numpy as np
import pytest

from privqml import validation
from privqml.errors import ConfigError


@pytest.mark.parametrize(
    "check,value,expected",
    [
        (lambda v: validation.probability("q", v), 1, 1.0),
        (lambda v: validation.probability("q", v), np.float32(0.25), 0.25),
        (lambda v: validation.delta("delta", v), 1e-5, 1e-5),
        (lambda v: validation.delta("delta", v, allow_zero=True), 0, 0.0),
        (lambda v: validation.epsilon("epsilon", v), math.inf, math.inf),
        (lambda v: validation.epsilon("epsilon", v), 3, 3.0),
        (lambda v: validation.confidence("confidence", v), 0.95, 0.95),
        (lambda v: validation.positive("lr", v), 0.05, 0.05),
        (lambda v: validation.non_negative("noise_multiplier", v), 0, 0.0),
        (lambda v: validation.integer("epochs", v, 1), np.int64(3), 3),
        (lambda v: validation.integer("folds", v, 2, 5), 5, 5),
        (lambda v: validation.size("n_train", v), 7, 7),
        (lambda v: validation.seed("seed", v), 0, 0),
        (lambda v: validation.choice("path", v, ("fast", "stock")), "stock", "stock"),
        (lambda v: validation.choice("clip_rule", v, (None, "max_norm")), None, None),
        (lambda v: validation.clip("clip", v), " bound ", "bound"),
        (lambda v: validation.clip("clip", v), "0.5", 0.5),
        (lambda v: validation.clip("clip", v), 2, 2.0),
        (lambda v: validation.clip_norm("clip", v), 1.5, 1.5),
        (lambda v: validation.noise_multiplier("noise_multiplier", v, positive_floor=0.3), 0.0, 0.0),
        (lambda v: validation.noise_multiplier("noise_multiplier", v, positive_floor=0.3), 0.3, 0.3),
    ],
)
def test_accepted_values_come_back_canonical(check, value, expected):
    got = check(value)
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize(
    "check,value,message",
    [
        (lambda v: validation.probability("sampling_probability", v), 0.0, "sampling_probability=0.0 must lie in (0, 1]"),
        (lambda v: validation.probability("sampling_probability", v), 1.5, "sampling_probability=1.5 must lie in (0, 1]"),
        (lambda v: validation.delta("delta", v), 0, "delta=0 must lie in (0, 1); typically 1e-5, below 1/n_train"),
        (lambda v: validation.delta("delta", v), 1.0, "delta=1.0 must lie in (0, 1)"),
        (lambda v: validation.delta("delta", v, allow_zero=True), -1e-9, "delta=-1e-09 must lie in [0, 1)"),
        (lambda v: validation.epsilon("epsilon", v), 0.0, "epsilon=0.0 must lie in (0, inf]; a positive privacy budget"),
        (lambda v: validation.epsilon("epsilon", v), math.nan, "epsilon=nan must lie in (0, inf]"),
        (lambda v: validation.epsilon("epsilon", v), "1", "epsilon='1' is not a number"),
        (lambda v: validation.confidence("confidence", v), 1.0, "confidence=1.0 must lie in (0, 1); 0.95 is the usual"),
        (lambda v: validation.positive("lr", v), math.inf, "lr=inf must be a finite number > 0"),
        (lambda v: validation.non_negative("x", v), -0.5, "x=-0.5 must be a finite number >= 0"),
        (lambda v: validation.integer("epochs", v, 1), 0, "epochs=0 must be an integer >= 1"),
        (lambda v: validation.integer("epochs", v, 1), 2.0, "epochs=2.0 must be an integer >= 1"),
        (lambda v: validation.integer("epochs", v, 1), True, "epochs=True must be an integer >= 1"),
        (lambda v: validation.integer("folds", v, 2, 4), 5, "folds=5 must be an integer in [2, 4]"),
        (lambda v: validation.size("n_test", v), -1, "n_test=-1 must be an integer >= 1; a number of examples; omit"),
        (lambda v: validation.choice("path", v, ("fast", "stock")), "loop", "path='loop' is unknown; choose one of ['fast', 'stock']"),
        (lambda v: validation.choice("inject", v, ("a",), what="trainer fault"), "b", "inject='b' is not a known trainer fault"),
        (lambda v: validation.choice("path", v, ("fast",)), np.zeros(2), "path=array"),
        (lambda v: validation.clip("clip", v), "median", "clip='median' is neither a number nor 'bound'; use 'bound'"),
        (lambda v: validation.clip("clip", v), "-1", "clip=-1.0 must be a finite number > 0; use 'bound'"),
        (lambda v: validation.clip("clip", v), 0, "clip=0 must be a finite number > 0"),
        (lambda v: validation.clip("clip", v), math.inf, "clip=inf must be a finite number > 0"),
        (lambda v: validation.clip_norm("clip", v), "bound", "clip='bound' is not a number; use a positive number"),
        (lambda v: validation.noise_multiplier("noise_multiplier", v, positive_floor=0.3), 0.01,
         "noise_multiplier=0.01 is below 0.3: the PLD accountant cannot finish in bounded memory"),
        (lambda v: validation.noise_multiplier("noise_multiplier", v), -1, "noise_multiplier=-1 must be a finite number >= 0"),
    ],
)
def test_refused_values_are_one_line_that_echoes_name_and_value(check, value, message):
    with pytest.raises(ConfigError) as info:
        check(value)
    text = str(info.value)
    assert text.startswith(message) and "\n" not in text


def test_every_refusal_of_a_clip_says_what_to_do_and_refuses_a_data_derived_one():
    for value in ("median", "-1", 0.0, math.nan):
        with pytest.raises(ConfigError, match="a clip computed from the training data is a privacy leak and is refused"):
            validation.clip("clip", value)


# -- the float-exact range of C and σ ------------------------------------------------------------
@pytest.mark.parametrize(
    "check,value,expected",
    [
        (lambda v: validation.clip("clip", v), 2.0**-64, 2.0**-64),
        (lambda v: validation.clip("clip", v), "4294967296", 2.0**32),
        (lambda v: validation.clip_norm("clip", v), 2.0**32, 2.0**32),
        (lambda v: validation.noise_multiplier("noise_multiplier", v), 2.0**16, 65536.0),
        (lambda v: validation.noise_multiplier("noise_multiplier", v), 2.0**-14, 2.0**-14),
        (lambda v: validation.noise_multiplier("noise_multiplier", v, positive_floor=0.3), 2.0**16, 65536.0),
    ],
)
def test_the_edges_of_the_float_exact_range_are_accepted(check, value, expected):
    got = check(value)
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize(
    "check,value,message",
    [
        (lambda v: validation.clip("clip", v), 1e-46, "clip=1e-46 lies outside [5.422e-20, 4.294e+09] (2^-64 to 2^32)"),
        (lambda v: validation.clip("clip", v), "1e39", "clip=1e+39 lies outside [5.422e-20, 4.294e+09]"),
        (lambda v: validation.clip("clip", v), 1e-36, "clip=1e-36 lies outside"),
        (lambda v: validation.clip_norm("clip", v), 2.0**32 * (1 + 2.0**-52), "clip=4294967296.000001 lies outside"),
        (lambda v: validation.clip_norm("clip", v), 2.0**-65, "clip=2.710505431213761e-20 lies outside"),
        (lambda v: validation.noise_multiplier("noise_multiplier", v), 1e38,
         "noise_multiplier=1e+38 is above 65536 (2^16), outside the range where DP-SGD's float32 arithmetic"),
        (lambda v: validation.noise_multiplier("noise_multiplier", v), 65536.00000000001,
         "noise_multiplier=65536.00000000001 is above 65536"),
        (lambda v: validation.noise_multiplier("noise_multiplier", v), 1e-6,
         "noise_multiplier=1e-06 is below 6.104e-05 (2^-14), outside the range where"),
        (lambda v: validation.noise_multiplier("noise_multiplier", v), math.nan, "noise_multiplier=nan must be a finite"),
    ],
)
def test_values_outside_the_float_exact_range_are_refused_in_one_line(check, value, message):
    with pytest.raises(ConfigError) as info:
        check(value)
    text = str(info.value)
    assert text.startswith(message) and "\n" not in text, text


def test_the_limits_printed_in_a_refusal_are_themselves_accepted():
    """The message's interval is rounded inward (5.422e-20, not 5.42e-20 < 2⁻⁶⁴): a user who copies
    a printed limit is not refused again."""
    with pytest.raises(ConfigError) as info:
        validation.clip("clip", 1e-46)
    lower, upper = str(info.value).split("[")[1].split("]")[0].split(", ")
    assert validation.clip("clip", lower) == float(lower) and validation.clip("clip", upper) == float(upper)
    assert float(lower) > validation.CLIP_MIN and float(upper) < validation.CLIP_MAX
    smallest = validation.limit_text(validation.NOISE_MULTIPLIER_MIN, lower=True)
    assert validation.noise_multiplier("noise_multiplier", float(smallest)) == float(smallest)
    assert validation.limit_text(55.78, lower=False, digits=3) == "55.7"
    assert validation.limit_text(55.71, lower=True, digits=3) == "55.8"


def test_the_range_implies_the_derived_bounds_on_sigma_times_c():
    """The box C ∈ [2⁻⁶⁴, 2³²], σ ∈ [2⁻¹⁴, 2¹⁶] gives σC ∈ [2⁻⁷⁸, 2⁴⁸] — no noise draw with |z| ≥ 2⁻²⁴
    is flushed after the stock path's division by |B| ≤ 2²⁴ (z·σC/|B| ≥ 2⁻¹²⁶) — and
    N·C + 8σC < 2⁵⁷ (its square, taken by Adam, stays finite in float32)."""
    smallest = validation.NOISE_MULTIPLIER_MIN * validation.CLIP_MIN
    assert smallest == 2.0**-78 and smallest * 2.0**-24 / validation.MAX_BATCH_ROWS == 2.0**-126
    largest = (validation.MAX_BATCH_ROWS + 8 * validation.NOISE_MULTIPLIER_MAX) * validation.CLIP_MAX
    assert largest < 2.0**57 and math.isfinite(float(np.float32(largest) ** 2))
    assert np.float32(2.0**-126) > 0 and np.float32(smallest) == smallest  # normal and exact in float32
