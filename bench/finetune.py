"""What `train --init-from` buys, against `train` from the pretrained vectors alone on the same texts.

A base model trained without one domain is fine-tuned on a few hundred or thousand labelled texts of it.

Usage: python bench/finetune.py --data DATA [--lang zh] [--held-out movies] [--sizes 500,1000,2000] [--cap 8000]
       [--lr 0.002] [--base DIR]

Steps: (1) the base: every other domain of the language (at most --cap training texts each), the shipped
recipe; (2) for each size n, n texts of the held-out domain's train split (stratified, seed 13), validation
at most 500 texts of its validation split; trained twice, from the base (`init_from`) and from scratch
(defaults; the fine-tuning run at --lr); (3) accuracy on the held-out domain's whole test split. Prints a
Markdown table. --base keeps the base model in DIR and reuses it when DIR already holds one built with the
same --lang, --held-out and --cap (it records them; another is refused: a base that trained on the held-out
domain gave +12 points of leak).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from lstm_sentiment.config import DataConfig, ModelConfig, TrainConfig
from lstm_sentiment.errors import SentimentError, run_script

DEFAULT_HELD_OUT = {"zh": "movies", "en": "imdb"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="folder holding zh-multi/, sst2/ and imdb/")
    parser.add_argument("--lang", default="zh", choices=("zh", "en"), help="zh or en")
    parser.add_argument("--held-out", default=None, help="the domain left out of the base (default: movies for zh, imdb for en)")
    parser.add_argument("--sizes", default="500,1000,2000", type=_sizes, help="labelled texts of the held-out domain, comma-separated")
    parser.add_argument("--cap", type=int, default=8000, help="training texts per domain of the base")
    parser.add_argument("--lr", type=float, default=TrainConfig.lr, help="learning rate of the fine-tuning runs")
    parser.add_argument("--base", type=Path, default=None, help="keep the base model here; reused when it holds one")
    args = parser.parse_args()
    from lstm_sentiment.data.domains import check_domain_names, domains, mixture
    from lstm_sentiment.training.shipped import RECIPES, VALID_CAP
    from lstm_sentiment.training.train import train

    args.held_out = args.held_out or DEFAULT_HELD_OUT[args.lang]
    check_domain_names([args.lang], [args.held_out])  # --lang en with zh's movies was a KeyError traceback
    recorded = {"lang": args.lang, "held_out": args.held_out, "cap": args.cap}
    if args.base is not None and (args.base / "config.json").is_file():
        _check_base(args.base, recorded)
    splits = domains(args.lang, args.data)
    held_train, held_valid, held_test = splits.pop(args.held_out)
    valid = mixture({args.held_out: (held_train, held_valid, held_test)}, 1, 500)
    with tempfile.TemporaryDirectory() as work:
        base = args.base or Path(work) / "base"
        if not (base / "config.json").is_file():
            started = time.perf_counter()
            metrics = train(mixture(splits, 0, args.cap), mixture(splits, 1, VALID_CAP), held_test, base, *RECIPES[args.lang], extra={"finetune_base": recorded})
            print(f"base without {args.held_out}: {time.perf_counter() - started:.0f} s; on {args.held_out} test: {metrics['test']['accuracy']:.4f}", flush=True)
        else:
            print(f"base {base} reused (without {args.held_out}, cap {args.cap})", flush=True)
        print(f"| {args.held_out} texts | from scratch (pretrained vectors) | fine-tuned from the base | difference |")
        print("|---:|---:|---:|---:|")
        for n in args.sizes:
            sample = mixture({args.held_out: (held_train, held_valid, held_test)}, 0, n)
            scratch = train(sample, valid, held_test, Path(work) / f"scratch-{n}", ModelConfig(), DataConfig(lang=args.lang), TrainConfig())
            tuned = train(sample, valid, held_test, Path(work) / f"tuned-{n}", ModelConfig(), DataConfig(lang=args.lang), TrainConfig(lr=args.lr), init_from=base)
            a, b = scratch["test"]["accuracy"], tuned["test"]["accuracy"]
            print(f"| {n} | {a:.4f} | {b:.4f} | {b - a:+.4f} |", flush=True)


def _sizes(value: str) -> list[int]:
    """--sizes as positive ints, read before any training ("1k" failed after the base had trained)."""
    try:
        sizes = [int(x) for x in value.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r}: give whole numbers, comma-separated (500,1000)") from None
    if any(n < 2 for n in sizes):
        raise argparse.ArgumentTypeError(f"{value!r}: each size must be at least 2 (a text of each class)")
    return sizes


def _check_base(base: Path, recorded: dict) -> None:
    """Refuse a saved base built for another --lang, --held-out or --cap (or by another script)."""
    config = json.loads((base / "config.json").read_text(encoding="utf-8"))
    if config.get("finetune_base") != recorded:
        raise SentimentError(f"{base} holds a base built with {config.get('finetune_base') or 'no record of its settings'}, not {recorded}: "
                             "reusing it would score texts it trained on; give another --base, or remove it")


if __name__ == "__main__":
    run_script(main)
