"""`privqml bound`: JSON keys, values consistent with the API, clear errors with exit 2."""

from __future__ import annotations

import json
import textwrap

import pytest

import privqml.theory as theory
from privqml.cli import main
from privqml.theory import gradient_bound, hea


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_bound_json_has_the_documented_keys(capsys):
    code, out, _ = run(capsys, "bound", "hea", "--qubits", "3", "--layers", "2", "--observable", "sumZ", "--json")
    assert code == 0
    data = json.loads(out)
    expected = gradient_bound(hea(3, 2, "sumZ"))
    assert data["n_qubits"] == 3 and data["n_weights"] == 12
    assert data["observable_range"] == [-3.0, 3.0]
    assert data["grad_norm_bound"] == pytest.approx(expected.grad_norm_bound)
    assert data["naive_bound"] == pytest.approx(expected.naive_bound)
    assert set(data["per_weight"]) == set(expected.weight_names)
    assert data["loss"] == "bce_logits" and data["loss_grad_norm_bound"] > 0
    assert isinstance(data["expression"], str)


def test_bound_reports_unbounded_loss_with_reason(capsys):
    code, out, _ = run(capsys, "bound", "hea", "--qubits", "2", "--layers", "1", "--loss", "bce_prob", "--json")
    data = json.loads(out)
    assert code == 0 and data["loss_grad_norm_bound"] is None and "clamp" in data["loss_unbounded_reason"]


def test_bound_table_and_latex(capsys):
    code, out, _ = run(capsys, "bound", "reupload", "--qubits", "2", "--layers", "1")
    assert code == 0 and "naive bound" in out and "w0_0" in out
    code, out, _ = run(capsys, "bound", "reupload", "--qubits", "2", "--layers", "1", "--latex")
    assert code == 0 and r"\nabla_\theta" in out and "x_{0}" in out


def test_latex_derives_the_bound_once(capsys, monkeypatch):
    calls = []
    real = theory.gradient_bound
    monkeypatch.setattr(theory, "gradient_bound", lambda a, **kw: calls.append(a.name) or real(a, **kw))
    code, out, _ = run(capsys, "bound", "hea", "--qubits", "2", "--layers", "1", "--latex")
    assert code == 0 and out.strip() == real(hea(2, 1)).to_latex() and len(calls) == 1


def test_unbounded_json_writes_inf_strings(tmp_path, capsys):
    path = tmp_path / "singular.py"
    path.write_text(textwrap.dedent(
        """
        import cirq, sympy
        from privqml.theory import Ansatz

        def build():
            q = cirq.LineQubit(0)
            w, x = sympy.symbols("w x")
            return Ansatz(cirq.Circuit(cirq.ry(w / x).on(q)), (w,), (x,), (cirq.PauliSum.wrap(cirq.X(q)),),
                          input_domain=((-1.0, 1.0),), name="singular")
        """
    ))
    code, out, _ = run(capsys, "bound", f"{path}:build", "--json")
    data = json.loads(out)  # strict JSON (privqml.jsonio): an infinite bound is the string "inf"
    assert code == 0 and data["grad_norm_bound"] == "inf" and data["per_weight"] == {"w": "inf"}
    assert data["bounded"] is False and "1/(pi*x)" in data["unbounded_reason"]
    assert data["loss_grad_norm_bound"] is None and data["loss_bounded"] is False


def test_user_ansatz_file(tmp_path, capsys):
    path = tmp_path / "mine.py"
    path.write_text(textwrap.dedent(
        """
        import cirq, sympy
        from privqml.theory import Ansatz

        def build():
            q = cirq.LineQubit(0)
            t = sympy.Symbol("t")
            return Ansatz(cirq.Circuit(cirq.rx(t).on(q)), (t,), (), (cirq.PauliSum.wrap(cirq.Z(q)),), name="mine")
        """
    ))
    code, out, _ = run(capsys, "bound", f"{path}:build", "--json")
    assert code == 0 and json.loads(out)["grad_norm_bound"] == pytest.approx(1.0)


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["bound", "nosuch"], "not built in"),
        (["bound", "hea", "--qubits", "0"], "n_qubits=0"),
        (["bound", "hea", "--observable", "Z9"], "qubit 9"),
        (["bound", "hea", "--loss", "cross"], "not known"),
        (["bound", "missing.py:f"], "not found"),
    ],
)
def test_bad_input_is_one_clear_message(capsys, argv, needle):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert needle in " ".join((out + err).split())
    assert "Traceback" not in out + err


def test_unsupported_gate_in_user_file_is_named(tmp_path, capsys):
    path = tmp_path / "bad.py"
    path.write_text(textwrap.dedent(
        """
        import cirq, sympy
        from privqml.theory import Ansatz

        class Mystery(cirq.Gate):
            def __init__(self, a): self.a = a
            def _num_qubits_(self): return 1
            def _is_parameterized_(self): return True
            def _parameter_names_(self): return {"t"}
            def __repr__(self): return "Mystery(t)"

        def build():
            q = cirq.LineQubit(0)
            t = sympy.Symbol("t")
            return Ansatz(cirq.Circuit(Mystery(t).on(q)), (t,), (), (cirq.PauliSum.wrap(cirq.Z(q)),))
        """
    ))
    code, out, err = run(capsys, "bound", f"{path}:build")
    assert code == 2 and "Mystery" in out + err


def test_bound_tightness_reports_true_max_and_ratio(capsys):
    code, out, _ = run(capsys, "bound", "hea", "--qubits", "2", "--layers", "1", "--observable", "sumZ", "--tightness", "--starts", "4", "--json")
    data = json.loads(out)
    assert code == 0
    # hea(2,1) with sumZ: the bound sqrt(2) is attained (f = cos-terms of two independent rotations)
    assert data["true_max_estimate"] == pytest.approx(2**0.5, abs=1e-5)
    assert data["tightness_ratio"] == pytest.approx(1.0, abs=1e-5)
    assert data["tightness_ratio"] >= 1.0 - 1e-9


def test_tightness_and_explain_per_refinement(capsys):
    code, out, _ = run(capsys, "bound", "native", "--qubits", "2", "--layers", "1", "--observable", "sumZ",
                       "--tightness", "--starts", "4", "--explain", "--json")
    assert code == 0
    data = json.loads(out)
    stages = {row["stage"]: row for row in data["tightness_by_stage"]}
    assert list(stages) == ["bernstein", "commutation", "prefix", "terms", "suffix", "blocks", "noise"]
    assert stages["bernstein"]["ratio"] > 4.5  # the base bound, 4.98x the true maximum
    assert stages["noise"]["ratio"] == pytest.approx(1.0, abs=1e-6)  # the reported bound is attained
    assert data["tightness_ratio"] == pytest.approx(stages["noise"]["ratio"])
    assert all(row["ratio"] >= 1 - 1e-9 for row in stages.values())
    explained = data["explain"]["observables"][0]
    assert any(row["refinement"] == "commutation" and "XX" in row["gate"] for row in explained["pruned"])
    assert {w for group in explained["prefix"] for w in group["weights"]} == {"px0_0", "pa0_0", "px0_1", "pa0_1"}


def test_noise_option_gives_the_noise_aware_bound_and_refuses_a_bad_spec(capsys):
    code, out, _ = run(capsys, "bound", "hea", "--qubits", "2", "--layers", "2", "--noise", "depolarize:0.01", "--json")
    clean = gradient_bound(hea(2, 2)).grad_norm_bound
    assert code == 0 and json.loads(out)["grad_norm_bound"] < clean
    code, _, err = run(capsys, "bound", "hea", "--noise", "depolarize=0.01")
    message = err.strip()
    assert len(message.splitlines()) == 1  # one line, not wrapped at the console's width
    assert code == 2 and "noise='depolarize=0.01'" in message and "e.g. depolarize:0.01" in message


NEAR_ZERO_ANSATZ = '''
import cirq, numpy as np, sympy
from privqml.theory import Ansatz, parse_observables

def tiny_tail():
    q = cirq.LineQubit(0)
    w = sympy.Symbol("w")
    circuit = cirq.Circuit(cirq.ry(np.pi / 2).on(q), cirq.rz(w).on(q), cirq.rx(5e-10).on(q))
    return Ansatz(circuit, (w,), (), parse_observables("Z0", (q,)), name="tiny_tail")
'''


def test_explain_names_a_near_zero_slot_instead_of_claiming_it_zero(tmp_path, capsys):
    """ry(π/2)·rz(w)·rx(5e-10) on Z: |∂f/∂w| reaches sin(5e-10), so w is not 'provably zero'; --explain says why
    its bound is tiny."""
    module = tmp_path / "tiny_tail.py"
    module.write_text(NEAR_ZERO_ANSATZ)
    code, out, _ = run(capsys, "bound", f"{module}:tiny_tail", "--explain", "--json")
    assert code == 0
    data = json.loads(out)
    assert 5e-10 <= data["grad_norm_bound"] < 1e-9
    near = data["explain"]["observables"][0]["near_zero"]
    assert [row["gate"] for row in near] and all(0 < row["factor"] < 1e-9 for row in near)
    code, out, _ = run(capsys, "bound", f"{module}:tiny_tail", "--explain")
    assert code == 0 and "near zero (not pruned)" in out


def test_tightness_shows_progress_on_stderr_and_nothing_else_does(capsys):
    code, out, err = run(capsys, "bound", "hea", "--qubits", "2", "--layers", "1", "--tightness", "--starts", "3",
                         "--json")
    assert code == 0 and json.loads(out)["tightness_starts"] == 3
    assert "true max of the gradient norm: start 3" in err and "[3/3]" in err
    code, out, err = run(capsys, "bound", "hea", "--qubits", "2", "--layers", "1", "--json")
    assert code == 0 and err == ""


def test_tightness_covers_every_observable_and_the_softmax_loss(capsys):
    code, out, _ = run(capsys, "bound", "hea", "--qubits", "3", "--layers", "1", "--observable", "classes:3",
                       "--loss", "softmax_ce", "--tightness", "--starts", "3", "--json")
    result = json.loads(out)
    rows = result["tightness_by_observable"]
    assert code == 0 and [r["observable"] for r in rows] == [0, 1, 2]
    assert all(r["ratio"] >= 1 - 1e-9 and r["true_max_estimate"] > 0 for r in rows)  # never below the truth
    stages = {r["stage"]: r for r in result["loss_tightness"]}
    assert stages["coupled (Bernstein–Szegő)"]["ratio"] >= 1 - 1e-9
    assert result["loss_true_max_estimate"] > 0


def test_tightness_estimates_bce_prob_through_its_clamp(capsys):
    code, out, _ = run(capsys, "bound", "reupload", "--qubits", "2", "--layers", "1", "--loss", "bce_prob", "--clamp",
                       "0.05", "--tightness", "--starts", "4", "--json")
    data = json.loads(out)
    assert code == 0 and "loss_tightness_skipped" not in data
    assert 0 < data["loss_true_max_estimate"] <= data["loss_grad_norm_bound"] * (1 + 1e-9)
    assert [row["stage"] for row in data["loss_tightness"]] == ["product (sup|∂ℓ/∂f| · G)", "coupled (Bernstein–Szegő)"]


def test_explain_prints_which_refinements_lowered_the_bound(capsys):
    code, out, _ = run(capsys, "bound", "hea", "--qubits", "4", "--layers", "2", "--observable", "sumZ", "--explain")
    text = " ".join(out.split())
    assert code == 0 and "refinements that lowered the bound: prefix 5.831 → 4.472, terms 4.472 → 4.243" in text
    assert "1·Z(q(0))" in text  # the terms that set it, with the weights each depends on
