r"""The calibrations of Google devices that cirq-google bundles, read without its engine client (step 1 of
:mod:`privqml.theory.devices`), and ``cirq_google`` imported for the other device modules.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import functools
import pathlib
import sys
import types
import warnings
from typing import Iterator, Optional

import cirq

from privqml.errors import ConfigError


@contextlib.contextmanager
def _pkg_resources_stub() -> Iterator[None]:
    """cirq-google 1.3's package ``__init__`` imports its cloud client, which imports ``pkg_resources`` only to
    read its own version (``get_distribution``, else ``DistributionNotFound``); setuptools ≥ 81 no longer ships
    ``pkg_resources``. While cirq_google is first imported, a stub answers "not found" (the client then takes
    its default version string); it is removed again afterwards, so no other import sees it."""
    try:
        import pkg_resources  # noqa: F401 - present (setuptools < 81): nothing to do
    except ImportError:
        pass
    else:
        yield
        return
    stub = types.ModuleType("pkg_resources")

    class DistributionNotFound(Exception):
        pass

    def get_distribution(name):
        raise DistributionNotFound(name)

    stub.DistributionNotFound, stub.get_distribution = DistributionNotFound, get_distribution
    sys.modules["pkg_resources"] = stub
    try:
        yield
    finally:
        if sys.modules.get("pkg_resources") is stub:
            del sys.modules["pkg_resources"]


with _pkg_resources_stub(), warnings.catch_warnings():
    # google-api-core (imported by cirq_google's client) warns at import about future Python support
    warnings.filterwarnings("ignore", message="You are using a Python version", category=FutureWarning)
    import cirq_google  # noqa: E402

#: device name → (bundled calibration file, its timestamp in ms since the epoch, as cirq-google assigns it)
_CALIBRATIONS = {
    "rainbow": ("rainbow_2021_11_16_calibration.json", 1637058415838),
    "weber": ("weber_2021_11_03_calibration.json", 1635923188204),
}
DEVICES = tuple(_CALIBRATIONS)

@dataclasses.dataclass(frozen=True)
class CalibrationSource:
    """Where a device's noise properties came from.

    Attributes:
        device: the device name, or "custom" for properties passed in by the caller.
        file: the bundled calibration file (None for custom properties).
        timestamp_ms: the calibration's time, ms since the Unix epoch (None if unknown).
        cirq_google_version: the cirq-google release whose file and conversion were used.
    """

    device: str
    file: Optional[str]
    timestamp_ms: Optional[int]
    cirq_google_version: str

    @property
    def timestamp_utc(self) -> Optional[str]:
        if self.timestamp_ms is None:
            return None
        moment = datetime.datetime.fromtimestamp(self.timestamp_ms / 1000, tz=datetime.timezone.utc)
        return moment.isoformat(timespec="milliseconds")

    def to_dict(self) -> dict:
        return {**dataclasses.asdict(self), "timestamp_utc": self.timestamp_utc}


def _checked_device(device: str) -> str:
    if device not in _CALIBRATIONS:
        raise ConfigError(f"device={device!r} is not known; choose one of {DEVICES} "
                          "or pass a cirq_google.GoogleNoiseProperties")
    return device


def calibration_source(device: str) -> CalibrationSource:
    """The bundled calibration file and timestamp of ``device`` (one of :data:`DEVICES`)."""
    file, timestamp_ms = _CALIBRATIONS[_checked_device(device)]
    return CalibrationSource(device, file, timestamp_ms, cirq_google.__version__)


def load_calibration(device: str) -> "cirq_google.Calibration":
    """The bundled median calibration of ``device`` as a ``cirq_google.Calibration``, read with
    ``cirq.read_json`` (no engine client is called)."""
    source = calibration_source(device)
    path = pathlib.Path(cirq_google.__file__).parent / "devices" / "calibrations" / source.file
    calibration = cirq.read_json(str(path))
    assert isinstance(calibration, cirq_google.Calibration), type(calibration)
    calibration.timestamp = source.timestamp_ms
    return calibration


@functools.lru_cache(maxsize=None)
def noise_properties(device: str) -> "cirq_google.GoogleNoiseProperties":
    """``cirq_google.GoogleNoiseProperties`` of ``device`` from its bundled calibration (cached: the same
    object every call; change it with its ``with_params``, which returns a copy)."""
    return cirq_google.noise_properties_from_calibration(load_calibration(device))


__all__ = ["DEVICES", "CalibrationSource", "calibration_source", "cirq_google", "load_calibration", "noise_properties"]
