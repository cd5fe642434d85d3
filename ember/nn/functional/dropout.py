"""Dropout: elementwise, channel-wise (1d/2d/3d) and alpha dropout.

In training each element (or channel) is kept with probability ``1 - p`` and scaled by
``1 / (1 - p)``; the output is ``input * mask`` (grad_fn ``MulBackward0`` as in PyTorch), so the
gradient flows through exactly the mask that the forward pass used. With ``training=False``
(or ``p == 0``) the input is returned unchanged. Masks come from Ember's default generator.
"""
from __future__ import annotations

import warnings

from ...backends import namespace_of

from ..._tensor import Tensor, _wrap
from ...ops import inplace as IP
from ...ops.creation import uniform_like

__all__ = ["dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout"]


def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _keep_mask(input: Tensor, shape, p):
    """Bernoulli(1 - p) keep-mask of ``shape`` (broadcastable to the input) in the input's dtype."""
    npd = input._data.dtype
    if npd.kind not in "fV":  # V: bfloat16
        raise RuntimeError(f"dropout: expected a floating point input, got {input.dtype}")
    keep = uniform_like(input, shape) >= p
    return keep.astype(npd)


def _apply_mask(input: Tensor, mask, inplace):
    out = input * _wrap(mask)
    return IP.inplace(input, out) if inplace else out


def _scaled(input, shape, p):
    if p == 1.0:
        return namespace_of(input._data).zeros(shape, dtype=input._data.dtype)
    m = _keep_mask(input, shape, p)
    m *= 1.0 / (1.0 - p)
    return m


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by ``1/(1-p)`` (training only)."""
    _check_p(p)
    if not training or p == 0.0:
        return input
    return _apply_mask(input, _scaled(input, input._data.shape, p), inplace)


def _feature_shape(input: Tensor):
    """Mask shape for channel-wise dropout: one draw per (batch, channel), broadcast over the rest."""
    s = input._data.shape
    return s[:2] + (1,) * (len(s) - 2)


def _feature_dropout(input, p, training, inplace, batched):
    _check_p(p)
    if input.dim() < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    if not training or p == 0.0:
        return input
    if not batched:  # (C, *) input: add the batch dim, as PyTorch does (grad_fn SqueezeBackward1)
        out = _apply_mask(input.unsqueeze(0), _scaled(input, (1,) + _feature_shape(input.unsqueeze(0))[1:], p),
                          False).squeeze(0)
        return IP.inplace(input, out) if inplace else out
    return _apply_mask(input, _scaled(input, _feature_shape(input), p), inplace)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of a (N, C, L) or (C, L) input with probability ``p``."""
    if input.dim() not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {input.dim()}D input. Note that "
                           "dropout1d exists to provide channel-wise dropout on inputs with 1 spatial dimension, a "
                           "channel dimension, and an optional batch dimension (i.e. 2D or 3D inputs).")
    return _feature_dropout(input, p, training, inplace, input.dim() == 3)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of a (N, C, H, W) or (C, H, W) input with probability ``p``.

    As in PyTorch, a 3-D input is read as (N, C, L) (with a warning)."""
    nd = input.dim()
    if nd not in (3, 4):
        warnings.warn(f"dropout2d: Received a {nd}-D input to dropout2d, which is deprecated and will result in "
                      "an error in a future release. To retain the behavior and silence this warning, please use "
                      "dropout instead. Note that dropout2d exists to provide channel-wise dropout on inputs with "
                      "2 spatial dimensions, a channel dimension, and an optional batch dimension (i.e. 3D or 4D "
                      "inputs).", stacklevel=2)
    if nd == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout "
                      "behavior is desired - input is interpreted as shape (N, C, L), where C is the channel dim. "
                      "This behavior will change in a future release to interpret the input as one without a "
                      "batch dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise dropout behavior, "
                      "please switch to using dropout1d instead.", stacklevel=2)
    return _feature_dropout(input, p, training, inplace, True)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of a (N, C, D, H, W) or (C, D, H, W) input with probability ``p``."""
    nd = input.dim()
    if nd not in (4, 5):
        warnings.warn(f"dropout3d: Received a {nd}-D input to dropout3d, which is deprecated and will result in "
                      "an error in a future release. To retain the behavior and silence this warning, please use "
                      "dropout instead. Note that dropout3d exists to provide channel-wise dropout on inputs with "
                      "3 spatial dimensions, a channel dimension, and an optional batch dimension (i.e. 4D or 5D "
                      "inputs).", stacklevel=2)
    return _feature_dropout(input, p, training, inplace, nd != 4)


# SELU's negative saturation value, -scale * alpha: dropped units are set to it (not to 0), and an
# affine correction a * x + b keeps zero mean and unit variance.
_ALPHA_PRIME = 1.7580993408473766


def _alpha(input, p, training, inplace, shape):
    _check_p(p)
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return _apply_mask(input, _scaled(input, input._data.shape, 1.0), inplace)
    keep = _keep_mask(input, shape, p)
    a = (1.0 - p) ** -0.5 * (1.0 + p * _ALPHA_PRIME ** 2) ** -0.5
    b = (keep - 1) * (_ALPHA_PRIME * a) + _ALPHA_PRIME * a * p
    keep *= a
    out = input * _wrap(keep) + _wrap(b)
    return IP.inplace(input, out) if inplace else out


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """Dropout for SELU networks: keeps the input's mean and variance (training only)."""
    return _alpha(input, p, training, inplace, input._data.shape)


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """Channel-wise alpha dropout."""
    if input.dim() < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    return _alpha(input, p, training, inplace, _feature_shape(input))
