"""Progress for long work: a live bar on a terminal, plain lines in a log.

rich's live bar only redraws on an interactive terminal; with output redirected to a file (CI, a
``nohup`` run, ``make demo > log``) it prints nothing until the end. :func:`progress_bar` yields one
``update(done, total, text, *, line=True)`` callable for both cases: on a terminal it moves the bar,
elsewhere it prints ``[done/total] elapsed text`` — for every call with ``line=True`` and for the
others at most once every ``quiet_interval`` seconds (so thousands of reused results do not flood the
log), and always for the last one.
"""

from __future__ import annotations

import contextlib
import time
from typing import Callable, Iterator, Optional, Protocol


class ProgressUpdate(Protocol):
    def __call__(self, done: int, total: Optional[int], text: str = "", *, line: bool = True) -> None: ...


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


@contextlib.contextmanager
def progress_bar(console=None, description: str = "", *, transient: bool = False,
                 quiet_interval: float = 10.0, clock: Callable[[], float] = time.monotonic) -> Iterator[ProgressUpdate]:
    """A progress reporter for ``console`` (a rich Console; stderr's if None); see the module doc."""
    from rich.console import Console

    console = console or Console(stderr=True)
    if console.is_terminal:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      TextColumn("{task.fields[last]}"), console=console, transient=transient) as bar:
            handle = bar.add_task(description, total=None, last="")

            def update(done: int, total: Optional[int], text: str = "", *, line: bool = True) -> None:
                bar.update(handle, completed=done, total=total, last=text)

            yield update
        return

    start = clock()
    last_printed = [start - quiet_interval]

    def update(done: int, total: Optional[int], text: str = "", *, line: bool = True) -> None:
        now = clock()
        final = total is not None and done >= total
        if not (line or final or now - last_printed[0] >= quiet_interval):
            return
        last_printed[0] = now
        count = f"{done}/{total}" if total is not None else str(done)
        console.print(f"{description} [{count}] {_clock(now - start)} {text}".rstrip(), highlight=False,
                      markup=False, soft_wrap=True)

    yield update
