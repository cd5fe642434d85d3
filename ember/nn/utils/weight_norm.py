"""Weight normalization, ``w = g * v / ||v||``: the primitive and the legacy hook-based form.

``_weight_norm(v, g, dim)`` and ``norm_except_dim(v, pow, dim)`` are the functional forms (``torch._weight_norm``,
``torch.norm_except_dim``); ``dim`` is the dimension kept (one norm per slice along it), and ``dim=-1``
means one norm over the whole tensor, as in PyTorch. The fused primitive (``dim`` first or last) has
PyTorch's grad_fn name ``WeightNormInterfaceBackward0``.

``weight_norm(module)`` is the deprecated form that replaces ``weight`` by parameters ``weight_g`` and
``weight_v`` and recomputes ``module.weight`` in a forward pre-hook; prefer
``ember.nn.utils.parametrizations.weight_norm``.
"""
from __future__ import annotations

import warnings
from typing import Any

from ..._tensor import Tensor
from ...autograd.function import Function
from ...backends import namespace_of as _namespace_of
from ..parameter import Parameter, UninitializedParameter

__all__ = ["WeightNorm", "weight_norm", "remove_weight_norm"]


def _other_axes(ndim: int, dim: int) -> tuple:
    return tuple(i for i in range(ndim) if i != dim)


class _WeightNormInterface(Function):
    """``w = v * (g / ||v||)``, the norm taken over every axis but one; ``g`` has the norm's shape."""

    raw = True
    node_name = "WeightNormInterfaceBackward0"

    @staticmethod
    def forward(ctx, v, g, axes):
        xp = _namespace_of(v)
        norm = xp.sqrt((v * v).sum(axis=axes, keepdims=True))
        if ctx.needs_input_grad:
            ctx.save_for_backward(v, g)
            ctx.axes = axes
        return v * (g.reshape(norm.shape) / norm)

    @staticmethod
    def backward(ctx, grad):
        v, g = ctx.saved_tensors
        axes = ctx.axes
        # recomputed from the saved inputs (not saved): keeps create_graph=True differentiable
        sq = (v * v).sum(axis=axes, keepdims=True)
        norm = sq ** 0.5
        dot = (grad * v).sum(axis=axes, keepdims=True)
        need_v, need_g = ctx.needs_input_grad[:2]
        gv = (g.reshape(norm.shape) / norm) * (grad - v * (dot / sq)) if need_v else None
        gg = (dot / norm).reshape(g.shape) if need_g else None
        return gv, gg, None


def norm_except_dim(v: Tensor, pow: float = 2, dim: int = 0) -> Tensor:
    """The ``pow``-norm of ``v`` over every dimension except ``dim``, keeping the reduced dimensions
    (shape ``[1, .., v.shape[dim], .., 1]``); ``dim=-1`` gives the norm of the whole tensor (0-d)."""
    from ...ops.linalg_matrix import vector_norm
    if dim == -1:
        return vector_norm(v, pow)
    if not -v.ndim <= dim < max(v.ndim, 1):
        raise IndexError(f"norm_except_dim: dimension {dim} out of range for a tensor of shape {tuple(v.shape)}")
    dim %= max(v.ndim, 1)
    axes = _other_axes(v.ndim, dim)
    if not axes:
        return v.abs() if pow != 0 else (v != 0).to(v.dtype)
    return vector_norm(v, pow, axes, keepdim=True)


def _weight_norm(v: Tensor, g: Tensor, dim: int = 0) -> Tensor:
    """``v * (g / norm_except_dim(v, 2, dim))``: the weight of weight normalization.

    ``v``: the direction, any shape; ``g``: the magnitudes, one per slice of ``v`` along ``dim``
    (shape ``norm_except_dim(v, 2, dim).shape``, or 0-d for ``dim=-1``).
    """
    if not isinstance(v, Tensor) or not isinstance(g, Tensor):
        raise TypeError("_weight_norm(): expected Tensors for v and g, got "
                        f"{type(v).__name__} and {type(g).__name__}")
    if v.ndim > 0 and dim in (0, v.ndim - 1):
        dim %= v.ndim
        if g.numel() != v.shape[dim]:
            raise RuntimeError(f"_weight_norm: g must have {v.shape[dim]} elements (one per slice of v along "
                               f"dim {dim}), got g of shape {tuple(g.shape)} for v of shape {tuple(v.shape)}")
        return _WeightNormInterface.apply(v, g, _other_axes(v.ndim, dim))
    return v * (g / norm_except_dim(v, 2, dim))


class WeightNorm:
    """The forward pre-hook of the legacy ``weight_norm``: recomputes ``module.<name>`` from
    ``<name>_g`` and ``<name>_v`` before every forward."""

    name: str
    dim: int

    def __init__(self, name: str, dim: int) -> None:
        self.name = name
        self.dim = -1 if dim is None else dim

    def compute_weight(self, module) -> Any:
        return _weight_norm(getattr(module, self.name + "_v"), getattr(module, self.name + "_g"), self.dim)

    @staticmethod
    def apply(module, name: str, dim: int) -> "WeightNorm":
        warnings.warn("`torch.nn.utils.weight_norm` is deprecated in favor of "
                      "`torch.nn.utils.parametrizations.weight_norm`.", FutureWarning, stacklevel=3)
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, WeightNorm) and hook.name == name:
                raise RuntimeError(f"Cannot register two weight_norm hooks on the same parameter {name}")
        fn = WeightNorm(name, dim)
        weight = getattr(module, name)
        if isinstance(weight, UninitializedParameter):
            raise ValueError("The module passed to `WeightNorm` can't have uninitialized parameters. "
                             "Make sure to run the dummy forward before applying weight normalization")
        g = norm_except_dim(weight.detach(), 2, fn.dim)
        del module._parameters[name]
        module.register_parameter(name + "_g", Parameter(g))
        module.register_parameter(name + "_v", Parameter(weight.detach()))
        setattr(module, name, fn.compute_weight(module))
        module.register_forward_pre_hook(fn)
        return fn

    def remove(self, module) -> None:
        weight = self.compute_weight(module)
        delattr(module, self.name)
        del module._parameters[self.name + "_g"]
        del module._parameters[self.name + "_v"]
        setattr(module, self.name, Parameter(weight.detach()))

    def __call__(self, module, inputs: Any) -> None:
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module, name: str = "weight", dim: int | None = 0):
    """Deprecated: reparametrize ``module.<name>`` as ``g * v / ||v||`` with parameters ``<name>_g``
    (one magnitude per slice along ``dim``; ``dim=None`` for one over the whole tensor) and ``<name>_v``.
    Returns ``module``. Use ``ember.nn.utils.parametrizations.weight_norm`` instead."""
    WeightNorm.apply(module, name, dim)
    return module


def remove_weight_norm(module, name: str = "weight"):
    """Undo the legacy ``weight_norm``: ``<name>`` becomes a plain parameter holding the current weight."""
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, WeightNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"weight_norm of '{name}' not found in {module}")
