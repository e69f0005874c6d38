"""Imported by pytest before any test module: privqml first, so its stack switches
(privqml.stack: TF_USE_LEGACY_KERAS and TF Privacy's import hook on the Python 3.12 stack) are
set before a test module imports TensorFlow or TF Privacy itself.

Reproducible "secret" entropy in tests. Every draw privqml's privacy rests on goes through
:func:`secrets.randbits` (the noise and Poisson seeds of :mod:`privqml.models.privacy.randomness`,
:func:`privqml.models.privacy.fused.secret_generator`). A statistical audit of an honest mechanism
says ``violation`` with probability up to 1 − confidence (5 %) by design, so a suite with a score of
tests that assert ``consistent`` on secret draws fails now and then for no bug. Here each test draws
its entropy from its own stream, seeded by the test's id: successive draws inside a test still
differ (fresh noise per epoch, per side of an audit), and a test's verdict is the same on every
machine and run. Production code is untouched; ``tests/privqml/test_examples.py`` does the same for
the scripts it runs in a subprocess.
"""

import random
import secrets
import zlib

import pytest

import privqml  # noqa: F401


@pytest.fixture(autouse=True)
def _reproducible_entropy(request, monkeypatch):
    """``secrets.randbits`` from a stream seeded by the test's id (CRC-32: ``hash`` is salted per process)."""
    stream = random.Random(zlib.crc32(request.node.nodeid.encode()))
    monkeypatch.setattr(secrets, "randbits", stream.getrandbits)
