"""Adafactor (Shazeer & Stern, 2018) as PyTorch defines it: factored second moments, relative step size,
update clipping, decoupled weight decay scaled by ``lr``."""
from __future__ import annotations

import math

import numpy as np

from .._tensor import Tensor, _wrap
from .optimizer import Optimizer, _bump_step, _float, _lerp_, _step_tensor, _zeros_like

__all__ = ["Adafactor"]


class Adafactor(Optimizer):
    """At step ``t``: ``1 - beta2_t = t ** beta2_decay``, ``rho = min(lr, 1 / sqrt(t))``,
    ``alpha = max(eps2, RMS(p)) * rho``; ``p *= 1 - lr * weight_decay``.

    A gradient with two or more dimensions keeps running means of ``g**2`` over its last dimension
    (``row_var``, shape ``(..., m, 1)``) and over its second-to-last (``col_var``, ``(..., 1, n)``); the
    second moment is ``row_var @ col_var / max(mean(row_var), eps1)``. Other gradients keep the full
    ``variance``. ``u = g / sqrt(max(v, eps1**2))`` is scaled down to RMS ``d`` at most and
    ``p -= alpha * u``. ``eps1=None`` means the parameter dtype's machine epsilon.
    State: ``step`` and ``row_var``/``col_var``, or ``step`` and ``variance``."""

    def __init__(self, params, lr: float | Tensor = 1e-2, beta2_decay: float = -0.8,
                 eps: tuple[float | None, float] = (None, 1e-3), d: float = 1.0, weight_decay: float = 0.0, *,
                 foreach: bool | None = None, maximize: bool = False) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= _float(lr):
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        defaults = dict(lr=lr, beta2_decay=beta2_decay, eps=eps, d=d, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize)
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr = _float(group["lr"])
            beta2_decay, d, wd = group["beta2_decay"], group["d"], group["weight_decay"]
            eps1, eps2 = group["eps"]
            for p in group["params"]:   # PyTorch checks every parameter before it updates any
                if p._grad is not None and p._data.dtype.kind == "c":
                    raise RuntimeError("Adafactor does not support complex parameters")
            for p, state, pd, xp, g, _ in self._params_with_grad(group, "Adafactor"):
                if eps1 is None:   # as in PyTorch: the first updated parameter's dtype fixes it for the group
                    eps1 = float(np.finfo(pd.dtype).eps)
                factored = g.ndim > 1
                if len(state) == 0:
                    state["step"] = _step_tensor()
                    if factored:
                        state["row_var"] = _wrap(xp.zeros(g.shape[:-1] + (1,), dtype=g.dtype))
                        state["col_var"] = _wrap(xp.zeros(g.shape[:-2] + (1, g.shape[-1]), dtype=g.dtype))
                    else:
                        state["variance"] = _zeros_like(p._grad)
                t = _bump_step(state)
                w = t ** beta2_decay        # 1 - beta2_t
                rho = min(lr, 1 / t ** 0.5)
                rms_p = math.sqrt(float(xp.vdot(pd.ravel(), pd.ravel()))) / pd.size ** 0.5 if pd.size else 0.0
                alpha = max(eps2, rms_p) * rho
                if wd != 0:
                    xp.multiply(pd, 1 - lr * wd, out=pd)
                sq = xp.multiply(g, g, out=xp.empty_like(g))   # out=: stays an array for 0-d g
                if factored:
                    row, col = state["row_var"]._data, state["col_var"]._data
                    row_mean = xp.sum(sq, axis=-1, keepdims=True)
                    row_mean /= g.shape[-1]
                    _lerp_(xp, row, row_mean, w, xp.empty_like(row_mean))
                    col_mean = xp.sum(sq, axis=-2, keepdims=True)
                    col_mean /= g.shape[-2]
                    _lerp_(xp, col, col_mean, w, xp.empty_like(col_mean))
                    v = xp.multiply(row, col, out=sq)          # row_var @ col_var: an outer product
                    v /= xp.maximum(xp.mean(row, axis=-2, keepdims=True), eps1)
                else:
                    var = state["variance"]._data
                    _lerp_(xp, var, sq, w, xp.empty_like(sq))
                    xp.copyto(sq, var)
                    v = sq
                u = xp.maximum(v, eps1 * eps1, out=v)
                xp.sqrt(u, out=u)
                xp.divide(1.0, u, out=u)   # rsqrt, then times g: PyTorch's rounding
                u *= g
                rms_u = math.sqrt(float(xp.vdot(u.ravel(), u.ravel()))) / (u.size ** 0.5 * d) if u.size else 0.0
                denom = max(1.0, rms_u)
                u *= -alpha / denom
                pd += u
                p._vc[0] += 1
        return loss
