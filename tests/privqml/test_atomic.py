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


def test_figures_are_saved_whole_closed_and_a_failed_save_keeps_the_old_png(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from privqml.atomic import save_figure_atomic

    target = tmp_path / "plots" / "curve.png"
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    assert save_figure_atomic(fig, target) == target
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not plt.fignum_exists(fig.number)  # closed: long sweeps do not pile up figures
    old = target.read_bytes()

    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    fig.savefig = lambda *a, **k: (_ for _ in ()).throw(RuntimeError("renderer failed"))
    with pytest.raises(RuntimeError, match="renderer failed"):
        save_figure_atomic(fig, target)
    assert target.read_bytes() == old
    assert sorted(p.name for p in target.parent.iterdir()) == ["curve.png"]
    assert not plt.fignum_exists(fig.number)
