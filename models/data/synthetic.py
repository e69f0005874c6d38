"""Synthetic binary tasks: features uniform in the public box, labels by a fixed rule.

``quantum``  y = 1[f*(x) > 0] with f*(x) = ⟨Z₀⟩ of a random hardware-efficient teacher circuit
             ``hea(n, 2)`` (weights ~ U(−π, π) from the seed, redrawn until the classes are
             balanced), points with |f*| < 0.05 rejected; exact complex128 simulation (Cirq's
             unitary of the data-free block). The default ``hea`` model can represent it exactly.
``circle``   y = 1[‖x − centre‖₂ < r], r the median radius (balanced).
``linear``   y = 1[w·(x − centre) > 0], w ~ N(0, I) from the seed.

The features are drawn directly inside the public box, so no map is fitted on any data
(``preprocessing_mode="none"``) and the (ε, δ) guarantee of a run covers them.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from privqml.errors import ConfigError
from privqml.models.data.dataset import DEFAULT_FILL, Dataset, box, check_domain, check_seed, check_size

SYNTHETIC_TASKS = ("quantum", "circle", "linear")
QUANTUM_TEACHER_LAYERS = 2
QUANTUM_MARGIN = 0.05


def hea_expectation(x: np.ndarray, weights: np.ndarray, n_layers: int) -> np.ndarray:
    """⟨Z₀⟩ of ``hea(n, n_layers)`` at weights θ for every row of x, in complex128.

    The hea circuit is an encoding moment ⊗_q rx(x_q) followed by a data-free block U(θ), so
    f(x) = ψ(x)† M ψ(x) with M = U† Z₀ U built once by Cirq (``cirq.unitary``, complex128)
    and ψ(x) = ⊗_q rx(x_q)|0⟩ = ⊗_q (cos(x_q/2), −i sin(x_q/2)) in Cirq's qubit order.
    Agrees with ``cirq.Simulator(dtype=complex128)`` to 1e-12 (tests/models/data/test_synthetic.py).
    """
    # deliberately lazy: Cirq and the theory layer (seconds to import) only for the quantum teacher task
    import cirq

    from privqml.theory.builtins import hea

    n = x.shape[1]
    ansatz = hea(n_qubits=n, n_layers=n_layers, observable="Z0")
    resolver = cirq.ParamResolver({s.name: float(v) for s, v in zip(ansatz.weights, weights)})
    block = cirq.resolve_parameters(ansatz.circuit[1:], resolver)
    assert not cirq.is_parameterized(block), "hea's data-free block must not depend on the inputs"
    qubits = ansatz.qubits
    unitary = cirq.unitary(cirq.Circuit(cirq.I.on_each(*qubits), block.all_operations()))
    observable = ansatz.observables[0].matrix(qubits)
    m = unitary.conj().T @ observable @ unitary
    states = np.ones((x.shape[0], 1), dtype=np.complex128)
    for q in range(n):  # qubit 0 is the most significant (Cirq's big-endian order)
        single = np.stack([np.cos(x[:, q] / 2), -1j * np.sin(x[:, q] / 2)], axis=1)
        states = np.einsum("bi,bj->bij", states, single).reshape(x.shape[0], -1)
    return np.real(np.sum((states.conj() @ m) * states, axis=1))


def quantum_teacher(n_features: int, box: np.ndarray, seed: int, n_layers: int = QUANTUM_TEACHER_LAYERS):
    """Teacher weights θ* ~ U(−π, π) of ``hea(n, n_layers)``, redrawn until balanced.

    Draw k = 0, 1, … uses the seed sequence [seed, 7919, k]; the first draw whose sign(f*) is
    between 40 % and 60 % positive, with mean |f*| ≥ 0.2 (a visible signal), on 2000 reference
    points from the box is kept (a public, data-independent choice). Returns θ* (a fresh array).
    Cached per process (a function of its arguments; ~0.8 s per search at 4 qubits), so the runs of
    a sweep that share a seed search once.
    """
    bounds = tuple(map(tuple, np.asarray(box, dtype=np.float64).tolist()))
    return np.array(_teacher(int(n_features), bounds, int(seed), int(n_layers)))


@functools.lru_cache(maxsize=256)
def _teacher(n_features: int, bounds: tuple, seed: int, n_layers: int) -> tuple:
    box = np.asarray(bounds, dtype=np.float64)
    reference = np.random.default_rng([seed, 7920]).uniform(box[:, 0], box[:, 1], size=(2000, n_features))
    n_weights = 2 * n_features * n_layers
    for draw in range(1000):
        weights = np.random.default_rng([seed, 7919, draw]).uniform(-math.pi, math.pi, n_weights)
        values = hea_expectation(reference, weights, n_layers)
        if 0.4 <= float(np.mean(values > 0)) <= 0.6 and float(np.mean(np.abs(values))) >= 0.2:
            return tuple(weights.tolist())
    raise ConfigError(f"no balanced quantum teacher found for n_features={n_features}, seed={seed}")


def synthetic(
    task: str,
    n_features: int,
    n_train: int = 400,
    n_test: int = 200,
    seed: int = 0,
    domain=None,
    fill: float = DEFAULT_FILL,
) -> Dataset:
    """A synthetic binary task (see the module docstring); features uniform in the box."""
    if task not in SYNTHETIC_TASKS:
        raise ConfigError(f"synthetic task={task!r} unknown; choose one of {list(SYNTHETIC_TASKS)}")
    domain = check_domain(n_features, domain, fill)
    n_train, n_test = check_size("n_train", n_train), check_size("n_test", n_test)
    seed = check_seed(seed)
    bounds = box(domain, fill)
    rng = np.random.default_rng([seed, 1])
    n = n_train + n_test
    if task == "quantum":
        teacher = quantum_teacher(n_features, bounds, seed)
        kept = []
        while sum(len(k) for k in kept) < n:  # rejection: keep |f*(x)| >= margin
            candidates = rng.uniform(bounds[:, 0], bounds[:, 1], size=(2 * n, n_features))
            kept.append(candidates[np.abs(hea_expectation(candidates, teacher, QUANTUM_TEACHER_LAYERS)) >= QUANTUM_MARGIN])
        x = np.concatenate(kept)[:n]
        score = hea_expectation(x, teacher, QUANTUM_TEACHER_LAYERS)
        how = (
            f"y = 1[<Z0> of hea(n, {QUANTUM_TEACHER_LAYERS}) at balanced random teacher weights > 0], "
            f"points with |<Z0>| < {QUANTUM_MARGIN} rejected (Cirq unitary, complex128)"
        )
        threshold = 0.0
    else:
        x = rng.uniform(bounds[:, 0], bounds[:, 1], size=(n, n_features))
    if task == "circle":
        centre = bounds.mean(axis=1)
        score = -np.linalg.norm(x - centre, axis=1)
        how = "y = 1[||x - centre|| < median radius]"
        threshold = float(np.median(score))
    elif task == "linear":
        w = np.random.default_rng([seed, 2]).normal(size=n_features)
        score = (x - bounds.mean(axis=1)) @ w
        how = "y = 1[w.x > 0], w ~ N(0, I)"
        threshold = 0.0
    y = (score > threshold).astype(np.int64)
    return Dataset(
        name=task,
        x_train=x[:n_train],
        y_train=y[:n_train],
        x_test=x[n_train:],
        y_test=y[n_train:],
        n_classes=2,
        feature_domain=domain,
        class_names=("0", "1"),
        preprocessing=(
            f"synthetic: x ~ U({bounds[0].round(4).tolist()})^{n_features}; {how}; the features are drawn "
            "inside the public domain and nothing is fitted on data, so the (epsilon, delta) guarantee of "
            "a run covers them"
        ),
        seed=seed,
        preprocessing_mode="none",
    )


__all__ = ["QUANTUM_MARGIN", "QUANTUM_TEACHER_LAYERS", "SYNTHETIC_TASKS", "hea_expectation", "quantum_teacher", "synthetic"]
