"""The one exception type users see: the CLI prints its message on one line and exits 1."""


class SentimentError(ValueError):
    """Bad input, data or model files; the message names the file, field or value at fault."""
