r"""Quantum models: TFQ expectation layers on the theory layer's ansätze.

A :class:`QuantumModel` wraps an :class:`~privqml.theory.Ansatz` (whose gradient bound the
trainer uses as clipping threshold) and evaluates

    f_c(x; θ) = Tr[O_c Φ_{x,θ}(|0…0⟩⟨0…0|)],     logits z_c = s · f_c,

through :func:`privqml.models.tfq_circuit.expectation` (``tfq.layers.Expectation`` /
``SampledExpectation``). Binary models have one observable (``Z0``); K-class models one per
class (``Z0, …, Z{K−1}``) and a softmax over the fixed-scale logits.

Variants:

- noiseless, analytic: TFQ's state-vector simulator, adjoint differentiation (Jones & Gacon,
  arXiv:2009.02823);
- ``shots=N``: the expectation estimated from N measurements (``SampledExpectation``),
  parameter-shift gradients, themselves from N shots per shifted circuit;
- ``noise=p``: a depolarising channel of probability p on every qubit after every gate layer
  (Cirq moment), TFQ's noisy (Monte-Carlo trajectory) backend with ``trajectories`` per
  evaluation, parameter-shift gradients. Noise channels do not change the bound (the output stays
  in the observable's range and a trigonometric polynomial of each weight with the same
  frequencies).

The bound holds for the *exact* gradient (noiseless or noisy channel). A finite-shot or
few-trajectory *estimate* is another matter: parameter-shift estimates of weights the bound
proves to have zero derivative (outside the light cone) are pure sampling noise, so an estimate
can exceed the pruned bound (measured: hea 4 qubits, shots=1: max ‖ĝ_i‖ = 2.7 > G* = 1.46 for
25 % of 256 examples; shots=50: none). Such a model therefore uses the theory's bound on single
sampled estimates (``loss_gradient_bound(..., sampled=True)``: nothing pruned, sample-mean range),
which every estimate obeys; clipping enforces C either way, so privacy is unaffected.

Engines (``engine=``): ``tfq`` (TFQ as above), ``vectorised``
(:mod:`privqml.models.engines.vectorised`: tensorcircuit-ng on TensorFlow, every row of a batch in one
vectorised contraction; noisy circuits by exact density-matrix simulation, so their gradient is the
exact one and the exact bound applies; no shots), or ``auto`` (the default: the faster of the two for
the circuit's size, :mod:`privqml.models.engines.choice` — vectorised for noiseless circuits up to 16
qubits and noisy ones up to 10, TFQ for shots, trajectories and larger circuits). The engine and why it
was chosen are recorded in :meth:`QuantumModel.describe` (run.json's ``model.engine``).
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf
import tensorflow_quantum as tfq

from privqml import validation
from privqml.errors import ConfigError, UnsupportedGateError
from privqml.models.base import Model
from privqml.models.engines.choice import choose_engine
from privqml.models.engines.vectorised import vectorised_engine
from privqml.models.losses import default_loss
from privqml.models.specs import QUANTUM_FAMILIES
from privqml.models.tfq_circuit import compile_ansatz, expectation, parameter_shift_problem
from privqml.theory import Ansatz, builtin_ansatz, loss_gradient_bound, observable_range
from privqml.theory.noise import NoiseModel, noisy, with_noise

ENGINES = ("auto", "tfq", "vectorised")


def depolarizing(p: float) -> NoiseModel:
    """The noise model of the spec's ``noise=p``: ``cirq.depolarize(p)`` on every qubit after every moment."""
    if not (isinstance(p, (int, float)) and 0.0 <= p <= 0.75):
        raise ConfigError(f"noise={p!r} must be a depolarising probability in [0, 0.75]")
    return NoiseModel((("depolarize", float(p)),))


def with_depolarizing(ansatz: Ansatz, p: float) -> Ansatz:
    """``ansatz`` with ``cirq.depolarize(p)`` on every qubit after every moment (the model spec's ``noise=p``),
    by :func:`privqml.theory.noise.with_noise`, the one noise insertion."""
    return with_noise(ansatz, depolarizing(p))


class QuantumModel(Model):
    """f(x; θ) of an ansatz, evaluated with TFQ (see the module docstring).

    Args:
        ansatz: the ansatz (its observables are the outputs, its readout the scale).
        loss: the loss name; default ``bce_logits`` (one observable) or ``softmax_ce``.
        shots: estimate expectations from this many measurements (None: analytic).
        trajectories: Monte-Carlo trajectories per evaluation for a noisy ansatz.
        seed: seeds the initial weights θ ~ U(−π, π)^P.
        clamp: probability clamp for ``bce_prob``.
        engine: ``auto`` (default: the faster engine for the circuit's size,
            :mod:`privqml.models.engines.choice`), ``tfq`` or ``vectorised`` (module docstring).
    """

    family = "quantum"

    def __init__(
        self,
        ansatz: Ansatz,
        loss: str | None = None,
        shots: int | None = None,
        trajectories: int | None = None,
        seed: int = 0,
        clamp: float | None = None,
        engine: str = "auto",
    ) -> None:
        if shots is not None and not (isinstance(shots, int) and shots >= 1):
            raise ConfigError(f"shots={shots!r} must be an integer >= 1 (or None for analytic)")
        validation.choice("engine", engine, ENGINES, what="simulation engine")
        self.engine_choice = f"{engine} (given)"
        if engine == "auto":
            engine, reason = choose_engine(ansatz, shots, trajectories)
            self.engine_choice = f"auto: {reason}"
        self.engine_name = engine
        if engine == "vectorised" and (shots is not None or trajectories is not None):
            raise ConfigError(
                f"engine='vectorised' computes exact expectations (density matrices for noise); shots={shots!r} and "
                f"trajectories={trajectories!r} are sampled by TFQ: use engine='tfq' for them"
            )
        self.ansatz = ansatz
        #: where a user's ansatz came from ({"function": "file.py:f", "sha256": …}; None for a built-in)
        self.source: dict | None = None
        #: the Google device it was placed on, compiled for and given the noise of (None: not on a device)
        self.device: dict | None = None
        self.engine = vectorised_engine(ansatz) if engine == "vectorised" else None
        self.compiled = compile_ansatz(ansatz)
        self.shots = shots
        if self.compiled.noisy and shots is None and self.engine is None:
            trajectories = 100 if trajectories is None else trajectories
            if not (isinstance(trajectories, int) and trajectories >= 1):
                raise ConfigError(f"trajectories={trajectories!r} must be an integer >= 1")
        self.trajectories = trajectories if self.compiled.noisy and self.engine is None else None
        # A TFQ differentiator instance binds to one op: keep the class, make one per layer.
        if self.engine is None and (shots is not None or self.compiled.noisy):
            problem = parameter_shift_problem(self.compiled.canonical)
            if problem:
                raise UnsupportedGateError(
                    f"{problem}; shot and noisy models differentiate with it, so train this ansatz "
                    "analytically (no shots, no noise channels) or replace the controlled rotation")
            self.differentiator_class = tfq.differentiators.ParameterShift
        else:
            self.differentiator_class = tfq.differentiators.Adjoint
        ranges = [observable_range(o)[:2] for o in ansatz.observables]
        rng = np.random.default_rng([seed, 11])
        super().__init__(
            name=ansatz.name + (f", shots={shots}" if shots else ""),
            n_features=ansatz.n_inputs,
            n_outputs=ansatz.n_outputs,
            scale=ansatz.readout.scale,
            output_ranges=ranges,
            input_domain=ansatz.input_domain,
            loss=loss or default_loss(ansatz.n_outputs),
            initial_weights=rng.uniform(-math.pi, math.pi, ansatz.n_weights),
            clamp=clamp,
        )

    def outputs(self, weights: tf.Tensor, x: tf.Tensor) -> tf.Tensor:
        if self.engine is not None:
            return self.engine.values(weights, x)
        return expectation(
            self.compiled, weights, x, self.differentiator_class(),
            repetitions=self.shots, trajectories=self.trajectories,
        )

    def trace_key(self):
        return (self._readout_key(), self.ansatz, self.engine_name, self.shots, self.trajectories)

    def loss_gradient_bound(self):
        # Finite shots or trajectories: the bound on single sampled estimates (no pruning,
        # sample-mean range), which every per-example estimate obeys; else the exact bound.
        sampled = self.shots is not None or self.trajectories is not None
        return loss_gradient_bound(self.ansatz, self.loss, clamp=self.clamp, sampled=sampled)

    def describe(self) -> dict:
        out = super().describe()
        out.update(
            ansatz=self.ansatz.name,
            n_qubits=self.ansatz.n_qubits,
            shots=self.shots,
            noisy=self.compiled.noisy,
            trajectories=self.trajectories,
            differentiator=self.differentiator_class.__name__ if self.engine is None else "autodiff",
            engine={**(self.engine.describe() if self.engine is not None else {"engine": "tfq"}),
                    "chosen": self.engine_choice},
        )
        if self.source is not None:
            out["source"] = dict(self.source)
        if self.device is not None:
            out["device"] = dict(self.device)
        return out


def noisy_ansatz(ansatz: Ansatz, noise: float | None = None, device: str | None = None) -> tuple[Ansatz, dict | None]:
    """(the ansatz a model trains, the device record or None): with the spec's ``noise=p`` or placed on
    ``device=rainbow|weber`` (:func:`privqml.theory.noise.noisy`)."""
    ansatz, placed = noisy(ansatz, depolarizing(noise) if noise else None, device)
    return ansatz, None if placed is None else placed.summary()


def quantum_model(
    family: str = "hea",
    n_classes: int = 2,
    n_qubits: int | None = None,
    n_layers: int | None = None,
    scale: float = 1.0,
    noise: float | None = None,
    shots: int | None = None,
    trajectories: int | None = None,
    loss: str | None = None,
    seed: int = 0,
    clamp: float | None = None,
    engine: str = "auto",
    device: str | None = None,
) -> QuantumModel:
    """A built-in family as a model: ``Z0`` readout for 2 classes, ``Z0..Z{K-1}`` for K > 2.

    Defaults: n_qubits = max(4, K); n_layers = 2 (hea, native) or 3 (reupload).
    """
    if family not in QUANTUM_FAMILIES:
        raise ConfigError(f"quantum family={family!r} unknown; choose one of {list(QUANTUM_FAMILIES)}")
    if not (isinstance(n_classes, int) and n_classes >= 2):
        raise ConfigError(f"n_classes={n_classes!r} must be an integer >= 2")
    n_qubits = max(4, n_classes) if n_qubits is None else n_qubits
    if isinstance(n_qubits, int) and n_classes > 2 and n_qubits < n_classes:
        raise ConfigError(f"n_qubits={n_qubits} < n_classes={n_classes}; need one qubit per class")
    n_layers = (3 if family == "reupload" else 2) if n_layers is None else n_layers
    observable = "Z0" if n_classes == 2 else f"classes:{n_classes}"
    ansatz = builtin_ansatz(family, n_qubits=n_qubits, n_layers=n_layers, observable=observable, scale=scale)
    ansatz, record = noisy_ansatz(ansatz, noise, device)
    model = QuantumModel(ansatz, loss=loss, shots=shots, trajectories=trajectories, seed=seed, clamp=clamp,
                         engine=engine)
    model.device = record
    return model


__all__ = ["ENGINES", "QUANTUM_FAMILIES", "QuantumModel", "noisy_ansatz", "quantum_model", "with_depolarizing"]
