"""Pooling: max/avg pooling (1-3 d), adaptive max/avg pooling, max_unpool.

Every pooling here is "gather a window, then reduce". One index table describes the windows:
``table[l, k]`` is the flat spatial index of the k-th element of output position l (or the
sentinel ``S`` = number of input positions, for padding and ragged adaptive windows). The
forward pass gathers ``x[..., table]`` once (vectorised, like im2col), reduces over k, and the
backward pass scatters the gradient back with one ``bincount``. The indices returned by
``return_indices=True`` are flat spatial indices, as PyTorch returns them.
"""
from __future__ import annotations

import itertools
import math

import numpy as np

from ..._tensor import Tensor, _wrap
from ...amp.autocast_mode import _ACTIVE as _AUTOCAST, cast_float32 as _cast_float32
from ...autograd.function import Function
from ...backends import namespace_of
from ...backends.kernels import Kernel
from .conv import _ntuple


# --------------------------------------------------------------------------- index tables
def _window_dim(n, k, s, p, d, o, xp):
    """Per-dim (idx (o, k), valid (o, k), count_with_pad (o,)) for a strided, padded, dilated window."""
    start = xp.arange(o) * s - p
    idx = start[:, None] + xp.arange(k)[None, :] * d
    valid = (idx >= 0) & (idx < n)
    end_pad = xp.minimum(start + (k - 1) * d + 1, n + p)
    return idx, valid, end_pad - start


def _adaptive_dim(n, o, xp):
    i = np.arange(o)
    start = (i * n) // o
    end = -((-(i + 1) * n) // o)
    k = int((end - start).max()) if o else 1
    idx = start[:, None] + np.arange(k)[None, :]
    valid = idx < end[:, None]
    return xp.asarray(idx), xp.asarray(valid), xp.asarray(end - start)


def _table(dims, spatial, xp):
    """Combine per-dim windows into (L, K) flat indices (invalid -> sentinel S) and the valid mask."""
    nd = len(dims)
    S = math.prod(spatial)
    flat = None
    valid = None
    for i, (idx, val, _) in enumerate(dims):
        o, k = idx.shape
        shape = [1] * (2 * nd)
        shape[i], shape[nd + i] = o, k
        stride_i = math.prod(spatial[i + 1:])
        f = (idx * stride_i).reshape(shape)
        v = val.reshape(shape)
        flat = f if flat is None else flat + f
        valid = v if valid is None else valid & v
    L = math.prod(d[0].shape[0] for d in dims)
    K = math.prod(d[0].shape[1] for d in dims)
    flat = xp.broadcast_to(flat, valid.shape)
    table = xp.where(valid, flat, S).reshape(L, K)
    return table, valid.reshape(L, K)


def _gather(x2, table, fill):
    """x2 (R, S) -> (R, L, K) with the sentinel column set to ``fill``."""
    xp = namespace_of(x2)
    ext = xp.empty((x2.shape[0], x2.shape[1] + 1), dtype=x2.dtype)
    ext[:, :-1] = x2
    ext[:, -1] = fill
    return ext[:, table]


def _scatter(w, idx, R, S):
    """Sum ``w`` (R, ...) into (R, S) at flat indices ``idx`` (R, ...) (the sentinel S is dropped)."""
    xp = namespace_of(w)
    rows = (xp.arange(R) * (S + 1)).reshape((R,) + (1,) * (idx.ndim - 1))
    out = xp.bincount((idx + rows).reshape(-1), weights=w.reshape(-1), minlength=R * (S + 1))
    return out.reshape(R, S + 1)[:, :S].astype(w.dtype, copy=False)


def _scatter_tensor(g, idx, R, S):
    """Tensor version of ``_scatter`` (differentiable, for create_graph)."""
    from ...ops.creation import zeros
    z = zeros(R, S + 1, dtype=g.dtype, device=g.device)
    L = int(math.prod(idx.shape[1:]))
    return z.scatter_add(1, _wrap(idx.reshape(R, L)), g.reshape(R, L))[:, :S]


# --------------------------------------------------------------------------- primitives
class _MaxPool(Function):
    """y[r, l] = max_k x[r, table[l, k]]; also returns the argmax's flat spatial index."""

    raw = True

    @staticmethod
    def forward(ctx, x, table, out_shape):
        xp = namespace_of(x)
        lead = x.shape[:-len(out_shape)]
        S = math.prod(x.shape[len(lead):])
        R = math.prod(lead)
        vals = _gather(x.reshape(R, S), table, -xp.inf)
        am = vals.argmax(axis=-1)
        y = xp.take_along_axis(vals, am[..., None], axis=-1)[..., 0]
        idx = table[xp.arange(table.shape[0])[None, :], am]
        if ctx.needs_input_grad:
            ctx.xshape, ctx.R, ctx.S = x.shape, R, S
            ctx.idx = idx
        idx_out = idx.astype(np.int64).reshape(lead + tuple(out_shape))
        ctx.mark_non_differentiable(idx_out)
        return y.reshape(lead + tuple(out_shape)), idx_out

    @staticmethod
    def backward(ctx, g, _gi=None):
        if isinstance(g, Tensor):
            return _scatter_tensor(g, ctx.idx, ctx.R, ctx.S).reshape(ctx.xshape), None, None
        return _scatter(g.reshape(ctx.R, -1), ctx.idx, ctx.R, ctx.S).reshape(ctx.xshape), None, None


class _MaxPoolTiled(Function):
    """Max pooling whose windows tile the input (stride == kernel, no padding, no dilation).

    The loop runs over the few kernel offsets (never over pixels), each step an elementwise op on
    a strided view: NumPy reductions over a length-4 last axis are ~10x slower. Like PyTorch, the
    first maximum in window order wins, and a NaN wins over numbers (the last NaN, as PyTorch).
    """

    raw = True

    @staticmethod
    def forward(ctx, x, k, out_shape):
        xp = namespace_of(x)
        nd = len(k)
        lead = x.shape[:-nd]
        spatial = x.shape[-nd:]
        R = math.prod(lead)
        views, offs, base = _tile_views(x.reshape((R,) + spatial), k, out_shape, spatial, xp)
        y = views[0].copy()
        for v in views[1:]:
            xp.maximum(y, v, out=y)      # propagates NaN
        # arg: the winning offset's position j in window order. Walking backwards, j -= (j - i) * [v_i == y]
        # leaves the first maximum; arithmetic on a bool mask (branch-free) is ~6x faster than a masked copy.
        K = len(views)
        dt = np.uint8 if K <= 255 else np.int32
        arg = xp.full(y.shape, K - 1, dtype=dt)
        for i in range(K - 2, -1, -1):
            d = arg - dt(i)
            d *= views[i] == y
            arg -= d
        nan = y != y
        if nan.any():
            for i, v in enumerate(views):
                xp.copyto(arg, i, where=nan & (v != v))
        idx = xp.take(xp.asarray(offs, dtype=np.int64), arg) + base
        if ctx.needs_input_grad:
            ctx.xshape, ctx.R, ctx.S, ctx.k, ctx.out = x.shape, R, math.prod(spatial), k, tuple(out_shape)
            ctx.arg, ctx.idx = arg, idx.reshape(R, -1)
        idx_out = idx.reshape(lead + tuple(out_shape))
        ctx.mark_non_differentiable(idx_out)
        return y.reshape(lead + tuple(out_shape)), idx_out

    @staticmethod
    def backward(ctx, g, _gi=None):
        if isinstance(g, Tensor):
            return _scatter_tensor(g, ctx.idx, ctx.R, ctx.S).reshape(ctx.xshape), None, None
        xp = namespace_of(g)
        nd = len(ctx.k)
        spatial = ctx.xshape[-nd:]
        gx = xp.zeros((ctx.R,) + tuple(spatial), dtype=g.dtype)
        views, offs, _ = _tile_views(gx, ctx.k, ctx.out, spatial, xp)
        g = g.reshape((ctx.R,) + ctx.out)
        arg = ctx.arg
        for i, v in enumerate(views):
            xp.multiply(g, arg == i, out=v)
        return gx.reshape(ctx.xshape), None, None


def _tile_views(xr, k, out_shape, spatial, xp):
    """Strided views (R, *out) of ``xr`` (R, *spatial), one per kernel offset in window order, each
    offset's flat spatial index, and the flat index of every window's origin (broadcasts over R)."""
    nd = len(k)
    views, offs = [], []
    strides = [math.prod(spatial[i + 1:]) for i in range(nd)]
    for off in itertools.product(*[range(kk) for kk in k]):
        views.append(xr[(slice(None),) + tuple(slice(o, o + n * kk, kk) for o, n, kk in zip(off, out_shape, k))])
        offs.append(sum(o * st for o, st in zip(off, strides)))
    base = 0
    for i in range(nd):
        pos = xp.arange(out_shape[i]) * (k[i] * strides[i])
        base = base + pos.reshape((1,) * i + (-1,) + (1,) * (nd - i - 1))
    return views, offs, base


class _AvgPool(Function):
    """y[r, l] = sum_k x[r, table[l, k]] / div[l]."""

    raw = True

    @staticmethod
    def forward(ctx, x, table, valid, div, out_shape):
        lead = x.shape[:-len(out_shape)]
        S = math.prod(x.shape[len(lead):])
        R = math.prod(lead)
        y = _gather(x.reshape(R, S), table, 0).sum(axis=-1)
        y /= div.astype(y.dtype, copy=False)
        if ctx.needs_input_grad:
            ctx.xshape, ctx.R, ctx.S = x.shape, R, S
            ctx.table, ctx.div = table, div
        return y.reshape(lead + tuple(out_shape))

    @staticmethod
    def backward(ctx, g):
        R, S, table = ctx.R, ctx.S, ctx.table
        if isinstance(g, Tensor):
            from ...ops.creation import tensor
            w = (g.reshape(R, -1) / tensor(ctx.div.astype(g._data.dtype), device=g.device)).unsqueeze(-1)
            w = w.expand(R, table.shape[0], table.shape[1])
            idx = namespace_of(table).broadcast_to(table, (R,) + table.shape)
            return _scatter_tensor(w, idx, R, S).reshape(ctx.xshape), None, None, None, None
        xp = namespace_of(g)
        w = (g.reshape(R, -1) / ctx.div.astype(g.dtype, copy=False))[..., None]
        w = xp.broadcast_to(w, (R,) + table.shape)
        idx = xp.broadcast_to(table, (R,) + table.shape)
        return _scatter(w, idx, R, S).reshape(ctx.xshape), None, None, None, None



# --------------------------------------------------------------------------- device kernels
# On a GPU the array path above is ~30 launches per pooling call (views, masks, a host sync for NaN),
# so on a device that compiles kernels every pooling is one kernel forward and one backward. The
# kernels see 1-d and 2-d pooling as 3-d pooling with unit leading dims. Window rules (PyTorch's):
#   mode 0, max:      positions o*s - p + a*d (a < k) inside [0, n)
#   mode 1, avg:      [o*s - p, min(o*s - p + k, n + p)) clipped to [0, n); span = unclipped length
#   mode 2, adaptive: [floor(o*n/O), ceil((o+1)*n/O))
# The backward kernels gather: every input element sums, in output order, over the outputs whose
# window may hold it, so no zero fill, no atomics, and the same summation order as PyTorch's CPU loop.
_WIN = r"""
#ifndef EMBER_POOL_WIN
#define EMBER_POOL_WIN
__device__ inline void ember_pool_win(int o, int n_, int O, int k, int s, int p, int d, int mode,
                                      int* lo, int* hi, int* span) {
  if (mode == 2) {
    *lo = (int)(((long long)o * n_) / O);
    *hi = (int)(((long long)(o + 1) * n_ + O - 1) / O);
    *span = *hi - *lo;
    return;
  }
  int a = o * s - p;
  if (mode == 1) {
    int b = min(a + k, n_ + p);
    *span = b - a;
    *lo = max(a, 0);
    *hi = min(b, n_);
    return;
  }
  int b = min(a + (k - 1) * d + 1, n_);
  while (a < 0) a += d;
  *lo = a;
  *hi = b;
  *span = 0;
}
__device__ inline void ember_pool_inv(int h, int n_, int O, int k, int s, int p, int d, int mode,
                                      int* lo, int* hi) {
  if (mode == 2) {
    *lo = (int)(((long long)h * O) / n_);
    *hi = min((int)(((long long)(h + 1) * O + n_ - 1) / n_), O);
    return;
  }
  int t = h + p - (k - 1) * d;
  *lo = t <= 0 ? 0 : (t + s - 1) / s;
  *hi = min((h + p) / s + 1, O);
}
#endif
"""

_GEOM = ("int32 D, int32 H, int32 W, int32 OD, int32 OH, int32 OW, int32 kd, int32 kh, int32 kw, "
         "int32 sd, int32 sh, int32 sw, int32 pd, int32 ph, int32 pw, int32 dd, int32 dh, int32 dw, int32 mode")

# one output element: its row r and window position (od, oh, ow), and its window per dim
_OUT_POS = """
    const long long L = (long long)OD * OH * OW;
    const long long r = i / L;
    long long l = i - r * L;
    const int ow = (int)(l % OW);
    l /= OW;
    const int oh = (int)(l % OH);
    const int od = (int)(l / OH);
    int d0, d1, h0, h1, w0, w1, spd, sph, spw;
    ember_pool_win(od, D, OD, kd, sd, pd, dd, mode, &d0, &d1, &spd);
    ember_pool_win(oh, H, OH, kh, sh, ph, dh, mode, &h0, &h1, &sph);
    ember_pool_win(ow, W, OW, kw, sw, pw, dw, mode, &w0, &w1, &spw);
    const long long base = r * ((long long)D * H * W);
"""

# one input element: its row r, position (a, b, c) and flat spatial index q, and the outputs that may use it
_IN_POS = """
    const long long S = (long long)D * H * W;
    const long long r = i / S;
    const long long q = i - r * S;
    const int c = (int)(q % W);
    const int b = (int)((q / W) % H);
    const int a = (int)(q / ((long long)W * H));
    int od0, od1, oh0, oh1, ow0, ow1;
    ember_pool_inv(a, D, OD, kd, sd, pd, dd, mode, &od0, &od1);
    ember_pool_inv(b, H, OH, kh, sh, ph, dh, mode, &oh0, &oh1);
    ember_pool_inv(c, W, OW, kw, sw, pw, dw, mode, &ow0, &ow1);
    const long long L = (long long)OD * OH * OW;
    const long long base = r * L;
"""

# PyTorch's rule: the first maximum in window order wins, and every NaN replaces the running max
# (so the last NaN wins, and a NaN is never replaced by a number).
_MAX_FWD = Kernel(
    "raw T x, " + _GEOM, "T y, int64 idx",
    _OUT_POS + """
    T m = (T)0;
    long long am = -1;
    for (int a = d0; a < d1; a += dd) {
      for (int b = h0; b < h1; b += dh) {
        for (int c = w0; c < w1; c += dw) {
          const long long q = ((long long)a * H + b) * W + c;
          const T v = x[base + q];
          if (am < 0 || v > m || v != v) { m = v; am = q; }
        }
      }
    }
    y = m;
    idx = am;
    """, "ember_maxpool_fwd", preamble=_WIN)

_MAX_BWD = Kernel(
    "raw T g, raw int64 idx, " + _GEOM, "T gx",
    _IN_POS + """
    T acc = (T)0;
    for (int od = od0; od < od1; ++od) {
      for (int oh = oh0; oh < oh1; ++oh) {
        for (int ow = ow0; ow < ow1; ++ow) {
          const long long l = base + ((long long)od * OH + oh) * OW + ow;
          if (idx[l] == q) { acc += g[l]; }
        }
      }
    }
    gx = acc;
    """, "ember_maxpool_bwd", preamble=_WIN)

# divisor: ``divisor`` when > 0 (divisor_override), else the padded window size (count_include_pad,
# mode 1) or the number of input elements in the window
_DIV = """
    const long long div = divisor > 0 ? (long long)divisor
        : (mode == 1 && count_pad ? (long long)spd * sph * spw
           : (long long)(d1 - d0) * (h1 - h0) * (w1 - w0));
"""

_AVG_FWD = Kernel(
    "raw T x, " + _GEOM + ", int32 count_pad, int32 divisor", "T y",
    _OUT_POS + """
    T acc = (T)0;
    for (int a = d0; a < d1; ++a) {
      for (int b = h0; b < h1; ++b) {
        for (int c = w0; c < w1; ++c) {
          acc += x[base + ((long long)a * H + b) * W + c];
        }
      }
    }""" + _DIV + """
    y = acc / (T)div;
    """, "ember_avgpool_fwd", preamble=_WIN)

_AVG_BWD = Kernel(
    "raw T g, " + _GEOM + ", int32 count_pad, int32 divisor", "T gx",
    _IN_POS + """
    T acc = (T)0;
    for (int od = od0; od < od1; ++od) {
      int d0, d1, spd;
      ember_pool_win(od, D, OD, kd, sd, pd, dd, mode, &d0, &d1, &spd);
      for (int oh = oh0; oh < oh1; ++oh) {
        int h0, h1, sph;
        ember_pool_win(oh, H, OH, kh, sh, ph, dh, mode, &h0, &h1, &sph);
        for (int ow = ow0; ow < ow1; ++ow) {
          int w0, w1, spw;
          ember_pool_win(ow, W, OW, kw, sw, pw, dw, mode, &w0, &w1, &spw);""" + _DIV + """
          acc += g[base + ((long long)od * OH + oh) * OW + ow] / (T)div;
        }
      }
    }
    gx = acc;
    """, "ember_avgpool_bwd", preamble=_WIN)


def _geom(spatial, out, k, s, p, d, mode):
    """The kernels' geometry arguments: 1-d and 2-d pooling padded to 3-d with unit leading dims."""
    one = (1,) * (3 - len(spatial))
    zero = (0,) * (3 - len(spatial))
    return (one + tuple(spatial) + one + tuple(out) + one + tuple(k) + one + tuple(s) + zero + tuple(p)
            + one + tuple(d) + (mode,))


def _rows(x, nd):
    lead = x.shape[:-nd]
    return lead, math.prod(lead)


class _MaxPoolDevice(Function):
    """Max pooling as one device kernel (value and PyTorch's flat index), its backward as one more.
    Without ``with_idx`` only the values are outputs: the engine then has no index output to give a
    zero gradient (a device fill per call)."""

    raw = True

    @staticmethod
    def forward(ctx, x, geom, out_shape, with_idx):
        xp = namespace_of(x)
        lead, R = _rows(x, len(out_shape))
        if not x.flags.c_contiguous:
            x = xp.ascontiguousarray(x)
        y, idx = _MAX_FWD.on(xp)(x, *geom, size=R * math.prod(out_shape))
        if ctx.needs_input_grad:
            ctx.geom, ctx.xshape, ctx.R, ctx.idx = geom, x.shape, R, idx
            ctx.S = math.prod(x.shape[len(lead):])
        y = y.reshape(lead + tuple(out_shape))
        if not with_idx:
            return y
        idx_out = idx.reshape(lead + tuple(out_shape))
        ctx.mark_non_differentiable(idx_out)
        return y, idx_out

    @staticmethod
    def backward(ctx, g, _gi=None):
        R, S, xshape = ctx.R, ctx.S, ctx.xshape
        if isinstance(g, Tensor):
            return _scatter_tensor(g, ctx.idx.reshape(R, -1), R, S).reshape(xshape), None, None, None
        xp = namespace_of(g)
        if not g.flags.c_contiguous:
            g = xp.ascontiguousarray(g)
        return _MAX_BWD.on(xp)(g, ctx.idx, *ctx.geom, size=R * S).reshape(xshape), None, None, None


def _avg_fwd_arr(x, geom, out_shape):
    xp = namespace_of(x)
    lead, R = _rows(x, len(out_shape))
    if not x.flags.c_contiguous:
        x = xp.ascontiguousarray(x)
    return _AVG_FWD.on(xp)(x, *geom, size=R * math.prod(out_shape)).reshape(lead + tuple(out_shape))


def _avg_adj_arr(g, geom, xshape):
    xp = namespace_of(g)
    if not g.flags.c_contiguous:
        g = xp.ascontiguousarray(g)
    return _AVG_BWD.on(xp)(g, *geom, size=math.prod(xshape)).reshape(xshape)


class _AvgPoolDevice(Function):
    """Average pooling as one device kernel; its backward is the adjoint kernel (and vice versa, so
    double backward stays two kernels)."""

    raw = True

    @staticmethod
    def forward(ctx, x, geom, out_shape):
        ctx.geom, ctx.xshape, ctx.nd = geom, x.shape, len(out_shape)
        return _avg_fwd_arr(x, geom, out_shape)

    @staticmethod
    def backward(ctx, g):
        if isinstance(g, Tensor):
            return _AvgPoolDeviceAdjoint.apply(g, ctx.geom, ctx.xshape, ctx.nd), None, None
        return _avg_adj_arr(g, ctx.geom, ctx.xshape), None, None


class _AvgPoolDeviceAdjoint(Function):
    raw = True
    node_name = "AvgPool2DBackwardBackward0"

    @staticmethod
    def forward(ctx, g, geom, xshape, nd):
        ctx.geom, ctx.out = geom, tuple(g.shape[-nd:])
        return _avg_adj_arr(g, geom, xshape)

    @staticmethod
    def backward(ctx, gg):
        if isinstance(gg, Tensor):
            return _AvgPoolDevice.apply(gg, ctx.geom, ctx.out), None, None, None
        return _avg_fwd_arr(gg, ctx.geom, ctx.out), None, None, None


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
