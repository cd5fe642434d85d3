"""Global settings and constants at PyTorch's top level: ``pi e inf nan newaxis``; intra-/inter-op thread
counts; the default device; deterministic-algorithm flags; float32 matmul precision; warn-always;
``typename``, ``is_storage``, ``get_device``.

Settings that change nothing on NumPy (determinism: Ember's kernels are deterministic already; matmul
precision: NumPy's float32 matmul is full float32; inter-op threads: Ember runs one op at a time) are recorded
and reported back. ``set_num_threads`` limits NumPy's BLAS pool through threadpoolctl when it is installed,
and is only recorded otherwise.
"""
from __future__ import annotations

import math as _math

from .._tensor import Tensor as _Tensor

__all__ = [
    "pi", "e", "inf", "nan", "newaxis", "set_num_threads", "get_num_threads", "set_num_interop_threads",
    "get_num_interop_threads", "set_default_device", "get_default_device", "use_deterministic_algorithms",
    "are_deterministic_algorithms_enabled", "is_deterministic_algorithms_warn_only_enabled",
    "set_deterministic_debug_mode", "get_deterministic_debug_mode", "set_float32_matmul_precision",
    "get_float32_matmul_precision", "typename", "is_storage", "set_warn_always", "is_warn_always_enabled",
    "get_device",
]

# --------------------------------------------------------------------------- constants
pi = _math.pi
e = _math.e
inf = _math.inf
nan = _math.nan
newaxis = None

# --------------------------------------------------------------------------- global settings
_settings = {"threads": None, "interop": None, "deterministic": False, "warn_only": False,
             "precision": "highest", "warn_always": False}


def _blas_limits():
    try:
        import threadpoolctl
    except ImportError:
        return None
    return threadpoolctl


def set_num_threads(int):  # noqa: A002 (PyTorch's parameter name)
    """Threads for intra-op work: limits NumPy's BLAS pool (via threadpoolctl, when installed) and records it."""
    n = int
    if not isinstance(n, type(1)) or isinstance(n, bool) or n <= 0:
        raise RuntimeError("set_num_threads expects a positive integer")
    tp = _blas_limits()
    if tp is not None:
        tp.threadpool_limits(limits=n, user_api="blas")
    _settings["threads"] = n


def get_num_threads():
    """The value last given to ``set_num_threads``, else the BLAS pool's size (else the CPU count)."""
    if _settings["threads"] is not None:
        return _settings["threads"]
    tp = _blas_limits()
    if tp is not None:
        sizes = [i["num_threads"] for i in tp.threadpool_info() if i.get("user_api") == "blas"]
        if sizes:
            return max(sizes)
    import os
    return os.cpu_count() or 1


def set_num_interop_threads(int):  # noqa: A002
    """Recorded only: Ember runs one op at a time (there is no inter-op pool)."""
    n = int
    if not isinstance(n, type(1)) or isinstance(n, bool) or n <= 0:
        raise RuntimeError("Expected positive number of threads")
    _settings["interop"] = n


def get_num_interop_threads():
    if _settings["interop"] is not None:
        return _settings["interop"]
    import os
    return os.cpu_count() or 1


def set_default_device(device):
    """Creation functions (``zeros``, ``tensor``, ``arange``, ``randn`` ...) put tensors on ``device`` when they
    are not given one; ``None`` restores the CPU."""
    from .._device import device as _Device
    from . import creation as _C
    if device is None:
        _C._default_device[0] = None
        return
    d = device if isinstance(device, _Device) else _Device(device)
    _C._default_device[0] = None if d.type == "cpu" else d


def get_default_device():
    from .._device import device as _Device
    from . import creation as _C
    d = _C._default_device[0]
    if d is None:
        return _Device("cpu")
    if d.type == "cuda" and d.index is None:  # PyTorch names the current device
        from .. import cuda
        return _Device("cuda", cuda.current_device())
    return d


def use_deterministic_algorithms(mode, *, warn_only=False):
    """Recorded: Ember's NumPy kernels are deterministic already (scatter-adds use ``np.add.at``)."""
    if not isinstance(mode, bool):
        raise TypeError(f"use_deterministic_algorithms(): argument 'mode' must be bool, not {type(mode).__name__}")
    _settings["deterministic"] = mode
    _settings["warn_only"] = bool(warn_only) and mode


def are_deterministic_algorithms_enabled():
    return _settings["deterministic"]


def is_deterministic_algorithms_warn_only_enabled():
    return _settings["warn_only"]


def set_deterministic_debug_mode(debug_mode):
    modes = {"default": 0, "warn": 1, "error": 2}
    if isinstance(debug_mode, str):
        if debug_mode not in modes:
            raise RuntimeError(f"invalid value of debug_mode, expected one of `default`, `warn`, `error`, "
                               f"but got {debug_mode}")
        debug_mode = modes[debug_mode]
    if debug_mode not in (0, 1, 2):
        raise RuntimeError(f"invalid value of debug_mode, expected 0, 1, or 2, but got {debug_mode}")
    use_deterministic_algorithms(debug_mode != 0, warn_only=debug_mode == 1)


def get_deterministic_debug_mode():
    if not _settings["deterministic"]:
        return 0
    return 1 if _settings["warn_only"] else 2


def set_float32_matmul_precision(precision):
    """Recorded only: NumPy's float32 matmul always runs at full float32 precision."""
    if precision not in ("highest", "high", "medium"):
        import warnings
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current "
                      "set_float32_matmul_precision call has no effect.", UserWarning, stacklevel=2)
        return
    _settings["precision"] = precision


def get_float32_matmul_precision():
    return _settings["precision"]


def set_warn_always(b):
    _settings["warn_always"] = bool(b)


def is_warn_always_enabled():
    return _settings["warn_always"]


def typename(obj):
    """``'torch.FloatTensor'`` for a tensor, else the dotted name of the object (or of its class)."""
    if isinstance(obj, _Tensor):
        return obj.type()
    if hasattr(obj, "__qualname__"):
        module, name = getattr(obj, "__module__", "") or "", obj.__qualname__
    elif hasattr(obj, "__name__"):
        module, name = getattr(obj, "__module__", "") or "", obj.__name__
    else:
        module, name = type(obj).__module__ or "", type(obj).__qualname__
    return name if module in ("", "builtins") else f"{module}.{name}"


def is_storage(obj):
    """Ember has no storage objects (a tensor's memory is its NumPy/CuPy array), so this is always False."""
    return False


def get_device(input):
    return input.get_device()
