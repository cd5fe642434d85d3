"""Array namespaces behind devices: NumPy for "cpu", CuPy (imported lazily) for "cuda".

Op code never imports NumPy for math on tensor data; it asks ``namespace_of(array)``.
"""
from __future__ import annotations

import numpy as np

from .._device import CPU, device

_cupy = None


def cupy():
    """The CuPy module, or None when CuPy is not installed (imported on first use only)."""
    global _cupy
    if _cupy is None:
        try:
            import cupy as cp  # noqa: F401
            _cupy = cp
        except Exception:  # ImportError, or a CUDA runtime failure at import
            _cupy = False
    return _cupy or None


def namespace_of(arr):
    """NumPy for NumPy arrays, CuPy for CuPy arrays."""
    if type(arr) is np.ndarray:
        return np
    cp = cupy()
    if cp is not None and isinstance(arr, cp.ndarray):
        return cp
    return np


def namespace(dev: device):
    if dev.type == "cpu":
        return np
    if dev.type == "cuda":
        cp = cupy()
        if cp is None:
            raise AssertionError("Torch not compiled with CUDA enabled (Ember: CuPy is not installed; "
                                 "pip install 'ember-autograd[cuda]')")
        return cp
    raise RuntimeError(f"unsupported device {dev}")


def device_of(arr) -> device:
    if type(arr) is np.ndarray:
        return CPU
    return device("cuda", int(arr.device.id))


# Host<->device copies made by Ember (tests assert a training step makes none).
transfers = {"h2d": 0, "d2h": 0}


def to_host(arr):
    """A NumPy array of ``arr``'s values (a device-to-host copy for CuPy arrays)."""
    if type(arr) is np.ndarray:
        return arr
    if _pending_checks:
        flush_checks()
    transfers["d2h"] += 1
    return arr.get()


# Checks of device data (a class index out of range in a loss, an embedding index) are not read on the host
# when the op runs: that would make the host wait for the device in the middle of every step. Like PyTorch's
# device-side asserts, a failed check is reported at the next point where the host waits for the device
# anyway: a value read on the host (item(), bool(), tolist(), cpu(), printing, saving) or
# ember.cuda.synchronize(). Ember raises the CPU's exception and message there (PyTorch: a RuntimeError,
# "device-side assert triggered", which also poisons the CUDA context; Ember's device stays usable).
_pending_checks = []
_MAX_PENDING = 64


def check_later(flag, error) -> None:
    """Remember a device check: ``flag`` is a 0-d device bool, True when the check failed, and ``error()``
    builds the exception to raise then. On NumPy arrays the check runs at once."""
    if type(flag) is np.ndarray or isinstance(flag, (bool, np.bool_)):
        if bool(flag):
            raise error()
        return
    _pending_checks.append((flag, error))
    if len(_pending_checks) >= _MAX_PENDING:
        flush_checks()


def flush_checks() -> None:
    """Read every pending device check on the host (one copy per device) and raise the first failure."""
    if not _pending_checks:
        return
    items = _pending_checks[:]
    _pending_checks.clear()
    by_dev = {}
    for flag, error in items:
        by_dev.setdefault(device_of(flag), []).append((flag, error))
    for group in by_dev.values():
        xp = namespace_of(group[0][0])
        failed = xp.stack([f.reshape(()) for f, _ in group]).get()
        for bad, (_, error) in zip(failed, group):
            if bad:
                raise error()


def to_device(arr, dev: device):
    """Move an array to ``dev``; returns the same array when it is already there."""
    if dev.type == "cpu":
        return to_host(arr)
    cp = namespace(dev)
    idx = dev.index if dev.index is not None else cp.cuda.runtime.getDevice()
    if isinstance(arr, cp.ndarray) and arr.device.id == idx:
        return arr
    if isinstance(arr, np.ndarray) and not isinstance(arr, cp.ndarray):
        transfers["h2d"] += 1
    with cp.cuda.Device(idx):
        return cp.asarray(arr)


def same_device(*tensors) -> None:
    """Raise PyTorch's RuntimeError when tensors live on different devices."""
    devs = []
    for t in tensors:
        d = device_of(t._data)
        if d not in devs:
            devs.append(d)
    if len(devs) > 1:
        raise RuntimeError("Expected all tensors to be on the same device, but found at least two devices, "
                           f"{devs[0]} and {devs[1]}!")


def scatter_at(op: str, target, index, values) -> None:
    """Unbuffered ``target[index] op= values`` (repeated indices all apply) for ``op`` in
    "add", "max", "min", on NumPy (``ufunc.at``) or CuPy (``cupyx.scatter_*``) arrays."""
    if isinstance(target, np.ndarray):  # NumPy, or a NumPy-backed stand-in for a device array
        {"add": np.add, "max": np.maximum, "min": np.minimum}[op].at(target, index, values)
        return
    import cupyx
    {"add": cupyx.scatter_add, "max": cupyx.scatter_max, "min": cupyx.scatter_min}[op](target, index, values)


def writeable(arr) -> bool:
    """Whether ``arr`` may be written in place (CuPy arrays always may; NumPy broadcast views may not)."""
    return getattr(arr.flags, "writeable", True)


_FLAG_MODULES = ("cudnn", "cuda", "mps", "mkl", "openmp")


def __getattr__(name):
    # PyTorch's flag modules (``torch.backends.cudnn.benchmark = True``) load on first use
    if name in _FLAG_MODULES:
        import importlib
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
