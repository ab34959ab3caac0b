"""The HTTP API and web page: ``create_app(model)`` builds a FastAPI app around models loaded once.

Routes (the generated OpenAPI schema is at ``/openapi.json``):

- ``POST /v1/predict`` ``{"texts": [...]}`` → ``{"records": [...]}``, the records of ``predict``, in order;
- ``POST /v1/explain`` ``{"text": ..., "units": true}`` → the JSON of :meth:`Explanation.to_dict`, its
  ``model`` the served name;
- ``GET /v1/model``: name (a shipped name or the bundle's folder name: no path of the server's), labels,
  architecture, training data (files by name), test figures and library versions of the served model(s);
- ``GET /healthz``: ``{"status": "ok"}`` once the model is loaded;
- ``GET /``: the web page (:mod:`.page`), and ``GET /assets/cjk-font.otf``, the CJK font it uses.

Every error is JSON ``{"error": {"code", "message", "details"?}}`` with the status of the table below; no
error leaves the server, and none stops it.

======  =========================  ==============================================================
status  code                       when
======  =========================  ==============================================================
413     ``body_too_large``         body over ``MAX_BODY_BYTES`` (Content-Length or bytes received)
415     ``unsupported_media_type`` a body without ``Content-Type: application/json``, compressed
                                   (``Content-Encoding``), or in a charset other than UTF-8
422     ``invalid_json``           the body is not JSON (or not UTF-8, or nested too deeply for
                                   the parser, as a 100,000-deep array is, or it holds NaN or
                                   Infinity), or an object in it names a key twice
422     ``invalid_request``        missing or unknown field, wrong type
422     ``no_texts``               ``texts`` is an empty list
422     ``too_many_texts``         more than ``MAX_TEXTS`` texts
422     ``text_too_long``          a text over ``MAX_TEXT_CHARS`` characters (422, not 413: the
                                   body was accepted, one field is out of range), or a
                                   ``/v1/explain`` text over ``MAX_EXPLAIN_TOKENS`` tokens as its
                                   model reads it (explain's time grows with their square)
422     ``empty_text``             ``/v1/explain`` with an empty or whitespace-only text
422     ``no_words``               ``/v1/explain`` with a text that has no words left after
                                   normalisation (only HTML tags, say)
404     ``not_found``              unknown path
405     ``method_not_allowed``     e.g. ``GET /v1/predict`` (the ``Allow`` header lists methods)
500     ``internal_error``         a bug; the traceback goes to the server log
503     ``shutting_down``          a request still running 10 s after SIGTERM or Ctrl-C (uvicorn
                                   cancels it; its connection is closed)
======  =========================  ==============================================================

Empty or whitespace-only texts inside a ``/v1/predict`` list are not errors: their records carry
``"error": "empty text"``, as on the command line.

Threads: FastAPI runs the sync endpoints in its thread pool, so requests overlap while the network
runs; the forward pass of ``SentimentLSTM`` keeps no state between calls, so one model serves them all.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path, PureWindowsPath
from typing import Any, NoReturn

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES

from lstm_sentiment import __version__
from lstm_sentiment.data.files import RepeatedKeyError, too_many_digits, unique_keys
from lstm_sentiment.errors import SentimentError
from lstm_sentiment.explain.fonts import cjk_font_path
from lstm_sentiment.explain.walk import explain
from lstm_sentiment.inference.model import DEFAULT_MODELS, SentimentModel
from lstm_sentiment.inference.routing import ByScript, ModelRef, predict_with, route
from lstm_sentiment.serve.limits import (
    MAX_BODY_BYTES,
    MAX_EXPLAIN_TOKENS,
    MAX_TEXT_CHARS,
    MAX_TEXTS,
    AnswerCancelled,
    BodyLimit,
    ExplainRequest,
    ExplainTooLong,
    PredictRequest,
    error_response,
)
from lstm_sentiment.serve.page import CSP, build_page
from lstm_sentiment.text.normalize import lone_surrogate

API_VERSION = "v1"
WARM_UP_TEXTS = ("我喜欢这个电影", "i liked this movie")
GZIP_MIN_BYTES = 1024  # answers below this go uncompressed: gzip saves little there and costs a header
# As inference.routing.route decides (an English review quoting a Chinese title goes to en).
ROUTING_BY_SCRIPT = "by script: a text with at least as many Han characters as Latin words goes to zh, the others to en"



# --- request and response bodies ------------------------------------------------------------------------

# What text_warning (inference.model) may say, in a predict record and an explanation alike.
WARNING_FIELD = ('"no known words" when no token is read as a word (each is <unk>, punctuation or a number); "zh text; the model reads en" '
                 '(or the reverse) for a text of the other script; "Cyrillic words read as <unk>" (and the like) for a few words of a '
                 'third script; "rare Chinese characters read as <unk>"; "emoji or symbols read as <unk>" beside words.')


class PredictRecord(BaseModel):
    """One record, as ``lstm-sentiment predict --format json`` prints it. Flags appear only when set."""

    text: str
    label: str | None = Field(description="Predicted class (lowercase, from the model's id2label); null for an empty text.")
    score: float | None = Field(description="Probability of `label`.")
    probs: dict[str, float] | None = Field(description="Every class's probability.")
    model: str | None = Field(None, description="Present when the server serves both shipped models: zh or en, the model of the text's script that scored it.")
    truncated: bool | None = Field(None, description="Present (true) when the text had more than max_tokens words.")
    warning: str | None = Field(None, description=WARNING_FIELD)
    error: str | None = Field(None, description='"empty text" for an empty or whitespace-only text; "no words once normalised (…)" for one of markup, links, mentions or control characters alone.')


class PredictResponse(BaseModel):
    records: list[PredictRecord] = Field(description="One record per text, in input order.")


class ExplainResponse(BaseModel):
    """``Explanation.to_dict()`` (``schema_version`` 1); the README and the ``Explanation`` docstring say what each key holds."""

    schema_version: int
    text: str
    model: str = Field(description="The served name of the model that walked the text: zh or en, or the bundle's folder name (no path).")
    lang: str = Field(description="zh or en: the tokenizer used for this text.")
    labels: list[str]
    label: str
    score: float
    probs: dict[str, float]
    truncated: bool
    max_tokens: int
    note: str | None = Field(description="Why the walk-through differs from the text as given (truncation), or null.")
    tokens: list[str]
    words: list[str]
    in_vocab: list[bool] = Field(description="Per token: read as a word (a vocabulary row or its character n-grams), not <unk>.")
    steps: list[dict[str, Any]] = Field(description="Per token: t, token, word, in_vocab, running_probs, running_label, running_score.")
    contributions: list[dict[str, Any]] = Field(description="Per token: t, token, word, delta (the drop of the label's probability with the token as <unk>).")
    layers: list[dict[str, Any]] = Field(description="Per layer: layer, directions (gates, norms and, with units, every unit).")
    fidelity: dict[str, float] = Field(description="explicit_max_abs_diff: the largest |p_explicit − p_predict| over classes (the traced LSTM against predict's).")
    warning: str | None = Field(None, description=WARNING_FIELD)


class Health(BaseModel):
    status: str = Field(description='"ok": the model is loaded and the worker answers.')


class ModelCard(BaseModel):
    """A served model, from its bundle's config.json and metrics.json."""

    name: str = Field(description="The served name: zh or en, or the bundle's folder name (no path).")
    labels: list[str]
    tokenizer: dict[str, Any] | None
    architecture: dict[str, Any] | None = Field(description="The network's settings (ModelConfig).")
    vocab_size: int | None
    training_data: dict[str, Any] | None
    metrics: dict[str, Any] | None = Field(description="validation and test: n, accuracy, macro_f1; null without a readable metrics.json.")
    created: str | None
    versions: dict[str, Any] | None


class Limits(BaseModel):
    max_texts: int = Field(description="Texts per /v1/predict request.")
    max_text_chars: int = Field(description="Characters per text.")
    max_explain_tokens: int = Field(description="Tokens of a /v1/explain text as its model reads it.")
    max_body_bytes: int = Field(description="Bytes of a request body.")


class ModelInfo(BaseModel):
    api_version: str
    routing: str = Field(description="How a text finds its model: by script, or one model.")
    models: list[ModelCard]
    limits: Limits
    server_versions: dict[str, str]


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable, machine-readable: body_too_large, invalid_json, text_too_long, …")
    message: str = Field(description="One line for a person.")
    details: list[dict[str, Any]] | None = Field(None, description="For 422s: each problem found (`loc`, `type`, `message`).")


class ErrorResponse(BaseModel):
    error: ErrorDetail


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    413: {"model": ErrorResponse, "description": f"Body over {MAX_BODY_BYTES} bytes."},
    415: {"model": ErrorResponse, "description": "Body not sent as application/json."},
    422: {"model": ErrorResponse, "description": "Malformed JSON, wrong field or type, or a limit exceeded."},
    500: {"model": ErrorResponse, "description": "Server bug (logged)."},
    503: {"model": ErrorResponse, "description": "Still running 10 s after the server was told to stop."},
}


# --- models ---------------------------------------------------------------------------------------------


class ServedModels:
    """The model(s) one worker serves, loaded once: one bundle, or the shipped zh and en chosen by script.

    Args:
        model: a bundle directory, a shipped name ("zh", "en"), a loaded ``SentimentModel``, or None for
            the shipped models with ``predict``'s choice by script; or loaded models by script,
            ``{"zh": ..., "en": ...}``.
    Raises:
        SentimentError: a missing or broken bundle.
        ValueError: models by script given as a mapping other than exactly zh and en.
    """

    def __init__(self, model: str | Path | SentimentModel | Mapping[str, SentimentModel] | None) -> None:
        if model is None or isinstance(model, Mapping):
            self.models = dict(model) if model is not None else {name: SentimentModel.load(name) for name in DEFAULT_MODELS}
            if sorted(self.models) != sorted(DEFAULT_MODELS):
                raise ValueError(f"models by script need exactly {', '.join(DEFAULT_MODELS)}, got {', '.join(self.models)}")
            self.by_script = True
        else:
            loaded = model if isinstance(model, SentimentModel) else SentimentModel.load(model)
            self.models = {loaded.name: loaded}
            self.by_script = False
        self._description: dict | None = None

    def _model_for(self, ref: ModelRef) -> SentimentModel:
        # By script the target names the shipped models by language; one model serves every reference.
        return self.models[ref.name_or_path] if self.by_script else next(iter(self.models.values()))

    def model_for(self, text: str) -> SentimentModel:
        """The model that classifies ``text``: by script as :func:`~lstm_sentiment.inference.routing.route`
        chooses, or the one model."""
        return self.models[route(text).lang] if self.by_script else next(iter(self.models.values()))

    def predict(self, texts: list[str]) -> list[dict]:
        """Records in input order, as ``predict_texts`` gives them."""
        if not self.by_script:
            return next(iter(self.models.values())).predict(texts)
        return predict_with(ByScript(), texts, self._model_for)

    def explain(self, text: str, units: bool = True) -> dict:
        """``Explanation.to_dict(units)``, its ``model`` the served name (as ``/v1/model`` names it, not the
        server's path).

        Raises:
            SentimentError: a text with no words.
            ExplainTooLong: more than :data:`MAX_EXPLAIN_TOKENS` tokens as the model reads them (a model
                trained with a larger ``--max-tokens``).
        """
        model = self.model_for(text)
        tokens = len(model.encode([text])[0].tokens)
        if tokens > MAX_EXPLAIN_TOKENS:
            raise ExplainTooLong(f"text: {tokens} tokens as the model reads it; explain over HTTP reads at most {MAX_EXPLAIN_TOKENS} (its time grows with their square; `lstm-sentiment explain` has no such limit)")
        answer = explain(model, text).to_dict(units)
        answer["model"] = next(name for name, served in self.models.items() if served is model)
        return answer

    def warm_up(self) -> None:
        """First calls load jieba's dictionary and OpenCC's tables: pay that before the first request."""
        for model in self.models.values():
            model.predict(list(WARM_UP_TEXTS))

    def describe(self) -> dict:
        """The ``/v1/model`` answer (read once: the files it comes from do not change while serving)."""
        if self._description is None:
            self._description = self._describe()
        return self._description

    def _describe(self) -> dict:
        return {
            "api_version": API_VERSION,
            "routing": ROUTING_BY_SCRIPT if self.by_script else "one model",
            "models": [model_card(name, model) for name, model in self.models.items()],
            "limits": {"max_texts": MAX_TEXTS, "max_text_chars": MAX_TEXT_CHARS, "max_explain_tokens": MAX_EXPLAIN_TOKENS, "max_body_bytes": MAX_BODY_BYTES},
            "server_versions": server_versions(),
        }


def _without_folders(training_data: dict | None) -> dict | None:
    """The bundle's ``training_data`` with each split's source named by its file ("my.csv:train"): the answer
    showed the server's folders ("/srv/data/my.csv:train") where the model's name shows none."""
    if not isinstance(training_data, dict):
        return training_data
    # Each part of a joined source ("a.csv:train+b.csv:train"); PureWindowsPath reads / and \ alike, as a
    # bundle trained on Windows names its files.
    return {key: "+".join(PureWindowsPath(part).name for part in value.split("+")) if key in ("train", "validation", "test") and isinstance(value, str) else value
            for key, value in training_data.items()}


def model_card(name: str, model: SentimentModel) -> dict:
    """Figures of the model card: labels, settings, data, test and validation figures, library versions."""
    config = model.config
    return {
        "name": name,
        "labels": list(model.id2label),
        "tokenizer": config.get("tokenizer"),
        "architecture": config.get("model"),
        "vocab_size": config.get("vocab_size"),
        "training_data": _without_folders(config.get("training_data")),
        "metrics": _card_metrics(Path(model.path) / "metrics.json"),
        "created": config.get("created"),
        "versions": config.get("versions"),
    }


def _card_metrics(path: Path) -> dict | None:
    """Validation and test n, accuracy and macro-F1 from a bundle's ``metrics.json``; None where the file
    is missing, unreadable or of another shape (no model needs it: a damaged one made ``/v1/model`` a 500)."""
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
        return {
            split: {key: report[split][key] for key in ("n", "accuracy", "macro_f1")}
            for split in ("validation", "test")
            if isinstance(report.get(split), dict)
        }
    except (OSError, ValueError, AttributeError, KeyError, TypeError):
        return None


def server_versions() -> dict[str, str]:
    names = ("lstm-sentiment", "torch", "fastapi", "uvicorn", "pydantic")
    return {"python": platform.python_version(), **{n: metadata.version(n) for n in names}}


# --- errors ---------------------------------------------------------------------------------------------


def _where(loc) -> str:
    """``("body", "texts", 3)`` → ``texts[3]``."""
    parts = [p for p in loc if p != "body"]
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "body"


def _is_json(content_type: str | None) -> bool:
    media = (content_type or "").split(";")[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def _json_fault(message: str, position: object) -> str:
    """json's message with the character it names: "Expecting value at character 0"; its messages that end
    on "at" (the reply ended mid-phrase: "Unterminated string starting at") take the position there."""
    return f"{message} character {position}" if message.endswith(" at") else f"{message} at character {position}"


async def _on_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    details = [{"loc": _where(e.get("loc", ())), "type": e.get("type"), "message": e.get("msg")} for e in errors[:20]]
    first = errors[0] if errors else {}
    kind, loc, ctx = first.get("type"), tuple(first.get("loc", ())), first.get("ctx") or {}
    where = _where(loc)
    if kind == "json_invalid":
        return error_response(422, "invalid_json", f"malformed JSON: {_json_fault(ctx.get('error', 'decode error'), loc[-1])}")
    if loc == ("body",) and kind != "missing" and not _is_json(request.headers.get("content-type")):
        got = request.headers.get("content-type") or "no Content-Type"
        return error_response(415, "unsupported_media_type", f"send the body as JSON with Content-Type: application/json (got {got})")
    if loc == ("body",) and kind == "missing":
        return error_response(422, "invalid_request", "empty body: send a JSON object", details)
    if loc == ("body", "texts") and kind == "too_short":
        return error_response(422, "no_texts", "texts is empty: send at least one text", details)
    if loc == ("body", "texts") and kind == "too_long":
        return error_response(422, "too_many_texts", f"at most {MAX_TEXTS} texts per request, got {ctx.get('actual_length')}", details)
    if kind == "string_unicode":
        # A JSON escape such as "\ud800" alone: pydantic said "unable to parse raw data as a unicode string".
        surrogate = lone_surrogate(first["input"]) if isinstance(first.get("input"), str) else None
        return error_response(422, "invalid_request", f"{where} holds a lone surrogate{f' ({surrogate})' if surrogate else ''}, not text; send each text as valid Unicode", details)
    if kind == "string_too_long":
        return error_response(422, "text_too_long", f"{where}: at most {MAX_TEXT_CHARS} characters per text", details)
    return error_response(422, "invalid_request", f"{where}: {first.get('msg', 'invalid request')}", details)


class _UniqueKeysRequest(Request):
    """A request whose JSON body may not name a key twice: json.loads keeps the last value without a word
    ({"texts": ["差"], "texts": ["好"]} would read 好), and the JSONL reader refuses such a line too. Nor
    may it hold NaN or Infinity, which json.loads reads though RFC 8259 has no such number."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = json.loads(await self.body(), object_pairs_hook=unique_keys, parse_constant=_not_json)
        return self._json


def _not_json(constant: str) -> NoReturn:
    """``parse_constant`` of json.loads: called for NaN, Infinity and -Infinity, which it refuses.

    Raises:
        ValueError: always (FastAPI answers 400, which :func:`_on_http_error` makes ``invalid_json``).
    """
    raise ValueError(f"{constant} is no JSON value (RFC 8259 has no NaN or Infinity)")


class _UniqueKeysRoute(APIRoute):
    """A route that hands its endpoint a :class:`_UniqueKeysRequest` (FastAPI's custom-request pattern)."""

    def get_route_handler(self):
        handler = super().get_route_handler()

        async def unique_keys_handler(request: Request):
            return await handler(_UniqueKeysRequest(request.scope, request.receive))

        return unique_keys_handler


_HTTP_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}
_PATH_SHOWN = 200  # characters of an unknown path named in a 404 or 405


async def _on_http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    code = _HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
    if exc.status_code == 400 and isinstance(exc.__cause__, RepeatedKeyError):
        return error_response(422, "invalid_json", f"malformed JSON: an object names the key {exc.__cause__.args[0]!r} twice")
    if exc.status_code == 400 and isinstance(exc.__cause__, ValueError) and "integer string conversion" in str(exc.__cause__):
        return error_response(422, "invalid_json", f"malformed JSON: {too_many_digits()}")
    if exc.status_code == 400 and isinstance(exc.__cause__, ValueError):
        # FastAPI's 400 for a body its parser cannot read (BodyLimit has refused one that is not UTF-8).
        return error_response(422, "invalid_json", f"malformed JSON: {exc.__cause__}".splitlines()[0])
    if exc.status_code == 400 and isinstance(exc.__cause__, RecursionError):
        # json.loads recurses once per nesting level; a body of 100,000 "[" gets here. No request of
        # this API nests deeper than 2.
        return error_response(422, "invalid_json", "malformed JSON: nested too deeply")
    # The path as sent: decoded, /%ff%fe read "/\ufffd\ufffd".
    path = request.scope.get("raw_path", b"").decode("ascii", "replace") or request.url.path
    if len(path) > _PATH_SHOWN:
        path = path[:_PATH_SHOWN] + "…"  # a 100 KB path came back whole in the error message
    if exc.status_code == 404:
        message = f"no route {path}; see /openapi.json"
    elif exc.status_code == 405:
        allowed = {k.lower(): v for k, v in (exc.headers or {}).items()}.get("allow", "?")
        message = f"{request.method} not allowed on {path}; allowed: {allowed}"
    else:
        message = str(exc.detail)
    return error_response(exc.status_code, code, message, headers=exc.headers)


async def _on_server_error(request: Request, exc: Exception) -> JSONResponse:
    # Starlette logs the traceback after this; the server carries on with the next request.
    return error_response(500, "internal_error", f"internal error ({type(exc).__name__}); the server log has the details")


# --- the app --------------------------------------------------------------------------------------------


def create_app(model: str | Path | SentimentModel | Mapping[str, SentimentModel] | None = None, warm_up: bool = True) -> FastAPI:
    """The FastAPI app: loads the model(s) once, here, and serves the routes of this module.

    Args:
        model: bundle directory, shipped name ("zh", "en"), a loaded ``SentimentModel``, or None for the
            shipped zh and en models, chosen per text by script (as ``predict`` without ``--model``);
            ``{"zh": ..., "en": ...}`` routes loaded models the same way.
        warm_up: run one prediction per model now, so the first request does not load jieba.
    Raises:
        SentimentError: a missing or broken bundle.
    """
    served = ServedModels(model)
    if warm_up:
        served.warm_up()
    page = build_page()
    app = FastAPI(
        # No redirect from /v1/predict/ to /v1/predict: a client that follows it may resend a POST as a
        # GET; the route is unknown, a JSON 404 says so.
        redirect_slashes=False,
        title="lstm-sentiment",
        version=__version__,
        summary="Sentence sentiment with a textbook LSTM: predict, and explain every gate.",
        docs_url=None,  # Swagger UI and ReDoc load scripts from a CDN; the schema is at /openapi.json
        redoc_url=None,
    )
    app.router.route_class = _UniqueKeysRoute
    app.state.models = served
    # An explain answer with units ran to 4.0 MB for 880 characters of zh text; gzip at level 1 cut it to 1.6 MB
    # in 0.08 s (level 9: 1.3 MB in 2.2 s) for a client that asks (Accept-Encoding), as browsers and httpx do.
    # Not the 8.3 MB CJK font: gzip took 13 % off it in 0.2 s, on the event loop (its chunks are below
    # the middleware's threading size), and its HEAD and GET answers told two lengths.
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MIN_BYTES, compresslevel=1, exclude_content_types=(*DEFAULT_EXCLUDED_CONTENT_TYPES, "font/otf"))
    app.add_middleware(BodyLimit, paths=frozenset({f"/{API_VERSION}/predict", f"/{API_VERSION}/explain"}), max_bytes=MAX_BODY_BYTES)
    app.add_middleware(AnswerCancelled)  # outermost: a body still being read is cancelled too
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_server_error)

    @app.post(f"/{API_VERSION}/predict", response_model=PredictResponse, responses=ERROR_RESPONSES, tags=[API_VERSION])
    def predict(body: PredictRequest) -> JSONResponse:
        """Label each text: one record per text, in input order (empty texts get `"error": "empty text"`)."""
        return JSONResponse({"records": served.predict(body.texts)})

    @app.post(f"/{API_VERSION}/explain", response_model=ExplainResponse, responses=ERROR_RESPONSES, tags=[API_VERSION])
    def explain(body: ExplainRequest) -> JSONResponse:
        """Walk one text through the LSTM: gates per step and unit, running prediction, word contributions."""
        if not body.text.strip():
            return error_response(422, "empty_text", "empty text: nothing to explain")
        try:
            return JSONResponse(served.explain(body.text, body.units))
        except ExplainTooLong as err:
            return error_response(422, "text_too_long", str(err))
        except SentimentError as err:
            return error_response(422, "no_words", str(err))

    @app.get(f"/{API_VERSION}/model", response_model=ModelInfo, tags=[API_VERSION])
    def model_info() -> JSONResponse:
        """The served model(s): labels, settings, validation and test figures, versions; the request limits."""
        return JSONResponse(served.describe())

    @app.get("/healthz", response_model=Health, tags=["ops"])
    def healthz() -> dict:
        """`{"status": "ok"}`: the model is loaded and the worker answers."""
        return {"status": "ok"}

    # Routes of their own: one route for both methods gave both the same OpenAPI operation id. HEAD, as
    # for every GET (RFC 9110, 9.3.2): it was a 405 on /v1/model and the font, 200 on / and /healthz.
    app.add_api_route("/healthz", healthz, methods=["HEAD"], tags=["ops"], operation_id="healthz_head")
    app.add_api_route(f"/{API_VERSION}/model", model_info, methods=["HEAD"], tags=[API_VERSION], operation_id="model_info_head")

    @app.api_route("/", methods=["GET", "HEAD"], response_class=HTMLResponse, include_in_schema=False)
    def index() -> HTMLResponse:
        return HTMLResponse(page, headers={"Content-Security-Policy": CSP, "Cache-Control": "no-cache"})

    @app.api_route("/assets/cjk-font.otf", methods=["GET", "HEAD"], include_in_schema=False)
    def cjk_font() -> FileResponse:
        return FileResponse(cjk_font_path(), media_type="font/otf", headers={"Cache-Control": "public, max-age=86400"})

    return app
