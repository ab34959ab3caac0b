"""One LSTM time step, written as the textbook equations.

Source: the equations of ``torch.nn.LSTM`` (Hochreiter & Schmidhuber 1997, with the forget gate of
Gers et al. 2000). Gate order and weight layout are PyTorch's: the rows of ``weight_ih`` (4H, H_in) and
``weight_hh`` (4H, H) are the chunks (i, f, g, o); ``g`` is the candidate cell state c̃_t ("g" in
PyTorch).
"""

from __future__ import annotations

import torch
from torch import Tensor


def gates_to_state(gates: Tensor, c_prev: Tensor) -> tuple[Tensor, Tensor, tuple[Tensor, Tensor, Tensor, Tensor]]:
    """Turn the gate pre-activations of one step into the new cell and hidden state.

    Args:
        gates: float (N, 4H), ``W_ih x_t + b_ih + W_hh h_{t-1} + b_hh`` in chunk order (i, f, g, o).
        c_prev: float (N, H), the cell state c_{t-1}.
    Returns:
        ``(h_t, c_t, (i_t, f_t, g_t, o_t))``, each (N, H). i, f, o lie in (0, 1); g and h in (-1, 1).
    Raises:
        ValueError: ``gates`` not (N, 4H) for a ``c_prev`` of (N, H) (a (2, 10) beside a (2, 3) broadcast
            an o_t of one unit over three, without a word).
    """
    if c_prev.dim() not in (1, 2) or gates.shape != (*c_prev.shape[:-1], 4 * c_prev.shape[-1]):
        raise ValueError(f"gates must be (N, 4H) for c_prev (N, H); got {tuple(gates.shape)} and {tuple(c_prev.shape)}")
    return state_from_gates(gates, c_prev)


def state_from_gates(gates: Tensor, c_prev: Tensor) -> tuple[Tensor, Tensor, tuple[Tensor, Tensor, Tensor, Tensor]]:
    """:func:`gates_to_state` without its shape check, for callers whose shapes fit by construction (the
    time loop of :class:`~lstm_sentiment.core.lstm.LSTM`, :func:`lstm_cell` after its own check): the check
    ran at every step of the explicit path."""
    a_i, a_f, a_g, a_o = gates.chunk(4, dim=-1)
    i_t = torch.sigmoid(a_i)  # input gate: how much of g_t to write
    f_t = torch.sigmoid(a_f)  # forget gate: how much of c_{t-1} to keep
    g_t = torch.tanh(a_g)  # candidate cell state c̃_t
    o_t = torch.sigmoid(a_o)  # output gate: how much of tanh(c_t) to show
    c_t = f_t * c_prev + i_t * g_t  # c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t
    h_t = o_t * torch.tanh(c_t)  # h_t = o_t ⊙ tanh(c_t)
    return h_t, c_t, (i_t, f_t, g_t, o_t)


def lstm_cell(
    x_t: Tensor,
    state: tuple[Tensor, Tensor],
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias_ih: Tensor,
    bias_hh: Tensor,
) -> tuple[Tensor, Tensor, tuple[Tensor, Tensor, Tensor, Tensor]]:
    """Run one LSTM step: ``i_t = σ(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)``, likewise f_t and o_t,
    ``g_t = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)``, ``c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t``,
    ``h_t = o_t ⊙ tanh(c_t)``.

    Source: ``torch.nn.LSTM`` equations; forget gate: Gers et al. 2000. The step as a textbook writes it,
    for readers and tests; :class:`~lstm_sentiment.core.lstm.LSTM` projects the inputs of all steps at
    once and then runs the same :func:`gates_to_state`.

    Args:
        x_t: float (N, H_in), the input vector at step t; or (H_in,), one sequence unbatched, with
            state and outputs of (H,), as ``torch.nn.LSTMCell`` takes it.
        state: ``(h_prev, c_prev)``, each float (N, H).
        weight_ih: (4H, H_in), chunks (W_ii | W_if | W_ig | W_io).
        weight_hh: (4H, H), chunks (W_hi | W_hf | W_hg | W_ho).
        bias_ih, bias_hh: (4H,).
    Returns:
        ``(h_t, c_t, (i_t, f_t, g_t, o_t))``, each (N, H).
    Raises:
        ValueError: shapes that do not fit together as above, each named with its shape.
    """
    h_prev, c_prev = state
    if x_t.dim() not in (1, 2):
        raise ValueError(f"x_t must be (N, H_in), or (H_in,) unbatched as torch.nn.LSTMCell takes it; got {tuple(x_t.shape)}")
    hidden, batch = c_prev.shape[-1], tuple(x_t.shape[:-1])
    expected = {"h_prev": (*batch, hidden), "c_prev": (*batch, hidden), "weight_ih": (4 * hidden, x_t.shape[-1]),
                "weight_hh": (4 * hidden, hidden), "bias_ih": (4 * hidden,), "bias_hh": (4 * hidden,)}
    given = {"h_prev": h_prev, "c_prev": c_prev, "weight_ih": weight_ih, "weight_hh": weight_hh, "bias_ih": bias_ih, "bias_hh": bias_hh}
    for name, shape in expected.items():
        if tuple(given[name].shape) != shape:
            raise ValueError(f"{name} must be {shape} (H = {hidden} from c_prev, x_t {tuple(x_t.shape)}); got {tuple(given[name].shape)}")
    gates = x_t @ weight_ih.T + bias_ih + h_prev @ weight_hh.T + bias_hh  # (N, 4H)
    return state_from_gates(gates, c_prev)
