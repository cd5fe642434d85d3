"""Lazy modules: layers whose input size is read from the first batch they see.

``LazyModuleMixin`` gives a layer ``UninitializedParameter`` / ``UninitializedBuffer`` slots and a
forward pre-hook. The first call materialises them from the input's shape, runs the layer's usual
initialisation, removes the hook and swaps the object's class to ``cls_to_become`` (``LazyConv2d``
becomes a plain ``Conv2d``). Before that, ``state_dict`` holds the uninitialized objects
themselves, and ``load_state_dict`` materialises them with the checkpoint's shapes.

Classes: ``LazyConv1d/2d/3d``, ``LazyConvTranspose1d/2d/3d``, ``LazyBatchNorm1d/2d/3d``,
``LazyInstanceNorm1d/2d/3d`` (``LazyLinear`` lives in ``linear.py``).
"""
from __future__ import annotations

from ... import _dtype as D
from ...autograd.grad_mode import no_grad
from ...ops.creation import tensor
from ..parameter import UninitializedBuffer, UninitializedParameter, is_lazy
from .batchnorm import (BatchNorm1d, BatchNorm2d, BatchNorm3d, InstanceNorm1d, InstanceNorm2d, InstanceNorm3d,
                        _NormBase)
from .conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d

__all__ = ["LazyModuleMixin", "LazyConv1d", "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d",
           "LazyConvTranspose2d", "LazyConvTranspose3d", "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d",
           "LazyInstanceNorm1d", "LazyInstanceNorm2d", "LazyInstanceNorm3d"]


class LazyModuleMixin:
    """Mixin (listed first among the bases) for modules whose parameters are shaped by their first input.

    A subclass implements ``initialize_parameters(*args, **kwargs)`` (materialise every uninitialized
    parameter/buffer and initialise them) and may set ``cls_to_become``."""

    cls_to_become = None

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._initialize_hook = self.register_forward_pre_hook(self._infer_parameters, with_kwargs=True)

    def has_uninitialized_params(self) -> bool:
        """True while any own parameter or buffer is still uninitialized."""
        return any(is_lazy(t) for t in list(self._parameters.values()) + list(self._buffers.values()))

    def initialize_parameters(self, *args, **kwargs) -> None:
        raise NotImplementedError(f"initialize_parameters is not implemented for {type(self).__name__}")

    def _save_to_state_dict(self, destination, prefix, keep_vars) -> None:
        # uninitialized slots are saved as themselves (detach() would turn them into empty tensors)
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars or is_lazy(p) else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = b if keep_vars or is_lazy(b) else b.detach()

    def _apply(self, fn, recurse: bool = True):
        # ``.to()`` / ``.double()`` replace buffers; an uninitialized one must stay uninitialized (with the
        # new dtype/device, which materialize() then uses)
        lazy = {k: b for k, b in self._buffers.items() if b is not None and is_lazy(b)}
        out = super()._apply(fn, recurse)
        for k, b in lazy.items():
            b._data = self._buffers[k]._data
            self._buffers[k] = b
        return out

    def _infer_parameters(self, module, args, kwargs=None):
        module.initialize_parameters(*args, **(kwargs or {}))
        if module.has_uninitialized_params():
            raise RuntimeError(f"module {module._get_name()} has not been fully initialized")
        module._initialize_hook.remove()
        del module._initialize_hook
        module._after_materialize()
        if module.cls_to_become is not None:
            module.__class__ = module.cls_to_become
        return None

    def _after_materialize(self) -> None:
        """Fix up sizes that a ``load_state_dict`` materialisation could not set (e.g. ``in_channels``)."""

    def _replicate_for_data_parallel(self):
        raise RuntimeError("Modules with uninitialized parameters can't be used with `DataParallel`. "
                           "Run a dummy forward pass to correctly initialize the modules")


# --------------------------------------------------------------------------- convolutions
class _LazyConvXdMixin(LazyModuleMixin):
    _nd = 2

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def _in_channels_of(self, input) -> int:
        nd = self._nd
        if input.dim() not in (nd + 1, nd + 2):
            raise ValueError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to "
                             f"{type(self).__name__}, but got input of size: {list(input.shape)}")
        return input.shape[1] if input.dim() == nd + 2 else input.shape[0]

    def initialize_parameters(self, input, *args, **kwargs) -> None:
        if not self.has_uninitialized_params():
            return
        in_channels = self._in_channels_of(input)
        if in_channels % self.groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        with no_grad():
            self.in_channels = in_channels
            if self.transposed:
                shape = (in_channels, self.out_channels // self.groups) + tuple(self.kernel_size)
            else:
                shape = (self.out_channels, in_channels // self.groups) + tuple(self.kernel_size)
            self.weight.materialize(shape)
            if self.bias is not None:
                self.bias.materialize((self.out_channels,))
            self.reset_parameters()

    def _after_materialize(self) -> None:
        if self.in_channels == 0:   # materialised by load_state_dict: the weight knows the size
            w = self.weight.shape
            self.in_channels = w[0] if self.transposed else w[1] * self.groups


def _lazy_conv_slots(module, out_channels, bias, dtype) -> None:
    module.out_channels = out_channels
    module.weight = UninitializedParameter(dtype=dtype)
    if bias:
        module.bias = UninitializedParameter(dtype=dtype)


class LazyConv1d(_LazyConvXdMixin, Conv1d):
    """``Conv1d`` with ``in_channels`` taken from the first input (dim 1, or dim 0 when unbatched)."""

    cls_to_become = Conv1d
    _nd = 1

    def __init__(self, out_channels: int, kernel_size, stride=1, padding=0, dilation=1, groups: int = 1,
                 bias: bool = True, padding_mode: str = "zeros", device=None, dtype=None) -> None:
        # bias=False here: the real bias slot is created lazily below
        super().__init__(0, 0, kernel_size, stride, padding, dilation, groups, False, padding_mode, device, dtype)
        _lazy_conv_slots(self, out_channels, bias, dtype)


class LazyConv2d(_LazyConvXdMixin, Conv2d):
    """``Conv2d`` with ``in_channels`` taken from the first input."""

    cls_to_become = Conv2d
    _nd = 2

    def __init__(self, out_channels: int, kernel_size, stride=1, padding=0, dilation=1, groups: int = 1,
                 bias: bool = True, padding_mode: str = "zeros", device=None, dtype=None) -> None:
        super().__init__(0, 0, kernel_size, stride, padding, dilation, groups, False, padding_mode, device, dtype)
        _lazy_conv_slots(self, out_channels, bias, dtype)


class LazyConv3d(_LazyConvXdMixin, Conv3d):
    """``Conv3d`` with ``in_channels`` taken from the first input."""

    cls_to_become = Conv3d
    _nd = 3

    def __init__(self, out_channels: int, kernel_size, stride=1, padding=0, dilation=1, groups: int = 1,
                 bias: bool = True, padding_mode: str = "zeros", device=None, dtype=None) -> None:
        super().__init__(0, 0, kernel_size, stride, padding, dilation, groups, False, padding_mode, device, dtype)
        _lazy_conv_slots(self, out_channels, bias, dtype)


class LazyConvTranspose1d(_LazyConvXdMixin, ConvTranspose1d):
    """``ConvTranspose1d`` with ``in_channels`` taken from the first input."""

    cls_to_become = ConvTranspose1d
    _nd = 1

    def __init__(self, out_channels: int, kernel_size, stride=1, padding=0, output_padding=0, groups: int = 1,
                 bias: bool = True, dilation=1, padding_mode: str = "zeros", device=None, dtype=None) -> None:
        super().__init__(0, 0, kernel_size, stride, padding, output_padding, groups, False, dilation, padding_mode,
                         device, dtype)
        _lazy_conv_slots(self, out_channels, bias, dtype)


class LazyConvTranspose2d(_LazyConvXdMixin, ConvTranspose2d):
    """``ConvTranspose2d`` with ``in_channels`` taken from the first input."""

    cls_to_become = ConvTranspose2d
    _nd = 2

    def __init__(self, out_channels: int, kernel_size, stride=1, padding=0, output_padding=0, groups: int = 1,
                 bias: bool = True, dilation=1, padding_mode: str = "zeros", device=None, dtype=None) -> None:
        super().__init__(0, 0, kernel_size, stride, padding, output_padding, groups, False, dilation, padding_mode,
                         device, dtype)
        _lazy_conv_slots(self, out_channels, bias, dtype)


class LazyConvTranspose3d(_LazyConvXdMixin, ConvTranspose3d):
    """``ConvTranspose3d`` with ``in_channels`` taken from the first input."""

    cls_to_become = ConvTranspose3d
    _nd = 3

    def __init__(self, out_channels: int, kernel_size, stride=1, padding=0, output_padding=0, groups: int = 1,
                 bias: bool = True, dilation=1, padding_mode: str = "zeros", device=None, dtype=None) -> None:
        super().__init__(0, 0, kernel_size, stride, padding, output_padding, groups, False, dilation, padding_mode,
                         device, dtype)
        _lazy_conv_slots(self, out_channels, bias, dtype)


# --------------------------------------------------------------------------- normalisation
class _LazyNormBase(LazyModuleMixin, _NormBase):
    """``num_features`` from the first input's channel dim; ``weight``/``bias`` and the running statistics
    start uninitialized (``num_batches_tracked`` is a real 0 from the start, as in PyTorch)."""

    _nd = 1

    def __init__(self, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, device=None, dtype=None,
                 *, bias=True) -> None:
        # build the plain layer without parameters or statistics, then put uninitialized slots in
        super().__init__(0, eps, momentum, False, False, device, dtype)
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = UninitializedParameter(dtype=dtype)
            if bias:
                self.bias = UninitializedParameter(dtype=dtype)
        if track_running_stats:
            self.running_mean = UninitializedBuffer(dtype=dtype)
            self.running_var = UninitializedBuffer(dtype=dtype)
            self.num_batches_tracked = tensor(0, dtype=D.int64, device=device)

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input, *args, **kwargs) -> None:
        if not self.has_uninitialized_params():
            return
        nd = self._nd
        # the channel dim: 1 for batched input, 0 for an unbatched instance-norm input
        unbatched = isinstance(self, _LazyInstanceNorm) and input.dim() == nd + 1
        self.num_features = input.shape[0 if unbatched else 1]
        with no_grad():
            for t in (self.weight, self.bias, self.running_mean, self.running_var):
                if t is not None and is_lazy(t):
                    t.materialize((self.num_features,))
            self.reset_parameters()

    def _after_materialize(self) -> None:
        if self.num_features == 0:
            for t in (self.weight, self.running_mean):
                if t is not None:
                    self.num_features = t.shape[0]
                    break


class LazyBatchNorm1d(_LazyNormBase, BatchNorm1d):
    """``BatchNorm1d`` with ``num_features`` taken from the first input."""

    cls_to_become = BatchNorm1d


class LazyBatchNorm2d(_LazyNormBase, BatchNorm2d):
    """``BatchNorm2d`` with ``num_features`` taken from the first input."""

    cls_to_become = BatchNorm2d


class LazyBatchNorm3d(_LazyNormBase, BatchNorm3d):
    """``BatchNorm3d`` with ``num_features`` taken from the first input."""

    cls_to_become = BatchNorm3d


class _LazyInstanceNorm(_LazyNormBase):
    pass


class LazyInstanceNorm1d(_LazyInstanceNorm, InstanceNorm1d):
    """``InstanceNorm1d`` with ``num_features`` from the first input (``affine`` and
    ``track_running_stats`` default to True here, as in PyTorch's lazy version)."""

    cls_to_become = InstanceNorm1d
    _nd = 1


class LazyInstanceNorm2d(_LazyInstanceNorm, InstanceNorm2d):
    """``InstanceNorm2d`` with ``num_features`` from the first input."""

    cls_to_become = InstanceNorm2d
    _nd = 2


class LazyInstanceNorm3d(_LazyInstanceNorm, InstanceNorm3d):
    """``InstanceNorm3d`` with ``num_features`` from the first input."""

    cls_to_become = InstanceNorm3d
    _nd = 3
