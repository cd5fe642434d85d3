"""Pooling on the array path: window index tables and the primitives that use them.

Every pooling on this path is "gather a window, then reduce". One index table describes the windows:
``table[l, k]`` is the flat spatial index of the k-th element of output position l (or the
sentinel ``S`` = number of input positions, for padding and ragged adaptive windows). The
forward pass gathers ``x[..., table]`` once (vectorised, like im2col), reduces over k, and the
backward pass scatters the gradient back with one ``bincount``. The indices returned by
``return_indices=True`` are flat spatial indices, as PyTorch returns them.
"""
from __future__ import annotations

import itertools
import math

import numpy as np

from ..._tensor import Tensor, _wrap
from ...autograd.function import Function
from ...backends import namespace_of


# --------------------------------------------------------------------------- index tables
def _window_dim(n, k, s, p, d, o, xp):
    """Per-dim (idx (o, k), valid (o, k), count_with_pad (o,)) for a strided, padded, dilated window."""
    start = xp.arange(o) * s - p
    idx = start[:, None] + xp.arange(k)[None, :] * d
    valid = (idx >= 0) & (idx < n)
    end_pad = xp.minimum(start + (k - 1) * d + 1, n + p)
    return idx, valid, end_pad - start


def _adaptive_dim(n, o, xp):
    i = np.arange(o)
    start = (i * n) // o
    end = -((-(i + 1) * n) // o)
    k = int((end - start).max()) if o else 1
    idx = start[:, None] + np.arange(k)[None, :]
    valid = idx < end[:, None]
    return xp.asarray(idx), xp.asarray(valid), xp.asarray(end - start)


def _table(dims, spatial, xp):
    """Combine per-dim windows into (L, K) flat indices (invalid -> sentinel S) and the valid mask."""
    nd = len(dims)
    S = math.prod(spatial)
    flat = None
    valid = None
    for i, (idx, val, _) in enumerate(dims):
        o, k = idx.shape
        shape = [1] * (2 * nd)
        shape[i], shape[nd + i] = o, k
        stride_i = math.prod(spatial[i + 1:])
        f = (idx * stride_i).reshape(shape)
        v = val.reshape(shape)
        flat = f if flat is None else flat + f
        valid = v if valid is None else valid & v
    L = math.prod(d[0].shape[0] for d in dims)
    K = math.prod(d[0].shape[1] for d in dims)
    flat = xp.broadcast_to(flat, valid.shape)
    table = xp.where(valid, flat, S).reshape(L, K)
    return table, valid.reshape(L, K)


def _gather(x2, table, fill):
    """x2 (R, S) -> (R, L, K) with the sentinel column set to ``fill``."""
    xp = namespace_of(x2)
    ext = xp.empty((x2.shape[0], x2.shape[1] + 1), dtype=x2.dtype)
    ext[:, :-1] = x2
    ext[:, -1] = fill
    return ext[:, table]


def _scatter(w, idx, R, S):
    """Sum ``w`` (R, ...) into (R, S) at flat indices ``idx`` (R, ...) (the sentinel S is dropped)."""
    xp = namespace_of(w)
    rows = (xp.arange(R) * (S + 1)).reshape((R,) + (1,) * (idx.ndim - 1))
    out = xp.bincount((idx + rows).reshape(-1), weights=w.reshape(-1), minlength=R * (S + 1))
    return out.reshape(R, S + 1)[:, :S].astype(w.dtype, copy=False)


def _scatter_tensor(g, idx, R, S):
    """Tensor version of ``_scatter`` (differentiable, for create_graph)."""
    from ...ops.creation import zeros
    z = zeros(R, S + 1, dtype=g.dtype, device=g.device)
    L = int(math.prod(idx.shape[1:]))
    return z.scatter_add(1, _wrap(idx.reshape(R, L)), g.reshape(R, L))[:, :S]


# --------------------------------------------------------------------------- primitives
class _MaxPool(Function):
    """y[r, l] = max_k x[r, table[l, k]]; also returns the argmax's flat spatial index."""

    raw = True

    @staticmethod
    def forward(ctx, x, table, out_shape):
        xp = namespace_of(x)
        lead = x.shape[:-len(out_shape)]
        S = math.prod(x.shape[len(lead):])
        R = math.prod(lead)
        vals = _gather(x.reshape(R, S), table, -xp.inf)
        am = vals.argmax(axis=-1)
        y = xp.take_along_axis(vals, am[..., None], axis=-1)[..., 0]
        idx = table[xp.arange(table.shape[0])[None, :], am]
        if ctx.needs_input_grad:
            ctx.xshape, ctx.R, ctx.S = x.shape, R, S
            ctx.idx = idx
        idx_out = idx.astype(np.int64).reshape(lead + tuple(out_shape))
        ctx.mark_non_differentiable(idx_out)
        return y.reshape(lead + tuple(out_shape)), idx_out

    @staticmethod
    def backward(ctx, g, _gi=None):
        if isinstance(g, Tensor):
            return _scatter_tensor(g, ctx.idx, ctx.R, ctx.S).reshape(ctx.xshape), None, None
        return _scatter(g.reshape(ctx.R, -1), ctx.idx, ctx.R, ctx.S).reshape(ctx.xshape), None, None


class _MaxPoolTiled(Function):
    """Max pooling whose windows tile the input (stride == kernel, no padding, no dilation).

    The loop runs over the few kernel offsets (never over pixels), each step an elementwise op on
    a strided view: NumPy reductions over a length-4 last axis are ~10x slower. Like PyTorch, the
    first maximum in window order wins, and a NaN wins over numbers (the last NaN, as PyTorch).
    """

    raw = True

    @staticmethod
    def forward(ctx, x, k, out_shape):
        xp = namespace_of(x)
        nd = len(k)
        lead = x.shape[:-nd]
        spatial = x.shape[-nd:]
        R = math.prod(lead)
        views, offs, base = _tile_views(x.reshape((R,) + spatial), k, out_shape, spatial, xp)
        y = views[0].copy()
        for v in views[1:]:
            xp.maximum(y, v, out=y)      # propagates NaN
        # arg: the winning offset's position j in window order. Walking backwards, j -= (j - i) * [v_i == y]
        # leaves the first maximum; arithmetic on a bool mask (branch-free) is ~6x faster than a masked copy.
        K = len(views)
        dt = np.uint8 if K <= 255 else np.int32
        arg = xp.full(y.shape, K - 1, dtype=dt)
        for i in range(K - 2, -1, -1):
            d = arg - dt(i)
            d *= views[i] == y
            arg -= d
        nan = y != y
        if nan.any():
            for i, v in enumerate(views):
                xp.copyto(arg, i, where=nan & (v != v))
        idx = xp.take(xp.asarray(offs, dtype=np.int64), arg) + base
        if ctx.needs_input_grad:
            ctx.xshape, ctx.R, ctx.S, ctx.k, ctx.out = x.shape, R, math.prod(spatial), k, tuple(out_shape)
            ctx.arg, ctx.idx = arg, idx.reshape(R, -1)
        idx_out = idx.reshape(lead + tuple(out_shape))
        ctx.mark_non_differentiable(idx_out)
        return y.reshape(lead + tuple(out_shape)), idx_out

    @staticmethod
    def backward(ctx, g, _gi=None):
        if isinstance(g, Tensor):
            return _scatter_tensor(g, ctx.idx, ctx.R, ctx.S).reshape(ctx.xshape), None, None
        xp = namespace_of(g)
        nd = len(ctx.k)
        spatial = ctx.xshape[-nd:]
        gx = xp.zeros((ctx.R,) + tuple(spatial), dtype=g.dtype)
        views, offs, _ = _tile_views(gx, ctx.k, ctx.out, spatial, xp)
        g = g.reshape((ctx.R,) + ctx.out)
        arg = ctx.arg
        for i, v in enumerate(views):
            xp.multiply(g, arg == i, out=v)
        return gx.reshape(ctx.xshape), None, None


def _tile_views(xr, k, out_shape, spatial, xp):
    """Strided views (R, *out) of ``xr`` (R, *spatial), one per kernel offset in window order, each
    offset's flat spatial index, and the flat index of every window's origin (broadcasts over R)."""
    nd = len(k)
    views, offs = [], []
    strides = [math.prod(spatial[i + 1:]) for i in range(nd)]
    for off in itertools.product(*[range(kk) for kk in k]):
        views.append(xr[(slice(None),) + tuple(slice(o, o + n * kk, kk) for o, n, kk in zip(off, out_shape, k))])
        offs.append(sum(o * st for o, st in zip(off, strides)))
    base = 0
    for i in range(nd):
        pos = xp.arange(out_shape[i]) * (k[i] * strides[i])
        base = base + pos.reshape((1,) * i + (-1,) + (1,) * (nd - i - 1))
    return views, offs, base


class _AvgPool(Function):
    """y[r, l] = sum_k x[r, table[l, k]] / div[l]."""

    raw = True

    @staticmethod
    def forward(ctx, x, table, valid, div, out_shape):
        lead = x.shape[:-len(out_shape)]
        S = math.prod(x.shape[len(lead):])
        R = math.prod(lead)
        y = _gather(x.reshape(R, S), table, 0).sum(axis=-1)
        y /= div.astype(y.dtype, copy=False)
        if ctx.needs_input_grad:
            ctx.xshape, ctx.R, ctx.S = x.shape, R, S
            ctx.table, ctx.div = table, div
        return y.reshape(lead + tuple(out_shape))

    @staticmethod
    def backward(ctx, g):
        R, S, table = ctx.R, ctx.S, ctx.table
        if isinstance(g, Tensor):
            from ...ops.creation import tensor
            w = (g.reshape(R, -1) / tensor(ctx.div.astype(g._data.dtype), device=g.device)).unsqueeze(-1)
            w = w.expand(R, table.shape[0], table.shape[1])
            idx = namespace_of(table).broadcast_to(table, (R,) + table.shape)
            return _scatter_tensor(w, idx, R, S).reshape(ctx.xshape), None, None, None, None
        xp = namespace_of(g)
        w = (g.reshape(R, -1) / ctx.div.astype(g.dtype, copy=False))[..., None]
        w = xp.broadcast_to(w, (R,) + table.shape)
        idx = xp.broadcast_to(table, (R,) + table.shape)
        return _scatter(w, idx, R, S).reshape(ctx.xshape), None, None, None, None
