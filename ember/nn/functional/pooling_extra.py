"""Pooling-like ops PyTorch has beyond the classic ones: fractional max pooling (2-d, 3-d),
``lp_pool3d`` and ``channel_shuffle``.

Fractional max pooling (Graham, 2014) pools over windows whose starts follow a pseudo-random
sequence drawn from one uniform sample per (batch, channel, spatial dim). The sequence is built
exactly as PyTorch builds it, in the input's floating type, so with the same ``_random_samples``
Ember picks the same windows and returns the same values and indices; the samples Ember draws
itself come from Ember's generator, so they differ from PyTorch's.
"""
from __future__ import annotations

import math

import numpy as np

from ..._tensor import Tensor
from ...autograd.function import Function
from ...backends import namespace_of
from .conv import _ntuple
from .pooling import _scatter, _scatter_tensor, avg_pool3d

__all__ = ["fractional_max_pool2d", "fractional_max_pool3d", "fractional_max_pool2d_with_indices",
           "fractional_max_pool3d_with_indices", "lp_pool3d", "channel_shuffle", "native_channel_shuffle"]


# --------------------------------------------------------------------------- fractional max pooling
def _interval_starts(u, n_in, n_out, k, xp):
    """Window starts (..., n_out) from samples ``u`` (...,) in the samples' float type, as PyTorch does:
    ``start[i] = int((i + u) * alpha) - int(u * alpha)`` with ``alpha = (n_in - k) / (n_out - 1)``,
    and the last window flush with the end."""
    lead = u.shape
    starts = xp.empty(lead + (n_out,), dtype=np.int64)
    if n_out > 1:
        ft = u.dtype.type
        alpha = ft(n_in - k) / ft(n_out - 1)
        i = xp.arange(n_out - 1).astype(u.dtype)
        a = ((i + u[..., None]) * alpha).astype(np.int64)   # truncation toward zero, like a C cast
        b = (u * alpha).astype(np.int64)[..., None]
        starts[..., :-1] = a - b
    starts[..., -1] = n_in - k
    return starts


class _FractionalMaxPool(Function):
    """y[r, l] = max_k x[r, table[r, l, k]]: a max pool whose windows differ per row (batch x channel)."""

    raw = True

    @staticmethod
    def forward(ctx, x, table, out_shape):
        xp = namespace_of(x)
        nd = len(out_shape)
        lead = x.shape[:-nd]
        R, S = math.prod(lead), math.prod(x.shape[-nd:])
        vals = xp.take_along_axis(x.reshape(R, S), table.reshape(R, -1), axis=1).reshape(table.shape)
        # NaN wins the window, as in PyTorch
        am = xp.where(xp.isnan(vals).any(axis=-1), xp.isnan(vals).argmax(axis=-1), vals.argmax(axis=-1))
        y = xp.take_along_axis(vals, am[..., None], axis=-1)[..., 0]
        idx = xp.take_along_axis(table, am[..., None], axis=-1)[..., 0]
        if ctx.needs_input_grad:
            ctx.xshape, ctx.R, ctx.S, ctx.idx = x.shape, R, S, idx
        idx_out = idx.reshape(lead + tuple(out_shape))
        ctx.mark_non_differentiable(idx_out)
        return y.reshape(lead + tuple(out_shape)), idx_out

    @staticmethod
    def backward(ctx, g, _gi=None):
        if isinstance(g, Tensor):
            return _scatter_tensor(g, ctx.idx, ctx.R, ctx.S).reshape(ctx.xshape), None, None
        return _scatter(g.reshape(ctx.R, -1), ctx.idx, ctx.R, ctx.S).reshape(ctx.xshape), None, None


class _FractionalMaxPool2D(_FractionalMaxPool):
    node_name = "FractionalMaxPool2DBackward0"


class _FractionalMaxPool3D(_FractionalMaxPool):
    node_name = "FractionalMaxPool3DBackward0"


def _fractional(input, nd, kernel_size, output_size, output_ratio, return_indices, _random_samples, name, node):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    if output_size is None and output_ratio is None:
        raise ValueError(f"{name} requires specifying either an output_size or an output_ratio")
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(f"{name}(): Expected {nd + 1}D or {nd + 2}D tensor, but got: {list(input.shape)}")
    k = _ntuple(kernel_size, nd, "kernel_size")
    spatial = tuple(input.shape[-nd:])
    if output_size is None:
        ratio = tuple(output_ratio) if isinstance(output_ratio, (tuple, list)) else (output_ratio,) * nd
        if not all(0 < r < 1 for r in ratio):
            raise ValueError(f"{name}: output_ratio must be between 0 and 1 (got {output_ratio})")
        out = tuple(int(n * r) for n, r in zip(spatial, ratio))
    else:
        out = _ntuple(output_size, nd, "output_size")
    for n, kk, o in zip(spatial, k, out):
        if o + kk - 1 > n:
            raise RuntimeError(f"{name}(): pool size {kk} and output size {o} are too large for input size {n} "
                               f"(input {list(input.shape)}; need output_size + kernel_size - 1 <= input size)")
        if o < 1 or kk < 1:
            raise RuntimeError(f"{name}(): kernel_size and output_size must be positive, got {list(k)} and "
                               f"{list(out)}")
    x = input
    N, C = (x.shape[0], x.shape[1]) if x.dim() == nd + 2 else (1, x.shape[0])
    xp = namespace_of(x._data)
    if _random_samples is None:
        from ...ops.creation import rand
        u = rand(N, C, nd, dtype=x.dtype, device=x.device)._data
    else:
        u = _random_samples._data if isinstance(_random_samples, Tensor) else xp.asarray(_random_samples)
        if tuple(u.shape) != (N, C, nd):
            raise RuntimeError(f"{name}(): expected _random_samples of shape {[N, C, nd]}, got {list(u.shape)}")
        u = u.astype(x._data.dtype, copy=False)
    # sample d drives the d-th spatial dim counted from the last one (PyTorch: samples[0] is width in 2-d)
    # in 3-d PyTorch uses samples[0] for time, [1] for height, [2] for width
    order = [1, 0] if nd == 2 else [0, 1, 2]
    starts = [_interval_starts(u[..., order[d]], spatial[d], out[d], k[d], xp) for d in range(nd)]
    # flat spatial index of every (output position, window offset): broadcast one axis per dim
    strides = [math.prod(spatial[d + 1:]) for d in range(nd)]
    R = N * C
    table = xp.zeros((R,) + out + k, dtype=np.int64)
    for d in range(nd):
        pos = starts[d].reshape(R, out[d])[:, :, None] + xp.arange(k[d])[None, None, :]   # (R, o_d, k_d)
        shape = [R] + [1] * (2 * nd)
        shape[1 + d], shape[1 + nd + d] = out[d], k[d]
        table = table + (pos * strides[d]).reshape(shape)
    table = table.reshape(R, math.prod(out), math.prod(k))
    cls = _FractionalMaxPool2D if nd == 2 else _FractionalMaxPool3D
    y, idx = cls.apply(x, table, out)
    return (y, idx) if return_indices else y


def fractional_max_pool2d(input: Tensor, kernel_size, output_size=None, output_ratio=None,
                          return_indices: bool = False, _random_samples=None):
    """(N, C, H, W) or (C, H, W) -> (..., oH, oW): max over pseudo-randomly placed kH x kW windows.

    Give ``output_size`` or ``output_ratio`` (``oH = int(H * ratio)``); ``_random_samples`` (N, C, 2)
    in [0, 1) fixes the windows (index 0 drives width, 1 height, as in PyTorch)."""
    return _fractional(input, 2, kernel_size, output_size, output_ratio, return_indices, _random_samples,
                       "fractional_max_pool2d", "FractionalMaxPool2DBackward0")


def fractional_max_pool3d(input: Tensor, kernel_size, output_size=None, output_ratio=None,
                          return_indices: bool = False, _random_samples=None):
    """(N, C, T, H, W) or (C, T, H, W) -> (..., oT, oH, oW); ``_random_samples`` is (N, C, 3)."""
    return _fractional(input, 3, kernel_size, output_size, output_ratio, return_indices, _random_samples,
                       "fractional_max_pool3d", "FractionalMaxPool3DBackward0")


def fractional_max_pool2d_with_indices(input: Tensor, kernel_size, output_size=None, output_ratio=None,
                                       return_indices: bool = False, _random_samples=None):
    """``fractional_max_pool2d`` returning ``(output, indices)`` always."""
    return fractional_max_pool2d(input, kernel_size, output_size, output_ratio, True, _random_samples)


def fractional_max_pool3d_with_indices(input: Tensor, kernel_size, output_size=None, output_ratio=None,
                                       return_indices: bool = False, _random_samples=None):
    """``fractional_max_pool3d`` returning ``(output, indices)`` always."""
    return fractional_max_pool3d(input, kernel_size, output_size, output_ratio, True, _random_samples)


# --------------------------------------------------------------------------- lp_pool3d, channel_shuffle
def lp_pool3d(input: Tensor, norm_type, kernel_size, stride=None, ceil_mode: bool = False) -> Tensor:
    """``(sum over each kD x kH x kW window of x^p)^(1/p)``, computed through ``avg_pool3d`` as PyTorch does."""
    kd, kh, kw = _ntuple(kernel_size, 3)
    out = avg_pool3d(input.pow(norm_type), (kd, kh, kw), stride, 0, ceil_mode)
    return (out.sign() * out.abs().relu()).mul(kd * kh * kw).pow(1.0 / norm_type)


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """(N, C, *) -> (N, C, *) with channels regrouped: ``g`` groups of ``C/g`` become ``C/g`` groups of ``g``."""
    if not isinstance(groups, int) or isinstance(groups, bool):
        raise TypeError(f"channel_shuffle(): argument 'groups' must be int, not {type(groups).__name__}")
    if input.dim() < 3:
        raise RuntimeError(f"channel_shuffle expects input to have at least 3 dimensions, but got input with "
                           f"sizes {list(input.shape)}")
    if groups <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of groups:{groups}")
    c = input.shape[1]
    if c % groups != 0:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels and {groups} groups.")
    n, rest = input.shape[0], tuple(input.shape[2:])
    return input.reshape((n, groups, c // groups) + rest).transpose(1, 2).reshape(input.shape)


native_channel_shuffle = channel_shuffle

