"""``LPPool3d`` and fractional max pooling (``FractionalMaxPool2d/3d``)."""
from __future__ import annotations

from ..._tensor import Tensor
from ..functional import pooling_extra as FX
from ..functional.conv import _ntuple
from .module import Module
from .pooling import _LPPoolNd

__all__ = ["LPPool3d", "FractionalMaxPool2d", "FractionalMaxPool3d"]


class LPPool3d(_LPPoolNd):
    """Power-average pooling over (N, C, D, H, W): ``(sum over window of x^p)^(1/p)``."""

    _fn = staticmethod(FX.lp_pool3d)


class _FractionalMaxPoolNd(Module):
    _nd = 2
    __constants__ = ["kernel_size", "return_indices", "output_size", "output_ratio"]

    def __init__(self, kernel_size, output_size=None, output_ratio=None, return_indices: bool = False,
                 _random_samples=None) -> None:
        super().__init__()
        nd = self._nd
        name = type(self).__name__
        if output_size is None and output_ratio is None:
            raise ValueError(f"{name} requires specifying either an output size, or a pooling ratio")
        if output_size is not None and output_ratio is not None:
            raise ValueError("only one of output_size and output_ratio may be specified")
        self.kernel_size = _ntuple(kernel_size, nd)
        self.return_indices = return_indices
        self.register_buffer("_random_samples", _random_samples)
        self.output_size = _ntuple(output_size, nd) if output_size is not None else None
        if output_ratio is not None and not isinstance(output_ratio, (tuple, list)):
            output_ratio = (output_ratio,) * nd
        self.output_ratio = tuple(output_ratio) if output_ratio is not None else None
        if self.output_ratio is not None and not all(0 < r < 1 for r in self.output_ratio):
            raise ValueError(f"output_ratio must be between 0 and 1 (got {output_ratio})")

    def forward(self, input: Tensor):
        fn = FX.fractional_max_pool2d if self._nd == 2 else FX.fractional_max_pool3d
        return fn(input, self.kernel_size, self.output_size, self.output_ratio, return_indices=self.return_indices,
                  _random_samples=self._random_samples)


class FractionalMaxPool2d(_FractionalMaxPoolNd):
    """Max over pseudo-randomly placed kH x kW windows: (N, C, H, W) -> (N, C, oH, oW).

    ``_random_samples`` (N, C, 2) fixes the windows (PyTorch accepts it too); without it each call
    draws new samples from Ember's generator."""

    _nd = 2


class FractionalMaxPool3d(_FractionalMaxPoolNd):
    """Fractional max pooling over (N, C, T, H, W); ``_random_samples`` is (N, C, 3)."""

    _nd = 3
