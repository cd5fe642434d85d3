"""A stand-in for CuPy that runs on the CPU, so Ember's "cuda" code paths are tested without a GPU.

Arrays are a NumPy subclass (``ndarray``) that knows its device and must be copied to the host with
``.get()``, like CuPy's. Any NumPy function called through this module returns such arrays, so an op
that silently falls back to plain NumPy (and so would break on a real GPU) shows up as a device
change in the tests. Where g++ is installed, ``ElementwiseKernel`` compiles Ember's fused kernels for
the CPU (``kernel_emu``). Install with ``install(monkeypatch)``.
"""
from __future__ import annotations

import collections
import sys
import types

import numpy as np

import kernel_emu


# Device calls (kernel launches, roughly) made while ``counting`` is on, by "op @ ember-file:function":
# on a GPU each is host time. Element-wise ufuncs, reductions, module functions and fused kernels count.
calls = collections.Counter()
counting = [False]


def _count(what, depth=2):
    f = sys._getframe(depth)
    while f is not None and (f.f_code.co_filename.endswith(("fake_cupy.py", "kernel_emu.py"))
                             or "/numpy/" in f.f_code.co_filename):
        f = f.f_back
    where = f"{f.f_code.co_filename.split('ember/')[-1]}:{f.f_code.co_name}" if f is not None else "?"
    calls[f"{what} @ {where}"] += 1


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

    # reading a device value on the host waits for the device: a synchronisation point, counted as "SYNC"
    def __bool__(self):
        if counting[0]:
            _count("SYNC bool")
        return np.ndarray.__bool__(self.view(np.ndarray))

    def __int__(self):
        if counting[0]:
            _count("SYNC int")
        return np.ndarray.__int__(self.view(np.ndarray))

    def __float__(self):
        if counting[0]:
            _count("SYNC float")
        return np.ndarray.__float__(self.view(np.ndarray))

    def item(self, *a):
        if counting[0]:
            _count("SYNC item")
        return self.view(np.ndarray).item(*a)

    def __array_ufunc__(self, ufunc, method, *inputs, **kw):
        if counting[0]:
            _count(f"{ufunc.__name__}.{method}")
        inputs = tuple(i.view(np.ndarray) if isinstance(i, ndarray) else i for i in inputs)
        if "out" in kw:
            kw["out"] = tuple(o.view(np.ndarray) if isinstance(o, ndarray) else o for o in kw["out"])
        return _wrap(getattr(ufunc, method)(*inputs, **kw))

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


def _fn(f, name=None):
    def call(*a, **k):
        if counting[0] and name:
            _count(f"xp.{name}")
        return _wrap(f(*a, **k))
    return call


class _Module(types.ModuleType):
    def __getattr__(self, name):
        v = getattr(np, name)
        if callable(v) and not isinstance(v, type):
            if isinstance(v, np.ufunc):
                return _UFunc(v)  # counted by ndarray.__array_ufunc__
            return _fn(v, name)
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
