"""Parity of the explicit and fused paths with torch.nn.LSTM and the NumPy oracle, gradients, masking."""

import re

import numpy as np
import pytest
import torch
from torch import nn

from lstm_sentiment.core import LSTM, STEP_FIELDS, GateTrace, lstm_cell
from numpy_lstm import direction_backward, direction_forward, lstm_forward

H_IN, H = 5, 7
CONFIGS = [(1, False), (2, False), (1, True), (2, True)]
# LSTM(H_IN, H, num_layers=2, bidirectional=True) after torch.manual_seed(0), as drawn before the init
# option existed (main @ d41e8b5, torch 2.13.0+cpu): the sum of all Parameters, and bias_ih_l0[H : H + 3].
PINNED_SUM = 27.05716186761856
PINNED_F_BIAS = [1.2118035554885864, 0.7725489139556885, 1.339796543121338]


def make_pair(num_layers, bidirectional, seed=0):
    torch.manual_seed(seed)
    ours = LSTM(H_IN, H, num_layers=num_layers, bidirectional=bidirectional)
    bare = nn.LSTM(H_IN, H, num_layers=num_layers, bidirectional=bidirectional, batch_first=True)
    bare.load_state_dict(ours.state_dict())
    return ours, bare


def batch(n=4, length=6, seed=1):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, length, H_IN, generator=g)
    lengths = torch.tensor([6, 3, 1, 5])[:n]
    return x, lengths


def numpy_layers(module):
    return [
        [tuple(p.detach().double().numpy() for p in module.layer_weights(k, d)) for d in range(module.num_directions)]
        for k in range(module.num_layers)
    ]


def bare_reference(bare, x, lengths, state):
    """torch.nn.LSTM run one sequence at a time, unpadded: no packing logic shared with the code under test."""
    outs, hs, cs = [], [], []
    for b in range(x.size(0)):
        s = None if state is None else (state[0][:, b : b + 1].contiguous(), state[1][:, b : b + 1].contiguous())
        out, (h, c) = bare(x[b : b + 1, : lengths[b]], s)
        outs.append(nn.functional.pad(out, (0, 0, 0, x.size(1) - int(lengths[b]))))
        hs.append(h)
        cs.append(c)
    return torch.cat(outs), torch.cat(hs, 1), torch.cat(cs, 1)


@pytest.mark.parametrize("num_layers,bidirectional", CONFIGS)
@pytest.mark.parametrize("given_state", [False, True])
def test_explicit_fused_bare_numpy_agree(num_layers, bidirectional, given_state):
    ours, bare = make_pair(num_layers, bidirectional)
    x, lengths = batch()
    state = None
    if given_state:
        shape = (num_layers * ours.num_directions, x.size(0), H)
        state = (torch.randn(shape), torch.randn(shape))
    with torch.no_grad():
        ours.impl = "explicit"
        out_e, (h_e, c_e) = ours(x, lengths, state)
        ours.impl = "fused"
        out_f, (h_f, c_f) = ours(x, lengths, state)
        out_b, h_b, c_b = bare_reference(bare, x, lengths, state)
    zeros = np.zeros((num_layers * ours.num_directions, x.size(0), H))
    h0, c0 = (zeros, zeros) if state is None else (state[0].double().numpy(), state[1].double().numpy())
    out_n, h_n, c_n = lstm_forward(x.double().numpy(), lengths.numpy(), numpy_layers(ours), h0, c0)
    for ref in ((out_f, h_f, c_f), (out_b, h_b, c_b)):
        for got, want in zip((out_e, h_e, c_e), ref):
            torch.testing.assert_close(got, want, atol=1e-5, rtol=0)
    for got, want in zip((out_e, h_e, c_e), (out_n, h_n, c_n)):
        np.testing.assert_allclose(got.double().numpy(), want, atol=1e-5, rtol=0)
    assert out_e.shape == (4, 6, ours.num_directions * H)
    assert float(out_e[2, 1:].abs().max()) == 0.0  # zeros past the length


def test_cell_step_matches_lstm_cell():
    torch.manual_seed(3)
    cell = nn.LSTMCell(H_IN, H)
    x_t, h, c = torch.randn(3, H_IN), torch.randn(3, H), torch.randn(3, H)
    h_t, c_t, _ = lstm_cell(x_t, (h, c), cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    h_want, c_want = cell(x_t, (h, c))
    torch.testing.assert_close(h_t, h_want, atol=1e-6, rtol=0)
    torch.testing.assert_close(c_t, c_want, atol=1e-6, rtol=0)


def test_state_dict_moves_both_ways():
    ours, bare = make_pair(2, True)
    assert set(ours.state_dict()) == set(bare.state_dict())
    assert "weight_hh_l1_reverse" in ours.state_dict()
    fresh = LSTM(H_IN, H, num_layers=2, bidirectional=True)
    fresh.load_state_dict(bare.state_dict())
    for key, value in bare.state_dict().items():
        assert torch.equal(fresh.state_dict()[key], value)


def test_forget_bias_on_f_chunk_of_bias_ih_only():
    torch.manual_seed(0)
    plain = nn.LSTM(H_IN, H, batch_first=True)
    torch.manual_seed(0)
    ours = LSTM(H_IN, H, forget_bias=1.0)
    delta = (ours.bias_ih_l0 - plain.bias_ih_l0).detach()
    torch.testing.assert_close(delta[H : 2 * H], torch.ones(H))
    assert float(delta[:H].abs().max()) == 0.0 and float(delta[2 * H :].abs().max()) == 0.0
    torch.testing.assert_close(ours.bias_hh_l0, plain.bias_hh_l0)


@pytest.mark.parametrize("init", ["default", "chrono"])
def test_reset_parameters_draws_again_as_a_new_lstm_does(init):
    # reset_parameters() was torch.nn.LSTM's alone: the forget bias of 1 and the chrono biases were lost.
    t_max = 50 if init == "chrono" else None
    torch.manual_seed(0)
    fresh = LSTM(H_IN, H, num_layers=2, bidirectional=True, init=init, t_max=t_max)
    lstm = LSTM(H_IN, H, num_layers=2, bidirectional=True, init=init, t_max=t_max)
    torch.manual_seed(0)
    lstm.reset_parameters()
    for name, value in fresh.state_dict().items():
        assert torch.equal(lstm.state_dict()[name], value), name


def test_default_init_is_unchanged_by_the_chrono_option():
    # The default draws exactly what it drew before chrono existed: torch.nn.LSTM's weights, +1 on the
    # f-chunk of bias_ih, and nothing more from the generator, so layers built after it are unchanged too.
    torch.manual_seed(0)
    plain = nn.LSTM(H_IN, H, num_layers=2, bidirectional=True, batch_first=True)
    after_plain = torch.rand(3)
    torch.manual_seed(0)
    ours = LSTM(H_IN, H, num_layers=2, bidirectional=True)
    after_ours = torch.rand(3)
    assert torch.equal(after_ours, after_plain)
    for name, value in plain.state_dict().items():
        want = value.clone()
        if name.startswith("bias_ih"):
            want[H : 2 * H] += 1.0
        assert torch.equal(ours.state_dict()[name], want), name
    assert sum(float(p.detach().sum()) for p in ours.parameters()) == pytest.approx(PINNED_SUM, abs=1e-4)
    torch.testing.assert_close(ours.bias_ih_l0[H : H + 3].detach(), torch.tensor(PINNED_F_BIAS), atol=1e-6, rtol=0)


@pytest.mark.parametrize("num_layers,bidirectional", CONFIGS)
def test_chrono_init_biases(num_layers, bidirectional):
    t_max, hidden = 100, 500
    torch.manual_seed(0)
    plain = nn.LSTM(H_IN, hidden, num_layers=num_layers, bidirectional=bidirectional, batch_first=True)
    torch.manual_seed(0)
    ours = LSTM(H_IN, hidden, num_layers=num_layers, bidirectional=bidirectional, init="chrono", t_max=t_max)
    b_fs = []
    for name, value in ours.state_dict().items():
        if name.startswith("weight"):
            assert torch.equal(value, plain.state_dict()[name]), name  # weights as torch.nn.LSTM draws them
        elif name.startswith("bias_hh"):
            assert float(value.abs().max()) == 0.0, name
        else:
            b_i, b_f, b_g, b_o = value.chunk(4)
            assert float(b_f.min()) >= 0.0 and float(b_f.max()) <= np.log(t_max - 1), name
            assert torch.equal(b_i, -b_f), name
            assert float(b_g.abs().max()) == 0.0 and float(b_o.abs().max()) == 0.0, name
            b_fs.append(b_f)
    assert len(b_fs) == num_layers * ours.num_directions
    # exp(b_f) is uniform on [1, T_max - 1]: mean 50, std 98 / sqrt(12) = 28.3, so the mean of 500 draws
    # has standard error 1.27; 5 is about 4 standard errors. Each layer and direction draws its own.
    for b_f in b_fs:
        assert float(b_f.exp().mean()) == pytest.approx(t_max / 2, abs=5.0)
        assert float(b_f.exp().min()) < 1.0 + 0.05 * (t_max - 2) and float(b_f.exp().max()) > 0.95 * (t_max - 1)
    if len(b_fs) > 1:
        assert not torch.equal(b_fs[0], b_fs[1])


@pytest.mark.parametrize("num_layers,bidirectional", CONFIGS)
def test_chrono_explicit_and_fused_agree(num_layers, bidirectional):
    torch.manual_seed(4)
    ours = LSTM(H_IN, H, num_layers=num_layers, bidirectional=bidirectional, init="chrono", t_max=50)
    bare = nn.LSTM(H_IN, H, num_layers=num_layers, bidirectional=bidirectional, batch_first=True)
    bare.load_state_dict(ours.state_dict())
    x, lengths = batch()
    with torch.no_grad():
        ours.impl = "explicit"
        out_e, (h_e, c_e), trace = ours(x, lengths, return_trace=True)
        ours.impl = "fused"
        out_f, (h_f, c_f) = ours(x, lengths)
        out_b, h_b, c_b = bare_reference(bare, x, lengths, None)
    for got, want in zip((out_e, h_e, c_e), (out_f, h_f, c_f)):
        torch.testing.assert_close(got, want, atol=1e-5, rtol=0)
    for got, want in zip((out_f, h_f, c_f), (out_b, h_b, c_b)):
        torch.testing.assert_close(got, want, atol=1e-5, rtol=0)
    # At the first step of layer 0, forward, f_0 = σ(W_if x_0 + b_f): with W_if x_0 removed it is σ(b_f).
    weight_ih = ours.weight_ih_l0.detach()
    pre_f = x[:, 0] @ weight_ih[H : 2 * H].T + ours.bias_ih_l0[H : 2 * H].detach()  # (N, H)
    torch.testing.assert_close(trace[0][0].f[:, 0], torch.sigmoid(pre_f), atol=1e-6, rtol=0)


@pytest.mark.parametrize(
    "kwargs, needle",
    [
        (dict(init="chrono"), "t_max"),
        (dict(init="chrono", t_max=1), "t_max"),
        (dict(init="chrono", t_max=50.0), "t_max"),
        (dict(t_max=50), "t_max"),
        (dict(init="glorot"), "init"),
    ],
)
def test_bad_init_arguments_are_named(kwargs, needle):
    with pytest.raises(ValueError, match=needle):
        LSTM(H_IN, H, **kwargs)


def test_torch_lstm_keywords_port_unchanged():
    # LSTM(…, batch_first=True) as written for torch.nn.LSTM said "unexpected keyword argument 'batch_first'".
    torch.manual_seed(0)
    ours = LSTM(H_IN, H, batch_first=1, bias=True, proj_size=0, dtype=torch.float64)  # 1 is batch first to torch too
    torch.manual_seed(0)
    reference = nn.LSTM(H_IN, H, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        reference.bias_ih_l0[H : 2 * H] += 1.0  # this LSTM's forget bias
    assert ours.weight_ih_l0.dtype == torch.float64
    x = torch.randn(3, 5, H_IN, dtype=torch.float64)
    torch.testing.assert_close(ours(x)[0], reference(x)[0], atol=1e-12, rtol=0)
    for kwargs, said in (
        (dict(batch_first=False), r"^this LSTM is batch first, x \(N, L, H_in\): batch_first must be True, got False"),
        (dict(bias=False), r"^bias must be True, got False: the forget-gate bias"),
        (dict(proj_size=4), r"^proj_size must be 0, got 4: h_t has hidden_size units here"),
    ):
        with pytest.raises(ValueError, match=said):
            LSTM(H_IN, H, **kwargs)


@pytest.mark.parametrize("num_layers,bidirectional", CONFIGS)
def test_explicit_gradients_equal_fused(num_layers, bidirectional):
    ours, _ = make_pair(num_layers, bidirectional)
    x, lengths = batch()
    grads = {}
    for impl in ("explicit", "fused"):
        ours.impl = impl
        ours.zero_grad()
        xi = x.clone().requires_grad_(True)
        out, (h_n, c_n) = ours(xi, lengths)
        (out.sin().sum() + h_n.pow(2).sum() + c_n.sum()).backward()
        grads[impl] = [xi.grad] + [p.grad.clone() for p in ours.parameters()]
    for a, b in zip(grads["explicit"], grads["fused"]):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_numpy_bptt_equals_torch_gradients(bidirectional):
    ours, _ = make_pair(1, bidirectional)
    ours.double()
    x, lengths = batch()
    x = x.double().requires_grad_(True)
    g = torch.Generator().manual_seed(5)
    d = ours.num_directions
    w_out = torch.randn(4, 6, d * H, generator=g, dtype=torch.float64)
    w_h, w_c = (torch.randn(d, 4, H, generator=g, dtype=torch.float64) for _ in range(2))
    ours.impl = "fused"
    out, (h_n, c_n) = ours(x, lengths)
    ((out * w_out).sum() + (h_n * w_h).sum() + (c_n * w_c).sum()).backward()

    xn = x.detach().numpy()
    dx = np.zeros_like(xn)
    for direction in range(d):
        params = tuple(p.detach().numpy() for p in ours.layer_weights(0, direction))
        zeros = np.zeros((4, H))
        _, _, cache = direction_forward(xn, lengths.numpy(), params, zeros, zeros, reverse=direction == 1)
        d_out = w_out[..., direction * H : (direction + 1) * H].numpy()
        dx_d, param_grads, _, _ = direction_backward(d_out, w_h[direction].numpy(), w_c[direction].numpy(), cache)
        dx += dx_d
        for p, want in zip(ours.layer_weights(0, direction), param_grads):
            np.testing.assert_allclose(p.grad.numpy(), want, atol=1e-9)
    np.testing.assert_allclose(x.grad.numpy(), dx, atol=1e-9)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_gradcheck_explicit_float64(bidirectional):
    torch.manual_seed(0)
    ours = LSTM(3, 4, num_layers=2, bidirectional=bidirectional, impl="explicit").double()
    x = torch.randn(3, 4, 3, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(2 * ours.num_directions, 3, 4, dtype=torch.float64, requires_grad=True)
    lengths = torch.tensor([4, 2, 3])

    def f(x, h0, w):
        # functional_call routes gradcheck's perturbed w through the module's own forward.
        out, (h_n, c_n) = torch.func.functional_call(ours, {"weight_hh_l0": w}, (x, lengths, (h0, torch.zeros_like(h0))))
        return out, h_n, c_n

    assert torch.autograd.gradcheck(f, (x, h0, ours.weight_hh_l0.detach().clone().requires_grad_(True)))


@pytest.mark.parametrize("impl", ["explicit", "fused"])
def test_padding_and_order_do_not_change_a_sequence(impl):
    ours, _ = make_pair(2, True)
    ours.impl = impl
    x, lengths = batch()
    with torch.no_grad():
        alone_out, (alone_h, alone_c) = ours(x[1:2, :3])
        out, (h_n, c_n) = ours(x, lengths)
        perm = torch.tensor([3, 1, 0, 2])
        out_p, (h_p, c_p) = ours(x[perm], lengths[perm])
    torch.testing.assert_close(out[1:2, :3], alone_out, atol=1e-6, rtol=0)
    torch.testing.assert_close(h_n[:, 1:2], alone_h, atol=1e-6, rtol=0)
    torch.testing.assert_close(c_n[:, 1:2], alone_c, atol=1e-6, rtol=0)
    torch.testing.assert_close(out_p, out[perm], atol=1e-6, rtol=0)
    torch.testing.assert_close(h_p, h_n[:, perm], atol=1e-6, rtol=0)
    torch.testing.assert_close(c_p, c_n[:, perm], atol=1e-6, rtol=0)


def test_trace_ranges_shapes_and_masking():
    ours, _ = make_pair(2, True)
    x, lengths = batch()
    x = x * 10  # push pre-activations far out so saturation would show
    with torch.no_grad():
        out, (h_n, _), trace = ours(x, lengths, return_trace=True)
    assert len(trace) == 2 and len(trace[0]) == 2
    assert STEP_FIELDS == ("i", "f", "g", "o", "c", "h")
    for layer in trace:
        for t in layer:
            assert isinstance(t, GateTrace)
            valid = torch.arange(6)[None, :] < lengths[:, None]
            for name in STEP_FIELDS:
                value = getattr(t, name)
                assert value.shape == (4, 6, H)
                assert bool(value[~valid].isnan().all()) and not bool(value[valid].isnan().any())
            for name in "ifo":
                v = getattr(t, name)[valid]
                assert float(v.min()) >= 0.0 and float(v.max()) <= 1.0
            for name in "gh":
                assert float(getattr(t, name)[valid].abs().max()) <= 1.0
    # Forward direction of the last layer: trace h at the last valid step is h_n and the output.
    last = trace[1][0]
    torch.testing.assert_close(last.h[torch.arange(4), lengths - 1], h_n[2])
    torch.testing.assert_close(trace[1][1].h[:, 0], h_n[3])
    torch.testing.assert_close(last.h[0], out[0, :, :H])
    # c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t, read back from the trace itself.
    t0 = trace[0][0]
    torch.testing.assert_close(t0.c[0, 1:], t0.f[0, 1:] * t0.c[0, :-1] + t0.i[0, 1:] * t0.g[0, 1:])


def test_auto_is_fused_without_trace_and_fused_refuses_trace(monkeypatch):
    ours = LSTM(H_IN, H)
    x = torch.randn(2, 3, H_IN)
    _, _, trace = ours(x, return_trace=True)
    assert trace[0][0].h.shape == (2, 3, H)

    def no_explicit(*args):
        raise AssertionError("auto without a trace must not take the explicit path")

    monkeypatch.setattr(ours, "_forward_explicit", no_explicit)
    ours(x, torch.tensor([3, 2]))
    ours.impl = "fused"
    with pytest.raises(ValueError, match="return_trace"):
        ours(x, return_trace=True)


@pytest.mark.parametrize(
    "x,lengths,match",
    [
        (torch.randn(2, 3, H_IN + 1), None, "input_size=5"),
        (torch.ones(2, 3, H_IN, dtype=torch.long), None, "x must be a floating-point tensor, got torch.int64"),
        (np.ones((2, 3, H_IN), dtype=np.float32), None, "x must be a floating-point torch.Tensor, got numpy.ndarray \\(torch.as_tensor\\(x\\) makes one\\)"),
        ([[[0.0] * H_IN]], None, "x must be a floating-point torch.Tensor, got list \\("),
        (torch.randn(2, 3, H_IN), torch.tensor([3, 0]), "lengths must lie in \\[1, L=3\\], got 0"),
        (torch.randn(2, 3, H_IN), torch.tensor([4, 1]), "lengths must lie in \\[1, L=3\\], got 4"),
        (torch.randn(2, 3, H_IN), torch.tensor([3, 2, 1]), "lengths has 3 entries, expected N=2"),
        (torch.randn(2, 3, H_IN), torch.tensor([3.0, 2.0]), "lengths must be a 1-D int tensor"),
        (torch.randn(2, 3, H_IN), [3, None], "lengths must be a 1-D int tensor \\(or a list of ints\\), got \\[3, None\\]"),
        (torch.randn(2, 3, H_IN), "32", "lengths must be a 1-D int tensor \\(or a list of ints\\), got '32'"),
        (torch.randn(3, H_IN), None, "x must be \\(N, L, H_in\\)"),
        (torch.randn(0, 3, H_IN), torch.tensor([]), "x holds N=0 sequences"),
    ],
)
def test_bad_arguments_raise_value_error(x, lengths, match):
    with pytest.raises(ValueError, match=match):
        LSTM(H_IN, H)(x, lengths)


def test_flags_must_be_bools():
    # return_trace="no" read as true, and took the explicit path.
    x = torch.randn(2, 3, H_IN)
    for name, flag in (("return_trace", "no"), ("cell_state", 0), ("return_trace", None)):
        with pytest.raises(ValueError, match=f"^{name} must be True or False, got {flag!r}$"):
            LSTM(H_IN, H)(x, **{name: flag})


def test_bad_state_and_constructor_arguments():
    with pytest.raises(ValueError, match="state h_0 must have shape \\(1, 2, 7\\)"):
        LSTM(H_IN, H)(torch.randn(2, 3, H_IN), state=(torch.zeros(1, 3, H), torch.zeros(1, 3, H)))
    # A float64 state beside float32 x was torch's "get_mkldnn_dtype: unsupported data type" (fused) or a
    # matmul's dtype error (explicit).
    for cell_state in (True, False):
        with pytest.raises(ValueError, match="state h_0 is torch.float64 and x torch.float32: give the state in x's dtype"):
            LSTM(H_IN, H)(torch.randn(2, 3, H_IN), state=(torch.zeros(1, 2, H, dtype=torch.float64),) * 2, cell_state=cell_state)
        # Under autocast the check was skipped, and torch's words came back; a float32 state beside a
        # bfloat16 x (an autocast layer's output) runs, as in torch.nn.LSTM.
        for impl in ("explicit", "fused"):
            lstm = LSTM(H_IN, H, impl=impl)
            with torch.autocast("cpu", dtype=torch.bfloat16):
                with pytest.raises(ValueError, match="state h_0 is torch.float64"):
                    lstm(torch.randn(2, 3, H_IN), state=(torch.zeros(1, 2, H, dtype=torch.float64),) * 2, cell_state=cell_state)
                output, _ = lstm(torch.randn(2, 3, H_IN, dtype=torch.bfloat16), state=(torch.zeros(1, 2, H),) * 2, cell_state=cell_state)
            assert output.shape == (2, 3, H) and output.isfinite().all()
    with pytest.raises(ValueError, match="impl must be one of"):
        LSTM(H_IN, H, impl="cudnn")
    with pytest.raises(ValueError, match="hidden_size must be a positive int, got 0"):
        LSTM(H_IN, 0)
    with pytest.raises(ValueError, match="input_size must be a positive int, got True"):  # was sizes 1 and 1
        LSTM(True, True)
    # NumPy's scalars are sizes and numbers, as torch.nn.LSTM takes them ("forget_bias must be a finite
    # number, got np.float32(1.0)").
    lstm = LSTM(np.int64(H_IN), np.int64(H), forget_bias=np.float32(1.0), dropout=np.float64(0.0))
    assert (lstm.input_size, lstm.hidden_size) == (H_IN, H) and type(lstm.hidden_size) is int
    # torch's fourth positional argument is bias: LSTM(4, 3, 1, False) was a biased network here, as
    # bidirectional=False, where nn.LSTM(4, 3, 1, False) has no biases.
    with pytest.raises(TypeError, match="positional"):
        LSTM(H_IN, H, 1, False)
    # Direction 2 gave the forward weights, layer 5 an AttributeError.
    with pytest.raises(ValueError, match="direction must be 0 \\(forward\\): the LSTM is one-directional, got 2"):
        lstm.layer_weights(0, 2)
    with pytest.raises(ValueError, match="layer must be an int from 0 to 0, got 5"):
        lstm.layer_weights(5, 0)
    # A (2, 10) beside a (2, 3) broadcast an o_t of one unit over three; a bias of 11 was torch's own error.
    from lstm_sentiment.core.cell import gates_to_state

    with pytest.raises(ValueError, match=r"gates must be \(N, 4H\) for c_prev \(N, H\); got \(2, 10\) and \(2, 3\)"):
        gates_to_state(torch.randn(2, 10), torch.randn(2, 3))
    zeros = torch.zeros(2, 3)
    with pytest.raises(ValueError, match=r"bias_ih must be \(12,\) \(H = 3 from c_prev, x_t \(2, 4\)\); got \(11,\)"):
        lstm_cell(torch.randn(2, 4), (zeros, zeros), torch.randn(12, 4), torch.randn(12, 3), torch.randn(11), torch.randn(12))
    # Unbatched, as torch.nn.LSTMCell takes it, still runs.
    cell = nn.LSTMCell(4, 3)
    x = torch.randn(4)
    h, c, _ = lstm_cell(x, (torch.zeros(3), torch.zeros(3)), cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    h_ref, c_ref = cell(x)
    torch.testing.assert_close((h, c), (h_ref, c_ref))


def test_bfloat16_autocast_without_onednn_kernels_runs_the_recurrence_in_float32(monkeypatch):
    # On an AVX2-only CPU oneDNN raised "could not create a primitive descriptor" for a bfloat16 LSTM.
    import lstm_sentiment.core.lstm as core_lstm

    monkeypatch.setattr(core_lstm, "_onednn_has_bfloat16", lambda: False)
    torch.manual_seed(0)
    lstm = LSTM(6, 5, bidirectional=True).eval()
    x, lengths = torch.randn(3, 7, 6), torch.tensor([7, 4, 1])
    with torch.no_grad():
        expected = lstm(x, lengths, cell_state=False)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            output, (h_n, _) = lstm(x, lengths, cell_state=False)
    assert output.dtype == torch.float32
    torch.testing.assert_close(output, expected[0])
    torch.testing.assert_close(h_n, expected[1][0])
    # With c_n asked for too, unpadded and padded (the unpadded one raised oneDNN's error).
    for given in (None, lengths):
        with torch.no_grad():
            expected = lstm(x, given)
            with torch.autocast("cpu", dtype=torch.bfloat16):
                output, (h_n, c_n) = lstm(x, given)
        torch.testing.assert_close(output, expected[0])
        torch.testing.assert_close(c_n, expected[1][1])


def test_arguments_of_another_kind_are_refused_in_words():
    # Each of these built a module or ran, and failed later in torch's words (or gave NaN everywhere).
    for kwargs, message in (
        (dict(bidirectional="no"), "bidirectional must be True or False, got 'no'"),
        (dict(bidirectional=1), "bidirectional must be True or False, got 1"),
        (dict(forget_bias=float("nan")), "forget_bias must be a finite number, got nan"),
        (dict(forget_bias=float("inf")), "forget_bias must be a finite number, got inf"),
    ):
        with pytest.raises(ValueError, match=re.escape(message)):
            LSTM(H_IN, H, **kwargs)
    lstm = LSTM(H_IN, H)
    x = torch.randn(2, 3, H_IN)
    with pytest.raises(ValueError, match=r"x is torch\.float64 and the weights torch\.float32: convert x with x\.to\(torch\.float32\)"):
        lstm(x.double(), return_trace=True)
    with pytest.raises(ValueError, match=r"state h_0 must be a tensor of shape \(1, 2, 7\), got NoneType \(state=None starts from zeros\)"):
        lstm(x, state=(None, None))
    with pytest.raises(ValueError, match="state must be a pair"):
        lstm(x, state=torch.zeros(1, 2, H))
    assert lstm.double()(x.double(), return_trace=True)[0].dtype == torch.float64  # a float64 model reads float64
