"""The three discrete Fourier transform primitives behind ``ember.fft``, with their adjoints.

* ``FftC2C``  complex -> complex over ``axes`` (forward or inverse direction),
* ``FftR2C``  real -> complex (``onesided``: only the non-redundant half of the last axis, as ``rfftn``),
* ``FftC2R``  complex half spectrum -> real (``irfftn``), the last axis of length ``last_n``.

``norm`` is PyTorch's (and NumPy's) name for where the 1/n goes: "backward" (on the inverse),
"ortho" (1/sqrt(n) on both) or "forward" (on the forward transform). The adjoint of a transform
with norm m is the opposite-direction transform with the dual norm (backward <-> forward, ortho
stays), which is what every backward below uses. Gradients follow PyTorch's convention for
complex tensors (dL/dRe + i dL/dIm); R2C's backward zero-pads the half spectrum and keeps the real
part of the adjoint, C2R's doubles the entries that stand for two conjugate bins, as PyTorch does.

The arrays' own namespace does the work (``numpy.fft`` or ``cupy.fft``); results keep the input's
precision (float32 -> complex64), as PyTorch.
"""
from __future__ import annotations

from .._tensor import Tensor, _wrap
from ..autograd.function import Function
from ..backends import namespace_of

_DUAL = {"backward": "forward", "forward": "backward", "ortho": "ortho"}
_COMPLEX_OF = {"float32": "complex64", "float64": "complex128", "complex64": "complex64",
               "complex128": "complex128"}
_REAL_OF = {"complex64": "float32", "complex128": "float64"}


def _c2c_array(x, axes, norm, forward):
    xp = namespace_of(x)
    f = xp.fft.fftn if forward else xp.fft.ifftn
    return f(x, axes=axes, norm=norm).astype(x.dtype, copy=False)


def _r2c_array(x, axes, norm, onesided):
    xp = namespace_of(x)
    cdt = _COMPLEX_OF[x.dtype.name]
    if onesided:
        return xp.fft.rfftn(x, axes=axes, norm=norm).astype(cdt, copy=False)
    return xp.fft.fftn(x.astype(cdt), axes=axes, norm=norm).astype(cdt, copy=False)


def _c2r_array(x, axes, norm, last_n):
    xp = namespace_of(x)
    s = [x.shape[a] for a in axes[:-1]] + [last_n]
    return xp.fft.irfftn(x, s=s, axes=axes, norm=norm).astype(_REAL_OF[x.dtype.name], copy=False)


def _c2c(g, axes, norm, forward):
    if isinstance(g, Tensor):
        return FftC2C.apply(g, axes, norm, forward)
    return _c2c_array(g, axes, norm, forward)


class FftC2C(Function):
    """Complex-to-complex DFT over ``axes``; the gradient is the adjoint transform."""

    raw = True
    node_name = "FftC2CBackward0"

    @staticmethod
    def forward(ctx, x, axes, norm, forward):
        ctx.args = (axes, norm, forward)
        return _c2c_array(x, axes, norm, forward)

    @staticmethod
    def backward(ctx, g):
        axes, norm, forward = ctx.args
        return _c2c(g, axes, _DUAL[norm], not forward), None, None, None


class FftR2C(Function):
    """Real-to-complex DFT over ``axes`` (the last one halved when ``onesided``)."""

    raw = True
    node_name = "FftR2CBackward0"

    @staticmethod
    def forward(ctx, x, axes, norm, onesided):
        ctx.args = (axes, norm, onesided, x.shape[axes[-1]])
        return _r2c_array(x, axes, norm, onesided)

    @staticmethod
    def backward(ctx, g):
        axes, norm, onesided, full = ctx.args
        if onesided and g.shape[axes[-1]] != full:
            g = _zero_pad(g, axes[-1], full)  # the dropped half of the spectrum had no gradient
        gi = _c2c(g, axes, _DUAL[norm], False)
        return (gi.real if isinstance(gi, Tensor) else gi.real.copy()), None, None, None


class FftC2R(Function):
    """Half spectrum (last axis of ``last_n // 2 + 1`` bins) to a real signal of ``last_n`` samples."""

    raw = True
    node_name = "FftC2RBackward0"

    @staticmethod
    def forward(ctx, x, axes, norm, last_n):
        ctx.args = (axes, norm, last_n)
        return _c2r_array(x, axes, norm, last_n)

    @staticmethod
    def backward(ctx, g):
        axes, norm, last_n = ctx.args
        dual = _DUAL[norm]
        gi = FftR2C.apply(g, axes, dual, True) if isinstance(g, Tensor) else _r2c_array(g, axes, dual, True)
        # bins 1 .. last_n - (last_n // 2 + 1) each stand for themselves and their conjugate partner
        m = last_n // 2 + 1
        twice = last_n - m
        if twice > 0:
            xp = namespace_of(g._data if isinstance(g, Tensor) else g)
            w = xp.ones(m, dtype=_REAL_OF[gi.dtype.name] if not isinstance(gi, Tensor) else g._data.dtype)
            w[1:1 + twice] = 2
            w = w.reshape((m,) + (1,) * (gi.ndim - 1 - axes[-1]))
            gi = gi * (_wrap(w) if isinstance(gi, Tensor) else w)
        return gi, None, None, None


def _zero_pad(g, axis, n):
    """``g`` zero-padded at the end of ``axis`` to length ``n`` (array or Tensor)."""
    pad_len = n - g.shape[axis]
    if isinstance(g, Tensor):
        from ..nn.functional import pad
        return pad(g, (0, 0) * (g.ndim - 1 - axis) + (0, pad_len))
    xp = namespace_of(g)
    widths = [(0, 0)] * g.ndim
    widths[axis] = (0, pad_len)
    return xp.pad(g, widths)
