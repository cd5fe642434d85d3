"""Dimension-wise index ops: gather, scatter, scatter_add, scatter_reduce, index_select/add/copy/fill, take_along_dim."""
from __future__ import annotations

import numpy as np

from .._tensor import Tensor, _wrap, _wrap_dim
from ..autograd.function import Function
from ..backends import namespace_of
from .indexing import IndexPut, _add_at, _check_index, _cupy_add_at, _guard_indices, _index_arg, take


def _bounds(idx, size, name, dim):
    if idx.size and (int(idx.max()) >= size or int(idx.min()) < -size):
        bad = int(idx.max()) if int(idx.max()) >= size else int(idx.min())
        raise RuntimeError(f"index {bad} is out of bounds for dimension {dim} with size {size}")


class Gather(Function):
    raw = True
    node_name = "GatherBackward0"

    @staticmethod
    def forward(ctx, x, dim, idx):
        ctx.shape, ctx.dim = x.shape, dim
        ctx.save_for_backward(idx)
        return namespace_of(x).take_along_axis(x, idx, axis=dim)

    @staticmethod
    def backward(ctx, g):
        (idx,) = ctx.saved_tensors
        if isinstance(g, Tensor):
            from .creation import zeros
            return scatter_add(zeros(*ctx.shape, dtype=g.dtype, device=g.device), ctx.dim, idx, g), None, None
        return _scatter_add_np(namespace_of(g).zeros(ctx.shape, g.dtype), ctx.dim, idx, g), None, None


def ctx_device(arr):
    from ..backends import device_of
    return device_of(arr)


def _full_index(idx, dim):
    """Index tuple addressing ``arr[..., idx, ...]`` elementwise along ``dim``."""
    xp = namespace_of(idx)
    grids = list(xp.indices(idx.shape, sparse=True))
    grids[dim] = idx
    return tuple(grids)


def _scatter_add_np(z, dim, idx, src):
    xp = namespace_of(z)
    src = src[tuple(slice(0, s) for s in idx.shape)] if src.shape != idx.shape else src
    full = _full_index(idx, dim)
    if xp is np:
        np.add.at(z, full, src)
    else:
        _cupy_add_at(xp, z, full, src)
    return z


def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False) -> Tensor:
    idx = _check_index(index, "gather")
    d = _wrap_dim(dim, input._data.ndim)
    if idx.ndim != input._data.ndim:
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    for k in range(idx.ndim):
        if k != d and idx.shape[k] > input._data.shape[k]:
            raise RuntimeError(f"Size does not match at dimension {k} expected index {list(idx.shape)} to be smaller "
                               f"than self {list(input._data.shape)} apart from dimension {d}")
    _bounds(idx, input._data.shape[d], "gather", d)
    if any(idx.shape[k] < input._data.shape[k] for k in range(idx.ndim) if k != d):
        sl = tuple(slice(0, idx.shape[k]) if k != d else slice(None) for k in range(idx.ndim))
        input = input[sl]
    return Gather.apply(input, d, _index_arg(index, idx))


class Scatter(Function):
    raw = True
    node_name = "ScatterBackward0"

    @staticmethod
    def forward(ctx, x, dim, idx, src, reduce):
        out = x.copy()
        full = _full_index(idx, dim)
        s = src[tuple(slice(0, n) for n in idx.shape)] if hasattr(src, "shape") and src.shape != idx.shape else src
        if reduce is None:
            out[full] = s
        elif reduce == "add":
            _add_at(out, full, s)
        elif reduce == "multiply":
            if type(out) is np.ndarray:
                np.multiply.at(out, full, s)
            else:  # no device kernel for a multiplicative scatter: do it on the host
                from ..backends import to_device, to_host
                host = to_host(out)
                np.multiply.at(host, tuple(to_host(i) if hasattr(i, "shape") else i for i in full),
                               to_host(s) if hasattr(s, "shape") else s)
                out[...] = to_device(host, ctx_device(out))
        ctx.save_for_backward(idx)
        ctx.dim = dim
        ctx.src_shape = src.shape if hasattr(src, "shape") else None
        return out

    @staticmethod
    def backward(ctx, g):
        (idx,) = ctx.saved_tensors
        need = ctx.needs_input_grad
        gx = gs = None
        if need[0]:
            if isinstance(g, Tensor):
                from .creation import zeros
                gx = Scatter.apply(g, ctx.dim, idx, zeros(*idx.shape, dtype=g.dtype, device=g.device), None)
            else:
                gx = g.copy()
                gx[_full_index(idx, ctx.dim)] = 0
        if need[3]:
            gs = _gather_pad(g, ctx.dim, idx, ctx.src_shape)
        return gx, None, None, gs, None


def _gather_pad(g, dim, idx, src_shape):
    if isinstance(g, Tensor):
        r = gather(g, dim, idx if isinstance(idx, Tensor) else _wrap(idx))
        if tuple(r.shape) != tuple(src_shape):
            from ..nn.functional import pad
            p = []
            for k in reversed(range(len(src_shape))):
                p += [0, src_shape[k] - r.shape[k]]
            r = pad(r, p)
        return r
    xp = namespace_of(g)
    if any(idx.shape[k] < g.shape[k] for k in range(idx.ndim) if k != dim):
        # gather reads only the index's extent in the other dims (take_along_axis would broadcast)
        g = g[tuple(slice(0, idx.shape[k]) if k != dim else slice(None) for k in range(idx.ndim))]
    r = xp.take_along_axis(g, idx, axis=dim)
    if r.shape != tuple(src_shape):
        z = xp.zeros(src_shape, g.dtype)
        z[tuple(slice(0, n) for n in r.shape)] = r
        r = z
    return r


class ScatterAdd(Function):
    raw = True
    node_name = "ScatterAddBackward0"

    @staticmethod
    def forward(ctx, x, dim, idx, src):
        ctx.save_for_backward(idx)
        ctx.dim = dim
        ctx.src_shape = src.shape
        return _scatter_add_np(x.copy(), dim, idx, src)

    @staticmethod
    def backward(ctx, g):
        (idx,) = ctx.saved_tensors
        need = ctx.needs_input_grad
        gs = _gather_pad(g, ctx.dim, idx, ctx.src_shape) if need[3] else None
        return (g if need[0] else None), None, None, gs


def _scatter_checks(input, dim, index, name):
    idx = _check_index(index, name)
    d = _wrap_dim(dim, input._data.ndim)
    _bounds(idx, input._data.shape[d], name, d)
    return d, idx


def scatter(input: Tensor, dim: int, index: Tensor, src=None, *, value=None, reduce=None) -> Tensor:
    if src is None:
        src = value
    d, idx = _scatter_checks(input, dim, index, "scatter")
    if isinstance(src, Tensor):
        if src._data.dtype != input._data.dtype:
            src = src.to(input.dtype)
        return Scatter.apply(input, d, _index_arg(index, idx), src, reduce)
    return _ScatterValue.apply(input, d, _index_arg(index, idx), src, reduce)


class _ScatterValue(Scatter):
    node_name = "ScatterBackward1"


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    d, idx = _scatter_checks(input, dim, index, "scatter_add")
    return ScatterAdd.apply(input, d, _index_arg(index, idx), src)


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    d, idx = _scatter_checks(input, dim, index, "scatter_reduce")
    xp = namespace_of(input._data)
    out = input._data.copy()
    full = _full_index(idx, d)
    ufunc = {"sum": np.add, "prod": np.multiply, "amax": np.maximum, "amin": np.minimum}.get(reduce)
    if reduce == "mean":
        cnt = xp.ones_like(out) if include_self else xp.zeros_like(out)
        if not include_self:
            out[full] = 0
        _add_at(out, full, src._data)
        _add_at(cnt, full, 1)
        return _wrap((out / xp.maximum(cnt, 1)).astype(out.dtype))
    if ufunc is None:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    if not include_self:
        out[full] = {"sum": 0, "prod": 1, "amax": -np.inf, "amin": np.inf}[reduce]
    ufunc.at(out, full, src._data)
    return _wrap(out)


class IndexSelect(Function):
    raw = True
    node_name = "IndexSelectBackward0"

    @staticmethod
    def forward(ctx, x, dim, idx):
        ctx.shape, ctx.dim = x.shape, dim
        ctx.save_for_backward(idx)
        return namespace_of(x).take(x, idx, axis=dim)

    @staticmethod
    def backward(ctx, g):
        (idx,) = ctx.saved_tensors
        if isinstance(g, Tensor):
            from .creation import zeros
            return index_add(zeros(*ctx.shape, dtype=g.dtype, device=g.device), ctx.dim, idx, g), None, None
        xp = namespace_of(g)
        z = xp.zeros(ctx.shape, g.dtype)
        full = (slice(None),) * ctx.dim + (idx,)
        if xp is np:
            np.add.at(z, full, g)
        else:
            _cupy_add_at(xp, z, full, g)
        return z, None, None


def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    idx = _check_index(index, "index_select")
    if idx.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    d = _wrap_dim(dim, input._data.ndim) if input._data.ndim else 0
    n = input._data.shape[d] if input._data.ndim else 1
    if idx.size and (int(idx.max()) >= n or int(idx.min()) < -n):
        raise IndexError("index out of range in self")
    return IndexSelect.apply(input, d, _index_arg(index, idx.reshape(-1)))


class IndexAdd(Function):
    raw = True
    node_name = "IndexAddBackward0"

    @staticmethod
    def forward(ctx, x, dim, idx, src, alpha):
        out = x.copy()
        full = (slice(None),) * dim + (idx,)
        s = src * alpha if alpha != 1 else src
        xp = namespace_of(x)
        if xp is np:
            np.add.at(out, full, s.astype(out.dtype, copy=False))
        else:
            _cupy_add_at(xp, out, full, s)
        ctx.save_for_backward(idx)
        ctx.dim, ctx.alpha = dim, alpha
        return out

    @staticmethod
    def backward(ctx, g):
        (idx,) = ctx.saved_tensors
        need = ctx.needs_input_grad
        gs = None
        if need[3]:
            gs = index_select(g, ctx.dim, idx) if isinstance(g, Tensor) else namespace_of(g).take(g, idx, axis=ctx.dim)
            if ctx.alpha != 1:
                gs = gs * ctx.alpha
        return (g if need[0] else None), None, None, gs, None


def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:
    """``out[..., index[i], ...] += alpha * source[..., i, ...]``; repeated indices accumulate."""
    idx = _check_index(index, "index_add")
    d = _wrap_dim(dim, input._data.ndim)
    return IndexAdd.apply(input, d, _index_arg(index, idx), source, alpha)


def index_copy(input, dim, index, source):
    d = _wrap_dim(dim, input._data.ndim)
    idx = (slice(None),) * d + (_check_index(index, "index_copy"),)
    return _guard_indices(IndexPut.apply(input, idx, source, False), (index,))


def index_fill(input, dim, index, value):
    d = _wrap_dim(dim, input._data.ndim)
    idx = (slice(None),) * d + (_check_index(index, "index_fill"),)
    return _guard_indices(IndexPut.apply(input, idx, value, False), (index,))


def take_along_dim(input, indices, dim=None):
    if dim is None:
        return take(input, indices)
    d = _wrap_dim(dim, input.dim())
    if indices.dim() != input.dim():
        raise RuntimeError(f"torch.take_along_dim(): input and indices should have the same number of dimensions, "
                           f"but got {input.dim()} dimensions for input, and {indices.dim()} dimensions for indices")
    # every dim but ``dim`` broadcasts between input and indices
    xs, js = list(input.shape), list(indices.shape)
    b = list(np.broadcast_shapes(tuple(xs[:d] + [1] + xs[d + 1:]), tuple(js[:d] + [1] + js[d + 1:])))
    xb, jb = b[:d] + [xs[d]] + b[d + 1:], b[:d] + [js[d]] + b[d + 1:]
    if xb != xs:
        input = input.expand(*xb)
    if jb != js:
        indices = indices.expand(*jb)
    # PyTorch gathers with its own copy of the broadcast indices: changing them later is harmless
    return gather(input, d, _wrap(indices._data.copy()))
