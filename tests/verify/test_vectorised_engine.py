"""The ``vectorised`` verify engine (tensorcircuit-ng on TensorFlow, float32).

Layers (each assertion a number, each able to fail):
- closed form: the float32 tolerance of rx(w) measured by Z, 2.8e-6 + 4u·|w| (u = 2⁻²⁴);
- the engine contract of :class:`tests.verify.test_engines.EngineContract`;
- agreement with the exact float64 ``numeric`` engine within the summed tolerances, on every
  built-in family, on random ansätze of :func:`privqml.verify.strategies.ansatze` (noiseless and
  with drawn noise models), and on depolarising plus amplitude-damping circuits — where the
  noisy gradient also differs from the noiseless one by far more than the tolerance;
- ``privqml verify --engines vectorised``: passes on a built-in with the honest bound, reaching it
  (max ratio 1), and exits 1 with ``--weaken 0.9`` (ratio 1/0.9);
- unsupported circuits are reported (an error naming the gate, or a declined engine with skipped
  properties), never passed.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap

import cirq
import numpy as np
import pytest
import sympy
from hypothesis import given, reject
from hypothesis import strategies as st

from privqml.cli import main
from privqml.errors import ConfigError, ObservableError, UnsupportedGateError
from privqml.theory import Ansatz, hea, load_ansatz, native, parse_observables, reupload
from privqml.verify.engines import ENGINE_NAMES, get_engine, gradients, observable_norms
from privqml.theory.noise import NoiseModel, with_noise
from privqml.verify.runner import verify_ansatz
from privqml.verify.strategies import ansatze, noise_models, points
from privqml.verify.vectorised_engine import DOCUMENTED_ACCURACY, FLOAT32_ROUNDOFF, SAFETY, float32_tolerance
from tests.verify._cases import CASES, hypothesis_settings, points_for
from tests.verify.test_engines import EngineContract

NOISE = NoiseModel((("depolarize", 0.05), ("amplitude_damp", 0.1)))


def _assert_agrees_with_numeric(ansatz, weights, inputs):
    """|J_vectorised − J_numeric| ≤ tol_vectorised + tol_numeric entrywise; returns both results."""
    result = gradients("vectorised", ansatz, weights, inputs)
    reference = gradients("numeric", ansatz, weights, inputs)
    difference = np.abs(result.jacobian - reference.jacobian)
    allowed = result.tolerance + reference.tolerance
    assert np.all(difference <= allowed), (ansatz.name, (difference / allowed).max())
    # values: the engine's documented float32 accuracy plus the rounding of the slot values
    np.testing.assert_allclose(result.values, reference.values, atol=1e-4 * max(observable_norms(ansatz).max(), 1.0))
    return result, reference


# ---------------------------------------------------------------------------------------
# closed form and registry
# ---------------------------------------------------------------------------------------
def test_tolerance_of_one_rotation_in_closed_form():
    """rx(w), Z: t = w/π, Ω = π, ∂t/∂w = 1/π, so S = 1 and |δ| = u·(|t| + |w|/π) = 2u|w|/π:
    tol = 2·[7e-7·(1 + 1) + 1·π·2u|w|/π] = 2.8e-6 + 4u|w|."""
    q = cirq.LineQubit(0)
    w = sympy.Symbol("w")
    ansatz = Ansatz(cirq.Circuit(cirq.rx(w).on(q)), (w,), (), parse_observables("Z0", (q,)))
    weights = np.array([[0.0], [1.0], [-30.0]])
    tolerance = float32_tolerance(ansatz, weights, np.zeros((3, 0)))
    expected = SAFETY * (DOCUMENTED_ACCURACY * 2 + 2 * FLOAT32_ROUNDOFF * np.abs(weights[:, 0]))
    np.testing.assert_allclose(tolerance[:, 0, 0], expected + 1e-12, rtol=1e-12)
    # and the engine's gradient of cos(w) is within it, at large angles too
    result = gradients("vectorised", ansatz, weights, None)
    assert np.all(np.abs(result.jacobian[:, 0, 0] + np.sin(weights[:, 0])) <= result.tolerance[:, 0, 0])


def test_registered_exact_with_noise_and_loaded_lazily():
    engine = get_engine("vectorised")
    assert "vectorised" in ENGINE_NAMES and engine.exact and not engine.stochastic and engine.supports_noise
    code = ("import sys, privqml.verify.engines as e; e.get_engine('numeric'); e.parse_engines('vectorised'); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'tensorcircuit')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


class TestVectorised(EngineContract):
    engine = "vectorised"

    def test_counts_the_circuits_it_runs(self, case):
        """One circuit per example: the stacked Jacobian evaluates it once per observable in one
        forward pass, then one backward pass."""
        _, _, _, result = case
        assert result.circuits_per_example == 1


# ---------------------------------------------------------------------------------------
# agreement with the exact float64 engine
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("make", [lambda: hea(3, 2, "Z0"), lambda: hea(2, 1, "Z0,Z1"), lambda: reupload(2, 2, "Z0*Z1"),
                                  lambda: native(2, 1, "sumZ"), CASES["google_native"], CASES["iswap"],
                                  CASES["pauli_sum"]],
                         ids=["hea", "hea_two_outputs", "reupload", "native", "google_native", "iswap", "pauli_sum"])
def test_agrees_with_numeric_on_the_builtin_families(make):
    ansatz = make()
    weights, inputs = points_for(ansatz, batch=4, seed=3)
    result, reference = _assert_agrees_with_numeric(ansatz, weights, inputs)
    assert np.abs(reference.jacobian).max() > 0.05  # not trivially zero
    # a real float32 tolerance (≈1e-5 here), far below the gradients it checks
    assert result.tolerance.max() < 2e-4 * max(observable_norms(ansatz).max(), 1.0)


@hypothesis_settings(ci_examples=8)
@given(data=st.data())
def test_agrees_with_numeric_on_random_ansatze(data):
    try:
        ansatz = data.draw(ansatze(max_qubits=3, max_layers=2, max_observables=2), label="ansatz")
    except ObservableError:  # the strategy can put an observable on a qubit no gate touches
        reject()
    weights, inputs = data.draw(points(ansatz, max_batch=2, corner_rows=2), label="points")
    _assert_agrees_with_numeric(ansatz, weights, inputs)


@hypothesis_settings(ci_examples=4)
@given(data=st.data())
def test_agrees_with_numeric_on_random_noisy_ansatze(data):
    try:
        ansatz = data.draw(ansatze(max_qubits=2, max_layers=2), label="ansatz")
    except ObservableError:
        reject()
    noisy = with_noise(ansatz, data.draw(noise_models(), label="noise"))
    weights, inputs = data.draw(points(noisy, max_batch=2), label="points")
    _assert_agrees_with_numeric(noisy, weights, inputs)


@pytest.mark.parametrize("case", ["hea", "google_native", "shared_weights"])
def test_exact_noisy_gradients_agree_with_the_density_matrix_engine(case):
    clean = CASES[case]()
    ansatz = with_noise(clean, NOISE)  # depolarising and amplitude damping after every moment
    weights, inputs = points_for(ansatz, batch=3, seed=5)
    result, _ = _assert_agrees_with_numeric(ansatz, weights, inputs)
    assert result.shots_per_circuit is None and result.estimate_bound is None  # exact, not sampled
    # the channels are simulated: the noisy gradient differs from the noiseless one far beyond tolerance
    noiseless = gradients("vectorised", clean, weights, inputs)
    assert np.max(np.abs(noiseless.jacobian - result.jacobian) / result.tolerance) > 100


# ---------------------------------------------------------------------------------------
# privqml verify --engines vectorised
# ---------------------------------------------------------------------------------------
def _verify_json(capsys, *argv):
    code = main(["verify", *argv, "--engines", "vectorised", "--json"])
    out, _ = capsys.readouterr()
    return code, json.loads(out)


def test_cli_passes_with_the_honest_bound_and_fails_weakened_by_0_9(capsys):
    """hea 2q2l Z0: a per-weight bound attained at a corner point (ratio 1). Weakened to 0.9 B the
    same point gives 1/0.9 and the command exits 1 with vectorised's counterexample."""
    options = ("hea", "--qubits", "2", "--layers", "2", "--observable", "Z0", "--seed", "0")
    code, honest = _verify_json(capsys, *options)
    assert code == 0 and honest["passed"] and honest["engines"] == ["vectorised"]
    for name in ("per_weight", "total", "loss", "zero"):
        entry = honest["properties"][name]
        assert entry["skipped"] is None and entry["examples"] == 6 and entry["engines"] == ["vectorised"]
    for name in ("shots", "noisy", "agree"):  # they need the sampling engines or a second exact engine
        assert honest["properties"][name]["skipped"] and honest["properties"][name]["examples"] == 0
    assert honest["properties"]["per_weight"]["max_ratio"] == pytest.approx(1.0, rel=1e-5)

    code, weakened = _verify_json(capsys, *options, "--weaken", "0.9")
    assert code == 1 and not weakened["passed"]
    counterexample = weakened["counterexample"]
    assert counterexample["engine"] == "vectorised" and counterexample["property"] in ("per_weight", "total", "loss")
    assert counterexample["ratio"] > 1.0
    assert weakened["properties"]["per_weight"]["max_ratio"] == pytest.approx(1 / 0.9, rel=1e-5)


def test_cli_checks_the_exact_noisy_gradient_against_the_noise_aware_bound(capsys):
    code, report = _verify_json(capsys, "reupload", "--qubits", "2", "--layers", "1", "--examples", "3",
                                "--noise", "depolarize:0.02")
    assert code == 0 and report["passed"]
    per_weight = report["properties"]["per_weight"]
    assert per_weight["engines"] == ["vectorised"] and per_weight["examples"] == 3
    assert 0.5 < per_weight["max_ratio"] <= 1.0  # the noisy gradient was checked, close to its bound


# ---------------------------------------------------------------------------------------
# circuits the engine cannot run: reported, never passed
# ---------------------------------------------------------------------------------------
OPAQUE_FILE = textwrap.dedent('''
    import cirq
    import sympy
    from privqml.theory import Ansatz, parse_observables

    class Opaque(cirq.Gate):
        """A fixed gate with no unitary, Kraus operators or decomposition."""

        def _num_qubits_(self):
            return 1

        def _circuit_diagram_info_(self, args):
            return "Opaque"

    def build():
        q0, q1 = cirq.LineQubit.range(2)
        w = sympy.Symbol("w")
        circuit = cirq.Circuit(cirq.ry(w).on(q0), Opaque().on(q1), cirq.CZ(q0, q1))
        return Ansatz(circuit, (w,), (), parse_observables("Z0", (q0, q1)), name="opaque")
''')


def test_an_unsupported_gate_is_an_error_naming_it(capsys, tmp_path):
    source = tmp_path / "opaque.py"
    source.write_text(OPAQUE_FILE)
    code = main(["verify", f"{source}:build", "--engines", "vectorised", "--examples", "2"])
    _, err = capsys.readouterr()
    assert code == 2 and "cannot simulate Opaque" in err  # the command stops before any search
    ansatz = load_ansatz(f"{source}:build")
    with pytest.raises(UnsupportedGateError, match="cannot simulate Opaque"):
        gradients("vectorised", ansatz, np.zeros(1), None)
    with pytest.raises(UnsupportedGateError, match="cannot simulate Opaque"):
        verify_ansatz(ansatz, engines="vectorised", examples=2)


def test_a_circuit_over_the_size_limits_is_declined_and_its_properties_skipped():
    noisy = with_noise(hea(11, 1), NoiseModel((("depolarize", 0.01),)))
    reason = get_engine("vectorised").declines(noisy)
    assert reason is not None and "density-matrix" in reason and "10 qubits" in reason
    assert "state-vector" in get_engine("vectorised").declines(hea(21, 1))
    with pytest.raises(ConfigError, match="10 qubits"):
        gradients("vectorised", noisy, np.zeros(noisy.n_weights), np.zeros(noisy.n_inputs))
    report = verify_ansatz(noisy, engines="vectorised", examples=2)
    for p in report.properties:  # nothing was checked, and the report says so property by property
        assert p.skipped and p.examples == 0 and p.engines == (), p
    assert report.counterexample is None
    assert math.isclose(sum(p.max_ratio for p in report.properties), 0.0)
