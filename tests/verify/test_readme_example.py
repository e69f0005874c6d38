# --- README example start ---
# test_my_ansatz_bound.py — property-test the gradient bound of your own ansatz with privqml.
import cirq
import numpy as np
import sympy
from hypothesis import given, settings

from privqml.theory import Ansatz, gradient_bound, parse_observables
from privqml.verify import assert_bound_holds, gradients, points


def my_ansatz() -> Ansatz:
    q0, q1 = cirq.LineQubit.range(2)
    w = sympy.symbols("w0:4")
    x = sympy.Symbol("x")
    circuit = cirq.Circuit(
        cirq.rx(x).on(q0), cirq.ry(2 * x).on(q1),
        cirq.PhasedXZGate(x_exponent=w[0], z_exponent=w[1], axis_phase_exponent=0.25).on(q0),
        cirq.FSimGate(theta=w[2], phi=w[3]).on(q0, q1),
    )
    return Ansatz(circuit, w, (x,), parse_observables("Z0*Z1+0.5*X1", (q0, q1)),
                  input_domain=((0.0, 1.0),), name="mine")


def test_every_property_holds():
    # all properties, all engines, a CI-sized seeded search; on failure this raises
    # AssertionError with the shrunk counterexample (weights, inputs, engine)
    report = assert_bound_holds(my_ansatz(), examples=5, seed=0)
    assert report.property("per_weight").max_ratio <= 1.0 + 1e-4


ANSATZ = my_ansatz()
BOUND = gradient_bound(ANSATZ)


@settings(settings.get_profile("privqml-ci"), max_examples=20)  # privqml's registered CI profile
@given(batch=points(ANSATZ, max_batch=4))
def test_adjoint_gradients_stay_below_the_bound(batch):
    weights, inputs = batch  # inputs are drawn inside the declared domain [0, 1]
    result = gradients("adjoint", ANSATZ, weights, inputs)
    norms = np.linalg.norm(result.jacobian, axis=-1)  # [batch, n_observables]
    slack = np.linalg.norm(result.tolerance, axis=-1)  # float32 tolerance of the TFQ engine
    assert np.all(norms <= BOUND.grad_norm_bound + slack)
# --- README example end ---


def test_the_readme_shows_this_example_verbatim():
    import pathlib

    source = pathlib.Path(__file__).read_text()
    example = source.split("# --- README example start ---\n")[1].split("# --- README example end ---")[0]
    root = pathlib.Path(__file__).resolve().parents[2]
    documents = [root / "README.md"]
    assert any(p.is_file() and example in p.read_text() for p in documents), \
        "copy the example between the README markers of this file into README.md (verify section)"
