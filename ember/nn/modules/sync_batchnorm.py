"""``SyncBatchNorm``: batch norm whose batch statistics span every rank of a process group.

In training, with ``ember.distributed`` initialised and more than one rank in the group, each
channel's mean and variance are computed over the union of all ranks' batches (two all-reduces:
the sums and counts, then the centred squares), and the backward pass all-reduces the two
per-channel sums the input gradient needs. ``weight``/``bias`` gradients stay local, as in
PyTorch (DistributedDataParallel averages them). Otherwise (eval, one process, no group) it is
exactly ``BatchNorm``.
"""
from __future__ import annotations

import math

from ..._tensor import Tensor, _wrap
from ...autograd.function import Function
from ...autograd.grad_mode import no_grad
from ...backends import namespace_of
from .batchnorm import _BatchNorm
from .module import Module

__all__ = ["SyncBatchNorm"]


def _all_reduce(arr, group):
    """Sum a backend array across the group's ranks (returns the reduced array)."""
    from ... import distributed as dist
    t = _wrap(arr)
    dist.all_reduce(t, group=group)
    return t._data


class _SyncBatchNormFn(Function):
    raw = True
    node_name = "SyncBatchNormBackward"

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, eps, momentum, group):
        xp = namespace_of(x)
        c = x.shape[1]
        axes = (0,) + tuple(range(2, x.ndim))
        cshape = (1, c) + (1,) * (x.ndim - 2)
        count = math.prod(x.shape) // c if c else 0
        stats = xp.concatenate([x.sum(axis=axes), xp.asarray([count], dtype=x.dtype)])
        stats = _all_reduce(stats, group)
        n = float(stats[-1])
        if n <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got {int(n)} values in total "
                             f"across ranks (local input size {list(x.shape)})")
        mean = stats[:-1] / x.dtype.type(n)
        xmu = x - mean.reshape(cshape)
        var = _all_reduce((xmu * xmu).sum(axis=axes), group) / x.dtype.type(n)
        invstd = 1.0 / xp.sqrt(var + x.dtype.type(eps))
        xhat = xmu * invstd.reshape(cshape)
        out = xhat
        if weight is not None:
            out = out * weight.reshape(cshape)
        if bias is not None:
            out = out + bias.reshape(cshape)
        if running_mean is not None:
            running_mean *= (1 - momentum)
            running_mean += momentum * mean.astype(running_mean.dtype)
        if running_var is not None:
            running_var *= (1 - momentum)
            running_var += momentum * (var * (n / (n - 1))).astype(running_var.dtype)
        ctx.group, ctx.n, ctx.cshape, ctx.axes = group, n, cshape, axes
        ctx.xhat, ctx.invstd, ctx.weight = xhat, invstd, weight
        ctx.has_bias = bias is not None
        return out

    @staticmethod
    def backward(ctx, g):
        as_tensor = isinstance(g, Tensor)
        if as_tensor:   # create_graph: the collective sums are not differentiated a second time
            g = g._data
        cshape, axes, n = ctx.cshape, ctx.axes, ctx.n
        xhat, invstd, w = ctx.xhat, ctx.invstd, ctx.weight
        sum_dy = g.sum(axis=axes)
        sum_dy_xhat = (g * xhat).sum(axis=axes)
        gw = sum_dy_xhat if w is not None and ctx.needs_input_grad[1] else None
        gb = sum_dy if ctx.has_bias and ctx.needs_input_grad[2] else None
        gx = None
        if ctx.needs_input_grad[0]:
            c = sum_dy.shape[0]
            both = _all_reduce(namespace_of(g).concatenate([sum_dy, sum_dy_xhat]), ctx.group)
            mdy = (both[:c] / g.dtype.type(n)).reshape(cshape)
            mdyx = (both[c:] / g.dtype.type(n)).reshape(cshape)
            scale = invstd if w is None else invstd * w
            gx = scale.reshape(cshape) * (g - mdy - xhat * mdyx)
        res = (gx, gw, gb)
        if as_tensor:
            res = tuple(None if r is None else _wrap(r) for r in res)
        return res + (None,) * 5


class SyncBatchNorm(_BatchNorm):
    """Batch norm over (N, C, *) inputs, synchronised across ``process_group`` (default: the world) in
    training. Parameters, buffers, ``state_dict`` keys and repr are ``BatchNorm``'s."""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum=0.1, affine: bool = True,
                 track_running_stats: bool = True, process_group=None, device=None, dtype=None, *,
                 bias: bool = True) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)
        self.process_group = process_group

    def _check_input_dim(self, input) -> None:
        if input.dim() < 2:
            raise ValueError(f"expected at least 2D input (got {input.dim()}D input)")

    def _check_non_zero_input_channels(self, input) -> None:
        if input.shape[1] == 0:
            raise ValueError("SyncBatchNorm number of input channels should be non-zero")

    def _sync_group(self):
        """The group to synchronise over in this call, or None (plain batch norm)."""
        if not self.training:
            return None
        from ... import distributed as dist
        if not (dist.is_available() and dist.is_initialized()):
            return None
        group = self.process_group if self.process_group is not None else dist.group.WORLD
        return group if dist.get_world_size(group) > 1 else None

    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        self._check_non_zero_input_channels(input)
        group = self._sync_group()
        if group is None:
            return super().forward(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.track_running_stats and self.num_batches_tracked is not None:
            with no_grad():
                self.num_batches_tracked.add_(1)
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked)
        rm = self.running_mean if self.track_running_stats else None
        rv = self.running_var if self.track_running_stats else None
        out = _SyncBatchNormFn.apply(input, self.weight, self.bias, rm, rv, self.eps, factor, group)
        for b in (rm, rv):
            if b is not None:
                b._vc[0] += 1
        return out

    @classmethod
    def convert_sync_batchnorm(cls, module: Module, process_group=None) -> Module:
        """Return ``module`` with every BatchNorm*D layer (recursively) replaced by a ``SyncBatchNorm`` that
        shares its parameters and copies its running statistics; other modules are kept as they are."""
        out = module
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            out = SyncBatchNorm(module.num_features, module.eps, module.momentum, module.affine,
                                module.track_running_stats, process_group, bias=module.bias is not None or
                                not module.affine)
            if module.affine:
                with no_grad():
                    out.weight = module.weight
                    out.bias = module.bias
            out.running_mean = module.running_mean
            out.running_var = module.running_var
            out.num_batches_tracked = module.num_batches_tracked
            out.training = module.training
            if hasattr(module, "qconfig"):
                out.qconfig = module.qconfig
        for name, child in module.named_children():
            out.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        del module
        return out
