"""Profiles: what each must contain, and the sizes of their sweeps."""

from __future__ import annotations

import dataclasses

import pytest

from privqml.errors import ConfigError
from privqml.paper_checks.profiles import PROFILES, get_profile
from privqml.paper_checks.run import parse_claims, sweep_tasks


def test_profiles_have_what_the_protocol_needs():
    demo, quick, full = PROFILES["demo"], PROFILES["quick"], PROFILES["full"]
    assert demo.indicative and demo.seeds == 1 and all(len(b.epsilons) >= 2 for b in demo.c3_blocks)
    assert not quick.indicative and quick.seeds >= 5 and full.seeds >= quick.seeds
    for profile in PROFILES.values():
        datasets = {b.dataset for b in profile.c3_blocks}
        assert all("bound" in b.clips for b in profile.c3_blocks)
        assert datasets & {"quantum", "circle", "linear"} and any(d.startswith("digits") for d in datasets)
        assert any(d.startswith("digits:") and "," in d for d in profile.c2_datasets)  # multi-class kind
        assert {"dpsgd", "shots", "depolarizing"} <= set(profile.c1_mechanisms)
    assert all(len(b.clips) >= 2 for b in quick.c3_blocks) and set(quick.c2_families) == {"hea", "reupload", "native"}


def test_sweep_sizes():
    sizes = {name: len(sweep_tasks(parse_claims("all"), p)) for name, p in PROFILES.items()}
    # demo: C1 3 audits + 4 counterexamples + 1 step; C3 2 tasks x 3 arms x 1 seed x (1 + 1 clip x 2 eps); C2 3x2x2
    # quick C3: 2 x 3 x 5 x (1 + 2 x 4); full C3: 3 arms x 5 seeds x (3 planes x (1 + 5 x 7) + 6 axes x (1 + 3))
    # (every axis block differs from the planes in n_train or the model, so no record repeats)
    assert sizes == {"demo": 8 + 18 + 12, "quick": 8 + 270 + 32, "full": 8 + 3 * 5 * (3 * 36 + 6 * 4) + 168}
    tasks = sweep_tasks(parse_claims("all"), PROFILES["quick"])
    assert len({t.key for t in tasks}) == len(tasks)  # no two records share an output path
    assert tasks[0].claim == "c1" and tasks[-1].claim == "c2"  # longest tasks first


def test_bad_profiles_and_claims():
    with pytest.raises(ConfigError, match="profile='huge'"):
        get_profile("huge")
    with pytest.raises(ConfigError, match="c3_blocks is empty"):
        dataclasses.replace(PROFILES["demo"], c3_blocks=())
    with pytest.raises(ConfigError, match="both >= 1 and < 1"):
        dataclasses.replace(PROFILES["demo"], c2_clip_ratios=(0.5,))
    assert parse_claims("c3,C1") == ("c1", "c3") and parse_claims(["all"]) == ("c1", "c2", "c3")
    with pytest.raises(ConfigError, match="claim='c9'"):
        parse_claims("c9")


def test_a_profile_on_another_model_replaces_every_quantum_arm_and_rematches_the_classical_ones():
    full = PROFILES["full"]
    spec = "examples/my_ansatz.py:my_ansatz:n_layers=1,sha256=0123456789abcdef"
    mine = full.with_model(spec)
    assert mine.c1_model == spec and mine.c2_families == (spec,)
    assert {b.quantum for b in mine.c3_blocks} == {spec}
    assert all(c.startswith(f"{c.partition(':')[0]}:match=examples/my_ansatz.py%3Amy_ansatz,n_layers=1,sha256=")
               for b in mine.c3_blocks for c in b.classical)
    assert len(set(mine.c3_blocks)) == len(mine.c3_blocks) < len(full.c3_blocks)  # the model axis collapses
    assert {b.dataset for b in mine.c3_blocks} == {b.dataset for b in full.c3_blocks}
    assert (mine.seeds, mine.c2_datasets, mine.c3_confirm) == (full.seeds, full.c2_datasets, full.c3_confirm)


def test_with_device_leaves_a_family_that_cannot_compile_noiseless_and_sizes_the_confirmation():
    """native's parametrised FSim has no fixed decomposition: its device twin would fail every task of its group, so
    it is left out before any run, with the reason in the profile (and C2's report); the confirmation on a device
    is sized for larger effects with fewer fresh seeds."""
    from privqml.models.specs import parse_model_spec
    from privqml.paper_checks.profiles import DEVICE_EFFECT, DEVICE_SEED_CAP, PROFILES

    profile = PROFILES["quick"]
    on = profile.with_device("rainbow")
    device_families = [parse_model_spec(f)[0] for f in on.c2_families if "device" in parse_model_spec(f)[1]]
    assert device_families == ["hea", "reupload"] and "native" in on.c2_families
    assert len(on.device_skipped) == 1 and on.device_skipped[0].startswith("native: gate cirq.FSimGate")
    assert on.to_json()["device_skipped"] == list(on.device_skipped)
    assert on.c3_confirm.effect == DEVICE_EFFECT > profile.c3_confirm.effect
    assert on.c3_confirm.seed_cap == DEVICE_SEED_CAP < profile.c3_confirm.seed_cap
    assert PROFILES["demo"].with_device("rainbow").c3_confirm is None


def test_with_device_puts_the_device_arm_beside_the_noiseless_one():
    """check --device: C1 audits the model on the device, C2 runs every family noiseless and on the device, and
    every C3 block gets a twin with the device arm against the same classical arms."""
    from privqml.models.specs import parse_model_spec
    from privqml.paper_checks.profiles import PROFILES

    profile = PROFILES["demo"]
    on = profile.with_device("rainbow")
    assert parse_model_spec(on.c1_model)[1]["device"] == "rainbow"
    assert on.c2_families[:len(profile.c2_families)] == profile.c2_families
    assert [parse_model_spec(f)[1].get("device") for f in on.c2_families[len(profile.c2_families):]] == \
        ["rainbow"] * len(profile.c2_families)
    assert on.c3_blocks[:len(profile.c3_blocks)] == profile.c3_blocks
    for block, twin in zip(profile.c3_blocks, on.c3_blocks[len(profile.c3_blocks):]):
        # the same classical families, matched to the device model (their own runs, at its C = G*)
        assert [c.partition(":")[0] for c in twin.classical] == [c.partition(":")[0] for c in block.classical]
        assert all(parse_model_spec(c)[1].get("device") == "rainbow" for c in twin.classical)
        assert not set(twin.classical) & set(block.classical)
        assert twin.dataset == block.dataset
        assert parse_model_spec(twin.quantum) == (parse_model_spec(block.quantum)[0],
                                                  {**parse_model_spec(block.quantum)[1], "device": "rainbow"})


def test_c2_report_says_which_family_was_not_run_on_the_device(tmp_path):
    from privqml.paper_checks import c2_clipping_bias
    from privqml.paper_checks.profiles import PROFILES

    on = PROFILES["quick"].with_device("rainbow")
    report = c2_clipping_bias.render(c2_clipping_bias.analyse(on, {}), tmp_path)
    assert [n for n in report.notes if n.startswith("Not run on the device (noiseless only): native: gate")]


def test_the_full_profile_on_a_device_twins_only_the_blocks_it_can_train_and_the_report_lists_the_others(tmp_path):
    from privqml.paper_checks.profiles import DEVICE_MAX_QUBITS, PROFILES
    from privqml.paper_checks.report import write_report

    full = PROFILES["full"]
    on = full.with_device("rainbow")
    wide = [b for b in full.c3_blocks if ":n_qubits=8" in b.quantum]
    assert wide and len(on.c3_blocks) == 2 * len(full.c3_blocks) - len(wide)
    assert all("device" not in b.quantum for b in on.c3_blocks[:len(full.c3_blocks)])
    skipped = [why for why in on.device_skipped if why.startswith("C3 block")]
    assert len(skipped) == len(wide) and all(f"more than {DEVICE_MAX_QUBITS} qubits" in why for why in skipped)
    report, _ = write_report(tmp_path, [], {"profile": "full", "profile_settings": on.to_json()})
    text = report.read_text()
    assert "Left noiseless only (no device arm):" in text and text.count("- C3 block") == len(wide)


def test_a_users_model_on_a_device_is_placed_when_its_model_is_built():
    """with_model(file.py:f) then with_device: the user's ansatz is not a built-in, so with_device does not try to
    build it (its own errors come when its model is built, naming it); it becomes the device arm everywhere."""
    from privqml.models.specs import parse_model_spec
    from privqml.paper_checks.profiles import PROFILES

    from pathlib import Path

    spec = f"{Path(__file__).parents[2] / 'examples' / 'my_ansatz.py'}:my_ansatz"
    on = PROFILES["demo"].with_model(spec).with_device("rainbow")
    assert on.device_skipped == ()
    assert [parse_model_spec(f)[1].get("device") for f in on.c2_families] == [None, "rainbow"]
