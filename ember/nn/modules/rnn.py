"""Recurrent layers: ``RNN``, ``LSTM``, ``GRU`` (multi-layer, bidirectional, dropout, batch_first,
``PackedSequence`` input, LSTM ``proj_size``) and the cells ``RNNCell``, ``LSTMCell``, ``GRUCell``.

PyTorch's gate order (LSTM: i, f, g, o; GRU: r, z, n) and parameter names
(``weight_ih_l0``, ``weight_hh_l0_reverse``, ``bias_ih_l0`` ...) so state_dicts load both ways.
Each layer computes the input projection of all time steps with one GEMM, then loops over
time steps only; everything is built from differentiable primitives.
"""
from __future__ import annotations

import math

import numpy as np

from ..._tensor import Tensor
from ...autograd.function import Function
from ...backends import namespace_of
from ...ops.creation import empty, zeros
from ...ops.unary import _sigmoid
from ...ops.linalg import addmm, matmul
from ...ops.join import cat, split, stack
from ..parameter import Parameter
from ..utils.rnn import PackedSequence
from .linear import _uniform, linear
from .module import Module

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


def _rnn_step(mode, gx, h, w_hh, b_hh):
    """One RNN/GRU step given the precomputed input projection ``gx`` (B, G)."""
    gh = linear(h, w_hh, b_hh)
    if mode == "GRU":
        H = h.shape[-1]
        r = (gx[..., :H] + gh[..., :H]).sigmoid()
        z = (gx[..., H:2 * H] + gh[..., H:2 * H]).sigmoid()
        n = (gx[..., 2 * H:] + r * gh[..., 2 * H:]).tanh()
        return n + z * (h - n)
    a = gx + gh
    return a.tanh() if mode == "RNN_TANH" else a.relu()


class _FusedLSTMCell(Function):
    """The pointwise part of one LSTM step as one primitive (like PyTorch's fused cell kernel).

    gx, gh: (B, 4H) input and hidden projections (gates i, f, g, o); c: (B, H). Returns (h', c').
    One graph node per step instead of ~12 keeps the time loop cheap.
    """

    raw = True
    node_name = "ThnnFusedLstmCellBackward0"

    @staticmethod
    def forward(ctx, gx, gh, c):
        xp = namespace_of(gx)
        g = gx + gh
        H = c.shape[-1]
        act = _sigmoid(xp, g)
        act[:, 2 * H:3 * H] = xp.tanh(g[:, 2 * H:3 * H])
        i, f, gg, o = act[:, :H], act[:, H:2 * H], act[:, 2 * H:3 * H], act[:, 3 * H:]
        c_new = f * c
        c_new += i * gg
        tc = xp.tanh(c_new)
        ctx.save_for_backward(gx, gh, c, act, tc)
        return o * tc, c_new

    @staticmethod
    def backward(ctx, dh, dc):
        gx, gh, c, act, tc = ctx.saved_tensors
        H = c.shape[-1]
        if isinstance(dh, Tensor):
            # create_graph=True: recompute the gates from the (graph-connected) inputs so that the
            # formulas below are differentiable again
            g = gx + gh
            i, f, o = g[:, :H].sigmoid(), g[:, H:2 * H].sigmoid(), g[:, 3 * H:].sigmoid()
            gg = g[:, 2 * H:3 * H].tanh()
            tc = (f * c + i * gg).tanh()
        else:
            i, f, gg, o = act[:, :H], act[:, H:2 * H], act[:, 2 * H:3 * H], act[:, 3 * H:]
        dct = dh * o * (1 - tc * tc) + dc
        parts = [dct * gg * i * (1 - i), dct * c * f * (1 - f), dct * i * (1 - gg * gg), dh * tc * o * (1 - o)]
        if isinstance(dh, Tensor):
            dg = cat(parts, -1)
        else:
            dg = namespace_of(dh).concatenate(parts, axis=-1)
        return dg, dg, dct * f


class _LSTMLayer(Function):
    """One direction of one LSTM layer over all time steps as a single primitive (what PyTorch's
    CPU LSTM does too: ``MkldnnRnnLayerBackward0``). Equal batch sizes, no projection.

    gx (T*B, 4H): the input projections of every step (time-major); h0, c0 (B, H). Returns
    hs (T, B, H) in time order, h_T and c_T. The time loops run on arrays; backward makes the
    recurrent weight and bias gradients one GEMM / one sum over all steps instead of one per step.
    """

    raw = True
    node_name = "MkldnnRnnLayerBackward0"

    @staticmethod
    def forward(ctx, gx, h0, c0, w_hh, b_hh, T, reverse):
        xp = namespace_of(gx)
        B, H = c0.shape
        gxs = gx.reshape(T, B, 4 * H)
        if b_hh is not None:
            gxs = gxs + b_hh                     # once for all steps
        w_t = xp.ascontiguousarray(w_hh.T)
        acts = xp.empty((T, B, 4 * H), dtype=gx.dtype)   # sigmoid(i, f, _, o) (the g slot is overwritten)
        tgs = xp.empty((T, B, H), dtype=gx.dtype)        # tanh(g)
        hs = xp.empty((T, B, H), dtype=gx.dtype)
        cs = xp.empty((T, B, H), dtype=gx.dtype)
        tcs = xp.empty((T, B, H), dtype=gx.dtype)
        h, c = h0, c0
        with np.errstate(over="ignore"):         # sigmoid = 1 / (1 + exp(-x)), exactly 0 where exp overflows
            for t in (range(T - 1, -1, -1) if reverse else range(T)):
                a = xp.matmul(h, w_t, out=acts[t])
                a += gxs[t]
                tg = xp.tanh(a[:, 2 * H:3 * H], out=tgs[t])
                xp.negative(a, out=a)
                xp.exp(a, out=a)
                a += 1
                xp.reciprocal(a, out=a)
                c = xp.multiply(a[:, H:2 * H], c, out=cs[t])    # c: the previous step's cell state
                c += a[:, :H] * tg
                tc = xp.tanh(c, out=tcs[t])
                h = xp.multiply(a[:, 3 * H:], tc, out=hs[t])
        ctx.save_for_backward(gx, h0, c0, w_hh, b_hh)
        ctx.arrays = (acts, tgs, hs, cs, tcs)
        ctx.T, ctx.reverse = T, reverse
        return hs, h.copy(), c.copy()

    @staticmethod
    def backward(ctx, dhs, dhT, dcT):
        gx, h0, c0, w_hh, b_hh = ctx.saved_tensors
        T, reverse = ctx.T, ctx.reverse
        need = ctx.needs_input_grad
        if isinstance(dhs, Tensor):
            return _LSTMLayer._graph_backward(ctx, (gx, h0, c0, w_hh, b_hh), (dhs, dhT, dcT))
        xp = namespace_of(dhs)
        acts, tgs, hs, cs, tcs = ctx.arrays
        B, H = c0.shape
        # Everything that does not depend on the incoming gradient, for all steps at once:
        # dG_t = [dc~ * coef_i, dc~ * coef_f, dc~ * coef_g | dh * coef_o], dc~ = dh * o * (1 - tanh(c)^2) + dc
        prev = (lambda z, z0: xp.concatenate([z[1:], z0[None]])) if reverse else \
            (lambda z, z0: xp.concatenate([z0[None], z[:-1]]))
        i, f, o = acts[..., :H], acts[..., H:2 * H], acts[..., 3 * H:]
        coef = xp.empty_like(acts)
        coef[..., :H] = tgs * i * (1 - i)
        coef[..., H:2 * H] = prev(cs, c0) * f * (1 - f)
        coef[..., 2 * H:3 * H] = i * (1 - tgs * tgs)
        coef[..., 3 * H:] = tcs * o * (1 - o)
        o_dtc = o * (1 - tcs * tcs)
        dG = xp.empty_like(acts)
        dh = dhT.copy()
        dc = dcT
        for t in (range(T) if reverse else range(T - 1, -1, -1)):
            dh += dhs[t]
            dct = dh * o_dtc[t]
            dct += dc
            d = dG[t]
            xp.multiply(dct[:, None, :], coef[t, :, :3 * H].reshape(B, 3, H), out=d[:, :3 * H].reshape(B, 3, H))
            xp.multiply(dh, coef[t, :, 3 * H:], out=d[:, 3 * H:])
            dc = xp.multiply(dct, f[t], out=dct)
            dh = d @ w_hh
        dGf = dG.reshape(T * B, 4 * H)
        dw = db = None
        if need[3]:
            dw = dGf.T @ prev(hs, h0).reshape(T * B, H)
        if need[4]:
            db = dGf.sum(axis=0)
        return dGf, dh, dc, dw, db, None, None

    @staticmethod
    def _graph_backward(ctx, inputs, grads):
        """create_graph=True: rebuild the layer from differentiable per-step primitives and take their
        gradients with a graph, so that higher derivatives flow."""
        from ...autograd import grad as _grad
        from ...autograd.grad_mode import enable_grad
        gx, h0, c0, w_hh, b_hh = inputs
        T, reverse = ctx.T, ctx.reverse
        B = c0.shape[0]
        with enable_grad():
            steps = split(gx, [B] * T, 0)
            w_t = w_hh.t().contiguous()
            h, c = h0, c0
            outs = [None] * T
            for t in (range(T - 1, -1, -1) if reverse else range(T)):
                h, c = _lstm_step(steps[t], h, c, w_hh, b_hh, None, w_t)
                outs[t] = h
            hs = stack(outs, 0)
        wanted = [x for x, n in zip(inputs, ctx.needs_input_grad) if n and x is not None]
        got = iter(_grad([hs, h, c], wanted, list(grads), create_graph=True, allow_unused=True))
        return tuple(next(got) if n and x is not None else None
                     for x, n in zip(inputs, ctx.needs_input_grad)) + (None, None)


def _lstm_step(gx, h, c, w_hh, b_hh, w_hr, w_hh_t=None):
    """One LSTM step; with ``w_hh_t`` (w_hh transposed, contiguous: the faster GEMM operand for small
    batches) the pointwise part runs as one fused primitive."""
    if w_hh_t is not None:
        gh = addmm(b_hh, h, w_hh_t) if b_hh is not None else matmul(h, w_hh_t)
        h, c = _FusedLSTMCell.apply(gx, gh, c)
        return (linear(h, w_hr) if w_hr is not None else h), c
    g = gx + linear(h, w_hh, b_hh)
    H = c.shape[-1]
    i = g[..., :H].sigmoid()
    f = g[..., H:2 * H].sigmoid()
    gg = g[..., 2 * H:3 * H].tanh()
    o = g[..., 3 * H:].sigmoid()
    c = f * c + i * gg
    h = o * c.tanh()
    if w_hr is not None:
        h = linear(h, w_hr)
    return h, c


class RNNBase(Module):
    """Shared machinery of RNN, LSTM and GRU (parameter layout, init, the time loop)."""

    __constants__ = ["mode", "input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout",
                     "bidirectional", "proj_size"]

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
                 device=None, dtype=None) -> None:
        super().__init__()
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        if not isinstance(dropout, (int, float)) or isinstance(dropout, bool) or not 0 <= dropout <= 1:
            raise ValueError("dropout should be a number in range [0, 1] representing the probability of an element "
                             "being zeroed")
        if not isinstance(hidden_size, int) or hidden_size <= 0:
            raise ValueError("hidden_size must be an integer greater than zero" if isinstance(hidden_size, int)
                             else f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
        if not isinstance(num_layers, int) or num_layers <= 0:
            raise ValueError("num_layers must be an integer greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if dropout > 0 and num_layers == 1:
            import warnings
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                          f"expects num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}")
        if mode not in _GATES:
            raise ValueError(f"Unrecognized RNN mode: {mode}")
        gate = _GATES[mode] * hidden_size
        dirs = 2 if bidirectional else 1
        real_h = proj_size if proj_size > 0 else hidden_size
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            for direction in range(dirs):
                layer_in = input_size if layer == 0 else real_h * dirs
                sfx = "_reverse" if direction == 1 else ""
                names = [f"weight_ih_l{layer}{sfx}", f"weight_hh_l{layer}{sfx}"]
                shapes = [(gate, layer_in), (gate, real_h)]
                if bias:
                    names += [f"bias_ih_l{layer}{sfx}", f"bias_hh_l{layer}{sfx}"]
                    shapes += [(gate,), (gate,)]
                if proj_size > 0:
                    names.append(f"weight_hr_l{layer}{sfx}")
                    shapes.append((proj_size, hidden_size))
                for n, s in zip(names, shapes):
                    setattr(self, n, Parameter(empty(s, device=device, dtype=dtype)))
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for p in self.parameters():
            _uniform(p, stdv)

    @property
    def _flat_weights(self):
        return [getattr(self, n) for n in self._flat_weights_names]

    @property
    def all_weights(self):
        return [[getattr(self, n) for n in names] for names in self._all_weights]

    def flatten_parameters(self) -> None:
        pass

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    # -- the time loop ------------------------------------------------------------------
    def _layer_dir(self, x_steps, batch_sizes, h, c, layer, direction):
        """Run one direction of one layer. x_steps: list of (b_t, I) inputs per time step."""
        sfx = "_reverse" if direction == 1 else ""
        w_ih = getattr(self, f"weight_ih_l{layer}{sfx}")
        w_hh = getattr(self, f"weight_hh_l{layer}{sfx}")
        b_ih = getattr(self, f"bias_ih_l{layer}{sfx}") if self.bias else None
        b_hh = getattr(self, f"bias_hh_l{layer}{sfx}") if self.bias else None
        w_hr = getattr(self, f"weight_hr_l{layer}{sfx}") if self.proj_size else None
        T = len(x_steps)
        # one GEMM for the input projection of every time step
        gx_all = linear(cat(x_steps, 0), w_ih, b_ih)
        # one split node (its backward is one concatenate) rather than a slice per step
        gx_steps = split(gx_all, [int(b) for b in batch_sizes], 0)
        outs = [None] * T
        order = range(T - 1, -1, -1) if direction == 1 else range(T)
        B = h.shape[0]
        if self.mode == "LSTM" and w_hr is None and all(int(b) == B for b in batch_sizes):
            hs, h, c = _LSTMLayer.apply(gx_all, h, c, w_hh, b_hh, T, direction == 1)
            return list(hs.unbind(0)), h, c
        w_hh_t = w_hh.t().contiguous() if self.mode == "LSTM" else None
        for t in order:
            bt = int(batch_sizes[t])
            gx = gx_steps[t]
            hb = h if bt == B else h[:bt]
            if self.mode == "LSTM":
                cb = c if bt == B else c[:bt]
                hn, cn = _lstm_step(gx, hb, cb, w_hh, b_hh, w_hr, w_hh_t)
                c = cn if bt == B else cat([cn, c[bt:]], 0)
            else:
                hn = _rnn_step(self.mode, gx, hb, w_hh, b_hh)
            h = hn if bt == B else cat([hn, h[bt:]], 0)
            outs[t] = hn
        return outs, h, c

    def _run(self, x_steps, batch_sizes, hx):
        from ..functional.dropout import dropout as _dropout
        dirs = 2 if self.bidirectional else 1
        h0, c0 = hx if self.mode == "LSTM" else (hx, None)
        hs, cs = [], []
        for layer in range(self.num_layers):
            dir_outs = []
            for d in range(dirs):
                k = layer * dirs + d
                outs, h, c = self._layer_dir(x_steps, batch_sizes, h0[k], None if c0 is None else c0[k], layer, d)
                dir_outs.append(outs)
                hs.append(h)
                cs.append(c)
            x_steps = dir_outs[0] if dirs == 1 else [cat([a, b], -1) for a, b in zip(*dir_outs)]
            if self.dropout and self.training and layer < self.num_layers - 1:
                x_steps = [_dropout(x, self.dropout, True) for x in x_steps]
        h_n = stack(hs, 0)
        return x_steps, (h_n, stack(cs, 0)) if self.mode == "LSTM" else h_n

    def _check_hidden(self, hx, expected, name):
        if tuple(hx.shape) != tuple(expected):
            raise RuntimeError(f"Expected {name} size {tuple(expected)}, got {list(hx.shape)}")

    def forward(self, input, hx=None):
        is_lstm = self.mode == "LSTM"
        dirs = 2 if self.bidirectional else 1
        real_h = self.proj_size if self.proj_size > 0 else self.hidden_size
        packed = isinstance(input, PackedSequence)
        if packed:
            data, batch_sizes_t, sorted_idx, unsorted_idx = input
            batch_sizes = np.asarray(batch_sizes_t._cpu_array()).astype(np.int64)
            B = int(batch_sizes[0])
            offs = np.concatenate([[0], np.cumsum(batch_sizes)])
            x_steps = [data[int(offs[t]):int(offs[t + 1])] for t in range(len(batch_sizes))]
            unbatched = False
            dtype, device = data.dtype, data.device
        else:
            if input.dim() not in (2, 3):
                raise ValueError(f"{type(self).__name__}: Expected input to be 2D or 3D, got {input.dim()}D instead")
            unbatched = input.dim() == 2
            if unbatched:
                input = input.unsqueeze(1)
            elif self.batch_first:
                input = input.transpose(0, 1)
            if input.shape[-1] != self.input_size:
                raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got "
                                   f"{input.shape[-1]}")
            T, B = input.shape[0], input.shape[1]
            batch_sizes = np.full(T, B, dtype=np.int64)
            x_steps = list(input.unbind(0))
            sorted_idx = unsorted_idx = None
            dtype, device = input.dtype, input.device
        if hx is None:
            h0 = zeros(self.num_layers * dirs, B, real_h, dtype=dtype, device=device)
            hx = (h0, zeros(self.num_layers * dirs, B, self.hidden_size, dtype=dtype, device=device)) \
                if is_lstm else h0
        else:
            if unbatched:
                hx = tuple(h.unsqueeze(1) for h in hx) if is_lstm else hx.unsqueeze(1)
            if is_lstm:
                self._check_hidden(hx[0], (self.num_layers * dirs, B, real_h), "hidden[0]")
                self._check_hidden(hx[1], (self.num_layers * dirs, B, self.hidden_size), "hidden[1]")
            else:
                self._check_hidden(hx, (self.num_layers * dirs, B, real_h), "hidden")
            if sorted_idx is not None:
                hx = tuple(h.index_select(1, sorted_idx) for h in hx) if is_lstm else hx.index_select(1, sorted_idx)
        outs, hn = self._run(x_steps, batch_sizes, hx)
        if packed:
            out = PackedSequence(cat(outs, 0), batch_sizes_t, sorted_idx, unsorted_idx)
            if unsorted_idx is not None:
                hn = tuple(h.index_select(1, unsorted_idx) for h in hn) if is_lstm else hn.index_select(1, unsorted_idx)
            return out, hn
        out = stack(outs, 0)
        if unbatched:
            out = out.squeeze(1)
            hn = tuple(h.squeeze(1) for h in hn) if is_lstm else hn.squeeze(1)
        elif self.batch_first:
            out = out.transpose(0, 1)
        return out, hn


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu). Input (T, B, I)."""

    def __init__(self, *args, **kwargs) -> None:
        nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if len(args) > 3:
            nonlinearity = args[3]
            args = args[:3] + args[4:]
        if nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__(mode, *args, **kwargs)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """LSTM with gates (i, f, g, o); returns (output, (h_n, c_n))."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__("LSTM", *args, **kwargs)


class GRU(RNNBase):
    """GRU with gates (r, z, n); n = tanh(W_in x + b_in + r * (W_hn h + b_hn))."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__("GRU", *args, **kwargs)


# --------------------------------------------------------------------------- cells
class RNNCellBase(Module):
    __constants__ = ["input_size", "hidden_size", "bias"]

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int, device=None,
                 dtype=None) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(empty((num_chunks * hidden_size, input_size), device=device, dtype=dtype))
        self.weight_hh = Parameter(empty((num_chunks * hidden_size, hidden_size), device=device, dtype=dtype))
        if bias:
            self.bias_ih = Parameter(empty(num_chunks * hidden_size, device=device, dtype=dtype))
            self.bias_hh = Parameter(empty(num_chunks * hidden_size, device=device, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for p in self.parameters():
            _uniform(p, stdv)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _prep(self, input, hx, n_state):
        if input.dim() not in (1, 2):
            raise ValueError(f"{type(self).__name__}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.shape[-1]} expected {self.input_size}")
        unbatched = input.dim() == 1
        if unbatched:
            input = input.unsqueeze(0)
        if hx is None:
            z = zeros(input.shape[0], self.hidden_size, dtype=input.dtype, device=input.device)
            hx = (z, z) if n_state == 2 else z
        elif unbatched:
            hx = tuple(h.unsqueeze(0) for h in hx) if n_state == 2 else hx.unsqueeze(0)
        return input, hx, unbatched


class RNNCell(RNNCellBase):
    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx=None) -> Tensor:
        input, hx, unbatched = self._prep(input, hx, 1)
        mode = "RNN_TANH" if self.nonlinearity == "tanh" else "RNN_RELU"
        h = _rnn_step(mode, linear(input, self.weight_ih, self.bias_ih), hx, self.weight_hh, self.bias_hh)
        return h.squeeze(0) if unbatched else h


class LSTMCell(RNNCellBase):
    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input: Tensor, hx=None):
        input, (h, c), unbatched = self._prep(input, hx, 2)
        h, c = _lstm_step(linear(input, self.weight_ih, self.bias_ih), h, c, self.weight_hh, self.bias_hh, None)
        return (h.squeeze(0), c.squeeze(0)) if unbatched else (h, c)


class GRUCell(RNNCellBase):
    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input: Tensor, hx=None) -> Tensor:
        input, hx, unbatched = self._prep(input, hx, 1)
        h = _rnn_step("GRU", linear(input, self.weight_ih, self.bias_ih), hx, self.weight_hh, self.bias_hh)
        return h.squeeze(0) if unbatched else h

