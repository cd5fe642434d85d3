"""Elementwise selection between values: ``clamp``/``clip``, ``maximum``/``minimum`` (``fmax``/``fmin``) and
``where``; gradients flow to the operand that was picked."""
from __future__ import annotations

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor, _wrap
from ..autograd.function import Function
from ..backends import namespace_of
from . import _bw as B
from ._bw import sum_to
from .promotion import _binop, _out, _promote, _shape, to_dtype

__all__ = ["clamp", "clip", "clamp_min", "clamp_max", "maximum", "minimum", "fmax", "fmin", "where"]


# --------------------------------------------------------------------------- clamp / max / min
class Clamp(Function):
    raw = True
    node_name = "ClampBackward1"

    @staticmethod
    def forward(ctx, x, lo, hi):
        xp = namespace_of(x)
        y = xp.clip(x, lo, hi) if (lo is not None or hi is not None) else x.copy()
        if y.dtype != x.dtype:
            y = y.astype(x.dtype)
        ctx.save_for_backward(x)
        ctx.lo, ctx.hi = lo, hi
        return y

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        lo, hi = ctx.lo, ctx.hi
        mask = None
        if lo is not None:
            mask = x >= lo
        if hi is not None:
            m2 = x <= hi
            mask = m2 if mask is None else mask & m2
        return (g * mask if mask is not None else g), None, None


class ClampTensor(Function):
    raw = True
    node_name = "ClampBackward0"

    @staticmethod
    def forward(ctx, x, lo, hi):
        xp = namespace_of(x)
        y = x
        if lo is not None:
            y = xp.maximum(y, lo)
        if hi is not None:
            y = xp.minimum(y, hi)
        ctx.save_for_backward(x, lo, hi)
        return y if y is not x else x.copy()

    @staticmethod
    def backward(ctx, g):
        x, lo, hi = ctx.saved_tensors
        need = ctx.needs_input_grad
        inside = None
        glo = ghi = None
        # result = min(max(x, lo), hi): with lo > hi the result (and gradient) is hi's
        if lo is not None:
            inside = x >= lo
            if need[1]:
                pick_lo = (x < lo) if hi is None else (x < lo) & (lo < hi)
                glo = sum_to(g * pick_lo, _shape(lo))
        if hi is not None:
            m2 = x <= hi
            if need[2]:
                pick_hi = (x > hi) if lo is None else (x > hi) | (hi < lo)
                ghi = sum_to(g * pick_hi, _shape(hi))
            inside = m2 if inside is None else inside & m2
        return sum_to(g * inside, _shape(x)) if need[0] else None, glo, ghi


def clamp(input, min=None, max=None, *, out=None):
    """Limit values to ``[min, max]``; the gradient flows where the input is inside."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        return _out(ClampTensor.apply(input, min, max), out)
    if input._data.dtype.kind in "iub" and (isinstance(min, float) or isinstance(max, float)):
        input = to_dtype(input, D.get_default_dtype())
    return _out(Clamp.apply(input, min, max), out)


clip = clamp


def clamp_min(input, min):
    return clamp(input, min=min)


def clamp_max(input, max):
    return clamp(input, max=max)


class _MaxMin(Function):
    raw = True
    is_max = True

    @classmethod
    def forward(cls, ctx, a, b):
        xp = namespace_of(a)
        y = xp.maximum(a, b) if cls.is_max else xp.minimum(a, b)
        ctx.save_for_backward(a, b)
        return y

    @classmethod
    def backward(cls, ctx, g):
        a, b = ctx.saved_tensors
        need = ctx.needs_input_grad
        pick_a = (a > b) if cls.is_max else (a < b)
        tie = a == b
        wa = pick_a + tie * 0.5
        ga = sum_to(g * wa, _shape(a)) if need[0] else None
        gb = sum_to(g * (1 - wa), _shape(b)) if need[1] else None
        return ga, gb


class Maximum(_MaxMin):
    node_name = "MaximumBackward0"
    is_max = True


class Minimum(_MaxMin):
    node_name = "MinimumBackward0"
    is_max = False


def maximum(input, other):
    return _binop(Maximum, input, other)


def minimum(input, other):
    return _binop(Minimum, input, other)


def fmax(input, other):
    return maximum(input, other)


def fmin(input, other):
    return minimum(input, other)


# --------------------------------------------------------------------------- where
class Where(Function):
    raw = True
    node_name = "WhereBackward0"

    @staticmethod
    def forward(ctx, cond, a, b):
        xp = namespace_of(cond)
        ctx.save_for_backward(cond)
        ctx.shapes = (getattr(a, "shape", ()), getattr(b, "shape", ()))
        return xp.where(cond, a, b)

    @staticmethod
    def backward(ctx, g):
        (cond,) = ctx.saved_tensors
        need = ctx.needs_input_grad
        z = g * 0
        ga = sum_to(B.where(cond, g, z), ctx.shapes[0]) if need[1] else None
        gb = sum_to(B.where(cond, z, g), ctx.shapes[1]) if need[2] else None
        return None, ga, gb


def where(condition, input=None, other=None):
    """``where(cond, x, y)`` picks from x where cond, else y; ``where(cond)`` is ``nonzero(as_tuple=True)``."""
    if input is None and other is None:
        from .indexing import nonzero
        return nonzero(condition, as_tuple=True)
    if not isinstance(condition, Tensor):
        from .creation import tensor
        condition = tensor(condition)
    if condition._data.dtype != np.bool_:
        if condition._data.dtype == np.uint8:
            condition = _wrap(condition._data.astype(bool))
        else:
            raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype {condition.dtype}")
    if isinstance(input, Tensor) or isinstance(other, Tensor):
        a, b = _promote(input, other) if not (isinstance(input, Tensor) and isinstance(other, Tensor)) else (input, other)
        if isinstance(a, Tensor) and isinstance(b, Tensor) and a._data.dtype != b._data.dtype:
            rd = D.result_type(a, b)
            a, b = to_dtype(a, rd), to_dtype(b, rd)
    else:
        from .creation import tensor
        rd = D.result_type(input, other)
        a, b = tensor(input, dtype=rd), other
    if not isinstance(a, Tensor):
        a = _wrap(namespace_of(b._data).asarray(a, dtype=b._data.dtype))
    if not isinstance(b, Tensor):
        b = _wrap(namespace_of(a._data).asarray(b, dtype=a._data.dtype))
    return Where.apply(condition, a, b)
