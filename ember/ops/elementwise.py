"""Elementwise arithmetic with broadcasting and PyTorch's type promotion: ``add``/``sub``/``mul``/``div``,
``pow``, ``neg``, ``floor_divide``/``remainder``/``fmod``, ``lerp``/``addc*``, ``atan2``, ``nan_to_num``.

Operand plumbing (dtype casts, promotion, broadcast errors, ``out=``) lives in ``promotion.py``; ``clamp``,
``maximum``/``minimum`` and ``where`` in ``selection.py``; fill/copy/clone/conj in ``copying.py``. Their names
are re-exported here, the import location the rest of Ember (and older code) uses.
(Unary math: ``unary.py``; comparisons and logic: ``comparison.py``; in-place writes: ``inplace.py``.)"""
from __future__ import annotations

import math

import numpy as np

from .._tensor import Tensor
from ..autograd.function import Function
from ..backends import namespace_of
from . import _bw as B
from ._bw import sum_to
from .copying import Clone, Conj, CopyFrom, Fill, Zero, clone, conj, imag, real  # noqa: F401 (re-exported)
from .promotion import (_SCALARS, ToCopy, _apply2, _as_tensor_operand, _binop, _either_float,  # noqa: F401
                        _float_operands, _out, _promote, _raise_broadcast, _resize_into, _shape, broadcast_error,
                        to_dtype)
from .selection import (Clamp, ClampTensor, Maximum, Minimum, Where, _MaxMin, clamp, clamp_max,  # noqa: F401
                        clamp_min, clip, fmax, fmin, maximum, minimum, where)

# the public names defined here (``ember.add`` ...); the re-exported ones are public in their own modules
__all__ = ["add", "sub", "subtract", "rsub", "mul", "multiply", "div", "divide", "true_divide", "pow", "square",
           "neg", "negative", "floor_divide", "remainder", "fmod", "lerp", "addcmul", "addcdiv", "atan2", "arctan2",
           "nan_to_num"]


# --------------------------------------------------------------------------- arithmetic
class Add(Function):
    raw = True
    node_name = "AddBackward0"

    @staticmethod
    def forward(ctx, a, b):
        if ctx.needs_input_grad:  # recording (no graph, no shapes to keep)
            ctx.shapes = (getattr(a, "shape", ()), getattr(b, "shape", ()))
        return a + b

    @staticmethod
    def backward(ctx, g):
        sa, sb = ctx.shapes
        need = ctx.needs_input_grad
        return (sum_to(g, sa) if need[0] else None), (sum_to(g, sb) if need[1] else None)


class Sub(Function):
    raw = True
    node_name = "SubBackward0"

    @staticmethod
    def forward(ctx, a, b):
        if ctx.needs_input_grad:  # recording (no graph, no shapes to keep)
            ctx.shapes = (getattr(a, "shape", ()), getattr(b, "shape", ()))
        return a - b

    @staticmethod
    def backward(ctx, g):
        sa, sb = ctx.shapes
        need = ctx.needs_input_grad
        return (sum_to(g, sa) if need[0] else None), (sum_to(-g, sb) if need[1] else None)


class Rsub(Function):
    """``scalar - tensor``."""

    raw = True
    node_name = "RsubBackward1"

    @staticmethod
    def forward(ctx, a, s):
        return s - a

    @staticmethod
    def backward(ctx, g):
        return -g, None


class Mul(Function):
    raw = True
    node_name = "MulBackward0"

    @staticmethod
    def forward(ctx, a, b):
        need = ctx.needs_input_grad
        if need:  # save only what the wanted gradients use (an in-place mul_ then need not copy)
            ctx.save_for_backward(a if need[1] else None, b if need[0] else None)
            ctx.shapes = (getattr(a, "shape", ()), getattr(b, "shape", ()))
        return a * b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need = ctx.needs_input_grad
        sa, sb = ctx.shapes
        ga = sum_to(g * _cj(b), sa) if need[0] else None  # complex: times the conjugate, as PyTorch
        gb = sum_to(g * _cj(a), sb) if need[1] else None
        return ga, gb


def _is_complex(x):
    return getattr(x, "dtype", None) is not None and getattr(x.dtype, "kind", "") == "c"


def _cj(x):
    """Complex conjugate of an array, Tensor or Python scalar (real values unchanged)."""
    if isinstance(x, complex):
        return x.conjugate()
    return B.conj(x) if _is_complex(x) else x


class Div(Function):
    raw = True
    node_name = "DivBackward0"

    @staticmethod
    def forward(ctx, a, b):
        need = ctx.needs_input_grad
        if need:  # the numerator's gradient needs only b
            ctx.save_for_backward(a if need[1] else None, b)
            ctx.shapes = (getattr(a, "shape", ()), ())
        return a / b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need = ctx.needs_input_grad
        if _is_complex(b) or isinstance(b, complex) or _is_complex(a):  # complex: conj of the derivative
            ga = sum_to(g / _cj(b), ctx.shapes[0]) if need[0] else None
            gb = sum_to(-g * _cj(a / (b * b)), _shape(b)) if need[1] else None
            return ga, gb
        ga = sum_to(g / b, ctx.shapes[0]) if need[0] else None
        gb = sum_to(-g * a / (b * b), _shape(b)) if need[1] else None
        return ga, gb


class Neg(Function):
    raw = True
    node_name = "NegBackward0"

    @staticmethod
    def forward(ctx, a):
        return -a

    @staticmethod
    def backward(ctx, g):
        return -g


class PowScalar(Function):
    """``tensor ** number``."""

    raw = True
    node_name = "PowBackward0"

    @staticmethod
    def forward(ctx, a, e):
        ctx.save_for_backward(a)
        ctx.e = e
        if e == 2:
            return a * a
        if e == 0.5:
            return namespace_of(a).sqrt(a)
        return a ** e

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        e = ctx.e
        if e == 0:
            return g * 0, None
        if e == 2:
            return g * (a * 2.0) if _is_float(a) else g * a * 2, None
        return g * (e * a ** (e - 1)), None


def _is_float(x):
    return getattr(getattr(x, "dtype", None), "kind", None) == "f" or (isinstance(x, Tensor) and x.is_floating_point())


class PowTensor(Function):
    """``tensor ** tensor``."""

    raw = True
    node_name = "PowBackward1"

    @staticmethod
    def forward(ctx, a, b):
        y = a ** b
        ctx.save_for_backward(a, b, y)
        return y

    @staticmethod
    def backward(ctx, g):
        a, b, y = ctx.saved_tensors
        need = ctx.needs_input_grad
        ga = sum_to(g * b * a ** (b - 1), _shape(a)) if need[0] else None
        gb = None
        if need[1]:
            safe = B.where(a > 0, a, 1)
            gb = sum_to(B.where(a > 0, g * y * B.log(safe), 0 * g), _shape(b))
        return ga, gb


class RPow(Function):
    """``number ** tensor``."""

    raw = True
    node_name = "PowBackward2"

    @staticmethod
    def forward(ctx, s, b):
        y = namespace_of(b).asarray(s ** b) if not hasattr(s ** b, "shape") else s ** b
        ctx.save_for_backward(y)
        ctx.logs = math.log(s) if s > 0 else float("nan")
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return None, g * y * ctx.logs


def _check_not_bool_sub(a, b):
    for v in (a, b):
        if v is True or v is False or (isinstance(v, Tensor) and v._data.dtype.kind == "b"):
            raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
                               "trying to invert a mask, use the `~` or `logical_not()` operator instead.")


def add(input, other, *, alpha=1, out=None):
    """``input + alpha * other`` with broadcasting."""
    if alpha != 1:
        other = mul(other, alpha)
    r = _binop(Add, input, other)
    return r if out is None else _out(r, out)


def sub(input, other, *, alpha=1, out=None):
    if not (type(other) is Tensor and type(input) is Tensor and input._data.dtype is other._data.dtype
            and input._data.dtype.kind != "b"):
        _check_not_bool_sub(input, other)
    if alpha != 1:
        other = mul(other, alpha)
    if not isinstance(input, Tensor):
        a, b = _promote(input, other)
        return _out(Rsub.apply(b, a), out)
    r = _binop(Sub, input, other)
    return r if out is None else _out(r, out)


subtract = sub


def rsub(input, other, *, alpha=1):
    return sub(other, input, alpha=alpha)


def mul(input, other, *, out=None):
    r = _binop(Mul, input, other)
    return r if out is None else _out(r, out)  # (one call less on the hot path)


multiply = mul


class DivRounding(Function):
    """``div`` with ``rounding_mode`` 'floor' or 'trunc': keeps the promoted dtype; zero gradient."""

    raw = True
    node_name = "DivBackward2"

    @staticmethod
    def forward(ctx, a, b, mode):
        xp = namespace_of(a if hasattr(a, "shape") else b)
        ctx.shapes = (getattr(a, "shape", ()), getattr(b, "shape", ()))
        q = xp.floor_divide(a, b)
        if mode == "trunc":
            dt = q.dtype if hasattr(q, "dtype") else None
            if dt is not None and dt.kind in "fc":
                q = xp.trunc(xp.true_divide(a, b)).astype(dt, copy=False)
            else:  # integers: floor and trunc differ where the quotient is negative and inexact
                q = q + ((q < 0) & (q * b != a)).astype(q.dtype)
        return q

    @staticmethod
    def backward(ctx, g):
        sa, sb = ctx.shapes
        need = ctx.needs_input_grad
        return (sum_to(g * 0, sa) if need[0] else None), (sum_to(g * 0, sb) if need[1] else None), None


def div(input, other, *, rounding_mode=None, out=None):
    """``input / other`` (true division: integers give the default float dtype); with
    ``rounding_mode`` 'trunc' or 'floor' the quotient is rounded and keeps the promoted dtype."""
    if rounding_mode is not None:
        if rounding_mode not in ("floor", "trunc"):
            raise RuntimeError("div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                               f"'{rounding_mode}'")
        a, b = _promote(input, other)
        try:
            return _out(DivRounding.apply(a, b, rounding_mode), out)
        except ValueError:
            _raise_broadcast(a, b)
            raise
    a, b = _float_operands(input, other)
    if not isinstance(a, Tensor):
        # number / tensor: computed as number * reciprocal(tensor) (PyTorch names it MulBackward0)
        return _out(mul(B.reciprocal(b), a), out)
    r = _binop(Div, a, b)
    return r if out is None else _out(r, out)


divide = true_divide = div


def pow(input, exponent, *, out=None):
    if isinstance(input, Tensor):
        if isinstance(exponent, Tensor):
            a, b = _promote(input, exponent)
            return _out(_apply2(PowTensor, a, b), out)
        if isinstance(exponent, np.generic):
            exponent = exponent.item()
        a, e = _promote(input, exponent)
        if a._data.dtype.kind in "iu" and isinstance(e, int) and e < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        return _out(PowScalar.apply(a, e), out)
    s, b = _promote(input, exponent)
    if isinstance(s, Tensor):
        return _out(_apply2(PowTensor, s, b), out)
    return _out(RPow.apply(s, b), out)


def square(input):
    return pow(input, 2)


def neg(input):
    return Neg.apply(input)


negative = neg


def _not_differentiable(op_name, fwd):
    """A primitive PyTorch has no derivative for: its grad_fn is ``NotImplemented``, backward raises."""
    def backward(ctx, *g):
        raise RuntimeError(f"derivative for aten::{op_name} is not implemented")
    return type(op_name.title().replace("_", "") + "NotDifferentiable", (Function,), {
        "raw": True, "node_name": "NotImplemented", "forward": staticmethod(fwd),
        "backward": staticmethod(backward)})


FloorDivide = _not_differentiable(
    "floor_divide", lambda ctx, a, b: namespace_of(a if hasattr(a, "shape") else b).floor_divide(a, b))
_RemainderScalarTensor = _not_differentiable("remainder", lambda ctx, a, b: namespace_of(b).remainder(a, b))
_FmodScalarTensor = _not_differentiable("fmod", lambda ctx, a, b: namespace_of(b).fmod(a, b))


def floor_divide(input, other):
    """Division rounded toward minus infinity; no derivative (as in PyTorch)."""
    a, b = _promote(input, other)
    return _apply2(FloorDivide, a, b)


class Remainder(Function):
    """Python-style modulo (sign of the divisor)."""

    raw = True
    node_name = "RemainderBackward1"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return namespace_of(a if hasattr(a, "shape") else b).remainder(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need = ctx.needs_input_grad
        gb = None
        if need[1]:
            gb = sum_to(-g * B.floor(a / b), _shape(b))
        return (sum_to(g, _shape(a)) if need[0] else None), gb


class Fmod(Function):
    """C-style modulo (sign of the dividend)."""

    raw = True
    node_name = "FmodBackward1"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return namespace_of(a if hasattr(a, "shape") else b).fmod(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need = ctx.needs_input_grad
        gb = None
        if need[1]:
            gb = sum_to(-g * B.trunc(a / b), _shape(b))
        return (sum_to(g, _shape(a)) if need[0] else None), gb


class _RemainderScalar(Remainder):
    node_name = "RemainderBackward0"


class _FmodScalar(Fmod):
    node_name = "FmodBackward0"


def _modulo(tensor_fn, scalar_fn, scalar_tensor_fn, input, other):
    a, b = _promote(input, other)
    if not isinstance(a, Tensor):
        return _apply2(scalar_tensor_fn, a, b)
    return _apply2(tensor_fn if isinstance(b, Tensor) else scalar_fn, a, b)


def remainder(input, other):
    """Python-style modulo (the result takes the divisor's sign); broadcasts."""
    return _modulo(Remainder, _RemainderScalar, _RemainderScalarTensor, input, other)


def fmod(input, other):
    """C-style modulo (the result takes the dividend's sign); broadcasts."""
    return _modulo(Fmod, _FmodScalar, _FmodScalarTensor, input, other)


# --------------------------------------------------------------------------- lerp / addc* / atan2 / nan_to_num
def lerp(input, end, weight):
    return input + weight * (end - input)


def addcmul(input, tensor1, tensor2, *, value=1):
    return input + value * tensor1 * tensor2


def addcdiv(input, tensor1, tensor2, *, value=1):
    return input + value * tensor1 / tensor2


class Atan2(Function):
    raw = True
    node_name = "Atan2Backward0"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return namespace_of(a).arctan2(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        d = a * a + b * b
        need = ctx.needs_input_grad
        return (sum_to(g * b / d, _shape(a)) if need[0] else None,
                sum_to(-g * a / d, _shape(b)) if need[1] else None)


def atan2(input, other):
    a, b = _promote(*_float_operands(input, other))
    return Atan2.apply(a, b)


arctan2 = atan2


class NanToNum(Function):
    raw = True
    node_name = "NanToNumBackward0"

    @staticmethod
    def forward(ctx, x, nan, posinf, neginf):
        ctx.save_for_backward(x)
        return namespace_of(x).nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * (B.abs(x) < float("inf")), None, None, None


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    return NanToNum.apply(input, nan, posinf, neginf)


