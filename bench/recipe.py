"""Choose the training recipe on validation: each variant trained on a sample of every domain's train split.

Usage: python bench/recipe.py --data DATA --lang zh [--cap 5000] [--variants frozen,fine-tuned,...] [--domains imdb] [--seed 0] [--sentences]

Every variant changes one thing from the base (the defaults): word vectors frozen or fine-tuned (at 0.1 or 1
times the learning rate: fine-tuned, fine-tuned-lr1), layers, hidden size, pooling, dropout, batch size,
learning rate (constant, or cut by 0.3 on a plateau), epochs, texts read up to 512 tokens (not 256), the LSTM's
chrono initialisation (T_max = 256, the longest text read), language-model pretraining of the LSTM (1 or 2
epochs) on every domain's whole train split, labels unused; for en, the fine-tuned recipe with a plateau cut,
dropout 0.3, vectors at 0.3 × the rate, 512 tokens, H = 256, 2 layers, or max, mean or last pooling. Prints a
Markdown table: validation accuracy and macro-F1 of the mixture and per domain, best epoch, seconds. Test
splits are not scored. ``--sentences`` adds the sample's sentences to it as the shipped zh recipe does
(:func:`lstm_sentiment.data.dataset.with_sentences`; validation and test texts are read only to keep them out).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from lstm_sentiment.errors import run_script

VARIANTS = {
    "base": ({}, {}, {}),
    "frozen": ({"freeze_embeddings": True}, {}, {}),
    "fine-tuned": ({"freeze_embeddings": False}, {}, {}),
    "fine-tuned-lr1": ({"freeze_embeddings": False}, {"embedding_lr_scale": 1.0}, {}),
    "2 layers": ({"num_layers": 2}, {}, {}),
    "H=256": ({"hidden_size": 256}, {}, {}),
    "H=64": ({"hidden_size": 64}, {}, {}),
    "dropout 0.3": ({"dropout": 0.3}, {}, {}),
    "pooling last": ({"pooling": "last"}, {}, {}),
    "word dropout 0.1": ({"word_dropout": 0.1}, {}, {}),
    "chrono": ({"init": "chrono"}, {}, {}),
    "batch 32": ({}, {"batch_size": 32}, {}),
    "plateau 0.3": ({}, {"plateau_factor": 0.3, "epochs": 14, "patience": 3}, {}),
    "lr 1e-3": ({}, {"lr": 1e-3}, {}),
    "fine-tuned-lr1 + plateau 0.3": ({"freeze_embeddings": False}, {"embedding_lr_scale": 1.0, "plateau_factor": 0.3, "epochs": 14, "patience": 3}, {}),
    "fine-tuned-lr1 + dropout 0.3": ({"freeze_embeddings": False, "dropout": 0.3}, {"embedding_lr_scale": 1.0}, {}),
    "fine-tuned-lr0.3": ({"freeze_embeddings": False}, {"embedding_lr_scale": 0.3}, {}),
    "LM 1 epoch": ({}, {"lm_epochs": 1}, {}),
    "LM 2 epochs": ({}, {"lm_epochs": 2}, {}),
    "512 tokens": ({}, {}, {"max_tokens": 512}),
    "fine-tuned-lr1 + 512 tokens": ({"freeze_embeddings": False}, {"embedding_lr_scale": 1.0}, {"max_tokens": 512}),
    "fine-tuned-lr1 + H=256": ({"freeze_embeddings": False, "hidden_size": 256}, {"embedding_lr_scale": 1.0}, {}),
    "fine-tuned-lr1 + 2 layers": ({"freeze_embeddings": False, "num_layers": 2}, {"embedding_lr_scale": 1.0}, {}),
    "fine-tuned-lr1 + pooling max": ({"freeze_embeddings": False, "pooling": "max"}, {"embedding_lr_scale": 1.0}, {}),
    "fine-tuned-lr1 + pooling mean": ({"freeze_embeddings": False, "pooling": "mean"}, {"embedding_lr_scale": 1.0}, {}),
    "fine-tuned-lr1 + pooling last": ({"freeze_embeddings": False, "pooling": "last"}, {"embedding_lr_scale": 1.0}, {}),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="folder holding zh-multi/, sst2/ and imdb/")
    parser.add_argument("--lang", default="zh", choices=("zh", "en"), help="the language whose domains are sampled")
    parser.add_argument("--cap", type=int, default=5000, help="training texts per domain")
    parser.add_argument("--variants", default=",".join(VARIANTS), help="variants to train, comma-separated (see VARIANTS)")
    parser.add_argument("--epochs", type=int, default=None, help="most epochs of every variant (default: each recipe's)")
    parser.add_argument("--seed", type=int, default=0, help="TrainConfig.seed of every variant")
    parser.add_argument("--domains", default=None, help="only these domains (comma-separated), e.g. imdb for the longest texts")
    parser.add_argument("--sentences", action="store_true", help="train on the sample's sentences too (with_sentences)")
    args = parser.parse_args()
    from lstm_sentiment.config import DataConfig, ModelConfig, TrainConfig
    from lstm_sentiment.data.dataset import with_sentences
    from lstm_sentiment.data.domains import check_domain_names, domains, held_out, mixture, unlabelled
    from lstm_sentiment.errors import SentimentError
    from lstm_sentiment.training.shipped import VALID_CAP
    from lstm_sentiment.training.train import train

    # Before the data loads and any variant trains: "--variants base,frozn" trained base, then a KeyError.
    unknown = [name for name in args.variants.split(",") if name not in VARIANTS]
    if unknown:
        raise SentimentError(f"{', '.join(map(repr, unknown))}: no such variant; choose from {', '.join(VARIANTS)}")
    check_domain_names([args.lang], args.domains.split(",") if args.domains else [])
    splits = domains(args.lang, args.data)
    if args.domains:
        splits = {name: splits[name] for name in args.domains.split(",")}
    train_part, valid_part = mixture(splits, 0, args.cap), mixture(splits, 1, VALID_CAP)
    if args.sentences:
        train_part = with_sentences(train_part, held_out(splits))
    # The LM variants read every train text of every domain, not only the sample the classifier learns from.
    extra_texts = unlabelled(splits, train_part)
    valid_domains = {name: mixture({name: parts}, 1, VALID_CAP) for name, parts in splits.items()}
    print("| variant | val acc | val macro-F1 | " + " | ".join(valid_domains) + " | best epoch | s |")
    print("|---|---:|---:|" + "---:|" * len(valid_domains) + "---:|---:|")
    for name in args.variants.split(","):
        model_over, train_over, data_over = VARIANTS[name]
        train_cfg = replace(TrainConfig(seed=args.seed), **{**train_over, **({"epochs": args.epochs} if args.epochs else {})})
        with tempfile.TemporaryDirectory() as work:
            started = time.perf_counter()
            metrics = train(train_part, valid_part, None, Path(work) / "m", replace(ModelConfig(), **model_over), DataConfig(lang=args.lang, **data_over), train_cfg, domain_tests=valid_domains, unlabelled=extra_texts)
            seconds = time.perf_counter() - started
        v = metrics["validation"]
        per = " | ".join(f"{metrics['domains'][d]['accuracy']:.4f}" for d in valid_domains)
        print(f"| {name} | {v['accuracy']:.4f} | {v['macro_f1']:.4f} | {per} | {metrics['best_epoch']} of {metrics['epochs_run']} | {seconds:.0f} |", flush=True)


if __name__ == "__main__":
    run_script(main)
