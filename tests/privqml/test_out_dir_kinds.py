"""An --out folder holds one command's output: train, compare and check refuse a folder of another's, in one
line with exit status 2, before any work (and the folder is left as it was)."""

from __future__ import annotations

import json

import pytest

from privqml.cli import main
from privqml.models.training import runio

TRAIN = ["train", "--model", "hea", "--qubits", "2", "--layers", "1", "--dataset", "circle", "--epochs", "1",
         "--n-train", "40", "--n-test", "20"]
COMPARE = ["compare", "--quantum", "hea", "--qubits", "2", "--layers", "1", "--classical", "mlp", "--dataset", "circle",
           "--seeds", "2", "--epochs", "1", "--epsilons", "1"]
CHECK = ["check", "c1", "--profile", "quick"]


def _folder(tmp_path, kind):
    out = tmp_path / kind
    out.mkdir()
    if kind == "old-run":  # written before markers: recognised by its files
        (out / "run.json").write_text("{}")
    else:
        (out / runio.OUTPUT_MARKER).write_text(json.dumps({"kind": kind}))
    return out


@pytest.mark.parametrize("kind,command,holds", [
    ("old-run", COMPARE, "a training run"),
    ("old-run", CHECK, "a training run"),
    ("comparison", TRAIN, "a comparison"),
    ("comparison", CHECK, "a comparison"),
    ("checks", COMPARE, "the paper checks"),
    ("run", COMPARE, "a training run"),
])
def test_a_folder_of_another_command_is_refused(tmp_path, capsys, kind, command, holds):
    out = _folder(tmp_path, kind)
    before = sorted(p.name for p in out.iterdir())
    status = main(command + ["--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert status == 2 and len(err.splitlines()) == 1
    assert f"holds the output of {holds}" in err and "give another directory" in err
    assert sorted(p.name for p in out.iterdir()) == before


def test_a_run_marks_its_folder_and_resumes_in_it(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(TRAIN + ["--out", str(out)]) == 0
    assert json.loads((out / runio.OUTPUT_MARKER).read_text()) == {"kind": "run"}
    assert runio.output_kind(out) == "run"
    assert main(TRAIN + ["--out", str(out)]) == 0  # the same run: found, not refused
    printed = capsys.readouterr()
    assert "already holds this run" in printed.out + printed.err
