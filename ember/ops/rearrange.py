"""Rearranging copies: flip, roll, repeat, tile, repeat_interleave, tril/triu, meshgrid."""
from __future__ import annotations

import numpy as np

from .._tensor import Tensor, _wrap_dim
from ..autograd.function import Function
from ..backends import namespace_of
from .shape import _dims, expand, reshape


class Flip(Function):
    raw = True
    node_name = "FlipBackward0"

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return namespace_of(x).flip(x, dims).copy()

    @staticmethod
    def backward(ctx, g):
        if isinstance(g, Tensor):
            return flip(g, ctx.dims), None
        return namespace_of(g).flip(g, ctx.dims), None


def flip(input: Tensor, dims) -> Tensor:
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    nd = input._data.ndim
    return Flip.apply(input, tuple(_wrap_dim(d, nd) for d in dims))


def fliplr(input):
    return flip(input, 1)


def flipud(input):
    return flip(input, 0)


class Roll(Function):
    raw = True
    node_name = "RollBackward0"

    @staticmethod
    def forward(ctx, x, shifts, dims):
        ctx.shifts, ctx.dims = shifts, dims
        return namespace_of(x).roll(x, shifts, dims)

    @staticmethod
    def backward(ctx, g):
        neg = tuple(-s for s in ctx.shifts) if isinstance(ctx.shifts, tuple) else -ctx.shifts
        if isinstance(g, Tensor):
            return roll(g, neg, ctx.dims), None, None
        return namespace_of(g).roll(g, neg, ctx.dims), None, None


def roll(input: Tensor, shifts, dims=None) -> Tensor:
    """Shift elements along ``dims`` with wrap-around; without dims, over the flattened tensor."""
    if dims is None:
        return Roll.apply(input, shifts if isinstance(shifts, int) else tuple(shifts)[0], None)
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    return Roll.apply(input, shifts, dims)


class Repeat(Function):
    raw = True
    node_name = "RepeatBackward0"

    @staticmethod
    def forward(ctx, x, reps):
        lead = len(reps) - x.ndim
        xs = x.reshape((1,) * lead + x.shape)
        ctx.xs_shape, ctx.in_shape, ctx.reps = xs.shape, x.shape, reps
        return namespace_of(x).tile(xs, reps)

    @staticmethod
    def backward(ctx, g):
        # view the output as (r0, s0, r1, s1, ...) and sum the repeat axes
        inter = []
        for r, s in zip(ctx.reps, ctx.xs_shape):
            inter += [r, s]
        gg = g.reshape(tuple(inter))
        axes = tuple(range(0, len(inter), 2))
        return gg.sum(axis=axes).reshape(ctx.in_shape), None


def repeat(input: Tensor, *sizes) -> Tensor:
    reps = _dims(sizes)
    if len(reps) < input._data.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor")
    return Repeat.apply(input, tuple(int(r) for r in reps))


def tile(input: Tensor, *dims) -> Tensor:
    reps = _dims(dims)
    if len(reps) < input._data.ndim:
        reps = (1,) * (input._data.ndim - len(reps)) + tuple(reps)
    return repeat(input, reps)


def repeat_interleave(input: Tensor, repeats, dim=None) -> Tensor:
    from .scatter_gather import index_select
    from .creation import tensor
    if dim is None:
        input = reshape(input, -1)
        dim = 0
    d = _wrap_dim(dim, input._data.ndim)
    n = input._data.shape[d]
    reps = repeats._cpu_array() if isinstance(repeats, Tensor) else repeats
    idx = np.repeat(np.arange(n), reps)
    return index_select(input, d, tensor(idx))


class Tril(Function):
    raw = True
    node_name = "TrilBackward0"
    upper = False

    @classmethod
    def forward(cls, ctx, x, k):
        ctx.k = k
        xp = namespace_of(x)
        return xp.triu(x, k) if cls.upper else xp.tril(x, k)

    @classmethod
    def backward(cls, ctx, g):
        if isinstance(g, Tensor):
            return (triu(g, ctx.k) if cls.upper else tril(g, ctx.k)), None
        xp = namespace_of(g)
        return (xp.triu(g, ctx.k) if cls.upper else xp.tril(g, ctx.k)), None


class Triu(Tril):
    node_name = "TriuBackward0"
    upper = True


def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    if input._data.ndim < 2:
        raise RuntimeError("tril: input tensor must have at least 2 dimensions")
    return Tril.apply(input, diagonal)


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    if input._data.ndim < 2:
        raise RuntimeError("triu: input tensor must have at least 2 dimensions")
    return Triu.apply(input, diagonal)


def meshgrid(*tensors, indexing="ij"):
    ts = tensors[0] if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else tensors
    n = len(ts)
    shape = [t.numel() for t in ts]
    if indexing == "xy" and n >= 2:
        shape[0], shape[1] = shape[1], shape[0]
    out = []
    for i, t in enumerate(ts):
        s = [1] * n
        j = i
        if indexing == "xy" and n >= 2 and i < 2:
            j = 1 - i
        s[j] = -1
        out.append(expand(reshape(t, s), shape))
    return tuple(out)
