"""Atomic writes: whole file or old file, readable permissions, no temp files left behind."""

import os
import stat

import pytest

from privqml.atomic import write_text_atomic


def test_writes_whole_text_creates_parents_and_leaves_no_temp(tmp_path):
    target = tmp_path / "a" / "b" / "run.json"
    write_text_atomic(target, "first")
    write_text_atomic(target, "second")
    assert target.read_text() == "second"
    assert sorted(p.name for p in target.parent.iterdir()) == ["run.json"]
    assert stat.S_IMODE(os.stat(target).st_mode) & 0o044  # group/other can read


def test_failure_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "run.json"
    write_text_atomic(target, "old")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        write_text_atomic(target, "new")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.json"]
