"""Settings of a model and of its training, saved in every model bundle (``config.json``).

Defaults were chosen on the ``zh-reviews`` validation split (see the README, "Choosing the defaults").
"""

from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass, fields, replace

from lstm_sentiment.text.tokenize import DEFAULT_MAX_TOKENS, LANGS

POOLINGS = ("mean", "max", "mean+max", "last")
INITS = ("default", "chrono")
CLASS_WEIGHTS = ("none", "balanced")
FLOAT32_MAX = 3.4028234663852886e38  # numpy.finfo(numpy.float32).max
# Adam's first step is lr / (1 − β1) = 10 lr, held in float32: a larger rate overflowed there (a traceback).
MAX_LR = FLOAT32_MAX / 10
# Bounds of a fitted temperature (training fits it, a bundle's is checked on loading). On a small validation
# split that the model gets all right, the likelihood keeps growing as T → 0 (a run on 4 texts fitted
# T = 2e-6 and scored every text 1.0): a temperature exists to soften or sharpen scores by a modest
# factor, not to make them certain.
T_MIN, T_MAX = 0.25, 10.0


# Sizes past these are slips of the keyboard, not models: a dimension past torch's int64 ends in a
# traceback rather than "out of memory", and layers are built one by one (10**20 of them never finish).
MAX_SIZE = 2**40
MAX_LAYERS = 1_000


def _at_most(obj, limit: int, *names: str) -> None:
    for name in names:
        value = getattr(obj, name)
        if value > limit:
            raise ValueError(f"{type(obj).__name__}.{name} must be <= {limit:,}, got {value!r}")


def _positive(obj, *names: str) -> None:
    for name in names:
        value = getattr(obj, name)
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
            raise ValueError(f"{type(obj).__name__}.{name} must be > 0, got {value!r}")
    _finite(obj, *names)


def _finite(obj, *names: str) -> None:
    # NaN passes every comparison-based range check, and training then fails late with a foreign message;
    # a float beyond float32's range becomes inf in the float32 weights it sets (a forget bias of 1e308).
    for name in names:
        value = getattr(obj, name)
        if not math.isfinite(value):
            raise ValueError(f"{type(obj).__name__}.{name} must be a finite number, got {value!r}")
        if abs(value) > FLOAT32_MAX:
            raise ValueError(f"{type(obj).__name__}.{name} must be within float32's range (|x| <= 3.4e38), got {value!r}")


# Python types a field's annotation allows (annotations are strings here: `from __future__ import annotations`).
_KINDS = {"int": int, "float": (int, float), "bool": bool, "str": str}
_WANTED = {"int": "an integer", "float": "a number", "bool": "True or False", "str": "a string"}


def _plain_number(value: object, kinds: list[str]) -> object:
    """``value`` as a Python bool, int or float where it is numpy's (``np.int64(3)``: a seed drawn with
    numpy, refused as "must be an integer"; ``np.float64``, a float that printed as np.float64(0.5)) and the
    field takes one; anything else as it is."""
    if type(value) in (bool, int, float):
        return value
    if "bool" in kinds and getattr(value, "dtype", None) is not None and value.dtype.kind == "b":
        return bool(value)
    if "int" in kinds and isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    if "float" in kinds and isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    return value


class _FromDict:
    def _check_types(self) -> None:
        """Each field of its annotated type (``int | None``: an int or None; a bool is no number): given
        from Python, "false" for a bool was read as true, 1.5 epochs failed inside Lightning on a bare
        AssertionError, "0.5" for a float on a comparison of str and float."""
        for f in fields(self):
            value = getattr(self, f.name)
            kinds = [kind.strip() for kind in str(f.type).split("|")]
            if value is None and "None" in kinds:
                continue
            plain = _plain_number(value, kinds)
            if plain is not value:
                object.__setattr__(self, f.name, plain)  # frozen; json and Lightning take only Python's
                value = plain
            if not any(isinstance(value, _KINDS[k]) and (k == "bool" or not isinstance(value, bool)) for k in kinds if k in _KINDS):
                wanted = " or ".join(_WANTED[k] for k in kinds if k in _KINDS)
                raise ValueError(f"{type(self).__name__}.{f.name} must be {wanted}, got {value!r}")

    @classmethod
    def from_dict(cls, values: dict):
        """Build from a dict, rejecting unknown keys by name."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"{cls.__name__}: unknown keys {unknown}")
        return cls(**values)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ModelConfig(_FromDict):
    """Embedding → LSTM → pooling over valid steps → dropout → linear.

    Attributes:
        embedding_dim: E, size of each word vector (taken from the file when vectors are given).
        hidden_size: H of each LSTM direction.
        num_layers: stacked LSTM layers.
        bidirectional: read the sentence both ways (D = 2).
        dropout: on the pooled features and between LSTM layers.
        word_dropout: in training, each word is replaced by ``<unk>`` with this probability, so the
            model cannot lean on single words and ``<unk>`` learns to stand for unseen ones
            (word dropout, Iyyer et al. 2015; Gal & Ghahramani 2016).
        pooling: how the step outputs become one vector: "mean", "max", "mean+max" or "last"
            (h_n of each direction).
        freeze_embeddings: keep pretrained word vectors fixed (``<unk>`` is still learned).
        forget_bias: added to the forget-gate bias at initialisation (Jozefowicz et al. 2015); with
            init "default" only.
        init: LSTM bias initialisation, "default" (``forget_bias``) or "chrono" (Tallec & Ollivier 2018;
            see :class:`~lstm_sentiment.core.LSTM`).
        chrono_t_max: T_max of "chrono", the longest dependency in tokens; the tokenizer's default
            ``max_tokens``, since no text is read longer than that.
        subword_buckets: B, rows of the character n-gram table that gives unseen words a vector
            (fastText, Bojanowski et al. 2017); 0: none, unseen words are ``<unk>``.
        subword_min_n, subword_max_n: n-gram lengths in characters, as the word vectors were built.
    """

    embedding_dim: int = 128
    hidden_size: int = 128
    num_layers: int = 1
    bidirectional: bool = True
    dropout: float = 0.5
    word_dropout: float = 0.0
    pooling: str = "mean+max"
    freeze_embeddings: bool = True
    forget_bias: float = 1.0
    init: str = "default"
    chrono_t_max: int = DEFAULT_MAX_TOKENS
    subword_buckets: int = 0
    subword_min_n: int = 1
    subword_max_n: int = 3

    def __post_init__(self) -> None:
        self._check_types()
        _positive(self, "embedding_dim", "hidden_size", "num_layers", "subword_min_n", "subword_max_n")
        if self.subword_buckets < 0:
            raise ValueError(f"ModelConfig.subword_buckets must be >= 0 (0: no subword table), got {self.subword_buckets!r}")
        if self.subword_min_n > self.subword_max_n:
            raise ValueError(f"ModelConfig.subword_min_n must be <= subword_max_n, got {self.subword_min_n} > {self.subword_max_n}")
        _at_most(self, MAX_SIZE, "embedding_dim", "hidden_size", "subword_buckets")
        _at_most(self, MAX_LAYERS, "num_layers")
        _finite(self, "forget_bias")
        if self.init not in INITS:
            raise ValueError(f"ModelConfig.init must be one of {INITS}, got {self.init!r}")
        if self.chrono_t_max < 2:
            raise ValueError(f"ModelConfig.chrono_t_max must be >= 2, got {self.chrono_t_max!r}")
        for name in ("dropout", "word_dropout"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"ModelConfig.{name} must be in [0, 1), got {getattr(self, name)!r}")
        if self.pooling not in POOLINGS:
            raise ValueError(f"ModelConfig.pooling must be one of {POOLINGS}, got {self.pooling!r}")


@dataclass(frozen=True)
class DataConfig(_FromDict):
    """Text processing.

    Attributes:
        lang: "auto" (by script), "zh" or "en".
        max_tokens: longer texts keep head and tail (see :class:`~lstm_sentiment.text.Tokenizer`).
        min_count: with vectors given as a word2vec/GloVe file, words seen fewer times in training map to
            ``<unk>``; the shipped subword vectors give every word a vector, so it is unread there.
    """

    lang: str = "auto"
    max_tokens: int = DEFAULT_MAX_TOKENS
    min_count: int = 2

    def __post_init__(self) -> None:
        self._check_types()
        if self.lang not in LANGS:
            raise ValueError(f"DataConfig.lang must be one of {LANGS}, got {self.lang!r}")
        _positive(self, "min_count")
        if self.max_tokens < 2:
            raise ValueError(f"DataConfig.max_tokens must be >= 2, got {self.max_tokens!r}")


DEFAULT_EPOCHS = 8
MIN_STEPS = 560  # 20 epochs of the hotel reviews' 28 batches, the setting measured
MAX_AUTO_EPOCHS = 20


@dataclass(frozen=True)
class TrainConfig(_FromDict):
    """Optimisation (AdamW, Loshchilov & Hutter 2019) and the Lightning trainer.

    Attributes:
        epochs: upper bound; early stopping may end sooner. None (the default): 8, or more for a small
            training set, so that training takes at least :data:`MIN_STEPS` optimizer steps, at most
            :data:`MAX_AUTO_EPOCHS` epochs (see :meth:`max_epochs`).
        batch_size: sentences per batch (batches are bucketed by length).
        lr: AdamW learning rate.
        weight_decay: AdamW decoupled weight decay.
        grad_clip: gradient-norm clipping threshold (Pascanu et al. 2013).
        patience: epochs without a better validation macro-F1 before stopping (the best epoch's weights are
            kept either way). The default 8: on a small validation split (219 hotel reviews) a lucky first
            epoch stopped runs after 3 with patience 2 (README "Choosing the recipe").
        seed: seeds weights and batches; the same seed gives the same model on CPU.
        embedding_lr_scale: word vectors, when fine-tuned, learn at ``lr`` times this (a lower rate keeps
            pretrained vectors close to where they started; Howard & Ruder 2018 use rates per layer).
        lm_epochs: epochs of language-model pretraining of the LSTM before classifier training (0: none;
            see :mod:`lstm_sentiment.training.pretrain`).
        lm_targets: K, the most frequent words the language model predicts one by one (the rest are one
            class).
        plateau_factor: in (0, 1): the learning rate is multiplied by it after each epoch whose validation
            macro-F1 is no better than the best so far (torch's ``ReduceLROnPlateau``, patience 0); 0: a
            constant rate.
        class_weight: "none", or "balanced": each class's training loss weighed by n / (C · n_c), so that
            every class weighs the same in total (scikit-learn's "balanced" heuristic, after King & Zeng
            2001); for data where one class is rare.
        accelerator, devices, num_nodes, strategy: passed to ``lightning.Trainer``.
    """

    epochs: int | None = None
    batch_size: int = 64
    lr: float = 2e-3
    weight_decay: float = 1e-2
    grad_clip: float = 1.0
    patience: int = 8
    seed: int = 0
    embedding_lr_scale: float = 0.1
    lm_epochs: int = 0
    lm_targets: int = 20_000
    plateau_factor: float = 0.0
    class_weight: str = "none"
    accelerator: str = "auto"
    devices: str = "1"
    num_nodes: int = 1
    strategy: str = "auto"

    def __post_init__(self) -> None:
        self._check_types()
        _positive(self, *(["epochs"] if self.epochs is not None else []), "batch_size", "lr", "grad_clip", "patience", "embedding_lr_scale", "num_nodes")
        _positive(self, "lm_targets")
        if self.lr > MAX_LR:
            raise ValueError(f"TrainConfig.lr must be <= {MAX_LR:.1e} (Adam's first step is 10 × lr, in float32), got {self.lr!r}")
        if self.lm_epochs < 0:
            raise ValueError(f"TrainConfig.lm_epochs must be >= 0, got {self.lm_epochs!r}")
        if self.class_weight not in CLASS_WEIGHTS:
            raise ValueError(f"TrainConfig.class_weight must be one of {', '.join(CLASS_WEIGHTS)}, got {self.class_weight!r}")
        if not 0.0 <= self.plateau_factor < 1.0:
            raise ValueError(f"TrainConfig.plateau_factor must be in [0, 1), got {self.plateau_factor!r}")
        if not 0 <= self.weight_decay < math.inf:
            raise ValueError(f"TrainConfig.weight_decay must be a finite number >= 0, got {self.weight_decay!r}")
        # numpy's generator, which Lightning seeds, takes 32-bit unsigned seeds.
        if not 0 <= self.seed < 2**32:
            raise ValueError(f"TrainConfig.seed must be in [0, 2**32 - 1], got {self.seed!r}")

    def max_epochs(self, steps_per_epoch: int) -> int:
        """``epochs`` if set; else 8, raised for a small training set to the epochs that make
        :data:`MIN_STEPS` optimizer steps, at most :data:`MAX_AUTO_EPOCHS`. On the 1,753 hotel reviews (28
        steps an epoch) 20 epochs were 1.9 points ahead of 8 on validation over 5 seeds, where the larger
        domains (188 and more steps an epoch) run 8 either way (README "Choosing the recipe")."""
        if self.epochs is not None:
            return self.epochs
        return min(MAX_AUTO_EPOCHS, max(DEFAULT_EPOCHS, math.ceil(MIN_STEPS / max(steps_per_epoch, 1))))


def with_vector_choice(model_cfg: ModelConfig, *, freeze_given: bool, scale_given: bool) -> ModelConfig:
    """``model_cfg`` with the word vectors as `lstm-sentiment train` treats them: frozen unless the user
    says otherwise, where a rate for the vectors given alone asks for them to be fine-tuned.

    Frozen is the recipe of both shipped models (README "Choosing the recipe"): the zh vectors and two thirds
    of the en ones are fastText numbers of the domains' own texts, and fine-tuned they fit the training texts
    within an epoch or two (en, thirteenth round: SST-2 alone, validation over seeds 0 / 1, 0.8240 / 0.8240
    frozen, 0.8200 / 0.8140 fine-tuned at the full rate, in a quarter of the time).

    Raises:
        ValueError: a rate given for vectors also asked to stay frozen (it would go unread).
    """
    freeze = model_cfg.freeze_embeddings if freeze_given else not scale_given
    if scale_given and freeze:
        raise ValueError("TrainConfig.embedding_lr_scale is the rate of fine-tuned word vectors, and they are to stay frozen; drop one of the two")
    return replace(model_cfg, freeze_embeddings=freeze)

