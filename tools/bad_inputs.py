"""Every bad input we know of, across the commands, run as a user would: a table of exit status and first line.

    python tools/bad_inputs.py [--out notes/bad_inputs.md] [--only SUBSTRING]

Each case runs ``privqml ...`` in a fresh process (its own interpreter, as from a shell) inside a
scratch folder holding the data files the cases need, and records the exit status, the first line
printed on stderr (or stdout), the wall time, and whether the command left any new file or folder
behind in the scratch folder (a refused command must lose nothing and create nothing). Every case
is expected to end with status 2 and one line, except those marked ``expect=0`` (inputs at the edge
that must work, e.g. a readout scale of 1e20 whose release must stay finite). The same list is run
in-process by ``tests/privqml/test_bad_inputs.py``.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import numpy as np

TINY = ("--epochs", "1", "--batch-size", "4")


@dataclasses.dataclass(frozen=True)
class Case:
    """One command line (``{dir}`` is the scratch folder) and the exit status it must end with."""

    argv: tuple[str, ...]
    expect: int = 2
    slow: bool = False  # trains or audits for real: the in-process test leaves it to the command's own tests


def _case(*argv: str, expect: int = 2, slow: bool = False) -> Case:
    return Case(tuple(argv), expect, slow)


CASES: tuple[Case, ...] = (
    # train: budgets and float edges
    _case("train", "--clip", "1e-46", *TINY),
    _case("train", "--clip", "1e39", *TINY),
    _case("train", "--clip", "1e-36", *TINY),
    _case("train", "--clip", "nan", *TINY),
    _case("train", "--clip", "-1", *TINY),
    _case("train", "--noise-multiplier", "1e38", *TINY),
    _case("train", "--noise-multiplier", "0.01", *TINY),
    _case("train", "--epsilon", "1000", *TINY),
    _case("train", "--epsilon", "0", *TINY),
    _case("train", "--delta", "0.5", *TINY),
    _case("train", "--delta", "0", *TINY),
    _case("train", "--epsilon", "1", "--noise-multiplier", "1", *TINY),
    _case("train", "--batch-size", "5000", "--epochs", "1"),
    _case("train", "--epochs", "0"),
    _case("train", "--seed", "-1", *TINY),
    _case("train", "--model", "cnn", *TINY),
    _case("train", "--model", "mlp:clamp=0", "--loss", "bce_prob", "--clip", "1", *TINY),
    _case("train", "--model", "mlp:clamp=-0.1", "--loss", "bce_prob", "--clip", "1", *TINY),
    _case("train", "--model", "hea", "--loss", "bce_prob", "--clip", "1", *TINY),
    _case("train", "--preprocessing", "magic", "--dataset", "digits:3v5", *TINY),
    _case("train", "--dataset", "digits:3v5", "--n-train", "50", *TINY),
    _case("train", "--dataset", "mnist", *TINY),
    _case("train", "--dataset", "{dir}/missing.csv", *TINY),
    _case("train", "--dataset", "{dir}/user.csv", *TINY),
    _case("train", "--dataset", "{dir}/user_nopublic.npz", *TINY),
    _case("train", "--dataset", "{dir}/labels12.csv", "--feature-range", "0,1", *TINY),
    _case("train", "--dataset", "{dir}/nan.npz", *TINY),
    _case("train", "--dataset", "{dir}/dup_public.npz", *TINY),
    _case("train", "--dataset", "{dir}/empty_public.npz", *TINY),
    _case("train", "--dataset", "{dir}/user.csv", "--feature-range", "1,0", *TINY),
    _case("train", "--dataset", "quantum", "--feature-range", "0,1", *TINY),
    _case("train", "--out", "{dir}/a_file", *TINY),
    _case("train", "--out", "{dir}/a_file/sub", *TINY),
    _case("train", "--model", "hea:scale=1e20", "--clip", "1", "--n-train", "24", "--n-test", "8", *TINY,
          expect=0, slow=True),
    _case("train", "--model", "hea:scale=1e20", "--clip", "1", "--path", "stock", "--n-train", "24", "--n-test", "8",
          *TINY, expect=0, slow=True),
    # audit
    _case("audit", "--run", "{dir}/no_such_run"),
    _case("audit", "--epsilon", "1000"),
    _case("audit", "--delta", "0.5"),
    _case("audit", "--delta", "0.02"),
    _case("audit", "--clip", "1e-46"),
    _case("audit", "--clip", "1e39"),
    _case("audit", "--mechanism", "telepathy"),
    _case("audit", "--inject", "gremlins"),
    _case("audit", "--trials", "5"),
    # compare
    _case("compare", "--epsilons", "1000", "--out", "{dir}/cmp"),
    _case("compare", "--delta", "0.5", "--out", "{dir}/cmp"),
    _case("compare", "--clips", "1e-46", "--out", "{dir}/cmp"),
    _case("compare", "--clips", "1e39", "--out", "{dir}/cmp"),
    _case("compare", "--epsilons", "abc", "--out", "{dir}/cmp"),
    _case("compare", "--quantum", "cnn", "--out", "{dir}/cmp"),
    _case("compare", "--seeds", "0", "--out", "{dir}/cmp"),
    _case("compare", "--out", "{dir}/a_file"),
    _case("compare", "--out", "{dir}/a_file/sub"),
    # check and demo
    _case("compare", "--out", "{dir}/a_run"),
    _case("check", "--out", "{dir}/a_run"),
    _case("train", "--out", "{dir}/a_comparison", *TINY),
    _case("check", "--out", "{dir}/a_file"),
    _case("check", "--out", "{dir}/a_file/sub"),
    _case("check", "c9", "--out", "{dir}/chk"),
    _case("check", "--profile", "enormous", "--out", "{dir}/chk"),
    _case("demo", "--out", "{dir}/a_file"),
    # bound and verify
    _case("bound", "no_such_ansatz"),
    _case("bound", "hea", "--qubits", "0"),
    _case("bound", "hea", "--observable", "Q5"),
    _case("verify", "hea", "--examples", "0"),
    _case("verify", "hea", "--engines", "abacus"),
)


def prepare(folder: pathlib.Path) -> None:
    """The data files the cases refer to, in ``folder``."""
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, size=(40, 3))
    y = np.arange(40) % 2
    np.savetxt(folder / "user.csv", np.column_stack([x, y]), delimiter=",")
    np.savetxt(folder / "labels12.csv", np.column_stack([x, y + 1]), delimiter=",")
    np.savez(folder / "user_nopublic.npz", x_train=x[:30], y_train=y[:30], x_test=x[30:], y_test=y[30:])
    bad = x.copy()
    bad[2, 1] = np.nan
    np.savez(folder / "nan.npz", x_train=bad[:30], y_train=y[:30], x_test=x[30:], y_test=y[30:])
    np.savez(folder / "dup_public.npz", x_train=x[:30], y_train=y[:30], x_test=x[30:], y_test=y[30:],
             x_public=x[5:8])
    np.savez(folder / "empty_public.npz", x_train=x[:30], y_train=y[:30], x_test=x[30:], y_test=y[30:],
             x_public=np.zeros((0, 3)))
    (folder / "a_file").write_text("not a folder\n")
    (folder / "a_run").mkdir()  # another command's output: a training run, a comparison
    (folder / "a_run" / "run.json").write_text("{}\n")
    (folder / "a_comparison").mkdir()
    (folder / "a_comparison" / ".privqml-output.json").write_text('{"kind": "comparison"}\n')


def argv_in(case: Case, folder: pathlib.Path) -> list[str]:
    return [part.replace("{dir}", str(folder)) for part in case.argv]


def _listing(folder: pathlib.Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def run_case(case: Case, folder: pathlib.Path) -> dict:
    before = _listing(folder)
    started = time.perf_counter()
    proc = subprocess.run([str(pathlib.Path(sys.executable).parent / "privqml"), *argv_in(case, folder)], capture_output=True, text=True,
                          cwd=folder, env={**os.environ, "PYTHONWARNINGS": "ignore"}, timeout=1800)
    seconds = time.perf_counter() - started
    text = proc.stderr.strip() or proc.stdout.strip()
    lines = [line for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    first = errors[0] if errors else (lines[0] if lines else "")
    created = sorted(_listing(folder) - before)
    return {"argv": " ".join(case.argv), "status": proc.returncode, "expect": case.expect, "first_line": first,
            "error_lines": len(errors), "seconds": seconds, "created": created}


def markdown(rows: list[dict]) -> str:
    out = ["| # | command | exit | expected | seconds | first line | new files |", "|---|---|---|---|---|---|---|"]
    for i, row in enumerate(rows, 1):
        line = row["first_line"].replace("|", "\\|")
        out.append(f"| {i} | `privqml {row['argv']}` | {row['status']} | {row['expect']} | {row['seconds']:.1f} | "
                   f"{line} | {', '.join(row['created']) or '—'} |")
    bad = [r for r in rows if r["status"] != r["expect"] or (r["expect"] == 2 and (r["error_lines"] != 1 or r["created"]))]
    out.append("")
    out.append(f"{len(rows)} cases, {len(rows) - len(bad)} as expected"
               + (f"; NOT as expected: {', '.join(r['argv'] for r in bad)}" if bad else ""))
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="write the markdown table here as well")
    parser.add_argument("--only", default="", help="run only the cases whose command line contains this")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="privqml-bad-inputs-") as scratch:
        folder = pathlib.Path(scratch)
        prepare(folder)
        for case in CASES:
            if args.only in " ".join(case.argv):
                rows.append(run_case(case, folder))
                print(f"[{len(rows)}] exit {rows[-1]['status']} in {rows[-1]['seconds']:.1f} s: privqml "
                      f"{rows[-1]['argv']}", file=sys.stderr, flush=True)
    table = markdown(rows)
    print(table)
    if args.out:
        pathlib.Path(args.out).write_text(f"Made by `python tools/bad_inputs.py --out {args.out}`.\n\n" + table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
