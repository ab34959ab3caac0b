"""Tokens/s of bare torch.nn.LSTM, our fused path and our explicit path, measured in one run.

Usage: python bench/core_lstm.py [--repeats 20]
Shapes follow the core issue: N=64, L=64, H_in=128, H=128, one layer, float32, CPU threads as set.
"""

from __future__ import annotations

import argparse
import time

import torch
from torch import nn

from lstm_sentiment.core import LSTM
from lstm_sentiment.errors import run_script

N, L, H_IN, H = 64, 64, 128, 128


def tokens_per_second(run, repeats: int) -> float:
    run()  # warm-up: allocator and oneDNN primitive caches
    start = time.perf_counter()
    for _ in range(repeats):
        run()
    return N * L * repeats / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20, help="timed calls per figure (default 20)")
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error(f"--repeats must be at least 1, got {args.repeats}")  # 0 divided by zero, -1 printed negative rates
    torch.manual_seed(0)
    ours = LSTM(H_IN, H)
    bare = nn.LSTM(H_IN, H, batch_first=True)
    bare.load_state_dict(ours.state_dict())
    x = torch.randn(N, L, H_IN)
    lengths = torch.full((N,), L)

    def forward(module, **kw):
        def run():
            with torch.no_grad():
                module(x, **kw)
        return run

    def train_step(module, **kw):
        def run():
            module.zero_grad()
            out, _ = module(x, **kw)
            out.sum().backward()
        return run

    rows = []
    for label, make in (("forward", forward), ("forward+backward", train_step)):
        bare_tps = tokens_per_second(make(bare), args.repeats)
        rows.append((label, "torch.nn.LSTM (bare)", bare_tps, 1.0))
        for impl in ("fused", "explicit"):
            ours.impl = impl
            tps = tokens_per_second(make(ours, lengths=lengths), args.repeats)
            rows.append((label, f"lstm_sentiment LSTM impl={impl}", tps, tps / bare_tps))
    print(f"N={N} L={L} H_in={H_IN} H={H} threads={torch.get_num_threads()} torch={torch.__version__}")
    print("| pass | implementation | tokens/s | ratio to bare |\n|---|---|---:|---:|")
    for label, name, tps, ratio in rows:
        print(f"| {label} | {name} | {tps:,.0f} | {ratio:.2f} |")


if __name__ == "__main__":
    run_script(main)
