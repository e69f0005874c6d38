"""privqml.theory.devices: bundled calibrations, placement, compilation to the device gate set, the calibrated
noise and readout folding, and the gradient bound of the device ansatz against exact density-matrix maxima."""

from __future__ import annotations

import itertools
import json
import math

import cirq
import numpy as np
import pytest
import sympy

from privqml.errors import ConfigError, UnsupportedGateError
from privqml.theory import gradient_bound, hea, native, reupload
from privqml.theory.ansatz import Ansatz, parameter_names
from privqml.theory.devices import (
    DEVICES,
    DeviceAnsatz,
    calibration_source,
    compile_circuit,
    couplers,
    noise_properties,
    on_device,
    place,
    readout_observable,
)
from privqml.theory.devices.channels import _thermal_as_named
from privqml.theory.exact.numeric import compile_numeric, evaluate
from privqml.theory.exact.tightness import max_gradient_norm

import cirq_google  # noqa: I001 - after privqml.theory.devices, which makes it importable on cirq-google 1.3

RAINBOW = "rainbow"


def _points(ansatz: Ansatz, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    weights = rng.uniform(-math.pi, math.pi, (n, ansatz.n_weights))
    lows = np.array([lo for lo, _ in ansatz.input_domain])
    highs = np.array([hi for _, hi in ansatz.input_domain])
    inputs = rng.uniform(lows, highs, (n, ansatz.n_inputs))
    return np.concatenate([weights, inputs], axis=1)


def _f(ansatz: Ansatz, points: np.ndarray) -> np.ndarray:
    return evaluate(compile_numeric(ansatz), points, None)[0]


# -- calibrations -------------------------------------------------------------------------------
@pytest.mark.parametrize("device, n_qubits, n_couplers", [("rainbow", 23, 32), ("weber", 53, 86)])
def test_bundled_calibrations_load(device, n_qubits, n_couplers):
    properties = noise_properties(device)
    assert isinstance(properties, cirq_google.GoogleNoiseProperties)
    assert len(properties.qubits) == n_qubits
    assert len(couplers(properties)) == n_couplers and len(couplers(properties, "sycamore")) == n_couplers
    assert noise_properties(device) is properties  # cached
    t1 = np.array(list(properties.t1_ns.values()))
    assert np.all((t1 > 2e3) & (t1 < 3e4))  # T1 of 2.7-27 µs on these dates, in ns
    assert set(properties.tphi_ns) == set(properties.t1_ns)
    readout = np.array(list(properties.readout_errors.values()))  # (p(1|0), p(0|1)) per qubit
    assert np.all((readout >= 0) & (readout < 0.6)) and np.median(readout[:, 0]) < np.median(readout[:, 1])


def test_calibration_source_matches_cirq_google():
    from cirq_google.engine import virtual_engine_factory  # the engine's own table (its loader is not called)

    for device in DEVICES:
        source = calibration_source(device)
        assert source.file == virtual_engine_factory.MEDIAN_CALIBRATIONS[device]
        assert source.timestamp_ms == virtual_engine_factory.MEDIAN_CALIBRATION_TIMESTAMPS[device]
    assert calibration_source("rainbow").timestamp_utc == "2021-11-16T10:26:55.838+00:00"


@pytest.mark.parametrize("bad", ["sycamore", "Rainbow", ""])
def test_unknown_device_is_one_line_config_error(bad):
    with pytest.raises(ConfigError) as info:
        noise_properties(bad)
    message = str(info.value)
    assert "\n" not in message and repr(bad) in message and "rainbow" in message and "weber" in message
    with pytest.raises(ConfigError):
        on_device(hea(2, 1), bad)


# -- placement ----------------------------------------------------------------------------------
def _connected(qubits, device_couplers) -> bool:
    seen, stack = set(), [qubits[0]]
    while stack:
        q = stack.pop()
        if q not in seen:
            seen.add(q)
            stack += [r for r in qubits if frozenset((q, r)) in device_couplers]
    return seen == set(qubits)


def _cost(qubits, pairs, properties) -> float:
    device_couplers = couplers(properties)
    cost = sum(properties.gate_pauli_errors.get(cirq.OpIdentifier(cirq.PhasedXZGate, q), 0.0)
               + 0.5 * sum(properties.readout_errors[q]) for q in qubits)
    return cost + sum(device_couplers[frozenset((qubits[i], qubits[j]))] for i, j in pairs)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("n_qubits", [1, 2, 3, 5, 8])
def test_placement_is_connected_deterministic_and_on_couplers(device, n_qubits):
    properties = noise_properties(device)
    pairs = [(i, i + 1) for i in range(n_qubits - 1)]
    chosen = place(n_qubits, properties, pairs=pairs)
    assert chosen == place(n_qubits, properties, pairs=pairs)
    assert len(set(chosen)) == n_qubits and all(isinstance(q, cirq.GridQubit) for q in chosen)
    device_couplers = couplers(properties)
    assert all(frozenset((chosen[i], chosen[j])) in device_couplers for i, j in pairs)
    assert _connected(chosen, device_couplers)
    # no pairs: still a connected set
    assert _connected(place(n_qubits, properties), device_couplers)


@pytest.mark.parametrize("n_qubits", [2, 3])
def test_placement_is_the_cheapest_line(n_qubits):
    """Against brute force over every line of n_qubits coupled qubits on rainbow."""
    properties = noise_properties(RAINBOW)
    device_couplers = couplers(properties)
    pairs = [(i, i + 1) for i in range(n_qubits - 1)]
    best = min(
        _cost(line, pairs, properties)
        for line in itertools.permutations(sorted(properties.qubits), n_qubits)
        if all(frozenset((line[i], line[j])) in device_couplers for i, j in pairs)
    )
    assert _cost(place(n_qubits, properties, pairs=pairs), pairs, properties) == pytest.approx(best, abs=1e-15)


def test_placement_refuses_a_triangle_naming_the_pair():
    q = cirq.LineQubit.range(3)
    w = sympy.Symbol("w")
    circuit = cirq.Circuit(cirq.ry(w).on(q[0]), cirq.CZ(q[0], q[1]), cirq.CZ(q[1], q[2]), cirq.CZ(q[0], q[2]))
    ansatz = Ansatz(circuit, weights=[w], inputs=[], observables=[cirq.PauliSum.wrap(cirq.Z(q[0]))])
    with pytest.raises(ConfigError) as info:
        on_device(ansatz, RAINBOW)
    message = str(info.value)
    assert "\n" not in message and "ansatz qubits 0 and 2" in message and "SWAP" in message


def test_explicit_qubits():
    ansatz = hea(2, 1)
    good = (cirq.GridQubit(5, 2), cirq.GridQubit(5, 3))
    device = on_device(ansatz, RAINBOW, qubits=good)
    assert tuple(d for _, d in device.qubits) == good
    assert on_device(ansatz, RAINBOW, qubits=dict(zip(ansatz.qubits, good))).qubits == device.qubits
    with pytest.raises(ConfigError, match=r"ansatz qubits 0 and 1 .* not a coupler"):
        on_device(ansatz, RAINBOW, qubits=(cirq.GridQubit(5, 2), cirq.GridQubit(5, 4)))
    with pytest.raises(ConfigError, match="not qubits of rainbow"):
        on_device(ansatz, RAINBOW, qubits=(cirq.GridQubit(0, 0), cirq.GridQubit(0, 1)))


# -- compilation --------------------------------------------------------------------------------
_DEVICE_GATES = (cirq.PhasedXZGate, cirq.ZPowGate)


def _assert_device_gates(circuit, two_qubit_gate):
    for op in circuit.all_operations():
        assert isinstance(op.gate, _DEVICE_GATES) or op.gate == two_qubit_gate, op


def _random_unitary(dim: int, rng: np.random.Generator) -> np.ndarray:
    return cirq.testing.random_unitary(dim, random_state=int(rng.integers(2**31)))


def _random_ansatz(n_qubits: int, depth: int, seed: int) -> Ansatz:
    """Nearest-neighbour fixed gates (incl. random unitaries) and symbolic rotations of several kinds."""
    rng = np.random.default_rng(seed)
    q = cirq.LineQubit.range(n_qubits)
    w = sympy.symbols(f"w0:{3 * depth}")
    x = sympy.symbols(f"x0:{n_qubits}")
    symbolic = [
        lambda s, k: cirq.rx(s).on(q[k]),
        lambda s, k: cirq.ry(s).on(q[k]),
        lambda s, k: cirq.rz(s).on(q[k]),
        lambda s, k: (cirq.X ** (s / 2)).on(q[k]),
        lambda s, k: (cirq.Y ** s).on(q[k]),
        lambda s, k: cirq.PhasedXPowGate(phase_exponent=0.3, exponent=s).on(q[k]),
        lambda s, k: cirq.PhasedXZGate(x_exponent=s, z_exponent=0.2, axis_phase_exponent=-0.4).on(q[k]),
    ]
    fixed_2q = [cirq.CZ, cirq.CNOT, cirq.ISWAP ** 0.3, cirq.SWAP,
                lambda a, b: cirq.MatrixGate(_random_unitary(4, rng)).on(a, b)]
    circuit = cirq.Circuit(cirq.ry(x[k] ** 2 / 4).on(q[k]) if k % 2 else cirq.rx(x[k]).on(q[k])
                           for k in range(n_qubits))
    for layer in range(depth):
        for j in range(3):
            k = int(rng.integers(n_qubits))
            circuit.append(symbolic[int(rng.integers(len(symbolic)))](w[3 * layer + j], k))
        k = int(rng.integers(n_qubits))
        circuit.append(cirq.MatrixGate(_random_unitary(2, rng)).on(q[k]))
        if n_qubits > 1:
            a = int(rng.integers(n_qubits - 1))
            circuit.append(fixed_2q[int(rng.integers(len(fixed_2q)))](q[a], q[a + 1]))
    observable = cirq.PauliSum.wrap(cirq.Z(q[0]))
    if n_qubits > 1:
        observable = cirq.Z(q[0]) * cirq.X(q[-1]) + 0.5 * cirq.Z(q[-1])
    return Ansatz(circuit, weights=w, inputs=x, observables=[observable], name=f"random{seed}")


_COMPILE_CASES = [hea(2, 1), hea(3, 2), hea(4, 2, observable="Z0*Z3"), reupload(2, 2),
                  reupload(3, 2, observable="sumZ")]
_COMPILE_CASES += [_random_ansatz(n, 4, seed) for n, seed in [(1, 0), (2, 1), (3, 2), (4, 3)]]


@pytest.mark.parametrize("ansatz", _COMPILE_CASES, ids=lambda a: a.name)
@pytest.mark.parametrize("gateset, two_qubit_gate", [("sqrt_iswap", cirq.SQRT_ISWAP), ("sycamore", cirq_google.SYC)])
def test_compiled_noiseless_circuit_computes_the_same_f(ansatz, gateset, two_qubit_gate):
    device = on_device(ansatz, RAINBOW, gateset=gateset)
    compiled = device.noiseless
    _assert_device_gates(compiled.circuit, two_qubit_gate)
    assert compiled.weights == ansatz.weights and compiled.inputs == ansatz.inputs
    assert compiled.input_domain == ansatz.input_domain and device.ansatz.input_domain == ansatz.input_domain
    assert device.ansatz.weights == ansatz.weights and device.ansatz.inputs == ansatz.inputs
    points = _points(ansatz, 6, seed=len(ansatz.name))
    np.testing.assert_allclose(_f(compiled, points), _f(ansatz, points), atol=1e-6)
    # every weight and input still sits in a gate of the compiled circuit, and the theory bounds it
    assert parameter_names(compiled.circuit) == parameter_names(ansatz.circuit)
    assert gradient_bound(compiled).per_observable[0] > 0


def test_parametrised_two_qubit_gate_is_refused_in_one_line():
    with pytest.raises(UnsupportedGateError) as info:
        on_device(native(2, 1), RAINBOW)
    message = str(info.value)
    assert "\n" not in message and "FSim" in message and "noiseless engines" in message
    q = cirq.LineQubit.range(2)
    w = sympy.Symbol("w")
    xx = Ansatz(cirq.Circuit((cirq.XX ** w).on(*q)), weights=[w], inputs=[],
                observables=[cirq.PauliSum.wrap(cirq.Z(q[0]))])
    with pytest.raises(UnsupportedGateError, match="XX"):
        on_device(xx, RAINBOW)


def test_channels_in_the_source_are_refused():
    q = cirq.LineQubit(0)
    w = sympy.Symbol("w")
    noisy = Ansatz(cirq.Circuit(cirq.rx(w).on(q), cirq.depolarize(0.01).on(q)), weights=[w], inputs=[],
                   observables=[cirq.PauliSum.wrap(cirq.Z(q))])
    with pytest.raises(UnsupportedGateError, match="not unitary"):
        on_device(noisy, RAINBOW)


def test_compile_circuit_checks_couplers():
    a, b = cirq.GridQubit(5, 2), cirq.GridQubit(5, 4)  # not coupled on rainbow
    with pytest.raises(ConfigError, match="not a coupler"):
        compile_circuit(cirq.Circuit(cirq.CZ(a, b)), device_couplers=couplers(noise_properties(RAINBOW)))


# -- noise and readout --------------------------------------------------------------------------
def test_thermal_channel_is_amplitude_then_phase_damping():
    q = cirq.GridQubit(5, 2)
    model = cirq.devices.ThermalNoiseModel({q}, {cirq.PhasedXZGate: 25.0}, cool_rate_GHz={q: 1 / 15e3},
                                           dephase_rate_GHz={q: 1 / 30e3}, require_physical_tag=False)
    (channel,) = model.noisy_moment(cirq.Moment(cirq.PhasedXZGate(x_exponent=0.5, z_exponent=0, axis_phase_exponent=0)
                                                .on(q)), [q])[1].operations
    amplitude, phase = _thermal_as_named(channel)
    assert amplitude.gate.gamma == pytest.approx(1 - math.exp(-25.0 / 15e3), rel=1e-9)
    assert phase.gate._gamma == pytest.approx(1 - math.exp(-2 * 25.0 / 30e3), rel=1e-9)  # noqa: SLF001


def test_noisy_ansatz_matches_cirq_density_matrix_simulation():
    """The converted channels against Cirq's own simulation of NoiseModelFromGoogleNoiseProperties."""
    ansatz = hea(2, 1, observable="Z0*Z1")
    device = on_device(ansatz, RAINBOW, readout=False)
    properties = noise_properties(RAINBOW)
    raw = device.noiseless.circuit.unfreeze().with_noise(cirq_google.NoiseModelFromGoogleNoiseProperties(properties))
    points = _points(ansatz, 3, seed=7)
    ours = _f(device.ansatz, points)[:, 0]
    observable = device.noiseless.observables[0]
    qubits = sorted(raw.all_qubits())
    for point, value in zip(points, ours):
        resolver = ansatz.resolver(point[: ansatz.n_weights], point[ansatz.n_weights:])
        simulator = cirq.DensityMatrixSimulator(dtype=np.complex128)
        rho = simulator.simulate(raw, resolver, qubit_order=qubits).final_density_matrix
        assert value == pytest.approx(float(np.real(np.trace(observable.matrix(qubits) @ rho))), abs=1e-9)
    noiseless = _f(device.noiseless, points)[:, 0]
    assert np.max(np.abs(ours - noiseless)) > 1e-3  # the noise does something


@pytest.mark.parametrize("basis", ["Z", "X", "Y"])
def test_readout_sign_convention_one_qubit(basis):
    """(1 − e0 − e1) P + (e1 − e0) I equals the mean of a confused ±1 readout, and Cirq's own readout noise
    (generalized amplitude damping before the measurement, after the basis change)."""
    q = cirq.GridQubit(5, 2)
    e0, e1 = 0.03, 0.11  # p(read 1 | 0), p(read 0 | 1)
    pauli = {"X": cirq.X, "Y": cirq.Y, "Z": cirq.Z}[basis]
    folded = readout_observable(cirq.PauliSum.wrap(pauli(q)), {q: (e0, e1)})
    to_z = {"X": [cirq.H(q)], "Y": [cirq.S(q) ** -1, cirq.H(q)], "Z": []}[basis]
    properties = noise_properties(RAINBOW).with_params(readout_errors={q: [e0, e1]})
    model = cirq_google.NoiseModelFromGoogleNoiseProperties(properties)
    for prep in ([], [cirq.X(q)], [cirq.ry(0.7).on(q), cirq.rz(-1.1).on(q)], [cirq.H(q)]):
        rho = cirq.final_density_matrix(cirq.Circuit(prep), qubit_order=[q], dtype=np.complex128)
        ours = float(np.real(np.trace(folded.matrix([q]) @ rho)))
        rotated = cirq.final_density_matrix(cirq.Circuit(prep, to_z), qubit_order=[q], dtype=np.complex128)
        p0 = float(np.real(rotated[0, 0]))
        read_plus = p0 * (1 - e0) + (1 - p0) * e1
        assert ours == pytest.approx(2 * read_plus - 1, abs=1e-12)
        measured = cirq.Circuit(prep, to_z, cirq.measure(q, key="m"))
        noisy = cirq.Circuit(model.noisy_moments(measured, [q]))
        before = cirq.Circuit(op for op in noisy.all_operations() if not cirq.is_measurement(op))
        rho_cirq = cirq.final_density_matrix(before, qubit_order=[q], dtype=np.complex128)
        assert ours == pytest.approx(float(np.real(rho_cirq[0, 0] - rho_cirq[1, 1])), abs=1e-9)


def test_readout_of_a_product_term_multiplies():
    a, b = cirq.GridQubit(5, 2), cirq.GridQubit(5, 3)
    errors = {a: (0.02, 0.05), b: (0.04, 0.01)}
    folded = readout_observable(2.0 * cirq.Z(a) * cirq.X(b) - 0.5, errors)
    expected = (2.0 * (0.93 * cirq.Z(a) + 0.03) * (0.95 * cirq.X(b) - 0.03)) - 0.5
    np.testing.assert_allclose(folded.matrix([a, b]), expected.matrix([a, b]), atol=1e-15)


def test_readout_false_keeps_the_observables():
    device = on_device(hea(2, 1), RAINBOW, readout=False)
    assert device.ansatz.observables == device.noiseless.observables
    assert "readout" not in device.summary()["noise"]


def test_custom_properties():
    properties = noise_properties(RAINBOW).with_params(gate_pauli_errors=0.0)
    device = on_device(hea(2, 1), properties)
    assert device.device == "custom" and device.calibration.file is None
    kinds = {s.kind for s in device.noise_summary}
    assert "depolarize_1q" not in kinds and {"amplitude_damp", "phase_damp", "coherent_fsim"} <= kinds


# -- the record ---------------------------------------------------------------------------------
def test_summary_is_json_and_deterministic():
    device = on_device(hea(3, 2), RAINBOW)
    assert isinstance(device, DeviceAnsatz)
    summary = json.loads(json.dumps(device.summary()))
    assert summary["device"] == "rainbow" and summary["calibration"]["file"] == "rainbow_2021_11_16_calibration.json"
    assert summary["gate_counts"] == {"ISWAP**0.5": 8, "PhasedXZ": 18, "PhasedXZ (symbolic)": 9, "Z (symbolic)": 6}
    assert set(summary["noise"]) == {"amplitude_damp", "phase_damp", "depolarize_1q", "depolarize_2q",
                                     "coherent_fsim", "readout"}
    assert summary["noise"]["coherent_fsim"]["count"] == 8 and summary["noise"]["readout"]["count"] == 1
    assert on_device(hea(3, 2), RAINBOW).circuit_sha256 == device.circuit_sha256
    assert on_device(hea(3, 1), RAINBOW).circuit_sha256 != device.circuit_sha256


# -- soundness --------------------------------------------------------------------------------
@pytest.mark.parametrize("n_qubits, n_layers, maxiter", [(2, 1, 500), (3, 1, 30), (3, 2, 30)])
def test_device_bound_holds_against_exact_maximum(n_qubits, n_layers, maxiter):
    """The bound of the noisy device ansatz is at least the exact maximum gradient norm (multi-start L-BFGS-B
    on exact density-matrix Jacobians; on 3 qubits each start stops at 30 iterations to stay fast — the full
    runs (500) reach 0.92850 against 0.92849 for one layer and 1.28909 against 1.28905 for two)."""
    source = hea(n_qubits, n_layers)
    device = on_device(source, RAINBOW)
    bound = gradient_bound(device.ansatz).per_observable[0]
    exact = max_gradient_norm(device.ansatz, n_starts=4, seed=0, maxiter=maxiter).true_max_estimate
    noiseless = gradient_bound(source).per_observable[0]
    print(f"hea({n_qubits},{n_layers}) on rainbow: bound {bound:.4f} >= exact {exact:.4f}; noiseless bound "
          f"{noiseless:.4f} ({'below' if bound < noiseless else 'not below'})")
    assert bound >= exact * (1 - 1e-9)
    assert exact > 0.5 * noiseless  # the device ansatz still learns something: a test that can fail
