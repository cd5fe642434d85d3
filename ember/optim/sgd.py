"""SGD with momentum, dampening, Nesterov momentum, weight decay and ``maximize``."""
from __future__ import annotations

from ..backends import namespace_of
from .optimizer import Optimizer, _decay_grad, _float, _grad_array, _wrap

__all__ = ["SGD"]


class SGD(Optimizer):
    """``p -= lr * b`` with ``b = momentum * b + (1 - dampening) * g`` (``b = g`` on the first step).

    Nesterov uses ``g + momentum * b`` instead of ``b``. State: ``momentum_buffer`` (only when
    momentum is non-zero), as in PyTorch."""

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, differentiable: bool = False, fused: bool | None = None) -> None:
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, foreach=foreach, differentiable=differentiable,
                        fused=fused)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr = _float(group["lr"])
            momentum = group["momentum"]
            dampening = group["dampening"]
            wd = group["weight_decay"]
            nesterov = group["nesterov"]
            maximize = group["maximize"]
            for p in group["params"]:
                if p._grad is None:
                    continue
                pd = p._data
                xp = namespace_of(pd)
                g, owned = _grad_array(p, maximize)
                if wd != 0:
                    g = _decay_grad(xp, g, pd, wd, owned)
                    owned = True
                if momentum != 0:
                    state = self.state[p]
                    buf_t = state.get("momentum_buffer")
                    if buf_t is None:
                        buf = g.copy()
                        state["momentum_buffer"] = _wrap(buf)
                    else:
                        buf = buf_t._data
                        xp.multiply(buf, momentum, out=buf)
                        if dampening == 0:
                            xp.add(buf, g, out=buf)
                        else:
                            t = xp.multiply(g, 1 - dampening, out=xp.empty_like(g))
                            xp.add(buf, t, out=buf)
                    if nesterov:
                        t = xp.multiply(buf, momentum, out=xp.empty_like(buf))
                        if owned:
                            xp.add(g, t, out=g)
                        else:
                            g = xp.add(g, t, out=t)
                            owned = True
                    else:
                        g, owned = buf, False
                if owned:
                    xp.multiply(g, -lr, out=g)
                    upd = g
                else:
                    upd = xp.multiply(g, -lr, out=xp.empty_like(g))
                xp.add(pd, upd, out=pd)
                p._vc[0] += 1
        return loss
