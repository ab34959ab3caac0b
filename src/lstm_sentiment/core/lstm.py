"""A batch-first LSTM with two implementations over the same Parameters.

``impl="fused"`` runs ``torch.nn.LSTM``'s own kernel on packed sequences (cuDNN on GPU), or, where the cell
state is not asked for on CPU (``cell_state=False``), on the padded batch through oneDNN, one layer and
direction at a time;
``impl="explicit"`` runs the step of :func:`lstm_cell` in a Python time loop (the input projections
W_ih x_t + b_ih of all steps computed at once, then :func:`~.cell.state_from_gates`, the step of
:func:`gates_to_state` without its shape check, per step) and can record every gate (:class:`GateTrace`). The module *is* a ``torch.nn.LSTM`` (``batch_first=True``), so its Parameters are
named ``weight_ih_l0``, ``weight_hh_l0_reverse``, … and a ``state_dict`` moves both ways without renaming.

Shape letters: N batch, L time steps, H_in input features, H hidden units, D = 2 if bidirectional else 1.
"""

from __future__ import annotations

import functools
import math
import numbers
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from .cell import state_from_gates
from .trace import GateTrace

Impl = Literal["auto", "explicit", "fused"]
IMPLS = ("auto", "explicit", "fused")
Init = Literal["default", "chrono"]
INITS = ("default", "chrono")
State = tuple[Tensor, Tensor]


@functools.cache
def _onednn_has_bfloat16() -> bool:
    """True when oneDNN has bfloat16 kernels on this CPU (AVX512-BF16 or AMX); asked once per process."""
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def _bfloat16_without_onednn() -> bool:
    """bfloat16 autocast is on for the CPU, which has no oneDNN bfloat16 kernels."""
    return torch.is_autocast_enabled("cpu") and torch.get_autocast_dtype("cpu") == torch.bfloat16 and not _onednn_has_bfloat16()


class LSTM(nn.LSTM):
    """Multi-layer LSTM, batch first, with per-step gate traces.

    Source: equations of ``torch.nn.LSTM``; forget gate Gers et al. 2000; forget-gate bias
    Gers et al. 2000 §2 and Jozefowicz et al. 2015 ("An Empirical Exploration of Recurrent Network
    Architectures"), who found a bias of 1 closes most of the gap to the best architectures.

    Args:
        input_size: H_in, features of each x_t.
        hidden_size: H, units of h_t and c_t.
        num_layers: stacked layers; layer k > 0 reads layer k-1's output (D·H features).
        bidirectional: add a reverse-direction layer at each level; output features become 2H.
        dropout: dropout probability on each layer's output except the last, in training only.
        impl: "auto" (fused unless a trace is asked for), "explicit" or "fused".
        forget_bias: with ``init="default"``, added at initialisation to the forget-gate chunk of every
            ``bias_ih``; weights otherwise start as in ``torch.nn.LSTM`` (U(-1/√H, 1/√H)). Default 1.0
            (Jozefowicz et al. 2015); 0.0 gives ``torch.nn.LSTM``'s initialisation. Not used by "chrono".
        init: "default" (above) or "chrono": chrono initialisation of the biases (Tallec & Ollivier
            2018, "Can recurrent neural networks warp time?", ICLR, arXiv:1804.11188), per layer
            and direction: b_f ~ log(U[1, T_max - 1]) drawn per unit, b_i = -b_f, b_g = b_o = 0, in
            ``bias_ih``; ``bias_hh`` is all zero (the two vectors add, so a nonzero ``bias_hh`` would shift
            every gate). A unit with f_t ≈ σ(b_f) keeps c_t for about 1 / (1 - σ(b_f)) = 1 + e^{b_f}
            steps, so the units' time constants start spread between about 2 and T_max steps.
            Weights start as in ``torch.nn.LSTM``.
        t_max: T_max ≥ 2, the longest dependency expected, in steps; required by "chrono", and only
            accepted with it.
        batch_first, bias, proj_size: ``torch.nn.LSTM``'s, taken so that its call ports unchanged, with the
            one value this LSTM has: True, True, 0. Every argument after ``num_layers`` is keyword-only:
            torch's fourth positional argument is ``bias``, this one's was ``bidirectional``, so
            ``LSTM(4, 3, 1, False)`` built another network than ``nn.LSTM(4, 3, 1, False)`` without a word.
        device, dtype: where and in what dtype the Parameters are made, as in ``torch.nn.LSTM``.
    Raises:
        ValueError: a size < 1, bidirectional not a bool, dropout outside [0, 1), forget_bias not a finite
            number, an unknown impl or init, t_max missing or < 2 with "chrono", or t_max given with
            "default"; batch_first, bias or proj_size other than True, True, 0.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        *,
        bidirectional: bool = False,
        dropout: float = 0.0,
        impl: Impl = "auto",
        forget_bias: float = 1.0,
        init: Init = "default",
        t_max: int | None = None,
        batch_first: bool = True,
        bias: bool = True,
        proj_size: int = 0,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        # numbers.Integral and Real: NumPy's scalars (np.int64(4)) are sizes as torch.nn.LSTM takes them; a
        # bool is not (LSTM(True, True) was sizes 1 and 1).
        for name, value in (("input_size", input_size), ("hidden_size", hidden_size), ("num_layers", num_layers)):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        input_size, hidden_size, num_layers = int(input_size), int(hidden_size), int(num_layers)
        if not isinstance(bidirectional, bool):
            raise ValueError(f"bidirectional must be True or False, got {bidirectional!r}")
        if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real) or not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
        if isinstance(forget_bias, bool) or not isinstance(forget_bias, numbers.Real) or not math.isfinite(forget_bias):
            raise ValueError(f"forget_bias must be a finite number, got {forget_bias!r}")
        dropout, forget_bias = float(dropout), float(forget_bias)
        if impl not in IMPLS:
            raise ValueError(f"impl must be one of {IMPLS}, got {impl!r}")
        if init not in INITS:
            raise ValueError(f"init must be one of {INITS}, got {init!r}")
        if init == "chrono" and (isinstance(t_max, bool) or not isinstance(t_max, numbers.Integral) or t_max < 2):
            raise ValueError(f"init='chrono' needs t_max, an int >= 2; got {t_max!r}")
        if init == "default" and t_max is not None:
            raise ValueError(f"t_max is only used by init='chrono'; got t_max={t_max!r} with init='default'")
        # torch.nn.LSTM's keywords: a call ported from it said "unexpected keyword argument 'batch_first'".
        # Read as torch.nn.LSTM reads them (batch_first=1 is batch first there), only their one value here.
        if not batch_first:
            raise ValueError(f"this LSTM is batch first, x (N, L, H_in): batch_first must be True, got {batch_first!r} (x.transpose(0, 1) turns (L, N, H_in) around)")
        if not bias:
            raise ValueError(f"bias must be True, got {bias!r}: the forget-gate bias (forget_bias, init) lives in bias_ih")
        if proj_size:
            raise ValueError(f"proj_size must be 0, got {proj_size!r}: h_t has hidden_size units here (no LSTMP projection)")
        super().__init__(
            input_size,
            hidden_size,
            num_layers=num_layers,
            batch_first=True,
            bidirectional=bidirectional,
            dropout=dropout if num_layers > 1 else 0.0,
            device=device,
            dtype=dtype,
        )
        self.impl = impl
        self.forget_bias = forget_bias
        self.init, self.t_max = init, None if t_max is None else int(t_max)
        self._init_biases()

    def reset_parameters(self) -> None:
        """``torch.nn.LSTM``'s initialisation (every weight and bias uniform in ±1/√H), then this LSTM's
        biases: ``forget_bias`` added to the forget-gate chunk, or the chrono biases (it gave torch's alone,
        the forget bias of 1 lost)."""
        super().reset_parameters()
        if hasattr(self, "init"):  # torch.nn.LSTM.__init__ calls it before this LSTM's settings exist
            self._init_biases()

    def _init_biases(self) -> None:
        if self.init == "chrono":
            self._chrono_biases(self.t_max)
            return
        with torch.no_grad():
            for name in self._bias_ih_names():
                getattr(self, name)[self.hidden_size : 2 * self.hidden_size] += self.forget_bias

    @property
    def num_directions(self) -> int:
        """D: 2 if bidirectional else 1."""
        return 2 if self.bidirectional else 1

    def _bias_ih_names(self) -> list[str]:
        return [name for name, _ in self.named_parameters() if name.startswith("bias_ih_l")]

    def _chrono_biases(self, t_max: int) -> None:
        """Chrono initialisation of every layer and direction (see the class docstring); draws from torch's
        global generator, after ``torch.nn.LSTM`` has drawn the weights."""
        size = self.hidden_size
        with torch.no_grad():
            for name in self._bias_ih_names():
                bias_ih, bias_hh = getattr(self, name), getattr(self, name.replace("bias_ih", "bias_hh"))
                b_f = torch.log(bias_ih.new_empty(size).uniform_(1.0, t_max - 1))  # (H,) in [0, log(T_max - 1)]
                bias_ih.zero_()
                bias_ih[:size] = -b_f  # b_i = -b_f: a unit that keeps long also writes little
                bias_ih[size : 2 * size] = b_f
                bias_hh.zero_()

    def layer_weights(self, layer: int, direction: int) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """``(weight_ih, weight_hh, bias_ih, bias_hh)`` of one layer and direction (0 forward, 1 reverse).

        Raises:
            ValueError: a layer outside 0 … num_layers - 1, or a direction this LSTM does not have
                (direction 2 gave the forward weights, layer 5 an AttributeError).
        """
        if isinstance(layer, bool) or not isinstance(layer, numbers.Integral) or not 0 <= layer < self.num_layers:
            raise ValueError(f"layer must be an int from 0 to {self.num_layers - 1}, got {layer!r}")
        if isinstance(direction, bool) or not isinstance(direction, numbers.Integral) or direction not in range(self.num_directions):
            raise ValueError(f"direction must be {'0 (forward) or 1 (reverse)' if self.bidirectional else '0 (forward): the LSTM is one-directional'}, got {direction!r}")
        suffix = f"l{layer}" + ("_reverse" if direction == 1 else "")
        return tuple(getattr(self, f"{kind}_{suffix}") for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))

    def forward(  # type: ignore[override]
        self,
        x: Tensor,
        lengths: Tensor | None = None,
        state: State | None = None,
        return_trace: bool = False,
        cell_state: bool = True,
    ):
        """Run the LSTM over a padded batch.

        Args:
            x: float (N, L, H_in), batch first; steps at or past a sequence's length are ignored.
            lengths: int (N,), valid steps per sequence, each in [1, L]; all L if None.
            state: optional ``(h_0, c_0)``, each (num_layers·D, N, H), layer-major as in ``torch.nn.LSTM``
                (index ``k·D + d`` is layer k, direction d); zeros if None.
            return_trace: also return the gates of every step (forces the explicit path).
            cell_state: False returns ``c_n`` as None. On CPU this lets the fused path run a padded batch
                through oneDNN (see :meth:`_forward_padded`) instead of PyTorch's packed-sequence kernel,
                which has no oneDNN version (training ran 2.7 times slower on it); ``output`` and ``h_n``
                are the same either way (to float32 rounding).
        Returns:
            ``(output, (h_n, c_n))`` or, with ``return_trace``, ``(output, (h_n, c_n), trace)``.
            ``output`` float (N, L, D·H) is the last layer's h_t, zero past each length. ``h_n``, ``c_n``
            (num_layers·D, N, H) are taken at each sequence's own last step (step 0 for the reverse
            direction); ``c_n`` is None when ``cell_state=False``. ``trace[k][d]`` is the
            :class:`GateTrace` of layer k, direction d. Under CPU autocast to bfloat16 the dtype is the
            path's: bfloat16 from oneDNN's fused kernel (no padding, or ``cell_state=False``), float32
            from the explicit path and from the packed-sequence kernel (padding with ``cell_state=True``),
            which autocast leaves in float32; prediction runs the first.
        Raises:
            ValueError: x not a floating 3-D tensor with H_in features, or of another dtype than the
                weights (outside autocast); lengths of the wrong shape, dtype or range; state not a pair
                of tensors of the right shape; a trace asked of ``impl="fused"``; ``return_trace`` or
                ``cell_state`` not a bool ("no" read as true).
        """
        for name, flag in (("return_trace", return_trace), ("cell_state", cell_state)):
            if not isinstance(flag, bool):
                raise ValueError(f"{name} must be True or False, got {flag!r}")
        lengths = self._check_inputs(x, lengths, state)
        impl = self.impl
        if impl == "fused" and return_trace:
            raise ValueError("return_trace=True needs the explicit path; impl='fused' cannot record gates")
        if impl == "explicit" or return_trace:
            output, final, trace = self._forward_explicit(x, lengths, state)
            if not cell_state:
                final = (final[0], None)
            return (output, final, trace) if return_trace else (output, final)
        if x.device.type == "cpu" and _bfloat16_without_onednn():
            # oneDNN builds no bfloat16 LSTM on CPUs without AVX512-BF16 or AMX (it raised "could not
            # create a primitive descriptor"): the recurrence runs in float32, the rest stays bfloat16.
            with torch.autocast("cpu", enabled=False):
                state = None if state is None else (state[0].float(), state[1].float())
                return self.forward(x.float(), lengths, state, cell_state=cell_state)
        if not cell_state and x.device.type == "cpu":
            # Also without padding, so a text gets the same float32 result in any batch.
            return self._forward_padded(x, lengths, state)
        output, final = self._forward_fused(x, lengths, state)
        return (output, final) if cell_state else (output, (final[0], None))

    def _check_inputs(self, x: Tensor, lengths: Tensor | None, state: State | None) -> Tensor:
        if not isinstance(x, Tensor):
            # A numpy array was "got float32", its dtype read as if it were a tensor's.
            kind = type(x).__qualname__ if type(x).__module__ == "builtins" else f"{type(x).__module__}.{type(x).__qualname__}"
            raise ValueError(f"x must be a floating-point torch.Tensor, got {kind} (torch.as_tensor(x) makes one)")
        if not x.is_floating_point():
            raise ValueError(f"x must be a floating-point tensor, got {x.dtype}")
        if x.dim() != 3:
            raise ValueError(f"x must be (N, L, H_in), got shape {tuple(x.shape)}")
        n, length, features = x.shape
        if features != self.input_size:
            raise ValueError(f"x has {features} features per step, expected input_size={self.input_size}")
        if length == 0:
            raise ValueError("x has L=0 time steps")
        if n == 0:
            raise ValueError("x holds N=0 sequences")  # torch's words were "min(): Expected reduction dim…"
        weights = self.weight_ih_l0.dtype
        if x.dtype != weights and not torch.is_autocast_enabled(x.device.type):
            # The fused path says so in torch's words; the explicit one failed inside a matmul.
            raise ValueError(f"x is {x.dtype} and the weights {weights}: convert x with x.to({weights}) or the model with .to({x.dtype})")
        if state is not None:
            expected = (self.num_layers * self.num_directions, n, self.hidden_size)
            if not isinstance(state, (tuple, list)) or len(state) != 2:
                raise ValueError(f"state must be a pair (h_0, c_0) or None, got {type(state).__name__}")
            for name, tensor in zip(("h_0", "c_0"), state):
                if not isinstance(tensor, Tensor):
                    raise ValueError(f"state {name} must be a tensor of shape {expected}, got {type(tensor).__name__} (state=None starts from zeros)")
                if tuple(tensor.shape) != expected:
                    raise ValueError(f"state {name} must have shape {expected}, got {tuple(tensor.shape)}")
                if tensor.dtype not in self._state_dtypes(x):
                    # torch's words were "get_mkldnn_dtype: unsupported data type" or a matmul's.
                    raise ValueError(f"state {name} is {tensor.dtype} and x {x.dtype}: give the state in x's dtype")
        if lengths is None:
            return torch.full((n,), length, dtype=torch.long)
        if not isinstance(lengths, Tensor):
            try:
                lengths = torch.as_tensor(lengths)
            except (TypeError, RuntimeError, ValueError):  # [5, None], "53"
                raise ValueError(f"lengths must be a 1-D int tensor (or a list of ints), got {lengths!r}") from None
        if lengths.dtype.is_floating_point or lengths.dtype == torch.bool or lengths.dim() != 1:
            raise ValueError(f"lengths must be a 1-D int tensor, got dtype {lengths.dtype}, shape {tuple(lengths.shape)}")
        if lengths.numel() != n:
            raise ValueError(f"lengths has {lengths.numel()} entries, expected N={n}")
        low, high = int(lengths.min()), int(lengths.max())
        if low < 1 or high > length:
            bad = low if low < 1 else high
            raise ValueError(f"lengths must lie in [1, L={length}], got {bad}")
        return lengths.to(torch.long)

    @staticmethod
    def _state_dtypes(x: Tensor) -> set[torch.dtype]:
        """The dtypes a given state may have beside ``x``: x's own, and under autocast also float32 and
        autocast's dtype, which both paths cast (a float64 state failed inside torch all the same)."""
        if not torch.is_autocast_enabled(x.device.type):
            return {x.dtype}
        return {x.dtype, torch.float32, torch.get_autocast_dtype(x.device.type)}

    def _forward_fused(self, x: Tensor, lengths: Tensor, state: State | None) -> tuple[Tensor, State]:
        length = x.size(1)
        if bool((lengths == length).all()):
            # No padding: skip the pack/unpack copies.
            return super().forward(x, state)
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        packed_out, final = super().forward(packed, state)
        output, _ = pad_packed_sequence(packed_out, batch_first=True, total_length=length)
        return output, final

    def _forward_padded(self, x: Tensor, lengths: Tensor, state: State | None) -> tuple[Tensor, tuple[Tensor, None]]:
        """Fused kernel on the padded batch, one layer and direction at a time; no ``c_n``.

        A forward pass over right-padded input is exact at every valid step, since padding only follows
        them. For the reverse direction each sequence is first reversed within its own length, so its
        padding also comes last; the outputs are reversed back. ``h_n`` is read from the outputs at each
        sequence's own last step; ``c_n`` is never materialised by the kernel at that step, hence none.
        """
        n, length, _ = x.shape
        lengths = lengths.to(x.device)
        steps = torch.arange(length, device=x.device)
        valid = steps[None, :] < lengths[:, None]  # (N, L)
        # Index that reverses each sequence within its length and leaves its padding in place, as rows of
        # the (N·L, features) view: (N·L,). index_select reads one index per row, gather one per value.
        flip = torch.where(valid, lengths[:, None] - 1 - steps[None, :], steps[None, :])
        flip = (flip + length * torch.arange(n, device=x.device)[:, None]).reshape(-1)
        last = (lengths - 1)[:, None, None]  # (N, 1, 1), each sequence's last valid step
        layer_input = x
        h_n = []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(self.num_directions):
                index = layer * self.num_directions + direction
                if state is None:
                    h_0 = c_0 = layer_input.new_zeros(1, n, self.hidden_size)
                else:
                    h_0, c_0 = state[0][index : index + 1], state[1][index : index + 1]
                inp = layer_input
                if direction == 1:
                    inp = layer_input.reshape(n * length, -1).index_select(0, flip).view(n, length, -1)
                # torch.lstm is what torch.nn.LSTM.forward calls; one layer, one direction, batch first.
                out = torch.lstm(inp, (h_0, c_0), list(self.layer_weights(layer, direction)), True, 1, 0.0, self.training, False, True)[0]
                h_n.append(out.gather(1, last.expand(-1, 1, out.size(-1))).squeeze(1))  # (N, H)
                if direction == 1:
                    out = out.reshape(n * length, -1).index_select(0, flip).view(n, length, -1)
                outputs.append(out)
            layer_input = torch.cat(outputs, dim=-1) if len(outputs) > 1 else outputs[0]  # (N, L, D·H)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, training=True)
        return layer_input * valid[..., None], (torch.stack(h_n), None)

    def _forward_explicit(self, x: Tensor, lengths: Tensor, state: State | None):
        n, length, _ = x.shape
        lengths = lengths.to(x.device)
        valid = torch.arange(length, device=x.device).unsqueeze(0) < lengths.unsqueeze(1)  # (N, L)
        if state is None:
            zeros = x.new_zeros(self.num_layers * self.num_directions, n, self.hidden_size)
            state = (zeros, zeros)
        h_0, c_0 = state
        layer_input = x
        h_n, c_n, trace = [], [], []
        for layer in range(self.num_layers):
            outputs, layer_trace = [], []
            for direction in range(self.num_directions):
                index = layer * self.num_directions + direction
                out, h_last, c_last, gate_trace = self._run_direction(
                    layer_input, valid, lengths, layer, direction, h_0[index], c_0[index]
                )
                outputs.append(out)
                h_n.append(h_last)
                c_n.append(c_last)
                layer_trace.append(gate_trace)
            layer_input = torch.cat(outputs, dim=-1)  # (N, L, D·H)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, training=True)
            trace.append(layer_trace)
        return layer_input, (torch.stack(h_n), torch.stack(c_n)), trace

    def _run_direction(self, x, valid, lengths, layer, direction, h_t, c_t):
        weight_ih, weight_hh, bias_ih, bias_hh = self.layer_weights(layer, direction)
        # The input projection of all steps at once: one matmul instead of L small ones.
        x_proj = x @ weight_ih.T + bias_ih  # (N, L, 4H)
        steps = range(x.size(1) - 1, -1, -1) if direction == 1 else range(x.size(1))
        record: dict[str, list[Tensor | None]] = {name: [None] * x.size(1) for name in "ifgoch"}
        for t in steps:
            gates = x_proj[:, t] + h_t @ weight_hh.T + bias_hh  # (N, 4H)
            h_new, c_new, (i_t, f_t, g_t, o_t) = state_from_gates(gates, c_t)
            # Padded steps leave the state untouched, so a sequence's final state is its own last step
            # and the reverse direction starts from h_0 at each sequence's own end.
            keep = valid[:, t : t + 1]  # (N, 1)
            h_t = torch.where(keep, h_new, h_t)
            c_t = torch.where(keep, c_new, c_t)
            for name, value in zip("ifgoch", (i_t, f_t, g_t, o_t, c_new, h_new)):
                record[name][t] = value
        output = torch.stack(record["h"], dim=1) * valid.unsqueeze(-1)  # (N, L, H), zero past each length
        return output, h_t, c_t, GateTrace.from_steps(record, valid, lengths)
