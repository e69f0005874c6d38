"""The layering is a checked contract: import-linter keeps it, and it breaks when an import runs upwards."""

from __future__ import annotations

import shutil
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools"))
import lint_architecture  # noqa: E402 - the repository's own checker script, not an installed module


def _copy_of_repo(tmp_path: Path) -> Path:
    """The package folders and pyproject.toml of this repository, to be broken on purpose."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    root = tmp_path / "repo"
    for folder in set(config["tool"]["setuptools"]["package-dir"].values()):
        shutil.copytree(REPO / folder, root / folder, ignore=shutil.ignore_patterns("__pycache__", "results"))
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    return root


def _prepend(path: Path, line: str) -> None:
    text = path.read_text()
    marker = "from __future__ import annotations\n"
    path.write_text(text.replace(marker, marker + line + "\n", 1) if marker in text else line + "\n" + text)


def test_the_contracts_are_kept_and_there_is_no_cycle(capsys):
    status = lint_architecture.main([])
    out = capsys.readouterr().out
    assert "Contracts: 7 kept, 0 broken." in out, out
    assert "import cycles: 0" in out, out
    assert status == 0


@pytest.mark.parametrize(
    "module,line,broken",
    [
        ("theory/bounds.py", "import privqml.models.zoo", "no import runs upwards"),
        ("models/training/trainer.py", "import privqml.verify.audit.one_step", "no import runs upwards"),
        ("verify/engines.py", "import privqml.verify.audit.distinguishing", "privacy audit sits above"),
        ("models/privacy/accounting.py", "import privqml.models.training.records", "training -> privacy -> data"),
        ("theory/sup.py", "import tensorflow", "theory imports no TensorFlow"),
        ("theory/bounds.py", "import tensorcircuit", "theory imports no TensorFlow"),
        ("theory/loss.py", "import dp_accounting", "theory imports no TensorFlow"),
        # the ground floor: no layer, no TensorFlow (validation.py importing tensorflow used to pass)
        ("privqml/validation.py", "import tensorflow", "the ground floor"),
        ("privqml/jsonio.py", "import privqml.theory.ansatz", "the ground floor"),
        ("privqml/errors.py", "import privqml.models.specs", "the ground floor"),
        ("privqml/atomic.py", "import privqml.paper_checks.stats", "the ground floor"),
        ("privqml/progress.py", "import privqml.cli", "the ground floor"),
        ("privqml/stack.py", "import cirq", "the ground floor"),
        # the entry points on top
        ("models/zoo.py", "import privqml.api", "sit on top"),
        ("verify/runner.py", "import privqml.cli.verify", "sit on top"),
        ("paper_checks/stats.py", "import privqml.api", "sit on top"),
        ("verify/audit/report.py", "import privqml.keras", "sit on top"),
        # the mechanism knows no model
        ("models/privacy/dpsgd.py", "import privqml.models.zoo", "imports no model, engine or trainer"),
        ("models/privacy/clipping.py", "import privqml.models.quantum", "imports no model, engine or trainer"),
        ("models/privacy/fused.py", "import privqml.models.engines.vectorised", "imports no model, engine or trainer"),
        # and the layers themselves, at every floor
        ("models/data/catalog.py", "import privqml.models.privacy.dpsgd", "training -> privacy -> data"),
        ("verify/strategies.py", "import privqml.paper_checks.stats", "no import runs upwards"),
        ("paper_checks/stats.py", "import privqml.cli", "no import runs upwards"),
    ],
)
def test_an_upward_import_breaks_a_contract(tmp_path, capsys, module, line, broken):
    root = _copy_of_repo(tmp_path)
    _prepend(root / module, line)
    status = lint_architecture.main(["--root", str(root)])
    out = " ".join(capsys.readouterr().out.split())
    assert status != 0
    assert f"{broken}" in out and "BROKEN" in out, out


def test_a_cycle_is_found(tmp_path, capsys):
    root = _copy_of_repo(tmp_path)
    _prepend(root / "theory/pauli.py", "import privqml.theory.bounds")  # bounds already imports pauli
    status = lint_architecture.main(["--root", str(root)])
    out = capsys.readouterr().out
    cycles = [line for line in out.splitlines() if line.startswith("import cycle:")]
    assert status != 0 and any("privqml.theory.bounds" in c and "privqml.theory.pauli" in c for c in cycles), out


def test_a_lazy_import_that_closes_a_cycle_through_a_package_init_is_found(tmp_path, capsys):
    """theory/__init__ re-exports bounds, bounds imports pauli: pauli importing the package back, even inside a
    function, is a cycle of concepts (it used to be filtered out as a package's own re-exports)."""
    root = _copy_of_repo(tmp_path)
    pauli = root / "theory/pauli.py"
    pauli.write_text(pauli.read_text() + "\n\ndef _lazy_back():\n    from privqml.theory import gradient_bound\n\n"
                     "    return gradient_bound\n")
    status = lint_architecture.main(["--root", str(root)])
    out = capsys.readouterr().out
    assert status != 0 and "import cycle:" in out and "privqml.theory.pauli" in out, out
