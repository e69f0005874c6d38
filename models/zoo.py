"""Models by name: ``build_model("hea:n_layers=3,noise=0.01", n_classes=2)``.

Spec grammar: ``FAMILY[:key=value,key=value…]``.

Quantum families (:mod:`privqml.models.quantum`): ``hea``, ``reupload``, ``native`` with keys
``n_qubits``, ``n_layers``, ``scale`` (fixed readout scale), ``noise`` (depolarising p after every
gate layer), ``shots`` (finite-shot estimates), ``trajectories`` (noisy backend), ``clamp``, ``engine``
(``auto``, the default: the faster for the size; ``tfq``; ``vectorised``: :mod:`privqml.models.quantum`).

A user's ansatz: ``path/to/file.py:function[:n_qubits=5,…]`` (:mod:`privqml.models.specs`, the parser).

Classical families (:mod:`privqml.models.classical`): ``mlp``, ``linear``, ``logistic``, matched to a quantum
reference built from the same keys plus ``match=FAMILY`` (default ``hea``): e.g.
``mlp:match=reupload,n_layers=3`` is the MLP matched to ``reupload:n_layers=3``.
"""

from __future__ import annotations

from privqml.models.base import Model
from privqml.models.classical import matched_classical
from privqml.models.quantum import QuantumModel, noisy_ansatz, quantum_model
from privqml.models.specs import (
    CLASSICAL_FAMILIES, FUNCTION_KEYS, MODEL_FAMILIES, QUANTUM_FAMILIES, USER_FAMILY, check_source, parse_model_spec,
)


def user_model(function: str, n_classes: int = 2, loss: str | None = None, seed: int = 0, sha256: str | None = None,
               noise: float | None = None, shots: int | None = None, trajectories: int | None = None,
               clamp: float | None = None, engine: str = "auto", device: str | None = None,
               **function_options) -> QuantumModel:
    """The model of a user's ``path/to/file.py:function``: the function is called with ``function_options``
    (``n_qubits``, ``n_layers``, ``observable``; refused when it does not take one) and with ``n_classes`` when
    it takes it; ``noise`` adds depolarising channels after every moment, ``device`` places it on a Google
    device with its calibrated noise (:func:`privqml.models.quantum.noisy_ansatz`); ``sha256`` (when given) must
    match the file (:func:`privqml.models.specs.check_source`)."""
    from privqml.theory import load_ansatz

    check_source(function, sha256)
    ansatz = load_ansatz(function, offered={"n_classes": n_classes}, **function_options)
    ansatz, record = noisy_ansatz(ansatz, noise, device)
    model = QuantumModel(ansatz, loss=loss, shots=shots, trajectories=trajectories, seed=seed, clamp=clamp,
                         engine=engine)
    model.source = {"function": function, "sha256": sha256}
    model.device = record
    return model


def _quantum(family: str, options: dict, n_classes: int, loss: str | None, seed: int) -> QuantumModel:
    if family == USER_FAMILY:
        return user_model(options.pop("function"), n_classes=n_classes, loss=loss, seed=seed, **options)
    return quantum_model(family, n_classes=n_classes, loss=loss, seed=seed, **options)


def _reference(options: dict) -> tuple[str, dict]:
    """A classical spec's options -> (the family, the options) of the quantum model it is matched to."""
    match = options.pop("match", "hea")
    if match in QUANTUM_FAMILIES:
        return match, options
    return USER_FAMILY, {"function": parse_model_spec(match)[1]["function"], **options}


def build_model(spec: str, n_classes: int = 2, seed: int = 0, loss: str | None = None) -> Model:
    """The model named by ``spec`` for a task with ``n_classes`` classes."""
    family = parse_model_spec(spec)[0]
    reference = reference_quantum_model(spec, n_classes, seed, loss)
    return matched_classical(family, reference, seed=seed) if family in CLASSICAL_FAMILIES else reference


def reference_quantum_model(spec: str, n_classes: int = 2, seed: int = 0, loss: str | None = None) -> Model:
    """For a classical spec, the quantum model it is matched to; for a quantum spec, itself."""
    family, options = parse_model_spec(spec)
    if family in CLASSICAL_FAMILIES:
        family, options = _reference(options)
    return _quantum(family, options, n_classes, loss, seed)


__all__ = ["FUNCTION_KEYS", "MODEL_FAMILIES", "build_model", "parse_model_spec", "reference_quantum_model",
           "user_model"]
