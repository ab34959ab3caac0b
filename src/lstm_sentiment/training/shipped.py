"""Build the models shipped in the package (``make models DATA=…``): every domain of a language at once.

Each domain keeps its own validation and test split (:mod:`lstm_sentiment.data.domains`); training takes at
most :data:`DOMAIN_CAP` texts of each (validation at most :data:`VALID_CAP`), so the 50,000 shopping reviews
do not swamp the 1,800 hotel reviews, nor 20,000 IMDB reviews of 230 words the SST-2 sentences (and training
fits the 2-core machine); the card gives test figures per domain.

Usage: ``python -m lstm_sentiment.training.shipped zh|en --data DATA --out DIR``
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from lstm_sentiment.config import DataConfig, ModelConfig, TrainConfig
from lstm_sentiment.data.domains import domains, mixture

DOMAIN_CAP = {"zh": 12_000, "en": 8_000}
VALID_CAP = 1_000
# The recipes, chosen on validation (README, "Choosing the recipe").
RECIPES = {
    "zh": (ModelConfig(), DataConfig(lang="zh"), TrainConfig(epochs=10)),
    "en": (ModelConfig(freeze_embeddings=False), DataConfig(lang="en"), TrainConfig(epochs=10, embedding_lr_scale=1.0)),
}


def build(lang: str, data_dir: Path, out: Path) -> dict:
    """Train the shipped model of ``lang`` on the mixture of its domains; returns the metrics."""
    from lstm_sentiment.training.train import train

    splits = domains(lang, data_dir)
    model_cfg, data_cfg, train_cfg = RECIPES[lang]
    return train(
        mixture(splits, 0, DOMAIN_CAP[lang]),
        mixture(splits, 1, VALID_CAP),
        mixture(splits, 2, 10**9),
        out,
        model_cfg,
        data_cfg,
        train_cfg,
        domain_tests={name: parts[2] for name, parts in splits.items()},
        extra={"domain_cap": {"train": DOMAIN_CAP[lang], "validation": VALID_CAP}},
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Build a shipped model from every domain of its language.")
    parser.add_argument("lang", choices=sorted(RECIPES))
    parser.add_argument("--data", type=Path, required=True, help="folder holding zh-multi/, sst2/ and imdb/")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    build(args.lang, args.data, args.out)


if __name__ == "__main__":
    main()
