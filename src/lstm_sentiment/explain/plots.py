"""Heatmaps of one layer, each direction: units × tokens for f, i, g, o, c, h, under the running prediction.

matplotlib is imported here only, and only through ``Figure`` (Agg canvas), so no GUI backend and no
pyplot global state are involved. Text uses :func:`~lstm_sentiment.explain.fonts.font_families`, so
Chinese tokens render as Chinese.
"""

from __future__ import annotations

import io
import math
import unicodedata
from collections.abc import Sequence

import numpy as np

from lstm_sentiment.explain.fonts import drawable, font_families
from lstm_sentiment.explain.walk import Explanation

DEFAULT_MAX_UNITS = 16
DPI = 100
# (GateTrace field, title, colormap, fixed range or None for symmetric around 0 from the data)
PANELS = (
    ("f", "forget gate $f_t$", "viridis", (0.0, 1.0)),
    ("i", "input gate $i_t$", "viridis", (0.0, 1.0)),
    ("g", "candidate $g_t$", "RdBu_r", (-1.0, 1.0)),
    ("o", "output gate $o_t$", "viridis", (0.0, 1.0)),
    ("c", "cell state $c_t$", "RdBu_r", None),
    ("h", "hidden state $h_t$", "RdBu_r", (-1.0, 1.0)),
)


def select_units(panels: Sequence[np.ndarray], max_units: int) -> np.ndarray:
    """Indices of the units to draw, ascending, one choice for every panel of a picture (so a unit can be
    followed from f to i to c, and from one direction to the other): all if H ≤ max_units, else those
    that vary most over the tokens, summed over the panels, each panel's spread scaled by its largest
    (so c, unbounded, does not outweigh the gates).

    Args:
        panels: float (L, H) arrays, the same H.
    Returns:
        int64 (min(H, max_units),).
    """
    hidden = panels[0].shape[1]
    if hidden <= max_units:
        return np.arange(hidden)
    score = np.zeros(hidden)
    for values in panels:
        spread = values.std(axis=0) if values.shape[0] > 1 else np.abs(values[0])
        if spread.max() > 0:
            score += spread / spread.max()
    return np.sort(np.argsort(-score, kind="stable")[:max_units])


# At most this many ticks on the running prediction and the upper panels.
MAX_GUIDES = 60
# Points a 10-point DejaVu Sans character takes on average; a Han character takes two.
_CHAR_PT = 6.5
_LINE_PT = 12.0  # the height of a 10-point line of text, spacing included


def _label_width(label: str) -> int:
    """A tick label's widest line in half-width characters (a Han character counts 2)."""
    return max(sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line) for line in label.split("\n"))


def _tick_label(expl: Explanation, j: int) -> str:
    return drawable(expl.words[j] if expl.in_vocab[j] else f"{expl.words[j]}\n<unk>")


def figure(expl: Explanation, layer: int = 0, max_units: int = DEFAULT_MAX_UNITS):
    """The heatmap figure of one layer, every direction side by side (a ``matplotlib.figure.Figure``);
    call inside :func:`font_context`."""
    from matplotlib.figure import Figure  # why here: matplotlib takes about a second to import

    if max_units < 1:
        raise ValueError(f"max_units must be >= 1, got {max_units}")
    expl.trace(layer)  # raises for a layer the model does not have
    traces = expl.layers[layer]
    length = len(expl)
    units = select_units([trace.units[name] for trace in traces for name, *_ in PANELS], max_units)
    heights = [1.8] + [0.6 + 0.15 * len(units)] * len(PANELS)  # 0.15 in a row: room for its 7-point label
    # At least 10 inches: narrower, the panel titles of a short text overflow and, with one or two tokens,
    # squeeze the axes to nothing.
    width = min(max(3.0 + 0.55 * length * len(traces), 10.0), 60.0)
    fig = Figure(figsize=(width, sum(heights) + 1.4), dpi=DPI, layout="constrained")
    # Per direction a heatmap column and a colour-bar column.
    grid = fig.add_gridspec(len(heights), 2 * len(traces), height_ratios=heights, width_ratios=[60, 1] * len(traces))
    positions = np.arange(length)
    # Every t on the running prediction and on the upper panels: for a long text thousands of tick objects,
    # most of explain --png's time (25 s at 512 tokens), and a grey band rather than guides. The bottom
    # panel names every token that has room for its label.
    guides = positions[:: max(1, -(-length // MAX_GUIDES))]

    top = fig.add_subplot(grid[0, :-1])
    for c, name in enumerate(expl.labels):
        bold = c == expl.label_index
        top.plot(positions, expl.running_probs[:, c], marker="o", lw=2.2 if bold else 1.0, ms=4 if bold else 2.5, label=name)
    if len(expl.labels) == 2:
        top.axhline(0.5, color="0.6", lw=0.8, ls="--")
    top.set_xticks(guides, [str(j + 1) for j in guides], fontsize=8)  # t, the tokens read
    top.set_xlabel("t", fontsize=8)
    top.set_ylim(-0.02, 1.02)
    top.set_ylabel("probability")
    top.set_title("running prediction: the first t tokens alone", fontsize=10, loc="left")
    top.legend(fontsize=8, loc="best", ncol=min(len(expl.labels), 4))
    top.grid(alpha=0.3)
    fig.add_subplot(grid[0, -1]).axis("off")

    shown = f"{len(units)} of {traces[0].hidden_size} units" + (" (most variable)" if len(units) < traces[0].hidden_size else "")
    for column, trace in enumerate(traces):
        axes = []
        for row, (name, title, cmap, limits) in enumerate(PANELS, start=1):
            ax = fig.add_subplot(grid[row, 2 * column])
            data = trace.units[name][:, units].T  # (units, L)
            if limits is None:
                bound = float(np.max(np.abs(data))) or 1.0
                limits = (-bound, bound)
            image = ax.imshow(data, aspect="auto", interpolation="nearest", cmap=cmap, vmin=limits[0], vmax=limits[1],
                              extent=(-0.5, length - 0.5, len(units) - 0.5, -0.5))
            # The panel titles are ours, with mathtext subscripts; the user's text never is (font_context).
            ax.set_title(f"{trace.direction}: {title}, {shown}", fontsize=9, loc="left", parse_math=True)
            ax.set_yticks(np.arange(len(units)))
            ax.set_yticklabels([f"u{u}" for u in units], fontsize=7)
            ax.set_xlim(-0.5, length - 0.5)
            ax.set_xticks(positions if row == len(PANELS) else guides)
            fig.colorbar(image, cax=fig.add_subplot(grid[row, 2 * column + 1]))
            axes.append(ax)
        for ax in axes[:-1]:
            ax.tick_params(labelbottom=False)
        bottom = axes[-1]
        labels = [_tick_label(expl, j) for j in positions]
        share = (width - 3.0) / (length * len(traces)) * 72  # points of the axis per token
        size = 10 if length <= 30 else 8
        # Upright, a label wider than its token's share of the axis ran into its neighbours ("U+1F9A9").
        rotation = 0 if length <= 20 and max(map(_label_width, labels)) <= share / _CHAR_PT else 90
        if rotation:
            # Turned, each label needs its lines' height; past the widest figure (about 200 tokens a
            # direction) every token's label made one smear, so every k-th token is named.
            lines = max(label.count("\n") + 1 for label in labels)
            step = math.ceil(lines * _LINE_PT * size / 10 / share)
            labels = [label if j % step == 0 else "" for j, label in enumerate(labels)]
        bottom.set_xticklabels(labels, rotation=rotation, fontsize=size)
        for j, tick in enumerate(bottom.get_xticklabels()):
            if not expl.in_vocab[j]:
                tick.set_color("0.45")
    fig.suptitle(f"{drawable(expl.headline(60))}  →  {expl.label} {expl.score:.2f}   (layer {layer}, {' and '.join(t.direction for t in traces)})", fontsize=12)
    return fig


def font_context():
    """``matplotlib.rc_context`` with the CJK-capable font list, and text drawn as given: by default
    matplotlib reads ``$…$`` as mathtext, so the money-eyes ``$_$`` in a text failed the figure and
    ``$5 and $10`` was drawn as "5and10" in math italics."""
    import matplotlib  # why here: about a second to import, for pictures only

    return matplotlib.rc_context({"font.family": font_families(), "axes.unicode_minus": True, "text.parse_math": False})


def render_png(expl: Explanation, layer: int = 0, max_units: int = DEFAULT_MAX_UNITS) -> bytes:
    """The heatmaps of :func:`figure` as PNG bytes."""
    buffer = io.BytesIO()
    with font_context():
        fig = figure(expl, layer, max_units)
        fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()
