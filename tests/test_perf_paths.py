"""The fast paths give the same results as the plain ones: padded LSTM, t2s check, parallel and streamed
prediction, lazy file reading, streamed writing, lazy imports. Correctness only; speed is measured by
bench/run.py, never here."""

import csv
import io
import json
import subprocess
import sys

import pytest
import torch

from conftest import run_cli
from lstm_sentiment.core import LSTM
from lstm_sentiment.data.files import iter_texts, read_texts
from lstm_sentiment.errors import SentimentError
from lstm_sentiment.output import records_to_text, write_records
from lstm_sentiment.inference.model import SentimentModel
from lstm_sentiment.inference.stream import iter_predictions, predict_file
from lstm_sentiment.text import normalize as normalize_module
from lstm_sentiment.inference.batches import length_batches, pad_batch


def assert_same_records(got: list[dict], want: list[dict]) -> None:
    """The same records in the same order: every field equal, except that probabilities may differ in the
    last bits of float32 (a text's batch differs between chunkings, and a kernel's float32 sums may
    depend on the batch's size)."""
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.keys() == w.keys() and {k: v for k, v in g.items() if k not in ("score", "probs")} == {k: v for k, v in w.items() if k not in ("score", "probs")}, (g, w)
        if w["score"] is None:
            assert g["score"] is None and g["probs"] is None
            continue
        assert g["score"] == pytest.approx(w["score"], abs=1e-6) and g["probs"].keys() == w["probs"].keys()
        assert all(g["probs"][k] == pytest.approx(v, abs=1e-6) for k, v in w["probs"].items())


@pytest.fixture(scope="module")
def texts(small_splits):
    """A few hundred real zh-reviews texts with empty, blank, emoji-only, traditional and English lines."""
    real = small_splits[2].texts[:300]
    extra = ["", "   ", "😀😀😀", "這部電影真的很好看", "a gripping , beautifully acted film", "剧情太boring了"]
    out = []
    for i, text in enumerate(real):
        out.append(text)
        if i % 50 == 0:
            out.append(extra[(i // 50) % len(extra)])
    return out + extra


@pytest.mark.parametrize("num_layers,bidirectional", [(1, False), (2, False), (1, True), (2, True)])
@pytest.mark.parametrize("given_state", [False, True])
def test_padded_path_matches_packed(num_layers, bidirectional, given_state):
    torch.manual_seed(0)
    lstm = LSTM(5, 7, num_layers=num_layers, bidirectional=bidirectional)
    x = torch.randn(4, 6, 5, requires_grad=True)
    lengths = torch.tensor([6, 3, 1, 5])
    state = None
    if given_state:
        shape = (num_layers * lstm.num_directions, 4, 7)
        state = (torch.randn(shape), torch.randn(shape))
    out_p, (h_p, c_p) = lstm(x, lengths, state)  # packed sequences
    out_d, (h_d, c_d) = lstm(x, lengths, state, cell_state=False)  # padded batch, oneDNN
    assert c_d is None and c_p is not None
    torch.testing.assert_close(out_d, out_p, atol=1e-6, rtol=0)
    torch.testing.assert_close(h_d, h_p, atol=1e-6, rtol=0)
    assert float(out_d[2, 1:].abs().max()) == 0.0  # zeros past the length
    params = [x, *lstm.parameters()]
    for got, want in zip(torch.autograd.grad(out_d.sum() + h_d.sum(), params), torch.autograd.grad(out_p.sum() + h_p.sum(), params)):
        torch.testing.assert_close(got, want, atol=1e-5, rtol=0)


def test_pad_batch_and_length_batches():
    lists = [[5, 6, 7], [8], [9, 10], [11] * 40]
    ids, lengths = pad_batch(lists)
    assert lengths.tolist() == [3, 1, 2, 40]
    for row, x in enumerate(lists):
        assert ids[row, : len(x)].tolist() == x and not ids[row, len(x) :].any()
    sizes = [3, 1, 200, 2, 50, 50, 7, 1]
    batches = length_batches(sizes, batch_size=3, batch_tokens=120)
    assert sorted(i for b in batches for i in b) == list(range(len(sizes)))
    for batch in batches:
        assert len(batch) <= 3 and (len(batch) == 1 or len(batch) * max(sizes[i] for i in batch) <= 120)
    assert [sizes[b[0]] for b in batches] == sorted(sizes[b[0]] for b in batches)  # shortest first


def test_t2s_check_skips_only_texts_that_would_not_change(small_splits):
    converter = normalize_module._t2s()
    needed = normalize_module.t2s_chars()
    keys = [key for group in converter._dict_chain_data for _, _, table in group for key in table]
    samples = keys + small_splits[0].texts[:1000] + ["這部電影真的很好看", "么麽", "什么", "乾隆"]
    for text in samples:
        if needed.isdisjoint(text):
            assert converter.convert(text) == text, text
    assert normalize_module.normalize("這部電影<br />真的很ＧＯＯＤ！") == "这部电影 真的很good!"


def test_normalize_equals_every_step_applied(small_splits):
    import html
    import unicodedata

    converter = normalize_module._t2s()

    def reference(text: str) -> str:  # every step on every text, in the docstring's order, none skipped
        text = unicodedata.normalize("NFKC", normalize_module._APOSTROPHE.sub("'", text))
        text = normalize_module._CONTROL.sub("", normalize_module._TAG.sub(" ", html.unescape(text)))
        text = converter.convert(normalize_module._MENTION.sub(" ", normalize_module._LINK.sub(" ", text)))
        return " ".join(text.split()).lower()

    samples = small_splits[0].texts[:1000] + ["這部電影真的很好看", "ＡＢＣ１２３ 很好", "ﬁne &amp; 好", "①②", "乾隆 什么", "看 WWW.SITE.COM 好", "好 @张三 的"]
    # The reference once took tags before entities and left out the apostrophe and control rules, and no
    # sample could tell.
    samples += ["good &lt;br /&gt; film", "isn\u2019t good", "好\u200b看", "❤\ufe0f 好", "a\x1bb 好"]
    for text in samples:
        assert normalize_module.normalize(text) == reference(text), text


def test_segment_zh_gives_jieba_words(small_splits):
    import jieba

    from lstm_sentiment.text.tokenize import _HAN_BLOCK, _SKIP, _rjieba, segment_zh

    assert _rjieba() is not None, "rjieba (jieba-rs) is a dependency"
    assert (_HAN_BLOCK.pattern, _SKIP.pattern) == (jieba.re_han_default.pattern, jieba.re_skip_default.pattern)
    special = ["剧情太boring了", "iphone 12 pro-max 好用!!", "100% 满意 #1", "适合3-4岁 www.a.com 3.5分", "a  b\tc", "中文\r\n英文", "c++和c#", ""]
    for text in [normalize_module.normalize(t) for t in small_splits[0].texts[:1500]] + special:
        assert segment_zh(text) == jieba.lcut(text), text


def test_streamed_and_parallel_predict_match_predict(small_bundle, texts):
    model = SentimentModel.load(small_bundle[0])
    want = model.predict(texts)
    assert [r["text"] for r in want] == texts
    # One chunk holding every text: the same batches as predict, so bit for bit the same records.
    assert list(iter_predictions(iter(texts), model, chunk_size=10_000, workers=2)) == want
    for chunk_size, workers in ((64, 0), (64, 2)):
        assert_same_records(list(iter_predictions(iter(texts), model, chunk_size=chunk_size, workers=workers)), want)
    # By path, as the CLI loads it.
    assert_same_records(list(iter_predictions(texts, str(small_bundle[0]), chunk_size=100, workers=2)), want)


def test_bfloat16_predict_is_close_and_the_same_in_workers(small_bundle, texts):
    want = SentimentModel.load(small_bundle[0]).predict(texts)
    bf16 = SentimentModel.load(small_bundle[0], precision="bfloat16")
    got = bf16.predict(texts)
    # bfloat16 keeps 8 significant bits: probabilities move, by far less than the distance between classes.
    for g, w in zip(got, want):
        assert g.keys() == w.keys() and (g["score"] is None) == (w["score"] is None)
        if w["score"] is not None:
            assert max(abs(g["probs"][k] - v) for k, v in w["probs"].items()) < 0.03, (g, w)
    assert sum(g["label"] != w["label"] for g, w in zip(got, want)) <= len(texts) // 100
    # Workers load the model by path and keep its precision: one chunk, one task, the same batches.
    assert list(iter_predictions(iter(texts), bf16, chunk_size=10_000, workers=2)) == got
    assert list(iter_predictions(iter(texts), str(small_bundle[0]), chunk_size=10_000, precision="bfloat16")) == got
    with pytest.raises(ValueError, match="precision must be one of float32, bfloat16, got 'float16'"):
        SentimentModel.load(small_bundle[0], precision="float16")
    # Set after loading: checked the same way, the old value kept (an unchecked "fp16" ran float32).
    with pytest.raises(ValueError, match="got 'fp16'"):
        bf16.precision = "fp16"
    assert bf16.precision == "bfloat16" and bf16.predict(texts) == got


def test_worker_errors_reach_the_caller(tmp_path):
    with pytest.raises(SentimentError, match="no-such-model"):
        list(iter_predictions(["很好"], str(tmp_path / "no-such-model"), workers=2))
    source = tmp_path / "in.txt"
    source.write_text("很好\n", encoding="utf-8")
    result = run_cli("predict", "--model", str(tmp_path / "no-such-model"), "--input", str(source), "--output", str(tmp_path / "out.jsonl"), "--workers", "2")
    assert result.returncode == 1 and "Traceback" not in result.stderr and "no-such-model" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.txt"]


@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv"])
def test_predict_file_streams_the_same_bytes(small_bundle, texts, tmp_path, fmt):
    model = SentimentModel.load(small_bundle[0])
    out = tmp_path / f"out.{fmt}"
    counter = predict_file(texts, out, fmt, model, workers=2)  # one chunk: the same batches as predict
    assert counter.count == len(texts) and counter.failed == sum(1 for t in texts if not t.strip())
    assert out.read_text(encoding="utf-8") == records_to_text(model.predict(texts), fmt)
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no temporary left behind


def test_cli_streams_file_to_file_in_order(small_bundle, texts, tmp_path):
    source = tmp_path / "in.txt"
    source.write_text("\n".join(texts) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = run_cli("predict", "--model", str(small_bundle[0]), "--input", str(source), "--output", str(out), "--workers", "2")
    assert result.returncode == 0, result.stderr
    assert f"wrote {len(texts)} records to {out}" in result.stderr
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert records == SentimentModel.load(small_bundle[0]).predict(texts)  # one chunk: bit for bit


def test_bad_line_late_in_file_leaves_old_output_with_strict(small_bundle, tmp_path):
    source = tmp_path / "in.txt"
    source.write_bytes("很好\n".encode() * 30 + b"\xff\n")
    out = tmp_path / "out.jsonl"
    out.write_text("old\n", encoding="utf-8")
    result = run_cli("predict", "--model", str(small_bundle[0]), "--input", str(source), "--output", str(out), "--strict")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "line 31 is not UTF-8 (byte 0xff)" in result.stderr
    assert out.read_text(encoding="utf-8") == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.txt", "out.jsonl"]


@pytest.mark.parametrize(
    "name,content,expected",
    [
        ("a.txt", "\ufeff好\n\n\ufeff坏\r\n中\u2028间\rx\n最后", ["好", "", "\ufeff坏", "中\u2028间\rx", "最后"]),  # LF and CRLF end lines, not U+2028 or a lone CR
        ("b.txt", "", []),
        ("c.csv", "\ufefftext,label\n\"多\n行\",1\n,0\n好,1\n", ["多\n行", "", "好"]),
        ("d.tsv", "review\tx\n好\t1\n", ["好"]),
        ("e.jsonl", '{"text": "好"}\n{"text": ""}\n{"other": 1, "text": "差"}\n', ["好", "", "差"]),  # null, missing, 3: bad lines (test_new_user)
    ],
)
def test_iter_texts_reads_as_the_whole_file_would(tmp_path, name, content, expected):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    assert list(iter_texts(path)) == expected == read_texts(path)


def test_write_records_streamed_equals_records_to_text():
    records = [
        {"text": '好\n"x",\u2028y', "label": "positive", "score": 0.25, "probs": {"negative": 0.75, "positive": 0.25}},
        {"text": "", "label": None, "score": None, "probs": None, "error": "empty text"},
        {"text": "😀", "label": "negative", "score": 0.5, "probs": {"negative": 0.5, "positive": 0.5}, "warning": "no known words", "truncated": True},
    ]
    for case in (records, records[1:2], []):
        for fmt in ("jsonl", "json", "csv"):
            stream = io.StringIO()
            write_records(iter(case), fmt, stream)
            assert stream.getvalue() == records_to_text(case, fmt)
    assert records_to_text(records, "json") == json.dumps(records, ensure_ascii=False, indent=2) + "\n"
    # --lang auto: records name their model, and a CSV gets the column once any record does, spooled or not.
    named = [records[1], records[0] | {"model": "zh"}, records[2] | {"model": "en"}]
    for fmt in ("csv", "tsv"):
        stream = io.StringIO()
        write_records(iter(named), fmt, stream)
        assert stream.getvalue() == records_to_text(named, fmt)
    rows = list(csv.reader(io.StringIO(records_to_text(named, "csv"), newline="")))
    assert rows[0] == ["text", "label", "score", "model", "prob_negative", "prob_positive", "flags"]
    assert [row[3] for row in rows[1:]] == ["", "zh", "en"]


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["predict", "--help"],
        # A mistyped setting was refused only after torch and Lightning loaded: 5.5 s for one line.
        ["train", "--data", "zh-reviews", "--out", "never-written", "--epochs", "0"],
        ["train", "--data", "zh-reviews", "--out", "never-written", "--chrono-t-max", "5"],
        ["longrange", "--quick", "--out", "never-written", "--lr", "inf"],
        ["predict", "--strict", "好"],
        ["explain", "好", "--max-units", "3"],
        ["explain", "好", "--png", "x.txt"],
    ],
)
def test_help_and_mistyped_settings_do_not_import_torch(args):
    code = (
        "import sys\n"
        f"sys.argv = ['lstm-sentiment', *{args!r}]\n"
        "from lstm_sentiment.cli import app\n"
        "try:\n    app()\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('torch', 'lightning', 'gensim', 'jieba', 'torchmetrics', 'snownlp') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "HEAVY []" in result.stdout, result.stdout[-500:]


class _Counted:
    """The texts "0" … "n-1", counting how many a reader has taken."""

    def __init__(self, n: int) -> None:
        self.n, self.pulled = n, 0

    def __iter__(self):
        for i in range(self.n):
            self.pulled += 1
            yield str(i)


def test_a_live_input_is_read_at_most_a_chunk_ahead_and_whole():
    # The reader thread of a pipe is bounded (memory: two chunks at most) and loses or reorders nothing.
    import time

    from lstm_sentiment.inference.stream import _live_chunks

    texts = _Counted(95)
    chunks = (chunk for chunk in _live_chunks(iter(texts), 10, wait=0.5) if chunk)
    first = next(chunks)
    time.sleep(0.3)  # the reader has had time to run ahead, as far as it may
    assert first == [str(i) for i in range(10)] and texts.pulled == 20
    assert [text for chunk in chunks for text in chunk] == [str(i) for i in range(10, 95)]


def test_a_live_input_left_early_stops_its_reader():
    # A caller that left the loop (a library user's break) left the reader thread blocked for good.
    import threading
    import time

    from lstm_sentiment.inference.stream import _live_chunks

    texts = _Counted(1000)
    chunks = _live_chunks(iter(texts), 10, wait=0.5)
    assert next(chunks) == [str(i) for i in range(10)]
    chunks.close()
    deadline = time.monotonic() + 5
    while any(t.name == "lstm-sentiment-input" for t in threading.enumerate()) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not any(t.name == "lstm-sentiment-input" for t in threading.enumerate()) and texts.pulled <= 30


def test_the_worker_pool_loads_its_models_on_the_cpu(monkeypatch):
    # The pool's workers are forked CPU processes: a model loaded on CUDA (the default where there is one)
    # in the parent could not be used in them ("Cannot re-initialize CUDA in forked subprocess").
    from lstm_sentiment.inference import pool
    from lstm_sentiment.inference.routing import ModelRef

    asked = []
    monkeypatch.setattr(pool, "_models", {})
    monkeypatch.setattr(SentimentModel, "load", classmethod(lambda cls, name, device=None, precision="float32": asked.append(device)))
    pool._model(ModelRef("zh"))
    assert asked == ["cpu"]
