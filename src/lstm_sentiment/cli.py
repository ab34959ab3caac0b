"""The ``lstm-sentiment`` command. Commands only parse arguments and call public functions.

Data goes to stdout, logs to stderr. Exit codes: 0 ok, 1 failure (a one-line message), 2 usage.
"""

from __future__ import annotations

import sys

import typer

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="A textbook LSTM for sentence sentiment, with every gate inspectable.",
)


@app.callback()
def _root() -> None:
    """A textbook LSTM for sentence sentiment, with every gate inspectable."""


@app.command()
def demo(seed: int = typer.Option(0, help="Seed of the random word vectors and weights.")) -> None:
    """Walk 4 random word vectors standing for "我 喜欢 这个 电影" through an untrained LSTM, step by step."""
    from lstm_sentiment.walkthrough import random_walkthrough

    random_walkthrough(seed)


def main() -> None:
    """Entry point of ``python -m lstm_sentiment``."""
    sys.exit(app())
