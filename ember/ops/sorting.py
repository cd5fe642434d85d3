"""Ordering ops: sort, argsort, topk, kthvalue, median, unique."""
from __future__ import annotations

import numpy as np

from .._tensor import Tensor, _wrap, _wrap_dim
from ..autograd.function import Function
from ..backends import namespace_of


class Sort(Function):
    raw = True
    node_name = "SortBackward0"

    @staticmethod
    def forward(ctx, x, dim, descending, stable):
        xp = namespace_of(x)
        if descending:
            # stable descending: sort the reversed array ascending by negated key order
            idx = xp.flip(xp.argsort(xp.flip(x, dim), axis=dim, kind="stable"), dim)
            idx = x.shape[dim] - 1 - idx
        else:
            idx = xp.argsort(x, axis=dim, kind="stable")
        vals = xp.take_along_axis(x, idx, axis=dim)
        idx = idx.astype(np.int64, copy=False)
        ctx.save_for_backward(idx)
        ctx.shape, ctx.dim = x.shape, dim
        ctx.mark_non_differentiable(idx)
        return vals, idx

    @staticmethod
    def backward(ctx, g, _gi):
        (idx,) = ctx.saved_tensors
        return _scatter_back(g, idx, ctx.shape, ctx.dim), None, None, None


class Topk(Sort):
    node_name = "TopkBackward0"

    @staticmethod
    def forward(ctx, x, k, dim, largest, sorted_):
        xp = namespace_of(x)
        if largest:
            idx = xp.flip(xp.argsort(xp.flip(x, dim), axis=dim, kind="stable"), dim)
            idx = x.shape[dim] - 1 - idx
        else:
            idx = xp.argsort(x, axis=dim, kind="stable")
        idx = idx.take(range(k), axis=dim)
        vals = xp.take_along_axis(x, idx, axis=dim)
        idx = idx.astype(np.int64, copy=False)
        ctx.save_for_backward(idx)
        ctx.shape, ctx.dim = x.shape, dim
        ctx.mark_non_differentiable(idx)
        return vals, idx

    @staticmethod
    def backward(ctx, g, _gi):
        (idx,) = ctx.saved_tensors
        return _scatter_back(g, idx, ctx.shape, ctx.dim), None, None, None, None


def _scatter_back(g, idx, shape, dim):
    if isinstance(g, Tensor):
        from .creation import zeros
        from .scatter_gather import scatter
        return scatter(zeros(*shape, dtype=g.dtype, device=g.device), dim, idx, g)
    xp = namespace_of(g)
    z = xp.zeros(shape, dtype=g.dtype)
    xp.put_along_axis(z, idx, g, axis=dim)
    return z


def sort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False):
    from .. import return_types
    if input._data.ndim == 0:
        return return_types.sort(input.clone(), _wrap(np.zeros((), np.int64)))
    v, i = Sort.apply(input, _wrap_dim(dim, input._data.ndim), descending, stable)
    return return_types.sort(v, i)


def argsort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    return sort(input, dim, descending, stable)[1]


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
    from .. import return_types
    d = _wrap_dim(dim, input._data.ndim)
    n = input._data.shape[d] if input._data.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError("selected index k out of range")
    v, i = Topk.apply(input, k, d, largest, sorted)
    return return_types.topk(v, i)


def kthvalue(input, k, dim=-1, keepdim=False):
    from .. import return_types
    v, i = sort(input, dim)
    d = _wrap_dim(dim, input._data.ndim)
    vals = v.narrow(d, k - 1, 1)
    idx = i.narrow(d, k - 1, 1)
    if not keepdim:
        vals, idx = vals.squeeze(d), idx.squeeze(d)
    return return_types.kthvalue(vals, idx)


def median(input, dim=None, keepdim=False):
    from .. import return_types
    if dim is None:
        flat = input.reshape(-1)
        v, _ = sort(flat)
        return v[(flat.numel() - 1) // 2]
    d = _wrap_dim(dim, input._data.ndim)
    k = (input._data.shape[d] - 1) // 2 + 1
    r = kthvalue(input, k, d, keepdim)
    return return_types.median(r.values, r.indices)


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    xp = namespace_of(input._data)
    res = xp.unique(input._data if dim is None else input._data, return_inverse=return_inverse,
                    return_counts=return_counts, axis=dim)
    if not isinstance(res, tuple):
        return _wrap(res)
    out = [_wrap(res[0])]
    for r in res[1:]:
        out.append(_wrap(r.astype(np.int64).reshape(input._data.shape) if r is res[1] and return_inverse and dim is None
                         else r.astype(np.int64)))
    return tuple(out)
