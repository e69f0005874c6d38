"""Built-in ansätze by name, and observables by short name.

``hea``       hardware-efficient: angle encoding rx(x_q), then per layer ry(θ) rz(φ) on every
              qubit and a ladder of CZ entanglers (Kandala et al., Nature 549, 242 (2017)).
``reupload``  data re-uploading (Pérez-Salinas et al., Quantum 4, 226 (2020)): every layer
              re-encodes the data with a trainable affine angle ry(w·x + b), then rz(φ), CZ ladder.
``native``    Google-native gate set: angle encoding rx(x_q), then per layer a PhasedXZ gate on
              every qubit (x, z and axis-phase exponents trained) and FSim(θ, φ) entanglers on
              a brick pattern (Arute et al., Nature 574, 505 (2019)).

Observables (``observable=``): ``Z0``, ``Z0*Z1``, any product such as ``X0*Y2``, a weighted sum
``0.5*Z0+Z1``, ``sumZ`` (Σ_q Z_q), or several comma-separated for multi-class readout
(``Z0,Z1,Z2``); ``classes:K`` is shorthand for ``Z0,…,Z{K-1}``.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import pathlib
import re
from typing import Callable

import cirq
import sympy

from privqml.errors import AnsatzError, ConfigError, PrivqmlError, UserCodeError
from privqml.theory.ansatz import Ansatz, Readout

_PAULI = {"X": cirq.X, "Y": cirq.Y, "Z": cirq.Z}
_FACTOR = re.compile(r"^([XYZ])(\d+)$")


def _parse_sum(text: str, qubits: tuple[cirq.Qid, ...]) -> cirq.PauliSum:
    text = text.replace(" ", "")
    if text in ("sumZ", "sumX", "sumY"):
        pauli = _PAULI[text[-1]]
        return cirq.PauliSum.from_pauli_strings([cirq.PauliString(pauli(q)) for q in qubits])
    total = cirq.PauliSum()
    for term in re.split(r"\+(?![^()]*\))", text):
        if not term:
            raise ConfigError(f"observable={text!r} has an empty term; write e.g. 'Z0+0.5*Z1'")
        coefficient = 1.0
        factors = term.split("*")
        string = cirq.PauliString()
        for factor in factors:
            match = _FACTOR.match(factor)
            if match is None:
                try:
                    coefficient *= float(factor)
                    continue
                except ValueError:
                    raise ConfigError(
                        f"observable term {term!r}: cannot read {factor!r}; use Pauli letters "
                        "with qubit indices (Z0, X1*Z2), numbers, or sumZ"
                    ) from None
            letter, index = match.group(1), int(match.group(2))
            if index >= len(qubits):
                raise ConfigError(
                    f"observable={text!r} names qubit {index} but the ansatz has "
                    f"{len(qubits)} qubits (0..{len(qubits) - 1})"
                )
            string = string * cirq.PauliString(_PAULI[letter](qubits[index]))
        total += coefficient * string
    return total


def parse_observables(spec: str, qubits) -> tuple[cirq.PauliSum, ...]:
    """Parse an observable spec (see module docstring) on ``qubits`` (index i is ``qubits[i]``)."""
    qubits = tuple(qubits)
    spec = spec.strip()
    if spec.startswith("classes:"):
        try:
            n_classes = int(spec.split(":", 1)[1])
        except ValueError:
            raise ConfigError(f"observable={spec!r}: write classes:K with an integer K >= 2") from None
        if not 2 <= n_classes <= len(qubits):
            raise ConfigError(
                f"observable={spec!r}: K={n_classes} classes needs 2 <= K <= n_qubits={len(qubits)}"
            )
        spec = ",".join(f"Z{i}" for i in range(n_classes))
    parts = [p for p in spec.split(",")]
    if not parts or any(not p.strip() for p in parts):
        raise ConfigError(f"observable={spec!r} is empty; use e.g. Z0, Z0*Z1, sumZ or Z0,Z1,Z2")
    return tuple(_parse_sum(p, qubits) for p in parts)


def _cz_ladder(qubits):
    return [cirq.CZ(a, b) for a, b in zip(qubits[:-1], qubits[1:])]


def _check_size(name: str, n_qubits: int, n_layers: int, max_qubits: int = 30) -> None:
    if not (isinstance(n_qubits, int) and 1 <= n_qubits <= max_qubits):
        raise ConfigError(f"{name}: n_qubits={n_qubits!r} must be an integer in [1, {max_qubits}]")
    if not (isinstance(n_layers, int) and n_layers >= 1):
        raise ConfigError(f"{name}: n_layers={n_layers!r} must be an integer >= 1")


def hea(n_qubits: int = 4, n_layers: int = 2, observable: str = "Z0", scale: float = 1.0) -> Ansatz:
    """Hardware-efficient ansatz: rx(x_q) encoding; per layer ry(θ), rz(φ) on each qubit, CZ ladder.

    2·n_qubits·n_layers weights ``ry{l}_{q}``, ``rz{l}_{q}``; n_qubits inputs ``x{q}`` in [-π, π].
    """
    _check_size("hea", n_qubits, n_layers)
    qubits = cirq.LineQubit.range(n_qubits)
    inputs = [sympy.Symbol(f"x{q}") for q in range(n_qubits)]
    weights = []
    circuit = cirq.Circuit(cirq.rx(inputs[q]).on(qubits[q]) for q in range(n_qubits))
    for layer in range(n_layers):
        ry = [sympy.Symbol(f"ry{layer}_{q}") for q in range(n_qubits)]
        rz = [sympy.Symbol(f"rz{layer}_{q}") for q in range(n_qubits)]
        weights += [s for pair in zip(ry, rz) for s in pair]
        circuit.append(cirq.Moment(cirq.ry(ry[q]).on(qubits[q]) for q in range(n_qubits)))
        circuit.append(cirq.Moment(cirq.rz(rz[q]).on(qubits[q]) for q in range(n_qubits)))
        circuit.append(_cz_ladder(qubits))
    return Ansatz(
        circuit=circuit,
        weights=tuple(weights),
        inputs=tuple(inputs),
        observables=parse_observables(observable, qubits),
        readout=Readout(scale=scale),
        name=f"hea(n_qubits={n_qubits}, n_layers={n_layers}, observable={observable})",
    )


def reupload(
    n_qubits: int = 2,
    n_layers: int = 3,
    observable: str = "Z0",
    n_features: int | None = None,
    scale: float = 1.0,
) -> Ansatz:
    """Data re-uploading: per layer ry(w·x_f + b) with f = q mod n_features, rz(φ), CZ ladder.

    Weights ``w{l}_{q}``, ``b{l}_{q}``, ``rz{l}_{q}`` (3·n_qubits·n_layers); inputs ``x{f}``
    in [-π, π]. The angle derivative ∂a/∂w = x makes the bound depend on the input domain.
    """
    _check_size("reupload", n_qubits, n_layers)
    n_features = n_qubits if n_features is None else n_features
    if not (isinstance(n_features, int) and n_features >= 1):
        raise ConfigError(f"reupload: n_features={n_features!r} must be an integer >= 1")
    qubits = cirq.LineQubit.range(n_qubits)
    inputs = [sympy.Symbol(f"x{f}") for f in range(n_features)]
    weights = []
    circuit = cirq.Circuit()
    for layer in range(n_layers):
        w = [sympy.Symbol(f"w{layer}_{q}") for q in range(n_qubits)]
        b = [sympy.Symbol(f"b{layer}_{q}") for q in range(n_qubits)]
        rz = [sympy.Symbol(f"rz{layer}_{q}") for q in range(n_qubits)]
        weights += [s for triple in zip(w, b, rz) for s in triple]
        circuit.append(
            cirq.Moment(
                cirq.ry(w[q] * inputs[q % n_features] + b[q]).on(qubits[q]) for q in range(n_qubits)
            )
        )
        circuit.append(cirq.Moment(cirq.rz(rz[q]).on(qubits[q]) for q in range(n_qubits)))
        circuit.append(_cz_ladder(qubits))
    return Ansatz(
        circuit=circuit,
        weights=tuple(weights),
        inputs=tuple(inputs),
        observables=parse_observables(observable, qubits),
        readout=Readout(scale=scale),
        name=f"reupload(n_qubits={n_qubits}, n_layers={n_layers}, observable={observable})",
    )


def native(n_qubits: int = 4, n_layers: int = 2, observable: str = "Z0", scale: float = 1.0) -> Ansatz:
    """Google-native gates: rx(x_q) encoding; per layer PhasedXZ on each qubit, FSim bricks.

    Weights per layer and qubit ``px{l}_{q}``, ``pz{l}_{q}``, ``pa{l}_{q}`` (PhasedXZ x, z and
    axis-phase exponents, in half-turns) and per FSim pair ``th{l}_{i}``, ``ph{l}_{i}`` (radians).
    """
    _check_size("native", n_qubits, n_layers)
    qubits = cirq.LineQubit.range(n_qubits)
    inputs = [sympy.Symbol(f"x{q}") for q in range(n_qubits)]
    weights = []
    circuit = cirq.Circuit(cirq.rx(inputs[q]).on(qubits[q]) for q in range(n_qubits))
    for layer in range(n_layers):
        ops = []
        for q in range(n_qubits):
            px, pz, pa = (sympy.Symbol(f"{k}{layer}_{q}") for k in ("px", "pz", "pa"))
            weights += [px, pz, pa]
            ops.append(
                cirq.PhasedXZGate(x_exponent=px, z_exponent=pz, axis_phase_exponent=pa).on(qubits[q])
            )
        circuit.append(cirq.Moment(ops))
        start = layer % 2
        pairs = [(qubits[i], qubits[i + 1]) for i in range(start, n_qubits - 1, 2)]
        if not pairs and n_qubits >= 2:
            pairs = [(qubits[0], qubits[1])]
        fsims = []
        for i, (a, b) in enumerate(pairs):
            th, ph = sympy.Symbol(f"th{layer}_{i}"), sympy.Symbol(f"ph{layer}_{i}")
            weights += [th, ph]
            fsims.append(cirq.FSimGate(theta=th, phi=ph).on(a, b))
        if fsims:
            circuit.append(cirq.Moment(fsims))
    return Ansatz(
        circuit=circuit,
        weights=tuple(weights),
        inputs=tuple(inputs),
        observables=parse_observables(observable, qubits),
        readout=Readout(scale=scale),
        name=f"native(n_qubits={n_qubits}, n_layers={n_layers}, observable={observable})",
    )


BUILTIN_ANSATZE: dict[str, Callable[..., Ansatz]] = {"hea": hea, "reupload": reupload, "native": native}


def builtin_ansatz(name: str, **options) -> Ansatz:
    """A built-in ansatz by name; ``options`` are its keyword arguments (``None`` values dropped)."""
    if name not in BUILTIN_ANSATZE:
        raise ConfigError(
            f"ansatz={name!r} is not built in; choose one of {sorted(BUILTIN_ANSATZE)} "
            "or pass path/to/file.py:function returning an Ansatz"
        )
    options = {k: v for k, v in options.items() if v is not None}
    try:
        return BUILTIN_ANSATZE[name](**options)
    except TypeError as exc:
        raise ConfigError(f"ansatz {name!r} does not take these options {sorted(options)}: {exc}") from exc


def _user_function(spec: str) -> tuple[Callable, str]:
    """``path/to/file.py:function`` or ``module:function`` → (the function, a short name for messages).
    An exception raised while the file runs is framed as a :class:`UserCodeError`."""
    target, _, function_name = spec.rpartition(":")
    if target.endswith(".py"):
        path = pathlib.Path(target)
        if not path.is_file():
            raise ConfigError(f"ansatz file {target!r} not found; give path/to/file.py:function")
        where = f"{path.name}:{function_name}"
        module_spec = importlib.util.spec_from_file_location(f"_privqml_user_{path.stem}", path)
        module = importlib.util.module_from_spec(module_spec)
        try:
            module_spec.loader.exec_module(module)
        except Exception as exc:  # the user's code: any error, framed with where it happened
            raise UserCodeError(f"error while loading {path.name}: {type(exc).__name__}: {exc} "
                                "(run with --debug for the traceback)") from exc
    else:
        where = spec
        try:
            module = importlib.import_module(target)
        except ImportError as exc:
            raise ConfigError(f"cannot import module {target!r} for ansatz {spec!r}: {exc}") from exc
    function = getattr(module, function_name, None)
    if function is None or not callable(function):
        raise ConfigError(f"{target!r} has no function {function_name!r}; spec was {spec!r}")
    return function, where


def load_ansatz(spec: str, offered: dict | None = None, **options) -> Ansatz:
    """Resolve ``spec``: a built-in name, or ``path/to/file.py:function`` (or ``module:function``)
    whose function returns an :class:`Ansatz`.

    ``options`` (``None`` values dropped) are what the user asked for, e.g. ``n_qubits=5`` from
    ``--qubits 5``: a function that does not take one is refused with a one-line ConfigError (never
    silently ignored). ``offered`` are passed only where the function takes them (e.g. ``n_classes``).
    An exception raised by the user's code is a :class:`UserCodeError` naming the file and function.
    """
    if ":" not in spec:
        return builtin_ansatz(spec, **options)
    function, where = _user_function(spec)
    options = {k: v for k, v in options.items() if v is not None}
    parameters = inspect.signature(function).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    refused = sorted(k for k in options if k not in parameters and not takes_any)
    if refused:
        flags = ", ".join(_FLAG.get(k, k) for k in refused)
        raise ConfigError(f"{where} does not take {', '.join(refused)} (its parameters: "
                          f"{list(parameters) or 'none'}); omit {flags} or add the parameter to the function")
    kwargs = dict(options)
    kwargs.update({k: v for k, v in (offered or {}).items() if k in parameters or takes_any})
    try:
        result = function(**kwargs)
    except PrivqmlError:
        raise
    except Exception as exc:  # the user's code: any error, framed with where it happened
        raise UserCodeError(f"error while building {where}: {type(exc).__name__}: {exc} "
                            "(run with --debug for the traceback)") from exc
    if not isinstance(result, Ansatz):
        raise AnsatzError(
            f"{spec} returned a {type(result).__name__}; it must return privqml.theory.Ansatz"
        )
    return result


#: the command-line flag of each option a user function may be offered
_FLAG = {"n_qubits": "--qubits", "n_layers": "--layers", "observable": "--observable"}


__all__ = ["hea", "reupload", "native", "BUILTIN_ANSATZE", "builtin_ansatz", "load_ansatz", "parse_observables"]

