"""Built-in ansätze (counts, structure, one closed form), observable parsing, load_ansatz."""

from __future__ import annotations

import math
import textwrap

import cirq
import numpy as np
import pytest

from privqml.errors import AnsatzError, ConfigError, UserCodeError
from privqml.theory import builtin_ansatz, hea, load_ansatz, native, parse_observables, reupload
from privqml.theory.exact import numeric

QUBITS = tuple(cirq.LineQubit.range(3))
Q0, Q1, Q2 = QUBITS


@pytest.mark.parametrize("n_qubits, n_layers", [(1, 1), (2, 2), (4, 3)])
def test_hea_counts(n_qubits, n_layers):
    ansatz = hea(n_qubits, n_layers)
    assert ansatz.n_weights == 2 * n_qubits * n_layers
    assert ansatz.n_inputs == n_qubits and ansatz.n_qubits == n_qubits
    assert [w.name for w in ansatz.weights[:2]] == ["ry0_0", "rz0_0"]
    assert [x.name for x in ansatz.inputs] == [f"x{q}" for q in range(n_qubits)]
    n_cz = sum(isinstance(op.gate, cirq.CZPowGate) for op in ansatz.circuit.all_operations())
    assert n_cz == (n_qubits - 1) * n_layers


@pytest.mark.parametrize("n_qubits, n_layers, n_features, n_inputs", [(2, 3, None, 2), (3, 2, 1, 1), (4, 1, 2, 2)])
def test_reupload_counts(n_qubits, n_layers, n_features, n_inputs):
    ansatz = reupload(n_qubits, n_layers, n_features=n_features)
    assert ansatz.n_weights == 3 * n_qubits * n_layers
    assert ansatz.n_inputs == n_inputs
    assert ansatz.name.startswith("reupload(")


@pytest.mark.parametrize(
    "n_qubits, n_layers, n_weights",
    [(1, 1, 3), (2, 1, 3 * 2 + 2), (4, 2, (12 + 2 * 2) + (12 + 2 * 1)), (3, 2, (9 + 2) + (9 + 2))],
)
def test_native_counts(n_qubits, n_layers, n_weights):
    # per layer: 3 PhasedXZ exponents per qubit, 2 FSim angles per brick pair
    # (layer 0 pairs (0,1),(2,3)…; layer 1 pairs (1,2)…; an odd layer with no pair, e.g. on 2 qubits, falls back to (0,1)).
    ansatz = native(n_qubits, n_layers)
    assert ansatz.n_weights == n_weights
    assert ansatz.n_inputs == n_qubits


def test_hea_closed_form():
    # hea(2,1) with Z0: rz and CZ commute with Z0, so f = cos x0 · cos θ(ry0_0).
    ansatz = hea(2, 1)
    rng = np.random.default_rng(3)
    for _ in range(5):
        weights, inputs = rng.uniform(-3, 3, 4), rng.uniform(-3, 3, 2)
        value = numeric.expectations(ansatz, weights, inputs)[0]
        assert value == pytest.approx(math.cos(inputs[0]) * math.cos(weights[0]), abs=1e-12)


@pytest.mark.parametrize(
    "function, kwargs, words",
    [
        (hea, dict(n_qubits=0), ["n_qubits=0", "[1, 30]"]),
        (hea, dict(n_qubits=2.0), ["n_qubits=2.0"]),
        (hea, dict(n_layers=0), ["n_layers=0", ">= 1"]),
        (reupload, dict(n_features=0), ["n_features=0"]),
        (native, dict(n_qubits=31), ["n_qubits=31"]),
    ],
)
def test_size_errors(function, kwargs, words):
    with pytest.raises(ConfigError) as info:
        function(**kwargs)
    assert all(word in str(info.value) for word in words), str(info.value)


@pytest.mark.parametrize(
    "spec, expected",
    [
        ("Z0", [cirq.PauliSum.wrap(cirq.Z(Q0))]),
        ("Z0*Z1", [cirq.PauliSum.wrap(cirq.Z(Q0) * cirq.Z(Q1))]),
        ("X0*Y2", [cirq.PauliSum.wrap(cirq.X(Q0) * cirq.Y(Q2))]),
        ("sumZ", [cirq.Z(Q0) + cirq.Z(Q1) + cirq.Z(Q2)]),
        ("sumX", [cirq.X(Q0) + cirq.X(Q1) + cirq.X(Q2)]),
        ("0.5*Z0+Z1", [0.5 * cirq.Z(Q0) + cirq.Z(Q1)]),
        (" 0.5 * Z0 + -2*X1 ", [0.5 * cirq.Z(Q0) - 2.0 * cirq.X(Q1)]),
        ("Z0,Z1,Z2", [cirq.PauliSum.wrap(cirq.Z(q)) for q in QUBITS]),
        ("classes:3", [cirq.PauliSum.wrap(cirq.Z(q)) for q in QUBITS]),
        ("classes:2", [cirq.PauliSum.wrap(cirq.Z(q)) for q in QUBITS[:2]]),
    ],
)
def test_parse_observables(spec, expected):
    assert list(parse_observables(spec, QUBITS)) == expected


@pytest.mark.parametrize(
    "spec, words",
    [
        ("Z5", ["names qubit 5", "3 qubits"]),
        ("Q0", ["cannot read 'Q0'"]),
        ("Z0+", ["empty term"]),
        ("classes:1", ["K=1", "2 <= K <= n_qubits=3"]),
        ("classes:4", ["K=4"]),
        ("classes:x", ["integer K"]),
        ("", ["is empty"]),
        ("Z0,,Z1", ["is empty"]),
    ],
)
def test_parse_observables_errors(spec, words):
    with pytest.raises(ConfigError) as info:
        parse_observables(spec, QUBITS)
    assert all(word in str(info.value) for word in words), str(info.value)


def test_builtin_ansatz_by_name():
    ansatz = builtin_ansatz("reupload", n_qubits=2, n_layers=1, observable="Z0*Z1", scale=None)
    assert ansatz.n_weights == 6 and ansatz.observables[0] == cirq.PauliSum.wrap(cirq.Z(Q0) * cirq.Z(Q1))
    with pytest.raises(ConfigError, match=r"ansatz='qcnn' is not built in; choose one of \['hea', 'native', 'reupload'\]"):
        builtin_ansatz("qcnn")
    with pytest.raises(ConfigError, match=r"does not take these options \['depth'\]"):
        builtin_ansatz("hea", depth=3)


_USER_FILE = textwrap.dedent(
    """
    import cirq, sympy
    from privqml.theory import Ansatz

    def my_ansatz(n_qubits=1, unused=None):
        q = cirq.LineQubit.range(n_qubits)
        t = sympy.Symbol("t")
        return Ansatz(cirq.Circuit(cirq.rx(t).on(q[0])), weights=(t,), inputs=(), observables=(cirq.Z(q[0]) * 1.0,))

    def not_an_ansatz():
        return 42

    def broken():
        return 1 / 0

    CONSTANT = 3
    """
)


def test_load_ansatz_from_file(tmp_path):
    path = tmp_path / "user_ansatz.py"
    path.write_text(_USER_FILE)
    ansatz = load_ansatz(f"{path}:my_ansatz", n_qubits=2, n_layers=None, offered={"n_classes": 3})
    assert ansatz.n_weights == 1 and ansatz.n_qubits == 1  # None dropped; n_classes not taken: not passed
    with pytest.raises(ConfigError, match=r"^user_ansatz.py:my_ansatz does not take n_layers .*omit --layers"):
        load_ansatz(f"{path}:my_ansatz", n_qubits=2, n_layers=5)  # asked for and not taken: refused
    with pytest.raises(UserCodeError, match=r"^error while building user_ansatz.py:broken: ZeroDivisionError") as info:
        load_ansatz(f"{path}:broken")
    assert isinstance(info.value.__cause__, ZeroDivisionError)
    crashing = tmp_path / "crashing.py"
    crashing.write_text("import no_such_package_xyz\n")
    with pytest.raises(UserCodeError, match=r"^error while loading crashing.py: ModuleNotFoundError"):
        load_ansatz(f"{crashing}:f")
    assert numeric.expectations(ansatz, [0.4])[0] == pytest.approx(math.cos(0.4), abs=1e-12)
    with pytest.raises(AnsatzError, match="returned a int; it must return privqml.theory.Ansatz"):
        load_ansatz(f"{path}:not_an_ansatz")
    with pytest.raises(ConfigError, match="has no function 'missing'"):
        load_ansatz(f"{path}:missing")
    with pytest.raises(ConfigError, match="has no function 'CONSTANT'"):
        load_ansatz(f"{path}:CONSTANT")
    with pytest.raises(ConfigError, match="not found"):
        load_ansatz(f"{tmp_path / 'nope.py'}:my_ansatz")


def test_load_ansatz_builtin_and_module():
    assert load_ansatz("hea", n_qubits=2, n_layers=1).n_weights == 4
    assert load_ansatz("privqml.theory.builtins:native", n_qubits=2, n_layers=1).n_weights == 8
    with pytest.raises(ConfigError, match="cannot import module 'no_such_module_xyz'"):
        load_ansatz("no_such_module_xyz:f")
