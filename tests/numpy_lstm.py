"""A NumPy LSTM written from the equations, independent of torch: the tests' oracle.

Forward: i_t = σ(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi), f_t, o_t likewise, g_t = tanh(…),
c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t, h_t = o_t ⊙ tanh(c_t); chunks (i, f, g, o) as in torch.nn.LSTM.
Backward: backpropagation through time of the same loop (Werbos 1990), derived by hand.
Padded steps (t ≥ length) leave the state unchanged and output zeros.
"""

from __future__ import annotations

import numpy as np


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def direction_forward(x, lengths, params, h0, c0, reverse=False):
    """One layer, one direction. x (N, L, H_in); params (W_ih, W_hh, b_ih, b_hh); h0, c0 (N, H).

    Returns output (N, L, H), (h_n, c_n) and the cache for :func:`direction_backward`.
    """
    w_ih, w_hh, b_ih, b_hh = params
    n, length, _ = x.shape
    valid = np.arange(length)[None, :] < np.asarray(lengths)[:, None]
    h, c = h0, c0
    out = np.zeros((n, length, w_hh.shape[1]), dtype=x.dtype)
    cache = []
    order = range(length - 1, -1, -1) if reverse else range(length)
    for t in order:
        a = x[:, t] @ w_ih.T + b_ih + h @ w_hh.T + b_hh
        a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)
        i, f, g, o = sigmoid(a_i), sigmoid(a_f), np.tanh(a_g), sigmoid(a_o)
        c_new = f * c + i * g
        h_new = o * np.tanh(c_new)
        m = valid[:, t : t + 1].astype(x.dtype)
        cache.append((t, x[:, t], h, c, i, f, g, o, c_new, m))
        h = m * h_new + (1 - m) * h
        c = m * c_new + (1 - m) * c
        out[:, t] = h_new * m
    return out, (h, c), (cache, params)


def direction_backward(d_out, d_h_n, d_c_n, cache):
    """BPTT for :func:`direction_forward`. Returns dx (N, L, H_in), param grads, dh0, dc0."""
    steps, (w_ih, w_hh, b_ih, b_hh) = cache
    grads = [np.zeros_like(p) for p in (w_ih, w_hh, b_ih, b_hh)]
    n, length = d_out.shape[:2]
    dx = np.zeros((n, length, w_ih.shape[1]), dtype=d_out.dtype)
    dh_next, dc_next = d_h_n, d_c_n
    for t, x_t, h_prev, c_prev, i, f, g, o, c_new, m in reversed(steps):
        dh_new = m * (d_out[:, t] + dh_next)
        tanh_c = np.tanh(c_new)
        dc_new = m * dc_next + dh_new * o * (1 - tanh_c**2)
        da = np.concatenate(
            [dc_new * g * i * (1 - i), dc_new * c_prev * f * (1 - f), dc_new * i * (1 - g**2), dh_new * tanh_c * o * (1 - o)],
            axis=1,
        )
        grads[0] += da.T @ x_t
        grads[1] += da.T @ h_prev
        grads[2] += da.sum(0)
        grads[3] += da.sum(0)
        dx[:, t] += da @ w_ih
        dh_next = da @ w_hh + (1 - m) * dh_next
        dc_next = dc_new * f + (1 - m) * dc_next
    return dx, grads, dh_next, dc_next


def lstm_forward(x, lengths, layers, h0, c0):
    """Stacked, optionally bidirectional LSTM.

    layers: list over layers of lists over directions of (W_ih, W_hh, b_ih, b_hh).
    h0, c0: (num_layers·D, N, H). Returns output (N, L, D·H), h_n, c_n (num_layers·D, N, H).
    """
    layer_input, h_n, c_n = x, [], []
    for k, directions in enumerate(layers):
        outs = []
        for d, params in enumerate(directions):
            index = k * len(directions) + d
            out, (h, c), _ = direction_forward(layer_input, lengths, params, h0[index], c0[index], reverse=d == 1)
            outs.append(out)
            h_n.append(h)
            c_n.append(c)
        layer_input = np.concatenate(outs, axis=-1)
    return layer_input, np.stack(h_n), np.stack(c_n)
