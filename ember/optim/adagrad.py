"""Adagrad (lr_decay, initial_accumulator_value, weight decay, ``maximize``)."""
from __future__ import annotations

from ..backends import namespace_of
from .._tensor import _wrap
from .optimizer import (Optimizer, _bump_step, _check_options, _check_sparse, _decay_grad, _float, _grad_array, _real_view,
                        _step_tensor)

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """``s += g * g``; ``p -= lr / (1 + (t - 1) * lr_decay) * g / (sqrt(s) + eps)``.

    As in PyTorch the state (``step``, ``sum`` filled with ``initial_accumulator_value``) is made
    when the optimizer is built, not on the first step."""

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False, fused: bool | None = None) -> None:
        _check_options(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                       initial_accumulator_value=initial_accumulator_value, eps=eps)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)

    def _init_state(self, p, init_value):
        state = self.state[p]
        state["step"] = _step_tensor()
        xp = namespace_of(p._data)
        if p._data.dtype.kind == "c":
            init_value = complex(init_value, init_value)
        state["sum"] = _wrap(xp.full_like(p._data, init_value))

    def add_param_group(self, param_group):
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        for p in group["params"]:
            self._init_state(p, group["initial_accumulator_value"])

    def step(self, closure=None):
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr = _float(group["lr"])
            lr_decay = group["lr_decay"]
            eps = group["eps"]
            wd = group["weight_decay"]
            maximize = group["maximize"]
            for p in group["params"]:
                if p._grad is None:
                    continue
                _check_sparse(p, "Adagrad")
                state = self.state[p]
                if len(state) == 0:
                    self._init_state(p, group["initial_accumulator_value"])
                pd = p._data
                xp = namespace_of(pd)
                g, owned = _grad_array(p, maximize)
                step = _bump_step(state)
                if wd != 0:
                    g = _decay_grad(xp, g, pd, wd, owned)
                clr = lr / (1 + (step - 1) * lr_decay)
                s = state["sum"]._data
                if pd.dtype.kind == "c":
                    pd, g, s = _real_view(pd), _real_view(g), _real_view(s)
                tmp = xp.multiply(g, g, out=xp.empty_like(pd))
                xp.add(s, tmp, out=s)
                xp.sqrt(s, out=tmp)
                xp.add(tmp, eps, out=tmp)
                xp.divide(g, tmp, out=tmp)
                xp.multiply(tmp, -clr, out=tmp)
                xp.add(pd, tmp, out=pd)
                p._vc[0] += 1
        return loss
