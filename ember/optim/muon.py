"""Muon: momentum whose 2-D update is orthogonalised by a Newton-Schulz iteration run in bfloat16, as in PyTorch."""
from __future__ import annotations

import math

from .._tensor import Tensor
from .optimizer import Optimizer, _float, _lerp_, _zeros_like

__all__ = ["Muon"]

_NS_COEFFICIENTS = (3.4445, -4.775, 2.0315)


def _round_bf16(xp, x):
    """float32 ``x`` rounded to the nearest bfloat16 (ties to even), kept in float32; in place.

    PyTorch runs the iteration on bfloat16 tensors: every op computes in float32 and rounds its result
    to bfloat16. Emulating that rounding reproduces its numbers bit for bit without a bfloat16 dtype."""
    bits = x.view(xp.uint32)
    nan = xp.isnan(x)
    bias = (bits >> 16) & 1
    bias += 0x7FFF
    bits += bias
    bits &= xp.uint32(0xFFFF0000)
    if nan.any():
        x[nan] = xp.nan
    return x


def _newton_schulz(xp, g, coefficients, steps: int, eps: float):
    """About ``U V^T`` of ``g = U S V^T`` (singular values pushed toward 1, not exactly 1): ``steps`` rounds of
    ``X <- a X + (b A + c A A) X`` with ``A = X X^T``, on the wide orientation of ``g / ||g||``, in bfloat16."""
    if steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if g.ndim != 2:
        raise ValueError("Input tensor gradient must be a 2D matrix")
    if len(coefficients) != 3:
        raise ValueError("Coefficients must be a tuple of exactly 3 values")
    a, b, c = (xp.float32(v) for v in coefficients)
    f32 = xp.float32
    x = _round_bf16(xp, g.astype(f32, copy=True))
    tall = g.shape[0] > g.shape[1]
    if tall:
        x = x.T
    norm = _round_bf16(xp, xp.sqrt(xp.sum(x * x, dtype=f32)).reshape(1))
    norm = xp.maximum(norm, _round_bf16(xp, xp.full(1, eps, dtype=f32)))
    x = _round_bf16(xp, x / norm)
    for _ in range(steps):
        gram = _round_bf16(xp, x @ x.T)
        poly = gram @ gram
        poly *= c
        poly += b * gram
        _round_bf16(xp, poly)
        nxt = poly @ x
        nxt += a * x
        x = _round_bf16(xp, nxt)
    return x.T if tall else x


def _adjusted_lr(lr: float, adjust_lr_fn: str | None, shape) -> float:
    rows, cols = shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        return lr * math.sqrt(max(1, rows / cols))
    if adjust_lr_fn == "match_rms_adamw":
        return lr * 0.2 * math.sqrt(max(rows, cols))
    return lr


class Muon(Optimizer):
    """For each 2-D parameter: ``B = lerp(B, g, 1 - momentum)``; the update ``O`` is the Newton-Schulz
    orthogonalisation of ``lerp(g, B, momentum)`` (``nesterov``, the default) or of ``B``; then
    ``p *= 1 - lr * weight_decay`` and ``p -= lr' * O`` with ``lr' = lr * sqrt(max(1, rows / cols))``
    (``adjust_lr_fn="original"``) or ``0.2 * lr * sqrt(max(rows, cols))`` (``"match_rms_adamw"``).
    The iteration runs in bfloat16 precision, as PyTorch's does. State: ``momentum_buffer``."""

    def __init__(self, params, lr: float = 1e-3, weight_decay: float = 0.1, momentum: float = 0.95,
                 nesterov: bool = True, ns_coefficients: tuple[float, float, float] = _NS_COEFFICIENTS,
                 eps: float = 1e-07, ns_steps: int = 5, adjust_lr_fn: str | None = None) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= _float(lr):
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 <= momentum:
            raise ValueError(f"momentum should be >= 0 but is: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight decay should be >= 0 but is: {weight_decay}")
        if adjust_lr_fn is not None and adjust_lr_fn not in ("original", "match_rms_adamw"):
            raise ValueError(f"Adjust learning rate function {adjust_lr_fn} is not supported")
        defaults = dict(lr=lr, weight_decay=weight_decay, momentum=momentum, nesterov=nesterov,
                        ns_coefficients=ns_coefficients, eps=eps, ns_steps=ns_steps, adjust_lr_fn=adjust_lr_fn)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                if p.dim() != 2:
                    raise ValueError(f"Muon only supports 2D parameters whereas we found a parameter with size: "
                                     f"{p.size()}")

    def step(self, closure=None):
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr = _float(group["lr"])
            wd, mu = group["weight_decay"], group["momentum"]
            for p in group["params"]:   # checked for every parameter before any is updated
                if p._grad is not None and p._data.dtype.kind == "c":
                    raise RuntimeError("Muon does not support complex parameters")
            for p, state, pd, xp, g, _ in self._params_with_grad(group, "Muon"):
                if g.ndim != 2:
                    raise ValueError("Param gradient must be a 2D matrix")
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = _zeros_like(p._grad)
                buf = state["momentum_buffer"]._data
                _lerp_(xp, buf, g, 1 - mu, xp.empty_like(buf))
                if group["nesterov"]:
                    upd = g.copy()
                    _lerp_(xp, upd, buf, mu, xp.empty_like(upd))
                else:
                    upd = buf
                o = _newton_schulz(xp, upd, group["ns_coefficients"], group["ns_steps"], group["eps"])
                step = _adjusted_lr(lr, group["adjust_lr_fn"], pd.shape)
                xp.multiply(pd, 1 - lr * wd, out=pd)
                o = o.astype(pd.dtype, copy=False)
                o *= -step
                pd += o
                p._vc[0] += 1
        return loss
