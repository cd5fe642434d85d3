"""Helpers for backward formulas that accept backend arrays *or* Tensors.

The engine hands a primitive's backward arrays on the fast path and Tensors under
``create_graph=True``; formulas use operators plus these helpers, so one formula serves both.
"""
from __future__ import annotations

from importlib import import_module

from .._tensor import Tensor
from ..autograd.function import Function
from ..backends import namespace_of


def _t(x):
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


_OPS = {}  # name -> Ember's op, looked up on first use (the ops modules import this one)


def _dispatch(name, home="unary"):
    """``name`` of the array's namespace, or Ember's op of that name in ``ops/<home>.py`` for a Tensor."""
    def f(x, *args):
        if _t(x):
            op = _OPS.get(name)
            if op is None:
                op = _OPS[name] = getattr(import_module(f"{__package__}.{home}"), name)
            return op(x, *args)
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
floor = _dispatch("floor")
trunc = _dispatch("trunc")
reciprocal = _dispatch("reciprocal")
conj = _dispatch("conj", "elementwise")


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
    gd = g._data.dtype if _t(g) else g.dtype
    if gd.kind == "c" and namespace_of(g._data if _t(g) else g).dtype(np_dtype).kind != "c":
        g = g.real  # a complex gradient for a real input: its real part (PyTorch), without NumPy's warning
    if _t(g):
        from .elementwise import to_dtype
        from .._dtype import from_np
        return to_dtype(g, from_np(np_dtype))
    return g.astype(np_dtype)


# --------------------------------------------------------------------------- piecewise-linear backward
_LINEAR_NODES = {}


def linear_in_grad(node_name, fn, g, x, *params):
    """``fn(g, x, *params)`` for a backward formula that is linear in ``g`` and piecewise constant
    in ``x`` (relu, hardtanh, leaky_relu, threshold, the shrinks ...).

    On arrays (the fast path) it is just called. Under ``create_graph=True`` it becomes a node named
    ``node_name`` (PyTorch's ``ThresholdBackwardBackward0`` ...) with inputs ``g`` and ``x``, so that
    the first-order gradient requires grad through ``x`` and its derivative in ``x`` is zeros, as in
    PyTorch (``g * mask`` alone would leave the gradient outside the graph when ``g`` is a constant).
    """
    if not (_t(g) or _t(x)):
        return fn(g, x, *params)
    cls = _LINEAR_NODES.get(node_name)
    if cls is None:
        cls = _LINEAR_NODES[node_name] = type(node_name.replace("Backward0", "") + "Fn", (_LinearInGrad,),
                                              {"node_name": node_name})
    if not _t(g):
        from .._tensor import _wrap
        g = _wrap(g)
    return cls.apply(g, x, fn, *params)


class _LinearInGrad(Function):
    """The node of ``linear_in_grad``: d/dg is the formula itself, d/dx is zero."""

    raw = True

    @staticmethod
    def forward(ctx, g, x, fn, *params):
        ctx.fn, ctx.params = fn, params
        ctx.save_for_backward(x)
        return fn(g, x, *params)

    @staticmethod
    def backward(ctx, gg):
        (x,) = ctx.saved_tensors
        need = ctx.needs_input_grad
        dg = linear_in_grad(type(ctx).__name__, ctx.fn, gg, x, *ctx.params) if need[0] else None
        dx = zeros_like(x) if need[1] else None
        return (dg, dx, None) + (None,) * len(ctx.params)
