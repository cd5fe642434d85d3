"""The softmax family: softmax, softmin and log_softmax.

Each is one primitive that saves only its output; on a device that compiles kernels, softmax and
log-softmax over the last dim run as one row kernel each way."""
from __future__ import annotations

import warnings

import numpy as np

from ..._tensor import Tensor, _wrap_dim
from ...autograd.function import Function
from ...backends import namespace_of
from ...backends.kernels import Kernel, rows_fit, same_float
from ...ops import unary as U
from ._activation_utils import _is_t

__all__ = ["softmax", "softmin", "log_softmax"]


# --------------------------------------------------------------------------- softmax family
def _sum_keep(x, dim):
    if _is_t(x):
        return x.sum(dim, keepdim=True)
    return x.sum(axis=dim, keepdims=True)


# On a device, softmax and log-softmax over the last dim run as one kernel each way (one thread per row,
# sums in double) instead of ~5 array calls. The row maximum propagates NaN like NumPy's max.
_ROW_MAX = """
    long long o = (long long)i * D;
    T m = x[o];
    for (long long j = 1; j < D; ++j) { T v = x[o + j]; if (v > m || v != v) m = v; }
    double s = 0;
    for (long long j = 0; j < D; ++j) s += (double)exp(x[o + j] - m);
"""
_SOFTMAX_FWD = Kernel("raw T x, int64 D", "raw T y", _ROW_MAX + """
    for (long long j = 0; j < D; ++j) y[o + j] = exp(x[o + j] - m) / (T)s;
    """, "ember_softmax_fwd")
_LOG_SOFTMAX_FWD = Kernel("raw T x, int64 D", "raw T y", _ROW_MAX + """
    T ls = log((T)s);
    for (long long j = 0; j < D; ++j) y[o + j] = (x[o + j] - m) - ls;
    """, "ember_log_softmax_fwd")
_SOFTMAX_BWD = Kernel("raw T g, raw T y, int64 D", "raw T gx", """
    long long o = (long long)i * D;
    double s = 0;
    for (long long j = 0; j < D; ++j) s += (double)(g[o + j] * y[o + j]);
    for (long long j = 0; j < D; ++j) gx[o + j] = g[o + j] * y[o + j] - y[o + j] * (T)s;
    """, "ember_softmax_bwd")
_LOG_SOFTMAX_BWD = Kernel("raw T g, raw T y, int64 D", "raw T gx", """
    long long o = (long long)i * D;
    double s = 0;
    for (long long j = 0; j < D; ++j) s += (double)g[o + j];
    for (long long j = 0; j < D; ++j) gx[o + j] = g[o + j] - exp(y[o + j]) * (T)s;
    """, "ember_log_softmax_bwd")


def _row_kernel(k, dim, *arrays):
    """Run row kernel ``k`` over the last dim of ``arrays`` (the last one is the output) when it fits, and
    return the output; None when the array path must run instead."""
    x = arrays[0]
    if dim != x.ndim - 1 or not (rows_fit(x, x.shape[-1]) and same_float(x, *arrays[1:])):
        return None
    xp = namespace_of(x)
    kern = k.on(xp, x.dtype)
    if kern is None:
        return None
    out = xp.empty_like(x)
    kern(*arrays, x.shape[-1], out, size=x.size // x.shape[-1])
    return out


class Softmax(Function):
    """``exp(x - max) / sum(exp(x - max))`` along ``dim``; saves only the output."""

    raw = True
    node_name = "SoftmaxBackward0"

    @staticmethod
    def forward(ctx, x, dim):
        y = None if type(x) is np.ndarray else _row_kernel(_SOFTMAX_FWD, dim, x)
        if y is None:
            xp = namespace_of(x)
            y = x - x.max(axis=dim, keepdims=True)
            xp.exp(y, out=y)
            y /= y.sum(axis=dim, keepdims=True)
        ctx.save_for_backward(y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        if not _is_t(g) and type(g) is not np.ndarray:
            gx = _row_kernel(_SOFTMAX_BWD, ctx.dim, g, y)
            if gx is not None:
                return gx, None
        gy = g * y
        if _is_t(gy):
            return gy - y * _sum_keep(gy, ctx.dim), None
        gy -= y * gy.sum(axis=ctx.dim, keepdims=True)
        return gy, None


class LogSoftmax(Function):
    """``x - max - log(sum(exp(x - max)))`` along ``dim``; saves only the output."""

    raw = True
    node_name = "LogSoftmaxBackward0"

    @staticmethod
    def forward(ctx, x, dim):
        y = None if type(x) is np.ndarray else _row_kernel(_LOG_SOFTMAX_FWD, dim, x)
        if y is None:
            xp = namespace_of(x)
            y = x - x.max(axis=dim, keepdims=True)
            y -= xp.log(xp.exp(y).sum(axis=dim, keepdims=True))
        ctx.save_for_backward(y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        if _is_t(g):
            return g - U.exp(y) * _sum_keep(g, ctx.dim), None
        if type(g) is not np.ndarray:
            gx = _row_kernel(_LOG_SOFTMAX_BWD, ctx.dim, g, y)
            if gx is not None:
                return gx, None
        xp = namespace_of(y)
        gx = xp.exp(y)
        gx *= g.sum(axis=ctx.dim, keepdims=True)
        return g - gx, None


def _softmax_dim(name, ndim):
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include "
                  "dim=X as an argument.", stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


def _softmax_apply(fn, name, input, dim, dtype):
    if dim is None:
        dim = _softmax_dim(name, input.dim())
    if dtype is not None:
        input = input.to(dtype)
    if input._data.dtype.kind not in "fcV":  # V: bfloat16
        raise RuntimeError(f'"{name}_lastdim_kernel_impl" not implemented for '
                           f"'{input.dtype.name.capitalize()}'")
    if input.dim() == 0:
        return fn.apply(input.reshape(1), 0).reshape(())
    return fn.apply(input, _wrap_dim(dim, input.dim()))


def softmax(input: Tensor, dim=None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """Softmax along ``dim`` (numerically stable); ``dtype`` casts the input first."""
    return _softmax_apply(Softmax, "softmax", input, dim, dtype)


def softmin(input: Tensor, dim=None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """``softmax(-x)`` along ``dim``."""
    if dim is None:
        dim = _softmax_dim("softmin", input.dim())
    if dtype is not None:
        input = input.to(dtype)
    return _softmax_apply(Softmax, "softmax", -input, dim, None)


def log_softmax(input: Tensor, dim=None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """``log(softmax(x))`` along ``dim``, computed stably (no log of 0 for large logits)."""
    return _softmax_apply(LogSoftmax, "log_softmax", input, dim, dtype)
