"""Deprecated layers PyTorch still ships: ``NLLLoss2d`` (use ``NLLLoss``), ``Container`` (use ``Module``)
and ``CrossMapLRN2d`` (Lua Torch's cross-channel LRN, with its own forward and backward)."""
from __future__ import annotations

import warnings

from ..._tensor import Tensor
from ...autograd.function import Function
from ...backends import namespace_of
from .loss import NLLLoss
from .module import Module

__all__ = ["NLLLoss2d", "Container", "CrossMapLRN2d"]


class NLLLoss2d(NLLLoss):
    """Deprecated alias of ``NLLLoss`` (which handles (N, C, H, W) inputs itself)."""

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean") -> None:
        warnings.warn("`NLLLoss2d` has been deprecated. Please use `NLLLoss` instead as a drop-in replacement and "
                      "see https://pytorch.org/docs/main/nn.html#torch.nn.NLLLoss for more details.", FutureWarning,
                      stacklevel=2)
        super().__init__(weight, size_average, ignore_index, reduce, reduction)


class Container(Module):
    """Deprecated: a Module whose keyword arguments become its submodules."""

    def __init__(self, **kwargs) -> None:
        warnings.warn("`nn.Container` is deprecated. All of its functionality is now implemented in `nn.Module`. "
                      "Subclass that instead.", FutureWarning, stacklevel=2)
        super().__init__()
        for key, value in kwargs.items():
            self.add_module(key, value)


def _window_sums(a, lo, hi, xp):
    """s[:, c] = sum of a[:, j] for j in [c + lo, c + hi] clipped to the channel range (via one cumsum)."""
    C = a.shape[1]
    cs = xp.concatenate([xp.zeros_like(a[:, :1]), xp.cumsum(a, axis=1)], axis=1)
    c = xp.arange(C)
    top = xp.clip(c + hi + 1, 0, C)
    bot = xp.clip(c + lo, 0, C)
    bot = xp.minimum(bot, top)
    return cs[:, top] - cs[:, bot]


class _CrossMapLRN2dFn(Function):
    """Lua Torch's SpatialCrossMapLRN, kept bit-for-bit in behaviour: the running window sum never drops
    channel 0 once it has entered, and the backward pass uses the legacy (symmetric-window) formula, not the
    exact derivative of that forward, exactly as PyTorch's ``CrossMapLRN2d`` does."""

    raw = True
    node_name = "CrossMapLRN2dBackward"

    @staticmethod
    def forward(ctx, x, size, alpha, beta, k):
        xp = namespace_of(x)
        sq = x * x
        pre = int((size - 1) / 2 + 1)
        C = x.shape[1]
        s = _window_sums(sq, -(pre - 1), pre - 1, xp)
        # channel 0 is never subtracted from the legacy running sum: add it back where the window left it
        c = xp.arange(C).reshape(1, C, 1, 1)
        s = s + xp.where(c - (pre - 1) > 0, sq[:, :1], 0)
        scale = s * x.dtype.type(alpha / size) + x.dtype.type(k)
        out = x * scale ** x.dtype.type(-beta)
        ctx.x, ctx.scale, ctx.out = x, scale, out
        ctx.size, ctx.alpha, ctx.beta = size, alpha, beta
        return out

    @staticmethod
    def backward(ctx, g):
        as_tensor = isinstance(g, Tensor)
        ga = g._data if as_tensor else g
        x, scale, out, size = ctx.x, ctx.scale, ctx.out, ctx.size
        xp = namespace_of(x)
        dt = x.dtype.type
        ratio = ga * out / scale
        inv_pre = int(size - (size - 1) / 2)
        acc = _window_sums(ratio, -inv_pre, size - 1 - inv_pre, xp)
        gx = ga * scale ** dt(-ctx.beta) - dt(2 * ctx.alpha * ctx.beta / size) * x * acc
        if as_tensor:
            from ..._tensor import _wrap
            gx = _wrap(gx)
        return gx, None, None, None, None


class CrossMapLRN2d(Module):
    """Local response normalisation across channels of (N, C, H, W), Lua Torch's variant."""

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1) -> None:
        super().__init__()
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input: Tensor) -> Tensor:
        if input.dim() != 4:
            raise ValueError(f"CrossMapLRN2d: Expected input to be 4D, got {input.dim()}D instead.")
        return _CrossMapLRN2dFn.apply(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
