"""The Ansatz record: every validation error (class and message), the domain, the resolver."""

from __future__ import annotations

import dataclasses
import math

import cirq
import numpy as np
import pytest
import sympy

from privqml.errors import AnsatzError, AnsatzTypeError, DomainError, ObservableError, PrivqmlError
from privqml.theory import DEFAULT_INPUT_DOMAIN, Ansatz, Readout
from privqml.theory.ansatz import parameter_names

Q0, Q1, Q2 = cirq.LineQubit.range(3)
W, V, X = sympy.symbols("w v x")


def _ansatz(**overrides) -> Ansatz:
    fields = dict(
        circuit=cirq.Circuit(cirq.rx(X).on(Q0), cirq.ry(W).on(Q0), cirq.CZ(Q0, Q1), cirq.rz(V).on(Q1)),
        weights=(W, V),
        inputs=(X,),
        observables=(cirq.Z(Q0) * 1.0,),
    )
    fields.update(overrides)
    return Ansatz(**fields)


def test_valid_ansatz_properties():
    ansatz = _ansatz(weights=("w", "v"), inputs=["x"])  # names are accepted and become symbols
    assert ansatz.weights == (W, V) and ansatz.inputs == (X,)
    assert (ansatz.n_qubits, ansatz.n_weights, ansatz.n_inputs, ansatz.n_outputs) == (2, 2, 1, 1)
    assert ansatz.qubits == (Q0, Q1)
    assert ansatz.input_domain == (DEFAULT_INPUT_DOMAIN,)
    assert ansatz.domain() == {X: (-math.pi, math.pi)}
    assert isinstance(ansatz.observables[0], cirq.PauliSum)
    assert ansatz.summary() == "custom: 2 qubits, 2 weights, 1 inputs, 4 operations, 1 observable(s)"


def test_circuit_is_stored_frozen_and_pauli_string_wrapped():
    frozen = _ansatz().circuit
    assert isinstance(frozen, cirq.FrozenCircuit)
    ansatz = _ansatz(circuit=frozen, observables=cirq.Z(Q0) * cirq.Z(Q1))
    assert ansatz.circuit is frozen  # an unchanged frozen circuit is kept as it is
    assert ansatz.observables == (cirq.PauliSum.wrap(cirq.Z(Q0) * cirq.Z(Q1)),)


def test_ansatz_is_hashable_and_equal_by_value():
    first, second = _ansatz(), _ansatz()
    assert first is not second and first == second and hash(first) == hash(second)
    assert len({first, second}) == 1
    other = _ansatz(name="other")
    assert other != first
    cheaper = dataclasses.replace(first, readout=Readout(2.0))
    assert cheaper != first and cheaper.circuit is first.circuit


@pytest.mark.parametrize(
    "overrides, error, words",
    [
        (dict(circuit=cirq.Circuit(cirq.rx(X + sympy.Symbol("u")).on(Q0))), AnsatzError, ["undeclared", "'u'"]),
        (dict(inputs=(X, W)), AnsatzError, ["both as weights and as inputs", "'w'"]),
        (dict(weights=(W, V, W)), AnsatzError, ["more than once", "'w'"]),
        (dict(weights=(W, 3)), AnsatzTypeError, ["3", "int", "sympy.Symbol"]),
        (dict(observables=(1j * cirq.Z(Q0),)), ObservableError, ["not Hermitian", "real coefficients"]),
        (dict(observables=(float("inf") * cirq.Z(Q0),)), ObservableError, ["non-finite"]),
        (dict(observables=()), ObservableError, ["no observable"]),
        (dict(observables=("Z0",)), AnsatzTypeError, ["str", "cirq.PauliSum"]),
        (dict(observables=(cirq.Z(Q2) * 1.0,)), ObservableError, ["observable[0]", "LineQubit(2)", "does not touch"]),
        (dict(circuit=cirq.Circuit()), AnsatzError, ["empty"]),
        (dict(circuit=[cirq.rx(X).on(Q0)]), AnsatzTypeError, ["list", "cirq.Circuit"]),
        (dict(circuit=cirq.Circuit(cirq.rx(X).on(Q0), cirq.measure(Q0))), AnsatzError, ["measurement", "remove"]),
        (dict(input_domain=((0, 1), (0, 1))), DomainError, ["2 intervals for 1 inputs"]),
        (dict(input_domain=((1.0, -1.0),)), DomainError, ["x=(1.0, -1.0)", "lo <= hi"]),
        (dict(input_domain=((float("nan"), 1.0),)), DomainError, ["not an interval"]),
        (dict(input_domain=(("a", "b"),)), DomainError, ["not a (lo, hi) pair"]),
        (dict(input_domain=(3.0,)), DomainError, ["not a (lo, hi) pair"]),
        (dict(readout="scale=2"), AnsatzTypeError, ["str", "Readout"]),
    ],
    ids=[
        "undeclared-symbol", "weight-and-input", "duplicate", "weight-type", "complex-coefficient",
        "infinite-coefficient", "no-observable", "observable-type", "observable-qubit", "empty-circuit",
        "circuit-type", "measurement", "domain-count", "domain-reversed", "domain-nan", "domain-strings",
        "domain-scalar", "readout-type",
    ],
)
def test_validation_errors(overrides, error, words):
    with pytest.raises(error) as info:
        _ansatz(**overrides)
    for word in words:
        assert word in str(info.value), f"{word!r} not in {info.value}"
    assert isinstance(info.value, PrivqmlError)


def test_error_classes_derive_from_builtins():
    with pytest.raises(ValueError):
        _ansatz(circuit=cirq.Circuit())
    with pytest.raises(TypeError):
        _ansatz(weights=(1.5,))


@pytest.mark.parametrize("scale", [0.0, -1.0, float("inf"), float("nan"), "2"])
def test_bad_readout_scale(scale):
    with pytest.raises(AnsatzError, match=r"readout scale=.* must be a finite number > 0"):
        Readout(scale=scale)


def test_undeclared_symbol_inside_phased_fsim_is_caught():
    # cirq 1.3's PhasedFSimGate reports no parameter names; privqml reads them from its fields.
    gate = cirq.PhasedFSimGate(theta=W, zeta=sympy.Symbol("zeta"))
    assert parameter_names(gate.on(Q0, Q1)) == {"w", "zeta"}
    with pytest.raises(AnsatzError, match=r"undeclared symbols \['zeta'\]"):
        _ansatz(circuit=cirq.Circuit(gate.on(Q0, Q1)), weights=(W,), inputs=())


def test_input_domain_mapping_and_defaults():
    y = sympy.Symbol("y")
    circuit = cirq.Circuit(cirq.rx(X).on(Q0), cirq.ry(y + W).on(Q0), cirq.rz(V).on(Q1))
    ansatz = _ansatz(circuit=circuit, inputs=(X, y), input_domain={"y": (0, 1)})
    assert ansatz.input_domain == (DEFAULT_INPUT_DOMAIN, (0.0, 1.0))
    ansatz = _ansatz(circuit=circuit, inputs=(X, y), input_domain={y: (-2, 2), X: (0.5, 0.5)})
    assert ansatz.input_domain == ((0.5, 0.5), (-2.0, 2.0))


def test_check_inputs():
    ansatz = _ansatz(input_domain=((-1.0, 2.0),))
    np.testing.assert_array_equal(ansatz.check_inputs([[0.5], [2.0]]), [[0.5], [2.0]])
    # within 1e-9 of the domain (rounding of a rescaling): accepted, and returned inside it
    np.testing.assert_array_equal(ansatz.check_inputs([[-1.0 - 5e-10], [2.0 + 5e-10]]), [[-1.0], [2.0]])
    with pytest.raises(DomainError, match=r"x=2\.5 lies outside its declared domain \[-1\.0, 2\.0\]"):
        ansatz.check_inputs([[0.5], [2.5]])
    with pytest.raises(DomainError, match="NaN or infinite"):
        ansatz.check_inputs([np.nan])
    with pytest.raises(DomainError, match=r"shape \(2,\).* takes 1 inputs"):
        ansatz.check_inputs([0.1, 0.2])


def test_resolver():
    ansatz = _ansatz()
    resolver = ansatz.resolver([0.1, 0.2], [0.3])
    assert (resolver.value_of(W), resolver.value_of(V), resolver.value_of(X)) == (0.1, 0.2, 0.3)
    with pytest.raises(DomainError, match="weights have 3 values; .* has 2 weights"):
        ansatz.resolver([0.1, 0.2, 0.3], [0.3])
    with pytest.raises(DomainError, match="inputs have 0 values; .* takes 1 inputs"):
        ansatz.resolver([0.1, 0.2])


def test_with_readout_replaces_only_the_readout():
    ansatz = _ansatz()
    scaled = ansatz.with_readout(Readout(scale=3.0, trainable_scale=True))
    assert scaled.readout == Readout(3.0, True) and scaled.circuit == ansatz.circuit and ansatz.readout.scale == 1.0
