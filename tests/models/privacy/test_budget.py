"""check_budget: one budget check for every command — refusals (one line each, before any work),
the calibrated σ with its margin, memoisation, and no TensorFlow."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest

from privqml import validation
from privqml.errors import ConfigError
from privqml.models.privacy import budget as budget_module
from privqml.models.privacy.accounting import (
    PLD_SIGMA_FLOOR,
    calibrate_noise_multiplier,
    compute_epsilon,
    epsilon_of_event,
    dpsgd_event,
)
from privqml.models.privacy.budget import SIGMA_MARGIN, Budget, check_budget

BASE = dict(epsilon=2.0, delta=1e-5, noise_multiplier=None, n_train=64, batch_size=8, epochs=2)


def test_a_target_epsilon_gives_the_calibrated_sigma_with_its_margin():
    budget = check_budget(**BASE)
    assert isinstance(budget, Budget)
    assert (budget.sampling_probability, budget.steps_per_epoch, budget.steps) == (8 / 64, 8, 16)
    assert budget.noise_multiplier == calibrate_noise_multiplier(2.0, 1e-5, 8 / 64, 16, "rdp") * SIGMA_MARGIN
    assert (budget.calibrated_with, budget.target_epsilon, budget.delta, budget.private) == ("rdp", 2.0, 1e-5, True)
    # the σ applied spends at most the target
    assert compute_epsilon(8 / 64, budget.noise_multiplier, 16, 1e-5, "rdp") <= 2.0
    assert SIGMA_MARGIN == 1.0 + 2.0**-20


def test_a_given_sigma_and_a_non_private_run():
    given = check_budget(**{**BASE, "epsilon": None, "noise_multiplier": 1.3})
    assert (given.noise_multiplier, given.calibrated_with, given.target_epsilon, given.private) == (1.3, None, None, True)
    off = check_budget(**{**BASE, "epsilon": math.inf, "delta": 0.5})  # δ is not a budget without privacy
    assert (off.noise_multiplier, off.calibrated_with, off.private) == (0.0, None, False)
    assert off.steps == 16


def test_calls_are_memoised():
    budget_module._check_budget.cache_clear()
    first = check_budget(**{**BASE, "epsilon": 3.0})
    hits = budget_module._check_budget.cache_info().hits
    assert check_budget(**{**BASE, "epsilon": 3.0}) is first
    assert budget_module._check_budget.cache_info().hits == hits + 1


@pytest.mark.parametrize(
    "changes,start",
    [
        (dict(delta=0.05), "delta=0.05 >= 1/n_train = 0.0156: a mechanism that publishes one training example"),
        (dict(batch_size=65), "batch_size=65 exceeds n_train=64, the number of training examples; use batch_size <= 64"),
        (dict(epsilon=1e6), "epsilon=1e+06 needs noise_multiplier < 0.3, below which the PLD accountant cannot finish"),
        (dict(epsilon=None, noise_multiplier=1e38), "noise_multiplier=1e+38 is above 65536 (2^16)"),
        (dict(epsilon=None, noise_multiplier=0.1), "noise_multiplier=0.1 is below 0.3: the PLD accountant"),
        (dict(clip=1e-46), "clip=1e-46 lies outside [5.422e-20, 4.294e+09]"),
        (dict(clip=1e39), "clip=1e+39 lies outside [5.422e-20, 4.294e+09]"),
        (dict(clip=1e-36), "clip=1e-36 lies outside"),
        (dict(epsilon=None), "give epsilon (target, or inf for no privacy) or noise_multiplier"),
        (dict(noise_multiplier=1.0), "epsilon=2.0 and noise_multiplier=1.0 both given"),
        (dict(n_train=10**7, batch_size=1, epsilon=None, noise_multiplier=2.0, delta=1e-9),
         "noise_multiplier=2.0 at sampling_probability=1e-07: the per-step privacy loss"),
        (dict(epsilon=1e-7), "epsilon=1e-07 needs noise_multiplier > "),
        (dict(epochs=0), "epochs=0 must be an integer >= 1"),
        (dict(accountant="moments"), "accountant='moments' is unknown"),
    ],
)
def test_refusals_are_one_line_naming_the_value(changes, start):
    with pytest.raises(ConfigError) as info:
        check_budget(**{**BASE, **changes})
    text = str(info.value)
    assert text.startswith(start), text
    assert "\n" not in text


def test_a_large_delta_can_be_forced_and_the_clip_range_is_the_validation_one():
    forced = check_budget(**{**BASE, "epsilon": 4.0, "delta": 0.05, "allow_large_delta": True})
    assert forced.noise_multiplier > PLD_SIGMA_FLOOR and forced.delta == 0.05
    for clip in (validation.CLIP_MIN, validation.CLIP_MAX, "bound", " bound ", 1.0):
        assert check_budget(**{**BASE, "clip": clip}) == check_budget(**BASE)


def test_an_unreachable_epsilon_names_the_largest_usable_one_and_that_one_is_accepted():
    """ε = 1000 at the compare defaults (n = 48, L = 8 → q = 1/6, 2 epochs → T = 12): calibration
    returns σ below the PLD floor, and check_budget refuses without calibrating, naming
    ε_RDP(0.3) rounded down; that ε itself is accepted with σ >= 0.3."""
    q, steps = 8 / 48, 12
    assert calibrate_noise_multiplier(1000.0, 1e-5, q, steps, "rdp") < PLD_SIGMA_FLOOR
    floor_eps = compute_epsilon(q, PLD_SIGMA_FLOOR, steps, 1e-5, "rdp")
    args = dict(BASE, n_train=48, batch_size=8, epochs=2)
    budget_module._calibrated_sigma.cache_clear()
    with pytest.raises(ConfigError) as info:
        check_budget(**{**args, "epsilon": 1000.0})
    assert budget_module._calibrated_sigma.cache_info().misses == 0  # refused before any calibration
    usable = float(str(info.value).split("use epsilon <= ")[1].split(" ")[0])
    assert floor_eps * (1 - 1e-2) <= usable <= floor_eps  # 3 significant digits, rounded down
    accepted = check_budget(**{**args, "epsilon": usable})
    assert accepted.noise_multiplier >= PLD_SIGMA_FLOOR


@pytest.mark.parametrize("accountant", ["rdp", "pld"])
def test_the_pld_accountant_is_refused_the_same_epsilons(accountant):
    with pytest.raises(ConfigError, match=r"^epsilon=1000 needs noise_multiplier < 0.3"):
        check_budget(**{**BASE, "epsilon": 1000.0, "accountant": accountant})
    budget = check_budget(**{**BASE, "epsilon": 3.0, "accountant": accountant})
    sigma = budget.noise_multiplier / SIGMA_MARGIN
    assert epsilon_of_event(dpsgd_event(8 / 64, sigma, 16), 1e-5, accountant) <= 3.0


def test_budget_imports_no_tensorflow():
    code = ("import sys; import privqml.models.privacy.budget; from privqml.models.privacy import check_budget, "
            "Budget; assert 'tensorflow' not in sys.modules, 'tensorflow was imported'; print('ok')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


@pytest.mark.parametrize("epsilon", [1e-7, 1e-3, 0.05, 0.5, 4.0, 60.0, 1000.0])
@pytest.mark.parametrize("n_train,batch_size,epochs", [(64, 8, 2), (400, 32, 10), (5000, 16, 1)])
def test_checking_without_calibrating_refuses_exactly_what_calibrating_refuses(epsilon, n_train, batch_size, epochs):
    """calibrate=False (a sweep's checks before its first run) skips only the calibration: ε(σ) decreases in σ,
    so a target is reachable in [0.3, σ_max(q)] iff it lies between ε at the two ends."""
    kwargs = dict(epsilon=epsilon, delta=1e-5, noise_multiplier=None, n_train=n_train, batch_size=batch_size,
                  epochs=epochs)
    try:
        full = check_budget(**kwargs)
    except ConfigError as refused:
        with pytest.raises(ConfigError) as also:
            check_budget(**kwargs, calibrate=False)
        assert str(also.value).split(":")[0] == str(refused).split(":")[0]
    else:
        quick = check_budget(**kwargs, calibrate=False)
        assert quick.noise_multiplier is None and full.noise_multiplier >= 0.3
        assert (quick.sampling_probability, quick.steps) == (full.sampling_probability, full.steps)
