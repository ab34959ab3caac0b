"""Reports on a trained model: the textbook walk-through of one sentence (:mod:`.explain`), told in prose
(:mod:`.narrate`), as tables (:mod:`.tables`), heatmaps (:mod:`.plots`, with a CJK font from :mod:`.fonts`)
and a self-contained web page (:mod:`.html`).

Only :mod:`.explain` is imported here; matplotlib and the page builder load when asked for.
"""

from .explain import DirectionTrace, Explanation, explain

__all__ = ["DirectionTrace", "Explanation", "explain"]
