"""The command line as a user runs it: outputs, formats, and one-line errors for bad input."""

import csv
import io
import http.server
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import assert_one_line_error, run_cli
from lstm_sentiment.data.dataset import LabelledTexts
from lstm_sentiment.errors import SentimentError


def test_predict_jsonl_and_csv_in_input_order(small_bundle, tmp_path):
    model = str(small_bundle[0])
    result = run_cli("predict", "--model", model, "--format", "jsonl", "非常好，推荐", "很差劲")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["text"] for r in records] == ["非常好，推荐", "很差劲"]
    assert all(set(r) >= {"text", "label", "score", "probs"} for r in records)
    out = tmp_path / "out.csv"
    source = tmp_path / "in.jsonl"
    source.write_text('{"review": "好"}\n{"review": "差"}\n', encoding="utf-8")
    result = run_cli("predict", "--model", model, "--input", str(source), "--format", "csv", "--output", str(out))
    assert result.returncode == 0, result.stderr
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "text,label,score,prob_negative,prob_positive,flags" and len(lines) == 3


def test_predict_keeps_the_input_rows_other_columns(small_bundle, tmp_path):
    # A user's ids, and a test file's own labels, came back nowhere: rows matched only by their order.
    model = str(small_bundle[0])
    source = tmp_path / "in.csv"
    source.write_bytes("id,text,label,,input_x\n7,非常好，推荐,pos,,a\n8,太差\xff了,neg,,b\n9,oops,too,many,fields,here\n10,很差劲,neg,,c\n".encode("utf-8").replace(b"\xc3\xbf", b"\xff"))
    out = tmp_path / "out.csv"
    result = run_cli("predict", "--model", model, "-i", str(source), "-o", str(out), "--workers", "2")
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr  # two unreadable rows
    rows = list(csv.DictReader(out.open(encoding="utf-8", newline="")))
    assert list(rows[0])[:5] == ["id", "input_label", "input_input_x", "text", "label"]
    assert [(r["id"], r["input_label"], r["input_input_x"]) for r in rows] == [("7", "pos", "a"), ("8", "neg", "b"), ("", "", ""), ("10", "neg", "c")]
    alone = run_cli("predict", "--model", model, "-f", "jsonl", "非常好，推荐", "很差劲")
    first, last = (json.loads(line)["label"] for line in alone.stdout.splitlines())
    assert [r["label"] for r in rows] == [first, "", "", last]
    assert "not UTF-8" in rows[1]["flags"] and "fields" in rows[2]["flags"]
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_text('{"n": 1, "text": "好", "meta": {"a": [1, 2]}}\n{"text": "差", "note": "\\ud800"}\n{"text": 3, "n": 4}\n', encoding="utf-8")
    result = run_cli("predict", "--model", model, "-i", str(jsonl), "-f", "csv")
    assert result.returncode == 1, result.stderr  # a text that is a number
    rows = list(csv.DictReader(io.StringIO(result.stdout, newline="")))
    assert [(r["n"], r["meta"], r["note"], r["text"]) for r in rows] == [("1", '{"a": [1, 2]}', "", "好"), ("", "", "?", "差"), ("4", "", "", '{"text": 3, "n": 4}')]
    result = run_cli("predict", "--model", model, "-i", str(jsonl), "-f", "jsonl")
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [list(r)[:3] for r in records] == [["n", "meta", "text"], ["note", "text", "label"], ["n", "text", "label"]]
    assert records[0]["meta"] == {"a": [1, 2]} and records[2]["n"] == 4 and "error" in records[2]


def test_a_locale_without_utf8_gets_utf8_data_and_a_named_table_error(small_bundle, tmp_path):
    # LC_ALL=C without Python's UTF-8 mode: a Chinese record was "'ascii' codec can't encode characters in
    # position 10-16", and explain read its UTF-8 argument as "argument 1 is not UTF-8 (byte 0xe6)".
    env = {**os.environ, "LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"}
    base = [sys.executable, "-m", "lstm_sentiment", "predict", "--model", str(small_bundle[0]), "我喜欢这个电影"]
    data = subprocess.run([*base, "-f", "jsonl"], capture_output=True, env=env, timeout=300)
    assert data.returncode == 0, data.stderr
    assert json.loads(data.stdout.decode("utf-8"))["text"] == "我喜欢这个电影"  # JSON is UTF-8 (RFC 8259)
    explained = subprocess.run([sys.executable, "-m", "lstm_sentiment", "explain", "--model", str(small_bundle[0]), "-f", "json", "我喜欢这个电影"], capture_output=True, env=env, timeout=300)
    assert explained.returncode == 0, explained.stderr
    assert json.loads(explained.stdout.decode("utf-8"))["words"] == ["我", "喜欢", "这个", "电影"]
    table = subprocess.run(base, capture_output=True, text=True, encoding="utf-8", env=env, timeout=300)
    assert_one_line_error(table, 1, r"the output's encoding \(ascii\) cannot hold '我喜欢这个电影'; set PYTHONIOENCODING=utf-8$")
    gbk = tmp_path / "gbk.jsonl"
    gbk.write_bytes('{"text": "好"}\n{"text": "差"}\n'.encode("gbk"))
    result = run_cli("predict", "--model", str(small_bundle[0]), "-i", str(gbk))
    # It said "no text column (text/review/sentence/content); columns found: none".
    assert_one_line_error(result, 1, r"gbk\.jsonl: no line holds a JSON object to read; the first: line 1 is not UTF-8 \(byte 0xba\); save the file as UTF-8$")


def test_predict_names_the_command_that_converts_a_gbk_file_without_strict(small_bundle, tmp_path):
    # --strict refused the file with its iconv command; without it each line got "reads as GBK" and no command.
    gbk = tmp_path / "zh.txt"
    gbk.write_bytes("这部电影很好看\n太差了\n".encode("gbk"))
    result = run_cli("predict", "--model", str(small_bundle[0]), "-f", "jsonl", "-i", str(gbk))
    assert result.returncode == 1
    assert [json.loads(line)["error"] for line in result.stdout.splitlines()] == [f"line {n} is not UTF-8 (byte 0x{b:02x}) but reads as GBK (GB18030) Chinese" for n, b in ((1, 0xD5), (2, 0xB2))]
    assert result.stderr.strip().splitlines()[-1] == (
        f"warning: 2 of 2 input(s) could not be classified; the first, input 1: line 1 is not UTF-8 (byte 0xd5) but reads as GBK (GB18030) Chinese;"
        f" save the file as UTF-8: iconv -f GB18030 -t UTF-8 {gbk} > utf8.txt"
    )


def test_predict_stdin_with_blank_line(small_bundle):
    result = run_cli("predict", "--model", str(small_bundle[0]), "-f", "json", "-", stdin="不错\n\n一般\n")
    assert result.returncode == 0
    records = json.loads(result.stdout)
    assert [r.get("error") for r in records] == [None, "empty text", None]
    assert "1 of 3 input(s) could not be classified" in result.stderr


def test_evaluate_json(small_bundle, tmp_path):
    data = tmp_path / "eval.csv"
    data.write_text("text,label\n质量很好，非常满意,1\n太差了，退货,0\n还行吧挺好,1\n", encoding="utf-8")
    result = run_cli("evaluate", "--model", str(small_bundle[0]), "--data", str(data), "--format", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["n"] == 3 and sum(map(sum, report["confusion_matrix"])) == 3


@pytest.mark.parametrize(
    "args,message",
    [
        (("predict", "   "), "1 of 1 input(s) could not be classified; the first, input 1: empty text"),
        (("evaluate", "--data", "missing.csv"), "missing.csv: cannot read"),
    ],
)
def test_bad_input_one_line_errors(small_bundle, args, message):
    args = (*args[:1], "--model", str(small_bundle[0]), *args[1:])
    result = run_cli(*args)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert message in result.stderr


def test_missing_and_corrupt_model(small_bundle, tmp_path):
    assert_one_line_error(run_cli("predict", "--model", str(tmp_path / "none"), "好"), 1, "model directory not found")
    bad = tmp_path / "bad"
    bad.mkdir()
    for name in ("config.json", "vocab.txt"):
        (bad / name).write_bytes((small_bundle[0] / name).read_bytes())
    (bad / "model.safetensors").write_bytes(b"\x00" * 10)
    assert_one_line_error(run_cli("predict", "--model", str(bad), "好"), 1, r"bad/model\.safetensors: damaged, its SHA-256 differs")
    # A bundle from before the checksum: safetensors' own checks name the fault.
    config = json.loads((bad / "config.json").read_text(encoding="utf-8"))
    del config["weights_sha256"]
    (bad / "config.json").write_text(json.dumps(config), encoding="utf-8")
    assert_one_line_error(run_cli("predict", "--model", str(bad), "好"), 1, "corrupt model bundle")
    # Weights of another vocabulary, in a bundle without the vocabulary's checksum either: the message says
    # what does not match.
    del config["vocab_sha256"]
    (bad / "config.json").write_text(json.dumps(config), encoding="utf-8")
    (bad / "model.safetensors").write_bytes((small_bundle[0] / "model.safetensors").read_bytes())
    vocab = (small_bundle[0] / "vocab.txt").read_text(encoding="utf-8").splitlines()
    (bad / "vocab.txt").write_text("\n".join(vocab[:-5]) + "\n", encoding="utf-8")
    assert_one_line_error(run_cli("predict", "--model", str(bad), "好"), 1, "corrupt model bundle .*size mismatch for embedding.weight")


@pytest.mark.slow  # three runs of `train`, each importing Lightning: about 30 s
def test_train_refuses_bad_datasets_and_writes_nothing(tmp_path):
    one_class = tmp_path / "one.csv"
    one_class.write_text("text,label\n好,1\n很好,1\n非常好,1\n", encoding="utf-8")
    out = tmp_path / "model"
    assert_one_line_error(run_cli("train", "--data", str(one_class), "--out", str(out)), 1, "need at least 2 classes")
    assert not out.exists()
    columns = tmp_path / "cols.csv"
    columns.write_text("body,score\n好,1\n", encoding="utf-8")
    assert_one_line_error(run_cli("train", "--data", str(columns), "--out", str(out)), 1, "columns found: body, score")
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes("text,label\n".encode() + "好看,1\n难看,0\n".encode("gbk"))
    assert_one_line_error(run_cli("train", "--data", str(gbk), "--out", str(out)), 1, r"gbk.csv: line 2 is not UTF-8")
    assert not out.exists() and list(tmp_path.glob(".model.*")) == []


@pytest.mark.parametrize(
    "args,message",
    [
        (("predict", "--format", "xml", "好"), "Invalid value for '--format'"),
        (("predict", "--precision", "float16", "好"), "'float16' is not one of 'float32', 'bfloat16'"),
        (("predict", "--workers", "-1", "好"), "Invalid value for '--workers'"),
        (("serve", "--port", "abc"), "Invalid value for '--port': 'abc' is not a valid int."),  # "… valid int range"
        (("nosuchcommand",), "No such command 'nosuchcommand'"),
        # A setting's own check names the option typed, not the field behind it (TrainConfig.epochs).
        (("train", "--data", "zh-reviews", "--out", "never-written", "--epochs", "0"), "--epochs must be > 0, got 0"),
        (("train", "--data", "zh-reviews", "--out", "never-written", "--plateau-factor", "1"), "--plateau-factor must be in [0, 1), got 1.0"),
        # NaN passed every range check and failed after the vectors loaded; numpy named its own seed bound.
        (("train", "--data", "zh-reviews", "--out", "never-written", "--lr", "nan"), "--lr must be a finite number, got nan"),
        (("train", "--data", "zh-reviews", "--out", "never-written", "--weight-decay", "nan"), "--weight-decay must be a finite number >= 0, got nan"),
        (("train", "--data", "zh-reviews", "--out", "never-written", "--forget-bias", "inf"), "--forget-bias must be a finite number, got inf"),
        (("train", "--data", "zh-reviews", "--out", "never-written", "--forget-bias", "1e308"), "--forget-bias must be within float32's range (|x| <= 3.4e38), got 1e+308"),
        (("train", "--data", "zh-reviews", "--out", "never-written", "--seed", "-1"), "--seed must be in [0, 2**32 - 1], got -1"),
        # Options that contradict each other or that nothing reads are usage errors (they exited 1).
        (("predict",), "no text given"),
        (("predict", "--strict", "好"), "--strict is for an --input file or stdin"),
        (("explain", "好", "--top-units", "5"), "--top-units is for -f json, -f markdown and --html; the table shows gate means"),
        (("explain", "好", "--max-units", "3"), "--max-units is for the heatmaps of --png and --html"),
        (("longrange", "--out", "never-written", "--hidden-size", "0"), "--hidden-size must be an int >= 1; got 0"),
        # --init-from keeps its base's network and tokenizer: these options used to be ignored without a word.
        (("train", "--data", "zh-reviews", "--out", "never-written", "--init-from", "zh", "--hidden-size", "64", "--pooling", "max"),
         "--hidden-size, --pooling: a fine-tuned model keeps the network and tokenizer of --init-from zh; drop them"),
        # The flag as typed, not the name of its on/off pair.
        (("train", "--data", "zh-reviews", "--out", "never-written", "--init-from", "zh", "--unidirectional"),
         "--unidirectional: a fine-tuned model keeps the network and tokenizer of --init-from zh; drop it"),
        (("explain", "好", "--layer", "1"), "layer 1 out of range: the model has 1 layer(s), 0 to 0"),
        # "" was taken for "." (the current folder): "--output . is a directory", a bundle searched there.
        (("predict", "好", "-o", ""), "Invalid value for '--output' / '-o': an empty path; give a name"),
        # It offered "a file or folder name", though --png takes a file.
        (("explain", "好", "--png", ""), "Invalid value for '--png': an empty path; give a name"),
        (("train", "--data", "d.csv", "--out", ""), "Invalid value for '--out': an empty path"),
        # A file option kept as text took "" for the current folder: "error: .: is a directory; give a file".
        (("predict", "-i", ""), "Invalid value for '--input' / '-i': an empty path; give a name"),
        (("evaluate", "--data", ""), "Invalid value for '--data': an empty path; give a name"),
        # Path("out/") drops the slash: a missing folder typed as one was written as a file of its name.
        (("predict", "好", "-o", "never-written/"), "Invalid value for '--output' / '-o': never-written/ ends with a slash, which names a folder; give a file name"),
        (("explain", "好", "--html", "never-written/"), "Invalid value for '--html': never-written/ ends with a slash"),
        # The picture was written under any name: a PNG called heat.txt, a page called page.png.
        (("explain", "好", "--png", "heat.txt"), "--png heat.txt: --png writes .png, not .txt; rename it"),
        (("explain", "好", "--html", "page.png"), "--html page.png: --html writes .html or .htm, not .png; rename it"),
        # Options that the others leave unread: each trained or ran without a word.
        (("train", "--data", "zh-reviews", "--out", "never-written", "--chrono-t-max", "5"), "--chrono-t-max sets --init chrono's time scale"),
        (("train", "--data", "zh-reviews", "--out", "never-written", "--init", "chrono", "--forget-bias", "3"), "--forget-bias is the default init's"),
        (("train", "--data", "zh-reviews", "--out", "never-written", "--freeze-embeddings", "--embedding-lr-scale", "0.5"), "--embedding-lr-scale is the rate of fine-tuned word vectors"),
        (("train", "--data", "zh-reviews", "--out", "never-written", "--min-count", "50"), "--min-count is for --embeddings; the shipped vectors give every word a vector"),
        (("train", "--data", "zh-reviews", "--out", "never-written", "--init-from", "zh", "--embeddings", "v.vec"), "give --init-from or --embeddings, not both"),
        (("train", "--data", "zh-reviews", "--out", "never-written", "--valid", "v.csv", "--text-column", "review"),
         "--valid, --text-column: zh-reviews comes with its own columns and train/validation/test splits; drop them"),
        # evaluate read the corpus and ignored the columns named (exit 0).
        (("evaluate", "--data", "zh-reviews:train", "--model", "zh", "--label-column", "stars"), "--label-column: zh-reviews comes with its own columns; drop it"),
        (("explain", "好", "-f", "json", "--direction", "reverse"), "--direction is for the table, markdown and --narrate; -f json holds both directions"),
        (("explain", "好", "-f", "json", "--layer", "0"), "--layer is for the table, markdown, --narrate, --png and --html; -f json holds every layer"),
        (("longrange", "--quick", "--out", "never-written", "--steps", "50", "--eval-every", "100"), "--eval-every 100 is more than the 50 steps of a run"),
        # Sizes and rates no run can take: tracebacks (overflow), a hang (10**21 runs or layers), NaN results.
        (("longrange", "--quick", "--out", "never-written", "--lr", "1e308"), "--lr must be a number > 0 and <= 3.4e+37; got 1e+308"),
        (("longrange", "--quick", "--out", "never-written", "--lr", "inf"), "--lr must be a number > 0 and <= 3.4e+37; got inf"),
        # Within float32's range, Adam's first step (10 × lr) overflowed: a traceback after the runs started.
        (("longrange", "--quick", "--out", "never-written", "--lr", "3e38"), "--lr must be a number > 0 and <= 3.4e+37; got 3e+38"),
        (("train", "--data", "zh-reviews", "--out", "never-written", "--lr", "1e38"), "--lr must be <= 3.4e+37 (Adam's first step is 10 × lr, in float32), got 1e+38"),
        (("longrange", "--quick", "--out", "never-written", "--clip-norm", "1e308"), "--clip-norm must be a number > 0 and <= 3.4e+38; got 1e+308"),
        (("longrange", "--quick", "--out", "never-written", "--seeds", str(10**21)), "--seeds must be an int <= 10,000"),
        (("train", "--data", "zh-reviews", "--out", "never-written", "--hidden-size", str(10**20)), "--hidden-size must be <= 1,099,511,627,776"),
        (("train", "--data", "zh-reviews", "--out", "never-written", "--num-layers", str(10**20)), "--num-layers must be <= 1,000"),
    ],
)
def test_usage_errors_one_line_exit_2(args, message):
    result = run_cli(*args)
    assert_one_line_error(result, 2, re.escape(message))
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_predict_never_loses_what_was_there(small_bundle, tmp_path):
    model = ("--model", str(small_bundle[0]))
    source = tmp_path / "in.txt"
    source.write_text("很好\n太差了\n", encoding="utf-8")
    folder = tmp_path / "results"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "keep.txt").write_text("keep", encoding="utf-8")
    assert_one_line_error(run_cli("predict", *model, "--input", str(source), "-o", str(folder)), 1, "is a directory")
    assert (folder / "sub" / "keep.txt").read_text(encoding="utf-8") == "keep"
    assert_one_line_error(run_cli("predict", *model, "--input", str(source), "-o", str(source)), 1, "is the input file")
    assert source.read_text(encoding="utf-8") == "很好\n太差了\n"
    # An output over a file of a bundle, the one being read or another, used to destroy that model.
    bundle = tmp_path / "m"
    shutil.copytree(small_bundle[0], bundle)
    before = {p.name: p.read_bytes() for p in bundle.iterdir()}
    link = tmp_path / "link.png"
    link.symlink_to(bundle / "vocab.txt")
    for args in (
        ("predict", "--model", str(bundle), "好", "-o", str(bundle / "model.safetensors"), "-f", "jsonl"),
        ("explain", *model, "好", "--png", str(link)),
    ):
        assert_one_line_error(run_cli(*args), 1, f"is a file of the model bundle {re.escape(str(bundle))}; choose another name")
    # A bundle's own names carry suffixes explain does not write: refused by the suffix, before torch loads.
    assert_one_line_error(run_cli("explain", "--model", str(bundle), "好", "--html", str(bundle / "config.json")), 2, r"--html writes \.html or \.htm, not \.json")
    assert_one_line_error(run_cli("predict", "--model", str(bundle), "好", "-o", str(bundle / "model.safetensors")), 2, r"predict writes \.csv, \.tsv, \.json, \.jsonl or \.ndjson \(no suffix: JSON Lines\), not \.safetensors; rename it or give --format")
    assert {p.name: p.read_bytes() for p in bundle.iterdir()} == before
    shutil.rmtree(bundle)
    link.unlink()
    old = tmp_path / "old.jsonl"
    old.write_text("old\n", encoding="utf-8")
    empty, blank = tmp_path / "empty.txt", tmp_path / "blank.txt"
    empty.write_text("", encoding="utf-8")
    blank.write_text("  \n\n", encoding="utf-8")
    for workers in ("0", "2"):
        assert_one_line_error(run_cli("predict", *model, "--input", str(empty), "-o", str(old), "--workers", workers), 1, "no texts in the input; .* left as it was")
        assert_one_line_error(run_cli("predict", *model, "--input", str(blank), "-o", str(old), "--workers", workers), 1, r"none of the 2 input\(s\) could be classified \(empty text\)")
    assert old.read_text(encoding="utf-8") == "old\n" and sorted(p.name for p in tmp_path.iterdir()) == ["blank.txt", "empty.txt", "in.txt", "old.jsonl", "results"]
    assert_one_line_error(run_cli("predict", *model, "--input", str(empty)), 1, "no texts in the input")
    # A file that was not there was "left as it was".
    assert_one_line_error(run_cli("predict", *model, "--input", str(empty), "-o", str(tmp_path / "new.jsonl")), 1, r"no texts in the input; .*new\.jsonl not written$")
    # The folders it made for the output went with it: new/a/ stayed behind, empty.
    assert_one_line_error(run_cli("predict", *model, "--input", str(empty), "-o", str(tmp_path / "new" / "a" / "out.jsonl")), 1, r"out\.jsonl not written$")
    assert not (tmp_path / "new").exists()
    train_csv = tmp_path / "t.csv"
    train_csv.write_text("text,label\n好,1\n坏,0\n", encoding="utf-8")
    assert_one_line_error(run_cli("train", "--data", str(train_csv), "--out", str(folder)), 1, "holds sub, not a model bundle's")
    assert (folder / "sub" / "keep.txt").is_file()
    # A config.json does not make a folder a bundle: a project folder, or a bundle with the user's notes added.
    (folder / "config.json").write_text("{}", encoding="utf-8")
    (folder / "notes.txt").write_text("mine", encoding="utf-8")
    assert_one_line_error(run_cli("train", "--data", str(train_csv), "--out", str(folder)), 1, "holds notes.txt, sub, not a model bundle's")
    assert (folder / "notes.txt").read_text(encoding="utf-8") == "mine" and (folder / "sub" / "keep.txt").is_file()
    # A place that cannot take the bundle is named before training, not after it (a file on the way here).
    assert_one_line_error(run_cli("train", "--data", str(train_csv), "--out", str(source / "m")), 1, r"in\.txt is a file, not a folder; choose another --out")


def test_output_format_from_suffix_long_csv_fields_and_worker_cap(small_bundle, tmp_path):
    model = ("--model", str(small_bundle[0]))
    source = tmp_path / "in.csv"
    long_text = "好" * 200_000  # over the csv module's default field limit of 131,072 characters
    source.write_text(f"text\n很好\n{long_text}\n", encoding="utf-8")
    out = tmp_path / "scores.csv"
    result = run_cli("predict", *model, "--input", str(source), "-o", str(out), "--workers", "64")
    assert result.returncode == 0, result.stderr
    assert "warning: 64 workers on" in result.stderr and "Traceback" not in result.stderr
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("text,label,score") and len(lines) == 3


def test_shipped_model_names_are_not_shadowed_by_folders(tmp_path):
    (tmp_path / "zh").mkdir()
    result = run_cli("predict", "我喜欢这个电影", "-f", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)[0]["label"] == "positive"
    assert_one_line_error(run_cli("predict", "--model", "./zh", "好", cwd=tmp_path), 1, "not a model bundle")


@pytest.mark.parametrize("unbuffered", ["1", ""])
@pytest.mark.parametrize("args", [("predict", "好", "坏"), ("predict", "-f", "jsonl", "好", "坏"), ("explain", "我喜欢这个电影")])
def test_a_reader_that_stops_early_ends_the_command_quietly(args, unbuffered):
    # `… | head -1` on a long output: the pipe closes before the command writes. predict said
    # "error: Broken pipe" (buffered: "Exception ignored … BrokenPipeError", exit 120) while explain ended
    # silently; both end quietly now, exit 1, as rich's console does.
    env = {**os.environ, "PYTHONUNBUFFERED": unbuffered}
    process = subprocess.Popen([sys.executable, "-m", "lstm_sentiment", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    process.stdout.close()  # before the command has imported torch, let alone written
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=120) == 1
    assert stderr == ""


def test_records_to_stdout_come_as_they_are_made():
    # `yes 好 | predict -i - -f jsonl | head -1`: every record was held (830 MB and growing after 37 s) and
    # nothing printed until the input ended, which it never did.
    command = f"yes 好 | {sys.executable} -m lstm_sentiment predict -i - -f jsonl | head -1"
    result = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=120)
    assert json.loads(result.stdout)["label"] == "positive", result.stderr


@pytest.mark.parametrize("workers", ["0", "2"])
def test_stdin_that_pauses_gets_its_records_and_ctrl_c_ends_the_wait(workers):
    # A pipe that feeds a few lines and stays open (`tail -f log | predict -i - -f jsonl`) got no record
    # until 4,000 lines had come; reading it in a thread, a fork beside it hung the workers, and Ctrl-C
    # while it waited aborted the interpreter (its stdin reader was busy in that thread).
    import queue
    import threading

    process = subprocess.Popen([sys.executable, "-m", "lstm_sentiment", "predict", "-i", "-", "-f", "jsonl", "--workers", workers],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
    try:
        process.stdin.write("好看\n难看\n".encode())
        process.stdin.flush()
        assert [json.loads(lines.get(timeout=120))["label"] for _ in range(2)] == ["positive", "negative"]
        process.stdin.write("很好\n".encode())
        process.stdin.flush()
        assert json.loads(lines.get(timeout=60))["text"] == "很好"
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 130
        assert process.stderr.read().decode() == "error: interrupted\n"
    finally:
        process.kill()


def test_ctrl_c_into_an_output_file_says_the_old_one_is_kept(tmp_path):
    # "error: interrupted" alone: whether out.jsonl still held the last run's records was left unsaid.
    old = tmp_path / "out.jsonl"
    old.write_text("old\n", encoding="utf-8")
    process = subprocess.Popen([sys.executable, "-m", "lstm_sentiment", "predict", "-i", "-", "-o", str(old)],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        process.stdin.write("好看\n".encode())
        process.stdin.flush()
        for _ in range(1200):  # the temporary folder beside it: the records are being written
            if len(list(tmp_path.iterdir())) > 1:
                break
            threading.Event().wait(0.1)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 130
        assert process.stderr.read().decode() == f"error: interrupted; {old} left as it was\n"
        assert old.read_text(encoding="utf-8") == "old\n" and [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]
    finally:
        process.kill()


def test_stdin_redirected_from_the_output_file_is_refused(small_bundle, tmp_path):
    # `predict -i - -o FILE < FILE` replaced the input with its records; `-i FILE -o FILE` was refused.
    source = tmp_path / "in.jsonl"
    source.write_text('{"text": "很好"}\n{"text": "太差了"}\n', encoding="utf-8")
    predict = [sys.executable, "-m", "lstm_sentiment", "predict", "--model", str(small_bundle[0]), "-i", "-", "-o"]
    with source.open("rb") as stdin:
        result = subprocess.run([*predict, str(source)], stdin=stdin, capture_output=True, text=True, timeout=120)
    assert_one_line_error(result, 1, "is the input file")
    assert source.read_text(encoding="utf-8") == '{"text": "很好"}\n{"text": "太差了"}\n'
    # A device is written into, never replaced: /dev/null as both stdin and output (a terminal as both) is no input file.
    result = subprocess.run([*predict, "/dev/null"], stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    assert_one_line_error(result, 1, "no texts in the input; /dev/null left as it was")


def test_a_pipe_without_a_suffix_is_read_as_lines():
    # `predict -i <(cmd)`: "/dev/fd/63: unknown file type ''"; only `-i -` took a pipe.
    command = f"{sys.executable} -m lstm_sentiment predict -i <(printf '好看\\n难看\\n') -f jsonl"
    result = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=120)
    assert [json.loads(line)["text"] for line in result.stdout.splitlines()] == ["好看", "难看"], result.stderr
    # Labelled data needs its columns, which a suffix names: said as such, before the pipe is read.
    command = f"{sys.executable} -m lstm_sentiment train --data <(printf 'text,label\\n好,1\\n') --out never-written"
    result = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=120)
    assert_one_line_error(result, 1, r"/dev/fd/\d+: a pipe has no suffix to name its format; save labelled data as \.csv, \.tsv or \.jsonl")


@pytest.mark.parametrize("fmt", ["jsonl", "table"])
def test_a_reader_that_stops_mid_output_ends_the_command_with_exit_1(fmt, tmp_path):
    # `predict -i many.txt | head -1`: the reader left during one 300 KB write, which the kernel cut short
    # and Python's buffered writer then counted as done: exit 0 with most records lost, no word said.
    source = tmp_path / "many.txt"
    source.write_text("这部电影还不错\n" * 5_000, encoding="utf-8")
    process = subprocess.Popen([sys.executable, "-m", "lstm_sentiment", "predict", "-i", str(source), "-f", fmt], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout.readline()  # the first line, as `head -1` reads it; then the reader is gone
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=120) == 1, stderr
    assert stderr == ""


_EIGHT = "text,label\n好极了,1\n太差,0\n很好,1\n很差,0\n不错,1\n垃圾,0\n喜欢,1\n讨厌,0\n"


def test_a_second_run_into_one_out_is_refused_while_the_first_holds_it(tmp_path):
    # Two trains into one --out both said "wrote" and the first one's model was gone without a word.
    from lstm_sentiment.atomic import claimed

    data = tmp_path / "d.csv"
    data.write_text(_EIGHT, encoding="utf-8")
    out = tmp_path / "same"
    with claimed(out, "--out"):
        result = run_cli("train", "--data", str(data), "--out", str(out), "--epochs", "1")
        assert_one_line_error(result, 1, rf"same is being written by another run \(process {os.getpid()}\); wait for it or choose another --out")
        assert "warning" not in result.stderr  # refused before the data was read
        result = run_cli("longrange", "--quick", "--out", str(out))
        assert_one_line_error(result, 1, r"same is being written by another run")
    assert not out.exists() and list(tmp_path.iterdir()) == [data]  # nothing made beside it


def test_train_to_a_pipe_logs_one_line_per_epoch(tmp_path):
    # rich redraws its bar in place: to a pipe (CI, nohup, `| tee`) only the last epoch's bar was left, over
    # four wrapped lines, and the epochs before it were lost.
    data = tmp_path / "d.csv"
    data.write_text(_EIGHT, encoding="utf-8")
    result = run_cli("train", "--data", str(data), "--out", str(tmp_path / "m"), "--epochs", "3")
    assert result.returncode == 0, result.stderr
    epochs = re.findall(r"^Epoch (\d)/2  train_loss (\d\.\d{4})  val_acc \d\.\d{4}  val_macro_f1 \d\.\d{4}  \d+\.\d s$", result.stderr, re.M)
    assert [e for e, _ in epochs] == ["0", "1", "2"], result.stderr
    # The run's own figures, as its training log has them.
    with (tmp_path / "m" / "training_log.csv").open(encoding="utf-8") as log:
        logged = [f"{float(row['train_loss']):.4f}" for row in csv.DictReader(log) if row["train_loss"]]
    assert [loss for _, loss in epochs] == logged
    assert "it/s" not in result.stderr and "━" not in result.stderr.split("Epoch 2/2")[0]
    # The file's split sizes, which only the model card had: 8 texts, 2 validation and 2 test cut from it.
    assert f"{data}: 4 training texts, 2 validation (cut from it), 2 test (cut from it)" in result.stderr.splitlines(), result.stderr


def test_train_sentences_adds_each_training_texts_sentences_and_says_how_many(tmp_path):
    # 10 texts a class, each of two sentences of 4+ characters: 40 sentences, less the one that is a
    # validation text and the one that is a test text, each with a stop the cut took away.
    rows = [f"第{i}家店的菜很好吃。服务员{i}号很热情,1" for i in range(10)] + [f"第{i}家店的菜太难吃了！服务员{i}号很冷漠,0" for i in range(10)]
    data, valid, test = tmp_path / "two.csv", tmp_path / "v.csv", tmp_path / "t.csv"
    data.write_text("text,label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    valid.write_text("text,label\n第0家店的菜很好吃。,1\n难吃得要命,0\n", encoding="utf-8")
    test.write_text("text,label\n好吃得很,1\n服务员1号很冷漠！,0\n", encoding="utf-8")
    result = run_cli("train", "--data", str(data), "--valid", str(valid), "--test", str(test), "--out", str(tmp_path / "m"), "--epochs", "1", "--sentences")
    assert result.returncode == 0, result.stderr
    assert "two.csv: 38 sentences of its 20 texts added (--sentences)" in result.stderr
    config = json.loads((tmp_path / "m" / "config.json").read_text(encoding="utf-8"))
    assert config["sentences"] == 38 and config["training_data"]["counts"]["train"] == {"negative": 29, "positive": 29}
    assert config["training_data"]["train"].endswith("two.csv+sentences")
    assert "- train also holds 38 sentences of 4 characters or more" in (tmp_path / "m" / "README.md").read_text(encoding="utf-8")


def test_train_sentences_warns_when_no_text_holds_two():
    from lstm_sentiment.training.splits import with_training_sentences

    train = LabelledTexts(["这家店很好。好", "太难吃了"], ["positive", "negative"], "short.csv:train")
    with pytest.warns(UserWarning, match=r"^--sentences: no sentence of short.csv:train to add \(none of its texts holds two of 4 characters or more"):
        assert with_training_sentences(train, LabelledTexts(["还行吧"], ["positive"], "v"), None) == train


def test_train_refuses_the_installed_package_and_warns_of_a_shipped_models_name(tmp_path):
    # --out …/assets/models/zh replaced the shipped model every command reads by default.
    from importlib import resources

    shipped = resources.files("lstm_sentiment") / "assets" / "models" / "zh"
    weights = (shipped / "model.safetensors").stat().st_mtime_ns
    data = tmp_path / "d.csv"
    data.write_text(_EIGHT, encoding="utf-8")
    result = run_cli("train", "--data", str(data), "--out", str(shipped), "--epochs", "1")
    assert_one_line_error(result, 1, r"is inside the installed package .*; choose another --out")
    assert (shipped / "model.safetensors").stat().st_mtime_ns == weights
    # ./zh is written, but --model zh reads the shipped model.
    result = run_cli("train", "--data", "d.csv", "--out", "zh", "--epochs", "1", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "warning: zh is also a shipped model's name: --model zh and SentimentModel.load('zh') read that one; read this one as ./zh" in result.stderr
    assert (tmp_path / "zh" / "config.json").is_file()


def test_python_train_refuses_the_installed_package_and_the_build_moves_its_bundle_in(tmp_path, monkeypatch):
    # The CLI refused --out inside the package; Python's train() replaced the shipped model all the same.
    from importlib import resources

    from lstm_sentiment.config import DataConfig, ModelConfig, TrainConfig
    from lstm_sentiment.data.dataset import LabelledTexts
    from lstm_sentiment.training import shipped
    from lstm_sentiment.training.train import train

    texts = ["好极了", "太差", "很好", "很差", "不错", "垃圾", "喜欢", "讨厌"]
    labels = ["positive", "negative"] * 4
    data = LabelledTexts(texts, labels, "d")
    package = resources.files("lstm_sentiment") / "assets" / "models" / "zh"
    weights = (package / "model.safetensors").stat().st_mtime_ns
    with pytest.raises(SentimentError, match=r"is inside the installed package .*; choose another --out$"):
        train(data, data, None, package, ModelConfig(), DataConfig(), TrainConfig(epochs=1))
    assert (package / "model.safetensors").stat().st_mtime_ns == weights
    # make models trains in a temporary folder and moves the bundle in, replacing the one there.
    monkeypatch.setattr(shipped, "domains", lambda lang, data_dir: {"d": (data, data, data)})
    monkeypatch.setitem(shipped.RECIPES, "zh", (ModelConfig(hidden_size=8), DataConfig(lang="zh"), TrainConfig(epochs=1)))
    out = tmp_path / "models" / "zh"
    out.mkdir(parents=True)
    (out / "config.json").write_text("{}", encoding="utf-8")  # an older bundle's
    metrics = shipped.build("zh", tmp_path, out)
    assert metrics["epochs_run"] == 1 and json.loads((out / "config.json").read_text(encoding="utf-8"))["model"]["hidden_size"] == 8
    assert (out / "model.safetensors").is_file() and [p.name for p in out.parent.iterdir()] == ["zh"]


@pytest.mark.parametrize("script", [["-m", "lstm_sentiment.vectors.build", "zh"], ["-m", "lstm_sentiment.training.shipped", "zh"], ["bench/quality.py"], ["bench/finetune.py"], ["bench/recipe.py"]])
def test_build_scripts_name_missing_build_data_in_one_line(tmp_path, script):
    # With DATA's folders present but empty, make vectors/models/quality ended in a traceback.
    for folder in ("zh-multi", "sst2", "imdb"):
        (tmp_path / folder).mkdir()
    root = Path(__file__).resolve().parent.parent
    args = [*script, "--data", str(tmp_path), *(["--out", str(tmp_path / "out")] if script[0] == "-m" else []), *(["--held-out", "movies"] if "finetune" in script[0] else [])]
    result = subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=root, timeout=300)
    assert_one_line_error(result, 1, r"zh-multi/shopping\.csv: build data not found; point DATA at the folder holding zh-multi/, sst2/ and imdb/$")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("args,code,said", [
    (["bench/explain.py", "--repeats", "1"], 2, r"--repeats must be at least 2 \(the quartiles need two calls\), got 1$"),
    (["bench/explain.py", "--tokens", "0"], 2, r"--tokens must be at least 1, got 0$"),
    (["bench/explain.py", "--model", "/nonexistent"], 1, r"^error: /nonexistent: model directory not found$"),
    (["bench/core_lstm.py", "--repeats", "0"], 2, r"--repeats must be at least 1, got 0$"),
    (["bench/serve_load.py", "--batch", "0"], 2, r"--batch must be at least 1, got 0$"),
    (["bench/serve_load.py", "--clients", "0"], 2, r"bounded load only: clients 1-16, requests 1-20000, duration up to 300 s \(got 0, 2000, 30 s\)$"),
    (["bench/explain.py", "--tokens", "400"], 1, r"^could not build a 400-token sentence \(got 256\): the model reads at most 256 tokens$"),
    (["bench/serve_load.py", "--url", "http://127.0.0.1:{port}", "--no-write"], 1, r"^cannot reach a server at http://127\.0\.0\.1:\d+: Connection refused$"),
    (["bench/finetune.py", "--data", ".", "--lang", "xx"], 2, r"invalid choice: 'xx'"),
    (["bench/serve_load.py", "--url", "http://127.0.0.1:{http}", "--no-write"], 1, r"^http://127\.0\.0\.1:\d+ is no lstm-sentiment server: its /v1/model is not that of `lstm-sentiment serve`$"),
    (["bench/serve_load.py", "--model", "/nonexistent", "--no-write"], 1, r"^server exited with 1: error: /nonexistent: model directory not found$"),
])
def test_bench_scripts_refuse_bad_values_in_one_line(args, code, said):
    # explain.py --repeats 1 ended on StatisticsError, --model /nonexistent on a SentimentError's traceback;
    # core_lstm.py --repeats 0 divided by zero (-1 printed negative rates); serve_load.py --batch 0 on
    # range()'s ValueError, and with nothing at --url on a ConnectionRefusedError; finetune.py --lang xx ran as en;
    # serve_load.py --model naming no bundle said only "server exited with 1".
    other = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)  # a server, not ours
    threading.Thread(target=other.serve_forever, daemon=True).start()
    with socket.socket() as held, other:  # a port nothing listens on: bound, never listening
        held.bind(("127.0.0.1", 0))
        args = [a.format(port=held.getsockname()[1], http=other.server_address[1]) for a in args]
        result = subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent, timeout=120)
        other.shutdown()
    lines = result.stderr.strip().splitlines()
    assert result.returncode == code and "Traceback" not in result.stderr and re.search(said, lines[-1]), result.stderr


def test_a_build_script_without_the_build_extra_says_so_in_one_line(capsys):
    # bench/quality.py on a machine without scikit-learn ended in a ModuleNotFoundError traceback.
    from lstm_sentiment.errors import run_script

    def needs(name):
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)

    with pytest.raises(SystemExit) as ended:
        run_script(lambda: needs("sklearn"))
    assert ended.value.code == 1
    assert capsys.readouterr().err == "error: no module named 'sklearn': this script needs the build extra (pip install -e '.[build]', as make .venv/.build-stamp does)\n"
    with pytest.raises(ModuleNotFoundError):  # a module the package itself needs is a fault, not a missing extra
        run_script(lambda: needs("lstm_sentiment.gone"))


@pytest.mark.parametrize("command", [["train", "--data", "d.csv", "--epochs", "1"], ["longrange", "--quick"]])
def test_an_out_that_is_a_device_is_refused_before_the_work(tmp_path, command):
    # train --out /dev/null trained to the end, then said "/dev/null: File exists".
    (tmp_path / "d.csv").write_text(_EIGHT, encoding="utf-8")
    result = run_cli(*command, "--out", "/dev/null", cwd=tmp_path)
    assert_one_line_error(result, 1, r"^error: /dev/null is not a folder; choose another --out$")
    assert "vocabulary" not in result.stderr and "longrange:" not in result.stderr  # nothing ran


def test_a_signal_after_the_command_is_done_is_ignored():
    # A Ctrl-C as the interpreter exited (the output written) was raised in an exit-time finalizer: a
    # KeyboardInterrupt traceback over a finished run, exit 0. Here the signal comes from an atexit hook.
    code = (
        "import atexit, os, signal, sys\n"
        "from lstm_sentiment.cli import main\n"
        "atexit.register(lambda: os.kill(os.getpid(), signal.SIGINT))\n"
        "sys.argv = ['lstm-sentiment', 'predict', '很好', '-f', 'jsonl']\n"
        "main()\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and json.loads(result.stdout)["text"] == "很好", result.stderr
    assert "KeyboardInterrupt" not in result.stderr and "Traceback" not in result.stderr, result.stderr


@pytest.mark.parametrize("command", ["predict 好 -f jsonl", "explain 好", "predict - < /dev/null <&-"])
def test_a_closed_stdout_or_stdin_is_one_line(command):
    # `>&-` left sys.stdout None: "AttributeError: 'NoneType' object has no attribute 'write'".
    redirect = "" if "<&-" in command else " >&-"
    result = subprocess.run(["bash", "-c", f"{shlex.quote(sys.executable)} -m lstm_sentiment {command}{redirect}"], capture_output=True, text=True, timeout=300)
    stream = "stdin" if "<&-" in command else "stdout"
    assert_one_line_error(result, 1, rf"^error: {stream} is closed$")


def test_a_closed_stdout_is_no_error_for_a_command_that_writes_nothing_there(tmp_path):
    out = tmp_path / "out.jsonl"
    result = subprocess.run(["bash", "-c", f"{shlex.quote(sys.executable)} -m lstm_sentiment predict 好 -o {shlex.quote(str(out))} >&-"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and result.stderr == f"wrote 1 record to {out}\n" and json.loads(out.read_text(encoding="utf-8"))["text"] == "好", result.stderr


@pytest.mark.parametrize("args", [("predict", "--model", "", "好"), ("explain", "--model", " ", "好"), ("train", "--data", "zh-reviews", "--init-from", "", "--out", "never")])
def test_an_empty_model_path_is_named(args, tmp_path):
    # Path("") is the current folder: "--model ''" said ".: not a model bundle".
    assert_one_line_error(run_cli(*args, cwd=tmp_path), 1, r"an empty model path; give a bundle directory, or zh or en$")
    assert not (tmp_path / "never").exists()


def test_a_tsv_output_is_tab_separated_and_a_text_like_an_option_is_hinted(small_bundle, tmp_path):
    # -o pred.tsv wrote JSON Lines into the .tsv file; "-1/10, terrible" said "No such option: -1" alone.
    source = tmp_path / "in.tsv"
    source.write_text('id\ttext\n1\t好\n2\t"差,\t很差"\n', encoding="utf-8")
    out = tmp_path / "pred.tsv"
    result = run_cli("predict", "--model", str(small_bundle[0]), "-i", str(source), "-o", str(out))
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(out.open(encoding="utf-8", newline=""), delimiter="\t"))
    assert [(r["id"], r["text"]) for r in rows] == [("1", "好"), ("2", "差,\t很差")] and all(r["label"] for r in rows)
    assert_one_line_error(run_cli("predict", "--model", str(small_bundle[0]), "-1/10, terrible"), 2, r"No such option: -1; a text that starts with '-' goes after '--' \(predict -- ")
    # explain's example named predict.
    assert_one_line_error(run_cli("explain", "-差评"), 2, r"No such option: -差; a text that starts with '-' goes after '--' \(explain -- ")
    assert_one_line_error(run_cli("evaluate", "-1"), 2, r"No such option: -1; a text that starts with '-' goes after '--' \(predict -- ")  # evaluate takes no text
    # A kaomoji at the start (-_- 太难吃了) said "No such option: -_" alone.
    assert_one_line_error(run_cli("predict", "--model", str(small_bundle[0]), "-_- 太难吃了"), 2, r"No such option: -_; a text that starts with '-' goes after '--'")


@pytest.mark.parametrize("columns", [80, 200])
def test_help_names_every_option_in_full_at_any_width(columns):
    # At 80 columns (a pipe's width too) typer's boxed help cut train's names: "--unidirection…",
    # "--freeze-embedd…", and the guessed column names "text/review/sen…".
    import typer

    from lstm_sentiment.cli import app

    command = typer.main.get_command(app).commands["train"]
    names = [name for param in command.params for name in (*param.opts, *param.secondary_opts) if name.startswith("--")]
    env = {**os.environ, "COLUMNS": str(columns)}
    result = subprocess.run([sys.executable, "-m", "lstm_sentiment", "train", "--help"], capture_output=True, text=True, env=env, timeout=60)
    shown = re.findall(r"--[a-z][a-z0-9-]*", result.stdout)
    assert result.returncode == 0 and len(names) > 30
    assert sorted(set(names) - set(shown)) == [] and "…" not in result.stdout.replace(";…~", "")
    assert "comment, 评论, 文本, 内容" in " ".join(result.stdout.replace("│", " ").split())
    # The command list: click's plain help cut each first line to fit ("writes a..."); and with no command the
    # help came on stderr as an error's message.
    for args in (["--help"], []):
        listed = subprocess.run([sys.executable, "-m", "lstm_sentiment", *args], capture_output=True, text=True, env=env, timeout=60)
        assert listed.returncode == (0 if args else 2) and listed.stderr == "" and listed.stdout.lstrip().startswith("Usage:")
        assert "..." not in listed.stdout.replace("[ARGS]...", "") and "…" not in listed.stdout and "Train a model on the built-in corpus or your own labelled file." in listed.stdout


def test_model_zh_says_it_is_the_shipped_one_where_a_bundle_zh_is_here(tmp_path):
    # After `train --out zh`, `predict --model zh` scored with the shipped model (0.74) where ./zh said 0.65,
    # without a word (new user's trial).
    (tmp_path / "zh").mkdir()
    (tmp_path / "zh" / "config.json").write_text("{}", encoding="utf-8")
    result = run_cli("predict", "--model", "zh", "--format", "jsonl", "我喜欢这个电影", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "warning: --model zh reads the shipped model, not the bundle ./zh here; give --model ./zh for that one" in result.stderr
    assert json.loads(result.stdout)["label"] == "positive"
    quiet = run_cli("predict", "--model", "en", "--format", "jsonl", "a fine film", cwd=tmp_path)
    assert quiet.returncode == 0 and "warning" not in quiet.stderr
    # evaluate's JSON report keeps it among its warnings (it went to stderr alone, the report saying "model": "zh").
    (tmp_path / "d.csv").write_text("text,label\n我喜欢这个电影,1\n太难看了,0\n", encoding="utf-8")
    report = json.loads(run_cli("evaluate", "--model", "zh", "--data", "d.csv", "-f", "json", cwd=tmp_path).stdout)
    assert report["warnings"] == ["--model zh reads the shipped model, not the bundle ./zh here; give --model ./zh for that one"]
    # train --init-from zh fine-tuned the shipped model the same way (review); a refused run says it first.
    tuned = run_cli("train", "--data", "missing.csv", "--init-from", "zh", "--out", "tuned", cwd=tmp_path)
    assert "warning: --init-from zh reads the shipped model, not the bundle ./zh here; give --init-from ./zh for that one" in tuned.stderr


def test_a_text_argument_that_names_a_file_is_warned_of(tmp_path):
    # `predict t.txt` scored the name "t.txt" (positive 0.99) and exit 0, without a word.
    (tmp_path / "t.txt").write_text("太难看了\n", encoding="utf-8")
    result = run_cli("predict", "t.txt", "好看", "-f", "jsonl", cwd=tmp_path)
    assert result.returncode == 0 and [json.loads(line)["text"] for line in result.stdout.splitlines()] == ["t.txt", "好看"]
    assert result.stderr.splitlines() == ["warning: 't.txt' names a file, and the argument is read as the text itself; give --input t.txt (-i) to classify its lines"]
    result = run_cli("explain", "t.txt", "-f", "json", cwd=tmp_path)
    assert result.returncode == 0 and json.loads(result.stdout)["text"] == "t.txt"
    assert result.stderr.splitlines() == ["warning: 't.txt' names a file, and the argument is read as the text itself; give - and < t.txt to explain the text it holds"]
    # A text that names no file, and one from stdin, are not warned of.
    assert run_cli("predict", "好看", "x" * 5000, cwd=tmp_path).stderr == ""
    assert run_cli("explain", "-", "-f", "json", stdin="t.txt", cwd=tmp_path).stderr == ""


def test_evaluate_prints_its_report_under_an_ascii_locale(tmp_path, monkeypatch):
    # The accuracy interval's en dash failed the whole report under LC_ALL=C ("cannot hold '–'"), exit 1.
    data = tmp_path / "two.csv"
    data.write_text("text,label\n好看,positive\n难看,negative\n", encoding="utf-8")
    monkeypatch.delenv("PYTHONIOENCODING", raising=False)
    for name, value in (("LC_ALL", "C"), ("LANG", "C"), ("PYTHONUTF8", "0")):
        monkeypatch.setenv(name, value)
    result = run_cli("evaluate", "--model", "zh", "--data", str(data))
    assert result.returncode == 0 and re.search(r"n=2  accuracy=[0-9.]+ \(95% CI [0-9.]+-[0-9.]+\)", result.stdout), result.stderr


def test_a_build_script_stopped_by_sigterm_cleans_up_and_says_so_in_one_line(capsys, tmp_path):
    # bench/run.py killed by SIGTERM left its 13 MB work folder in /tmp; Ctrl-C ended in a traceback.
    import tempfile

    from lstm_sentiment.errors import run_script

    left = []

    def work():
        with tempfile.TemporaryDirectory(dir=tmp_path) as folder:
            left.append(Path(folder))
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # the signal arrives during the work

    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(SystemExit) as ended:
        run_script(work)
    assert ended.value.code == 130 and not left[0].exists() and signal.getsignal(signal.SIGTERM) is before
    assert capsys.readouterr().err.startswith("error: interrupted;")


def test_bench_scripts_refuse_bad_arguments_before_any_work(tmp_path):
    # Each of these loaded the data, trained for minutes or printed a table header, then a KeyError traceback
    # (or skipped a mistyped domain without a word).
    bench = Path(__file__).resolve().parent.parent / "bench"
    base = tmp_path / "base"
    base.mkdir()
    (base / "config.json").write_text(json.dumps({"finetune_base": {"lang": "zh", "held_out": "hotels", "cap": 8000}}), encoding="utf-8")
    for script, args, said in (
        ("recipe.py", ["--variants", "base,frozn"], r"^error: 'frozn': no such variant; choose from base, frozen,"),
        ("recipe.py", ["--domains", "film"], r"^error: 'film': not one of the zh domains \(zh-reviews, shopping, hotels, movies\)$"),
        ("quality.py", ["--langs", "zh,xx"], r"^error: no build data for the language 'xx'; choose zh or en$"),
        ("quality.py", ["--langs", "zh", "--train-domains", "hotel"], r"^error: 'hotel': not one of the zh domains"),
        ("quality.py", ["--langs", "zh", "--out", str(tmp_path)], r"^error: --out .* is a directory; choose another name$"),
        ("finetune.py", ["--lang", "en", "--held-out", "movies"], r"^error: 'movies': not one of the en domains \(sst2, imdb\)$"),
        ("finetune.py", ["--base", str(base)], r"^error: .*base holds a base built with .*'held_out': 'hotels'.*, not .*'held_out': 'movies'"),
        ("finetune.py", ["--sizes", "1k"], r"argument --sizes: '1k': give whole numbers"),
    ):
        result = subprocess.run([sys.executable, str(bench / script), "--data", str(tmp_path / "no-data"), *args], capture_output=True, text=True, timeout=120)
        assert result.returncode in (1, 2) and "Traceback" not in result.stderr, (script, args, result.stderr)
        assert re.search(said, result.stderr.strip().splitlines()[-1]), (script, args, result.stderr)
