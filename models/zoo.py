"""Models by name: ``build_model("hea:n_layers=3,noise=0.01", n_classes=2)``.

Spec grammar: ``FAMILY[:key=value,key=value…]``.

Quantum families (:mod:`privqml.models.quantum`): ``hea``, ``reupload``, ``native`` with keys
``n_qubits``, ``n_layers``, ``scale`` (fixed readout scale), ``noise`` (depolarising p after every
gate layer), ``shots`` (finite-shot estimates), ``trajectories`` (noisy backend), ``clamp``, ``engine``
(``auto``, the default: the faster for the size; ``tfq``; ``vectorised``: :mod:`privqml.models.quantum`).

Classical families (:mod:`privqml.models.classical`): ``mlp``, ``linear``, ``logistic``, matched to a quantum
reference built from the same keys plus ``match=FAMILY`` (default ``hea``): e.g.
``mlp:match=reupload,n_layers=3`` is the MLP matched to ``reupload:n_layers=3``.
"""

from __future__ import annotations

from privqml import validation
from privqml.errors import ConfigError
from privqml.models.base import Model
from privqml.models.classical import CLASSICAL_FAMILIES, matched_classical
from privqml.models.quantum import QUANTUM_FAMILIES, quantum_model

MODEL_FAMILIES = QUANTUM_FAMILIES + CLASSICAL_FAMILIES
_INT_KEYS = {"n_qubits", "n_layers", "shots", "trajectories"}
_FLOAT_KEYS = {"scale", "noise", "clamp"}
_STR_KEYS = {"match", "engine"}


def parse_model_spec(spec: str) -> tuple[str, dict]:
    """``"hea:n_layers=3"`` → ``("hea", {"n_layers": 3})``; unknown names and keys are ConfigErrors."""
    if not isinstance(spec, str) or not spec.strip():
        raise ConfigError(f"model={spec!r} is empty; choose one of {list(MODEL_FAMILIES)}")
    family, _, rest = spec.strip().partition(":")
    if family not in MODEL_FAMILIES:
        raise ConfigError(
            f"model={spec!r}: unknown family {family!r}; choose one of {list(MODEL_FAMILIES)} "
            "(e.g. hea, hea:n_layers=3,noise=0.01, mlp:match=reupload)"
        )
    options: dict = {}
    for item in filter(None, (p.strip() for p in rest.split(","))):
        key, eq, value = item.partition("=")
        if not eq:
            raise ConfigError(f"model={spec!r}: option {item!r} must be key=value")
        try:
            if key in _INT_KEYS:
                options[key] = int(value)
            elif key in _FLOAT_KEYS:
                options[key] = float(value)
            elif key in _STR_KEYS:
                options[key] = value
            else:
                raise ConfigError(
                    f"model={spec!r}: unknown option {key!r}; known: "
                    f"{sorted(_INT_KEYS | _FLOAT_KEYS | _STR_KEYS)}"
                )
        except ValueError:
            raise ConfigError(f"model={spec!r}: option {key}={value!r} is not a number") from None
    if "clamp" in options:
        validation.in_interval("clamp", options["clamp"], 0.0, 0.5, hi_open=True,
                               hint=f"in model={spec!r}: the bce_prob clamp c keeps p in [c, 1 - c]; e.g. clamp=0.01")
    if "scale" in options:
        validation.positive("scale", options["scale"], hint=f"in model={spec!r}: the fixed readout scale, e.g. scale=2")
    if "match" in options and family not in CLASSICAL_FAMILIES:
        raise ConfigError(f"model={spec!r}: match= applies to classical models only")
    validation.choice("match", options.get("match", "hea"), QUANTUM_FAMILIES, where=f" in model={spec!r}")
    return family, options


def build_model(spec: str, n_classes: int = 2, seed: int = 0, loss: str | None = None) -> Model:
    """The model named by ``spec`` for a task with ``n_classes`` classes."""
    family, options = parse_model_spec(spec)
    if family in QUANTUM_FAMILIES:
        return quantum_model(family, n_classes=n_classes, loss=loss, seed=seed, **options)
    match = options.pop("match", "hea")
    reference = quantum_model(match, n_classes=n_classes, loss=loss, seed=seed, **options)
    return matched_classical(family, reference, seed=seed)


def reference_quantum_model(spec: str, n_classes: int = 2, seed: int = 0, loss: str | None = None) -> Model:
    """For a classical spec, the quantum model it is matched to; for a quantum spec, itself."""
    family, options = parse_model_spec(spec)
    if family in QUANTUM_FAMILIES:
        return quantum_model(family, n_classes=n_classes, loss=loss, seed=seed, **options)
    match = options.pop("match", "hea")
    return quantum_model(match, n_classes=n_classes, loss=loss, seed=seed, **options)


__all__ = ["MODEL_FAMILIES", "build_model", "parse_model_spec", "reference_quantum_model"]
