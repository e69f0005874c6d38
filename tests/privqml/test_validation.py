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
