"""Model specs of a user's ansatz: the grammar, the recorded file hash, matching, and no TensorFlow to parse."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from privqml.errors import ConfigError, UserCodeError
from privqml.models.specs import (
    check_function, is_user_spec, matched_spec, parse_model_spec, source_sha256, with_options,
)
from privqml.models.zoo import build_model, reference_quantum_model

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "my_ansatz.py"


@pytest.fixture()
def user_file(tmp_path):
    path = tmp_path / "ansatz.py"
    shutil.copy(EXAMPLE, path)
    return path


def test_a_user_spec_parses_with_its_options_and_percent_encoded_values(user_file):
    spec = f"{user_file}:my_ansatz:n_layers=1,observable=Z0%2CZ1,noise=0.01"
    assert is_user_spec(spec) and not is_user_spec("hea:n_layers=1") and not is_user_spec("mlp:match=a.py:f")
    assert parse_model_spec(spec) == ("file", {"function": f"{user_file}:my_ansatz", "n_layers": 1,
                                               "observable": "Z0,Z1", "noise": 0.01})
    for bad in (f"{user_file}:my_ansatz:scale=2", f"{user_file}:1f", f"{user_file}:my_ansatz:depth=3",
                "hea:observable=Z1", "hea:sha256=abc"):
        with pytest.raises(ConfigError):
            parse_model_spec(bad)


def test_with_options_writes_the_flags_and_the_file_hash_into_one_canonical_spec(user_file):
    spec = with_options(f"{user_file}:my_ansatz", n_layers=1, observable="Z0,Z1")
    digest = source_sha256(f"{user_file}:my_ansatz")
    assert spec == f"{user_file}:my_ansatz:n_layers=1,observable=Z0%2CZ1,sha256={digest}"
    assert with_options(spec) == spec  # idempotent: a resumed run sees the same spec
    assert with_options("hea", n_qubits=5, n_layers=1) == "hea:n_qubits=5,n_layers=1"
    with pytest.raises(ConfigError, match="sets n_layers=1 and the command line 2"):
        with_options(spec, n_layers=2)
    with pytest.raises(ConfigError, match="--observable Z1 applies to a user's ansatz"):
        with_options("hea", observable="Z1")


def test_a_file_changed_after_its_hash_was_recorded_is_refused(user_file):
    spec = with_options(f"{user_file}:my_ansatz", n_layers=1)
    assert build_model(spec).n_weights == 7
    user_file.write_text(user_file.read_text().replace("SCALE = 0.8", "SCALE = 0.9"))
    with pytest.raises(ConfigError, match=r"changed since this run was set up .*start a new --out"):
        build_model(spec)
    with pytest.raises(ConfigError, match="changed since"):
        check_function(spec)


def test_the_function_gets_what_it_takes_and_refuses_the_rest(user_file):
    three = build_model(with_options(f"{user_file}:my_ansatz", n_layers=1), n_classes=3)
    assert three.n_outputs == 3 and three.source["function"] == f"{user_file}:my_ansatz"  # n_classes offered
    assert three.describe()["source"]["sha256"] == source_sha256(f"{user_file}:my_ansatz")
    with pytest.raises(ConfigError, match=r"^ansatz.py:my_ansatz does not take n_qubits .*omit --qubits"):
        check_function(with_options(f"{user_file}:my_ansatz", n_qubits=5))
    user_file.write_text(user_file.read_text() + "\n\ndef broken(n_layers=1):\n    return {}['missing']\n")
    with pytest.raises(UserCodeError, match=r"^error while building ansatz.py:broken: KeyError: 'missing'"):
        check_function(f"{user_file}:broken")


def test_classical_arms_match_a_user_ansatz(user_file):
    quantum = with_options(f"{user_file}:my_ansatz", n_layers=1)
    spec = matched_spec("mlp", quantum)
    assert spec.startswith("mlp:match=") and spec.endswith(quantum.rpartition(":")[2])
    reference = reference_quantum_model(spec)
    model = build_model(spec)
    assert reference.name == build_model(quantum).name == "my_ansatz(n_layers=1)"
    assert model.matched_to == reference.name and 1 <= model.n_weights <= reference.n_weights
    assert matched_spec("mlp", "hea:n_qubits=8") == "mlp:match=hea,n_qubits=8"
    assert matched_spec("mlp:match=reupload", quantum) == "mlp:match=reupload"


def test_parsing_and_checking_a_user_spec_loads_no_tensorflow():
    code = (f"import sys; from privqml.models.specs import with_options, check_function; "
            f"check_function(with_options({str(EXAMPLE) + ':my_ansatz'!r}, n_layers=1)); "
            "print('tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
