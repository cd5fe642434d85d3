"""Normalisation: batch, layer, group, instance, RMS and local-response norm; ``normalize``.

Batch, layer and group norm are one fused primitive each (forward and backward in a few
vectorised passes). Their fast-path backward uses the saved normalised input; under
``create_graph=True`` they differentiate a composite of Ember ops instead, so second
derivatives (gradient penalties) are exact.
"""
from __future__ import annotations

import math

import numpy as np

from ..._tensor import Tensor, _wrap
from ...autograd.function import Function
from ...backends import namespace_of
from ...backends.kernels import Kernel, rows_fit, same_float

__all__ = ["batch_norm", "layer_norm", "group_norm", "instance_norm", "rms_norm", "local_response_norm",
           "normalize"]


def _graph_backward(composite, inputs, needs, g):
    """Gradients of ``composite(*inputs)`` w.r.t. the inputs that need them, as a differentiable graph."""
    from ...autograd import grad
    from ...autograd.grad_mode import enable_grad
    with enable_grad():
        out = composite(*inputs)
        wanted = [t for t, n in zip(inputs, needs) if n]
        grads = iter(grad([out], wanted, [g], create_graph=True, allow_unused=True))
    return [next(grads) if n else None for n in needs]


def _normalize_arrays(x, axes, eps):
    """(xhat, invstd, mean, biased var) of ``x`` over ``axes`` (stats keep their dims)."""
    xp = namespace_of(x)
    mean = x.mean(axis=axes, keepdims=True)
    xc = x - mean
    var = (xc * xc).mean(axis=axes, keepdims=True)
    invstd = 1.0 / xp.sqrt(var + eps)
    xc *= invstd
    return xc, invstd.astype(x.dtype, copy=False), mean, var


def _norm_input_grad(gxhat, xhat, invstd, axes):
    """d/dx of ``xhat = (x - mean) * invstd`` given d/dxhat (stats over ``axes``)."""
    m1 = gxhat.mean(axis=axes, keepdims=True)
    m2 = (gxhat * xhat).mean(axis=axes, keepdims=True)
    gx = gxhat - m1
    gx -= xhat * m2
    gx *= invstd
    return gx


class _LowPrecisionInput:
    """PyTorch's batch/layer/group norms take a float16/bfloat16 input with float32 weights: they compute in
    float32 and return the input's dtype (the gradient of the input too). Subclasses write ``_forward`` and
    ``_backward`` for one dtype; this wraps them."""

    @classmethod
    def forward(cls, ctx, x, w, b, *rest):
        p = w if w is not None else b
        ctx.out_dt = None
        if p is not None and x.dtype != p.dtype and x.dtype.itemsize == 2 and p.dtype.itemsize > 2:
            ctx.out_dt = x.dtype
            x = x.astype(p.dtype)
        y = cls._forward(ctx, x, w, b, *rest)
        return y if ctx.out_dt is None else y.astype(ctx.out_dt)

    @classmethod
    def backward(cls, ctx, g):
        dt = ctx.out_dt
        if dt is None:
            return cls._backward(ctx, g)
        if isinstance(g, Tensor):
            from ..._dtype import from_np
            grads = cls._backward(ctx, g.float())
            gx = grads[0].to(from_np(dt)) if grads[0] is not None else None
        else:
            grads = cls._backward(ctx, g.astype(ctx.xhat.dtype))
            gx = grads[0].astype(dt) if grads[0] is not None else None
        return (gx,) + tuple(grads[1:])


# --------------------------------------------------------------------------- batch norm
def _channel_shape(nd, c):
    return (1, c) + (1,) * (nd - 2)


def _affine_out(xhat, w, b, cs=None):
    """The forward output ``xhat * w + b`` of the fused norms (``w``, ``b`` optional; ``cs`` reshapes
    per-channel ones to broadcast); never ``xhat`` itself, which is saved for backward."""
    if w is not None:
        y = xhat * (w if cs is None else w.reshape(cs))
    else:
        y = xhat.copy() if b is None else xhat
    if b is not None:
        y = y + (b if cs is None else b.reshape(cs))
    return y


class NativeBatchNorm(_LowPrecisionInput, Function):
    raw = True
    node_name = "NativeBatchNormBackward0"

    @staticmethod
    def _forward(ctx, x, w, b, rm, rv, training, momentum, eps):
        nd, c = x.ndim, x.shape[1]
        axes = (0,) + tuple(range(2, nd))
        cs = _channel_shape(nd, c)
        xp = namespace_of(x)
        if training:
            xhat, invstd, mean, var = _normalize_arrays(x, axes, eps)
            n = x.size // c
            if rm is not None:
                rm *= 1 - momentum
                rm += (momentum * mean.reshape(-1)).astype(rm.dtype, copy=False)
            if rv is not None:
                rv *= 1 - momentum
                rv += (momentum * var.reshape(-1) * (n / max(n - 1, 1))).astype(rv.dtype, copy=False)
        else:
            mean = rm.reshape(cs).astype(x.dtype, copy=False)
            invstd = (1.0 / xp.sqrt(rv.reshape(cs) + eps)).astype(x.dtype, copy=False)
            xhat = (x - mean) * invstd
        y = _affine_out(xhat, w, b, cs)
        ctx.save_for_backward(x, w, b)
        ctx.xhat, ctx.invstd, ctx.mean = xhat, invstd, mean
        ctx.axes, ctx.cs, ctx.training, ctx.eps = axes, cs, training, eps
        return y

    @staticmethod
    def _backward(ctx, g):
        x, w, b = ctx.saved_tensors
        need = ctx.needs_input_grad
        if isinstance(g, Tensor):
            def composite(x, w, b):
                if ctx.training:
                    mean = x.mean(ctx.axes, keepdim=True)
                    xc = x - mean
                    xhat = xc * ((xc * xc).mean(ctx.axes, keepdim=True) + ctx.eps).rsqrt()
                else:
                    xhat = (x - _wrap(ctx.mean)) * _wrap(ctx.invstd)
                y = xhat * w.reshape(ctx.cs) if w is not None else xhat
                return y + b.reshape(ctx.cs) if b is not None else y
            gx, gw, gb = _graph_backward(composite, (x, w, b), need[:3], g)
            return gx, gw, gb, None, None, None, None, None
        xhat, invstd, axes, cs = ctx.xhat, ctx.invstd, ctx.axes, ctx.cs
        gx = gw = gb = None
        if need[0]:
            scale = invstd * w.reshape(cs) if w is not None else invstd
            if ctx.training:
                n = g.size // g.shape[1]
                gx = g - g.sum(axis=axes, keepdims=True) * (1.0 / n)
                gx -= xhat * ((g * xhat).sum(axis=axes, keepdims=True) * (1.0 / n))
                gx *= scale
            else:
                gx = g * scale
        if need[1]:
            gw = (g * xhat).sum(axis=axes)
        if need[2]:
            gb = g.sum(axis=axes)
        return gx, gw, gb, None, None, None, None, None


def _shape_str(t):
    return f"torch.Size([{', '.join(str(s) for s in t.shape)}])"


def batch_norm(input: Tensor, running_mean, running_var, weight=None, bias=None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each channel (dim 1) of ``input`` (N, C, *) over the batch and spatial dims.

    Training: batch statistics, and ``running_mean``/``running_var`` (if given) are updated in place
    with ``momentum`` (the running variance is the unbiased one). Eval: the running statistics.
    """
    if input.dim() < 2:
        raise ValueError(f"batch_norm: expected an input of at least 2 dims (N, C, *), got {input.dim()}D input")
    c = input.shape[1]
    if training:
        n = input.numel() // c if c else 0
        if n <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size "
                             f"{_shape_str(input)}")
    elif running_mean is None or running_var is None:
        raise RuntimeError("batch_norm: running_mean and running_var must be defined in evaluation mode")
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                    ("bias", bias)):
        if t is not None and t.numel() != c:
            raise RuntimeError(f"{name} should contain {c} elements not {t.numel()}")
    out = NativeBatchNorm.apply(input, weight, bias, running_mean, running_var, bool(training), momentum, eps)
    if training:
        for t in (running_mean, running_var):
            if t is not None:
                t._vc[0] += 1
    return out


# --------------------------------------------------------------------------- layer norm
# On a device, layer norm is three kernels (forward; input gradient; weight and bias gradients) instead of
# ~20 array calls. Rows of D values, one thread per row; sums in double. flags: 1 = weight, 2 = bias.
_LN_FWD = Kernel(
    "raw T x, raw T w, raw T b, int64 D, T eps, int32 flags", "raw T y, raw T xhat, T invstd",
    """
    long long o = (long long)i * D;
    double s = 0;
    for (long long j = 0; j < D; ++j) s += (double)x[o + j];
    T mean = (T)(s / (double)D);
    double v = 0;
    for (long long j = 0; j < D; ++j) { T c = x[o + j] - mean; v += (double)(c * c); }
    T inv = (T)1 / sqrt((T)(v / (double)D) + eps);
    invstd = inv;
    for (long long j = 0; j < D; ++j) {
        T h = (x[o + j] - mean) * inv;
        xhat[o + j] = h;
        T out = (flags & 1) ? h * w[j] : h;
        y[o + j] = (flags & 2) ? out + b[j] : out;
    }
    """, "ember_layer_norm_fwd")

_LN_BWD_INPUT = Kernel(
    "raw T g, raw T xhat, raw T w, T invstd, int64 D, int32 flags", "raw T gx",
    """
    long long o = (long long)i * D;
    double s1 = 0, s2 = 0;
    for (long long j = 0; j < D; ++j) {
        T gw = (flags & 1) ? g[o + j] * w[j] : g[o + j];
        s1 += (double)gw;
        s2 += (double)(gw * xhat[o + j]);
    }
    T m1 = (T)(s1 / (double)D), m2 = (T)(s2 / (double)D);
    for (long long j = 0; j < D; ++j) {
        T gw = (flags & 1) ? g[o + j] * w[j] : g[o + j];
        gx[o + j] = (gw - m1 - xhat[o + j] * m2) * invstd;
    }
    """, "ember_layer_norm_bwd_input")

_LN_BWD_AFFINE = Kernel(
    "raw T g, raw T xhat, int64 R, int64 D", "T gw, T gb",
    """
    double a = 0, c = 0;
    for (long long r = 0; r < R; ++r) {
        T gg = g[r * D + i];
        a += (double)(gg * xhat[r * D + i]);
        c += (double)gg;
    }
    gw = (T)a;
    gb = (T)c;
    """, "ember_layer_norm_bwd_affine")


def _ln_kernels(x, w, b, d):
    """The device namespace when the fused kernels can run on these arrays, else None."""
    if type(x) is np.ndarray:  # the CPU path: no kernels, no checks
        return None
    xp = namespace_of(x)
    if not (rows_fit(x, d) and same_float(x, w, b)):
        return None
    return xp if _LN_FWD.on(xp, x.dtype) is not None else None


class NativeLayerNorm(_LowPrecisionInput, Function):
    raw = True
    node_name = "NativeLayerNormBackward0"

    @staticmethod
    def _forward(ctx, x, w, b, k, eps):
        axes = tuple(range(x.ndim - k, x.ndim))
        d = math.prod(x.shape[x.ndim - k:])
        xp = ctx.fused = _ln_kernels(x, w, b, d)
        ctx.d = d
        if xp is not None:
            y, xhat, invstd = xp.empty_like(x), xp.empty_like(x), xp.empty(x.size // d, dtype=x.dtype)
            _LN_FWD.on(xp)(x, x if w is None else w, x if b is None else b, d, x.dtype.type(eps),
                           (w is not None) | ((b is not None) << 1), y, xhat, invstd)
            invstd = invstd.reshape(x.shape[:x.ndim - k] + (1,) * k)
        else:
            xhat, invstd, _, _ = _normalize_arrays(x, axes, eps)
            y = _affine_out(xhat, w, b)
        ctx.save_for_backward(x, w, b)
        ctx.xhat, ctx.invstd, ctx.axes, ctx.eps = xhat, invstd, axes, eps
        return y

    @staticmethod
    def _backward(ctx, g):
        x, w, b = ctx.saved_tensors
        need = ctx.needs_input_grad
        axes = ctx.axes
        if isinstance(g, Tensor):
            def composite(x, w, b):
                xc = x - x.mean(axes, keepdim=True)
                y = xc * ((xc * xc).mean(axes, keepdim=True) + ctx.eps).rsqrt()
                y = y * w if w is not None else y
                return y + b if b is not None else y
            gx, gw, gb = _graph_backward(composite, (x, w, b), need[:3], g)
            return gx, gw, gb, None, None
        xhat = ctx.xhat
        lead = tuple(range(g.ndim - len(axes)))
        gx = gw = gb = None
        xp = ctx.fused
        if xp is not None and namespace_of(g) is xp and same_float(xhat, g):
            d = ctx.d
            r = xhat.size // d
            if need[0]:
                gx = xp.empty_like(xhat)
                _LN_BWD_INPUT.on(xp)(g, xhat, xhat if w is None else w, ctx.invstd.reshape(r), d,
                                     int(w is not None), gx)
            if need[1] or need[2]:
                gw, gb = xp.empty(d, dtype=xhat.dtype), xp.empty(d, dtype=xhat.dtype)
                _LN_BWD_AFFINE.on(xp)(g, xhat, r, d, gw, gb)
                gw, gb = gw.reshape(xhat.shape[len(lead):]), gb.reshape(xhat.shape[len(lead):])
            return gx, gw if need[1] else None, gb if need[2] else None, None, None
        if need[0]:
            gx = _norm_input_grad(g * w if w is not None else g, xhat, ctx.invstd, axes)
        if need[1]:
            gw = (g * xhat).sum(axis=lead)
        if need[2]:
            gb = g.sum(axis=lead)
        return gx, gw, gb, None, None


def _as_shape(s):
    return (int(s),) if isinstance(s, int) else tuple(int(v) for v in s)


def layer_norm(input: Tensor, normalized_shape, weight=None, bias=None, eps: float = 1e-5) -> Tensor:
    """Normalise over the trailing ``normalized_shape`` dims, then scale by ``weight`` and shift by ``bias``."""
    ns = _as_shape(normalized_shape)
    k = len(ns)
    if k == 0 or tuple(input.shape[input.dim() - k:]) != ns or input.dim() < k:
        raise RuntimeError(f"Given normalized_shape={list(ns)}, expected input with shape [*, "
                           f"{', '.join(str(s) for s in ns)}], but got input of size{list(input.shape)}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != ns:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but got {name} of "
                               f"shape {list(t.shape)} and normalized_shape = {list(ns)}")
    return NativeLayerNorm.apply(input, weight, bias, k, eps)


# --------------------------------------------------------------------------- group norm
class NativeGroupNorm(_LowPrecisionInput, Function):
    raw = True
    node_name = "NativeGroupNormBackward0"

    @staticmethod
    def _forward(ctx, x, w, b, groups, eps):
        n, c = x.shape[0], x.shape[1]
        cs = _channel_shape(x.ndim, c)
        xg = x.reshape(n, groups, -1)
        xhat, invstd, _, _ = _normalize_arrays(xg, (2,), eps)
        xhat = xhat.reshape(x.shape)
        y = _affine_out(xhat, w, b, cs)
        ctx.save_for_backward(x, w, b)
        ctx.xhat, ctx.invstd, ctx.groups, ctx.cs, ctx.eps = xhat, invstd, groups, cs, eps
        return y

    @staticmethod
    def _backward(ctx, g):
        x, w, b = ctx.saved_tensors
        need = ctx.needs_input_grad
        cs, groups = ctx.cs, ctx.groups
        if isinstance(g, Tensor):
            def composite(x, w, b):
                xg = x.reshape(x.shape[0], groups, -1)
                xc = xg - xg.mean(2, keepdim=True)
                y = (xc * ((xc * xc).mean(2, keepdim=True) + ctx.eps).rsqrt()).reshape(tuple(x.shape))
                y = y * w.reshape(cs) if w is not None else y
                return y + b.reshape(cs) if b is not None else y
            gx, gw, gb = _graph_backward(composite, (x, w, b), need[:3], g)
            return gx, gw, gb, None, None
        xhat = ctx.xhat
        axes = (0,) + tuple(range(2, g.ndim))
        gx = gw = gb = None
        if need[0]:
            gxhat = g * w.reshape(cs) if w is not None else g
            n = g.shape[0]
            gx = _norm_input_grad(gxhat.reshape(n, groups, -1), xhat.reshape(n, groups, -1), ctx.invstd,
                                  (2,)).reshape(g.shape)
        if need[1]:
            gw = (g * xhat).sum(axis=axes)
        if need[2]:
            gb = g.sum(axis=axes)
        return gx, gw, gb, None, None


def group_norm(input: Tensor, num_groups: int, weight=None, bias=None, eps: float = 1e-5) -> Tensor:
    """Normalise (N, C, *) over each group of ``C / num_groups`` channels and the spatial dims."""
    if input.dim() < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {input.dim()}")
    c = input.shape[1]
    if num_groups <= 0 or c % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups, but got input "
                           f"of shape {list(input.shape)} and num_groups={num_groups}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and (t.dim() != 1 or t.numel() != c):
            raise RuntimeError(f"Expected {name} to be a vector of size equal to the number of channels in "
                               f"input, but got {name} of shape {list(t.shape)} and input of shape "
                               f"{list(input.shape)}")
    return NativeGroupNorm.apply(input, weight, bias, int(num_groups), eps)


# --------------------------------------------------------------------------- instance norm
def instance_norm(input: Tensor, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats: bool = True, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each (sample, channel) of (N, C, *) over its spatial dims.

    Computed, as in PyTorch, as batch norm of the input viewed as (1, N*C, *); running statistics
    (if given) are updated with the batch average of the per-instance statistics."""
    if input.dim() < 3 and use_input_stats:
        raise ValueError(f"instance_norm: expected an input with spatial dims (N, C, *), got {input.dim()}D input")
    n, c = input.shape[0], input.shape[1]
    spatial = input.numel() // max(n * c, 1)
    if use_input_stats and spatial <= 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size {_shape_str(input)}")
    rm = _wrap(running_mean._data.reshape(1, c).repeat(n, 0).reshape(-1).copy()) if running_mean is not None else None
    rv = _wrap(running_var._data.reshape(1, c).repeat(n, 0).reshape(-1).copy()) if running_var is not None else None
    w = weight.repeat(n) if weight is not None else None
    b = bias.repeat(n) if bias is not None else None
    shape = tuple(input.shape)
    x = input.reshape((1, n * c) + shape[2:])
    if not use_input_stats and (rm is None or rv is None):
        raise RuntimeError("Expected running_mean and running_var to be defined when use_input_stats is false")
    out = NativeBatchNorm.apply(x, w, b, rm, rv, bool(use_input_stats), momentum, eps)
    if use_input_stats:
        for src, dst in ((rm, running_mean), (rv, running_var)):
            if dst is not None:
                dst._data[...] = src._data.reshape(n, c).mean(axis=0).astype(dst._data.dtype, copy=False)
                dst._vc[0] += 1
    return out.view(shape)


# --------------------------------------------------------------------------- RMS / LRN / normalize
def rms_norm(input: Tensor, normalized_shape, weight=None, eps=None) -> Tensor:
    """``x / sqrt(mean(x^2 over normalized_shape) + eps) * weight``; ``eps`` defaults to the dtype's eps."""
    ns = _as_shape(normalized_shape)
    k = len(ns)
    if tuple(input.shape[input.dim() - k:]) != ns:
        raise RuntimeError(f"Given normalized_shape={list(ns)}, expected input with shape [*, "
                           f"{', '.join(str(s) for s in ns)}], but got input of size{list(input.shape)}")
    if eps is None:
        import numpy as np
        eps = float(np.finfo(input._data.dtype).eps)
    dims = tuple(range(input.dim() - k, input.dim()))
    y = input * ((input * input).mean(dims, keepdim=True) + eps).rsqrt()
    return y * weight if weight is not None else y


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> Tensor:
    """Divide each element by ``(k + alpha/size * sum of squares over `size` neighbouring channels)^beta``."""
    if input.dim() < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {input.dim()} dimensions)")
    if input.numel() == 0:
        return input
    from ...ops.join import cat
    from ...ops.creation import zeros
    sq = input * input
    c = input.shape[1]
    lo, hi = size // 2, (size - 1) // 2
    pad_shape = lambda m: (input.shape[0], m) + tuple(input.shape[2:])  # noqa: E731
    parts = ([zeros(pad_shape(lo), dtype=input.dtype)] if lo else []) + [sq] + \
            ([zeros(pad_shape(hi), dtype=input.dtype)] if hi else [])
    padded = cat(parts, 1) if len(parts) > 1 else sq
    win = padded[:, 0:c]
    for i in range(1, size):  # one slice per window offset (size is small), not per element
        win = win + padded[:, i:i + c]
    div = (win * (alpha / size) + k) ** beta
    return input / div


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out=None) -> Tensor:
    """``input / max(||input||_p over dim, eps)``."""
    from ...ops.reduction import norm
    denom = norm(input, p, dim, keepdim=True).clamp_min(eps).expand_as(input)
    r = input / denom
    if out is not None:
        out.copy_(r)
        return out
    return r

