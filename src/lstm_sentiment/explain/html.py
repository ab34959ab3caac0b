"""One self-contained HTML page of the walk-through: no network requests, CSS, JS, data and image inline.

The page shows the sentence with each token coloured by the running prediction (the colour of the label
the model gives the first t tokens, stronger when surer); hovering, focusing or clicking a token shows
its gate values for every layer and direction, its running probabilities and its contribution. Below:
the contributions as bars, the narration (if asked for) and the heatmaps as an inline PNG. A
Content-Security-Policy of ``default-src 'none'`` makes the browser refuse any request the page might
still try.

The data is the JSON of :meth:`Explanation.to_dict` without per-unit values (those are in the PNG and
in ``--format json``) and with ``model`` the model folder's name, not its path, in ``<script type="application/json" id="explain-data">``. Chinese shows as Chinese on any machine: the
page carries Noto Sans SC (:mod:`.fonts`) cut down to the characters it uses, as an inline ``@font-face``.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from string import Template

from lstm_sentiment.atomic import write_text_atomic
from lstm_sentiment.bundle import bundle_name
from lstm_sentiment.explain.fonts import font_subset
from lstm_sentiment.explain.narrate import HEADING
from lstm_sentiment.explain.plots import render_png
from lstm_sentiment.explain.walk import Explanation, signed

LABEL_COLORS = {"negative": (215, 48, 39), "positive": (26, 152, 80), "neutral": (127, 127, 127)}
PALETTE = ((69, 117, 180), (152, 78, 163), (255, 127, 0), (166, 86, 40), (247, 129, 191), (77, 175, 74))


def label_colors(labels) -> dict[str, tuple[int, int, int]]:
    """An RGB colour per class: red/green/grey for negative/positive/neutral, a palette for the rest."""
    colors, spare = {}, iter(PALETTE * (len(labels) // len(PALETTE) + 1))
    for label in labels:
        colors[label] = LABEL_COLORS.get(label) or next(spare)
    return colors


def token_background(expl: Explanation, t: int, colors: dict) -> str:
    """CSS colour of token t (1-based): the running label's colour, opacity growing with its margin over chance."""
    label, score = expl.running(t)
    chance = 1.0 / len(expl.labels)
    confidence = min(1.0, max(0.0, (score - chance) / (1.0 - chance)))
    r, g, b = colors[label]
    return f"rgba({r}, {g}, {b}, {0.12 + 0.68 * confidence:.3f})"


# The page's CSS, shared with the web page of `lstm-sentiment serve` (lstm_sentiment.serve.page).
PAGE_CSS = """body { font-family: "lstm-sentiment-cjk", "Noto Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif; margin: 1.5rem auto; max-width: 1100px; padding: 0 1rem; color: #222; }
h1 { font-size: 1.3rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.05rem; margin-top: 1.6rem; }
.meta { color: #555; font-size: 0.9rem; }
.note { background: #fff6d6; border-left: 4px solid #e0b000; padding: 0.4rem 0.7rem; margin: 0.8rem 0; }
#sentence { font-size: 1.6rem; line-height: 2.6rem; margin: 1rem 0 0.4rem; }
.tok { display: inline-block; line-height: 1.9rem; padding: 0.15rem 0.35rem; margin: 0.12rem 0.08rem; border-radius: 0.3rem; cursor: pointer; border: 2px solid transparent;
  max-width: 100%; box-sizing: border-box; overflow-wrap: anywhere; }
.tok.unk { text-decoration: underline dotted; }
.tok.selected { border-color: #222; }
.tok sub { font-size: 0.6rem; color: #111; margin-left: 0.1rem; }
.legend span { display: inline-block; padding: 0.1rem 0.5rem; margin-right: 0.4rem; border-radius: 0.3rem; font-size: 0.85rem; }
#detail { border: 1px solid #ccc; border-radius: 0.4rem; padding: 0.6rem 0.9rem; min-height: 8rem; overflow-x: auto; }
#detail h3 { margin: 0.2rem 0 0.5rem; font-size: 1.05rem; }
table { border-collapse: collapse; font-size: 0.85rem; }
th, td { border-bottom: 1px solid #e3e3e3; padding: 0.2rem 0.5rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.bar { display: inline-block; height: 0.7rem; vertical-align: middle; }
.contrib td:nth-child(2), .contrib th:nth-child(2), .contrib td:nth-child(3), .contrib th:nth-child(3) { text-align: left; }
.contrib td:nth-child(3) { width: 50%; white-space: nowrap; }
.contrib td:nth-child(2) { overflow-wrap: anywhere; }
.narration p { line-height: 1.55; }
img.heatmaps { max-width: 100%; border: 1px solid #ddd; }
"""

# The gate table of one token: `lstmExplain.showStep(data, t, detail, tokens)` with data = Explanation.to_dict(),
# shared with the web page of `lstm-sentiment serve`. Plain ES5, no library.
EXPLAIN_JS = """var lstmExplain = (function () {
  "use strict";
  var gates = [["forget_gate", "f"], ["input_gate", "i"], ["candidate", "g"], ["output_gate", "o"]];

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = text; }
    if (cls) { node.className = cls; }
    return node;
  }
  // Rounded first, and + 0 turns -0 into 0: a tiny negative value printed as minus zero.
  function fmt(x) { return (Math.round(Number(x) * 1000) / 1000 + 0).toFixed(3); }
  function row(cells, header) {
    var tr = el("tr");
    cells.forEach(function (c) { tr.appendChild(el(header ? "th" : "td", c)); });
    return tr;
  }

  function showStep(data, t, detail, tokens) {
    var step = data.steps[t - 1];
    tokens.forEach(function (node) { node.classList.toggle("selected", Number(node.dataset.t) === t); });
    detail.textContent = "";
    var title = "t=" + t + "  \\u201c" + step.word + "\\u201d";
    if (!step.in_vocab) { title += "  (<unk>: no vector for it)"; }
    detail.appendChild(el("h3", title));
    var probs = el("div");
    probs.appendChild(el("span", "running prediction, first " + t + " token(s): "));
    data.labels.forEach(function (label) {
      probs.appendChild(el("span", label + " " + fmt(step.running_probs[label]) + "   "));
    });
    detail.appendChild(probs);
    var contribution = data.contributions[t - 1].delta;
    var how = step.in_vocab ? "replaced by <unk>" : "left out (it is read as <unk>)";
    detail.appendChild(el("div", "contribution (drop of " + data.label + " when " + how + "): " + (contribution >= 0 ? "+" : "") + fmt(contribution)));
    var table = el("table", null, "gates");
    table.appendChild(row(["layer / direction", "f mean", "i mean", "g mean", "o mean", "\\u2016c\\u2016", "\\u2016h\\u2016", "\\u2016\\u0394c\\u2016", "top f units", "top i units"], true));
    data.layers.forEach(function (layer) {
      layer.directions.forEach(function (direction) {
        var s = direction.steps[t - 1];
        var cells = [layer.layer + " / " + direction.direction];
        gates.forEach(function (g) { cells.push(fmt(s[g[0]].mean)); });
        cells.push(fmt(s.cell_norm), fmt(s.hidden_norm), fmt(s.cell_delta_norm));
        ["forget_gate", "input_gate"].forEach(function (name) {
          cells.push(s[name].top_units.map(function (u) { return "u" + u.unit + " " + Number(u.value).toFixed(2); }).join(", "));
        });
        table.appendChild(row(cells, false));
      });
    });
    detail.appendChild(table);
  }

  return {el: el, fmt: fmt, row: row, showStep: showStep};
})();
"""


_PAGE = Template("""<!doctype html>
<html lang="$lang">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; font-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>$title</title>
<style>
$font_face
$css</style>
</head>
<body>
<h1>$heading</h1>
<div class="meta">$meta</div>
$note
<div id="sentence" lang="$text_lang">$tokens</div>
<div class="legend">$legend</div>
<h2>$step_heading</h2>
<div id="detail" aria-live="polite"></div>
<h2>$contrib_heading</h2>
<table class="contrib"><thead><tr><th>t</th><th>$token_column</th><th>$contrib_column</th></tr></thead><tbody>$contrib_rows</tbody></table>
$narration
<h2>$heatmap_heading</h2>
<img class="heatmaps" alt="$heatmap_alt" src="data:image/png;base64,$png">
<script type="application/json" id="explain-data">$data</script>
<script>
$explain_js(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("explain-data").textContent);
  var detail = document.getElementById("detail");
  var tokens = Array.prototype.slice.call(document.querySelectorAll("#sentence .tok"));
  function show(t) { lstmExplain.showStep(data, t, detail, tokens); }

  tokens.forEach(function (node) {
    var t = Number(node.dataset.t);
    node.addEventListener("mouseenter", function () { show(t); });
    node.addEventListener("focus", function () { show(t); });
    node.addEventListener("click", function () { show(t); });
  });
  show(data.steps.length);
})();
</script>
</body>
</html>
""")

_TEXT = {
    "en": {
        "heading": "LSTM walk-through",
        "step_heading": "Gates at the selected token (hover, focus or click a token)",
        "contrib_heading": "Word contributions",
        "contrib_column": "drop of the predicted label's probability when the token is replaced by <unk>",
        "heatmap_heading": "Heatmaps",
        "legend": "colour: the running prediction (stronger = surer)",
        "token": "token",
        "prediction": "prediction",
        "model": "model",
    },
    "zh": {
        "heading": "LSTM 逐词解读",
        "step_heading": "所选词的门值（悬停、聚焦或点击一个词）",
        "contrib_heading": "词的贡献",
        "contrib_column": "把该词换成 <unk> 后预测类别概率的下降",
        "heatmap_heading": "热力图",
        "legend": "颜色：到该词为止的预测（越深越确定）",
        "token": "词",
        "prediction": "预测",
        "model": "模型",
    },
}


def write_html(
    path: Path,
    expl: Explanation,
    narration: list[str] | None = None,
    lang: str = "en",
    layer: int = 0,
    png: bytes | None = None,
) -> None:
    """Write the page to ``path`` atomically.

    Args:
        path: the HTML file to write.
        expl: the explanation.
        narration: paragraphs to include, or None.
        lang: language of the page's headings, "en" or "zh".
        layer: whose heatmaps ``png`` shows (named in its caption), every direction.
        png: the heatmap PNG, inlined as a data URL; rendered by
            :func:`~lstm_sentiment.explain.plots.render_png` when None.
    """
    if png is None:
        png = render_png(expl, layer)
    words = _TEXT["zh" if lang == "zh" else "en"]
    colors = label_colors(expl.labels)
    esc = html.escape
    spans = []
    for j, (word, known) in enumerate(zip(expl.words, expl.in_vocab)):
        t = j + 1
        label, score = expl.running(t)
        tip = f"t={t}: first {t} token(s) → {label} {score:.2f}" + ("" if known else "; no vector for it, read as <unk>")
        spans.append(
            f'<span class="tok{"" if known else " unk"}" data-t="{t}" tabindex="0" title="{esc(tip)}" aria-label="t={t}: {esc(word)}" '
            f'style="background:{token_background(expl, t, colors)}">{esc(word)}<sub>{t}</sub></span>'
        )
    legend = "".join(f'<span style="background:rgba({r}, {g}, {b}, 0.6)">{esc(label)}</span>' for label, (r, g, b) in colors.items())
    legend += f'<span class="meta">{words["legend"]}</span>'
    probs = ", ".join(f"{esc(label)} {p:.4f}" for label, p in zip(expl.labels, expl.probs))
    # The text in its own direction (Arabic, Hebrew); the tokens stay in time order, t = 1 on the left.
    # The model by its folder's name: a page is a file people pass on, and the path was the writer's machine's.
    model = bundle_name(expl.model)
    # The page is in the headings' language, the text in its own (a zh page of an en text read "I loved it" as
    # zh): Chinese for a zh model's text, else unknown (""), as a model reading words may read any language.
    text_lang = "zh" if expl.lang == "zh" else ""
    meta = (f'<bdi dir="auto" lang="{text_lang}">{esc(expl.text)}</bdi><br>{words["prediction"]}: <b>{esc(expl.label)} {expl.score:.4f}</b> '
            f'({probs}) · {words["model"]}: {esc(model)}')
    note = "".join(f'<div class="note">{kind}: {esc(text)}</div>' for kind, text in expl.notices)
    rows = []
    scale = max(1e-9, float(max(abs(float(x)) for x in expl.contributions)))
    for j, delta in enumerate(expl.contributions):
        delta = float(delta)
        token = expl.read_as(j)
        r, g, b = colors[expl.label] if delta >= 0 else (120, 120, 120)
        bar = f'<span class="bar" style="width:{80 * abs(delta) / scale:.1f}%;background:rgb({r}, {g}, {b})"></span> {signed(delta)}'
        rows.append(f"<tr><td>{j + 1}</td><td>{esc(token)}</td><td>{bar}</td></tr>")
    narration_html = ""
    if narration:
        paragraphs = "".join(f"<p>{esc(p)}</p>" for p in narration)
        narration_html = f'<h2>{HEADING["zh" if lang == "zh" else "en"]}</h2><div class="narration">{paragraphs}</div>'
    directions = " and ".join(trace.direction for trace in expl.layers[layer])
    data = json.dumps(expl.to_dict(units=False) | {"model": model}, ensure_ascii=False).replace("<", "\\u003c")
    fields = dict(
        lang="zh" if lang == "zh" else "en",
        title=esc(f"{expl.headline(40)} – {expl.label} {expl.score:.2f}"),
        heading=words["heading"],
        meta=meta,
        note=note,
        tokens="".join(spans),
        text_lang=text_lang,
        token_column=words["token"],
        legend=legend,
        step_heading=words["step_heading"],
        contrib_heading=words["contrib_heading"],
        contrib_column=esc(words["contrib_column"]),
        contrib_rows="".join(rows),
        narration=narration_html,
        heatmap_heading=words["heatmap_heading"],
        heatmap_alt=esc(f"heatmaps of f, i, g, o, c, h (layer {layer}, {directions}) and the running prediction"),
        data=data,
        css=PAGE_CSS,
        explain_js=EXPLAIN_JS,
    )
    # The font is cut to the characters the page shows, so it must be made from the finished text.
    text = _PAGE.substitute(fields, font_face="", png="")
    font = base64.b64encode(font_subset(text)).decode("ascii")
    font_face = f'@font-face {{ font-family: "lstm-sentiment-cjk"; src: url(data:font/otf;base64,{font}) format("opentype"); }}'
    write_text_atomic(Path(path), _PAGE.substitute(fields, font_face=font_face, png=base64.b64encode(png).decode("ascii")))
