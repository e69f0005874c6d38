"""Imported by pytest before any test module: privqml first, so its stack switches
(privqml.stack: TF_USE_LEGACY_KERAS and TF Privacy's import hook on the Python 3.12 stack) are
set before a test module imports TensorFlow or TF Privacy itself."""

import privqml  # noqa: F401
