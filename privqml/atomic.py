"""Atomic file writes: readers see either the old file or the whole new one, never a torn one.

Every long run (training runs, protocol tasks, benchmarks) writes its results through here so an
interruption loses nothing that was finished: the text goes to a temporary file in the same
directory (same file system), is flushed and fsync'ed, then ``os.replace`` renames it over the
target (atomic on POSIX and Windows). Plots go the same way (:func:`save_figure_atomic`).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import IO, Callable


def _write_atomic(path: str | os.PathLike, mode: str, write: Callable[[IO], None]) -> Path:
    """Call ``write(handle)`` on a temporary file beside ``path``, fsync it and rename it over
    ``path`` (creating parent folders); on any error the temporary file is removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)  # mkstemp creates 0600; results are for everyone to read
        with os.fdopen(fd, mode) as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (creating parent folders); returns the path."""
    return _write_atomic(path, "w", lambda handle: handle.write(text))


def save_figure_atomic(fig, path: str | os.PathLike, dpi: int = 110) -> Path:
    """Lay out and save a matplotlib figure as a PNG at ``path`` atomically, then close it."""
    import matplotlib.pyplot as plt

    if fig.get_layout_engine() is None:  # a figure made with its own layout (e.g. constrained) keeps it
        fig.tight_layout()
    try:
        return _write_atomic(path, "wb", lambda handle: fig.savefig(handle, format="png", dpi=dpi))
    finally:
        plt.close(fig)


__all__ = ["save_figure_atomic", "write_text_atomic"]
