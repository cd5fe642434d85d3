"""Adam (with AMSGrad, L2 or decoupled weight decay, ``maximize``)."""
from __future__ import annotations

import numpy as np

from ..backends.kernels import Kernel
from .optimizer import (Optimizer, _bump_step, _check_options, _ema_square_, _float, _lerp_,
                        _real_view, _step_tensor, _weight_decay, _zeros_like)

__all__ = ["Adam"]

# One Adam/AdamW update as a single device kernel, in the same operation order as the array path (so
# float32 rounding agrees): decay, two-sided lerp of ``m``, ``v``, then the step.
_STEP = Kernel(
    "T g, T w1, T beta2, T omb2, T eps, T neg_step, T bc2_sqrt, T l2, T shrink",
    "T p, T m, T v",
    """
    T gg = g;
    if (l2 != (T)0) { gg = g + p * l2; }
    if (shrink != (T)1) { p = p * shrink; }
    T d = gg - m;
    if (w1 < (T)0.5) { m = m + d * w1; } else { m = gg - d * ((T)1 - w1); }
    v = v * beta2 + (gg * omb2) * gg;
    T den = sqrt(v) / bc2_sqrt + eps;
    p = p + (m / den) * neg_step;
    """,
    "ember_adam_step")


def _fused_device_step(k, p, g, m, v, lr, beta1, beta2, eps, wd, decoupled, step):
    dt = p.dtype.type
    l2 = 0.0 if decoupled else wd
    shrink = 1 - lr * wd if decoupled and wd != 0 else 1.0
    k(g, dt(1 - beta1), dt(beta2), dt(1 - beta2), dt(eps), dt(-(lr / (1 - beta1 ** step))),
      dt((1 - beta2 ** step) ** 0.5), dt(l2), dt(shrink), p, m, v)


class Adam(Optimizer):
    """Adam: ``m = lerp(m, g, 1 - beta1)``, ``v = beta2 * v + (1 - beta2) * g * g``,
    ``p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)``.

    ``amsgrad`` normalises by the running maximum of ``v``; ``decoupled_weight_decay`` (AdamW)
    shrinks ``p`` by ``1 - lr * weight_decay`` instead of adding the L2 term to the gradient.
    State: ``step`` (0-d float32), ``exp_avg``, ``exp_avg_sq`` (and ``max_exp_avg_sq``)."""

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False, differentiable: bool = False,
                 fused: bool | None = None, decoupled_weight_decay: bool = False) -> None:
        _check_options(lr=lr, eps=eps, betas=betas, weight_decay=weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._eval_closure(closure)
        name = type(self).__name__
        for group in self.param_groups:
            lr = _float(group["lr"])
            beta1, beta2 = (_float(b) for b in group["betas"])
            eps = group["eps"]
            wd = group["weight_decay"]
            amsgrad = group["amsgrad"]
            decoupled = group.get("decoupled_weight_decay", False)
            for p, state, pd, xp, g, owned in self._params_with_grad(group, name):
                if len(state) == 0:
                    state["step"] = _step_tensor()
                    state["exp_avg"] = _zeros_like(p)
                    state["exp_avg_sq"] = _zeros_like(p)
                    if amsgrad:
                        state["max_exp_avg_sq"] = _zeros_like(p)
                step = _bump_step(state)
                k = None if amsgrad or xp is np else _STEP.on(xp, pd.dtype)
                if k is not None and g.dtype == pd.dtype:
                    # on a GPU the element-wise chain below is ~12 kernel launches: run it as one
                    _fused_device_step(k, pd, g, state["exp_avg"]._data, state["exp_avg_sq"]._data, lr, beta1,
                                       beta2, eps, wd, decoupled, step)
                    p._vc[0] += 1
                    continue
                if wd != 0:
                    g = _weight_decay(xp, g, pd, lr, wd, decoupled, owned)
                m = state["exp_avg"]._data
                v = state["exp_avg_sq"]._data
                if pd.dtype.kind == "c":
                    pd, g, m, v = _real_view(pd), _real_view(g), _real_view(m), _real_view(v)
                tmp = xp.empty_like(pd)
                _lerp_(xp, m, g, 1 - beta1, tmp)
                _ema_square_(xp, v, g, beta2, tmp)
                step_size = lr / (1 - beta1 ** step)
                bc2_sqrt = (1 - beta2 ** step) ** 0.5
                if amsgrad:
                    vmax = _real_view(state["max_exp_avg_sq"]._data)
                    xp.maximum(vmax, v, out=vmax)
                    v = vmax
                xp.sqrt(v, out=tmp)
                xp.divide(tmp, bc2_sqrt, out=tmp)
                xp.add(tmp, eps, out=tmp)
                xp.divide(m, tmp, out=tmp)
                xp.multiply(tmp, -step_size, out=tmp)
                xp.add(pd, tmp, out=pd)
                p._vc[0] += 1
        return loss
