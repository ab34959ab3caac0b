"""lstm_sentiment: a textbook LSTM for sentence sentiment, with every gate inspectable."""

__version__ = "0.1.0"
