"""The three networks under comparison: input → one recurrent layer → a linear readout of the last h_t.

Only the recurrent layer differs between cells: ``torch.nn.RNN`` (tanh) and ``torch.nn.GRU`` as PyTorch
initialises them, and the project's :class:`~lstm_sentiment.core.LSTM` twice: chrono-initialised with
T_max = the task's T (Tallec & Ollivier 2018), and with its default forget-gate bias of 1.0 (Jozefowicz
et al. 2015).
Shape letters: N sequences, L steps, H hidden units, E embedding width, V vocabulary size.
"""

from __future__ import annotations

from torch import Tensor, nn

from lstm_sentiment.core import LSTM

from .tasks import VOCAB


def make_cell(cell: str, input_size: int, hidden_size: int, length: int) -> nn.Module:
    """One batch-first recurrent layer.

    Args:
        cell: "rnn" (Elman RNN, h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)), "gru" (Cho et al.
            2014), "lstm" (the project's :class:`~lstm_sentiment.core.LSTM`, ``init="chrono"`` with
            ``t_max=length``) or "lstm-bias1" (the same LSTM with forget-gate bias 1.0). Both LSTMs run
            ``impl="auto"``: the fused kernel in training, the explicit loop when a gate trace is asked for.
        input_size: H_in, features of each x_t.
        hidden_size: H.
        length: T, the sequence length of the task: the longest gap there is, hence chrono's T_max.
    Returns:
        A module called as ``cell(x)`` with x float (N, L, H_in), returning ``(output (N, L, H), state)``.
    Raises:
        ValueError: an unknown cell.
    """
    if cell == "rnn":
        return nn.RNN(input_size, hidden_size, nonlinearity="tanh", batch_first=True)
    if cell == "gru":
        return nn.GRU(input_size, hidden_size, batch_first=True)
    if cell == "lstm":
        return LSTM(input_size, hidden_size, impl="auto", init="chrono", t_max=length)
    if cell == "lstm-bias1":
        return LSTM(input_size, hidden_size, impl="auto", forget_bias=1.0)
    raise ValueError(f"cell must be rnn, gru, lstm or lstm-bias1; got {cell!r}")


class SequenceModel(nn.Module):
    """Reads a whole sequence and answers from its last hidden state h_T.

    Args:
        task: "adding" (x float (N, L, 2) → one value) or "recall" (token ids (N, L) → 2 class logits).
        cell: "rnn", "gru", "lstm" or "lstm-bias1" (:func:`make_cell`).
        hidden_size: H.
        length: T, steps per sequence (chrono's T_max for "lstm").
        embed_dim: E, width of the learned word embedding (recall only).
    """

    def __init__(self, task: str, cell: str, hidden_size: int, length: int, embed_dim: int = 16) -> None:
        super().__init__()
        self.task, self.cell_name = task, cell
        if task == "recall":
            self.embedding = nn.Embedding(len(VOCAB), embed_dim)  # (V, E)
            input_size, outputs = embed_dim, 2
        else:
            self.embedding = None
            input_size, outputs = 2, 1
        self.rnn = make_cell(cell, input_size, hidden_size, length)
        self.head = nn.Linear(hidden_size, outputs)

    def inputs(self, x: Tensor) -> Tensor:
        """The float (N, L, H_in) sequence the recurrent layer reads (embedded tokens for recall)."""
        return self.embedding(x) if self.embedding is not None else x

    def forward(self, x: Tensor) -> Tensor:
        """Answer for each sequence.

        Args:
            x: adding: float32 (N, L, 2); recall: int64 (N, L) token ids.
        Returns:
            adding: float (N,) predicted sums; recall: float (N, 2) logits (column 1 = positive).
        """
        output, _ = self.rnn(self.inputs(x))  # (N, L, H); all sequences are full length
        answer = self.head(output[:, -1])  # (N, 1) or (N, 2), from h_T only
        return answer.squeeze(-1) if self.task == "adding" else answer
