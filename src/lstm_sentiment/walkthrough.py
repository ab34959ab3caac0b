"""Print the gates and states of an LSTM, step by step, over a few word vectors."""

from __future__ import annotations

import torch
from rich.console import Console
from rich.table import Table

from lstm_sentiment.core import LSTM

WORDS = ("我", "喜欢", "这个", "电影")


def random_walkthrough(seed: int = 0, input_size: int = 8, hidden_size: int = 4) -> None:
    """Run an untrained LSTM over random vectors for "我 喜欢 这个 电影" and print i, f, g, o, c, h per step.

    Args:
        seed: seeds the word vectors and the weights.
        input_size: H_in of the stand-in word vectors.
        hidden_size: H; every unit is printed.
    """
    torch.manual_seed(seed)
    lstm = LSTM(input_size, hidden_size)
    x = torch.randn(1, len(WORDS), input_size)  # (N=1, L=4, H_in): one vector per word
    with torch.no_grad():
        _, _, trace = lstm(x, return_trace=True)
    gates = trace[0][0]
    table = Table(title=f"LSTM over 4 random word vectors (H={hidden_size}, seed={seed})")
    table.add_column("t")
    table.add_column("word")
    for name, label in zip("ifgoch", ("i_t input", "f_t forget", "g_t candidate", "o_t output", "c_t cell", "h_t hidden")):
        table.add_column(label)
    for t, word in enumerate(WORDS):
        cells = [" ".join(f"{v:+.2f}" for v in getattr(gates, name)[0, t].tolist()) for name in "ifgoch"]
        table.add_row(str(t + 1), word, *cells)
    Console().print(table)
