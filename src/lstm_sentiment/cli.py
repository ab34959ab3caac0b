"""The ``lstm-sentiment`` command. Commands only parse arguments and call public functions.

Data goes to stdout, logs and warnings to stderr. Exit codes: 0 ok, 1 failure (a one-line message,
no traceback; no message when the reader of stdout closed it early, as ``head`` does), 2 usage.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import dataclasses
import errno
import functools
import io
import itertools
import json
import os
import re
import shutil
import signal
import sys
import warnings
from collections.abc import Iterable, Iterator
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from lstm_sentiment import interrupt
from lstm_sentiment.atomic import check_output_file, claimed, home_expanded, write_atomic

# Config classes are plain dataclasses (no torch): their defaults are the CLI's defaults.
from lstm_sentiment.config import DEFAULT_EPOCHS, MAX_AUTO_EPOCHS, MIN_STEPS, DataConfig, ModelConfig, TrainConfig, with_vector_choice
from lstm_sentiment.errors import SentimentError, SentimentWarning, says_out_of_memory, warn_caller
from lstm_sentiment.logs import first_process, one_logger_for_lightning, quiet_logging, quiet_other_processes
from lstm_sentiment.output import KeptColumns, fits_terminal, fitting_console, print_report, records_table, write_records

# typer's boxed help cut train's option names below about 100 columns ("--unidirection…"; a pipe is 80 wide);
# click's plain help, which typer falls back to without a markup mode, wraps them. Each command's short_help
# fits its line of the command list there (63 characters at 80 columns; the longer first line was cut).
app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich" if shutil.get_terminal_size().columns >= 100 else None,
    help="A textbook LSTM for sentence sentiment, with every gate inspectable.",
)


class Lang(str, Enum):
    auto = "auto"
    zh = "zh"
    en = "en"


class Init(str, Enum):
    default = "default"
    chrono = "chrono"


class ClassWeight(str, Enum):
    none = "none"
    balanced = "balanced"


class InputFormat(str, Enum):
    txt = "txt"
    csv = "csv"
    tsv = "tsv"
    jsonl = "jsonl"


class PredictFormat(str, Enum):
    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"
    tsv = "tsv"


class ReportFormat(str, Enum):
    table = "table"
    json = "json"


class Precision(str, Enum):
    float32 = "float32"
    bfloat16 = "bfloat16"


def _named(value: str | None) -> str | None:
    """A path option's value, refused when empty. Typer makes "" the current folder ("."), which would then
    be read, refused as "a directory" (what a user saw after --data "$UNSET"), or searched for a bundle under
    another name than the one typed. As text: the callback of options that may also name the built-in
    corpus or stdin."""
    if value == "":
        raise typer.BadParameter("an empty path; give a name")  # of a file or a folder, as the option reads it
    return value


def _path(value: str) -> Path:
    """A path option's value as a Path (:func:`_named`), ``~`` read as the home folder (the shell leaves
    ``--out=~/x`` as typed)."""
    return home_expanded(_named(value))


def _file_path(value: str) -> Path:
    """A path option naming a file to write. Path("out/") drops the slash, so a name typed as a folder
    would be written as a file of that name."""
    if value.endswith(("/", os.sep)):
        raise typer.BadParameter(f"{value} ends with a slash, which names a folder; give a file name")
    return _path(value)


_PATH = "<path>"  # the metavar typer shows for its own Path options


class _UsageError(ValueError):
    """Options that contradict each other or that nothing would read: exit 2, as typer's own usage errors."""


def _fail(message: str, code: int = 1):
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _interrupted(kept: str = ""):
    """End the command for a Ctrl-C or SIGTERM; ``kept`` says what became of its output ("; out.csv left as it was")."""
    interrupt.ignore()  # everything is cleaned up by now
    if interrupt.received() == signal.SIGTERM:
        _fail(f"terminated{kept}", 128 + signal.SIGTERM)
    _fail(f"interrupted{kept}", 130)


def _import_torch() -> None:
    """Import torch with Ctrl-C and SIGTERM held back until it is done; each command calls this before the
    imports that load torch (train and longrange after checking their options, which takes no torch).

    Torch's compiled module imports numpy and takes any failure there, a KeyboardInterrupt included, for
    "numpy missing", so Ctrl-C at that moment was lost and the run went on (once in 13 tries at start-up); a
    signal raised mid-import left torch half-initialised (a traceback, or a crash inside its C++ start-up)."""
    with interrupt.held():
        import torch  # noqa: F401  # why here: the import is what this function guards


def _warn_if_shadowed(model: str | None, option: str = "--model") -> None:
    """Warn when ``--model zh`` (or en; ``option`` names the flag) reads the shipped model while ./zh here is a
    bundle, as ``train --out zh`` writes one: predict --model zh scored with the shipped model (0.74) where
    ./zh said 0.65, silently."""
    from lstm_sentiment.inference.model import DEFAULT_MODELS  # why here: torch, imported by the command by now

    if model in DEFAULT_MODELS and (Path(model) / "config.json").is_file():
        warn_caller(f"{option} {model} reads the shipped model, not the bundle ./{model} here; give {option} ./{model} for that one")


def _warn_if_a_file(texts: Iterable[str], reading: str) -> None:
    """Warn when a text given as an argument names a file here: ``predict t.txt`` scored the name "t.txt"
    (positive 0.99) without a word. ``reading``: how to read the file instead."""
    for text in texts:
        try:
            named = "\n" not in text and Path(text).is_file()
        except (OSError, ValueError):  # a name too long for the system, or with a NUL, names no file
            named = False
        if named:
            warn_caller(f"{text!r} names a file, and the argument is read as the text itself; {reading.format(text)}")
            return


def _inference_threads() -> int | None:
    """Torch threads for commands that run the model: one, unless the user set OMP_NUM_THREADS (None:
    torch's own setting). The LSTM's small per-step products gain little from more, and OpenMP threads on
    busy cores wait for each other: with another process on one of 2 cores, evaluate on two threads took
    60 s where one thread takes 6.7 s (issue 13; BENCHMARKS.md has predict's figures)."""
    return None if os.environ.get("OMP_NUM_THREADS") else 1


def _use_inference_threads() -> None:
    """Apply :func:`_inference_threads` to this process, for commands that run the model here only."""
    threads = _inference_threads()
    if threads is not None:
        import torch  # why here: loaded by the command already, never at start-up (--help)

        torch.set_num_threads(threads)


_MEMORY_HINTS = {
    "train": "; try a smaller --hidden-size, --num-layers, --batch-size or --max-tokens",
    "longrange": "; try shorter --lengths, a smaller --batch-size or --hidden-size, or fewer --workers",
}


def _out_of_memory(err: BaseException, name: str) -> str | None:
    """One line for an allocation that failed (torch's CPU allocator raises a RuntimeError, CUDA an
    OutOfMemoryError) or a worker process the system killed (a BrokenProcessPool, a RuntimeError too),
    None for any other error."""
    # why here: cli stays torch-free at import (and multiprocessing-free); loaded by the command already
    from concurrent.futures.process import BrokenProcessPool

    import torch

    hint = _MEMORY_HINTS.get(name, "")
    if isinstance(err, BrokenProcessPool):
        return f"a worker process was killed (by the system: out of memory, most likely){hint or '; try fewer --workers'}"
    text = str(err)
    if not isinstance(err, (MemoryError, torch.OutOfMemoryError)) and not says_out_of_memory(text):
        return None
    asked = re.search(r"allocate (\d+) bytes", text)
    size = f" ({int(asked[1]) / 2**30:,.1f} GiB asked)" if asked else ""
    return f"out of memory{size}{hint}"


def _names_stdout(path: Path) -> bool:
    """Whether writing ``path`` writes this process's stdout (/dev/stdout, or the file stdout goes to)."""
    try:
        return os.path.samestat(os.stat(path), os.fstat(sys.stdout.fileno()))
    except (OSError, ValueError, io.UnsupportedOperation):
        return False


def command(func):
    """Run a command with one-line errors: known failures exit 1 with ``error: …`` on stderr."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        quiet_logging()
        # Ctrl-C and SIGTERM are noted as well as raised (as KeyboardInterrupt), so that one whose exception
        # Python or a library loses still stops the run at its next safe point (see lstm_sentiment.interrupt).
        interrupt.reset()
        for signum in interrupt.SIGNALS:
            signal.signal(signum, interrupt.on_signal)
        try:
            result = func(*args, **kwargs)
            _stdout_write("")  # a closed pipe or a full disk shows here, among the handlers below, not in Python's exit
            return result
        except typer.Exit:
            raise  # a RuntimeError to Python, but already the one-line end of the command (_fail's)
        except _UsageError as err:
            _fail(str(err), 2)
        except UnicodeEncodeError as err:
            # PYTHONIOENCODING=ascii, say: Python's own words named neither the stream nor the way out.
            _fail(f"the output's encoding ({err.encoding}) cannot hold {err.object[err.start:min(err.end, err.start + 20)]!r}; set PYTHONIOENCODING=utf-8")
        except (SentimentError, ValueError) as err:
            # The first line with words: matplotlib's mathtext error starts with a newline, and "error: " said nothing.
            _fail(next((line for line in str(err).splitlines() if line.strip()), type(err).__name__))
        except BrokenPipeError:
            # The reader of stdout stopped early (head, say): quiet, as rich's console and Python's
            # documentation end then, with stdout pointed at /dev/null so the exit flush cannot fail again.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(1)
        except OSError as err:
            _fail(f"{err.filename or ''}: {err.strerror or err}".lstrip(": "))
        except csv.Error as err:
            _fail(f"malformed CSV/TSV: {err}")
        except (MemoryError, RuntimeError) as err:
            message = _out_of_memory(err, func.__name__)
            if message is None:
                raise
            _fail(message)
        except KeyboardInterrupt:
            _interrupted()
        except ImportError as err:
            # Ctrl-C while a compiled module (numpy's, say) loads surfaces as its ImportError.
            if not isinstance(err.__context__, KeyboardInterrupt):
                raise
            _interrupted()

    return wrapper


def _print_version(asked: bool) -> None:
    if asked:
        from lstm_sentiment import __version__

        typer.echo(f"lstm-sentiment {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", is_eager=True, callback=_print_version, help="Print the version and exit.")) -> None:
    """A textbook LSTM for sentence sentiment, with every gate inspectable."""


# Settings of the network and tokenizer that --init-from takes from its base model (train's docstring).
_KEPT_BY_INIT_FROM = ("lang", "max_tokens", "min_count", "hidden_size", "num_layers", "bidirectional", "pooling", "forget_bias", "init", "chrono_t_max")


def _given(ctx: typer.Context, name: str) -> bool:
    """Whether the user set this parameter (on the command line or by environment), not its default."""
    return ctx.get_parameter_source(name).name != "DEFAULT"


def _refuse_unread_train_options(ctx: typer.Context, init: "Init", freeze_embeddings: bool) -> None:
    """Raise a usage error for a train option its other options leave unread."""
    if _given(ctx, "chrono_t_max") and init != Init.chrono:
        raise _UsageError("--chrono-t-max sets --init chrono's time scale; add --init chrono or drop it")
    if _given(ctx, "forget_bias") and init == Init.chrono:
        raise _UsageError("--forget-bias is the default init's; --init chrono sets the forget-gate biases itself")
    if _given(ctx, "min_count") and ctx.params["embeddings"] is None:
        raise _UsageError("--min-count is for --embeddings; the shipped vectors give every word a vector, through its subwords if need be")
    if _given(ctx, "embedding_lr_scale") and _given(ctx, "freeze_embeddings") and freeze_embeddings:
        raise _UsageError("--embedding-lr-scale is the rate of fine-tuned word vectors; add --fine-tune-embeddings or drop it")


def _refuse_given(ctx: typer.Context, names: tuple[str, ...], why: str, otherwise: str = "") -> None:
    """A usage error naming those of ``names`` the user set, as typed: "--valid, --test: WHY; drop them"."""
    given = [name for name in names if _given(ctx, name)]
    if given:
        flags = ", ".join(_typed_flag(ctx, name) for name in given)
        raise _UsageError(f"{flags}: {why}; drop {'it' if len(given) == 1 else 'them'}{otherwise}")


def _typed_flag(ctx: typer.Context, name: str) -> str:
    """The flag the user typed for a parameter: --unidirectional, not --bidirectional, for the off side
    of an on/off pair."""
    param = next(p for p in ctx.command.params if p.name == name)
    if param.secondary_opts and not ctx.params[name]:
        return param.secondary_opts[0]
    return param.opts[0]


@app.command(short_help="Train a model on the built-in corpus or your own labelled file.")
@command
def train(
    ctx: typer.Context,
    data: str = typer.Option(..., "--data", callback=_named, help="zh-reviews (built-in corpus) or a CSV/TSV/JSONL file with a header (de-duplicated as the model reads its texts)."),
    out: Path = typer.Option(..., "--out", parser=_path, metavar=_PATH, help="Model bundle directory to write (replaced atomically)."),
    valid: Optional[Path] = typer.Option(None, parser=_path, metavar=_PATH, help="Validation file; default: 10% of --data, stratified."),
    test: Optional[Path] = typer.Option(None, parser=_path, metavar=_PATH, help="Test file; default: 10% of --data, stratified, unless --valid is given (then no test split)."),
    text_column: Optional[str] = typer.Option(None, help="Text column; guessed from text, review, sentence, content, comment, 评论, 文本, 内容."),
    label_column: Optional[str] = typer.Option(None, help="Label column; guessed from label, sentiment, polarity, 标签, 情感."),
    sentences: bool = typer.Option(False, "--sentences", help="Also train on each distinct sentence (4+ characters, a letter, digit or Han character among them; cut at 。！？!?；;…~～ and line breaks, not at '.') of the training texts that hold two or more, labelled as its text; none a validation or test text or a whole training text, none given under both labels: for long reviews, so that short texts are read as well (the shipped zh model's data)."),
    init_from: Optional[str] = typer.Option(None, help="Fine-tune a trained model: zh, en (shipped) or a bundle directory; keeps its vectors, LSTM and (same labels) head."),
    embeddings: Optional[Path] = typer.Option(None, parser=_path, metavar=_PATH, help="word2vec (.txt/.bin), GloVe or fastText .vec file, or the same .gz/.bz2; default: the shipped pretrained vectors of the data's language."),
    lang: Lang = typer.Option(Lang.auto, help="Tokenizer language: auto (by script), zh or en; other than the texts' script only with --embeddings."),
    max_tokens: int = typer.Option(DataConfig.max_tokens, help="Longer texts keep their head and tail."),
    min_count: int = typer.Option(DataConfig.min_count, help="With --embeddings: words seen fewer times in training become <unk>. The shipped vectors read every word (through its subwords if need be)."),
    hidden_size: int = typer.Option(ModelConfig.hidden_size, help="LSTM units per direction (H)."),
    num_layers: int = typer.Option(ModelConfig.num_layers, help="Stacked LSTM layers."),
    bidirectional: bool = typer.Option(ModelConfig.bidirectional, "--bidirectional/--unidirectional", help="Read the text both ways."),
    dropout: float = typer.Option(ModelConfig.dropout, help="Dropout on pooled features and between layers."),
    word_dropout: float = typer.Option(ModelConfig.word_dropout, help="Training-time probability of replacing a word by <unk>."),
    pooling: str = typer.Option(ModelConfig.pooling, help="mean, max, mean+max or last."),
    freeze_embeddings: bool = typer.Option(ModelConfig.freeze_embeddings, "--freeze-embeddings/--fine-tune-embeddings", help="Keep word vectors fixed (<unk> still learned), as both shipped models do; fine-tuned when --embedding-lr-scale is given."),
    forget_bias: float = typer.Option(ModelConfig.forget_bias, help="Initial forget-gate bias (Jozefowicz et al. 2015)."),
    init: Init = typer.Option(ModelConfig.init, help="LSTM bias init: default (--forget-bias) or chrono (Tallec & Ollivier 2018)."),
    chrono_t_max: int = typer.Option(ModelConfig.chrono_t_max, min=2, help="T_max of --init chrono, in tokens (match --max-tokens)."),
    epochs: Optional[int] = typer.Option(None, help=f"Most epochs; early stopping on validation macro-F1 may end sooner. Default: {DEFAULT_EPOCHS}, or up to {MAX_AUTO_EPOCHS} for a small training set, so that it gets at least {MIN_STEPS} steps."),
    batch_size: int = typer.Option(TrainConfig.batch_size, help="Sentences per batch."),
    lr: float = typer.Option(TrainConfig.lr, help="AdamW learning rate."),
    weight_decay: float = typer.Option(TrainConfig.weight_decay, help="AdamW weight decay."),
    grad_clip: float = typer.Option(TrainConfig.grad_clip, help="Gradient-norm clipping."),
    patience: int = typer.Option(TrainConfig.patience, help="Epochs without improvement before stopping."),
    seed: int = typer.Option(TrainConfig.seed, help="Same seed, same model (CPU)."),
    embedding_lr_scale: float = typer.Option(TrainConfig.embedding_lr_scale, help="Learning rate of fine-tuned word vectors, as a fraction of --lr; given alone, it fine-tunes them."),
    plateau_factor: float = typer.Option(TrainConfig.plateau_factor, help="Multiply the learning rate by this after each epoch without a better validation macro-F1; 0: constant rate."),
    class_weight: ClassWeight = typer.Option(ClassWeight.none, help="balanced: weigh each class's texts by n / (C · n_c) in the training loss, for data where a class is rare."),
    accelerator: str = typer.Option(TrainConfig.accelerator, help="Lightning accelerator: auto, cpu, gpu."),
    devices: str = typer.Option(TrainConfig.devices, help="Lightning devices per node (e.g. 2, or auto)."),
    num_nodes: int = typer.Option(TrainConfig.num_nodes, help="Machines for multi-node training."),
    strategy: str = typer.Option(TrainConfig.strategy, help="Lightning strategy, e.g. ddp."),
) -> None:
    """Train a model on the built-in corpus or your file; writes a bundle with metrics and a model card."""
    from lstm_sentiment.data.corpus import NAME as CORPUS_NAME

    quiet_other_processes()

    if init_from is not None and embeddings is not None:
        raise _UsageError("give --init-from or --embeddings, not both: a fine-tuned model keeps its base's word vectors")
    _refuse_unread_train_options(ctx, init, freeze_embeddings)
    if data == CORPUS_NAME:
        _refuse_given(ctx, ("valid", "test", "text_column", "label_column"), f"{CORPUS_NAME} comes with its own columns and train/validation/test splits")
    elif data.partition(":")[0] == CORPUS_NAME:  # one split as the data: its columns are the corpus's too
        _refuse_given(ctx, ("text_column", "label_column"), f"{CORPUS_NAME} comes with its own columns")
    if init_from is not None:
        _refuse_given(ctx, _KEPT_BY_INIT_FROM, f"a fine-tuned model keeps the network and tokenizer of --init-from {init_from}", ", or train without --init-from")
    try:
        model_cfg = ModelConfig(
            hidden_size=hidden_size,
            num_layers=num_layers,
            bidirectional=bidirectional,
            dropout=dropout,
            word_dropout=word_dropout,
            pooling=pooling,
            freeze_embeddings=freeze_embeddings,
            forget_bias=forget_bias,
            init=init.value,
            chrono_t_max=chrono_t_max,
        )
        data_cfg = DataConfig(lang=lang.value, max_tokens=max_tokens, min_count=min_count)
        train_cfg = TrainConfig(
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            weight_decay=weight_decay,
            grad_clip=grad_clip,
            patience=patience,
            seed=seed,
            embedding_lr_scale=embedding_lr_scale,
            plateau_factor=plateau_factor,
            class_weight=class_weight.value,
            accelerator=accelerator,
            devices=devices,
            num_nodes=num_nodes,
            strategy=strategy,
        )
    except ValueError as err:
        # The settings' checks name their field ("TrainConfig.epochs"); the user typed the option.
        _fail(re.sub(r"\b(?:Model|Data|Train)Config\.(\w+)", lambda m: "--" + m.group(1).replace("_", "-"), str(err)), 2)
    # why here, after the checks of the settings: torch and Lightning take seconds to import, a typo none.
    _import_torch()
    _warn_if_shadowed(init_from, "--init-from")
    from lstm_sentiment.bundle import check_bundle_target
    from lstm_sentiment.training.splits import training_splits, with_training_sentences
    from lstm_sentiment.training.train import check_trainer_settings, load_base, train as run_training

    try:
        check_trainer_settings(train_cfg)
    except SentimentError as err:
        raise _UsageError(str(err)) from None  # --devices abc is a bad option value, exit 2 as --epochs 0
    check_bundle_target(out)  # before training, not after
    if init_from is not None:
        # A missing or corrupt base was named only after the whole --data file had been read and deduplicated.
        load_base(init_from)
    # The processes a multi-process run starts run this command again; the first one holds --out.
    first = first_process()
    with claimed(out, "--out") if first else contextlib.nullcontext():
        one_logger_for_lightning()
        train_part, valid_part, test_part = training_splits(data, valid=valid, test=test, text_column=text_column, label_column=label_column)
        whole = len(train_part)
        if sentences:
            train_part = with_training_sentences(train_part, valid_part, test_part)
        # Both given and contradicting: refused above.
        model_cfg = with_vector_choice(model_cfg, freeze_given=_given(ctx, "freeze_embeddings"), scale_given=_given(ctx, "embedding_lr_scale"))
        metrics = run_training(
            train_part,
            valid_part,
            test_part,
            out,
            model_cfg=model_cfg,
            data_cfg=data_cfg,
            train_cfg=train_cfg,
            embeddings=embeddings,
            init_from=init_from,
            extra={"sentences": len(train_part) - whole} if sentences else None,
        )
    if metrics is not None:  # None on the other processes of a multi-process run
        interrupt.ignore()  # --out is replaced: a signal while the reports print would call this run interrupted
        for name in ("validation", "test"):
            if metrics[name]:
                print_report(metrics[name], stderr=True)
        # Epochs count from 0, as in Lightning's progress bar and training_log.csv.
        typer.echo(f"wrote {out} (best epoch {metrics['best_epoch']} of {metrics['epochs_run']}, counted from 0; {metrics['train_seconds']} s)", err=True)


@app.command(short_help="Label texts positive/negative (or your classes), with a score.")
@command
def predict(
    texts: Optional[list[str]] = typer.Argument(None, help="Texts to classify; '-' reads stdin, one per line."),
    model: Optional[str] = typer.Option(None, help="Bundle directory or a shipped model (zh, en); default: by --lang."),
    lang: Lang = typer.Option(Lang.auto, help="With no --model: auto picks zh or en per text by script."),
    input: Optional[str] = typer.Option(None, "--input", "-i", callback=_named, help="File of texts: .txt (one per line), .csv/.tsv/.jsonl (.ndjson), or - for stdin; a pipe without a suffix (<(cmd)) is read as .txt."),
    text_column: Optional[str] = typer.Option(None, help="Text column of a CSV/TSV/JSONL input."),
    read_as: Optional[InputFormat] = typer.Option(None, "--input-format", help="Read --input or stdin as txt (one text per line), csv, tsv or jsonl, whatever its suffix. Default: by the file's suffix; stdin and a pipe without one: txt."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", parser=_file_path, metavar=_PATH, help="Write records here (atomically, streaming: memory stays flat; missing folders are made, and removed if the run fails) instead of stdout; - is stdout."),
    format: Optional[PredictFormat] = typer.Option(None, "--format", "-f", help="table, json, jsonl, csv or tsv. Default: a table on stdout; for --output, by its suffix (.csv, .tsv, .json, .jsonl or .ndjson; none: jsonl; others refused)."),
    workers: int = typer.Option(0, min=0, help="Processes that segment and classify, one torch thread each, while this one reads and writes; 0: all in this process. For large files, use your cores (--workers 2 on 2 cores)."),
    precision: Precision = typer.Option(Precision.float32, help="bfloat16 runs the LSTM faster on CPUs with AVX512-BF16 (probabilities move by about 0.01)."),
    strict: bool = typer.Option(False, "--strict", help="Stop at the first input line that holds no text (not UTF-8, not JSON, a blank JSONL line), leaving --output as it was. Default: such a line gets a record with an error at its place, the run goes on, and the exit code is 1."),
) -> None:
    """Label texts positive/negative (or your classes), with a score: a record per input, in input order."""
    from lstm_sentiment.data.files import BadInput, argument_texts, input_format, iter_rows

    if input is not None and texts:
        raise _UsageError("give texts as arguments or --input, not both")
    source = input if input is not None else ("-" if texts == ["-"] else None)
    fmt_in = None if read_as is None else read_as.value
    if fmt_in is not None and source is None and texts:
        raise _UsageError("--input-format is for an --input file or stdin; texts given as arguments are read whole")
    if text_column is not None and source is not None and input_format(source, fmt_in) == "txt":
        raise _UsageError(f"--text-column names a column of a CSV/TSV/JSONL file; {'stdin' if source == '-' else source} is read as one text per line (--input-format csv, tsv or jsonl reads it so)")
    if source is not None:
        rows = iter_rows(source, text_column, strict, fmt_in)
    elif texts and "-" in texts:
        raise _UsageError("'-' reads stdin and stands alone; give texts as arguments or '-', not both")
    elif texts and text_column is not None:
        raise _UsageError("--text-column names a column of an --input file; texts given as arguments have none")
    elif texts and strict:
        raise _UsageError("--strict is for an --input file or stdin; texts given as arguments are read whole")
    elif texts:
        _warn_if_a_file(texts, "give --input {0} (-i) to classify its lines")
        rows = ((text, {}) for text in argument_texts(texts))
    else:
        raise _UsageError("no text given; pass TEXT…, --input FILE or -")
    columns = KeptColumns(rows)
    items = unreadable = _Tally(columns.texts(), BadInput)
    if model is not None and lang != Lang.auto:
        raise _UsageError("give --model or --lang, not both: --lang picks a shipped model")
    if output is not None and str(output) == "-":
        output = None  # as for input, '-' is the standard stream
    if output is not None and format == PredictFormat.table:
        raise _UsageError("--format table is for the terminal; with --output give json, jsonl, csv or tsv")
    if output is not None and output.is_dir():
        raise ValueError(f"--output {output} is a directory; give a file name")
    if output is not None and _reads(source, output):
        raise ValueError(f"--output {output} is the input file; choose another name")
    fmt = None if output is None else format.value if format is not None else _output_format(output)  # before torch loads
    # why here, after the checks of the options: torch takes seconds to import, a mistyped option none.
    _import_torch()
    _warn_if_shadowed(model)
    from lstm_sentiment.bundle import check_not_bundle_file
    from lstm_sentiment.inference.stream import RecordCounter, iter_predictions, kept_note, predict_file

    if output is not None:
        check_not_bundle_file(output, "--output")
    workers = _at_most_cores(workers)
    threads = _inference_threads()  # --workers uses more cores
    if output is not None:
        # A table is for the terminal; files get data. Records stream to a temporary file, renamed at the end.
        # "error: interrupted" said nothing of the old output; a device or pipe has had records written into it.
        kept = f"; {kept_note(output)}" if output.is_file() or not output.exists() else ""
        try:
            counter = predict_file(items, output, fmt, model, columns, lang=lang.value, workers=workers, threads=threads, precision=precision.value)
        except KeyboardInterrupt:
            _interrupted(kept)
        interrupt.ignore()  # the output is in place: a press now would call it left as it was
        typer.echo(f"wrote {counter.count} record{'' if counter.count == 1 else 's'} to {output}", err=True)
    else:
        # Input that arrives over time (stdin, a pipe) is classified as it pauses, not a chunk late: a
        # `tail -f` piped in showed nothing until 4,000 lines had come.
        live = source is not None and (source == "-" or not Path(source).is_file())
        counter = RecordCounter(columns.records(iter_predictions(items, model, lang.value, workers=workers, threads=threads, precision=precision.value, wait=_INPUT_PAUSE if live else None)))
        records = iter(counter)
        first = next(records, None)
        if first is None:
            raise ValueError("no texts in the input")
        if format not in (None, PredictFormat.table):
            _utf8_stdout()
        _emit_records(itertools.chain([first], records), (format or PredictFormat.table).value)
    if counter.failed:
        # A file in GBK was named so without --strict, but only --strict gave the command that converts it.
        remedy = unreadable.first.remedy if unreadable.first is not None and unreadable.first.error == counter.first_error else ""
        typer.echo(f"warning: {counter.failed} of {counter.count} input(s) could not be classified; the first, input {counter.first_failed}: {counter.first_error}{remedy}", err=True)
        # An unreadable line is the input's fault, unlike an empty text, and a script must see it.
        if counter.failed == counter.count or unreadable.count:
            raise typer.Exit(1)


def _reads(source: str | None, output: Path) -> bool:
    """Whether ``output`` is the file that ``source`` (a path, or "-" for stdin) reads: written atomically, it
    replaced the input with its own records (``-i - -o FILE < FILE`` too). Only a regular file is replaced: a
    device (the terminal as both stdin and ``-o /dev/stdout``, ``/dev/null``) is written into."""
    if source is None or not output.is_file():
        return False
    if source != "-":
        return output.samefile(source)
    try:
        return os.path.samestat(os.fstat(sys.stdin.fileno()), output.stat())
    except (OSError, ValueError):
        return False  # no stdin (closed, or replaced by an object without a descriptor)


class _Tally:
    """Passes items through, counting those of one type and keeping the first of them."""

    def __init__(self, items, kind: type) -> None:
        self._items = items
        self._kind = kind
        self.count = 0
        self.first = None

    def __iter__(self):
        for item in self._items:
            if isinstance(item, self._kind):
                self.count += 1
                self.first = self.first or item
            yield item


_OUTPUT_FORMATS = {".csv": "csv", ".tsv": "tsv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", "": "jsonl"}  # --output suffix → format


def _output_format(output: Path) -> str:
    """The format an --output file's suffix names (none: JSON Lines, as for a pipe such as /dev/fd/63).

    Raises:
        _UsageError: another suffix: out.xlsx and out.txt were written as JSON Lines without a word.
    """
    suffix = output.suffix.lower()
    if suffix not in _OUTPUT_FORMATS:
        raise _UsageError(f"--output {output}: predict writes .csv, .tsv, .json, .jsonl or .ndjson (no suffix: JSON Lines), not {suffix}; rename it or give --format")
    return _OUTPUT_FORMATS[suffix]
_INPUT_PAUSE = 0.1  # seconds without a new line of stdin or a pipe before the records read so far are written


def _emit_records(records: Iterable[dict], fmt: str) -> None:
    """Records to stdout: a table (once all are in: its columns fit the widest), or data as each record is
    made (CSV spooled first: its header names every class)."""
    if fmt == "table":
        table = records_table(list(records))
        console = fitting_console(table)
        with _naming_stdout(), console.capture() as captured:  # rich flushes stdout as a capture ends
            console.print(table)
        _write_stdout(captured.get())
        return
    write_records(records, fmt, _FlushedStdout())


class _FlushedStdout:
    """stdout with every write flushed: records reach a reader as they are made (``yes 好 | predict -i -
    -f jsonl`` held them all, growing, until its input ended), and a reader that stops early (``| head``)
    ends the command at the next write (BrokenPipeError), as :func:`_write_stdout`'s pieces do."""

    def write(self, text: str) -> None:
        _stdout_write(text)


def _utf8_stdout() -> None:
    """Data (JSON, JSON Lines, CSV, Markdown) go to stdout in UTF-8 whatever the locale's encoding: JSON is
    UTF-8 by its standard (RFC 8259, 8.1), and these outputs are read back as UTF-8. Under ``LC_ALL=C``
    without Python's UTF-8 mode a Chinese record failed to print; under GB18030 the file was GB18030."""
    if isinstance(sys.stdout, io.TextIOWrapper) and codecs.lookup(sys.stdout.encoding).name != "utf-8":
        sys.stdout.reconfigure(encoding="utf-8")


def _write_stdout(text: str) -> None:
    """``text`` to stdout in pieces of 64 KiB, each flushed. One large write to a pipe whose reader stops
    (``| head``) is cut short by the kernel, and Python's buffered writer then drops the rest without an
    error (exit 0, the output silently short); a piece written after that raises BrokenPipeError, which
    :func:`command` ends with exit 1. All or nothing for the encoding: a text that stdout's cannot hold
    fails before any piece is written (under an ASCII locale explain's table was printed, then its narration
    failed)."""
    text.encode(sys.stdout.encoding or "utf-8", sys.stdout.errors or "strict")
    for start in range(0, len(text), 1 << 16):
        _stdout_write(text[start : start + (1 << 16)])


# A write that fails for want of room (or of a device) raises an OSError naming no file: "error: No space
# left on device" after `> /dev/full`, where `-o /dev/full` named its path.
_WRITE_FAILURES = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO)


@contextlib.contextmanager
def _naming_stdout():
    """Writes to stdout inside it that fail for want of room raise an OSError naming stdout; rich's
    console writes (tables) as well as :func:`_stdout_write`."""
    try:
        yield
    except OSError as err:
        if err.filename is None and err.errno in _WRITE_FAILURES:
            raise OSError(err.errno, err.strerror, "stdout") from None
        raise


def _stdout_write(text: str) -> None:
    """``text`` to stdout, flushed (``""``: flushed only, so a stdout the shell closed, which a command
    that writes nothing there never touches, is not written to); a write that fails for want of room
    names stdout."""
    with _naming_stdout():
        if text:
            sys.stdout.write(text)
        sys.stdout.flush()


@app.command(short_help="Accuracy, macro-F1 and the confusion matrix on labelled data.")
@command
def evaluate(
    ctx: typer.Context,
    data: str = typer.Option(..., "--data", callback=_named, help="A labelled file, or zh-reviews:test (or :validation, :train)."),
    model: Optional[str] = typer.Option(None, help="Bundle directory or shipped model (zh, en); default: each text by the shipped model of its script, as predict labels it."),
    text_column: Optional[str] = typer.Option(None, help="Text column; guessed when omitted."),
    label_column: Optional[str] = typer.Option(None, help="Label column; guessed when omitted."),
    format: ReportFormat = typer.Option(ReportFormat.table, "--format", "-f", help="table or json."),
    precision: Precision = typer.Option(Precision.float32, help="As predict's: see what bfloat16 costs in accuracy."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", parser=_file_path, metavar=_PATH, help="Write the report here as JSON (.json or no suffix; atomically, missing folders are made) instead of stdout; - is stdout (in --format's format)."),
) -> None:
    """Accuracy, macro-F1, per-class figures and the confusion matrix of a model on labelled data."""
    if output is not None and str(output) == "-":
        output = None  # stdout, as predict's: the format is --format's
    if output is not None:
        _check_report_output(output, data, _given(ctx, "format") and format == ReportFormat.table)
    from lstm_sentiment.data.corpus import NAME as CORPUS_NAME

    if data.partition(":")[0] == CORPUS_NAME:  # --text-column foo was ignored there (exit 0); train refuses it
        _refuse_given(ctx, ("text_column", "label_column"), f"{CORPUS_NAME} comes with its own columns")
    # why here: each command imports only what it runs, so that --help starts without torch.
    _import_torch()
    from lstm_sentiment.bundle import check_not_bundle_file
    from lstm_sentiment.data.sources import load_dataset
    from lstm_sentiment.inference.model import SentimentModel
    from lstm_sentiment.inference.routing import evaluate_by_script

    if output is not None:
        check_not_bundle_file(output, "--output")  # runs/mine/metrics.json would replace the model's own
    _use_inference_threads()
    said: list[str] = []
    with _recording_warnings(said):
        _warn_if_shadowed(model)
        if model is not None:
            # The model's classes first: -1 and 1 of a file are two of a -1/0/1 model's classes, not folded.
            loaded = SentimentModel.load(model, precision=precision.value)
            dataset = load_dataset(data, text_column, label_column, loaded.id2label)
            report = {**loaded.evaluate(dataset), "model": model}
        else:
            # Each text by its script's model, as predict labels it: one model for a mixed file scored the
            # other half with a model that cannot read it (60 zh + 60 en texts: 0.71, predict's labels 0.86).
            dataset = load_dataset(data, text_column, label_column)
            report = evaluate_by_script(dataset, precision.value)
    # A report file kept without its stderr said neither which model nor that half the texts were English.
    report["warnings"] = said
    if output is not None:
        write_atomic(output, lambda tmp: tmp.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"))
        typer.echo(f"wrote the report to {output}", err=True)
    elif format == ReportFormat.json:
        _utf8_stdout()
        _write_stdout(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    else:
        with _naming_stdout():
            print_report(report)


@contextlib.contextmanager
def _recording_warnings(said: list[str]) -> Iterator[None]:
    """Show the warnings raised inside as always, as they are raised, and append the package's own to ``said``."""
    with warnings.catch_warnings():  # puts showwarning back
        show = warnings.showwarning

        def recording(message, category, *args, **kwargs) -> None:
            if issubclass(category, SentimentWarning):
                said.append(str(message))
            show(message, category, *args, **kwargs)

        warnings.showwarning = recording
        yield


def _check_report_output(output: Path, data: str, table_asked: bool) -> None:
    """Refuse an evaluate --output its report cannot go to, before torch loads and the model runs.

    Raises:
        _UsageError: ``--format table`` given with it, or a suffix other than .json.
        SentimentError: the data file itself, a folder, or a file that cannot be written.
    """
    if table_asked:
        raise _UsageError("--format table is for the terminal; --output writes the report as JSON")
    if output.suffix and output.suffix.lower() != ".json":
        raise _UsageError(f"--output {output}: evaluate writes its report as JSON (.json), not {output.suffix}")
    check_output_file(output, "--output")
    if output.exists() and Path(data).exists() and output.samefile(data):
        raise SentimentError(f"--output {output} is the --data file; choose another name")


class ExplainFormat(str, Enum):
    table = "table"
    json = "json"
    markdown = "markdown"


class Narration(str, Enum):
    zh = "zh"
    en = "en"


class Direction(str, Enum):
    forward = "forward"
    reverse = "reverse"


@app.command(short_help="Walk one sentence through the model: gates, c_t, h_t, per word.")
@command
def explain(
    ctx: typer.Context,
    text: str = typer.Argument(..., help="The sentence to walk through, one token per time step; - reads it from stdin."),
    model: Optional[str] = typer.Option(None, help="Bundle directory or shipped model (zh, en); default: by the text's script."),
    format: ExplainFormat = typer.Option(ExplainFormat.table, "--format", "-f", help="table, json (every value, all layers and directions) or markdown."),
    narrate: Optional[Narration] = typer.Option(None, "--narrate", help="Also tell the walk-through in prose: zh or en."),
    png: Optional[Path] = typer.Option(None, "--png", parser=_file_path, metavar=_PATH, help="Write heatmaps (units × tokens) of f, i, g, o, c, h of every direction of --layer, and the running prediction (missing folders are made)."),
    html: Optional[Path] = typer.Option(None, "--html", parser=_file_path, metavar=_PATH, help="Write one self-contained page: coloured tokens, gate values on hover, heatmaps (missing folders are made)."),
    layer: int = typer.Option(0, help="LSTM layer for the table, narration and pictures (JSON has all)."),
    direction: Direction = typer.Option(Direction.forward, help="forward or reverse (bidirectional models) for the table and narration; pictures show both."),
    top_units: int = typer.Option(3, min=1, help="Most active units kept per gate and step, in the JSON, the markdown and the --html page."),
    max_units: int = typer.Option(16, min=1, help="Units drawn in the --png/--html heatmaps, the same in every one; the most variable ones when H is larger."),
) -> None:
    """Walk one sentence through the model step by step: gates, cell and hidden state, running prediction, word contributions."""
    # why here: each command imports only what it runs, so that --help starts without torch.
    from lstm_sentiment.data.files import BadInput, argument_texts, decode_lines

    from_stdin = text == "-"
    if from_stdin:
        # As for predict, '-' is stdin: the whole of it is the one text.
        text = decode_lines(sys.stdin.buffer.read(), "<stdin>").removesuffix("\n").removesuffix("\r")
    (text,) = argument_texts([text])
    if isinstance(text, BadInput):
        raise ValueError(f"{text.error}; pass UTF-8 text")
    if not text.strip():
        raise ValueError("empty text: nothing to explain")
    if format == ExplainFormat.json and narrate is None:
        # The JSON holds every layer and direction; the pictures draw both directions of --layer.
        if _given(ctx, "direction"):
            raise _UsageError("--direction is for the table, markdown and --narrate; -f json holds both directions")
        if _given(ctx, "layer") and png is None and html is None:
            raise _UsageError("--layer is for the table, markdown, --narrate, --png and --html; -f json holds every layer")
    if _given(ctx, "top_units") and format == ExplainFormat.table and html is None:
        raise _UsageError("--top-units is for -f json, -f markdown and --html; the table shows gate means")
    if _given(ctx, "max_units") and png is None and html is None:
        raise _UsageError("--max-units is for the heatmaps of --png and --html")
    # "-" is stdout, as elsewhere: it wrote a file named "-".
    png, html = (Path("/dev/stdout") if path is not None and str(path) == "-" else path for path in (png, html))
    outputs = {option: path for option, path in (("--png", png), ("--html", html)) if path is not None}
    on_stdout = [option for option, path in outputs.items() if _names_stdout(path)]
    if len(on_stdout) > 1:
        raise _UsageError("--png and --html both name stdout; write one of them to a file")
    # Binary bytes, control codes among them, garbled the terminal session they were written to.
    if on_stdout == ["--png"] and sys.stdout.isatty():
        raise _UsageError("--png writes the PNG's bytes to stdout, which is a terminal; redirect it (> explain.png) or name a file")
    # The picture or page alone goes to stdout: the report after it made the file neither (a page, then a table).
    if on_stdout and (_given(ctx, "format") or (narrate is not None and html is None)):
        lost = "report" if _given(ctx, "format") else "narration"
        raise _UsageError(f"{on_stdout[0]} writes to stdout, where the {lost} would go too; write one of them to a file")
    # resolve(): one file through a link too (an x.html linked to x.png got the page over the picture).
    if png is not None and html is not None and png.resolve() == html.resolve():
        raise _UsageError(f"--png and --html both name {png}; the page would replace the picture")
    for option, path in outputs.items():
        suffixes = (".png",) if option == "--png" else (".html", ".htm")
        # A viewer picks the program by the suffix: a PNG named .txt or .html opens as garbage.
        if path.suffix and path.suffix.lower() not in suffixes:
            raise _UsageError(f"{option} {path}: {option} writes {' or '.join(suffixes)}, not {path.suffix}; rename it")
        check_output_file(path, option)  # read-only or a folder: said before the work, not after it
    if not from_stdin:
        _warn_if_a_file([text], "give - and < {0} to explain the text it holds")
    # why here: the checks above take no torch (a mistyped option is refused at once), what follows does.
    _import_torch()
    _warn_if_shadowed(model)
    from lstm_sentiment.bundle import check_not_bundle_file
    from lstm_sentiment.explain.html import write_html
    from lstm_sentiment.explain.narrate import narrate as tell
    from lstm_sentiment.explain.plots import render_png
    from lstm_sentiment.explain.tables import rich_table, to_markdown
    from lstm_sentiment.explain.walk import dumps, explain as run_explain
    from lstm_sentiment.inference.model import DEFAULT_MODELS, SentimentModel, other_script
    from lstm_sentiment.inference.routing import route

    for option, path in outputs.items():
        check_not_bundle_file(path, option)
    _use_inference_threads()
    # predict's and serve's routing of one text: a text of no letters (12345, emoji) went to zh here and to
    # en there, and the narration's "the same as predict" was not. --model '' is refused as predict refuses it.
    name = route(text).lang if model is None else model
    # Named as given (zh, or the user's folder), as predict's routing and serve name it: the JSON gave the
    # shipped model's folder inside the installed package.
    expl = dataclasses.replace(run_explain(SentimentModel.load(name), text, top_units=top_units), model=name)
    try:
        expl.trace(layer, direction.value)  # a bad --layer/--direction fails before anything is written
    except ValueError as err:
        raise _UsageError(str(err)) from None
    if expl.warning == "no known words":
        typer.echo(f"warning: {expl.warning} (emoji, punctuation, numbers or a script the model never saw?): the prediction rests on no word", err=True)
    elif expl.warning and expl.warning.endswith("read as <unk>"):
        # The whole-text hint below ("the shipped models read zh and en") misleads for a few such words.
        remedy = "drop them or say them in words" if expl.warning.startswith("emoji") else "drop or translate them"
        typer.echo(f"warning: {expl.warning} (one vector for every word the model has no vector for): {remedy}", err=True)
    elif expl.warning:
        script = other_script(expl.words, expl.model_reads)
        if script in DEFAULT_MODELS:
            typer.echo(f"warning: {expl.warning} (give {'an' if script == 'en' else 'a'} {script} model with --model, or none: picked by script)", err=True)
        else:
            typer.echo(f"warning: {expl.warning} (the shipped models read zh and en): the prediction says little", err=True)
    narration = None
    if narrate is not None:
        narration = tell(expl, narrate.value, layer, direction.value)
    image = None
    if png is not None or html is not None:
        image = render_png(expl, layer, max_units)
    def write_page() -> None:
        if html is not None:
            write_html(html, expl, narration, narrate.value if narrate else expl.lang, layer, png=image)

    def write_picture(tmp: Path) -> None:
        tmp.write_bytes(image)
        # Inside the picture's write: a page that cannot be written (a full disk) leaves the old picture
        # too, where it had replaced it already.
        write_page()

    if png is not None:
        write_atomic(png, write_picture)
    else:
        write_page()
    if png is not None:
        typer.echo(f"wrote {'the PNG to stdout' if _names_stdout(png) else png}", err=True)
    if html is not None:
        typer.echo(f"wrote {'the page to stdout' if _names_stdout(html) else html}", err=True)
    if on_stdout:
        return
    if format in (ExplainFormat.json, ExplainFormat.markdown):
        _utf8_stdout()
    if format == ExplainFormat.json:
        data = expl.to_dict()
        if narration is not None:
            data["narration"] = narration
        _write_stdout(dumps(data))
    elif format == ExplainFormat.markdown:
        _write_stdout(to_markdown(expl, layer, direction.value, narration, narrate.value if narrate else "en"))
    else:
        table = rich_table(expl, layer, direction.value)
        console = fitting_console(table)
        compact = not fits_terminal(table)
        if compact or console.options.ascii_only:
            table = rich_table(expl, layer, direction.value, compact=compact, ascii_only=console.options.ascii_only)
            console = fitting_console(table)
        with _naming_stdout(), console.capture() as captured:  # rich flushes stdout as a capture ends
            console.print(table)
            for paragraph in narration or []:
                console.print()
                # soft_wrap: a paragraph stays one line in a file or pipe; the terminal wraps it for display.
                console.print(paragraph, markup=False, highlight=False, soft_wrap=True)
        _write_stdout(captured.get())


# Torch-free (the package exports lazily), so --help stays fast; its defaults are the flags' defaults.
from lstm_sentiment.longrange.config import LongRangeConfig  # noqa: E402

_LONGRANGE = LongRangeConfig()


@app.command(short_help="Long-range memory: a tanh RNN, a GRU and the LSTM on long gaps.")
@command
def longrange(
    out: Path = typer.Option(..., "--out", parser=_path, metavar=_PATH, help="Output directory for results.csv/json, summary.md and the PNG plots."),
    task: Optional[str] = typer.Option(None, help=f"adding (test MSE) or recall (test accuracy). Default: {_LONGRANGE.task}."),
    lengths: Optional[str] = typer.Option(
        None, help=f"Comma-separated sequence lengths T, each >= 2. Default: {','.join(map(str, _LONGRANGE.lengths))}."
    ),
    cells: Optional[str] = typer.Option(
        None, help=f"Comma-separated cells from rnn, gru, lstm (chrono init), lstm-bias1 (forget bias 1). Default: {','.join(_LONGRANGE.cells)}."
    ),
    seeds: Optional[int] = typer.Option(None, help=f"Seeds per cell and length, run as 0..seeds-1. Default: {_LONGRANGE.seeds}."),
    hidden_size: Optional[int] = typer.Option(None, help=f"Hidden units H of every cell. Default: {_LONGRANGE.hidden_size}."),
    steps: Optional[int] = typer.Option(None, help=f"Optimizer steps per run, the same for every cell. Default: {_LONGRANGE.steps}."),
    batch_size: Optional[int] = typer.Option(None, help=f"Fresh sequences per training step. Default: {_LONGRANGE.batch_size}."),
    lr: Optional[float] = typer.Option(None, help=f"Adam learning rate. Default: {_LONGRANGE.lr}."),
    clip_norm: Optional[float] = typer.Option(None, help=f"Gradient-norm clipping threshold. Default: {_LONGRANGE.clip_norm}."),
    eval_every: Optional[int] = typer.Option(None, help=f"Steps between test evaluations. Default: {_LONGRANGE.eval_every}."),
    threads: Optional[int] = typer.Option(None, help=f"torch threads of each worker. Default: {_LONGRANGE.threads}."),
    workers: Optional[int] = typer.Option(None, help=f"Runs trained at once, one process each. Default: {_LONGRANGE.workers}."),
    quick: bool = typer.Option(False, "--quick", help="Small preset (T=10,20; 2 seeds; 300 steps, evaluated every 25 on 256 test sequences), under a minute on 2 cores; other flags override it."),
) -> None:
    """Long-range memory, measured: train a tanh RNN, a GRU and our LSTM (chrono and forget-bias-1 init) on a long-gap task under one budget."""
    from lstm_sentiment.longrange.config import parse_cells, parse_lengths

    # Flags left out are None, so that --quick's preset fills them and flags given with it still win.
    try:
        overrides = dict(
            task=None if task is None else task.strip().lower(),  # as --cells: ADDING was refused, LSTM not
            lengths=None if lengths is None else parse_lengths(lengths),
            cells=None if cells is None else parse_cells(cells),
            seeds=seeds, hidden_size=hidden_size, steps=steps, batch_size=batch_size, lr=lr,
            clip_norm=clip_norm, eval_every=eval_every, threads=threads, workers=workers,
        )
        config = LongRangeConfig.quick(**overrides) if quick else LongRangeConfig.from_overrides(**overrides)
        cores = os.cpu_count() or 1
        if config.threads > cores:
            # Threads past the cores spin against each other: --threads 1000 took 75 s where 1 took 12.5 s.
            raise ValueError(f"threads {config.threads} is more than the {cores} cores of this machine; use at most {cores}")
        if workers is not None and workers > cores:
            # Given, as --threads: --workers 999 started a process per run, 16 on 2 cores. (The default, 2, runs
            # on one core too.)
            raise ValueError(f"workers {workers} is more than the {cores} cores of this machine; use at most {cores}")
        if eval_every is not None and eval_every > config.steps:
            raise ValueError(f"eval_every {eval_every} is more than the {config.steps} steps of a run; nothing would be evaluated before the end")
    except ValueError as exc:
        # A bad flag value is a usage error; the config's checks name its field (hidden_size), the user typed a flag.
        field = re.match(r"\w+", str(exc))
        flag = f"--{field[0].replace('_', '-')}" if field and field[0] in _LONGRANGE.__dataclass_fields__ else None
        _fail(str(exc) if flag is None else flag + str(exc)[field.end():], 2)
    busy = config.busy_workers
    if config.threads > 1 and config.threads * busy > cores:
        # --threads 2 with the 2 default workers on 2 cores passed without a word, and ran many times slower.
        # (One thread a worker spins against nothing: processes take turns on a core.)
        typer.echo(f"warning: {busy} workers of {config.threads} threads each on {cores} cores: their OpenMP threads spin against each other and every run slows; give --threads 1 or fewer --workers", err=True)
    _import_torch()  # why here: torch and Lightning take seconds to import, a mistyped flag none
    from lstm_sentiment.longrange import run_longrange

    run_longrange(config, out)  # which holds --out against another run
    typer.echo((out / "summary.md").read_text(encoding="utf-8"))


@app.command(short_help="Serve predict and explain over HTTP: a JSON API and a web page.")
@command
def serve(
    model: Optional[str] = typer.Option(None, help="Bundle directory or shipped model (zh, en); default: the shipped zh and en, chosen per text by script."),
    host: str = typer.Option("127.0.0.1", help="Address to bind; the default answers this machine only."),
    port: int = typer.Option(8000, min=1, max=65535, help="TCP port."),
    workers: int = typer.Option(1, min=1, help="Worker processes, each loading the model once."),
    access_log: bool = typer.Option(True, "--access-log/--no-access-log", help="Log one line per request to stderr."),
) -> None:
    """Serve predict and explain over HTTP (JSON under /v1, schema at /openapi.json) and a web page at /."""
    _import_torch()
    _warn_if_shadowed(model)
    from lstm_sentiment.serve import serve as run_server  # why here: FastAPI, for this command only

    # Each holds the models (490 MB with the shipped pair): six started on 2 cores unannounced.
    run_server(model, host, port, _at_most_cores(workers), access_log)


def _at_most_cores(workers: int) -> int:
    """--workers cut to the cores this process may run on, with a warning when it was more."""
    from lstm_sentiment.inference.pool import available_cores

    cores = available_cores()
    if workers > cores:
        typer.echo(f"warning: {workers} workers on {cores} cores; using {cores}", err=True)
        return cores
    return workers


class _ClosedStream:
    """A standard stream the shell closed: reading or writing it is an OSError naming it (one line, exit 1),
    where ``None.write`` was a traceback; flushing it is nothing, so a command that writes nothing there
    (train's report goes to stderr) ends as it would have."""

    encoding = "utf-8"

    def __init__(self, name: str) -> None:
        self.name = name

    def _closed(self, *args, **kwargs):
        raise OSError(errno.EBADF, f"{self.name} is closed")

    write = read = readline = fileno = _closed
    buffer = property(_closed)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def main() -> None:
    """Entry point of ``lstm-sentiment`` and ``python -m lstm_sentiment``.

    A usage error (unknown option, bad value) is one line on stderr and exit 2, like every other error,
    instead of typer's boxed panel.
    """
    # why here: which click typer carries is known only by trying (newer releases carry their own).
    try:
        from typer._click.exceptions import ClickException, NoArgsIsHelpError
    except ImportError:
        from click.exceptions import ClickException, NoArgsIsHelpError

    for name in ("stdin", "stdout"):
        if getattr(sys, name) is None:  # closed by the shell (`>&-`, `<&-`): Python leaves None there
            setattr(sys, name, _ClosedStream(name))
    try:
        code = app(standalone_mode=False)
    except NoArgsIsHelpError as err:
        # No command given: the help, on stdout as --help prints it (typer's boxed help prints it itself and
        # leaves the message empty; click's plain one, below 100 columns, carried it as an error's message).
        if err.format_message():
            typer.echo(err.ctx.get_help())
        sys.exit(err.exit_code)
    except ClickException as err:
        message = err.format_message()
        # click names an option with bounds by its type's name: "'abc' is not a valid int range", where one
        # without says "… valid int".
        message = re.sub(r"is not a valid (int|float) range\.", r"is not a valid \1.", message)
        if re.match(r"No such option: -[^-a-zA-Z]", message):
            # predict "-1/10, terrible" or "-_- 太难吃了" (a kaomoji) read the text as an option; the example
            # named predict for explain's text too. Other commands take no text: predict is the example.
            typed = err.ctx.info_name if getattr(err, "ctx", None) is not None else None
            command_name = typed if typed in ("predict", "explain") else "predict"
            message += f"; a text that starts with '-' goes after '--' ({command_name} -- '-1/10, terrible')"
        if message:
            typer.echo(f"error: {message} (see --help)", err=True)
        sys.exit(err.exit_code)
    except typer.Abort:
        typer.echo("error: interrupted", err=True)
        sys.exit(130)
    finally:
        # The command is done, its output in place or its error said: a signal from here on was raised in an
        # exit-time finalizer (torch's library, a weakref) as a traceback over a finished run, exit 0.
        interrupt.ignore()
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":  # python -m lstm_sentiment.cli ran nothing and exited 0
    main()
