"""Helpers for backward formulas that accept backend arrays *or* Tensors.

The engine hands a primitive's backward arrays on the fast path and Tensors under
``create_graph=True``; formulas use operators plus these helpers, so one formula serves both.
"""
from __future__ import annotations

from ..backends import namespace_of


def _t(x):
    from .._tensor import Tensor
    return isinstance(x, Tensor)


def sum_to(g, shape):
    """Sum a broadcast gradient back down to ``shape`` (the inverse of broadcasting)."""
    gs = tuple(g.shape)
    shape = tuple(shape)
    if gs == shape:
        return g
    lead = len(gs) - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, s in enumerate(shape) if s == 1 and gs[i + lead] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape)


def _dispatch(name):
    def f(x, *args):
        if _t(x):
            from . import elementwise as E
            return getattr(E, name)(x, *args)
        return getattr(namespace_of(x), name)(x, *args)
    f.__name__ = name
    return f


exp = _dispatch("exp")
log = _dispatch("log")
sqrt = _dispatch("sqrt")
sign = _dispatch("sign")
abs = _dispatch("abs")
sin = _dispatch("sin")
cos = _dispatch("cos")
tanh = _dispatch("tanh")
conj = _dispatch("conj")


def where(cond, a, b):
    for v in (cond, a, b):
        if _t(v):
            from .elementwise import where as w
            return w(cond, a, b)
    return namespace_of(cond).where(cond, a, b)


def zeros_like(x):
    if _t(x):
        from .creation import zeros_like as z
        return z(x)
    return namespace_of(x).zeros_like(x)


def broadcast_to(g, shape):
    if _t(g):
        return g.expand(tuple(shape))
    return namespace_of(g).broadcast_to(g, tuple(shape))


def permute(g, axes):
    if _t(g):
        return g.permute(tuple(axes))
    return g.transpose(tuple(axes))


def swap_last(g):
    """Swap the last two axes (matrix transpose of a batch)."""
    if _t(g):
        return g.transpose(-2, -1)
    return g.swapaxes(-1, -2)


def astype(g, np_dtype):
    if g.dtype == np_dtype if not _t(g) else g._data.dtype == np_dtype:
        return g
    if _t(g):
        from .elementwise import to_dtype
        from .._dtype import from_np
        return to_dtype(g, from_np(np_dtype))
    return g.astype(np_dtype)


def unsqueeze_to(g, shape_kept, dims):
    """Re-insert reduced ``dims`` (as size 1) so that ``g`` broadcasts against the input."""
    if not dims:
        return g
    return g.reshape(shape_kept)
