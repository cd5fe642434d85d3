"""``gumbel_softmax``: a differentiable sample from the Gumbel-softmax (Concrete) distribution."""
from __future__ import annotations

import warnings

import numpy as np

from ..._tensor import Tensor, _wrap
from ...ops.creation import _rng, sample_like

__all__ = ["gumbel_softmax"]


def _standard_exponential(logits: Tensor) -> np.ndarray:
    """Exp(1) noise shaped like ``logits`` in its dtype and on its device (the one random draw; tests replace it).

    Drawn in float64 and kept strictly positive, so ``-log`` never yields +inf."""
    e = _rng(None).standard_exponential(tuple(logits.shape))
    dt = logits._data.dtype
    e = np.maximum(e, np.finfo(np.float64).tiny).astype(dt, copy=False)
    return sample_like(logits, e)


def gumbel_softmax(logits: Tensor, tau: float = 1, hard: bool = False, eps: float = 1e-10,
                   dim: int = -1) -> Tensor:
    """``softmax((logits + g) / tau, dim)`` with ``g ~ Gumbel(0, 1)`` drawn afresh; shape of ``logits``.

    ``hard=True`` returns the one-hot of the argmax along ``dim`` in the forward pass, while the gradient
    is the soft sample's (straight-through: ``y_hard - y_soft.detach() + y_soft``). ``eps`` is deprecated
    and unused, as in PyTorch."""
    if not isinstance(logits, Tensor):
        raise TypeError(f"gumbel_softmax(): argument 'logits' must be Tensor, not {type(logits).__name__}")
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", stacklevel=2)
    if logits._data.dtype.kind not in "fV":   # V: bfloat16
        raise RuntimeError(f"gumbel_softmax(): expected a floating-point tensor, got {logits.dtype}")
    gumbels = -_wrap(_standard_exponential(logits)).log()
    y_soft = ((logits + gumbels) / tau).softmax(dim)
    if not hard:
        return y_soft
    index = y_soft.max(dim, keepdim=True)[1]
    y_hard = logits.new_zeros(logits.shape).scatter_(dim, index, 1.0)
    return y_hard - y_soft.detach() + y_soft
