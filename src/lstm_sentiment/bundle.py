"""Model bundles: a directory with ``model.safetensors``, ``config.json``, ``vocab.txt``, ``metrics.json``,
a model card ``README.md`` and the per-epoch ``training_log.csv``.

Written atomically: everything goes into a temporary sibling directory, which then replaces the target
by rename, so a reader sees the old bundle or the new one, never a mix. No pickle anywhere.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from lstm_sentiment.atomic import check_output_folder, write_atomic
from lstm_sentiment.config import T_MAX, T_MIN, DataConfig, ModelConfig, TrainConfig
from lstm_sentiment.errors import SentimentError, says_out_of_memory
from lstm_sentiment.models.classifier import SentimentLSTM
from lstm_sentiment.text.tokenize import Tokenizer
from lstm_sentiment.text.vocab import Vocab

FORMAT_VERSION = 1
REQUIRED_FILES = ("config.json", "model.safetensors", "vocab.txt")
# Everything save_bundle writes: a folder holding anything else is not replaced (its other files would be lost).
BUNDLE_FILES = frozenset(REQUIRED_FILES + ("metrics.json", "README.md", "training_log.csv"))
# The word-vector tables are stored in float16 (half the bundle) and read back into float32: the shipped
# vectors are float16 already; rounding fine-tuned rows moved 1 of 2,488 IMDB test labels of the en model
# and no zh label (README, "Quality").
HALF_PRECISION = ("embedding.weight", "ngram_vectors")
# config.json key of the SHA-256 of model.safetensors' bytes. safetensors checks only the header and the
# sizes, so bytes overwritten inside a tensor load as garbage weights (NaN scores) unless this is checked.
# Bundles written before it have no such key and load unchecked.
CHECKSUM_KEY = "weights_sha256"
# And of vocab.txt's: its words shuffled, or one word put for another, loaded with the right length and
# read every text with other vectors (我喜欢这个电影 negative 0.67, exit 0). Bundles before 2026-12-07 lack it.
VOCAB_CHECKSUM_KEY = "vocab_sha256"
# The config.json entries save_bundle writes itself: an ``extra`` entry of the name is not written.
OWN_ENTRIES = frozenset({"format_version", "model", "data", "train", "id2label", "tokenizer", "vocab_size", "versions", "created", CHECKSUM_KEY, VOCAB_CHECKSUM_KEY})


def bundle_name(path: str | Path) -> str:
    """A bundle's folder name (``zh``, ``en`` for the shipped ones), as a page or the API names a model where a
    path would tell the writer's machine; made absolute first, so that ``.`` gives its folder's name (it was
    empty), without following links (a link ``current`` to a bundle keeps the name it is served by)."""
    return Path(os.path.abspath(path)).name or str(path)


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes (about 15 ms for a 10 MB model)."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    """Versions of the libraries that shape a model's numbers."""
    names = ("lstm-sentiment", "torch", "lightning", "gensim", "jieba", "opencc-python-reimplemented", "safetensors")
    return {"python": platform.python_version(), **{n: metadata.version(n) for n in names}}


def check_bundle_target(out_dir: Path) -> None:
    """Raise unless ``out_dir`` may take a bundle: absent, an empty directory or a bundle (to be replaced):
    a directory whose entries are all files that :func:`save_bundle` writes, config.json among them; and its
    folder can be written. See :func:`~lstm_sentiment.atomic.check_output_folder`.

    Raises:
        SentimentError: a file, a directory holding anything else (it would be lost), a place that cannot
            be written, or a place inside the installed package (its shipped models: ``make models``
            trains elsewhere and moves the result in), named.
    """
    _refuse_package(out_dir, "--out")
    check_output_folder(out_dir, BUNDLE_FILES, "config.json", "a model bundle", "--out", whole=True)


def _refuse_package(path: Path, option: str) -> None:
    """Raise if ``path`` (through symbolic links) is inside the installed package: its shipped models and
    vectors, and files that ``pip uninstall`` would leave behind."""
    package = Path(os.path.realpath(Path(__file__).parent))
    if Path(os.path.realpath(path)).is_relative_to(package):
        # Python's train() replaced the shipped model every command reads by default (the CLI refused).
        raise SentimentError(f"{option} {path} is inside the installed package {package} (its shipped models and vectors); choose another {option}")


def check_not_bundle_file(path: Path, option: str) -> None:
    """Raise if ``path`` (through symbolic links) names a file of a model bundle: a name that
    :func:`save_bundle` writes, in a folder holding a bundle's ``config.json`` and ``model.safetensors``
    (an output written there would destroy the model, perhaps the one being read), or is inside the
    installed package.

    Raises:
        SentimentError: naming ``option``, ``path`` and the bundle or package.
    """
    _refuse_package(path, option)
    real = Path(os.path.realpath(path))
    if real.name in BUNDLE_FILES and all((real.parent / name).is_file() for name in ("config.json", "model.safetensors")):
        raise SentimentError(f"{option} {path} is a file of the model bundle {real.parent}; choose another name")


# What config.json's tokenizer says segments a model's text, by its data language (every bundle said
# "jieba (zh) / Treebank rules (en)", which only "auto" does; lstm_sentiment.text.tokenize).
SEGMENTERS = {"zh": "jieba (Latin words inside kept whole)", "en": "Treebank-style rules", "auto": "jieba (zh) / Treebank-style rules (en), by script"}


def save_bundle(
    out_dir: Path,
    model: SentimentLSTM,
    vocab: Vocab,
    id2label: list[str],
    configs: tuple[ModelConfig, DataConfig, TrainConfig],
    metrics: dict,
    extra: dict,
    card: str,
    training_log: str | None = None,
) -> None:
    """Write a bundle directory atomically.

    Args:
        out_dir: the bundle directory (replaced if it exists; see :func:`check_bundle_target`).
        model: trained network; its ``state_dict`` goes to ``model.safetensors``.
        vocab, id2label: token and class tables.
        configs: the settings it was trained with.
        metrics: validation and test reports (see :func:`~lstm_sentiment.metrics.classification_report`).
        extra: more ``config.json`` entries (data counts, embeddings source and coverage); an entry that
            save_bundle writes itself (the settings, versions, time, checksum) is written anew, so a loaded
            bundle's whole config may be passed.
        card: the model card text.
        training_log: the text of the per-epoch CSV written by Lightning's CSVLogger, written if given.
    """
    check_bundle_target(out_dir)
    model_cfg, data_cfg, train_cfg = configs
    config = {
        "format_version": FORMAT_VERSION,
        "model": model_cfg.to_dict(),
        "data": data_cfg.to_dict(),
        "train": train_cfg.to_dict(),
        "id2label": list(id2label),
        "tokenizer": {"lang": data_cfg.lang, "max_tokens": data_cfg.max_tokens, "segmenter": SEGMENTERS[data_cfg.lang]},
        "vocab_size": len(vocab),
        "versions": library_versions(),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    config.update((key, value) for key, value in extra.items() if key not in OWN_ENTRIES)

    def write(directory: Path) -> None:
        directory.mkdir()
        state = {k: (v.half() if k in HALF_PRECISION else v).detach().cpu().contiguous() for k, v in model.state_dict().items()}
        weights = directory / "model.safetensors"
        try:
            save_file(state, str(weights), metadata={"format": "pt"})
        except SafetensorError as err:
            # Its write failures come as its own error ("I/O error: No space left on device (os error 28)"):
            # as an OSError of the file, write_atomic names the bundle, as for the other files.
            code = re.search(r"os error (\d+)", str(err))
            if code is None:
                raise
            raise OSError(int(code[1]), os.strerror(int(code[1])), str(weights)) from None
        vocab.save(directory / "vocab.txt")
        checksums = {CHECKSUM_KEY: file_sha256(weights), VOCAB_CHECKSUM_KEY: file_sha256(directory / "vocab.txt")}
        (directory / "config.json").write_text(json.dumps({**config, **checksums}, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        (directory / "metrics.json").write_text(json.dumps(metrics, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        (directory / "README.md").write_text(card, encoding="utf-8")
        if training_log is not None:
            (directory / "training_log.csv").write_text(training_log, encoding="utf-8")

    write_atomic(out_dir, write)


def load_bundle(path: Path) -> tuple[SentimentLSTM, Vocab, Tokenizer, dict]:
    """Read a bundle written by :func:`save_bundle`.

    Returns:
        the network in eval mode on CPU, the vocabulary, the tokenizer it was trained with, the config dict.
    Raises:
        SentimentError: missing directory or file, another format version, a corrupt/truncated file,
            weights or a vocabulary whose SHA-256 differs from the one recorded in ``config.json``, a
            temperature that is not a number in [T_MIN, T_MAX] (training's bounds), an entry of config.json
            missing or of the wrong type.
    """
    path = Path(path)
    if path.is_file():
        raise SentimentError(f"{path}: a file, not a model directory (a bundle is the directory that holds config.json)")
    if not path.is_dir():
        raise SentimentError(f"{path}: model directory not found")
    missing = [name for name in REQUIRED_FILES if not (path / name).is_file()]
    if missing:
        raise SentimentError(f"{path}: not a model bundle, missing {', '.join(missing)}")
    try:
        # utf-8-sig: a config.json saved by an editor that writes a byte-order mark (Notepad) was "unreadable".
        config = json.loads((path / "config.json").read_text(encoding="utf-8-sig"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise SentimentError(f"{path / 'config.json'}: unreadable ({err})") from None
    if not isinstance(config, dict):
        raise SentimentError(f"{path / 'config.json'}: not a JSON object; reinstall or retrain the model")
    version = config.get("format_version")
    if version != FORMAT_VERSION:
        raise SentimentError(f"{path}: bundle format_version {version!r}, this lstm-sentiment reads {FORMAT_VERSION}")
    weights = path / "model.safetensors"
    for name, key in (("model.safetensors", CHECKSUM_KEY), ("vocab.txt", VOCAB_CHECKSUM_KEY)):
        expected = config.get(key)
        if expected is not None and file_sha256(path / name) != expected:
            raise SentimentError(f"{path / name}: damaged, its SHA-256 differs from the one in config.json; reinstall or retrain the model")
    # Not covered by the checksum: a null temperature would fail at the first prediction, a negative one
    # would flip every label, 1e308 gave every text 0.5 / 0.5. Training fits T within [T_MIN, T_MAX] or keeps 1.
    temperature = config.get("temperature", 1.0)
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not T_MIN <= temperature <= T_MAX:
        raise SentimentError(f"{path / 'config.json'}: temperature must be a number in [{T_MIN}, {T_MAX}], got {temperature!r}; reinstall or retrain the model")
    try:
        model_cfg = ModelConfig.from_dict(config["model"])
        data_cfg = DataConfig.from_dict(config["data"])
        # "tokenizer" restates "data" for the reader; the tokenizer is built from "data", so an edit of one
        # alone would be silently ignored.
        told = config.get("tokenizer", {})
        for key in ("lang", "max_tokens"):
            if key in told and told[key] != getattr(data_cfg, key):
                raise ValueError(f'"tokenizer" says {key} {told[key]!r}, "data" {getattr(data_cfg, key)!r}; "data" is the one read')
        id2label = config["id2label"]
        # A string or a list of numbers loaded, and predict named its classes "b" or 1.
        if not isinstance(id2label, list) or not all(isinstance(name, str) and name for name in id2label):
            raise ValueError(f"id2label must be a list of class names, got {json.dumps(id2label, ensure_ascii=False)[:80]}")
        if len(id2label) < 2:  # no classifier: [] built a head of no rows, with torch's warning before the error
            raise ValueError(f"id2label must name at least two classes, got {json.dumps(id2label, ensure_ascii=False)[:80]}")
        if len(set(id2label)) < len(id2label):  # two logits under one name: a record's score and probs would differ
            raise ValueError(f"id2label names a class twice: {id2label}")
        scripts = config.get("training_scripts", {})
        # Read at every prediction (reading_language): a string or null there crashed predict with a traceback.
        if not isinstance(scripts, dict) or not all(isinstance(s, (int, float)) and not isinstance(s, bool) for s in scripts.values()):
            raise ValueError(f"training_scripts must map scripts to shares, got {json.dumps(scripts, ensure_ascii=False)[:80]}")
        vocab = Vocab.load(path / "vocab.txt")
        model = SentimentLSTM(len(vocab), len(id2label), model_cfg)
        model.load_state_dict(load_file(str(weights)))
    except KeyError as err:  # its message is the bare key: "corrupt model bundle ('model')"
        raise SentimentError(f"{path}: corrupt model bundle (config.json has no {err.args[0]!r} entry)") from None
    except (TypeError, ValueError, RuntimeError, SafetensorError, UnicodeDecodeError) as err:
        if says_out_of_memory(str(err)):
            # A memory limit (ulimit -v) read as a damaged install: "corrupt model bundle (… can't allocate memory …)".
            raise MemoryError(f"out of memory loading the model {path}") from None
        lines = [line.strip() for line in str(err).strip().splitlines() if line.strip()]
        # load_state_dict's first line only says that loading failed; the next one says what did not match.
        first = " ".join(lines[:2]) if lines and lines[0].startswith("Error(s) in loading") else lines[0] if lines else type(err).__name__
        raise SentimentError(f"{path}: corrupt model bundle ({first})") from None
    model.eval()
    return model, vocab, Tokenizer(data_cfg.lang, data_cfg.max_tokens), config
