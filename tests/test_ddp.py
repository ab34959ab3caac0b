"""Lightning DDP: two CPU processes (gloo) train one model; the bundle is written once and loads."""

import csv
import json

import pytest

from conftest import assert_one_line_error, run_cli

from lstm_sentiment.data import read_labelled, stratified_split
from lstm_sentiment.inference.model import SentimentModel


@pytest.mark.slow
def test_two_process_cpu_ddp_training(small_splits, tmp_path):
    train, valid, _ = small_splits
    data = tmp_path / "small.csv"
    with open(data, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        for text, label in list(zip(train.texts, train.labels))[::4] + list(zip(valid.texts, valid.labels)):
            writer.writerow([text, label])
    out = tmp_path / "ddp-model"
    result = run_cli(
        "train", "--data", str(data), "--out", str(out), "--epochs", "1",
        "--hidden-size", "16",
        "--accelerator", "cpu", "--devices", "2", "--strategy", "ddp", timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stderr.count(f"wrote {out}") == 1  # only global rank 0 writes
    # The second process read the same data: its progress and warnings came out a second time.
    assert result.stderr.count("vocabulary ") == 1, result.stderr
    assert result.stderr.count("small.csv:train:") == 1 and "were truncated" in result.stderr, result.stderr
    assert "world_size: 2" in result.stderr or "distributed_backend=gloo" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ddp-model", "small.csv"]  # no temp dirs left
    # The bundle holds the trained weights: on the held-out 10 % of the file (train's default split) they
    # give the test figures recorded at training time.
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    held_out = stratified_split(read_labelled(data))[2]
    report = SentimentModel.load(out).evaluate(held_out)
    assert report["n"] == metrics["test"]["n"] > 0
    assert report["confusion_matrix"] == metrics["test"]["confusion_matrix"]


def test_fewer_batches_than_processes_is_one_line_before_they_start(tmp_path):
    # 48 training texts are one batch of 64: each process got none, and the run ended in
    # "error: No such file or directory" (no checkpoint to load) after starting both.
    data = tmp_path / "d.csv"
    data.write_text("text,label\n" + "".join(f"第{i}家店真好吃,1\n第{i}家店太难吃,0\n" for i in range(30)), encoding="utf-8")
    result = run_cli("train", "--data", str(data), "--out", str(tmp_path / "m"), "--epochs", "1", "--accelerator", "cpu", "--devices", "2", "--strategy", "ddp")
    assert_one_line_error(result, 1, r"^error: 48 training texts make 1 batch\(es\) of 64, fewer than the 2 processes: lower the batch size or the devices \(--batch-size, --devices, TrainConfig.batch_size, TrainConfig.devices\)$")
    assert "Initializing distributed" not in result.stderr and not (tmp_path / "m").exists()
