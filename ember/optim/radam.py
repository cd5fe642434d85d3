"""RAdam: rectified Adam (L2 or decoupled weight decay, ``maximize``)."""
from __future__ import annotations

from .optimizer import (Optimizer, _bump_step, _check_options, _ema_square_, _float, _lerp_,
                        _real_view, _step_tensor, _weight_decay, _zeros_like)

__all__ = ["RAdam"]


class RAdam(Optimizer):
    """Liu et al.'s RAdam: while the variance estimate is unreliable (``rho_t <= 5``) the step is
    plain momentum SGD, ``p -= lr * m / (1 - beta1^t)``; afterwards the adaptive step is scaled by the
    rectification term. State: ``step``, ``exp_avg``, ``exp_avg_sq``."""

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, decoupled_weight_decay: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False, differentiable: bool = False) -> None:
        _check_options(lr=lr, eps=eps, betas=betas, weight_decay=weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize, foreach=foreach,
                        capturable=capturable, decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr = _float(group["lr"])
            beta1, beta2 = group["betas"]
            eps = group["eps"]
            wd = group["weight_decay"]
            decoupled = group["decoupled_weight_decay"]
            for p, state, pd, xp, g, owned in self._params_with_grad(group, "RAdam"):
                if len(state) == 0:
                    state["step"] = _step_tensor()
                    state["exp_avg"] = _zeros_like(p)
                    state["exp_avg_sq"] = _zeros_like(p)
                step = _bump_step(state)
                if wd != 0:
                    g = _weight_decay(xp, g, pd, lr, wd, decoupled, owned)
                m = state["exp_avg"]._data
                v = state["exp_avg_sq"]._data
                if pd.dtype.kind == "c":
                    pd, g, m, v = _real_view(pd), _real_view(g), _real_view(m), _real_view(v)
                tmp = xp.empty_like(pd)
                _lerp_(xp, m, g, 1 - beta1, tmp)
                _ema_square_(xp, v, g, beta2, tmp)
                bc1 = 1 - beta1 ** step
                bc2 = 1 - beta2 ** step
                upd = xp.divide(m, bc1, out=xp.empty_like(pd))
                xp.multiply(upd, lr, out=upd)
                rho_inf = 2 / (1 - beta2) - 1
                rho_t = rho_inf - 2 * step * (beta2 ** step) / bc2
                if rho_t > 5.0:
                    rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                    xp.sqrt(v, out=tmp)
                    xp.add(tmp, eps, out=tmp)
                    xp.divide(bc2 ** 0.5, tmp, out=tmp)
                    xp.multiply(upd, tmp, out=upd)
                    xp.multiply(upd, rect, out=upd)
                xp.subtract(pd, upd, out=pd)
                p._vc[0] += 1
        return loss
