"""Ctrl-C noted when it arrives, so that a command stops even where Python loses its KeyboardInterrupt.

Python raises KeyboardInterrupt wherever the main thread is when the signal is handled, and there it can
be lost: in a finalizer or a weakref callback (printed as "Exception ignored", and the program goes on),
or in compiled code that takes any error for its own (torch's import of numpy took it for a missing
numpy). A command that was pressed once must still stop, and keep its old output, so :func:`on_sigint`
(the command line's SIGINT handler) also notes the press, and the places that hold something to clean up
call :func:`check` at their safe points: a press that was lost stops the run there.
"""

from __future__ import annotations

_pressed = False


def on_sigint(signum: int, frame) -> None:
    """SIGINT handler: note the press, then raise KeyboardInterrupt as Python's own handler does."""
    global _pressed
    _pressed = True
    raise KeyboardInterrupt


def reset() -> None:
    """Forget earlier presses (a new command starts)."""
    global _pressed
    _pressed = False


def check() -> None:
    """Raise KeyboardInterrupt if Ctrl-C was pressed since :func:`reset`, whether or not its own
    KeyboardInterrupt got through. Without :func:`on_sigint` installed nothing is noted, and this does
    nothing."""
    if _pressed:
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
