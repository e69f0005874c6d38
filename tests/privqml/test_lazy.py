"""Lazy package exports: every advertised name resolves, unknown names fail clearly, and importing
a package does not load TensorFlow until a name that needs it is used."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

from privqml._lazy import by_module, lazy_exports

PACKAGES = ("privqml.models", "privqml.verify", "privqml.paper_checks")


@pytest.mark.parametrize("package", PACKAGES)
def test_every_exported_name_resolves_and_dir_lists_it(package):
    module = importlib.import_module(package)
    for name in module.__all__:
        assert getattr(module, name) is not None, name
    assert set(module.__all__) <= set(dir(module))
    with pytest.raises(AttributeError, match=f"{package}.*no_such_name"):
        module.no_such_name  # noqa: B018


@pytest.mark.parametrize("package", PACKAGES)
def test_import_does_not_load_tensorflow(package):
    code = f"import sys, {package}; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_by_module_refuses_a_name_exported_twice():
    assert by_module({"a": ("x", "y"), "b": ("z",)}) == {"x": "a", "y": "a", "z": "b"}
    with pytest.raises(ValueError, match="'x' exported from both 'a' and 'b'"):
        by_module({"a": ("x",), "b": ("x",)})


def test_lazy_exports_returns_sorted_all():
    _, _, names = lazy_exports("privqml.models", {"b": "zoo", "a": "data"})
    assert names == ["a", "b"]
