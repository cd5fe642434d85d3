"""Adamax: Adam with the infinity norm (weight decay, ``maximize``)."""
from __future__ import annotations

from .optimizer import (Optimizer, _bump_step, _check_options, _decay_grad, _float, _lerp_,
                        _real_view, _step_tensor, _zeros_like)

__all__ = ["Adamax"]


class Adamax(Optimizer):
    """``m = lerp(m, g, 1 - beta1)``; ``u = max(beta2 * u, |g| + eps)``;
    ``p -= lr / (1 - beta1^t) * m / u``. State: ``step``, ``exp_avg``, ``exp_inf``."""

    def __init__(self, params, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False) -> None:
        _check_options(lr=lr, eps=eps, betas=betas, weight_decay=weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr = _float(group["lr"])
            beta1, beta2 = group["betas"]
            eps = group["eps"]
            wd = group["weight_decay"]
            for p, state, pd, xp, g, owned in self._params_with_grad(group, "Adamax"):
                if len(state) == 0:
                    state["step"] = _step_tensor()
                    state["exp_avg"] = _zeros_like(p)
                    state["exp_inf"] = _zeros_like(p)
                step = _bump_step(state)
                if wd != 0:
                    g = _decay_grad(xp, g, pd, wd, owned)
                m = state["exp_avg"]._data
                u = state["exp_inf"]._data
                if pd.dtype.kind == "c":
                    pd, g, m, u = _real_view(pd), _real_view(g), _real_view(m), _real_view(u)
                tmp = xp.empty_like(pd)
                _lerp_(xp, m, g, 1 - beta1, tmp)
                xp.abs(g, out=tmp)
                xp.add(tmp, eps, out=tmp)
                xp.multiply(u, beta2, out=u)
                xp.maximum(u, tmp, out=u)
                clr = lr / (1 - beta1 ** step)
                xp.divide(m, u, out=tmp)
                xp.multiply(tmp, -clr, out=tmp)
                xp.add(pd, tmp, out=pd)
                p._vc[0] += 1
        return loss
