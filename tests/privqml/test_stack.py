"""The installed stack is recognised and its switches are set before TensorFlow / TF Privacy load,
in this process, in fresh interpreters, in ``spawn`` pool workers and in Ray workers; TensorFlow's
start-up noise is filtered and everything else on stderr passes."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import textwrap
import types
from importlib import metadata

import pytest

import privqml
from privqml import stack

NOISE = "Unable to register"
MODERN = sys.version_info >= (3, 12)


def _clean_env(**extra: str) -> dict:
    """This environment without the switches (a fresh shell's), plus ``extra``."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("TF_USE_LEGACY_KERAS", "TF_CPP_MIN_LOG_LEVEL", stack.SHOW_STARTUP_LOG)}
    env.update(extra)
    return env


def _run(code: str, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          env=_clean_env() if env is None else env, check=check, timeout=300)


# ---- deciding the stack ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "version,expected",
    [("2.15.0", "default"), ("2.15.1", "default"), ("2.16.0rc0", "modern"), ("2.18.1", "modern"),
     ("3.0.0", "modern"), (None, "default"), ("", "default"), ("nightly", "default")],
)
def test_stack_of_a_tensorflow_version(version, expected):
    assert stack.stack_of(version) == expected


def test_the_installed_stack_is_the_one_pyproject_pins_for_this_python():
    assert stack.TENSORFLOW_VERSION == metadata.version("tensorflow")
    assert stack.STACK == ("modern" if MODERN else "default")
    assert stack.TENSORFLOW_VERSION == ("2.18.1" if MODERN else "2.15.0")


def test_configure_modern_sets_both_switches_and_keeps_explicit_values():
    env, module = {}, types.SimpleNamespace()
    stack.configure("modern", env, module)
    assert env == {"TF_USE_LEGACY_KERAS": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
    assert module.skip_tf_privacy_import is True
    env = {"TF_USE_LEGACY_KERAS": "true", "TF_CPP_MIN_LOG_LEVEL": "0"}
    stack.configure("modern", env, types.SimpleNamespace())
    assert env == {"TF_USE_LEGACY_KERAS": "true", "TF_CPP_MIN_LOG_LEVEL": "0"}


def test_configure_default_sets_no_switch():
    env, module = {}, types.SimpleNamespace()
    stack.configure("default", env, module)
    assert env == {"TF_CPP_MIN_LOG_LEVEL": "2"}
    assert not hasattr(module, "skip_tf_privacy_import")


def test_this_process_is_configured():
    described = stack.describe()
    assert described["stack"] == stack.STACK and described["TF_CPP_MIN_LOG_LEVEL"] is not None
    if MODERN:
        assert os.environ["TF_USE_LEGACY_KERAS"] == "1"
        assert sys.skip_tf_privacy_import is True
    assert privqml.stack is stack


# ---- the switches reach every process that imports privqml ----------------------------------

_REPORT = """
import importlib.util, json, os, sys
import privqml.models  # through privqml/__init__.py, like every privqml import; no TensorFlow yet
assert "tensorflow" not in sys.modules and importlib.util.find_spec("tensorflow")  # a probe, as
import privqml.models.privacy.dpsgd  # some libraries make, leaves the start-up filter in place
import tensorflow as tf
from tensorflow_privacy.privacy.analysis import compute_dp_sgd_privacy_lib  # noqa: F401
from tensorflow_privacy.privacy.optimizers.dp_optimizer_keras import GenericDPSGDOptimizer
print(json.dumps({
    "TF_USE_LEGACY_KERAS": os.environ.get("TF_USE_LEGACY_KERAS"),
    "skip": getattr(sys, "skip_tf_privacy_import", None),
    "keras": tf.keras.__name__,
    "optimizer_keras": GenericDPSGDOptimizer.__mro__[1].__module__.split(".")[0],
    "estimator_loaded": "tensorflow_estimator" in sys.modules,
    "loader": type(tf.__spec__.loader).__name__,
}))
"""


def test_a_fresh_interpreter_importing_privqml_gets_the_switches_and_a_quiet_tensorflow():
    done = _run(_REPORT)
    assert NOISE not in done.stderr and "absl::InitializeLog" not in done.stderr, done.stderr
    report = json.loads(done.stdout)
    assert report["optimizer_keras"] == report["keras"].split(".")[0]  # TF Privacy and tf.keras agree
    assert report["loader"] != "_FilteredLoader"  # TensorFlow keeps its own loader
    if MODERN:
        assert report["TF_USE_LEGACY_KERAS"] == "1" and report["skip"] is True
        assert report["keras"].startswith("tf_keras")  # Keras 2, not Keras 3
        assert report["estimator_loaded"] is False
    else:
        assert report["TF_USE_LEGACY_KERAS"] is None and report["skip"] is None
        assert report["keras"].startswith("keras")


def test_without_privqml_only_the_modern_stack_breaks():
    """What the switches are for: on the Python 3.12 stack TF Privacy's package __init__ fails
    without the skip hook; the default stack needs none."""
    done = _run("import tensorflow_privacy.privacy.dp_query.gaussian_query", check=False)
    if MODERN:
        assert done.returncode != 0 and "tensorflow_estimator" in done.stderr, done.stderr
    else:
        assert done.returncode == 0, done.stderr


def test_spawn_pool_workers_get_the_switches():
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        described = pool.apply(stack.describe)
    assert described["stack"] == stack.STACK
    assert described["skip_tf_privacy_import"] == (True if MODERN else None)
    assert described["TF_USE_LEGACY_KERAS"] == ("1" if MODERN else os.environ.get("TF_USE_LEGACY_KERAS"))


def test_spawn_workers_set_the_switches_themselves_and_import_tensorflow_quietly(tmp_path):
    """A spawn pool started from a parent that never set TF_USE_LEGACY_KERAS: the worker's own
    import of privqml (to unpickle its task) sets the switches, and its TensorFlow is quiet."""
    script = tmp_path / "pool_worker.py"  # a file: spawn workers re-import the main module from it
    script.write_text(textwrap.dedent("""
        import json, multiprocessing, os
        import privqml.stack

        def work(_):
            import tensorflow as tf
            return {**privqml.stack.describe(), "tf": tf.__version__}

        if __name__ == "__main__":
            os.environ.pop("TF_USE_LEGACY_KERAS", None)
            with multiprocessing.get_context("spawn").Pool(1) as pool:
                print(json.dumps(pool.map(work, [0])[0]))
    """))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=_clean_env(),
                          check=True, timeout=300)
    described = json.loads(done.stdout)
    assert described["tf"] == stack.TENSORFLOW_VERSION
    assert described["TF_USE_LEGACY_KERAS"] == ("1" if MODERN else None)
    assert described["skip_tf_privacy_import"] == (True if MODERN else None)
    assert NOISE not in done.stderr, done.stderr


def test_ray_workers_get_the_switches():
    code = """
        import json, ray
        import privqml.stack
        ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
        try:
            print(json.dumps(ray.get(ray.remote(privqml.stack.describe).remote())))
        finally:
            ray.shutdown()
    """
    described = json.loads(_run(code).stdout.strip().splitlines()[-1])
    assert described["stack"] == stack.STACK
    assert described["skip_tf_privacy_import"] == (True if MODERN else None)
    assert described["TF_USE_LEGACY_KERAS"] == ("1" if MODERN else None)


# ---- TensorFlow's start-up noise ------------------------------------------------------------


def test_tensorflow_imported_before_privqml_is_left_alone_and_shows_the_noise():
    """No filter when TensorFlow came first; its import then prints the lines the filter removes
    (so the tests of the filter test something), TF_CPP_MIN_LOG_LEVEL=2 notwithstanding."""
    code = """
        import tensorflow, privqml.stack
        print(privqml.stack.quiet_tensorflow_startup(), privqml.stack.describe()["startup_filter"])
    """
    done = _run(code, env=_clean_env(TF_CPP_MIN_LOG_LEVEL="2"))
    assert done.stdout.split() == ["False", "False"]
    assert done.stderr.count(NOISE) == 3, done.stderr


def test_the_filter_passes_everything_else_in_order_and_survives_a_crash():
    code = r"""
        import os, sys
        from privqml.stack import filtered_stderr
        print("before", file=sys.stderr, flush=True)
        with filtered_stderr():
            os.write(2, b"E external/local_xla/xla/stream_executor/cuda/cuda_dnn.cc:1] Unable to register "
                        b"cuDNN factory: Attempting to register factory for plugin cuDNN when one has "
                        b"already been registered\n")
            os.write(2, b"E real/error.cc:1] a real error\n")
            print("from python", file=sys.stderr, flush=True)
            os.write(2, b"no newline at the end")
        print("\nafter", file=sys.stderr, flush=True)
        with filtered_stderr():
            os.write(2, b"F fatal.cc:1] Check failed: the process aborts now\n")
            os.abort()
    """
    done = _run(code, check=False)
    assert done.returncode != 0
    assert done.stderr.splitlines() == [
        "before",
        "E real/error.cc:1] a real error",
        "from python",
        "no newline at the end",
        "after",
        "F fatal.cc:1] Check failed: the process aborts now",
    ], done.stderr


def test_the_filter_can_be_turned_off():
    assert stack.quiet_tensorflow_startup({stack.SHOW_STARTUP_LOG: "1"}) is False


def test_the_first_xla_compile_logs_nothing_but_real_errors():
    """A classical model's fast step compiles with XLA; the compile's start-up lines (stack.XLA_NOISE)
    are filtered out of stderr, once per process, and what the process prints itself still shows."""
    done = _run("""
        import sys
        import numpy as np
        import privqml
        from privqml.models.privacy import fused
        from privqml.models.privacy.dpsgd import FiniteGaussianSumQuery
        from privqml.models.zoo import build_model
        model = build_model("mlp", seed=0)
        x = np.zeros((5, model.n_features), np.float32)
        y = np.zeros(5, np.float32)
        fused.clipped_sums(model, model.weights.numpy()[None], [x], [y], 1.0, FiniteGaussianSumQuery)
        fused.clipped_sums(model, model.weights.numpy()[None], [x[:2]], [y[:2]], 1.0, FiniteGaussianSumQuery)
        print("still shown", file=sys.stderr)
    """)
    assert "still shown" in done.stderr
    for line in done.stderr.splitlines():
        assert not privqml.stack.XLA_NOISE.search(line.encode()), line
