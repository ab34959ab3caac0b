"""``lstm-sentiment serve``: predict and explain over HTTP, and a web page to watch the gates.

:mod:`.app` builds the FastAPI app (routes, JSON errors), :mod:`.limits` holds the request limits and
bodies, :mod:`.page` builds the web page, :mod:`.run` starts uvicorn with one or more workers. Imported
only by the ``serve`` command and by code that asks for it, so the rest of the package does not need
FastAPI.
"""

from .app import create_app
from .limits import MAX_BODY_BYTES, MAX_TEXT_CHARS, MAX_TEXTS
from .run import serve

__all__ = ["MAX_BODY_BYTES", "MAX_TEXTS", "MAX_TEXT_CHARS", "create_app", "serve"]
