"""Training writes a complete bundle; the bundle predicts and evaluates; bad bundles are refused."""

import json
import shutil

import pytest
from safetensors.torch import load_file

from lstm_sentiment.errors import SentimentError
from lstm_sentiment.inference.model import SentimentModel


def test_bundle_files_and_metrics(small_bundle):
    path, metrics = small_bundle
    names = {p.name for p in path.iterdir()}
    assert {"model.safetensors", "config.json", "vocab.txt", "metrics.json", "README.md", "training_log.csv"} <= names
    config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    assert config["format_version"] == 1 and config["id2label"] == ["negative", "positive"]
    assert {"torch", "lightning", "jieba", "gensim"} <= set(config["versions"])
    assert config["embeddings"]["source"].startswith("shipped zh word vectors")
    # zh-reviews is part of the vectors' corpus: nearly every token has its own row, the rest subwords.
    assert 0.97 < config["embeddings"]["token_coverage"] <= 1.0
    assert config["embeddings"]["unk_token_share"] < 0.005
    # zh-reviews: Chinese but for a few texts of Latin letters alone ("good!"), none of neither script.
    assert set(config["training_scripts"]) <= {"zh", "en"} and config["training_scripts"]["zh"] > 0.99
    saved = json.loads((path / "metrics.json").read_text(encoding="utf-8"))
    test = saved["test"]
    assert test["n"] == 348 and sum(map(sum, test["confusion_matrix"])) == 348
    assert saved == metrics
    # 4 epochs on 2,800 texts: well above chance on held-out reviews.
    assert test["accuracy"] > 0.70
    log = (path / "training_log.csv").read_text().splitlines()
    assert "val_macro_f1" in log[0] and len(log) >= 3
    assert "lstm.weight_ih_l0_reverse" in load_file(path / "model.safetensors")


def test_predict_records_in_order(small_bundle):
    model = SentimentModel.load(small_bundle[0])
    texts = ["质量很好，非常满意", "", "😀😀😀", "太差了，退货"]
    records = model.predict(texts)
    assert [r["text"] for r in records] == texts
    good, empty, emoji, bad = records
    # Plain reviews the small model gets right (its test accuracy is above 0.70).
    assert good["label"] == "positive" and bad["label"] == "negative"
    assert good["score"] == pytest.approx(max(good["probs"].values()))
    assert sum(good["probs"].values()) == pytest.approx(1.0, abs=1e-6)
    assert empty == {"text": "", "label": None, "score": None, "probs": None, "error": "empty text"}
    assert emoji["warning"] == "no known words" and emoji["label"] is not None


def test_same_score_alone_and_in_a_batch_of_longer_texts(small_bundle, small_splits):
    model = SentimentModel.load(small_bundle[0])
    text = "这本书不错"
    longer = sorted(small_splits[2].texts, key=len)[-40:]
    alone = model.predict([text])[0]
    batched = model.predict(longer[:20] + [text] + longer[20:])[20]
    assert batched["label"] == alone["label"]
    assert abs(batched["score"] - alone["score"]) <= 1e-6


def test_evaluate_matches_saved_test_metrics(small_bundle, small_splits):
    path, metrics = small_bundle
    report = SentimentModel.load(path).evaluate(small_splits[2])
    assert report["accuracy"] == metrics["test"]["accuracy"]
    assert report["confusion_matrix"] == metrics["test"]["confusion_matrix"]


def test_evaluate_reports_the_calibration_error_at_t_1_too(small_splits):
    model = SentimentModel.load("zh")
    data = small_splits[2]
    report = model.evaluate(data)
    assert model.temperature != 1.0 and report["temperature"] == model.temperature
    model.temperature = 1.0  # the scores before scaling, by a second forward pass
    unscaled = model.evaluate(data)
    assert report["ece_unscaled"] == pytest.approx(unscaled["ece"], abs=1e-5)
    assert report["ece_unscaled"] != pytest.approx(report["ece"], abs=1e-3)
    assert report["accuracy"] == unscaled["accuracy"]  # a temperature changes no label


def test_evaluate_and_labelled_texts_refuse_what_cannot_be_scored():
    from lstm_sentiment.data.dataset import LabelledTexts

    with pytest.raises(ValueError, match="m.csv: 2 texts but 1 labels"):
        LabelledTexts(["好", "坏"], ["positive"], "m.csv")
    with pytest.raises(SentimentError, match="empty.csv: no labelled texts to evaluate"):
        SentimentModel.load("zh").evaluate(LabelledTexts([], [], "empty.csv"))
    # Was scored as a prediction from <unk> alone (accuracy 0 on [""]), where predict gives no label.
    for text in ("", " \n", "<br><p></p>"):
        with pytest.raises(SentimentError, match=r"m.csv: text 2 \(.*\) has nothing to read; predict gives it no label"):
            SentimentModel.load("zh").evaluate(LabelledTexts(["好", text], ["positive", "negative"], "m.csv"))


def test_predict_records_hold_plain_strings():
    import numpy as np

    record = SentimentModel.load("zh").predict(np.array(["好", "坏"]))[0]
    assert type(record["text"]) is str and record["text"] == "好"


def test_corrupt_truncated_missing_and_other_version(small_bundle, tmp_path):
    source = small_bundle[0]
    with pytest.raises(SentimentError, match="model directory not found"):
        SentimentModel.load(tmp_path / "nope")
    broken = tmp_path / "broken"
    shutil.copytree(source, broken)
    weights = (broken / "model.safetensors").read_bytes()
    (broken / "model.safetensors").write_bytes(weights[: len(weights) // 2])
    with pytest.raises(SentimentError, match=r"model\.safetensors: damaged, its SHA-256 differs"):
        SentimentModel.load(broken)
    # A bundle from before the checksum: safetensors' own checks name the fault.
    config = json.loads((broken / "config.json").read_text(encoding="utf-8"))
    del config["weights_sha256"]
    (broken / "config.json").write_text(json.dumps(config), encoding="utf-8")
    with pytest.raises(SentimentError, match="corrupt model bundle"):
        SentimentModel.load(broken)
    (broken / "model.safetensors").unlink()
    with pytest.raises(SentimentError, match="missing model.safetensors"):
        SentimentModel.load(broken)
    old = tmp_path / "old"
    shutil.copytree(source, old)
    config = json.loads((old / "config.json").read_text(encoding="utf-8"))
    config["format_version"] = 0
    (old / "config.json").write_text(json.dumps(config), encoding="utf-8")
    with pytest.raises(SentimentError, match="format_version 0, this lstm-sentiment reads 1"):
        SentimentModel.load(old)
    # Two logits under one name: a record's score (the best logit) and its probs (a dict) disagreed.
    config["format_version"] = 1
    config["id2label"] = ["negative", "negative"]
    (old / "config.json").write_text(json.dumps(config), encoding="utf-8")
    with pytest.raises(SentimentError, match=r"corrupt model bundle \(id2label names a class twice"):
        SentimentModel.load(old)
    # An edit of the informational "tokenizer" entry had no effect: "data" builds the tokenizer.
    config["id2label"] = ["negative", "positive"]
    config["tokenizer"]["max_tokens"] = 512
    (old / "config.json").write_text(json.dumps(config), encoding="utf-8")
    with pytest.raises(SentimentError, match=r"corrupt model bundle \(\"tokenizer\" says max_tokens 512, \"data\" 256; \"data\" is the one read\)"):
        SentimentModel.load(old)


def test_same_seed_same_model(small_bundle, small_splits, tmp_path):
    from conftest import SMALL_MODEL, SMALL_TRAIN

    from lstm_sentiment.config import DataConfig
    from lstm_sentiment.training.train import train

    again = tmp_path / "again"
    train(*small_splits, again, SMALL_MODEL, DataConfig(), SMALL_TRAIN)
    first, second = load_file(small_bundle[0] / "model.safetensors"), load_file(again / "model.safetensors")
    assert first.keys() == second.keys()
    for key in first:
        assert (first[key] == second[key]).all(), key


def test_long_text_truncated_with_flag_and_warning(small_bundle):
    model = SentimentModel.load(small_bundle[0])
    text = "这本书的内容很好，" * 2000 + "但是印刷太差了"
    with pytest.warns(UserWarning, match="1 text\\(s\\) longer than 256 tokens or 4,096 characters were truncated"):
        record = model.predict([text])[0]
    assert record["truncated"] is True
    # The record is the prediction for the kept head and tail: 128 words from each end.
    tokens = model.encode([text])[0].tokens
    assert len(tokens) == 256 and "".join(tokens[-4:]) == "但是印刷太差了"
    probs = model.probabilities([model.token_ids(tokens)])[0].tolist()
    assert record["probs"] == pytest.approx(dict(zip(model.id2label, probs)), abs=1e-6)
    assert record["label"] == model.id2label[max(range(len(probs)), key=probs.__getitem__)]
    # One word of 5,000 letters is cut by characters, not tokens: the warning names both limits.
    with pytest.warns(UserWarning, match="1 text\\(s\\) longer than 256 tokens or 4,096 characters were truncated"):
        record = model.predict(["a" * 5000])[0]
    assert record["truncated"] is True and len(model.encode(["a" * 5000])[0].tokens) == 2


def test_api_arguments_out_of_range_raise_named_errors():
    import torch

    from lstm_sentiment.explain import explain

    model = SentimentModel.load("zh")
    # batch_size 0 or below ran, batched by padded steps alone; a bool is no batch size.
    for bad in (0, -5, True, 2.5):
        with pytest.raises(ValueError, match="batch_size must be an int >= 1"):
            model.predict(["好"], batch_size=bad)
    with pytest.raises(ValueError, match="unknown device 'bogus'"):  # was torch's RuntimeError
        SentimentModel.load("zh", device="bogus")
    if not torch.cuda.is_available():  # was torch's AssertionError "Torch not compiled with CUDA enabled"
        with pytest.raises(SentimentError, match="device 'cuda': no CUDA device here"):
            SentimentModel.load("zh", device="cuda")
    with pytest.raises(ValueError, match="device 'meta' holds shapes, not values"):  # loaded, then predict failed
        SentimentModel.load("zh", device="meta")
    if not torch.backends.mps.is_available():  # was torch's RuntimeError "PyTorch is not linked with support for mps"
        with pytest.raises(SentimentError, match="device 'mps': "):
            SentimentModel.load("zh", device="mps")
    with pytest.raises(ValueError, match="top_units must be a positive int, got True"):
        explain(model, "好", top_units=True)


def test_public_probabilities_checks_precision_temperature_and_empty_texts():
    import torch

    from lstm_sentiment.inference.model import probabilities

    model = SentimentModel.load("zh")
    ids = [model.token_ids(model.encode(["好看"])[0].tokens)]
    # "fp16" ran float32 silently, temperature 0 gave NaN, an empty id list failed inside the LSTM.
    with pytest.raises(ValueError, match="precision must be one of float32, bfloat16, got 'fp16'"):
        probabilities(model.network, ids, precision="fp16")
    for bad in (0.0, -1.0, float("nan"), float("inf"), True):
        with pytest.raises(ValueError, match="temperature must be a finite number > 0"):
            probabilities(model.network, ids, temperature=bad)
    with pytest.raises(ValueError, match="id list 1 is empty"):
        probabilities(model.network, [ids[0], []])
    scaled = probabilities(model.network, ids, temperature=model.temperature)
    assert torch.allclose(scaled, model.probabilities(ids), atol=1e-6)


def test_a_class_the_model_never_predicts_is_named():
    # 950 positive and 50 negative texts trained a model that labels every text positive, without a word.
    from lstm_sentiment.metrics import classification_report
    from lstm_sentiment.training.train import _never_predicted, _unpredicted_warning

    labels = ["negative", "positive"]
    assert _never_predicted(classification_report([0, 1, 1, 1], [1, 1, 1, 1], labels)) == ["negative"]
    assert _never_predicted(classification_report([0, 1, 1, 1], [0, 1, 1, 0], labels)) == []
    # A class absent from the validation texts is not the model's fault.
    assert _never_predicted(classification_report([1, 1], [1, 1], labels)) == []
    # The warning's advice: --class-weight balanced only where it was not given (it was advised to a run that
    # had given it).
    report = classification_report([0, 1, 1, 1], [1, 1, 1, 1], labels)
    said = _unpredicted_warning(report, ["positive"] * 9 + ["negative"], "none")
    assert said.startswith("the model labels no validation text negative (validation macro-F1 0.4286; the training texts: positive 9, negative 1)")
    assert said.endswith(": more epochs and patience (--epochs, --patience, TrainConfig.epochs, TrainConfig.patience), class weights (--class-weight balanced, TrainConfig.class_weight), or more texts of that class, may help")
    assert _unpredicted_warning(report, ["positive", "negative"], "balanced").endswith(": more epochs and patience (--epochs, --patience, TrainConfig.epochs, TrainConfig.patience), or more texts of that class, may help")
    assert _unpredicted_warning(classification_report([0, 1], [0, 1], labels), ["positive", "negative"], "none") is None


@pytest.mark.parametrize("correct,n", [(2, 2), (0, 5), (1, 3), (1720, 2000), (1999, 2000)])
def test_the_accuracy_interval_is_wilsons_as_scipy_computes_it(correct, n):
    # An evaluation of 2 texts printed accuracy=1.0000 as plainly as one of 2,000.
    from scipy.stats import binomtest

    from lstm_sentiment.metrics import classification_report, wilson_interval

    scipy_ci = binomtest(correct, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert wilson_interval(correct, n) == pytest.approx([scipy_ci.low, scipy_ci.high], abs=1e-6)
    report = classification_report([1] * n, [1] * correct + [0] * (n - correct), ["negative", "positive"])
    assert report["accuracy_ci95"] == wilson_interval(correct, n) and report["accuracy_ci95"][0] <= report["accuracy"] <= report["accuracy_ci95"][1]
    assert wilson_interval(0, 0) is None
