"""One handler for every command's expected errors: one line on stderr, exit code 2.

Each command's ``main`` is run through :func:`run`: bad input (:class:`UsageError`,
``sim.params.ParameterError``), unreadable or unwritable files (``OSError``, pyarrow errors) and
malformed contents (``ValueError``, ``KeyError``, ``TypeError``) end with ``error: …`` on one line
naming what was wrong and what is allowed, and a non-zero exit; ``RUDPRK_DEBUG=1`` shows the
traceback instead. :class:`OneLineParser` makes argparse's own errors one line too. Ctrl+C and
SIGTERM end a command the same way: ``error: interrupted`` on one line and exit code 130, after
the command's own cleanup (``finally`` blocks, temporary files of atomic writes) has run.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Callable
from typing import NoReturn

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for Ctrl+C


class UsageError(ValueError):
    """Bad input to a command; the message names what was wrong and what is allowed."""


#: Errors a user can cause with input or files; anything else is a bug and keeps its traceback.
#: (pyarrow's errors are ``OSError``/``ValueError`` subclasses: ``ArrowIOError``,
#: ``ArrowInvalid``, … — so this module need not import pyarrow and stays light for ``teach``.)
EXPECTED: tuple[type[BaseException], ...] = (
    ValueError,  # UsageError, ParameterError, NotAResultDir, JSON decoding, ArrowInvalid
    OSError,  # unreadable or unwritable paths, ArrowIOError
    KeyError,
    TypeError,  # ArrowTypeError
)


def one_line(error: BaseException | str) -> str:
    """The error's message on one line (whitespace runs collapsed)."""
    text = str(error) if not isinstance(error, KeyError) else f"missing key {error}"
    text = " ".join(text.split()) or type(error).__name__
    return text


def fail(error: BaseException | str, code: int = EXIT_USAGE) -> NoReturn:
    """Print ``error: MESSAGE`` on one line to stderr and exit with ``code``."""
    print(f"error: {one_line(error)}", file=sys.stderr, flush=True)
    raise SystemExit(code)


def _terminated(signum: int, frame: object) -> None:
    """SIGTERM as Ctrl+C: unwind (cleanup runs); a second SIGTERM ends the process at once."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    raise KeyboardInterrupt


def interrupt_on_sigterm() -> None:
    """Make SIGTERM raise ``KeyboardInterrupt`` in the main thread (elsewhere: no change)."""
    try:
        signal.signal(signal.SIGTERM, _terminated)
    except ValueError:  # not the main thread of the main interpreter
        pass


def run(main: Callable[[], int | None]) -> NoReturn:
    """Run a command's ``main``; expected errors become one line and exit 2, Ctrl+C and
    SIGTERM one line and exit 130."""
    interrupt_on_sigterm()
    try:
        code = main()
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr, flush=True)
        raise SystemExit(EXIT_INTERRUPTED) from None
    except EXPECTED as error:
        if os.environ.get("RUDPRK_DEBUG"):
            raise
        fail(error)
    raise SystemExit(code or 0)


class OneLineParser(argparse.ArgumentParser):
    """argparse whose errors are one line: ``error: MESSAGE (usage: …)``, exit 2."""

    def error(self, message: str) -> NoReturn:
        usage = " ".join(self.format_usage().split())
        fail(f"{message} ({usage})")
