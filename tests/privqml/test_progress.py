"""privqml.progress: a bar on a terminal, lines (throttled for quiet updates) in a log."""

from __future__ import annotations

import io

from rich.console import Console

from privqml.progress import progress_bar


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def log_console() -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, force_terminal=False, width=200), buffer


def test_a_log_gets_one_line_per_reported_step():
    console, buffer = log_console()
    with progress_bar(console, "check all (full)") as update:
        update(1, 3, "c3/train ran: a")
        update(2, 3, "c3/train ran: b")
    lines = buffer.getvalue().splitlines()
    assert lines == ["check all (full) [1/3] 0:00:00 c3/train ran: a",
                     "check all (full) [2/3] 0:00:00 c3/train ran: b"]


def test_quiet_updates_are_throttled_but_the_last_is_printed():
    console, buffer = log_console()
    clock = FakeClock()
    with progress_bar(console, "sweep", quiet_interval=10.0, clock=clock) as update:
        for done in range(1, 50):  # 49 reused results within 4.9 s: only the first is printed
            clock.now += 0.1
            update(done, 100, f"found {done}", line=False)
        clock.now += 10.0
        update(50, 100, "found 50", line=False)  # 10 s later: printed
        update(51, 100, "found 51", line=False)  # right after: not
        update(100, 100, "found 100", line=False)  # the last: always
    texts = [line.split(" ", 3)[-1] for line in buffer.getvalue().splitlines()]
    assert texts == ["found 1", "found 50", "found 100"]
    assert "0:00:14" in buffer.getvalue().splitlines()[1]


def test_markup_in_the_text_is_printed_verbatim():
    console, buffer = log_console()
    with progress_bar(console, "train") as update:
        update(1, None, "clip=[0.1] [bold]x[/]")
    assert buffer.getvalue().strip() == "train [1] 0:00:00 clip=[0.1] [bold]x[/]"


def test_a_terminal_gets_the_live_bar_not_lines():
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=120)
    with progress_bar(console, "sweep") as update:
        for done in range(1, 4):
            update(done, 3, f"step {done}")
    out = buffer.getvalue()
    assert "3/3" in out and "sweep" in out
    assert "[1/3]" not in out  # the line format is for logs only
