r"""An ansatz on a Google device: placed on its grid, compiled to its gates, with its calibrated noise.

:func:`on_device` turns an :class:`~privqml.theory.Ansatz` into the ansatz a Google processor would run,
in four steps, one module each (:mod:`.calibration`, :mod:`.placement`, :mod:`.compilation`, :mod:`.channels`):

1. **Calibration.** The median calibrations bundled with cirq-google (``rainbow`` 2021-11-16, ``weber``
   2021-11-03; the files ``cirq_google/devices/calibrations/*_calibration.json``) are read with
   ``cirq.read_json`` and turned into ``cirq_google.GoogleNoiseProperties`` by
   ``cirq_google.noise_properties_from_calibration`` (T1, Tφ from the RB incoherent error, RB/XEB Pauli
   errors, readout errors p(0→1), p(1→0), XEB entangling-angle errors θ, φ). Any
   ``GoogleNoiseProperties`` may be passed instead. The Floquet z-phase samples (ζ, γ of the entangler,
   measured on other dates) are not used.
2. **Placement** (:func:`place`). Ansatz qubit i goes to device qubit φ(i) such that every pair the
   ansatz couples is a device coupler and the chosen qubits are connected, with the least summed error
   (single-qubit Pauli error + mean readout error per qubit, Pauli error of the two-qubit gate per used
   coupler), by a deterministic branch and bound. No routing: a pair that cannot sit on a coupler is
   refused (SWAP insertion is out of scope).
3. **Compilation** (:func:`compile_circuit`). Parametrised single-qubit gates keep their symbols as
   device gates: rz(a) → Z^{a/π} (virtual on the device), rx(a) → PhasedXZ(x=a/π, a=0),
   ry(a) → PhasedXZ(x=a/π, a=½) (S Xᵗ S† = Yᵗ), PhasedX^t_p → PhasedXZ(x=t, a=p), up to global phases
   (no effect on any expectation). The fixed gates are compiled by ``cirq.optimize_for_target_gateset``
   to √iSWAP (``cirq.SqrtIswapTargetGateset``) or Sycamore (``cirq_google.SycamoreTargetGateset``) plus
   PhasedXZ and Z; the parametrised gates pass through it untouched. Parametrised gates on two or more
   qubits (FSim(θ, φ) with weights, XX^w, CZ^w) are refused: they have no fixed decomposition here; the
   noiseless engines run them as they are.
4. **Noise.** ``cirq_google.NoiseModelFromGoogleNoiseProperties`` inserts, after each physical moment,
   depolarising channels after the gates (Pauli error less its decoherence part), the thermal channel
   of every qubit for the moment's duration, and after each entangler on a calibrated pair the fixed
   coherent error PhasedFSim(δθ, δφ). It accepts symbolic gates: it matches gate *types* (PhasedXZ, Z,
   ISWAP powers, SYC), which is also why step 3 rewrites rx/ry/rz — as ``cirq.Rx`` they would get neither
   depolarising nor thermal noise, and Z^t counts as virtual (noiseless), as on the device. Its
   thermal ``cirq.KrausChannel`` (cooling rate 1/T1, dephasing rate 1/Tφ, no heating) is replaced by the
   equal channel amplitude_damp(γ) then phase_damp(λ), γ = 1 − e^{−t/T1}, λ = 1 − e^{−2t/Tφ} (the
   populations relax by γ, the coherences by √(1−γ)·√(1−λ) = e^{−t/(2T1) − t/Tφ}); the replacement is
   checked against the Kraus channel's superoperator. Named channels are hashable and the theory's noise
   refinements read them.

**Readout** error is folded into the observable exactly. A qubit read with confusion p(1|0) = e₀,
p(0|1) = e₁ reports for an eigenvalue s = ±1 of its Pauli factor P (measured after a basis change) the
mean (1 − e₀ − e₁)·s + (e₁ − e₀), so P ↦ (1 − e₀ − e₁) P + (e₁ − e₀) I; independent readout errors
on the qubits of a term multiply:

    c · ⊗_q P_q  ↦  c · ⊗_q [(1 − e₀_q − e₁_q) P_q + (e₁_q − e₀_q) I].

The device ansatz is still an :class:`Ansatz` with the same weight and input symbols and the same public
input domain: every parameter-free channel keeps f(x; θ) a trigonometric polynomial with the same
frequencies inside the (folded) observable's range, so ``gradient_bound`` applies to it as to any ansatz.
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Mapping, Sequence, Union

import cirq

from privqml.errors import ConfigError
from privqml.theory.ansatz import Ansatz
from privqml.theory.devices.calibration import (DEVICES, CalibrationSource, calibration_source, cirq_google,
                                                load_calibration, noise_properties)
from privqml.theory.devices.channels import ChannelStats, add_device_noise, noise_stats, readout_observable
from privqml.theory.devices.compilation import GATESETS, _target_gateset, compile_circuit
from privqml.theory.devices.placement import couplers, interaction_pairs, place


@dataclasses.dataclass(frozen=True)
class DeviceAnsatz:
    """An ansatz as a Google device runs it (module docstring).

    Attributes:
        ansatz: compiled, with the calibrated channels and (``readout=True``) readout error folded into its
            observables; same weight and input symbols, input domain and readout scale as the source.
        noiseless: the compiled circuit without channels, observables on the device qubits, no readout error.
        device: the device name ("custom" for caller-supplied properties).
        gateset: "sqrt_iswap" or "sycamore".
        calibration: where the noise properties came from.
        qubits: ((ansatz qubit, device qubit), ...) in ansatz qubit order.
        gate_counts: compiled gates by kind ("(symbolic)" marks gates with weight or input symbols).
        circuit_sha256: SHA-256 of ``cirq.to_json`` of the compiled noiseless circuit (identifies the
            compilation; it may differ across Cirq releases).
        noise_summary: the inserted channels and the folded readout errors, with parameter ranges.
        readout: whether readout error is folded into ``ansatz``'s observables.
    """

    ansatz: Ansatz
    noiseless: Ansatz
    device: str
    gateset: str
    calibration: CalibrationSource
    qubits: tuple[tuple[cirq.Qid, cirq.Qid], ...]
    gate_counts: Mapping[str, int]
    circuit_sha256: str
    noise_summary: tuple[ChannelStats, ...]
    readout: bool

    def summary(self) -> dict:
        """A JSON-able record (what ``run.json`` keeps and a command line prints)."""
        return {
            "device": self.device,
            "gateset": self.gateset,
            "calibration": self.calibration.to_dict(),
            "qubits": {str(a): str(d) for a, d in self.qubits},
            "gate_counts": dict(self.gate_counts),
            "moments": {"noiseless": len(self.noiseless.circuit), "noisy": len(self.ansatz.circuit)},
            "circuit_sha256": self.circuit_sha256,
            "noise": {s.kind: s.to_dict() for s in self.noise_summary},
            "readout_folded": self.readout,
            "source": self.noiseless.name,
        }


def _gate_label(op: cirq.Operation) -> str:
    gate = op.gate
    label = {cirq.PhasedXZGate: "PhasedXZ", cirq.ZPowGate: "Z"}.get(type(gate), str(gate))
    return f"{label} (symbolic)" if cirq.is_parameterized(op) else label


def _circuit_sha256(circuit: cirq.AbstractCircuit) -> str:
    return hashlib.sha256(cirq.to_json(cirq.Circuit(circuit)).encode()).hexdigest()


def on_device(
    ansatz: Ansatz,
    device: Union[str, "cirq_google.GoogleNoiseProperties"],
    *,
    qubits: Union[None, Sequence[cirq.Qid], Mapping[cirq.Qid, cirq.Qid]] = None,
    readout: bool = True,
    gateset: str = "sqrt_iswap",
) -> DeviceAnsatz:
    """``ansatz`` placed on ``device`` (a name of :data:`DEVICES` or ``GoogleNoiseProperties``), compiled to
    ``gateset``, with the device's calibrated noise and (``readout``) readout error (module docstring).

    ``qubits``: device qubits for the ansatz qubits (a sequence in ``ansatz.qubits`` order, or a mapping
    from ansatz qubit to device qubit); default: :func:`place`'s choice.
    """
    if isinstance(device, str):
        properties, source = noise_properties(device), calibration_source(device)
    elif isinstance(device, cirq_google.GoogleNoiseProperties):
        properties = device
        source = CalibrationSource("custom", None, None, cirq_google.__version__)
    else:
        raise ConfigError(f"device is a {type(device).__name__}; pass one of {DEVICES} or a "
                          "cirq_google.GoogleNoiseProperties")
    _target_gateset(gateset)
    if isinstance(qubits, Mapping):
        missing = [str(q) for q in ansatz.qubits if q not in qubits]
        if missing:
            raise ConfigError(f"qubits mapping has no device qubit for ansatz qubits {missing}")
        qubits = [qubits[q] for q in ansatz.qubits]
    name = source.device if isinstance(device, str) else "the given noise properties"
    chosen = place(ansatz.n_qubits, properties, pairs=interaction_pairs(ansatz), gateset=gateset, qubits=qubits,
                   name=name)
    mapping = dict(zip(ansatz.qubits, chosen))
    placed = ansatz.circuit.unfreeze().transform_qubits(mapping)
    compiled = compile_circuit(placed, gateset, couplers(properties, gateset))
    observables = tuple(cirq.PauliSum.from_pauli_strings([term.map_qubits(mapping) for term in o])
                        for o in ansatz.observables)
    noiseless = dataclasses.replace(ansatz, circuit=compiled, observables=observables,
                                    name=f"{ansatz.name}@{source.device}[{gateset}]")
    read = {}
    if readout:
        measured = sorted(set().union(*(o.qubits for o in observables)))
        read = {q: tuple(float(e) for e in properties.readout_errors.get(q, (0.0, 0.0))) for q in measured}
        observables = tuple(readout_observable(o, read) for o in observables)
    noisy_circuit = add_device_noise(compiled, properties)
    noisy = dataclasses.replace(noiseless, circuit=noisy_circuit, observables=observables,
                                name=f"{noiseless.name}+noise[{source.device}{'+readout' if readout else ''}]")
    counts: dict[str, int] = {}
    for op in compiled.all_operations():
        counts[_gate_label(op)] = counts.get(_gate_label(op), 0) + 1
    return DeviceAnsatz(
        ansatz=noisy,
        noiseless=noiseless,
        device=source.device,
        gateset=gateset,
        calibration=source,
        qubits=tuple(mapping.items()),
        gate_counts=dict(sorted(counts.items())),
        circuit_sha256=_circuit_sha256(compiled),
        noise_summary=noise_stats(noisy_circuit, read),
        readout=readout,
    )


__all__ = [
    "DEVICES",
    "GATESETS",
    "CalibrationSource",
    "ChannelStats",
    "DeviceAnsatz",
    "add_device_noise",
    "calibration_source",
    "compile_circuit",
    "couplers",
    "interaction_pairs",
    "load_calibration",
    "noise_properties",
    "noise_stats",
    "on_device",
    "place",
    "readout_observable",
]
