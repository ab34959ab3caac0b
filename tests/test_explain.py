"""explain: fidelity to predict, per-step values, narration, CJK glyphs in the heatmaps, a self-contained
page in headless Chromium, and the command line."""

from __future__ import annotations

import dataclasses
import io
import json
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import run_cli
from lstm_sentiment.config import ModelConfig
from lstm_sentiment.errors import SentimentError
from lstm_sentiment.models.classifier import SentimentLSTM
from lstm_sentiment.explain import explain
from lstm_sentiment.explain.walk import Explanation, signed
from lstm_sentiment.inference.model import SentimentModel, default_model_path
from lstm_sentiment.text.tokenize import Tokenizer
from lstm_sentiment.text.vocab import UNK_ID, Vocab

TOL = 1e-5
ZH_TEXTS = [
    "我喜欢这个电影",
    "我不喜欢这个电影",
    "剧情拖沓，演员演技也很差，浪费时间",
    "物流很快，包装完好，质量不错，会回购",
    "这个犇犇的东西 zzqqx 真好",  # words the vocabulary has never seen
]
EN_TEXTS = [
    "i loved this movie",
    "this movie was not good at all",
    "an utterly boring , pointless film",
    "the zxqvj acting was superb",
]
LONG_ZH = "这家店的服务很好，" * 120  # far more than 256 tokens


def check_fidelity(model: SentimentModel, text: str) -> Explanation:
    """The explanation explains what predict runs: same label, same probabilities, prefix by prefix."""
    expl = explain(model, text)
    record = model.predict([text])[0]
    assert expl.label == record["label"]
    assert abs(expl.score - record["score"]) <= TOL
    for label, p in record["probs"].items():
        assert abs(expl.probs[expl.labels.index(label)] - p) <= TOL
    assert np.abs(expl.running_probs[-1] - expl.probs).max() <= TOL
    assert expl.explicit_max_abs_diff <= TOL, "explicit path (gate trace) and predict's path disagree"
    assert bool(record.get("truncated", False)) == expl.truncated
    # Each prefix alone, in a batch of one, gives the running prediction recorded for it.
    ids = model.token_ids(expl.words)
    for t in sorted({1, len(ids) // 2 + 1, len(ids)}):
        alone = model.probabilities([ids[:t]])[0].double().numpy()
        assert np.abs(alone - expl.running_probs[t - 1]).max() <= TOL
    return expl


def tiny_model(labels=("negative", "positive"), max_tokens=256, **config) -> SentimentModel:
    """Random weights, any architecture ``train`` can produce; no training needed to check the bookkeeping."""
    torch.manual_seed(0)
    vocab = Vocab(["<pad>", "<unk>", "我", "喜欢", "这个", "电影", "不", "i", "like", "this", "movie"])
    cfg = ModelConfig(embedding_dim=6, hidden_size=5, **config)
    network = SentimentLSTM(len(vocab), len(labels), cfg).eval()
    return SentimentModel(network, vocab, Tokenizer("auto", max_tokens), {"id2label": list(labels), "model": cfg.to_dict()}, Path("tiny"))


# --- fidelity -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ZH_TEXTS)
def test_fidelity_on_a_freshly_trained_model(small_model, text):
    check_fidelity(small_model, text)


@pytest.mark.parametrize("name", ["zh", "en"])
def test_fidelity_on_the_shipped_models(name):
    path = default_model_path(name)
    assert (path / "config.json").is_file(), f"shipped model {name!r} is missing at {path}"
    model = SentimentModel.load(name)
    for text in ZH_TEXTS if name == "zh" else EN_TEXTS:
        check_fidelity(model, text)


def test_long_text_is_truncated_as_predict_does(small_model):
    expl = check_fidelity(small_model, LONG_ZH)
    assert expl.truncated and len(expl) == small_model.tokenizer.max_tokens
    assert "truncated as predict does" in expl.note
    assert expl.words == small_model.encode([LONG_ZH])[0].tokens
    # Cut by characters, not tokens: one word of 8,193 letters gave two tokens and a note of 512 tokens.
    max_tokens = small_model.tokenizer.max_tokens
    one_word = explain(small_model, "a" * (16 * max_tokens + 1))
    assert one_word.truncated and len(one_word) == 2
    assert one_word.note.startswith(f"text longer than the model's maximum of {max_tokens} tokens or {16 * max_tokens:,} characters: truncated as predict does")


@pytest.mark.parametrize(
    "config",
    [
        {"bidirectional": False},
        {"num_layers": 2, "pooling": "last"},
        {"num_layers": 2, "bidirectional": True, "pooling": "max"},
        {"bidirectional": False, "pooling": "mean", "labels": ("negative", "neutral", "positive")},
    ],
    ids=["uni", "2-layer-last", "2-layer-bi-max", "3-classes"],
)
def test_any_architecture(config):
    config = dict(config)
    labels = config.pop("labels", ("negative", "positive"))
    model = tiny_model(labels, **config)
    expl = check_fidelity(model, "我不喜欢这个电影 xyz")
    layers = config.get("num_layers", 1)
    directions = 2 if config.get("bidirectional", True) else 1
    assert [len(layer) for layer in expl.layers] == [directions] * layers
    assert expl.running_probs.shape == (len(expl), len(labels))
    data = json.loads(expl.to_json())
    assert len(data["layers"]) == layers and len(data["layers"][-1]["directions"]) == directions
    if directions == 1:
        with pytest.raises(ValueError, match="unidirectional"):
            expl.trace(0, "reverse")
    with pytest.raises(ValueError, match="out of range"):
        expl.trace(layers, "forward")


# --- the values -----------------------------------------------------------------------------------------


def test_step_values_match_the_gate_trace(small_model):
    text = "我不喜欢这个电影"
    expl = explain(small_model, text, top_units=4)
    ids = small_model.token_ids(expl.words)
    with torch.inference_mode():
        _, trace = small_model.network(torch.tensor([ids]), torch.tensor([len(ids)]), return_trace=True)
    for d, direction in enumerate(("forward", "reverse")):
        gates = trace[0][d]
        ours = expl.trace(0, direction)
        for name in "ifgo":
            values = getattr(gates, name)[0].numpy()
            np.testing.assert_allclose(ours.means[name], values.mean(1), atol=1e-6)
            # the most active unit is the one of largest |value|, and there are 4 of them per step
            assert ours.top_index[name].shape == (len(ids), 4)
            np.testing.assert_array_equal(ours.top_index[name][:, 0], np.abs(values).argmax(1))
        c = gates.c[0].numpy()
        np.testing.assert_allclose(ours.cell_norm, np.linalg.norm(c, axis=1), rtol=1e-6)
        np.testing.assert_allclose(ours.hidden_norm, np.linalg.norm(gates.h[0].numpy(), axis=1), rtol=1e-6)
        # c_{t-1} is the state before step t in reading order, zero before the first step read
        padded = np.vstack([np.zeros_like(c[:1]), c, np.zeros_like(c[:1])])
        before = padded[:-2] if direction == "forward" else padded[2:]
        np.testing.assert_allclose(ours.cell_delta_norm, np.linalg.norm(c - before, axis=1), rtol=1e-5, atol=1e-6)
        assert (ours.units["f"] > 0).all() and (ours.units["f"] < 1).all()
        assert (np.abs(ours.units["g"]) < 1).all()


@pytest.mark.parametrize("text", ["剧情拖沓，演员演技也很差，浪费时间", "这部电影很好看☃☃☃"])
def test_contributions_are_occlusion_by_unk_and_unk_left_out(small_model, text):
    # A token read as <unk> was "replaced" by itself and showed 0: emoji that turned a text negative were
    # never named, and the words they outweighed were. It is left out instead.
    expl = explain(small_model, text)
    ids = small_model.token_ids(expl.words)
    best = expl.label_index
    for j in range(len(ids)):
        occluded = ids[:j] + ([] if ids[j] == UNK_ID else [UNK_ID]) + ids[j + 1 :]
        p = float(small_model.probabilities([occluded])[0, best])
        assert abs(expl.contributions[j] - (expl.score - p)) <= TOL
    if "☃" in text:
        unknown = [j for j, known in enumerate(expl.in_vocab) if not known]
        assert len(unknown) == 3 and all(abs(expl.contributions[j]) > 1e-4 for j in unknown)
    assert explain(small_model, "☃").contributions.tolist() == [0.0]  # alone: nothing to leave it out of


def test_unknown_words_are_shown_as_unk_not_dropped(small_model):
    # zzqqx, never seen, is read through its character n-grams; ☃ has no letter to read: <unk>.
    expl = explain(small_model, "这个犇犇的东西 zzqqx ☃ 真好")
    k = expl.words.index("zzqqx")
    assert expl.tokens[k] == "zzqqx" and expl.in_vocab[k] and expl.contributions[k] != 0.0
    j = expl.words.index("☃")
    assert expl.tokens[j] == "<unk>" and not expl.in_vocab[j]
    data = expl.to_dict()
    assert data["steps"][j]["token"] == "<unk>" and data["steps"][j]["word"] == "☃"
    from lstm_sentiment.explain.tables import to_markdown

    assert "\\<unk\\> (☃)" in to_markdown(expl)  # escaped: a bare <unk> is an HTML tag to Markdown, shown as nothing


def test_markdown_shows_the_text_as_written_not_as_markup(small_model):
    from markdown_it import MarkdownIt  # rich's own Markdown parser (CommonMark)

    from lstm_sentiment.explain.narrate import narrate
    from lstm_sentiment.explain.tables import to_markdown

    text = "这个 *真* 好 __很__ <b>棒</b> [链接](x) `代码` a|b ☃"
    expl = explain(small_model, text)
    page = MarkdownIt("commonmark").enable("table").render(to_markdown(expl, narration=narrate(expl, "en")))
    for tag in ("<em>", "<strong>很", "<b>", "<a ", "<code>代码"):
        assert tag not in page
    assert "&lt;b&gt;棒&lt;/b&gt;" in page and "*真*" in page and "__很__" in page and "[链接](x)" in page
    assert "&lt;unk&gt; (☃)" in page  # in the table and in the narration
    # the step table keeps its 11 columns: a | in the text splits no cell
    assert all(row.count("<td") == 11 for row in page.split("<tr>")[2:2 + len(expl)])
    # A line of the text that reads as Markdown made a heading of the report ("# heading", "---" under a line).
    lines = explain(small_model, "很好\n# heading\n很差\n---\r\n好")
    page = MarkdownIt("commonmark").enable("table").render(to_markdown(lines))
    assert "<h1>" not in page and "<h2>" not in page and "<hr" not in page
    assert "很好<br># heading<br>很差<br>---<br>好" in page
    # An ESC sequence went into the report raw, and recoloured the terminal it was printed in; the narration
    # was headed in English above Chinese prose.
    coloured = explain(small_model, "好 \x1b[31m红 电影")
    report = to_markdown(coloured, narration=narrate(coloured, "zh"), narration_lang="zh")
    assert f"**Model:** {small_model.path.name}  " in report and "\x1b" not in report and "**Text:** 好 \\x1b\\[31m红 电影" in report and "\n### 逐步讲解\n" in report


def test_markdown_escape_keeps_any_text_as_written():
    import html
    import random

    from markdown_it import MarkdownIt

    from lstm_sentiment.explain.tables import _escape

    # Random runs of Markdown's active characters beside letters, Han and underscores (h_t stays unescaped).
    md, rng, alphabet = MarkdownIt("commonmark"), random.Random(0), list("_*a 很h{}[]()`<>&|~\\!#")
    for _ in range(3000):
        text = "x " + "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12))) + " y"
        rendered = md.renderInline(_escape(text))
        assert "<" not in rendered and html.unescape(rendered) == text, (text, rendered)
    assert _escape("h_t, c_{t+1}") == "h_t, c_{t+1}"


def test_explain_takes_one_string():
    model = SentimentModel.load("zh")
    for text in (None, ["好"], b"\xe5\xa5\xbd"):
        with pytest.raises(TypeError, match="text must be one string"):
            explain(model, text)
    # A name in the model's place failed inside str.encode ("argument 'encoding' must be str, not list").
    with pytest.raises(TypeError, match=r"model must be a loaded SentimentModel \(SentimentModel\.load\('zh'\) loads one\), got str"):
        explain("zh", "好")


def test_empty_text_is_refused(small_model):
    for text in ("", "   \n\t"):
        with pytest.raises(SentimentError, match="empty text"):
            explain(small_model, text)


def test_json_schema(small_model):
    expl = explain(small_model, "我喜欢这个电影")
    data = json.loads(expl.to_json())
    assert data["schema_version"] == 1
    assert set(data) >= {"text", "lang", "labels", "label", "score", "probs", "truncated", "max_tokens", "note", "tokens",
                         "words", "in_vocab", "steps", "contributions", "layers", "fidelity"}
    n = len(data["tokens"])
    assert len(data["steps"]) == len(data["contributions"]) == len(data["in_vocab"]) == n
    step = data["steps"][-1]
    assert step["t"] == n and step["running_label"] == data["label"]
    assert abs(step["running_probs"][data["label"]] - data["score"]) <= TOL
    gates = data["layers"][0]["directions"][1]["steps"][0]
    assert data["layers"][0]["directions"][1]["direction"] == "reverse"
    for key in ("forget_gate", "input_gate", "candidate", "output_gate"):
        assert set(gates[key]) == {"mean", "top_units"} and set(gates[key]["top_units"][0]) == {"unit", "value"}
    assert {"cell_norm", "hidden_norm", "cell_delta_norm"} <= set(gates)
    units = data["layers"][0]["directions"][0]["units"]
    assert set(units) == {"input_gate", "forget_gate", "candidate", "output_gate", "cell_state", "hidden_state"}
    assert np.array(units["cell_state"]).shape == (n, 32)


# --- narration ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_narration_tells_every_step_with_the_measured_values(small_model, lang):
    from lstm_sentiment.explain.narrate import _TEXT, _first_words, label_name, narrate

    expl = explain(small_model, "我不喜欢这个电影")
    paragraphs = narrate(expl, lang)
    assert len(paragraphs) == len(expl) + 1
    trace = expl.trace()
    for t, paragraph in enumerate(paragraphs[:-1], start=1):
        assert paragraph.startswith(f"t={t}")
        assert expl.words[t - 1] in paragraph
        assert f"{trace.means['f'][t - 1]:.2f}" in paragraph and f"{trace.cell_norm[t - 1]:.2f}" in paragraph
        label, score = expl.running(t)
        assert f"{score:.2f}" in paragraph
    last = paragraphs[-1]
    assert f"{expl.score:.2f}" in last
    assert all(expl.words[j] in last for j in expl.top_contributions(3))
    # A word the text holds twice is named with its step: a trial's “.”, “.”, “.” named none. Two words in
    # five tokens: the top three name one twice whatever the model (好。很差。好 did until stop 41's model).
    twice = explain(SentimentModel.load("zh"), "好。好。好")
    conclusion = narrate(twice, lang)[-1]
    at = "“{}” at t={}" if lang == "en" else "t={1} 的“{0}”"
    words, top = twice.words, twice.top_contributions(3)
    assert len({words[j] for j in top}) < len(top), top  # the case under test: one word at two steps among them
    for j in top:
        assert (at.format(words[j], j + 1) if words.count(words[j]) > 1 else f"“{words[j]}”") in conclusion, conclusion
    for word in ("memory", "carry", "记忆"):  # STYLE: h and c are the hidden and cell state
        assert word not in "".join(paragraphs)
    assert "h_0 = 0" in paragraphs[0] and "h_1" in paragraphs[1]
    # Read right to left, the first step is token L, after the start state h_{L+1} = 0 (there is no h_0).
    reverse = narrate(expl, lang, direction="reverse")
    start = len(expl) + 1
    # In reading order, t = L … 1: it began at t = 1 and named h_{t+1} before telling it.
    assert [p.split("=", 1)[1].split(":")[0].split("：")[0] for p in reverse[:-1]] == [str(t) for t in range(len(expl), 0, -1)]
    assert f"h_{start} = 0" in reverse[0] and f"c_{start} = 0" in reverse[0] and "c_{t+1}" in reverse[-2]
    assert not any("h_0" in paragraph or "c_0" in paragraph for paragraph in reverse)
    assert f"h_{len(expl)}" in reverse[1]
    # Each paragraph names the figure of the paragraph before it, as that of the prefix one word longer: "turning
    # from" it read as if a reading went from L words to L - 1.
    (longer, longer_score), (shorter, _) = expl.running(len(expl)), expl.running(len(expl) - 1)
    phrases, words = _TEXT[lang], _first_words(len(expl), lang)
    told = (phrases["was_reverse"].format(prev_score=longer_score, words=words) if longer == shorter
            else phrases["turn_reverse"].format(prev=label_name(longer, lang), words=words))
    assert told in reverse[1] and phrases["was_reverse"].split("{")[0] not in reverse[0]  # the first step compares with nothing
    assert not any(phrases["turn"].split("{")[0] in paragraph or phrases["was"].split("{")[0] in paragraph for paragraph in reverse)
    # Its running prediction is the whole model's on the left-to-right prefix, as the forward narration's.
    assert all(("left-to-right prefix" if lang == "en" else "从左到右的前缀") in paragraph for paragraph in reverse[:-1])


@pytest.mark.parametrize("direction", ["forward", "reverse"])
def test_narration_tells_the_shares_kept_written_and_shown(small_model, direction):
    # It bucketed the mean of f_t ("averages 0.47 … drops more than half of the old cell state") where
    # the units holding a large c_t had f_t near 1 and 73 % of ‖c_{t−1}‖ stayed; "writes almost nothing
    # new" followed the mean of i_t while ‖i_t ⊙ g_t‖ was half of ‖c_t‖.
    from lstm_sentiment.explain.narrate import _TEXT, _bucket, narrate

    expl = explain(small_model, "剧情拖沓，演员的表演也很一般，但是配乐和摄影都很好，总的来说还可以")
    paragraphs = narrate(expl, "en", direction=direction)
    units = expl.trace(0, direction).units
    reverse = direction == "reverse"
    c_name = "c_{t+1}" if reverse else "c_{t−1}"
    first = len(expl) - 1 if reverse else 0
    # The first step keeps nothing (c starts at 0): its write was told as "a lot" whatever its size.
    written = np.linalg.norm(units["i"][first] * units["g"][first])
    ceiling = np.sqrt(units["i"][first].size)
    told = f"{_bucket(written / ceiling, _TEXT['en']['i'])} (‖i_t ⊙ g_t‖ = {written:.2f} of at most √H = {ceiling:.2f})"
    assert told in paragraphs[0], paragraphs[0]
    for j in range(len(expl)):
        if j == first:
            continue
        c_prev = units["c"][j + 1 if reverse else j - 1]
        kept = np.linalg.norm(units["f"][j] * c_prev)
        written = np.linalg.norm(units["i"][j] * units["g"][j])
        share = kept / np.linalg.norm(c_prev)
        paragraph = paragraphs[len(expl) - 1 - j if reverse else j]  # in reading order
        assert f"{_bucket(share, _TEXT['en']['f'])} (‖f_t ⊙ {c_name}‖ = {share:.2f} × ‖{c_name}‖)" in paragraph
        assert f"{_bucket(written / (written + kept), _TEXT['en']['i'])} (‖i_t ⊙ g_t‖ = {written:.2f} beside the kept ‖f_t ⊙ {c_name}‖ = {kept:.2f})" in paragraph
        shown = np.linalg.norm(units["h"][j]) / np.linalg.norm(np.tanh(units["c"][j]))
        assert f"{_bucket(shown, _TEXT['en']['o'])} (‖h_t‖ = {np.linalg.norm(units['h'][j]):.2f} = {shown:.2f} × ‖tanh(c_t)‖)" in paragraph


def test_narration_of_a_higher_layer_names_its_input():
    from lstm_sentiment.explain.narrate import narrate

    expl = explain(tiny_model(num_layers=2, bidirectional=False), "我喜欢这个电影")
    assert narrate(expl, "en", layer=1)[0].startswith("t=1: layer 0's h_t at “我” enters layer 1")
    assert narrate(expl, "zh", layer=1)[0].startswith("t=1：第 1 层读入第 0 层在“我”处的 h_t")
    assert narrate(expl, "en", layer=0)[0].startswith("t=1: the word “我” enters the LSTM")
    # "On the first 1 word alone" read badly.
    steps = narrate(expl, "en", layer=0)
    assert "On the first word alone the model would say" in steps[0] and "On the first 2 words alone" in steps[1]
    assert "只看前 1 个词，" in narrate(expl, "zh", layer=0)[0]
    both = explain(tiny_model(num_layers=2, bidirectional=True), "我喜欢这个电影")
    assert narrate(both, "en", layer=1, direction="reverse")[-2].startswith("t=1: layer 0's [h→_t; h←_t] at “我” enters layer 1")


def test_no_word_is_named_as_mattering_when_none_moved_the_prediction(tmp_path):
    from lstm_sentiment.explain.narrate import narrate
    from lstm_sentiment.explain.html import write_html
    from lstm_sentiment.explain.tables import to_markdown
    from lstm_sentiment.explain.walk import signed

    # No token moving the prediction (every token <unk> did, before they were left out rather than
    # replaced by themselves): the conclusion ranked three words "lowering positive by 0.00".
    walked = explain(tiny_model(), "😀 🎬 ✨")
    expl = dataclasses.replace(walked, contributions=np.zeros_like(walked.contributions))
    assert narrate(expl, "en")[-1].endswith(f"No word mattered alone: replacing any one by <unk> moves {expl.label} by less than 0.005.")
    assert "没有哪个词单独起作用" in narrate(expl, "zh")[-1]
    assert "“" not in narrate(expl, "en")[-1]
    # A change too small to print is +0.000, never -0.000.
    from lstm_sentiment.explain.narrate import _signed

    assert _signed(-0.004) == "+0.00" and _signed(-0.006) == "−0.01"
    assert signed(-0.0001) == "+0.000" and signed(-0.0006) == "-0.001" and signed(0.0) == "+0.000"
    assert "-0.000" not in to_markdown(expl)
    # The page's contribution column printed -0.000 where the table printed +0.000.
    tiny = dataclasses.replace(walked, contributions=np.full_like(walked.contributions, -1e-5))
    write_html(tmp_path / "p.html", tiny, png=b"")
    assert "-0.000" not in (tmp_path / "p.html").read_text(encoding="utf-8")


def test_narration_says_a_word_read_as_unk_was_left_out():
    from lstm_sentiment.explain.narrate import narrate

    walked = explain(tiny_model(), "电影 ☃")
    assert walked.in_vocab == (True, False)
    expl = dataclasses.replace(walked, contributions=np.array([0.1, 0.3]))
    name = expl.label
    assert narrate(expl, "en")[-1].endswith(f"“☃” (read as <unk>; leaving it out lowers {name} by 0.30); “电影” (replacing it by <unk> lowers {name} by 0.10).")
    assert "按 <unk> 读入，去掉后" in narrate(expl, "zh")[-1]


def test_narration_words_follow_the_printed_value():
    from lstm_sentiment.explain.narrate import _TEXT, _bucket

    most, more_than_half = _TEXT["en"]["f"][:2]
    # 0.7496 prints as 0.75: "averages 0.75 … keeps more than half" contradicted itself.
    assert _bucket(0.7496, _TEXT["en"]["f"]) == most
    assert _bucket(0.7449, _TEXT["en"]["f"]) == more_than_half


def test_zh_narration_quotes_class_names_it_does_not_translate():
    from lstm_sentiment.explain.narrate import label_name

    assert label_name("positive", "zh") == "正面" and label_name("-1", "zh") == "“-1”"
    assert label_name("-1", "en") == "-1"


# --- pictures -------------------------------------------------------------------------------------------


def test_heatmaps_render_chinese_without_missing_glyphs(small_model):
    from lstm_sentiment.explain.fonts import cjk_font_path, register_cjk_font
    from lstm_sentiment.explain.plots import render_png

    # The font comes with the project's install, not from the system.
    assert "site-packages" in str(cjk_font_path()) or "dist-packages" in str(cjk_font_path())
    assert register_cjk_font() == "Noto Sans SC"
    expl = explain(small_model, "我不喜欢这个犇犇的电影 zzqqx，太差了！")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph … missing from font(s)" would fail here
        png = render_png(expl, 0, max_units=8)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")


def test_characters_no_font_has_are_drawn_as_code_points(small_model):
    from lstm_sentiment.explain.fonts import drawable
    from lstm_sentiment.explain.plots import render_png

    # 🦩 and 🥰 are in neither font: matplotlib drew empty boxes and warned once per glyph.
    assert drawable("好看 🦩 good 🥰") == "好看 [U+1F9A9] good [U+1F970]" and drawable("我🦩🥰") == "我[U+1F9A9][U+1F970]"
    # A keycap's enclosing mark and a flag's tag characters have no glyph and no width of their own.
    assert drawable("1\u20e3 \U0001f3f4\U000e0067\U000e007f") == "1 [U+1F3F4]"
    expl = explain(small_model, "好看 🦩 good 🥰 ✨")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert render_png(expl, 0, max_units=8).startswith(b"\x89PNG")


def test_long_texts_name_every_token_once_and_thin_the_other_ticks():
    from lstm_sentiment.explain.plots import MAX_GUIDES, figure, font_context

    # A tick at every t on all 13 axes took most of explain --png's 25 s at 512 tokens.
    expl = explain(SentimentModel.load("en"), "good " * 130)
    with font_context():
        fig = figure(expl, 0, max_units=4)
    heatmaps = [ax for ax in fig.axes if ax.images]
    counts = sorted(len(ax.get_xticks()) for ax in heatmaps)
    assert len(heatmaps) == 12 and counts[-2:] == [130, 130] and max(counts[:-2]) <= MAX_GUIDES
    assert [t.get_text() for t in heatmaps[5].get_xticklabels()][:2] == ["good", "good"]  # the bottom, forward
    assert len(fig.axes[0].get_xticks()) <= MAX_GUIDES  # the running prediction
    # At 300 tokens in each of two directions (7 points of axis a token) every label made one smear:
    # every other token is named, with the room of two.
    expl = explain(SentimentModel.load("en"), "good " * 300)
    with font_context():
        fig = figure(expl, 0, max_units=4)
    bottom = [ax for ax in fig.axes if ax.images][5]
    assert len(expl) == 300 and [t.get_text() for t in bottom.get_xticklabels()] == ["good", ""] * 150


def test_heatmaps_of_a_one_word_text_keep_their_layout():
    from lstm_sentiment.explain.plots import render_png

    expl = explain(SentimentModel.load("zh"), "好")  # two directions: the titles need the room
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "constrained_layout not applied because axes sizes collapsed to zero"
        assert render_png(expl, 0, max_units=128).startswith(b"\x89PNG")


def test_the_glyph_check_can_fail():
    # Control: without the CJK font matplotlib does warn, so the test above would catch empty boxes.
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context({"font.family": ["DejaVu Sans"]}):
        fig = Figure()
        fig.text(0.1, 0.5, "我喜欢这个电影")
        with pytest.warns(UserWarning, match="missing from font"):
            fig.savefig(io.BytesIO(), format="png")


def test_heatmaps_pick_the_most_variable_units():
    from lstm_sentiment.explain.plots import select_units

    values = np.zeros((5, 40), dtype=np.float32)
    values[:, 7] = np.linspace(0, 1, 5)
    values[:, 30] = np.linspace(1, -1, 5)
    assert select_units([values], 2).tolist() == [7, 30]
    assert select_units([values], 64).tolist() == list(range(40))
    # One choice for all panels, each panel's spread scaled by its largest: unit 3 varies a little in
    # both, unit 30 a lot in one only (as c, unbounded, may).
    other = np.zeros((5, 40), dtype=np.float32)
    other[:, 3] = np.linspace(0, 0.5, 5)
    values[:, 3] = np.linspace(0, 0.5, 5)
    values[:, 30] = np.linspace(10, -10, 5)
    assert select_units([values, other], 1).tolist() == [3]


def test_heatmaps_show_the_same_labelled_units_in_every_panel_and_both_directions():
    from lstm_sentiment.explain.plots import PANELS, figure, font_context, select_units

    model = tiny_model(bidirectional=True)
    expl = explain(model, "我不喜欢这个电影")
    with font_context():
        fig = figure(expl, 0, max_units=3)
    heatmaps = [ax for ax in fig.axes if ax.images]
    assert len(heatmaps) == 2 * len(PANELS)
    assert [ax.get_title(loc="left").split(":")[0] for ax in heatmaps] == ["forward"] * len(PANELS) + ["reverse"] * len(PANELS)
    units = select_units([trace.units[name] for trace in expl.layers[0] for name, *_ in PANELS], 3)
    assert len(units) == 3
    for ax in heatmaps:  # every row labelled, the same units everywhere
        assert [label.get_text() for label in ax.get_yticklabels()] == [f"u{u}" for u in units]
        assert ax.images[0].get_array().shape == (3, len(expl))


# --- the page -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def page(small_model, tmp_path_factory):
    from lstm_sentiment.explain.html import write_html
    from lstm_sentiment.explain.narrate import narrate

    expl = explain(small_model, "我不喜欢这个电影，zzqqx 太差了")
    path = tmp_path_factory.mktemp("page") / "explain.html"
    write_html(path, expl, narrate(expl, "zh"), "zh")
    return expl, path


def test_page_is_self_contained(page):
    _, path = page
    text = path.read_text(encoding="utf-8")
    assert "default-src 'none'" in text  # the browser itself refuses any request
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", text, re.I)
    assert not re.search(r"url\((?!data:)", text)
    assert "<script src" not in text and 'rel="stylesheet"' not in text
    # The text shown in its own direction (an Arabic one was laid out left to right); the model by its
    # folder's name (the page is a file people share: it gave the path on the machine that wrote it).
    assert '<bdi dir="auto" lang="zh">我不喜欢这个电影，zzqqx 太差了</bdi>' in text
    expl, _ = page
    assert f"· 模型: {Path(expl.model).name}</div>" in text and str(Path(expl.model).parent) not in text


def test_the_page_is_in_the_language_of_its_headings_and_the_text_in_its_own(small_model, tmp_path):
    # An English page of a Chinese text said <html lang="zh">, and a Chinese page kept an English legend.
    from lstm_sentiment.explain.html import write_html

    expl = explain(small_model, "我喜欢这个电影")
    for lang, legend, prediction in (("en", "colour: the running prediction", "prediction: <b>"), ("zh", "颜色：到该词为止的预测", "预测: <b>")):
        write_html(tmp_path / f"{lang}.html", expl, None, lang, png=b"")
        page = (tmp_path / f"{lang}.html").read_text(encoding="utf-8")
        assert page.startswith(f"<!doctype html>\n<html lang=\"{lang}\">") and legend in page and prediction in page
        assert '<div id="sentence" lang="zh">' in page and '<bdi dir="auto" lang="zh">' in page
        assert f"<th>t</th><th>{'词' if lang == 'zh' else 'token'}</th>" in page
    # A text of a model reading words may be any language: not called English.
    write_html(tmp_path / "en-text.html", explain(SentimentModel.load("en"), "un film superbe"), None, "zh", png=b"")
    assert '<bdi dir="auto" lang="">un film superbe</bdi>' in (tmp_path / "en-text.html").read_text(encoding="utf-8")


def test_page_in_headless_chromium(page, chromium_tab):
    expl, path = page
    url = path.as_uri()
    tab = chromium_tab.page
    tab.goto(url, wait_until="load")
    tokens = tab.locator("#sentence .tok")
    assert tokens.count() == len(expl)
    assert [re.sub(r"\d+$", "", s) for s in tokens.all_inner_texts()] == list(expl.words)
    tokens.nth(1).hover()
    detail = tab.inner_text("#detail")
    assert "t=2" in detail and expl.words[1] in detail
    assert f"{expl.trace().means['f'][1]:.3f}" in detail  # forget-gate mean of layer 0, forward
    tokens.nth(0).click()
    assert "selected" in tokens.nth(0).get_attribute("class")
    assert "t=1" in tab.inner_text("#detail")
    assert chromium_tab.cjk_font_loaded()
    assert tab.evaluate("document.querySelector('img.heatmaps').naturalWidth") > 100
    chromium_tab.screenshot("explain-page.png")
    assert chromium_tab.errors == []
    assert [u for u in chromium_tab.requests if u != url and not u.startswith("data:")] == []


# --- command line ---------------------------------------------------------------------------------------


def test_cli_explain_with_narration_png_and_html(small_bundle, tmp_path):
    png, page_path = tmp_path / "a.png", tmp_path / "a.html"
    result = run_cli("explain", "--model", str(small_bundle[0]), "我喜欢这个电影", "--narrate", "zh", "--png", str(png), "--html",
                     str(page_path), "--format", "markdown")
    assert result.returncode == 0, result.stderr
    assert "| t | token | f mean |" in result.stdout and "| 1 | 我 |" in result.stdout
    assert "t=1：输入“我”" in result.stdout and "最终判断" in result.stdout
    assert png.read_bytes().startswith(b"\x89PNG") and "Traceback" not in result.stderr
    assert 'class="tok' in page_path.read_text(encoding="utf-8")
    assert not list(tmp_path.glob(".*"))  # atomic writes leave no temporary files behind


def test_cli_explain_page_or_picture_to_stdout_comes_alone(small_bundle, tmp_path):
    # --html /dev/stdout wrote the page and then the table into one file; --html - wrote a file named "-".
    import subprocess
    import sys

    from conftest import assert_one_line_error

    for target in ("-", "/dev/stdout"):
        result = run_cli("explain", "--model", str(small_bundle[0]), "好", "--html", target, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("<!doctype html>") and result.stdout.rstrip().endswith("</html>")
        assert result.stderr == "wrote the page to stdout\n"  # "wrote /dev/stdout"
    png = subprocess.run([sys.executable, "-m", "lstm_sentiment", "explain", "--model", str(small_bundle[0]), "好", "--png", "-"],
                         capture_output=True, timeout=300, cwd=tmp_path)
    assert png.returncode == 0 and png.stdout.startswith(b"\x89PNG\r\n\x1a\n") and png.stdout.endswith(b"IEND\xaeB`\x82")
    assert png.stderr == b"wrote the PNG to stdout\n"
    assert list(tmp_path.iterdir()) == []
    # A reader that stops early (`| head -c 8`) ends it quietly, as for the other output ("cannot write
    # (Broken pipe)" was said).
    early = subprocess.Popen([sys.executable, "-m", "lstm_sentiment", "explain", "--model", str(small_bundle[0]), "好", "--png", "-"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
    assert early.stdout.read(8) == b"\x89PNG\r\n\x1a\n"
    early.stdout.close()
    assert early.wait(timeout=300) == 1 and b"error" not in early.stderr.read()
    for args, message in (
        (["--html", "-", "-f", "json"], "--html writes to stdout, where the report would go too; write one of them to a file"),
        (["--png", "-", "--narrate", "zh"], "--png writes to stdout, where the narration would go too"),
        (["--png", "-", "--html", "/dev/stdout"], "--png and --html both name stdout"),
    ):
        assert_one_line_error(run_cli("explain", "--model", str(small_bundle[0]), "好", *args, cwd=tmp_path), 2, re.escape(message))


def test_cli_explain_json_and_table_note_truncation(small_bundle, small_model):
    text = LONG_ZH + "☃"
    result = run_cli("explain", "--model", str(small_bundle[0]), text, "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["truncated"] and "truncated" in data["note"] and len(data["steps"]) == 256
    assert data["tokens"][-1] == "<unk>" and data["words"][-1] == "☃"
    assert abs(data["score"] - small_model.predict([text])[0]["score"]) <= TOL
    table = run_cli("explain", "--model", str(small_bundle[0]), text)
    assert table.returncode == 0, table.stderr
    assert "note: text longer than the model's maximum of 256 tokens" in table.stdout
    assert "<unk> (☃)" in table.stdout


def test_cli_explain_bad_input_is_one_line(small_bundle):
    # A blank text is bad input (1); a layer the model lacks, an option out of range (2, a usage error).
    for args, code in ((["   "], 1), (["好", "--layer", "3"], 2)):
        result = run_cli("explain", "--model", str(small_bundle[0]), *args)
        assert result.returncode == code
        assert "Traceback" not in result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr


def test_a_long_page_wraps_between_tokens_never_inside_one(small_model, tmp_path, chromium_tab):
    # A token broke at a line's end: 有 closed one row and 点 opened the next, so 有点 read as two tokens.
    from lstm_sentiment.explain.html import write_html

    expl = explain(small_model, "这部电影的剧情非常精彩，演员的表演也很到位，但是结尾有点仓促，让人觉得意犹未尽。" * 6)
    path = tmp_path / "long.html"
    write_html(path, expl, None, "zh")
    tab = chromium_tab.page
    tab.goto(path.as_uri(), wait_until="load")
    boxes = tab.evaluate("Array.from(document.querySelectorAll('#sentence .tok'), e => e.getClientRects().length)")
    rows = tab.evaluate("new Set(Array.from(document.querySelectorAll('#sentence .tok'), e => Math.round(e.getBoundingClientRect().top))).size")
    assert len(boxes) == len(expl) and rows > 3
    assert boxes == [1] * len(expl)
    chromium_tab.screenshot("explain-long-page.png")


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.mark.slow
def test_the_terminal_table_keeps_every_figure_at_80_columns_and_in_a_c_locale(monkeypatch):
    # At 80 columns the framed table (99 wide) squeezed its columns: "posit…", "+0.3…"; under a C locale a
    # table of ASCII words failed on its own "‖c‖" header; a 300-letter word made a 300-column table.
    text = "I did not like this movie , it was boring"
    wanted = json.loads(run_cli("explain", text, "--model", "en", "-f", "json").stdout)
    contributions = [signed(c["delta"]) for c in wanted["contributions"]]
    monkeypatch.setenv("TTY_COMPATIBLE", "1")  # rich takes stdout for a terminal of $COLUMNS
    for columns, framed in (("80", False), ("50", False), ("200", True)):
        monkeypatch.setenv("COLUMNS", columns)
        result = run_cli("explain", text, "--model", "en")
        lines = _ANSI.sub("", result.stdout).splitlines()
        assert result.returncode == 0 and "…" not in result.stdout and ("┃" in result.stdout) == framed, result.stdout
        assert "model en, layer 0, forward" in result.stdout  # routing's choice was not said
        assert max(map(len, lines)) <= max(int(columns), 70)  # 70: the compact table's own width, wrapped by a narrower terminal
        steps = [line for line in lines if re.match(r"^\W*\d+\W", line)]
        assert [line.strip(" │").split()[-1] for line in steps] == contributions and f"{wanted['label']} 0.99" in steps[-1]
    monkeypatch.delenv("TTY_COMPATIBLE")
    long_word = "x" * 300
    assert max(map(len, run_cli("explain", f"bad {long_word}", "--model", "en").stdout.splitlines())) < 120
    monkeypatch.delenv("PYTHONIOENCODING", raising=False)
    for name, value in (("LC_ALL", "C"), ("LANG", "C"), ("PYTHONUTF8", "0")):
        monkeypatch.setenv(name, value)
    result = run_cli("explain", "I loved it", "--model", "en")
    assert result.returncode == 0 and "|dc|" in result.stdout and "| contrib. |" in result.stdout, result.stderr
    # Compact there too: rich framed it in ASCII, its cells run together ("|1|i    |0.43|").
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    monkeypatch.setenv("COLUMNS", "60")
    compact = _ANSI.sub("", run_cli("explain", "I loved it", "--model", "en").stdout)
    assert " t token    f    i     g    o  |c|  |h| |dc| running" in compact and "|1|" not in compact, compact
    # The whole report or nothing: the table was printed, then the narration's quotation marks failed.
    narrated = run_cli("explain", "I loved it", "--model", "en", "--narrate", "en")
    assert narrated.returncode == 1 and narrated.stdout == "" and "cannot hold" in narrated.stderr
