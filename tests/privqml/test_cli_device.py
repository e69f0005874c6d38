"""``--device rainbow|weber`` on bound, verify and train: the ansatz placed, compiled and given the calibrated
noise; what was compiled and where is printed and recorded; the bound holds against the exact maximum."""

from __future__ import annotations

import json

import pytest

from privqml.cli import main
from privqml.models.specs import DEVICE_NAMES
from privqml.theory import gradient_bound, load_ansatz
from privqml.theory.devices import DEVICES, on_device
from privqml.theory.exact.tightness import max_gradient_norm

TINY = ["--n-train", "24", "--n-test", "8", "--epochs", "1", "--batch-size", "4"]


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_the_spec_parser_knows_the_devices_of_the_theory():
    assert DEVICE_NAMES == DEVICES


def test_bound_on_a_device_records_placement_compilation_noise_and_holds(capsys):
    code, out, _ = run(capsys, "bound", "hea", "--qubits", "2", "--layers", "1", "--device", "rainbow", "--json")
    assert code == 0
    data = json.loads(out)
    device = data["device"]
    placed = on_device(load_ansatz("hea", n_qubits=2, n_layers=1), "rainbow")
    assert device == {**placed.summary(), "noiseless_bound": list(gradient_bound(placed.noiseless).per_observable)}
    assert device["calibration"]["file"] == "rainbow_2021_11_16_calibration.json"
    assert len(set(device["qubits"].values())) == 2 and len(device["circuit_sha256"]) == 64
    assert {"amplitude_damp", "phase_damp", "depolarize_1q", "readout"} <= set(device["noise"])
    assert data["grad_norm_bound"] == pytest.approx(gradient_bound(placed.ansatz).grad_norm_bound)
    truth = max_gradient_norm(placed.ansatz, n_starts=4, seed=0).true_max_estimate
    assert truth <= data["grad_norm_bound"] * (1 + 1e-9)


def test_bound_table_names_the_device_and_the_noiseless_bound_beside(capsys):
    code, out, _ = run(capsys, "bound", "hea", "--qubits", "2", "--layers", "1", "--device", "weber")
    text = " ".join(out.split())  # the table wraps long cells
    assert code == 0 and "on device weber" in text and "weber_2021_11_03_calibration.json" in text
    assert "bound noiseless / noisy" in text


@pytest.mark.parametrize("argv,needle", [
    (["bound", "hea", "--device", "sycamore9"], "device='sycamore9' is not known"),
    (["bound", "hea", "--device", "rainbow", "--noise", "depolarize:0.01"], "choose one"),
    (["verify", "hea", "--device", "sycamore9"], "device='sycamore9' is not known"),
    (["train", "--model", "hea", "--device", "sycamore9"], "device='sycamore9' is not known"),
    (["train", "--model", "mlp", "--device", "rainbow"], "applies to quantum models"),
    (["train", "--model", "hea:noise=0.01", "--device", "rainbow", *TINY], "choose one"),
], ids=["bound-unknown", "bound-noise-and-device", "verify-unknown", "train-unknown", "train-classical",
        "train-noise-and-device"])
def test_bad_device_input_is_one_line_and_exit_2(capsys, argv, needle):
    code, out, err = run(capsys, *argv)
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert code == 2 and len(lines) == 1 and needle in lines[0]


def test_verify_on_a_device_passes_and_names_the_device(capsys):
    code, out, _ = run(capsys, "verify", "hea", "--qubits", "2", "--layers", "1", "--device", "rainbow",
                       "--engines", "numeric,oracle", "--json")
    data = json.loads(out)
    assert code == 0 and data["passed"] and data["device"]["device"] == "rainbow"


def test_train_on_a_device_uses_the_noisy_bound_and_records_the_device(tmp_path, capsys):
    code, out, _ = run(capsys, "train", "--model", "hea", "--qubits", "2", "--layers", "1", "--device", "rainbow",
                       *TINY, "--epsilon", "3", "--out", str(tmp_path), "--json")
    assert code == 0
    data = json.loads(out)
    model = data["config"]["model"] if isinstance(data["config"].get("model"), dict) else data["model"]
    assert data["config"]["model"].endswith("device=rainbow") or "device=rainbow" in data["config"]["model"]
    assert model["device"]["device"] == "rainbow" and model["engine"]["simulation"] == "density matrix"
    placed = on_device(load_ansatz("hea", n_qubits=2, n_layers=1), "rainbow")
    assert model["device"]["circuit_sha256"] == placed.circuit_sha256
    from privqml.theory.loss import loss_gradient_bound

    expected = loss_gradient_bound(placed.ansatz, "bce_logits").value
    assert data["covered"]["clip"] == pytest.approx(expected, rel=1e-9)
