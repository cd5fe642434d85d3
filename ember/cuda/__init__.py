"""``ember.cuda``: NVIDIA GPUs through CuPy (an optional extra: ``pip install 'ember-autograd[cuda]'``).

Tensors on ``"cuda"`` hold CuPy arrays and every op runs through CuPy's array namespace. Without
CuPy (or without a GPU) ``is_available()`` is False and nothing here imports CuPy eagerly.
"""

from .. import backends as _backends


def _cp():
    cp = _backends.cupy()
    if cp is None:
        raise AssertionError("Torch not compiled with CUDA enabled (Ember: CuPy is not installed; "
                             "pip install 'ember-autograd[cuda]')")
    return cp


def is_available() -> bool:
    """True when CuPy is installed and sees at least one GPU."""
    return device_count() > 0


def device_count() -> int:
    cp = _backends.cupy()
    if cp is None:
        return 0
    try:
        return int(cp.cuda.runtime.getDeviceCount())
    except Exception:  # CuPy present but no driver / no device
        return 0


def current_device() -> int:
    return int(_cp().cuda.runtime.getDevice())


def set_device(device) -> None:
    idx = device if isinstance(device, int) else (device.index or 0) if hasattr(device, "index") else int(
        str(device).split(":")[-1]) if ":" in str(device) else 0
    _cp().cuda.Device(idx).use()


def get_device_name(device=None) -> str:
    cp = _cp()
    idx = current_device() if device is None else (device if isinstance(device, int) else (device.index or 0))
    name = cp.cuda.runtime.getDeviceProperties(idx)["name"]
    return name.decode() if isinstance(name, bytes) else str(name)


def get_device_properties(device=None):
    return _cp().cuda.runtime.getDeviceProperties(current_device() if device is None else int(device))


def synchronize(device=None) -> None:
    """Wait for every kernel queued on the device to finish (needed before timing GPU work); a device check
    that failed meanwhile (an index out of range) raises here."""
    _cp().cuda.Device(current_device() if device is None else int(getattr(device, "index", device) or 0)).synchronize()
    from ..backends import flush_checks
    flush_checks()


def manual_seed(seed: int) -> None:
    """Seed the GPU's generator (applied on its next use, so it is safe before a fork)."""
    from ..ops.creation import seed_device
    seed_device(seed)


manual_seed_all = manual_seed


def memory_allocated(device=None) -> int:
    """Bytes currently held by tensors (CuPy's default memory pool, used blocks)."""
    cp = _backends.cupy()
    return 0 if cp is None else int(cp.get_default_memory_pool().used_bytes())


def memory_reserved(device=None) -> int:
    cp = _backends.cupy()
    return 0 if cp is None else int(cp.get_default_memory_pool().total_bytes())


def max_memory_allocated(device=None) -> int:
    return memory_reserved(device)


def empty_cache() -> None:
    cp = _backends.cupy()
    if cp is not None:
        cp.get_default_memory_pool().free_all_blocks()


def transfer_counts() -> dict:
    """Host-to-device and device-to-host copies Ember has made so far (``{"h2d": n, "d2h": m}``)."""
    return dict(_backends.transfers)


def reset_transfer_counts() -> None:
    _backends.transfers["h2d"] = 0
    _backends.transfers["d2h"] = 0


class device:
    """Context manager that makes ``idx`` the current GPU."""

    def __init__(self, idx):
        self.idx = idx if isinstance(idx, int) else (getattr(idx, "index", None) or 0)

    def __enter__(self):
        self._prev = current_device()
        set_device(self.idx)

    def __exit__(self, *exc):
        set_device(self._prev)
        return False


def is_initialized() -> bool:
    return _backends._cupy not in (None, False)


# torch.cuda's names, plus two Ember-only host<->device transfer counters (tests count syncs with them)
__all__ = ["current_device", "device", "device_count", "empty_cache", "get_device_name", "get_device_properties",
           "is_available", "is_initialized", "manual_seed", "manual_seed_all", "max_memory_allocated",
           "memory_allocated", "memory_reserved", "reset_transfer_counts", "set_device", "synchronize",
           "transfer_counts"]


from . import amp  # noqa: E402,F401  (torch.cuda.amp: the deprecated autocast/GradScaler spellings)
