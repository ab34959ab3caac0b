"""lstm_sentiment: a textbook LSTM for sentence sentiment, with every gate inspectable.

``SentimentModel`` is imported lazily so that ``import lstm_sentiment.core`` stays torch-only and fast.
"""

__version__ = "0.1.0"
__all__ = ["SentimentModel"]


def __getattr__(name: str):
    if name == "SentimentModel":
        from lstm_sentiment.sentiment import SentimentModel

        return SentimentModel
    raise AttributeError(f"module 'lstm_sentiment' has no attribute {name!r}")
