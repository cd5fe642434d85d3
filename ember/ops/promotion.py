"""Operand plumbing shared by the elementwise ops: dtype casts (``to_dtype``), PyTorch's type promotion
of Tensor/scalar operands, PyTorch's broadcast error, and ``out=`` handling."""
from __future__ import annotations

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor
from ..autograd.function import Function
from ..backends import same_device
from . import _bw as B

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
        elif tk == "V":  # bfloat16: PyTorch rounds the number to bfloat16 first (add, sub, pow ...)
            s = t._data.dtype.type(s)
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


def _binop(fn, a, b):
    # the try costs nothing until NumPy raises; then a shape clash becomes PyTorch's RuntimeError
    try:
        if isinstance(b, Tensor):
            if isinstance(a, Tensor) and a._data.dtype is b._data.dtype and type(a._data) is type(b._data):
                return fn.apply(a, b)
        elif type(b) is float and isinstance(a, Tensor) and a._data.dtype.kind == "f":
            return fn.apply(a, b)  # float tensor op Python float: NumPy keeps the tensor's dtype
        elif (type(b) is float and isinstance(a, Tensor) and a._data.dtype.kind == "V"
              and fn.node_name in ("MulBackward0", "DivBackward0")):
            # bfloat16 * or / a Python float: PyTorch keeps the number in float32 (NumPy computes in
            # float32 here too, and Function rounds the result to bfloat16)
            return fn.apply(a, b)
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


def _either_float(a, b):
    return any(isinstance(v, float) or (isinstance(v, Tensor) and v._data.dtype.kind in "fcV") for v in (a, b))


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


def _out(result, out):
    if out is None:
        return result
    out.copy_(result) if out.shape == result.shape else _resize_into(out, result)
    return out


def _resize_into(out, result):
    out._data = result._data.astype(out._data.dtype, copy=True)
    out._vc[0] += 1
