"""One run, on this machine, of every speed figure of lstm-sentiment against its anchors; writes BENCHMARKS.md.

Usage: python bench/run.py [--model DIR|zh] [--quick] [--out BENCHMARKS.md]

Measures, in one process tree and one run (ratios are taken between figures of the same run):
  - predict throughput, file → JSONL, on N zh-reviews sentences, end to end (reading, normalisation,
    segmentation, model, writing), against ``SnowNLP(text).sentiments`` on a sample of the same sentences;
  - a breakdown of it: segmentation, encoding, model forward, output writing, each in sentences/s;
  - training throughput (tokens/s) over a real epoch of zh-reviews' training split, against bare
    ``torch.nn.LSTM`` forward+backward on batches of the same shapes;
  - cold start of ``lstm-sentiment predict "我喜欢这个电影"`` in a new process, and of SnowNLP;
  - peak memory of ``predict --input FILE --output FILE`` over 200,000 lines (and over a quarter of that,
    to show whether it grows with the file);
  - explain time for a 50-token sentence.
Each timed figure is the median of ``--repeats`` runs. On a machine shared with other jobs the figures move
with their load: the load average is printed with the machine facts.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"
sys.path.insert(0, str(SRC))

import torch  # noqa: E402

from lstm_sentiment.atomic import check_output_file  # noqa: E402
from lstm_sentiment.data.corpus import load_zh_reviews  # noqa: E402
from lstm_sentiment.data.files import iter_texts  # noqa: E402
from lstm_sentiment.errors import run_script  # noqa: E402
from lstm_sentiment.output import write_records  # noqa: E402
from lstm_sentiment.explain import explain  # noqa: E402
from lstm_sentiment.inference.batches import length_batches, pad_batch  # noqa: E402
from lstm_sentiment.inference.model import PRECISIONS, PREDICT_BATCH, PREDICT_BATCH_TOKENS, SentimentModel, default_model_path  # noqa: E402
from lstm_sentiment.inference.pool import PredictPool, available_cores  # noqa: E402
from lstm_sentiment.inference.routing import ModelRef  # noqa: E402
from lstm_sentiment.inference.stream import predict_file  # noqa: E402
from lstm_sentiment.text.tokenize import warm_up  # noqa: E402

COLD_TEXT = "我喜欢这个电影"
TARGETS = {
    "predict": 50.0,  # × SnowNLP
    "train": 0.8,  # × bare torch.nn.LSTM
    "cold_s": 2.5,
    "rss_mb": 600.0,
    "explain_ms": 100.0,
}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def median_time(run, repeats: int, warmup: bool = False) -> float:
    """Median wall seconds of ``run()`` over ``repeats`` calls."""
    if warmup:
        run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def corpus_texts() -> list[str]:
    """All zh-reviews texts: train, then validation, then test."""
    train, valid, test = load_zh_reviews()
    return train.texts + valid.texts + test.texts


def child_env() -> dict:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), *filter(None, [os.environ.get("PYTHONPATH")])])}


# --- predict throughput -------------------------------------------------------------------------


def bench_predict(model_arg: str, texts: list[str], repeats: int, work: Path) -> dict:
    """Sentences/s of predict_file on ``texts``, per configuration of the command line."""
    source = work / "predict-in.txt"
    source.write_text("\n".join(texts) + "\n", encoding="utf-8")
    out = work / "predict-out.jsonl"
    warm_up()
    cores = available_cores()
    rows = {}

    def measure(name: str, **kwargs) -> None:
        # threads=1 as the command line runs the model in its own process.
        seconds = median_time(lambda: predict_file(iter_texts(source), out, "jsonl", model_arg, threads=1, **kwargs), repeats, warmup=True)
        rows[name] = len(texts) / seconds
        log(f"predict {name}: {rows[name]:,.0f} sentences/s")
        lines = sum(1 for _ in out.open(encoding="utf-8"))
        assert lines == len(texts), (lines, len(texts))

    for precision in PRECISIONS:
        model = SentimentModel.load(model_arg, precision=precision)
        flag = "" if precision == "float32" else " `--precision bfloat16`"
        seconds = median_time(lambda: predict_file(iter_texts(source), out, "jsonl", model, threads=1, precision=precision), repeats, warmup=True)
        rows[f"1 process, {precision}{flag}"] = len(texts) / seconds
        log(f"predict 1 process {precision}: {len(texts) / seconds:,.0f} sentences/s")
        # Workers started and their model loaded beforehand: the steady state of a long file.
        with PredictPool(cores, [ModelRef(model_arg, precision)]) as pool:
            measure(f"{cores} worker processes, {precision} (`--workers {cores}`{flag}), warm", precision=precision, pool=pool)
    # As the command runs it: pool start, torch import and model load in each worker included.
    measure(f"{cores} worker processes, bfloat16, as the command runs it (start and model load included)", precision="bfloat16", workers=cores)
    return rows


def bench_snownlp(texts: list[str]) -> tuple[float, float]:
    """SnowNLP sentences/s on ``texts`` and its import + first-call seconds."""
    start = time.perf_counter()
    from snownlp import SnowNLP

    SnowNLP("预热").sentiments
    setup = time.perf_counter() - start
    start = time.perf_counter()
    for text in texts:
        SnowNLP(text).sentiments
    rate = len(texts) / (time.perf_counter() - start)
    log(f"snownlp: {rate:,.1f} sentences/s on {len(texts)}")
    return rate, setup


# --- breakdown ----------------------------------------------------------------------------------


def bench_breakdown(model: SentimentModel, texts: list[str], repeats: int, work: Path) -> list[tuple[str, float, str]]:
    from lstm_sentiment.text import normalize as normalize_module
    from lstm_sentiment.text.normalize import normalize

    tokenizer = model.tokenizer
    n = len(texts)
    rows = []
    seg = median_time(lambda: [tokenizer(t) for t in texts], repeats)
    rows.append(("segmentation (normalise + jieba-rs/jieba), 1 process", n / seg, "Tokenizer per text"))
    # The same with jieba alone for every block, as before jieba-rs: the effect of that change.
    from lstm_sentiment.text import tokenize as tokenize_module

    tokenize_module._rjieba.cache_clear()
    saved_rjieba = tokenize_module._rjieba
    tokenize_module._rjieba = lambda: None
    try:
        seg_jieba = median_time(lambda: [tokenizer(t) for t in texts], repeats)
    finally:
        tokenize_module._rjieba = saved_rjieba
    rows.append(("  same with jieba alone (before)", n / seg_jieba, "jieba 0.42.1 for every block"))
    norm = median_time(lambda: [normalize(t) for t in texts], repeats)
    rows.append(("  of which normalisation (NFKC, HTML, t2s when needed)", n / norm, ""))
    # The same normalisation converting every Han text, as before the t2s check: the effect of that change.
    saved = normalize_module.t2s_chars
    normalize_module.t2s_chars = lambda: None
    try:
        norm_all = median_time(lambda: [normalize(t) for t in texts[: max(1, n // 5)]], repeats)
    finally:
        normalize_module.t2s_chars = saved
    rows.append(("  normalisation converting every Han text (before)", max(1, n // 5) / norm_all, "on a fifth of the texts"))

    encoded = [tokenizer(t) for t in texts]

    def encode():
        id_lists = [model.token_ids(e.tokens) or [1] for e in encoded]
        batches = length_batches([len(x) for x in id_lists], PREDICT_BATCH, PREDICT_BATCH_TOKENS)
        return [pad_batch([id_lists[i] for i in b]) for b in batches]

    enc = median_time(encode, repeats)
    rows.append(("encoding (vocabulary ids, length-sorted padded batches)", n / enc, f"≤ {PREDICT_BATCH} texts and ≤ {PREDICT_BATCH_TOKENS:,} padded steps a batch"))
    batches = encode()
    padded = sum(int(ids.numel()) for ids, _ in batches)
    real = sum(int(lengths.sum()) for _, lengths in batches)
    device = model.device

    def forward(bfloat16: bool):
        with torch.inference_mode(), torch.autocast(device.type, dtype=torch.bfloat16, enabled=bfloat16):
            for ids, lengths in batches:
                torch.softmax(model.network(ids.to(device), lengths).float(), -1).cpu()

    fwd = median_time(lambda: forward(False), repeats, warmup=True)
    rows.append((f"model forward ({device.type}, float32)", n / fwd, f"padding {100 * (padded - real) / padded:.1f} % of steps; {real / fwd:,.0f} tokens/s"))
    fwd_bf16 = median_time(lambda: forward(True), repeats, warmup=True)
    rows.append((f"model forward ({device.type}, bfloat16 autocast)", n / fwd_bf16, f"{real / fwd_bf16:,.0f} tokens/s"))
    records = model.records(texts, encoded)
    out = work / "breakdown.jsonl"

    def write():
        with out.open("w", encoding="utf-8") as stream:
            write_records(records, "jsonl", stream)

    wr = median_time(write, repeats)
    rows.append(("output writing (records → JSONL file)", n / wr, ""))
    rec = median_time(lambda: model.records(texts, encoded), repeats)
    rows.append(("records (model forward + record dicts)", n / rec, "SentimentModel.records"))
    return rows


# --- training -----------------------------------------------------------------------------------


def bench_training(epochs: int, device: str) -> dict:
    """Tokens/s of our Lightning training epoch and of bare torch.nn.LSTM on batches of the same shapes."""
    import lightning as L
    from torch import nn

    from lstm_sentiment.config import ModelConfig, TrainConfig
    from lstm_sentiment.models.classifier import SentimentLSTM
    from lstm_sentiment.text.tokenize import Tokenizer
    from lstm_sentiment.text.vocab import Vocab
    from lstm_sentiment.training.batches import BucketBatchSampler, EncodedTexts, collate
    from lstm_sentiment.training.task import SentimentTask

    train, _, _ = load_zh_reviews()
    tokenizer = Tokenizer()
    tokens = [tokenizer(text).tokens for text in train.texts]
    vocab = Vocab.build(tokens, min_count=2)
    index = {"negative": 0, "positive": 1}
    keep = [i for i, t in enumerate(tokens) if t]
    ids = [vocab.encode(tokens[i]) for i in keep]
    labels = [index[train.labels[i]] for i in keep]
    model_cfg, train_cfg = ModelConfig(), TrainConfig()
    sampler = BucketBatchSampler([len(x) for x in ids], train_cfg.batch_size, shuffle=True, seed=0)
    total_tokens = sum(len(x) for x in ids)

    # Bare torch.nn.LSTM, forward + backward, on random batches of the same shapes (N, L_max, E).
    torch.manual_seed(0)
    bare = nn.LSTM(model_cfg.embedding_dim, model_cfg.hidden_size, batch_first=True, bidirectional=model_cfg.bidirectional).to(device)
    sampler.set_epoch(0)
    shapes = [(len(b), max(len(ids[i]) for i in b)) for b in sampler]
    inputs = [torch.randn(n, length, model_cfg.embedding_dim, device=device) for n, length in shapes]

    def bare_epoch(input_grad: bool = False):
        for x in inputs:
            bare.zero_grad()
            out, _ = bare(x.requires_grad_(input_grad))
            out.sum().backward()
        if device == "cuda":
            torch.cuda.synchronize()

    class EpochTimer(L.Callback):
        """Times each epoch (wall and CPU); after each, runs and times one bare epoch, so that the two
        alternate and a change in the machine's load hits both."""

        def __init__(self, interleave: bool):
            self.interleave = interleave
            self.ours, self.bare, self.bare_dx = [], [], []

        def on_train_epoch_start(self, trainer, module):
            self.start = (time.perf_counter(), time.process_time())

        def on_train_epoch_end(self, trainer, module):
            self.ours.append((time.perf_counter() - self.start[0], time.process_time() - self.start[1]))
            if self.interleave:
                start = (time.perf_counter(), time.process_time())
                bare_epoch()
                self.bare.append((time.perf_counter() - start[0], time.process_time() - start[1]))
                start = (time.perf_counter(), time.process_time())
                bare_epoch(input_grad=True)
                self.bare_dx.append((time.perf_counter() - start[0], time.process_time() - start[1]))

    def run(epochs_: int, packed: bool) -> EpochTimer:
        torch.manual_seed(0)
        network = SentimentLSTM(len(vocab), 2, model_cfg)
        if packed:  # the packed-sequence kernel, as before the padded path
            lstm_forward = network.lstm.forward
            network.lstm.forward = lambda x, lengths, return_trace=False, cell_state=False: lstm_forward(x, lengths, return_trace=return_trace)
        loader = torch.utils.data.DataLoader(EncodedTexts(ids, labels), batch_sampler=sampler, collate_fn=collate)
        timer = EpochTimer(interleave=not packed)
        trainer = L.Trainer(
            max_epochs=epochs_,
            accelerator="gpu" if device == "cuda" else "cpu",
            devices=1,
            gradient_clip_val=train_cfg.grad_clip,
            callbacks=[timer],
            logger=False,
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
            limit_val_batches=0,
            num_sanity_val_steps=0,
            deterministic=True,
        )
        trainer.fit(SentimentTask(network, 2, train_cfg), loader)
        return timer

    def rate(times, k):
        return total_tokens / statistics.median(t[k] for t in times)

    timer = run(epochs, packed=False)
    ours_tps, bare_tps = rate(timer.ours, 0), rate(timer.bare, 0)
    ours_cpu, bare_cpu = rate(timer.ours, 1), rate(timer.bare, 1)
    bare_dx = rate(timer.bare_dx, 0)
    log(f"training ours: {ours_tps:,.0f} tokens/s, bare {bare_tps:,.0f} tokens/s (CPU time: {ours_cpu:,.0f} vs {bare_cpu:,.0f})")
    packed_tps = rate(run(1, packed=True).ours, 0) if device == "cpu" else None
    if packed_tps:
        log(f"training ours, packed kernel: {packed_tps:,.0f} tokens/s")
    return {"ours": ours_tps, "packed": packed_tps, "bare": bare_tps, "ours_cpu": ours_cpu, "bare_cpu": bare_cpu, "bare_dx": bare_dx, "tokens": total_tokens, "batches": len(shapes), "epochs": epochs}


# --- cold start and memory ----------------------------------------------------------------------


def cold_start(args: list[str], repeats: int) -> float:
    def run():
        subprocess.run(args, env=child_env(), check=True, capture_output=True)

    return median_time(run, repeats, warmup=True)


def _children(pid: int) -> list[int]:
    kids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                kids.append(int(entry.name))
    return kids


def _memory_kb(pid: int) -> tuple[int, int]:
    """(RSS, PSS) in kB of one process, 0 if gone."""
    try:
        fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:])
        return int(fields["Rss"].split()[0]), int(fields["Pss"].split()[0])
    except (OSError, KeyError, ValueError):
        return 0, 0


def peak_memory(args: list[str]) -> dict:
    """Run a command, sampling the memory of it and its children every 50 ms."""
    proc = subprocess.Popen(args, env=child_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = {"rss_sum_kb": 0, "pss_sum_kb": 0, "parent_rss_kb": 0}
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            pids = [proc.pid, *_children(proc.pid)]
            mems = [_memory_kb(p) for p in pids]
            peak["rss_sum_kb"] = max(peak["rss_sum_kb"], sum(m[0] for m in mems))
            peak["pss_sum_kb"] = max(peak["pss_sum_kb"], sum(m[1] for m in mems))
            peak["parent_rss_kb"] = max(peak["parent_rss_kb"], mems[0][0])
            stop.wait(0.05)

    thread = threading.Thread(target=sample, daemon=True)
    start = time.perf_counter()
    thread.start()
    _, stderr = proc.communicate()
    peak["seconds"] = time.perf_counter() - start
    stop.set()
    thread.join()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed: {stderr.decode()[-500:]}")
    return peak


def bench_memory(model_arg: str, lines: int, work: Path) -> list[dict]:
    """Peak memory of the command over a quarter of ``lines`` and over ``lines``: its defaults, then with
    a worker per core in bfloat16 (the fastest configuration)."""
    texts = corpus_texts()
    results = []
    cores = available_cores()
    for n in (lines // 4, lines):
        source = work / f"rss-{n}.txt"
        with source.open("w", encoding="utf-8") as f:
            for i in range(n):
                f.write(texts[i % len(texts)] + "\n")
        out = work / f"rss-{n}.jsonl"
        for options in ([], ["--workers", str(cores), "--precision", "bfloat16"]):
            peak = peak_memory([sys.executable, "-m", "lstm_sentiment", "predict", "--model", model_arg, "--input", str(source), "--output", str(out), *options])
            peak["lines"], peak["options"] = n, " ".join(options) or "(defaults)"
            results.append(peak)
            log(f"memory {n:,} lines {peak['options']}: parent {peak['parent_rss_kb'] / 1024:.0f} MB, all {peak['rss_sum_kb'] / 1024:.0f} MB RSS / {peak['pss_sum_kb'] / 1024:.0f} MB PSS, {peak['seconds']:.0f} s")
        source.unlink()
        out.unlink()
    return results


# --- explain ------------------------------------------------------------------------------------


def bench_explain(model: SentimentModel, tokens: int, repeats: int) -> float | None:
    base = "这部电影的剧情很精彩，演员的表演也非常自然，但是结尾有点仓促，总体来说我还是很喜欢，推荐大家去看。"
    words = list(model.encode([base * (tokens // 10 + 1)])[0].tokens)[:tokens]
    text = " ".join(words)  # spaces keep the segmentation: jieba does not join across them
    got = len(model.encode([text])[0].tokens)
    if got != tokens:
        log(f"explain: could not build a {tokens}-token sentence (got {got})")
        return None
    ms = 1000 * median_time(lambda: explain(model, text), repeats, warmup=True)
    log(f"explain {tokens} tokens: {ms:.1f} ms")
    return ms


# --- report -------------------------------------------------------------------------------------


def machine_facts(model_arg: str, model: SentimentModel) -> list[str]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else platform.processor()
    versions = {n: metadata.version(n) for n in ("torch", "lightning", "jieba", "opencc-python-reimplemented", "snownlp")}
    cfg = model.config.get("model", {})
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none (no GPU was lent to this run; GPU rows are missing)"
    return [
        f"- CPU: {cpu}; {os.cpu_count()} cores, {available_cores()} usable; torch threads {torch.get_num_threads()}; OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}",
        f"- load average at start {os.getloadavg()[0]:.1f} (the machine is shared with other jobs: figures move with their load)",
        f"- GPU: {gpu}",
        f"- Python {platform.python_version()}; " + ", ".join(f"{k} {v}" for k, v in versions.items()),
        f"- model: `{model_arg}` (E={cfg.get('embedding_dim')}, H={cfg.get('hidden_size')}, layers={cfg.get('num_layers')}, bidirectional={cfg.get('bidirectional')}, pooling={cfg.get('pooling')})",
    ]


def verdict(ok: bool) -> str:
    return "met" if ok else "**not met**"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="zh", help="bundle directory or shipped model name (default zh)")
    parser.add_argument("--sentences", type=int, default=10_000, help="zh-reviews sentences for predict (default 10,000)")
    parser.add_argument("--snownlp-sample", type=int, default=500, help="of those, every k-th for SnowNLP, this many (default 500; 0 = all)")
    parser.add_argument("--rss-lines", type=int, default=200_000, help="lines of the memory run (default 200,000)")
    parser.add_argument("--epochs", type=int, default=3, help="timed training epochs, ours and bare (default 3)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per figure (default 3)")
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke run: 1,000 sentences, 100 for SnowNLP, 20,000 lines, 1 epoch, 1 repeat (in place of those options' values, given or not)")
    parser.add_argument("--out", type=Path, default=REPO / "BENCHMARKS.md", help="Markdown file to add the dated section to")
    args = parser.parse_args()
    check_output_file(args.out, "--out")  # before the minutes of work: an unwritable --out failed at the end
    if args.quick:
        args.sentences, args.snownlp_sample, args.rss_lines, args.epochs, args.repeats = 1_000, 100, 20_000, 1, 1
    model_arg = args.model
    if model_arg in ("zh", "en") and not Path(model_arg).exists() and not (default_model_path(model_arg) / "config.json").exists():
        raise SystemExit(f"the shipped {model_arg} model is not in this build; pass --model DIR")
    if not os.environ.get("OMP_NUM_THREADS"):
        torch.set_num_threads(1)  # as the command line runs; workers use the other cores
    started = datetime.now(timezone.utc)
    model = SentimentModel.load(model_arg)
    facts = machine_facts(model_arg, model)
    texts = corpus_texts()[: args.sentences]
    sample = texts if args.snownlp_sample in (0, len(texts)) else texts[:: max(1, len(texts) // args.snownlp_sample)][: args.snownlp_sample]

    with tempfile.TemporaryDirectory(prefix="lstm-sentiment-bench-") as tmp:
        work = Path(tmp)
        predict = bench_predict(model_arg, texts, args.repeats, work)
        snow_rate, snow_setup = bench_snownlp(sample)
        breakdown = bench_breakdown(model, texts, args.repeats, work)
        training = bench_training(args.epochs, "cpu")
        training_gpu = bench_training(args.epochs, "cuda") if torch.cuda.is_available() else None
        cold_ours = cold_start([sys.executable, "-m", "lstm_sentiment", "predict", "--model", model_arg, COLD_TEXT], args.repeats)
        cold_help = cold_start([sys.executable, "-m", "lstm_sentiment", "--help"], args.repeats)
        cold_snow = cold_start([sys.executable, "-c", f"from snownlp import SnowNLP; print(SnowNLP({COLD_TEXT!r}).sentiments)"], args.repeats)
        log(f"cold start: ours {cold_ours:.2f} s, --help {cold_help:.2f} s, snownlp {cold_snow:.2f} s")
        memory = bench_memory(model_arg, args.rss_lines, work)
        explain_ms = bench_explain(model, 50, max(5, args.repeats))

    best_name = max(predict, key=predict.get)
    best_predict = predict[best_name]
    small, small_workers, large, large_workers = memory
    rss_mb = large["rss_sum_kb"] / 1024
    rss_workers_mb = large_workers["pss_sum_kb"] / 1024
    lines = [
        f"### {started:%Y-%m-%d %H:%M} UTC",
        "",
        f"`python bench/run.py{' --quick' if args.quick else ''} --model {model_arg}`, finished in {(datetime.now(timezone.utc) - started).total_seconds() / 60:.1f} min; each time is the median of {args.repeats} runs.",
        "",
        *facts,
        "",
        "#### Targets",
        "",
        "| target | measured | goal | |",
        "|---|---:|---:|---|",
        f"| predict throughput vs SnowNLP ({best_name}) | {best_predict / snow_rate:,.1f} × | ≥ {TARGETS['predict']:.0f} × | {verdict(best_predict / snow_rate >= TARGETS['predict'])} |",
        f"| training tokens/s vs bare `torch.nn.LSTM` | {training['ours'] / training['bare']:.2f} × | ≥ {TARGETS['train']} × | {verdict(training['ours'] / training['bare'] >= TARGETS['train'])} |",
        f"| cold start `predict \"{COLD_TEXT}\"` | {cold_ours:.2f} s | ≤ {TARGETS['cold_s']} s | {verdict(cold_ours <= TARGETS['cold_s'])} |",
        f"| peak memory, predict over {large['lines']:,} lines (defaults, RSS) | {rss_mb:,.0f} MB | ≤ {TARGETS['rss_mb']:.0f} MB | {verdict(rss_mb <= TARGETS['rss_mb'])} |",
        f"| same, `{large_workers['options']}` (PSS of all processes) | {rss_workers_mb:,.0f} MB | ≤ {TARGETS['rss_mb']:.0f} MB | {verdict(rss_workers_mb <= TARGETS['rss_mb'])} |",
        f"| memory growth {small['lines']:,} → {large['lines']:,} lines (defaults; with workers) | {large['rss_sum_kb'] / max(small['rss_sum_kb'], 1):.2f} ×; {large_workers['pss_sum_kb'] / max(small_workers['pss_sum_kb'], 1):.2f} × | flat | {verdict(large['rss_sum_kb'] <= 1.15 * small['rss_sum_kb'] and large_workers['pss_sum_kb'] <= 1.15 * small_workers['pss_sum_kb'])} |",
        f"| explain, 50 tokens | {'not available in this build' if explain_ms is None else f'{explain_ms:.0f} ms'} | ≤ {TARGETS['explain_ms']:.0f} ms | {'—' if explain_ms is None else verdict(explain_ms <= TARGETS['explain_ms'])} |",
        "",
        f"#### Predict, file → JSONL, {len(texts):,} zh-reviews sentences, end to end",
        "",
        "| what | sentences/s | vs SnowNLP |",
        "|---|---:|---:|",
        *[f"| lstm-sentiment, {name} | {rate:,.0f} | {rate / snow_rate:,.0f} × |" for name, rate in predict.items()],
        f"| `SnowNLP(text).sentiments`, {len(sample):,} of the same sentences (every {max(1, len(texts) // max(1, len(sample)))}th) | {snow_rate:,.1f} | 1 × |",
        "",
        "`predict_file` in this process (the function behind `predict --input … --output …`), model loaded and dictionaries warm unless said; the input file is read and the JSONL file written each time. One torch thread per process.",
        "",
        "#### Breakdown (same sentences, one process unless said)",
        "",
        "| stage | sentences/s | note |",
        "|---|---:|---|",
        *[f"| {name} | {rate:,.0f} | {note} |" for name, rate, note in breakdown],
        "",
        "#### Training, one epoch of zh-reviews train",
        "",
        f"{training['tokens']:,} tokens in {training['batches']} length-bucketed batches of 64; default model (the LSTM's input needs gradients, for the learned `<unk>` vector, which bare runs do not compute); Lightning, AdamW, gradient clipping; median of {training['epochs']} epochs, each of ours followed by one bare epoch of each kind.",
        "",
        "| what | device | tokens/s | vs bare |",
        "|---|---|---:|---:|",
        f"| lstm-sentiment training epoch | cpu | {training['ours']:,.0f} | {training['ours'] / training['bare']:.2f} × |",
        f"| same, in CPU time of this process (less moved by other jobs) | cpu | {training['ours_cpu']:,.0f} | {training['ours_cpu'] / training['bare_cpu']:.2f} × |",
        *([f"| same, LSTM on packed sequences (before this change) | cpu | {training['packed']:,.0f} | {training['packed'] / training['bare']:.2f} × |"] if training["packed"] else []),
        f"| bare `torch.nn.LSTM` forward + backward, same shapes | cpu | {training['bare']:,.0f} | 1 × |",
        f"| same, in CPU time | cpu | {training['bare_cpu']:,.0f} | 1 × |",
        f"| bare, also computing the gradient of its input (as any LSTM after a trainable layer does) | cpu | {training['bare_dx']:,.0f} | {training['bare_dx'] / training['bare']:.2f} × (ours: {training['ours'] / training['bare_dx']:.2f} × this) |",
        *(
            [
                f"| lstm-sentiment training epoch | cuda | {training_gpu['ours']:,.0f} | {training_gpu['ours'] / training_gpu['bare']:.2f} × |",
                f"| bare `torch.nn.LSTM` (cuDNN) forward + backward | cuda | {training_gpu['bare']:,.0f} | 1 × |",
            ]
            if training_gpu
            else []
        ),
        "",
        "#### Cold start (new process, median wall time)",
        "",
        "| command | seconds |",
        "|---|---:|",
        f"| `lstm-sentiment predict --model {model_arg} \"{COLD_TEXT}\"` | {cold_ours:.2f} |",
        f"| `lstm-sentiment --help` | {cold_help:.2f} |",
        f"| `python -c \"from snownlp import SnowNLP; print(SnowNLP('{COLD_TEXT}').sentiments)\"` | {cold_snow:.2f} |",
        "",
        "#### Peak memory of `predict --input FILE --output FILE`",
        "",
        "| lines | options | seconds | main process RSS | all processes RSS (sum) | all processes PSS (sum) |",
        "|---:|---|---:|---:|---:|---:|",
        *[
            f"| {m['lines']:,} | {m['options']} | {m['seconds']:.0f} | {m['parent_rss_kb'] / 1024:,.0f} MB | {m['rss_sum_kb'] / 1024:,.0f} MB | {m['pss_sum_kb'] / 1024:,.0f} MB |"
            for m in memory
        ],
        "",
        "Sampled every 50 ms. With the defaults there is one process. RSS counts pages shared between processes (torch's libraries, mapped by every worker) once per process, PSS splits them among the processes that share them: with workers the target is read on the PSS sum, the memory the command takes from the machine.",
        "",
        "#### Explain",
        "",
        "explain: not available in this build" if explain_ms is None else f"`SentimentModel.explain` on a 50-token sentence: {explain_ms:.1f} ms (median of {max(5, args.repeats)}).",
        "",
    ]
    section = "\n".join(lines)
    print(section)
    write_benchmarks(args.out, section)
    log(f"wrote {args.out}")


SECTION = "## Data path: predict, training, start-up, memory, explain"
SECTION_INTRO = "`python bench/run.py` (see its docstring); one dated run per subsection, newest last."


def write_benchmarks(path: Path, run: str) -> None:
    """Append a dated run at the end of :data:`SECTION` (created, with the file, if missing); other
    sections stay as they are."""
    from lstm_sentiment.atomic import write_text_atomic

    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n\nMeasured figures, newest last in each section.\n"
    if SECTION not in text:
        text = text.rstrip("\n") + f"\n\n{SECTION}\n\n{SECTION_INTRO}\n"
    start = text.index(SECTION) + len(SECTION)
    following = text.find("\n## ", start)
    end = len(text) if following < 0 else following + 1
    body = text[:end].rstrip("\n") + "\n\n" + run.rstrip("\n") + "\n"
    write_text_atomic(path, body + ("\n" + text[end:] if end < len(text) else ""))


if __name__ == "__main__":
    run_script(main)
