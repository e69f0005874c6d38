"""privqml: gradient-norm bounds, verification and DP-SGD for quantum machine-learning models.

The subpackages are imported lazily so that ``import privqml`` stays fast and the theory layer
can be used without loading TensorFlow:

- :mod:`privqml.theory` — symbolic gradient-norm bounds for parametrised Cirq circuits (SymPy);
- :mod:`privqml.verify` — the bounds held against Cirq/TFQ gradients (Hypothesis), privacy audits;
- :mod:`privqml.models` — TFQ and classical models trained with TF Privacy's DP-SGD;
- :mod:`privqml.paper_checks` — the claims of arXiv:2606.29293 checked end to end.
"""

from __future__ import annotations

# First, before anything can import TensorFlow or TF Privacy: the installed stack's switches
# (TF_USE_LEGACY_KERAS, sys.skip_tf_privacy_import on Python 3.12) and TF's start-up noise filter.
from privqml import stack  # noqa: F401, I001 - imported for its effect; must stay first

import importlib

from privqml.errors import (
    AnsatzError,
    AnsatzTypeError,
    ConfigError,
    DataError,
    DomainError,
    ObservableError,
    PrivqmlError,
    UnsupportedGateError,
)

__version__ = "0.1.0"

_SUBPACKAGES = ("theory", "verify", "models", "paper_checks")


def __getattr__(name: str):
    if name in _SUBPACKAGES:
        return importlib.import_module(f"privqml.{name}")
    raise AttributeError(f"module 'privqml' has no attribute {name!r}")


__all__ = [
    "AnsatzError",
    "AnsatzTypeError",
    "ConfigError",
    "DataError",
    "DomainError",
    "ObservableError",
    "PrivqmlError",
    "UnsupportedGateError",
    "__version__",
    *_SUBPACKAGES,
]
