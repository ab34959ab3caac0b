"""Shared fixtures: a small model trained once per test session on a slice of zh-reviews."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lstm_sentiment.config import DataConfig, ModelConfig, TrainConfig
from lstm_sentiment.data.corpus import load_zh_reviews
from lstm_sentiment.data.dataset import LabelledTexts

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def sliced(data: LabelledTexts, step: int) -> LabelledTexts:
    return LabelledTexts(data.texts[::step], data.labels[::step], data.source)


# Fine-tuned vectors learn faster than the frozen default on a small slice.
SMALL_MODEL = ModelConfig(embedding_dim=32, hidden_size=32, freeze_embeddings=False, dropout=0.3)
SMALL_TRAIN = TrainConfig(epochs=4, word2vec_epochs=3, batch_size=32, lr=5e-3, patience=4, seed=3)


@pytest.fixture(scope="session")
def small_splits():
    train, valid, test = load_zh_reviews()
    return sliced(train, 5), sliced(valid, 5), sliced(test, 5)


@pytest.fixture(scope="session")
def small_bundle(tmp_path_factory, small_splits):
    """A bundle trained for 4 epochs on every 5th training text (about 2,800)."""
    from lstm_sentiment.training.train import train

    out = tmp_path_factory.mktemp("bundle") / "small-zh"
    metrics = train(*small_splits, out, SMALL_MODEL, DataConfig(), SMALL_TRAIN)
    return out, metrics


def run_cli(*args: str, stdin: str | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    """``python -m lstm_sentiment ARGS`` in a fresh process, as a user would run it."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        [sys.executable, "-m", "lstm_sentiment", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )
