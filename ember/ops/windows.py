"""Window functions for signal processing: ``bartlett_window``, ``blackman_window``, ``hamming_window``,
``hann_window``, ``kaiser_window``. ``periodic=True`` (the default) gives the window one sample longer with
its last sample dropped, ready for the FFT."""
from __future__ import annotations

import numpy as _np

from .. import _dtype as _D

__all__ = ["bartlett_window", "blackman_window", "hamming_window", "hann_window", "kaiser_window"]


def _window(name, window_length, periodic, dtype, device, requires_grad, formula):
    from .creation import _finish
    if window_length < 0:
        raise RuntimeError(f"{name} requires non-negative window length, got window_length={window_length}")
    dtype = _D.get_default_dtype() if dtype is None else dtype
    if not dtype.is_floating_point:
        raise RuntimeError(f"{name} expects floating point dtypes, got: {dtype}")
    if window_length <= 1:
        arr = _np.ones(window_length, dtype=dtype.np)
    else:
        m = window_length + 1 if periodic else window_length
        arr = formula(_np.arange(m, dtype=_np.float64), m - 1)[:window_length].astype(dtype.np)
    return _finish(arr, device, requires_grad)


def bartlett_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False):
    """The triangular window ``1 - |2n / N - 1|``."""
    return _window("bartlett_window", window_length, periodic, dtype, device, requires_grad,
                   lambda n, N: 1 - _np.abs(2 * n / N - 1))


def blackman_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False):
    """``0.42 - 0.5 cos(2 pi n / N) + 0.08 cos(4 pi n / N)``."""
    return _window("blackman_window", window_length, periodic, dtype, device, requires_grad,
                   lambda n, N: 0.42 - 0.5 * _np.cos(2 * _np.pi * n / N) + 0.08 * _np.cos(4 * _np.pi * n / N))


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None, layout=None, device=None,
                   requires_grad=False):
    """``alpha - beta cos(2 pi n / N)``."""
    return _window("hamming_window", window_length, periodic, dtype, device, requires_grad,
                   lambda n, N: alpha - beta * _np.cos(2 * _np.pi * n / N))


def hann_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False):
    """``0.5 - 0.5 cos(2 pi n / N)``."""
    return _window("hann_window", window_length, periodic, dtype, device, requires_grad,
                   lambda n, N: 0.5 - 0.5 * _np.cos(2 * _np.pi * n / N))


def kaiser_window(window_length, periodic=True, beta=12.0, *, dtype=None, layout=None, device=None,
                  requires_grad=False):
    """``I0(beta sqrt(1 - (2n / N - 1)^2)) / I0(beta)``."""
    return _window("kaiser_window", window_length, periodic, dtype, device, requires_grad,
                   lambda n, N: _np.i0(beta * _np.sqrt(_np.clip(1 - (2 * n / N - 1) ** 2, 0, None))) / _np.i0(beta))
