"""``make bench`` = ``python -m benchmarks.run``: run the benchmarks, write latest.json / latest.md.

Benchmarks (``--only NAME[,NAME]``):

==============  ====================================================================  ========
name            what                                                                  default
==============  ====================================================================  ========
dp_quantum      DP step on hea/reupload, 4/8/12 qubits, batch 32/64: fast vs stock    yes
                TF Privacy vs non-private (:mod:`benchmarks.dp_steps`)
dp_classical    DP step on the matched classical baselines: vectorised vs stock       yes
bound           bound derivation vs circuit size next to one adjoint gradient, one    yes
                core, growth exponent fitted (:mod:`benchmarks.bound_scaling`)
property        Hypothesis property-test throughput per gradient engine               yes
                (:mod:`benchmarks.property_throughput`)
check           wall time of ``privqml check --profile quick`` and per-task times     no: long,
                (:mod:`benchmarks.check_profile`)                                     ask for it
==============  ====================================================================  ========

``check`` runs only when named (``python -m benchmarks.run --only check``): it trains every
model of the quick paper-check profile and takes minutes.

Options: ``--repeats N`` (repetitions per figure; each benchmark has its own default),
``--quick`` (small sizes, 2 repetitions: a smoke run), ``--no-prototypes`` (skip the
out-of-tree prototypes measured next to the code in the tree), ``--out DIR``.

Results are *merged* into ``DIR/latest.json`` section by section (a later ``--only check``
keeps the other sections), each section carrying its own machine record and exact command;
``latest.md`` is regenerated from the merged file after every section, atomically.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Callable

from benchmarks import harness, report

SCHEMA = "privqml-bench/1"


@dataclasses.dataclass(frozen=True)
class Benchmark:
    name: str
    module: str
    default: bool

    def load(self):
        import importlib

        return importlib.import_module(self.module)


BENCHMARKS = (
    Benchmark("dp_quantum", "benchmarks.dp_steps", True),
    Benchmark("dp_classical", "benchmarks.dp_steps", True),
    Benchmark("bound", "benchmarks.bound_scaling", True),
    Benchmark("property", "benchmarks.property_throughput", True),
    Benchmark("check", "benchmarks.check_profile", False),
)
ORDER = [b.name for b in BENCHMARKS]


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description="privqml benchmarks: medians with min-max, ratios measured side by side.",
    )
    parser.add_argument("--only", default=None,
                        help=f"comma-separated subset of {','.join(ORDER)} (default: all but 'check', which is long)")
    parser.add_argument("--repeats", type=int, default=None, help="repetitions per figure (default per benchmark)")
    parser.add_argument("--quick", action="store_true", help="small sizes and 2 repetitions (smoke run)")
    parser.add_argument("--no-prototypes", dest="prototypes", action="store_false",
                        help="do not time the out-of-tree prototypes of proposed speed changes")
    parser.add_argument("--out", default=str(harness.RESULTS_DIR), help="results directory")
    parser.add_argument("--render-only", action="store_true",
                        help="measure nothing: re-judge the targets, redraw the PNGs and rewrite latest.md "
                             "from the stored latest.json")
    args = parser.parse_args(argv)
    if args.only:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in names if n not in ORDER]
        if unknown:
            parser.error(f"--only: unknown benchmark(s) {unknown}; choose from {ORDER}")
        args.selected = [n for n in ORDER if n in names]
    else:
        args.selected = [b.name for b in BENCHMARKS if b.default]
    if args.repeats is not None and args.repeats < 1:
        parser.error(f"--repeats={args.repeats} must be >= 1")
    if args.quick and args.repeats is None:
        args.repeats = 2
    return args


def _load(path: Path) -> dict:
    try:
        payload = json.loads(path.read_text())
        if payload.get("schema") == SCHEMA:
            return payload
    except (OSError, ValueError):
        pass
    return {"schema": SCHEMA, "sections": {}}


def _renderers() -> dict[str, Callable[[dict], str]]:
    out = {}
    for bench in BENCHMARKS:
        module = bench.load()
        render = getattr(module, "markdown_for", None)
        out[bench.name] = (lambda s, r=render, n=bench.name: r(n, s)) if render else module.markdown
    return out


def write_outputs(out_dir: Path, payload: dict) -> None:
    payload["updated_at"] = harness.now_iso()
    harness.atomic_write_json(out_dir / "latest.json", payload)
    harness.atomic_write_text(out_dir / "latest.md", report.render(payload, _renderers(), ORDER))


def run_one(bench: Benchmark, args, argv) -> dict:
    module = bench.load()
    started_at, machine = harness.now_iso(), harness.machine_info()
    start = time.perf_counter()
    try:
        runner = getattr(module, "run_named", None)
        section = runner(bench.name, args) if runner else module.run(args)
    except Exception as exc:  # record and go on with the other benchmarks
        section = {"status": "error", "error": "".join(traceback.format_exception(exc))[-4000:],
                   "title": getattr(module, "TITLE", bench.name), "targets": []}
    section.setdefault("elapsed_s", time.perf_counter() - start)
    section.update(
        command=harness.command_line(argv),
        machine=machine,
        load_average_at_end=[round(v, 2) for v in os.getloadavg()],
        started_at=started_at,
        finished_at=harness.now_iso(),
        quick=bool(args.quick),
    )
    return section


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    payload = _load(out_dir / "latest.json")
    if args.render_only:
        for bench in BENCHMARKS:
            section = payload.get("sections", {}).get(bench.name)
            if not section or section.get("status") not in ("ok", "incomplete"):
                continue
            module = bench.load()
            if hasattr(module, "resummarise"):
                module.resummarise(bench.name, section)
            plot = getattr(module, "plot_for", None)
            section["figures"] = (plot(bench.name, section, out_dir) if plot
                                  else getattr(module, "plot", lambda s, d: [])(section, out_dir))
        write_outputs(out_dir, payload)
        print(f"re-rendered {out_dir / 'latest.md'} from latest.json", file=sys.stderr)
        return 0
    if "check" not in args.selected:
        print("note: the 'check' benchmark (privqml check --profile quick) is long and runs only "
              "with --only check", file=sys.stderr)
    status = 0
    for bench in BENCHMARKS:
        if bench.name not in args.selected:
            continue
        print(f"== {bench.name}", file=sys.stderr, flush=True)
        section = run_one(bench, args, argv)
        plot = getattr(bench.load(), "plot_for", None)
        try:
            section["figures"] = (plot(bench.name, section, out_dir) if plot else
                                  getattr(bench.load(), "plot", lambda s, d: [])(section, out_dir))
        except Exception as exc:
            section["figures"] = []
            section["plot_error"] = f"{type(exc).__name__}: {exc}"
        payload = _load(out_dir / "latest.json")  # merge into the file as it is now (other runs may have written)
        payload.setdefault("sections", {})[bench.name] = section
        payload["machine"], payload["command"] = section["machine"], section["command"]
        write_outputs(out_dir, payload)
        if section.get("status") == "error":
            status = 1
            print(f"== {bench.name}: error (recorded in latest.json)\n{section['error'][-1500:]}", file=sys.stderr)
        for t in section.get("targets", []):
            verdict = "info" if t.get("info") else {True: "met", False: "MISSED", None: "not measured"}[t["met"]]
            print(f"   target {t['target']}: {t['measured']} [{verdict}]", file=sys.stderr)
    print(f"wrote {out_dir / 'latest.json'} and {out_dir / 'latest.md'}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
