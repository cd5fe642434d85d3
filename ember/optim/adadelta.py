"""Adadelta (weight decay, ``maximize``)."""
from __future__ import annotations

from .optimizer import (Optimizer, _bump_step, _check_options, _decay_grad, _ema_square_, _float, _real_view,
                        _step_tensor, _zeros_like)

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """``v = rho * v + (1 - rho) * g^2``; ``d = sqrt(u + eps) / sqrt(v + eps) * g``;
    ``u = rho * u + (1 - rho) * d^2``; ``p -= lr * d``. State: ``step``, ``square_avg``, ``acc_delta``."""

    def __init__(self, params, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6, weight_decay: float = 0,
                 foreach: bool | None = None, *, capturable: bool = False, maximize: bool = False,
                 differentiable: bool = False) -> None:
        _check_options(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr = _float(group["lr"])
            rho = group["rho"]
            eps = group["eps"]
            wd = group["weight_decay"]
            for p, state, pd, xp, g, owned in self._params_with_grad(group, "Adadelta"):
                if len(state) == 0:
                    state["step"] = _step_tensor()
                    state["square_avg"] = _zeros_like(p)
                    state["acc_delta"] = _zeros_like(p)
                _bump_step(state)
                if wd != 0:
                    g = _decay_grad(xp, g, pd, wd, owned)
                v = state["square_avg"]._data
                u = state["acc_delta"]._data
                if pd.dtype.kind == "c":
                    pd, g, v, u = _real_view(pd), _real_view(g), _real_view(v), _real_view(u)
                std = xp.empty_like(pd)
                _ema_square_(xp, v, g, rho, std)
                xp.add(v, eps, out=std)
                xp.sqrt(std, out=std)
                delta = xp.add(u, eps, out=xp.empty_like(pd))
                xp.sqrt(delta, out=delta)
                xp.divide(delta, std, out=delta)
                xp.multiply(delta, g, out=delta)
                _ema_square_(xp, u, delta, rho, std)
                xp.multiply(delta, -lr, out=delta)
                xp.add(pd, delta, out=pd)
                p._vc[0] += 1
        return loss
