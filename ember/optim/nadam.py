"""NAdam: Adam with Nesterov momentum (momentum_decay, L2 or decoupled weight decay)."""
from __future__ import annotations

import numpy as np

from .._tensor import _wrap
from .optimizer import (Optimizer, _bump_step, _check_options, _ema_square_, _float, _lerp_,
                        _real_view, _scalar_dtype, _step_tensor, _weight_decay, _zeros_like)

__all__ = ["NAdam"]


class NAdam(Optimizer):
    """Dozat's NAdam with PyTorch's momentum schedule ``mu_t = beta1 * (1 - 0.5 * 0.96^(t * momentum_decay))``.

    ``mu_product`` (the running product of ``mu_t``) is a 0-d float32 tensor, multiplied in float32
    as in PyTorch. State: ``step``, ``mu_product``, ``exp_avg``, ``exp_avg_sq``."""

    def __init__(self, params, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, momentum_decay: float = 4e-3, decoupled_weight_decay: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        _check_options(lr=lr, eps=eps, betas=betas, weight_decay=weight_decay, momentum_decay=momentum_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize, foreach=foreach,
                        capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr = _float(group["lr"])
            beta1, beta2 = group["betas"]
            eps = group["eps"]
            wd = group["weight_decay"]
            momentum_decay = group["momentum_decay"]
            decoupled = group["decoupled_weight_decay"]
            for p, state, pd, xp, g, owned in self._params_with_grad(group, "NAdam"):
                if len(state) == 0:
                    state["step"] = _step_tensor()
                    state["mu_product"] = _wrap(np.array(1.0, dtype=_scalar_dtype()))
                    state["exp_avg"] = _zeros_like(p)
                    state["exp_avg_sq"] = _zeros_like(p)
                step = _bump_step(state)
                bc2 = 1 - beta2 ** step
                if wd != 0:
                    g = _weight_decay(xp, g, pd, lr, wd, decoupled, owned)
                mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
                mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
                mp = state["mu_product"]._data
                mp *= mu
                mu_product = float(mp)
                m = state["exp_avg"]._data
                v = state["exp_avg_sq"]._data
                if pd.dtype.kind == "c":
                    pd, g, m, v = _real_view(pd), _real_view(g), _real_view(m), _real_view(v)
                denom = xp.empty_like(pd)
                _lerp_(xp, m, g, 1 - beta1, denom)
                _ema_square_(xp, v, g, beta2, denom)
                xp.divide(v, bc2, out=denom)
                xp.sqrt(denom, out=denom)
                xp.add(denom, eps, out=denom)
                upd = xp.divide(g, denom, out=xp.empty_like(pd))
                xp.multiply(upd, -lr * (1.0 - mu) / (1.0 - mu_product), out=upd)
                xp.add(pd, upd, out=pd)
                xp.divide(m, denom, out=upd)
                xp.multiply(upd, (-lr * mu_next) / (1.0 - mu_product * mu_next), out=upd)
                xp.add(pd, upd, out=pd)
                p._vc[0] += 1
        return loss
