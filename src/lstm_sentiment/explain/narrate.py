"""The walk-through in prose, as a textbook tells it, but with the measured values of a real model.

One paragraph per token (t = 1 … L, token order, for one layer and direction), then one with the final
prediction and the words that mattered most. Every number comes from the :class:`Explanation`; the words
around them ("keeps most of the old cell state") only bucket measured shares, with the thresholds below:
what the forget gate keeps is ‖f_t ⊙ c_{t−1}‖ / ‖c_{t−1}‖, not the mean of f_t (the units that hold a large
c_t are the ones whose f_t is near 1, so a mean f_t of 0.47 can keep more than half of ‖c_{t−1}‖),
what the step writes is ‖i_t ⊙ g_t‖ against that kept part, not the mean of i_t (at the first step, where
nothing is kept, against the most a step can write: each unit's |i_t g_t| < 1, so ‖i_t ⊙ g_t‖ < √H), and what
the output gate lets out is ‖h_t‖ / ‖tanh(c_t)‖, not the mean of o_t.
"""

from __future__ import annotations

import numpy as np

from lstm_sentiment.explain.walk import Explanation, previous_cell_state

LANGS = ("zh", "en")
HEADING = {"en": "Walk-through", "zh": "逐步讲解"}  # above the narration in the --html page and -f markdown
ZH_LABELS = {"positive": "正面", "negative": "负面", "neutral": "中性"}

# Quarters of (0, 1) for the shares told: "most", "more than half", "less than half", "less than a quarter".
_CUTS = (0.75, 0.5, 0.25)

# Every sentence of the narration in each language, filled in by _step and _conclusion with str.format.
_TEXT = {
    "zh": {
        # What each gate does, from the highest quarter of _CUTS to the lowest.
        "f": ("保留了大部分旧的细胞状态", "保留了一半以上旧的细胞状态", "丢掉了一半以上旧的细胞状态", "丢掉了四分之三以上旧的细胞状态"),
        "i": ("大量写入新内容", "写入了较多新内容", "写入了一部分新内容", "写入的新内容很少"),
        "o": ("把大部分 tanh(c_t) 输出到隐藏状态", "输出了一半以上的 tanh(c_t)", "只输出了一部分 tanh(c_t)", "只输出了不到四分之一的 tanh(c_t)"),
        "unk": "（没有它的词向量，按 <unk> 读入）",
        "first_state": "与初始隐藏状态 h_{start} = 0 一起进入 LSTM",
        "first_keep": "不过此时 c_{start} = 0，没有旧的细胞状态可保留",
        "state": "与上一步的隐藏状态 h_{prev_t} 一起进入 LSTM",
        "keep": "{phrase}（‖f_t ⊙ {c_prev}‖ = {kept:.2f} × ‖{c_prev}‖）",
        "word_in": "输入{token}",
        "layer_in": "第 {layer} 层读入第 {below} 层在{token}处的 {h}",
        "written": "（‖i_t ⊙ g_t‖ = {written:.2f}，最多 √H = {ceiling:.2f}）",
        "written_beside": "（‖i_t ⊙ g_t‖ = {written:.2f}，保留的 ‖f_t ⊙ {c_prev}‖ = {kept:.2f}）",
        "step": (
            "t={t}：{entry}，{state}。"
            "遗忘门 f_t 平均 {f:.2f}（最大的单元 u{f_unit} = {f_top:.2f}），{keep}；"
            "输入门 i_t 平均 {i:.2f}（最大的单元 u{i_unit} = {i_top:.2f}），候选值 g_t 平均 {g}，{write}；"
            "细胞状态变化 {change} = {delta:.2f}，现在 ‖c_t‖ = {c_norm:.2f}；"
            "输出门 o_t 平均 {o:.2f}，{out}（‖h_t‖ = {h_norm:.2f} = {shown:.2f} × ‖tanh(c_t)‖）。"
        ),
        "verdict": "只看前 {words}，模型判断为{label} {score:.2f}",
        # The running prediction is the whole model on the first t words, whichever direction is told.
        "verdict_reverse": "整个模型只看前 {words}（从左到右的前缀，两个方向都读它）判断为{label} {score:.2f}",
        "turn": "，由{prev}转为{label}",
        "was": "（上一步 {prev_score:.2f}）",
        "turn_reverse": "，而前 {words}（上一步）为{prev}",
        "was_reverse": "（前 {words}，上一步：{prev_score:.2f}）",
        "end": "。",
        "lowers": "换成 <unk> 后{label}的概率下降 {delta:.2f}",
        "raises": "换成 <unk> 后{label}的概率上升 {delta:.2f}",
        "lowers_unk": "按 <unk> 读入，去掉后{label}的概率下降 {delta:.2f}",
        "raises_unk": "按 <unk> 读入，去掉后{label}的概率上升 {delta:.2f}",
        "word": "“{word}”（{effect}）",
        "word_at": "t={t} 的“{word}”（{effect}）",
        "join": "、",
        "final": "最终判断：{label} {score:.2f}（与 predict 相同）。影响最大的词：{words}。",
        "final_none": "最终判断：{label} {score:.2f}（与 predict 相同）。没有哪个词单独起作用：把任何一个词换成 <unk>，{label}的概率变化都不到 0.005。",
        "note": "注意：文本超过模型上限 {max_tokens} 个词，已像 predict 一样截断（保留开头和结尾）。",
    },
    "en": {
        "f": ("keeps most of the old cell state", "keeps more than half of the old cell state", "drops more than half of the old cell state", "drops more than three quarters of the old cell state"),
        "i": ("writes a lot of new content", "writes much new content", "writes some new content", "writes little new content"),
        "o": ("lets most of tanh(c_t) out into the hidden state", "lets more than half of tanh(c_t) out", "lets only part of tanh(c_t) out", "lets less than a quarter of tanh(c_t) out"),
        "unk": " (no vector for it, read as <unk>)",
        "first_state": "together with the initial hidden state h_{start} = 0",
        "first_keep": "but c_{start} = 0, so there is no old cell state to keep",
        "state": "together with the previous hidden state h_{prev_t}",
        "keep": "and {phrase} (‖f_t ⊙ {c_prev}‖ = {kept:.2f} × ‖{c_prev}‖)",
        "word_in": "the word {token} enters the LSTM",
        "layer_in": "layer {below}'s {h} at {token} enters layer {layer}",
        "written": " (‖i_t ⊙ g_t‖ = {written:.2f} of at most √H = {ceiling:.2f})",
        "written_beside": " (‖i_t ⊙ g_t‖ = {written:.2f} beside the kept ‖f_t ⊙ {c_prev}‖ = {kept:.2f})",
        "step": (
            "t={t}: {entry} {state}. "
            "The forget gate f_t averages {f:.2f} (largest unit u{f_unit} = {f_top:.2f}), {keep}; "
            "the input gate i_t averages {i:.2f} (largest unit u{i_unit} = {i_top:.2f}) with the candidate g_t averaging {g}, "
            "so the step {write}; the cell state moves by {change} = {delta:.2f} to ‖c_t‖ = {c_norm:.2f}; "
            "the output gate o_t averages {o:.2f} and {out} (‖h_t‖ = {h_norm:.2f} = {shown:.2f} × ‖tanh(c_t)‖). "
        ),
        "verdict": "On the first {words} alone the model would say {label} {score:.2f}",
        "verdict_reverse": "The whole model on the first {words} alone (the left-to-right prefix, which both directions read) would say {label} {score:.2f}",
        "turn": ", turning from {prev} to {label}",
        "was": " (was {prev_score:.2f})",
        "turn_reverse": ", where the first {words} (the step before) said {prev}",
        "was_reverse": " (the first {words}, the step before: {prev_score:.2f})",
        "end": ".",
        "lowers": "replacing it by <unk> lowers {label} by {delta:.2f}",
        "raises": "replacing it by <unk> raises {label} by {delta:.2f}",
        "lowers_unk": "read as <unk>; leaving it out lowers {label} by {delta:.2f}",
        "raises_unk": "read as <unk>; leaving it out raises {label} by {delta:.2f}",
        "word": "“{word}” ({effect})",
        "word_at": "“{word}” at t={t} ({effect})",
        "join": "; ",
        "final": "Final prediction: {label} {score:.2f} (the same as predict). The words that mattered most: {words}.",
        "final_none": "Final prediction: {label} {score:.2f} (the same as predict). No word mattered alone: replacing any one by <unk> moves {label} by less than 0.005.",
        "note": " Note: {note}.",
    },
}


def _first_words(t: int, lang: str) -> str:
    """"word" or "3 words" after "the first" ("On the first 1 word alone" read badly); zh "1 个词"."""
    if lang == "zh":
        return f"{t} 个词"
    return "word" if t == 1 else f"{t} words"


def _bucket(value: float, phrases: tuple[str, ...]) -> str:
    # The words follow the value as printed (2 decimals): 0.7496 shows as 0.75 and reads "most".
    value = round(value, 2)
    for cut, phrase in zip(_CUTS, phrases):
        if value >= cut:
            return phrase
    return phrases[-1]


def _signed(value: float) -> str:
    # A real minus sign, and an explicit plus, so the direction of a change reads at a glance; a value that
    # rounds to zero is +0.00 (+ 0.0 turns -0.0 into 0.0).
    return f"{round(value, 2) + 0.0:+.2f}".replace("-", "−")


def label_name(label: str, lang: str) -> str:
    """A class name as the narration writes it (zh: 正面/负面/中性 for the usual labels, any other
    quoted, so that "-1" reads as a class and not a number)."""
    return ZH_LABELS.get(label, f"“{label}”") if lang == "zh" else label


def narrate(expl: Explanation, lang: str = "zh", layer: int = 0, direction: str = "forward") -> list[str]:
    """The walk-through as paragraphs: one per token, then the conclusion.

    Args:
        expl: from :func:`~lstm_sentiment.explain.walk.explain`.
        lang: "zh" or "en".
        layer, direction: whose gates to tell (default: the first layer reading left to right, the
            textbook picture).
    Returns:
        L + 1 strings: one per step in the direction's reading order (t = 1 … L forward, t = L … 1
        reverse), then the conclusion.
    Raises:
        ValueError: unknown lang, layer or direction.
    """
    if lang not in LANGS:
        raise ValueError(f"narration language must be zh or en, got {lang!r}")
    trace = expl.trace(layer, direction)
    reverse = direction == "reverse"
    # In the order the direction reads: the reverse pass meets token L first, and each paragraph builds on
    # the state the one before it told.
    steps = range(len(expl), 0, -1) if reverse else range(1, len(expl) + 1)
    c_prev = previous_cell_state(trace.units["c"], reverse)
    paragraphs = [_step(expl, trace, c_prev[t - 1], t, lang, reverse) for t in steps]
    paragraphs.append(_conclusion(expl, lang))
    return paragraphs


def _step(expl: Explanation, trace, c_prev: np.ndarray, t: int, lang: str, reverse: bool) -> str:
    phrases = _TEXT[lang]
    j = t - 1
    f, i, g, o = (float(trace.means[name][j]) for name in "figo")
    first = (t == len(expl)) if reverse else (t == 1)
    units = trace.units
    kept = float(np.linalg.norm(units["f"][j] * c_prev))
    written = float(np.linalg.norm(units["i"][j] * units["g"][j]))
    c_name = "c_{t+1}" if reverse else "c_{t−1}"
    token = f"“{expl.words[j]}”" + ("" if expl.in_vocab[j] else phrases["unk"])
    # A layer above the first reads the layer below's h_t, both directions' side by side if it has two.
    below = "[h→_t; h←_t]" if len(expl.layers[trace.layer - 1]) == 2 else "h_t"
    entry = phrases["word_in"].format(token=token) if trace.layer == 0 else phrases["layer_in"].format(layer=trace.layer, below=trace.layer - 1, h=below, token=token)
    keep_share = kept / max(float(np.linalg.norm(c_prev)), 1e-12)
    keep = phrases["keep"].format(phrase=_bucket(keep_share, phrases["f"]), c_prev=c_name, kept=keep_share)
    # Beside nothing kept, any write would be all of c_t: the first step's share is of the largest write.
    ceiling = float(np.sqrt(units["i"][j].size))
    write_share = written / ceiling if first else written / max(written + kept, 1e-12)
    shown = float(trace.hidden_norm[j]) / max(float(np.linalg.norm(np.tanh(units["c"][j]))), 1e-12)
    write = _bucket(write_share, phrases["i"]) + (phrases["written"].format(written=written, ceiling=ceiling) if first else phrases["written_beside"].format(written=written, c_prev=c_name, kept=kept))
    label, score = expl.running(t)
    # The reverse direction reads right to left: its previous step is token t+1, its start state h_{L+1}.
    prev_t = t + 1 if reverse else t - 1
    start = len(expl) + 1 if reverse else 0
    paragraph = phrases["step"].format(
        t=t,
        entry=entry,
        state=phrases["first_state"].format(start=start) if first else phrases["state"].format(prev_t=prev_t),
        keep=phrases["first_keep"].format(start=start) if first else keep,
        f=f,
        f_unit=int(trace.top_index["f"][j][0]),
        f_top=float(trace.top_value["f"][j][0]),
        i=i,
        i_unit=int(trace.top_index["i"][j][0]),
        i_top=float(trace.top_value["i"][j][0]),
        g=_signed(g),
        write=write,
        change=f"‖c_t − {c_name}‖",
        delta=float(trace.cell_delta_norm[j]),
        c_norm=float(trace.cell_norm[j]),
        o=o,
        out=_bucket(shown, phrases["o"]),
        shown=shown,
        h_norm=float(trace.hidden_norm[j]),
    )
    paragraph += phrases["verdict_reverse" if reverse else "verdict"].format(words=_first_words(t, lang), label=label_name(label, lang), score=score)
    # Beside the running prediction of the paragraph before: the prefix one word shorter forward, one word
    # longer in reverse, where "turning from" the longer prefix's label read as if a reading went from t+1
    # words to t: it names that prefix instead.
    if 1 <= prev_t <= len(expl):
        prev_label, prev_score = expl.running(prev_t)
        words = _first_words(prev_t, lang)
        if prev_label != label:
            paragraph += phrases["turn_reverse" if reverse else "turn"].format(prev=label_name(prev_label, lang), label=label_name(label, lang), words=words)
        else:
            paragraph += phrases["was_reverse" if reverse else "was"].format(prev_score=prev_score, words=words)
    return paragraph + phrases["end"]


def _conclusion(expl: Explanation, lang: str) -> str:
    phrases = _TEXT[lang]
    name = label_name(expl.label, lang)
    words = []
    # A word whose contribution prints as 0.00 (every word <unk>, say) did not matter, whatever its rank.
    for j in (j for j in expl.top_contributions(3) if round(abs(float(expl.contributions[j])), 2) > 0):
        delta = float(expl.contributions[j])
        # A word read as <unk> was left out instead (see explain): say so, it was not replaced.
        key = ("lowers" if delta >= 0 else "raises") + ("" if expl.in_vocab[j] else "_unk")
        effect = phrases[key].format(label=name, delta=abs(delta))
        # A word the text holds more than once is named with its step: "“.”, “.”, “.”" named none.
        repeated = expl.words.count(expl.words[j]) > 1
        words.append(phrases["word_at" if repeated else "word"].format(word=expl.words[j], t=j + 1, effect=effect))
    if words:
        paragraph = phrases["final"].format(label=name, score=expl.score, words=phrases["join"].join(words))
    else:
        paragraph = phrases["final_none"].format(label=name, score=expl.score)
    if expl.note:
        paragraph += phrases["note"].format(max_tokens=expl.max_tokens, note=expl.note)
    return paragraph
