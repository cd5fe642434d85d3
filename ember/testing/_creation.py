"""``make_tensor``: a tensor of random values in a range, for tests."""
from __future__ import annotations

import numpy as np

from .. import _dtype as D


def make_tensor(*shape, dtype, device, low=None, high=None, requires_grad: bool = False,
                noncontiguous: bool = False, exclude_zero: bool = False, memory_format=None):
    """A ``shape`` tensor of ``dtype`` drawn from Ember's default generator (so ``ember.manual_seed``
    reproduces it): floating and complex values uniform in ``[low, high)`` (default ``[-9, 9)``), integers
    in ``[low, high)`` (default ``[-9, 10)``; unsigned from 0), bools fair coin flips. ``exclude_zero``
    replaces zeros by the dtype's tiniest value (integers: 1). ``noncontiguous`` is accepted; Ember's
    result is contiguous."""
    from ..ops.creation import _rng, tensor
    if len(shape) == 1 and isinstance(shape[0], (list, tuple)):
        shape = tuple(shape[0])
    shape = tuple(int(s) for s in shape)
    if low is not None and high is not None and low > high:
        raise ValueError(f"`low` must be less than or equal to `high`, but got {low} > {high}")
    for name, v in (("low", low), ("high", high)):
        if v is not None and v != v:
            raise ValueError(f"`{name}` cannot be NaN, but got {name}=nan")
    rng = _rng(None)
    npd = D.to_np(dtype)
    kind = np.dtype(npd).kind if np.dtype(npd).kind != "V" else "f"
    if kind == "b":
        arr = rng.integers(0, 2, size=shape).astype(bool)
    elif kind in "iu":
        info = np.iinfo(npd)
        lo = max(int(low) if low is not None else (-9 if kind == "i" else 0), int(info.min))
        hi = min(int(high) if high is not None else 10, int(info.max) + 1)
        if lo == hi:
            hi = lo + 1
        arr = rng.integers(lo, hi, size=shape).astype(npd)
        if exclude_zero:
            arr[arr == 0] = 1
    else:
        lo = -9.0 if low is None else float(low)
        hi = 9.0 if high is None else float(high)
        arr = rng.uniform(lo, hi, size=shape)
        if kind == "c":
            arr = arr + 1j * rng.uniform(lo, hi, size=shape)
        if exclude_zero:
            arr[arr == 0] = np.finfo(np.float64 if kind != "c" else np.complex128).tiny
        arr = arr.astype(np.float32 if np.dtype(npd).kind == "V" else npd)
    t = tensor(arr, dtype=dtype, device=device)
    if requires_grad:
        if kind not in "fc":
            raise ValueError(f"make_tensor: requires_grad=True needs a floating-point or complex dtype, got {dtype}")
        t.requires_grad_(True)
    return t
