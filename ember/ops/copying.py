"""Fill, copy and clone as graph ops, and the complex parts (``real``/``imag`` views, ``conj``)."""
from __future__ import annotations

from ..autograd.function import Function
from ..backends import namespace_of
from . import _bw as B
from ._bw import sum_to
from .promotion import _shape

__all__ = ["clone", "real", "imag", "conj"]


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
    """The real parts of a complex tensor, as PyTorch: a differentiable view (``view_as_real(z)[..., 0]``)."""
    if not input.is_complex():
        return input
    from .complex_view import view_as_real
    from .shape_more import select
    return select(view_as_real(input), -1, 0)


def imag(input):
    """The imaginary parts of a complex tensor: a differentiable view (``view_as_real(z)[..., 1]``)."""
    if not input.is_complex():
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    from .complex_view import view_as_real
    from .shape_more import select
    return select(view_as_real(input), -1, 1)


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
