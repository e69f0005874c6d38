"""The first things a new user types: ``--version`` and every command's ``--help``."""

from __future__ import annotations

from importlib.metadata import version

import pytest

from privqml.cli import app, main


def test_version_prints_the_installed_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"privqml {version('privqml')}"


@pytest.mark.parametrize("command", [[], *([c.name] for c in app.registered_commands)])
def test_help_shows_no_type_beside_a_flag(command, capsys):
    assert main([*command, "--help"]) == 0
    out = capsys.readouterr().out
    assert "--help" in out and "<bool>" not in out
    if command == ["train"]:
        assert "<float>" in out  # options that take a value still say what they take


def test_verify_leaves_no_hypothesis_folder_in_the_working_directory(tmp_path):
    import os
    import subprocess
    import sys

    work, cache = tmp_path / "work", tmp_path / "cache"
    work.mkdir()
    code = "import sys; from privqml.cli import main; sys.exit(main(sys.argv[1:]))"
    done = subprocess.run([sys.executable, "-c", code, "verify", "hea", "--qubits", "2", "--layers", "1",
                           "--examples", "5"], cwd=work, env={**os.environ, "XDG_CACHE_HOME": str(cache)},
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert list(work.iterdir()) == []
    assert (cache / "privqml" / "hypothesis").is_dir()
