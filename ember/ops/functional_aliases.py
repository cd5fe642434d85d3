"""The ``torch.nn.functional`` ops PyTorch also exposes at top level (``torch.conv2d``, ``torch.layer_norm``,
``torch.embedding`` ...), with the top-level signatures, which differ from ``F``'s in places: losses take
``reduction`` as an int (0 none, 1 mean, 2 sum), the norms take every argument positionally,
``torch.embedding`` takes ``(weight, indices)``, ``torch.max_pool1d`` has no ``return_indices``, and
``grid_sampler`` takes its modes as ints. Also ``pdist`` and ``channel_shuffle``, which Ember's ``F`` lacked.
"""
from __future__ import annotations

__all__ = [
    "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "layer_norm",
    "group_norm", "batch_norm", "instance_norm", "embedding", "embedding_bag", "max_pool1d", "max_pool2d", "max_pool3d",
    "max_pool1d_with_indices", "avg_pool1d", "adaptive_avg_pool1d", "adaptive_max_pool1d", "pixel_shuffle",
    "pixel_unshuffle", "prelu", "selu", "selu_", "celu", "celu_", "rrelu", "rrelu_", "threshold", "threshold_",
    "hardshrink", "bilinear", "cosine_similarity", "pairwise_distance", "pdist", "kl_div", "poisson_nll_loss",
    "margin_ranking_loss", "hinge_embedding_loss", "triplet_margin_loss", "cosine_embedding_loss",
    "binary_cross_entropy_with_logits", "ctc_loss", "alpha_dropout", "alpha_dropout_", "feature_alpha_dropout",
    "feature_alpha_dropout_", "dropout_", "feature_dropout", "feature_dropout_", "grid_sampler",
    "affine_grid_generator", "channel_shuffle", "native_channel_shuffle", "constant_pad_nd", "rms_norm",
]

_REDUCTIONS = {0: "none", 1: "mean", 2: "sum"}


def _F():
    from ..nn import functional
    return functional


def _red(reduction):
    if isinstance(reduction, str):
        return reduction
    if reduction not in _REDUCTIONS:
        raise RuntimeError(f"{reduction} is not a valid value for reduction")
    return _REDUCTIONS[reduction]


def _opt(v):
    """PyTorch's ``stride=[]``: an empty list means "the kernel size"."""
    return None if v is None or (isinstance(v, (list, tuple)) and len(v) == 0) else v


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _F().conv1d(input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _F().conv2d(input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _F().conv3d(input, weight, bias, stride, padding, dilation, groups)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return _F().conv_transpose1d(input, weight, bias, stride, padding, output_padding, groups, dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return _F().conv_transpose2d(input, weight, bias, stride, padding, output_padding, groups, dilation)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return _F().conv_transpose3d(input, weight, bias, stride, padding, output_padding, groups, dilation)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05, cudnn_enable=True):
    return _F().layer_norm(input, normalized_shape, weight, bias, eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-05, cudnn_enabled=True):
    return _F().group_norm(input, num_groups, weight, bias, eps)


def batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps, cudnn_enabled):
    return _F().batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum, eps, cudnn_enabled):
    return _F().instance_norm(input, running_mean, running_var, weight, bias, use_input_stats, momentum, eps)


def embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    """Rows of ``weight`` at ``indices`` (note the order: PyTorch's top-level form takes the weight first);
    a negative ``padding_idx`` means none."""
    return _F().embedding(indices, weight, None if padding_idx is None or padding_idx < 0 else padding_idx,
                          scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


def embedding_bag(weight, indices, offsets, scale_grad_by_freq=False, mode=0, sparse=False,
                  per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """PyTorch's top-level form: ``mode`` an int (0 sum, 1 mean, 2 max), the weight first, and four results:
    (output, offset2bag, bag_size, max_indices), the last three as PyTorch's CPU kernel fills them (empty /
    zeros for sum; each index's bag and each bag's size for mean, ``max_indices`` repeating the sizes; for max,
    the weight row that won each output element)."""
    import numpy as np
    from .._tensor import _wrap
    from ..backends import namespace_of
    if not hasattr(offsets, "_data"):
        raise TypeError(f"embedding_bag(): argument 'offsets' (position 3) must be Tensor, not "
                        f"{type(offsets).__name__}")
    if mode not in (0, 1, 2):
        raise RuntimeError(f"embedding_bag: unknown mode {mode} (0 sum, 1 mean, 2 max)")
    out = _F().embedding_bag(indices, weight, offsets, None, 2, scale_grad_by_freq, ("sum", "mean", "max")[mode],
                             sparse, per_sample_weights, include_last_offset, padding_idx)
    xp = namespace_of(indices._data)
    idx = indices._data.reshape(-1).astype(np.int64)
    starts = offsets._data.astype(np.int64)  # (F.embedding_bag has refused 2-D indices with offsets)
    if include_last_offset:
        starts = starts[:-1]
    nb = int(starts.shape[0])
    bag = xp.searchsorted(starts, xp.arange(idx.shape[0]), side="right") - 1
    if mode == 0:  # offset2bag is filled only when a padding index is given
        o2b = bag.astype(np.int64) if padding_idx is not None else xp.zeros(0, np.int64)
        return out, _wrap(o2b), _wrap(xp.zeros(nb, np.int64)), _wrap(xp.zeros(nb, np.int64))
    valid = xp.ones(idx.shape[0], bool)
    if padding_idx is not None:
        valid = idx != (padding_idx % weight.shape[0])
    size = xp.bincount(bag[valid], minlength=nb).astype(np.int64) if nb else xp.zeros(0, np.int64)
    o2b = bag.astype(np.int64)
    if mode == 1:
        return out, _wrap(o2b), _wrap(size), _wrap(size.copy())
    n, d = idx.shape[0], weight.shape[1]
    vals = weight._data[idx]
    win = (vals == out._data[xp.clip(bag, 0, None)]) & valid[:, None]
    first = xp.full((nb, d), n, np.int64)
    pos = xp.where(win, xp.arange(n)[:, None], n)
    if n:
        xp.minimum.at(first, bag, pos)
    ext = xp.concatenate([idx, xp.zeros(1, np.int64)])
    return out, _wrap(o2b), _wrap(size), _wrap(ext[first])


def max_pool1d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    return _F().max_pool1d(input, kernel_size, _opt(stride), padding, dilation, ceil_mode)


def max_pool2d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    return _F().max_pool2d(input, kernel_size, _opt(stride), padding, dilation, ceil_mode)


def max_pool3d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    return _F().max_pool3d(input, kernel_size, _opt(stride), padding, dilation, ceil_mode)


def max_pool1d_with_indices(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    return _F().max_pool1d(input, kernel_size, _opt(stride), padding, dilation, ceil_mode, return_indices=True)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    return _F().avg_pool1d(input, kernel_size, _opt(stride), padding, ceil_mode, count_include_pad)


def adaptive_avg_pool1d(input, output_size):
    return _F().adaptive_avg_pool1d(input, output_size)


def adaptive_max_pool1d(input, output_size):
    """(values, indices), always: the top-level form has no ``return_indices``."""
    return _F().adaptive_max_pool1d(input, output_size, return_indices=True)


def pixel_shuffle(input, upscale_factor):
    return _F().pixel_shuffle(input, upscale_factor)


def pixel_unshuffle(input, downscale_factor):
    return _F().pixel_unshuffle(input, downscale_factor)


def prelu(input, weight):
    return _F().prelu(input, weight)


def selu(input):
    return _F().selu(input)


def selu_(input):
    return _F().selu_(input)


def celu(input, alpha=1.0):
    return _F().celu(input, alpha)


def celu_(input, alpha=1.0):
    return _F().celu_(input, alpha)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, generator=None):
    return _F().rrelu(input, lower, upper, training)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False, generator=None):
    return _F().rrelu_(input, lower, upper, training)


def threshold(input, threshold, value):
    return _F().threshold(input, threshold, value)


def threshold_(input, threshold, value):
    return _F().threshold_(input, threshold, value)


def hardshrink(input, lambd=0.5):
    return _F().hardshrink(input, lambd)


def bilinear(input1, input2, weight, bias=None):
    return _F().bilinear(input1, input2, weight, bias)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    return _F().cosine_similarity(x1, x2, dim, eps)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    return _F().pairwise_distance(x1, x2, p, eps, keepdim)


def pdist(input, p=2):
    """The ``p``-norm distances between every pair of rows ``i < j`` of a 2-D ``input``, row-major; at
    coincident rows the gradient is 0."""
    from . import creation as C
    from . import reduction as R
    from .numeric_extra import triu_indices
    from .scatter_gather import index_select
    if input.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    if not input.is_floating_point():
        raise RuntimeError("pdist only supports floating-point dtypes")
    n = input.shape[0]
    if n < 2:
        return C.empty(0, dtype=input.dtype, device=input.device)
    ij = triu_indices(n, n, 1, device=input.device)
    d = index_select(input, 0, ij[0]) - index_select(input, 0, ij[1])
    return R.norm(d, p, dim=1)


def kl_div(input, target, reduction=1, *, log_target=False):
    return _F().kl_div(input, target, reduction=_red(reduction), log_target=log_target)


def poisson_nll_loss(input, target, log_input, full, eps, reduction):
    return _F().poisson_nll_loss(input, target, log_input, full, eps=eps, reduction=_red(reduction))


def margin_ranking_loss(input1, input2, target, margin=0.0, reduction=1):
    return _F().margin_ranking_loss(input1, input2, target, margin, reduction=_red(reduction))


def hinge_embedding_loss(input, target, margin=1.0, reduction=1):
    return _F().hinge_embedding_loss(input, target, margin, reduction=_red(reduction))


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-06, swap=False, reduction=1):
    return _F().triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap, reduction=_red(reduction))


def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction=1):
    return _F().cosine_embedding_loss(input1, input2, target, margin, reduction=_red(reduction))


def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None, reduction=1):
    return _F().binary_cross_entropy_with_logits(input, target, weight, reduction=_red(reduction),
                                                 pos_weight=pos_weight)


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction=1, zero_infinity=False):
    return _F().ctc_loss(log_probs, targets, input_lengths, target_lengths, blank, _red(reduction), zero_infinity)


def alpha_dropout(input, p, train):
    return _F().alpha_dropout(input, p, train)


def alpha_dropout_(input, p, train):
    return _F().alpha_dropout(input, p, train, inplace=True)


def feature_alpha_dropout(input, p, train):
    return _F().feature_alpha_dropout(input, p, train)


def feature_alpha_dropout_(input, p, train):
    return _F().feature_alpha_dropout(input, p, train, inplace=True)


def dropout_(input, p, train):
    return _F().dropout(input, p, train, inplace=True)


def _feature_mask(input, p):
    from . import creation as C
    shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)
    return C.bernoulli(C.full(shape, 1 - p, dtype=input.dtype, device=input.device)) / (1 - p)


def feature_dropout(input, p, train):
    """Zeroes whole channels (dim 1) with probability ``p`` and scales the rest by ``1 / (1 - p)``."""
    if p < 0 or p > 1:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not train or p == 0:
        return input
    if p == 1:
        return input * 0
    return input * _feature_mask(input, p)


def feature_dropout_(input, p, train):
    if p < 0 or p > 1:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not train or p == 0:
        return input
    return input.mul_(0 if p == 1 else _feature_mask(input, p))


_INTERP = {0: "bilinear", 1: "nearest", 2: "bicubic"}
_PAD = {0: "zeros", 1: "border", 2: "reflection"}


def grid_sampler(input, grid, interpolation_mode, padding_mode, align_corners):
    """``F.grid_sample`` with int modes: interpolation 0 bilinear, 1 nearest, 2 bicubic; padding 0 zeros,
    1 border, 2 reflection."""
    if interpolation_mode not in _INTERP or padding_mode not in _PAD:
        raise RuntimeError(f"grid_sampler(): unknown interpolation_mode {interpolation_mode} or padding_mode "
                           f"{padding_mode}")
    return _F().grid_sample(input, grid, _INTERP[interpolation_mode], _PAD[padding_mode], align_corners)


def affine_grid_generator(theta, size, align_corners):
    return _F().affine_grid(theta, list(size), align_corners)


def channel_shuffle(input, groups):
    """``torch.channel_shuffle``: ``nn.functional.channel_shuffle`` (its one home)."""
    from ..nn.functional.pooling_extra import channel_shuffle as _shuffle
    return _shuffle(input, groups)


native_channel_shuffle = channel_shuffle


def constant_pad_nd(input, pad, value=0):
    return _F().pad(input, list(pad), "constant", value)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    return _F().rms_norm(input, normalized_shape, weight, eps)
