"""Resampling and patch ops: ``interpolate`` (nearest, nearest-exact, linear, bilinear, bicubic,
trilinear, area), ``pixel_shuffle``/``pixel_unshuffle``, ``unfold``/``fold``.

Interpolation is separable: each resized dimension is one small (out, in) weight matrix
applied with ``matmul`` (nearest modes gather with ``index_select``), so gradients and second
derivatives come from those primitives. The source coordinates follow PyTorch's rules
(``align_corners``, ``scale_factor`` vs ``size``), computed in float32 as PyTorch does.
"""
from __future__ import annotations

import math

import numpy as np

from ..._tensor import Tensor, _wrap
from ...autograd.function import Function
from ...backends import namespace_of
from .conv import _fold_arr, _ntuple, _Params, _unfold_arr

_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area")


def _scale(n_in, n_out, sf, align_corners):
    if align_corners:
        return (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
    if sf is not None:
        return 1.0 / sf
    return n_in / n_out


def _linear_matrix(n_in, n_out, sf, align_corners, cdt=np.float32):
    # source coordinates in the input's precision (float32 for float32 inputs), as PyTorch computes them
    scale = cdt(_scale(n_in, n_out, sf, align_corners))
    dst = np.arange(n_out, dtype=cdt)
    if align_corners:
        src = dst * scale
    else:
        src = np.maximum((dst + cdt(0.5)) * scale - cdt(0.5), cdt(0))
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    l1 = (src - i0).astype(np.float64)
    m = np.zeros((n_out, n_in))
    r = np.arange(n_out)
    np.add.at(m, (r, i0), 1.0 - l1)
    np.add.at(m, (r, i1), l1)
    return m


def _cubic_matrix(n_in, n_out, sf, align_corners, cdt=np.float32):
    A = -0.75
    scale = cdt(_scale(n_in, n_out, sf, align_corners))
    dst = np.arange(n_out, dtype=cdt)
    src = dst * scale if align_corners else (dst + cdt(0.5)) * scale - cdt(0.5)
    f = np.floor(src)
    t = (src - f).astype(np.float64)

    def near(x):  # |x| <= 1
        return ((A + 2) * x - (A + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A

    w = np.stack([far(t + 1), near(t), near(1 - t), far(2 - t)], axis=1)
    idx = np.clip(f.astype(np.int64)[:, None] + np.arange(-1, 3)[None, :], 0, n_in - 1)
    m = np.zeros((n_out, n_in))
    np.add.at(m, (np.repeat(np.arange(n_out), 4), idx.reshape(-1)), w.reshape(-1))
    return m


def _nearest_index(n_in, n_out, sf, exact):
    scale = np.float32(1.0 / sf if sf is not None else n_in / n_out)
    dst = np.arange(n_out, dtype=np.float32)
    src = np.floor((dst + np.float32(0.5)) * scale) if exact else np.floor(dst * scale)
    return np.minimum(src.astype(np.int64), n_in - 1)


def _apply_matrix(x, m, dim):
    """Contract dimension ``dim`` of x with the (out, in) matrix m."""
    from ...ops.creation import tensor
    mt = tensor(m.T.astype(x._data.dtype), device=x.device)
    nd = x.dim()
    if dim == nd - 1:
        return x @ mt
    return (x.transpose(dim, nd - 1) @ mt).transpose(dim, nd - 1)


def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest", align_corners=None,
                recompute_scale_factor=None, antialias: bool = False) -> Tensor:
    """Resize the spatial dims of (N, C, *spatial) ``input`` to ``size`` or by ``scale_factor``."""
    if mode not in _MODES:
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.dim()}D) "
                                  f"for the modes: nearest | linear | bilinear | bicubic | trilinear | area | "
                                  f"nearest-exact (got {mode})")
    if mode in ("nearest", "area", "nearest-exact") and align_corners is not None:
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported by Ember")
    nd = input.dim() - 2
    if nd < 1 or nd > 3:
        raise ValueError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.dim()}D) for the modes:"
                         f" nearest | linear | bilinear | bicubic | trilinear | area | nearest-exact (got {mode})")
    need = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}.get(mode)
    if need is not None and need != nd:
        raise NotImplementedError(f"Got {input.dim()}D input, but {mode} mode needs {need + 2}D input")
    if (size is None) == (scale_factor is None):
        raise ValueError("only one of size or scale_factor should be defined" if size is not None else
                         "either size or scale_factor should be defined")
    spatial = tuple(input.shape[2:])
    if size is not None:
        sizes = _ntuple(size, nd, "size") if not isinstance(size, (tuple, list)) or len(size) == nd else None
        if sizes is None:
            raise ValueError(f"Input and output must have the same number of spatial dimensions, but got input with "
                             f"spatial dimensions of {list(spatial)} and output size of {list(size)}. Please provide "
                             "input tensor in (N, C, d1, d2, ...,dK) format and output size in (o1, o2, ...,oK) "
                             "format.")
        sfs = (None,) * nd
    else:
        sfs = tuple(float(s) for s in (scale_factor if isinstance(scale_factor, (tuple, list))
                                       else (scale_factor,) * nd))
        if len(sfs) != nd:
            raise ValueError(f"Input and scale_factor must have the same number of spatial dimensions, but got input "
                             f"with spatial dimensions of {list(spatial)} and scale_factor of shape "
                             f"{list(scale_factor)}.")
        sizes = tuple(int(math.floor(n * s)) for n, s in zip(spatial, sfs))
        if recompute_scale_factor:
            sfs = (None,) * nd
    if any(s <= 0 for s in sizes):
        raise RuntimeError(f"interpolate: output size must be positive, got {list(sizes)} for input {list(input.shape)}")
    if mode == "area":
        from .pooling import _adaptive
        return _adaptive(input, sizes, nd, "adaptive_avg_pool", f"AdaptiveAvgPool{max(nd, 2)}DBackward0", "avg")
    out = input
    if mode in ("nearest", "nearest-exact"):
        from ...ops.scatter_gather import IndexSelect
        xp = namespace_of(input._data)
        for i in range(nd):
            if sizes[i] == spatial[i] and sfs[i] in (None, 1.0):
                continue
            idx = xp.asarray(_nearest_index(spatial[i], sizes[i], sfs[i], mode == "nearest-exact"))
            out = IndexSelect.apply(out, 2 + i, _wrap(idx))
        return out
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"\"upsample_{mode}\" not implemented for '{str(input.dtype).split('.')[-1]}'")
    ac = bool(align_corners)
    build = _cubic_matrix if mode == "bicubic" else _linear_matrix
    for i in reversed(range(nd)):  # PyTorch blends the last dimension first
        m = build(spatial[i], sizes[i], sfs[i], ac, np.float64 if input._data.dtype == np.float64 else np.float32)
        out = _apply_matrix(out, m, 2 + i)
    return out


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# --------------------------------------------------------------------------- pixel shuffle
def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """(*, C*r^2, H, W) -> (*, C, H*r, W*r)."""
    r = int(upscale_factor)
    if input.dim() < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but got input with "
                           f"{input.dim()} dimension(s)")
    *lead, c, h, w = input.shape
    if r <= 0 or c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
                           f"upscale_factor, but input.size(-3)={c} is not divisible by {r * r}")
    nl = len(lead)
    x = input.reshape(*lead, c // (r * r), r, r, h, w)
    x = x.permute(*range(nl), nl, nl + 3, nl + 1, nl + 4, nl + 2)
    return x.reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """(*, C, H*r, W*r) -> (*, C*r^2, H, W)."""
    r = int(downscale_factor)
    if input.dim() < 3:
        raise RuntimeError(f"pixel_unshuffle expects input to have at least 3 dimensions, but got input with "
                           f"{input.dim()} dimension(s)")
    *lead, c, h, w = input.shape
    if r <= 0 or h % r or w % r:
        raise RuntimeError(f"pixel_unshuffle expects height and width to be divisible by downscale_factor, but got "
                           f"height={h}, width={w}, downscale_factor={r}")
    nl = len(lead)
    x = input.reshape(*lead, c, h // r, r, w // r, r)
    x = x.permute(*range(nl), nl, nl + 2, nl + 4, nl + 1, nl + 3)
    return x.reshape(*lead, c * r * r, h // r, w // r)


# --------------------------------------------------------------------------- unfold / fold
class Im2Col(Function):
    raw = True
    node_name = "Im2ColBackward0"

    @staticmethod
    def forward(ctx, x, k, params):
        col, out = _unfold_arr(x, k, params)
        ctx.xshape, ctx.k, ctx.params, ctx.out = x.shape, k, params, out
        return col

    @staticmethod
    def backward(ctx, g):
        if isinstance(g, Tensor):
            return Col2Im.apply(g, ctx.xshape, ctx.k, ctx.out, ctx.params), None, None
        return _fold_arr(g, ctx.xshape, ctx.k, ctx.out, ctx.params), None, None


class Col2Im(Function):
    raw = True
    node_name = "Col2ImBackward0"

    @staticmethod
    def forward(ctx, g, xshape, k, out, params):
        ctx.k, ctx.params = k, params
        return _fold_arr(g, xshape, k, out, params)

    @staticmethod
    def backward(ctx, gy):
        if isinstance(gy, Tensor):
            return Im2Col.apply(gy, ctx.k, ctx.params), None, None, None, None
        return _unfold_arr(gy, ctx.k, ctx.params)[0], None, None, None, None


def unfold(input: Tensor, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Extract sliding blocks: (N, C, H, W) -> (N, C*kH*kW, L)."""
    if input.dim() not in (3, 4):
        raise NotImplementedError(f"Input Error: Only 3D or 4D input Tensors are supported (got {input.dim()}D)")
    unbatched = input.dim() == 3
    if unbatched:
        input = input.unsqueeze(0)
    k = _ntuple(kernel_size, 2, "kernel_size")
    d, p, s = _ntuple(dilation, 2), _ntuple(padding, 2), _ntuple(stride, 2)
    params = _Params((s, tuple((v, v) for v in p), d, 1))
    for i in range(2):
        if input.shape[2 + i] + 2 * p[i] < d[i] * (k[i] - 1) + 1:
            raise RuntimeError(f"Given input with spatial size ({input.shape[2]}, {input.shape[3]}), kernel_size={k}, "
                               f"dilation={d}, padding={p}, calculated shape of the array of sliding blocks is "
                               "non-positive.")
    y = Im2Col.apply(input, k, params)
    return y.squeeze(0) if unbatched else y


def fold(input: Tensor, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Combine sliding blocks (summing overlaps): (N, C*kH*kW, L) -> (N, C, *output_size)."""
    if input.dim() not in (2, 3):
        raise NotImplementedError(f"Input Error: Only unbatched (2D) or batched (3D) input Tensors are supported "
                                  f"(got {input.dim()}D)")
    unbatched = input.dim() == 2
    if unbatched:
        input = input.unsqueeze(0)
    osz = _ntuple(output_size, 2, "output_size")
    k = _ntuple(kernel_size, 2, "kernel_size")
    d, p, s = _ntuple(dilation, 2), _ntuple(padding, 2), _ntuple(stride, 2)
    kk = k[0] * k[1]
    if input.shape[1] % kk:
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the product of kernel_size, but "
                           f"got input.size(1)={input.shape[1]} and kernel_size={k}")
    out = tuple((osz[i] + 2 * p[i] - d[i] * (k[i] - 1) - 1) // s[i] + 1 for i in range(2))
    if out[0] * out[1] != input.shape[2]:
        raise RuntimeError(f"Given output_size={osz}, kernel_size={k}, dilation={d}, padding={p}, stride={s}, "
                           f"expected size of input's dimension 2 to match the calculated number of sliding blocks "
                           f"{out[0]} * {out[1]} = {out[0] * out[1]}, but got input.size(2)={input.shape[2]}.")
    params = _Params((s, tuple((v, v) for v in p), d, 1))
    xshape = (input.shape[0], input.shape[1] // kk) + osz
    y = Col2Im.apply(input, xshape, k, out, params)
    return y.squeeze(0) if unbatched else y
