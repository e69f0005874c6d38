"""Check privqml's import contracts (``[tool.importlinter]`` in pyproject.toml) with import-linter.

The repository maps its top-level folders onto one import package (``theory/`` is
``privqml.theory``, see ``[tool.setuptools.package-dir]``), a layout import-linter's graph
builder cannot follow: it walks the folder of ``privqml/__init__.py``. So this script assembles
the package as it is installed — every mapped folder copied to its place under one ``privqml/``
tree in a temporary directory — and runs ``lint-imports`` there against the repository's own
pyproject.toml. It then looks for import cycles between privqml's modules (function-level imports included,
since grimp reads every import statement) and fails on any. Exit status: lint-imports' own, or 1
for a cycle.

    python tools/lint_architecture.py [--root DIR]   # DIR: a copy of the repository (tests use it)
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def assemble(root: Path, into: Path) -> Path:
    """Copy the package folders of ``root`` (per its package-dir mapping) under ``into``/privqml."""
    config = tomllib.loads((root / "pyproject.toml").read_text())
    mapping = config["tool"]["setuptools"]["package-dir"]
    ignore = shutil.ignore_patterns("__pycache__", "results", "*.json", "*.png", "*.md")
    shutil.copytree(root / mapping["privqml"], into / "privqml", ignore=ignore)
    for package, folder in mapping.items():
        if package == "privqml":
            continue
        target = into / Path(*package.split("."))
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(root / folder, target, ignore=ignore)
    shutil.copy(root / "pyproject.toml", into / "pyproject.toml")
    return into


CYCLES = """
import grimp, sys
graph = grimp.build_graph("privqml")
modules = sorted(graph.modules)
index, low, stack, on, comps, counter = {}, {}, [], set(), [], [0]
sys.setrecursionlimit(10000)
def visit(v):
    index[v] = low[v] = counter[0]; counter[0] += 1; stack.append(v); on.add(v)
    for w in sorted(graph.find_modules_directly_imported_by(v)):
        if w not in index:
            visit(w); low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop(); on.discard(w); comp.append(w)
            if w == v:
                break
        if len(comp) > 1:
            comps.append(sorted(comp))
for m in modules:
    if m not in index:
        visit(m)
# a package importing its own submodules (re-exports) is not a cycle of concepts; a submodule importing its own
# package back (even lazily, inside a function) closes one: it depends on everything the package re-exports
def benign(c):
    members = set(c)
    back = [(m, w) for m in c for w in graph.find_modules_directly_imported_by(m) if w in members and m.startswith(w + ".")]
    return all(a.startswith(c[0]) for a in c) and not back
comps = [c for c in comps if not benign(c)]
for c in comps:
    print("import cycle: " + " <-> ".join(c))
print(f"import cycles: {len(comps)}")
sys.exit(1 if comps else 0)
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=REPO, help="repository to check (default: this one)")
    args = parser.parse_args(argv)
    lint = Path(sys.executable).with_name("lint-imports")
    with tempfile.TemporaryDirectory(prefix="privqml-lint-") as tmp:
        tree = assemble(args.root.resolve(), Path(tmp))
        env = {**os.environ, "PYTHONPATH": str(tree)}
        done = subprocess.run([str(lint), "--no-cache", "--config", str(tree / "pyproject.toml")], cwd=tree, env=env,
                              text=True, capture_output=True)
        cycles = subprocess.run([sys.executable, "-c", CYCLES], cwd=tree, env=env, text=True, capture_output=True)
    sys.stdout.write(done.stdout[done.stdout.find("Contracts"):] if "Contracts" in done.stdout else done.stdout)
    sys.stdout.write(cycles.stdout)
    sys.stderr.write(done.stderr + cycles.stderr)
    return done.returncode or cycles.returncode


if __name__ == "__main__":
    sys.exit(main())
