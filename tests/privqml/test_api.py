"""privqml.api: circuits declared in Python, models built in Python, and the errors a notebook user meets."""

from __future__ import annotations

import cirq
import numpy as np
import pytest
import sympy

from privqml import api
from privqml.errors import AnsatzTypeError, ConfigError
from privqml.theory import gradient_bound

q = cirq.LineQubit.range(2)
x, a, b = sympy.symbols("x a b")
CIRCUIT = cirq.Circuit(cirq.rx(x).on(q[0]), cirq.ry(b).on(q[0]), cirq.ry(a).on(q[1]), cirq.CZ(*q))


def test_a_bare_circuit_gets_a_message_not_a_raw_type_error():
    with pytest.raises(AnsatzTypeError, match="not a cirq.Circuit: declare which symbols are weights"):
        gradient_bound(CIRCUIT)
    with pytest.raises(AnsatzTypeError, match="circuit is a list"):
        api.bound([CIRCUIT])


def test_as_ansatz_takes_the_symbols_the_user_names():
    ansatz = api.as_ansatz(CIRCUIT, inputs=["x"], observable=cirq.Z(q[0]) * cirq.Z(q[1]), input_domain=[(-1, 1)])
    assert [w.name for w in ansatz.weights] == ["a", "b"] and [s.name for s in ansatz.inputs] == ["x"]
    assert ansatz.input_domain == ((-1.0, 1.0),) and ansatz.n_outputs == 1
    assert api.as_ansatz(ansatz) is ansatz
    with pytest.raises(ConfigError, match=r"input 'y' is not a symbol of the circuit; its symbols are \['a', 'b', 'x'\]"):
        api.as_ansatz(CIRCUIT, inputs=["y"])
    two = api.bound(CIRCUIT, inputs=["x"], observable="Z0,Z1", weights=["b", "a"])
    assert [w.name for w in two.ansatz.weights] == ["b", "a"] and two.ansatz.n_outputs == 2
    assert two.loss_gradient is None and two.value == two.gradient.grad_norm_bound


def test_a_model_built_in_python_trains_in_place_and_its_run_is_not_audited(tmp_path):
    from privqml.models.zoo import build_model

    model = build_model("mlp", seed=3)
    before = model.weights.numpy().copy()
    run = api.train(model, "quantum", epsilon=2.0, clip=1.0, epochs=1, n_train=24, n_test=8, batch_size=6,
                    out=tmp_path / "run", simulation_seed=1)
    assert run.summary()["config"]["model"].endswith("(a model built in Python)")
    np.testing.assert_array_equal(model.weights.numpy(), np.asarray(run.final_weights, np.float32))
    assert not np.array_equal(before, model.weights.numpy())
    loaded = api.load_run(tmp_path / "run", model=build_model("mlp", seed=3))
    np.testing.assert_array_equal(loaded.model.weights.numpy(), model.weights.numpy())
    with pytest.raises(ConfigError, match="a model built in Python, which its record cannot rebuild"):
        api.audit(tmp_path / "run")
    with pytest.raises(ConfigError, match=r"clip='bound' for mlp\(hidden=2\) \(a model built in Python\): .*give a numeric clip"):
        api.train(build_model("mlp"), epochs=1, n_train=24, n_test=8, batch_size=6)
    with pytest.raises(ConfigError, match="model is a dict; pass a spec string"):
        api.train({"model": "hea"})
    with pytest.raises(ConfigError, match="loss='mse' but the model was built with loss='bce_logits'"):
        api.train(build_model("mlp"), clip=1.0, loss="mse", epochs=1, n_train=24, n_test=8, batch_size=6)
