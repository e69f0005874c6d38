"""Noise models: validation, where the channels go, and the theory's claim that noise leaves the bound unchanged."""

from __future__ import annotations

import cirq
import numpy as np
import pytest

from privqml.errors import ConfigError
from privqml.theory import gradient_bound, hea, native
from privqml.theory.noise import NoiseModel, has_noise, with_noise


def test_channels_follow_every_moment_on_every_qubit():
    ansatz = hea(3, 1)
    model = NoiseModel((("depolarize", 0.01), ("bit_flip", 0.02)))
    noisy = with_noise(ansatz, model)
    channels = [op for op in noisy.circuit.all_operations() if not cirq.is_parameterized(op) and not cirq.has_unitary(op)]
    assert len(channels) == 2 * len(ansatz.circuit) * ansatz.n_qubits  # idle qubits decohere too
    assert {type(op.gate).__name__ for op in channels} == {"DepolarizingChannel", "BitFlipChannel"}
    assert noisy.weights == ansatz.weights and noisy.observables == ansatz.observables
    assert has_noise(noisy) and not has_noise(ansatz)
    assert "depolarize(0.01)+bit_flip(0.02)" in noisy.name


@pytest.mark.parametrize("channels,message", [
    ((("dephase", 0.1),), "not known"),
    ((("depolarize", 1.5),), "probability in"),
    ((("depolarize",),), "not a \\(name, strength\\) pair"),
])
def test_bad_noise_models_are_config_errors(channels, message):
    with pytest.raises(ConfigError, match=message):
        NoiseModel(channels)


@pytest.mark.parametrize("make", [lambda: hea(3, 2), lambda: native(2, 2)])
@pytest.mark.parametrize("channel", ["amplitude_damp", "phase_damp", "bit_flip", "phase_flip"])
def test_noise_never_loosens_the_bound(make, channel):
    """The bound of the noisy circuit is at most the noiseless circuit's base bound (Bernstein holds for
    both) and, for mixtures of Paulis, at most its refined bound here too; amplitude damping ends the
    product-state prefixes, so its refined bound may exceed the noiseless refined one (it is the noisy
    circuit's own bound that is claimed, and the noisy property checks it)."""
    ansatz = make()
    clean, clean_base = gradient_bound(ansatz), gradient_bound(ansatz, refine=False)
    noisy = gradient_bound(with_noise(ansatz, NoiseModel((("depolarize", 0.1), (channel, 0.2)))))
    assert noisy.grad_norm_bound < clean_base.grad_norm_bound
    if channel != "amplitude_damp":
        assert noisy.grad_norm_bound <= clean.grad_norm_bound * (1 + 1e-12)
    assert np.all(np.asarray(list(noisy.per_weight.values()))
                  <= np.asarray(list(clean_base.per_weight.values())) + 1e-12)


def test_one_noise_insertion_for_the_models_and_the_verifier():
    """The model spec's noise=p and ``--noise depolarize:p`` build the same circuit (they used to put 64 and 52
    channels into the same hea(4, 2))."""
    from privqml.models.quantum import with_depolarizing

    ansatz = hea(4, 2)
    assert with_depolarizing(ansatz, 0.02).circuit == with_noise(ansatz, NoiseModel((("depolarize", 0.02),))).circuit
    assert with_depolarizing(ansatz, 0.0) is ansatz
