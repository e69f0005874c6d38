"""``privqml verify``: JSON output, exit status on failure, and clear errors for bad user ansätze."""

from __future__ import annotations

import json
import textwrap

import pytest

from privqml.cli import main

QUICK = ["--qubits", "2", "--layers", "1", "--examples", "2"]


def _run(capsys, *argv):
    code = main(["verify", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_report_for_a_builtin(capsys):
    code, out, _ = _run(capsys, "hea", *QUICK, "--json", "--engines", "adjoint,pshift,shots,noisy,oracle")
    assert code == 0
    data = json.loads(out)
    assert data["ansatz"].startswith("hea(n_qubits=2") and data["passed"] is True and data["counterexample"] is None
    for name in ("per_weight", "total", "loss", "shots", "noisy", "agree", "zero"):
        entry = data["properties"][name]
        assert entry["passed"] is True and entry["examples"] == 2 and 0.0 <= entry["max_ratio"] <= 1.0001


def test_table_output_names_every_property(capsys):
    code, out, _ = _run(capsys, "reupload", *QUICK, "--engines", "adjoint,numeric")
    assert code == 0
    for name in ("per_weight", "total", "loss", "agree", "zero"):
        assert name in out
    assert "all properties hold" in out


def test_a_weakened_bound_exits_1_with_the_shrunk_counterexample(capsys):
    code, out, _ = _run(capsys, "hea", "--qubits", "1", "--layers", "1", "--examples", "30", "--weaken", "0.5",
                        "--engines", "adjoint,numeric", "--json")
    assert code == 1
    data = json.loads(out)
    assert data["passed"] is False
    counterexample = data["counterexample"]
    assert counterexample["engine"] in ("adjoint", "numeric") and counterexample["ratio"] > 1.0
    assert len(counterexample["weights"]) == 2 and len(counterexample["inputs"]) == 1
    code, out, _ = _run(capsys, "hea", "--qubits", "1", "--layers", "1", "--examples", "30", "--weaken", "0.5",
                        "--engines", "adjoint,numeric")
    assert code == 1 and "counterexample" in out and "weights =" in out and "FAIL" in out


USER_FILE = textwrap.dedent('''
    import cirq
    import sympy
    from privqml.theory import Ansatz, parse_observables

    class Wobble(cirq.Gate):
        """A parametrised gate with no spectrum rule and no decomposition."""

        def __init__(self, t):
            self.t = t

        def _num_qubits_(self):
            return 1

        def _unitary_(self):
            return cirq.unitary(cirq.rx(float(self.t)))

        def _is_parameterized_(self):
            return cirq.is_parameterized(self.t)

        def _parameter_names_(self):
            return cirq.parameter_names(self.t)

        def _resolve_parameters_(self, resolver, recursive):
            return Wobble(resolver.value_of(self.t, recursive))

        def _circuit_diagram_info_(self, args):
            return f"Wobble({self.t})"

    q = cirq.LineQubit.range(3)
    w, x = sympy.Symbol("w"), sympy.Symbol("x")

    def good(n_qubits=2):
        qs = q[:n_qubits]
        return Ansatz(cirq.Circuit(cirq.rx(x).on(qs[0]), cirq.ry(w).on(qs[0]), cirq.CZ(*qs[:2])), (w,), (x,),
                      parse_observables("Z0", qs), input_domain=((0.0, 1.0),), name="user-good")

    def unsupported():
        return Ansatz(cirq.Circuit(Wobble(w).on(q[0])), (w,), (), parse_observables("Z0", q[:1]))

    def tfq_unsupported():
        return Ansatz(cirq.Circuit(cirq.H.on_each(*q), cirq.CCZPowGate(exponent=w).on(*q)), (w,), (),
                      parse_observables("X0", q))

    def undeclared():
        y = sympy.Symbol("y")
        return Ansatz(cirq.Circuit(cirq.rx(x + y).on(q[0]), cirq.ry(w).on(q[0])), (w,), (x,),
                      parse_observables("Z0", q[:1]))

    def bad_domain():
        return Ansatz(cirq.Circuit(cirq.rx(x).on(q[0]), cirq.ry(w).on(q[0])), (w,), (x,),
                      parse_observables("Z0", q[:1]), input_domain=((2.0, -2.0),))

    def named_qubits():
        a = cirq.NamedQubit("alice")
        return Ansatz(cirq.Circuit(cirq.ry(w).on(a)), (w,), (), (cirq.PauliSum.wrap(cirq.Z(a)),))
''')


@pytest.fixture()
def user_file(tmp_path):
    path = tmp_path / "my_ansatz.py"
    path.write_text(USER_FILE)
    return path


def test_a_user_ansatz_from_a_file_is_verified(capsys, user_file):
    code, out, _ = _run(capsys, f"{user_file}:good", "--examples", "3", "--json", "--engines", "adjoint,pshift,shots,oracle")
    assert code == 0, out
    data = json.loads(out)
    assert data["ansatz"] == "user-good" and data["passed"] is True


@pytest.mark.parametrize("function,message", [
    ("unsupported", "unsupported gate Wobble"),
    ("tfq_unsupported", "TFQ cannot simulate CCZPowGate"),
    ("undeclared", "undeclared symbols ['y']"),
    ("bad_domain", "is not an interval; need lo <= hi"),
    ("named_qubits", "TFQ simulates cirq.LineQubit and cirq.GridQubit only"),
])
def test_bad_user_ansatze_get_a_clear_error_and_exit_2(capsys, user_file, function, message):
    code, out, err = _run(capsys, f"{user_file}:{function}", "--examples", "2")
    assert code == 2
    assert message in " ".join(err.split())
    assert "Traceback" not in err and "tensorflow" not in err.lower()


def test_bad_options_exit_2(capsys):
    code, _, err = _run(capsys, "hea", "--engines", "adjoint,autograd")
    assert code == 2 and "unknown ['autograd']" in " ".join(err.split())
    code, _, err = _run(capsys, "hea", "--profile", "huge")
    assert code == 2 and "profile='huge'" in " ".join(err.split())
