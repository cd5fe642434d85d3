"""``ember.cpu.amp``: PyTorch's deprecated spellings of ``ember.amp.autocast("cpu")`` and
``ember.amp.GradScaler("cpu")`` (each warns FutureWarning, as PyTorch's)."""
from __future__ import annotations

import warnings as _warnings

from .. import _dtype as _D
from ..amp import autocast_mode as _am
from ..amp import grad_scaler as _gs

__all__ = ["autocast", "GradScaler"]


class autocast(_am.autocast):
    """Deprecated: use ``ember.amp.autocast("cpu", ...)``."""

    def __init__(self, enabled: bool = True, dtype=_D.bfloat16, cache_enabled: bool = True):
        _warnings.warn("`torch.cpu.amp.autocast(args...)` is deprecated. Please use `torch.amp.autocast('cpu', "
                       "args...)` instead.", FutureWarning, stacklevel=2)
        super().__init__("cpu", enabled=enabled, dtype=dtype, cache_enabled=cache_enabled)


class GradScaler(_gs.GradScaler):
    """Deprecated: use ``ember.amp.GradScaler("cpu", ...)``."""

    def __init__(self, init_scale: float = 2.0 ** 16, growth_factor: float = 2.0, backoff_factor: float = 0.5,
                 growth_interval: int = 2000, enabled: bool = True) -> None:
        _warnings.warn("`torch.cpu.amp.GradScaler(args...)` is deprecated. Please use `torch.amp.GradScaler('cpu', "
                       "args...)` instead.", FutureWarning, stacklevel=2)
        super().__init__("cpu", init_scale=init_scale, growth_factor=growth_factor, backoff_factor=backoff_factor,
                         growth_interval=growth_interval, enabled=enabled)
