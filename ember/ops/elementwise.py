"""Elementwise primitives: dtype casts and PyTorch's promotion, arithmetic with broadcasting, ``clamp``,
``maximum``/``minimum``, ``where``/``lerp``/``addc*``, ``atan2``, ``nan_to_num``, fill/copy/clone/conj.
(Unary math: ``unary.py``; comparisons and logic: ``comparison.py``; in-place writes: ``inplace.py``.)"""
from __future__ import annotations

import math

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor, _wrap
from ..autograd.function import Function
from ..backends import namespace_of, same_device
from . import _bw as B
from ._bw import sum_to

# the public names (``ember.add`` ...); the Function classes and helpers stay importable from here
__all__ = ["add", "sub", "subtract", "rsub", "mul", "multiply", "div", "divide", "true_divide", "pow", "square",
           "neg", "negative", "floor_divide", "remainder", "fmod", "clamp", "clip", "clamp_min", "clamp_max",
           "maximum", "minimum", "fmax", "fmin", "where", "lerp", "addcmul", "addcdiv", "atan2", "arctan2",
           "nan_to_num", "clone", "real", "imag", "conj"]

_SCALARS = (int, float, bool, complex)


def _shape(x):
    return x.shape if hasattr(x, "shape") else ()


def broadcast_error(sa, sb):
    """PyTorch's RuntimeError for shapes that do not broadcast, or None when they do.

    Like PyTorch, it names the right-most mismatching dimension (counted in the result's dims)."""
    sa, sb = tuple(sa), tuple(sb)
    n = max(len(sa), len(sb))
    for i in range(n - 1, -1, -1):
        ka, kb = i - (n - len(sa)), i - (n - len(sb))
        x = sa[ka] if ka >= 0 else 1
        y = sb[kb] if kb >= 0 else 1
        if x != y and x != 1 and y != 1:
            return RuntimeError(f"The size of tensor a ({x}) must match the size of tensor b ({y}) at "
                                f"non-singleton dimension {i}")
    return None


def _raise_broadcast(a, b, *more):
    """Called after NumPy raised ValueError: re-raise as PyTorch's RuntimeError if shapes clash."""
    shapes = [_shape(getattr(v, "_data", v)) for v in (a, b) + more if v is not None]
    acc = shapes[0]
    for sh in shapes[1:]:
        err = broadcast_error(acc, sh)
        if err is not None:
            raise err from None
        acc = np.broadcast_shapes(acc, sh)


# --------------------------------------------------------------------------- dtype plumbing
class ToCopy(Function):
    """Cast to another dtype; the gradient is cast back."""

    raw = True
    node_name = "ToCopyBackward0"

    @staticmethod
    def forward(ctx, x, np_dtype):
        ctx.src = x.dtype
        return x.astype(np_dtype)

    @staticmethod
    def backward(ctx, g):
        return B.astype(g, ctx.src), None


def to_dtype(t: Tensor, dtype, copy: bool = False) -> Tensor:
    npd = D.to_np(dtype)
    if t._data.dtype == npd and not copy:
        return t
    return ToCopy.apply(t, npd)


def _as_tensor_operand(v, like: Tensor):
    """A non-Tensor operand (list, NumPy array) becomes a Tensor on ``like``'s device."""
    from .creation import tensor
    return tensor(v, device=like.device)


def _promote(a, b):
    """Cast Tensor/scalar operands of a binary op to PyTorch's result dtype.

    Returns the operands to hand to the Function (Tensors or Python scalars).
    """
    ta = isinstance(a, Tensor)
    tb = isinstance(b, Tensor)
    if ta and tb:
        if type(a._data) is not type(b._data):
            same_device(a, b)
        if a._data.dtype is b._data.dtype:
            return a, b
        rd = D.result_type(a, b)
        return to_dtype(a, rd), to_dtype(b, rd)
    if ta:
        t, s = a, b
    else:
        t, s = b, a
    if not isinstance(s, _SCALARS):
        if isinstance(s, np.generic):
            s = s.item()
        else:
            s = _as_tensor_operand(s, t)
            return _promote(a if ta else s, s if ta else b)
    tk = t._data.dtype.kind
    if isinstance(s, bool):
        return (a, b)
    if isinstance(s, float):
        if tk in "biu":
            t = to_dtype(t, D.get_default_dtype())
    elif isinstance(s, int):
        if tk == "b":
            t = to_dtype(t, D.int64)
        elif tk in "iu":
            info = np.iinfo(t._data.dtype)
            if not info.min <= s <= info.max:
                s = np.array(s).astype(t._data.dtype).item()  # wrap around like PyTorch
    elif isinstance(s, complex) and tk != "c":
        t = to_dtype(t, D.complex128 if t._data.dtype == np.float64 else D.complex64)
    return (t, s) if ta else (s, t)


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
        ga = sum_to(g * B.conj(b) if _is_complex(b) else g * b, sa) if need[0] else None
        gb = sum_to(g * a, sb) if need[1] else None
        return ga, gb


def _is_complex(x):
    return getattr(x, "dtype", None) is not None and getattr(x.dtype, "kind", "") == "c"


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


def _binop(fn, a, b):
    # the try costs nothing until NumPy raises; then a shape clash becomes PyTorch's RuntimeError
    try:
        if isinstance(b, Tensor):
            if isinstance(a, Tensor) and a._data.dtype is b._data.dtype and type(a._data) is type(b._data):
                return fn.apply(a, b)
        elif type(b) is float and isinstance(a, Tensor) and a._data.dtype.kind == "f":
            return fn.apply(a, b)  # float tensor op Python float: NumPy keeps the tensor's dtype
        a, b = _promote(a, b)
        return fn.apply(a, b)
    except ValueError:
        _raise_broadcast(a, b)
        raise


def _apply2(fn, a, b):
    """``fn.apply(a, b)`` for already-promoted operands, with PyTorch's broadcast error."""
    try:
        return fn.apply(a, b)
    except ValueError:
        _raise_broadcast(a, b)
        raise


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


def _either_float(a, b):
    return any(isinstance(v, float) or (isinstance(v, Tensor) and v._data.dtype.kind in "fc") for v in (a, b))


def _float_operands(a, b):
    """True division promotes integer operands to the default float dtype."""
    if not _either_float(a, b):
        f = D.get_default_dtype()
        if isinstance(a, Tensor):
            a = to_dtype(a, f)
        else:
            a = float(a)
        if isinstance(b, Tensor):
            b = to_dtype(b, f)
        else:
            b = float(b)
    return a, b


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


def _out(result, out):
    if out is None:
        return result
    out.copy_(result) if out.shape == result.shape else _resize_into(out, result)
    return out


def _resize_into(out, result):
    out._data = result._data.astype(out._data.dtype, copy=True)
    out._vc[0] += 1


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


# --------------------------------------------------------------------------- where / lerp / addc*
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


class Fill(Function):
    """Overwrite with a scalar (``fill_``/``zero_``): no gradient reaches the old value."""

    raw = True
    node_name = "FillBackward2"

    @staticmethod
    def forward(ctx, x, value):
        return namespace_of(x).full_like(x, value)

    @staticmethod
    def backward(ctx, g):
        return g * 0, None


class Zero(Fill):
    node_name = "ZeroBackward0"


class CopyFrom(Function):
    """``dst.copy_(src)`` as a graph op: src broadcast and cast to dst; dst's old value gets no gradient."""

    raw = True
    node_name = "CopyBackwards"

    @staticmethod
    def forward(ctx, dst, src):
        xp = namespace_of(dst)
        ctx.src = (_shape(src), src.dtype)
        return xp.broadcast_to(xp.asarray(src).astype(dst.dtype, copy=False), dst.shape).copy()

    @staticmethod
    def backward(ctx, g):
        need = ctx.needs_input_grad
        shape, dt = ctx.src
        return (g * 0 if need[0] else None), (B.astype(sum_to(g, shape), dt) if need[1] else None)


class Clone(Function):
    raw = True
    node_name = "CloneBackward0"

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, g):
        return g


def clone(input, *, memory_format=None):
    return Clone.apply(input)


def real(input):
    if not input.is_complex():
        return input
    return _wrap(input._data.real)


def imag(input):
    if not input.is_complex():
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return _wrap(input._data.imag)


class Conj(Function):
    raw = True
    node_name = "ConjBackward0"

    @staticmethod
    def forward(ctx, x):
        return namespace_of(x).conj(x)

    @staticmethod
    def backward(ctx, g):
        return B.conj(g)


def conj(input):
    if not input.is_complex():
        return input
    return Conj.apply(input)

