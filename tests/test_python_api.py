"""The Python API as a notebook uses it: what a new user's trial of it found (2026-12-06)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from conftest import assert_one_line_error, run_cli
from lstm_sentiment import SentimentModel
from lstm_sentiment.atomic import claimed
from lstm_sentiment.bundle import OWN_ENTRIES
from lstm_sentiment.config import ModelConfig, TrainConfig
from lstm_sentiment.data.dataset import LabelledTexts
from lstm_sentiment.data.sources import load_dataset
from lstm_sentiment.errors import SentimentError, SentimentWarning
from lstm_sentiment.explain import explain
from lstm_sentiment.inference.routing import evaluate_by_script, predict_texts
from lstm_sentiment.inference.stream import iter_predictions
from lstm_sentiment.training.train import _TRAIN_ENTRIES, train

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "lstm_sentiment"


def test_every_predict_entry_refuses_one_string_and_reads_a_generator():
    # predict_texts("我喜欢这个电影") gave 7 records, one per character; iter_predictions("好的") 2.
    for call in (lambda t: predict_texts(t, model="zh"), lambda t: list(iter_predictions(t, model="zh"))):
        with pytest.raises(TypeError, match=r"not one string: predict\(\[text\]\)"):
            call("我喜欢这个电影")
        with pytest.raises(TypeError, match=r"texts\[1\] is int, not a string"):
            call(["好", 1])  # was "object of type 'int' has no len()", eight frames down
    # A generator was "'generator' object is not subscriptable" in predict_texts.
    records = predict_texts((t for t in ["我喜欢这个电影", "a great film"]))
    assert [r["text"] for r in records] == ["我喜欢这个电影", "a great film"]
    assert records == predict_texts(["我喜欢这个电影", "a great film"])
    # A bad item past the first chunk is named by its place in the whole input.
    with pytest.raises(TypeError, match=r"texts\[5\] is NoneType"):
        list(iter_predictions(["好"] * 5 + [None], model="zh", chunk_size=2))
    # None said "'NoneType' object is not iterable"; a dict's keys were classified.
    for texts, kind in ((None, "NoneType"), ({"好": 1}, "dict"), (5, "int")):
        with pytest.raises(TypeError, match=rf"^texts must be a sequence of strings, got {kind}$"):
            predict_texts(texts, model="zh")
    with pytest.raises(TypeError, match=r"^texts must be a sequence of strings, got a 0-d ndarray: predict\(\[str\(text\)\]\)$"):
        predict_texts(np.array("我喜欢这个电影"), model="zh")  # numpy's "iteration over a 0-d array"
    assert predict_texts(np.array(["我喜欢这个电影"]), model="zh") == predict_texts(["我喜欢这个电影"], model="zh")
    with pytest.raises(ValueError, match="lang must be one of auto, zh, en; got 'fr'"):  # was read as a folder named fr
        predict_texts(["好"], lang="fr")
    # The lang was ignored beside a model, where the command line refuses the pair.
    with pytest.raises(ValueError, match=r"^give a model or a lang, not both: lang='en' picks a shipped model$"):
        predict_texts(["好"], model="zh", lang="en")
    with pytest.raises(TypeError, match=r"^evaluate_by_script takes LabelledTexts\(texts, labels, source\) .*, not list$"):
        evaluate_by_script([("好", 1)])  # was "'list' object has no attribute 'texts'"


def test_top_contributions_takes_a_positive_k():
    expl = explain(SentimentModel.load("zh"), "我喜欢这个电影")
    assert sorted(expl.top_contributions(100)) == list(range(len(expl)))
    with pytest.raises(ValueError, match="k must be a positive int, got -1"):  # returned every token but the last
        expl.top_contributions(-1)


def test_explain_refuses_a_model_that_gives_non_finite_scores():
    # It gave a label with "score": NaN (invalid JSON) and exit 0, where predict gives an error record.
    model = SentimentModel.load("zh")
    model.network.classifier.weight.data[0, 0] = float("nan")
    assert model.predict(["好"])[0]["error"]  # predict's record for the same model.startswith("non-finite scores from the model")
    with pytest.raises(SentimentError, match=r"non-finite scores from the model .*: nothing to explain$"):
        explain(model, "好")


def test_steps_are_numbered_from_one_and_reprs_are_short():
    model = SentimentModel.load("zh")
    e = explain(model, "我喜欢这个电影")
    assert len(e) == 4 and e.running(4) == (e.label, pytest.approx(e.score))
    # running(0) and step(0) read the last step (Python's index -1); running(5) was numpy's IndexError.
    for t in (0, -1, 5, True, 1.0):
        with pytest.raises(ValueError, match=r"t must be a step from 1 to 4"):
            e.running(t)
        with pytest.raises(ValueError, match=r"t must be a step from 1 to 4"):
            e.trace().step(t)
    assert e.trace().step(1)["t"] == 1
    # The default reprs printed every array: 104 KB for these four words, 50 KB for one direction.
    assert re.fullmatch(r"Explanation\(text='我喜欢这个电影', label='positive', score=0\.\d{4}, tokens=4, model='.*zh'\)", repr(e))
    assert repr(e.trace()) == "DirectionTrace(layer=0, direction='forward', steps=4, units=128)"
    assert re.fullmatch(r"SentimentModel\('.*zh', labels=\['negative', 'positive'\], precision='float32', device='cpu'\)", repr(model))


def test_numpy_integers_count_as_ints_and_explain_refuses_what_predict_refuses():
    model = SentimentModel.load("zh")
    e = explain(model, np.str_("我喜欢这个电影"), top_units=np.int64(2))
    assert type(e.text) is str
    # NumPy's ints were refused for top_units, layer, k and batch_size, taken for t and echoed as np.int64,
    # which json.dumps refuses.
    step = e.trace(np.int64(0)).step(np.int64(2))
    assert type(step["t"]) is int and json.loads(json.dumps(step))["t"] == 2
    assert e.top_contributions(np.int32(2)) == e.top_contributions(2)
    assert model.predict(["好看", "难看"], batch_size=np.int64(1)) == model.predict(["好看", "难看"])
    assert e.headline(4) == "我喜欢…" and e.headline(np.int64(7)) == "我喜欢这个电影"
    for limit in (0, -1):  # headline(0) gave six characters
        with pytest.raises(ValueError, match="limit must be a positive int"):
            e.headline(limit)
    for limit in (True, 2.0, "3"):  # a float was a ValueError where trace(2.0) is a TypeError
        with pytest.raises(TypeError, match="limit must be a positive int"):
            e.headline(limit)
    with pytest.raises(TypeError, match="units must be True or False, got 'no'"):  # "no" kept the units
        e.to_dict(units="no")
    assert "units" not in e.to_dict(units=np.bool_(False))["layers"][0]["directions"][0]
    # predict gives it an error record; explain returned it, and to_json() could not be written as UTF-8.
    assert model.predict(["好\ud800"])[0]["error"] == "holds a lone surrogate (\\ud800), not text"
    with pytest.raises(SentimentError, match=r"^holds a lone surrogate \(\\ud800\), not text: nothing to explain$"):
        explain(model, "好\ud800")


def test_evaluate_on_one_class_data_warns_from_python_as_the_command_does():
    # The command warned; from Python macro-F1 1.0 came back without a word.
    one_class = "the data hold one class \\(positive\\); macro-F1 and the other classes' figures say little"
    with pytest.warns(SentimentWarning, match=f"^{one_class}$"):
        assert SentimentModel.load("zh").evaluate(LabelledTexts(["好", "很好"], ["1", "1"], "s"))["n"] == 2
    with pytest.warns(SentimentWarning, match=f"^{one_class}$") as caught:  # texts of both scripts, by their models
        report = evaluate_by_script(LabelledTexts(["很好看", "a great film"], ["positive", "positive"], "s"))
    assert {lang: part["n"] for lang, part in report["by_model"].items()} == {"zh": 1, "en": 1}
    assert len([w for w in caught if "one class" in str(w.message)]) == 1


def test_loading_names_what_is_wrong(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SentimentError, match=r"^ZH: model directory not found; the shipped models are named zh and en, in lower case$"):
        SentimentModel.load("ZH")
    # Path("zh") was told that the shipped models are named zh and en.
    with pytest.raises(SentimentError, match=r"^zh: model directory not found; a Path names a directory: load the shipped model by its name as a str, 'zh'$"):
        SentimentModel.load(Path("zh"))
    with pytest.raises(SentimentError, match=r"^ZH: .* by its name as a str, 'zh'$"):
        SentimentModel.load(Path("ZH"))
    with pytest.raises(TypeError, match=r"not int$"):
        SentimentModel.load(3)
    with pytest.raises(ValueError, match=r"^zh-reviews comes with its own columns; text_column and label_column are for a file$"):
        load_dataset("zh-reviews:train", text_column="text")  # ignored without a word, where the commands refuse it
    assert_one_line_error(run_cli("train", "--data", "zh-reviews:train", "--text-column", "x", "--out", str(tmp_path / "m")), 2, r"--text-column: zh-reviews comes with its own columns; drop it$")
    # `serve --model fr` named no model it could have meant.
    with pytest.raises(SentimentError, match=r"^fr: model directory not found \(the shipped models are named zh and en\)$"):
        SentimentModel.load("fr")
    with pytest.raises(SentimentError, match=r"^runs/fr: model directory not found$"):
        SentimentModel.load("runs/fr")
    # A Path was "'PosixPath' object has no attribute 'partition'".
    path = Path(__file__).resolve().parents[1] / "bench" / "hard_cases_en.csv"
    assert load_dataset(path).texts == load_dataset(str(path)).texts and len(load_dataset(path).texts) == 40
    with pytest.raises(TypeError, match=r"^known_labels must be a collection of class names \(model\.id2label\), not one str: 'negative'$"):
        load_dataset(path, known_labels="negative")  # its letters were taken for the classes: 0/1 labels stayed unfolded
    from lstm_sentiment.data.files import read_labelled

    with pytest.raises(TypeError, match=r"^known_labels must be a collection of class names \(model\.id2label\), not one bytes: b'negative'$"):
        read_labelled(path, known_labels=b"negative")  # load_dataset refused one str, read_labelled took it


def test_train_without_validation_says_so(tmp_path):
    data = LabelledTexts(["好看", "难看", "好", "差"], ["positive", "negative", "positive", "negative"], "mine")
    # It failed with "'NoneType' object has no attribute 'texts'".
    with pytest.raises(SentimentError, match=r"^no validation texts: give valid_data"):
        train(data, None, None, tmp_path / "m")
    assert not (tmp_path / "m").exists()


def test_version_and_outputs_inside_the_package():
    from lstm_sentiment import __version__

    result = run_cli("--version")
    assert result.returncode == 0 and result.stdout == f"lstm-sentiment {__version__}\n"
    # explain --png into the installed package was written there (and outlived pip uninstall).
    for args, option, name in ((["explain", "好", "--png"], "--png", "out.png"), (["predict", "好", "-o"], "--output", "out.jsonl")):
        target = PACKAGE / "assets" / name
        assert_one_line_error(run_cli(*args, str(target)), 1, rf"{option} .*{re.escape(name)} is inside the installed package .*; choose another {option}$")
        assert not target.exists()


_TEXTS = ["好极了", "太差", "很好", "很差", "不错", "垃圾", "喜欢", "讨厌"]
_LABELS = ["positive", "negative"] * 4


def test_train_checks_its_held_out_splits_again_once_markup_is_left_out(tmp_path):
    # Checked only as given: a test split of markup alone wrote macro-F1 NaN into metrics.json, and a
    # validation split of it failed in range() deep in the batching.
    data = LabelledTexts(_TEXTS, _LABELS, "mine")
    valid = LabelledTexts(["好看", "难看"], ["positive", "negative"], "v")
    markup = LabelledTexts(["<br/>", "&nbsp;"], ["positive", "negative"], "tm")
    with pytest.warns(SentimentWarning, match=r"tm: 2 text"), pytest.raises(SentimentError, match=r"^tm: no test texts \(give None for no test split\)$"):
        train(data, valid, markup, tmp_path / "m")
    with pytest.warns(SentimentWarning), pytest.raises(SentimentError, match=r"^tm: no test texts"):
        train(data, valid, None, tmp_path / "m", domain_tests={"web": markup})
    with pytest.warns(SentimentWarning), pytest.raises(SentimentError, match=r"^tm: no validation texts$"):
        train(data, markup, None, tmp_path / "m")
    one_class = LabelledTexts(["<br/>", "&nbsp;", "很好", "不错"], ["negative", "negative", "positive", "positive"], "v1")
    with pytest.warns(SentimentWarning), pytest.raises(SentimentError, match=r"^v1: validation holds one class \('positive'\); it needs at least 2$"):
        train(data, one_class, None, tmp_path / "m")
    assert not (tmp_path / "m").exists()


def test_train_refuses_what_it_cannot_write_or_read_before_the_work(tmp_path):
    data = LabelledTexts(_TEXTS, _LABELS, "mine")
    valid = LabelledTexts(["好看", "难看"], ["positive", "negative"], "v")
    out = tmp_path / "m"
    # extra replaced the bundle's own temperature (loaded at 9 beside metrics fitted at 0.25), and a set
    # or a str in place of a dict failed after the whole run.
    with pytest.raises(ValueError, match=r"^extra names 'temperature', 'training_data', which the bundle's config\.json holds of its own"):
        train(data, valid, None, out, extra={"training_data": "x", "temperature": 9.0, "mine": 1})
    with pytest.raises(ValueError, match=r"^extra names 'created'"):
        train(data, valid, None, out, extra={"created": "today"})
    with pytest.raises(TypeError, match=r"^extra must hold JSON values .*set"):
        train(data, valid, None, out, extra={"tags": {"a"}})
    with pytest.raises(TypeError, match=r"^extra must hold JSON values .*int64"):
        train(data, valid, None, out, extra={"n": np.int64(3)})
    with pytest.raises(TypeError, match=r"^extra's keys must be str, not int \(1\)$"):
        train(data, valid, None, out, extra={"1": "a", 1: "b"})  # config.json held "1" twice
    # Deep errors: 'NoneType' object has no attribute 'texts'; a string read one character per text; None
    # in the tokenizer after the vocabulary was built; pathlib's own message.
    with pytest.raises(TypeError, match=r"^train takes LabelledTexts\(texts, labels, source\) .*not NoneType$"):
        train(None, valid, None, out)
    with pytest.raises(TypeError, match=r"^unlabelled must be a sequence of texts \(a list of str\), not str$"):
        train(data, valid, None, out, unlabelled="好好好")
    with pytest.raises(TypeError, match=r"^unlabelled must be a sequence of texts \(a list of str\), not set$"):
        train(data, valid, None, out, unlabelled={"好", "差"})  # its order, and so the run, changes with the hash seed
    with pytest.raises(TypeError, match=r"^unlabelled text 2 is NoneType, not a str$"):
        train(data, valid, None, out, unlabelled=["好", None])
    with pytest.raises(TypeError, match=r"^embeddings must be a vectors file's path \(str or Path\), not int$"):
        train(data, valid, None, out, embeddings=5)
    words = tmp_path / "words.txt"
    words.write_text("x\n", encoding="utf-8")
    with pytest.raises(SentimentError, match=r"words\.txt: not a word2vec/GloVe/fastText vectors file \(its lines hold a word and no numbers\)$"):
        train(data, valid, None, out, embeddings=words)
    assert not out.exists()


def test_python_train_holds_its_out_dir_as_the_command_does(tmp_path):
    # From Python it took no lock: a script's run into the folder of a command's run each wrote.
    out = tmp_path / "same"
    script = (
        "import sys\nfrom lstm_sentiment.data.dataset import LabelledTexts\nfrom lstm_sentiment.training.train import train\n"
        f"data = LabelledTexts({_TEXTS!r}, {_LABELS!r}, 'mine')\n"
        "train(data, LabelledTexts(['好看', '难看'], ['positive', 'negative'], 'v'), None, sys.argv[1])\n"
    )
    with claimed(out, "--out"):
        result = subprocess.run([sys.executable, "-c", script, str(out)], capture_output=True, text=True, timeout=300)
        # The claim is the thread's: another thread of this process is refused as another process is (a
        # process-wide record of held locks let a second thread's train() through).
        refused = []
        thread = threading.Thread(target=lambda: refused.append(pytest.raises(SentimentError, train, None, None, None, out)))
        thread.start()
        thread.join()
        with claimed(out, "--out"):  # the same thread may claim it again: the command's claim, then train()'s
            pass
    assert result.returncode == 1 and f"SentimentError: {out} is being written by another run (process {os.getpid()}); wait for it or choose another out_dir" in result.stderr, result.stderr
    assert "is being written by another run" in str(refused[0].value)
    assert not out.exists()


def test_labelled_texts_reads_a_series_by_position_and_refuses_a_dict():
    class Series:
        """As pandas' Series: [] by index label, iteration in row order (a shuffled frame's labels 3, 0, …)."""

        def __init__(self, values, index):
            self.values, self.index = values, index

        def __len__(self):
            return len(self.values)

        def __getitem__(self, label):
            return self.values[self.index.index(label)]

        def __iter__(self):
            return iter(self.values)

    data = LabelledTexts(Series(["一般般", "太差了", "好极了"], [2, 1, 0]), Series(["neutral", "negative", "positive"], [2, 1, 0]), "df")
    # subset([0, 1]) took the rows labelled 0 and 1 (好极了, 太差了), not the first two.
    assert data.subset([0, 1]).texts == ["一般般", "太差了"] and data.labels == ["neutral", "negative", "positive"]
    with pytest.raises(TypeError, match=r"^d: texts must be a sequence \(a list\), not dict$"):
        LabelledTexts({"好": 1}, ["positive"], "d")
    # The source may be left out; None was taken, and messages named the data "None".
    assert LabelledTexts(["好"], ["positive"]).source == "data"
    with pytest.raises(TypeError, match=r"^source must be a str naming the data .*, not NoneType$"):
        LabelledTexts(["好"], ["positive"], None)


@pytest.mark.slow  # two short training runs
def test_python_train_expands_home_and_warns_of_a_shipped_name(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    data = LabelledTexts(_TEXTS, _LABELS, "mine")
    valid = LabelledTexts(["好看", "难看"], ["positive", "negative"], "v")
    # "~/runs/m" made a folder named ~ in the working directory.
    metrics = train(data, valid, None, "~/runs/m", train_cfg=TrainConfig(epochs=1))
    assert (tmp_path / "home" / "runs" / "m" / "config.json").is_file() and not (tmp_path / "~").exists()
    # Scored at the T the bundle keeps (6 decimals), not at the fitted float's 0.25000002.
    config = json.loads((tmp_path / "home" / "runs" / "m" / "config.json").read_text(encoding="utf-8"))
    kept = config["temperature"]
    assert metrics["validation"]["temperature"] == metrics["calibration"]["temperature"] == kept == round(kept, 6)
    # The names extra may not take are every entry train and save_bundle write (kept by hand in two lists).
    assert set(config) == (OWN_ENTRIES | _TRAIN_ENTRIES) - {"init_from"}
    # ./zh is written, but SentimentModel.load("zh") reads the shipped model: the command warned, Python did not.
    with pytest.warns(SentimentWarning, match=r"^zh is also a shipped model's name: --model zh and SentimentModel\.load\('zh'\) read that one; read this one as \./zh$"):
        train(data, valid, None, "zh", train_cfg=TrainConfig(epochs=1))
    assert (tmp_path / "zh" / "config.json").is_file()


def test_configs_take_numpy_numbers_as_python_ones():
    # A seed drawn with numpy was refused: "TrainConfig.seed must be an integer, got np.int64(3)".
    train_cfg = TrainConfig(seed=np.int64(3), epochs=np.int32(2), lr=np.float32(0.5))
    assert (train_cfg.seed, train_cfg.epochs, train_cfg.lr) == (3, 2, 0.5) and type(train_cfg.seed) is int and type(train_cfg.lr) is float
    assert json.loads(json.dumps(train_cfg.to_dict()))["seed"] == 3
    assert type(ModelConfig(num_layers=np.int64(2)).num_layers) is int
    assert type(TrainConfig(lr=np.float64(0.5)).lr) is float and ModelConfig(bidirectional=np.bool_(False)).bidirectional is False
    with pytest.raises(ValueError, match=r"^TrainConfig\.seed must be an integer, got np\.float64\(1\.5\)$"):
        TrainConfig(seed=np.float64(1.5))
    with pytest.raises(ValueError, match=r"^TrainConfig\.epochs must be an integer"):
        TrainConfig(epochs=np.bool_(True))
