"""Model specs as strings, parsed without TensorFlow: ``hea:n_layers=3,noise=0.01``, ``mlp:match=reupload``,
``my_ansatz.py:my_ansatz:n_qubits=5``.

Grammar: ``FAMILY[:key=value,key=value…]`` for the built-in families, and for a user's ansatz
``path/to/file.py:function[:key=value,…]`` (the function returns a :class:`privqml.theory.Ansatz`).

Keys of the built-in quantum families: ``n_qubits``, ``n_layers``, ``scale``, ``noise``, ``shots``,
``trajectories``, ``clamp``, ``engine``, ``device`` (``rainbow`` or ``weber``: placed on that Google device,
compiled to its gate set, with its calibrated noise). A user's ansatz takes ``n_qubits``, ``n_layers`` and ``observable``
(passed to the function, refused when it does not take them), ``noise``, ``shots``, ``trajectories``,
``clamp``, ``engine`` (applied to the model), and ``sha256`` (the first 16 hex digits of the file's SHA-256:
:func:`with_options` records it, and a file changed since is refused, so a resumed sweep never mixes runs of
two versions of the file). Values are percent-encoded where they hold ``,`` ``:`` ``=`` or ``%`` (an
observable such as ``Z0,Z1`` is written ``Z0%2CZ1``). Classical families take ``match=`` (a quantum family
or a user spec) and the keys of the quantum model they are matched to.

This module is the only parser of model specs; :mod:`privqml.models.zoo` builds the models.
"""

from __future__ import annotations

import hashlib
import pathlib
import urllib.parse

from privqml import validation
from privqml.errors import ConfigError

QUANTUM_FAMILIES = ("hea", "reupload", "native")
CLASSICAL_FAMILIES = ("mlp", "linear", "logistic")
#: the Google devices a quantum model can be placed on (:data:`privqml.theory.devices.DEVICES`, checked by a test;
#: kept here so that a spec is checked without importing cirq_google)
DEVICE_NAMES = ("rainbow", "weber")
#: the family name :func:`parse_model_spec` gives a user's ``file.py:function``
USER_FAMILY = "file"
MODEL_FAMILIES = QUANTUM_FAMILIES + CLASSICAL_FAMILIES

_INT_KEYS = {"n_qubits", "n_layers", "shots", "trajectories"}
_FLOAT_KEYS = {"scale", "noise", "clamp"}
_STR_KEYS = {"match", "engine", "observable", "sha256", "device"}
#: keys a user's function is offered (the rest apply to the model built from its ansatz)
FUNCTION_KEYS = ("n_qubits", "n_layers", "observable")
_USER_ONLY = {"observable", "sha256"}
_SAFE = "*+-._/ "  # kept as they are in a percent-encoded value


def is_user_spec(spec: str) -> bool:
    """True for ``path/to/file.py:function[:options]`` (a user's ansatz)."""
    head, sep, _ = spec.strip().partition(".py:")
    return bool(sep) and bool(head) and not set(":=,") & set(head)


def _split_user(spec: str) -> tuple[str, str]:
    """``a/b.py:f:k=v`` -> (``a/b.py:f``, ``k=v``)."""
    path, _, rest = spec.strip().partition(".py:")
    function, _, options = rest.partition(":")
    if not function.isidentifier():
        raise ConfigError(f"model={spec!r}: {function!r} is not a function name; write path/to/file.py:function")
    return f"{path}.py:{function}", options


def _parse_options(spec: str, text: str, allowed: set[str]) -> dict:
    options: dict = {}
    for item in filter(None, (p.strip() for p in text.split(","))):
        key, eq, value = item.partition("=")
        if not eq:
            raise ConfigError(f"model={spec!r}: option {item!r} must be key=value")
        if key not in allowed:
            raise ConfigError(f"model={spec!r}: unknown option {key!r}; known: {sorted(allowed)}")
        value = urllib.parse.unquote(value)
        try:
            if key in _INT_KEYS:
                options[key] = int(value)
            elif key in _FLOAT_KEYS:
                options[key] = float(value)
            else:
                options[key] = value
        except ValueError:
            raise ConfigError(f"model={spec!r}: option {key}={value!r} is not a number") from None
    if "device" in options and options["device"] not in DEVICE_NAMES:
        raise ConfigError(f"model={spec!r}: device={options['device']!r} is not known; choose one of "
                          f"{list(DEVICE_NAMES)}")
    return options


def parse_model_spec(spec: str) -> tuple[str, dict]:
    """``"hea:n_layers=3"`` → ``("hea", {"n_layers": 3})``; ``"my.py:f:n_qubits=5"`` →
    ``("file", {"function": "my.py:f", "n_qubits": 5})``. Unknown names and keys are ConfigErrors."""
    if not isinstance(spec, str) or not spec.strip():
        raise ConfigError(f"model={spec!r} is empty; choose one of {list(MODEL_FAMILIES)} or path/to/file.py:function")
    common = _INT_KEYS | _FLOAT_KEYS | {"engine", "device"}
    if is_user_spec(spec):
        function, rest = _split_user(spec)
        options = _parse_options(spec, rest, (common - {"scale"}) | _USER_ONLY)
        family, options = USER_FAMILY, {"function": function, **options}
    else:
        family, _, rest = spec.strip().partition(":")
        if family not in MODEL_FAMILIES:
            raise ConfigError(
                f"model={spec!r}: unknown family {family!r}; choose one of {list(MODEL_FAMILIES)} "
                "or give your ansatz as path/to/file.py:function (e.g. hea, hea:n_layers=3,noise=0.01, mlp:match=reupload)"
            )
        allowed = common | ({"match"} | _USER_ONLY if family in CLASSICAL_FAMILIES else set())
        options = _parse_options(spec, rest, allowed)
        if "match" in options:
            if family not in CLASSICAL_FAMILIES:
                raise ConfigError(f"model={spec!r}: match= applies to classical models only")
            if not is_user_spec(options["match"]):
                validation.choice("match", options["match"], QUANTUM_FAMILIES, where=f" in model={spec!r}")
        if _USER_ONLY & set(options) and not is_user_spec(options.get("match", "")):
            raise ConfigError(f"model={spec!r}: {sorted(_USER_ONLY & set(options))} apply to a user's ansatz "
                              "(path/to/file.py:function) only; the built-ins choose their readout from the classes")
    if "clamp" in options:
        validation.in_interval("clamp", options["clamp"], 0.0, 0.5, hi_open=True,
                               hint=f"in model={spec!r}: the bce_prob clamp c keeps p in [c, 1 - c]; e.g. clamp=0.01")
    if "scale" in options:
        validation.positive("scale", options["scale"], hint=f"in model={spec!r}: the fixed readout scale, e.g. scale=2")
    return family, options


def source_sha256(function: str) -> str:
    """The first 16 hex digits of the SHA-256 of the file of ``path/to/file.py:function``."""
    path = pathlib.Path(function.rpartition(":")[0])
    if not path.is_file():
        raise ConfigError(f"model file {str(path)!r} not found (from {function!r}); give path/to/file.py:function")
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def check_source(function: str, recorded: str | None) -> None:
    """Refuse a user's file whose content changed since ``recorded`` (:func:`source_sha256`) was taken."""
    if recorded is None:
        return
    now = source_sha256(function)
    if now != recorded:
        raise ConfigError(
            f"{function.rpartition(':')[0]} changed since this run was set up (sha256 {recorded} recorded, "
            f"{now} now): restore the file, or start a new --out for the new version")


def _render(options: dict) -> str:
    return ",".join(f"{k}={urllib.parse.quote(str(v), safe=_SAFE)}" for k, v in options.items())


def with_options(spec: str, n_qubits: int | None = None, n_layers: int | None = None,
                 observable: str | None = None, device: str | None = None) -> str:
    """``spec`` with the command line's ``--qubits/--layers/--observable/--device`` written in, and a user
    file's hash recorded: the canonical spec a run record, a task key and a worker process all see.

    A flag already set differently inside the spec is refused; ``--observable`` applies to a user's
    ansatz only (a built-in's readout follows the task's classes), ``--device`` to quantum models only.
    """
    family, options = parse_model_spec(spec)
    given = {k: v for k, v in (("n_qubits", n_qubits), ("n_layers", n_layers), ("observable", observable),
                               ("device", device)) if v is not None}
    user = family == USER_FAMILY or is_user_spec(options.get("match", ""))
    if "observable" in given and not user:
        raise ConfigError(f"--observable {observable} applies to a user's ansatz (path/to/file.py:function); "
                          f"model={spec!r} reads out Z0 (2 classes) or Z0..Z(K-1): omit --observable")
    if "device" in given and family in CLASSICAL_FAMILIES:
        raise ConfigError(f"--device {device} applies to quantum models; model={spec!r} is classical: omit --device")
    for key, value in given.items():
        if key in options and options[key] != value:
            raise ConfigError(f"model={spec!r} sets {key}={options[key]} and the command line {value}; give it once")
    options.update(given)
    if user:
        function = options["function"] if family == USER_FAMILY else options["match"]
        options["sha256"] = options.get("sha256") or source_sha256(function)
    if family == USER_FAMILY:
        function = options.pop("function")
        return f"{function}:{_render(options)}" if options else function
    head = spec.strip().partition(":")[0]
    return f"{head}:{_render(options)}" if options else head


def check_function(spec: str, n_classes: int | None = None) -> None:
    """For a spec that names a user's ansatz (itself or as ``match=``): load the file and call the function with
    the spec's options now — SymPy and Cirq only, no TensorFlow — so a missing file, an option the function
    does not take, or an exception inside it is refused in a second, before any long work starts."""
    family, options = parse_model_spec(spec)
    if family != USER_FAMILY:
        if not is_user_spec(options.get("match", "")):
            return
        options = {**options, **parse_model_spec(options["match"])[1]}
    from privqml.theory import load_ansatz

    check_source(options["function"], options.get("sha256"))
    load_ansatz(options["function"], offered={"n_classes": n_classes or 2},
                **{k: options.get(k) for k in FUNCTION_KEYS})


def matched_spec(classical: str, quantum: str) -> str:
    """The classical spec matched to ``quantum``: ``mlp`` + ``hea:n_qubits=8`` -> ``mlp:match=hea,n_qubits=8``,
    ``mlp`` + ``my.py:f:n_layers=1`` -> ``mlp:match=my.py%3Af,n_layers=1``. A classical spec that already
    names its options is returned unchanged."""
    if ":" in classical:
        return classical
    family, options = parse_model_spec(quantum)
    if family == USER_FAMILY:
        options = {"match": options.pop("function"), **options}
        return f"{classical}:{_render(options)}"
    _, _, rest = quantum.strip().partition(":")
    return f"{classical}:match={family}" + (f",{rest}" if rest else "")


__all__ = ["CLASSICAL_FAMILIES", "FUNCTION_KEYS", "MODEL_FAMILIES", "QUANTUM_FAMILIES", "USER_FAMILY",
           "check_function", "check_source", "is_user_spec", "matched_spec", "parse_model_spec", "source_sha256", "with_options"]
