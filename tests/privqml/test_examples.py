"""The README's Python walkthrough and every script in examples/ run as written, and print what they say."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

#: Runs ``script args…`` with ``secrets.randbits`` drawn from a seeded stream, as tests/conftest.py does
#: inside the test process: the audits these scripts end with say ``consistent`` on every run, not 95 %.
ENTROPY_RUNNER = (
    "import os, random, runpy, secrets, sys; "
    "secrets.randbits = random.Random(20261207).getrandbits; "
    "sys.argv = sys.argv[1:]; sys.path[0] = os.path.dirname(os.path.abspath(sys.argv[0])); "
    "runpy.run_path(sys.argv[0], run_name='__main__')"
)


def _run(args, cwd, timeout=900) -> str:
    """``python script args…`` (through :data:`ENTROPY_RUNNER`), or ``python -c code args…`` as given."""
    runner = [] if args[0] == "-c" else ["-c", ENTROPY_RUNNER]
    done = subprocess.run([sys.executable, *runner, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_the_readme_walkthrough_runs_as_written(tmp_path):
    text = (REPO / "README.md").read_text()
    block = re.search(r"<!-- walkthrough: executed by tests/privqml/test_examples.py -->\n```python\n(.*?)```",
                      text, re.S).group(1)
    (tmp_path / "walkthrough.py").write_text(block)
    lines = _run(["walkthrough.py"], tmp_path).strip().splitlines()
    epsilon, g_star = map(float, lines[0].split())
    assert 0 < epsilon <= 2.0 and 0 < g_star < 2
    assert re.fullmatch(r"[01]\.\d+ \[[01] [01]\]", lines[1]), lines[1]
    assert lines[2] == "consistent" and 3 < float(lines[3]) < 5
    assert (tmp_path / "my_run" / "run.json").is_file()


def test_bound_and_verify_example():
    out = _run(["examples/bound_and_verify.py"], REPO)
    assert "weights: ['a', 'b', 'c']" in out and "gradient-norm bound: 1.4142" in out
    assert out.strip().endswith("passed")


def test_train_load_audit_example_predicts_the_recorded_accuracy(tmp_path):
    out = _run(["examples/train_load_audit.py", str(tmp_path / "run")], REPO)
    recorded = float(re.search(r"loaded: test accuracy ([0-9.]+)", out).group(1))
    predicted = float(re.search(r"predict on the test split: accuracy ([0-9.]+)", out).group(1))
    assert predicted == recorded  # predict() is the released model, measured by the run's own rule
    assert "randomness secret" in out and out.strip().endswith("audit of the run: consistent")


def test_keras_example_trains_a_pqc_model_and_the_keras_model_predicts_the_recorded_accuracy(tmp_path):
    out = _run(["examples/keras_private.py", str(tmp_path / "run")], REPO)
    epsilon_rdp, epsilon_pld = map(float, re.search(r"epsilon ([0-9.]+) \(RDP\) / ([0-9.]+) \(PLD\)", out).groups())
    assert epsilon_pld < epsilon_rdp <= 2.0 and "from the bound" in out
    recorded = float(re.search(r"test accuracy recorded ([0-9.]+)", out).group(1))
    keras = float(re.search(r"the Keras model, released weights: accuracy ([0-9.]+)", out).group(1))
    assert keras == recorded and recorded > 0.6
    assert (tmp_path / "run" / "run.json").is_file()


def test_accounting_example():
    out = _run(["examples/accounting.py"], REPO)
    assert "epsilon 2.594 (RDP)" in out and "sigma 3.7744 (calibrated with rdp)" in out


def _shown_values(snippet: str) -> dict:
    """The ``"key": value`` pairs a README snippet shows (numbers, strings, lists of numbers; ``...`` skipped)."""
    pairs = {}
    for key, value in re.findall(r'"(\w+)": ("[^"]*"|\[[^\]]*\]|-?[0-9.]+(?:e-?\d+)?)', snippet):
        if value.startswith('"'):
            if value != '"..."':
                pairs[key] = value.strip('"')
        elif value.startswith("["):
            pairs[key] = [float(v) for v in value.strip("[]").split(",")]
        else:
            pairs[key] = float(value)
    return pairs


def _close(shown, real) -> bool:
    if isinstance(shown, float):
        return abs(float(real) - shown) <= 5e-5 * max(1.0, abs(shown))  # the README rounds to 4 decimals
    if isinstance(shown, list):
        return len(shown) == len(real) and all(_close(s, r) for s, r in zip(shown, real))
    return shown == real


def test_the_readme_json_examples_print_what_the_readme_shows():
    """Every ``$ privqml … --json`` example in the README, run: each value it shows is what the command prints."""
    import json

    examples = re.findall(r"```bash\n\$ (privqml [^\n]*--json[^\n]*)\n(.*?)```", (REPO / "README.md").read_text(), re.S)
    assert examples
    for command, snippet in examples:
        real = json.loads(_run(["-c", "import sys; from privqml.cli import main; sys.exit(main(sys.argv[1:]))",
                                *command.split()[1:]], REPO))
        flat = {**real, **{k: v for d in real.values() if isinstance(d, dict) for k, v in d.items()}}
        shown = _shown_values(snippet)
        assert shown, command
        wrong = {k: (v, flat.get(k)) for k, v in shown.items() if k not in flat or not _close(v, flat[k])}
        assert not wrong, (command, wrong)
