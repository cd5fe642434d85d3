"""A stand-in for CuPy that runs on the CPU, so Ember's "cuda" code paths are tested without a GPU.

Arrays are a NumPy subclass (``ndarray``) that knows its device and must be copied to the host with
``.get()``, like CuPy's. Any NumPy function called through this module returns such arrays, so an op
that silently falls back to plain NumPy (and so would break on a real GPU) shows up as a device
change in the tests. Where g++ is installed, ``ElementwiseKernel`` compiles Ember's fused kernels for
the CPU (``kernel_emu``). Install with ``install(monkeypatch)``.
"""
from __future__ import annotations

import types

import numpy as np

import kernel_emu


class _Dev:
    def __init__(self, id=0):
        self.id = id

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def use(self):
        pass

    def synchronize(self):
        pass


class ndarray(np.ndarray):
    """A 'device' array: NumPy memory, CuPy's surface (``device``, ``get()``)."""

    __array_priority__ = 20.0

    @property
    def device(self):
        return _Dev(0)

    def get(self):
        return np.array(self.view(np.ndarray), copy=True)

    def __array_wrap__(self, obj, context=None, return_scalar=False):
        if isinstance(obj, np.ndarray) and obj.ndim == 0 and return_scalar:
            return obj.view(ndarray)
        return np.ndarray.__array_wrap__(self, obj, context, False)


def _wrap(x):
    if isinstance(x, np.ndarray) and not isinstance(x, ndarray):
        return x.view(ndarray)
    if isinstance(x, np.generic):
        return np.asarray(x).view(ndarray)
    if isinstance(x, tuple):
        return tuple(_wrap(v) for v in x)
    if isinstance(x, list):
        return [_wrap(v) for v in x]
    return x


def _fn(f):
    def call(*a, **k):
        return _wrap(f(*a, **k))
    return call


class _Module(types.ModuleType):
    def __getattr__(self, name):
        v = getattr(np, name)
        if callable(v) and not isinstance(v, type):
            if isinstance(v, np.ufunc):
                return _UFunc(v)
            return _fn(v)
        return v


class _UFunc:
    def __init__(self, u):
        self.u = u

    def __call__(self, *a, **k):
        return _wrap(self.u(*a, **k))

    def __getattr__(self, name):
        return getattr(self.u, name)


def make():
    m = _Module("fake_cupy")
    m.ndarray = ndarray
    m.asarray = lambda a, dtype=None: _wrap(np.array(a.get() if isinstance(a, ndarray) else a, dtype=dtype))
    m.asnumpy = lambda a: a.get() if isinstance(a, ndarray) else np.asarray(a)
    rt = types.SimpleNamespace(getDevice=lambda: 0, getDeviceCount=lambda: 1,
                               getDeviceProperties=lambda i: {"name": b"Fake GPU (NumPy)"})
    m.cuda = types.SimpleNamespace(Device=_Dev, runtime=rt)
    dev_rng = np.random.default_rng(0)
    m.random = types.SimpleNamespace(seed=lambda s: None,
                                     random=lambda shape, dtype=np.float64: _wrap(dev_rng.random(shape, dtype=dtype)))
    pool = types.SimpleNamespace(used_bytes=lambda: 0, total_bytes=lambda: 0, free_all_blocks=lambda: None)
    m.get_default_memory_pool = lambda: pool
    if kernel_emu.available():  # fused kernels run as C++ on the CPU
        m.ElementwiseKernel = kernel_emu.ElementwiseKernel
    m.linalg = types.SimpleNamespace(**{k: _fn(getattr(np.linalg, k)) for k in ("inv", "det", "solve", "norm")})
    return m


def install(monkeypatch):
    import ember.backends as b
    fake = make()
    monkeypatch.setattr(b, "_cupy", fake)
    return fake
