"""Loss functions.

Cross entropy with class indices is one fused log-softmax + NLL primitive (stable for logits of
any size); the losses PyTorch implements as kernels (MSE, Huber, smooth L1, BCE, BCE with logits,
soft margin, multi-margin, multilabel margin, NLL) are primitives with PyTorch's grad_fn names;
the rest are compositions of differentiable Ember ops, as in PyTorch.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from ..._tensor import Tensor, _wrap
from ...amp.autocast_mode import _ACTIVE as _AUTOCAST, cast_float32 as _cast_float32
from ...autograd.function import Function
from ...backends import check_later, namespace_of, scatter_at, to_host
from ...backends.kernels import Kernel, rows_fit, same_float
from ...ops import _bw as B
from ...ops import elementwise as E
from ...ops import unary as U
from ...ops._bw import sum_to
from ...ops.indexing import _check_indices, _guard_indices
from .activation import _sigmoid_any, _softplus_any, _softplus_arr, log_softmax, logsigmoid
from .normalization import _graph_backward

__all__ = ["l1_loss", "mse_loss", "cross_entropy", "nll_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "huber_loss", "smooth_l1_loss", "kl_div", "poisson_nll_loss",
           "gaussian_nll_loss", "cosine_embedding_loss", "margin_ranking_loss", "hinge_embedding_loss",
           "triplet_margin_loss", "triplet_margin_with_distance_loss", "multilabel_margin_loss",
           "multilabel_soft_margin_loss", "multi_margin_loss", "soft_margin_loss", "pairwise_distance",
           "cosine_similarity"]

_REDUCTIONS = ("none", "mean", "sum")


def _quiet(xp):
    """Silence NumPy's floating-point warnings where PyTorch returns inf/nan quietly."""
    import contextlib
    errstate = getattr(xp, "errstate", None)
    return errstate(divide="ignore", invalid="ignore") if errstate else contextlib.nullcontext()


def _legacy_reduction(size_average, reduce, reduction):
    """Map the deprecated ``size_average``/``reduce`` flags onto ``reduction`` (as PyTorch does)."""
    if size_average is None and reduce is None:
        return reduction
    warnings.warn("size_average and reduce args will be deprecated, please use reduction='"
                  f"{_legacy_string(size_average, reduce)}' instead.", stacklevel=3)
    return _legacy_string(size_average, reduce)


def _legacy_string(size_average, reduce):
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"


def _check_reduction(reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    _check_reduction(reduction)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _reduce_array(xp, loss, reduction: str):
    """``reduction`` of a raw loss primitive's per-element loss array (a 0-d array of its dtype)."""
    if reduction == "mean":
        return xp.asarray(loss.mean(), dtype=loss.dtype)
    if reduction == "sum":
        return xp.asarray(loss.sum(), dtype=loss.dtype)
    return loss


def _per_sample_grad(g, reduction: str, n: int):
    """The upstream gradient of a per-sample loss (N,) reduced by ``reduction``, shaped to broadcast
    over the (N, C) input: (N, 1) for "none", ``g / N`` for "mean", ``g`` for "sum"."""
    if reduction == "none":
        return g[:, None]
    return g / n if reduction == "mean" else g


def _size_str(t):
    return f"torch.Size([{', '.join(str(s) for s in t.shape)}])"


def _warn_size(input, target):
    if tuple(input.shape) != tuple(target.shape):
        warnings.warn(f"Using a target size ({_size_str(target)}) that is different to the input size "
                      f"({_size_str(input)}). This will likely lead to incorrect results due to broadcasting. "
                      "Please ensure they have the same size.", stacklevel=3)


def _as_tensor_like(v, like):
    if isinstance(v, Tensor):
        return v
    from ...ops.creation import tensor
    return tensor(v, dtype=like.dtype, device=like.device)


# --------------------------------------------------------------------------- pointwise loss primitives
class _PointwiseLoss(Function):
    """``reduce(f(x, t))`` for an elementwise ``f``; subclasses give ``f`` and its partials.

    ``value(xp, x, t, *p)`` -> loss array; ``partials(x, t, *p)`` -> (dl/dx, dl/dt) written with
    operators / ``ops._bw`` helpers (arrays or Tensors).
    """

    raw = True

    @classmethod
    def forward(cls, ctx, x, t, reduction, *p):
        xp = namespace_of(x)
        loss = cls.value(xp, x, t, *p)
        ctx.save_for_backward(x, t)
        ctx.reduction, ctx.p, ctx.n = reduction, p, loss.size
        ctx.shapes = (x.shape, t.shape, loss.shape)
        return _reduce_array(xp, loss, reduction)

    @classmethod
    def backward(cls, ctx, g):
        x, t = ctx.saved_tensors
        need = ctx.needs_input_grad
        if ctx.reduction == "mean":
            g = g * (1.0 / ctx.n)
        gx_l, gt_l = cls.partials(x, t, need, *ctx.p)
        sx, st, _ = ctx.shapes
        gx = sum_to(g * gx_l, sx) if need[0] else None
        gt = sum_to(g * gt_l, st) if need[1] else None
        return (gx, gt, None) + (None,) * len(ctx.p)


class MseLoss(_PointwiseLoss):
    node_name = "MseLossBackward0"

    @staticmethod
    def value(xp, x, t):
        d = x - t
        d *= d
        return d

    @staticmethod
    def partials(x, t, need):
        d = (x - t) * 2
        return d, -d


class HuberLoss(_PointwiseLoss):
    node_name = "HuberLossBackward0"

    @staticmethod
    def value(xp, x, t, delta):
        d = xp.abs(x - t)
        return xp.where(d < delta, 0.5 * d * d, delta * (d - 0.5 * delta))

    @staticmethod
    def partials(x, t, need, delta):
        d = x - t
        gx = B.where(B.abs(d) < delta, d, B.sign(d) * delta)
        return gx, -gx


class SmoothL1Loss(_PointwiseLoss):
    node_name = "SmoothL1LossBackward0"

    @staticmethod
    def value(xp, x, t, beta):
        d = xp.abs(x - t)
        return xp.where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta)

    @staticmethod
    def partials(x, t, need, beta):
        d = x - t
        gx = B.where(B.abs(d) < beta, d / beta, B.sign(d))
        return gx, -gx


class SoftMarginLoss(_PointwiseLoss):
    node_name = "SoftMarginLossBackward0"

    @staticmethod
    def value(xp, x, t):
        return _softplus_arr(xp, -t * x)

    @staticmethod
    def partials(x, t, need):
        s = _sigmoid_any(-t * x)
        return -t * s, -x * s


class BinaryCrossEntropy(_PointwiseLoss):
    node_name = "BinaryCrossEntropyBackward0"

    @staticmethod
    def value(xp, x, t, w):
        # PyTorch clamps each log at -100 so that x = 0 or 1 gives a finite loss
        with _quiet(xp):
            lx = xp.maximum(xp.log(x), -100)
            l1x = xp.maximum(xp.log1p(-x), -100)
        loss = -(t * lx + (1 - t) * l1x)
        return loss * w if w is not None else loss

    @staticmethod
    def partials(x, t, need, w):
        if isinstance(x, Tensor):
            denom = E.clamp((1 - x) * x, min=1e-12)
        else:
            denom = namespace_of(x).maximum((1 - x) * x, 1e-12)
        gx = (x - t) / denom
        gt = None
        if need[1]:
            if isinstance(x, Tensor):
                gt = E.clamp(U.log1p(-x), min=-100) - E.clamp(U.log(x), min=-100)
            else:
                xp = namespace_of(x)
                gt = xp.maximum(xp.log1p(-x), -100) - xp.maximum(xp.log(x), -100)
        if w is not None:
            wv = _wrap(w) if isinstance(x, Tensor) else w
            gx = gx * wv
            gt = gt * wv if gt is not None else None
        return gx, gt


class BinaryCrossEntropyWithLogits(_PointwiseLoss):
    node_name = "BinaryCrossEntropyWithLogitsBackward0"

    @staticmethod
    def value(xp, x, t, w, pw):
        sp = _softplus_arr(xp, -x)  # -log(sigmoid(x)), finite for any x
        loss = (1 - t) * x + (sp if pw is None else (1 + (pw - 1) * t) * sp)
        return loss * w if w is not None else loss

    @staticmethod
    def partials(x, t, need, w, pw):
        graph = isinstance(x, Tensor)
        pwv = (_wrap(pw) if graph else pw) if pw is not None else None
        wv = (_wrap(w) if graph else w) if w is not None else None
        s = _sigmoid_any(-x)
        gx = (1 - t) - (s if pwv is None else (1 + (pwv - 1) * t) * s)
        gt = None
        if need[1]:
            gt = -x + (pwv - 1) * _softplus_any(-x) if pwv is not None else -x
        if wv is not None:
            gx = gx * wv
            gt = gt * wv if gt is not None else None
        return gx, gt


def _pointwise_loss(cls, input, target, reduction, *p):
    _check_reduction(reduction)
    return cls.apply(input, target, reduction, *p)


def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """Mean (or sum / elementwise) absolute error."""
    if _AUTOCAST[0]:
        input, target = _cast_float32(input, target)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    _warn_size(input, target)
    return _reduce(U.abs(input - target), reduction)


def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
             weight=None) -> Tensor:
    """Mean (or sum / elementwise) squared error."""
    if _AUTOCAST[0]:
        input, target, weight = _cast_float32(input, target, weight)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _warn_size(input, target)
    if weight is not None:
        return _reduce((input - target) ** 2 * weight, reduction)
    return _pointwise_loss(MseLoss, input, target, reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0, weight=None) -> Tensor:
    """Squared error below ``delta``, ``delta``-scaled absolute error above."""
    if _AUTOCAST[0]:
        input, target, weight = _cast_float32(input, target, weight)
    _warn_size(input, target)
    if weight is not None:
        return _reduce(HuberLoss.apply(input, target, "none", delta) * weight, reduction)
    return _pointwise_loss(HuberLoss, input, target, reduction, delta)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
                   beta: float = 1.0) -> Tensor:
    """``0.5 d^2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 beta``; ``beta=0`` is L1."""
    if _AUTOCAST[0]:
        input, target = _cast_float32(input, target)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _warn_size(input, target)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    if beta == 0.0:
        return l1_loss(input, target, reduction=reduction)
    return _pointwise_loss(SmoothL1Loss, input, target, reduction, beta)


def soft_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """``log(1 + exp(-y x))`` (two-class logistic loss, targets +-1)."""
    if _AUTOCAST[0]:
        input, target = _cast_float32(input, target)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    return _pointwise_loss(SoftMarginLoss, input, _as_tensor_like(target, input), reduction)


def binary_cross_entropy(input: Tensor, target: Tensor, weight=None, size_average=None, reduce=None,
                         reduction: str = "mean") -> Tensor:
    """``-w (t log x + (1 - t) log(1 - x))`` for probabilities ``x`` in [0, 1] (logs clamped at -100)."""
    if _AUTOCAST[0]:
        input, target, weight = _cast_float32(input, target, weight)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Using a target size ({_size_str(target)}) that is different to the input size "
                         f"({_size_str(input)}) is deprecated. Please ensure they have the same size.")
    x = input._data
    if x.size and (bool((x < 0).any()) or bool((x > 1).any())):
        raise RuntimeError("all elements of input should be between 0 and 1")
    w = None
    if weight is not None:
        w = namespace_of(x).broadcast_to(weight._data, x.shape)
    return _pointwise_loss(BinaryCrossEntropy, input, target, reduction, w)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight=None, size_average=None, reduce=None,
                                     reduction: str = "mean", pos_weight=None) -> Tensor:
    """``BCE(sigmoid(x), t)`` computed from logits without overflow; ``pos_weight`` weighs positives."""
    if _AUTOCAST[0]:
        input, target, weight, pos_weight = _cast_float32(input, target, weight, pos_weight)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Target size ({_size_str(target)}) must be the same as input size ({_size_str(input)})")
    w = weight._data if weight is not None else None
    pw = pos_weight._data if pos_weight is not None else None
    return _pointwise_loss(BinaryCrossEntropyWithLogits, input, target, reduction, w, pw)


# --------------------------------------------------------------------------- NLL / cross entropy
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


def _target_error(t, bad):
    def make():
        return IndexError(f"Target {int(to_host(t[bad]).reshape(-1)[0])} is out of bounds.")
    return make


def _check_targets(t, c, ignore_index):
    bad = (t < 0) | (t >= c)
    if ignore_index is not None:
        bad &= t != ignore_index
    # on a device the flag is read at the next synchronisation, not now (backends.check_later)
    check_later(bad.any(), _target_error(t, bad))


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


# --------------------------------------------------------------------------- composite losses
def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """``target * (log(target) - input)`` with ``input`` log-probabilities; use ``reduction='batchmean'``
    for the mathematical KL divergence."""
    if _AUTOCAST[0]:
        input, target = _cast_float32(input, target)
    if size_average is not None or reduce is not None:
        reduction = _legacy_string(size_average, reduce)
    elif reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                      "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                      "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                      stacklevel=2)
    if reduction not in _REDUCTIONS + ("batchmean",):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if log_target:
        loss = U.exp(target) * (target - input)
    else:
        loss = U.xlogy(target, target) - target * input
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.dim() else 1)
    return _reduce(loss, reduction)


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True, full: bool = False, size_average=None,
                     eps: float = 1e-8, reduce=None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of ``target ~ Poisson(exp(input))`` (or ``Poisson(input)``)."""
    if _AUTOCAST[0]:
        input, target = _cast_float32(input, target)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if log_input:
        loss = U.exp(input) - target * input
    else:
        loss = input - target * U.log(input + eps)
    if full:
        t = target  # the Stirling term is differentiable in the target, as in PyTorch
        stirling = t * U.log(t) - t + U.log(t * (2 * math.pi)) * 0.5
        loss = loss + E.where(t > 1, stirling, t * 0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input: Tensor, target: Tensor, var, full: bool = False, eps: float = 1e-6,
                      reduction: str = "mean") -> Tensor:
    """``0.5 (log(var) + (input - target)^2 / var)`` (+ ``0.5 log(2 pi)`` when ``full``)."""
    if _AUTOCAST[0]:
        input, target, var = _cast_float32(input, target, var)
    _check_reduction(reduction)
    if not isinstance(var, Tensor):
        var = _as_tensor_like(var, input)
        var = var.expand(tuple(input.shape)) if var.dim() == 0 else var
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif tuple(input.shape[:-1]) == tuple(var.shape[:-1]) and var.shape[-1] == 1:
            pass
        else:
            raise ValueError("var is of incorrect size")
    if bool((var._data < 0).any()):
        raise ValueError("var has negative entry/entries")
    # clamp for stability, but let the gradient pass as if unclamped (PyTorch clamps under no_grad)
    vd = var.detach()
    var = var + (E.clamp(vd, min=eps) - vd)
    loss = 0.5 * (U.log(var) + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """``x1 . x2 / max(||x1|| ||x2||, eps)`` along ``dim`` (broadcasting)."""
    n1 = U.sqrt((x1 * x1).sum(dim))
    n2 = U.sqrt((x2 * x2).sum(dim))
    return (x1 * x2).sum(dim) / E.clamp(n1 * n2, min=eps)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Tensor:
    """``||x1 - x2 + eps||_p`` over the last dim."""
    from ...ops.reduction import norm
    d = x1 - x2 + eps
    return norm(d, p, -1, keepdim=keepdim)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0, size_average=None,
                          reduce=None, reduction: str = "mean") -> Tensor:
    """``1 - cos(x1, x2)`` for ``y = 1``, ``max(0, cos(x1, x2) - margin)`` for ``y = -1``."""
    if _AUTOCAST[0]:
        input1, input2, target = _cast_float32(input1, input2, target)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    d = input1.dim() - 1
    eps = 1e-12
    prod = (input1 * input2).sum(d)
    m1 = (input1 * input1).sum(d) + eps
    m2 = (input2 * input2).sum(d) + eps
    cos = prod / U.sqrt(m1 * m2)
    zeros = cos * 0
    pos = E.where(target == 1, 1 - cos, zeros)
    neg = E.where(target == -1, E.clamp(cos - margin, min=0), zeros)
    return _reduce(pos + neg, reduction)


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0, size_average=None,
                        reduce=None, reduction: str = "mean") -> Tensor:
    """``max(0, -y (x1 - x2) + margin)``."""
    if _AUTOCAST[0]:
        input1, input2, target = _cast_float32(input1, input2, target)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if not (input1.dim() == input2.dim() == target.dim()):
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension but got sizes: "
                           f"input1: {_size_str(input1)}, input2: {_size_str(input2)}, target: {_size_str(target)} ")
    return _reduce(E.clamp(-target * (input1 - input2) + margin, min=0), reduction)


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0, size_average=None, reduce=None,
                         reduction: str = "mean") -> Tensor:
    """``x`` where ``y = 1``, ``max(0, margin - x)`` where ``y = -1``."""
    if _AUTOCAST[0]:
        input, target = _cast_float32(input, target)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    zeros = input * 0
    out_margin = E.where(target != 1, E.clamp(margin - input, min=0), zeros)
    out_self = E.where(target != -1, input, zeros)
    return _reduce(out_margin + out_self, reduction)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0, p: float = 2,
                        eps: float = 1e-6, swap: bool = False, size_average=None, reduce=None,
                        reduction: str = "mean") -> Tensor:
    """``max(d(a, p) - d(a, n) + margin, 0)`` with ``d`` the p-norm pairwise distance."""
    if _AUTOCAST[0]:
        anchor, positive, negative = _cast_float32(anchor, positive, negative)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if not (anchor.dim() == positive.dim() == negative.dim()):
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the same number of "
                           f"dimensions, but got: anchor {anchor.dim()}D, positive {positive.dim()}D, and negative "
                           f"{negative.dim()}D inputs")
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = E.minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return _reduce(E.clamp(margin + d_pos - d_neg, min=0), reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin: float = 1.0,
                                      swap: bool = False, reduction: str = "mean") -> Tensor:
    """Triplet loss with a user distance (default: pairwise_distance)."""
    _check_reduction(reduction)
    dist = distance_function if distance_function is not None else pairwise_distance
    d_pos = dist(anchor, positive)
    d_neg = dist(anchor, negative)
    if swap:
        d_neg = E.minimum(d_neg, dist(positive, negative))
    return _reduce(E.clamp(margin + d_pos - d_neg, min=0), reduction)


def multilabel_soft_margin_loss(input: Tensor, target: Tensor, weight=None, size_average=None, reduce=None,
                                reduction: str = "mean") -> Tensor:
    """Per-class logistic loss averaged over classes: ``-(y log s(x) + (1 - y) log s(-x))``."""
    if _AUTOCAST[0]:
        input, target, weight = _cast_float32(input, target, weight)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    cdim = input.dim() - 1
    loss = loss.sum(cdim) / input.shape[cdim]
    return _reduce(loss, reduction)


class MultiMarginLoss(Function):
    raw = True
    node_name = "MultiMarginLossBackward0"

    @staticmethod
    def forward(ctx, x, t, w, p, margin, reduction):
        xp = namespace_of(x)
        c = x.shape[1]
        xt = xp.take_along_axis(x, t[:, None], axis=1)
        m = margin - xt + x
        pos = m > 0
        pos[xp.arange(x.shape[0]), t] = False
        h = xp.where(pos, m if p == 1 else m * m, 0)
        if w is not None:
            h = h * w[t][:, None]
        loss = (h.sum(axis=1) / c).astype(x.dtype, copy=False)
        ctx.t, ctx.w, ctx.p, ctx.c, ctx.pos, ctx.m, ctx.reduction = t, w, p, c, pos, m, reduction
        ctx.n = x.shape[0]
        return _reduce_array(xp, loss, reduction)

    @staticmethod
    def backward(ctx, g):
        graph = isinstance(g, Tensor)
        if graph:
            g = g._data
        xp = namespace_of(ctx.m)
        gs = _per_sample_grad(g, ctx.reduction, ctx.n)
        d = ctx.pos * (1.0 if ctx.p == 1 else 2 * ctx.m) / ctx.c
        if ctx.w is not None:
            d = d * ctx.w[ctx.t][:, None]
        d = (d * gs).astype(ctx.m.dtype, copy=False)
        rows = xp.arange(ctx.m.shape[0])
        d[rows, ctx.t] = -d.sum(axis=1)
        return (_wrap(d) if graph else d), None, None, None, None, None


def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0, weight=None,
                      size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """Multi-class hinge loss: ``sum_{i != y} max(0, margin - x[y] + x[i])^p / C``."""
    if _AUTOCAST[0]:
        input, weight = _cast_float32(input, weight)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    unbatched = input.dim() == 1
    x = input.reshape(1, -1) if unbatched else input
    t = target.reshape(-1)
    if x.dim() != 2 or t.shape[0] != x.shape[0]:
        raise RuntimeError(f"inconsistent target size, expected {x.shape[0]} but got {list(target.shape)}")
    _check_targets(t._data, x.shape[1], None)
    out = MultiMarginLoss.apply(x, t, weight._data if weight is not None else None, p, margin, reduction)
    return out.reshape(()) if unbatched and reduction == "none" else out


class MultilabelMarginLoss(Function):
    raw = True
    node_name = "MultilabelMarginLossBackward0"

    @staticmethod
    def forward(ctx, x, t, reduction):
        xp = namespace_of(x)
        n, c = x.shape
        # targets are the entries before the first -1 of each row
        valid = xp.cumprod(t >= 0, axis=1).astype(bool)
        tc = xp.where(valid, t, 0)
        is_target = xp.zeros((n, c), dtype=bool)
        rows = xp.broadcast_to(xp.arange(n)[:, None], t.shape)
        is_target[rows[valid], tc[valid]] = True
        xt = xp.take_along_axis(x, tc, axis=1)                       # (N, K)
        m = 1 - xt[:, :, None] + x[:, None, :]                     # (N, K, C)
        mask = valid[:, :, None] & ~is_target[:, None, :] & (m > 0)
        loss = (xp.where(mask, m, 0).sum(axis=(1, 2)) / c).astype(x.dtype, copy=False)
        ctx.mask, ctx.tc, ctx.c, ctx.reduction, ctx.n = mask, tc, c, reduction, n
        return _reduce_array(xp, loss, reduction)

    @staticmethod
    def backward(ctx, g):
        graph = isinstance(g, Tensor)
        if graph:
            g = g._data
        xp = namespace_of(g)
        gs = _per_sample_grad(g, ctx.reduction, ctx.n)
        mk = ctx.mask.astype(g.dtype)
        gx = mk.sum(axis=1) / ctx.c                     # + for the non-target side
        neg = mk.sum(axis=2) / ctx.c                    # - for each listed target
        n = gx.shape[0]
        rows = xp.broadcast_to(xp.arange(n)[:, None], ctx.tc.shape)
        scatter_at("add", gx, (rows, ctx.tc), -neg)
        gx = (gx * gs).astype(g.dtype, copy=False)
        return (_wrap(gx) if graph else gx), None, None


def multilabel_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                           reduction: str = "mean") -> Tensor:
    """Multi-label hinge loss; ``target`` lists class indices per row, ended by -1."""
    if _AUTOCAST[0]:
        input, = _cast_float32(input)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    unbatched = input.dim() <= 1
    x = input.reshape(1, -1) if unbatched else input
    t = target.reshape(1, -1) if unbatched else target
    if tuple(t.shape) != tuple(x.shape):
        raise RuntimeError(f"inconsistent target size: {list(target.shape)} for input of size: {list(input.shape)}")
    td = t._data
    if bool(((td < -1) | (td >= x.shape[1])).any()):
        raise RuntimeError(f"multilabel_margin_loss: target values must be in [-1, {x.shape[1] - 1}]")
    out = MultilabelMarginLoss.apply(x, t, reduction)
    return out.reshape(()) if unbatched and reduction == "none" else out
