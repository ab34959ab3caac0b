"""The one exception type users see: the CLI prints its message on one line and exits 1."""

import sys
from collections.abc import Callable


class SentimentError(ValueError):
    """Bad input, data or model files; the message names the file, field or value at fault."""


def run_script(main: Callable[[], None]) -> None:
    """Run a build or benchmark script's ``main`` as the CLI runs a command: a :class:`SentimentError`
    (build data not found, say) is one line on stderr and exit 1, where it ended in a traceback."""
    try:
        main()
    except SentimentError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(1)
