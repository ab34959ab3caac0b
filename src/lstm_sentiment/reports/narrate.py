"""The walk-through in prose, as a textbook tells it, but with the measured values of a real model.

One paragraph per token (t = 1 … L, token order, for one layer and direction), then one with the final
prediction and the words that mattered most. Every number comes from the :class:`Explanation`; the words
around them ("keeps most of the old cell state") only bucket those numbers, with the thresholds below.
"""

from __future__ import annotations

from lstm_sentiment.reports.explain import Explanation

LANGS = ("zh", "en")
ZH_LABELS = {"positive": "正面", "negative": "负面", "neutral": "中性"}

# Quarters of (0, 1) for the sigmoid gates: "most", "more than half", "less than half", "almost none".
_CUTS = (0.75, 0.5, 0.25)

_ZH = {
    "f": ("保留了大部分旧的细胞状态", "保留了一半以上旧的细胞状态", "丢掉了一半以上旧的细胞状态", "几乎清空了旧的细胞状态"),
    "i": ("大量写入新内容", "写入了较多新内容", "写入了一部分新内容", "几乎不写入新内容"),
    "o": ("把大部分细胞状态输出到隐藏状态", "输出了一半以上的细胞状态", "只输出了一部分细胞状态", "几乎不输出细胞状态"),
}
_EN = {
    "f": ("keeps most of the old cell state", "keeps more than half of the old cell state", "drops more than half of the old cell state", "all but clears the old cell state"),
    "i": ("writes a lot of new content", "writes much new content", "writes some new content", "writes almost nothing new"),
    "o": ("lets most of the cell state out into the hidden state", "lets more than half of the cell state out", "lets only part of the cell state out", "lets almost nothing of the cell state out"),
}


def _bucket(value: float, phrases: tuple[str, ...]) -> str:
    for cut, phrase in zip(_CUTS, phrases):
        if value >= cut:
            return phrase
    return phrases[-1]


def _signed(value: float) -> str:
    # A real minus sign, and an explicit plus, so the direction of a change reads at a glance.
    return f"{value:+.2f}".replace("-", "−")


def label_name(label: str, lang: str) -> str:
    """A class name as the narration writes it (zh: 正面/负面/中性 for the usual labels)."""
    return ZH_LABELS.get(label, label) if lang == "zh" else label


def narrate(expl: Explanation, lang: str = "zh", layer: int = 0, direction: str = "forward") -> list[str]:
    """The walk-through as paragraphs: one per token, then the conclusion.

    Args:
        expl: from :func:`~lstm_sentiment.reports.explain.explain`.
        lang: "zh" or "en".
        layer, direction: whose gates to tell (default: the first layer reading left to right, the
            textbook picture).
    Returns:
        L + 1 strings.
    Raises:
        ValueError: unknown lang, layer or direction.
    """
    if lang not in LANGS:
        raise ValueError(f"narration language must be zh or en, got {lang!r}")
    trace = expl.trace(layer, direction)
    reverse = direction == "reverse"
    paragraphs = [_step(expl, trace, t, lang, reverse) for t in range(1, len(expl) + 1)]
    paragraphs.append(_conclusion(expl, lang))
    return paragraphs


def _step(expl: Explanation, trace, t: int, lang: str, reverse: bool) -> str:
    j = t - 1
    f, i, g, o = (float(trace.means[name][j]) for name in "figo")
    f_unit, f_top = int(trace.top_index["f"][j][0]), float(trace.top_value["f"][j][0])
    i_unit, i_top = int(trace.top_index["i"][j][0]), float(trace.top_value["i"][j][0])
    c_norm, h_norm, delta = (float(x[j]) for x in (trace.cell_norm, trace.hidden_norm, trace.cell_delta_norm))
    first = (t == len(expl)) if reverse else (t == 1)
    word, known = expl.words[j], expl.in_vocab[j]
    label, score = expl.running(t)
    prev = expl.running(t - 1) if t > 1 else None
    # The reverse direction reads right to left: its previous step is token t+1.
    prev_t = t + 1 if reverse else t - 1
    change = "‖c_t − c_{t+1}‖" if reverse else "‖c_t − c_{t−1}‖"
    if lang == "zh":
        token = f"“{word}”" if known else f"“{word}”（不在词表中，按 <unk> 读入）"
        if first:
            state = "与初始隐藏状态 h_0 = 0 一起进入 LSTM"
            keep = "不过此时 c_0 = 0，没有旧的细胞状态可保留"
        else:
            state = f"与上一步的隐藏状态 h_{prev_t} 一起进入 LSTM"
            keep = _bucket(f, _ZH["f"])
        text = (
            f"t={t}：输入{token}，{state}。"
            f"遗忘门 f_t 平均 {f:.2f}（最大的单元 u{f_unit} = {f_top:.2f}），{keep}；"
            f"输入门 i_t 平均 {i:.2f}（最大的单元 u{i_unit} = {i_top:.2f}），候选值 g_t 平均 {_signed(g)}，{_bucket(i, _ZH['i'])}；"
            f"细胞状态变化 {change} = {delta:.2f}，现在 ‖c_t‖ = {c_norm:.2f}；"
            f"输出门 o_t 平均 {o:.2f}，{_bucket(o, _ZH['o'])}，‖h_t‖ = {h_norm:.2f}。"
        )
        verdict = f"只看前 {t} 个词，模型判断为{label_name(label, 'zh')} {score:.2f}"
        if prev is not None and prev[0] != label:
            verdict += f"，由{label_name(prev[0], 'zh')}转为{label_name(label, 'zh')}"
        elif prev is not None:
            verdict += f"（上一步 {prev[1]:.2f}）"
        return text + verdict + "。"
    token = f"“{word}”" if known else f"“{word}” (not in the vocabulary, read as <unk>)"
    if first:
        state = "together with the initial hidden state h_0 = 0"
        keep = "but c_0 = 0, so there is no old cell state to keep"
    else:
        state = f"together with the previous hidden state h_{prev_t}"
        keep = f"and {_bucket(f, _EN['f'])}"
    text = (
        f"t={t}: the word {token} enters the LSTM {state}. "
        f"The forget gate f_t averages {f:.2f} (largest unit u{f_unit} = {f_top:.2f}), {keep}; "
        f"the input gate i_t averages {i:.2f} (largest unit u{i_unit} = {i_top:.2f}) with the candidate g_t averaging {_signed(g)}, "
        f"so the step {_bucket(i, _EN['i'])}; the cell state moves by {change} = {delta:.2f} to ‖c_t‖ = {c_norm:.2f}; "
        f"the output gate o_t averages {o:.2f} and {_bucket(o, _EN['o'])}, ‖h_t‖ = {h_norm:.2f}. "
    )
    verdict = f"On the first {t} word{'s' if t > 1 else ''} alone the model would say {label} {score:.2f}"
    if prev is not None and prev[0] != label:
        verdict += f", turning from {prev[0]} to {label}"
    elif prev is not None:
        verdict += f" (was {prev[1]:.2f})"
    return text + verdict + "."


def _conclusion(expl: Explanation, lang: str) -> str:
    top = expl.top_contributions(3)
    label = expl.label
    if lang == "zh":
        name = label_name(label, "zh")
        parts = []
        for j in top:
            delta = float(expl.contributions[j])
            effect = f"换成 <unk> 后{name}的概率下降 {delta:.2f}" if delta >= 0 else f"换成 <unk> 后{name}的概率上升 {-delta:.2f}"
            parts.append(f"“{expl.words[j]}”（{effect}）")
        text = f"最终判断：{name} {expl.score:.2f}（与 predict 相同）。影响最大的词：{'、'.join(parts)}。"
        if expl.note:
            text += f"注意：文本超过模型上限 {expl.max_tokens} 个词，已像 predict 一样截断（保留开头和结尾）。"
        return text
    parts = []
    for j in top:
        delta = float(expl.contributions[j])
        effect = f"replacing it by <unk> lowers {label} by {delta:.2f}" if delta >= 0 else f"replacing it by <unk> raises {label} by {-delta:.2f}"
        parts.append(f"“{expl.words[j]}” ({effect})")
    text = f"Final prediction: {label} {expl.score:.2f} (the same as predict). The words that mattered most: {'; '.join(parts)}."
    if expl.note:
        text += f" Note: {expl.note}."
    return text
