"""RMSprop (centered, momentum, weight decay, ``maximize``)."""
from __future__ import annotations

from .optimizer import (Optimizer, _bump_step, _check_options, _decay_grad, _ema_square_, _float, _lerp_,
                        _real_view, _step_tensor, _zeros_like)

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """``v = alpha * v + (1 - alpha) * g * g``; ``avg = sqrt(v - mean_g^2 if centered else v) + eps``;
    ``p -= lr * g / avg`` (through a momentum buffer when ``momentum > 0``).

    State: ``step``, ``square_avg``, ``momentum_buffer`` (momentum > 0), ``grad_avg`` (centered)."""

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0,
                 momentum: float = 0, centered: bool = False, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False, differentiable: bool = False) -> None:
        _check_options(lr=lr, eps=eps, momentum=momentum, weight_decay=weight_decay, alpha=alpha)
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach, maximize=maximize,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr = _float(group["lr"])
            alpha = group["alpha"]
            eps = group["eps"]
            wd = group["weight_decay"]
            momentum = group["momentum"]
            centered = group["centered"]
            for p, state, pd, xp, g, owned in self._params_with_grad(group, "RMSprop"):
                if len(state) == 0:
                    state["step"] = _step_tensor()
                    state["square_avg"] = _zeros_like(p)
                    if momentum > 0:
                        state["momentum_buffer"] = _zeros_like(p)
                    if centered:
                        state["grad_avg"] = _zeros_like(p)
                _bump_step(state)
                if wd != 0:
                    g = _decay_grad(xp, g, pd, wd, owned)
                v = state["square_avg"]._data
                if pd.dtype.kind == "c":
                    pd, g, v = _real_view(pd), _real_view(g), _real_view(v)
                avg = xp.empty_like(pd)
                _ema_square_(xp, v, g, alpha, avg)
                if centered:
                    ga = _real_view(state["grad_avg"]._data)
                    _lerp_(xp, ga, g, 1 - alpha, avg)
                    xp.multiply(ga, -1.0, out=avg)
                    xp.multiply(avg, ga, out=avg)
                    xp.add(v, avg, out=avg)
                    xp.sqrt(avg, out=avg)
                else:
                    xp.sqrt(v, out=avg)
                xp.add(avg, eps, out=avg)
                if momentum > 0:
                    buf = _real_view(state["momentum_buffer"]._data)
                    xp.multiply(buf, momentum, out=buf)
                    xp.divide(g, avg, out=avg)
                    xp.add(buf, avg, out=buf)
                    xp.multiply(buf, -lr, out=avg)
                else:
                    xp.divide(g, avg, out=avg)
                    xp.multiply(avg, -lr, out=avg)
                xp.add(pd, avg, out=pd)
                p._vc[0] += 1
        return loss
