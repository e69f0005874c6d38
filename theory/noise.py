"""Noise models: parameter-free channels inserted after every moment of an ansatz — the one place privqml
inserts noise (``privqml bound/verify --noise``, the models' ``noise=p``, the verify strategies).

A :class:`NoiseModel` is a list of single-qubit channels with fixed strengths. Applied to an
ansatz it inserts, after every moment, each channel on every qubit of the circuit (idle qubits
decohere too, as on a device):

    Φ = Π_m (N ∘ U_m),   N = ⊗_{q ∈ qubits} (C_1 ∘ … ∘ C_r)_q.

The channels have no parameters, so the output f(x; θ) = Tr[O Φ(ρ₀)] is still a
trigonometric polynomial in every θ_j with the same frequencies and still lies in the
observable's range: the gradient bound of the noiseless ansatz holds unchanged (Bernstein's
inequality needs nothing else), and the theory's noise refinement
(:mod:`privqml.theory.refinements.noise`) lowers it slot by slot where a channel follows a gate. Channels (Cirq, all simulated by TFQ's ``backend='noisy'``):

=================  ==========================================  =======================
name               Kraus map                                    strength
=================  ==========================================  =======================
``depolarize``     ρ ↦ (1 − p) ρ + p/3 (XρX + YρY + ZρZ)       p ∈ [0, 1]
``amplitude_damp`` T1 decay |1⟩ → |0⟩ with probability γ       γ ∈ [0, 1]
``phase_damp``     T2 dephasing with parameter γ                γ ∈ [0, 1]
``bit_flip``       ρ ↦ (1 − p) ρ + p XρX                        p ∈ [0, 1]
``phase_flip``     ρ ↦ (1 − p) ρ + p ZρZ                        p ∈ [0, 1]
=================  ==========================================  =======================
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from typing import Callable

import cirq
import numpy as np

from privqml.errors import ConfigError
from privqml.theory.ansatz import Ansatz

NOISE_CHANNELS: dict[str, Callable[[float], cirq.Gate]] = {
    "depolarize": lambda p: cirq.depolarize(p),
    "amplitude_damp": lambda g: cirq.amplitude_damp(g),
    "phase_damp": lambda g: cirq.phase_damp(g),
    "bit_flip": lambda p: cirq.bit_flip(p),
    "phase_flip": lambda p: cirq.phase_flip(p),
}


class KrausGate(cirq.Gate):
    """A single-qubit channel given by its Kraus operators, equal and hashable by value (``name`` is what it is
    printed as). ``cirq.KrausChannel`` cannot be hashed and its ``==`` raises for Kraus lists of different
    lengths, so an ansatz holding one cannot key the bound's caches; this gate can (user channels, benchmarks)."""

    def __init__(self, kraus, name: str = "kraus") -> None:
        self._kraus = tuple(np.asarray(k, dtype=complex) for k in kraus)
        self._name = name

    def _num_qubits_(self) -> int:
        return 1

    def _kraus_(self):
        return self._kraus

    def _has_kraus_(self) -> bool:
        return True

    def _has_unitary_(self) -> bool:
        return False

    def _fingerprint(self) -> str:
        return hashlib.sha256(b"".join(k.tobytes() for k in self._kraus)).hexdigest()[:16]

    def __eq__(self, other) -> bool:
        return (isinstance(other, KrausGate) and len(other._kraus) == len(self._kraus)
                and all(np.array_equal(a, b) for a, b in zip(self._kraus, other._kraus)))

    def __hash__(self) -> int:
        return hash(self._fingerprint())

    def __str__(self) -> str:
        return self._name

    def __repr__(self) -> str:
        return f"KrausGate({self._name}, {self._fingerprint()})"

    def _circuit_diagram_info_(self, args) -> str:
        return self._name



@dataclasses.dataclass(frozen=True)
class NoiseModel:
    """Single-qubit channels inserted after every moment (see the module table).

    Attributes:
        channels: ((name, strength), …) applied in this order after each moment, on each
            qubit the moment acts on. Strengths are probabilities (dimensionless, in [0, 1]).
    """

    channels: tuple[tuple[str, float], ...] = (("depolarize", 0.01),)

    def __post_init__(self) -> None:
        clean = []
        for entry in self.channels:
            try:
                name, strength = entry
            except (TypeError, ValueError):
                raise ConfigError(
                    f"noise channel {entry!r} is not a (name, strength) pair; e.g. ('depolarize', 0.01)"
                ) from None
            if name not in NOISE_CHANNELS:
                raise ConfigError(f"noise channel name={name!r} is not known; choose one of {sorted(NOISE_CHANNELS)}")
            strength = float(strength)
            if not (math.isfinite(strength) and 0.0 <= strength <= 1.0):
                raise ConfigError(f"noise strength for {name}={strength!r} must be a probability in [0, 1]")
            clean.append((name, strength))
        object.__setattr__(self, "channels", tuple(clean))

    @property
    def label(self) -> str:
        return "+".join(f"{name}({strength:g})" for name, strength in self.channels) or "none"

    def gates(self) -> list[cirq.Gate]:
        return [NOISE_CHANNELS[name](strength) for name, strength in self.channels]


def parse_noise(spec: str) -> NoiseModel:
    """A :class:`NoiseModel` from ``"name:strength[,name:strength…]"``, e.g. ``"depolarize:0.01"``."""
    channels = []
    for part in spec.split(","):
        name, sep, strength = part.strip().partition(":")
        try:
            value = float(strength) if sep else math.nan
        except ValueError:
            value = math.nan
        if not sep or not math.isfinite(value):
            raise ConfigError(f"noise={spec!r}: write name:strength pairs separated by commas, "
                              f"e.g. depolarize:0.01 (channels: {sorted(NOISE_CHANNELS)})")
        channels.append((name, value))
    return NoiseModel(tuple(channels))


def noisy(ansatz: Ansatz, model: NoiseModel | None = None, device=None):
    """(the ansatz a command or model works on, the :class:`~privqml.theory.devices.DeviceAnsatz` or None): ``ansatz``
    with ``model``'s channels after every moment (:func:`with_noise`), or placed on ``device`` (a name or
    ``GoogleNoiseProperties``), compiled to its gate set with its calibrated noise
    (:func:`privqml.theory.devices.on_device`; imported only then: it loads cirq_google). Both is refused."""
    if model is not None and device is not None:
        raise ConfigError(f"noise {model.label} and device {device!r} both given; the device brings its own "
                          "calibrated noise: choose one")
    if device is not None:
        from privqml.theory.devices import on_device

        placed = on_device(ansatz, device)
        return placed.ansatz, placed
    return (ansatz if model is None else with_noise(ansatz, model)), None


def with_noise(ansatz: Ansatz, model: NoiseModel) -> Ansatz:
    """The ansatz with ``model``'s channels on every qubit after every moment (same symbols, observables,
    domain); a model without channels returns the ansatz itself."""
    gates = [gate for gate, (_, strength) in zip(model.gates(), model.channels) if strength > 0]
    if not gates:
        return ansatz
    qubits = ansatz.qubits
    moments = []
    for moment in ansatz.circuit:
        moments.append(moment)
        moments += [cirq.Moment(gate.on(q) for q in qubits) for gate in gates]
    return dataclasses.replace(ansatz, circuit=cirq.Circuit(moments), name=f"{ansatz.name}+noise[{model.label}]")


def has_noise(ansatz: Ansatz) -> bool:
    """True if the circuit contains a non-unitary channel."""
    return any(not cirq.has_unitary(op) for op in ansatz.circuit.all_operations() if not cirq.is_parameterized(op))


__all__ = ["KrausGate", "NOISE_CHANNELS", "NoiseModel", "has_noise", "noisy", "parse_noise", "with_noise"]
