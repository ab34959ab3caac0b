"""Fine-tuning (`train --init-from`): the new model starts from the bundle's vectors, LSTM and head."""

import json
import re

import torch

from conftest import assert_one_line_error, run_cli

from lstm_sentiment.bundle import load_bundle
from lstm_sentiment.config import ModelConfig
from lstm_sentiment.training.train import _from_bundle


def _start(small_bundle, labels, words):
    base = load_bundle(small_bundle[0])
    cfg = ModelConfig.from_dict(base[3]["model"])
    return base, _from_bundle(base, cfg, labels, [words], seed=0, name="small")


def test_same_labels_keep_lstm_head_and_vectors(small_bundle):
    base, (model, vocab, coverage, _) = _start(small_bundle, ["negative", "positive"], ["喜欢", "超级无敌好看"])
    network, old_vocab = base[0], base[1]
    for name, value in network.state_dict().items():
        if name != "embedding.weight":
            torch.testing.assert_close(model.state_dict()[name], value, msg=name)
    assert coverage["head"] == "kept" and coverage["words_added"] == 1
    # Old rows unchanged; the new word's row is its subword vector.
    torch.testing.assert_close(model.embedding.weight[: len(old_vocab)], network.embedding.weight)
    torch.testing.assert_close(model.embedding.weight[vocab.stoi["超级无敌好看"]], network.subword_vector("超级无敌好看"))


def test_other_labels_get_a_new_head(small_bundle):
    base, (model, _, coverage, _) = _start(small_bundle, ["1", "2", "3"], ["喜欢"])
    assert coverage["head"] == "new" and model.classifier.out_features == 3
    torch.testing.assert_close(model.lstm.weight_hh_l0, base[0].lstm.weight_hh_l0)


def test_cli_init_from_trains_and_records_it(small_bundle, small_splits, tmp_path):
    train, valid, _ = small_splits
    data = tmp_path / "few.csv"
    rows = list(zip(train.texts, train.labels))[::9]  # both classes (the corpus lists positives first)
    data.write_text("text,label\n" + "".join(f'"{t.replace(chr(34), "")}",{y}\n' for t, y in rows), encoding="utf-8")
    out = tmp_path / "tuned"
    result = run_cli("train", "--data", str(data), "--out", str(out), "--epochs", "1", "--init-from", str(small_bundle[0]))
    assert result.returncode == 0, result.stderr[-2000:]
    config = json.loads((out / "config.json").read_text(encoding="utf-8"))
    assert config["init_from"] == str(small_bundle[0])
    assert config["model"]["hidden_size"] == 32  # the base's architecture, not the defaults
    assert config["temperature"] > 0
    # The base on the same validation split, for the warning when the fine-tuned model ends below it.
    from lstm_sentiment.inference.model import SentimentModel
    from lstm_sentiment.training.splits import training_splits

    base = SentimentModel.load(small_bundle[0]).evaluate(training_splits(str(data))[1])["macro_f1"]
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert abs(metrics["base_validation_macro_f1"] - base) < 1e-6
    worse = run_cli("train", "--data", str(data), "--out", str(tmp_path / "worse"), "--epochs", "1", "--lr", "3", "--init-from", str(small_bundle[0]))
    assert worse.returncode == 0, worse.stderr[-2000:]
    tuned = json.loads((tmp_path / "worse" / "metrics.json").read_text(encoding="utf-8"))["validation"]["macro_f1"]
    assert tuned < base and f"warning: the fine-tuned model is below its base {small_bundle[0]} on {data}:validation: macro-F1 {tuned:.4f} against {base:.4f}" in worse.stderr
    # The card said neither that the model was fine-tuned nor how its base had scored.
    card = (tmp_path / "worse" / "README.md").read_text(encoding="utf-8")
    assert f"Fine-tuned from the bundle {small_bundle[0]} (its word vectors, LSTM and head): the base scored validation macro-F1 {base:.4f} before training, this model {tuned:.4f} (not above it)." in card


def test_a_bad_base_is_named_before_the_data_is_read(tmp_path):
    # A missing or corrupt --init-from was named after the whole --data file had been read and deduplicated
    # (here a file with no label column, which would have been named first); '' too, as --model '' is.
    data = tmp_path / "d.csv"
    data.write_text("text,stars\n好看,5\n难看,1\n", encoding="utf-8")
    result = run_cli("train", "--data", str(data), "--out", str(tmp_path / "m"), "--init-from", str(tmp_path / "nope"))
    assert_one_line_error(result, 1, rf"^error: {re.escape(str(tmp_path / 'nope'))}: model directory not found$")
    result = run_cli("train", "--data", str(data), "--out", str(tmp_path / "m"), "--init-from", "")
    assert_one_line_error(result, 1, r"^error: an empty model path; give a bundle directory, or zh or en$")
    assert not (tmp_path / "m").exists()
