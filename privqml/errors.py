"""One exception family for bad input at privqml's public boundary.

Every error raised because of what a user passed in derives from :class:`PrivqmlError`
and from the matching builtin (``ValueError`` or ``TypeError``), so callers can catch either.
Messages echo ``name=value`` and say what to do. Settings are checked by the checkers of
:mod:`privqml.validation`, which raise :class:`ConfigError`; the command line prints any
:class:`PrivqmlError` as one line with exit status 2.
"""

from __future__ import annotations


class PrivqmlError(Exception):
    """Base class of every privqml input error."""


class AnsatzError(PrivqmlError, ValueError):
    """An :class:`~privqml.theory.Ansatz` that cannot be built as given."""


class UnsupportedGateError(AnsatzError):
    """A gate has no spectrum rule and no decomposition into gates that have one."""


class ObservableError(AnsatzError):
    """An observable that is not a Hermitian Pauli sum on the circuit's qubits."""


class DomainError(PrivqmlError, ValueError):
    """A value outside a declared public domain, or a malformed domain."""


class ConfigError(PrivqmlError, ValueError):
    """A bad setting: non-positive clip or epsilon, unknown model, batch larger than data..."""


class DataError(PrivqmlError, ValueError):
    """Bad data: NaN or infinite features, a shape mismatch, labels outside the label set."""


class AnsatzTypeError(PrivqmlError, TypeError):
    """An object of the wrong type where an ansatz (or a part of one) was expected."""


class UserCodeError(PrivqmlError, RuntimeError):
    """An exception raised inside a user's file (loading it or calling its function): framed as one line
    naming the file and function; the original exception is its ``__cause__`` (shown with ``--debug``)."""
