"""Sampling at arbitrary points: ``grid_sample`` (bilinear, nearest, bicubic; zeros/border/reflection
padding; 4-D and 5-D inputs) and ``affine_grid`` (the sampling grid of a batch of affine maps).

``grid_sample`` is one primitive per spatial rank (``GridSampler2DBackward0`` /
``GridSampler3DBackward0``). Every output point reads a fixed set of taps (4 or 8 corners, 16
for bicubic, 1 for nearest); the taps of all points are gathered with one ``take_along_axis``
and the input gradient is one ``bincount`` scatter, so no Python loop runs over pixels. The
gradient w.r.t. the grid follows PyTorch's rules: the unnormalisation scale times the padding's
derivative, with border pixels counted as outside (derivative 0) for border/reflection padding,
and no grid gradient for nearest sampling.
"""
from __future__ import annotations

import itertools as _it
import warnings as _warnings

from ..._tensor import Tensor
from ...autograd.function import Function
from ...backends import namespace_of as _ns

__all__ = ["grid_sample", "affine_grid"]

_MODES = ("bilinear", "nearest", "bicubic")
_PADDINGS = ("zeros", "border", "reflection")
_CUBIC_A = -0.75
_ALIGN_WARNING = ("Default grid_sample and affine_grid behavior has changed to align_corners=False since 1.3.0. "
                  "Please specify align_corners=True if the old behavior is desired. See the documentation of "
                  "grid_sample for details.")


# --------------------------------------------------------------------------- coordinates
def _unnormalize(coord, size, align):
    """[-1, 1] -> pixel units; returns (position, d position / d coord)."""
    if align:
        scale = (size - 1) / 2
        return (coord + 1) * coord.dtype.type(scale), scale
    scale = size / 2
    return (coord + 1) * coord.dtype.type(scale) - coord.dtype.type(0.5), scale


def _clip(xp, x, size, want_grad):
    """Clamp to [0, size - 1]; the derivative is 0 at and beyond both borders (as PyTorch counts them)."""
    out = xp.clip(x, 0, size - 1)
    if not want_grad:
        return out, None
    return out, ((x > 0) & (x < size - 1)).astype(x.dtype)


def _reflect(xp, x, size, align, want_grad):
    """Reflect about the borders (pixel edges without ``align_corners``, centres with it), then clip."""
    lo, span = (0.0, size - 1.0) if align else (-0.5, float(size))
    if span <= 0:
        z = xp.zeros_like(x)
        return z, (z if want_grad else None)
    t = x.dtype.type
    d = x - t(lo)
    a = xp.abs(d)
    extra = xp.fmod(a, t(span))
    odd = xp.fmod(xp.floor(a / t(span)), 2) != 0
    r = xp.where(odd, t(span) - extra, extra) + t(lo)
    r, clip_grad = _clip(xp, r, size, want_grad)
    if not want_grad:
        return r, None
    sign = xp.where((d < 0) != odd, t(-1), t(1))
    return r, sign * clip_grad


def _pad_coordinate(xp, x, size, padding, align, want_grad):
    if padding == "border":
        return _clip(xp, x, size, want_grad)
    if padding == "reflection":
        return _reflect(xp, x, size, align, want_grad)
    return x, (xp.ones_like(x) if want_grad else None)


def _cubic_weights(t):
    """The four cubic-convolution weights (A = -0.75) of taps at offsets -1, 0, 1, 2, and their
    derivatives with respect to the fraction ``t``."""
    A = _CUBIC_A
    typ = t.dtype.type

    def near(x):  # |x| <= 1
        return ((typ(A + 2) * x - typ(A + 3)) * x) * x + typ(1)

    def far(x):  # 1 < |x| < 2
        return ((typ(A) * x - typ(5 * A)) * x + typ(8 * A)) * x - typ(4 * A)

    def dnear(x):
        return (typ(3 * (A + 2)) * x - typ(2 * (A + 3))) * x

    def dfar(x):
        return (typ(3 * A) * x - typ(10 * A)) * x + typ(8 * A)

    u, v = typ(1) - t, typ(2) - t
    w = [far(t + typ(1)), near(t), near(u), far(v)]
    dw = [dfar(t + typ(1)), dnear(t), -dnear(u), -dfar(v)]
    return w, dw


class _Taps:
    """The taps every output point reads: flat input indices (N, K, P), weights (N, K, P), which
    taps lie inside the input (None when all do), and d weight / d grid coordinate per spatial
    dimension (``dweights[j]``: (N, K, P), x first), or None when the grid gets no gradient."""

    __slots__ = ("index", "weight", "valid", "dweights")


def _taps(xp, grid, sizes, mode, padding, align, want_grad):
    """``grid``: (N, P, d) in [-1, 1], component j indexing spatial dimension d-1-j; ``sizes``: the
    input's spatial sizes (outermost first)."""
    d = len(sizes)
    typ = grid.dtype.type
    pos, mult = [], []  # per grid component j (x, y, z): position in pixels and its derivative factor
    for j in range(d):
        size = sizes[d - 1 - j]
        p, scale = _unnormalize(grid[..., j], size, align)
        if mode == "bicubic":  # taps are padded one by one below; the grid gradient sees only the scale
            pos.append(p)
            mult.append(scale)
            continue
        p, pad_grad = _pad_coordinate(xp, p, size, padding, align, want_grad)
        pos.append(p)
        mult.append(pad_grad * typ(scale) if want_grad else None)

    per_dim = []  # for each component j: list of (integer-valued float coordinate, weight, d weight)
    for j in range(d):
        p = pos[j]
        if mode == "nearest":
            per_dim.append([(xp.rint(p), None, None)])
        elif mode == "bilinear":
            f = xp.floor(p)
            w1 = p - f
            per_dim.append([(f, typ(1) - w1, typ(-1)), (f + typ(1), w1, typ(1))])
        else:
            f = xp.floor(p)
            w, dw = _cubic_weights(p - f)
            per_dim.append([(f + typ(k - 1), w[k], dw[k]) for k in range(4)])

    strides = [1] * d  # stride of component j in the flattened input
    for j in range(1, d):
        strides[j] = strides[j - 1] * sizes[d - j]
    index, weight, valid, dweights = [], [], [], [[] for _ in range(d)]
    for combo in _it.product(*per_dim):
        ok = None
        flat = None
        for j, (c, _, _) in enumerate(combo):
            size = sizes[d - 1 - j]
            if mode == "bicubic" and padding != "zeros":
                c, _ = _pad_coordinate(xp, c, size, padding, align, False)
                c = xp.trunc(c)
            inside = (c >= 0) & (c <= size - 1)
            ok = inside if ok is None else ok & inside
            ci = xp.where(inside, c, 0).astype(xp.int64)
            flat = ci * strides[j] if flat is None else flat + ci * strides[j]
        index.append(flat)
        valid.append(ok)
        ws = [w for _, w, _ in combo]
        if mode == "nearest":
            weight.append(None)
            continue
        prod = ws[0]
        for w in ws[1:]:
            prod = prod * w
        weight.append(prod)
        if want_grad:
            for j in range(d):
                dj = combo[j][2]
                for k in range(d):
                    if k != j:
                        dj = dj * ws[k]
                dweights[j].append(dj * typ(mult[j]) if mode == "bicubic" else dj * mult[j])
    taps = _Taps()
    taps.index = xp.stack(index, 1)
    v = xp.stack(valid, 1)
    taps.valid = None if bool(v.all()) else v
    taps.weight = None if mode == "nearest" else xp.stack(weight, 1)
    taps.dweights = [xp.stack(dw, 1) for dw in dweights] if (want_grad and mode != "nearest") else None
    return taps


def _gather(xp, x, taps):
    """(N, K, P, C) values of the taps, gathered channels-last (one index per tap, C contiguous values
    each); taps outside the input read 0 (never the clamped index)."""
    n, c = x.shape[:2]
    xt = xp.ascontiguousarray(x.reshape(n, c, -1).transpose(0, 2, 1))  # (N, L, C)
    k, p = taps.index.shape[1:]
    vals = xt[xp.arange(n)[:, None], taps.index.reshape(n, k * p)].reshape(n, k, p, c)
    if taps.valid is not None:
        vals = xp.where(taps.valid[..., None], vals, vals.dtype.type(0))
    return vals


def _sample_forward(x, grid, mode, padding, align):
    xp = _ns(x)
    n, c = x.shape[:2]
    sizes = x.shape[2:]
    out_sp = grid.shape[1:-1]
    g = grid.reshape(n, -1, grid.shape[-1])
    taps = _taps(xp, g, sizes, mode, padding, align, False)
    vals = _gather(xp, x, taps)
    if taps.weight is None:
        out = vals[:, 0].transpose(0, 2, 1)
    else:
        out = xp.einsum("nkpc,nkp->ncp", vals, taps.weight)
    return xp.ascontiguousarray(out).reshape((n, c) + tuple(out_sp))


def _sample_backward(gout, x, grid, mode, padding, align, need_input, need_grid):
    xp = _ns(x)
    n, c = x.shape[:2]
    sizes = x.shape[2:]
    d = len(sizes)
    g = grid.reshape(n, -1, d)
    go = gout.reshape(n, c, -1)
    taps = _taps(xp, g, sizes, mode, padding, align, need_grid)
    gi = gg = None
    if need_input:
        k, p = taps.index.shape[1:]
        contrib = go[:, :, None, :] if taps.weight is None else go[:, :, None, :] * taps.weight[:, None]
        if taps.valid is not None:
            contrib = xp.where(taps.valid[:, None], contrib, contrib.dtype.type(0))
        contrib = xp.broadcast_to(contrib, (n, c, k, p))
        length = 1
        for s in sizes:
            length *= s
        base = (xp.arange(n * c, dtype=xp.int64) * length).reshape(n, c, 1, 1)
        flat = (base + taps.index[:, None]).reshape(-1)
        gi = xp.bincount(flat, weights=contrib.reshape(-1), minlength=n * c * length)
        gi = gi.astype(x.dtype, copy=False).reshape(x.shape)
    if need_grid:
        if taps.dweights is None:  # nearest: the output is piecewise constant in the grid
            gg = xp.zeros_like(grid)
        else:
            gv = xp.einsum("ncp,nkpc->nkp", go, _gather(xp, x, taps))
            gg = xp.stack([(gv * dw).sum(1) for dw in taps.dweights], -1).astype(grid.dtype, copy=False)
            gg = gg.reshape(grid.shape)
    return gi, gg


def _backward_forward(ctx, gout, x, grid, mode, padding, align, need_input, need_grid):
    gi, gg = _sample_backward(gout, x, grid, mode, padding, align, need_input, need_grid)
    if need_input and need_grid:
        return gi, gg
    return gi if need_input else gg


def _no_double_backward(name):
    """The backward as a primitive of its own (what ``create_graph=True`` records): its outputs are
    graph nodes, but differentiating them again raises, naming the op."""
    def backward(ctx, *grads):
        raise RuntimeError(f"derivative for aten::{name} is not implemented in Ember")
    return type(name, (Function,), {"raw": True, "node_name": "NotImplemented",
                                    "forward": staticmethod(_backward_forward), "backward": staticmethod(backward)})


class _GridSampler(Function):
    raw = True
    _backward_fn = None  # the backward primitive recorded under create_graph=True

    @staticmethod
    def forward(ctx, x, grid, mode, padding, align):
        ctx.save_for_backward(x, grid)
        ctx.opts = (mode, padding, align)
        return _sample_forward(x, grid, mode, padding, align)

    @staticmethod
    def backward(ctx, gout):
        x, grid = ctx.saved_tensors
        need_x, need_grid = ctx.needs_input_grad[:2]
        if not (need_x or need_grid):
            return None, None, None, None, None
        if isinstance(gout, Tensor):  # create_graph=True: the gradients are themselves graph nodes
            out = ctx._fn._backward_fn.apply(gout, x, grid, *ctx.opts, need_x, need_grid)
            gi, gg = out if need_x and need_grid else ((out, None) if need_x else (None, out))
        else:
            gi, gg = _sample_backward(gout, x, grid, *ctx.opts, need_x, need_grid)
        return gi, gg, None, None, None


class GridSampler2D(_GridSampler):
    node_name = "GridSampler2DBackward0"
    _backward_fn = _no_double_backward("grid_sampler_2d_backward")


class GridSampler3D(_GridSampler):
    node_name = "GridSampler3DBackward0"
    _backward_fn = _no_double_backward("grid_sampler_3d_backward")


def _sizes(t):
    return "[" + ", ".join(str(s) for s in t.shape) + "]"


def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear", padding_mode: str = "zeros",
                align_corners: bool | None = None) -> Tensor:
    """Sample ``input`` at the points of ``grid``.

    input (N, C, H, W) with grid (N, H_out, W_out, 2) -> (N, C, H_out, W_out); input (N, C, D, H, W)
    with grid (N, D_out, H_out, W_out, 3) -> (N, C, D_out, H_out, W_out). ``grid[..., 0]`` is x (the
    width axis) in [-1, 1], then y, then z. ``mode``: bilinear (trilinear for 5-D), nearest, bicubic
    (4-D only); ``padding_mode``: zeros, border, reflection."""
    if mode not in _MODES:
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or 'bicubic', "
                         f"but got: '{mode}'")
    if padding_mode not in _PADDINGS:
        raise ValueError("nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or "
                         f"'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        _warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    if not isinstance(input, Tensor) or not isinstance(grid, Tensor):
        raise TypeError(f"grid_sample(): expected input and grid to be Tensors, but got "
                        f"{type(input).__name__} and {type(grid).__name__}")
    if input.device != grid.device:
        raise RuntimeError(f"grid_sampler(): expected input and grid to be on same device, but input is on "
                           f"{input.device} and grid is on {grid.device}")
    if input.dtype != grid.dtype:
        raise RuntimeError(f"grid_sampler(): expected input and grid to have the same dtype, but input has "
                           f"{input.dtype} and grid has {grid.dtype}")
    if input.shape[0] != grid.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid and input to have same batch size, but got input with "
                           f"sizes {_sizes(input)} and grid with sizes {_sizes(grid)}")
    if grid.shape[-1] != input.dim() - 2:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {input.dim() - 2} in last dimension, but "
                           f"got grid with sizes {_sizes(grid)}")
    if input.dim() != grid.dim() or input.dim() not in (4, 5):
        raise RuntimeError(f"grid_sampler(): expected {4 if input.dim() == 4 else 5}D input and grid with same "
                           f"number of dimensions, but got input with sizes {_sizes(input)} and grid with sizes "
                           f"{_sizes(grid)}")
    for i in range(2, input.dim()):
        if input.shape[i] == 0:
            raise RuntimeError(f"grid_sampler(): expected input to have non-empty spatial dimensions, but input "
                               f"has sizes {_sizes(input)} with dimension {i} being empty")
    if mode == "bicubic" and input.dim() != 4:
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f'"grid_sampler_{input.dim() - 2}d" not implemented for {input.dtype} '
                                  "(floating point only)")
    fn = GridSampler2D if input.dim() == 4 else GridSampler3D
    return fn.apply(input, grid, mode, padding_mode, bool(align_corners))


# --------------------------------------------------------------------------- affine_grid
def _base_coords(xp, n, align, dtype):
    """The normalised pixel-centre coordinates of one axis (0 for a single pixel)."""
    if n <= 1:
        return xp.zeros(max(n, 0), dtype=dtype)
    r = xp.linspace(-1, 1, n, dtype=dtype)
    if not align:  # two roundings, as PyTorch scales: r * (n - 1) / n
        r = r * dtype.type(n - 1) / dtype.type(n)
    return r


def _base_grid(xp, spatial, align, dtype):
    """(prod(spatial), d + 1): rows (x, y[, z], 1) over the output points, x varying fastest."""
    axes = [_base_coords(xp, s, align, dtype) for s in spatial]  # outermost first
    mesh = xp.meshgrid(*axes, indexing="ij")
    cols = [m.reshape(-1) for m in reversed(mesh)]
    cols.append(xp.ones_like(cols[0]) if cols else xp.ones(1, dtype=dtype))
    return xp.stack(cols, 1)


class AffineGridGenerator(Function):
    raw = True
    node_name = "AffineGridGeneratorBackward0"

    @staticmethod
    def forward(ctx, theta, size, align):
        xp = _ns(theta)
        spatial = tuple(size[2:])
        base = _base_grid(xp, spatial, align, theta.dtype)
        ctx.base, ctx.size = base, tuple(size)
        n = theta.shape[0]
        out = xp.matmul(base, theta.transpose(0, 2, 1))  # (N, P, d)
        return out.reshape((n,) + spatial + (theta.shape[1],))

    @staticmethod
    def backward(ctx, g):
        base = ctx.base
        n, d = g.shape[0], g.shape[-1]
        gf = g.reshape(n, -1, d)
        if isinstance(g, Tensor):  # create_graph: written with Tensor ops so it is differentiable again
            from ...ops.creation import tensor
            bt = tensor(base, device=g.device)
            return gf.transpose(1, 2).matmul(bt), None, None
        return _ns(g).matmul(gf.transpose(0, 2, 1), base), None, None


def affine_grid(theta: Tensor, size, align_corners: bool | None = None) -> Tensor:
    """The sampling grid of a batch of affine maps, for ``grid_sample``.

    theta (N, 2, 3) with size (N, C, H, W) -> (N, H, W, 2); theta (N, 3, 4) with size
    (N, C, D, H, W) -> (N, D, H, W, 3). Each output point is ``theta @ (x, y[, z], 1)`` at the
    normalised coordinates of that output pixel."""
    if align_corners is None:
        _warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    if not theta.is_floating_point():
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    size = tuple(int(s) for s in size)
    if len(size) == 4:
        if theta.dim() != 3 or tuple(theta.shape[-2:]) != (2, 3):
            raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size {size}. "
                             f"Got {theta.shape}.")
        spatial = size[-2:]
    elif len(size) == 5:
        if theta.dim() != 3 or tuple(theta.shape[-2:]) != (3, 4):
            raise ValueError(f"Expected a batch of 3D affine matrices of shape Nx3x4 for size {size}. "
                             f"Got {theta.shape}.")
        spatial = size[-3:]
    else:
        raise NotImplementedError("affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, "
                                  f"respectively. Got size {size}.")
    if align_corners and min(spatial) == 1:
        _warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size grids when "
                       "align_corners=True. This is not an intended use case of affine_grid. See the "
                       "documentation of affine_grid for details.", stacklevel=2)
    elif min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    if theta.shape[0] != size[0]:
        raise RuntimeError(f"affine_grid_generator(): expected theta's batch size {theta.shape[0]} to equal "
                           f"size[0] = {size[0]}")
    return AffineGridGenerator.apply(theta, size, bool(align_corners))
