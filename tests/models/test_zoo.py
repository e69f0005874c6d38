"""Models by name: the spec grammar and its errors."""

from __future__ import annotations

import pytest

from privqml.errors import ConfigError
from privqml.models.zoo import build_model, parse_model_spec, reference_quantum_model


def test_parse_specs():
    assert parse_model_spec("hea") == ("hea", {})
    assert parse_model_spec("hea:n_layers=3,noise=0.01,shots=100") == ("hea", {"n_layers": 3, "noise": 0.01, "shots": 100})
    assert parse_model_spec("mlp:match=reupload,n_qubits=3") == ("mlp", {"match": "reupload", "n_qubits": 3})


@pytest.mark.parametrize("spec", ["", "foo", "hea:depth=3", "hea:n_layers=x", "hea:match=hea", "mlp:match=mlp", "hea:n_layers"])
def test_bad_specs_are_config_errors(spec):
    with pytest.raises(ConfigError):
        parse_model_spec(spec)


def test_classical_specs_match_their_quantum_reference():
    model = build_model("mlp:match=reupload,n_qubits=3,n_layers=2")
    reference = reference_quantum_model("mlp:match=reupload,n_qubits=3,n_layers=2")
    assert reference.n_weights == 18 and model.n_weights <= 18
    assert model.matched_to == reference.name
    assert reference_quantum_model("hea").name == build_model("hea").name
