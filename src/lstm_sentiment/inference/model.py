"""``SentimentModel``: load a bundle (or a shipped default), encode, probabilities, records, evaluate.

The pieces it is made of are public for code that holds a network but no bundle yet (training evaluates
the network it has just trained with them): :class:`WordIds`, :func:`probabilities` and
:func:`evaluation_report`. This module knows nothing of routing, pools, streams, explain or serve.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import math
import numbers
import os
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from importlib import resources
from pathlib import Path

import torch

from lstm_sentiment.bundle import bundle_name, load_bundle
from lstm_sentiment.data.dataset import LabelledTexts, as_three_way_numbers, canonical_labels, check_rows, conflicting_texts, unfolded_labels_note
from lstm_sentiment.errors import SentimentError, warn_caller
from lstm_sentiment.inference.batches import length_batches, pad_batch
from lstm_sentiment.text.normalize import has_han, has_letter, lone_surrogate, same_text_key
from lstm_sentiment.text.tokenize import Tokenized, warn_truncated
from lstm_sentiment.text.vocab import UNK_ID
from lstm_sentiment.vectors.subword import has_word_char

DEFAULT_MODELS = ("zh", "en")
# A prediction record's error for a text that is not blank but holds nothing once normalised.
NO_WORDS = "no words once normalised (markup, links, mentions or control characters only)"
PRECISIONS = ("float32", "bfloat16")
PREDICT_BATCH = 256
# Padded steps (N · L_max) per inference batch: 64 texts of 64 words, or 16 of 256. Bounds the memory of
# the LSTM's activations, which for 256 texts of 256 words would take several hundred MB.
PREDICT_BATCH_TOKENS = 4_096
# Words met after training whose subword vectors a loaded model keeps (~40 MB at E = 100): past this many,
# the next call that starts while no other is reading clears them (each is made again, the same, when next
# met), so a server reading endless new text stays within bounds. Calls that overlap without a gap let the
# table grow to twice this; past that, new words are read as <unk>.
MAX_ADDED_WORDS = 100_000


def check_precision(value: str) -> str:
    """``value`` if it is one of :data:`PRECISIONS`.

    Raises:
        ValueError: any other value (an unchecked "fp16" ran float32 silently).
    """
    if value not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {value!r}")
    return value


def default_model_path(name: str) -> Path:
    """Directory of a model shipped inside the package ("zh" or "en")."""
    if name not in DEFAULT_MODELS:
        raise SentimentError(f"unknown default model {name!r}; choose one of {', '.join(DEFAULT_MODELS)} or a directory")
    return Path(str(resources.files("lstm_sentiment").joinpath("assets", "models", name)))


def model_path(path: str | Path) -> Path:
    """A bundle directory given by the user, as a Path.

    Raises:
        SentimentError: an empty or blank name (``Path("")`` is the current folder: "--model ''" said
            ".: not a model bundle"); a shipped model's name in another case ("ZH"), or as a Path, where no such
            folder is.
        TypeError: ``path`` is neither a str nor a path.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"a model is a bundle directory (str or Path) or the name zh or en, not {type(path).__name__}")
    if not str(path).strip():
        raise SentimentError("an empty model path; give a bundle directory, or zh or en")
    if str(path).lower() in DEFAULT_MODELS and not Path(path).exists():
        # A Path is always a directory (Path("zh") said "named zh and en, in lower case", which it is).
        hint = f"a Path names a directory: load the shipped model by its name as a str, {str(path).lower()!r}" if isinstance(path, os.PathLike) else "the shipped models are named " + " and ".join(DEFAULT_MODELS) + ", in lower case"
        raise SentimentError(f"{path}: model directory not found; {hint}")
    if isinstance(path, str) and "/" not in path and not Path(path).exists():
        # `serve --model fr` said "fr: model directory not found", naming no model it could have meant.
        raise SentimentError(f"{path}: model directory not found (the shipped models are named {' and '.join(DEFAULT_MODELS)})")
    return Path(path)


class WordIds:
    """Token → id for one network and its vocabulary, as prediction reads words.

    A vocabulary word gets its row; any other word the id of its subword vector (mean of its character
    n-gram rows, when the network has them and the word holds a letter, digit or Han character), added to
    the network at first sight (at most :data:`MAX_ADDED_WORDS`); else ``<unk>``. A word with a letter or
    digit that no vocabulary word holds (Cyrillic for the en model, say) is ``<unk>`` too: the n-gram rows
    it hashes to were trained only on other n-grams that share their bucket, so its "vector" would be noise
    read as if it were a word, and the text would get a confident label without the "no known words" flag.
    """

    def __init__(self, network, vocab) -> None:
        self.network = network
        self.vocab = vocab
        self._added: dict[str, int] = {}
        self._seen_chars: frozenset[str] | None = None
        # Threads that predict with one model (serve's pool) add words to one table: two at once wrote a
        # word's row into a table the other was replacing (a zero vector, silently wrong scores) or past its end.
        self._lock = threading.Lock()
        self._readers = 0

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        """Hold the words added so far for ids made within (they index the network's table until its
        forward pass is done). Past :data:`MAX_ADDED_WORDS`, a call that starts while no other reads first
        clears them: a text's scores never depend on what was read before."""
        with self._lock:
            if not self._readers and len(self._added) >= MAX_ADDED_WORDS:
                self._added.clear()
                self.network.clear_added_words()
            self._readers += 1
        try:
            yield
        finally:
            with self._lock:
                self._readers -= 1

    def __call__(self, tokens: Sequence[str]) -> list[int]:
        """Ids of ``tokens``; empty for no tokens."""
        get = self.vocab.stoi.get
        ids = [get(t, -1) for t in tokens]
        if -1 in ids:
            ids = [i if i >= 0 else self._added_id(t) for i, t in zip(ids, tokens)]
        return ids

    def _added_id(self, word: str) -> int:
        i = self._added.get(word)
        if i is None:
            if not self._chars_seen(word):
                return UNK_ID
            vector = self.network.subword_vector(word)
            if vector is None:
                return UNK_ID
            with self._lock:
                i = self._added.get(word)  # another thread may have added it meanwhile
                if i is None:
                    if len(self._added) >= 2 * MAX_ADDED_WORDS:
                        return UNK_ID
                    i = self._added[word] = self.network.add_word(vector)
        return i

    def _chars_seen(self, word: str) -> bool:
        if self._seen_chars is None:  # built at the first unseen word: most texts never need it
            self._seen_chars = frozenset("".join(self.vocab.itos))
        return all(ch in self._seen_chars for ch in word if ch.isalnum())


@torch.inference_mode()
def probabilities(
    network,
    id_lists: Sequence[Sequence[int]],
    *,
    temperature: float = 1.0,
    precision: str = "float32",
    batch_size: int = PREDICT_BATCH,
) -> torch.Tensor:
    """Softmax probabilities of ``softmax(logits / temperature)``, float32 (N, C), in input order.

    Texts are batched by length so padding stays small (see :func:`length_batches`, at most
    ``batch_size`` texts and :data:`PREDICT_BATCH_TOKENS` padded steps a batch); pooling ignores
    padding, so a text's probabilities do not depend on its batch beyond float32 rounding.

    Args:
        network: a :class:`~lstm_sentiment.models.classifier.SentimentLSTM` in eval mode.
        id_lists: N lists of token ids, each non-empty.
        temperature: a finite number > 0 (the bundle's, fitted on validation).
        precision: "float32", or "bfloat16" (``torch.autocast`` over the forward pass).
    Raises:
        ValueError: ``batch_size`` < 1 (0 would batch by padded steps alone, without a word); a precision
            not in :data:`PRECISIONS` (it ran float32 silently); a temperature that is not a finite number
            > 0 (0 gave NaN); an empty id list, named by its index (it failed inside the LSTM); an id outside
            the vocabulary and the words added to it (torch's "index out of range in self").
        TypeError: an id that is not an integer (:func:`~lstm_sentiment.inference.batches.pad_batch`).
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1:
        raise ValueError(f"batch_size must be an int >= 1, got {batch_size!r}")
    batch_size = int(batch_size)
    check_precision(precision)
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not 0 < temperature < math.inf:
        raise ValueError(f"temperature must be a finite number > 0, got {temperature!r}")
    empty = next((i for i, ids in enumerate(id_lists) if len(ids) == 0), None)
    if empty is not None:
        raise ValueError(f"id list {empty} is empty: every text needs at least one token id (UNK_ID for none)")
    probs = torch.empty(len(id_lists), network.classifier.out_features)
    device = next(network.parameters()).device
    ids_end = network.embedding.num_embeddings + network.added
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bfloat16"):
        for chunk in length_batches([len(x) for x in id_lists], batch_size, PREDICT_BATCH_TOKENS):
            ids, lengths = pad_batch([id_lists[i] for i in chunk])
            low, high = int(ids.min()), int(ids.max())
            if low < 0 or high >= ids_end:
                wrong = low if low < 0 else high
                raise ValueError(f"token id {wrong} is outside the vocabulary and its added words, ids 0 to {ids_end - 1}")
            # lengths stay on the CPU: packing and the padded path read them there.
            logits = network(ids.to(device, non_blocking=True), lengths)
            probs[torch.tensor(chunk)] = torch.softmax(logits.float() / temperature, dim=-1).cpu()
    return probs


def warn_of_degenerate_data(data: LabelledTexts) -> None:
    """Warn where ``data`` hold one class: its accuracy is the recall of that class, and macro-F1 (1.0 where
    every text is right) says little (the command printed this alone; from Python the figures came back
    without a word); and where one text, as the model reads it (:func:`same_text_key`), is given twice with
    different labels: every copy is scored, so some are wrong whatever the model says (evaluate scored them
    silently; train drops such texts)."""
    classes = sorted(set(data.labels))
    if len(classes) == 1:
        warn_caller(f"the data hold one class ({classes[0]}); macro-F1 and the other classes' figures say little")
    conflicting = conflicting_texts(data, key=same_text_key)
    if conflicting:
        warn_caller(f"{data.source}: {len(conflicting)} text(s) given with different labels (the first: {conflicting[0][:60]!r}); every copy is scored, so some count as wrong whatever the model says")


def warn_zero_one_of_three(labels: Sequence[str], id2label: Sequence[str], source: str) -> None:
    """Warn where a model of the classes -1, 0 and 1 is scored on data labelled 0 and 1 alone (``labels`` as
    :func:`canonical_labels` folds them, before :func:`as_three_way_numbers`: neutral/positive are words
    here, not 0 and 1): they are read as the model's 0 (neutral) and 1, so a file where 0 means negative
    counted every negative text as neutral (accuracy 0.44 without a word, found by a new user's trial)."""
    if {"-1", "0", "1"} <= set(id2label) and set(labels) == {"0", "1"}:
        warn_caller(f"{source}: the labels 0 and 1 are read as the model's classes '0' and '1' (it has '-1' too); if 0 means negative here, write it -1")


def evaluation_report(probs: torch.Tensor, data: LabelledTexts, id2label: Sequence[str], *, temperature: float | dict[str, float], precision: str, name: str, row_temperature: torch.Tensor | None = None) -> dict:
    """Accuracy, macro-F1, per-class figures, confusion matrix and ECE of ``probs`` against ``data``'s labels.

    Args:
        probs: float32 (N, C), columns in ``id2label`` order, rows in ``data``'s order.
        temperature: the one ``probs`` were computed at (reported); for rows of several models, each
            model's (by name), with ``row_temperature`` float32 (N,), each row's.
        precision: "float32" or "bfloat16", reported as ``compute_dtype``.
        name: the model, for the error message.
    Returns:
        :func:`~lstm_sentiment.metrics.classification_report`'s dict, with ``ece`` (expected calibration
        error, 15 bins, of ``probs``), ``ece_unscaled`` (the same at T = 1: before temperature scaling;
        fitted class biases are part of the output layer's bias, so they stay), ``temperature``,
        ``source`` (the data's) and ``compute_dtype``.
    Raises:
        SentimentError: a label the model does not know, or non-finite scores.
    """
    # why here: torchmetrics takes about a second to import, and only evaluation needs it (not predict).
    from lstm_sentiment.metrics import classification_report, expected_calibration_error

    check_known_labels(data, id2label)
    index = {label: i for i, label in enumerate(id2label)}
    if not bool(probs.isfinite().all()):
        raise SentimentError(f"{name}: the model gives non-finite scores (damaged or diverged weights)")
    truth = [index[y] for y in data.labels]
    report = classification_report(truth, probs.argmax(-1).tolist(), list(id2label))
    labels = torch.tensor(truth)
    report["ece"] = round(expected_calibration_error(probs, labels), 6)
    # softmax(T · log softmax(z / T)) = softmax(z): the probabilities at T = 1 without a second forward pass.
    scale = temperature if row_temperature is None else row_temperature.unsqueeze(-1)
    unscaled = torch.softmax(scale * probs.clamp_min(torch.finfo(probs.dtype).tiny).log(), dim=-1)
    report["ece_unscaled"] = round(expected_calibration_error(unscaled, labels), 6)
    report["temperature"] = temperature
    report["source"] = data.source
    report["compute_dtype"] = precision  # "float32" or "bfloat16": not a classification figure
    return report


def check_known_labels(data: LabelledTexts, id2label: Sequence[str]) -> None:
    """Raise SentimentError naming ``data``'s labels that are not among ``id2label`` (folded already)."""
    unknown = sorted(set(data.labels) - set(id2label))
    if unknown:
        spelled = ", also spelled 0/1, -1/1, neg/pos or true/false" if set(id2label) == {"negative", "positive"} else ""
        raise SentimentError(f"{data.source}: labels {unknown} unknown to the model (it knows {list(id2label)}{spelled}{unfolded_labels_note(data.labels, id2label)})")


def refuse_one_text(texts: object) -> None:
    """Raise TypeError for one string or bytes object given where a sequence of texts is wanted: it would
    be read as one text per character or per byte; for a mapping, whose keys alone would be read; and for
    anything that cannot be iterated (None said "'NoneType' object is not iterable"), or a 0-d array
    (numpy's ``np.array("好")`` said "iteration over a 0-d array")."""
    if isinstance(texts, (str, bytes)):
        raise TypeError(f"texts must be a sequence of strings, not one {'string' if isinstance(texts, str) else 'bytes object'}: predict([text])")
    if isinstance(texts, Mapping) or not isinstance(texts, Iterable):
        raise TypeError(f"texts must be a sequence of strings, got {type(texts).__name__}")
    if getattr(texts, "ndim", None) == 0:
        raise TypeError(f"texts must be a sequence of strings, got a 0-d {type(texts).__name__}: predict([str(text)])")


def text_list(texts: Iterable[str]) -> list[str]:
    """``texts`` (any iterable: a generator is read once) as a list of plain ``str`` (records hold no
    numpy.str_ and the like).

    Raises:
        TypeError: ``texts`` is one string or bytes object, or holds something that is not a string.
    """
    refuse_one_text(texts)
    texts = list(texts)
    bad = next((i for i, text in enumerate(texts) if not isinstance(text, str)), None)
    if bad is not None:
        raise TypeError(f"texts[{bad}] is {type(texts[bad]).__name__}, not a string")
    return [str(text) for text in texts]


class SentimentModel:
    """A trained sentiment model ready to predict.

    Use :meth:`load`. ``id2label`` gives the class names in logit order; ``config`` is the bundle's
    ``config.json``; ``path`` its directory. Batches go to the device the network is on (:attr:`device`).
    """

    def __init__(self, network, vocab, tokenizer, config: dict, path: Path, precision: str = "float32") -> None:
        self.precision = precision
        self.network = network
        self.vocab = vocab
        self.tokenizer = tokenizer
        self.config = config
        self.path = path
        self.id2label: list[str] = list(config["id2label"])
        # Logits are divided by this before the softmax (temperature scaling, Guo et al. 2017); fitted on
        # validation by training, 1.0 for bundles without it.
        self.temperature = float(config.get("temperature", 1.0))
        self.token_ids = WordIds(network, vocab)
        # "zh", "en" or None (both): a text of the other script gets a warning (:func:`text_warning`).
        self.reads = reading_language(config)

    def __repr__(self) -> str:
        return f"SentimentModel({str(self.path)!r}, labels={self.id2label}, precision={self.precision!r}, device={str(self.device)!r})"

    @classmethod
    def load(cls, path_or_name: str | Path = "zh", device: str | torch.device | None = None, precision: str = "float32") -> "SentimentModel":
        """Load a bundle directory, or a shipped default by name ("zh", "en"; a directory of that name: "./zh").

        Args:
            device: where the network runs; None: "cuda" when available, else "cpu".
            precision: "float32" (default), or "bfloat16": :meth:`probabilities` (so ``predict``,
                ``evaluate``, and the running predictions and contributions of ``explain``) runs the LSTM
                and linear layers under ``torch.autocast`` in bfloat16 (8-bit significand). On CPUs with
                AVX512-BF16 or AMX the forward pass ran 1.58 times faster here; probabilities move by up to
                about 0.01 and a few labels in a thousand near 0.5 may flip (BENCHMARKS.md gives the
                shipped models' accuracy both ways). On CPUs without them (AVX2 only) oneDNN has no
                bfloat16 LSTM, so the recurrence runs in float32 there. The gate trace of ``explain`` runs
                float32 always.
        Raises:
            SentimentError: missing, truncated, corrupt or other-version bundle, or a device this torch
                cannot use ("cuda" on a build without CUDA or a machine without a GPU, "mps" off Apple's).
            ValueError: an unknown precision or device name, or "meta".
            MemoryError: no memory for the weights (a ``ulimit -v``, say), not a damaged bundle.
        """
        # The names "zh" and "en" (as str) are the shipped models even where a folder has that name; a
        # Path, or "./zh", is a directory.
        shipped = isinstance(path_or_name, str) and path_or_name in DEFAULT_MODELS
        path = default_model_path(path_or_name) if shipped else model_path(path_or_name)
        if device is None:
            device = "cuda" if torch.cuda.is_available() else "cpu"
        try:
            device = torch.device(device)
        except RuntimeError:
            raise ValueError(f"unknown device {device!r}; e.g. 'cpu', 'cuda', 'cuda:1'") from None
        if device.type == "meta":
            raise ValueError("device 'meta' holds shapes, not values: nothing could be predicted on it")
        if device.type == "cuda" and not torch.cuda.is_available():
            # torch raises an AssertionError ("Torch not compiled with CUDA enabled") at .to() otherwise.
            raise SentimentError(f"device {str(device)!r}: no CUDA device here (torch {torch.__version__})")
        network, vocab, tokenizer, config = load_bundle(path)
        network.keep_tables_in_float16()  # stored in float16: the same values in half the memory
        try:
            network = network.to(device)
        except (RuntimeError, AssertionError) as err:  # e.g. "mps" on a torch built without it
            raise SentimentError(f"device {str(device)!r}: {str(err).splitlines()[0]}") from None
        return cls(network, vocab, tokenizer, config, path, precision)

    @property
    def precision(self) -> str:
        """"float32" or "bfloat16" (see :meth:`load`); may be set after loading.

        Raises:
            ValueError: on setting any other value (an unchecked "fp16" ran float32 silently).
        """
        return self._precision

    @precision.setter
    def precision(self, value: str) -> None:
        self._precision = check_precision(value)

    @property
    def name(self) -> str:
        """The bundle's folder name (:func:`~lstm_sentiment.bundle.bundle_name`)."""
        return bundle_name(self.path)

    @property
    def device(self) -> torch.device:
        """The device of the network's parameters."""
        return next(self.network.parameters()).device

    def encode(self, texts: Sequence[str]) -> list[Tokenized]:
        """Tokenize each text as at training time (truncated to the model's maximum).

        Raises:
            TypeError: as :meth:`predict` (``encode("好坏")`` gave one record per character).
        """
        return [self.tokenizer(text) for text in text_list(texts)]

    def encode_prepared(self, prepared: Sequence[str], langs: Sequence[str | None]) -> list[Tokenized]:
        """:meth:`encode` for texts already prepared (``text.tokenize.prepare`` with this model's
        ``tokenizer.max_tokens``) whose language was chosen already ("zh"/"en"; None: detect)."""
        return [self.tokenizer.tokenize_prepared(p, lang) for p, lang in zip(prepared, langs)]

    def probabilities(self, id_lists: Sequence[Sequence[int]], batch_size: int = PREDICT_BATCH) -> torch.Tensor:
        """Softmax probabilities at the model's temperature and precision, float32 (N, C), for encoded
        texts (each non-empty), in input order; see :func:`probabilities`."""
        return probabilities(self.network, id_lists, temperature=self.temperature, precision=self.precision, batch_size=batch_size)

    def predict(self, texts: Sequence[str], batch_size: int = PREDICT_BATCH) -> list[dict]:
        """One record per text, in input order.

        Returns:
            ``{"text", "label", "score", "probs"}``: ``label`` lowercase from ``id2label``, ``score`` the
            probability of ``label``, ``probs`` every class's probability. Flags: ``"truncated": true``
            when the text was cut to the model's maximum; ``"warning"`` (:func:`text_warning`): "no
            known words" when no token is read as a word, each <unk> or punctuation (emoji or
            punctuation only, say; a word outside the vocabulary is read through its character n-grams),
            "zh text; the model reads en" (and the reverse) for a text of the other script, "Cyrillic
            words read as <unk>" (and the like) for a few words of a third script, "rare Chinese
            characters read as <unk>", or "emoji or symbols read as <unk>" beside words. An empty or
            whitespace-only text gets ``label``/``score``/``probs`` null and ``"error": "empty text"``;
            so does a text with no words once normalised, with ``"error"`` :data:`NO_WORDS`, one holding a
            lone surrogate (``"\\ud800"``, which no UTF-8 output can hold), and a text
            whose probabilities are not finite (damaged weights), with an ``error`` saying so.
        Raises:
            TypeError: ``texts`` is one string or bytes object (it would be read as one text per
                character or per byte) or holds something that is not a string.
        """
        texts = text_list(texts)
        encoded = self.encode(texts)
        warn_truncated(sum(e.truncated for e in encoded), self.tokenizer.max_tokens)
        return self.records(texts, encoded, batch_size)

    def records(self, texts: Sequence[str], encoded: Sequence[Tokenized], batch_size: int = PREDICT_BATCH) -> list[dict]:
        """:meth:`predict`'s records for texts already tokenized by :meth:`encode` (no truncation warning)."""
        with self.token_ids.reading():
            id_lists = [self.token_ids(e.tokens) for e in encoded]
            probs = self.probabilities([ids or [UNK_ID] for ids in id_lists], batch_size)
        best = probs.argmax(-1).tolist()  # the first of equal maxima, as max() would pick
        labels = self.id2label
        records = []
        finite = probs.isfinite().all(-1).tolist()
        for text, enc, ids, p, k, ok in zip(texts, encoded, id_lists, probs.tolist(), best, finite):
            surrogate = lone_surrogate(text)
            if surrogate:
                # As training and evaluation refuse it: no UTF-8 output can hold the text (it was scored as <unk>).
                records.append({"text": text, "label": None, "score": None, "probs": None, "error": f"holds a lone surrogate ({surrogate}), not text"})
                continue
            if not ids:
                # As explain and a training file tell them apart: "&nbsp;", a link or "\0" alone is no blank.
                error = "empty text" if not text.strip() else NO_WORDS
                records.append({"text": text, "label": None, "score": None, "probs": None, "error": error})
                continue
            if not ok:
                # NaN is not JSON, and a label picked among NaNs means nothing: damaged or diverged weights.
                records.append({"text": text, "label": None, "score": None, "probs": None, "error": f"non-finite scores from the model {self.path}"})
                continue
            record = {"text": text, "label": labels[k], "score": p[k], "probs": dict(zip(labels, p))}
            if enc.truncated:
                record["truncated"] = True
            warning = text_warning(enc.tokens, [i != UNK_ID for i in ids], self.reads)
            if warning:
                record["warning"] = warning
            records.append(record)
        return records

    def evaluate(self, data: LabelledTexts, batch_size: int = PREDICT_BATCH) -> dict:
        """Accuracy, macro-F1, per-class figures and confusion matrix on labelled texts; their labels are
        folded as a file's are (:func:`~lstm_sentiment.data.dataset.canonical_labels`: 0/1 read as
        negative/positive beside a model of those classes).

        Returns:
            :func:`evaluation_report`'s dict (``compute_dtype`` is the model's precision).
        Warns, Raises: as :meth:`scored`; warns too where the data hold one class or one text with two
            labels (:func:`warn_of_degenerate_data`).
        """
        probs, data = self.scored(data, batch_size)
        report = evaluation_report(probs, data, self.id2label, temperature=self.temperature, precision=self.precision, name=str(self.path))
        warn_of_degenerate_data(data)
        return report

    def scored(self, data: LabelledTexts, batch_size: int = PREDICT_BATCH) -> tuple[torch.Tensor, LabelledTexts]:
        """The probabilities :meth:`evaluate` scores, float32 (N, C) at the model's temperature, and ``data``
        with its labels folded to the model's classes.

        Warns:
            UserWarning: labels 0 and 1 alone beside a model of -1, 0 and 1 (:func:`warn_zero_one_of_three`);
                texts of the other script than the model reads (:func:`text_warning`), and apart
                texts with no word the model knows (:func:`has_known_word`), each counted when they are at
                least ``OTHER_SCRIPT_SHARE`` (1 %) of the data; texts cut to the model's maximum length, counted.
        Raises:
            SentimentError: no texts, a text that is not a string or a missing label (by row), a text
                with nothing to read (empty or whitespace, or only markup,
                which :meth:`predict` gives no label either), a label the model does not know, or
                non-finite scores.
            TypeError: ``data`` is not a :class:`LabelledTexts`.
        """
        if not isinstance(data, LabelledTexts):
            # A list of (text, label) pairs failed on "'list' object has no attribute 'texts'".
            raise TypeError(f"evaluate takes LabelledTexts(texts, labels, source) from lstm_sentiment.data.dataset, not {type(data).__name__}")
        if not len(data):
            raise SentimentError(f"{data.source}: no labelled texts to evaluate")
        check_rows(data)
        # As load_dataset folds a file's labels (1/0, pos/neg, True/False beside negative/positive).
        labels = canonical_labels(data.labels, self.id2label)
        warn_zero_one_of_three(labels, self.id2label, data.source)
        data = dataclasses.replace(data, labels=as_three_way_numbers(labels, self.id2label))
        encoded = self.encode(data.texts)
        warn_truncated(sum(e.truncated for e in encoded), self.tokenizer.max_tokens, data.source)  # as predict and train do
        empty = next((i for i, e in enumerate(encoded) if not e.tokens), None)
        if empty is not None:
            # Read as <unk> it would be scored as a prediction the model never made.
            raise SentimentError(f"{data.source}: text {empty + 1} ({data.texts[empty][:40]!r}) has nothing to read; predict gives it no label")
        scripts = [other_script(e.tokens, self.reads) for e in encoded]  # None: the model's own, or no script
        if self.reads is not None:
            other = [script for script in scripts if script]
            # predict flags such texts one by one; a score over many would otherwise look like the model's.
            # A stray one (zh-reviews' test split holds one English hotel review) changes the figures little.
            if len(other) >= OTHER_SCRIPT_SHARE * len(encoded):
                # Named per script: the first one's name stood for all (14 texts of 7 scripts were "Cyrillic").
                by_script = Counter(other).most_common()
                what = by_script[0][0] if len(by_script) == 1 else "of other scripts (" + ", ".join(f"{script} {n}" for script, n in by_script) + ")"
                warn_caller(f"{len(other)} of {len(encoded)} texts are {what}; the model reads {self.reads}, so its figures on them say little")
        with self.token_ids.reading():
            id_lists = [self.token_ids(e.tokens) for e in encoded]
        # predict flags each such text (emoji, digits alone); a score over many looked like the model's. Texts
        # of the other script are told above.
        blind = sum(not script and not has_known_word(e.tokens, [i != UNK_ID for i in ids]) for e, ids, script in zip(encoded, id_lists, scripts))
        if blind and blind >= OTHER_SCRIPT_SHARE * len(encoded):
            warn_caller(f"{blind} of {len(encoded)} texts hold no word the model knows (emoji, digits or punctuation alone?); their labels rest on no word, so its figures on them say little")
        return self.probabilities(id_lists, batch_size), data


OTHER_SCRIPT_SHARE = 0.01  # evaluate warns when at least this share of the texts is of the other script


def text_warning(tokens: Sequence[str], in_vocab: Sequence[bool], reader: str | None) -> str | None:
    """Why a label may mean little, or None: for a text of a script the model does not read (``reader``:
    :func:`reading_language`; None, a model of both zh and en), "zh text; the model reads en", "Cyrillic
    text; the model reads zh" and the like (:func:`other_script`); else "no known words"
    (:func:`has_known_word`); else, for words of a third script read as ``<unk>`` (letters no vocabulary
    word holds, see :class:`WordIds`), "Cyrillic words read as <unk>" and the like, and for an en model
    "Chinese words read as <unk>"; else, for a model that reads zh, "rare Chinese characters read as <unk>"
    (Han characters that no vocabulary word holds); else, for emoji or other marks without a letter, digit
    or Han character outside the vocabulary, "emoji or symbols read as <unk>". The script comes first: it
    says which model to use instead."""
    script = other_script(tokens, reader)
    if script:
        return f"{script} text; the model reads {reader or 'zh and en'}"
    if not has_known_word(tokens, in_vocab):
        return "no known words"
    # A model trained without word dropout learns <unk> from emoji and symbols alone: five of them for the
    # letters of фильм turned 我喜欢这个电影 from positive 0.83 to negative 0.96, and the text's script (Han)
    # raised no flag.
    unknown = [token for token, known in zip(tokens, in_vocab) if not known]
    script = token_script(unknown)  # by letters alone
    # English words in Chinese are many (iPhone, ok) and the zh model knows some; Chinese in English is <unk>.
    if script is not None and script != reader and not (script in DEFAULT_MODELS and reader != "en"):
        return f"{'Chinese' if script == 'zh' else script} words read as <unk>"
    # Nor is a Han character that no vocabulary word holds read well: 犇犇 turned 这个犇犇的东西真好 negative
    # 0.75 (+0.30), Cantonese 㗎 made 好正 (positive 0.69) 好正㗎, negative 0.52.
    if reader != "en" and any(map(has_han, unknown)):
        return "rare Chinese characters read as <unk>"
    # An emoji among words is <unk> as well, and weighs as much: 😀 turned 我喜欢 (positive 0.77) negative 0.58.
    if any(not has_word_char(token) for token in unknown):
        return "emoji or symbols read as <unk>"
    return None


def other_script(tokens: Sequence[str], reader: str | None) -> str | None:
    """The script of a tokenized text (:func:`token_script`) when it is not the one ``reader`` reads, else
    None (also for a text that claims no script). A model of both (``reader`` None) reads zh and en, so
    only a third script is other to it."""
    script = token_script(tokens)
    if script is None or script == reader:
        return None
    return script if reader is not None or script not in DEFAULT_MODELS else None


def token_script(tokens: Sequence[str]) -> str | None:
    """"zh", "en", another script's name ("Cyrillic", "kana", "Hangul"…) or None: the script of a tokenized
    text, by the Unicode names of its letters. A text with at least as many Han characters as Latin words is
    zh, as routing tells it (Chinese with English words is Chinese; an English review quoting a Chinese title
    is English), unless the letters of third scripts outnumber them (Korean Hangul beside Hanja, Russian
    beside Chinese: then it is the script of most of those) or it holds kana: two or more, and a quarter as
    many as its Han characters (Chinese writes none but の, the internet's 的, and a Japanese name now and then; a Japanese sentence may
    hold more Han than kana: 16 of the 102,326 zh training texts are so read); any other text
    is the script of most of its letters (Latin: en). Digits or emoji alone claim nothing."""
    letters = "".join(ch for ch in "".join(tokens) if ch.isalpha())
    scripts = Counter(_letter_script(ch) for ch in letters)
    scripts.pop(None, None)
    han = scripts["zh"]
    kana = scripts["kana"] - letters.count("の")
    if han and kana >= max(2, han / 4):
        return "kana"
    latin_words = _latin_words(tokens)
    if han and han >= latin_words:
        third = Counter({script: n for script, n in scripts.items() if script not in DEFAULT_MODELS})
        # Outnumbered by a third script's letters, the text is of that script, never "en": routing, which
        # counts Han against Latin words alone, sent it to zh (I love 这个电影 очень said "en text; the model
        # reads zh").
        return "zh" if han >= sum(third.values()) else third.most_common(1)[0][0]
    return scripts.most_common(1)[0][0] if scripts else None


def _latin_words(tokens: Sequence[str]) -> int:
    """Tokens that are Latin words, as routing (:func:`~lstm_sentiment.text.tokenize.detect_lang`) counts
    them in a text: an @name's parts are none (@JackyCheung @Mike_Chen 好吃 is zh; jieba cuts mike_chen into
    three tokens)."""
    count, in_name = 0, False
    for token in tokens:
        in_name = token == "@" or (in_name and _NAME_PART.fullmatch(token) is not None)
        if not in_name and token[:1].isalpha() and _letter_script(token[0]) == "en":
            count += 1
    return count


_NAME_PART = re.compile(r"[A-Za-z0-9_\-]+")


# By the first word of a letter's Unicode name; any other name is its own script ("CYRILLIC": "Cyrillic").
# ー (KATAKANA-HIRAGANA PROLONGED SOUND MARK) lengthens Chinese internet spellings too (赞ーーー): no script.
_SCRIPT_NAMES = {"LATIN": "en", "CJK": "zh", "HIRAGANA": "kana", "KATAKANA": "kana", "KATAKANA-HIRAGANA": None}


@functools.lru_cache(maxsize=None)  # a text's letters repeat, and there are only so many of them
def _letter_script(ch: str) -> str | None:
    name = unicodedata.name(ch, "other").split()[0]
    return _SCRIPT_NAMES.get(name, name.capitalize())


def reading_language(config: dict) -> str | None:
    """The script a bundle reads: its data language when "zh" or "en"; for a model trained with lang
    "auto", the script of at least 99 % of its training texts (``training_scripts`` in config.json, written
    by training since 2026-12-04); None for a model of both, or a bundle without the record."""
    lang = config.get("data", {}).get("lang")
    if lang in DEFAULT_MODELS:
        return lang
    return next((script for script, share in config.get("training_scripts", {}).items() if share >= 0.99), None)


def has_known_word(tokens: Sequence[str], in_vocab: Sequence[bool]) -> bool:
    """Whether some token is in the vocabulary and holds a letter (a Han character counts). Punctuation
    alone ("。。！") is no word, nor are numbers alone: an id column read as the texts ("12345" positive 0.88
    with the en model) is as unfounded a label as one for emoji, and is flagged the same way."""
    return any(known and has_letter(token) for token, known in zip(tokens, in_vocab))
