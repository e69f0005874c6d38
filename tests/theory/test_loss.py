"""Loss-gradient bounds: closed forms, the chain rule checked numerically, honest 'unbounded'."""

from __future__ import annotations

import json
import math

import cirq
import numpy as np
import pytest
import sympy

from privqml.errors import ConfigError
from privqml.theory import Ansatz, Readout, gradient_bound, hea, loss_gradient_bound
from tests.theory.test_bounds import fd_jacobian, _expectations

q0 = cirq.LineQubit(0)
t = sympy.Symbol("t")
RX = Ansatz(cirq.Circuit(cirq.rx(t).on(q0)), (t,), (), (cirq.PauliSum.wrap(cirq.Z(q0)),))


def _sigmoid(z):
    return 1 / (1 + math.exp(-z))


@pytest.mark.parametrize("scale", [1.0, 3.0])
def test_bce_logits_closed_form_and_attained(scale):
    ansatz = RX.with_readout(Readout(scale))
    bound = loss_gradient_bound(ansatz, "bce_logits")
    # f = cos t in [-1, 1]; |dl/dz| <= sigma(s); grad = s * |sigma(s cos t) - y| * |sin t|
    assert bound.uncoupled_value == pytest.approx(scale * _sigmoid(scale))  # the product of the two sups
    ts = np.linspace(-math.pi, math.pi, 20001)
    attained = max(np.max(scale * np.abs(1 / (1 + np.exp(-scale * np.cos(ts))) - y) * np.abs(np.sin(ts))) for y in (0, 1))
    assert attained <= bound.value + 1e-12
    # here ‖∇f‖ = |sin t| = √(1 − f²) exactly, so the coupled bound is the attained maximum
    assert attained >= bound.value * (1 - 1e-3)
    assert bound.value < bound.uncoupled_value


def test_mse_and_hinge_closed_forms():
    mse = loss_gradient_bound(RX, "mse")
    assert mse.uncoupled_value == pytest.approx(2 * 2 * 1.0)  # 2*max|f-y| * G
    # coupled: max (2|f + 1|)·√(1 − f²) = 3√3/2 at f = 1/2 (attained by f = cos t)
    assert mse.value == pytest.approx(3 * math.sqrt(3) / 2, rel=1e-3) and mse.value >= 3 * math.sqrt(3) / 2
    half = loss_gradient_bound(RX.with_readout(Readout(0.5)), "mse")
    assert half.uncoupled_value == pytest.approx(0.5 * 2 * 1.5)
    ts = np.linspace(-math.pi, math.pi, 20001)
    attained = max(np.max(np.abs(2 * 0.5 * (0.5 * np.cos(ts) - y)) * np.abs(np.sin(ts))) for y in (-1, 1))
    assert attained <= half.value + 1e-12 and attained >= half.value * (1 - 1e-3)
    assert loss_gradient_bound(RX, "hinge").value == pytest.approx(1.0)
    assert loss_gradient_bound(RX.with_readout(Readout(2.0)), "hinge").value == pytest.approx(2.0)


def test_bce_on_probability_is_unbounded_unless_clamped():
    unclamped = loss_gradient_bound(RX, "bce_prob")
    assert unclamped.value is None and not unclamped.bounded
    assert "unbounded" in unclamped.unbounded_reason and "clamp" in unclamped.unbounded_reason
    clamped = loss_gradient_bound(RX, "bce_prob", clamp=0.01)
    assert clamped.uncoupled_value == pytest.approx(1.0 / (0.01 * 2.0))
    # coupled: |∂ℓ/∂f|·√(1 − f²) = √((1 − p)/p) for p = (f + 1)/2 ≥ c: largest at p = c, √99
    assert clamped.value == pytest.approx(math.sqrt(99), rel=1e-2) and clamped.value >= math.sqrt(99)


def test_trainable_scale_is_unbounded_with_a_reason():
    result = loss_gradient_bound(hea(2, 1).with_readout(Readout(1.0, trainable_scale=True)), "bce_logits")
    assert result.value is None and "trainable" in result.unbounded_reason
    assert result.as_dict()["loss_grad_norm_bound"] is None
    data = result.to_json()  # privqml's JSON: no bound is null, an infinite supremum is "inf"
    assert data["loss_grad_norm_bound"] is None and data["loss_dloss_dlogit_sup"] == "inf"
    assert data == json.loads(json.dumps(data, allow_nan=False))


def test_softmax_bound_holds_numerically():
    ansatz = hea(3, 1, "classes:3").with_readout(Readout(2.0))
    bound = loss_gradient_bound(ansatz, "softmax_ce")
    rng = np.random.default_rng(5)
    for _ in range(5):
        weights = rng.uniform(-3, 3, ansatz.n_weights)
        inputs = rng.uniform(-3, 3, ansatz.n_inputs)
        f = _expectations(ansatz, weights, inputs)
        jac = fd_jacobian(ansatz, weights, inputs)
        p = np.exp(2 * f) / np.exp(2 * f).sum()
        for y in range(3):
            grad = 2.0 * (p - np.eye(3)[y]) @ jac
            assert np.linalg.norm(grad) <= bound.value + 1e-6
    assert bound.value < 2.0 * 2 * max(gradient_bound(ansatz).per_observable)


def test_binary_loss_numerically_on_hea():
    ansatz = hea(2, 2).with_readout(Readout(1.5))
    bound = loss_gradient_bound(ansatz, "bce_logits")
    rng = np.random.default_rng(9)
    for _ in range(5):
        weights, inputs = rng.uniform(-3, 3, ansatz.n_weights), rng.uniform(-3, 3, ansatz.n_inputs)
        f = _expectations(ansatz, weights, inputs)[0]
        grad = fd_jacobian(ansatz, weights, inputs)[0]
        for y in (0, 1):
            assert np.linalg.norm(1.5 * (_sigmoid(1.5 * f) - y) * grad) <= bound.value + 1e-9


@pytest.mark.parametrize(
    "ansatz, loss, kwargs, match",
    [
        (RX, "nope", {}, "not known"),
        (hea(3, 1, "classes:3"), "bce_logits", {}, "binary"),
        (RX, "softmax_ce", {}, "one observable per class"),
        (RX, "bce_prob", {"clamp": 0.7}, "clamp"),
    ],
)
def test_bad_loss_configurations(ansatz, loss, kwargs, match):
    with pytest.raises(ConfigError, match=match):
        loss_gradient_bound(ansatz, loss, **kwargs)
