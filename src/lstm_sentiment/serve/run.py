"""Start uvicorn on the app of :mod:`.app`: one process, or ``workers`` processes each with its own model."""

from __future__ import annotations

import copy
import ipaddress
import logging
import os
import signal
import socket
from pathlib import Path

import torch
import uvicorn
from uvicorn.supervisors import Multiprocess

from lstm_sentiment.errors import SentimentError
from lstm_sentiment.inference.model import DEFAULT_MODELS
from lstm_sentiment.logs import quiet_logging
from lstm_sentiment.serve.app import ServedModels, create_app

MODEL_ENV = "LSTM_SENTIMENT_SERVE_MODEL"  # how `serve --workers N` hands the model to its worker processes
# One intra-op thread per worker: requests already run in parallel in FastAPI's thread pool, and on a
# few cores two OpenMP threads per forward pass wait for each other (bench/serve_load.py measures it).
TORCH_THREADS = 1
# Seconds a shutdown waits for requests in flight; then their connections are closed. A client that sent
# half its body kept the server up for as long as it held the socket (a minute, or for ever).
GRACEFUL_SHUTDOWN_S = 10

log = logging.getLogger("lstm_sentiment.serve")


def _worker_setup() -> None:
    torch.set_num_threads(TORCH_THREADS)


def app_from_env():
    """uvicorn's factory in each worker process of ``serve --workers N``: the model named by ``$LSTM_SENTIMENT_SERVE_MODEL``."""
    # A worker is a fresh interpreter: without this, its warnings came out as Python's two-line form.
    quiet_logging()
    _worker_setup()
    return create_app(os.environ.get(MODEL_ENV) or None)


def check_bindable(host: str, port: int) -> None:
    """Fail fast, before the model loads, if ``host:port`` cannot be bound (in use, say).

    Raises:
        SentimentError: naming the address and the reason.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as err:
        raise SentimentError(f"cannot bind {host}:{port}: {err.strerror}") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(address)
        except OSError as err:
            raise SentimentError(f"cannot bind {host}:{port}: {err.strerror}") from None


def _loopback(host: str) -> bool:
    """Whether ``host`` answers this machine only: "localhost" or a loopback address (127.0.0.0/8, ::1;
    127.0.0.2 was warned of as open to other machines)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(
    model: str | Path | None = None,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    access_log: bool = True,
) -> None:
    """Serve the API and the page until interrupted (Ctrl-C).

    Args:
        model: bundle directory or shipped name ("zh", "en"); None: the shipped zh and en models, chosen
            per text by script as ``predict`` does.
        host: address to bind; the default answers this machine only.
        port: TCP port (1–65535).
        workers: processes, each loading the model once.
        access_log: one line per request on stderr, as uvicorn's other logs.
    Raises:
        SentimentError: the address cannot be bound, or a missing or broken bundle.
        ValueError: workers < 1 or a port out of range.
    """
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if not 1 <= port <= 65535:
        raise ValueError(f"port must be 1 to 65535, got {port}")
    check_bindable(host, port)
    if not _loopback(host):
        shown = f"[{host}]" if ":" in host else host  # "serving on :::" for IPv6's any-address
        log.warning("warning: serving on %s: other machines can reach it, and the API has no authentication", shown)
    _worker_setup()
    if workers == 1:
        app = create_app(model)
        _run(uvicorn, app, host=host, port=port, access_log=access_log, log_level="info", timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S)
        return
    # Each worker is a fresh process that builds the app from an import string; check the model here
    # first so that a bad path is one error line, not one traceback per worker.
    # A shipped name stays one, and a bundle goes as its absolute path: "zh" became ./zh where such a folder
    # was (one worker serves the shipped model then), and Path("zh") the shipped model.
    spec = "" if model is None else model if isinstance(model, str) and model in DEFAULT_MODELS else str(Path(model).resolve())
    ServedModels(spec or None)
    os.environ[MODEL_ENV] = spec
    _run_workers("lstm_sentiment.serve.run:app_from_env", factory=True, host=host, port=port, workers=workers,
                 access_log=access_log, log_level="info", timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S)


def _log_config() -> dict:
    """uvicorn's logging settings with the access lines on stderr, beside its other logs: stdout is for
    data, as in every command."""
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config["handlers"]["access"]["stream"] = "ext://sys.stderr"
    return config


def _run(uvicorn, app, **options) -> None:
    # uvicorn stops gracefully on SIGTERM and SIGINT, then raises the signal again for the handler it
    # found: the default one ends the process by that signal, quietly, as a service manager expects,
    # where the CLI's handlers would add "error: terminated" after a clean shutdown.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, signal.SIG_DFL)
    try:
        uvicorn.run(app, log_config=_log_config(), **options)
    except SystemExit as stop:
        # uvicorn exits 3 when it cannot start (it has logged why); the CLI's failures exit 1.
        if stop.code == 3:
            raise SentimentError(f"the server did not start on {options['host']}:{options['port']} (see above)") from None
        raise


class _Supervisor(Multiprocess):
    """uvicorn's supervisor of worker processes, which notes the signal that stopped it: it returns from
    ``run`` as if nothing had happened, so the process exited 0 after SIGTERM or Ctrl-C."""

    stopped_by: signal.Signals | None = None

    def handle_int(self) -> None:
        self.stopped_by = signal.SIGINT
        super().handle_int()
        self._stop_listening()

    def handle_term(self) -> None:
        self.stopped_by = signal.SIGTERM
        super().handle_term()
        self._stop_listening()

    def _stop_listening(self) -> None:
        # The workers close their copies of the listening socket as their shutdown starts; this process kept
        # its own open, and a new connection waited in the backlog until the client timed out, where one
        # refused at once tells a load balancer to go elsewhere.
        for sock in self.sockets:
            sock.close()


def _run_workers(app: str, **options) -> None:
    # uvicorn.run's path for workers > 1, with the supervisor above; the workers shut down gracefully
    # first, then this process ends by the signal, as one process does (see _run).
    config = uvicorn.Config(app, log_config=_log_config(), **options)
    supervisor = _Supervisor(config, sockets=[config.bind_socket()])
    supervisor.run()
    if supervisor.stopped_by is None:
        # The supervisor stops unasked only when a worker fails before it serves (it has logged why).
        raise SentimentError(f"the server's workers did not start on {options['host']}:{options['port']} (see above)")
    signal.signal(supervisor.stopped_by, signal.SIG_DFL)
    signal.raise_signal(supervisor.stopped_by)
