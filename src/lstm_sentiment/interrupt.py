"""Ctrl-C and SIGTERM noted when they arrive, so that a command stops even where Python loses the
KeyboardInterrupt they raise.

Python raises KeyboardInterrupt wherever the main thread is when the signal is handled, and there it can
be lost: in a finalizer or a weakref callback (printed as "Exception ignored", and the program goes on),
or in compiled code that takes any error for its own (torch's import of numpy took it for a missing
numpy). A command that was pressed once must still stop, and keep its old output, so :func:`on_signal`
(the command line's SIGINT and SIGTERM handler) also notes the signal, and the places that hold something to
clean up call :func:`check` at their safe points: a signal that was lost stops the run there. SIGTERM takes
the same path, as a KeyboardInterrupt: an exception of its own (a ``RuntimeError``, as typer's exit is)
was caught by libraries that take any error for theirs (a bundle's loader called the weights corrupt;
an import half done was taken for a missing module and training ran on).
"""

from __future__ import annotations

import ctypes
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# The signals :func:`on_signal` handles: Ctrl-C, and the polite request to stop that kill and service managers send.
SIGNALS = (signal.SIGINT, signal.SIGTERM)

_received: int | None = None


def on_signal(signum: int, frame) -> None:
    """SIGINT and SIGTERM handler: note the signal (the first one), then raise KeyboardInterrupt as
    Python's own SIGINT handler does."""
    global _received
    if _received is None:
        _received = signum
    raise KeyboardInterrupt


def exit_with_parent(parent: int) -> None:
    """In a worker process that ``parent`` started: end by SIGTERM when the parent dies, by SIGKILL too
    (Linux's ``PR_SET_PDEATHSIG``, prctl option 1; elsewhere nothing), and at once if it is gone already
    (the worker was then left to another process). A parent killed by SIGKILL stopped nothing: idle workers
    lived on, ~470 MB each for predict's, ~450 MB for longrange's."""
    libc = ctypes.CDLL(None)  # this process's own symbols, libc's among them (no library search)
    if hasattr(libc, "prctl"):
        libc.prctl(1, signal.SIGTERM)
    if os.getppid() != parent:
        os._exit(0)


def ignore() -> None:
    """Ignore :data:`SIGNALS` from now on: once the work is cleaned up, or its output in place, a signal
    would only print a traceback or call a finished run interrupted."""
    for signum in SIGNALS:
        signal.signal(signum, signal.SIG_IGN)


@contextmanager
def held() -> Iterator[None]:
    """:data:`SIGNALS` held back until the block is done, then delivered to the handler of before (on the
    command line :func:`on_signal`): for work that a KeyboardInterrupt must not cut in half, an import that
    takes any error for its own, files that go together. Outside the main thread, where no handler can be
    set, the block runs as it is."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = {signum: signal.signal(signum, lambda signum, frame: caught.append(signum)) for signum in SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if caught:
        signal.raise_signal(caught[0])


def received() -> int | None:
    """The signal noted since :func:`reset`, or None."""
    return _received


def reset() -> None:
    """Forget earlier signals (a new command starts)."""
    global _received
    _received = None


def check() -> None:
    """Raise KeyboardInterrupt if a signal was noted since :func:`reset`, whether or not its own
    KeyboardInterrupt got through. Without :func:`on_signal` installed nothing is noted, and this does
    nothing."""
    if _received is not None:
        raise KeyboardInterrupt


def fit(trainer, *args, **kwargs) -> None:
    """``trainer.fit(*args, **kwargs)`` of a Lightning Trainer, with Ctrl-C kept a KeyboardInterrupt.

    Lightning catches the KeyboardInterrupt of a press during fit, tears the run down and calls
    ``sys.exit(1)``: the command would end with exit 1 and no message instead of "interrupted" and 130.

    Raises:
        KeyboardInterrupt: the run was interrupted (Lightning's ``trainer.interrupted``).
    """
    try:
        trainer.fit(*args, **kwargs)
    except SystemExit:
        if trainer.interrupted:
            raise KeyboardInterrupt from None
        raise
