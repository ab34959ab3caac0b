"""Explain a prediction: the textbook walk-through of one sentence (:mod:`.walk`, a consumer of
:mod:`lstm_sentiment.inference`), told in prose (:mod:`.narrate`), as tables (:mod:`.tables`), heatmaps
(:mod:`.plots`, with a CJK font from :mod:`.fonts`) and a self-contained web page (:mod:`.html`).

Only :mod:`.walk` is imported here; matplotlib and the page builder load when asked for.
"""

from .walk import DirectionTrace, Explanation, explain

__all__ = ["DirectionTrace", "Explanation", "explain"]
