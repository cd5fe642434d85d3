"""Distances and the margin / embedding losses (cosine embedding, margin ranking, hinge embedding,
triplet, multilabel soft margin, multi-margin, multilabel margin)."""

from __future__ import annotations

from ..._tensor import Tensor, _wrap
from ...amp.autocast_mode import _ACTIVE as _AUTOCAST, cast_float32 as _cast_float32
from ...autograd.function import Function
from ...backends import namespace_of, scatter_at
from ...ops import elementwise as E
from ...ops import unary as U
from .activation import logsigmoid
from ._loss_utils import (_legacy_reduction, _check_reduction, _reduce, _reduce_array, _per_sample_grad, _size_str,
                          _check_targets)

__all__ = ["cosine_similarity", "pairwise_distance", "cosine_embedding_loss", "margin_ranking_loss",
           "hinge_embedding_loss", "triplet_margin_loss", "triplet_margin_with_distance_loss",
           "multilabel_soft_margin_loss", "multi_margin_loss", "multilabel_margin_loss"]


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
