"""``privqml compare``: input errors before any work, and resume after the sweep was killed mid-way."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from privqml.cli import main

SMALL = ["compare", "--quantum", "hea", "--classical", "mlp", "--dataset", "quantum", "--epsilons", "2",
         "--clips", "bound", "--n-train", "48", "--n-test", "24", "--seeds", "2", "--epochs", "1",
         "--batch-size", "16", "--lr", "0.05", "--executor", "serial"]
TOTAL = 2 * 2 * (1 + 1)  # arms x seeds x (reference + 1 clip x 1 ε)


@pytest.mark.parametrize("args, message", [
    (["--clips", "-1"], "clip=-1.0 must be"),
    (["--clips", "2xboundish"], "clip='2xboundish'"),
    (["--epsilons", "abc"], "epsilons: 'abc' is not a number"),
    (["--epsilons", "inf"], "has no finite value"),
    (["--quantum", "mlp"], "quantum='mlp'"),
    (["--classical", "mlp,hea"], "classical='hea'"),
    (["--dataset", "nowhere.npz"], "nowhere.npz"),
    (["--n-train", "0"], "n_train=0"),
    (["--seeds", "0"], "seeds=0"),
    (["--dataset", "digits:3v5", "--n-train", "200,400"], "n_train=200,400: dataset='digits:3v5' trains on the size"),
    (["--lr", "fast"], "lr='fast'"),
    (["--executor", "cloud"], "executor='cloud'"),
])
def test_bad_input_is_one_line_and_status_2_before_any_run(args, message, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["compare", "--out", str(out), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and message in err and len(err.splitlines()) == 1  # one line at any width
    assert not out.exists()  # nothing started


@pytest.mark.parametrize("argv, needles", [
    (["compare", "--seeds", "x"], ("'--seeds'", "see 'privqml compare --help'")),
    (["compare", "--no-such-option", "1"], ("--no-such-option", "see 'privqml compare --help'")),
    (["no-such-command"], ("'no-such-command'", "see 'privqml --help'")),
])
def test_usage_errors_are_one_line_naming_the_option_and_where_to_look(argv, needles, capsys):
    assert main(argv) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert err.startswith("error: ") and len(err.splitlines()) == 1 and not captured.out
    assert all(n in err for n in needles)


def _results(out: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in (out / "runs" / "compare" / "train").glob("*.json")}


def test_killed_comparison_resumes_without_recomputing_finished_runs(tmp_path, capsys):
    out = tmp_path / "cmp"
    argv = [*SMALL, "--out", str(out)]
    proc = subprocess.Popen([sys.executable, "-c", "import sys; from privqml.cli import main; sys.exit(main(sys.argv[1:]))",
                             *argv], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while len(_results(out)) < 2 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGKILL)  # mid-way: some runs stored, others not
    finally:
        proc.wait()
    finished = _results(out)
    assert 2 <= len(finished) < TOTAL, len(finished)
    assert main([*argv, "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    after = _results(out)
    assert len(after) == TOTAL
    assert {name: after[name] for name in finished} == finished  # finished runs were neither redone nor rewritten
    meta = json.loads((out / "results.json").read_text())["meta"]
    assert meta["tasks_skipped"] == len(finished) and meta["tasks_computed"] == TOTAL - len(finished)
    assert printed["verdict"] in ("supported", "not supported", "inconclusive")
    for name in ("report.md", "regime_map.png", "regime_causes.png"):
        assert (out / name).stat().st_size > 1000
