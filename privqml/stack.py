"""The installed stack, and the process switches it needs before TensorFlow / TF Privacy load.

privqml runs on two pinned stacks (pyproject.toml picks one by the Python version):

``default``  Python 3.9–3.11: TensorFlow 2.15 (Keras 2 built in), TFQ 0.7.3, TF Privacy 0.9.0
             with its own dependencies. Needs no switch.
``modern``   Python 3.12: TensorFlow 2.18 with tf-keras 2.18, TFQ 0.7.6, dp-accounting 0.6, TF
             Privacy 0.9.0 installed without its dependencies. Needs two switches, set here:

             - ``TF_USE_LEGACY_KERAS=1`` before TensorFlow resolves ``tf.keras``: TF >= 2.16
               otherwise gives Keras 3, which breaks ``tfq.layers.PQC`` and TF Privacy's
               optimizers; with it ``tf.keras`` is tf-keras (Keras 2).
             - ``sys.skip_tf_privacy_import = True`` before the first TF Privacy import: TF
               Privacy's package ``__init__`` imports its estimators, hence
               ``tensorflow_estimator``, which TF >= 2.16 no longer ships; this attribute is TF
               Privacy's own hook for skipping that (privqml imports only submodules:
               ``dp_query.gaussian_query``, ``optimizers.dp_optimizer_keras``,
               ``analysis.compute_dp_sgd_privacy_lib``).

The stack is decided by the installed TensorFlow's version (package metadata; TensorFlow is not
imported). ``privqml/__init__.py`` imports this module first, and every ``privqml.*`` import goes
through ``privqml/__init__.py``, so the switches are in place in any process that imports privqml
before TensorFlow — including ``spawn`` pool workers and Ray workers, which import privqml to
unpickle their task (and inherit the environment variables besides). Code that imports
TensorFlow or TF Privacy *before* privqml (a script, a test module) must ``import privqml`` first.

It also keeps TensorFlow's start-up noise off stderr without hiding real errors:

- ``TF_CPP_MIN_LOG_LEVEL=2`` (``setdefault``: an explicit value wins) drops TensorFlow's C++
  INFO and WARNING lines (oneDNN, CPU features, "Could not find cuda drivers", TensorRT) and
  keeps its ERROR lines.
- Some ERROR-level lines are not errors: TensorFlow's wheels link the CUDA plugins into two of
  their shared libraries, so loading them registers the cuDNN/cuFFT/cuBLAS factories twice and
  the static initialisers log "Unable to register cu... factory: Attempting to register factory
  for plugin ... when one has already been registered" — on every import, GPU or not. TF 2.18
  logs two of them through absl, which no environment variable silences (not even
  ``TF_CPP_MIN_LOG_LEVEL=3``, which would hide real errors too). So the first
  ``import tensorflow`` runs with file descriptor 2 passed through a line filter (a small
  child process, so a crash during the import loses nothing) that drops exactly those lines
  (:data:`STARTUP_NOISE`) and passes every other line through unchanged and in order.
  ``PRIVQML_TF_STARTUP_LOG=1`` turns the filter off.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import os
import re
import sys
from importlib import metadata
from typing import Iterator, MutableMapping, Optional

DEFAULT = "default"
MODERN = "modern"

# distributions that provide the ``tensorflow`` import package, first found wins
TENSORFLOW_DISTRIBUTIONS = ("tensorflow", "tensorflow-cpu", "tensorflow-intel", "tensorflow-macos")
# TF >= 2.16 ships Keras 3 as tf.keras and no tensorflow_estimator: the modern stack
MODERN_TENSORFLOW = (2, 16)

# Lines of TensorFlow's import that report no error (see the module doc); anything else passes.
STARTUP_NOISE = re.compile(
    rb"Unable to register cu(?:DNN|FFT|BLAS) factory: Attempting to register factory for plugin "
    rb"cu(?:DNN|FFT|BLAS) when one has already been registered"
    rb"|^WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR\s*$"
    rb"|computation placer already registered\. Please check linkage and avoid linking the same target"
)
#: What the first XLA compile of a process logs on a CPU-only machine (once per process, through absl):
#: not errors, though one is logged at ERROR level. privqml.models.privacy.fused runs that compile
#: inside :func:`filtered_stderr` with this pattern.
XLA_NOISE = re.compile(
    rb"^WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR\s*$"
    rb"|Compiled cluster using XLA!  This line is logged at most once"
    rb"|SetPriority unimplemented for this stream"
    rb"|XLA service 0x[0-9a-f]+ initialized for platform Host"
    rb"|StreamExecutor device \(\d+\): Host, Default Version"
)
SHOW_STARTUP_LOG = "PRIVQML_TF_STARTUP_LOG"


def tensorflow_version() -> Optional[str]:
    """The installed TensorFlow's version (from package metadata), or None when none is installed."""
    for name in TENSORFLOW_DISTRIBUTIONS:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return None


def stack_of(version: Optional[str]) -> str:
    """``"modern"`` for TensorFlow >= 2.16, else ``"default"`` (also when TensorFlow is missing)."""
    if not version:
        return DEFAULT
    numbers = re.match(r"(\d+)\.(\d+)", version)
    if numbers is None:
        return DEFAULT
    return MODERN if (int(numbers[1]), int(numbers[2])) >= MODERN_TENSORFLOW else DEFAULT


def configure(stack: str, environ: MutableMapping[str, str] = os.environ, module=sys) -> None:
    """Set the switches ``stack`` needs in ``environ`` and on ``module`` (``os.environ``/``sys``)."""
    environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if stack == MODERN:
        # Keras 3 (TF >= 2.16's default tf.keras) breaks tfq.layers.PQC and TF Privacy: use tf-keras.
        environ.setdefault("TF_USE_LEGACY_KERAS", "1")
        # TF Privacy's __init__ imports tensorflow_estimator (gone in TF >= 2.16); its own skip hook.
        module.skip_tf_privacy_import = True


def describe(environ: MutableMapping[str, str] = os.environ, module=sys) -> dict:
    """The stack and the switches as this process has them (for bug reports and tests)."""
    return {
        "stack": STACK,
        "python": ".".join(map(str, sys.version_info[:3])),
        "tensorflow": TENSORFLOW_VERSION,
        "TF_USE_LEGACY_KERAS": environ.get("TF_USE_LEGACY_KERAS"),
        "TF_CPP_MIN_LOG_LEVEL": environ.get("TF_CPP_MIN_LOG_LEVEL"),
        "skip_tf_privacy_import": getattr(module, "skip_tf_privacy_import", None),
        "startup_filter": any(isinstance(f, _QuietTensorFlowImport) for f in sys.meta_path),
    }


# ---- the start-up line filter -------------------------------------------------------------

_FILTER_PROGRAM = r"""
import re, sys
noise = re.compile(sys.argv[1].encode("latin-1"))
out = sys.stdout.buffer
for line in sys.stdin.buffer:
    if not noise.search(line.rstrip(b"\r\n")):
        out.write(line)
        out.flush()
"""


@contextlib.contextmanager
def filtered_stderr(noise: re.Pattern = STARTUP_NOISE) -> Iterator[None]:
    """File descriptor 2 (what C/C++ code writes to as well as ``sys.stderr``) passed through a
    child process that drops the lines matching ``noise`` and copies the rest, in order, to the
    real stderr. A child rather than a thread: a thread would need the GIL, which the importing
    thread holds while the shared libraries' initialisers run, and would lose the buffered lines
    if the process crashed. Does nothing (no filter) when the child cannot be started."""
    import subprocess  # here: ``import privqml`` stays light

    try:
        sys.stderr.flush()
    except (AttributeError, OSError, ValueError):
        pass
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        child = subprocess.Popen(
            [sys.executable, "-S", "-E", "-c", _FILTER_PROGRAM, noise.pattern.decode("latin-1")],
            stdin=subprocess.PIPE, stdout=saved, stderr=saved, close_fds=True,
        )
    except (OSError, ValueError):
        os.close(saved)
        yield
        return
    os.dup2(child.stdin.fileno(), 2)
    try:
        yield
    finally:
        try:
            sys.stderr.flush()
        except (AttributeError, OSError, ValueError):
            pass
        os.dup2(saved, 2)
        os.close(saved)
        child.stdin.close()  # the last write end: the child drains the pipe and exits
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - a write end leaked into a grandchild
            child.kill()
            child.wait()


class _FilteredLoader(importlib.abc.Loader):
    """Runs the wrapped loader's ``exec_module`` inside :func:`filtered_stderr`, once."""

    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module) -> None:
        # this import is the one: later ones (a reload) go the ordinary way, and the module keeps
        # its real loader (importlib.resources, pkgutil and reload look at it)
        sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _QuietTensorFlowImport)]
        module.__spec__.loader = self._loader
        module.__loader__ = self._loader
        with filtered_stderr():
            self._loader.exec_module(module)


class _QuietTensorFlowImport(importlib.abc.MetaPathFinder):
    """Finds ``tensorflow`` with the finders after it and hands it out with a
    :class:`_FilteredLoader`; it leaves ``sys.meta_path`` when TensorFlow is loaded (a mere
    ``importlib.util.find_spec("tensorflow")`` probe does not use it up)."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "tensorflow":
            return None
        spec = None
        for finder in list(sys.meta_path):
            find = getattr(finder, "find_spec", None)
            if finder is self or isinstance(finder, _QuietTensorFlowImport) or find is None:
                continue
            spec = find(fullname, path, target)
            if spec is not None:
                break
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        spec.loader = _FilteredLoader(spec.loader)
        return spec


def quiet_tensorflow_startup(environ: MutableMapping[str, str] = os.environ) -> bool:
    """Route the first ``import tensorflow`` of this process through the start-up line filter
    (unless TensorFlow is already imported, or ``PRIVQML_TF_STARTUP_LOG=1``). True if installed."""
    if "tensorflow" in sys.modules or environ.get(SHOW_STARTUP_LOG, "") not in ("", "0"):
        return False
    if not sys.executable or getattr(sys, "frozen", False) or any(isinstance(f, _QuietTensorFlowImport) for f in sys.meta_path):
        return False
    sys.meta_path.insert(0, _QuietTensorFlowImport())
    return True


TENSORFLOW_VERSION = tensorflow_version()
STACK = stack_of(TENSORFLOW_VERSION)
configure(STACK)
quiet_tensorflow_startup()

__all__ = [
    "DEFAULT",
    "MODERN",
    "STACK",
    "STARTUP_NOISE",
    "TENSORFLOW_VERSION",
    "configure",
    "describe",
    "filtered_stderr",
    "quiet_tensorflow_startup",
    "stack_of",
    "tensorflow_version",
]
