"""Comparisons, logical and bitwise ops, ``isnan``/``isinf``/..., ``equal``/``allclose``/``isclose``:
boolean results, no gradient."""
from __future__ import annotations

from .._tensor import Tensor, _wrap
from ..backends import namespace_of
from .elementwise import _SCALARS, _as_tensor_operand, _out, _raise_broadcast

__all__ = ["eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal", "not_equal",
           "logical_and", "logical_or", "logical_xor", "logical_not", "bitwise_and", "bitwise_or", "bitwise_xor",
           "bitwise_not", "isnan", "isinf", "isfinite", "isposinf", "isneginf", "signbit", "equal", "allclose",
           "isclose"]


def _cmp(ufunc_name):
    def op(input, other, *, out=None):
        if isinstance(input, Tensor):
            if not isinstance(other, (Tensor,) + _SCALARS):
                other = _as_tensor_operand(other, input)
            a = input._data
            b = other._data if isinstance(other, Tensor) else other
        else:
            a = input
            b = other._data
        xp = namespace_of(a if hasattr(a, "shape") else b)
        try:
            return _out(_wrap(getattr(xp, ufunc_name)(a, b)), out)
        except ValueError:
            _raise_broadcast(a, b)
            raise
    op.__name__ = ufunc_name
    op.__doc__ = f"Elementwise ``{ufunc_name}`` with broadcasting; returns a bool tensor (no gradient)."
    return op


eq = _cmp("equal")
ne = _cmp("not_equal")
lt = _cmp("less")
le = _cmp("less_equal")
gt = _cmp("greater")
ge = _cmp("greater_equal")
eq.__name__, ne.__name__, lt.__name__, le.__name__, gt.__name__, ge.__name__ = "eq", "ne", "lt", "le", "gt", "ge"
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


def _logic(name):
    def op(input, other=None):
        xp = namespace_of(input._data)
        if other is None:
            return _wrap(xp.logical_not(input._data))
        o = other._data if isinstance(other, Tensor) else other
        return _wrap(getattr(xp, name)(input._data, o))
    op.__name__ = name
    return op


logical_and = _logic("logical_and")
logical_or = _logic("logical_or")
logical_xor = _logic("logical_xor")


def logical_not(input):
    return _wrap(namespace_of(input._data).logical_not(input._data))


def _bitwise(name, logical):
    def op(input, other):
        if input._data.dtype.kind not in "biu":
            raise RuntimeError(f'"{name}_cpu" not implemented for \'{input.dtype.name.capitalize()}\'')
        xp = namespace_of(input._data)
        o = other._data if isinstance(other, Tensor) else other
        return _wrap(getattr(xp, name)(input._data, o))
    op.__name__ = name
    return op


bitwise_and = _bitwise("bitwise_and", "logical_and")
bitwise_or = _bitwise("bitwise_or", "logical_or")
bitwise_xor = _bitwise("bitwise_xor", "logical_xor")


def bitwise_not(input):
    if input._data.dtype.kind not in "biu":
        raise RuntimeError("bitwise_not is only supported for integer and boolean tensors")
    return _wrap(namespace_of(input._data).invert(input._data))


def isnan(input):
    return _wrap(namespace_of(input._data).isnan(input._data))


def isinf(input):
    return _wrap(namespace_of(input._data).isinf(input._data))


def isfinite(input):
    return _wrap(namespace_of(input._data).isfinite(input._data))


def isposinf(input):
    return _wrap(namespace_of(input._data).isposinf(input._data))


def isneginf(input):
    return _wrap(namespace_of(input._data).isneginf(input._data))


def signbit(input):
    return _wrap(namespace_of(input._data).signbit(input._data))


def equal(input, other) -> bool:
    return tuple(input.shape) == tuple(other.shape) and bool((input._data == other._data).all())


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    return bool(namespace_of(input._data).allclose(input._data, other._data, rtol=rtol, atol=atol, equal_nan=equal_nan))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    o = other._data if isinstance(other, Tensor) else other
    return _wrap(namespace_of(input._data).isclose(input._data, o, rtol=rtol, atol=atol, equal_nan=equal_nan))

