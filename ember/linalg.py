"""``ember.linalg``: vector and matrix norms, inverse, determinant, solve (differentiable)."""
from __future__ import annotations

import numpy as np

from . import _dtype as D
from ._tensor import Tensor, _wrap_dim
from .autograd.function import Function
from .backends import namespace_of
from .ops import _bw as B
from .ops.reduction import _axes, _kept_shape


class VectorNorm(Function):
    raw = True
    node_name = "LinalgVectorNormBackward0"

    @staticmethod
    def forward(ctx, x, ord, axes, keepdim):
        xp = namespace_of(x)
        ax = xp.abs(x)
        if ord == float("inf"):
            r = ax.max(axis=axes, keepdims=True)
        elif ord == -float("inf"):
            r = ax.min(axis=axes, keepdims=True)
        elif ord == 0:
            r = (ax != 0).sum(axis=axes, keepdims=True).astype(x.dtype)
        elif ord == 1:
            r = ax.sum(axis=axes, keepdims=True)
        elif ord == 2:
            r = xp.sqrt((x * x).sum(axis=axes, keepdims=True))
        else:
            r = (ax ** ord).sum(axis=axes, keepdims=True) ** (1.0 / ord)
        r = r.astype(x.dtype, copy=False)
        ctx.ord, ctx.axes = ord, axes
        ctx.kept = r.shape
        out = r if keepdim else r.reshape(tuple(s for i, s in enumerate(x.shape) if axes is not None and i not in axes))
        ctx.save_for_backward(x, out)  # the output itself, so double backward sees its graph
        return out

    @staticmethod
    def backward(ctx, g):
        x, r = ctx.saved_tensors
        r = r.reshape(ctx.kept)
        g = g.reshape(ctx.kept)
        p = ctx.ord
        if p == 2:
            safe = B.where(r == 0, 1, r) if not isinstance(r, Tensor) else B.where(r == 0, r * 0 + 1, r)
            return g * x / safe * (r != 0), None, None, None
        if p == 1:
            return g * B.sign(x), None, None, None
        if p in (float("inf"), -float("inf")):
            mask = B.abs(x) == r
            cnt = mask.sum(axis=ctx.axes, keepdims=True)
            return g * B.sign(x) * mask / cnt, None, None, None
        if p == 0:
            return g * 0 * x, None, None, None
        ax = B.abs(x)
        return g * B.sign(x) * ax ** (p - 1) / B.where(r == 0, 1, r) ** (p - 1), None, None, None


def vector_norm(x: Tensor, ord=2, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """p-norm of ``x`` over ``dim`` (all elements when None); differentiable (0 at the origin for p=2)."""
    if dtype is not None:
        x = x.to(dtype)
    if x._data.dtype.kind not in "fc":
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got {x.dtype.name.capitalize()}")
    axes = _axes(dim, x._data.ndim)
    if axes is None:
        axes = tuple(range(x._data.ndim)) or None
    return VectorNorm.apply(x, float(ord), axes, keepdim)


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    if ord is None or (isinstance(dim, int) or (dim is None and A.dim() == 1)):
        return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)
    if ord == "fro":
        return vector_norm(A, 2, dim if dim is not None else (-2, -1), keepdim, dtype=dtype)
    return matrix_norm(A, ord, dim if dim is not None else (-2, -1), keepdim)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False):
    if ord == "fro":
        return vector_norm(A, 2, dim, keepdim)
    d0, d1 = (_wrap_dim(d, A.dim()) for d in dim)
    if ord in (1, -1):
        s = A.abs().sum(d0, keepdim=True)
        r = s.amax(d1, keepdim=True) if ord == 1 else s.amin(d1, keepdim=True)
    elif ord in (float("inf"), -float("inf")):
        s = A.abs().sum(d1, keepdim=True)
        r = s.amax(d0, keepdim=True) if ord > 0 else s.amin(d0, keepdim=True)
    else:
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    return r if keepdim else r.squeeze(max(d0, d1)).squeeze(min(d0, d1))


class Inv(Function):
    raw = True
    node_name = "LinalgInvExBackward0"

    @staticmethod
    def forward(ctx, a):
        xp = namespace_of(a)
        try:
            y = xp.linalg.inv(a)
        except np.linalg.LinAlgError:
            raise RuntimeError("linalg.inv: The diagonal element 1 is zero, the inversion could not be completed "
                               "because the input matrix is singular.") from None
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        yt = B.swap_last(y)
        return -(yt @ g @ yt)


def inv(A: Tensor) -> Tensor:
    return Inv.apply(A)


class Det(Function):
    raw = True
    node_name = "LinalgDetBackward0"

    @staticmethod
    def forward(ctx, a):
        xp = namespace_of(a)
        d = xp.asarray(xp.linalg.det(a)).astype(a.dtype)
        ctx.save_for_backward(a, d)
        return d

    @staticmethod
    def backward(ctx, g):
        a, d = ctx.saved_tensors
        if isinstance(a, Tensor):
            ainv_t = inv(a).transpose(-2, -1)
        else:
            ainv_t = namespace_of(a).linalg.inv(a).swapaxes(-1, -2)
        gd = (g * d).reshape(tuple(d.shape) + (1, 1))
        return gd * ainv_t


def det(A: Tensor) -> Tensor:
    return Det.apply(A)


def solve(A: Tensor, B_: Tensor, *, left: bool = True) -> Tensor:
    if not left:
        return (inv(A.transpose(-2, -1)) @ B_.transpose(-2, -1)).transpose(-2, -1)
    return inv(A) @ B_


def slogdet(A):
    d = det(A)
    return d.sign(), d.abs().log()


def cross(a, b, dim=-1):
    d = _wrap_dim(dim, a.dim())
    i0 = [slice(None)] * a.dim()

    def comp(t, k):
        idx = list(i0)
        idx[d] = k
        return t[tuple(idx)]
    from .ops.shape import stack
    return stack([comp(a, 1) * comp(b, 2) - comp(a, 2) * comp(b, 1),
                  comp(a, 2) * comp(b, 0) - comp(a, 0) * comp(b, 2),
                  comp(a, 0) * comp(b, 1) - comp(a, 1) * comp(b, 0)], d)


def matmul(a, b):
    return a @ b


del D, _kept_shape
