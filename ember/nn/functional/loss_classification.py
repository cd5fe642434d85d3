"""Class-index losses: NLL and cross entropy.

Cross entropy with class indices is one fused log-softmax + NLL primitive (stable for logits of any size);
on a device it runs as two fused kernels. Class-probability targets are a composition of Ember ops."""

from __future__ import annotations

import numpy as np

from ..._tensor import Tensor, _wrap
from ...amp.autocast_mode import _ACTIVE as _AUTOCAST, cast_float32 as _cast_float32
from ...autograd.function import Function
from ...backends import check_later, namespace_of
from ...backends.kernels import Kernel, rows_fit, same_float
from ...ops.indexing import _check_indices, _guard_indices
from .activation import log_softmax
from .normalization import _graph_backward
from ._loss_utils import _quiet, _legacy_reduction, _check_reduction, _target_error, _check_targets

__all__ = ["cross_entropy", "nll_loss"]


def _class_target(input: Tensor, target: Tensor, name: str):
    """Validate a class-index target against input (N, C, *) or (C,); return (x, t, unbatched)."""
    k = target._data.dtype.kind
    if k not in "iu":
        if k == "f" and name == "cross_entropy":
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        raise RuntimeError(f"expected scalar type Long but found {target.dtype.name.capitalize()}")
    nd = input.dim()
    if nd == 0:
        raise ValueError("Expected 1 or more dimensions (got 0)")
    if nd == 1:
        if target.dim() != 0:
            raise RuntimeError(f"0D target tensor expected for 1D input, got {target.dim()}D target")
        return input.reshape(1, -1), target.reshape(1), True
    if target.dim() == 0 or input.shape[0] != target.shape[0]:
        tb = target.shape[0] if target.dim() else 0
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target batch_size ({tb}).")
    if tuple(target.shape[1:]) != tuple(input.shape[2:]):
        raise RuntimeError(f"Expected target size {[input.shape[0]] + list(input.shape[2:])}, got "
                           f"{list(target.shape)}")
    return input, target, False


class _ClassLoss(Function):
    """Shared bookkeeping of NLL and fused cross entropy over input (N, C, *), target (N, *)."""

    raw = True

    @staticmethod
    def _setup(ctx, x, t, w, ignore_index, reduction):
        xp = namespace_of(x)
        valid = t != ignore_index
        tc = xp.where(valid, t, 0)
        if xp is not np:  # a bad target is reported later (check_later): read a valid class now
            xp.clip(tc, 0, x.shape[1] - 1, out=tc)
        wt = (w[tc] if w is not None else xp.ones(t.shape, dtype=x.dtype)) * valid
        wt = wt.astype(x.dtype, copy=False)
        denom = wt.sum() if reduction == "mean" else None
        ctx.tc, ctx.wt, ctx.denom, ctx.reduction = tc, wt, denom, reduction
        return xp, tc[:, None], wt

    @staticmethod
    def _reduce_arr(xp, loss, ctx):
        if ctx.reduction == "none":
            return loss
        s = loss.sum()
        if ctx.reduction == "mean":
            with _quiet(xp):  # every target ignored: 0/0 = nan, as in PyTorch
                s = s / ctx.denom
        return xp.asarray(s, dtype=loss.dtype)

    @staticmethod
    def _grad_scale(ctx, g):
        """Per-element scale of the upstream gradient, shaped like the target."""
        if ctx.reduction == "none":
            return g * ctx.wt
        if ctx.reduction == "mean":
            return ctx.wt * (g / ctx.denom)
        return ctx.wt * g


class NllLoss(_ClassLoss):
    node_name = "NllLossBackward0"

    @classmethod
    def forward(cls, ctx, x, t, w, ignore_index, reduction):
        xp, tcol, wt = cls._setup(ctx, x, t, w, ignore_index, reduction)
        picked = xp.take_along_axis(x, tcol, axis=1)[:, 0]
        ctx.xshape = x.shape
        return cls._reduce_arr(xp, -picked * wt, ctx)

    @classmethod
    def backward(cls, ctx, g):
        _check_indices(ctx)  # the target was changed in place since forward: PyTorch's error
        if isinstance(g, Tensor):
            from ...ops.scatter_gather import scatter
            from ...ops.creation import zeros
            scale = g * _wrap(ctx.wt) if ctx.reduction == "none" else _wrap(cls._grad_scale(ctx, 1.0)) * g
            gx = scatter(zeros(ctx.xshape, dtype=g.dtype), 1, _wrap(ctx.tc[:, None]), -scale.unsqueeze(1))
            return gx, None, None, None, None
        xp = namespace_of(g)
        gx = xp.zeros(ctx.xshape, dtype=ctx.wt.dtype)
        xp.put_along_axis(gx, ctx.tc[:, None], -cls._grad_scale(ctx, g)[:, None], axis=1)
        return gx, None, None, None, None


class NllLoss2d(NllLoss):
    node_name = "NllLoss2DBackward0"


# On a device, cross entropy of (N, C) logits with class indices runs as two kernels: a row kernel (one thread
# per sample) for log-softmax, the picked log-probability, the sample weight and the target check, and an
# element-wise kernel for the input gradient. The target check is read at the next synchronisation.
_CE_FWD = Kernel(
    "raw T x, int64 t, raw T w, int64 C, int64 ignore, int32 hasw", "raw T logp, T loss, T wt, int64 tc, bool bad",
    """
    long long o = (long long)i * C;
    T m = x[o];
    for (long long j = 1; j < C; ++j) { T v = x[o + j]; if (v > m || v != v) m = v; }
    double s = 0;
    for (long long j = 0; j < C; ++j) s += (double)exp(x[o + j] - m);
    T ls = log((T)s);
    for (long long j = 0; j < C; ++j) logp[o + j] = (x[o + j] - m) - ls;
    bool valid = t != ignore;
    bool oob = valid && (t < 0 || t >= C);
    bool use = valid && !oob;
    long long k = use ? t : 0;
    T ww = use ? (hasw ? w[k] : (T)1) : (T)0;
    bad = oob;
    tc = k;
    wt = ww;
    loss = -logp[o + k] * ww;
    """, "ember_cross_entropy_fwd")

_CE_BWD = Kernel(
    "T lp, T wt, T g, T den, int64 tc, int64 C", "T gx",
    """
    T s = wt * (g / den);
    T p = exp(lp) * s;
    gx = ((long long)(i % C) == tc) ? p - s : p;
    """, "ember_cross_entropy_bwd")


def _ce_kernel(x, t, w, smoothing):
    """The device namespace when cross entropy's fused kernels suit these arrays, else None."""
    if type(x) is np.ndarray or smoothing or x.ndim != 2 or t.dtype != np.int64:
        return None
    if not (rows_fit(x, x.shape[1]) and same_float(x, w) and t.flags.c_contiguous):
        return None
    xp = namespace_of(x)
    return xp if _CE_FWD.on(xp, x.dtype) is not None else None


class CrossEntropy(_ClassLoss):
    """Fused ``nll_loss(log_softmax(x, 1))`` with label smoothing; the input gradient is
    ``softmax - smoothed one-hot`` (weighted), computed from the saved log-probabilities."""

    raw = True
    node_name = "NllLossBackward0"

    @classmethod
    def forward(cls, ctx, x, t, w, ignore_index, reduction, smoothing):
        xp = ctx.fused = _ce_kernel(x, t, w, smoothing)
        if xp is not None:
            n, c = x.shape
            logp, loss, wt, tc, bad = (xp.empty_like(x), xp.empty(n, dtype=x.dtype), xp.empty(n, dtype=x.dtype),
                                       xp.empty(n, dtype=np.int64), xp.empty(n, dtype=np.bool_))
            _CE_FWD.on(xp)(x, t, x if w is None else w, c, ignore_index, int(w is not None), logp, loss, wt, tc, bad)
            check_later(bad.any(), _target_error(t, bad))
            ctx.tc, ctx.wt, ctx.reduction = tc, wt, reduction
            ctx.denom = wt.sum() if reduction == "mean" else None
            ctx.save_for_backward(x, w)
            ctx.logp, ctx.smoothing, ctx.ignore_index, ctx.t = logp, smoothing, ignore_index, t
            return cls._reduce_arr(xp, loss, ctx)
        xp, tcol, wt = cls._setup(ctx, x, t, w, ignore_index, reduction)
        logp = x - x.max(axis=1, keepdims=True)
        logp -= xp.log(xp.exp(logp).sum(axis=1, keepdims=True))
        loss = -xp.take_along_axis(logp, tcol, axis=1)[:, 0] * wt
        if smoothing:
            c = x.shape[1]
            wshape = (1, c) + (1,) * (x.ndim - 2)
            lsum = (logp * w.reshape(wshape)).sum(axis=1) if w is not None else logp.sum(axis=1)
            valid = (t != ignore_index).astype(x.dtype)
            loss = loss * (1 - smoothing) - lsum * valid * (smoothing / c)
        ctx.save_for_backward(x, w)
        ctx.logp, ctx.smoothing, ctx.ignore_index = logp, smoothing, ignore_index
        ctx.t = t
        return cls._reduce_arr(xp, loss, ctx)

    @classmethod
    def backward(cls, ctx, g):
        _check_indices(ctx)  # the target was changed in place since forward: PyTorch's error
        x, w = ctx.saved_tensors
        if isinstance(g, Tensor):
            def composite(x):
                return _cross_entropy_composite(x, _wrap(ctx.t), w, ctx.ignore_index, ctx.reduction,
                                                ctx.smoothing)
            (gx,) = _graph_backward(composite, (x,), (True,), g)
            return gx, None, None, None, None, None
        xp = namespace_of(g)
        if ctx.fused is not None and xp is ctx.fused and g.dtype == ctx.logp.dtype:
            lp = ctx.logp
            den = ctx.denom if ctx.reduction == "mean" else lp.dtype.type(1)
            gg = g.reshape(-1, 1) if ctx.reduction == "none" else g
            gx = _CE_BWD.on(xp)(lp, ctx.wt.reshape(-1, 1), gg, den, ctx.tc.reshape(-1, 1), lp.shape[1])
            return gx, None, None, None, None, None
        eps = ctx.smoothing
        c = ctx.logp.shape[1]
        p = xp.exp(ctx.logp)
        tcol = ctx.tc[:, None]
        if not eps:
            # d/dx of -w_t logp_t = w_t (p - onehot): scale p by the per-sample weight
            s = cls._grad_scale(ctx, g)
            p *= s[:, None]
            xp.put_along_axis(p, tcol, xp.take_along_axis(p, tcol, axis=1) - s[:, None], axis=1)
            return p, None, None, None, None, None
        # label smoothing: dL/dlogp = a = -(1-eps) w_t onehot - eps/C w_c (on valid samples)
        valid = (ctx.t != ctx.ignore_index).astype(p.dtype)
        if ctx.reduction == "none":
            gs = g * valid
        elif ctx.reduction == "mean":
            gs = valid * (g / ctx.denom)
        else:
            gs = valid * g
        wshape = (1, c) + (1,) * (p.ndim - 2)
        wc = w.reshape(wshape) if w is not None else xp.ones(wshape, dtype=p.dtype)
        wt = ctx.wt  # w[t] on valid samples, 0 elsewhere
        a = xp.broadcast_to(-(eps / c) * wc * gs[:, None], p.shape).copy()
        coef = g if ctx.reduction != "mean" else g / ctx.denom
        onehot = -(1 - eps) * wt * coef
        xp.put_along_axis(a, tcol, xp.take_along_axis(a, tcol, axis=1) + onehot[:, None], axis=1)
        gx = a - p * a.sum(axis=1, keepdims=True)
        return gx, None, None, None, None, None


class CrossEntropy2d(CrossEntropy):
    node_name = "NllLoss2DBackward0"


def _cross_entropy_composite(x, t, w, ignore_index, reduction, smoothing):
    """Cross entropy from differentiable ops (used for double backward of the fused primitive)."""
    from ...ops.scatter_gather import gather
    xp = namespace_of(t._data)
    logp = log_softmax(x, 1)
    valid = t._data != ignore_index
    tc = _wrap(xp.where(valid, t._data, 0))
    c = x.shape[1]
    wt = (w._data[tc._data] if w is not None else xp.ones(t.shape, dtype=x._data.dtype)) * valid
    wt = _wrap(wt.astype(x._data.dtype))
    loss = -gather(logp, 1, tc.unsqueeze(1)).squeeze(1) * wt
    if smoothing:
        wshape = (1, c) + (1,) * (x.dim() - 2)
        lsum = (logp * w.reshape(wshape)).sum(1) if w is not None else logp.sum(1)
        loss = loss * (1 - smoothing) - lsum * _wrap(valid.astype(x._data.dtype)) * (smoothing / c)
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / _wrap(wt._data.sum())


def _nd_view(out, x, reduction):
    """PyTorch computes 3-D and >4-D inputs as 4-D and views the unreduced loss back (ViewBackward0)."""
    if reduction == "none" and (x.dim() == 3 or x.dim() > 4):
        return out.view(tuple(out.shape))
    return out


def nll_loss(input: Tensor, target: Tensor, weight=None, size_average=None, ignore_index: int = -100,
             reduce=None, reduction: str = "mean") -> Tensor:
    """``-weight[t] * input[n, t]`` for log-probabilities ``input`` (N, C, *) and class indices (N, *).

    ``mean`` divides by the summed weights of the non-ignored targets."""
    if _AUTOCAST[0]:
        input, target, weight = _cast_float32(input, target, weight)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    x, t, unbatched = _class_target(input, target, "nll_loss")
    c = x.shape[1]
    _check_targets(t._data, c, ignore_index)
    if weight is not None and weight.numel() != c:
        raise RuntimeError(f"weight tensor should be defined either for all {c} classes or no classes but got "
                           f"weight tensor of shape: {list(weight.shape)}")
    fn = NllLoss2d if x.dim() > 2 else NllLoss
    out = _nd_view(_guard_indices(fn.apply(x, t, weight, ignore_index, reduction), (t,)), x, reduction)
    return out.reshape(()) if unbatched and reduction == "none" else out


def cross_entropy(input: Tensor, target: Tensor, weight=None, size_average=None, ignore_index: int = -100,
                  reduce=None, reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Cross entropy of logits ``input`` (N, C, *) or (C,) against class indices (N, *) or class
    probabilities (same shape as input); ``label_smoothing`` mixes in the uniform distribution."""
    if _AUTOCAST[0]:
        input, target, weight = _cast_float32(input, target, weight)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    if target.is_floating_point():  # probabilities (bfloat16 included)
        return _cross_entropy_probs(input, target, weight, reduction, label_smoothing)
    x, t, unbatched = _class_target(input, target, "cross_entropy")
    c = x.shape[1]
    if _ce_kernel(x._data, t._data, None if weight is None else weight._data, label_smoothing) is None:
        _check_targets(t._data, c, ignore_index)  # else the fused kernel checks the targets
    if weight is not None and weight.numel() != c:
        raise RuntimeError(f"weight tensor should be defined either for all {c} classes or no classes but got "
                           f"weight tensor of shape: {list(weight.shape)}")
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"\"log_softmax_lastdim_kernel_impl\" not implemented for '{x.dtype.name.capitalize()}'")
    fn = CrossEntropy2d if x.dim() > 2 else CrossEntropy
    out = _nd_view(_guard_indices(fn.apply(x, t, weight, ignore_index, reduction, float(label_smoothing)), (t,)),
                   x, reduction)
    return out.reshape(()) if unbatched and reduction == "none" else out


def _cross_entropy_probs(input, target, weight, reduction, smoothing):
    if tuple(target.shape) != tuple(input.shape):
        raise RuntimeError(f"Expected target size {list(input.shape)}, got {list(target.shape)}")
    cdim = 1 if input.dim() > 1 else 0
    c = input.shape[cdim]
    if smoothing > 0:
        target = target * (1 - smoothing) + smoothing / c
    logp = log_softmax(input, cdim)
    if weight is not None:
        wshape = [1] * input.dim()
        wshape[cdim] = c
        logp = logp * weight.reshape(tuple(wshape))
    per = -(logp * target).sum(cdim)
    if reduction == "none":
        return per
    if reduction == "sum":
        return per.sum()
    n = input.numel() // c if c else 0
    return per.sum() / n
