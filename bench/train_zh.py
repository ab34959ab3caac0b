"""Wall time of training the zh model from scratch on zh-reviews with the default settings.

Usage: python bench/train_zh.py [--out /tmp/bench-zh]
Prints the total wall time (tokenizing, Lightning epochs, evaluation, temperature and bundle together), the
epochs (counted from 0, as the CLI counts them) and test accuracy.
The issue's target: under 5 minutes on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from lstm_sentiment.errors import run_script


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/bench-zh"), help="bundle directory to write")
    args = parser.parse_args()
    from lstm_sentiment.config import DataConfig, ModelConfig, TrainConfig
    from lstm_sentiment.data.corpus import load_zh_reviews
    from lstm_sentiment.training.train import train

    start = time.perf_counter()
    splits = load_zh_reviews()
    metrics = train(*splits, args.out, ModelConfig(), DataConfig(), TrainConfig())
    total = time.perf_counter() - start
    print(f"threads={torch.get_num_threads()} torch={torch.__version__}")
    print(f"epochs run: {metrics['epochs_run']}, best epoch {metrics['best_epoch']}")
    print(f"test accuracy {metrics['test']['accuracy']:.4f}, macro-F1 {metrics['test']['macro_f1']:.4f}")
    print(f"train from scratch, wall time: {total:.1f} s (target < 300 s)")


if __name__ == "__main__":
    run_script(main)
