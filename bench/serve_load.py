"""Load on ``lstm-sentiment serve``: throughput and p50/p99 latency with 4 clients, bounded in count and time.

Usage: python bench/serve_load.py [--model DIR|zh|en] [--url http://127.0.0.1:PORT] [--clients 4]
                                  [--requests 2000] [--duration 30] [--workers 1] [--scenario both|single|batch]
                                  [--no-write]

Starts ``python -m lstm_sentiment serve --model M --no-access-log`` on a free 127.0.0.1 port (or targets
``--url``, which must be a loopback address), then runs two scenarios one after the other:

- single: ``POST /v1/predict`` with one short text (7 to 9 characters);
- batch32: ``POST /v1/predict`` with 32 review texts from zh-reviews' test split.

Each scenario sends 20 untimed warm-up requests, then ``--requests`` requests from ``--clients`` threads,
each with its own keep-alive connection, stopping early at ``--duration`` seconds. A request counts as
failed on any status but 200 or any connection error. Prints requests/s, texts/s, p50, p90, p99 and the
maximum latency, and the server's CPU time (user + system) per request when it was started here, and appends
a dated table to the "## Serve" section of BENCHMARKS.md (``--no-write``: only print). The load average is
printed with the figures: on a machine shared with other jobs the latency tail grows with their load, while
the CPU time per request stays close to what the work costs. The clients run on the same cores.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[1]
LOOPBACK = ("127.0.0.1", "localhost", "::1")
SHORT_TEXTS = ["我喜欢这个电影", "我不喜欢这个电影", "物流很快，质量不错", "太差了，浪费时间"]
WARM_UP = 20
SECTION = "## Serve"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(model: str, workers: int) -> tuple[subprocess.Popen, str]:
    """The server in its own process group (one thread per worker, as ``serve`` sets), ready on /healthz."""
    port = free_port()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    # Kept for the message of a server that does not start (--model naming no bundle).
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(
        [sys.executable, "-m", "lstm_sentiment", "serve", "--model", model, "--port", str(port), "--workers", str(workers),
         "--no-access-log"],
        stdout=subprocess.DEVNULL, stderr=log, env=env, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            said = [line for line in log.read().decode("utf-8", "replace").splitlines() if line.strip()]
            raise SystemExit(f"server exited with {process.returncode}" + (f": {said[-1].strip()}" if said else ""))
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                time.sleep(2 * workers)  # /healthz answers with the first worker; let the others load
                log.close()  # the server keeps writing to its own copy of the descriptor
                return process, url
        except OSError:
            time.sleep(0.2)
    stop_server(process)
    raise SystemExit("server not up after 120 s")


def stop_server(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


def process_cpu_seconds(pid: int | None) -> float:
    """User + system CPU seconds of a process and its live children (Linux /proc; the workers of --workers N)."""
    if pid is None:
        return float("nan")
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(c) for c in children.read_text().split()]
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def run_scenario(url: str, bodies: list[bytes], clients: int, requests: int, duration: float, server_pid: int | None = None) -> dict:
    """Send ``requests`` POST /v1/predict (cycling through ``bodies``) from ``clients`` threads, at most ``duration`` s.

    ``server_pid``: the server started here, whose CPU time per request is reported (NaN otherwise).
    """
    parts = urlsplit(url)
    lock = threading.Lock()
    issued = 0
    latencies: list[float] = []
    failures: list[str] = []

    def next_index() -> int | None:
        nonlocal issued
        with lock:
            if issued >= requests or time.perf_counter() > deadline:
                return None
            issued += 1
            return issued - 1

    def client() -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        while (index := next_index()) is not None:
            body = bodies[index % len(bodies)]
            start = time.perf_counter()
            try:
                conn.request("POST", "/v1/predict", body=body, headers={"Content-Type": "application/json"})
                response = conn.getresponse()
                response.read()
                elapsed = time.perf_counter() - start
                with lock:
                    if response.status == 200:
                        latencies.append(elapsed)
                    else:
                        failures.append(f"HTTP {response.status}")
            except OSError as err:
                with lock:
                    failures.append(f"{type(err).__name__}: {err}")
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        conn.close()

    # Warm-up, untimed: the first requests of a fresh connection and of each text length.
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    for j in range(WARM_UP):
        conn.request("POST", "/v1/predict", body=bodies[j % len(bodies)], headers={"Content-Type": "application/json"})
        conn.getresponse().read()
    conn.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    cpu_before = process_cpu_seconds(server_pid)
    start = time.perf_counter()
    deadline = start + duration
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    server_cpu = process_cpu_seconds(server_pid) - cpu_before
    ms = sorted(1000 * x for x in latencies)
    # One latency is every percentile; none (every request failed) gives none.
    cuts = statistics.quantiles(ms, n=100, method="inclusive") if len(ms) > 1 else (ms or [float("nan")]) * 99
    return {
        "requests": len(ms) + len(failures),
        "failed": len(failures),
        "failures": sorted(set(failures))[:5],
        "seconds": wall,
        "rps": len(ms) / wall,
        "p50": cuts[49],
        "p90": cuts[89],
        "p99": cuts[98],
        "max": ms[-1] if ms else float("nan"),
        "cpu_ms": 1000 * server_cpu / max(1, len(ms) + len(failures)),
    }


def _ms(value: float, digits: int) -> str:
    """A figure of the table, "–" where none was measured (NaN)."""
    return "–" if math.isnan(value) else f"{value:.{digits}f}"


def batch_texts(size: int) -> list[str]:
    from lstm_sentiment.data.corpus import load_zh_reviews

    test = load_zh_reviews()[2]
    return list(test.texts[:size])


def model_line(url: str) -> tuple[str, dict]:
    """The served models and versions in one line, and ``/v1/model``'s limits; a server that cannot be
    reached stops the run with one line (it was a ConnectionRefusedError's traceback)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request("GET", "/v1/model")
        info = json.loads(conn.getresponse().read())
        info["limits"]["max_texts"]
    except OSError as err:
        raise SystemExit(f"cannot reach a server at {url}: {err.strerror or err}") from None
    except (ValueError, KeyError, TypeError):  # another server answers: not JSON, or JSON of another shape
        raise SystemExit(f"{url} is no lstm-sentiment server: its /v1/model is not that of `lstm-sentiment serve`") from None
    described = []
    for card in info["models"]:
        arch = card["architecture"] or {}
        described.append(f"{card['name']} (H={arch.get('hidden_size')}, layers={arch.get('num_layers')}, "
                         f"bidirectional={arch.get('bidirectional')})")
    versions = info["server_versions"]
    return f"{', '.join(described)}; torch {versions['torch']}, fastapi {versions['fastapi']}, uvicorn {versions['uvicorn']}", info["limits"]


def write_benchmarks(path: Path, heading: str, rows: list[str]) -> None:
    """Append a dated table under "## Serve" (created, with the file, if missing); other sections stay as they
    are. Written atomically, as bench/run.py writes the same file."""
    from lstm_sentiment.atomic import write_text_atomic  # the client itself needs no package import

    block = "\n".join([heading, "", *rows, ""]) + "\n"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n\nMeasured figures, newest last in each section.\n"
    if SECTION not in text.splitlines():
        text = text.rstrip("\n") + f"\n\n{SECTION}\n\n`python bench/serve_load.py` (see its docstring): a server on 127.0.0.1, 4 clients.\n"
    lines = text.splitlines(keepends=True)
    start = lines.index(SECTION + "\n") if SECTION + "\n" in lines else len(lines) - 1
    end = next((j for j in range(start + 1, len(lines)) if lines[j].startswith("## ")), len(lines))
    before, after = "".join(lines[:end]).rstrip("\n") + "\n\n", "".join(lines[end:])
    write_text_atomic(path, before + block + ("\n" + after if after else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="zh", help="bundle directory or shipped model name for the server started here (default zh)")
    parser.add_argument("--url", help="target a running server instead (127.0.0.1 only)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients (default 4)")
    parser.add_argument("--requests", type=int, default=2000, help="timed requests per scenario (default 2000)")
    parser.add_argument("--duration", type=float, default=30.0, help="most seconds per scenario (default 30)")
    parser.add_argument("--workers", type=int, default=1, help="server worker processes (default 1)")
    parser.add_argument("--batch", type=int, default=32, help="texts per request in the batch scenario (default 32)")
    parser.add_argument("--scenario", choices=("both", "single", "batch"), default="both", help="which scenarios to run (default both)")
    parser.add_argument("--no-write", action="store_true", help="print only; do not append to BENCHMARKS.md")
    args = parser.parse_args()
    if not (1 <= args.clients <= 16 and 1 <= args.requests <= 20000 and 0 < args.duration <= 300):
        parser.error(f"bounded load only: clients 1-16, requests 1-20000, duration up to 300 s (got {args.clients}, {args.requests}, {args.duration:g} s)")
    if args.batch < 1:
        parser.error(f"--batch must be at least 1, got {args.batch}")
    if args.url and urlsplit(args.url).hostname not in LOOPBACK:
        raise SystemExit(f"--url must be a loopback address ({', '.join(LOOPBACK)}), got {args.url}")

    process = None
    url = args.url
    if url is None:
        process, url = start_server(args.model, args.workers)
    pid = process.pid if process is not None else None
    try:
        described, limits = model_line(url)
        if args.scenario != "single" and args.batch > limits["max_texts"]:
            # Every request was refused (422 too_many_texts), then the run failed on an IndexError.
            raise SystemExit(f"--batch {args.batch}: the server takes at most {limits['max_texts']} texts a request")
        single = [json.dumps({"texts": [t]}, ensure_ascii=False).encode() for t in SHORT_TEXTS]
        texts = batch_texts(args.batch * 4)
        batches = [json.dumps({"texts": texts[k : k + args.batch]}, ensure_ascii=False).encode() for k in range(0, len(texts), args.batch)]
        load_before = os.getloadavg()[0]
        results = {}
        if args.scenario in ("both", "single"):
            results["single"] = run_scenario(url, single, args.clients, args.requests, args.duration, pid)
        if args.scenario in ("both", "batch"):
            results[f"batch{args.batch}"] = run_scenario(url, batches, args.clients, args.requests, args.duration, pid)
        load_after = os.getloadavg()[0]
    finally:
        if process is not None:
            stop_server(process)

    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    # A server started elsewhere (--url): its workers are unknown here, and its CPU time unread.
    server = f"{args.workers} worker(s)" if process is not None else f"the server at {url}"
    heading = (f"### {when}: {args.clients} clients, {server}, {os.cpu_count()} cores, "
               f"load average {load_before:.1f} → {load_after:.1f}")
    rows = [
        f"Model {described}; Python {platform.python_version()}.",
        "",
        "| scenario | requests | failed | seconds | requests/s | texts/s | p50 ms | p90 ms | p99 ms | max ms | server CPU ms/request |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in results.items():
        size = args.batch if name.startswith("batch") else 1
        rows.append(f"| {name} | {r['requests']} | {r['failed']} | {r['seconds']:.1f} | {r['rps']:.1f} | {r['rps'] * size:.0f} | "
                    f"{_ms(r['p50'], 1)} | {_ms(r['p90'], 1)} | {_ms(r['p99'], 1)} | {_ms(r['max'], 1)} | {_ms(r['cpu_ms'], 2)} |")
    print(heading)
    print("\n".join(rows))
    for name, r in results.items():
        if r["failures"]:
            print(f"{name}: failures {r['failures']}", file=sys.stderr)
    if not args.no_write:
        write_benchmarks(REPO / "BENCHMARKS.md", heading, rows)
        print(f"appended to {REPO / 'BENCHMARKS.md'}", file=sys.stderr)
    if any(r["failed"] for r in results.values()):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
