"""Every bad input of ``tools/bad_inputs.py``, in-process: exit status 2, one ``error:`` line, no file left behind.

The cases that train or audit for real (``slow``) are covered by their commands' own tests; the rest
must be refused before any work, so running them all here costs seconds.
"""

from __future__ import annotations

import pathlib
import sys

import pytest

from privqml.cli import main

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools"))

import bad_inputs  # noqa: E402 - tools/ is not a package

FAST = [case for case in bad_inputs.CASES if not case.slow]


def test_the_table_has_at_least_forty_cases_over_every_command():
    commands = {case.argv[0] for case in bad_inputs.CASES}
    assert len(bad_inputs.CASES) >= 40
    assert commands >= {"train", "audit", "compare", "check", "demo", "bound", "verify"}


@pytest.mark.parametrize("case", FAST, ids=[" ".join(case.argv) for case in FAST])
def test_a_bad_input_is_one_line_exit_2_and_leaves_nothing(tmp_path, capsys, monkeypatch, case):
    bad_inputs.prepare(tmp_path)
    monkeypatch.chdir(tmp_path)
    before = {p for p in tmp_path.rglob("*")}
    status = main(bad_inputs.argv_in(case, tmp_path))
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert status == case.expect == 2, captured.err + captured.out
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    assert "Traceback" not in captured.err + captured.out
    assert {p for p in tmp_path.rglob("*")} == before  # nothing created, nothing lost
