"""Quality of the shipped models against simple baselines, on the test split of every domain.

Usage: python bench/quality.py --data DATA [--langs zh,en] [--train-domains hotels,movies] [--out QUALITY.md]

In one run, for each domain's test split (lstm_sentiment.data.domains; DATA is the build data folder):
- the shipped model (the mixture of all domains of its language);
- TF-IDF (word 1–2-grams of the project's tokenizer, sublinear tf) + logistic regression (scikit-learn),
  trained on the same mixture (the shipped model's training texts, with the sentences it also learns from;
  where it learns from sentences, a second column without them);
- SnowNLP's sentiment score > 0.5 (Chinese only);
- for each domain of --train-domains: `train` with its defaults on that domain's train split alone, and
  TF-IDF + LR on the same split.
Accuracy and macro-F1 side by side; the tables go to stdout and, as a dated section, to --out.
scikit-learn is a bench-only dependency (`pip install -e '.[build]'`).
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import tempfile
import time
from pathlib import Path

from lstm_sentiment.atomic import check_output_file, write_text_atomic
from lstm_sentiment.errors import run_script

REPO = Path(__file__).resolve().parent.parent


def _scores(truth: list[str], predicted: list[str]) -> tuple[float, float]:
    from sklearn.metrics import accuracy_score, f1_score

    return accuracy_score(truth, predicted), f1_score(truth, predicted, average="macro")


def tfidf_lr(train, tests: dict, lang: str) -> dict:
    """TF-IDF + logistic regression fitted on ``train``; (accuracy, macro-F1) per test split."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from lstm_sentiment.text.tokenize import Tokenizer

    tokenizer = Tokenizer(lang, max_tokens=10**6)
    vectorizer = TfidfVectorizer(analyzer=lambda text: _ngrams(tokenizer.words(text)[0]), sublinear_tf=True, min_df=2)
    classifier = LogisticRegression(C=4.0, max_iter=2000).fit(vectorizer.fit_transform(train.texts), train.labels)
    return {name: _scores(data.labels, list(classifier.predict(vectorizer.transform(data.texts)))) for name, data in tests.items()}


def _ngrams(words: list[str]) -> list[str]:
    return words + [f"{a} {b}" for a, b in zip(words, words[1:])]


def snownlp(tests: dict) -> dict:
    """SnowNLP's own classifier (trained on its zh-reviews data): positive when its score > 0.5."""
    from snownlp import SnowNLP

    def label(text: str) -> str:
        return "positive" if text.strip() and SnowNLP(text).sentiments > 0.5 else "negative"

    return {name: _scores(data.labels, [label(t) for t in data.texts]) for name, data in tests.items()}


def lstm(model, tests: dict) -> dict:
    out = {}
    for name, data in tests.items():
        report = model.evaluate(data)
        out[name] = (report["accuracy"], report["macro_f1"])
    return out


def token_shares(model, tests: dict) -> dict:
    """Per test split: shares of tokens with a vocabulary row, read through subwords, and read as <unk>."""
    from lstm_sentiment.text.vocab import UNK_ID

    shares = {}
    for name, data in tests.items():
        ids = [i for e in model.encode(data.texts) for i in model.token_ids(e.tokens)]
        vocab_size = len(model.vocab)
        total = len(ids) or 1
        unk = sum(i == UNK_ID for i in ids)
        added = sum(i >= vocab_size for i in ids)
        shares[name] = ((total - unk - added) / total, added / total, unk / total)
    return shares


def run_lang(lang: str, splits: dict, train_domains: list[str]) -> tuple[list[str], dict]:
    """The Markdown lines of one language's tables, and their columns, for its ``splits`` (domains())."""
    from lstm_sentiment.config import DataConfig, ModelConfig, TrainConfig
    from lstm_sentiment.inference.model import SentimentModel
    from lstm_sentiment.training.shipped import training_texts
    from lstm_sentiment.training.train import train

    tests = {name: parts[2] for name, parts in splits.items()}
    shipped = SentimentModel.load(lang)
    whole, sample = training_texts(lang, splits)
    columns = {"shipped LSTM": lstm(shipped, tests), "TF-IDF+LR (same data)": tfidf_lr(sample, tests, lang)}
    if len(sample) > len(whole):
        columns["TF-IDF+LR (whole texts only)"] = tfidf_lr(whole, tests, lang)
    if lang == "zh":
        columns["SnowNLP"] = snownlp(tests)
    for name in train_domains:
        if name not in splits:
            continue
        train_part, valid_part, test_part = splits[name]
        with tempfile.TemporaryDirectory() as work:
            started = time.perf_counter()
            # The command line's defaults.
            metrics = train(train_part, valid_part, test_part, Path(work) / "m", ModelConfig(), DataConfig(), TrainConfig())
            seconds = time.perf_counter() - started
        own = {name: (metrics["test"]["accuracy"], metrics["test"]["macro_f1"])}
        columns.setdefault("`train` defaults (own domain)", {}).update(own)
        columns.setdefault("TF-IDF+LR (own domain)", {}).update(tfidf_lr(train_part, {name: test_part}, lang))
        print(f"{name}: train defaults took {seconds:.0f} s", flush=True)
    header = "| domain | n | " + " | ".join(columns) + " |"
    lines = [header, "|---|---:|" + "---:|" * len(columns)]
    for name, data in tests.items():
        cells = [f"{columns[c][name][0]:.4f} / {columns[c][name][1]:.4f}" if name in columns[c] else "–" for c in columns]
        lines.append(f"| {name} | {len(data)} | " + " | ".join(cells) + " |")
    # A column of some domains says over how many its mean is: the `train` columns' 0.8571 (hotels and
    # movies) stood beside means over all four without a word.
    means = [f"{sum(v[0] for v in columns[c].values()) / len(columns[c]):.4f}" + (f" ({len(columns[c])} of {len(tests)})" if len(columns[c]) < len(tests) else "") for c in columns]
    lines.append("| mean accuracy | | " + " | ".join(means) + " |")
    lines += ["", "Tokens of each test split as the shipped model reads them:", "", "| domain | vocabulary row | subword vector | `<unk>` |", "|---|---:|---:|---:|"]
    lines += [f"| {name} | {a:.2%} | {b:.2%} | {c:.2%} |" for name, (a, b, c) in token_shares(shipped, tests).items()]
    return lines, columns


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="folder holding zh-multi/, sst2/ and imdb/")
    parser.add_argument("--langs", default="zh,en", help="languages, comma-separated: zh, en")
    parser.add_argument("--train-domains", default="", help="domains on which `train` with defaults also runs, e.g. hotels,movies")
    parser.add_argument("--out", type=Path, default=REPO / "QUALITY.md", help="Markdown file the dated section is appended to")
    args = parser.parse_args()
    from lstm_sentiment.data.domains import DOMAIN_NAMES, check_domain_names, domains

    started = time.perf_counter()
    langs, train_domains = args.langs.split(","), [d for d in args.train_domains.split(",") if d]
    # Every check before any work: an unwritable --out, a missing en folder or a mistyped domain ("hotel",
    # skipped without a word) were found after minutes of zh work, which was lost.
    check_domain_names(langs, train_domains)
    check_output_file(args.out, "--out")
    data = {lang: domains(lang, args.data) for lang in langs}
    if importlib.util.find_spec("sklearn") is None:  # once the data is found, before minutes of work with the models
        raise ModuleNotFoundError("No module named 'sklearn'", name="sklearn")
    command = f"python bench/quality.py --data DATA --langs {args.langs}" + (f" --train-domains {args.train_domains}" if args.train_domains else "")
    section = [f"## {datetime.date.today().isoformat()}: `{command}`", ""]
    for lang in langs:
        lines, _ = run_lang(lang, data[lang], [d for d in train_domains if d in DOMAIN_NAMES[lang]])
        section += [f"### {lang} (accuracy / macro-F1 on each domain's test split)", "", *lines, ""]
        print("\n".join(lines), flush=True)
    section.append(f"Total wall time {time.perf_counter() - started:.0f} s.")
    previous = args.out.read_text(encoding="utf-8") if args.out.is_file() else "# Quality benchmark\n\nWritten by `bench/quality.py`; newest last.\n"
    write_text_atomic(args.out, previous.rstrip("\n") + "\n\n" + "\n".join(section) + "\n")
    print(f"wrote {args.out}", flush=True)


if __name__ == "__main__":
    run_script(main)
