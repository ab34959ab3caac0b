"""``lstm-sentiment serve``: predict and explain over HTTP, and a web page to watch the gates.

:mod:`.app` builds the FastAPI app (routes, limits, JSON errors), :mod:`.page` the web page, :mod:`.run`
starts uvicorn with one or more workers. Imported only by the ``serve`` command and by code that asks for
it, so the rest of the package does not need FastAPI.
"""

from .app import MAX_BODY_BYTES, MAX_TEXT_CHARS, MAX_TEXTS, create_app
from .run import serve

__all__ = ["MAX_BODY_BYTES", "MAX_TEXTS", "MAX_TEXT_CHARS", "create_app", "serve"]
