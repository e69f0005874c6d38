"""Lazily loaded package exports (PEP 562), shared by the subpackages that must not import
TensorFlow at ``import`` time (``privqml.models``, ``privqml.verify``, ``privqml.paper_checks``)."""

from __future__ import annotations

import importlib
from typing import Callable, Mapping


def lazy_exports(package: str, exports: Mapping[str, str]) -> tuple[Callable[[str], object], Callable[[], list], list]:
    """(``__getattr__``, ``__dir__``, ``__all__``) for ``package`` whose public ``name`` lives in the
    submodule ``exports[name]`` (relative to the package); the submodule is imported on first use."""
    exports = dict(exports)

    def __getattr__(name: str):
        submodule = exports.get(name)
        if submodule is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{submodule}"), name)

    def __dir__() -> list:
        module = importlib.import_module(package)
        return sorted(set(vars(module)) | set(exports))

    return __getattr__, __dir__, sorted(exports)


def by_module(groups: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    """``{submodule: names}`` turned into ``{name: submodule}`` (a name listed twice is an error)."""
    where: dict[str, str] = {}
    for submodule, names in groups.items():
        for name in names:
            if name in where:
                raise ValueError(f"{name!r} exported from both {where[name]!r} and {submodule!r}")
            where[name] = submodule
    return where
