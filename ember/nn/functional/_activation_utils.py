"""Polymorphic helpers of the activations: each works on a backend array (the fast path) and on a
Tensor (backward under ``create_graph=True``)."""
from __future__ import annotations

from ..._tensor import Tensor
from ...backends import namespace_of
from ...ops import elementwise as E
from ...ops import inplace as IP
from ...ops import unary as U


# --------------------------------------------------------------------------- polymorphic helpers
def _is_t(x):
    return isinstance(x, Tensor)


def _sigmoid_any(x):
    return U.sigmoid(x) if _is_t(x) else U._sigmoid(namespace_of(x), x)


def _erf_any(x):
    return U.erf(x) if _is_t(x) else U._erf(namespace_of(x), x)


def _softplus_arr(xp, x):
    # log(1 + e^x) without overflow: max(x, 0) + log1p(e^-|x|)
    return (xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))).astype(x.dtype, copy=False)


def _softplus_any(x):
    if _is_t(x):
        return E.clamp(x, min=0) + U.log1p(U.exp(-U.abs(x)))
    return _softplus_arr(namespace_of(x), x)


def _cast(arr, like):
    return arr.astype(like.dtype, copy=False) if arr.dtype != like.dtype else arr


def _result(input, y, inplace):
    """Return ``y``, or write it into ``input`` (the ``inplace=True`` forms) and return ``input``."""
    if inplace:
        return IP.inplace(input, y)
    return y
