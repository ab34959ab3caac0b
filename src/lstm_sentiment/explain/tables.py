"""The walk-through as a terminal table (rich) or a Markdown document.

Both show one layer and direction (the JSON has all of them): per token the gate means, the norms of
c_t, h_t and c_t − c_{t−1}, the running prediction and the token's contribution. Markdown adds the most
active units of each gate.
"""

from __future__ import annotations

import re

from rich import box
from rich.cells import cell_len
from rich.table import Table
from rich.text import Text

from lstm_sentiment.bundle import bundle_name
from lstm_sentiment.explain.narrate import HEADING
from lstm_sentiment.explain.walk import GATES, Explanation, signed
from lstm_sentiment.output import shown

# Short column heads: f̄ is the mean of f_t over the H units, and so on.
_HEADS = {"f": "f mean", "i": "i mean", "g": "g mean", "o": "o mean"}


def _summary(expl: Explanation) -> str:
    probs = ", ".join(f"{label} {p:.4f}" for label, p in zip(expl.labels, expl.probs))
    return f"{expl.label} {expl.score:.4f}  ({probs})"


def _view(expl: Explanation, layer: int, direction: str) -> str:
    trace = expl.trace(layer, direction)
    return f"layer {trace.layer}, {trace.direction}, H={trace.hidden_size}"


# box.SIMPLE_HEAD in ASCII: rich replaces a box an ASCII output cannot hold by its framed ASCII box, which
# beside the compact layout's zero padding ran the cells together ("|1|i    |0.43|").
_ASCII_HEAD = box.Box("    \n    \n -- \n    \n    \n    \n    \n    \n", ascii=True)


def rich_table(expl: Explanation, layer: int = 0, direction: str = "forward", compact: bool = False, ascii_only: bool = False):
    """A rich Table of the steps, titled with the prediction (and the truncation note and the warning, if any).

    Args:
        compact: gate columns headed f, i, g, o, one space between columns and no frame: for a terminal
            narrower than the framed table (80 columns cut the running prediction to "posit…").
        ascii_only: ASCII headers (|c|, |h|, |dc|) for an output whose encoding holds no "‖" (rich then draws
            the frame in ASCII too): under a C locale a table of ASCII words failed on its headers alone.
    """
    trace = expl.trace(layer, direction)
    # Class names come from the training file as tokens come from the text: plain text, not rich markup,
    # line by line (shown writes a newline as an escape).
    # The model by its folder's name, as the page names it: routing picks zh or en, and the table did not say which.
    view = f"model {bundle_name(expl.model)}, {_view(expl, layer, direction)}" + ("; f i g o: gate means" if compact else "")
    title = Text("\n").join([shown(_summary(expl)), shown(view)])
    caption = Text("\n").join(shown(f"{kind}: {text}") for kind, text in expl.notices)
    layout = {"box": _ASCII_HEAD if ascii_only else box.SIMPLE_HEAD, "pad_edge": False, "padding": 0} if compact else {}
    table = Table(title=title, caption=caption or None, **layout)
    norms = ("|c|", "|h|", "|dc|") if ascii_only else ("‖c‖", "‖h‖", "‖Δc‖")
    gates = tuple(_HEADS) if compact else tuple(_HEADS.values())
    rows = []
    for j in range(len(expl)):
        label, score = expl.running(j + 1)
        rows.append([
            str(j + 1),
            shown(expl.read_as(j)),
            *(f"{trace.means[name][j]:.2f}" for name in _HEADS),
            f"{trace.cell_norm[j]:.2f}",
            f"{trace.hidden_norm[j]:.2f}",
            f"{trace.cell_delta_norm[j]:.2f}",
            shown(f"{label} {score:.2f}"),
            signed(expl.contributions[j]),
        ])
    # Figures are never cut or folded: each column is as wide as its widest cell ("+0.3…" hid the
    # contribution at 80 columns); a terminal narrower than the table wraps its lines instead.
    for k, head in enumerate(["t", "token", *gates, *norms, "running", "contrib."]):
        width = max([cell_len(head), *(cell_len(str(row[k])) for row in rows)])
        if head == "token":
            # A token folds past 24 columns (12 compact): a word of 300 letters widened the table to 300
            # columns. Shorter ones stay whole however narrow the terminal ("token" was read down the column).
            widest = 12 if compact else 24
            table.add_column(head, overflow="fold", min_width=min(width, max(widest, len(head))), max_width=widest)
        else:
            table.add_column(head, justify="left" if head == "running" else "right", no_wrap=True, min_width=width)
    for row in rows:
        table.add_row(*row)
    return table


# Characters that would act as Markdown inside a line (emphasis, links, code, raw HTML such as <unk>,
# table cells); CommonMark takes a backslash before any ASCII punctuation as the character itself. An
# underscore right after a letter or digit cannot open emphasis, so h_t and c_{t-1} stay as written.
_MARKDOWN_SPECIAL = re.compile(r"[\\`*\[\]<>&|~]|(?<![^\W_])_")


# A line break would start a new block: "# heading" or "---" on the next line of a text became a heading.
_LINE_BREAK = re.compile("\r\n|[\r\n\u2028\u2029]")


def _escape(text: str) -> str:
    # Control characters as the terminal table shows them (\x1b): an ESC sequence in the text recoloured
    # the terminal that the report was printed in.
    return shown(_LINE_BREAK.sub("<br>", _MARKDOWN_SPECIAL.sub(lambda match: "\\" + match[0], text))).plain


def to_markdown(expl: Explanation, layer: int = 0, direction: str = "forward", narration: list[str] | None = None, narration_lang: str = "en") -> str:
    """A Markdown report: prediction, note, the step table, the top units, and the narration if given,
    headed in its language (``narration_lang``, "zh" or "en")."""
    trace = expl.trace(layer, direction)
    lines = [
        f"**Text:** {_escape(expl.text)}",
        "",
        f"**Prediction:** {_escape(_summary(expl))}  ",
        f"**Model:** {_escape(bundle_name(expl.model))}  ",
        f"**Gates of:** {_view(expl, layer, direction)}; running = prediction for the first t tokens alone; "
        "contrib. = drop of the predicted label's probability when the token is replaced by `<unk>` (left out, when it is `<unk>`).",
        "",
    ]
    # A warning (the prediction may mean little) is said where the report is read, not only on stderr.
    for kind, text in expl.notices:
        lines += [f"> **{kind.capitalize()}:** {_escape(text)}.", ""]
    lines += [
        "| t | token | f mean | i mean | g mean | o mean | ‖c‖ | ‖h‖ | ‖Δc‖ | running | contrib. |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for j in range(len(expl)):
        label, score = expl.running(j + 1)
        means = " | ".join(f"{trace.means[name][j]:.2f}" for name in _HEADS)
        lines.append(
            f"| {j + 1} | {_escape(expl.read_as(j))} | {means} | {trace.cell_norm[j]:.2f} | {trace.hidden_norm[j]:.2f} "
            f"| {trace.cell_delta_norm[j]:.2f} | {_escape(label)} {score:.2f} | {signed(expl.contributions[j])} |"
        )
    lines += ["", "Most active units (unit: value, largest |value| first):", ""]
    lines += ["| t | token | " + " | ".join(GATES[name] for name in "figo") + " |", "|---:|---|---|---|---|---|"]
    for j in range(len(expl)):
        cells = [", ".join(f"u{u}: {v:.2f}" for u, v in zip(trace.top_index[name][j], trace.top_value[name][j])) for name in "figo"]
        lines.append(f"| {j + 1} | {_escape(expl.read_as(j))} | " + " | ".join(cells) + " |")
    if narration:
        lines += ["", f"### {HEADING['zh' if narration_lang == 'zh' else 'en']}", ""]
        for paragraph in narration:
            lines += [_escape(paragraph), ""]
    return "\n".join(lines).rstrip("\n") + "\n"


