"""Reductions: sum, mean, prod, max/min (with indices), amax/amin, argmax/argmin, std/var,
logsumexp, norm, cumsum/cumprod/cummax, all/any, count_nonzero."""
from __future__ import annotations

import builtins
import math

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor, _wrap, _wrap_dim
from ..amp.autocast_mode import _ACTIVE as _AUTOCAST, cast_float32 as _cast_float32
from ..autograd.function import AccumulateGrad, Function
from ..backends import namespace_of
from . import _bw as B


def _axes(dim, ndim):
    """Normalise ``dim`` (None, int, or sequence) to a sorted tuple of axes, or None for all."""
    if dim is None:
        return None
    if isinstance(dim, (int, np.integer)):
        return (_wrap_dim(int(dim), ndim),)
    dims = tuple(_wrap_dim(int(d), ndim) for d in dim)
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"dim {dims[0]} appears multiple times in the list of dims")
    return tuple(sorted(dims)) if dims else None


def _kept_shape(shape, axes):
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def _pick_dim(dim, axis):
    return axis if dim is None else dim


class Sum(Function):
    raw = True
    node_name = "SumBackward1"

    @staticmethod
    def forward(ctx, x, axes, keepdim, npd):
        ctx.shape = x.shape
        ctx.kept = _kept_shape(x.shape, axes)
        if npd is None and x.dtype.kind == "V":  # bfloat16 accumulates in float32, as PyTorch's does
            return x.sum(axis=axes, keepdims=keepdim, dtype=np.float32).astype(x.dtype)
        return x.sum(axis=axes, keepdims=keepdim, dtype=npd)

    @staticmethod
    def backward(ctx, g):
        return B.broadcast_to(g.reshape(ctx.kept), ctx.shape), None, None, None


class SumAll(Sum):
    node_name = "SumBackward0"


def _acc_dtype(x: Tensor, dtype):
    if dtype is not None:
        return D.to_np(dtype)
    k = x._data.dtype.kind
    if k in "biu":
        return np.dtype(np.int64)
    return None


def sum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None, axis=None, keepdims=None) -> Tensor:
    """Sum over ``dim`` (all elements when None); bool/int inputs sum in int64 like PyTorch."""
    dim = _pick_dim(dim, axis)
    if keepdims is not None:
        keepdim = keepdims
    axes = _axes(dim, input._data.ndim)
    npd = _acc_dtype(input, dtype)
    if axes is None and dim is None:
        r = SumAll.apply(input, None, keepdim, npd)
    else:
        if axes is None:  # dim=() or [] sums everything (PyTorch's legacy rule)
            axes = tuple(range(input._data.ndim)) or None
        r = Sum.apply(input, axes, keepdim, npd)
    return r


def nansum(input, dim=None, keepdim=False, *, dtype=None):
    from .comparison import isnan
    from .elementwise import where
    return sum(where(isnan(input), 0.0, input), dim, keepdim, dtype=dtype)


class Mean(Function):
    raw = True
    node_name = "MeanBackward1"

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.shape = x.shape
        ctx.kept = _kept_shape(x.shape, axes)
        n = x.size if axes is None else math.prod(x.shape[a] for a in axes)
        ctx.n = n
        r = x.mean(axis=axes, keepdims=keepdim, dtype=np.float32 if x.dtype.kind == "V" else None)
        return r.astype(x.dtype, copy=False)  # (bfloat16: accumulated in float32, rounded once)

    @staticmethod
    def backward(ctx, g):
        g = g.reshape(ctx.kept)
        if type(ctx._next[0][0]) is AccumulateGrad and not isinstance(g, Tensor):
            # straight into a leaf: a dense gradient, as PyTorch's (a broadcast would be copied there anyway)
            return B.broadcast_to(g, ctx.shape) / ctx.n, None, None
        return B.broadcast_to(g / ctx.n, ctx.shape), None, None


class MeanAll(Mean):
    node_name = "MeanBackward0"


def mean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None, axis=None, keepdims=None) -> Tensor:
    dim = _pick_dim(dim, axis)
    if keepdims is not None:
        keepdim = keepdims
    if dtype is not None:
        input = input.to(dtype)
    if input._data.dtype.kind not in "fcV":  # V: bfloat16
        raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either a floating point or "
                           f"complex dtype. Got: {input.dtype.name.capitalize()}")
    axes = _axes(dim, input._data.ndim)
    if dim is None:
        return MeanAll.apply(input, None, keepdim)
    if axes is None:
        axes = tuple(range(input._data.ndim)) or None
    return Mean.apply(input, axes, keepdim)


def nanmean(input, dim=None, keepdim=False):
    from .comparison import isnan, logical_not
    keep = logical_not(isnan(input))
    return nansum(input, dim, keepdim) / sum(keep, dim, keepdim)


class Prod(Function):
    raw = True
    node_name = "ProdBackward1"

    @staticmethod
    def forward(ctx, x, axis, keepdim, npd):
        y = x.prod(axis=axis, keepdims=keepdim, dtype=npd)
        ctx.save_for_backward(x)
        ctx.axis, ctx.keepdim = axis, keepdim
        return y

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        axis = ctx.axis
        if axis is None:
            flat = x.reshape(-1)
            gk = g.reshape((1,))
            ax = 0
            shape_k = (1,)
        else:
            flat = x
            ax = axis
            shape_k = _kept_shape(x.shape, (axis,))
            gk = g.reshape(shape_k)
        # product of all other elements, exact with zeros: exclusive cumprods from both sides
        if isinstance(flat, Tensor):
            ones = flat.narrow(ax, 0, 1) * 0 + 1
            from .join import cat
            left = cat([ones, cumprod(flat, ax).narrow(ax, 0, flat.shape[ax] - 1)], ax)
            rev = flat.flip(ax)
            right = cat([ones, cumprod(rev, ax).narrow(ax, 0, flat.shape[ax] - 1)], ax).flip(ax)
        else:
            xp = namespace_of(flat)
            ones = xp.ones(_kept_shape(flat.shape, (ax,)), flat.dtype)
            left = xp.concatenate([ones, xp.cumprod(flat, axis=ax).take(range(flat.shape[ax] - 1), axis=ax)], axis=ax)
            rev = xp.flip(flat, ax)
            right = xp.flip(xp.concatenate([ones, xp.cumprod(rev, axis=ax).take(range(flat.shape[ax] - 1), axis=ax)], axis=ax), ax)
        gx = gk * left * right
        return gx.reshape(x.shape), None, None, None


class ProdAll(Prod):
    node_name = "ProdBackward0"


def prod(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    if _AUTOCAST[0]:
        input, = _cast_float32(input)
    npd = _acc_dtype(input, dtype)
    if dim is None:
        return ProdAll.apply(input, None, False, npd)
    return Prod.apply(input, _wrap_dim(dim, input._data.ndim), keepdim, npd)


# --------------------------------------------------------------------------- max / min
class MaxAll(Function):
    """Max over all elements: the gradient is split evenly among tied maxima."""

    raw = True
    node_name = "MaxBackward1"
    is_max = True

    @classmethod
    def forward(cls, ctx, x):
        y = x.max() if cls.is_max else x.min()
        y = namespace_of(x).asarray(y)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        mask = x == y
        return g * mask / mask.sum()


class MinAll(MaxAll):
    node_name = "MinBackward1"
    is_max = False


class AmaxDim(Function):
    """amax/amin over dims: ties share the gradient evenly."""

    raw = True
    node_name = "AmaxBackward0"
    is_max = True

    @classmethod
    def forward(cls, ctx, x, axes, keepdim):
        y = x.max(axis=axes, keepdims=True) if cls.is_max else x.min(axis=axes, keepdims=True)
        ctx.save_for_backward(x, y)
        ctx.axes = axes
        ctx.kept = y.shape
        return y if keepdim else y.reshape(tuple(s for i, s in enumerate(x.shape) if i not in axes))

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        mask = x == y
        cnt = mask.sum(axis=ctx.axes, keepdims=True)
        return g.reshape(ctx.kept) * mask / cnt, None, None


class AminDim(AmaxDim):
    node_name = "AminBackward0"
    is_max = False


class MaxDim(Function):
    """``max(dim)``: values and indices; the gradient goes to the returned index only."""

    raw = True
    node_name = "MaxBackward0"
    is_max = True

    @classmethod
    def forward(cls, ctx, x, dim, keepdim):
        xp = namespace_of(x)
        if x.dtype.kind == "f":
            # NaN wins like PyTorch: argmax treats NaN as the maximum already
            idx = xp.argmax(x, axis=dim) if cls.is_max else xp.argmin(x, axis=dim)
        else:
            idx = xp.argmax(x, axis=dim) if cls.is_max else xp.argmin(x, axis=dim)
        idx_k = xp.expand_dims(idx, dim)
        vals = xp.take_along_axis(x, idx_k, axis=dim)
        ctx.shape, ctx.dim = x.shape, dim
        ctx.save_for_backward(idx_k)
        if not keepdim:
            vals = vals.squeeze(dim)
        else:
            idx = idx_k
        idx = idx.astype(np.int64, copy=False)
        ctx.mark_non_differentiable(idx)
        return vals, idx

    @staticmethod
    def backward(ctx, g, _gi):
        (idx_k,) = ctx.saved_tensors
        if g.ndim != len(ctx.shape):
            g = g.reshape(idx_k.shape)
        if isinstance(g, Tensor):
            from .creation import zeros
            z = zeros(*ctx.shape, dtype=g.dtype, device=g.device)
            from .scatter_gather import scatter
            return scatter(z, ctx.dim, idx_k, g), None, None
        xp = namespace_of(g)
        z = xp.zeros(ctx.shape, dtype=g.dtype)
        xp.put_along_axis(z, idx_k, g, axis=ctx.dim)
        return z, None, None


class MinDim(MaxDim):
    node_name = "MinBackward0"
    is_max = False


def _values_indices(vals, idx, name):
    from .. import return_types
    return getattr(return_types, name)(vals, idx)


def _check_nonempty(input, name, dim=None):
    if input._data.size == 0 and (dim is None or input._data.shape[dim] == 0):
        raise (RuntimeError if dim is None else IndexError)(f"{name}(): Expected reduction dim to be specified for input.numel() == 0. Specify the "
                         "reduction dim with the 'dim' argument." if dim is None else
                         f"{name}(): Expected reduction dim {dim} to have non-zero size.")


def max(input: Tensor, dim=None, keepdim: bool = False, *, out=None):
    """``max()`` over everything, ``max(dim)`` -> (values, indices), or ``max(other)`` elementwise."""
    if isinstance(dim, Tensor):
        from .elementwise import maximum
        return maximum(input, dim)
    if dim is None:
        _check_nonempty(input, "max")
        return MaxAll.apply(input)
    d = _wrap_dim(dim, input._data.ndim)
    _check_nonempty(input, "max", d)
    v, i = MaxDim.apply(input, d, keepdim)
    return _values_indices(v, i, "max")


def min(input: Tensor, dim=None, keepdim: bool = False, *, out=None):
    if isinstance(dim, Tensor):
        from .elementwise import minimum
        return minimum(input, dim)
    if dim is None:
        _check_nonempty(input, "min")
        return MinAll.apply(input)
    d = _wrap_dim(dim, input._data.ndim)
    _check_nonempty(input, "min", d)
    v, i = MinDim.apply(input, d, keepdim)
    return _values_indices(v, i, "min")


def amax(input: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    axes = _axes(dim, input._data.ndim) if dim != () else tuple(range(input._data.ndim))
    return AmaxDim.apply(input, axes, keepdim)


def amin(input: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    axes = _axes(dim, input._data.ndim) if dim != () else tuple(range(input._data.ndim))
    return AminDim.apply(input, axes, keepdim)


def aminmax(input, *, dim=None, keepdim=False):
    from .. import return_types
    if dim is None:
        return return_types.aminmax(amin(input), amax(input))
    return return_types.aminmax(amin(input, dim, keepdim), amax(input, dim, keepdim))


def argmax(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    xp = namespace_of(input._data)
    if dim is None:
        r = xp.asarray(xp.argmax(input._data.reshape(-1)))
        if keepdim:
            r = r.reshape((1,) * input._data.ndim)
        return _wrap(r.astype(np.int64))
    d = _wrap_dim(dim, input._data.ndim)
    r = xp.argmax(input._data, axis=d)
    if keepdim:
        r = xp.expand_dims(r, d)
    return _wrap(xp.asarray(r).astype(np.int64))


def argmin(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    xp = namespace_of(input._data)
    if dim is None:
        r = xp.asarray(xp.argmin(input._data.reshape(-1)))
        if keepdim:
            r = r.reshape((1,) * input._data.ndim)
        return _wrap(r.astype(np.int64))
    d = _wrap_dim(dim, input._data.ndim)
    r = xp.argmin(input._data, axis=d)
    if keepdim:
        r = xp.expand_dims(r, d)
    return _wrap(xp.asarray(r).astype(np.int64))


# --------------------------------------------------------------------------- var / std
class Var(Function):
    raw = True
    node_name = "VarBackward0"

    @staticmethod
    def forward(ctx, x, axes, correction, keepdim):
        n = x.size if axes is None else math.prod(x.shape[a] for a in axes)
        ctx.denom = np.float64(builtins.max(n - correction, 0))  # 0 gives inf, as in PyTorch
        ctx.kept = _kept_shape(x.shape, axes)
        ctx.save_for_backward(x)
        ctx.axes = axes
        r = x.var(axis=axes, ddof=correction, keepdims=keepdim)
        return namespace_of(x).asarray(r).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        mu = x.mean(axis=ctx.axes, keepdims=True) if not isinstance(x, Tensor) else mean(x, ctx.axes, True)
        return g.reshape(ctx.kept) * (2.0 / ctx.denom) * (x - mu), None, None, None


class Std(Function):
    raw = True
    node_name = "StdBackward0"

    @staticmethod
    def forward(ctx, x, axes, correction, keepdim):
        n = x.size if axes is None else math.prod(x.shape[a] for a in axes)
        ctx.denom = np.float64(builtins.max(n - correction, 0))  # 0 gives inf, as in PyTorch
        ctx.kept = _kept_shape(x.shape, axes)
        ctx.axes = axes
        r = namespace_of(x).asarray(x.std(axis=axes, ddof=correction, keepdims=True)).astype(x.dtype, copy=False)
        out = r if keepdim else r.reshape(tuple(s for i, s in enumerate(x.shape) if axes is not None and i not in axes))
        ctx.save_for_backward(x, out)  # the output itself, so double backward sees its graph
        return out

    @staticmethod
    def backward(ctx, g):
        x, s = ctx.saved_tensors
        s = s.reshape(ctx.kept)
        mu = x.mean(axis=ctx.axes, keepdims=True) if not isinstance(x, Tensor) else mean(x, ctx.axes, True)
        return g.reshape(ctx.kept) * (x - mu) / (s * ctx.denom), None, None, None


def _correction(unbiased, correction):
    if correction is not None:
        return correction
    if unbiased is None:
        return 1
    return 1 if unbiased else 0


def _var_args(dim, unbiased, correction):
    # var(dim_or_unbiased) accepts a bool as the second positional argument
    if isinstance(dim, bool):
        unbiased, dim = dim, None
    return dim, _correction(unbiased, correction)


def var(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None) -> Tensor:
    dim, c = _var_args(dim, unbiased, correction)
    return Var.apply(input, _axes(dim, input._data.ndim), c, keepdim)


def std(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None) -> Tensor:
    dim, c = _var_args(dim, unbiased, correction)
    return Std.apply(input, _axes(dim, input._data.ndim), c, keepdim)


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return var(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return std(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim)


# --------------------------------------------------------------------------- logsumexp / norm
class LogSumExp(Function):
    raw = True
    node_name = "LogsumexpBackward0"

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        xp = namespace_of(x)
        m = x.max(axis=axes, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0)
        r = xp.log(xp.exp(x - m).sum(axis=axes, keepdims=True)) + m
        ctx.kept = r.shape
        out = r if keepdim else r.reshape(tuple(s for i, s in enumerate(x.shape) if i not in axes))
        ctx.save_for_backward(x, out)  # the output itself, so double backward sees its graph
        return out

    @staticmethod
    def backward(ctx, g):
        x, r = ctx.saved_tensors
        return g.reshape(ctx.kept) * B.exp(x - r.reshape(ctx.kept)), None, None


def logsumexp(input: Tensor, dim, keepdim: bool = False) -> Tensor:
    if input._data.dtype.kind not in "fcV":  # V: bfloat16
        input = input.to(D.get_default_dtype())
    axes = _axes(dim, input._data.ndim) or tuple(range(input._data.ndim))
    return LogSumExp.apply(input, axes, keepdim)


def norm(input: Tensor, p="fro", dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """Vector p-norm over ``dim`` (all elements by default); 'fro' is the 2-norm."""
    if p == "fro" and dim is not None and not isinstance(dim, int) and len(dim) > 2:
        dims = " ".join(str(d) for d in dim)
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {dims}")
    if p == "fro" or p is None:
        p = 2
    if p == "nuc":
        raise NotImplementedError("nuclear norm is not supported by Ember")
    from ..linalg import vector_norm
    return vector_norm(input, p, dim, keepdim, dtype=dtype)


# --------------------------------------------------------------------------- cumulative
class Cumsum(Function):
    raw = True
    node_name = "CumsumBackward0"

    @staticmethod
    def forward(ctx, x, dim, npd):
        ctx.dim = dim
        return namespace_of(x).cumsum(x, axis=dim, dtype=npd)

    @staticmethod
    def backward(ctx, g):
        d = ctx.dim
        if isinstance(g, Tensor):
            return cumsum(g.flip(d), d).flip(d), None, None
        xp = namespace_of(g)
        return xp.flip(xp.cumsum(xp.flip(g, d), axis=d), d), None, None


def cumsum(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    return Cumsum.apply(input, _wrap_dim(dim, input._data.ndim), _acc_dtype(input, dtype))


class Cumprod(Function):
    raw = True
    node_name = "CumprodBackward0"

    @staticmethod
    def forward(ctx, x, dim, npd):
        y = namespace_of(x).cumprod(x, axis=dim, dtype=npd)
        ctx.dim = dim
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        d = ctx.dim
        # d y_j / d x_i = y_j / x_i for j >= i, when no x is zero
        xa = x._data if isinstance(x, Tensor) else x
        zero = xa == 0
        if not zero.any():
            return _rev_cumsum(g * y, d) / x, None, None
        # With zeros, per line: before the first zero the formula above holds; at the first zero
        # the gradient is the reverse cumsum of g * cumprod(x with that zero set to 1); after it, 0.
        xp = namespace_of(xa)
        nz = xp.cumsum(zero, axis=d)
        before = nz == 0
        first = zero & (nz == 1)
        x_safe = B.where(before, x, 1.0)
        x_one = B.where(first, 1.0, x)
        y_one = cumprod(x_one, d) if isinstance(x_one, Tensor) else xp.cumprod(x_one, axis=d)
        g_before = _rev_cumsum(g * y, d) / x_safe
        g_first = _rev_cumsum(g * y_one, d)
        return B.where(before, g_before, B.where(first, g_first, 0.0 * g)), None, None


def _rev_cumsum(t, d):
    """Sum from the end along ``d`` (arrays or Tensors)."""
    if isinstance(t, Tensor):
        return cumsum(t.flip(d), d).flip(d)
    xp = namespace_of(t)
    return xp.flip(xp.cumsum(xp.flip(t, d), axis=d), d)


def cumprod(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    return Cumprod.apply(input, _wrap_dim(dim, input._data.ndim), _acc_dtype(input, dtype))


def cummax(input, dim):
    from .. import return_types
    xp = namespace_of(input._data)
    d = _wrap_dim(dim, input._data.ndim)
    vals = xp.maximum.accumulate(input._data, axis=d)
    n = input._data.shape[d]
    ar = xp.arange(n).reshape([-1 if i == d else 1 for i in range(input._data.ndim)])
    idx = xp.maximum.accumulate(xp.where(input._data == vals, ar, 0), axis=d)
    from .scatter_gather import gather
    return return_types.cummax(gather(input, d, _wrap(idx.astype(np.int64))), _wrap(idx.astype(np.int64)))


def all(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    xp = namespace_of(input._data)
    axes = _axes(dim, input._data.ndim) if dim is not None else None
    return _wrap(xp.asarray(xp.all(input._data, axis=axes, keepdims=keepdim)))


def any(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    xp = namespace_of(input._data)
    axes = _axes(dim, input._data.ndim) if dim is not None else None
    return _wrap(xp.asarray(xp.any(input._data, axis=axes, keepdims=keepdim)))


def count_nonzero(input, dim=None):
    xp = namespace_of(input._data)
    axes = _axes(dim, input._data.ndim) if dim is not None else None
    return _wrap(xp.asarray(xp.count_nonzero(input._data, axis=axes)).astype(np.int64))
