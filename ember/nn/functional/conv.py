"""Convolutions: ``conv1d/2d/3d``, ``conv_transpose1d/2d/3d``, ``unfold``/``fold`` (im2col/col2im).

One trilinear form carries everything: ``T(x, w, g) = <g, conv(x, w)>``. Its three partial
adjoints are three raw primitives sharing two array kernels:

* ``Convolution``   y = conv(x, w) (+ bias); also conv_transpose via ``transposed=True``
* ``_ConvGradInput``  dx = conv^T(g, w)           (col2im of ``w^T @ g``)
* ``_ConvGradWeight`` dw = sum_n g @ im2col(x)^T

Each one's backward is written with the other two, so ``create_graph=True`` (double backward)
works, while the fast path calls the array kernels directly and reuses the im2col buffer that
the forward pass made contiguous once.

For the convolutions, im2col is a strided view (``as_strided``) of the padded input transposed
to (C, *S, N), copied once into the layout (groups, C/groups * prod(kernel), L * N): the batch
innermost, so the copy and col2im move long contiguous rows. The convolution is then one GEMM
per group. col2im accumulates with a loop over kernel offsets only (never over pixels or batch
elements). ``unfold``/``fold`` keep the (N * L) column order of their own layout.
"""
from __future__ import annotations

import itertools
import math

import numpy as np

from ..._tensor import Tensor
from ...amp.autocast_mode import _ACTIVE as _AUTOCAST, cast_lower as _cast_lower
from ...autograd.function import Function
from ...backends import namespace_of
from ...backends.kernels import Kernel


def _ntuple(v, n, name="argument"):
    if isinstance(v, (tuple, list)):
        if len(v) == 1 and n > 1:
            return tuple(int(v[0]) for _ in range(n))
        if len(v) != n:
            raise RuntimeError(f"expected {name} to be a single integer value or a list of {n} values to match the "
                               f"convolution dimensions, but got {name}={list(v)}")
        return tuple(int(i) for i in v)
    return (int(v),) * n


# --------------------------------------------------------------------------- array kernels
class _Params(tuple):
    """(stride, pad pairs ((lo, hi), ...), dilation, groups)."""

    __slots__ = ()


def _out_size(size, k, s, p, d):
    return (size + p[0] + p[1] - d * (k - 1) - 1) // s + 1


def _im2col(x, kshape, params):
    """(N, C, *S) -> col (g, C/g * prod(k), N * L) contiguous, plus the output spatial shape.

    Groups lead and the batch sits inside the GEMM's column dimension, so a convolution is one
    GEMM per group (a single GEMM when groups == 1) and both gradients are GEMMs on the same buffer.
    """
    stride, pads, dil, groups = params
    xp = namespace_of(x)
    nd = len(kshape)
    if any(p[1] < 0 for p in pads):  # a negative high pad (conv_transpose's output_padding) crops
        x = x[(slice(None), slice(None)) + tuple(slice(0, x.shape[2 + i] + min(p[1], 0)) for i, p in enumerate(pads))]
    if any(p[0] or p[1] > 0 for p in pads):
        x = xp.pad(x, ((0, 0), (0, 0)) + tuple((p[0], max(p[1], 0)) for p in pads))
    N, C = x.shape[:2]
    S = x.shape[2:]
    out = tuple(_out_size(S[i], kshape[i], stride[i], (0, 0), dil[i]) for i in range(nd))
    st = x.strides
    cg = C // groups
    view = xp.lib.stride_tricks.as_strided(
        x, shape=(groups, cg) + tuple(kshape) + (N,) + out,
        strides=(st[1] * cg, st[1]) + tuple(st[2 + i] * dil[i] for i in range(nd)) + (st[0],)
        + tuple(st[2 + i] * stride[i] for i in range(nd)))
    col = xp.ascontiguousarray(view).reshape(groups, cg * math.prod(kshape), N * math.prod(out))
    return col, out


def _col2im(gcol, xshape, kshape, out, params):
    """Adjoint of ``_im2col``: (g, C/g * prod(k), N * L) -> (N, C, *S), accumulating kernel offsets."""
    stride, pads, dil, groups = params
    xp = namespace_of(gcol)
    nd = len(kshape)
    N, C = xshape[:2]
    padded = tuple(xshape[2 + i] + pads[i][0] + max(pads[i][1], 0) for i in range(nd))
    gx = xp.zeros((C, N) + padded, dtype=gcol.dtype)
    gcol = gcol.reshape((C,) + tuple(kshape) + (N,) + tuple(out))
    for offs in itertools.product(*[range(k) for k in kshape]):
        sl = tuple(slice(o * d, o * d + s * (n - 1) + 1, s) for o, d, s, n in zip(offs, dil, stride, out))
        gx[(slice(None), slice(None)) + sl] += gcol[(slice(None),) + offs]
    if any(p[0] or p[1] for p in pads):
        gx = gx[(slice(None), slice(None)) + tuple(slice(p[0], p[0] + xshape[2 + i]) for i, p in enumerate(pads))]
    return xp.ascontiguousarray(gx.swapaxes(0, 1))


def _wmat(w, groups):
    o = w.shape[0]
    return w.reshape(groups, o // groups, -1)


def _im2col_nl(x, kshape, params):
    """(N, C, *S) -> col (g, C/g * prod(k), L * N) contiguous, the batch innermost (the convolutions'
    layout): x is transposed to (C, *S, N) once, so the strided view copies rows of out_w * N
    contiguous elements instead of rows of out_w (~2x faster for LeNet-sized maps)."""
    stride, pads, dil, groups = params
    xp = namespace_of(x)
    nd = len(kshape)
    if any(p[1] < 0 for p in pads):  # a negative high pad (conv_transpose's output_padding) crops
        x = x[(slice(None), slice(None)) + tuple(slice(0, x.shape[2 + i] + min(p[1], 0)) for i, p in enumerate(pads))]
    N, C = x.shape[:2]
    S = tuple(x.shape[2 + i] + pads[i][0] + max(pads[i][1], 0) for i in range(nd))
    k = None if xp is np else _IM2COL.on(xp, x.dtype)   # NumPy: the array path
    if k is not None:
        if not x.flags.c_contiguous:
            x = xp.ascontiguousarray(x)
        out = tuple(_out_size(S[i], kshape[i], stride[i], (0, 0), dil[i]) for i in range(nd))
        L, K = math.prod(out), math.prod(kshape)
        col = k(x, *_geom3(N, C, x.shape[2:], out, kshape, stride, [p[0] for p in pads], dil), size=C * K * L * N)
        return col.reshape(groups, C // groups * K, L * N), out
    xt = xp.zeros((C,) + S + (N,), dtype=x.dtype) if any(p[0] or p[1] > 0 for p in pads) \
        else xp.empty((C,) + S + (N,), dtype=x.dtype)
    xt[(slice(None),) + tuple(slice(p[0], p[0] + x.shape[2 + i]) for i, p in enumerate(pads))] = \
        x.transpose((1,) + tuple(range(2, nd + 2)) + (0,))
    out = tuple(_out_size(S[i], kshape[i], stride[i], (0, 0), dil[i]) for i in range(nd))
    st = xt.strides
    cg = C // groups
    view = xp.lib.stride_tricks.as_strided(
        xt, shape=(groups, cg) + tuple(kshape) + out + (N,),
        strides=(st[0] * cg, st[0]) + tuple(st[1 + i] * dil[i] for i in range(nd))
        + tuple(st[1 + i] * stride[i] for i in range(nd)) + (st[nd + 1],))
    col = xp.ascontiguousarray(view).reshape(groups, cg * math.prod(kshape), math.prod(out) * N)
    return col, out


def _cols_nl(g, groups):
    """(N, O, *out) -> (g, O/g, L * N) contiguous, the batch innermost."""
    xp = namespace_of(g)
    N, O = g.shape[:2]
    gm = g.reshape((N, groups, O // groups, -1)).transpose(1, 2, 3, 0)
    return xp.ascontiguousarray(gm).reshape(groups, O // groups, -1)


def _conv_fwd(x, w, params, want_col=False, bias=None):
    groups = params[3]
    xp = namespace_of(x)
    col, out = _im2col_nl(x, w.shape[2:], params)
    y = _wmat(w, groups) @ col                                   # one GEMM per group: (g, O/g, L * N)
    N, nd = x.shape[0], len(out)
    k = None if xp is np else _CONV_OUT.on(xp, y.dtype)   # NumPy: the array path
    if k is not None:
        O, L = w.shape[0], math.prod(out)
        y = k(y, y if bias is None else bias, L, N, O, int(bias is not None), size=N * O * L).reshape((N, O) + out)
    else:
        y = xp.ascontiguousarray(y.reshape((w.shape[0],) + out + (N,)).transpose((nd + 1, 0) + tuple(range(1, nd + 1))))
        if bias is not None:
            y += bias.reshape((1, -1) + (1,) * nd)
    return (y, col) if want_col else y


def _conv_grad_input(g, w, params, xshape, gm=None, bias=None):
    """conv^T(g, w): one GEMM per group, then col2im with the batch as the innermost axis: every
    kernel offset's add then runs over long contiguous rows (out_w * N) instead of rows of out_w.
    ``gm`` is ``_cols_nl(g, groups)`` when the caller already has it; ``bias`` (conv_transpose's) is added."""
    stride, pads, dil, groups = params
    xp = namespace_of(g)
    N, O = g.shape[:2]
    out = g.shape[2:]
    kshape = w.shape[2:]
    nd = len(kshape)
    gcol = _wmat(w, groups).swapaxes(-1, -2) @ (_cols_nl(g, groups) if gm is None else gm)  # (g, C/g*K, L*N)
    C = xshape[1]
    k = None if xp is np else _COL2IM.on(xp, gcol.dtype)   # NumPy: the array path
    if k is not None:
        if not gcol.flags.c_contiguous:
            gcol = xp.ascontiguousarray(gcol)
        geom = _geom3(N, C, xshape[2:], out, kshape, stride, [p[0] for p in pads], dil)
        gx = k(gcol, gcol if bias is None else bias, int(bias is not None), *geom, size=math.prod(xshape))
        return gx.reshape(tuple(xshape))
    padded = tuple(xshape[2 + i] + pads[i][0] + max(pads[i][1], 0) for i in range(nd))
    gx = xp.zeros((C,) + padded + (N,), dtype=gcol.dtype)
    gcol = gcol.reshape((C,) + tuple(kshape) + tuple(out) + (N,))
    for offs in itertools.product(*[range(k) for k in kshape]):
        sl = tuple(slice(o * d, o * d + s * (n - 1) + 1, s) for o, d, s, n in zip(offs, dil, stride, out))
        gx[(slice(None),) + sl] += gcol[(slice(None),) + offs]
    if any(p[0] or p[1] for p in pads):
        gx = gx[(slice(None),) + tuple(slice(p[0], p[0] + xshape[2 + i]) for i, p in enumerate(pads))]
    gx = xp.ascontiguousarray(gx.transpose((nd + 1, 0) + tuple(range(1, nd + 1))))
    if bias is not None:
        gx += bias.reshape((1, -1) + (1,) * nd)
    return gx


def _conv_grad_weight(x, g, params, wshape, col=None, gm=None):
    groups = params[3]
    if col is None:
        col, _ = _im2col_nl(x, wshape[2:], params)
    if gm is None:
        gm = _cols_nl(g, groups)
    # (col @ g^T)^T: the long L*N axis as the GEMM's inner dimension of a C-order operand, ~1.7x
    # faster with OpenBLAS than g @ col^T for these skinny shapes
    gw = (col @ gm.swapaxes(-1, -2)).swapaxes(-1, -2)     # (g, O/g, C/g*K)
    return gw.reshape(wshape)


def _unfold_arr(x, kshape, params):
    """im2col in F.unfold's layout: (N, C * prod(k), L)."""
    col, out = _im2col(x, kshape, params)
    N = x.shape[0]
    xp = namespace_of(x)
    return xp.ascontiguousarray(col.reshape(-1, N, math.prod(out)).swapaxes(0, 1)), out


def _fold_arr(cols, xshape, kshape, out, params):
    """col2im from F.fold's layout (N, C * prod(k), L)."""
    xp = namespace_of(cols)
    gcol = xp.ascontiguousarray(cols.swapaxes(0, 1)).reshape(1, cols.shape[1], -1)
    return _col2im(gcol, xshape, kshape, out, params)


def _bias_grad(g):
    return g.sum(axis=(0,) + tuple(range(2, g.ndim)))


# --------------------------------------------------------------------------- device kernels
# On a GPU the array kernels above cost one launch per kernel offset (col2im), plus padding, transposing
# and bias copies; on a device that compiles kernels each of im2col, col2im and the output transpose
# (+ bias) is one kernel. They see 1-d and 2-d convolutions as 3-d ones with unit leading dims; the
# column layout is the array path's: (C, kD, kH, kW, oD, oH, oW, N), the batch innermost.
_GEOM = ("int32 N, int32 C, int32 D, int32 H, int32 W, int32 OD, int32 OH, int32 OW, int32 KD, int32 KH, "
         "int32 KW, int32 sd, int32 sh, int32 sw, int32 pd, int32 ph, int32 pw, int32 dd, int32 dh, int32 dw")

_IM2COL = Kernel(
    "raw T x, " + _GEOM, "T col",
    """
    long long t = i;
    const int nb = (int)(t % N);
    t /= N;
    const int ow = (int)(t % OW);
    t /= OW;
    const int oh = (int)(t % OH);
    t /= OH;
    const int od = (int)(t % OD);
    t /= OD;
    const int k3 = (int)(t % KW);
    t /= KW;
    const int k2 = (int)(t % KH);
    t /= KH;
    const int k1 = (int)(t % KD);
    const long long ch = t / KD;
    const int a = od * sd - pd + k1 * dd;
    const int b = oh * sh - ph + k2 * dh;
    const int c = ow * sw - pw + k3 * dw;
    col = (a >= 0 && a < D && b >= 0 && b < H && c >= 0 && c < W)
        ? x[((((long long)nb * C + ch) * D + a) * H + b) * W + c] : (T)0;
    """, "ember_im2col")

# the adjoint of im2col, gathered: every input element sums its kernel offsets in the array path's order
# (plus conv_transpose's bias when ``has_bias``)
_COL2IM = Kernel(
    "raw T gcol, raw T bias, int32 has_bias, " + _GEOM, "T gx",
    """
    long long t = i;
    const int c = (int)(t % W);
    t /= W;
    const int b = (int)(t % H);
    t /= H;
    const int a = (int)(t % D);
    t /= D;
    const long long ch = t % C;
    const int nb = (int)(t / C);
    T acc = (T)0;
    for (int k1 = 0; k1 < KD; ++k1) {
      const int ta = a + pd - k1 * dd;
      if (ta < 0) break;
      if (ta % sd != 0 || ta / sd >= OD) continue;
      const int od = ta / sd;
      for (int k2 = 0; k2 < KH; ++k2) {
        const int tb = b + ph - k2 * dh;
        if (tb < 0) break;
        if (tb % sh != 0 || tb / sh >= OH) continue;
        const int oh = tb / sh;
        for (int k3 = 0; k3 < KW; ++k3) {
          const int tc = c + pw - k3 * dw;
          if (tc < 0) break;
          if (tc % sw != 0 || tc / sw >= OW) continue;
          const int ow = tc / sw;
          acc += gcol[((((((ch * KD + k1) * KH + k2) * KW + k3) * OD + od) * OH + oh) * OW + ow) * N + nb];
        }
      }
    }
    gx = has_bias ? acc + bias[ch] : acc;
    """, "ember_col2im")

# (O, L, N) GEMM result -> (N, O, L), plus the bias (``has_bias`` 0: ``b`` is not read)
_CONV_OUT = Kernel(
    "raw T y, raw T b, int64 L, int64 N, int64 O, int32 has_bias", "T out",
    """
    const long long l = i % L;
    const long long t = i / L;
    const long long o = t % O;
    const T v = y[(o * L + l) * N + t / O];
    out = has_bias ? v + b[o] : v;
    """, "ember_conv_out")


def _geom3(N, C, spatial, out, kshape, stride, lo, dil):
    """The device kernels' geometry arguments, 1-d and 2-d padded to 3-d."""
    one = (1,) * (3 - len(kshape))
    return ((N, C) + one + tuple(spatial) + one + tuple(out) + one + tuple(kshape) + one + tuple(stride)
            + (0,) * len(one) + tuple(lo) + one + tuple(dil))


# --------------------------------------------------------------------------- primitives
class Convolution(Function):
    """y = conv(x, w) + b, or (``transposed``) y = conv^T(x, w) + b with output spatial shape ``oshape``."""

    raw = True
    node_name = "ConvolutionBackward0"

    @staticmethod
    def forward(ctx, x, w, b, params, transposed, oshape):
        ctx.params, ctx.transposed = params, transposed
        ctx.xshape, ctx.wshape = x.shape, w.shape
        ctx.save_for_backward(x, w)
        if transposed:
            y = _conv_grad_input(x, w, params, (x.shape[0], w.shape[1] * params[3]) + tuple(oshape), bias=b)
        elif len(ctx.needs_input_grad) > 1 and ctx.needs_input_grad[1]:
            y, ctx.col = _conv_fwd(x, w, params, want_col=True, bias=b)
        else:
            y = _conv_fwd(x, w, params, bias=b)
        return y

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        need = ctx.needs_input_grad
        p = ctx.params
        gx = gw = gb = None
        if isinstance(g, Tensor):
            if ctx.transposed:
                if need[0]:
                    gx = Convolution.apply(g, w, None, p, False, None)
                if need[1]:
                    gw = _ConvGradWeight.apply(g, x, p, ctx.wshape)
            else:
                if need[0]:
                    gx = _ConvGradInput.apply(g, w, p, ctx.xshape)
                if need[1]:
                    gw = _ConvGradWeight.apply(x, g, p, ctx.wshape)
            if need[2]:
                gb = g.sum(dim=(0,) + tuple(range(2, g.dim())))
            return gx, gw, gb, None, None, None
        if ctx.transposed:
            if need[0]:
                gx = _conv_fwd(g, w, p)
            if need[1]:
                gw = _conv_grad_weight(g, x, p, ctx.wshape)
        else:
            gm = _cols_nl(g, p[3]) if need[0] and need[1] else None    # shared by both gradients
            if need[0]:
                gx = _conv_grad_input(g, w, p, ctx.xshape, gm)
            if need[1]:
                gw = _conv_grad_weight(x, g, p, ctx.wshape, getattr(ctx, "col", None), gm)
        if need[2]:
            gb = _bias_grad(g)
        return gx, gw, gb, None, None, None


class _ConvGradInput(Function):
    """z = conv^T(g, w) (the input gradient of a convolution)."""

    raw = True
    node_name = "ConvolutionBackwardBackward0"

    @staticmethod
    def forward(ctx, g, w, params, xshape):
        ctx.params, ctx.wshape = params, w.shape
        ctx.save_for_backward(g, w)
        return _conv_grad_input(g, w, params, xshape)

    @staticmethod
    def backward(ctx, dz):
        g, w = ctx.saved_tensors
        need, p = ctx.needs_input_grad, ctx.params
        if isinstance(dz, Tensor):
            dg = Convolution.apply(dz, w, None, p, False, None) if need[0] else None
            dw = _ConvGradWeight.apply(dz, g, p, ctx.wshape) if need[1] else None
        else:
            dg = _conv_fwd(dz, w, p) if need[0] else None
            dw = _conv_grad_weight(dz, g, p, ctx.wshape) if need[1] else None
        return dg, dw, None, None


class _ConvGradWeight(Function):
    """v = sum_n g @ im2col(x)^T (the weight gradient of a convolution)."""

    raw = True
    node_name = "ConvolutionBackwardBackward0"

    @staticmethod
    def forward(ctx, x, g, params, wshape):
        ctx.params, ctx.xshape = params, x.shape
        ctx.save_for_backward(x, g)
        return _conv_grad_weight(x, g, params, wshape)

    @staticmethod
    def backward(ctx, dv):
        x, g = ctx.saved_tensors
        need, p = ctx.needs_input_grad, ctx.params
        if isinstance(dv, Tensor):
            dx = _ConvGradInput.apply(g, dv, p, ctx.xshape) if need[0] else None
            dg = Convolution.apply(x, dv, None, p, False, None) if need[1] else None
        else:
            dx = _conv_grad_input(g, dv, p, ctx.xshape) if need[0] else None
            dg = _conv_fwd(x, dv, p) if need[1] else None
        return dx, dg, None, None


# --------------------------------------------------------------------------- public API
def _dtype_name(t):
    return str(t.dtype).replace("ember.", "").replace("torch.", "")


def _check(input, weight, bias, nd, name, transposed, groups):
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"{name}(): argument 'input' and 'weight' must be Tensor, not "
                        f"{type(input).__name__} and {type(weight).__name__}")
    if weight.dim() != nd + 2:
        raise RuntimeError(f"{name}: expected weight to be {nd + 2}-D, but got weight of size {list(weight.shape)}")
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {name}, but got input of "
                           f"size: {list(input.shape)}")
    if input._data.dtype != weight._data.dtype:
        raise RuntimeError(f"{name}: Input type ({_dtype_name(input)}) and weight type ({_dtype_name(weight)}) "
                           "should be the same")
    if bias is not None and bias._data.dtype != input._data.dtype:
        raise RuntimeError(f"{name}: Input type ({_dtype_name(input)}) and bias type ({_dtype_name(bias)}) "
                           "should be the same")
    if groups < 1:
        raise RuntimeError(f"{name}: non-positive groups is not supported")
    c = input.shape[-nd - 1]
    if transposed:
        if weight.shape[0] != c:
            raise RuntimeError(f"{name}: Given transposed=1, weight of size {list(weight.shape)}, expected input"
                               f"{list(input.shape)} to have {weight.shape[0]} channels, but got {c} channels instead")
        if weight.shape[0] % groups:
            raise RuntimeError(f"{name}: weight of size {list(weight.shape)} has {weight.shape[0]} input channels, "
                               f"not divisible by groups={groups}")
    else:
        if weight.shape[0] % groups:
            raise RuntimeError(f"{name}: Given groups={groups}, expected weight to be divisible by {groups} at "
                               f"dimension 0, but got weight of size {list(weight.shape)} instead")
        if weight.shape[1] * groups != c:
            raise RuntimeError(f"{name}: Given groups={groups}, weight of size {list(weight.shape)}, expected input"
                               f"{list(input.shape)} to have {weight.shape[1] * groups} channels, but got {c} "
                               "channels instead")
    out_ch = weight.shape[1] * groups if transposed else weight.shape[0]
    if bias is not None and tuple(bias.shape) != (out_ch,):
        raise RuntimeError(f"{name}: Given weight of size {list(weight.shape)}, expected bias to be 1-dimensional "
                           f"with {out_ch} elements, but got bias of size {list(bias.shape)} instead")


def _convnd(input, weight, bias, stride, padding, dilation, groups, nd, name):
    if _AUTOCAST[0]:
        input, weight, bias = _cast_lower(input, weight, bias)
    _check(input, weight, bias, nd, name, False, groups)
    unbatched = input.dim() == nd + 1
    if unbatched:
        input = input.unsqueeze(0)
    stride = _ntuple(stride, nd, "stride")
    dilation = _ntuple(dilation, nd, "dilation")
    k = tuple(weight.shape[2:])
    if isinstance(padding, str):
        if padding == "valid":
            pads = ((0, 0),) * nd
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            pads = []
            for d, kk in zip(dilation, k):
                total = d * (kk - 1)
                pads.append((total // 2, total - total // 2))
            pads = tuple(pads)
        else:
            raise ValueError(f"Invalid padding string {padding!r}, should be one of 'valid', 'same'")
    else:
        pads = tuple((p, p) for p in _ntuple(padding, nd, "padding"))
    if any(s <= 0 for s in stride):
        raise RuntimeError(f"{name}: non-positive stride is not supported")
    if any(p[0] < 0 for p in pads):
        raise RuntimeError(f"{name}: negative padding is not supported")
    for i in range(nd):
        eff = input.shape[2 + i] + pads[i][0] + pads[i][1]
        if eff < dilation[i] * (k[i] - 1) + 1:
            raise RuntimeError(f"{name}: Calculated padded input size per channel: "
                               f"({' x '.join(str(input.shape[2 + j] + sum(pads[j])) for j in range(nd))}). "
                               f"Kernel size: ({' x '.join(str(dilation[j] * (k[j] - 1) + 1) for j in range(nd))})."
                               " Kernel size can't be greater than actual input size")
    y = Convolution.apply(input, weight, bias, _Params((stride, pads, dilation, groups)), False, None)
    return y.squeeze(0) if unbatched else y


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """1-D convolution: input (N, C_in, L), weight (C_out, C_in/groups, k) -> (N, C_out, L_out)."""
    return _convnd(input, weight, bias, stride, padding, dilation, groups, 1, "conv1d")


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """2-D convolution: input (N, C_in, H, W), weight (C_out, C_in/groups, kH, kW) -> (N, C_out, H_out, W_out)."""
    return _convnd(input, weight, bias, stride, padding, dilation, groups, 2, "conv2d")


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """3-D convolution: input (N, C_in, D, H, W), weight (C_out, C_in/groups, kD, kH, kW)."""
    return _convnd(input, weight, bias, stride, padding, dilation, groups, 3, "conv3d")


def _conv_transposend(input, weight, bias, stride, padding, output_padding, groups, dilation, nd, name):
    if _AUTOCAST[0]:
        input, weight, bias = _cast_lower(input, weight, bias)
    _check(input, weight, bias, nd, name, True, groups)
    unbatched = input.dim() == nd + 1
    if unbatched:
        input = input.unsqueeze(0)
    stride = _ntuple(stride, nd, "stride")
    padding = _ntuple(padding, nd, "padding")
    dilation = _ntuple(dilation, nd, "dilation")
    output_padding = _ntuple(output_padding, nd, "output_padding")
    for op, s, d in zip(output_padding, stride, dilation):
        if op >= s and op >= d:
            raise RuntimeError(f"{name}: output padding must be smaller than either stride or dilation, but got "
                               f"output_padding={list(output_padding)}, stride={list(stride)}, "
                               f"dilation={list(dilation)}")
    k = tuple(weight.shape[2:])
    oshape = tuple((input.shape[2 + i] - 1) * stride[i] - 2 * padding[i] + dilation[i] * (k[i] - 1)
                   + output_padding[i] + 1 for i in range(nd))
    if any(o <= 0 for o in oshape):
        raise RuntimeError(f"{name}: Given input size per channel: {list(input.shape[2:])}, calculated output size "
                           f"{list(oshape)} is too small")
    # The adjoint conv pads (lo, hi); output_padding extends the high side (it is never read by the conv).
    pads = tuple((padding[i], padding[i] - output_padding[i]) for i in range(nd))
    y = Convolution.apply(input, weight, bias, _Params((stride, pads, dilation, groups)), True, oshape)
    return y.squeeze(0) if unbatched else y


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1) -> Tensor:
    """Transposed 1-D convolution: weight (C_in, C_out/groups, k)."""
    return _conv_transposend(input, weight, bias, stride, padding, output_padding, groups, dilation, 1,
                             "conv_transpose1d")


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1) -> Tensor:
    """Transposed 2-D convolution: weight (C_in, C_out/groups, kH, kW)."""
    return _conv_transposend(input, weight, bias, stride, padding, output_padding, groups, dilation, 2,
                             "conv_transpose2d")


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1) -> Tensor:
    """Transposed 3-D convolution: weight (C_in, C_out/groups, kD, kH, kW)."""
    return _conv_transposend(input, weight, bias, stride, padding, output_padding, groups, dilation, 3,
                             "conv_transpose3d")
