from lstm_sentiment.models.classifier import SentimentLSTM

__all__ = ["SentimentLSTM"]
