"""Which model classifies a text, decided once, and the records of a list of texts.

A run names its model once, as a :data:`Target`: one model (:class:`ModelRef`: a shipped name or a bundle
directory, and a precision), or the shipped model of each text's script (:class:`ByScript`). By script,
the choice is made on the normalised text (:func:`route`: an HTML entity such as ``&#x4e2d;`` is Han
once decoded), and the prepared text and its language go on to the model's tokenizer, which neither
normalises nor detects again. The command line, the worker pool and the server all classify through
:func:`classify`; ``evaluate`` without a model scores through :func:`evaluate_by_script`, by the same routes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Union

import torch

from lstm_sentiment.data.dataset import LabelledTexts, canonical_labels, check_rows
from lstm_sentiment.errors import SentimentError
from lstm_sentiment.inference.model import DEFAULT_MODELS, SentimentModel, check_known_labels, check_precision, evaluation_report, text_list, warn_of_degenerate_data
from lstm_sentiment.text.normalize import has_letter
from lstm_sentiment.text.tokenize import DEFAULT_MAX_TOKENS, LANGS, Tokenized, detect_lang, prepare, warn_truncated

# Texts are prepared for routing as a tokenizer of this many tokens prepares them (that of both shipped
# models), so their tokenizers start from the same prepared text.
ROUTE_MAX_TOKENS = DEFAULT_MAX_TOKENS


@dataclass(frozen=True)
class ModelRef:
    """One model, by name or directory, and the precision it runs in: what a worker needs to load it.

    Attributes:
        name_or_path: "zh" or "en" (a str) for a shipped model; a Path, or any other str, for a bundle
            directory (``"./zh"`` is a folder named zh).
        precision: "float32" or "bfloat16" (see :meth:`SentimentModel.load`).
    Raises:
        ValueError: an unknown precision.
    """

    name_or_path: str | Path
    precision: str = "float32"

    def __post_init__(self) -> None:
        check_precision(self.precision)

    @classmethod
    def of(cls, model: SentimentModel) -> "ModelRef":
        """The reference of a loaded model: its bundle directory and its precision."""
        return cls(Path(model.path), model.precision)

    def load(self, device: str | None = None) -> SentimentModel:
        """Load the model (see :meth:`SentimentModel.load`; ``device`` None: CUDA where there is one)."""
        return SentimentModel.load(self.name_or_path, device=device, precision=self.precision)


@dataclass(frozen=True)
class ByScript:
    """Each text to the shipped model of its script: mostly Han characters → "zh", else "en" (see :func:`route`).

    Raises:
        ValueError: an unknown precision.
    """

    precision: str = "float32"

    def __post_init__(self) -> None:
        check_precision(self.precision)

    def ref(self, lang: str) -> ModelRef:
        """The shipped model of ``lang`` ("zh" or "en")."""
        return ModelRef(lang, self.precision)

    @property
    def refs(self) -> tuple[ModelRef, ...]:
        """Every model this target may send a text to."""
        return tuple(self.ref(name) for name in DEFAULT_MODELS)


Target = Union[ModelRef, ByScript]


def target_of(model: SentimentModel | str | Path | None = None, lang: str = "auto", precision: str = "float32") -> Target:
    """The target a user's options name.

    Args:
        model: a loaded model (keeps its own precision), a bundle directory or a shipped name; None:
            the shipped models, by ``lang``.
        lang: with no model, "auto" (:class:`ByScript`), "zh" or "en".
    Raises:
        ValueError: an unknown precision or lang (lang="fr" was read as a model folder named fr); a model and
            a lang other than "auto" both (the lang was ignored, where the command line refuses the pair).
    """
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}; got {lang!r}")
    if model is not None and lang != "auto":
        raise ValueError(f"give a model or a lang, not both: lang={lang!r} picks a shipped model")
    if isinstance(model, SentimentModel):
        return ModelRef.of(model)
    if model is not None:
        return ModelRef(model, precision)
    return ByScript(precision) if lang == "auto" else ModelRef(lang, precision)


@dataclass(frozen=True)
class Route:
    """A text's shipped model and the text as prepared for it (:func:`lstm_sentiment.text.tokenize.prepare`
    with :data:`ROUTE_MAX_TOKENS`)."""

    lang: str
    prepared: str


def route(text: str) -> Route:
    """The shipped model of ``text``'s script (:func:`~lstm_sentiment.text.tokenize.detect_lang` of its
    normalised text): "zh" if it holds at least as many Han characters as Latin words, else "en". An English
    review's few Han characters (a quoted title) are the en model's, flagged as words it cannot read."""
    prepared = prepare(text, ROUTE_MAX_TOKENS)
    return Route(detect_lang(prepared), prepared)


def default_model_name(texts: Sequence[str]) -> str:
    """"zh" if most texts that hold a letter route to zh (:func:`route_counts`), or none holds one; else "en":
    the one shipped model for a whole data set (evaluation, training's word vectors)."""
    return model_of_most(route_counts(texts))


def route_counts(texts: Sequence[str]) -> Counter:
    """How many of ``texts`` :func:`route` sends to each shipped model ("zh", "en"), of those that hold a
    letter once normalised: emoji, digits or markup alone claim no script (they routed to en, and data of
    emoji fine-tuned from zh was refused as "en (by script)"). Empty when none does."""
    return Counter(r.lang for r in map(route, texts) if has_letter(r.prepared))


def model_of_most(counts: Counter) -> str:
    """"zh" if at least half the texts of :func:`route_counts` go to zh, else "en"."""
    return "zh" if counts["zh"] * 2 >= sum(counts.values()) else "en"


def group_indices(items: Sequence, key: Callable[[object], Hashable]) -> dict[Hashable, list[int]]:
    """Indices of ``items`` grouped by ``key(item)``, each group in input order."""
    groups: dict[Hashable, list[int]] = {}
    for i, item in enumerate(items):
        groups.setdefault(key(item), []).append(i)
    return groups


def in_input_order(size: int, parts: Iterable[tuple[list[int], list[dict]]]) -> list[dict]:
    """Records of ``size`` inputs back in input order from ``(indices, records)`` pairs covering them."""
    records: list[dict | None] = [None] * size
    for index, part in parts:
        for i, record in zip(index, part):
            records[i] = record
    return records  # type: ignore[return-value]


# A ModelRef → the loaded model: SentimentModel.load through ModelRef.load, or a lookup in models loaded
# once (a worker's, the server's).
ModelFor = Callable[[ModelRef], SentimentModel]


def classify(target: Target, texts: Sequence[str], model_for: ModelFor) -> tuple[list[dict], dict[int, int]]:
    """The records of :meth:`SentimentModel.predict` for ``texts``, in input order, without its warning.
    By script (:class:`ByScript`), each labelled record also names its model: ``"model": "zh"`` or ``"en"``.

    Returns:
        the records, and the number of truncated texts by the ``max_tokens`` of their model, for one
        warning by the caller over all its calls.
    """
    if isinstance(target, ModelRef):
        model = model_for(target)
        groups = [(list(range(len(texts))), model, model.encode(texts), None)]
    else:
        routes = [route(text) for text in texts]
        groups = []
        for lang, index in group_indices(routes, lambda r: r.lang).items():
            model = model_for(target.ref(lang))
            groups.append((index, model, _encode_routed(model, [texts[i] for i in index], [routes[i] for i in index]), lang))
    truncated: dict[int, int] = {}
    parts = []
    for index, model, encoded, lang in groups:
        count = sum(e.truncated for e in encoded)
        if count:
            truncated[model.tokenizer.max_tokens] = truncated.get(model.tokenizer.max_tokens, 0) + count
        records = model.records([texts[i] for i in index], encoded)
        if lang is not None:
            # A mixed file's zh and en scores come from two models, each with its own temperature: which
            # one read a text was told nowhere but in explain.
            for record in records:
                if record["label"] is not None:
                    record["model"] = lang
        parts.append((index, records))
    return in_input_order(len(texts), parts), truncated


def _encode_routed(model: SentimentModel, texts: list[str], routes: list[Route]) -> list[Tokenized]:
    langs = [r.lang for r in routes]
    if model.tokenizer.max_tokens == ROUTE_MAX_TOKENS:
        return model.encode_prepared([r.prepared for r in routes], langs)
    # A model cut at another length prepares the texts its own way; the language stays the one chosen.
    return model.encode_prepared([prepare(text, model.tokenizer.max_tokens) for text in texts], langs)


def warn_truncations(truncated: dict[int, int]) -> None:
    """One warning per model's maximum for texts cut to it (see :func:`classify`)."""
    for max_tokens, count in truncated.items():
        warn_truncated(count, max_tokens)


def predict_with(target: Target, texts: Sequence[str], model_for: ModelFor) -> list[dict]:
    """:func:`classify`'s records, with the truncation warning given here."""
    records, truncated = classify(target, texts, model_for)
    warn_truncations(truncated)
    return records


def evaluate_by_script(data: LabelledTexts, precision: str = "float32", model_for: ModelFor = ModelRef.load) -> dict:
    """The shipped models' figures on ``data`` as ``predict`` labels it without a model: each text scored
    by the shipped model of its script (:func:`route`), the figures over all texts together.

    Returns:
        :func:`~lstm_sentiment.inference.model.evaluation_report`'s dict over every text (``ece_unscaled``
        with each text's own model's temperature; ``temperature``: "zh" and "en" → each model's), with
        ``by_model``: "zh" and "en" → each model's report on its own texts. Data of one script: that
        model's :meth:`~SentimentModel.evaluate` alone. Either way with ``model``: the shipped models that
        scored texts ("zh", "en" or "zh+en").
    Raises:
        SentimentError: as :meth:`SentimentModel.evaluate` (no texts, a text with nothing to read, a label
            the models do not know).
        TypeError: ``data`` is not a :class:`LabelledTexts`.
    Warns:
        SentimentWarning: the data hold one class, or one text with two labels
            (:func:`~lstm_sentiment.inference.model.warn_of_degenerate_data`).
    """
    if not isinstance(data, LabelledTexts):  # a list of pairs failed on data.texts
        raise TypeError(f"evaluate_by_script takes LabelledTexts(texts, labels, source) from lstm_sentiment.data.dataset, not {type(data).__name__}")
    if not len(data):
        raise SentimentError(f"{data.source}: no labelled texts to evaluate")
    check_rows(data)
    target = ByScript(precision)
    routes = [route(text) for text in data.texts]
    groups = group_indices(routes, lambda r: r.lang)
    if len(groups) == 1:
        return {**model_for(target.ref(routes[0].lang)).evaluate(data), "model": routes[0].lang}
    # Checked over the whole data, as one model's evaluate does: per script, a row was numbered within its
    # script's texts, and -1/0/1 labels split as -1/1 and 0/1 were folded to two classes each.
    empty = next((i for i, r in enumerate(routes) if not r.prepared.strip()), None)
    if empty is not None:
        raise SentimentError(f"{data.source}: text {empty + 1} ({data.texts[empty][:40]!r}) has nothing to read; predict gives it no label")
    models = {lang: model_for(target.ref(lang)) for lang in groups}
    id2label = next(iter(models.values())).id2label
    if any(model.id2label != id2label for model in models.values()):
        raise SentimentError("the shipped models' classes differ: evaluate each script's texts with --model")
    data = LabelledTexts(list(data.texts), canonical_labels(data.labels, id2label), data.source)
    check_known_labels(data, id2label)
    scored = {lang: models[lang].scored(data.subset(index, f"{data.source} ({lang} texts)")) for lang, index in groups.items()}
    probs = torch.empty(len(data), len(id2label))
    row_temperature = torch.empty(len(data))
    for lang, index in groups.items():
        probs[index], row_temperature[index] = scored[lang][0], models[lang].temperature
    temperatures = {lang: model.temperature for lang, model in models.items()}
    report = evaluation_report(probs, data, id2label, temperature=temperatures, precision=precision, name="the shipped models", row_temperature=row_temperature)
    report["by_model"] = {
        lang: evaluation_report(part_probs, part, id2label, temperature=temperatures[lang], precision=precision, name=str(models[lang].path))
        for lang, (part_probs, part) in scored.items()
    }
    report["model"] = "+".join(sorted(groups, reverse=True))  # "zh+en" whichever came first
    warn_of_degenerate_data(data)
    return report


def predict_texts(texts: Iterable[str], model: str | Path | None = None, lang: str = "auto", precision: str = "float32") -> list[dict]:
    """Predict with a bundle, or with the shipped defaults when ``model`` is None.

    With no model and ``lang="auto"``, each text goes to the shipped ``zh`` or ``en`` model by its script
    (:func:`route`); records come back in input order either way (see :meth:`SentimentModel.predict`).

    Raises:
        SentimentError: a model that cannot be loaded.
        ValueError: an unknown precision or lang, or a model and a lang both.
        TypeError: ``texts`` is one string or bytes object, or holds something that is not a string.
    """
    return predict_with(target_of(model, lang, precision), text_list(texts), ModelRef.load)
