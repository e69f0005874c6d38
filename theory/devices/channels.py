r"""The calibrated noise of a device on a compiled circuit, and its readout error folded into the observable
(step 4 of :mod:`privqml.theory.devices`).
"""

from __future__ import annotations

import dataclasses
from typing import Mapping

import cirq
import numpy as np

from privqml.errors import UnsupportedGateError
from privqml.theory.devices.calibration import cirq_google


def _thermal_as_named(op: cirq.Operation) -> tuple[cirq.Operation, cirq.Operation]:
    """A single-qubit T1/Tφ Kraus channel as amplitude_damp(γ) then phase_damp(λ) (the same channel, checked)."""
    kraus = [np.asarray(k) for k in cirq.kraus(op)]
    q = op.qubits[0]
    gamma = float(sum(abs(k[0, 1]) ** 2 for k in kraus))  # |1⟩ → |0⟩ population transfer
    coherence = abs(complex(sum(k[0, 0] * np.conj(k[1, 1]) for k in kraus)))
    lam = float(min(1.0, max(0.0, 1.0 - coherence**2 / (1.0 - gamma))))
    named = (cirq.amplitude_damp(gamma).on(q), cirq.phase_damp(lam).on(q))
    composed = cirq.kraus_to_superoperator(cirq.kraus(named[1])) @ cirq.kraus_to_superoperator(cirq.kraus(named[0]))
    if not np.allclose(composed, cirq.kraus_to_superoperator(kraus), atol=1e-9):
        raise UnsupportedGateError(f"thermal channel on {q} is not amplitude + phase damping (heating?); "
                                   "privqml converts only cooling and dephasing")
    return named


def add_device_noise(circuit: cirq.AbstractCircuit, properties: "cirq_google.GoogleNoiseProperties") -> cirq.Circuit:
    """``circuit`` with ``NoiseModelFromGoogleNoiseProperties(properties)``'s channels, tags removed and the
    thermal Kraus channels written as amplitude_damp then phase_damp (see the module docstring)."""
    noisy = cirq.Circuit(circuit).with_noise(cirq_google.NoiseModelFromGoogleNoiseProperties(properties))
    moments = []
    for moment in noisy:
        plain, damping, dephasing = [], [], []
        for op in moment:
            if isinstance(op.gate, cirq.KrausChannel) and len(op.qubits) == 1:
                amplitude, phase = _thermal_as_named(op)
                damping.append(amplitude)
                dephasing.append(phase)
            else:
                plain.append(op.untagged)
        # the noise model builds some moments from sets: sorted by qubit, the circuit (and every walk over it) is the
        # same in every process (operations in one moment act on disjoint qubits and commute)
        moments += [cirq.Moment(sorted(ops, key=lambda op: op.qubits)) for ops in (plain, damping, dephasing) if ops]
    return cirq.Circuit(moments)


def readout_observable(observable: cirq.PauliSum, readout_errors: Mapping) -> cirq.PauliSum:
    """The observable as read with independent confusions ``readout_errors[q] = (e₀, e₁)`` = (p(1|0), p(0|1)):
    each Pauli factor P_q ↦ (1 − e₀ − e₁) P_q + (e₁ − e₀) I, factors multiplied (module docstring).
    Qubits without an entry are read perfectly."""
    out = cirq.PauliSum()
    for term in observable:
        folded = cirq.PauliSum.from_pauli_strings([cirq.PauliString(coefficient=complex(term.coefficient).real)])
        for q, pauli in term.items():
            e0, e1 = (float(v) for v in readout_errors.get(q, (0.0, 0.0)))
            folded = folded * ((1.0 - e0 - e1) * cirq.PauliString(pauli(q)) + (e1 - e0))
        out += folded
    return out


@dataclasses.dataclass(frozen=True)
class ChannelStats:
    """One kind of inserted noise: how many, and the range of each of its parameters.

    Attributes:
        kind: ``depolarize_1q`` / ``depolarize_2q`` (p, the depolarising probability), ``amplitude_damp``
            (gamma = 1 − e^{−t/T1}), ``phase_damp`` (gamma = 1 − e^{−2t/Tφ}), ``coherent_fsim`` (theta, phi,
            zeta, gamma, chi of the PhasedFSim error, radians), ``readout`` (e0 = p(1|0), e1 = p(0|1) per
            read qubit; folded into the observable, count = qubits read).
        count: number of channels (or read qubits).
        ranges: ((parameter, min, max), ...), dimensionless probabilities or radians as stated.
    """

    kind: str
    count: int
    ranges: tuple[tuple[str, float, float], ...]

    def to_dict(self) -> dict:
        return {"count": self.count, **{name: [lo, hi] for name, lo, hi in self.ranges}}


def _channel_parameters(op: cirq.Operation) -> tuple[str, dict] | None:
    gate = op.gate
    if isinstance(gate, cirq.DepolarizingChannel):
        return f"depolarize_{gate.num_qubits()}q", {"p": gate.p}
    if isinstance(gate, cirq.AmplitudeDampingChannel):
        return "amplitude_damp", {"gamma": gate.gamma}
    if isinstance(gate, cirq.PhaseDampingChannel):
        return "phase_damp", {"gamma": gate._gamma}  # noqa: SLF001 - no public accessor in cirq 1.3
    if isinstance(gate, cirq.PhasedFSimGate):
        return "coherent_fsim", {k: float(getattr(gate, k)) for k in ("theta", "phi", "zeta", "gamma", "chi")}
    return None


def noise_stats(noisy: cirq.AbstractCircuit, readout: Mapping) -> tuple[ChannelStats, ...]:
    """Counts and parameter ranges of the channels in ``noisy`` and of the folded ``readout`` errors."""
    values: dict[str, dict[str, list[float]]] = {}
    counts: dict[str, int] = {}
    for op in noisy.all_operations():
        found = _channel_parameters(op)
        if found is None:
            continue
        kind, parameters = found
        counts[kind] = counts.get(kind, 0) + 1
        for name, value in parameters.items():
            values.setdefault(kind, {}).setdefault(name, []).append(float(value))
    if readout:
        counts["readout"] = len(readout)
        values["readout"] = {"e0": [float(e0) for e0, _ in readout.values()],
                             "e1": [float(e1) for _, e1 in readout.values()]}
    return tuple(ChannelStats(kind, counts[kind], tuple((name, min(v), max(v)) for name, v in values[kind].items()))
                 for kind in sorted(counts))


__all__ = ["ChannelStats", "add_device_noise", "noise_stats", "readout_observable"]
