"""serve: the HTTP API and the web page, against a real server started on a free loopback port.

Round trips equal ``SentimentModel.predict`` and ``lstm_sentiment.explain.explain``; every error answers JSON with its status and
leaves the server up; several clients at once; ``--workers 2``; the page in headless Chromium.
"""

from __future__ import annotations

import gzip
import json
import urllib.error
import urllib.request
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from conftest import run_cli
from lstm_sentiment.explain import explain
from lstm_sentiment.inference.model import SentimentModel
from lstm_sentiment.serve.app import GZIP_MIN_BYTES, create_app
from lstm_sentiment.serve.limits import DRAIN_FACTOR, DRAIN_SECONDS, MAX_BODY_BYTES, MAX_TEXT_CHARS, MAX_TEXTS
from test_explain import LONG_ZH, ZH_TEXTS

HOST = "127.0.0.1"
START_TIMEOUT = 120  # s; a loaded 2-core machine takes ~5-15 s to import torch and load the model
PREDICT_TEXTS = [*ZH_TEXTS, "", "   ", "😀😀😀", "i loved this movie", LONG_ZH, "这部电影真的很好看"]
# Explain JSON rounds to 6 decimals; the server runs 1 torch thread and the test process more, so float32
# sums differ by ~1e-7 and can round one unit apart in the 6th decimal.
TOL = 2e-6


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log: Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def client(server: Server, timeout: float = 60, headers: dict | None = None) -> httpx.Client:
    # trust_env=False: no proxy from the environment between us and 127.0.0.1
    return httpx.Client(base_url=server.url, timeout=timeout, trust_env=False, headers=headers)


def start_server(bundle: Path, log: Path, *extra: str, stderr: Path | None = None) -> Server:
    """``python -m lstm_sentiment serve`` in its own process group, ready when /healthz answers; stdout
    and stderr go to ``log``, or stderr to ``stderr`` when given."""
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"}
    with open(log, "w") as out, open(stderr or os.devnull, "w") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "lstm_sentiment", "serve", "--model", str(bundle), "--port", str(port), *extra],
            stdout=out, stderr=err if stderr else subprocess.STDOUT, env=env, start_new_session=True,
        )
    server = Server(f"http://{HOST}:{port}", process, log)
    deadline = time.monotonic() + START_TIMEOUT
    with client(server, timeout=2) as http:
        while True:
            if process.poll() is not None:
                pytest.fail(f"server exited with {process.returncode}:\n{log.read_text()}")
            try:
                if http.get("/healthz").status_code == 200:
                    return server
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                stop_server(server)
                pytest.fail(f"server not up after {START_TIMEOUT} s:\n{log.read_text()}")
            time.sleep(0.2)


def stop_server(server: Server) -> None:
    """SIGTERM to the server's process group (uvicorn and its workers), SIGKILL if it lingers."""
    try:
        os.killpg(server.process.pid, signal.SIGTERM)
        server.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait()
    except ProcessLookupError:
        pass


@pytest.fixture(scope="module")
def server(small_bundle, tmp_path_factory):
    running = start_server(small_bundle[0], tmp_path_factory.mktemp("serve") / "server.log")
    yield running
    stop_server(running)


def test_sigterm_stops_quietly_and_access_lines_go_to_stderr(small_bundle, tmp_path):
    # Access lines went to stdout (uvicorn's default) though --help said stderr, and a SIGTERM, after a
    # clean shutdown, ended in "error: terminated".
    out, err = tmp_path / "stdout.log", tmp_path / "stderr.log"
    server = start_server(small_bundle[0], out, stderr=err)
    with client(server) as http:
        assert http.post("/v1/predict", json={"texts": ["好"]}).status_code == 200
    os.killpg(server.process.pid, signal.SIGTERM)
    assert server.process.wait(timeout=20) == -signal.SIGTERM
    log = err.read_text()
    assert out.read_text() == ""
    assert '"POST /v1/predict HTTP/1.1" 200' in log and "Application shutdown complete" in log, log
    assert "error" not in log.lower(), log


def assert_close(actual, expected, where="$"):
    """Equal JSON values, floats to TOL (the server runs one torch thread, this process maybe more)."""
    if isinstance(expected, float) and isinstance(actual, (int, float)) and not isinstance(actual, bool):
        assert abs(actual - expected) <= TOL, f"{where}: {actual} != {expected}"
    elif isinstance(expected, dict):
        assert isinstance(actual, dict) and set(actual) == set(expected), f"{where}: keys {sorted(actual)} != {sorted(expected)}"
        for key in expected:
            assert_close(actual[key], expected[key], f"{where}.{key}")
    elif isinstance(expected, (list, tuple)):
        assert isinstance(actual, list) and len(actual) == len(expected), f"{where}: length"
        for j, (a, e) in enumerate(zip(actual, expected)):
            assert_close(a, e, f"{where}[{j}]")
    else:
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"


def assert_error(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) <= {"code", "message", "details"}, body
    assert body["error"]["code"] == code, body
    message = body["error"]["message"]
    assert message and "\n" not in message and "Traceback" not in message
    return body["error"]


# --- round trips ----------------------------------------------------------------------------------------


def test_healthz_and_model_card(server, small_bundle):
    with client(server) as http:
        assert http.get("/healthz").json() == {"status": "ok"}
        info = http.get("/v1/model").json()
    metrics = json.loads((small_bundle[0] / "metrics.json").read_text())
    config = json.loads((small_bundle[0] / "config.json").read_text())
    assert info["api_version"] == "v1" and info["routing"] == "one model"
    (card,) = info["models"]
    # Named by its folder; the server's paths are not the client's business (the card gave the absolute one).
    assert card["name"] == small_bundle[0].name and str(small_bundle[0].parent) not in json.dumps(info)
    assert card["labels"] == config["id2label"] and card["architecture"] == config["model"]
    assert card["metrics"]["test"]["accuracy"] == metrics["test"]["accuracy"]
    assert card["versions"] == config["versions"]
    assert info["limits"] == {"max_texts": MAX_TEXTS, "max_text_chars": MAX_TEXT_CHARS, "max_explain_tokens": 512, "max_body_bytes": MAX_BODY_BYTES}
    assert {"torch", "fastapi", "uvicorn", "lstm-sentiment"} <= set(info["server_versions"])


def test_openapi_schema_describes_the_api(server):
    with client(server) as http:
        schema = http.get("/openapi.json").json()
    assert {"/v1/predict", "/v1/explain", "/v1/model", "/healthz"} <= set(schema["paths"])
    texts = schema["components"]["schemas"]["PredictRequest"]["properties"]["texts"]
    assert texts["minItems"] == 1 and texts["maxItems"] == MAX_TEXTS and texts["items"]["maxLength"] == MAX_TEXT_CHARS
    responses = schema["paths"]["/v1/predict"]["post"]["responses"]
    for status in ("413", "422"):
        assert responses[status]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorResponse")
    # GET and HEAD /healthz shared one id ("Duplicate Operation ID" in the server log); ids name one operation.
    ids = [operation["operationId"] for path in schema["paths"].values() for operation in path.values()]
    assert len(ids) == len(set(ids)) and set(schema["paths"]["/healthz"]) == set(schema["paths"]["/v1/model"]) == {"get", "head"}
    # HEAD answers wherever GET does (it was a 405 on /v1/model and the font), with GET's headers (uncompressed:
    # the gzip middleware leaves HEAD alone).
    with client(server, headers={"Accept-Encoding": "identity"}) as http:
        for path in ("/", "/healthz", "/v1/model", "/assets/cjk-font.otf"):
            head, get = http.head(path), http.get(path)
            assert head.status_code == get.status_code == 200 and head.content == b"", path
            assert head.headers["content-type"] == get.headers["content-type"] and head.headers["content-length"] == str(len(get.content)), path


def test_predict_records_equal_the_library(server, small_model):
    with client(server) as http:
        response = http.post("/v1/predict", json={"texts": PREDICT_TEXTS})
    assert response.status_code == 200, response.text
    records = response.json()["records"]
    assert_close(records, small_model.predict(PREDICT_TEXTS))
    assert [r["text"] for r in records] == PREDICT_TEXTS
    assert records[5]["error"] == records[6]["error"] == "empty text"  # like the CLI, not a request error
    assert records[7]["warning"] == "no known words"
    assert records[9]["truncated"] is True


@pytest.mark.parametrize("text", ["我喜欢这个电影", "这个犇犇的东西 zzqqx 真好", LONG_ZH[:MAX_TEXT_CHARS], "😀😀"])
def test_explain_json_equals_the_library(server, small_model, text):
    with client(server) as http:
        full = http.post("/v1/explain", json={"text": text})
        small = http.post("/v1/explain", json={"text": text, "units": False})
    assert full.status_code == 200 and small.status_code == 200, full.text + small.text
    expl = explain(small_model, text)
    # The library's answer, the model named as /v1/model names it rather than by the server's path.
    assert expl.model == str(small_model.path) and full.json()["model"] == small_model.path.name
    assert_close(full.json(), json.loads(expl.to_json()) | {"model": small_model.path.name})
    assert_close(small.json(), json.loads(expl.to_json(units=False)) | {"model": small_model.path.name})
    assert "units" not in small.json()["layers"][0]["directions"][0]
    # Emoji only: flagged as /v1/predict flags it (the walk-through came without a word); 犇 no word holds.
    flags = {"😀😀": "no known words", "这个犇犇的东西 zzqqx 真好": "rare Chinese characters read as <unk>"}
    assert full.json().get("warning") == flags.get(text)


# --- errors ---------------------------------------------------------------------------------------------

JSON = {"Content-Type": "application/json"}
ERRORS = [
    # (name, method, path, request keyword arguments, status, code)
    ("empty list", "POST", "/v1/predict", {"json": {"texts": []}}, 422, "no_texts"),
    ("texts not a list", "POST", "/v1/predict", {"json": {"texts": "我喜欢这个电影"}}, 422, "invalid_request"),
    ("a text not a string", "POST", "/v1/predict", {"json": {"texts": ["好", 3]}}, 422, "invalid_request"),
    ("null text", "POST", "/v1/predict", {"json": {"texts": [None]}}, 422, "invalid_request"),
    ("missing field", "POST", "/v1/predict", {"json": {"text": "好"}}, 422, "invalid_request"),
    ("unknown field", "POST", "/v1/predict", {"json": {"texts": ["好"], "model": "en"}}, 422, "invalid_request"),
    ("body not an object", "POST", "/v1/predict", {"json": ["好"]}, 422, "invalid_request"),
    ("malformed JSON", "POST", "/v1/predict", {"content": b'{"texts": ["\xe5\xa5\xbd"', "headers": JSON}, 422, "invalid_json"),
    ("cut-off JSON", "POST", "/v1/predict", {"content": b'{"texts": ["go', "headers": JSON}, 422, "invalid_json"),
    # json.loads would keep the last value: the model would label 好 where the client may have meant 差.
    ("repeated key", "POST", "/v1/predict", {"content": '{"texts": ["差"], "texts": ["好"]}'.encode(), "headers": JSON}, 422, "invalid_json"),
    ("explain repeated key", "POST", "/v1/explain", {"content": b'{"text": "x", "units": true, "units": false}', "headers": JSON}, 422,
     "invalid_json"),
    ("not UTF-8", "POST", "/v1/predict", {"content": b'{"texts": ["\xff"]}', "headers": JSON}, 422, "invalid_json"),
    # Python's json reads UTF-16 too: a 200 for what the README lists as refused.
    ("UTF-16", "POST", "/v1/predict", {"content": '{"texts": ["good"]}'.encode("utf-16"), "headers": JSON}, 422, "invalid_json"),
    # Without a byte-order mark its NUL bytes are UTF-8, and the parser read it: a 200.
    ("UTF-16LE", "POST", "/v1/predict", {"content": '{"texts": ["good"]}'.encode("utf-16-le"), "headers": JSON}, 422, "invalid_json"),
    ("UTF-32BE", "POST", "/v1/explain", {"content": '{"text": "good"}'.encode("utf-32-be"), "headers": JSON}, 422, "invalid_json"),
    ("empty body", "POST", "/v1/predict", {"content": b"", "headers": JSON}, 422, "invalid_request"),
    ("100,000-deep array", "POST", "/v1/predict", {"content": b"[" * 100_000 + b"]" * 100_000, "headers": JSON}, 422, "invalid_json"),
    # Python's limit on long integers: its message told the client to call sys.set_int_max_str_digits().
    ("5,000-digit number", "POST", "/v1/predict", {"content": b'{"texts": [' + b"9" * 5_000 + b"]}", "headers": JSON}, 422, "invalid_json"),
    # Python's json reads NaN and Infinity, and the answer was invalid_request, "should be a valid string".
    ("NaN", "POST", "/v1/predict", {"content": b'{"texts": [NaN]}', "headers": JSON}, 422, "invalid_json"),
    ("-Infinity", "POST", "/v1/explain", {"content": b'{"text": "x", "units": -Infinity}', "headers": JSON}, 422, "invalid_json"),
    ("form body", "POST", "/v1/predict", {"data": {"texts": "好"}}, 415, "unsupported_media_type"),
    ("text/plain JSON", "POST", "/v1/predict", {"content": b'{"texts": ["x"]}', "headers": {"Content-Type": "text/plain"}}, 415,
     "unsupported_media_type"),
    # A gzip body was "not UTF-8 (byte 1)"; a Latin-1 one was read as UTF-8.
    ("gzip body", "POST", "/v1/predict", {"content": gzip.compress(b'{"texts": ["x"]}'), "headers": {**JSON, "Content-Encoding": "gzip"}}, 415,
     "unsupported_media_type"),
    ("Latin-1 body", "POST", "/v1/predict", {"content": b'{"texts": ["caf\xe9"]}', "headers": {"Content-Type": "application/json; charset=latin-1"}}, 415,
     "unsupported_media_type"),
    ("UTF-8 named", "POST", "/v1/predict", {"content": b'{"texts": []}', "headers": {"Content-Type": "application/json; charset=UTF-8"}}, 422, "no_texts"),
    ("too many texts", "POST", "/v1/predict", {"json": {"texts": ["好"] * (MAX_TEXTS + 1)}}, 422, "too_many_texts"),
    ("text too long", "POST", "/v1/predict", {"json": {"texts": ["好", "好" * (MAX_TEXT_CHARS + 1)]}}, 422, "text_too_long"),
    ("explain text too long", "POST", "/v1/explain", {"json": {"text": "好" * (MAX_TEXT_CHARS + 1)}}, 422, "text_too_long"),
    ("explain empty", "POST", "/v1/explain", {"json": {"text": ""}}, 422, "empty_text"),
    ("explain whitespace", "POST", "/v1/explain", {"json": {"text": " \n\t "}}, 422, "empty_text"),
    ("explain no words", "POST", "/v1/explain", {"json": {"text": "<br><p></p>"}}, 422, "no_words"),
    ("explain list", "POST", "/v1/explain", {"json": {"text": ["好"]}}, 422, "invalid_request"),
    ("explain units not bool", "POST", "/v1/explain", {"json": {"text": "好", "units": "yes"}}, 422, "invalid_request"),
    ("unknown path", "GET", "/v2/predict", {}, 404, "not_found"),
    ("path of bytes not UTF-8", "GET", "/%ff%fe", {}, 404, "not_found"),
    # Was a bare 307 redirect to /v1/predict (a client may follow it as a GET).
    ("trailing slash", "POST", "/v1/predict/", {"json": {"texts": ["好"]}}, 404, "not_found"),
    ("GET predict", "GET", "/v1/predict", {}, 405, "method_not_allowed"),
    ("POST model", "POST", "/v1/model", {"json": {}}, 405, "method_not_allowed"),
    # The body checks ran before routing: 422 and 415 for requests whose path or method was wrong.
    ("unknown path, body not UTF-8", "POST", "/nope", {"content": b"\xff", "headers": JSON}, 404, "not_found"),
    ("GET predict, body not UTF-8", "GET", "/v1/predict", {"content": b"\xff", "headers": JSON}, 405, "method_not_allowed"),
]


@pytest.mark.parametrize("name,method,path,kwargs,status,code", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_are_json_with_the_right_status(server, name, method, path, kwargs, status, code):
    with client(server) as http:
        error = assert_error(http.request(method, path, **kwargs), status, code)
        if status == 405:
            assert http.request(method, path, **kwargs).headers["allow"] in ("GET", "POST")
        if "repeated" in name:
            assert "twice" in error["message"] and ("'texts'" in error["message"] or "'units'" in error["message"])
        if name == "malformed JSON":  # it said "malformed JSON at character 11: Unterminated string starting at"
            assert error["message"] == "malformed JSON: Expecting ',' delimiter at character 14"
        if name == "cut-off JSON":
            assert error["message"] == "malformed JSON: Unterminated string starting at character 11"
        if name in ("NaN", "-Infinity"):
            assert error["message"] == f"malformed JSON: {name} is no JSON value (RFC 8259 has no NaN or Infinity)"
        if "digit" in name:
            assert error["message"] == f"malformed JSON: a number of more than {sys.get_int_max_str_digits()} digits"
        if status == 404:
            assert error["message"] == f"no route {path}; see /openapi.json"  # /%ff%fe read "/\ufffd\ufffd"
        if name == "UTF-16":
            assert error["message"] == "the body is not UTF-8 (byte 0); send JSON as UTF-8"
        if name in ("UTF-16LE", "UTF-32BE"):
            nul = 1 if name == "UTF-16LE" else 0
            assert error["message"] == f"the body is not UTF-8 JSON (a NUL byte at byte {nul}: UTF-16 or UTF-32?); send JSON as UTF-8"
        if code == "too_many_texts":
            assert str(MAX_TEXTS) in error["message"] and str(MAX_TEXTS + 1) in error["message"]
        if code == "text_too_long" and path == "/v1/predict":
            assert error["message"].startswith("texts[1]")  # names the text at fault


def test_a_lone_surrogate_is_named_in_the_projects_words(server):
    # pydantic's words were "Input should be a valid string, unable to parse raw data as a unicode string".
    with client(server) as http:
        for path, body, where, surrogate in (
            ("/v1/predict", b'{"texts": ["\xe5\xa5\xbd", "x\\ud800x"]}', "texts[1]", "\\ud800"),
            ("/v1/explain", b'{"text": "\\udc00"}', "text", "\\udc00"),
        ):
            answer = http.post(path, content=body, headers=JSON)
            assert answer.status_code == 422 and answer.json()["error"]["code"] == "invalid_request"
            assert answer.json()["error"]["message"] == f"{where} holds a lone surrogate ({surrogate}), not text; send each text as valid Unicode"


def test_a_stray_body_header_on_a_health_check_is_no_error(server):
    # GET /healthz with Content-Encoding: gzip (or a Latin-1 charset) was 415 unsupported_media_type.
    with client(server) as http:
        for headers in ({"Content-Encoding": "gzip"}, {"Content-Type": "text/plain; charset=latin-1"}):
            answer = http.get("/healthz", headers=headers)
            assert (answer.status_code, answer.json()) == (200, {"status": "ok"}), headers


def raw_request(server: Server, head: bytes, body_chunks, timeout: float = 30) -> tuple[int, dict]:
    """Send a request over a bare socket (the body may be unfinished) and read the whole answer."""
    port = int(server.url.rsplit(":", 1)[1])
    with socket.create_connection((HOST, port), timeout=timeout) as sock:
        sock.sendall(head)
        for chunk in body_chunks:
            sock.sendall(chunk)
        answer = b""
        while data := sock.recv(65536):  # the server closes the connection after a 413
            answer += data
    head_part, _, body = answer.partition(b"\r\n\r\n")
    return int(head_part.split()[1]), json.loads(body)


def test_body_over_the_limit_by_content_length(server):
    # A declared length past the drain limit alone is refused: the client has sent 10 bytes of it.
    declared = DRAIN_FACTOR * MAX_BODY_BYTES + 1
    head = (f"POST /v1/predict HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {declared}\r\n\r\n").encode()
    status, body = raw_request(server, head, [b'{"texts": '])
    assert status == 413 and body["error"]["code"] == "body_too_large"
    assert str(declared) in body["error"]["message"]


def test_a_client_that_stops_sending_or_waits_on_100_continue_gets_the_413(server):
    # Reading the rest of an over-limit body waited for good on a client that stopped sending (uvicorn sets no
    # time limit on a body), and told a curl that sent "Expect: 100-continue" to upload 64 MiB to be refused.
    head = (f"POST /v1/predict HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {MAX_BODY_BYTES + 1}\r\n").encode()
    started = time.monotonic()
    status, body = raw_request(server, head + b"\r\n", [b'{"texts": '], timeout=DRAIN_SECONDS + 20)
    assert status == 413 and body["error"]["code"] == "body_too_large"
    assert DRAIN_SECONDS - 1 < time.monotonic() - started < DRAIN_SECONDS + 15
    started = time.monotonic()
    status, body = raw_request(server, head + b"Expect: 100-continue\r\n\r\n", [], timeout=DRAIN_SECONDS)
    assert status == 413 and time.monotonic() - started < DRAIN_SECONDS / 2  # no "100 Continue" first


def test_two_content_types_are_refused(server):
    # The JSON check read the first and the charset check the last: application/json then text/plain passed.
    body = b'{"texts": ["\xe5\xa5\xbd"]}'
    head = (f"POST /v1/predict HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
            f"Content-Type: text/plain; charset=latin-1\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    status, answer = raw_request(server, head, [body])
    assert status == 415 and answer["error"] == {"code": "unsupported_media_type", "message": "Content-Type given 2 times; send one, application/json"}


def test_a_client_that_sends_the_whole_body_first_sees_the_413(server):
    # urllib (and requests, on it) sends the whole body before reading: the server answered and closed
    # mid-body, and the client saw "[Errno 32] Broken pipe", not the 413.
    request = urllib.request.Request(f"{server.url}/v1/predict", data=b" " * (MAX_BODY_BYTES + 1), headers=JSON)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # no proxy between us and 127.0.0.1
    with pytest.raises(urllib.error.HTTPError) as refused:
        opener.open(request, timeout=60)
    assert refused.value.code == 413 and refused.value.headers["connection"] == "close"
    assert json.loads(refused.value.read())["error"]["code"] == "body_too_large"


def test_body_over_the_limit_when_chunked(server):
    # No Content-Length: the bytes received are counted.
    head = (f"POST /v1/predict HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\n\r\n").encode()
    piece = b"a" * 65536
    chunks = [b"%x\r\n%s\r\n" % (len(piece), piece)] * (MAX_BODY_BYTES // len(piece)) + [b"1\r\na\r\n", b"0\r\n\r\n"]
    status, body = raw_request(server, head, chunks)
    assert status == 413 and body["error"]["code"] == "body_too_large"


def test_body_at_the_limit_is_read(server):
    # Padding up to exactly MAX_BODY_BYTES: accepted, so the limit counts bytes, not characters.
    payload = json.dumps({"texts": ["我喜欢这个电影"]}).encode()
    padded = payload[:-1] + b" " * (MAX_BODY_BYTES - len(payload)) + b"}"
    with client(server) as http:
        response = http.post("/v1/predict", content=padded, headers=JSON)
    assert response.status_code == 200, response.text[:300]
    assert response.json()["records"][0]["text"] == "我喜欢这个电影"


# --- several clients at once ----------------------------------------------------------------------------

CLIENTS = 6
REQUESTS_PER_CLIENT = 8


def test_concurrent_clients_get_their_own_answers(server, small_model):
    texts = ZH_TEXTS + ["i loved this movie", "剧情太boring了"]
    expected_predict = {t: small_model.predict([t])[0] for t in texts}
    expected_explain = {t: json.loads(explain(small_model, t).to_json(units=False)) | {"model": small_model.path.name} for t in texts[:3]}
    failures, done = [], []

    def worker(k: int) -> None:
        try:
            with client(server) as http:
                for j in range(REQUESTS_PER_CLIENT):
                    if j % 4 == 3:
                        text = texts[(k + j) % 3]
                        response = http.post("/v1/explain", json={"text": text, "units": False})
                        assert response.status_code == 200, response.text
                        assert_close(response.json(), expected_explain[text])
                    else:
                        batch = [texts[(k + j + m) % len(texts)] for m in range(1 + (k + j) % 5)]
                        response = http.post("/v1/predict", json={"texts": batch})
                        assert response.status_code == 200, response.text
                        assert_close(response.json()["records"], [expected_predict[t] for t in batch])
                    done.append(1)
        except Exception as err:  # noqa: BLE001 - collected and reported by the main thread
            failures.append(f"client {k}: {type(err).__name__}: {err}")

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a client hung"
    assert failures == []
    assert len(done) == CLIENTS * REQUESTS_PER_CLIENT


def test_the_server_is_still_up_after_every_error(server):
    with client(server) as http:
        assert http.get("/healthz").json() == {"status": "ok"}
        assert http.post("/v1/predict", json={"texts": ["好"]}).status_code == 200
    assert server.process.poll() is None
    assert "Traceback" not in server.log.read_text()


def test_a_failing_request_answers_500_and_the_next_one_works(small_model):
    from starlette.testclient import TestClient

    app = create_app(small_model, warm_up=False)
    served = app.state.models
    real_predict = served.predict

    def broken(texts):
        if texts == ["boom"]:
            raise RuntimeError("simulated bug")
        return real_predict(texts)

    served.predict = broken
    with TestClient(app, raise_server_exceptions=False) as http:
        assert_error(http.post("/v1/predict", json={"texts": ["boom"]}), 500, "internal_error")
        response = http.post("/v1/predict", json={"texts": ["好"]})
        assert response.status_code == 200 and response.json()["records"][0]["text"] == "好"


@pytest.mark.parametrize("content", [b'{"accuracy": 0.9, ', b"[]", b'{"validation": {"accuracy": 0.5}}', b"\xff\xfe{}"])
def test_a_damaged_metrics_file_leaves_the_model_card_without_figures(small_bundle, tmp_path, content):
    # metrics.json is for people (no model needs it): a truncated or older one made /v1/model a 500, and the
    # page then said "model: unknown".
    from starlette.testclient import TestClient

    bundle = tmp_path / "copy"
    shutil.copytree(small_bundle[0], bundle)
    (bundle / "metrics.json").write_bytes(content)
    with TestClient(create_app(str(bundle), warm_up=False)) as http:
        response = http.get("/v1/model")
    assert response.status_code == 200, response.text
    (card,) = response.json()["models"]
    assert card["metrics"] is None and card["name"] == "copy" and card["labels"] == ["negative", "positive"]


def test_the_model_card_names_training_files_without_the_servers_folders(small_bundle, tmp_path):
    # training_data showed "/srv/data/my.csv:train" beside a name that shows no folder of the server's.
    from starlette.testclient import TestClient

    bundle = tmp_path / "mine"
    shutil.copytree(small_bundle[0], bundle)
    config = json.loads((bundle / "config.json").read_text())
    # A bundle trained on Windows names its files with backslashes; a joined source names each of its parts.
    config["training_data"] |= {"train": "/srv/data/my.csv:train", "validation": "C:\\Users\\ann\\my.csv:validation+/srv/b.csv:validation", "test": None}
    (bundle / "config.json").write_text(json.dumps(config))
    with TestClient(create_app(str(bundle), warm_up=False)) as http:
        answer = http.get("/v1/model").json()
    (card,) = answer["models"]
    assert card["training_data"] == config["training_data"] | {"train": "my.csv:train", "validation": "my.csv:validation+b.csv:validation"}
    assert "/srv" not in json.dumps(answer) and "Users" not in json.dumps(answer)


def test_explain_refuses_texts_past_its_token_limit_for_models_that_read_more():
    # A model trained with --max-tokens 100000000 spent 71 s on one /v1/explain text of 4,000 characters
    # (explain's time grows with the square of the tokens): past 512 tokens as the model reads them, 422.
    from starlette.testclient import TestClient

    from test_explain import tiny_model

    model = tiny_model(max_tokens=100_000)
    with TestClient(create_app(model, warm_up=False)) as http:
        at_limit = http.post("/v1/explain", json={"text": "我喜欢这个电影 " * 128, "units": False})  # 4 tokens each
        over = http.post("/v1/explain", json={"text": "我喜欢这个电影 " * 129, "units": False})
        limits = http.get("/v1/model").json()["limits"]
    assert at_limit.status_code == 200 and len(at_limit.json()["tokens"]) == 512, at_limit.text
    message = assert_error(over, 422, "text_too_long")["message"]
    assert message.startswith("text: 516 tokens as the model reads it; explain over HTTP reads at most 512"), message
    assert limits["max_explain_tokens"] == 512


def test_without_a_model_texts_go_to_the_model_of_their_script(small_model):
    # What `serve` without --model does with the shipped zh and en; here a random-weight stand-in for en.
    from starlette.testclient import TestClient

    from lstm_sentiment.inference.routing import ByScript, predict_with
    from test_explain import tiny_model

    models = {"zh": small_model, "en": tiny_model()}
    texts = ["我喜欢这个电影", "i like this movie", "", "这个电影 movie"]
    with TestClient(create_app(models, warm_up=False)) as http:
        records = http.post("/v1/predict", json={"texts": texts}).json()["records"]
        english = http.post("/v1/explain", json={"text": "i like this movie", "units": False}).json()
        info = http.get("/v1/model").json()
    assert_close(records, predict_with(ByScript(), texts, lambda ref: models[ref.name_or_path]))
    # Each labelled record names its model (an empty text none): two models' scores, two temperatures.
    assert [r.get("model") for r in records] == ["zh", "en", None, "zh"]
    assert_close(records[1], models["en"].predict(["i like this movie"])[0] | {"model": "en"})
    assert_close(english, json.loads(explain(models["en"], "i like this movie").to_json(units=False)) | {"model": "en"})
    assert info["routing"].startswith("by script") and [m["name"] for m in info["models"]] == ["zh", "en"]


# --- command line ---------------------------------------------------------------------------------------


def test_a_client_stalled_mid_body_does_not_hold_the_shutdown(small_bundle, tmp_path):
    # It held the socket after half its body, and SIGTERM left the server "Waiting for connections to
    # close" for as long as the client stayed (a minute here, or for ever).
    from lstm_sentiment.serve.run import GRACEFUL_SHUTDOWN_S

    running = start_server(small_bundle[0], tmp_path / "server.log")
    try:
        with socket.create_connection((HOST, int(running.url.rsplit(":", 1)[1]))) as stalled:
            stalled.sendall(b"POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"texts\"")
            time.sleep(0.5)
            started = time.monotonic()
            os.killpg(running.process.pid, signal.SIGTERM)
            # Cancelled at the end of the grace period, it got a text/plain 500 and the log a traceback.
            stalled.settimeout(GRACEFUL_SHUTDOWN_S + 20)
            answer = b""
            while data := stalled.recv(65536):  # head and body may come apart; the server then closes
                answer += data
            assert running.process.wait(timeout=GRACEFUL_SHUTDOWN_S + 20) == -signal.SIGTERM
            assert time.monotonic() - started < GRACEFUL_SHUTDOWN_S + 20
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 503 ") and b"application/json" in head, answer
        assert json.loads(body)["error"]["code"] == "shutting_down"
        log = (tmp_path / "server.log").read_text(encoding="utf-8")
        assert "Exception in ASGI application" not in log and "Traceback" not in log, log
    finally:
        stop_server(running)


def test_two_workers_each_load_the_model(small_bundle, small_model, tmp_path):
    from lstm_sentiment.serve.run import GRACEFUL_SHUTDOWN_S

    running = start_server(small_bundle[0], tmp_path / "server.log", "--workers", "2", "--no-access-log")
    try:
        # /healthz answers once the first worker is up; each worker builds its app (loads the model) once.
        deadline = time.monotonic() + START_TIMEOUT
        while running.log.read_text().count("Application startup complete") < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        log = running.log.read_text()
        assert log.count("Application startup complete") == 2 and log.count("Started server process") == 2, log
        with client(running) as http:
            for text in ZH_TEXTS:
                response = http.post("/v1/predict", json={"texts": [text]})
                assert response.status_code == 200, response.text
                assert_close(response.json()["records"], small_model.predict([text]))
            # A worker's warnings are one line, as one process's are (they were Python's two-line form).
            assert http.post("/v1/predict", json={"texts": [LONG_ZH]}).json()["records"][0]["truncated"] is True
        log = running.log.read_text()
        assert re.search(r"^warning: 1 text\(s\) longer than \d+ tokens or [\d,]+ characters were truncated", log, re.M) and "UserWarning" not in log, log
        # To the supervisor alone, as a service manager sends it: it stops its workers and ends by the signal.
        # While a worker drains (a client stalled mid-body), a new connection is refused: it waited in the
        # supervisor's backlog until the client timed out.
        port = int(running.url.rsplit(":", 1)[1])
        with socket.create_connection((HOST, port)) as stalled:
            stalled.sendall(b"POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
            time.sleep(0.5)
            os.kill(running.process.pid, signal.SIGTERM)
            time.sleep(2)
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection((HOST, port), timeout=2).close()
            assert running.process.wait(timeout=GRACEFUL_SHUTDOWN_S + 20) == -signal.SIGTERM
        assert running.log.read_text().count("Application shutdown complete") == 2
    finally:
        stop_server(running)


@pytest.mark.parametrize("args,message", [
    (["--model", "/nonexistent/bundle"], "model directory not found"),
    (["--port", "{busy}"], "cannot bind 127.0.0.1:"),
], ids=["missing-model", "port-in-use"])  # --workers 0 is a usage error (exit 2): test_new_user
def test_cli_serve_bad_arguments_are_one_line(small_bundle, args, message):
    with socket.socket() as busy:
        busy.bind((HOST, 0))
        busy.listen()
        args = [a.format(busy=busy.getsockname()[1]) for a in args]
        if args[0] != "--model":
            args = ["--model", str(small_bundle[0]), *args]
        if "--port" not in args:
            args += ["--port", str(free_port())]
        result = run_cli("serve", *args, timeout=120)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.stderr


# --- the page -------------------------------------------------------------------------------------------


def test_page_in_headless_chromium(server, small_model, chromium_tab):
    from playwright.sync_api import expect

    text = "我喜欢这个电影"
    expl = explain(small_model, text)
    tab = chromium_tab.page
    tab.goto(server.url + "/", wait_until="load")
    # expect() polls from playwright's own script world: the page's CSP forbids the eval of wait_for_function.
    expect(tab.locator("#model")).to_contain_text("small-zh")
    tab.fill("#text", text)
    tab.click("#submit")
    expect(tab.locator("#result")).to_be_visible()
    assert tab.inner_text("#label") == expl.label
    assert tab.inner_text("#score") == f"{expl.score:.4f}"
    tokens = tab.locator("#sentence .tok")
    assert tokens.count() == len(expl.words)
    assert [tokens.nth(j).evaluate("n => n.firstChild.textContent") for j in range(tokens.count())] == list(expl.words)
    assert tab.locator("canvas.heatmap").count() == 6 and tab.locator("#running-chart").count() == 1
    # The same units, each row labelled, in every panel, as the PNG chooses them.
    from lstm_sentiment.explain.plots import PANELS, select_units

    units = [f"u{u}" for u in select_units([expl.trace().units[name] for name, *_ in PANELS], 16)]
    labels = tab.locator("#heatmaps .axis").evaluate_all("axes => axes.map(a => Array.from(a.children).map(s => s.textContent))")
    assert labels == [units] * 6
    tokens.nth(1).hover()
    detail = tab.inner_text("#detail")
    assert "t=2" in detail and expl.words[1] in detail
    assert f"{expl.trace().means['f'][1]:.3f}" in detail  # forget-gate mean, layer 0 forward
    assert chromium_tab.cjk_font_loaded()  # Chinese drawn with the served font
    # A second sentence replaces the first.
    tab.fill("#text", "我不喜欢这个电影")
    tab.press("#text", "Enter")
    expect(tokens).to_have_count(len(explain(small_model, "我不喜欢这个电影")))
    tab.fill("#text", text)
    tab.click("#submit")
    expect(tokens).to_have_count(len(expl))
    tab.fill("#text", "   ")
    tab.click("#submit")
    expect(tab.locator("#error")).to_contain_text("empty text")
    expect(tab.locator("#result")).to_be_hidden()  # the earlier text's result read as this one's
    # The API's warning is shown (the page showed "positive 0.93" for emoji alone without it).
    tab.fill("#text", "😀😀👍")
    tab.click("#submit")
    expect(tab.locator("#note")).to_contain_text("warning: no known words")
    # Over the limit: said, not cut by maxlength without a word; nothing sent.
    sent = sum("/v1/explain" in u for u in chromium_tab.requests)
    tab.fill("#text", "好" * (MAX_TEXT_CHARS + 1))
    tab.click("#submit")
    expect(tab.locator("#error")).to_contain_text(f"{MAX_TEXT_CHARS + 1} characters, over the {MAX_TEXT_CHARS}")
    assert sum("/v1/explain" in u for u in chromium_tab.requests) == sent
    # Enter again while a request runs sends nothing: the answer that came last was drawn beside the other text.
    tab.fill("#text", text)
    tab.evaluate("() => { const form = document.getElementById('form'); form.requestSubmit(); form.requestSubmit(); }")
    expect(tab.locator("#error")).to_have_text("")
    expect(tab.locator("#submit")).to_be_enabled()  # the answer is drawn
    assert sum("/v1/explain" in u for u in chromium_tab.requests) == sent + 1
    assert "model: small-zh" in tab.inner_text("#probs")
    # The layer and direction chosen stay chosen for the next text (they went back to layer 0 / forward).
    tab.select_option("#trace", "0/1")
    tab.fill("#text", "我不喜欢这个电影")
    tab.click("#submit")
    expect(tokens).to_have_count(len(explain(small_model, "我不喜欢这个电影")))
    assert tab.input_value("#trace") == "0/1"
    assert tokens.nth(0).get_attribute("aria-label") == "t=1: 我"  # read aloud as "我1" before
    # On a phone the page scrolls only up and down: the running chart and the gate table scroll in their boxes.
    tab.set_viewport_size({"width": 375, "height": 667})
    tab.fill("#text", "剧情拖沓，演员演技也很差，浪费时间，但是配乐和摄影都不错，总体来说还可以看一看吧")
    tab.click("#submit")
    expect(tab.locator("#submit")).to_be_enabled()
    tokens.nth(1).hover()
    assert tab.evaluate("document.documentElement.scrollWidth") <= 375
    tab.set_viewport_size({"width": 1280, "height": 900})
    tab.fill("#text", text)
    tab.click("#submit")
    expect(tokens).to_have_count(len(expl))
    tokens.nth(len(expl) - 1).hover()
    chromium_tab.screenshot("serve-page.png")
    # The empty text's 422 is logged by Chromium as a failed resource load; nothing else may be.
    assert [e for e in chromium_tab.errors if "422" not in e] == [], chromium_tab.errors
    assert [u for u in chromium_tab.requests if not u.startswith(server.url + "/") and not u.startswith("data:")] == []


def test_page_says_it_is_working_gives_up_on_a_silent_server_and_wraps_a_long_word(server, chromium_tab):
    from playwright.sync_api import expect

    tab = chromium_tab.page
    tab.clock.install()  # setTimeout under the test's hand: the page's 60 s wait passes at once
    tab.goto(server.url + "/", wait_until="load")
    # It said "(max_tokens words)" as written: the served model's own number.
    expect(tab.locator("#limit")).to_have_text("up to 10,000 characters; of a text over the model's 256 words, the first and last halves are read, as predict reads it")
    tab.fill("#text", "我喜欢这个电影")
    tab.click("#submit")
    expect(tab.locator("#submit")).to_be_enabled()
    expect(tab.locator("#busy")).to_be_hidden()
    # A request the server does not answer: the earlier result stayed as it was, nothing said a new one was
    # on its way, and the button stayed disabled for good.
    held = []
    tab.route("**/v1/explain", lambda route: held.append(route))
    tab.fill("#text", "我不喜欢这个电影")
    tab.click("#submit")
    expect(tab.locator("#busy")).to_have_text("working…")
    expect(tab.locator("#result")).to_have_class("stale")
    assert len(held) == 1 and tab.locator("#submit").is_disabled()
    tab.clock.fast_forward("01:01")
    expect(tab.locator("#error")).to_have_text("error: the server did not answer in 60 s")
    expect(tab.locator("#busy")).to_be_hidden()
    expect(tab.locator("#result")).to_be_hidden()
    expect(tab.locator("#submit")).to_be_enabled()
    tab.unroute("**/v1/explain")
    # One word wider than a phone made the whole page scroll sideways (523 px of 375).
    tab.set_viewport_size({"width": 375, "height": 667})
    tab.fill("#text", "s" + "o" * 60 + " good")
    tab.click("#submit")
    expect(tab.locator("#result")).to_be_visible()
    expect(tab.locator("#result")).not_to_have_class("stale")
    assert tab.evaluate("document.documentElement.scrollWidth") <= 375
    assert [e for e in chromium_tab.errors if "net::ERR" not in e] == [], chromium_tab.errors


def test_large_answers_are_gzipped_for_a_client_that_asks(server):
    # An explain answer with units ran to megabytes, sent uncompressed to every client.
    with client(server) as http:
        packed = http.post("/v1/explain", json={"text": LONG_ZH[:2000]}, headers={"Accept-Encoding": "gzip"})
        plain = http.post("/v1/explain", json={"text": LONG_ZH[:2000]}, headers={"Accept-Encoding": "identity"})
        small = http.post("/v1/predict", json={"texts": ["好"]}, headers={"Accept-Encoding": "gzip"})
    assert packed.headers["content-encoding"] == "gzip" and "content-encoding" not in plain.headers
    assert packed.json() == plain.json() and packed.num_bytes_downloaded < len(plain.content) / 2
    assert "content-encoding" not in small.headers  # below GZIP_MIN_BYTES: not worth a header
    assert len(small.content) < GZIP_MIN_BYTES
    # Not the font: gzip took 13 % off its 8.3 MB on the event loop, and HEAD told another length than GET.
    with client(server) as http:
        font = http.get("/assets/cjk-font.otf", headers={"Accept-Encoding": "gzip"})
    assert font.status_code == 200 and "content-encoding" not in font.headers and int(font.headers["content-length"]) == len(font.content)


def test_a_long_unknown_path_is_named_cut(server):
    # A 100 KB path came back whole in the 404's message.
    path = "/v1/" + "x" * 5000
    with client(server) as http:
        error = assert_error(http.get(path), 404, "not_found")
    assert error["message"] == f"no route {path[:200]}…; see /openapi.json"


def test_only_other_machines_addresses_are_warned_of():
    # 127.0.0.2 (loopback) was warned of as reachable by other machines.
    from lstm_sentiment.serve.run import _loopback

    assert all(map(_loopback, ["127.0.0.1", "127.0.0.2", "::1", "localhost"]))
    assert not any(map(_loopback, ["0.0.0.0", "::", "192.168.1.5", "example.com", ""]))


def test_a_bundle_given_as_dot_is_named_by_its_folder(small_bundle, tmp_path, monkeypatch):
    # `--model .` inside a bundle: the page said "model: " with nothing after it, the API named it ".".
    from starlette.testclient import TestClient

    from lstm_sentiment.explain.html import write_html

    monkeypatch.chdir(small_bundle[0])
    model = SentimentModel.load(".")
    assert model.name == small_bundle[0].name
    write_html(tmp_path / "page.html", explain(model, "这部电影很好看"))
    assert f"· model: {small_bundle[0].name}</div>" in (tmp_path / "page.html").read_text(encoding="utf-8")
    with TestClient(create_app(".", warm_up=False)) as http:
        card = http.get("/v1/model").json()["models"][0]
        answer = http.post("/v1/explain", json={"text": "这部电影很好看", "units": False}).json()
    assert card["name"] == answer["model"] == small_bundle[0].name
    # A link keeps the name it is served by (a deployment's "current" pointing at a release's bundle).
    (tmp_path / "current").symlink_to(small_bundle[0], target_is_directory=True)
    assert SentimentModel.load(str(tmp_path / "current")).name == "current"
