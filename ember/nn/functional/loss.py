"""Loss functions: this module gathers the loss families and holds the likelihood / divergence losses
(KL divergence, Poisson and Gaussian NLL).

The families live in ``loss_pointwise`` (L1, MSE, Huber, smooth L1, soft margin, BCE), ``loss_classification``
(NLL and the fused cross entropy with its device kernels) and ``loss_margin`` (distances, margin and embedding
losses); their names, and the private helpers of ``_loss_utils``, stay importable from here.
"""
from __future__ import annotations

import math
import warnings

from ..._tensor import Tensor
from ...amp.autocast_mode import _ACTIVE as _AUTOCAST, cast_float32 as _cast_float32
from ...ops import elementwise as E
from ...ops import unary as U
from ._loss_utils import (_REDUCTIONS, _quiet, _legacy_reduction, _legacy_string, _check_reduction,  # noqa: F401
                          _reduce, _reduce_array, _per_sample_grad, _size_str, _warn_size,
                          _as_tensor_like, _target_error, _check_targets)
from .loss_pointwise import (_PointwiseLoss, MseLoss, HuberLoss, SmoothL1Loss, SoftMarginLoss,  # noqa: F401
                             BinaryCrossEntropy, BinaryCrossEntropyWithLogits, l1_loss, mse_loss, huber_loss,
                             smooth_l1_loss, soft_margin_loss, binary_cross_entropy,
                             binary_cross_entropy_with_logits)
from .loss_classification import (_class_target, _ClassLoss, NllLoss, NllLoss2d, CrossEntropy,  # noqa: F401
                                  CrossEntropy2d, nll_loss, cross_entropy)
from .loss_margin import (cosine_similarity, pairwise_distance, cosine_embedding_loss,  # noqa: F401
                          margin_ranking_loss, hinge_embedding_loss, triplet_margin_loss,
                          triplet_margin_with_distance_loss, multilabel_soft_margin_loss, MultiMarginLoss,
                          multi_margin_loss, MultilabelMarginLoss, multilabel_margin_loss)

__all__ = ["l1_loss", "mse_loss", "cross_entropy", "nll_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "huber_loss", "smooth_l1_loss", "kl_div", "poisson_nll_loss",
           "gaussian_nll_loss", "cosine_embedding_loss", "margin_ranking_loss", "hinge_embedding_loss",
           "triplet_margin_loss", "triplet_margin_with_distance_loss", "multilabel_margin_loss",
           "multilabel_soft_margin_loss", "multi_margin_loss", "soft_margin_loss", "pairwise_distance",
           "cosine_similarity"]


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
