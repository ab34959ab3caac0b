"""``train``: texts → tokens → vocabulary and word vectors → Lightning training → model bundle."""

from __future__ import annotations

import csv
import functools
import inspect
import io
import json
import logging
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Set
from contextlib import contextmanager
from dataclasses import fields, replace
from pathlib import Path
from typing import TypeVar

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback, EarlyStopping, ModelCheckpoint, RichProgressBar
from lightning.pytorch.loggers import CSVLogger
from lightning.pytorch.utilities.exceptions import MisconfigurationException
from torch import Tensor

from lstm_sentiment import interrupt
from lstm_sentiment.atomic import claimed, home_expanded, remove_dead_folders
from lstm_sentiment.bundle import OWN_ENTRIES, bundle_name, check_bundle_target, load_bundle, save_bundle
from lstm_sentiment.config import DataConfig, ModelConfig, TrainConfig
from lstm_sentiment.data.dataset import LabelledTexts, as_three_way_numbers, canonical_labels, check_rows, check_trainable, label_order, unfolded_labels_note
from lstm_sentiment.embeddings import check_vectors_file, load_vectors, vocabulary_and_matrix
from lstm_sentiment.errors import SentimentError, warn_caller
from lstm_sentiment.inference.model import DEFAULT_MODELS, WordIds, default_model_path, evaluation_report, model_path, probabilities, reading_language, token_script
from lstm_sentiment.inference.routing import model_of_most, route_counts
from lstm_sentiment.logs import drops_lightning_noise, first_process, quiet_lightning
from lstm_sentiment.metrics import ECE_BINS, expected_calibration_error
from lstm_sentiment.models.classifier import SentimentLSTM
from lstm_sentiment.text.normalize import has_letter
from lstm_sentiment.text.tokenize import Tokenizer, warn_truncated
from lstm_sentiment.text.vocab import UNK_ID, Vocab
from lstm_sentiment.training.batches import bucketed_loader
from lstm_sentiment.training.calibration import bound_note, fit_scaling, fold_bias
from lstm_sentiment.training.card import model_card, scratch_vector
from lstm_sentiment.training.pretrain import pretrain_language_model
from lstm_sentiment.training.task import SentimentTask, class_weights
from lstm_sentiment.vectors import WordVectors, shipped_vectors

log = logging.getLogger("lstm_sentiment")
R = TypeVar("R")
# Frozen vectors leave a word without a pretrained row at its random start: warned of from this share of tokens.
SCRATCH_WARN_SHARE = 0.05


def _encode(tokenizer: Tokenizer, data: LabelledTexts) -> tuple[LabelledTexts, list[tuple[str, ...]]]:
    """``data`` without its texts that hold no word once normalised (markup, entities or control characters
    only: ``&nbsp;``, ``<br />``), with a warning naming the first; and the tokens of the rest. Such a text
    was left out of training without a word, and scored as ``<unk>`` in a test report, where predict gives
    it an "empty text" error."""
    encoded = [tokenizer(text) for text in data.texts]
    warn_truncated(sum(e.truncated for e in encoded), tokenizer.max_tokens, data.source)
    empty = [i for i, e in enumerate(encoded) if not e.tokens]
    if empty:
        warn_caller(f"{data.source}: {len(empty)} text(s) hold no word once normalised (markup, links, mentions or control characters only; the first: text {empty[0] + 1}, {data.texts[empty[0]][:40]!r}): left out")
        keep = [i for i, e in enumerate(encoded) if e.tokens]
        data = data.subset(keep)
        encoded = [encoded[i] for i in keep]
    return data, [e.tokens for e in encoded]


# A training set of which more than this share holds no letter is probably not texts at all.
LETTERLESS_SHARE = 0.5


def _warn_if_letterless(token_lists: list[tuple[str, ...]], source: str) -> None:
    """Warn when most training texts hold no letter (numbers or symbols alone): an id column named as the
    texts trained without a word (exit 0), and predict then flagged every such text "no known words"."""
    letterless = sum(not any(map(has_letter, tokens)) for tokens in token_lists)
    if letterless > LETTERLESS_SHARE * len(token_lists):
        warn_caller(f"{source}: {letterless} of {len(token_lists)} texts hold no letter (numbers or symbols only): is the text column right? (--text-column)")


def _loader(encode, tokens, labels, index, batch_size, shuffle, seed):
    # none empty: _encode left such texts out
    return bucketed_loader([encode(t) for t in tokens], [index[label] for label in labels], batch_size, shuffle, seed)


def load_base(init_from: str | Path) -> tuple:
    """The bundle ``init_from`` names ("zh" or "en": a shipped model; else a bundle directory), as
    :func:`~lstm_sentiment.bundle.load_bundle` returns it.

    Raises:
        SentimentError: an empty name, a missing folder, or a bundle that does not load (as ``load_bundle``).
    """
    return load_bundle(default_model_path(init_from) if init_from in DEFAULT_MODELS else model_path(init_from))


def _warn_of_ignored_settings(init_from: str | Path, *configs: tuple) -> None:
    """Warn of the ``(given, kept)`` configs' fields set away from their defaults that fine-tuning from
    ``init_from`` replaces by the base's: ``ModelConfig(hidden_size=64)`` trained the base's 128 units from
    Python without a word (the command refuses such flags)."""
    ignored = [
        f"{type(given).__name__}.{field.name}={getattr(given, field.name)!r}"
        for given, kept in configs
        for field in fields(given)
        if getattr(given, field.name) not in (field.default, getattr(kept, field.name))
    ]
    if ignored:
        warn_caller(f"fine-tuning keeps the network and tokenizer of {init_from}: {', '.join(ignored)} ignored (the base's are used)")


def _check_held_out(valid_data: LabelledTexts, test_data: LabelledTexts | None, domain_tests: dict[str, LabelledTexts]) -> None:
    """Raise SentimentError for a validation split that is empty or of one class, or an empty test split
    (``test_data`` or one of ``domain_tests``); checked as given and again once the texts of no word are
    left out (a test split of markup alone wrote macro-F1 NaN into metrics.json)."""
    if not valid_data.texts:
        raise SentimentError(f"{valid_data.source}: no validation texts")
    # An empty test split ran, and wrote macro-F1 NaN (not JSON) into metrics.json after training.
    for part in [test_data, *domain_tests.values()]:
        if part is not None and not part.texts:
            raise SentimentError(f"{part.source}: no test texts (give None for no test split)")
    if len(set(valid_data.labels)) < 2:
        # Macro-F1 over one class says nothing about the other, yet early stopping and calibration follow it.
        raise SentimentError(f"{valid_data.source}: validation holds one class ({valid_data.labels[0]!r}); it needs at least 2")


# config.json entries of train's own (save_bundle writes more, see OWN_ENTRIES there): an ``extra`` entry
# of the name replaced one (a temperature of 9 was loaded beside metrics fitted at 0.25).
_TRAIN_ENTRIES = frozenset({"temperature", "training_scripts", "training_data", "embeddings", "init_from"})


def _check_extra(extra: Mapping | None) -> None:
    """Raise for ``extra`` entries that cannot go into config.json beside train's own: ValueError for a name
    train or the bundle writes itself, TypeError for a key that is not a str or a value JSON does not hold
    (a set, numpy's int64), refused before training rather than after it."""
    if not extra:
        return
    key = next((key for key in extra if not isinstance(key, str)), None)
    if key is not None:
        # JSON writes keys as strings: 1 beside "1" gave config.json one key twice.
        raise TypeError(f"extra's keys must be str, not {type(key).__name__} ({key!r})")
    taken = sorted(str(key) for key in extra if key in _TRAIN_ENTRIES | OWN_ENTRIES)
    if taken:
        raise ValueError(f"extra names {', '.join(map(repr, taken))}, which the bundle's config.json holds of its own; choose other names")
    try:
        json.dumps(extra, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise TypeError(f"extra must hold JSON values (str, int, float, bool, None, lists and dicts of them): {err}") from None


def _unlabelled_texts(unlabelled: Sequence[str] | None) -> list[str] | None:
    """``unlabelled`` as a list, or None; TypeError for one string (it was read one character per text) or
    an item that is not a str (None failed in the tokenizer after the vocabulary was built)."""
    if unlabelled is None:
        return None
    if isinstance(unlabelled, (str, bytes, Mapping, Set)) or not isinstance(unlabelled, Iterable):  # a set's order changes run to run
        raise TypeError(f"unlabelled must be a sequence of texts (a list of str), not {type(unlabelled).__name__}")
    texts = list(unlabelled)
    bad = next((i for i, text in enumerate(texts) if not isinstance(text, str)), None)
    if bad is not None:
        raise TypeError(f"unlabelled text {bad + 1} is {type(texts[bad]).__name__}, not a str")
    return texts


def _check_not_base(out_dir: Path, init_from: str | Path | None) -> None:
    """Raise SentimentError when ``out_dir`` is the ``init_from`` bundle itself: the base was replaced even
    when the fine-tuned model came out worse, with a warning to keep it."""
    if init_from is not None and init_from not in DEFAULT_MODELS and out_dir.exists() and Path(init_from).exists() and out_dir.samefile(init_from):
        raise SentimentError(f"--out {out_dir} is the --init-from bundle: write the fine-tuned model elsewhere, so that the base stays to compare with")


def _holding_out_dir(func: Callable[..., R]) -> Callable[..., R]:
    """``train`` holding its ``out_dir`` (:func:`~lstm_sentiment.atomic.claimed`) on the first process, as the
    command holds ``--out``: from Python it took no lock, and a script's run and a command's into one folder
    each wrote, the first model gone."""
    signature = inspect.signature(func)

    @functools.wraps(func)
    def holding(*args, **kwargs) -> R:
        out_dir = signature.bind_partial(*args, **kwargs).arguments.get("out_dir")
        if not isinstance(out_dir, (str, os.PathLike)) or not first_process():
            return func(*args, **kwargs)  # a wrong type is train's to refuse
        with claimed(home_expanded(out_dir), "out_dir"):
            return func(*args, **kwargs)

    return holding


@_holding_out_dir
@drops_lightning_noise
def train(
    train_data: LabelledTexts,
    valid_data: LabelledTexts,
    test_data: LabelledTexts | None,
    out_dir: str | Path,
    model_cfg: ModelConfig = ModelConfig(),
    data_cfg: DataConfig = DataConfig(),
    train_cfg: TrainConfig = TrainConfig(),
    embeddings: Path | None = None,
    init_from: str | Path | None = None,
    domain_tests: dict[str, LabelledTexts] | None = None,
    extra: dict | None = None,
    unlabelled: Sequence[str] | None = None,
) -> dict | None:
    """Train a sentiment model and write its bundle to ``out_dir``.

    Starting point, in order of precedence:

    - ``init_from`` (a bundle directory, or "zh"/"en" for a shipped model): fine-tuning. Its vocabulary,
      word vectors, n-gram table, LSTM and tokenizer settings are kept (``model_cfg``'s sizes and
      ``data_cfg``'s tokenizer are then those of the bundle); new words get their subword vectors; its
      classifier head is kept when the label set is the same, else a new one is trained.
    - ``embeddings``: a word2vec/GloVe/fastText file through gensim (unseen words read as ``<unk>``).
    - otherwise the pretrained word vectors shipped for the data's language (:func:`shipped_vectors`),
      whose n-gram table gives unseen words a vector.

    Training: AdamW (word vectors, when not frozen, at ``lr · embedding_lr_scale``), gradient clipping,
    early stopping on validation macro-F1, best epoch kept, length-bucketed batches, per-epoch CSV log;
    then a temperature and class biases are fitted on validation (:func:`calibrate`). ``train_cfg``'s
    accelerator/devices/num_nodes/strategy go to ``lightning.Trainer`` (e.g. DDP over processes).

    With ``train_cfg.lm_epochs`` > 0, the LSTM is first pretrained as a language model
    (:func:`pretrain_language_model`) on the training texts and ``unlabelled`` (texts without labels;
    words outside the vocabulary read as ``<unk>``), its perplexity measured on the validation texts.

    ``domain_tests`` (name → test split) are evaluated too, into ``metrics["domains"]`` and the card.

    The splits are used as given: repeated texts, and texts that two splits share, are the caller's to
    drop (the command line's :func:`~lstm_sentiment.training.splits.training_splits` does). Texts of no
    word (markup alone) are left out of every split, with a warning.

    ``out_dir`` (``~`` expanded) is held while the run works toward it, as the command holds ``--out``
    (:func:`~lstm_sentiment.atomic.claimed`); ``extra`` entries are written into its ``config.json``.

    Returns:
        ``{"validation": report, "test": report | None, "calibration": {...}, ...}`` on the main
        process, None on the others.
    Raises:
        SentimentError: checked before any work: an ``out_dir`` that may not take a bundle
            (:func:`check_bundle_target`) or is the ``init_from`` bundle, a text that is not a string, a missing label (labels are folded
            as a file's: 0/1 and True/False are negative/positive), no validation texts, an empty test
            split (of ``test_data`` or ``domain_tests``), as given or once texts of no word are left out;
            another process writing ``out_dir``; fewer than 2
            classes, a class with < 2 examples, evaluation labels unseen in
            training, validation of one class, no word kept by ``data_cfg.min_count``, an unreadable
            ``init_from`` bundle or one of another language than the texts, a ``data_cfg.lang`` that is not
            the texts' (with the shipped vectors), or trainer settings this
            machine cannot run (:func:`check_trainer_settings`); before the classifier's training, fewer
            training batches than the trainer's processes (DDP); after training, weights or validation scores
            that diverged to NaN or infinity (nothing is written).
        ValueError: both ``init_from`` and ``embeddings``; an ``extra`` entry named as one of the bundle's own.
        TypeError: a split that is not :class:`LabelledTexts` (``train_data`` None too), an ``out_dir`` or
            ``embeddings`` that is not a path, ``unlabelled`` that is not a sequence of str, settings that
            are not a ``ModelConfig``, ``DataConfig`` and ``TrainConfig``, ``domain_tests`` or ``extra``
            that is not a dict, or ``extra`` holding what JSON does not.
    Warns:
        UserWarning: a test split of one class (its macro-F1 says little); an ``out_dir`` named "zh" or
            "en" (those names load the shipped models); an ``out_dir`` holding a trained model, once the
            checks have passed (it is replaced when the run ends).
    """
    if init_from is not None and embeddings is not None:
        raise ValueError("give init_from (--init-from) or embeddings (--embeddings), not both")
    # A dict of settings failed in dataclasses.replace, and an ``extra`` string after the whole training run.
    for name, value, kind in (("model_cfg", model_cfg, ModelConfig), ("data_cfg", data_cfg, DataConfig), ("train_cfg", train_cfg, TrainConfig)):
        if not isinstance(value, kind):
            raise TypeError(f"{name} must be a {kind.__name__}, not {type(value).__name__}")
    for name, value in (("domain_tests", domain_tests), ("extra", extra)):
        if value is not None and not isinstance(value, Mapping):
            raise TypeError(f"{name} must be a dict or None, not {type(value).__name__}")
    for part in (train_data, valid_data, test_data, *(domain_tests or {}).values()):
        if (part is not None or part is train_data) and not isinstance(part, LabelledTexts):
            # A list of (text, label) pairs failed on "'list' object has no attribute 'texts'".
            raise TypeError(f"train takes LabelledTexts(texts, labels, source) from lstm_sentiment.data.dataset, not {type(part).__name__}")
    if not isinstance(out_dir, (str, os.PathLike)):  # 5 said pathlib's "expected str, bytes or os.PathLike object"
        raise TypeError(f"out_dir must be a folder path (str or Path), not {type(out_dir).__name__}")
    _check_extra(extra)
    unlabelled = _unlabelled_texts(unlabelled)
    started = time.perf_counter()
    # Before the work: a str path, a folder of other files, int labels or a None text failed after training.
    out_dir = home_expanded(out_dir)
    check_bundle_target(out_dir)
    _check_not_base(out_dir, init_from)
    if embeddings is not None:
        check_vectors_file(embeddings)
    if valid_data is None:
        # It failed after the checks, on None.texts; the command line cuts validation from the data.
        raise SentimentError("no validation texts: give valid_data (lstm_sentiment.training.splits.training_splits(path) reads a file into train, validation and test, as the command line does)")
    train_data = _checked(train_data)
    valid_data, test_data = (_checked(part, train_data.labels) if part is not None else None for part in (valid_data, test_data))
    # Domain test splits as the test split: their 0/1 labels failed as unknown after the whole training run.
    domain_tests = {name: _checked(part, train_data.labels) for name, part in (domain_tests or {}).items()}
    check_trainable(train_data)
    check_trainer_settings(train_cfg)
    id2label = label_order(train_data.labels)
    for part in (valid_data, test_data, *domain_tests.values()):
        unseen = sorted(set(part.labels) - set(id2label)) if part is not None else []
        if unseen:
            # Named as read: 0/1 of the training file are "negative"/"positive" by now, 1/2 of this one are not.
            raise SentimentError(f"{part.source}: labels {unseen} are not among the training data's classes ({', '.join(id2label)}{unfolded_labels_note(part.labels, id2label)})")
    _check_held_out(valid_data, test_data, domain_tests)
    if str(out_dir) in DEFAULT_MODELS:
        # ./zh is written, but --model zh and SentimentModel.load("zh") read the shipped model.
        warn_caller(f"{out_dir} is also a shipped model's name: --model {out_dir} and SentimentModel.load({str(out_dir)!r}) read that one; read this one as ./{out_dir}")
    index = {label: i for i, label in enumerate(id2label)}

    L.seed_everything(train_cfg.seed, workers=True, verbose=False)
    base = load_base(init_from) if init_from is not None else None
    if base is not None:
        check_language(train_data, reading_language(base[3]), f"the model {init_from}", "fine-tune a model of their language")
        kept_model = replace(ModelConfig.from_dict(base[3]["model"]), dropout=model_cfg.dropout, word_dropout=model_cfg.word_dropout, freeze_embeddings=model_cfg.freeze_embeddings)
        kept_data = DataConfig.from_dict(base[3]["data"])
        _warn_of_ignored_settings(init_from, (model_cfg, kept_model), (data_cfg, kept_data))
        model_cfg, data_cfg = kept_model, kept_data
    elif embeddings is None and data_cfg.lang != "auto":
        # Such a run trained without a word, 40 % of its tokens read.
        check_language(train_data, data_cfg.lang, f"--lang {data_cfg.lang}", "drop --lang (DataConfig.lang='auto')")
    if model_cfg.freeze_embeddings and train_cfg.embedding_lr_scale != TrainConfig().embedding_lr_scale:
        # The command fine-tunes the vectors when --embedding-lr-scale is given alone; from Python it was ignored.
        warn_caller(f"TrainConfig.embedding_lr_scale={train_cfg.embedding_lr_scale!r} is the rate of fine-tuned word vectors, "
                    "and ModelConfig.freeze_embeddings=True keeps them fixed: ignored (give freeze_embeddings=False to fine-tune them)")
    if (out_dir / "model.safetensors").is_file():
        # After the checks above: a run refused for its data (a missing file, labels unseen in training)
        # said first that it would replace the model. Retraining into it had replaced a model without a word.
        warn_caller(f"{out_dir} holds a trained model; this run replaces it when it ends (stopped before, it keeps it)")
    tokenizer = Tokenizer(data_cfg.lang, data_cfg.max_tokens)
    train_data, train_tokens = _encode(tokenizer, train_data)
    valid_data, valid_tokens = _encode(tokenizer, valid_data)
    if test_data is not None:
        test_data = _encode(tokenizer, test_data)[0]
    domain_tests = {name: _encode(tokenizer, part)[0] for name, part in domain_tests.items()}
    check_trainable(train_data)  # again: the texts left out may have taken a class below 2
    _check_held_out(valid_data, test_data, domain_tests)  # and the held-out ones may now be empty
    if test_data is not None and len(set(test_data.labels)) == 1:
        # A test file of one class scored accuracy 1.0 for a model that was right on half the validation texts.
        warn_caller(f"{test_data.source}: the test split holds one class ({test_data.labels[0]}); its macro-F1 and the other classes' figures say little")
    _warn_if_letterless(train_tokens, train_data.source)
    # Each training text routed once: for the splits' warning here and the vectors' language below.
    trained = route_counts(train_data.texts)
    _warn_parts_of_another_language(trained, len(train_data), {"validation": valid_data, "test": test_data, **{f"{name} test": part for name, part in domain_tests.items()}})
    base_macro_f1 = None
    if base is not None:
        if list(base[3]["id2label"]) == id2label:
            # The base on the same validation texts: a fine-tuning that ended below it (one epoch at this
            # rate, say) replaced a better model without a word.
            base_macro_f1 = Scorer(base[0], base[1], base[2], id2label, str(init_from)).evaluate(valid_data)["macro_f1"]
        model, vocab, coverage, source = _from_bundle(base, model_cfg, id2label, train_tokens + valid_tokens, train_cfg.seed, init_from)
    else:
        if embeddings is not None:
            vectors, source = load_vectors(embeddings), str(embeddings)
        else:
            lang = data_language(data_cfg, train_data, trained)
            vectors = shipped_vectors(lang)
            source = f"shipped {lang} word vectors ({vectors.config['method']})"
        model, vocab, coverage = _from_vectors(vectors, model_cfg, id2label, train_tokens + valid_tokens, data_cfg.min_count, train_cfg.seed)
    # The words alone, as the card counts them: len(vocab) holds <pad> and <unk> too, and the line said two more.
    log.info("vocabulary %d words; vectors: %s; %s", coverage["vocab_types"], source, _describe({k: v for k, v in coverage.items() if k != "vocab_types"}))
    if not coverage["vocab_types"]:
        # Trained on, every text was <unk> alone: a model that says one class, saved with exit 0.
        raise SentimentError(f"no word of the data is seen {data_cfg.min_count} times (--min-count, DataConfig.min_count): every token would be <unk>; lower it")
    warning = coverage_warning(coverage, source, model_cfg.freeze_embeddings)
    if warning:
        warn_caller(warning)

    model_cfg = model.config
    pretraining = None
    if train_cfg.lm_epochs:
        unlabelled_tokens = [e.tokens for e in map(tokenizer, unlabelled or [])]
        pretraining = pretrain_language_model(
            model,
            [vocab.encode(t) for t in train_tokens + unlabelled_tokens],
            [vocab.encode(t) for t in valid_tokens],
            train_cfg,
            {**_trainer_args(train_cfg), "logger": False, "enable_checkpointing": False, **_progress()},
        )
    weights = class_weights([index[y] for y in train_data.labels], len(id2label), train_cfg.class_weight)
    task = SentimentTask(model, len(id2label), train_cfg, weights)
    train_loader = _loader(vocab.encode, train_tokens, train_data.labels, index, train_cfg.batch_size, True, train_cfg.seed)
    valid_loader = _loader(vocab.encode, valid_tokens, valid_data.labels, index, 256, False, 0)

    # DDP's other processes run this command again: their work folders go inside this one, whose removal
    # takes them along (a Ctrl-C to this process alone left theirs in /tmp, killed before their cleanup).
    # Named by process id, so that the next run removes the folder of one killed with SIGKILL (64 MB of
    # checkpoint stayed in /tmp).
    parent = os.environ.get(_WORK_ENV) or tempfile.gettempdir()
    remove_dead_folders(Path(parent), _WORK_PREFIX)
    with tempfile.TemporaryDirectory(prefix=f"{_WORK_PREFIX}{os.getpid()}.", dir=parent) as work, _inherited(_WORK_ENV, work):
        checkpoint = ModelCheckpoint(dirpath=Path(work) / "checkpoints", monitor="val_macro_f1", mode="max", save_top_k=1, save_weights_only=True)
        trainer = L.Trainer(
            max_epochs=train_cfg.max_epochs(len(train_loader)),
            gradient_clip_val=train_cfg.grad_clip,
            logger=CSVLogger(work, name="log", version=0),
            # Lightning warns when an epoch has fewer batches than the interval (a small CSV): log them all then.
            log_every_n_steps=max(1, min(10, len(train_loader))),
            **_trainer_args(train_cfg),
            **_progress(EarlyStopping("val_macro_f1", mode="max", patience=train_cfg.patience), checkpoint),
        )
        if len(train_loader) < trainer.world_size:
            # Each process takes as many batches as the others, its own: none each here, and Lightning would run
            # epochs of no step and end without a checkpoint to load. Said before fit starts the other processes
            # (with lm_epochs, the language model's fit has run by now).
            raise SentimentError(f"{len(train_data)} training texts make {len(train_loader)} batch(es) of {train_cfg.batch_size}, fewer than the {trainer.world_size} processes: lower the batch size or the devices (--batch-size, --devices, TrainConfig.batch_size, TrainConfig.devices)")
        interrupt.fit(trainer, task, train_loader, valid_loader)
        if not trainer.is_global_zero:
            return None
        best = torch.load(checkpoint.best_model_path, map_location="cpu", weights_only=True)["state_dict"]
        model.load_state_dict({k.removeprefix("model."): v for k, v in best.items() if k.startswith("model.")})
        model.cpu().eval()
        scorer = Scorer(model, vocab, tokenizer, id2label, f"the model trained for {out_dir}")
        valid_probs = scorer.probabilities(valid_data)
        if not all(bool(torch.isfinite(p).all()) for p in (valid_probs, *model.parameters())):
            # It ended on "temperature must be a finite number > 0, got nan", naming neither cause nor cure.
            raise SentimentError(f"training diverged: the best epoch's weights or scores are NaN or infinite; lower the learning rate (--lr, TrainConfig.lr; it was {train_cfg.lr:g}) or the weight decay (--weight-decay, TrainConfig.weight_decay)")
        scorer.temperature, calibration = calibrate(model, valid_probs, valid_data, id2label)
        note = bound_note(calibration)
        if note:
            warn_caller(note)
        metrics = {
            "validation": scorer.evaluate(valid_data),
            "test": scorer.evaluate(test_data) if test_data is not None else None,
            "calibration": calibration,
            **({"domains": {name: scorer.evaluate(data) for name, data in domain_tests.items()}} if domain_tests else {}),
            **({"language_model": pretraining} if pretraining else {}),
            "best_epoch": _best_epoch(checkpoint),
            "epochs_run": trainer.current_epoch,
            "train_seconds": round(time.perf_counter() - started, 1),
            **({"base_validation_macro_f1": base_macro_f1} if base_macro_f1 is not None else {}),
        }
        if base_macro_f1 is not None and metrics["validation"]["macro_f1"] < base_macro_f1:
            warn_caller(
                f"the fine-tuned model is below its base {init_from} on {valid_data.source}: macro-F1 "
                f"{metrics['validation']['macro_f1']:.4f} against {base_macro_f1:.4f} (more epochs or a lower learning rate: --epochs, --lr, TrainConfig.epochs, TrainConfig.lr; or keep the base)"
            )
        unpredicted = _unpredicted_warning(metrics["validation"], train_data.labels, train_cfg.class_weight)
        if unpredicted:
            warn_caller(unpredicted)
        scripts = Counter(filter(None, map(token_script, train_tokens)))
        scripted = sum(scripts.values())
        info = {
            "temperature": calibration["temperature"],
            # Which script the texts were in: a model trained with lang "auto" on one warns of the other.
            "training_scripts": {script: round(n / scripted, 4) for script, n in sorted(scripts.items())},
            "training_data": {
                "train": train_data.source,
                "validation": valid_data.source,
                "test": test_data.source if test_data is not None else None,
                "counts": {
                    name: {label: part.labels.count(label) for label in id2label}
                    for name, part in (("train", train_data), ("validation", valid_data), ("test", test_data))
                    if part is not None
                },
            },
            "embeddings": {"source": source, **coverage},
            **({"init_from": str(init_from)} if init_from is not None else {}),
            **(extra or {}),
        }
        card = model_card(bundle_name(out_dir), id2label, (model_cfg, data_cfg, train_cfg), metrics, info)
        epochs_csv = Path(work) / "log" / "version_0" / "metrics.csv"
        training_log = one_row_per_epoch(epochs_csv.read_text(encoding="utf-8")) if epochs_csv.is_file() else None
    # Written last, after the work folder is gone: a Ctrl-C after the bundle is in place would report as
    # interrupted a run that has replaced --out. A signal whose KeyboardInterrupt a library swallowed
    # (during an import, say) stops the run here, before --out is replaced.
    interrupt.check()
    save_bundle(out_dir, model, vocab, id2label, (model_cfg, data_cfg, train_cfg), metrics, info, card, training_log)
    return metrics


_WORK_ENV = "LSTM_SENTIMENT_TRAIN_WORK"  # the work folder of the process that started DDP's others
_WORK_PREFIX = "lstm-sentiment-train-"  # then the process id: lstm-sentiment-train-PID.random


@contextmanager
def _inherited(name: str, value: str) -> Iterator[None]:
    """Environment variable ``name`` set to ``value`` for the processes started inside the block (unless
    set already: DDP's other processes keep the first one's)."""
    if name in os.environ:
        yield
        return
    os.environ[name] = value
    try:
        yield
    finally:
        del os.environ[name]


def one_row_per_epoch(log: str) -> str:
    """Lightning's CSVLogger text with its rows of one epoch merged: it writes the validation figures and
    the epoch's ``train_loss`` as two rows, each blank where the other has a value, so the bundle's
    ``training_log.csv`` had two half-empty rows per epoch. Columns as Lightning wrote them; a cell keeps
    the epoch's last non-empty value (one per epoch in practice)."""
    rows = list(csv.DictReader(io.StringIO(log)))
    if not rows:
        return log
    columns = list(rows[0])
    merged: dict[str, dict[str, str]] = {}
    for row in rows:
        epoch = merged.setdefault(row["epoch"], dict.fromkeys(columns, ""))
        epoch.update({key: value for key, value in row.items() if value})
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(merged.values())
    return out.getvalue()


def _progress(*callbacks: Callback) -> dict:
    """``lightning.Trainer`` arguments: ``callbacks`` and the progress shown on stderr. In a terminal,
    Lightning's rich bar; elsewhere (a pipe, a log file) one line per epoch, as rich redraws its bar in
    place and a piped ``train`` kept only the last epoch's bar, wrapped over four lines."""
    if sys.stderr is not None and sys.stderr.isatty():
        return {"callbacks": [*callbacks, _ProgressBar()]}
    return {"callbacks": [*callbacks, _EpochLines()], "enable_progress_bar": False}


class _EpochLines(Callback):
    """One log line per epoch, with the figures the bar shows, counted as the bar counts (from 0):
    ``Epoch 0/7  train_loss 0.4050  val_acc 0.8470  val_macro_f1 0.8460  21.3 s``."""

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self._started = time.perf_counter()

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        if trainer.is_global_zero:
            figures = "  ".join(f"{name} {float(value):.4f}" for name, value in sorted(trainer.progress_bar_metrics.items()))
            log.info("Epoch %d/%d  %s  %.1f s", trainer.current_epoch, trainer.max_epochs - 1, figures, time.perf_counter() - self._started)


class _ProgressBar(RichProgressBar):
    """Lightning's rich progress bar, on stderr, without the CSV logger's version number ("v_num: 0.000"):
    every run logs to a fresh folder as version 0, so it tells the user nothing."""

    def __init__(self) -> None:
        super().__init__(console_kwargs={"stderr": True})

    def get_metrics(self, trainer, pl_module) -> dict:
        metrics = super().get_metrics(trainer, pl_module)
        metrics.pop("v_num", None)
        return metrics


def _checked(data: LabelledTexts, training_labels: list[str] | None = None) -> LabelledTexts:
    """``data`` with its labels folded as a file's are (:func:`canonical_labels`: 0/1, True/False or
    pos/neg are negative/positive; a validation or test split's against the training classes).

    Raises:
        SentimentError: see :func:`check_rows`.
    """
    check_rows(data)
    labels = canonical_labels(list(data.labels), training_labels)
    if training_labels is not None:
        labels = as_three_way_numbers(labels, training_labels)
    return LabelledTexts(list(data.texts), labels, data.source)


def _unpredicted_warning(report: dict, train_labels: list[str], class_weight: str) -> str | None:
    """The warning for a validation ``report`` in which the model predicts no text of a class the data hold,
    with what may help (``--class-weight balanced`` unless ``class_weight`` is that already); None if it
    predicts every class."""
    # 950 positive and 50 negative texts gave a model that labels every text positive (validation accuracy
    # 0.95, macro-F1 0.49), kept at epoch 0 when patience ran out, and said nothing.
    unpredicted = _never_predicted(report)
    if not unpredicted:
        return None
    shares = ", ".join(f"{label} {n}" for label, n in Counter(train_labels).most_common())
    weigh = "" if class_weight == "balanced" else "class weights (--class-weight balanced, TrainConfig.class_weight), "
    return (
        f"the model labels no validation text {' or '.join(unpredicted)} (validation macro-F1 "
        f"{report['macro_f1']:.4f}; the training texts: {shares}): more epochs and patience (--epochs, --patience, TrainConfig.epochs, TrainConfig.patience), {weigh}or more "
        "texts of that class, may help"
    )


def _never_predicted(report: dict) -> list[str]:
    """The classes of a :func:`~lstm_sentiment.metrics.classification_report` that the data hold but the
    model never predicts (a column of the confusion matrix that sums to 0)."""
    matrix = report["confusion_matrix"]
    return [
        label
        for k, label in enumerate(report["labels"])
        if sum(row[k] for row in matrix) == 0 and sum(matrix[k]) > 0
    ]


def coverage_warning(coverage: dict, source: str, frozen: bool) -> str | None:
    """What to warn of in the word vectors' ``coverage`` of the data (the dict of
    :func:`~lstm_sentiment.embeddings.vocabulary_and_matrix`) read from ``source``, or None: words that
    start from random vectors, all of them, or at least ``SCRATCH_WARN_SHARE`` of the tokens when the
    vectors stay frozen. Words read through subword vectors are not among them (numbers alone in the
    shipped vectors were "every word reads a random vector")."""
    if coverage.get("token_coverage") == 0 and not coverage.get("subword_token_share"):
        return f"no word of the data has a vector in {source}: every word reads {scratch_vector(frozen)}"
    if frozen and coverage.get("learned_token_share", 0) >= SCRATCH_WARN_SHARE:
        return f"{coverage['learned_token_share']:.1%} of the tokens have no vector in {source}: their words read {scratch_vector(True)}"
    return None


def _describe(coverage: dict) -> str:
    """The coverage dict as one readable phrase: shares of tokens in per cent, counts as they are."""
    return ", ".join(
        f"{key.replace('_', ' ')} {value:.2%}" if key.endswith(("share", "coverage")) else f"{key.replace('_', ' ')} {value}"
        for key, value in coverage.items()
    )


class Scorer:
    """The network just trained, scored as its bundle will score once loaded: the same tokenizer, word ids
    (unseen words through their subword vectors), batches and temperature."""

    def __init__(self, network: SentimentLSTM, vocab: Vocab, tokenizer: Tokenizer, id2label: list[str], name: str) -> None:
        self.network = network
        self.tokenizer = tokenizer
        self.word_ids = WordIds(network, vocab)
        self.id2label = id2label
        self.name = name
        self.temperature = 1.0

    def probabilities(self, data: LabelledTexts) -> Tensor:
        """float32 (N, C) at :attr:`temperature`, in ``data``'s order."""
        ids = [self.word_ids(self.tokenizer(text).tokens) or [UNK_ID] for text in data.texts]
        return probabilities(self.network, ids, temperature=self.temperature)

    def evaluate(self, data: LabelledTexts) -> dict:
        """:func:`~lstm_sentiment.inference.model.evaluation_report` of ``data`` in float32."""
        return evaluation_report(self.probabilities(data), data, self.id2label, temperature=self.temperature, precision="float32", name=self.name)


def calibrate(network: SentimentLSTM, probs: Tensor, data: LabelledTexts, id2label: list[str]) -> tuple[float, dict]:
    """Fit the temperature and class biases on ``data`` (validation, :func:`fit_scaling`) and fold the
    biases into ``network``'s output layer (:func:`fold_bias`).

    Args:
        probs: float32 (N, C), the network's probabilities of ``data`` at T = 1, columns in ``id2label`` order.
    Returns:
        T, and ``{"temperature", "logit_bias", "ece_before", "ece_after", "accuracy_before",
        "accuracy_after", "bins", "source", "n"}`` (rounded to 6 decimals; ``logit_bias`` None when not fitted;
        ECE and accuracy at T = 1 with the output layer as trained, and after scaling).
    """
    index = {label: i for i, label in enumerate(id2label)}
    labels = torch.tensor([index[y] for y in data.labels])
    log_probs = probs.clamp_min(1e-12).log()
    scaling = fit_scaling(log_probs, labels)
    bias = torch.tensor(scaling.bias or [0.0] * log_probs.size(1), dtype=log_probs.dtype)
    # The bundle keeps T to 6 decimals: the figures of metrics.json are scored at that T, as the loaded
    # model scores (at the fitted 0.25000002 they said T 0.25000002 beside a config of 0.25).
    temperature = round(scaling.temperature, 6)
    scaled = torch.softmax(log_probs / temperature + bias, dim=-1)
    fold_bias(network.classifier, scaling)
    return temperature, {
        "temperature": temperature,
        "logit_bias": dict(zip(id2label, (round(b, 6) for b in scaling.bias))) if scaling.bias is not None else None,
        "ece_before": round(expected_calibration_error(probs, labels), 6),
        "ece_after": round(expected_calibration_error(scaled, labels), 6),
        "accuracy_before": round(float((probs.argmax(1) == labels).double().mean()), 6),
        "accuracy_after": round(float((scaled.argmax(1) == labels).double().mean()), 6),
        "bins": ECE_BINS,
        "source": data.source,
        "n": len(labels),
    }


def _from_vectors(vectors, model_cfg: ModelConfig, id2label: list[str], token_lists, min_count: int, seed: int) -> tuple[SentimentLSTM, Vocab, dict]:
    """A new network on pretrained vectors: E from the vectors, their n-gram table when they have one."""
    vocab, matrix, coverage = vocabulary_and_matrix(vectors, token_lists, min_count, seed)
    subwords = isinstance(vectors, WordVectors)
    model_cfg = replace(
        model_cfg,
        embedding_dim=matrix.size(1),
        subword_buckets=vectors.ngram_vectors.size(0) if subwords else 0,
        subword_min_n=vectors.min_n if subwords else model_cfg.subword_min_n,
        subword_max_n=vectors.max_n if subwords else model_cfg.subword_max_n,
    )
    model = SentimentLSTM(len(vocab), len(id2label), model_cfg, vectors=matrix, ngram_vectors=vectors.ngram_vectors if subwords else None)
    return model, vocab, coverage


def _from_bundle(base, model_cfg: ModelConfig, id2label: list[str], token_lists, seed: int, name) -> tuple[SentimentLSTM, Vocab, dict, str]:
    """The network of a bundle, its vocabulary grown by the new words (subword vectors where it has an
    n-gram table, else random rows), its head replaced when the labels differ."""
    network, vocab, _, config = base
    old = network.embedding.weight.detach()
    new_words = [w for w, _ in Counter(t for tokens in token_lists for t in tokens).most_common() if w not in vocab.stoi]
    rng = torch.Generator().manual_seed(seed)
    rows = [network.subword_vector(w) for w in new_words]
    rows = [r if r is not None else torch.randn(old.size(1), generator=rng) * float(old.std()) for r in rows]
    vocab = Vocab(vocab.itos + new_words)
    matrix = torch.cat([old, torch.stack(rows)]) if rows else old.clone()
    same_labels = list(config["id2label"]) == list(id2label)
    state = {k: v for k, v in network.state_dict().items() if k not in ("embedding.weight", "ngram_vectors")}
    if not same_labels:
        state = {k: v for k, v in state.items() if not k.startswith("classifier.")}
    if "unk_vector" in state and not model_cfg.freeze_embeddings:
        matrix[UNK_ID] = state.pop("unk_vector")  # a frozen base learned <unk> apart from the table
    ngrams = network.ngram_vectors if model_cfg.subword_buckets else None
    model = SentimentLSTM(len(vocab), len(id2label), model_cfg, vectors=matrix, ngram_vectors=ngrams)
    model.load_state_dict(state, strict=False)  # the embedding, n-gram table and (new) head are set above
    coverage = {"vocab_types": len(vocab) - 2, "words_added": len(new_words), "head": "kept" if same_labels else "new"}
    return model, vocab, coverage, f"bundle {name} (its word vectors, LSTM{' and head' if same_labels else ''})"


def data_language(data_cfg: DataConfig, data: LabelledTexts, counts: Counter | None = None) -> str:
    """"zh" or "en": ``data_cfg.lang``, or for "auto" the script of most texts (as :func:`default_model_name`
    chooses), warned of when :data:`OTHER_LANGUAGE_SHARE` or more are of the other: whose shipped vectors a
    model starts from. ``counts``: :func:`route_counts` of ``data.texts`` where the caller has them."""
    if data_cfg.lang != "auto":
        return data_cfg.lang
    if counts is None:
        counts = route_counts(data.texts)  # each text routed once, for the choice and the warning
    lang = model_of_most(counts)
    _warn_other_language(data, lang, sum(counts.values()) - counts[lang])
    return lang


# The share of training texts of the other language (by script) that is warned of: zh reviews hold an
# English one now and then (zh-reviews' test split one in 1,736).
OTHER_LANGUAGE_SHARE = 0.05


def _warn_other_language(data: LabelledTexts, lang: str, other: int) -> None:
    """Warn when ``other``, the training texts that route to the other language than ``lang`` (whose word
    vectors the model starts from), are :data:`OTHER_LANGUAGE_SHARE` or more of them (evaluate warned of
    such texts, train did not)."""
    if other >= OTHER_LANGUAGE_SHARE * len(data):
        warn_caller(
            f"{data.source}: {other} of {len(data)} training texts are {'en' if lang == 'zh' else 'zh'} (by script); the model "
            f"starts from the shipped {lang} word vectors, which read that language's words from their letters "
            "alone: for good figures on both, train a model per language"
        )


def _warn_parts_of_another_language(trained: Counter, n_train: int, parts: dict[str, LabelledTexts | None]) -> None:
    """Warn of a validation or test split whose texts are mostly of the other language (by script) than
    the training texts, when fewer than :data:`OTHER_LANGUAGE_SHARE` of those are: an en model validated on
    a zh file trained, stopped early and fitted its temperature on texts it cannot read, without a word
    (evaluate warned of such texts, train did not). Training texts of both languages are warned of apart,
    and the splits cut from them may lean either way by chance. ``trained``: :func:`route_counts` of the
    ``n_train`` training texts."""
    lang = model_of_most(trained)
    if sum(trained.values()) - trained[lang] >= OTHER_LANGUAGE_SHARE * n_train:
        return
    parts = {role: part for role, part in parts.items() if part is not None}
    for role, part in parts.items():
        counts = route_counts(part.texts)
        if counts and model_of_most(counts) != lang:
            follows = "; early stopping and the temperature follow them" if role == "validation" else ""
            warn_caller(
                f"{part.source}: {sum(counts.values()) - counts[lang]} of {len(part)} {role} texts are "
                f"{'en' if lang == 'zh' else 'zh'} (by script), most training texts {lang}: the model's figures on them say little{follows}"
            )


def check_language(data: LabelledTexts, model_lang: str | None, reader: str, advice: str) -> None:
    """Refuse texts of another language than the tokenizer and vectors that would read them: Chinese texts
    read by the en tokenizer are one token a clause, English words in zh vectors mostly subword guesses.

    Args:
        model_lang: the script read (a base bundle's :func:`~lstm_sentiment.inference.model.reading_language`,
            None for a model of both: not checked; or ``--lang``).
        reader: what reads them, for the message ("the model zh", "--lang en"); advice: what to do instead.
    Raises:
        SentimentError: the texts' language (by script, :func:`route_counts`; texts without a letter claim
            none) is not ``model_lang``.
    """
    if model_lang not in DEFAULT_MODELS:
        return  # before routing every text, which only the check needs
    counts = route_counts(data.texts)
    data_lang = model_of_most(counts) if counts else None
    if data_lang and data_lang != model_lang:
        raise SentimentError(f"{data.source}: the texts are {data_lang} (by script), {reader} reads {model_lang}; {advice}")


def check_trainer_settings(config: TrainConfig) -> None:
    """Build and drop a ``lightning.Trainer`` with ``config``'s accelerator, devices, nodes and strategy, so
    that settings this machine cannot run (``accelerator="gpu"`` without one, ``devices="abc"``) fail before
    the texts are tokenized and the vectors read, on one line, not as Lightning's traceback after them.

    Raises:
        SentimentError: Lightning's objection, with the settings it was given.
    """
    try:
        with quiet_lightning():  # its "GPU available" lines are printed once, by the trainer that trains
            L.Trainer(**_trainer_args(config), logger=False, enable_checkpointing=False, enable_progress_bar=False)
    except (MisconfigurationException, TypeError, ValueError, ModuleNotFoundError) as err:  # the last: tpu without torch_xla
        settings = f"accelerator {config.accelerator!r}, devices {config.devices!r}, strategy {config.strategy!r}"
        raise SentimentError(f"cannot train with {settings} here: {str(err).strip().splitlines()[0]}") from None


def _trainer_args(config: TrainConfig) -> dict:
    """``lightning.Trainer`` arguments shared by language-model pretraining and classifier training."""
    return {
        "accelerator": config.accelerator,
        "devices": int(config.devices) if config.devices.isdigit() else config.devices,
        "num_nodes": config.num_nodes,
        "strategy": config.strategy,
        "deterministic": True,
        "use_distributed_sampler": False,  # BucketBatchSampler splits batches across processes itself
        "enable_model_summary": False,
        "num_sanity_val_steps": 0,
    }


def _best_epoch(checkpoint) -> int:
    """Epoch of the kept checkpoint, read from Lightning's file name ``epoch=E-step=S.ckpt``."""
    name = Path(checkpoint.best_model_path).stem
    return int(name.split("-")[0].split("=")[1])
