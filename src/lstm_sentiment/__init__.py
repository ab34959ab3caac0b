"""lstm_sentiment: a textbook LSTM for sentence sentiment, with every gate inspectable.

``SentimentModel`` is imported lazily so that ``import lstm_sentiment.core`` stays torch-only and fast.
"""

import os

__version__ = "0.1.0"

# oneDNN keeps a compiled LSTM primitive for each batch shape it has seen, up to 1,024 by default, and
# length-sorted batches have many shapes: over 200,000 texts a worker grew by about 100 MB this way. With
# 64 the growth stops; a batch then costs about 1 % more (5 % with no cache at all), measured on
# zh-reviews. oneDNN reads the variable at its first primitive, so this must run before the first LSTM;
# a value the user set is kept.
os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "64")
__all__ = ["SentimentModel"]


def __getattr__(name: str):
    if name == "SentimentModel":
        from lstm_sentiment.inference.model import SentimentModel  # why here: torch, only when asked for

        return SentimentModel
    raise AttributeError(f"module 'lstm_sentiment' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
