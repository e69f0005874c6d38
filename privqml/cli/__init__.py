"""The ``privqml`` command line.

Each sub-command lives in ``privqml/cli/<name>.py`` and exposes ``register(app)``; heavy
imports (TensorFlow, TFQ) happen inside the command bodies so that ``privqml --help`` and
``privqml bound`` start fast. Input errors (:class:`privqml.errors.PrivqmlError`) are printed
as one clear message with exit status 2, never as a traceback.
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback

import typer
from rich.console import Console

from privqml.errors import PrivqmlError


# One entry per sub-command module in privqml/cli/ (append, keep the order).
_COMMAND_MODULES: tuple[str, ...] = (
    "bound",
    "demo",
    "verify",
    "audit",
    "train",
    "check",
    "compare",
    "accounting",
)

app = typer.Typer(
    name="privqml",
    help="Gradient-norm bounds, verification and DP-SGD for quantum machine-learning models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)



def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"privqml {version('privqml')}")
        raise typer.Exit(0)


@app.callback()
def _root(
    show_version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                      help="print privqml's version and exit"),
) -> None:
    """privqml: how large can a per-example gradient of my circuit be, and what does it buy under DP-SGD?"""


def _flags_show_no_type() -> None:
    """typer's help prints ``<bool>`` beside every flag (``--json <bool>``), as if it took a value: a flag's
    type column is left empty instead."""
    from typer.core import TyperOption

    shown = TyperOption.display_type_rich
    if getattr(shown, "privqml_flags", False):
        return

    def display_type_rich(self, ctx):
        if getattr(self, "is_flag", False) and self.metavar is None:
            return None
        return shown(self, ctx)

    display_type_rich.privqml_flags = True
    TyperOption.display_type_rich = display_type_rich


_flags_show_no_type()


for _name in _COMMAND_MODULES:
    importlib.import_module(f"privqml.cli.{_name}").register(app)

err_console = Console(stderr=True)


def _print_error(message: str) -> None:
    """``error: <message>`` on stderr, on one line whatever the console's width (a message that frames a
    user's code already starts ``error while …``)."""
    if not message.startswith("error while "):
        err_console.print("error: ", style="bold red", end="", markup=False, highlight=False)
    err_console.print(message, markup=False, highlight=False, soft_wrap=True)


def _hypothesis_home() -> None:
    """Hypothesis keeps a ``.hypothesis/`` folder in the working directory (even with no example database):
    the command line puts it in the user's cache instead, so that running privqml leaves the directory it ran
    in as it was. (A library caller's own Hypothesis settings are left alone.)"""
    from hypothesis.configuration import set_hypothesis_home_dir

    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    set_hypothesis_home_dir(os.path.join(cache, "privqml", "hypothesis"))


#: the commands that run Hypothesis searches (property tests, tightness starts, the demo's verify stage)
_HYPOTHESIS_COMMANDS = {"verify", "bound", "demo", "check"}


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status.

    ``--debug`` anywhere on the line (or ``PRIVQML_DEBUG=1``): an error raised inside a user's file is
    printed with its traceback after the one-line message."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv or os.environ.get("PRIVQML_DEBUG") == "1"
    argv = [a for a in argv if a != "--debug"]
    if argv and argv[0] in _HYPOTHESIS_COMMANDS:
        _hypothesis_home()
    try:
        # with standalone_mode=False click returns a typer.Exit's code instead of raising it
        status = app(args=argv, prog_name="privqml", standalone_mode=False)
    except PrivqmlError as exc:
        _print_error(str(exc))
        if debug and exc.__cause__ is not None:
            cause = exc.__cause__
            err_console.print("".join(traceback.format_exception(type(cause), cause, cause.__traceback__)),
                              markup=False, highlight=False, soft_wrap=True)
        return 2
    except typer.Exit as exc:
        return exc.exit_code
    except SystemExit as exc:  # click's own exits (bad usage)
        return int(exc.code or 0)
    except Exception as exc:  # click usage errors (typer vendors click: match by behaviour)
        if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):
            # one line, like our own errors: the option and value click objected to, and where to look
            message = exc.format_message().strip().rstrip(".")
            if not message:  # no arguments at all: click shows the help
                exc.show()
                return int(exc.exit_code)
            ctx = getattr(exc, "ctx", None)
            where = f"; see '{ctx.command_path} --help'" if ctx is not None else ""
            _print_error(f"{message}{where}")
            return int(exc.exit_code)
        raise
    return status if isinstance(status, int) else 0


if __name__ == "__main__":
    sys.exit(main())
