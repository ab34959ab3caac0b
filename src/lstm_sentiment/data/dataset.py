"""Labelled texts in memory and the label set that goes with them."""

from __future__ import annotations

import html
import random
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from lstm_sentiment.errors import SentimentError, warn_caller
from lstm_sentiment.text.normalize import lone_surrogate, same_text_key

# Spellings of the two binary classes, folded to the names the shipped models use.
# Chinese data name its classes too (正面/负面 and the like, simplified or traditional): left as written,
# they gave a model fine-tuned from zh a new classifier instead of the trained one.
_NEGATIVE = {"0", "neg", "negative", "-1", "false", "负面", "負面", "消极", "消極", "负向", "負向", "差评", "差評"}
_POSITIVE = {"1", "pos", "positive", "true", "正面", "积极", "積極", "正向", "好评", "好評"}
_NEUTRAL = {"neutral", "中性", "中立", "中评", "中評"}  # the third class beside _NEGATIVE's and _POSITIVE's words


@dataclass(frozen=True)
class LabelledTexts:
    """Texts and their string labels, in file order.

    Attributes:
        texts: the raw texts (a list: another sequence, a tuple or a pandas Series, is copied into one, in
            its order).
        labels: one class name per text, as given (``train`` and ``evaluate`` fold them: 0/1, case).
        source: where they came from, for messages and metrics.json ("my.csv:train"); default "data".

    Raises:
        ValueError: not one label per text.
        TypeError: ``texts`` or ``labels`` given as one string (read as one text per character), as a
            dict, or as something without a length and indexing (None, a generator); ``source`` not a str.
    """

    texts: list[str]
    labels: list[str]
    source: str = "data"

    def __post_init__(self) -> None:
        if not isinstance(self.source, str):
            # None was taken, and messages and metrics.json named the data "None".
            raise TypeError(f"source must be a str naming the data (\"my.csv:train\"), not {type(self.source).__name__}")
        for name in ("texts", "labels"):
            value = getattr(self, name)
            if isinstance(value, (str, bytes)):
                # LabelledTexts("好差", …) was evaluated as two texts, 好 and 差.
                raise TypeError(f"{self.source}: {name} must be a sequence, not one {type(value).__name__}: [{value[:20]!r}]")
            if isinstance(value, Mapping) or not (hasattr(value, "__len__") and hasattr(value, "__getitem__")):
                # None said "object of type 'NoneType' has no len()"; a generator the same; a dict's keys were read.
                raise TypeError(f"{self.source}: {name} must be a sequence (a list), not {type(value).__name__}")
            if not isinstance(value, list):
                # A pandas Series is indexed by its labels: subset([0, 1]) of a shuffled frame took the rows
                # labelled 0 and 1, not the first two.
                object.__setattr__(self, name, list(value))
        if len(self.texts) != len(self.labels):
            raise ValueError(f"{self.source}: {len(self.texts)} texts but {len(self.labels)} labels; give one label per text")

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, indices: Sequence[int], source: str | None = None) -> "LabelledTexts":
        """The texts at ``indices``, in that order, with their labels; ``source`` if given, else this one's."""
        return LabelledTexts([self.texts[i] for i in indices], [self.labels[i] for i in indices], self.source if source is None else source)


# (train, validation, test).
Splits = tuple[LabelledTexts, LabelledTexts, LabelledTexts]


def _clean(raw: object) -> str:
    # NFKC, as texts are normalised: full-width ０/１ typed in a Chinese input method are 0/1.
    text = unicodedata.normalize("NFKC", str(raw)).strip().lower()
    if text.startswith("+") and _is_number(text[1:]):
        text = text[1:]  # +1/-1, SVMlight's spelling: "+1" was a class of its own, and --init-from dropped the head
    if text.endswith(".0") and text[:-2].lstrip("-").isdigit():
        text = text[:-2]  # 1.0 written by spreadsheets
    return text


def deduplicate(data: LabelledTexts, key: Callable[[str], str] | None = None) -> LabelledTexts:
    """First occurrence of each text kept, in order; texts that occur under two labels dropped.

    Args:
        key: what makes two texts the same (e.g. the normalised text the model reads); None: the text as
            written. The kept texts are as written.
    """
    labels, first = _labels_by_text(data, key)
    kept = [k for k in labels if len(labels[k]) == 1]
    return LabelledTexts([first[k] for k in kept], [next(iter(labels[k])) for k in kept], data.source)


def conflicting_texts(data: LabelledTexts, key: Callable[[str], str] | None = None) -> list[str]:
    """The texts (each one's first occurrence, as written, in order) that occur under two labels or more:
    those :func:`deduplicate` drops. ``key`` as there."""
    labels, first = _labels_by_text(data, key)
    return [first[k] for k in labels if len(labels[k]) > 1]


def _labels_by_text(data: LabelledTexts, key: Callable[[str], str] | None) -> tuple[dict[str, set[str]], dict[str, str]]:
    labels: dict[str, set[str]] = {}
    first: dict[str, str] = {}
    for text, label in zip(data.texts, data.labels):
        same = key(text) if key is not None else text
        labels.setdefault(same, set()).add(label)
        first.setdefault(same, text)
    return labels, first


def canonical_labels(raw: list, known: Collection[str] | None = None) -> list[str]:
    """Lowercase class names. A binary label set spelled 0/1, -1/1, pos/neg, true/false or in Chinese
    (正面/负面, 积极/消极, 正向/负向, 好评/差评) folds to "negative"/"positive" (+1 is 1, full-width digits
    are digits); any other set (1–5 stars, -1/0/1 with 0 neutral, topic names) is kept as written.

    Args:
        known: the class names of the model or training data these labels go with: labels that are all
            among them are kept as written (-1 and 1 of a -1/0/1 model are two of its three classes);
            beside classes that hold negative and positive, each binary spelling folds (pos, neg and
            neutral for a negative/neutral/positive model) unless other numbers are among the labels
            (0/1/2), beside other classes none does; beside negative, neutral and positive, -1/0/1 are those
            three, and beside negative, neutral and positive the words 中性, 中立 and 中评 are neutral. Beside
            -1, 0 and 1 words stay words: :func:`as_three_way_numbers` reads them as those numbers.
    """
    cleaned = [_clean(x) for x in raw]
    names = set(cleaned)
    if known is not None and "-1" in names and names <= set(_THREE_WAY) and set(_THREE_WAY.values()) <= set(known):
        return [_THREE_WAY[x] for x in cleaned]
    # Beside a star-rating model, 0/1 are refused as written, not as "negative"/"positive" that no file held.
    if known is not None and (names <= set(known) or not {"negative", "positive"} <= set(known)):
        return cleaned
    # Beside -1, a 0 is "neutral" (the -1/0/1 convention), not a second spelling of negative; beside a 2,
    # 0/1/2 or 1/2 are numbered classes. A training file of other names beside the spellings (neg,
    # neutral, pos) keeps its names as written.
    others = names - _NEGATIVE - _POSITIVE
    if {"-1", "0"} <= names or any(map(_is_number, others)) or (known is None and others):
        return cleaned
    neutral = known is not None and "neutral" in known  # 中性 beside a negative/neutral/positive model
    return ["negative" if x in _NEGATIVE else "positive" if x in _POSITIVE else "neutral" if neutral and x in _NEUTRAL else x for x in cleaned]


_THREE_WAY = {"-1": "negative", "0": "neutral", "1": "positive"}  # the -1/0/1 convention


def unfolded_labels_note(labels: Collection[str], known: Collection[str]) -> str:
    """Why labels that spell negative or positive were kept as written beside classes named so, for the
    error that names them unknown. It listed -1, 0 and 1 as unknown beside "also spelled 0/1, -1/1",
    with no word of why.

    Args:
        labels: the data's labels as :func:`canonical_labels` left them (with ``known``).
        known: the model's or training data's class names.
    Returns:
        "" unless ``known`` holds negative and positive and an unknown label is one of their spellings;
        then "; " and the reason: -1 beside 0 is the -1/0/1 convention (when ``known`` has no neutral), or
        the other labels beside the spellings (a set folds only when all of it is one binary spelling).
    """
    names, known = set(labels), set(known)
    spelled = sorted((names - known) & (_NEGATIVE | _POSITIVE))
    if not spelled or not {"negative", "positive"} <= known:
        return ""
    if {"-1", "0"} <= names and "neutral" not in known:
        return "; beside -1, 0 is neutral: -1/0/1 reads as negative/neutral/positive"
    others = sorted(names - known - _NEGATIVE - _POSITIVE)
    if not others:
        return ""
    classes = "negative/neutral/positive" if "neutral" in known else "negative/positive"
    return f"; {'/'.join(spelled)} {'is' if len(spelled) == 1 else 'are'} read as {classes} only with no other label beside them (here {', '.join(others)})"


def _is_number(label: str) -> bool:
    try:
        float(label)
    except ValueError:
        return False
    return True


def as_three_way_numbers(labels: list[str], known: Collection[str]) -> list[str]:
    """``labels`` (as :func:`canonical_labels` left them) as the classes of a model or training file of -1, 0
    and 1, where ``known`` is that set and every label is a word of one of the three (negative, neutral,
    positive, pos/neg, 正面/负面/中性, 好评/差评/中评…); else ``labels`` unchanged. Such a model keeps the numbers
    as its class names, and a file labelled negative/positive was "unknown to the model". Apart from
    :func:`canonical_labels`, so that a warning about 0/1 as written sees them before words become numbers.
    """
    if set(known) == set(_THREE_WAY) and set(labels) <= set(_NAMED_THREE_WAY):
        return [_NAMED_THREE_WAY[x] for x in labels]
    return labels


# Word spellings of the three classes, as numbers of the -1/0/1 convention.
_NAMED_THREE_WAY = {
    **{x: "-1" for x in _NEGATIVE if not _is_number(x)},
    **{x: "1" for x in _POSITIVE if not _is_number(x)},
    **{x: "0" for x in _NEUTRAL},
}


# Cells that spreadsheets and pandas write for "no value" (from pandas.read_csv's default na_values,
# lowercased; not "none", a class of some emotion sets): "NaN" was read as a class of its own, and with a
# third class pos/neg no longer folded.
_MISSING = {"nan", "-nan", "na", "n/a", "#n/a", "#na", "null", "<na>"}


def is_missing_label(raw: object) -> bool:
    """True for a label cell that holds no class: None (JSON null), blank, or a "no value" mark (NaN, N/A,
    NULL, #N/A…; JSON's NaN as a float)."""
    return raw is None or _clean(raw) in _MISSING or not str(raw).strip()


def label_order(labels: list[str]) -> list[str]:
    """``id2label``: negative before positive, numbers (star ratings) numerically, other names sorted."""
    names = set(labels)
    if names <= {"negative", "positive"}:
        return [n for n in ("negative", "positive") if n in names]

    def key(name: str):
        try:
            return (0, float(name), name)
        except ValueError:
            return (1, 0.0, name)

    return sorted(names, key=key)


def check_rows(data: LabelledTexts) -> None:
    """Raise SentimentError, by row, for a text that is not a string or holds a lone surrogate, or a missing
    label (None, NaN, blank: :func:`is_missing_label`), which a file reader refuses too: given from Python,
    a None text failed on "object of type 'NoneType' has no len()", a None label became a class "none", and
    "好\ud800" trained to the end, then failed to write the vocabulary."""
    for row, (text, label) in enumerate(zip(data.texts, data.labels), 1):
        if not isinstance(text, str):
            raise SentimentError(f"{data.source}: text {row} is {type(text).__name__}, not a string")
        surrogate = lone_surrogate(text)
        if surrogate:
            raise SentimentError(f"{data.source}: text {row} holds a lone surrogate ({surrogate}), which no UTF-8 file can hold")
        if is_missing_label(label):
            raise SentimentError(f"{data.source}: text {row} has no label ({label!r})")


def check_trainable(data: LabelledTexts, split: bool = False) -> None:
    """Raise SentimentError unless there are ≥ 2 classes with ≥ 2 examples each (≥ 3 when a validation
    text of each class is to be split off: two of a class then left one to train on, and the message
    named the training part's count)."""
    counts = Counter(data.labels)
    if len(counts) < 2:
        found = ", ".join(f"{k!r}" for k in counts) or "none"
        raise SentimentError(f"{data.source}: need at least 2 classes to train, found {found}")
    least = 3 if split else 2
    small = [(k, n) for k, n in counts.items() if n < least]
    if small:
        why = " (2 to train on, 1 to validate)" if split else ""
        # A label column that holds texts or ids makes a class of nearly every row: the message listed them
        # all, one line of megabytes.
        shown = "{" + ", ".join(f"{(k if len(k) <= 20 else k[:20] + '…')!r}: {n}" for k, n in small[:5]) + "}"
        more = f" and {len(small) - 5:,} more of {len(counts):,} classes in {len(data):,} texts: is the label column right?" if len(small) > 5 else ""
        where = ""
        if len(small) == 1:  # one stray label (11 in a 0/1 file) is a typo to find: its text says where
            first = next(text for text, label in zip(data.texts, data.labels) if label == small[0][0])
            which = "the text" if small[0][1] == 1 else "the first text"  # "the text" of two read as if one
            where = f" ({which} under {small[0][0]!r}: {(first if len(first) <= 30 else first[:30] + '…')!r})"
        raise SentimentError(f"{data.source}: each class needs at least {least} examples{why}, got {shown}{more}{where}")


def warn_score_labels(data: LabelledTexts) -> None:
    """Warn when the labels look like scores rather than classes: more than 5 numbers, not all whole
    (0.0, 0.1, … 1.0 trained an 11-class model, validation accuracy 0.08, without a word)."""
    names = set(data.labels)
    if len(names) > 5 and all(map(_is_number, names)) and not all(float(n).is_integer() for n in names):
        values = sorted(map(float, names))
        warn_caller(
            f"{data.source}: the labels are {len(names)} numbers from {values[0]:g} to {values[-1]:g}, not all whole: "
            "each value is a class of its own (scores? round or bin them into classes)"
        )


def stratified_split(data: LabelledTexts, fractions: tuple[float, float, float] = (0.8, 0.1, 0.1), seed: int = 13) -> Splits:
    """Deterministic stratified train/validation/test split.

    Each class is shuffled with ``random.Random(seed)`` and cut by ``fractions``; every class keeps at
    least one example in train, so a class with 2 examples lands in train and validation, and one of 4 or
    more has at least one in test when ``fractions[2]`` > 0 (4 and 5 texts rounded 0.4 and 0.5 to none).
    """
    by_class: dict[str, list[int]] = defaultdict(list)
    for i, label in enumerate(data.labels):
        by_class[label].append(i)
    rng = random.Random(seed)
    parts: list[list[int]] = [[], [], []]
    for label in sorted(by_class):
        idx = by_class[label]
        rng.shuffle(idx)
        n_valid = max(1, round(len(idx) * fractions[1])) if len(idx) >= 2 else 0
        n_test = max(1, round(len(idx) * fractions[2])) if fractions[2] > 0 and len(idx) - n_valid >= 3 else 0
        cut = len(idx) - n_valid - n_test
        parts[0] += idx[:cut]
        parts[1] += idx[cut : cut + n_valid]
        parts[2] += idx[cut + n_valid :]
    names = ("train", "validation", "test")
    return tuple(
        data.subset(sorted(p), f"{data.source}:{name}") for p, name in zip(parts, names)
    )


def without_cross_leaks(splits: dict[str, Splits]) -> dict[str, Splits]:
    """The splits with every training text that is also a validation or test text of any of them dropped,
    and every validation text that is also a test text; test splits unchanged. Texts are the same when they
    have one :func:`same_text_key` (spaces and stops at either end aside).

    Each domain is split on its own, so a text two sources share can be tested in one and trained on in
    the other: zh-reviews and shopping share 9,313 texts (the data's README said they shared none), and
    the shipped zh model of 2026-12-04 had trained on 189 of zh-reviews' 1,736 test texts and 650 of
    shopping's 6,271. Within one file de-duplicated as written, texts differing by a stop (性价比高。 and
    性价比高) can land on both sides of its split.
    """
    tested = {same_text_key(t) for parts in splits.values() for t in parts[2].texts}
    held = tested | {same_text_key(t) for parts in splits.values() for t in parts[1].texts}

    def kept(data: LabelledTexts, out: set[str]) -> LabelledTexts:
        return data.subset([i for i, text in enumerate(data.texts) if same_text_key(text) not in out])

    return {name: (kept(train, held), kept(valid, tested), test) for name, (train, valid, test) in splits.items()}


# Where a review's sentences end: 。, ! and ? in either width, semicolons, ellipses, tildes, line breaks. Not "."
# (decimals, abbreviations, and Chinese reviews use it rarely as a stop).
_SENTENCE_END = re.compile(r"[。！？!?；;…~～\n\r\u2028\u2029]+")
# Shorter pieces (好。, 嗯！) say little on their own and many occur under both labels.
SENTENCE_MIN_CHARS = 4


def with_sentences(sample: LabelledTexts, held_out: Iterable[LabelledTexts]) -> LabelledTexts:
    """``sample`` followed by the sentences of its texts that hold two or more, each labelled as its text.

    Hand-written sentences are short, and in the shopping reviews length goes with the label (short book,
    clothes and hotel reviews are mostly complaints; docs/recipe.md, rounds 14 and 17), so a model trained on
    whole reviews reads a short praise (这本书很好) negative. A long review's sentences are short texts about
    the same things, mostly of its sentiment: weak labels, as distant supervision gives.

    Sentences are cut at :data:`_SENTENCE_END` once HTML entities are decoded (the ";" of ``&quot;`` ends
    none). A piece counts when, read as the model reads it (:func:`same_text_key`: links and tags removed,
    spaces and stops at either end aside), it holds :data:`SENTENCE_MIN_CHARS` characters or more and a letter, digit or Han
    character (这本书很好看。太贵了 and 服务很好。😀😀😀😀 hold one, and give nothing). Left out: a sentence
    that is a text of ``sample`` or of ``held_out`` (the validation and test splits, e.g.
    :func:`lstm_sentiment.data.domains.held_out`), stops at either end aside (the held-out 房间很干净。 is the
    sentence 房间很干净), and one that two texts give under different labels; one given twice is kept once.
    """
    held = {same_text_key(t) for part in held_out for t in part.texts}
    held |= {same_text_key(t) for t in sample.texts}
    texts, labels, keys = [], [], {}  # each sentence's key, computed once (normalising is the slow part)
    for text, label in zip(sample.texts, sample.labels):
        cut = [(s, same_text_key(s)) for s in (piece.strip() for piece in _SENTENCE_END.split(html.unescape(text)))]
        sentences = [(s, key) for s, key in cut if len(key) >= SENTENCE_MIN_CHARS and any(ch.isalnum() for ch in key)]
        if len(sentences) >= 2:
            texts += [s for s, _ in sentences]
            labels += [label] * len(sentences)
            keys.update(sentences)
    pieces = deduplicate(LabelledTexts(texts, labels, "sentences"), key=keys.__getitem__)
    kept = [i for i, text in enumerate(pieces.texts) if keys[text] not in held]
    return LabelledTexts(sample.texts + [pieces.texts[i] for i in kept], sample.labels + [pieces.labels[i] for i in kept], f"{sample.source}+sentences")
