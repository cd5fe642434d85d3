"""ASGD: averaged stochastic gradient descent (Polyak-Ruppert averaging after ``t0`` steps)."""
from __future__ import annotations

from .optimizer import (Optimizer, _bump_step, _check_options, _decay_grad, _float, _real_view, _step_tensor,
                        _zeros_like)

__all__ = ["ASGD"]


class ASGD(Optimizer):
    """``p *= 1 - lambd * eta``; ``p -= eta * g``; ``ax`` follows ``p`` (copied while ``mu == 1``,
    then averaged: ``ax += mu * (p - ax)``); afterwards ``eta = lr / (1 + lambd * lr * t)^alpha`` and
    ``mu = 1 / max(1, t - t0)``.

    State: ``step``, ``eta``, ``mu`` (0-d tensors of the default float dtype) and ``ax``."""

    def __init__(self, params, lr: float = 1e-2, lambd: float = 1e-4, alpha: float = 0.75, t0: float = 1e6,
                 weight_decay: float = 0, foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False) -> None:
        _check_options(lr=lr, weight_decay=weight_decay)
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr = _float(group["lr"])
            lambd, alpha, t0 = group["lambd"], group["alpha"], group["t0"]
            wd = group["weight_decay"]
            for p, state, pd, xp, g, owned in self._params_with_grad(group, "ASGD"):
                if len(state) == 0:
                    state["step"] = _step_tensor()
                    state["eta"] = _step_tensor(lr)
                    state["mu"] = _step_tensor(1.0)
                    state["ax"] = _zeros_like(p)
                step = _bump_step(state)
                if wd != 0:
                    g = _decay_grad(xp, g, pd, wd, owned)
                ax = state["ax"]._data
                if pd.dtype.kind == "c":
                    pd, g, ax = _real_view(pd), _real_view(g), _real_view(ax)
                eta = float(state["eta"]._data)
                mu = float(state["mu"]._data)
                xp.multiply(pd, 1 - lambd * eta, out=pd)
                tmp = xp.multiply(g, -eta, out=xp.empty_like(pd))
                xp.add(pd, tmp, out=pd)
                if mu != 1:
                    xp.subtract(pd, ax, out=tmp)
                    xp.multiply(tmp, mu, out=tmp)
                    xp.add(ax, tmp, out=ax)
                else:
                    xp.copyto(ax, pd)
                p._vc[0] += 1
                state["eta"]._data[...] = lr / ((1 + lambd * lr * step) ** alpha)
                state["mu"]._data[...] = 1 / max(1, step - t0)
        return loss

