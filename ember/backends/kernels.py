"""Fused device kernels: one launch where the array path would make several.

On a GPU each CuPy call costs host time (argument checks, type resolution, a kernel launch), and a
training step is a few hundred of them, so merging the element-wise tail of an op into one kernel is
what brings a step's time down. A kernel is described once, in CuPy's ``ElementwiseKernel`` terms:

    _relu_bw = Kernel("T g, T y", "T gx", "gx = y > (T)0 ? g : (T)0", "ember_relu_bw")
    k = _relu_bw.on(xp)          # None on NumPy: the caller keeps its array path
    if k is not None:
        gx = k(g, y)

``on(xp)`` returns a callable only for a namespace that can compile kernels (CuPy, or the tests'
stand-in, which compiles the same body as C++ and runs it on the CPU) and only for the float types
the kernel was written for; everything else keeps the array path, so NumPy and fused results are
compared by the tests. ``REGISTRY`` lists every kernel, so the tests compile each one for the GPU.

Bodies are C++ as CuPy compiles it: ``i`` is the element index, non-raw parameters are the element at
``i`` (inputs read-only, outputs assignable), ``raw`` parameters are whole C-ordered arrays indexed
with a flat index. Write ``(T)`` casts on literals so float32 stays float32.
"""
from __future__ import annotations

import numpy as np

REGISTRY: list["Kernel"] = []

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


class Kernel:
    def __init__(self, in_params: str, out_params: str, body: str, name: str, preamble: str = ""):
        self.in_params, self.out_params, self.body, self.name, self.preamble = (
            in_params, out_params, body, name, preamble)
        self._compiled = {}
        REGISTRY.append(self)

    def on(self, xp, dtype=None):
        """The compiled kernel for namespace ``xp`` (None where it cannot run: NumPy, or a dtype
        other than float32/float64 when ``dtype`` is given)."""
        if xp is np:  # the common case, answered before NumPy's module __getattr__ (~2 us per miss)
            return None
        make = getattr(xp, "ElementwiseKernel", None)
        if make is None or (dtype is not None and np.dtype(dtype) not in _FLOATS):
            return None
        k = self._compiled.get(xp)
        if k is None:
            k = self._compiled[xp] = make(self.in_params, self.out_params, self.body, self.name,
                                          preamble=self.preamble)
        return k


def rows_fit(x, d: int) -> bool:
    """Whether a row-per-thread kernel suits ``x`` seen as (x.size // d, d) rows: C-contiguous, enough rows
    to spread over the device, and rows short enough for one thread's loop."""
    return 0 < d <= 8192 and x.size // d >= 32 and x.flags.c_contiguous


def same_float(x, *others) -> bool:
    """Whether every array of ``others`` that is given has ``x``'s dtype and is C-contiguous."""
    return all(o is None or (o.dtype == x.dtype and o.flags.c_contiguous) for o in others)
