"""Pooling: max/avg pooling (1-3 d), adaptive max/avg pooling, max_unpool, lp pooling.

The public functions validate their arguments and pick a path: the array path of ``pooling_windows``
(window index tables, see there) or, on a device that compiles kernels, the fused kernels of
``pooling_kernels``. The indices returned by ``return_indices=True`` are flat spatial indices, as
PyTorch returns them.
"""
from __future__ import annotations

import math

import numpy as np

from ..._tensor import Tensor, _wrap
from ...amp.autocast_mode import _ACTIVE as _AUTOCAST, cast_float32 as _cast_float32
from ...backends import namespace_of
from .conv import _ntuple
from .pooling_windows import (_window_dim, _adaptive_dim, _table, _gather, _scatter,  # noqa: F401
                              _scatter_tensor, _MaxPool, _MaxPoolTiled, _tile_views, _AvgPool)
from .pooling_kernels import (_MAX_FWD, _MAX_BWD, _AVG_FWD, _AVG_BWD, _geom, _rows,  # noqa: F401
                              _MaxPoolDevice, _avg_fwd_arr, _avg_adj_arr, _AvgPoolDevice,
                              _AvgPoolDeviceAdjoint)


_NAMED = {}


def _fn(base, name):
    """A subclass of ``base`` whose grad_fn is called ``name`` (PyTorch's per-op names)."""
    cls = _NAMED.get((base, name))
    if cls is None:
        cls = _NAMED[(base, name)] = type(name.replace("Backward0", ""), (base,), {"node_name": name})
    return cls


# --------------------------------------------------------------------------- helpers
def _prep(input, nd, name):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(f"{name}: Expected {nd + 1}D or {nd + 2}D (batch mode) tensor for input, but got: "
                           f"{list(input.shape)}")
    if any(s == 0 for s in input.shape[-nd - 1:]):
        raise RuntimeError(f"{name}: Expected input's non-batch dimensions to have positive length, but input has a "
                           f"shape of {list(input.shape)}")


def _pool_out(n, k, s, p, d, ceil_mode):
    num = n + 2 * p - d * (k - 1) - 1
    o = (-(-num // s) if ceil_mode else num // s) + 1
    if ceil_mode and (o - 1) * s >= n + p:
        o -= 1
    return o


def _pool_dims(input, nd, kernel_size, stride, padding, dilation, ceil_mode, name):
    k = _ntuple(kernel_size, nd, "kernel_size")
    s = k if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0) else _ntuple(stride, nd)
    p = _ntuple(padding, nd, "padding")
    d = _ntuple(dilation, nd, "dilation")
    if any(v <= 0 for v in k) or any(v <= 0 for v in s) or any(v <= 0 for v in d):
        raise RuntimeError(f"{name}: kernel_size, stride and dilation must be greater than zero, but got "
                           f"kernel_size={list(k)}, stride={list(s)}, dilation={list(d)}")
    for kk, pp, dd in zip(k, p, d):
        if pp < 0 or pp * 2 > (kk - 1) * dd + 1:
            raise RuntimeError(f"{name}: pad should be at most half of effective kernel size, but got pad={pp}, "
                               f"kernel_size={kk} and dilation={dd}")
    spatial = tuple(input.shape[-nd:])
    out = tuple(_pool_out(n, kk, ss, pp, dd, ceil_mode) for n, kk, ss, pp, dd in zip(spatial, k, s, p, d))
    if any(o < 1 for o in out):
        raise RuntimeError(f"{name}: Given input size: ({'x'.join(map(str, input.shape[-nd - 1:]))}). Calculated "
                           f"output size: ({'x'.join(map(str, (input.shape[-nd - 1],) + out))}). Output size is "
                           "too small")
    return spatial, k, s, p, d, out


def _max_pool(input, nd, kernel_size, stride, padding, dilation, ceil_mode, return_indices, name, node):
    _prep(input, nd, name)
    spatial, k, s, p, d, out = _pool_dims(input, nd, kernel_size, stride, padding, dilation, ceil_mode, name)
    xp = namespace_of(input._data)
    if xp is not np and _MAX_FWD.on(xp, input._data.dtype) is not None:
        return _fn(_MaxPoolDevice, node).apply(input, _geom(spatial, out, k, s, p, d, 0), out, return_indices)
    if k == s and not any(p) and all(dd == 1 for dd in d) and all(o * kk <= n for o, kk, n in zip(out, k, spatial)):
        y, idx = _fn(_MaxPoolTiled, node).apply(input, k, out)   # the common case: no gather table
        return (y, idx) if return_indices else y
    dims = [_window_dim(n, kk, ss, pp, dd, o, xp) for n, kk, ss, pp, dd, o in zip(spatial, k, s, p, d, out)]
    table, _ = _table(dims, spatial, xp)
    y, idx = _fn(_MaxPool, node).apply(input, table, out)
    return (y, idx) if return_indices else y


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """(N, C, L) -> (N, C, L_out); with ``return_indices`` also the flat argmax indices."""
    return _max_pool(input, 1, kernel_size, stride, padding, dilation, ceil_mode, return_indices, "max_pool1d",
                     "MaxPool1DWithIndicesBackward0")


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """(N, C, H, W) -> (N, C, H_out, W_out); indices are flat over H*W."""
    return _max_pool(input, 2, kernel_size, stride, padding, dilation, ceil_mode, return_indices, "max_pool2d",
                     "MaxPool2DWithIndicesBackward0")


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """(N, C, D, H, W) -> (N, C, D_out, H_out, W_out)."""
    if _AUTOCAST[0]:
        input, = _cast_float32(input)
    return _max_pool(input, 3, kernel_size, stride, padding, dilation, ceil_mode, return_indices, "max_pool3d",
                     "MaxPool3DWithIndicesBackward0")


def _with_indices(pool):
    """PyTorch's ``*_with_indices`` form of ``pool``: always ``(output, indices)``; ``return_indices`` is ignored."""
    def with_indices(input, *args, **kwargs):
        kwargs["return_indices"] = True
        if len(args) > pool.__code__.co_argcount - 2:   # a positional return_indices: replaced
            args = args[:pool.__code__.co_argcount - 2]
        return pool(input, *args, **kwargs)
    with_indices.__name__ = with_indices.__qualname__ = pool.__name__ + "_with_indices"
    with_indices.__doc__ = pool.__doc__
    return with_indices


max_pool1d_with_indices = _with_indices(max_pool1d)
max_pool2d_with_indices = _with_indices(max_pool2d)
max_pool3d_with_indices = _with_indices(max_pool3d)


def _avg_pool(input, nd, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, name, node):
    _prep(input, nd, name)
    if input._data.dtype.kind not in "fc":
        raise RuntimeError(f"\"{name}\" not implemented for '{str(input.dtype).split('.')[-1]}'")
    spatial, k, s, p, d, out = _pool_dims(input, nd, kernel_size, stride, padding, 1, ceil_mode, name)
    xp = namespace_of(input._data)
    if xp is not np and _AVG_FWD.on(xp, input._data.dtype) is not None:
        geom = _geom(spatial, out, k, s, p, d, 1) + (int(bool(count_include_pad)), int(divisor_override or 0))
        return _fn(_AvgPoolDevice, node).apply(input, geom, out)
    dims = [_window_dim(n, kk, ss, pp, 1, o, xp) for n, kk, ss, pp, o in zip(spatial, k, s, p, out)]
    table, valid = _table(dims, spatial, xp)
    if divisor_override:
        div = xp.full((table.shape[0],), divisor_override)
    elif count_include_pad:
        div = dims[0][2]
        for dd in dims[1:]:
            div = (div[:, None] * dd[2][None, :]).reshape(-1)
    else:
        div = valid.sum(axis=1)
    return _fn(_AvgPool, node).apply(input, table, valid, div, out)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """(N, C, L) -> (N, C, L_out), the mean over each window."""
    return _avg_pool(input, 1, kernel_size, stride, padding, ceil_mode, count_include_pad, None, "avg_pool1d",
                     "AvgPool2DBackward0")


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """(N, C, H, W) -> (N, C, H_out, W_out), the mean over each window."""
    return _avg_pool(input, 2, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override,
                     "avg_pool2d", "AvgPool2DBackward0")


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """(N, C, D, H, W) -> (N, C, D_out, H_out, W_out)."""
    if _AUTOCAST[0]:
        input, = _cast_float32(input)
    return _avg_pool(input, 3, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override,
                     "avg_pool3d", "AvgPool3DBackward0")


def _adaptive_sizes(input, output_size, nd, name):
    osz = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * nd
    if len(osz) != nd:
        raise RuntimeError(f"{name}: output_size must be {nd}, got {list(osz)}")
    spatial = tuple(input.shape[-nd:])
    osz = tuple(spatial[i] if o is None else int(o) for i, o in enumerate(osz))
    if any(o < 0 for o in osz):
        raise RuntimeError(f"{name}: elements of output_size must be greater than or equal to 0 but received "
                           f"{list(osz)}")
    return spatial, osz


def _adaptive(input, output_size, nd, name, node, kind, return_indices=False):
    _prep(input, nd, name)
    spatial, osz = _adaptive_sizes(input, output_size, nd, name)
    xp = namespace_of(input._data)
    if xp is not np and _MAX_FWD.on(xp, input._data.dtype) is not None and all(osz):
        ones = (1,) * nd
        geom = _geom(spatial, osz, ones, ones, (0,) * nd, ones, 2)
        if kind == "max":
            return _fn(_MaxPoolDevice, node).apply(input, geom, osz, return_indices)
        return _fn(_AvgPoolDevice, node).apply(input, geom + (0, 0), osz)
    dims = [_adaptive_dim(n, o, xp) for n, o in zip(spatial, osz)]
    table, valid = _table(dims, spatial, xp)
    if kind == "max":
        y, idx = _fn(_MaxPool, node).apply(input, table, osz)
        return (y, idx) if return_indices else y
    return _fn(_AvgPool, node).apply(input, table, valid, valid.sum(axis=1), osz)


def adaptive_avg_pool1d(input, output_size):
    """(N, C, L) -> (N, C, output_size): windows [floor(i*L/o), ceil((i+1)*L/o))."""
    return _adaptive(input, output_size, 1, "adaptive_avg_pool1d", "AdaptiveAvgPool2DBackward0", "avg")


def adaptive_avg_pool2d(input, output_size):
    """(N, C, H, W) -> (N, C, *output_size); an entry of None keeps that input size."""
    return _adaptive(input, output_size, 2, "adaptive_avg_pool2d", "AdaptiveAvgPool2DBackward0", "avg")


def adaptive_avg_pool3d(input, output_size):
    if _AUTOCAST[0]:
        input, = _cast_float32(input)
    return _adaptive(input, output_size, 3, "adaptive_avg_pool3d", "AdaptiveAvgPool3DBackward0", "avg")


def adaptive_max_pool1d(input, output_size, return_indices=False):
    return _adaptive(input, output_size, 1, "adaptive_max_pool1d", "AdaptiveMaxPool2DBackward0", "max",
                     return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    return _adaptive(input, output_size, 2, "adaptive_max_pool2d", "AdaptiveMaxPool2DBackward0", "max",
                     return_indices)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    return _adaptive(input, output_size, 3, "adaptive_max_pool3d", "AdaptiveMaxPool3DBackward0", "max",
                     return_indices)


adaptive_max_pool1d_with_indices = _with_indices(adaptive_max_pool1d)
adaptive_max_pool2d_with_indices = _with_indices(adaptive_max_pool2d)
adaptive_max_pool3d_with_indices = _with_indices(adaptive_max_pool3d)


def _max_unpool(input, indices, nd, kernel_size, stride, padding, output_size, name):
    k = _ntuple(kernel_size, nd)
    s = k if stride is None else _ntuple(stride, nd)
    p = _ntuple(padding, nd)
    spatial_in = tuple(input.shape[-nd:])
    default = tuple((spatial_in[i] - 1) * s[i] - 2 * p[i] + k[i] for i in range(nd))
    if output_size is None:
        out = default
    else:
        out = tuple(int(v) for v in output_size)[-nd:]
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(f"{name}: Expected shape of indices to be same as that of the input tensor "
                           f"({list(input.shape)}) but got indices tensor with shape: {list(indices.shape)}")
    lead = tuple(input.shape[:-nd])
    R = math.prod(lead)
    S = math.prod(out)
    idx = indices._data.reshape(R, -1)
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= S):
        raise RuntimeError(f"{name}: Found an invalid max index: {int(idx.max())} (output volumes are of size "
                           f"{'x'.join(map(str, out))}")
    from ...ops.creation import zeros
    z = zeros(R, S, dtype=input.dtype, device=input.device)
    y = z.scatter(1, _wrap(idx), input.reshape(R, -1))
    return y.reshape(lead + out)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _max_unpool(input, indices, 1, kernel_size, stride, padding, output_size, "max_unpool1d")


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Inverse of max_pool2d: put each value at its flat index, zeros elsewhere."""
    if _AUTOCAST[0]:
        input, = _cast_float32(input)
    return _max_unpool(input, indices, 2, kernel_size, stride, padding, output_size, "max_unpool2d")


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    if _AUTOCAST[0]:
        input, = _cast_float32(input)
    return _max_unpool(input, indices, 3, kernel_size, stride, padding, output_size, "max_unpool3d")


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """(sum over window of x^p)^(1/p), via avg_pool (as PyTorch computes it)."""
    k = _ntuple(kernel_size, 1)[0]
    out = avg_pool1d(input.pow(norm_type), k, stride, 0, ceil_mode)
    return (out.sign() * out.abs().relu()).mul(k).pow(1.0 / norm_type)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    kh, kw = _ntuple(kernel_size, 2)
    out = avg_pool2d(input.pow(norm_type), (kh, kw), stride, 0, ceil_mode)
    return (out.sign() * out.abs().relu()).mul(kh * kw).pow(1.0 / norm_type)
