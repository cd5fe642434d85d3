"""Gradient clipping: ``clip_grad_norm_`` (returns the total norm) and ``clip_grad_value_``."""
from __future__ import annotations

import math

from ..._tensor import Tensor, _wrap
from ...backends import namespace_of

__all__ = ["clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_"]


def _params(parameters):
    if isinstance(parameters, Tensor):
        return [parameters]
    return list(parameters)


def get_total_norm(tensors, norm_type: float = 2.0, error_if_nonfinite: bool = False, foreach=None) -> Tensor:
    """The ``norm_type``-norm of all tensors together (as if concatenated)."""
    tensors = [t for t in _params(tensors) if t is not None]
    norm_type = float(norm_type)
    if not tensors:
        from ...ops.creation import tensor
        return tensor(0.0)
    arrs = [t._data for t in tensors]
    xp = namespace_of(arrs[0])
    if norm_type == math.inf:
        total = max(xp.abs(a).max() for a in arrs if a.size) if any(a.size for a in arrs) else xp.asarray(0.0)
        total = xp.asarray(total, dtype=arrs[0].dtype)
    else:
        # per-tensor norms first, then the norm of those norms (PyTorch's order of summation)
        norms = xp.stack([xp.asarray(xp.sum(xp.abs(a) ** norm_type) ** (1.0 / norm_type)) for a in arrs])
        total = xp.sum(norms ** norm_type) ** (1.0 / norm_type)
    total = xp.asarray(total)
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it "
                           "cannot be clipped. To disable this error and scale the gradients by the non-finite norm "
                           "anyway, set `error_if_nonfinite=False`")
    return _wrap(total)


def clip_grads_with_norm_(parameters, max_norm: float, total_norm: Tensor, foreach=None) -> None:
    grads = [p.grad for p in _params(parameters) if p.grad is not None]
    coef = float(max_norm) / (float(total_norm) + 1e-6)
    if coef < 1.0:
        for g in grads:
            g._data *= g._data.dtype.type(coef)
            g._vc[0] += 1


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach=None) -> Tensor:
    """Scale the gradients in place so that their joint norm is at most ``max_norm``; returns the norm before."""
    params = _params(parameters)
    grads = [p.grad for p in params if p.grad is not None]
    total = get_total_norm(grads, norm_type, error_if_nonfinite)
    if grads:
        xp = namespace_of(grads[0]._data)
        coef = xp.minimum(float(max_norm) / (total._data + 1e-6), 1.0)
        for g in grads:
            g._data *= coef.astype(g._data.dtype)
            g._vc[0] += 1
    return total


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    import warnings
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of `torch.nn.utils.clip_grad_norm_`.",
                  FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamp every gradient element to [-clip_value, clip_value] in place."""
    clip_value = float(clip_value)
    for p in _params(parameters):
        if p.grad is not None:
            xp = namespace_of(p.grad._data)
            xp.clip(p.grad._data, -clip_value, clip_value, out=p.grad._data)
            p.grad._vc[0] += 1
