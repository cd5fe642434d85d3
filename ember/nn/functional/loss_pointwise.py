"""Elementwise losses: L1, MSE, Huber, smooth L1, soft margin, BCE and BCE with logits.

The ones PyTorch implements as kernels are primitives with PyTorch's grad_fn names; L1 (and weighted
forms) are compositions of differentiable Ember ops."""

from __future__ import annotations

from ..._tensor import Tensor, _wrap
from ...amp.autocast_mode import _ACTIVE as _AUTOCAST, cast_float32 as _cast_float32
from ...autograd.function import Function
from ...backends import namespace_of
from ...ops import _bw as B
from ...ops import elementwise as E
from ...ops import unary as U
from ...ops._bw import sum_to
from .activation import _sigmoid_any, _softplus_any, _softplus_arr
from ._loss_utils import (_quiet, _legacy_reduction, _check_reduction, _reduce, _reduce_array, _size_str, _warn_size,
                          _as_tensor_like)

__all__ = ["l1_loss", "mse_loss", "huber_loss", "smooth_l1_loss", "soft_margin_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits"]


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
