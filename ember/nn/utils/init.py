"""``skip_init``: build a module without caring about its initial parameter values."""
from __future__ import annotations

import inspect as _inspect

__all__ = ["skip_init"]


def skip_init(module_cls, *args, **kwargs):
    """``module_cls(*args, **kwargs)`` whose parameters the caller will overwrite.

    As in PyTorch the class must take a ``device`` argument. Ember has no meta device to build on, so the
    module is built normally: its values are initialized (a valid "uninitialized" state), not skipped.
    """
    if "device" not in _inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    return module_cls(*args, **kwargs)
