"""Pooling on a device that compiles kernels: the fused max/avg pooling kernels and their Functions
(one kernel forward, one backward; 1-d and 2-d pooling run as 3-d pooling with unit leading dims)."""
from __future__ import annotations

import math

from ..._tensor import Tensor
from ...autograd.function import Function
from ...backends import namespace_of
from ...backends.kernels import Kernel
from .pooling_windows import _scatter_tensor


# --------------------------------------------------------------------------- device kernels
# On a GPU the array path (pooling_windows.py) is ~30 launches per pooling call (views, masks, a host
# sync for NaN), so on a device that compiles kernels every pooling is one kernel forward and one
# backward. The kernels see 1-d and 2-d pooling as 3-d pooling with unit leading dims. Window rules
# (PyTorch's):
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
