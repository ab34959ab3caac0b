"""What a new user hit (issue 13): damaged weights, bad lines in a file, control characters, text
without letters, where --output may write, torch threads, Ctrl-C with workers, train's log. A
random-weight bundle written by ``save_bundle`` stands in for a trained one, so most tests are fast."""

from __future__ import annotations

import bz2
import csv
import importlib
import io
import json
import lzma
import os
import random
import re
import signal
import stat
import subprocess
import sys
import time
import warnings
from pathlib import Path, PurePosixPath

import numpy as np
import pytest
import torch

from conftest import assert_one_line_error, run_cli
from lstm_sentiment.bundle import CHECKSUM_KEY, file_sha256, save_bundle
from lstm_sentiment.config import DataConfig, ModelConfig, TrainConfig
from lstm_sentiment.data.dataset import LabelledTexts
from lstm_sentiment.data.files import BadInput, iter_rows, iter_texts, read_labelled, read_texts
from lstm_sentiment.data.sources import load_dataset
from lstm_sentiment.errors import SentimentError, SentimentWarning
from lstm_sentiment.text.vocab import UNK_ID
from lstm_sentiment.models.classifier import SentimentLSTM
from lstm_sentiment.output import records_to_text
from lstm_sentiment.inference.model import SentimentModel
from lstm_sentiment.text.normalize import normalize
from lstm_sentiment.text.vocab import Vocab
from lstm_sentiment.training.splits import training_splits

WORDS = ["<pad>", "<unk>", "我", "喜欢", "这个", "电影", "不", "好", "差", "i", "like", "this", "movie", "!"]


def two_class_csv(path: Path, positive: str, negative: str, pairs: int, labels: tuple[str, str] = ("positive", "negative")) -> None:
    """Write a text,label CSV of ``pairs`` texts each way, "{positive} {i}" and "{negative} {i}" (numbered, so
    that de-duplication keeps them all), labelled ``labels``."""
    path.write_text("text,label\n" + "".join(f"{positive} {i},{labels[0]}\n{negative} {i},{labels[1]}\n" for i in range(pairs)), encoding="utf-8")


@pytest.fixture
def tiny_bundle(tmp_path) -> Path:
    """A bundle of random weights, written as training writes one (with the weights' checksum)."""
    torch.manual_seed(0)
    cfg = ModelConfig(embedding_dim=6, hidden_size=5)
    vocab = Vocab(WORDS)
    out = tmp_path / "tiny"
    save_bundle(out, SentimentLSTM(len(vocab), 2, cfg).eval(), vocab, ["negative", "positive"],
                (cfg, DataConfig(), TrainConfig()), {}, {}, "tiny\n")
    return out


def test_evaluate_warns_of_zero_one_labels_beside_a_model_of_minus_one_zero_one(tmp_path):
    # A -1/0/1 model scored on a 0/1 file counted every negative text as neutral, without a word.
    torch.manual_seed(0)
    cfg = ModelConfig(embedding_dim=6, hidden_size=5)
    vocab = Vocab(WORDS)
    three = tmp_path / "three"
    save_bundle(three, SentimentLSTM(len(vocab), 3, cfg).eval(), vocab, ["-1", "0", "1"], (cfg, DataConfig(), TrainConfig()), {}, {}, "three\n")
    data = tmp_path / "zero_one.csv"
    data.write_text("text,label\n我喜欢这个电影,1\n我不喜欢这个电影,0\n", encoding="utf-8")
    result = run_cli("evaluate", "--model", str(three), "--data", str(data))
    assert result.returncode == 0, result.stderr
    assert f"warning: {data}: the labels 0 and 1 are read as the model's classes '0' and '1' (it has '-1' too); if 0 means negative here, write it -1" in result.stderr.splitlines()
    data.write_text("text,label\n我喜欢这个电影,1\n我不喜欢这个电影,-1\n", encoding="utf-8")
    assert "write it -1" not in run_cli("evaluate", "--model", str(three), "--data", str(data)).stderr
    # neutral/positive are read as 0 and 1 too, but said so: no 0 here that could mean negative.
    data.write_text("text,label\n我喜欢这个电影,positive\n我不喜欢这个电影,neutral\n", encoding="utf-8")
    result = run_cli("evaluate", "--model", str(three), "--data", str(data))
    assert result.returncode == 0 and "write it -1" not in result.stderr, result.stderr


def test_a_full_disk_names_the_file_and_keeps_the_old_one(tmp_path, monkeypatch):
    # A full disk in safetensors' write was a 40-line traceback (SafetensorError "... (os error 28)"); in
    # predict's, "error: No space left on device" without the file (a file object's write names none).
    import errno

    from safetensors import SafetensorError

    from lstm_sentiment import bundle
    from lstm_sentiment.atomic import write_atomic

    def full(*args, **kwargs):
        raise SafetensorError("Error while serializing: I/O error: No space left on device (os error 28)")

    cfg = ModelConfig(embedding_dim=6, hidden_size=5)
    vocab = Vocab(WORDS)
    out = tmp_path / "model"
    out.mkdir()
    (out / "config.json").write_text("the old bundle", encoding="utf-8")
    monkeypatch.setattr(bundle, "save_file", full)
    with pytest.raises(SentimentError, match=rf"^{re.escape(str(out))}: cannot write \(No space left on device\)$"):
        save_bundle(out, SentimentLSTM(len(vocab), 2, cfg).eval(), vocab, ["negative", "positive"], (cfg, DataConfig(), TrainConfig()), {}, {}, "x\n")
    assert [p.name for p in tmp_path.iterdir()] == ["model"] and (out / "config.json").read_text(encoding="utf-8") == "the old bundle"

    def write(tmp: Path) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.raises(SentimentError, match=r"out\.jsonl: cannot write \(No space left on device\)$"):
        write_atomic(tmp_path / "out.jsonl", write)
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


def overwrite_tensor_bytes(weights: Path) -> None:
    """Overwrite every tensor byte with 0xff (a NaN in float32), keeping the header and the size."""
    data = weights.read_bytes()
    header = 8 + int.from_bytes(data[:8], "little")
    weights.write_bytes(data[:header] + b"\xff" * (len(data) - header))


# --- damaged weights (defect 2) ---------------------------------------------------------------------------


def test_damaged_weights_are_refused_naming_the_file(tiny_bundle):
    config = json.loads((tiny_bundle / "config.json").read_text(encoding="utf-8"))
    assert config[CHECKSUM_KEY] == file_sha256(tiny_bundle / "model.safetensors")
    SentimentModel.load(tiny_bundle)  # intact: loads
    size = (tiny_bundle / "model.safetensors").stat().st_size
    overwrite_tensor_bytes(tiny_bundle / "model.safetensors")
    assert (tiny_bundle / "model.safetensors").stat().st_size == size
    with pytest.raises(SentimentError, match=r"model\.safetensors: damaged, its SHA-256 differs"):
        SentimentModel.load(tiny_bundle)
    result = run_cli("predict", "--model", str(tiny_bundle), "好")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [f"error: {tiny_bundle / 'model.safetensors'}: damaged, its SHA-256 differs from the one in config.json; reinstall or retrain the model"]


def test_a_damaged_vocabulary_is_refused_naming_the_file(tiny_bundle):
    # Words shuffled past <pad> and <unk> kept the file's length: it loaded, and read every text with other
    # vectors (exit 0).
    vocab = tiny_bundle / "vocab.txt"
    lines = vocab.read_text(encoding="utf-8").splitlines()
    vocab.write_text("\n".join(lines[:2] + lines[3:] + lines[2:3]) + "\n", encoding="utf-8")
    result = run_cli("predict", "--model", str(tiny_bundle), "好")
    assert result.returncode == 1 and result.stderr.splitlines() == [f"error: {vocab}: damaged, its SHA-256 differs from the one in config.json; reinstall or retrain the model"]


def test_config_saved_with_a_byte_order_mark_loads(tiny_bundle):
    # An editor that writes a BOM (Windows Notepad) made the bundle "unreadable (Unexpected UTF-8 BOM …)".
    before = SentimentModel.load(tiny_bundle).predict(["我喜欢这个电影"])
    path = tiny_bundle / "config.json"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert SentimentModel.load(tiny_bundle).predict(["我喜欢这个电影"]) == before


def test_bundle_without_checksum_loads_and_never_emits_nan(tiny_bundle):
    # A bundle written before the checksum existed: loaded unchecked; NaN weights give error records.
    config = json.loads((tiny_bundle / "config.json").read_text(encoding="utf-8"))
    del config[CHECKSUM_KEY]
    (tiny_bundle / "config.json").write_text(json.dumps(config), encoding="utf-8")
    overwrite_tensor_bytes(tiny_bundle / "model.safetensors")
    model = SentimentModel.load(tiny_bundle)
    records = model.predict(["我喜欢这个电影", ""])
    assert records[0] == {"text": "我喜欢这个电影", "label": None, "score": None, "probs": None,
                          "error": f"non-finite scores from the model {tiny_bundle}"}
    assert records[1]["error"] == "empty text"
    json.dumps(records, allow_nan=False)  # valid JSON: raises on NaN
    with pytest.raises(SentimentError, match="non-finite scores"):
        model.evaluate(LabelledTexts(["好", "差"], ["positive", "negative"], "x.csv"))


# --- bad lines in a file (defect 3) -----------------------------------------------------------------------

JSONL = b'{"text": "\xe5\xa5\xbd"}\n\n{"text": {"a": 1}}\nnot json\n{"text": "\xff"}\n[1]\n{"text": 123}\n{"id": 8}\n{"text": "\xe5\xb7\xae"}\n'
EXPECTED = [
    "好",
    BadInput("", "line 2 is blank"),
    BadInput('{"text": {"a": 1}}', "line 3: 'text' is a JSON object, not text"),
    BadInput("not json", "line 4 is not valid JSON (Expecting value at column 1)"),
    BadInput('{"text": "\ufffd"}', "line 5 is not UTF-8 (byte 0xff)"),
    BadInput("[1]", "line 6 is not a JSON object"),
    BadInput('{"text": 123}', "line 7: 'text' is a JSON number, not text"),
    BadInput('{"id": 8}', "line 8: 'text' is missing"),
    "差",
]


def test_bad_lines_are_kept_in_place_unless_strict(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_bytes(JSONL)
    assert list(iter_texts(path, strict=False)) == EXPECTED
    # json's "Invalid control character at" was cut short of its place.
    (tmp_path / "nul.jsonl").write_bytes('{"text": "好"}\n{"text": "a\x00b"}\n'.encode())
    assert list(iter_texts(tmp_path / "nul.jsonl", strict=False)) == ["好", BadInput('{"text": "a\x00b"}', "line 2 is not valid JSON (Invalid control character at column 12)")]
    with pytest.raises(SentimentError, match=r"in\.jsonl: line 2 is blank"):
        list(iter_texts(path))
    txt = tmp_path / "in.txt"
    txt.write_bytes(b"\xe5\xa5\xbd\n\xff\xe5\x9d\x8f\n\n")
    assert list(iter_texts(txt, strict=False)) == ["好", BadInput("\ufffd坏", "line 2 is not UTF-8 (byte 0xff)"), ""]
    csv = tmp_path / "in.csv"
    csv.write_bytes(b"text,x\n\xe5\xa5\xbd,1\n\xff,2\n\xe5\xb7\xae,\xff\n")  # a bad byte outside the text is no fault
    assert list(iter_texts(csv, strict=False)) == ["好", BadInput("\ufffd", "line 3 is not UTF-8 (byte 0xff)"), "差"]
    with pytest.raises(SentimentError, match=r"in\.csv: line 3 is not UTF-8 \(byte 0xff\)"):
        list(iter_texts(csv))
    # An object without the text column on line 1 refused the whole file; on line 8 it was a record.
    path.write_bytes(b'{"id": 8}\n' + JSONL)
    assert list(iter_texts(path, strict=False)) == [BadInput('{"id": 8}', "line 1: 'text' is missing"), *(
        BadInput(e.text, re.sub(r"line (\d+)", lambda m: f"line {int(m[1]) + 1}", e.error)) if isinstance(e, BadInput) else e for e in EXPECTED)]
    with pytest.raises(SentimentError, match=r"in\.jsonl: line 1: 'text' is missing"):
        list(iter_texts(path))
    path.write_bytes(b'{"id": 1}\nnot json\n{"id": 3}\n')
    with pytest.raises(SentimentError, match=r"in\.jsonl: no text column \(text/.*columns found: id; name it with --text-column"):
        list(iter_texts(path, strict=False))


def test_a_csv_row_split_or_cut_is_a_bad_line_and_a_repeated_text_column_is_refused(tmp_path):
    # An unquoted comma used to cut the text at it ("好" predicted for "好,但是太贵"); a short row was read as "".
    path = tmp_path / "in.csv"
    path.write_text("id,text\n1,好\n2,好,但是太贵\n3\n4,差\n", encoding="utf-8")
    assert list(iter_texts(path, strict=False)) == [
        "好",
        BadInput("2,好,但是太贵", "line 3 has 3 fields, the header 2"),
        BadInput("3", "line 4 has 1 field, the header 2"),
        "差",
    ]
    with pytest.raises(SentimentError, match=r"in\.csv: line 3 has 3 fields, the header 2"):
        list(iter_texts(path))
    repeated = tmp_path / "two.tsv"
    repeated.write_text("text\tid\ttext\n好\t1\t差\n", encoding="utf-8")
    with pytest.raises(SentimentError, match=r"two\.tsv: the header names 'text' more than once"):
        list(iter_texts(repeated, strict=False))
    stray = tmp_path / "stray.csv"  # rows after a stray quote cannot be told apart: even without strict, stop
    stray.write_text('id,text\n1,"好\n2,差\n3,他说"不错"呢\n', encoding="utf-8")
    with pytest.raises(SentimentError, match=r"stray\.csv: the quoted text from line 2 to line 4 goes on after its closing quote"):
        list(iter_texts(stray, strict=False))
    # One line with text after its closing quote (an unquoted TSV export from psql or mysql) ended the whole
    # run; it is a bad line at its place now, and the lines after it are read.
    after = tmp_path / "after.tsv"
    after.write_text('id\ttext\n1\t"Best" movie ever\n3\t好\n', encoding="utf-8")
    assert list(iter_texts(after, strict=False)) == [BadInput("", 'line 2 goes on after its closing quote (a stray "?); quote whole texts, doubling quotes inside them ("")'), "好"]
    with pytest.raises(SentimentError, match=r"after\.tsv: line 2 goes on after its closing quote"):
        list(iter_texts(after))
    other = tmp_path / "ids.csv"  # a repeated column that is not the text's is no fault for prediction
    other.write_text("id,text,id\n1,好,1\n", encoding="utf-8")
    assert list(iter_texts(other)) == ["好"]


def test_a_lone_surrogate_is_a_bad_line_not_the_end_of_the_run(tiny_bundle, tmp_path):
    # '\ud800' alone is valid JSON but no UTF-8 writer can encode it: the whole run used to stop at the output.
    source = tmp_path / "in.jsonl"
    source.write_text('{"text": "\\ud800好"}\n{"text": "好"}\n', encoding="utf-8")
    assert list(iter_texts(source, strict=False)) == [BadInput('{"text": "\\ud800好"}', "line 1: 'text' holds a lone surrogate (\\ud800), not text"), "好"]
    out = tmp_path / "out.jsonl"
    result = run_cli("predict", "--model", str(tiny_bundle), "--input", str(source), "-o", str(out))
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r.get("error") for r in records] == ["line 1: 'text' holds a lone surrogate (\\ud800), not text", None]


@pytest.mark.parametrize("workers", ["0", "2"])
def test_cli_writes_a_record_per_line_and_exits_1(tiny_bundle, tmp_path, workers):
    source = tmp_path / "in.jsonl"
    source.write_bytes(JSONL)
    out = tmp_path / "out.jsonl"
    result = run_cli("predict", "--model", str(tiny_bundle), "--input", str(source), "-o", str(out), "--workers", workers)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert "warning: 7 of 9 input(s) could not be classified; the first, input 2: line 2 is blank" in result.stderr
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r.get("error") for r in records] == [None, *[b.error for b in EXPECTED[1:-1]], None]
    assert [r["text"] for r in records] == [e if isinstance(e, str) else e.text for e in EXPECTED]
    good = SentimentModel.load(tiny_bundle).predict(["好", "差"])
    for got, want in zip((records[0], records[-1]), good):
        assert got["label"] == want["label"] and got["score"] == pytest.approx(want["score"], abs=1e-6)


def test_cli_strict_stops_at_the_first_bad_line_and_keeps_the_output(tiny_bundle, tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_bytes(JSONL)
    out = tmp_path / "out.jsonl"
    out.write_text("old\n", encoding="utf-8")
    result = run_cli("predict", "--model", str(tiny_bundle), "--input", str(source), "-o", str(out), "--strict")
    assert result.returncode == 1 and result.stderr.splitlines() == [f"error: {source}: line 2 is blank"]
    assert out.read_text(encoding="utf-8") == "old\n"


# --- control characters, no letters (defects 6, 7) --------------------------------------------------------


def test_the_table_shows_input_text_as_text_not_markup_nor_terminal_codes(tiny_bundle):
    # "[/bold]" used to stop the table with a rich MarkupError traceback; ESC [2J would clear the terminal.
    result = run_cli("predict", "--model", str(tiny_bundle), "[/bold] 好", "\x1b[2J好", "\u202e好\u202c", "👨\u200d👩 好")
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert "[/bold] 好" in result.stdout and "\\x1b[2J好" in result.stdout and "\x1b" not in result.stdout
    # A right-to-left override reversed the rest of its row; the joiner of an emoji sequence stays.
    assert "\\u202e好\\u202c" in result.stdout and "\u202e" not in result.stdout and "👨\u200d👩 好" in result.stdout


def test_predict_refuses_one_string_or_a_non_string():
    model = SentimentModel.load("zh")
    with pytest.raises(TypeError, match=r"not one string: predict\(\[text\]\)"):
        model.predict("我喜欢")  # was three records, one per character
    with pytest.raises(TypeError, match=r"not one bytes object"):
        model.predict(b"abc")  # was "texts[0] is int"
    with pytest.raises(TypeError, match=r"texts\[1\] is NoneType, not a string"):
        model.predict(["好", None])


def test_control_characters_are_stripped():
    assert normalize("好\x00看\x1b[0m\x7f\x9f") == "好看[0m"
    assert normalize("a\tb\x0bc\x1cd\x85e") == "a b c d e"  # whitespace controls are spaces
    assert normalize("\0\0") == ""
    # Invisible format characters were tokens, each <unk>: zero-width spaces between the characters of
    # 我喜欢这个电影 made it negative 0.95, direction marks around 我喜欢 negative 0.81.
    assert normalize("\ufeff" + "\u200b".join("我喜欢这个电影")) == "我喜欢这个电影"
    assert normalize("\u202e我喜欢\u202c \u2066a\u2069\u200e\u2060") == "我喜欢 a"
    zh = SentimentModel.load("zh")
    plain, hidden = zh.predict(["我喜欢这个电影", "\u200b".join("我喜欢这个电影")])
    assert hidden["label"] == plain["label"] == "positive" and hidden["score"] == plain["score"]


def test_nul_changes_nothing_and_alone_has_no_words(tiny_bundle):
    from lstm_sentiment.explain import explain
    model = SentimentModel.load(tiny_bundle)
    plain, with_nul, nuls, link, blank = model.predict(["我喜欢这个电影", "我喜欢\0这个电影\0", "\0\0", "http://t.cn/A6xYz9Q", "\u3000 "])
    assert with_nul["probs"] == plain["probs"] and with_nul["label"] == plain["label"]
    # Called "empty text" as a blank one was, where explain and a training file said it held no words.
    no_words = "no words once normalised (markup, links, mentions or control characters only)"
    assert nuls == {"text": "\0\0", "label": None, "score": None, "probs": None, "error": no_words}
    assert link["error"] == no_words and blank["error"] == "empty text"
    # explain said the same in other words ("no words in the text after normalisation").
    with pytest.raises(SentimentError, match=re.escape(f"{no_words}: nothing to explain")):
        explain(model, "http://t.cn/A6xYz9Q")


def test_predict_takes_a_generator(tiny_bundle):
    # The type check used up a generator: predict(iter([...])) returned [] without a word.
    model = SentimentModel.load(tiny_bundle)
    records = model.predict(text for text in ["我喜欢这个电影", "不好"])
    assert [r["text"] for r in records] == ["我喜欢这个电影", "不好"]


def test_text_without_letters_is_flagged_like_emoji(tiny_bundle):
    model = SentimentModel.load(tiny_bundle)
    punctuation, emoji, word = model.predict(["。。！", "😀😀", "好!"])
    assert "!" in model.vocab.stoi  # "！" is "!" after NFKC: a known token, but no word
    assert punctuation["warning"] == "no known words" and punctuation["label"] is not None
    assert emoji["warning"] == "no known words"
    assert "warning" not in word


def test_a_text_of_the_other_script_is_flagged():
    # The en model read 我喜欢这个电影 as positive 0.95 without a word: each Han run is one token to it.
    from lstm_sentiment.explain import explain

    en, zh = SentimentModel.load("en"), SentimentModel.load("zh")
    chinese, english = en.predict(["我喜欢这个电影", "i like it"])
    assert chinese["warning"] == "zh text; the model reads en" and chinese["label"] is not None
    assert "warning" not in english
    flagged, mixed, digits = zh.predict(["i like this movie", "我喜欢 iphone", "123"])
    assert flagged["warning"] == "en text; the model reads zh"
    assert "warning" not in mixed  # a Han character makes it zh
    assert digits["warning"] == "no known words"  # digits claim no script, and are no word (stop 44)
    assert json.loads(explain(en, "我喜欢这个电影").to_json(units=False))["warning"] == "zh text; the model reads en"
    result = run_cli("explain", "我喜欢这个电影", "--model", "en", "-f", "json")
    assert result.returncode == 0 and "warning: zh text; the model reads en (give a zh model with --model" in result.stderr, result.stderr
    routed = run_cli("predict", "-f", "jsonl", "我喜欢这个电影", "i like it")  # no --model: each text to its script's model
    assert routed.returncode == 0 and "warning" not in routed.stdout, routed.stdout


def test_a_text_of_a_third_script_is_flagged_not_read_as_noise(tmp_path):
    # Before: the en model gave Отличный фильм ("excellent film") negative 0.74 with no flag (its words
    # read through n-gram rows that only hash collisions had trained); the zh model, which holds a few
    # single Cyrillic letters as words, negative 0.9999; Japanese went to the zh model unflagged.
    from lstm_sentiment.explain import explain
    from lstm_sentiment.explain.tables import to_markdown

    en, zh = SentimentModel.load("en"), SentimentModel.load("zh")
    assert en.token_ids(["фильм"]) == [UNK_ID] and en.token_ids(["unwatchablish"]) != [UNK_ID]
    assert en.token_ids(["café"]) != [UNK_ID]  # é is in the vocabulary's words: read through its subwords
    cyrillic, hangul = en.predict(["Отличный фильм", "안녕하세요 좋아요"])
    assert cyrillic["warning"] == "Cyrillic text; the model reads en" and hangul["warning"] == "Hangul text; the model reads en"
    russian, japanese, han, headline, slang = zh.predict(["Отличный фильм", "とても良い映画でした", "日本語の本はいい", "日本映画の名作を観て感動した", "我の电影"])
    assert russian["warning"] == "Cyrillic text; the model reads zh"
    assert japanese["warning"] == "kana text; the model reads zh"
    # Japanese with as many Han characters as kana, or more, went to the zh model unflagged.
    assert han["warning"] == headline["warning"] == "kana text; the model reads zh"
    assert "warning" not in slang  # の alone is Chinese internet writing's 的
    # A Latin letter made a text en whatever the rest: Cyrillic with one English word was "en"; and a Han
    # character made it zh: 我喜欢这个电影 with Отличный фильм went negative 0.9997 unflagged, Korean with Hanja too.
    assert en.predict(["Отличный фильм, great"])[0]["warning"] == "Cyrillic text; the model reads en"
    russian_too, korean, drawn_out = zh.predict(["我喜欢这个电影 Отличный фильм", "韓國 영화 정말 좋아요", "赞ーーーー"])
    assert russian_too["warning"] == "Cyrillic text; the model reads zh" and korean["warning"] == "Hangul text; the model reads zh"
    assert "warning" not in drawn_out  # ー lengthens Chinese internet spellings too: no kana
    # Routed to zh (4 Han characters, 2 Latin words), it was flagged "en text; the model reads zh", and
    # explain's hint said to give an en model: the Cyrillic letters, not the English words, outnumber the Han.
    from lstm_sentiment.inference.routing import route

    mixed = "I love 这个电影 очень"
    assert route(mixed).lang == "zh" and zh.predict([mixed])[0]["warning"] == "Cyrillic text; the model reads zh"
    # Fewer Cyrillic letters than Han ones: a zh text, yet its five <unk> letters (jieba cuts фильм into
    # them) turned 我喜欢这个电影 from positive 0.83 to negative 0.96 with no flag.
    one_word, plain, emoji = zh.predict(["我喜欢这个电影 фильм", "我喜欢这个电影", "我喜欢这个电影😀"])
    assert one_word["warning"] == "Cyrillic words read as <unk>" and one_word["label"] is not None
    # 😀 is <unk> too: learned from such marks, it was left unflagged, yet it turns this text negative 0.51.
    assert "warning" not in plain and emoji["warning"] == "emoji or symbols read as <unk>"
    assert zh.predict(["这个犇犇的东西真好"])[0]["warning"] == "rare Chinese characters read as <unk>"  # no third script, yet <unk>
    assert explain(zh, "我喜欢这个电影 фильм").warning == "Cyrillic words read as <unk>"
    # explain's hint said "(the shipped models read zh and en): the prediction says little", for whole texts.
    hint = run_cli("explain", "我喜欢这个电影 фильм", "--model", "zh", "-f", "json").stderr
    assert "warning: Cyrillic words read as <unk> (one vector for every word the model has no vector for): drop or translate them" in hint, hint
    result = run_cli("explain", "Отличный фильм", "--model", "zh", "-f", "json")
    assert result.returncode == 0 and "warning: Cyrillic text; the model reads zh (the shipped models read zh and en)" in result.stderr, result.stderr
    # The Markdown report and the HTML page showed the prediction without the warning (stderr alone had it).
    assert "> **Warning:** Cyrillic text; the model reads en." in to_markdown(explain(en, "Отличный фильм"))
    page = run_cli("explain", "Отличный фильм", "--model", "en", "--html", str(tmp_path / "w.html"))
    assert page.returncode == 0 and '<div class="note">warning: Cyrillic text; the model reads en</div>' in (tmp_path / "w.html").read_text(encoding="utf-8")


def test_training_texts_of_the_other_language_are_warned_of():
    # 21 % English in a Chinese training file trained from the zh vectors without a word (evaluate warned).
    from lstm_sentiment.config import DataConfig
    from lstm_sentiment.training.train import data_language

    zh_texts = [f"很好看的电影{i}" for i in range(19)]
    with pytest.warns(UserWarning, match=r"^d\.csv: 1 of 20 training texts are en \(by script\); the model starts from the shipped zh word vectors"):
        assert data_language(DataConfig(), LabelledTexts([*zh_texts, "great movie"], [1] * 20, "d.csv")) == "zh"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert data_language(DataConfig(), LabelledTexts([*zh_texts, *zh_texts, "great movie"], [1] * 39, "d.csv")) == "zh"  # under 5 %


def test_social_media_posts_go_to_the_model_of_their_words():
    # A short link's code counted as English words: these went to en, each negative 0.9569516777992249 (its
    # Chinese read as <unk>), and were flagged "zh text; the model reads en". A Latin @mention, the same.
    from lstm_sentiment.inference.routing import predict_texts, route

    posts = ["好评 http://t.cn/A6xYz9Q", "超好吃 b23.tv/BV1xx411c7mD", "太难吃了 http://t.cn/A6xYz9Q", "@JackyCheung @Mike_Chen 好吃"]
    assert [route(p).lang for p in posts] == ["zh"] * 4
    records = predict_texts(posts)
    assert [r["label"] for r in records] == ["positive", "positive", "negative", "positive"]
    assert not any("warning" in r for r in records)


def test_a_han_character_no_vocabulary_word_holds_is_flagged():
    # The zh model of stop 34 had learned <unk> from emoji and symbols alone: 犇犇 made 这个犇犇的东西真好 negative 0.75, without a flag.
    zh = SentimentModel.load("zh")
    rare, plain, ext_b = zh.predict(["这个犇犇的东西真好", "这个东西真好", "我喜欢这个电影𠀀𠀀"])
    assert rare["warning"] == ext_b["warning"] == "rare Chinese characters read as <unk>" and "warning" not in plain
    hint = run_cli("explain", "这个犇犇的东西真好", "--model", "zh", "-f", "json").stderr
    assert "warning: rare Chinese characters read as <unk> (one vector for every word the model has no vector for): drop or translate them" in hint, hint
    # An emoji among words weighs as much, and went unflagged: 😀 turned 我喜欢 (positive 0.77) negative 0.58.
    emoji, known, alone = zh.predict(["我喜欢😀", "好!!!", "😀😀"])
    assert emoji["warning"] == "emoji or symbols read as <unk>" and "warning" not in known and alone["warning"] == "no known words"
    hint = run_cli("explain", "我喜欢😀", "--model", "zh", "-f", "json").stderr
    assert "warning: emoji or symbols read as <unk> (one vector for every word the model has no vector for): drop them or say them in words" in hint, hint


def test_explain_json_names_the_model_as_predict_does():
    # It gave the shipped model's folder inside the installed package, where predict's routing says "en".
    walked = json.loads(run_cli("explain", "i loved it", "-f", "json").stdout)
    assert walked["model"] == "en" and walked["label"] == "positive"
    # A text of no letters went to zh here and to en in predict: 🦩🦩🦩 negative 0.50 against positive 0.56.
    for text in ("12345", "🦩🦩🦩"):
        walked = json.loads(run_cli("explain", text, "-f", "json").stdout)
        predicted = json.loads(run_cli("predict", text, "-f", "jsonl").stdout)
        assert (walked["model"], walked["label"]) == (predicted["model"], predicted["label"]) and abs(walked["score"] - predicted["score"]) < 1e-6
    # --model '' ran the default model, exit 0; predict refuses it.
    assert_one_line_error(run_cli("explain", "好", "--model", ""), 1, "an empty model path")


def test_a_model_trained_on_one_script_with_lang_auto_flags_the_other():
    # The default --lang auto: the tokenizer reads each text by its own script, so the warning needs the
    # training texts' script, which training records.
    from lstm_sentiment.explain import explain
    from lstm_sentiment.inference.model import reading_language
    from test_explain import tiny_model

    assert reading_language({"data": {"lang": "auto"}, "training_scripts": {"en": 0.995, "zh": 0.005}}) == "en"
    assert reading_language({"data": {"lang": "auto"}, "training_scripts": {"en": 0.6, "zh": 0.4}}) is None  # both
    assert reading_language({"data": {"lang": "auto"}}) is None  # a bundle from before the record
    assert reading_language({"data": {"lang": "zh"}}) == "zh"
    model = tiny_model()
    model.reads = "en"
    chinese, english = model.predict(["我喜欢这个电影", "i like this movie"])
    assert chinese["warning"] == "zh text; the model reads en" and "warning" not in english
    assert explain(model, "我喜欢这个电影").warning == "zh text; the model reads en"
    # Since 2026-12-05 training records third scripts too: a model of Russian texts reads Cyrillic.
    assert reading_language({"data": {"lang": "auto"}, "training_scripts": {"Cyrillic": 1.0}}) == "Cyrillic"
    model.reads = "Cyrillic"
    assert model.predict(["我喜欢这个电影"])[0]["warning"] == "zh text; the model reads Cyrillic"


def test_explain_warns_of_no_known_words_and_predict_takes_dash_alone(tiny_bundle):
    model = ("--model", str(tiny_bundle))
    for text in ("😀😀", "。。！"):  # predict flagged these; explain gave a confident walk-through without a word
        result = run_cli("explain", text, *model, "-f", "json")
        assert result.returncode == 0 and "warning: no known words" in result.stderr, result.stderr
    result = run_cli("explain", "好!", *model, "-f", "json")
    assert result.returncode == 0 and "warning" not in result.stderr, result.stderr
    # '-' among texts was classified as the text "-".
    assert_one_line_error(run_cli("predict", "好", "-", *model), 2, "'-' reads stdin and stands alone")
    if Path("/dev/full").exists():  # a full disk used to be reported without the path
        assert_one_line_error(run_cli("predict", "好", *model, "-o", "/dev/full"), 1, r"^error: /dev/full: cannot write \(No space left on device\)$")
        with open("/dev/full", "w") as full:  # `> /dev/full` said "error: No space left on device", naming nothing
            result = subprocess.run([sys.executable, "-m", "lstm_sentiment", "predict", "好", *model, "-f", "jsonl"], stdout=full, stderr=subprocess.PIPE, text=True, timeout=300)
        assert result.returncode == 1 and result.stderr.strip().splitlines()[-1] == "error: stdout: No space left on device", result.stderr


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_every_command_drops_lightnings_advice_and_a_ddp_process_started_again_is_quiet():
    # The filter of Lightning's num_workers advice had moved into the DDP quieting, which `make models`
    # (and every command but train) never calls.
    script = ("import sys, warnings; from lstm_sentiment.logs import quiet_logging, quiet_other_processes; quiet_logging(); "
              "sys.argv[1:] == ['again'] and quiet_other_processes(); "
              "warnings.warn('The dataloader does not have many workers; consider increasing num_workers'); warnings.warn('kept')")
    for args, rank, said in (((), "0", "warning: kept\n"), (("again",), "0", "warning: kept\n"), (("again",), "1", "")):
        done = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=60, env={**os.environ, "LOCAL_RANK": rank})
        assert done.returncode == 0 and done.stderr == said, (args, rank, done.stderr)


def test_a_rank_in_the_environment_keeps_the_warnings_of_other_commands(tiny_bundle, tmp_path):
    # Quieting the processes a DDP run starts again (RANK=1, say) hid every warning of every command.
    data = tmp_path / "w.csv"
    data.write_bytes("text\n不\r错\n".encode("utf-8"))
    result = subprocess.run([sys.executable, "-m", "lstm_sentiment", "predict", "-i", str(data), "--model", str(tiny_bundle)],
                            capture_output=True, text=True, timeout=300, env={**os.environ, "RANK": "1", "LOCAL_RANK": "1"})
    assert result.returncode == 0 and "line 2 holds a carriage return" in result.stderr, result.stderr


def test_a_table_to_a_full_stdout_names_stdout(tiny_bundle, tmp_path):
    # rich's console writes the tables (and flushes stdout as a capture ends): its failure named nothing,
    # where JSON, JSON Lines and CSV said "stdout".
    data = tmp_path / "d.csv"
    data.write_text("text,label\n好,1\n坏,0\n", encoding="utf-8")
    model = ("--model", str(tiny_bundle))
    for args in (("predict", "好"), ("explain", "好"), ("evaluate", "--data", str(data))):
        with open("/dev/full", "w") as full:
            result = subprocess.run([sys.executable, "-m", "lstm_sentiment", *args, *model], stdout=full, stderr=subprocess.PIPE, text=True, timeout=300)
        assert result.returncode == 1 and result.stderr.strip().splitlines()[-1] == "error: stdout: No space left on device", (args, result.stderr)


def test_evaluate_writes_its_report_to_an_output_file(tiny_bundle, tmp_path):
    # evaluate had no --output (predict has): a report was kept by redirecting `-f json`.
    data = tmp_path / "d.json"
    data.write_text('{"text": "好", "label": 1}\n{"text": "坏", "label": 0}\n{"text": "很好", "label": 1}\n', encoding="utf-8")  # JSON Lines
    model = ("--model", str(tiny_bundle))
    printed = run_cli("evaluate", "--data", str(data), *model, "-f", "json")
    out = tmp_path / "new" / "report.json"
    written = run_cli("evaluate", "--data", str(data), *model, "-o", str(out))
    assert written.returncode == 0 and written.stdout == "" and f"wrote the report to {out}" in written.stderr, written.stderr
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report == json.loads(printed.stdout) and report["n"] == 3
    assert json.loads(run_cli("evaluate", "--data", str(data), *model, "-o", "-", "-f", "json").stdout) == report
    assert run_cli("evaluate", "--data", str(data), *model, "-o", "-").stdout.startswith(f"{data}  n=3  accuracy=")  # a table, as predict's
    before = data.read_bytes()
    for args, code, error in (
        (("-o", str(tmp_path / "r.csv")), 2, r"evaluate writes its report as JSON \(\.json\), not \.csv$"),
        (("-o", str(out), "-f", "table"), 2, r"--format table is for the terminal; --output writes the report as JSON$"),
        (("-o", str(data)), 1, r"is the --data file; choose another name$"),
        (("-o", str(tmp_path / "new")), 1, r"is a directory"),
        (("--data", str(tmp_path / "new"), "-o", str(tmp_path / "new")), 1, r"is a directory"),
        (("-o", str(tiny_bundle / "metrics.json")), 1, r"is a file of the model bundle .*; choose another name$"),
    ):
        assert_one_line_error(run_cli("evaluate", "--data", str(data), *model, *args), code, error)
    assert data.read_bytes() == before and json.loads(out.read_text(encoding="utf-8")) == report


def test_a_file_too_small_for_a_test_split_gets_no_test_figures(tmp_path):
    # 3 texts a class leave none for a test split: train reported "n=0 accuracy=0.0000 macro-F1=nan".
    data = tmp_path / "t.csv"
    data.write_text("text,label\n好,1\n坏,0\n很好,1\n很差,0\n好极了,1\n差极了,0\n", encoding="utf-8")
    with pytest.warns(UserWarning, match=r"t\.csv: too few texts in a class for a test split that holds every class \(negative 3, positive 3; 4 needed\); no test figures"):
        train, valid, test = training_splits(str(data))
    assert (len(train), len(valid), test) == (4, 2, None)
    # 7 and 3: a test split of one negative text was reported as "n=1 accuracy=1.0000", without a word.
    data.write_text("text,label\n" + "".join(f"差{i},0\n" for i in range(7)) + "好,1\n很好,1\n好极了,1\n", encoding="utf-8")
    with pytest.warns(UserWarning, match=r"\(positive 3; 4 needed\); no test figures"):
        train, valid, test = training_splits(str(data))
    assert (len(train), len(valid), test) == (8, 2, None)


def test_evaluate_reads_labels_as_the_models_classes(tmp_path):
    # A -1/0/1 model on a file holding only -1 and 1: the file's labels were folded to negative/positive
    # and refused as unknown to the model.
    cfg = ModelConfig(embedding_dim=6, hidden_size=5)
    vocab = Vocab(WORDS)
    save_bundle(tmp_path / "tri", SentimentLSTM(len(vocab), 3, cfg).eval(), vocab, ["-1", "0", "1"], (cfg, DataConfig(), TrainConfig()), {}, {}, "tri\n")
    data = tmp_path / "sub.csv"
    data.write_text("text,label\n好,1\n差,-1\n", encoding="utf-8")
    result = run_cli("evaluate", "--model", str(tmp_path / "tri"), "--data", str(data), "-f", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["n"] == 2
    # Words beside it are its classes in the -1/0/1 convention (0 neutral): pos/neg were "unknown to the model".
    data.write_text("text,label\n好,pos\n差,neg\n还行,neutral\n", encoding="utf-8")
    result = run_cli("evaluate", "--model", str(tmp_path / "tri"), "--data", str(data), "-f", "json")
    assert result.returncode == 0, result.stderr
    assert {k: v["support"] for k, v in json.loads(result.stdout)["per_class"].items()} == {"-1": 1, "0": 1, "1": 1}
    # A number beside a word is no one convention: named as written, as the file holds them.
    data.write_text("text,label\n好,pos\n差,-1\n", encoding="utf-8")
    assert_one_line_error(run_cli("evaluate", "--model", str(tmp_path / "tri"), "--data", str(data)), 1,
                          r"sub\.csv: labels \['pos'\] unknown to the model \(it knows \['-1', '0', '1'\]\)")


def test_evaluate_warns_of_a_text_given_with_two_labels(tiny_bundle, tmp_path):
    # Scored silently: one of the two copies is wrong whatever the model says (train de-duplicates such a file).
    data = tmp_path / "dups.csv"
    data.write_text("text,label\n喜欢,1\n喜欢,1\n差,0\n差 。,1\n我不喜欢,0\n", encoding="utf-8")  # read alike
    result = run_cli("evaluate", "--model", str(tiny_bundle), "--data", str(data), "-f", "json")
    assert result.returncode == 0 and json.loads(result.stdout)["n"] == 5
    said = f"{data}: 1 text(s) given with different labels (the first: '差'); every copy is scored, so some count as wrong whatever the model says"
    assert result.stderr.splitlines() == [f"warning: {said}"]
    # A report kept in a file named neither the model nor what stderr had said about the data.
    report = json.loads(result.stdout)
    assert report["model"] == str(tiny_bundle) and report["warnings"] == [said]
    data.write_text("text,label\n喜欢,1\n差,0\ngreat,1\n", encoding="utf-8")
    report = json.loads(run_cli("evaluate", "--data", str(data), "-f", "json").stdout)
    assert (report["model"], report["warnings"], sorted(report["by_model"])) == ("zh+en", [], ["en", "zh"])


def test_evaluate_counts_texts_of_no_known_word(tiny_bundle, tmp_path):
    # predict flags each; evaluate scored 25 emoji and id texts (accuracy 0.40) without a word.
    data = tmp_path / "emoji.csv"
    data.write_text("text,label\n🦩🦩,1\n12345,0\n我喜欢这个电影,1\n这个电影差,0\n", encoding="utf-8")
    result = run_cli("evaluate", "--model", str(tiny_bundle), "--data", str(data))
    assert result.returncode == 0
    assert "warning: 2 of 4 texts hold no word the model knows (emoji, digits or punctuation alone?)" in result.stderr
    # Beside texts of another script, with the shipped model that reads zh: the count of those overwrote the
    # texts' scripts, and the emoji went uncounted.
    data.write_text("text,label\n🦩🦩,1\n12345,0\n我喜欢这个电影,1\ni love this movie,1\n", encoding="utf-8")
    stderr = run_cli("evaluate", "--model", "zh", "--data", str(data)).stderr
    assert "warning: 1 of 4 texts are en; the model reads zh" in stderr and "warning: 2 of 4 texts hold no word the model knows" in stderr, stderr


def test_a_label_holding_a_line_break_is_refused(tiny_bundle, tmp_path):
    # It became a class named over two lines: every one-line warning naming it broke, and predict's CSV header.
    data = tmp_path / "nl.csv"
    data.write_text('text,label\n好看,"bad\nline"\n难看,0\n', encoding="utf-8")
    for command in (("evaluate", "--model", str(tiny_bundle), "--data", str(data)), ("train", "--data", str(data), "--out", str(tmp_path / "m"))):
        assert_one_line_error(run_cli(*command), 1, re.escape('nl.csv: line 3 has a label holding a line break or another control character: "bad\\nline"'))
    assert not (tmp_path / "m").exists()
    data.write_text("text,label\n好看,bad\u2028line\n难看,0\n", encoding="utf-8")  # Unicode's line separator
    assert_one_line_error(run_cli("evaluate", "--model", str(tiny_bundle), "--data", str(data)), 1, "line 2 has a label holding a line break")


def test_labels_unknown_to_a_binary_model_are_told_its_spellings(tiny_bundle, tmp_path):
    data = tmp_path / "three.csv"
    data.write_text("text,label\n好,1\n差,0\n一般,2\n", encoding="utf-8")
    assert_one_line_error(run_cli("evaluate", "--model", str(tiny_bundle), "--data", str(data)), 1,
                          r"labels \['0', '1', '2'\] unknown to the model \(it knows \['negative', 'positive'\], also spelled 0/1, -1/1, neg/pos or true/false; "
                          r"0/1 are read as negative/positive only with no other label beside them \(here 2\)\)$")


def test_utf16_without_a_byte_order_mark_is_refused_whole(tiny_bundle, tmp_path, monkeypatch):
    # Read as UTF-8 it gave garbage records, and more records than lines (its NUL bytes).
    for name, content, encoding in (("zh.txt", "好看\n坏\n", "utf-16-le"), ("en.csv", "text\ngood film\n", "utf-16-be")):
        (tmp_path / name).write_bytes(content.encode(encoding))
        assert_one_line_error(run_cli("predict", "--model", str(tiny_bundle), "-i", str(tmp_path / name)), 1, rf"{name}: UTF-16 or UTF-32 \(\d+ of its first \d+ bytes are NUL\), or not text; save the file as UTF-8")
    # Longer Chinese lines hold a NUL at their ends alone, fewer than a tenth of the bytes: two lines gave
    # three records, "line 1 is not UTF-8 (byte 0x9c)" among them.
    (tmp_path / "long.txt").write_bytes("我喜欢这个电影\n太难看了\n".encode("utf-16-le"))
    assert_one_line_error(run_cli("predict", "--model", str(tiny_bundle), "-i", str(tmp_path / "long.txt")), 1,
                          re.escape("long.txt: UTF-16 without a byte-order mark (it reads as UTF-16, not as UTF-8); save the file as UTF-8"))
    # GBK or Windows-1252 bytes beside a stray NUL decode as UTF-16 too (Hangul, Latin): the first version of
    # that rule called such files UTF-16, where they are named GBK with the iconv command that converts them.
    for name, content, named in (("gbk.txt", "这部电影很好看\n太难看了\n".encode("gbk") + b"\0", "reads as GBK"),
                                 ("one.txt", "值得一看\n".encode("gbk") + b"\0", "reads as GBK"),
                                 ("latin.txt", "très bien\n".encode("cp1252") + b"\0", "Windows-1252")):
        (tmp_path / name).write_bytes(content)
        told = run_cli("predict", "--model", str(tiny_bundle), "-i", str(tmp_path / name)).stderr
        assert "UTF-16" not in told and named in told and "Traceback" not in told, told
    # A workbook or a program renamed .csv was called UTF-16, or "line 1 is not UTF-8".
    # An xz file was "UTF-16 or UTF-32 (21 of its first 176 bytes are NUL)".
    for signature, kind in ((b"PK\x03\x04\x14\x00\x06\x00", "a zip archive (an Excel .xlsx or an .ods workbook is one)"), (Path(sys.executable).read_bytes()[:64], "a program (ELF)"),
                            (lzma.compress("text,label\n好看,1\n".encode()), "xz-compressed"), (bz2.compress("text,label\n好看,1\n".encode()), "bzip2-compressed")):
        (tmp_path / "book.csv").write_bytes(signature + b"\x00" * 40 + b"text,label\n")
        advice = "decompress it first (xz -dc, zcat: predict reads a pipe)" if kind.endswith("-compressed") else "save or export it as UTF-8 text (CSV UTF-8, say)"
        for command in (("predict", "-i"), ("evaluate", "--data")):
            assert_one_line_error(run_cli(command[0], "--model", str(tiny_bundle), command[1], str(tmp_path / "book.csv")), 1,
                                  re.escape(f"book.csv: {kind}, not text; {advice}"))
    stdin = subprocess.run([sys.executable, "-m", "lstm_sentiment", "predict", "--model", str(tiny_bundle), "-"],
                           input="好看\n坏\n".encode("utf-16-le"), capture_output=True)
    assert stdin.returncode == 1 and stdin.stderr.decode().startswith("error: <stdin>: UTF-16 or UTF-32")
    # A stand-in stdin without peek (io.BytesIO under a TextIOWrapper) is still read.
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO("好\n坏\n".encode())))
    assert read_texts("-") == ["好", "坏"]
    # A lone NUL in UTF-8 text is a control character of that line, not another encoding.
    (tmp_path / "nul.txt").write_bytes("a\x00b\n好\n".encode())
    result = run_cli("predict", "--model", str(tiny_bundle), "-i", str(tmp_path / "nul.txt"), "-f", "jsonl")
    assert result.returncode == 0 and len(result.stdout.splitlines()) == 2, result.stderr


def test_text_arguments_that_are_not_utf8_get_an_error_record(tiny_bundle):
    # Python keeps such argv bytes as lone surrogates: the JSONL held a raw 0xFF byte, -o failed on encoding.
    command = [sys.executable, "-m", "lstm_sentiment", "predict", "--model", str(tiny_bundle), "-f", "jsonl", b"ab\xffcd good", "好"]
    result = subprocess.run(command, capture_output=True)
    assert result.returncode == 1
    first, second = [json.loads(line) for line in result.stdout.decode("utf-8").splitlines()]
    assert first["text"] == "ab\ufffdcd good" and first["error"] == "argument 1 is not UTF-8 (byte 0xff)" and first["label"] is None
    assert second["text"] == "好" and second["label"] is not None
    explain = subprocess.run([sys.executable, "-m", "lstm_sentiment", "explain", "--model", str(tiny_bundle), b"ab\xffcd"], capture_output=True)
    assert explain.returncode == 1 and explain.stderr.decode() == "error: argument 1 is not UTF-8 (byte 0xff); pass UTF-8 text\n"


def test_a_jsonl_line_naming_a_key_twice_is_refused(tiny_bundle, tmp_path):
    # json.loads keeps the last value without a word: {"text": "差", "text": "好"} was classified as 好.
    source = tmp_path / "in.jsonl"
    source.write_text('{"text": "差", "text": "好"}\n{"text": "坏", "meta": {"a": 1}}\n', encoding="utf-8")
    records = [r if isinstance(r, str) else r.error for r in iter_texts(source, strict=False)]
    assert records == ["line 1 names the key 'text' twice", "坏"]
    labelled = tmp_path / "l.jsonl"
    labelled.write_text('{"text": "好", "label": 1, "label": 0}\n', encoding="utf-8")
    with pytest.raises(SentimentError, match=r"l\.jsonl: line 1 names the key 'label' twice"):
        read_labelled(labelled)


def test_a_jsonl_line_nested_too_deeply_or_with_a_huge_number_names_its_line(tiny_bundle, tmp_path):
    # 100,000 nested "[" were a RecursionError traceback; a 5,000-digit number told the user to call
    # sys.set_int_max_str_digits(), with no file or line.
    source = tmp_path / "in.jsonl"
    source.write_text('{"text": "好"}\n{"text": ' + "[" * 100_000 + "]" * 100_000 + '}\n{"text": "坏", "n": ' + "9" * 5_000 + "}\n", encoding="utf-8")
    records = [r if isinstance(r, str) else r.error for r in iter_texts(source, strict=False)]
    assert records == ["好", "line 2 is nested too deeply", f"line 3 holds a number of more than {sys.get_int_max_str_digits()} digits"]
    result = run_cli("predict", "--model", str(tiny_bundle), "--strict", "-i", str(source), "-f", "csv")
    assert_one_line_error(result, 1, r"in\.jsonl: line 2 is nested too deeply")
    labelled = tmp_path / "l.jsonl"
    labelled.write_text('{"text": "好", "label": ' + "1" * 5_000 + "}\n", encoding="utf-8")
    with pytest.raises(SentimentError, match=r"l\.jsonl: line 1 holds a number of more than \d+ digits"):
        read_labelled(labelled)


def test_utf16_files_are_refused_whole_and_explain_reads_stdin(tiny_bundle, tmp_path):
    # A UTF-16 .txt gave a "not UTF-8" record per line and an extra "empty text" from the last NUL byte.
    for name, content in (("in.txt", "good film\nbad film\n"), ("in.csv", "text\ngood film\n"), ("in.jsonl", '{"text": "good"}\n')):
        (tmp_path / name).write_bytes(content.encode("utf-16"))
        assert_one_line_error(run_cli("predict", "--model", str(tiny_bundle), "-i", str(tmp_path / name)), 1, rf"{name}: UTF-16 or UTF-32 .*; save the file as UTF-8")
    (tmp_path / "l.csv").write_bytes("text,label\ngood,1\nbad,0\n".encode("utf-16"))
    with pytest.raises(SentimentError, match=r"l\.csv: UTF-16 or UTF-32"):
        read_labelled(tmp_path / "l.csv")
    # explain - walked the literal "-"; now it reads the text from stdin, as predict - does.
    piped = run_cli("explain", "-", "--model", str(tiny_bundle), "-f", "json", stdin="我喜欢这个电影\n")
    assert piped.returncode == 0, piped.stderr
    assert json.loads(piped.stdout)["words"] == ["我", "喜欢", "这个", "电影"]


def test_csv_output_quotes_a_text_holding_a_lone_cr():
    # Written bare, "cr\rhere" read back as two rows: 5 records for 4 inputs.
    records = [{"text": "cr\rhere", "label": "positive", "score": 0.75, "probs": {"negative": 0.25, "positive": 0.75}},
               {"text": "ok", "label": "negative", "score": 0.5, "probs": {"negative": 0.5, "positive": 0.5}}]
    rows = list(csv.reader(io.StringIO(records_to_text(records, "csv"), newline="")))
    assert [row[:2] for row in rows] == [["text", "label"], ["cr\rhere", "positive"], ["ok", "negative"]]


def test_train_out_of_memory_is_one_line(tmp_path):
    # A hidden size no machine holds (1.5 PB of weights, beyond the address space, so it fails at once
    # even where memory is overcommitted) ended in torch's 56-line allocator traceback.
    data = tmp_path / "t.csv"
    data.write_text("text,label\n好,1\n坏,0\n很好,1\n很差,0\n好极了,1\n差极了,0\n", encoding="utf-8")
    result = run_cli("train", "--data", str(data), "--out", str(tmp_path / "m"), "--hidden-size", str(10**12))
    assert_one_line_error(result, 1, r"^error: out of memory \([\d,.]+ GiB asked\); try a smaller --hidden-size")
    assert not (tmp_path / "m").exists()


# --- where --output writes (defect 4) ---------------------------------------------------------------------


def test_output_under_a_file_names_the_file(tiny_bundle, tmp_path):
    # "cannot write (File exists)" or "(Not a directory)", from mkdir, named neither the file nor the fix.
    (tmp_path / "afile").write_text("keep\n", encoding="utf-8")
    for output in (tmp_path / "afile" / "x.jsonl", tmp_path / "afile" / "sub" / "x.jsonl"):
        result = run_cli("predict", "--model", str(tiny_bundle), "好", "-o", str(output))
        assert result.returncode == 1 and result.stderr.splitlines() == [f"error: {output}: {tmp_path / 'afile'} is a file, not a folder; choose another name"]
    assert (tmp_path / "afile").read_text(encoding="utf-8") == "keep\n"


def test_output_of_a_suffix_predict_does_not_write_is_refused(tiny_bundle, tmp_path):
    # -o out.xlsx wrote JSON Lines into a file that Excel then could not open, and said "wrote 1 record".
    for name in ("out.xlsx", "out.txt"):
        result = run_cli("predict", "--model", str(tiny_bundle), "好", "-o", str(tmp_path / name))
        suffix = name.split(".")[1]
        assert_one_line_error(result, 2, rf"predict writes \.csv, \.tsv, \.json, \.jsonl or \.ndjson \(no suffix: JSON Lines\), not \.{suffix}; rename it or give --format")
    assert [p.name for p in tmp_path.iterdir()] == ["tiny"]
    for name, args in (("out.ndjson", ()), ("out", ()), ("out.txt", ("-f", "jsonl"))):
        assert run_cli("predict", "--model", str(tiny_bundle), "好", "-o", str(tmp_path / name), *args).returncode == 0
        assert json.loads((tmp_path / name).read_text(encoding="utf-8"))["text"] == "好"


def test_output_read_only_refused_symlink_written_through(tiny_bundle, tmp_path):
    read_only = tmp_path / "ro.jsonl"
    read_only.write_text("old\n", encoding="utf-8")
    read_only.chmod(0o444)
    result = run_cli("predict", "--model", str(tiny_bundle), "好", "-o", str(read_only))
    assert result.returncode == 1 and result.stderr.splitlines() == [f"error: {read_only} is read-only; make it writable or choose another name"]
    assert read_only.read_text(encoding="utf-8") == "old\n" and read_only.stat().st_mode & 0o777 == 0o444
    target = tmp_path / "real.jsonl"
    target.write_text("old\n", encoding="utf-8")
    target.chmod(0o640)
    link = tmp_path / "link.jsonl"
    link.symlink_to(target.name)
    result = run_cli("predict", "--model", str(tiny_bundle), "好", "-o", str(link))
    assert result.returncode == 0, result.stderr
    assert link.is_symlink() and os.readlink(link) == "real.jsonl"
    assert json.loads(target.read_text(encoding="utf-8"))["text"] == "好" and target.stat().st_mode & 0o777 == 0o640


def test_a_fifo_or_device_output_is_written_into_never_replaced(tiny_bundle, tmp_path):
    # The temporary file used to be renamed over it: --output /dev/null would have replaced /dev/null.
    from lstm_sentiment.atomic import write_text_atomic

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    write_text_atomic(fifo, "好\n")
    assert reader.communicate(timeout=30)[0] == "好\n".encode() and stat.S_ISFIFO(fifo.stat().st_mode)
    result = run_cli("predict", "--model", str(tiny_bundle), "好", "-f", "csv", "-o", "/dev/stdout")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1].startswith("好,")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert run_cli("predict", "--model", str(tiny_bundle), "好", "-o", "/dev/null").returncode == 0
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode) and list(Path("/dev").glob(".null*")) == []
    # `predict -o /dev/stdout >> log`: /dev/stdout led to the file itself, which was replaced: the lines
    # before were lost and the shell's next ones went to a deleted file.
    log = tmp_path / "log.jsonl"
    log.write_text("before\n", encoding="utf-8")
    inode = log.stat().st_ino
    for text in ("好", "坏"):
        with log.open("ab") as sink:
            subprocess.run([sys.executable, "-m", "lstm_sentiment", "predict", "--model", str(tiny_bundle), text, "-f", "jsonl", "-o", "/dev/stdout"], stdout=sink, check=True, timeout=300)
    with log.open("a", encoding="utf-8") as sink:
        sink.write("after\n")
    lines = log.read_text(encoding="utf-8").splitlines()
    assert log.stat().st_ino == inode and lines[0] == "before" and lines[3] == "after"
    assert [json.loads(line)["text"] for line in lines[1:3]] == ["好", "坏"]
    page = tmp_path / "page.html"
    with page.open("wb") as sink:  # explain checks its outputs before the work: that check passes it too
        subprocess.run([sys.executable, "-m", "lstm_sentiment", "explain", "好", "--model", str(tiny_bundle), "--html", "/dev/stdout"], stdout=sink, check=True, timeout=300)
    assert page.read_text(encoding="utf-8").startswith("<!doctype html>")


@pytest.mark.parametrize("temperature", [None, "hot", -1.8, 0, float("inf"), 1e308])
def test_a_bundle_with_a_bad_temperature_is_refused_in_one_line(tiny_bundle, temperature):
    # 1e308 loaded and gave every text 0.5 / 0.5, labelled by the first class.
    config_path = tiny_bundle / "config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["temperature"] = temperature
    config_path.write_text(json.dumps(config), encoding="utf-8")
    with pytest.raises(SentimentError, match=r"config\.json: temperature must be a number in \[0\.25, 10\.0\], got "):
        SentimentModel.load(tiny_bundle)


@pytest.mark.parametrize(
    "key,value,message",
    [
        # predict, explain and evaluate ended in a traceback (AttributeError, TypeError) for these two.
        ("training_scripts", "zh", "training_scripts must map scripts to shares, got \"zh\""),
        ("training_scripts", {"zh": "x"}, 'training_scripts must map scripts to shares, got {"zh": "x"}'),
        # These loaded, and predict named the classes "a" and "b", or 0 and 1.
        ("id2label", "ab", 'id2label must be a list of class names, got "ab"'),
        ("id2label", [0, 1], "id2label must be a list of class names, got [0, 1]"),
        # [] printed torch's "Initializing zero-element tensors is a no-op" before a size mismatch.
        ("id2label", [], "id2label must name at least two classes, got []"),
        ("id2label", ["positive"], 'id2label must name at least two classes, got ["positive"]'),
        ("model", None, "config.json has no 'model' entry"),
        ("data", {"lang": "zh", "max_tokens": "256", "min_count": 2}, "DataConfig.max_tokens must be an integer, got '256'"),
    ],
)
def test_a_bundle_with_a_bad_config_entry_is_refused_in_one_line(tiny_bundle, key, value, message):
    config_path = tiny_bundle / "config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    if value is None:
        del config[key]
    else:
        config[key] = value
    config_path.write_text(json.dumps(config), encoding="utf-8")
    with pytest.raises(SentimentError, match=re.escape(f"corrupt model bundle ({message})")):
        SentimentModel.load(tiny_bundle)
    result = run_cli("predict", "--model", str(tiny_bundle), "好")
    assert result.returncode == 1 and "Traceback" not in result.stderr and message in result.stderr, result.stderr
    assert "zero-element" not in result.stderr


def test_a_file_or_a_non_object_config_is_refused_as_a_bundle(tiny_bundle, tmp_path):
    (tmp_path / "model.csv").write_text("text,label\n", encoding="utf-8")
    with pytest.raises(SentimentError, match=r"model\.csv: a file, not a model directory"):
        SentimentModel.load(tmp_path / "model.csv")
    (tiny_bundle / "config.json").write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(SentimentError, match=r"config\.json: not a JSON object"):
        SentimentModel.load(tiny_bundle)


def test_a_text_column_for_input_without_columns_is_refused(tiny_bundle, tmp_path):
    # Read as lines, the column would be ignored and a header line classified as a text.
    lines = tmp_path / "in.txt"
    lines.write_text("review\n好\n", encoding="utf-8")
    model = ("--model", str(tiny_bundle))
    # Options that nothing would read: a usage error, exit 2, as for texts given as arguments.
    assert_one_line_error(run_cli("predict", *model, "-i", str(lines), "--text-column", "review"), 2, rf"--text-column names a column of a CSV/TSV/JSONL file; {re.escape(str(lines))} is read as one text per line")
    assert_one_line_error(run_cli("predict", *model, "-", "--text-column", "review", stdin="review\n好\n"), 2, r"; stdin is read as one text per line")
    with pytest.raises(SentimentError, match=r"in\.txt: a text column names a column of a CSV/TSV/JSONL file"):
        read_texts(lines, "review")  # the library's own check, for callers other than the command
    assert_one_line_error(run_cli("predict", *model, "好", "--text-column", "review"), 2, "--text-column names a column of an --input file")


def test_input_format_reads_stdin_and_any_suffix_as_a_table(tiny_bundle, tmp_path):
    # stdin had no format: a CSV piped in was read as lines, its header classified as a text, its columns lost.
    model = ("--model", str(tiny_bundle))
    table = "id,review\n1,喜欢\n2,很差\n"
    by_file = tmp_path / "in.csv"
    by_file.write_text(table, encoding="utf-8")
    expected = run_cli("predict", *model, "-i", str(by_file), "-f", "jsonl")
    assert expected.returncode == 0, expected.stderr
    piped = run_cli("predict", *model, "-", "--input-format", "csv", "-f", "jsonl", stdin=table)
    assert piped.returncode == 0 and piped.stdout == expected.stdout and [json.loads(line)["id"] for line in piped.stdout.splitlines()] == ["1", "2"], piped.stderr
    assert run_cli("predict", *model, "-i", "-", "--input-format", "csv", "--text-column", "review", "-f", "jsonl", stdin=table).stdout == expected.stdout
    tabbed = tmp_path / "export.dat"  # a suffix predict does not know
    tabbed.write_text(table.replace(",", "\t"), encoding="utf-8")
    assert run_cli("predict", *model, "-i", str(tabbed), "--input-format", "tsv", "-f", "jsonl").stdout == expected.stdout
    lines = json.loads(run_cli("predict", *model, "-", "--input-format", "jsonl", "-f", "json", stdin='{"review": "喜欢", "id": 1}\n').stdout)
    assert [(r["text"], r["id"]) for r in lines] == [("喜欢", 1)]
    # The suffix loses to the flag both ways: a .csv read as lines holds three texts, its header one of them.
    assert len(json.loads(run_cli("predict", *model, "-i", str(by_file), "--input-format", "txt", "-f", "json").stdout)) == 3
    assert_one_line_error(run_cli("predict", *model, "好", "--input-format", "csv"), 2, "--input-format is for an --input file or stdin; texts given as arguments are read whole")
    assert_one_line_error(run_cli("predict", *model, "-", "--text-column", "review", stdin=table), 2, r"stdin is read as one text per line \(--input-format csv, tsv or jsonl reads it so\)")
    with pytest.raises(ValueError, match=r"the input format must be one of txt, csv, tsv, jsonl; got 'xml'"):
        list(iter_rows(by_file, fmt="xml"))
    array = run_cli("predict", *model, "-", "--input-format", "jsonl", stdin='[{"text": "喜欢"}]\n')
    assert_one_line_error(array, 1, r"<stdin>: a JSON array \(as predict -o FILE\.json writes\), not one JSON object per line; use JSON Lines$")
    # Only "-" is stdin: a file named <stdin> read stdin once a format was given.
    odd = tmp_path / "<stdin>"
    odd.write_text("喜欢\n", encoding="utf-8")
    assert [r["text"] for r in json.loads(run_cli("predict", *model, "-i", str(odd), "--input-format", "txt", "-f", "json", stdin="很差\n").stdout)] == ["喜欢"]


def test_a_path_option_reads_a_leading_tilde_as_home(tiny_bundle, tmp_path, monkeypatch):
    # The shell leaves --output=~/x as typed: it made a folder named ~, where train() from Python reads home.
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    result = run_cli("predict", "--model", str(tiny_bundle), "好", "--output=~/scores.jsonl", cwd=tmp_path)
    assert result.returncode == 0 and (tmp_path / "home" / "scores.jsonl").is_file() and not (tmp_path / "~").exists(), result.stderr


def test_train_settings_the_machine_cannot_run_fail_before_training(tmp_path):
    data = tmp_path / "d.csv"
    two_class_csv(data, "好", "差", 10)
    out = tmp_path / "m"
    cases = [("--devices", "abc"), ("--strategy", "nosuch")] + ([] if torch.cuda.is_available() else [("--accelerator", "gpu")])
    for option, value in cases:
        result = run_cli("train", "--data", str(data), "--out", str(out), option, value)
        # A value of an option, refused before the data is read: a usage error, exit 2 as --epochs 0.
        assert_one_line_error(result, 2, f"cannot train with .*{value!r}.* here: ")
        assert not out.exists()
    empty = tmp_path / "empty.vec"
    empty.write_bytes(b"")
    assert_one_line_error(run_cli("train", "--data", str(data), "--out", str(out), "--embeddings", str(empty)), 1, r"empty\.vec: empty file, not a word2vec")
    # 1/2 against 0/1 training labels: "['1', '2'] do not occur in the training data" though 1 did (as positive).
    stars = tmp_path / "stars.csv"
    two_class_csv(stars, "好", "差", 5, labels=("2", "1"))
    binary = tmp_path / "binary.csv"
    two_class_csv(binary, "好", "差", 10, labels=("1", "0"))
    assert_one_line_error(run_cli("train", "--data", str(binary), "--valid", str(stars), "--out", str(out)), 1,
                          r"stars\.csv: labels \['1', '2'\] are not among the training data's classes \(negative, positive; "
                          r"1 is read as negative/positive only with no other label beside them \(here 2\)\)$")


def test_text_vectors_named_bin_are_refused_before_training(tmp_path):
    from lstm_sentiment.embeddings import load_vectors

    text = "3 4\ngood 0.5 0.1 -0.2 0.3\nbad -0.4 0.2 0.1 -0.3\nfilm 0.05 0.6 0.2 0.1\n"
    (tmp_path / "v.txt").write_text(text, encoding="utf-8")
    assert load_vectors(tmp_path / "v.txt").vectors.shape == (3, 4)
    # Read as binary, its digits became float32 values of 1e-19 to 1e31: training ran to NaN and blamed the weights.
    (tmp_path / "v.bin").write_text(text, encoding="utf-8")
    with pytest.raises(SentimentError, match=r"v\.bin: a text file, but \.bin is read as binary word2vec"):
        load_vectors(tmp_path / "v.bin")
    # A folder was "embeddings file not found", though it exists.
    with pytest.raises(SentimentError, match=r": a directory; give the vectors file"):
        load_vectors(tmp_path)
    # The same vectors written as binary word2vec by gensim load as they are.
    load_vectors(tmp_path / "v.txt").save_word2vec_format(str(tmp_path / "real.bin"), binary=True)
    assert load_vectors(tmp_path / "real.bin").vectors.tolist() == load_vectors(tmp_path / "v.txt").vectors.tolist()
    (tmp_path / "nan.txt").write_text("2 2\ngood 0.5 nan\nbad 0.1 0.2\n", encoding="utf-8")
    with pytest.raises(SentimentError, match=r"nan\.txt: holds values that are not finite numbers"):
        load_vectors(tmp_path / "nan.txt")


def test_vectors_files_gensim_reads_load_and_broken_ones_name_their_line(tmp_path):
    import bz2
    import gzip

    from lstm_sentiment.embeddings import load_vectors

    rows = ["good 0.5 0.1 -0.2", "bad -0.4 0.2 0.1", "film 0.05 0.6 0.2"]
    text = "3 3\n" + "\n".join(rows) + "\n"
    (tmp_path / "v.txt").write_text(text, encoding="utf-8")
    expected = load_vectors(tmp_path / "v.txt").vectors.tolist()
    # Compressed files were read raw: the gzip bytes hid the header, and the error was a numpy broadcast.
    (tmp_path / "v.txt.gz").write_bytes(gzip.compress(text.encode()))
    (tmp_path / "v.vec.bz2").write_bytes(bz2.compress(text.encode()))
    load_vectors(tmp_path / "v.txt").save_word2vec_format(str(tmp_path / "v.bin.gz"), binary=True)
    for name in ("v.txt.gz", "v.vec.bz2", "v.bin.gz"):
        assert load_vectors(tmp_path / name).vectors.tolist() == expected, name
    broken = {
        "short.txt": ("3 3\n" + rows[0] + "\nbad -0.4 0.2\n" + rows[2] + "\n", r"line 3 has 2 values, not 3\)$"),
        # A file cut inside its last line said only "line 4 has 2 values, not 3".
        "cut.txt": (text[:-6], r"line 4 has 2 values, not 3; the file ends inside it: cut short\?\)$"),
        # One value was copied into every number of the row, and the file loaded (a new user's trial).
        "one.txt": (text[:-10], r"line 4 has 1 values, not 3; the file ends inside it: cut short\?\)$"),
        "lone.txt": (text.replace("bad -0.4 0.2 0.1", "bad 0.5"), r"line 3 has 1 values, not 3\)$"),
        "glove.txt": ("\n".join(rows[:2]) + "\nfilm 0.05 0.6 0.2 0.7\n", r"line 3 has 4 values, not 3"),
        "tabs.txt": (text.replace(" ", "\t").replace("3\t3", "3 3"), r"line 2 separates its values by tabs"),
        "word.txt": (text.replace("0.6", "x"), r"line 4: could not convert string to float: 'x'"),
        # Read as the word '', it was accepted, and trained as a word no text holds.
        "space.txt": (text.replace("bad ", " "), r"space\.txt: line 3 starts with a space: its word is empty$"),
        # A CSV of texts given as vectors was told "line 3 has 1 values, not 0".
        "texts.csv": ("text,label\n好看,1\nnot good,0\n", r"texts\.csv: not a word2vec/GloVe/fastText vectors file \(line 1 holds no values after its word"),
        "bare.txt": (text.replace("3 3", "4 3") + "the", r"line 5 has 0 values, not 3; the file ends inside it: cut short\?\)$"),
    }
    for name, (content, message) in broken.items():
        (tmp_path / name).write_text(content, encoding="utf-8")
        with pytest.raises(SentimentError, match=message):
            load_vectors(tmp_path / name)
    (tmp_path / "zeros.txt").write_text(text.replace("0.05 0.6 0.2", "0 0 0"), encoding="utf-8")  # a true row of equal values
    assert load_vectors(tmp_path / "zeros.txt")["film"].tolist() == [0, 0, 0]
    # gensim logged each repeated word on a line of its own, without our "warning:" prefix.
    (tmp_path / "twice.txt").write_text(text.replace("3 3", "5 3") + "good 0.9 0.9 0.9\nbad 0 0 0\n", encoding="utf-8")
    with pytest.warns(UserWarning, match=r"twice\.txt: 2 words with more than one row \(good, bad\); the first row of each is used"):
        assert load_vectors(tmp_path / "twice.txt").vectors.tolist() == expected
    # A cut .gz raised EOFError, which click took for Ctrl-C: "interrupted", exit 130 (stop 27's trial).
    (tmp_path / "cut.txt.gz").write_bytes(gzip.compress(text.encode())[:40])
    with pytest.raises(SentimentError, match=r"cut\.txt\.gz: Compressed file ended before .* \(a damaged file, or not \.gz compressed\?\)"):
        load_vectors(tmp_path / "cut.txt.gz")
    (tmp_path / "plain.vec.gz").write_text(text, encoding="utf-8")
    with pytest.raises(SentimentError, match=r"plain\.vec\.gz: Not a gzipped file"):
        load_vectors(tmp_path / "plain.vec.gz")
    # GBK words became U+FFFD strings that match no text: training went on with every vector learned anew.
    (tmp_path / "gbk.txt").write_bytes("2 3\n好看 0.1 0.2 0.3\n难看 0.3 0.2 0.1\n".encode("gbk"))
    with pytest.raises(SentimentError, match=r"gbk\.txt: not UTF-8 \(2 of 2 words are not\); save the file as UTF-8"):
        load_vectors(tmp_path / "gbk.txt")
    (tmp_path / "utf16.txt").write_text(text, encoding="utf-16")
    with pytest.raises(SentimentError, match=r"utf16\.txt: UTF-16 text; vectors files are read as UTF-8"):
        load_vectors(tmp_path / "utf16.txt")


def test_words_read_through_subword_vectors_are_not_called_random():
    from lstm_sentiment.embeddings import vocabulary_and_matrix
    from lstm_sentiment.training.train import coverage_warning
    from lstm_sentiment.vectors.subword import shipped_vectors

    # Texts of numbers alone (a trial's): no shipped en row, each read through its n-grams, where train
    # warned "every word reads a random vector".
    _, _, coverage = vocabulary_and_matrix(shipped_vectors("en"), [["48213", "77193"], ["31577", "90412"]], 1, 0)
    assert coverage["token_coverage"] == 0 and coverage["subword_token_share"] == 1.0
    assert coverage_warning(coverage, "shipped en word vectors", True) is None
    no_rows = {"vocab_types": 4, "token_coverage": 0.0, "learned_token_share": 1.0, "unk_token_share": 0.0}
    assert coverage_warning(no_rows, "v.txt", True) == "no word of the data has a vector in v.txt: every word reads a random vector, fixed as the vectors are (--fine-tune-embeddings learns it)"
    assert coverage_warning({**no_rows, "token_coverage": 0.97, "learned_token_share": 0.03}, "v.txt", True) is None


def test_coverage_of_a_vectors_file_is_told_for_the_words_kept(tmp_path):
    # Counted on the file alone, --min-count 1000 read as "token coverage 83.33 %, unk 16.67 %" while the
    # vocabulary held no word and every token was <unk>; a file sharing no word with the data trained silently.
    data = tmp_path / "d.csv"
    two_class_csv(data, "good film", "bad film", 12)
    vectors = tmp_path / "v.txt"
    vectors.write_text("3 2\ngood 0.5 0.1\nbad -0.4 0.2\nfilm 0.1 0.6\n", encoding="utf-8")
    out = tmp_path / "m"

    def train_with_min_count(n: int, path=vectors) -> tuple[str, tuple[float, float, float]]:
        result = run_cli("train", "--data", str(data), "--embeddings", str(path), "--min-count", str(n), "--epochs", "1", "--out", str(out))
        assert result.returncode == 0, result.stderr
        coverage = json.loads((out / "config.json").read_text())["embeddings"]
        return result.stderr, (coverage["token_coverage"], coverage["learned_token_share"], coverage["unk_token_share"])

    # With no word kept, every text was <unk> alone: a model of one answer, saved with exit 0 (stop 27's trial).
    assert_one_line_error(run_cli("train", "--data", str(data), "--embeddings", str(vectors), "--min-count", "1000", "--out", str(out)), 1,
                          r"no word of the data is seen 1000 times \(--min-count, DataConfig.min_count\): every token would be <unk>; lower it")
    assert not out.exists()
    other = tmp_path / "other.txt"
    other.write_text("2 2\nfun 0.5 0.1\ndull -0.4 0.2\n", encoding="utf-8")
    stderr, shares = train_with_min_count(1, other)
    # Frozen (the default), such words keep their random start: "learned from scratch" was said of them.
    assert f"warning: no word of the data has a vector in {other}: every word reads a random vector, fixed as the vectors are (--fine-tune-embeddings learns it)" in stderr
    assert shares == (0.0, 1.0, 0.0)
    stderr, shares = train_with_min_count(1)
    # good/bad/film have rows; the numbers 0-11 (a third of the tokens) are kept words learned from scratch.
    assert shares == (0.6667, 0.3333, 0.0)
    assert f"warning: 33.3% of the tokens have no vector in {vectors}: their words read a random vector, fixed as the vectors are (--fine-tune-embeddings learns it)" in stderr
    assert "33.3% a random vector, fixed as the vectors are" in (out / "README.md").read_text()
    tuned = run_cli("train", "--data", str(data), "--embeddings", str(vectors), "--min-count", "1", "--fine-tune-embeddings", "--epochs", "1", "--out", str(out))
    assert tuned.returncode == 0 and "have no vector" not in tuned.stderr
    assert "33.3% a vector learned from scratch" in (out / "README.md").read_text()


def test_predict_output_options_that_were_ignored_are_refused_or_honoured(tiny_bundle, tmp_path):
    model = ("--model", str(tiny_bundle))
    written = tmp_path / "out.json"
    assert run_cli("predict", *model, "好", "-o", str(written)).returncode == 0
    # Its own JSON array read back as JSON Lines said "no text column; columns found: none".
    assert_one_line_error(run_cli("predict", *model, "-i", str(written)), 1, r"out\.json: a JSON array .* use JSON Lines \(\.jsonl\)")
    assert_one_line_error(run_cli("predict", *model, "好", "-o", str(tmp_path / "t.jsonl"), "-f", "table"), 2, "--format table is for the terminal")
    assert_one_line_error(run_cli("predict", *model, "--lang", "en", "好"), 2, "give --model or --lang, not both")
    to_stdout = run_cli("predict", *model, "好", "-o", "-", "-f", "jsonl", cwd=tmp_path)
    assert to_stdout.returncode == 0 and json.loads(to_stdout.stdout)["text"] == "好"
    assert not (tmp_path / "-").exists() and not (tmp_path / "t.jsonl").exists()


def test_explain_refuses_one_path_for_png_and_html(tiny_bundle, tmp_path):
    same = tmp_path / "walk.out"
    assert_one_line_error(run_cli("explain", "好", "--model", str(tiny_bundle), "--png", str(same), "--html", str(same)), 2, "--png and --html both name")
    assert not same.exists()
    # One file through a link: the page replaced the picture.
    picture = tmp_path / "walk.png"
    picture.write_bytes(b"old")
    (tmp_path / "walk.html").symlink_to(picture)
    assert_one_line_error(run_cli("explain", "好", "--model", str(tiny_bundle), "--png", str(picture), "--html", str(tmp_path / "walk.html")), 2, "--png and --html both name")
    assert picture.read_bytes() == b"old"


def test_explain_refuses_an_unwritable_picture_path_before_the_work(tiny_bundle, tmp_path):
    # A read-only --png was refused after the whole walk-through had been computed and printed (stop 27's trial).
    locked = tmp_path / "locked.png"
    locked.write_bytes(b"old")
    locked.chmod(0o444)
    result = run_cli("explain", "好", "--model", str(tiny_bundle), "--png", str(locked))
    assert_one_line_error(result, 1, r"--png .*locked\.png is read-only; make it writable or choose another name")
    assert result.stdout == "" and locked.read_bytes() == b"old"
    (tmp_path / "folder.html").mkdir()
    assert_one_line_error(run_cli("explain", "好", "--model", str(tiny_bundle), "--html", str(tmp_path / "folder.html")), 1, r"--html .*folder\.html is a directory")
    # A page that could not be written (a full disk) came after the picture had replaced the old one.
    picture = tmp_path / "keep.png"
    picture.write_bytes(b"old")
    assert_one_line_error(run_cli("explain", "好", "--model", str(tiny_bundle), "--png", str(picture), "--html", "/dev/full"), 1, "/dev/full: cannot write")
    assert picture.read_bytes() == b"old"
    result = run_cli("explain", "好", "--model", str(tiny_bundle), "--png", str(picture), "--html", str(tmp_path / "page.html"))
    assert result.returncode == 0 and picture.read_bytes()[:4] == b"\x89PNG" and (tmp_path / "page.html").read_text(encoding="utf-8").startswith("<!doctype html>")


def test_serve_option_ranges_are_usage_errors(tmp_path):
    assert_one_line_error(run_cli("serve", "--port", "-1"), 2, "Invalid value for '--port'")
    # 0 passed the flag's range (0 to 65535) and failed the server's (1 to 65535): exit 1, two ranges told.
    assert_one_line_error(run_cli("serve", "--port", "0"), 2, re.escape("Invalid value for '--port': 0 is not in the range 1<=x<=65535"))
    assert_one_line_error(run_cli("serve", "--workers", "0"), 2, "Invalid value for '--workers'")
    # --workers 6 on 2 cores started six processes of about 0.5 GB each, without a word; predict warns and caps.
    cores = len(os.sched_getaffinity(0))
    told = run_cli("serve", "--model", str(tmp_path / "none"), "--workers", str(cores + 4), "--port", "8799").stderr.splitlines()
    assert told[0] == f"warning: {cores + 4} workers on {cores} cores; using {cores}" and "model directory not found" in told[1], told


def test_fine_tuning_a_model_of_another_language_or_one_class_validation_is_refused(tmp_path):
    data = tmp_path / "zh.csv"
    two_class_csv(data, "很好看", "太难看", 10)
    one_class = tmp_path / "valid.csv"
    one_class.write_text("text,label\n很好,positive\n不错,positive\n", encoding="utf-8")
    out = tmp_path / "m"
    # The en tokenizer would have read each Chinese sentence as one token.
    assert_one_line_error(run_cli("train", "--data", str(data), "--init-from", "en", "--out", str(out)), 1, r"zh\.csv.*: the texts are zh \(by script\), the model en reads en")
    assert_one_line_error(run_cli("train", "--data", str(data), "--valid", str(one_class), "--out", str(out)), 1, r"valid\.csv: validation holds one class \('positive'\)")
    assert not out.exists()


def test_fine_tuning_a_lang_auto_model_on_the_other_script_is_refused(tiny_bundle, tmp_path):
    # A base trained with --lang auto on Chinese texts records the script it reads in training_scripts; its
    # data.lang "auto" let English texts through (stop 24's trial, defect 2).
    config_path = tiny_bundle / "config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["data"]["lang"] = "auto"
    config["training_scripts"] = {"zh": 1.0}
    config_path.write_text(json.dumps(config), encoding="utf-8")
    data = tmp_path / "en.csv"
    two_class_csv(data, "great fun", "awful mess", 10)
    out = tmp_path / "m"
    assert_one_line_error(run_cli("train", "--data", str(data), "--init-from", str(tiny_bundle), "--out", str(out)), 1, r"en\.csv.*: the texts are en \(by script\), the model .*tiny reads zh")
    assert not out.exists()


def test_errors_name_the_users_path_and_stale_temporaries_go(tmp_path):
    from lstm_sentiment.atomic import write_text_atomic

    (tmp_path / "a-file").write_text("", encoding="utf-8")
    with pytest.raises(SentimentError) as caught:
        write_text_atomic(tmp_path / "a-file" / "out.jsonl", "x")
    assert str(caught.value) == f"{tmp_path / 'a-file' / 'out.jsonl'}: {tmp_path / 'a-file'} is a file, not a folder; choose another name"
    # A run killed with SIGKILL leaves .NAME.PID.random; one whose process is gone is removed, one of a
    # live process (pid 1 always is) is another run's and stays, and other names are not touched.
    dead = os.fork()
    if dead == 0:
        os._exit(0)
    os.waitpid(dead, 0)
    for name in (f".out.jsonl.{dead}.abc", ".out.jsonl.1.abc", f".other.jsonl.{dead}.abc"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "new").write_text("partial", encoding="utf-8")
    write_text_atomic(tmp_path / "out.jsonl", "x")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.jsonl." + str(dead) + ".abc", ".out.jsonl.1.abc", "a-file", "out.jsonl"]


# --- threads (defect 5) -----------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["evaluate", "explain"])
def test_evaluate_and_explain_run_on_one_torch_thread_as_predict(tiny_bundle, tmp_path, monkeypatch, command):
    from typer.testing import CliRunner

    from lstm_sentiment.cli import app

    explain_module = importlib.import_module("lstm_sentiment.explain.walk")

    seen = []  # torch threads when the model runs
    for owner, name in ((SentimentModel, "evaluate"), (explain_module, "explain")):
        real = getattr(owner, name)
        monkeypatch.setattr(owner, name, lambda *a, _real=real, **k: seen.append(torch.get_num_threads()) or _real(*a, **k))
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    data = tmp_path / "d.csv"
    data.write_text("text,label\n我喜欢这个电影,positive\n我不喜欢这个电影,negative\n", encoding="utf-8")
    args = ["--data", str(data)] if command == "evaluate" else ["我喜欢这个电影"]
    saved = torch.get_num_threads()
    torch.set_num_threads(2)  # what torch picks on 2 cores
    try:
        result = CliRunner().invoke(app, [command, "--model", str(tiny_bundle), *args])
        assert result.exit_code == 0, result.output
        assert seen == [1]
    finally:
        torch.set_num_threads(saved)


# --- train's log (item 5) ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_train_logs_each_line_once_without_adverts(small_splits, tmp_path, monkeypatch):
    # Also: a work folder of a run killed with SIGKILL (its 64 MB checkpoint) stayed in /tmp for good;
    # the next run removes it, and leaves a live run's.
    work = tmp_path / "tmp"
    work.mkdir()
    gone = subprocess.Popen(["true"])
    gone.wait()
    (work / f"lstm-sentiment-train-{gone.pid}.x1" / "checkpoints").mkdir(parents=True)
    (work / f"lstm-sentiment-train-{os.getpid()}.x2").mkdir()
    monkeypatch.setenv("TMPDIR", str(work))
    train = small_splits[0]
    data = tmp_path / "small.csv"
    with open(data, "w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["text", "label"])
        writer.writerows(list(zip(train.texts, train.labels))[::10])  # about 280 rows: 4 training batches, under the logging interval
    out = tmp_path / "model"
    result = run_cli("train", "--data", str(data), "--out", str(out), "--epochs", "1", "--hidden-size", "8", "--accelerator", "cpu")
    assert result.returncode == 0, result.stderr
    lines = [line.strip() for line in result.stderr.splitlines() if line.strip()]
    # Lightning's messages without its "INFO: " copy, and none about devices this machine lacks or why fit
    # stopped (the last line says it); the progress bar stays.
    assert not [line for line in lines if line.startswith("INFO:")]
    assert "TPU available: False" not in result.stderr and "`Trainer.fit` stopped" not in result.stderr
    assert "litlogger" not in result.stderr and "Tip:" not in result.stderr
    # No logger version number in the bar; no advice about log_every_n_steps for an epoch of few batches.
    assert "v_num" not in result.stderr and "log_every_n_steps" not in result.stderr
    coverage = next(line for line in lines if line.startswith("vocabulary "))
    assert re.search(r"token coverage 9\d\.\d\d%, subword token share \d\.\d\d%, unk token share 0\.0\d%$", coverage), coverage
    # About 28 validation texts are too few to fit a temperature (30 and more): the card says so, not "T = 1.000, fitted".
    calibration = json.loads((out / "metrics.json").read_text())["calibration"]
    card = (out / "README.md").read_text(encoding="utf-8")
    assert calibration["n"] < 30 and calibration["temperature"] == 1.0
    assert f"Scores are not temperature-scaled (T = 1): {data}:validation holds {calibration['n']} texts" in card and "T = 1.000" not in card
    # The log counted <pad> and <unk> as words, two more than the card.
    words = re.match(r"vocabulary (\d+) words; ", coverage)[1]
    assert f"; vocabulary {words} words; " in card and "vocab types" not in coverage
    assert "Epoch 0/0" in result.stderr and lines[-1] == f"wrote {out} (best epoch 0 of 1, counted from 0; {json.loads((out / 'metrics.json').read_text())['train_seconds']} s)"
    assert [p.name for p in work.glob("lstm-sentiment-train-*")] == [f"lstm-sentiment-train-{os.getpid()}.x2"]


# --- Ctrl-C with workers (defect 1) -----------------------------------------------------------------------


# It failed in 4 of about 18 runs, three ways: a press at 2.5 s, while the pool starts, lost (exit 0, output
# written); the parent still working 10 s after the press; a temporary output folder left behind. Causes: a
# KeyboardInterrupt that Python raised inside a finalizer or compiled code that swallowed it (now every
# press is also noted, and checked at each chunk, in the pool and before the rename:
# lstm_sentiment.interrupt); a press while the pool closed, noted and then dropped; and a second press
# breaking off the removal of the temporary folder (now removed to the end).
@pytest.mark.slow
def test_ctrl_c_with_workers_ends_at_once_and_keeps_the_old_output(tiny_bundle, tmp_path):
    source = tmp_path / "big.txt"
    # Long enough that the last press comes well before the end: 200,000 lines took 5.5 s on an idle machine.
    source.write_text("这部电影还不错，但是结尾有点仓促\n" * 1_000_000, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    out.write_text("old\n", encoding="utf-8")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    log = tmp_path.parent / f"{tmp_path.name}-stderr.txt"  # a file, not a pipe: a stray worker holds no pipe open
    # While starting, while the workers start, and while they classify; the last try presses Ctrl-C twice.
    for delay, presses in ((1.0, 1), (2.5, 1), (4.0, 1), (5.5, 1), (4.0, 2)):
        with open(log, "w") as stderr_file:
            process = subprocess.Popen(
                # -X faulthandler: SIGABRT then prints every thread's stack, for the message of a hang.
                [sys.executable, "-X", "faulthandler", "-m", "lstm_sentiment", "predict", "--model", str(tiny_bundle),
                 "--input", str(source), "-o", str(out), "--workers", "2"],
                stderr=stderr_file, env=env, start_new_session=True,
            )
        time.sleep(delay)
        assert process.poll() is None, f"the run ended before the press at {delay} s: the input is too short to test Ctrl-C"
        for _ in range(presses):
            os.killpg(process.pid, signal.SIGINT)  # a terminal's Ctrl-C goes to the whole process group
            time.sleep(0.1)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGABRT)
            process.wait()
            os.killpg(process.pid, signal.SIGKILL)
            pytest.fail(f"still running 10 s after Ctrl-C at {delay} s:\n{log.read_text()[-8000:]}")
        stderr = log.read_text()
        # 130 as the shell reports it: exit(130), or the end by SIGINT itself.
        # Once the records are being written, the note says the old output is kept.
        said = ("error: interrupted", f"error: interrupted; {out} left as it was") if delay < 2 else (f"error: interrupted; {out} left as it was",)
        assert process.returncode in (130, -signal.SIGINT) and stderr.splitlines()[-1] in said, (delay, process.returncode, stderr)
        assert "Traceback" not in stderr, (delay, stderr)
        time.sleep(0.5)  # workers ended by the signal are reaped by now
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            pass  # no worker left in the group
        else:
            os.killpg(process.pid, signal.SIGKILL)
            pytest.fail(f"workers left running after Ctrl-C at {delay} s ({presses} press(es)):\n{stderr}")
        assert out.read_text(encoding="utf-8") == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.txt", "out.jsonl", "tiny"]


@pytest.mark.slow
@pytest.mark.parametrize("signum,code,said,lightning_said", [(signal.SIGINT, 130, "interrupted", "KeyboardInterrupt"), (signal.SIGTERM, 143, "terminated", "Received SIGTERM")])
def test_ctrl_c_while_training_says_interrupted_and_keeps_the_old_bundle(small_splits, tiny_bundle, tmp_path, signum, code, said, lightning_said):
    # Lightning takes a Ctrl-C during fit, tears down and calls sys.exit(1): the command ended with exit 1
    # and no message of its own. A SIGTERM (a service manager's stop) is told apart from it.
    train = small_splits[0]
    data = tmp_path / "small.csv"
    with open(data, "w", encoding="utf-8", newline="") as stream:
        csv.writer(stream).writerows([("text", "label"), *list(zip(train.texts, train.labels))[::20]])
    before = {p.name: p.read_bytes() for p in tiny_bundle.iterdir()}
    log = tmp_path / "stderr.txt"
    with open(log, "w") as stderr_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "lstm_sentiment", "train", "--data", str(data), "--out", str(tiny_bundle),
             "--epochs", "500", "--patience", "500", "--hidden-size", "8", "--accelerator", "cpu"],
            stderr=stderr_file, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    deadline = time.monotonic() + 120
    while "vocabulary " not in log.read_text() and time.monotonic() < deadline:  # logged just before fit
        time.sleep(0.2)
    time.sleep(3)  # into the epochs
    assert process.poll() is None, log.read_text()
    process.send_signal(signum)
    assert process.wait(timeout=60) == code, log.read_text()
    stderr = log.read_text()
    assert stderr.strip().splitlines()[-1] == f"error: {said}" and "Traceback" not in stderr
    # Lightning's "Detected KeyboardInterrupt, attempting graceful shutdown ..." and "[rank: 0] Received
    # SIGTERM: 15" came before it.
    assert lightning_said not in stderr, stderr
    # Retraining into a model's folder replaced it without a word.
    assert f"warning: {tiny_bundle} holds a trained model; this run replaces it when it ends (stopped before, it keeps it)" in stderr.splitlines()
    assert {p.name: p.read_bytes() for p in tiny_bundle.iterdir()} == before


@pytest.mark.parametrize("workers", [0, 1])
def test_a_press_whose_keyboard_interrupt_was_lost_still_stops_the_run(tiny_bundle, tmp_path, workers):
    from lstm_sentiment import interrupt
    from lstm_sentiment.inference.stream import predict_file

    out = tmp_path / "out.jsonl"
    out.write_text("old\n", encoding="utf-8")
    interrupt.reset()
    try:
        try:  # Ctrl-C whose KeyboardInterrupt a finalizer swallowed: only the note is left
            interrupt.on_signal(signal.SIGINT, None)
        except KeyboardInterrupt:
            pass
        with pytest.raises(KeyboardInterrupt):
            predict_file(["我喜欢这个电影"] * 10, out, model=str(tiny_bundle), workers=workers)
    finally:
        interrupt.reset()
    assert out.read_text(encoding="utf-8") == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl", "tiny"]


# --- serve (defect 10) ------------------------------------------------------------------------------------


def test_serve_answers_a_deeply_nested_body_with_a_listed_code(tiny_bundle):
    from starlette.testclient import TestClient

    from lstm_sentiment.serve.app import create_app

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    with TestClient(create_app(str(tiny_bundle), warm_up=False)) as http:
        for body in (b"[" * 100_000 + b"]" * 100_000, b'{"texts": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"):
            response = http.post("/v1/predict", content=body, headers={"Content-Type": "application/json"})
            assert response.status_code == 422
            assert response.json() == {"error": {"code": "invalid_json", "message": "malformed JSON: nested too deeply"}}
        assert http.post("/v1/predict", json={"texts": ["好"]}).status_code == 200  # and the server goes on
        # UTF-16 and UTF-32 without a byte-order mark passed the UTF-8 check (NUL is UTF-8) and were read.
        for encoding in ("utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"):
            response = http.post("/v1/predict", content='{"texts": ["好"]}'.encode(encoding), headers={"Content-Type": "application/json"})
            assert response.status_code == 422 and "a NUL byte" in response.json()["error"]["message"], encoding
    assert "| 422 | `invalid_json` | the body is not JSON (or not UTF-8, or nested too deeply" in readme


def _stat(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name (state first, then the parent's PID); None if gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


@pytest.mark.slow
def test_workers_end_with_a_parent_killed_by_sigkill(tiny_bundle, tmp_path):
    # SIGKILL lets the parent stop nothing; its idle workers lived on under PID 1, ~470 MB each.
    source = tmp_path / "big.txt"
    source.write_text("这部电影还不错\n" * 200_000, encoding="utf-8")
    command = [sys.executable, "-m", "lstm_sentiment", "predict", "--model", str(tiny_bundle), "--input", str(source), "-o", str(tmp_path / "o.jsonl"), "--workers", "2"]
    parent = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def children() -> list[int]:
        return [int(p.name) for p in Path("/proc").glob("[0-9]*") if (_stat(int(p.name)) or ["", "0"])[1] == str(parent.pid)]

    def running(pid: int) -> bool:
        fields = _stat(pid)
        return fields is not None and fields[0] != "Z"

    deadline = time.monotonic() + 60
    while len(children()) < 2 and parent.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    workers = children()
    assert len(workers) >= 2, "the workers never started"
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while any(map(running, workers)) and time.monotonic() < deadline:
        time.sleep(0.1)
    alive = [pid for pid in workers if running(pid)]
    for pid in alive:
        os.kill(pid, signal.SIGKILL)
    assert not alive, f"workers {alive} outlived their parent"


# --- SIGTERM at start-up (stop 24's trial, defect 1) ------------------------------------------------------


@pytest.mark.slow
def test_sigterm_while_torch_loads_ends_with_one_line(tiny_bundle, tmp_path):
    # SIGTERM 0.15–0.8 s into a command raised the handler's exit inside torch's import: a crash (exit 139) or
    # "partially initialized module 'torch'" tracebacks, as the exit went through the out-of-memory check.
    log = tmp_path / "stderr.txt"
    # 1.0–1.6 s: while the model loads or Lightning imports (a SIGTERM there was taken for a corrupt bundle).
    for delay in (0.15, 0.3, 0.5, 0.8, 1.0, 1.2, 1.4, 1.6):
        with open(log, "w") as stderr_file:
            process = subprocess.Popen(
                [sys.executable, "-m", "lstm_sentiment", "predict", "--model", str(tiny_bundle), "我喜欢这个电影"],
                stdout=subprocess.DEVNULL, stderr=stderr_file,
            )
        time.sleep(delay)
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)
        stderr = log.read_text()
        # Before the handler is installed (or after the work is done, in Python's shutdown) the signal's own
        # action ends the process quietly; otherwise the handler's one line and 143.
        assert code in (0, -signal.SIGTERM) or (code == 143 and stderr.splitlines()[-1] == "error: terminated"), (delay, code, stderr)
        assert "Traceback" not in stderr, (delay, stderr)


def test_evaluate_in_python_names_the_type_it_takes(tiny_bundle):
    # A list of (text, label) pairs failed on "'list' object has no attribute 'texts'".
    with pytest.raises(TypeError, match=r"evaluate takes LabelledTexts\(texts, labels, source\) .*, not list"):
        SentimentModel.load(tiny_bundle).evaluate([("很好", "positive")])


def test_evaluate_in_python_folds_labels_as_a_file_is_read():
    # LabelledTexts(texts, [1, 0]) was refused with a message that named 0/1 as a spelling it takes.
    model = SentimentModel.load("zh")
    texts = ["这部电影太好看了，强烈推荐", "质量很差，非常失望"]
    for labels in ([1, 0], ["pos", "neg"], [True, False]):
        report = model.evaluate(LabelledTexts(texts, labels, "x"))
        assert report["accuracy"] == 1.0 and report["n"] == 2, labels
    with pytest.raises(SentimentError, match=r"labels \['3', '5'\] unknown to the model"):
        model.evaluate(LabelledTexts(texts, [5, 3], "x"))
    # Texts cut to the model's maximum are counted, as predict and train count them (evaluate said nothing).
    with pytest.warns(UserWarning, match=r"^x: 1 text\(s\) longer than 256 tokens or 4,096 characters were truncated"):
        model.evaluate(LabelledTexts([texts[0] * 60, texts[1]], [1, 0], "x"))


def test_evaluate_on_one_class_data_warns_and_reports_macro_f1_over_the_classes_it_shows(tiny_bundle, tmp_path):
    data = tmp_path / "one.csv"
    data.write_text("text,label\n我喜欢这个电影,positive\n好,positive\n", encoding="utf-8")
    result = run_cli("evaluate", "--model", str(tiny_bundle), "--data", str(data), "-f", "json")
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "warning: the data hold one class (positive); macro-F1 and the other classes' figures say little"
    report = json.loads(result.stdout)
    labels, matrix = report["labels"], report["confusion_matrix"]
    shown = [k for k in range(len(labels)) if sum(matrix[k]) + sum(row[k] for row in matrix) > 0]
    assert report["macro_f1"] == pytest.approx(sum(report["per_class"][labels[k]]["f1"] for k in shown) / len(shown), abs=1e-6)


@pytest.mark.parametrize("command", [("predict", "-i"), ("evaluate", "--data"), ("train", "--data")])
def test_a_missing_file_without_a_suffix_is_named_missing(command, tmp_path):
    # "/nonexistent" got "unknown file type ''; use .csv, …", as if the file were there.
    missing = tmp_path / "nonexistent"
    args = [*command, str(missing)] + (["--out", str(tmp_path / "m")] if command[0] == "train" else [])
    assert_one_line_error(run_cli(*args), 1, r"nonexistent: cannot read \(No such file or directory\)")


@pytest.mark.parametrize("message", [
    "[enforce fail at alloc_cpu.cpp:127] data. DefaultCPUAllocator: not enough memory: you tried to allocate 32001600 bytes. Error code 12 (Cannot allocate memory)",
    "DefaultCPUAllocator: can't allocate memory: you tried to allocate 32001600 bytes. Error code 12",
])
def test_no_memory_while_a_bundle_loads_is_no_corrupt_bundle(tiny_bundle, monkeypatch, message):
    # Under `ulimit -v` the loader said "corrupt model bundle (… can't allocate memory …)" of the shipped model:
    # a user would reinstall. It is a MemoryError, which the command line says in one line.
    def no_memory(self, state, *args, **kwargs):
        raise RuntimeError(message)

    monkeypatch.setattr(SentimentLSTM, "load_state_dict", no_memory)
    with pytest.raises(MemoryError, match="out of memory loading the model"):
        SentimentModel.load(tiny_bundle)


def test_sigterm_while_a_bundle_loads_is_no_corrupt_bundle(tiny_bundle, monkeypatch):
    # The SIGTERM handler raised typer's exit, a RuntimeError, which the loader took for damaged weights:
    # "corrupt model bundle (143)", exit 1. It now raises KeyboardInterrupt, which no error handler takes.
    from lstm_sentiment import interrupt

    def signalled(self, state, *args, **kwargs):
        interrupt.on_signal(signal.SIGTERM, None)

    monkeypatch.setattr(SentimentLSTM, "load_state_dict", signalled)
    interrupt.reset()
    try:
        with pytest.raises(KeyboardInterrupt):
            SentimentModel.load(tiny_bundle)
        assert interrupt.received() == signal.SIGTERM
    finally:
        interrupt.reset()


@pytest.mark.slow
def test_a_signal_whose_keyboard_interrupt_was_lost_stops_training_before_out_is_written(small_splits, tmp_path):
    # A SIGTERM during Lightning's imports was swallowed there: training ran on and wrote --out, exit 0.
    from lstm_sentiment import interrupt
    from lstm_sentiment.training.train import train

    out = tmp_path / "m"
    interrupt.reset()
    try:
        try:  # a library that took the KeyboardInterrupt for its own error: only the note is left
            interrupt.on_signal(signal.SIGTERM, None)
        except KeyboardInterrupt:
            pass
        train_part, valid_part, _ = small_splits
        with pytest.raises(KeyboardInterrupt):
            train(train_part, valid_part, None, out, ModelConfig(hidden_size=8), DataConfig(), TrainConfig(epochs=1))
    finally:
        interrupt.reset()
    assert not out.exists()


@pytest.mark.slow
def test_train_on_english_texts_keeps_the_vectors_frozen_by_default(tmp_path):
    # From 2026-12-04 night to the thirteenth round en data fine-tuned their vectors at the full rate; with
    # the reviews' own fastText numbers in them, frozen was ahead (README "Choosing the recipe").
    data = tmp_path / "en.csv"
    two_class_csv(data, "a great fun film", "an awful dull mess", 30)
    out = tmp_path / "m"
    result = run_cli("train", "--data", str(data), "--out", str(out), "--epochs", "1")
    assert result.returncode == 0, result.stderr
    config = json.loads((out / "config.json").read_text(encoding="utf-8"))
    assert config["model"]["freeze_embeddings"] is True and config["data"]["lang"] == "auto"
    assert "en" in config["training_scripts"]


def test_evaluate_warns_when_texts_are_of_the_script_the_model_does_not_read(tmp_path):
    # An en model scored on Chinese data printed accuracy 0.41 without a word; predict flags each such text.
    torch.manual_seed(0)
    cfg = ModelConfig(embedding_dim=6, hidden_size=5)
    vocab = Vocab(["<pad>", "<unk>", "good", "bad"])
    model = tmp_path / "en"
    save_bundle(model, SentimentLSTM(len(vocab), 2, cfg).eval(), vocab, ["negative", "positive"],
                (cfg, DataConfig(lang="en"), TrainConfig()), {}, {}, "tiny en\n")
    data = tmp_path / "mixed.csv"
    data.write_text("text,label\n很好,positive\n太差了,negative\ngood,positive\n", encoding="utf-8")
    result = run_cli("evaluate", "--model", str(model), "--data", str(data), "-f", "json")
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "warning: 2 of 3 texts are zh; the model reads en, so its figures on them say little"
    assert json.loads(result.stdout)["n"] == 3
    # The first flagged text's script stood for all of them (14 texts of 7 scripts were "14 … are Cyrillic").
    several = tmp_path / "several.csv"
    several.write_text("text,label\n很好,positive\nотлично,positive\nплохо,negative\ngood,positive\n", encoding="utf-8")
    result = run_cli("evaluate", "--model", str(model), "--data", str(several), "-f", "json")
    assert result.stderr.strip() == "warning: 3 of 4 texts are of other scripts (Cyrillic 2, zh 1); the model reads en, so its figures on them say little"
    # One stray text in a hundred and one (zh-reviews' test split holds an English review) is no warning.
    mostly = tmp_path / "mostly-en.csv"
    mostly.write_text("text,label\n很好,positive\n" + "good,positive\nbad,negative\n" * 50, encoding="utf-8")
    assert run_cli("evaluate", "--model", str(model), "--data", str(mostly)).stderr == ""


def test_a_label_cell_that_marks_no_value_is_refused_not_learned(tmp_path):
    # "NaN" became a class of its own: id2label ['nan', 'neg', 'pos'], and with a third class pos/neg no
    # longer folded to negative/positive.
    rows = "".join(f"text {i},{'pos' if i % 2 else 'neg'}\n" for i in range(6))
    (tmp_path / "nan.csv").write_text("text,label\n" + rows + "text 6,NaN\n", encoding="utf-8")
    with pytest.raises(SentimentError, match=r"nan\.csv: line 8 has no label in 'label' \(NaN: a missing value\)$"):
        read_labelled(tmp_path / "nan.csv")
    (tmp_path / "nan.jsonl").write_text('{"text": "a", "label": 1}\n{"text": "b", "label": NaN}\n', encoding="utf-8")
    with pytest.raises(SentimentError, match=r"line 2 has no label in 'label' \(nan: a missing value\)$"):
        read_labelled(tmp_path / "nan.jsonl")
    (tmp_path / "na.csv").write_text("text,label\n" + rows + "text 6,N/A\n", encoding="utf-8")
    with pytest.raises(SentimentError, match=r"line 8 has no label in 'label' \(N/A: a missing value\)$"):
        read_labelled(tmp_path / "na.csv")
    (tmp_path / "none.csv").write_text("text,label\na,joy\nb,none\n", encoding="utf-8")
    assert read_labelled(tmp_path / "none.csv").labels == ["joy", "none"]  # a class of emotion sets (NLPCC)


def test_binary_spellings_fold_beside_a_model_of_more_classes(small_bundle, tmp_path):
    from lstm_sentiment.data.dataset import canonical_labels

    # A negative/neutral/positive model refused a pos/neg file ("labels ['neg', 'pos'] unknown").
    assert canonical_labels(["pos", "neg", "neutral"], known=["negative", "neutral", "positive"]) == ["positive", "negative", "neutral"]
    assert canonical_labels(["0", "1"], known=["negative", "neutral", "positive"]) == ["negative", "positive"]
    assert canonical_labels(["pos", "neg", "neutral"]) == ["pos", "neg", "neutral"]  # training data: as written
    assert canonical_labels(["0", "1", "2"], known=["negative", "positive"]) == ["0", "1", "2"]  # numbered classes
    # evaluate named pos unknown in the sentence that says neg/pos is a spelling it knows.
    (tmp_path / "other.csv").write_text("text,label\n很好,pos\n还行,neutral\n", encoding="utf-8")
    result = run_cli("evaluate", "--model", str(small_bundle[0]), "--data", str(tmp_path / "other.csv"))
    assert_one_line_error(result, 1, re.escape("labels ['neutral'] unknown to the model (it knows ['negative', 'positive'], also spelled"))


def test_class_names_reach_the_tables_as_plain_text(small_model):
    import dataclasses

    from rich.console import Console

    from lstm_sentiment.explain import explain
    from lstm_sentiment.explain.tables import rich_table
    from lstm_sentiment.metrics import classification_report
    from lstm_sentiment.output import records_table, report_table

    # Class names come from the training file: "[red]bad[/red]" was read as rich markup (the tag vanished)
    # and an ESC in one reached the terminal, in evaluate's and explain's tables alike.
    names = ["[red]bad[/red]\x1b[31m", "<b>good</b>"]
    shown = "[red]bad[/red]\\x1b[31m"
    report = classification_report([0, 1], [0, 1], names)
    expl = dataclasses.replace(explain(small_model, "很好"), labels=tuple(names))
    records = [{"text": "很好", "label": names[0], "score": 0.9}]
    for table in (report_table(report), rich_table(expl), records_table(records)):
        console = Console(width=200, record=True)
        console.print(table)
        text = console.export_text()
        assert shown in text and "\x1b" not in text, text


def test_train_refuses_a_tokenizer_of_another_language_than_the_texts(tmp_path):
    # --lang en on Chinese texts trained without a word (40 % of the tokens read, every later prediction
    # flagged); --init-from en on them was refused, untested.
    rows = "".join(f"这部电影{'真好看' if i % 2 else '太难看了'}{i},{i % 2}\n" for i in range(20))
    (tmp_path / "zh.csv").write_text("text,label\n" + rows, encoding="utf-8")
    out = tmp_path / "never-written"
    result = run_cli("train", "--data", str(tmp_path / "zh.csv"), "--lang", "en", "--out", str(out))
    assert_one_line_error(result, 1, re.escape("zh.csv:train: the texts are zh (by script), --lang en reads en; drop --lang (DataConfig.lang='auto')"))
    result = run_cli("train", "--data", str(tmp_path / "zh.csv"), "--init-from", "en", "--out", str(out))
    assert_one_line_error(result, 1, re.escape("zh.csv:train: the texts are zh (by script), the model en reads en; fine-tune a model of their language"))
    assert not out.exists()


@pytest.mark.slow
def test_train_warns_of_a_text_column_of_numbers(tmp_path):
    # An id column named as the texts trained a model on numbers alone (exit 0, not a word said), and
    # predict then flagged each of its texts "no known words".
    rows = "".join(f"{i},{'很好看' if i % 2 else '太差了'} {i},{i % 2}\n" for i in range(1000, 1060))
    (tmp_path / "ids.csv").write_text("id,text,label\n" + rows, encoding="utf-8")
    args = ("train", "--data", str(tmp_path / "ids.csv"), "--epochs", "1", "--hidden-size", "8")
    result = run_cli(*args, "--text-column", "id", "--out", str(tmp_path / "m"))
    assert result.returncode == 0, result.stderr
    assert f"warning: {tmp_path / 'ids.csv'}:train: 48 of 48 texts hold no letter (numbers or symbols only): is the text column right? (--text-column)" in result.stderr.splitlines(), result.stderr
    result = run_cli(*args, "--out", str(tmp_path / "n"))
    assert result.returncode == 0 and "hold no letter" not in result.stderr, result.stderr


@pytest.mark.slow
def test_train_warns_of_validation_and_test_files_of_the_other_language(tmp_path):
    # An en model validated and tested on a zh file trained, stopped early and fitted its temperature on
    # texts it cannot read, without a word.
    en = "".join(f"a {'really good' if i % 2 else 'truly bad'} film {i},{i % 2}\n" for i in range(40))
    zh = "".join(f"这部电影{'真好看' if i % 2 else '太难看了'}{i},{i % 2}\n" for i in range(12))
    (tmp_path / "en.csv").write_text("text,label\n" + en, encoding="utf-8")
    (tmp_path / "zh.csv").write_text("text,label\n" + zh, encoding="utf-8")
    args = ("train", "--data", str(tmp_path / "en.csv"), "--epochs", "1", "--hidden-size", "8")
    result = run_cli(*args, "--valid", str(tmp_path / "zh.csv"), "--test", str(tmp_path / "zh.csv"), "--out", str(tmp_path / "m"))
    assert result.returncode == 0, result.stderr
    warned = [line for line in result.stderr.splitlines() if "(by script), most training texts en" in line]
    assert warned == [
        f"warning: {tmp_path / 'zh.csv'}: 12 of 12 validation texts are zh (by script), most training texts en: the model's figures on them say little; early stopping and the temperature follow them",
        f"warning: {tmp_path / 'zh.csv'}: 12 of 12 test texts are zh (by script), most training texts en: the model's figures on them say little",
    ], result.stderr
    # Split from one file of one language, or of both (its validation and test splits may lean either way
    # by chance; the mix is warned of once, for the training texts): no such warning.
    mixed = tmp_path / "mixed.csv"
    mixed.write_text("text,label\n" + en + zh * 3, encoding="utf-8")
    for data in (tmp_path / "en.csv", mixed):
        result = run_cli(*args[:2], str(data), *args[3:], "--out", str(tmp_path / "n"))
        assert result.returncode == 0 and "most training texts" not in result.stderr, result.stderr


def test_a_guessed_column_is_named_when_another_fits_too(tmp_path):
    # 'label' (noise) was read over 'sentiment' (the labels) without a word: validation 0.50.
    path = tmp_path / "both.csv"
    path.write_text("id,review,text,sentiment,label\n1,好看,好看,pos,0\n2,难看,难看,neg,1\n", encoding="utf-8")
    with pytest.warns(UserWarning) as caught:
        data = read_labelled(path)
    assert data.labels == ["negative", "positive"]
    assert [str(w.message) for w in caught] == [
        f"{path}: text column 'text' guessed, 'review' fits too; name the one meant with --text-column",
        f"{path}: label column 'label' guessed, 'sentiment' fits too; name the one meant with --label-column",
    ]
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert read_labelled(path, "review", "sentiment").labels == ["positive", "negative"]


def test_a_folder_is_replaced_in_one_step(tmp_path, monkeypatch):
    # Replaced by two renames (old aside, new in), a bundle was missing for a moment: a predict or serve
    # started then said "model directory not found" (874 of 550,000 checks beside repeated writes).
    from lstm_sentiment import atomic

    def folder_of(text):
        return lambda tmp: (tmp.mkdir(), (tmp / "config.json").write_text(text))

    bundle = tmp_path / "bundle"
    atomic.write_atomic(bundle, folder_of("old"))

    def no_second_rename(*args):
        raise AssertionError(f"renamed in two steps: {args}")

    monkeypatch.setattr(atomic.os, "replace", no_second_rename)
    atomic.write_atomic(bundle, folder_of("new"))
    assert (bundle / "config.json").read_text() == "new" and [p.name for p in tmp_path.iterdir()] == ["bundle"]


def test_tables_in_a_pipe_keep_every_column_and_figure(monkeypatch):
    # At rich's 80 columns for a pipe an 8-class report lost its last confusion-matrix column and cut
    # "ECE=0.0111" to "ECE=0.01"; COLUMNS=0 printed nothing at all.
    from lstm_sentiment.output import fitting_console, records_table, report_table

    labels = ["mixed_feelings", "negative", "neutral", "positive", "slightly_negative", "slightly_positive", "very_negative", "very_positive"]
    per_class = {label: {"precision": 0.125, "recall": 0.0333, "f1": 0.0526, "support": 30} for label in labels}
    report = {"source": "zh8.csv", "n": 240, "accuracy": 0.1292, "macro_f1": 0.0352, "ece": 0.0111, "temperature": 1.0, "labels": labels,
              "per_class": per_class, "confusion_matrix": [[i * 3 + j for j in range(8)] for i in range(8)]}
    records = [{"text": "我喜欢这个电影", "label": "slightly_positive", "score": 0.8317, "probs": {}}]
    for columns in ("80", "0"):
        monkeypatch.setenv("COLUMNS", columns)
        for table, wanted in ((report_table(report), ["ECE=0.0111", *[f"pred {label}" for label in labels], " 23 "]), (records_table(records), ["slightly_positive", "0.8317"])):
            console = fitting_console(table)
            with console.capture() as captured:
                console.print(table)
            text = captured.get()
            assert all(piece in text for piece in wanted), text


def test_a_report_title_in_a_pipe_is_one_line(capsys):
    # As the table's title it wrapped at the table's width: "… ECE=0.0195 (T=0.94;" then "0.0227 at T=1)".
    from lstm_sentiment.output import print_report

    labels = ["negative", "positive"]
    per_class = {label: {"precision": 0.85, "recall": 0.85, "f1": 0.85, "support": 868} for label in labels}
    title = "zh-reviews:validation  n=1736  accuracy=0.8508 (95% CI 0.8332-0.8668)  macro-F1=0.8495  ECE=0.0195 (T=0.94; 0.0227 at T=1, biases kept)"
    print_report({"source": "zh-reviews:validation", "n": 1736, "accuracy": 0.8508, "accuracy_ci95": [0.8332, 0.8668], "macro_f1": 0.8495, "ece": 0.0195, "ece_unscaled": 0.0227,
                  "temperature": 0.94, "labels": labels, "per_class": per_class, "confusion_matrix": [[738, 130], [130, 738]]})
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == title and len(lines[1]) < len(title) and "│ positive │" in lines[-2]


def _letter_words(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return ["这个" + "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(7)) + "真好" for _ in range(count)]


def test_threads_sharing_a_model_get_the_scores_of_one_thread():
    # Words met after training are added to one table per model; four threads adding at once gave some
    # words a zero vector (silently other scores, kept for good) or wrote past the table's end (IndexError).
    from concurrent.futures import ThreadPoolExecutor

    from lstm_sentiment import SentimentModel

    texts = _letter_words(2_000, seed=2)
    alone = [r["score"] for r in SentimentModel.load("zh").predict(texts)]
    shared = SentimentModel.load("zh")
    with ThreadPoolExecutor(4) as pool:
        chunks = list(pool.map(shared.predict, [texts[i : i + 20] for i in range(0, len(texts), 20)]))
    assert [r["score"] for chunk in chunks for r in chunk] == pytest.approx(alone, abs=1e-6)
    assert [r["score"] for r in shared.predict(texts)] == pytest.approx(alone, abs=1e-6)


def test_a_text_scores_the_same_after_the_added_words_were_cleared(monkeypatch):
    # Past the cap every new word was read as <unk>: 剧情很qwpzk went from positive 0.80 to negative 0.52
    # after 100,000 other new words, depending on what the model had read before.
    from lstm_sentiment import SentimentModel
    from lstm_sentiment.inference import model as model_module

    monkeypatch.setattr(model_module, "MAX_ADDED_WORDS", 50)
    probe = ["剧情很qwpzk", "the acting was superbish"]
    fresh = [r["score"] for r in SentimentModel.load("zh").predict(probe)]
    model = SentimentModel.load("zh")
    for seed in range(4):
        model.predict(_letter_words(60, seed))  # each call starts past the cap: the table is cleared first
    assert model.network.added <= 60 + 2
    assert [r["score"] for r in model.predict(probe)] == pytest.approx(fresh, abs=1e-6)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: ModelConfig(freeze_embeddings="false"), r"ModelConfig\.freeze_embeddings must be True or False, got 'false'"),
        (lambda: TrainConfig(epochs=1.5), r"TrainConfig\.epochs must be an integer, got 1\.5"),
        (lambda: TrainConfig(devices=2), r"TrainConfig\.devices must be a string, got 2"),
        (lambda: ModelConfig(dropout="0.5"), r"ModelConfig\.dropout must be a number, got '0\.5'"),
        (lambda: TrainConfig(lm_epochs=True), r"TrainConfig\.lm_epochs must be an integer, got True"),
        (lambda: ModelConfig(subword_buckets=-5), r"subword_buckets must be >= 0"),
        (lambda: ModelConfig(subword_min_n=5, subword_max_n=2), r"subword_min_n must be <= subword_max_n, got 5 > 2"),
    ],
)
def test_settings_of_the_wrong_type_are_refused_by_name(make, message):
    # "false" froze the vectors (a true string); 1.5 epochs ended on a bare AssertionError inside Lightning.
    with pytest.raises(ValueError, match=message):
        make()


def test_python_train_checks_its_arguments_first_and_folds_labels(tmp_path, capfd):
    # A str out_dir and int labels failed after training (AttributeError, TypeError): the run was lost.
    from lstm_sentiment.training.train import train

    texts = ["好极了", "太差", "很好", "很差", "不错", "垃圾", "喜欢", "讨厌"] * 3
    settings = (ModelConfig(hidden_size=8), DataConfig(), TrainConfig(epochs=1))
    valid = LabelledTexts(texts[:6], [True, False] * 3, "V")
    for bad, message in (
        (LabelledTexts(["好", None, *texts], [1, 0, *[1, 0] * 12], "T"), r"T: text 2 is NoneType, not a string"),
        (LabelledTexts(texts, [1, None, *[1, 0] * 11], "T"), r"T: text 2 has no label \(None\)"),
    ):
        with pytest.raises(SentimentError, match=message):
            train(bad, valid, None, str(tmp_path / "never"), *settings)
    with pytest.raises(SentimentError, match=r"V0: no validation texts"):
        train(LabelledTexts(texts, [1, 0] * 12, "T"), LabelledTexts([], [], "V0"), None, str(tmp_path / "never"), *settings)
    # An empty test split trained, then wrote macro-F1 NaN into metrics.json.
    with pytest.raises(SentimentError, match=r"E0: no test texts"):
        train(LabelledTexts(texts, [1, 0] * 12, "T"), valid, LabelledTexts([], [], "E0"), str(tmp_path / "never"), *settings)
    with pytest.raises(SentimentError, match=r"E1: no test texts"):
        train(LabelledTexts(texts, [1, 0] * 12, "T"), valid, None, str(tmp_path / "never"), *settings, domain_tests={"e": LabelledTexts([], [], "E1")})
    # A missing vectors file was named after every text had been read and tokenized (minutes on a large file).
    import lstm_sentiment.training.train as train_module

    def tokenized(*args, **kwargs):
        raise AssertionError("the texts were tokenized before the vectors file was checked")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(train_module, "Tokenizer", tokenized)
        with pytest.raises(SentimentError, match=r"nope\.vec: embeddings file not found"):
            train(LabelledTexts(texts, [1, 0] * 12, "T"), valid, None, str(tmp_path / "never"), *settings, embeddings=tmp_path / "nope.vec")
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(SentimentError, match=r"holds todo\.txt"):
        train(LabelledTexts(texts, [1, 0] * 12, "T"), valid, None, tmp_path / "notes", *settings)
    assert not (tmp_path / "never").exists()
    capfd.readouterr()
    metrics = train(LabelledTexts(texts, [1, 0] * 12, "T"), valid, None, str(tmp_path / "model"), *settings)
    assert metrics["validation"]["labels"] == ["negative", "positive"] and (tmp_path / "model" / "config.json").is_file()
    # From Python, Lightning's cloud-logging tip, its idle-device lines and its LeafSpec deprecation showed.
    said = capfd.readouterr().err
    assert not any(noise in said for noise in ("💡", "TPU available", "LeafSpec")), said
    # One row per epoch: Lightning's log had the epoch's validation figures and its train_loss on two rows.
    log = (tmp_path / "model" / "training_log.csv").read_text(encoding="utf-8").splitlines()
    assert len(log) == 2 and log[0] == "epoch,step,train_loss,val_acc,val_loss,val_macro_f1" and "" not in log[1].split(","), log
    from lstm_sentiment import SentimentModel

    model = SentimentModel.load(tmp_path / "model")
    for data, message in ((LabelledTexts(["好", None], [1, 0], "E"), r"E: text 2 is NoneType"), (LabelledTexts(["好", "差"], [1, None], "E"), r"E: text 2 has no label")):
        with pytest.raises(SentimentError, match=message):
            model.evaluate(data)


def test_a_text_of_markup_only_is_refused_in_a_file_and_left_out_in_python(tmp_path):
    # "&nbsp;" or "<br /><br />" alone trained as nothing without a word, where predict says "empty text".
    from lstm_sentiment.training.train import train

    rows = "\n".join(f"{t},{y}" for t, y in [("好极了", 1), ("太差", 0), ("很好", 1), ("很差", 0), ("&nbsp;", 1), ("不错", 1), ("垃圾", 0)])
    (tmp_path / "d.csv").write_text(f"text,label\n{rows}\n", encoding="utf-8")
    with pytest.raises(SentimentError, match=r"d\.csv: line 6 has no words in 'text' once normalised \(markup, links, mentions or control characters only: '&nbsp;'\)"):
        read_labelled(tmp_path / "d.csv")
    texts = ["好极了", "太差", "很好", "很差", "不错", "垃圾", "喜欢", "讨厌"] * 2
    data = LabelledTexts([*texts, "<br /><br />"], [*[1, 0] * 8, 1], "T")
    with pytest.warns(UserWarning, match=r"T: 1 text\(s\) hold no word once normalised .*text 17, '<br /><br />'\): left out"):
        train(data, LabelledTexts(texts[:6], [1, 0] * 3, "V"), None, tmp_path / "m", ModelConfig(hidden_size=8), DataConfig(), TrainConfig(epochs=1))
    config = json.loads((tmp_path / "m" / "config.json").read_text(encoding="utf-8"))
    assert config["training_data"]["counts"]["train"] == {"negative": 8, "positive": 8}


def test_domain_test_splits_are_read_as_the_test_split(tmp_path):
    # A domain split's 0/1 labels failed as unknown after the whole training run, and its markup-only
    # text was scored as <unk>, where the test split's is left out.
    from lstm_sentiment.training.train import train

    texts = ["好极了", "太差", "很好", "很差", "不错", "垃圾", "喜欢", "讨厌"] * 2
    test = LabelledTexts(["好极了", "太差", "<br />"], ["positive", "negative", "positive"], "X")
    domain = LabelledTexts(["好极了", "太差", "<br />"], [1, 0, 1], "D")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        metrics = train(LabelledTexts(texts, [1, 0] * 8, "T"), LabelledTexts(texts[:6], [1, 0] * 3, "V"), test, tmp_path / "m",
                        ModelConfig(hidden_size=8), DataConfig(), TrainConfig(epochs=1), domain_tests={"d": domain})
    assert metrics["test"]["n"] == metrics["domains"]["d"]["n"] == 2
    assert metrics["domains"]["d"]["confusion_matrix"] == metrics["test"]["confusion_matrix"]
    with pytest.raises(SentimentError, match=r"D: labels \['5'\] are not among the training data's classes"):
        train(LabelledTexts(texts, [1, 0] * 8, "T"), LabelledTexts(texts[:6], [1, 0] * 3, "V"), None, tmp_path / "n",
              ModelConfig(hidden_size=8), DataConfig(), TrainConfig(epochs=1), domain_tests={"d": LabelledTexts(["好"], [5], "D")})
    assert not (tmp_path / "n").exists()


def test_training_that_diverges_says_so(tmp_path):
    # --lr 1e10 ended on "temperature must be a finite number > 0, got nan".
    from lstm_sentiment.training.train import train

    corpus = load_dataset("zh-reviews:train")
    rows = random.Random(0).sample(range(len(corpus)), 400)  # the corpus lists its classes one after the other
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(SentimentError, match=r"^training diverged: the best epoch's weights or scores are NaN or infinite; lower the learning rate \(--lr, TrainConfig.lr; it was 1e\+10\) or the weight decay \(--weight-decay, TrainConfig.weight_decay\)$"):
            train(corpus.subset(rows[:320]), corpus.subset(rows[320:]), None, tmp_path / "m", ModelConfig(), DataConfig(), TrainConfig(epochs=1, lr=1e10))
    assert not (tmp_path / "m").exists()


def test_train_names_the_split_of_its_truncated_texts(tmp_path):
    # "3 text(s) longer than 256 tokens were truncated" came once per split without saying which.
    from lstm_sentiment.training.train import train

    texts = ["好极了", "太差", "很好", "很差", "不错", "垃圾", "喜欢", "讨厌"] * 2
    long = "很好，" * 200
    splits = (LabelledTexts([*texts, long], [*[1, 0] * 8, 1], "T"), LabelledTexts([*texts[:6], long, long], [1, 0] * 4, "V"), LabelledTexts([long, "太差"], [1, 0], "X"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        train(*splits, tmp_path / "m", ModelConfig(hidden_size=8), DataConfig(max_tokens=64), TrainConfig(epochs=1))
    said = [str(w.message) for w in caught if "were truncated" in str(w.message)]
    assert said == [f"{name}: {n} text(s) longer than 64 tokens or 1,024 characters were truncated (head and tail kept)" for name, n in (("T", 1), ("V", 2), ("X", 1))]


@pytest.mark.parametrize(
    "text, lang",
    [
        ("Crouching Tiger (卧虎藏龙) is a breathtaking, beautiful masterpiece. I loved every minute.", "en"),
        ("这个电影 is terrible", "zh"),
        ("剧情太boring了", "zh"),
        ("这个app的UI design很nice, but bug太多", "zh"),
        ("good film", "en"),
    ],
)
def test_a_text_goes_to_the_model_of_most_of_its_words(text, lang):
    # An English review quoting a Chinese title went to zh on its Han characters: positive 0.52, not 0.9997.
    from lstm_sentiment.inference.routing import route

    assert route(text).lang == lang


def test_chinese_words_in_an_english_text_are_flagged():
    from lstm_sentiment import SentimentModel

    (record,) = SentimentModel.load("en").predict(["Crouching Tiger (卧虎藏龙) is a breathtaking, beautiful masterpiece."])
    assert record["label"] == "positive" and record["warning"] == "Chinese words read as <unk>"


# --- explain and longrange (a code review, stop 36) ----------------------------------------------------------


def test_explain_pictures_draw_dollar_signs_as_written(tiny_bundle):
    from lstm_sentiment.explain import explain
    from lstm_sentiment.explain.plots import figure, font_context, render_png

    # matplotlib read $…$ as mathtext: the money-eyes $_$ failed the picture, "$5 and $10" lost its dollars.
    expl = explain(SentimentModel.load(tiny_bundle), "我 喜欢 $_$ 电影 $5 and $10")
    assert render_png(expl, 0, max_units=4).startswith(b"\x89PNG")
    from matplotlib.text import Text

    with font_context():
        fig = figure(expl, 0, max_units=4)
        fig.canvas.draw()  # parses every text, as savefig does
        ticks = [label for ax in fig.axes for label in ax.get_xticklabels() if label.get_text()]
        titles = [t for ax in fig.axes if ax.images for t in ax.findobj(Text) if t.get_text().startswith("forward:")]
    assert fig.get_suptitle().startswith("我 喜欢 $_$ 电影 $5 and $10  →")
    assert any("$" in label.get_text() for label in ticks) and not any(label.get_parse_math() for label in ticks)
    # The panels' own titles keep their subscripts (they read "$f_t$" with mathtext off for every text).
    assert titles[0].get_text() == "forward: forget gate $f_t$, 4 of 5 units (most variable)" and len(titles) == 6 and all(t.get_parse_math() for t in titles)


def test_a_long_text_is_cut_with_an_ellipsis_in_titles(tiny_bundle, tmp_path):
    from lstm_sentiment.explain import explain
    from lstm_sentiment.explain.html import write_html

    # The page's title was cut mid-word without a mark: "The acting was great but the plot was te – …".
    text = "我 喜欢 这个 电影 " * 8
    expl = explain(SentimentModel.load(tiny_bundle), text)
    assert expl.headline(40) == text[:39] + "…" and len(expl.headline(40)) == 40 and expl.headline(200) == text
    write_html(tmp_path / "p.html", expl, png=b"")
    assert f"<title>{text[:39]}… – " in (tmp_path / "p.html").read_text(encoding="utf-8")


def test_a_trace_names_a_layer_of_the_wrong_type(tiny_bundle):
    from lstm_sentiment.explain import explain

    expl = explain(SentimentModel.load(tiny_bundle), "我 喜欢")
    for layer in ("0", 0.0, True):
        with pytest.raises(TypeError, match=r"^layer must be an int, got "):
            expl.trace(layer)
    assert expl.trace(0).direction == "forward"


def test_an_error_message_opening_with_a_line_break_shows_its_first_words(capsys):
    import typer

    from lstm_sentiment.cli import command

    def fails():
        raise ValueError("\n_\n^\nExpected end of text")

    with pytest.raises(typer.Exit):
        command(fails)()
    assert capsys.readouterr().err == "error: _\n"  # it printed "error: " alone


def test_explain_markdown_takes_top_units(tiny_bundle):
    result = run_cli("explain", "--model", str(tiny_bundle), "我 喜欢 电影", "-f", "markdown", "--top-units", "2")
    assert result.returncode == 0, result.stderr
    rows = result.stdout.split("Most active units")[1].splitlines()[4:7]
    assert len(rows) == 3 and all(cell.count("u") == 2 for row in rows for cell in row.split("|")[3:7]), rows


def test_explain_json_keeps_the_text_as_given(tiny_bundle):
    from lstm_sentiment.explain import explain

    # The regex that puts number arrays on one line rewrote "[4,5] [ 1 ]" inside the text as "[4, 5] [1]".
    text = '我 喜欢 [4,5] [ 1 ] "[2]" \\[3]'
    expl = explain(SentimentModel.load(tiny_bundle), text)
    data = json.loads(expl.to_json())
    assert data["text"] == text and data["tokens"] == list(expl.tokens)
    assert not re.search(r"\[\s*\n\s*-?[0-9]", expl.to_json())  # and every array of numbers still on one line


def test_explain_markdown_escapes_class_names(tmp_path):
    from markdown_it import MarkdownIt

    from lstm_sentiment.explain import explain
    from lstm_sentiment.explain.tables import to_markdown

    torch.manual_seed(0)
    cfg, vocab, out = ModelConfig(embedding_dim=6, hidden_size=5), Vocab(WORDS), tmp_path / "odd"
    save_bundle(out, SentimentLSTM(len(vocab), 2, cfg).eval(), vocab, ["<b>bad|meh", "good"], (cfg, DataConfig(), TrainConfig()), {}, {}, "odd\n")
    expl = explain(SentimentModel.load(out), "我 喜欢 电影")
    page = MarkdownIt("commonmark").enable("table").render(to_markdown(expl))
    assert "<b>" not in page and "&lt;b&gt;bad|meh" in page
    assert all(row.count("<td") == 11 for row in page.split("<tr>")[2:2 + len(expl)])  # no cell split by '|'


def test_evaluate_without_a_model_scores_each_text_by_its_scripts_model(tmp_path):
    # A mixed file was scored by the zh model alone (60 zh + 60 en texts: 0.71, where predict's labels,
    # each text by its script's model, were 0.86 right), with a warning that its figures said little.
    from lstm_sentiment.inference.routing import evaluate_by_script, predict_texts

    rows = [("这部电影太好看了，强烈推荐", "positive"), ("质量很差，非常失望", "negative"), ("物流很快，包装完好", "positive"),
            ("a gripping , beautifully acted film", "positive"), ("a dull , lifeless mess", "negative"), ("I loved every minute of it", "positive")]
    data = LabelledTexts([t for t, _ in rows], [y for _, y in rows], "mixed")
    report = evaluate_by_script(data)
    labels = [r["label"] for r in predict_texts(data.texts)]
    assert report["n"] == 6 and report["accuracy"] == sum(p == y for p, (_, y) in zip(labels, rows)) / 6
    assert {name: part["n"] for name, part in report["by_model"].items()} == {"zh": 3, "en": 3}
    zh, en = SentimentModel.load("zh"), SentimentModel.load("en")
    assert report["temperature"] == {"zh": zh.temperature, "en": en.temperature}
    assert report["by_model"]["zh"]["accuracy"] == zh.evaluate(data.subset([0, 1, 2]))["accuracy"]
    # One script: that model's own report, as before, naming it.
    assert evaluate_by_script(data.subset([3, 4, 5])) == {**en.evaluate(data.subset([3, 4, 5])), "model": "en"}
    assert report["model"] == "zh+en"
    path = tmp_path / "mixed.csv"
    path.write_text("text,label\n" + "".join(f'"{t}",{y}\n' for t, y in rows), encoding="utf-8")
    result = run_cli("evaluate", "--data", str(path))
    assert result.returncode == 0 and result.stderr == "", result.stderr
    temperatures = re.escape(f"T=zh {zh.temperature:.2f}, en {en.temperature:.2f}")
    assert re.search(rf"n=6 +accuracy=[0-9.]+ \(95% CI [0-9.]+-[0-9.]+\) +macro-F1=[0-9.]+ +ECE=[0-9.]+ \({temperatures}; [0-9.]+ at T=1, biases kept\)", result.stdout), result.stdout
    assert re.search(r"^by the zh model: n=3 .*\nby the en model: n=3 ", result.stdout, re.M)
    # Labels and rows are checked over the whole data: -1/1 on the zh texts and 0/1 on the en ones were
    # folded per script into two classes (the neutral 0s counted negative), and a row numbered within its script.
    three = LabelledTexts(data.texts, ["1", "-1", "1", "1", "0", "1"], "three")
    # Why -1 and 1 are unknown beside "also spelled -1/1": the three-way convention (the message said nothing).
    with pytest.raises(SentimentError, match=r"three: labels \['-1', '0', '1'\] unknown to the model .*; beside -1, 0 is neutral: -1/0/1 reads as negative/neutral/positive\)$"):
        evaluate_by_script(three)
    markup = LabelledTexts([*data.texts[:4], "<br />", data.texts[5]], data.labels, "markup")
    with pytest.raises(SentimentError, match=r"^markup: text 5 \('<br />'\) has nothing to read"):
        evaluate_by_script(markup)


def test_the_openapi_schema_declares_what_the_server_answers(tiny_bundle):
    # /v1/model and /healthz were untyped in the schema, and ExplainResponse left 7 of its keys undeclared.
    from starlette.testclient import TestClient

    from lstm_sentiment.serve.app import ExplainResponse, Health, ModelInfo, create_app

    with TestClient(create_app(str(tiny_bundle), warm_up=False)) as http:
        schema = http.get("/openapi.json").json()
        answers = {path: http.get(path).json() for path in ("/v1/model", "/healthz")}
        explained = http.post("/v1/explain", json={"text": "😀 🎬"}).json()  # "no known words": every key
    for path, name in (("/v1/model", "ModelInfo"), ("/healthz", "Health")):
        assert schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(f"/{name}")
    ModelInfo.model_validate(answers["/v1/model"], strict=True)
    Health.model_validate(answers["/healthz"], strict=True)
    assert "warning" in explained and set(explained) == set(ExplainResponse.model_fields)
    ExplainResponse.model_validate(explained, strict=True)


def test_serve_with_workers_hands_the_same_model_as_one_worker_serves(tiny_bundle, tmp_path, monkeypatch):
    # With --workers N, "zh" became ./zh where such a folder was (one worker serves the shipped model),
    # and Path("zh") the shipped model.
    import shutil
    import socket

    from lstm_sentiment.serve import run

    handed = []
    monkeypatch.setattr(run, "_run_workers", lambda *args, **kwargs: handed.append(os.environ[run.MODEL_ENV]))
    monkeypatch.setattr(torch, "set_num_threads", lambda n: None)  # _worker_setup: keep the test process's threads
    monkeypatch.setenv(run.MODEL_ENV, "")
    shutil.copytree(tiny_bundle, tmp_path / "zh")
    monkeypatch.chdir(tmp_path)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    run.serve("zh", port=port, workers=2)
    run.serve(Path("zh"), port=port, workers=2)
    run.serve("./zh", port=port, workers=2)
    assert handed == ["zh", str(tmp_path / "zh"), str(tmp_path / "zh")]


def test_a_closed_pool_leaves_no_model_and_no_frozen_objects_behind(tiny_bundle):
    # From Python, each pool kept the models it loaded in the parent for good, and froze the collector.
    import gc

    from lstm_sentiment.inference import pool
    from lstm_sentiment.inference.stream import iter_predictions

    before = dict(pool._models)
    records = list(iter_predictions(["我 喜欢", "电影"] * 3, model=str(tiny_bundle), workers=1))
    assert len(records) == 6 and all(r["label"] for r in records)
    assert pool._models == before and gc.get_freeze_count() == 0


def test_balanced_class_weights_weigh_each_class_the_same_in_total():
    # A 95/5 file trained a model that labels every text positive (accuracy 0.95, macro-F1 0.49); the
    # warning said to add texts of the rare class, and there was no other way.
    import torch.nn.functional as F

    from lstm_sentiment.training.task import SentimentTask, class_weights

    labels = [1] * 95 + [0] * 5
    weights = class_weights(labels, 2, "balanced")
    assert weights.tolist() == pytest.approx([100 / (2 * 5), 100 / (2 * 95)])
    assert (weights * torch.bincount(torch.tensor(labels))).tolist() == pytest.approx([50.0, 50.0])
    assert class_weights(labels, 2, "none") is None
    torch.manual_seed(0)
    vocab = Vocab(WORDS)
    model = SentimentLSTM(len(vocab), 2, ModelConfig(embedding_dim=6, hidden_size=5)).eval()  # no dropout: one loss
    task = SentimentTask(model, 2, TrainConfig(class_weight="balanced"), weights)
    task.log = lambda *args, **kwargs: None  # no Trainer here
    ids, lengths, y = torch.tensor([[2, 3, 4], [5, 6, 0]]), torch.tensor([3, 2]), torch.tensor([0, 1])
    logits = model(ids, lengths)
    expected = (weights[0] * F.cross_entropy(logits[:1], y[:1]) + weights[1] * F.cross_entropy(logits[1:], y[1:])) / weights.sum()
    assert float(task.training_step((ids, lengths, y), 0)) == pytest.approx(float(expected), rel=1e-5)
    with pytest.raises(ValueError, match=r"TrainConfig\.class_weight must be one of none, balanced, got 'auto'"):
        TrainConfig(class_weight="auto")
    assert TrainConfig.from_dict({"epochs": 3}).class_weight == "none"  # a bundle trained before the option


def test_a_vectors_file_that_misstates_itself_is_refused_by_name(tmp_path):
    # A header counting fewer words than the file holds dropped the rest unsaid (coverage 13 % for 19 %);
    # a byte-order mark broke the header ("line 2 has 20 values, not 1"); a headerless tab-separated file
    # gave numpy warnings and "ModelConfig.embedding_dim must be > 0".
    from lstm_sentiment.embeddings import load_vectors

    rows = "good 0.5 0.1\nbad -0.4 0.2\nfilm 0.1 0.6\n"
    cases = {
        "few.txt": ("2 2\n" + rows).encode(),
        "bom.txt": b"\xef\xbb\xbf" + ("3 2\n" + rows).encode(),
        "tabs.txt": rows.replace(" ", "\t").encode(),
    }
    expected = {
        "few.txt": r"the header counts 2 words, the file holds 3 lines of vectors; correct the header",
        "bom.txt": r"starts with a byte-order mark; save it as UTF-8 without one",
        "tabs.txt": r"line 1 separates its values by tabs; the format separates them by spaces",
    }
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(SentimentError, match=expected[name]):
            load_vectors(tmp_path / name)
    (tmp_path / "ok.txt").write_text("3 2\n" + rows + "\n", encoding="utf-8")  # a blank last line is no vector
    assert load_vectors(tmp_path / "ok.txt").index_to_key == ["good", "bad", "film"]


def test_fine_tuning_into_its_own_base_is_refused(tiny_bundle, tmp_path):
    # The base was replaced even by a worse model, under a warning that said to keep the base.
    from lstm_sentiment.training.train import train

    texts = ["好极了", "太差", "很好", "很差", "不错", "垃圾", "喜欢", "讨厌"] * 2
    before = {p.name: p.read_bytes() for p in tiny_bundle.iterdir()}
    for out in (tiny_bundle, tmp_path / "." / tiny_bundle.name):
        with pytest.raises(SentimentError, match=r"--out .* is the --init-from bundle: write the fine-tuned model elsewhere"):
            train(LabelledTexts(texts, [1, 0] * 8, "T"), LabelledTexts(texts[:6], [1, 0] * 3, "V"), None, out,
                  ModelConfig(), DataConfig(), TrainConfig(epochs=1), init_from=str(tiny_bundle))
    assert {p.name: p.read_bytes() for p in tiny_bundle.iterdir()} == before
    # The command warned first that this run would replace --out, then refused to.
    data = tmp_path / "d.csv"
    two_class_csv(data, "很好看", "太难看", 10)
    refused = run_cli("train", "--data", str(data), "--init-from", str(tiny_bundle), "--out", str(tiny_bundle))
    assert_one_line_error(refused, 1, "is the --init-from bundle")
    assert "replaces it" not in refused.stderr, refused.stderr
    # So it did before data refused: a file that cannot be read, validation labels unseen in training, one
    # validation class. The warning comes once the inputs are checked.
    stars, one_class = tmp_path / "stars.csv", tmp_path / "one.csv"
    two_class_csv(stars, "好看", "难看", 5, labels=("2", "1"))
    one_class.write_text("text,label\n好看\t,1\n很好看,1\n", encoding="utf-8")
    for extra, said in ((("--data", str(tmp_path / "missing.csv")), "missing.csv"),
                        (("--data", str(data), "--valid", str(stars)), "are not among the training data's classes"),
                        (("--data", str(data), "--valid", str(one_class)), "validation holds one class")):
        refused = run_cli("train", *extra, "--out", str(tiny_bundle))
        assert_one_line_error(refused, 1, said)
        assert "replaces it" not in refused.stderr, refused.stderr
    assert {p.name: p.read_bytes() for p in tiny_bundle.iterdir()} == before


def test_train_is_told_of_wrong_splits_and_a_one_class_test(tmp_path):
    from lstm_sentiment.training.train import train

    texts = ["好极了", "太差", "很好", "很差", "不错", "垃圾", "喜欢", "讨厌"] * 2
    valid = LabelledTexts(texts[:6], [1, 0] * 3, "V")
    settings = (ModelConfig(hidden_size=8), DataConfig(), TrainConfig(epochs=1))
    # A list of pairs failed on "'list' object has no attribute 'texts'".
    with pytest.raises(TypeError, match=r"train takes LabelledTexts\(texts, labels, source\) .*, not list"):
        train([("好", "positive")], valid, None, tmp_path / "a", *settings)
    with pytest.raises(TypeError, match=r"^out_dir must be a folder path \(str or Path\), not int$"):  # pathlib's words
        train(LabelledTexts(texts, [1, 0] * 8, "T"), valid, None, 5, *settings)
    # A dict of settings failed in dataclasses.replace; an ``extra`` string after the whole training run.
    data = LabelledTexts(texts, [1, 0] * 8, "T")
    for wrong, said in (({"model_cfg": {"hidden_size": 8}}, "model_cfg must be a ModelConfig, not dict"),
                        ({"data_cfg": "zh"}, "data_cfg must be a DataConfig, not str"),
                        ({"train_cfg": None}, "train_cfg must be a TrainConfig, not NoneType"),
                        ({"domain_tests": [valid]}, "domain_tests must be a dict or None, not list"),
                        ({"extra": "x"}, "extra must be a dict or None, not str")):
        chosen = dict(zip(("model_cfg", "data_cfg", "train_cfg"), settings)) | wrong
        with pytest.raises(TypeError, match=f"^{said}$"):
            train(data, valid, None, tmp_path / "c", **chosen)
    assert not (tmp_path / "c").exists()
    # One string was one text per character.
    with pytest.raises(TypeError, match=r"x: texts must be a sequence, not one str: \['好差'\]"):
        LabelledTexts("好差", ["positive", "negative"], "x")
    # None, or a generator, said "object of type 'NoneType' has no len()" (or 'generator').
    with pytest.raises(TypeError, match=r"^x: texts must be a sequence \(a list\), not NoneType$"):
        LabelledTexts(None, None, "x")
    with pytest.raises(TypeError, match=r"^x: labels must be a sequence \(a list\), not generator$"):
        LabelledTexts(["好"], (label for label in ["positive"]), "x")
    # A one-class test split reported accuracy 1.0 without a word.
    with pytest.warns(UserWarning, match=r"^X: the test split holds one class \(positive\); its macro-F1"):
        train(LabelledTexts(texts, [1, 0] * 8, "T"), valid, LabelledTexts(["好极了", "很好"], [1, 1], "X"), tmp_path / "b", *settings)


def test_a_png_is_not_written_to_a_terminal(tiny_bundle, tmp_path):
    # `explain 好 --png -` on a terminal wrote the PNG's bytes, control codes among them, into the session.
    import pty
    import threading

    controller, terminal = pty.openpty()
    shown = bytearray()

    def drain():  # a terminal nobody reads fills up: the writer would block, not fail
        while True:
            try:
                chunk = os.read(controller, 1 << 16)
            except OSError:  # EIO once the last writer has closed the terminal
                return
            if not chunk:
                return
            shown.extend(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        for png in ("-", "/dev/stdout"):
            result = subprocess.run([sys.executable, "-m", "lstm_sentiment", "explain", "好", "--model", str(tiny_bundle), "--png", png],
                                    stdout=terminal, stderr=subprocess.PIPE, text=True, timeout=120)
            assert result.returncode == 2 and result.stderr == "error: --png writes the PNG's bytes to stdout, which is a terminal; redirect it (> explain.png) or name a file\n", result.stderr
    finally:
        os.close(terminal)
        reader.join(timeout=10)
        os.close(controller)
    assert b"PNG" not in shown
    # Redirected, the same command writes the picture.
    piped = subprocess.run([sys.executable, "-m", "lstm_sentiment", "explain", "好", "--model", str(tiny_bundle), "--png", "-"], capture_output=True, timeout=300)
    assert piped.returncode == 0 and piped.stdout.startswith(b"\x89PNG\r\n\x1a\n"), piped.stderr


def test_labels_named_unknown_are_told_why_only_where_a_spelling_was_kept():
    from lstm_sentiment.data.dataset import canonical_labels, unfolded_labels_note

    binary, three, stars = ("negative", "positive"), ("negative", "neutral", "positive"), tuple("12345")
    cases = {
        (binary, ("-1", "0", "1")): "; beside -1, 0 is neutral: -1/0/1 reads as negative/neutral/positive",
        (binary, ("0", "1", "2")): "; 0/1 are read as negative/positive only with no other label beside them (here 2)",
        (binary, ("pos", "2")): "; pos is read as negative/positive only with no other label beside them (here 2)",
        (three, ("-1", "0", "1", "2")): "; -1/0/1 are read as negative/neutral/positive only with no other label beside them (here 2)",
        # No spelling of negative/positive among the unknown labels, or a model without those classes: no note.
        (binary, ("5",)): "",
        (binary, ("3", "5")): "",
        (binary, ("pos", "bad")): "",
        (("-1", "0", "1"), ("-1", "0", "1", "2")): "",
        (stars, ("pos", "2")): "",
    }
    for (known, labels), note in cases.items():
        assert unfolded_labels_note(canonical_labels(list(labels), known), known) == note, (known, labels)


def test_a_lone_surrogate_in_a_training_text_is_refused_before_any_work(tmp_path):
    # "好\ud800" (from Python, or a JSONL escape) trained to the end, then failed to write the vocabulary
    # with UnicodeEncodeError.
    from lstm_sentiment.training.train import train

    texts = ["好极了", "太差", "很好", "很差", "不错", "垃圾", "喜欢", "讨厌"] * 2
    valid = LabelledTexts(texts[:6], [1, 0] * 3, "V")
    with pytest.raises(SentimentError, match=r"^T: text 1 holds a lone surrogate \(\\ud800\), which no UTF-8 file can hold$"):
        train(LabelledTexts(["好\ud800"] + texts[1:], [1, 0] * 8, "T"), valid, None, tmp_path / "m", ModelConfig(hidden_size=8), DataConfig(), TrainConfig(epochs=1))
    assert not (tmp_path / "m").exists()
    data = tmp_path / "d.jsonl"
    data.write_text('{"text": "很好", "label": 1}\n{"text": "好\\ud800", "label": 1}\n', encoding="utf-8")
    with pytest.raises(SentimentError, match=r"d\.jsonl: line 2 holds a lone surrogate \(\\ud800\) in 'text', not text$"):
        read_labelled(data)


def test_encode_refuses_what_predict_refuses(tiny_bundle):
    # encode("好坏") gave two records, one per character; encode([None]) failed inside the normaliser.
    model = SentimentModel.load(tiny_bundle)
    for wrong, said in (("好坏", "not one string"), (None, "got NoneType"), ([None], r"texts\[0\] is NoneType"), ([b"x"], r"texts\[0\] is bytes")):
        with pytest.raises(TypeError, match=said):
            model.encode(wrong)
    assert [e.tokens for e in model.encode(["好坏"])] == [model.encode(("好坏",))[0].tokens]


def test_probabilities_refuse_ids_outside_the_vocabulary(tiny_bundle):
    # [[10**9]] and [[-5]] failed inside torch ("index out of range in self").
    model = SentimentModel.load(tiny_bundle)
    end = len(model.vocab)
    for wrong in (10**9, -5, end):
        with pytest.raises(ValueError, match=rf"^token id {wrong} is outside the vocabulary and its added words, ids 0 to {end - 1}$"):
            model.probabilities([[UNK_ID], [wrong]])
    assert model.probabilities([[end - 1]]).shape == (1, len(model.id2label))


def test_probabilities_refuse_ids_that_are_not_integers(tiny_bundle):
    # [[1.5]] was cut to id 1 without a word; [["a"]] failed inside torch.
    model = SentimentModel.load(tiny_bundle)
    for wrong, said in ((1.5, "'float' object"), ("a", "'str' object"), (None, "'NoneType' object"), (2**63, "int too big")):
        with pytest.raises(TypeError, match=rf"^token ids must be integers of int64's range \({said}"):
            model.probabilities([[UNK_ID], [wrong]])
    ones = model.probabilities([[1], [np.int64(1)]])
    assert torch.equal(ones[0], ones[1])


def test_data_readers_name_a_wrong_argument_type():
    # None as the path failed inside pathlib or on "'NoneType' object has no attribute 'partition'";
    # text_column=0 on "'int' object has no attribute 'lower'".
    hard = Path(__file__).parent.parent / "bench" / "hard_cases_zh.csv"
    calls = (
        (lambda: load_dataset(None), "spec must be a str or os.PathLike, got NoneType"),
        (lambda: load_dataset(str(hard).encode()), "spec must be a str or os.PathLike, got bytes"),
        (lambda: read_labelled(hard, text_column=0), "text_column must be a column name \\(str\\) or None, got int"),
        (lambda: load_dataset(hard, label_column=b"label"), "label_column must be a column name \\(str\\) or None, got bytes"),
        (lambda: read_texts(None), "path must be a str or os.PathLike, got NoneType"),
        (lambda: iter_texts(hard, text_column=1), "text_column must be a column name \\(str\\) or None, got int"),
    )
    for call, said in calls:
        with pytest.raises(TypeError, match=f"^{said}$"):
            call()
    assert len(load_dataset(str(hard))) == len(read_labelled(hard, "text", "label")) == 44
    assert load_dataset(PurePosixPath(hard)).texts == load_dataset(hard).texts  # a PurePath failed on .partition


def test_warnings_point_at_the_callers_line(tiny_bundle, tmp_path):
    # A fixed stacklevel put them inside the library (evaluate's truncation warning at model.py, a guessed
    # column at sources.py), wherever the call went through one more of its functions.
    model = SentimentModel.load(tiny_bundle)
    both = tmp_path / "both.csv"
    both.write_text("text,review,label\n好,好,1\n坏,坏,0\n", encoding="utf-8")
    calls = (
        lambda: model.predict(["好" * 5000]),
        lambda: model.evaluate(LabelledTexts(["好" * 5000, "坏"], ["positive", "negative"], "long")),
        lambda: load_dataset(both),
    )
    for call in calls:
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            call()
        assert seen and {Path(w.filename).name for w in seen} == {Path(__file__).name}, [(w.filename, str(w.message)) for w in seen]
        assert all(w.category is SentimentWarning for w in seen)  # the category to filter them by
    with warnings.catch_warnings():
        warnings.filterwarnings("error", category=SentimentWarning)
        with pytest.raises(SentimentWarning):
            load_dataset(both)


def test_config_names_the_segmenter_of_the_models_language(tmp_path):
    # Every bundle said "jieba (zh) / Treebank rules (en)", which only lang "auto" does.
    cfg = ModelConfig(embedding_dim=6, hidden_size=5)
    said = {}
    for lang in ("zh", "en", "auto"):
        save_bundle(tmp_path / lang, SentimentLSTM(len(Vocab(WORDS)), 2, cfg), Vocab(WORDS), ["negative", "positive"], (cfg, DataConfig(lang=lang), TrainConfig()), {}, {}, "tiny\n")
        said[lang] = json.loads((tmp_path / lang / "config.json").read_text(encoding="utf-8"))["tokenizer"]["segmenter"]
    assert said == {"zh": "jieba (Latin words inside kept whole)", "en": "Treebank-style rules", "auto": "jieba (zh) / Treebank-style rules (en), by script"}


def test_texts_without_letters_claim_no_language():
    # Training data of emoji alone, fine-tuned from zh, was refused as "the texts are en (by script)".
    from lstm_sentiment.training.train import check_language

    from lstm_sentiment.inference.routing import route_counts

    emoji = LabelledTexts(["😀😀<br />", "👍", "😡 &amp;", "💩 2 http://t.cn/x"], ["positive", "positive", "negative", "negative"], "emoji.csv")
    assert route_counts(emoji.texts) == {}  # markup, entities and links are no letters either, once normalised
    check_language(emoji, "zh", "the model zh", "train a new model")
    check_language(emoji, "en", "the model en", "train a new model")
    mixed = LabelledTexts(emoji.texts + ["good film", "bad film"], emoji.labels + ["positive", "negative"], "mixed.csv")
    with pytest.raises(SentimentError, match=r"^mixed\.csv: the texts are en \(by script\), the model zh reads zh; train a new model$"):
        check_language(mixed, "zh", "the model zh", "train a new model")


def test_predict_gives_a_lone_surrogate_an_error_record(tiny_bundle):
    # predict(["好\ud800"]) scored it (the surrogate read as <unk>), where training and evaluation refuse it.
    model = SentimentModel.load(tiny_bundle)
    bad, good = model.predict(["好\ud800", "好"])
    assert bad == {"text": "好\ud800", "label": None, "score": None, "probs": None, "error": "holds a lone surrogate (\\ud800), not text"}
    assert good["label"] in model.id2label and "error" not in good


def test_python_fine_tuning_warns_of_the_settings_it_replaces(tiny_bundle, tmp_path):
    # ModelConfig(hidden_size=64) beside init_from trained the base's 5 units, and an embedding_lr_scale
    # beside frozen vectors was ignored, from Python without a word (the command refuses such flags).
    from lstm_sentiment.errors import SentimentWarning
    from lstm_sentiment.training.train import train

    texts = [f"我 喜欢 这个 电影 {'好' * (i % 3 + 1)}" for i in range(8)] + [f"我 不 喜欢 这个 电影 {'差' * (i % 3 + 1)}" for i in range(8)]
    data = LabelledTexts(texts, ["positive"] * 8 + ["negative"] * 8, "mine")
    valid = LabelledTexts(["喜欢 好", "不 喜欢 差"], ["positive", "negative"], "v")
    with pytest.warns(SentimentWarning) as said:
        train(data, valid, None, tmp_path / "tuned", ModelConfig(hidden_size=64, dropout=0.1), DataConfig(min_count=1),
              TrainConfig(epochs=1, embedding_lr_scale=0.5), init_from=tiny_bundle)
    messages = [str(w.message) for w in said]
    assert f"fine-tuning keeps the network and tokenizer of {tiny_bundle}: ModelConfig.hidden_size=64, DataConfig.min_count=1 ignored (the base's are used)" in messages
    assert any(m.startswith("TrainConfig.embedding_lr_scale=0.5 is the rate of fine-tuned word vectors") for m in messages), messages
    assert json.loads((tmp_path / "tuned" / "config.json").read_text())["model"]["hidden_size"] == 5
