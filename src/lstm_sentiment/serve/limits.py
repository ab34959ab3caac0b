"""The limits of a request to the API, the request bodies that check them, and the JSON error every route
answers with (:func:`error_response`), which the body-size middleware answers with too.

The limits are reported by ``GET /v1/model``; the web page (:mod:`.page`) tells its users the text limit.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

MAX_TEXTS = 256  # texts per /v1/predict request: one predict batch (PREDICT_BATCH)
# Characters per text. A model reads at most its max_tokens words (the en model 512, about 3,000 characters
# of English; the first and last halves of a longer text): 2,000 refused a quarter of the IMDB reviews
# that the en model was trained on whole. Past this, a text is a document, not a review.
MAX_TEXT_CHARS = 10_000
# Tokens of a /v1/explain text, as its model reads it (after the model's own truncation). Explain runs 2L
# sequences of up to L tokens, so its time grows with L²: 512 tokens (the en model's maximum) take about 2 s
# on one core (measured in-process, 2026-12-07), and a model trained with --max-tokens 100000000 spent 71 s on one text of 4,000 characters.
MAX_EXPLAIN_TOKENS = 512
# Request body. Large enough for any request within the two limits above even with every character
# JSON-escaped as \uXXXX (256 × 10,000 × 6 bytes ≈ 15.4 MB), so it only guards memory.
MAX_BODY_BYTES = 16 * 1024 * 1024
# A body over the limit, up to this many times it and for at most this many seconds, is read to its end
# before the 413 (see _drain).
DRAIN_FACTOR = 4
DRAIN_SECONDS = 10.0


class ExplainTooLong(ValueError):
    """A /v1/explain text of more than :data:`MAX_EXPLAIN_TOKENS` tokens as its model reads it."""


# --- request bodies -------------------------------------------------------------------------------------

Text = Annotated[str, Field(max_length=MAX_TEXT_CHARS)]


class PredictRequest(BaseModel):
    """Texts to classify."""

    model_config = ConfigDict(extra="forbid", strict=True)
    texts: list[Text] = Field(
        min_length=1,
        max_length=MAX_TEXTS,
        description=f"1 to {MAX_TEXTS} texts of at most {MAX_TEXT_CHARS} characters each.",
        examples=[["我喜欢这个电影", "我不喜欢这个电影"]],
    )


class ExplainRequest(BaseModel):
    """One text to walk through the LSTM."""

    model_config = ConfigDict(extra="forbid", strict=True)
    text: Text = Field(description=f"One text of at most {MAX_TEXT_CHARS} characters.", examples=["我喜欢这个电影"])
    units: bool = Field(True, description="Include every unit's value per step (`layers[].directions[].units`); false for a smaller answer.")


def error_response(status: int, code: str, message: str, details: list | None = None, headers: Mapping[str, str] | None = None) -> JSONResponse:
    """The JSON error every route answers with: ``{"error": {"code", "message", "details"?}}``."""
    body: dict[str, Any] = {"code": code, "message": message}
    if details:
        body["details"] = details
    return JSONResponse({"error": body}, status_code=status, headers=dict(headers or {}))


# --- body size ------------------------------------------------------------------------------------------


def _unreadable_encoding(raw: list[tuple[bytes, bytes]]) -> str | None:
    """Why a body cannot be read as sent (``raw``: the ASGI scope's headers), or None: compressed (a gzip
    body was "not UTF-8 (byte 1)"), declared in a charset other than UTF-8 (``charset=latin-1`` was read as
    UTF-8 all the same), or of two Content-Types (the JSON check read the first, the charset check the last)."""
    types = sum(name.lower() == b"content-type" for name, _ in raw)
    if types > 1:
        return f"Content-Type given {types} times; send one, application/json"
    headers = dict(raw)
    coding = headers.get(b"content-encoding", b"").decode("latin-1").strip().lower()
    if coding not in ("", "identity"):
        return f"Content-Encoding {coding} is not read here; send the JSON uncompressed"
    parameters = headers.get(b"content-type", b"").decode("latin-1").split(";")[1:]
    charset = next((p.split("=", 1)[1].strip().strip('"').lower() for p in parameters if p.strip().lower().startswith("charset=")), None)
    if charset not in (None, "utf-8", "utf8"):
        return f"charset {charset} given; send JSON as UTF-8 (RFC 8259), with charset=utf-8 or none"
    return None


class BodyLimit:
    """ASGI middleware: 413 for a request body over ``max_bytes``, 422 ``invalid_json`` for one that is
    not UTF-8, 415 for one compressed, in another charset or of two Content-Types; for a POST to one of
    ``paths`` only.

    Checks the declared Content-Length first, then counts the bytes actually received, which also covers
    chunked bodies; a body over the limit is read to its end (up to ``DRAIN_FACTOR`` times the limit, for at
    most ``DRAIN_SECONDS``; none of it where the client waits on "Expect: 100-continue") before the 413, a
    body within it handed on unchanged. JSON between
    systems is UTF-8 (RFC 8259 §8.1); Python's parser also reads UTF-16 and UTF-32, which the API
    documents as refused. Any other request goes on to the router, which reads no body: a health check
    with a stray ``Content-Encoding`` header was a 415, a POST to an unknown path a 422 or 413, not a 404.
    """

    def __init__(self, app, paths: frozenset[str], max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.paths = paths
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        refused = _unreadable_encoding(scope["headers"])
        if refused is not None:
            await error_response(415, "unsupported_media_type", refused)(scope, receive, send)
            return
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            # A client that asked "Expect: 100-continue" has sent none of the body and waits: the first
            # receive() would tell it to upload what is refused. (Once it sends, the 413 comes as below.)
            expecting = headers.get(b"expect", b"").lower() == b"100-continue"
            await self._too_large(scope, receive, send, int(declared), more_body=not expecting)
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._too_large(scope, receive, send, None, more_body=message.get("more_body", False))
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as err:
            response = error_response(422, "invalid_json", f"the body is not UTF-8 (byte {err.start}); send JSON as UTF-8")
            await response(scope, receive, send)
            return
        nul = body.find(b"\0")
        if nul >= 0:
            # NUL is UTF-8, but JSON text holds none (RFC 8259: escaped in strings): UTF-16 or UTF-32 without
            # a byte-order mark passed the check above, and Python's parser read it.
            response = error_response(422, "invalid_json", f"the body is not UTF-8 JSON (a NUL byte at byte {nul}: UTF-16 or UTF-32?); send JSON as UTF-8")
            await response(scope, receive, send)
            return
        sent = False

        async def replay():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, scope, receive, send, declared: int | None, more_body: bool) -> None:
        got = f" (Content-Length {declared})" if declared is not None else ""
        message = f"request body over {self.max_bytes} bytes{got}; send fewer or shorter texts"
        # more_body False: nothing more is coming (a receive() would wait for the client to leave).
        if more_body and (declared is None or declared <= DRAIN_FACTOR * self.max_bytes):
            # uvicorn sets no time limit on reading a body: a client that stopped sending held the task for good.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(_drain(receive, DRAIN_FACTOR * self.max_bytes), DRAIN_SECONDS)
        # The connection is closed all the same: a body past the drain limit is left unread.
        response = error_response(413, "body_too_large", message, headers={"Connection": "close"})
        await response(scope, receive, send)


async def _drain(receive, limit: int) -> None:
    """Read and drop the rest of a request body, at most ``limit`` bytes: a client that sends its whole
    body before reading the answer (Python's urllib, and requests on it) saw a broken pipe, not the 413,
    when the server answered and closed mid-body."""
    size = 0
    while size <= limit:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return
        size += len(message.get("body", b""))


# --- shutdown -------------------------------------------------------------------------------------------


class AnswerCancelled:
    """ASGI middleware: a request that the server's shutdown cancels is answered 503 ``shutting_down``
    (JSON, ``Connection: close``) where its response has not started, and the cancellation ends here.

    uvicorn cancels what still runs 10 s after SIGTERM or Ctrl-C (``timeout_graceful_shutdown``); each such
    request was answered a text/plain 500 and logged as a traceback ("Exception in ASGI application"),
    against the API's JSON errors. A response already started is left as it is: its connection is closed.
    """

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except asyncio.CancelledError:
            if started:
                return
            message = "the server is shutting down; send the request again (to another server, or once it is back)"
            await error_response(503, "shutting_down", message, headers={"Connection": "close"})(scope, receive, send)
