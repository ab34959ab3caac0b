"""The web page of ``lstm-sentiment serve``: type a sentence, watch the gates.

One HTML document with its CSS and JS inline; its only requests go to its own origin (``v1/explain``,
``v1/model`` and the CJK font ``assets/cjk-font.otf``, fetched only when Chinese is shown), and the
Content-Security-Policy :data:`CSP` makes the browser refuse any other. On submit it posts the text to
``/v1/explain`` and draws from the answer:

- the prediction and its score (the last running prediction, equal to ``predict``'s);
- the sentence, each token coloured by the running prediction, as on ``explain --html``'s page, with the
  same gate table on hover, focus or click (:data:`~lstm_sentiment.explain.html.EXPLAIN_JS`);
- the running prediction word by word, as a line per class over the tokens;
- heatmaps (units × tokens) of f, i, g, o, c, h for a chosen layer and direction, with the panels,
  colour maps, ranges and unit choice (the most variable 16 when H is larger) of ``explain --png``
  (:mod:`lstm_sentiment.explain.plots`), drawn on canvases from the per-unit values of the JSON;
- the word contributions.
"""

from __future__ import annotations

import json
import re
from string import Template

from lstm_sentiment.explain.walk import UNIT_NAMES
from lstm_sentiment.explain.html import EXPLAIN_JS, LABEL_COLORS, PAGE_CSS, PALETTE
from lstm_sentiment.explain.plots import DEFAULT_MAX_UNITS, PANELS
from lstm_sentiment.serve.limits import MAX_TEXT_CHARS

# What the browser may load: this origin only (the API and the font); inline CSS and JS.
CSP = (
    "default-src 'none'; connect-src 'self'; font-src 'self'; img-src data:; "
    "style-src 'unsafe-inline'; script-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
)
# How long the page waits for an explanation (a 512-token one takes seconds; a server that never answered
# left its button disabled for good).
PAGE_TIMEOUT_S = 60

# Colour-map stops (position, RGB) of matplotlib's maps named in plots.PANELS.
COLORMAPS = {
    "viridis": [[0.0, [68, 1, 84]], [0.25, [59, 82, 139]], [0.5, [33, 145, 140]], [0.75, [94, 201, 98]], [1.0, [253, 231, 37]]],
    "RdBu_r": [[0.0, [5, 48, 97]], [0.15, [33, 102, 172]], [0.3, [146, 197, 222]], [0.5, [247, 247, 247]], [0.7, [244, 165, 130]],
               [0.85, [178, 24, 43]], [1.0, [103, 0, 31]]],
}

_SERVE_CSS = """
@font-face { font-family: "lstm-sentiment-cjk"; src: url(assets/cjk-font.otf) format("opentype");
  unicode-range: U+2E80-9FFF, U+F900-FAFF, U+FE30-FE4F, U+FF00-FFEF; }
form { display: flex; gap: 0.6rem; align-items: flex-start; margin: 0.8rem 0; }
#text { flex: 1; font: inherit; font-size: 1.1rem; padding: 0.4rem 0.5rem; min-height: 2.4rem; resize: vertical; }
#submit { font: inherit; font-size: 1rem; padding: 0.45rem 1.2rem; cursor: pointer; }
#error { color: #b00020; margin: 0.4rem 0; }
#prediction { font-size: 1.25rem; margin: 0.6rem 0; }
#label { font-weight: bold; padding: 0.1rem 0.5rem; border-radius: 0.3rem; color: #fff; }
#result[hidden] { display: none; }
#result.stale { opacity: 0.35; }
#busy { font-size: 0.9rem; color: #333; margin: 0.3rem 0; }
.controls { font-size: 0.9rem; margin: 0.4rem 0; }
.controls label { margin-right: 1rem; }
.chart { display: grid; grid-template-columns: 56px auto; align-items: center; margin: 0.15rem 0; }
.chart .axis { display: flex; flex-direction: column; justify-content: space-between; align-self: stretch; font-size: 0.7rem;
  color: #555; text-align: right; padding-right: 6px; }
.chart .axis.units { justify-content: flex-start; font-size: 8px; }
.chart canvas { display: block; image-rendering: pixelated; }
.panel-title { font-size: 0.8rem; color: #333; margin: 0.5rem 0 0.1rem 56px; }
.ticks { display: flex; margin-left: 56px; font-size: 0.75rem; }
.ticks span { overflow: hidden; text-align: center; white-space: nowrap; flex: none; }
.ticks.vertical span { writing-mode: vertical-rl; text-align: left; max-height: 6rem; }
.ticks span.unk { color: #888; }
#heatmaps, #running { overflow-x: auto; }
#limit { font-size: 0.8rem; color: #555; margin: -0.5rem 0 0.4rem; }
#readout { font-size: 0.85rem; min-height: 1.2rem; color: #333; margin: 0.3rem 0 0 56px; font-variant-numeric: tabular-nums; }
"""

_PAGE = Template("""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>lstm-sentiment</title>
<style>
$css$serve_css</style>
</head>
<body>
<h1>LSTM sentiment: type a sentence, watch the gates</h1>
<div class="meta" id="model">model: loading…</div>
<form id="form" autocomplete="off">
<textarea id="text" name="text" rows="2" dir="auto" placeholder="我喜欢这个电影" aria-label="text to classify" aria-describedby="limit"></textarea>
<button id="submit" type="submit">Explain</button>
</form>
<div id="limit">up to $max_chars_shown characters; of a text longer than the model reads, the first and last words are read, as predict reads it</div>
<div id="error" role="alert"></div>
<div id="busy" role="status" hidden>working…</div>
<div id="result" hidden>
<div id="prediction"><span id="label"></span> <span id="score"></span> <span class="meta" id="probs"></span></div>
<div id="note" class="note" hidden></div>
<div id="sentence"></div>
<div class="legend" id="legend"></div>
<h2>Running prediction, word by word (the first t tokens alone)</h2>
<div id="running"></div>
<h2>Gates at the selected token (hover, focus or click a token)</h2>
<div id="detail" aria-live="polite"></div>
<h2>Heatmaps: units × tokens</h2>
<div class="controls"><label>layer / direction <select id="trace"></select></label>
<label><input type="checkbox" id="all-units"> all units (default: the $max_units most variable)</label></div>
<div id="heatmaps"></div>
<div id="readout"></div>
<h2>Word contributions</h2>
<table class="contrib"><thead><tr><th>t</th><th>token</th><th>drop of the predicted label's probability when the token is replaced by &lt;unk&gt;</th></tr></thead><tbody id="contrib"></tbody></table>
</div>
<script type="application/json" id="page-config">$config</script>
<script>
$explain_js$page_js</script>
</body>
</html>
""")

_PAGE_JS = r"""(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("page-config").textContent);
  var el = lstmExplain.el, fmt = lstmExplain.fmt;
  var $ = function (id) { return document.getElementById(id); };
  var data = null, tokens = [], selected = 0, colors = {};

  // label_colors() and token_background() of explain/html.py, for the classes of the answer.
  function labelColors(labels) {
    var out = {}, spare = 0;
    labels.forEach(function (label) {
      out[label] = config.label_colors[label] || config.palette[spare++ % config.palette.length];
    });
    return out;
  }
  function rgba(rgb, alpha) { return "rgba(" + rgb[0] + ", " + rgb[1] + ", " + rgb[2] + ", " + alpha + ")"; }
  function tokenBackground(t) {
    var step = data.steps[t - 1], chance = 1 / data.labels.length;
    var confidence = Math.min(1, Math.max(0, (step.running_score - chance) / (1 - chance)));
    return rgba(colors[step.running_label], (0.12 + 0.68 * confidence).toFixed(3));
  }

  function colormap(name, x) {
    var stops = config.colormaps[name];
    x = Math.min(1, Math.max(0, x));
    for (var k = 1; k < stops.length; k++) {
      if (x <= stops[k][0]) {
        var a = stops[k - 1], b = stops[k], w = (x - a[0]) / (b[0] - a[0]);
        return "rgb(" + [0, 1, 2].map(function (c) { return Math.round(a[1][c] + w * (b[1][c] - a[1][c])); }).join(",") + ")";
      }
    }
    return "rgb(" + stops[stops.length - 1][1].join(",") + ")";
  }

  // select_units() of explain/plots.py: one choice for all panels, all units if H <= max, else those
  // that vary most over the tokens, summed over the panels, each panel's spread scaled by its largest.
  function selectUnits(panels, max) {
    var hidden = panels[0][0].length, length = panels[0].length, score = [];
    if (hidden <= max) { return panels[0][0].map(function (_, u) { return u; }); }
    for (var u = 0; u < hidden; u++) { score.push([0, u]); }
    panels.forEach(function (values) {
      var spread = [], top = 0;
      for (var u = 0; u < hidden; u++) {
        var mean = 0, sq = 0;
        for (var t = 0; t < length; t++) { mean += values[t][u]; }
        mean /= length;
        for (t = 0; t < length; t++) { sq += (values[t][u] - mean) * (values[t][u] - mean); }
        spread.push(length > 1 ? Math.sqrt(sq / length) : Math.abs(values[0][u]));
        top = Math.max(top, spread[u]);
      }
      if (top > 0) { spread.forEach(function (s, u) { score[u][0] += s / top; }); }
    });
    score.sort(function (a, b) { return b[0] - a[0] || a[1] - b[1]; });
    return score.slice(0, max).map(function (s) { return s[1]; }).sort(function (a, b) { return a - b; });
  }

  function cellWidth() { return Math.max(8, Math.min(64, Math.floor(960 / data.steps.length))); }

  function ticks() {
    var cw = cellWidth(), box = el("div", null, "ticks" + (cw < 30 ? " vertical" : ""));
    data.steps.forEach(function (step) {
      var span = el("span", step.word, step.in_vocab ? null : "unk");
      span.style.width = cw + "px";
      span.title = "t=" + step.t + (step.in_vocab ? "" : " (<unk>)");
      box.appendChild(span);
    });
    return box;
  }

  function drawRunning() {
    var box = $("running"), cw = cellWidth(), n = data.steps.length, h = 120;
    box.textContent = "";
    var chart = el("div", null, "chart"), axis = el("div", null, "axis");
    ["1.0", "0.5", "0.0"].forEach(function (tick) { axis.appendChild(el("span", tick)); });
    var canvas = el("canvas");
    canvas.width = cw * n; canvas.height = h; canvas.id = "running-chart";
    var ctx = canvas.getContext("2d");
    ctx.fillStyle = "#fafafa"; ctx.fillRect(0, 0, canvas.width, h);
    ctx.strokeStyle = "#bbb"; ctx.setLineDash([4, 3]); ctx.beginPath();
    ctx.moveTo(0, h / 2); ctx.lineTo(canvas.width, h / 2); ctx.stroke(); ctx.setLineDash([]);
    data.labels.forEach(function (label) {
      var bold = label === data.label;
      ctx.strokeStyle = rgba(colors[label], 1); ctx.fillStyle = ctx.strokeStyle; ctx.lineWidth = bold ? 2.5 : 1;
      ctx.beginPath();
      data.steps.forEach(function (step, j) {
        var x = j * cw + cw / 2, y = 4 + (1 - step.running_probs[label]) * (h - 8);
        if (j === 0) { ctx.moveTo(x, y); } else { ctx.lineTo(x, y); }
      });
      ctx.stroke();
      data.steps.forEach(function (step, j) {
        ctx.beginPath();
        ctx.arc(j * cw + cw / 2, 4 + (1 - step.running_probs[label]) * (h - 8), bold ? 3 : 2, 0, 2 * Math.PI);
        ctx.fill();
      });
    });
    chart.appendChild(axis); chart.appendChild(canvas); box.appendChild(chart); box.appendChild(ticks());
  }

  function traceOptions() {
    // The layer and direction chosen stay chosen for the next text, where it has them.
    var select = $("trace"), chosen = select.value;
    select.textContent = "";
    data.layers.forEach(function (layer, k) {
      layer.directions.forEach(function (direction, d) {
        var option = el("option", "layer " + layer.layer + " / " + direction.direction);
        option.value = k + "/" + d;
        option.selected = option.value === chosen;
        select.appendChild(option);
      });
    });
  }

  function drawHeatmaps() {
    var box = $("heatmaps"), cw = cellWidth(), n = data.steps.length;
    var parts = $("trace").value.split("/"), trace = data.layers[+parts[0]].directions[+parts[1]];
    var max = $("all-units").checked ? Infinity : config.max_units;
    box.textContent = "";
    var units = selectUnits(config.panels.map(function (panel) { return trace.units[panel.key]; }), max), rows = units.length;
    config.panels.forEach(function (panel) {
      var values = trace.units[panel.key];
      var ch = Math.max(2, Math.min(9, Math.floor(160 / rows)));
      var limits = panel.limits;
      if (!limits) {
        var bound = 0;
        units.forEach(function (u) { values.forEach(function (v) { bound = Math.max(bound, Math.abs(v[u])); }); });
        limits = [-(bound || 1), bound || 1];
      }
      var shown = rows + " of " + values[0].length + " units" + (rows < values[0].length ? " (most variable)" : "");
      box.appendChild(el("div", panel.title + ": " + shown + ", colour range " + fmt(limits[0]) + " to " + fmt(limits[1]), "panel-title"));
      var chart = el("div", null, "chart");
      // a label per unit while they fit, else the first and the last
      var axis = el("div", null, "axis" + (ch >= 8 ? " units" : ""));
      (ch >= 8 ? units : [units[0], units[rows - 1]]).forEach(function (u) {
        var label = el("span", "u" + u);
        if (ch >= 8) { label.style.height = ch + "px"; label.style.lineHeight = ch + "px"; }
        axis.appendChild(label);
      });
      var canvas = el("canvas");
      canvas.className = "heatmap"; canvas.dataset.gate = panel.name;
      canvas.width = cw * n; canvas.height = ch * rows;
      var ctx = canvas.getContext("2d");
      units.forEach(function (u, r) {
        values.forEach(function (row, j) {
          ctx.fillStyle = colormap(panel.cmap, (row[u] - limits[0]) / (limits[1] - limits[0]));
          ctx.fillRect(j * cw, r * ch, cw, ch);
        });
      });
      if (selected) {
        ctx.strokeStyle = "#000"; ctx.lineWidth = 2;
        ctx.strokeRect((selected - 1) * cw + 1, 1, cw - 2, canvas.height - 2);
      }
      canvas.addEventListener("mousemove", function (event) {
        var rect = canvas.getBoundingClientRect();
        var j = Math.floor((event.clientX - rect.left) / cw), r = Math.floor((event.clientY - rect.top) / ch);
        if (j < 0 || j >= n || r < 0 || r >= rows) { return; }
        $("readout").textContent = panel.title + ", unit u" + units[r] + ", t=" + (j + 1) + " \u201c" + data.steps[j].word + "\u201d: " + fmt(values[j][units[r]]);
      });
      chart.appendChild(axis); chart.appendChild(canvas); box.appendChild(chart);
    });
    box.appendChild(ticks());
  }

  function select(t) {
    selected = t;
    lstmExplain.showStep(data, t, $("detail"), tokens);
    drawHeatmaps();
  }

  function render(answer) {
    data = answer;
    colors = labelColors(data.labels);
    $("label").textContent = data.label;
    $("label").style.background = rgba(colors[data.label], 1);
    $("score").textContent = data.score.toFixed(4);
    $("probs").textContent = "(" + data.labels.map(function (l) { return l + " " + data.probs[l].toFixed(4); }).join(", ") + ")";
    $("probs").textContent += " \u00b7 model: " + data.model;
    // The API's warning (no known words, a script the model does not read) as explain --html shows it.
    var notes = (data.warning ? ["warning: " + data.warning] : []).concat(data.note ? ["note: " + data.note] : []);
    $("note").hidden = !notes.length;
    $("note").textContent = notes.join(" \u00b7 ");
    var sentence = $("sentence");
    sentence.textContent = "";
    tokens = data.steps.map(function (step) {
      var span = el("span", step.word, "tok" + (step.in_vocab ? "" : " unk"));
      span.appendChild(el("sub", String(step.t)));
      span.dataset.t = step.t;
      span.tabIndex = 0;
      span.setAttribute("aria-label", "t=" + step.t + ": " + step.word);  // not "i1": the word and its position run together
      span.title = "t=" + step.t + ": first " + step.t + " token(s) \u2192 " + step.running_label + " " + step.running_score.toFixed(2) +
        (step.in_vocab ? "" : "; no vector for it, read as <unk>");
      span.style.background = tokenBackground(step.t);
      ["mouseenter", "focus", "click"].forEach(function (type) { span.addEventListener(type, function () { select(step.t); }); });
      sentence.appendChild(span);
      return span;
    });
    var legend = $("legend");
    legend.textContent = "";
    data.labels.forEach(function (label) {
      var span = el("span", label);
      span.style.background = rgba(colors[label], 0.6);
      legend.appendChild(span);
    });
    legend.appendChild(el("span", "colour: the running prediction (stronger = surer)", "meta"));
    var rows = $("contrib"), scale = 1e-9;
    rows.textContent = "";
    data.contributions.forEach(function (c) { scale = Math.max(scale, Math.abs(c.delta)); });
    data.contributions.forEach(function (c) {
      var tr = el("tr"), cell = el("td");
      var bar = el("span", null, "bar");
      bar.style.width = (80 * Math.abs(c.delta) / scale).toFixed(1) + "%";
      bar.style.background = c.delta >= 0 ? rgba(colors[data.label], 1) : "rgb(120, 120, 120)";
      cell.appendChild(bar);
      var delta = Math.round(c.delta * 1000) / 1000 + 0;  // + 0: no "-0.000" for a change too small to print
      cell.appendChild(document.createTextNode(" " + (delta >= 0 ? "+" : "") + delta.toFixed(3)));
      tr.appendChild(el("td", String(c.t)));
      tr.appendChild(el("td", c.token === "<unk>" ? "<unk> (" + c.word + ")" : c.word));
      tr.appendChild(cell);
      rows.appendChild(tr);
    });
    $("result").hidden = false;
    traceOptions();
    drawRunning();
    select(data.steps.length);
  }

  // The result of an earlier text goes with the error: shown under it, it read as this text's.
  function fail(message) { $("error").textContent = "error: " + message; $("result").hidden = true; }

  $("form").addEventListener("submit", function (event) {
    event.preventDefault();
    // One request at a time: Enter while one ran sent a second, and the answer that came last was drawn
    // beside the other text.
    if ($("submit").disabled) { return; }
    var text = $("text").value, length = Array.from(text).length;
    $("error").textContent = "";
    if (length > config.max_chars) {
      // maxlength cut a pasted text silently (and counted an emoji twice).
      fail("the text has " + length + " characters, over the " + config.max_chars + " the server takes: shorten it");
      return;
    }
    $("submit").disabled = true;
    // A long text takes seconds: the earlier result stayed as it was, with nothing to say this one was on
    // its way; and a server that never answered left the button disabled for good.
    $("busy").hidden = false;
    $("result").classList.add("stale");
    var controller = new AbortController();
    var timer = setTimeout(function () { controller.abort(); }, config.timeout_s * 1000);
    // The timeout ends the request at whatever point it reached: the connection, or the body's read.
    function cut(otherwise) { return controller.signal.aborted ? "the server did not answer in " + config.timeout_s + " s" : otherwise; }
    fetch("v1/explain", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({text: text}), signal: controller.signal})
      .then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) { throw new Error(body.error ? body.error.message : "HTTP " + response.status); }
          render(body);
        }, function () { throw new Error(cut("HTTP " + response.status + " without a JSON answer")); });
      }, function () { throw new Error(cut("cannot reach the server (is it still running?)")); })
      .catch(function (err) { fail(err.message); })
      .then(function () {
        clearTimeout(timer);
        $("busy").hidden = true;
        $("result").classList.remove("stale");
        $("submit").disabled = false;
      });
  });
  $("text").addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); $("form").requestSubmit(); }
  });
  $("trace").addEventListener("change", drawHeatmaps);
  $("all-units").addEventListener("change", drawHeatmaps);

  fetch("v1/model").then(function (response) { return response.json(); }).then(function (info) {
    $("model").textContent = "model: " + info.models.map(function (m) {
      var test = m.metrics && m.metrics.test ? ", test accuracy " + m.metrics.test.accuracy.toFixed(3) : "";
      return m.name + " (" + m.labels.join(" / ") + test + ")";
    }).join(", ") + (info.models.length > 1 ? "; " + info.routing : "") + " \u00b7 API: POST v1/predict, v1/explain; schema: openapi.json";
    // "longer than the model reads" said no number: each model's max_tokens, as its card has it.
    var reads = info.models.map(function (m) {
      return (info.models.length > 1 ? m.name + " " : "") + (m.tokenizer && m.tokenizer.max_tokens);
    }).join(", ");
    $("limit").textContent = "up to " + config.max_chars.toLocaleString("en") + " characters; of a text over the model's " + reads +
      " words, the first and last halves are read, as predict reads it";
  }).catch(function () { $("model").textContent = "model: unknown"; });
})();
"""


def _plain_title(title: str) -> str:
    """``forget gate $f_t$`` (matplotlib mathtext) → ``forget gate f_t``."""
    return re.sub(r"\$([^$]*)\$", r"\1", title)


def build_page() -> str:
    """The page's HTML (the same for every model: what it shows comes from the API)."""
    config = {
        "label_colors": {label: list(rgb) for label, rgb in LABEL_COLORS.items()},
        "palette": [list(rgb) for rgb in PALETTE],
        "colormaps": COLORMAPS,
        "max_units": DEFAULT_MAX_UNITS,
        "max_chars": MAX_TEXT_CHARS,
        "timeout_s": PAGE_TIMEOUT_S,
        "panels": [
            {"name": name, "key": UNIT_NAMES[name], "title": _plain_title(title), "cmap": cmap, "limits": list(limits) if limits else None}
            for name, title, cmap, limits in PANELS
        ],
    }
    return _PAGE.substitute(
        css=PAGE_CSS,
        serve_css=_SERVE_CSS,
        max_chars_shown=f"{MAX_TEXT_CHARS:,}",
        max_units=DEFAULT_MAX_UNITS,
        config=json.dumps(config).replace("<", "\\u003c"),
        explain_js=EXPLAIN_JS,
        page_js=_PAGE_JS,
    )
