"""Logging of the commands and the build scripts: one line per message, no adverts, one-line warnings."""

from __future__ import annotations

import functools
import logging
import os
import re
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def _one_line_warnings(message, category, filename, lineno, file=None, line=None):
    print(f"warning: {message}", file=sys.stderr)


# Lightning's lines that no user of ours can act on: "💡 Tip: …" for its cloud services, "TPU available:
# False, …" for devices this machine lacks, "`Trainer.fit` stopped: …" (train's last line says which
# epoch was kept of how many), and "Detected KeyboardInterrupt, attempting graceful shutdown ..." at a
# Ctrl-C or "[rank: 0] Received SIGTERM: 15" at a SIGTERM, before the command's own one line ("error:
# interrupted" or "error: terminated").
_NOISE = re.compile(r"💡|(?:GPU|TPU|HPU) available: False|`Trainer.fit` stopped|\s*Detected KeyboardInterrupt, attempting graceful shutdown|\[rank: \d+\] Received SIGTERM")
# torch 2.13's FutureWarning about the LeafSpec that Lightning 2.6's _pytree still builds, once per fit.
_LEAFSPEC = r".*(LeafSpec|TreeSpec).*"


def _no_noise(record: logging.LogRecord) -> bool:
    return not _NOISE.match(record.getMessage())


def first_process() -> bool:
    """Whether this is the process a user started, not one that a multi-process run (Lightning's DDP
    launcher, torchrun, another node) started again with its rank in the environment."""
    return all(os.environ.get(name, "0") == "0" for name in ("LOCAL_RANK", "NODE_RANK", "RANK"))


def quiet_logging() -> None:
    """Our own progress at INFO on stderr, other libraries' at WARNING (torch logged its FakeTensor cache
    statistics at exit), Lightning's adverts and idle-device lines dropped, warnings as ``warning: …`` lines."""
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)
    logging.getLogger("lstm_sentiment").setLevel(logging.INFO)
    # Without a writable HOME matplotlib says, in two lines, that it made a temporary cache folder: it works.
    logging.getLogger("matplotlib").setLevel(logging.ERROR)
    for handler in logging.getLogger().handlers:
        handler.addFilter(_no_noise)
    warnings.showwarning = _one_line_warnings
    # Lightning's advice for GPU data loading and its own internal deprecations are not the user's to act on.
    warnings.filterwarnings("ignore", message=r".*num_workers.*")
    warnings.filterwarnings("ignore", message=_LEAFSPEC)


def quiet_other_processes() -> None:
    """In a training process that a multi-process run started again (not :func:`first_process`), no
    progress and no warnings: it reads the same data with the same settings, so they are the first
    process's, said once (``--devices 2 --strategy ddp`` printed the vocabulary line and each data warning
    twice); its errors still show. Other commands keep theirs whatever the environment holds."""
    if not first_process():
        logging.getLogger("lstm_sentiment").setLevel(logging.ERROR)
        warnings.showwarning = lambda *args, **kwargs: None


def one_logger_for_lightning() -> None:
    """Lightning's package logger has a handler of its own ("INFO: …") and also passes each message on to
    ours: every line came out twice. Import it (training will) and leave its messages to our handler."""
    import lightning  # why here: it takes seconds to import, and only training needs it

    logger = logging.getLogger(lightning.__name__)
    for handler in list(logger.handlers):
        logger.removeHandler(handler)


@contextmanager
def quiet_lightning() -> Iterator[None]:
    """Silence, for the ``with`` block, Lightning's per-fit banners ("GPU available: …"), its advice about
    DataLoader workers (the long-range runs draw data in the main process on purpose: a batch costs
    microseconds) and torch 2.13's FutureWarning about the ``LeafSpec`` that Lightning 2.6's ``_pytree``
    still builds (harmless, once per fit otherwise)."""
    logger = logging.getLogger("lightning.pytorch")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*does not have many workers.*")
            warnings.filterwarnings("ignore", message=".*LitLogger.*")
            warnings.filterwarnings("ignore", message=_LEAFSPEC)
            yield
    finally:
        logger.setLevel(level)


def drops_lightning_noise(func: Callable[P, R]) -> Callable[P, R]:
    """``func`` with Lightning's lines of :data:`_NOISE` (its cloud-logging tip, "GPU available: False") and
    its ``LeafSpec`` deprecation warning dropped while it runs, whatever handles the logs: ``train()``
    called from Python printed them, where the commands drop them in their handler (:func:`quiet_logging`).
    A wrapper of this module, not a ``contextmanager`` decorator, so that :func:`~lstm_sentiment.errors.warn_caller`
    still finds the user's line (it named contextlib's)."""

    @functools.wraps(func)
    def dropping(*args: P.args, **kwargs: P.kwargs) -> R:
        logger = logging.getLogger("lightning.pytorch.utilities.rank_zero")
        logger.addFilter(_no_noise)
        try:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=_LEAFSPEC)
                return func(*args, **kwargs)
        finally:
            logger.removeFilter(_no_noise)

    return dropping
