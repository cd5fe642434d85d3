"""Rprop: resilient backpropagation (per-element step sizes driven by the gradient's sign)."""
from __future__ import annotations

from .optimizer import Optimizer, _bump_step, _check_options, _float, _real_view, _step_tensor, _zeros_like

__all__ = ["Rprop"]


class Rprop(Optimizer):
    """Each element keeps its own step size: multiplied by ``etas[1]`` while the gradient keeps its
    sign, by ``etas[0]`` when it flips (and that step is skipped: the remembered gradient becomes 0),
    clamped to ``step_sizes``; ``p -= sign(g) * step_size``.

    State: ``step``, ``prev`` (the last gradient used), ``step_size`` (starts at ``lr``)."""

    def __init__(self, params, lr: float = 1e-2, etas: tuple[float, float] = (0.5, 1.2),
                 step_sizes: tuple[float, float] = (1e-6, 50), *, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False, differentiable: bool = False) -> None:
        _check_options(lr=lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            etaminus, etaplus = group["etas"]
            smin, smax = group["step_sizes"]
            for p, state, pd, xp, g, owned in self._params_with_grad(group, "Rprop"):
                if len(state) == 0:
                    state["step"] = _step_tensor()
                    state["prev"] = _zeros_like(p)
                    # a complex parameter starts at lr + lr*1j: lr on both interleaved halves
                    ss = _zeros_like(p)
                    _real_view(ss._data)[...] = _float(group["lr"])
                    state["step_size"] = ss
                _bump_step(state)
                prev = state["prev"]._data
                size = state["step_size"]._data
                if pd.dtype.kind == "c":
                    pd, g, prev, size = _real_view(pd), _real_view(g), _real_view(prev), _real_view(size)
                # the factor from sign(g * prev): etaplus (same sign), etaminus (flip), 1 (a zero), NaN stays NaN
                prod = xp.multiply(g, prev, out=xp.empty_like(pd))
                flipped = prod < 0
                factor = xp.sign(prod, out=prod)
                factor[factor > 0] = etaplus
                factor[flipped] = etaminus
                factor[factor == 0] = 1
                xp.multiply(size, factor, out=size)
                xp.clip(size, smin, smax, out=size)
                # after a sign flip the gradient counts as 0: no move now, and no flip test next time
                xp.copyto(prev, g)
                prev[flipped] = 0
                xp.sign(prev, out=factor)
                xp.multiply(factor, size, out=factor)
                xp.subtract(pd, factor, out=pd)
                p._vc[0] += 1
        return loss
