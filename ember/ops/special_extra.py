"""The ``torch.special`` functions Ember had no top-level home for: ``entr``, ``ndtri``, ``log_ndtr``,
``erfcx``, the modified Bessel functions ``i0``/``i0e``/``i1``/``i1e`` and ``xlog1py`` (all
differentiable, with PyTorch's grad_fn names), and the forward-only ones PyTorch does not
differentiate either (Bessel J/Y/K, Airy Ai, ``zeta``, regularized incomplete gamma).

SciPy (or ``cupyx.scipy.special`` on a GPU) computes them when installed; without it ``entr``,
``xlog1py``, ``ndtri``, ``log_ndtr`` and ``i0`` still work (NumPy fallbacks), the others raise.
"""
from __future__ import annotations

import math

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor
from ..autograd.function import Function
from ..backends import namespace_of
from . import _bw as B
from .special import _erfc, _erfinv, _special

__all__ = ["entr", "ndtri", "log_ndtr", "erfcx", "i0", "i0e", "i1", "i1e", "xlog1py", "bessel_j0", "bessel_j1",
           "bessel_y0", "bessel_y1", "modified_bessel_i0", "modified_bessel_i1", "modified_bessel_k0",
           "modified_bessel_k1", "scaled_modified_bessel_k0", "scaled_modified_bessel_k1", "spherical_bessel_j0",
           "airy_ai", "zeta", "gammainc", "gammaincc"]

_SQRT_2PI = math.sqrt(2 * math.pi)
_SQRT_2 = math.sqrt(2.0)


def _need_scipy(xp, name):
    if name == "_airy_ai":  # SciPy's airy gives (Ai, Ai', Bi, Bi')
        f = _need_scipy(xp, "airy")
        return lambda x: f(x)[0]
    f = _special(xp, name)
    if f is None:
        raise RuntimeError(f"special.{name} needs SciPy in Ember (pip install scipy)")
    return f


def _cast(r, x):
    return r.astype(x.dtype, copy=False)


# --------------------------------------------------------------------------- forwards on arrays
def _entr(xp, x):
    with np.errstate(divide="ignore", invalid="ignore"):
        r = xp.where(x > 0, -x * xp.log(xp.where(x > 0, x, 1)), xp.where(x == 0, 0, -xp.inf))
    return _cast(xp.where(xp.isnan(x), x, r), x)


def _ndtri(xp, x):
    f = _special(xp, "ndtri")
    return _cast(f(x), x) if f is not None else _cast(_SQRT_2 * _erfinv(xp, 2 * x - 1), x)


def _log_ndtr(xp, x):
    f = _special(xp, "log_ndtr")
    if f is not None:
        return _cast(f(x), x)
    with np.errstate(divide="ignore"):
        return _cast(xp.log(0.5 * _erfc(xp, -x / _SQRT_2)), x)


def _i0(xp, x):
    f = _special(xp, "i0")
    return _cast(f(x) if f is not None else xp.i0(x), x)


def _scipy_fwd(name):
    def fwd(xp, x):
        return _cast(_need_scipy(xp, name)(x), x)
    return fwd


_FWD = {"entr": _entr, "ndtri": _ndtri, "log_ndtr": _log_ndtr, "i0": _i0, "erfcx": _scipy_fwd("erfcx"),
        "i0e": _scipy_fwd("i0e"), "i1": _scipy_fwd("i1"), "i1e": _scipy_fwd("i1e")}


def _any(name, x):
    """``name`` of a Tensor (Ember's op: differentiable) or of an array."""
    if isinstance(x, Tensor):
        return globals()[name](x)
    return _FWD[name](namespace_of(x), x)


# --------------------------------------------------------------------------- backwards: g * f'(x)
def _safe(x):
    return B.where(x == 0, 1.0, x)


_BWD = {
    "entr": lambda g, x, y: g * -(B.log(x) + 1),
    "ndtri": lambda g, x, y: g * _SQRT_2PI * B.exp(y * y * 0.5),
    "log_ndtr": lambda g, x, y: g * B.exp(-(x * x) * 0.5 - y) / _SQRT_2PI,
    "erfcx": lambda g, x, y: g * (2 * x * y - 2 / math.sqrt(math.pi)),
    "i0": lambda g, x, y: g * _any("i1", x),
    "i0e": lambda g, x, y: g * (_any("i1e", x) - B.sign(x) * y),
    # i1' = i0 - i1 / x (1/2 at 0); i1e' = i0e - i1e (sign(x) + 1 / x) (1/2 at 0)
    "i1": lambda g, x, y: g * B.where(x == 0, 0.5, _any("i0", x) - y / _safe(x)),
    "i1e": lambda g, x, y: g * B.where(x == 0, 0.5, _any("i0e", x) - y * (B.sign(x) + 1 / _safe(x))),
}
_NODE = {"entr": "SpecialEntrBackward0", "ndtri": "SpecialNdtriBackward0", "log_ndtr": "SpecialLogNdtrBackward0",
         "erfcx": "SpecialErfcxBackward0", "i0": "I0Backward0", "i0e": "SpecialI0EBackward0",
         "i1": "SpecialI1Backward0", "i1e": "SpecialI1EBackward0"}


def _make(name):
    fwd, bwd = _FWD[name], _BWD[name]

    def forward(ctx, x):
        y = fwd(namespace_of(x), x)
        ctx.save_for_backward(x, y)
        return y

    def backward(ctx, g):
        x, y = ctx.saved_tensors
        return bwd(g, x, y)

    cls = type("Special" + name.title().replace("_", ""), (Function,), {
        "raw": True, "node_name": _NODE[name], "forward": staticmethod(forward),
        "backward": staticmethod(backward)})

    def op(input: Tensor, *, out=None) -> Tensor:
        x = _floating(input)
        r = cls.apply(x)
        return r if out is None else out.copy_(r)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise ``{name}`` (any shape); differentiable."
    return op


def _floating(x: Tensor) -> Tensor:
    if x._data.dtype.kind in "biu":
        from .promotion import to_dtype
        return to_dtype(x, D.get_default_dtype())
    return x


entr = _make("entr")
ndtri = _make("ndtri")
log_ndtr = _make("log_ndtr")
erfcx = _make("erfcx")
i0 = _make("i0")
i0e = _make("i0e")
i1 = _make("i1")
i1e = _make("i1e")


# --------------------------------------------------------------------------- xlogy, xlog1py
class _XlogFn(Function):
    """``x * f(y)`` with 0 where x == 0 (unless y is NaN); ``f`` is log (xlogy) or log1p (xlog1py).

    Gradients as PyTorch's: d/dx = f(y), except 0 where x == 0 and y is at or below f's pole (y <= 0 for log,
    y <= -1 for log1p); d/dy = x * f'(y)."""

    raw = True
    pole = 0.0

    @classmethod
    def forward(cls, ctx, x, y):
        xp = namespace_of(x if hasattr(x, "dtype") else y)
        ctx.save_for_backward(x, y)
        ctx.shapes = (getattr(x, "shape", ()), getattr(y, "shape", ()))
        with np.errstate(divide="ignore", invalid="ignore"):
            r = xp.where((x == 0) & ~xp.isnan(y), 0, x * cls._f(xp, y))
        dt = (x if hasattr(x, "dtype") else y).dtype
        return r.astype(dt, copy=False)

    @classmethod
    def backward(cls, ctx, g):
        x, y = ctx.saved_tensors
        need = ctx.needs_input_grad
        sx, sy = ctx.shapes
        gx = gy = None
        if need[0]:
            fy = cls._f_any(y)
            gx = B.sum_to(B.where((x == 0) & (y <= cls.pole), 0.0, g * fy), sx)
        if need[1]:
            gy = B.sum_to(g * x / (y + 1) if cls.pole else g * x / y, sy)
        return gx, gy


class Xlogy(_XlogFn):
    node_name = "XlogyBackward0"
    pole = 0.0

    @staticmethod
    def _f(xp, y):
        return xp.log(y)

    @staticmethod
    def _f_any(y):
        return y.log() if isinstance(y, Tensor) else namespace_of(y).log(y)


class Xlog1py(_XlogFn):
    node_name = "SpecialXlog1PyBackward0"
    pole = -1.0

    @staticmethod
    def _f(xp, y):
        return xp.log1p(y)

    @staticmethod
    def _f_any(y):
        return y.log1p() if isinstance(y, Tensor) else namespace_of(y).log1p(y)


def _xlog_apply(fn, input, other, out):
    from .promotion import _promote
    a, b = _promote(input, other)
    if isinstance(a, Tensor) and a._data.dtype.kind in "biu":
        a = _floating(a)
    if isinstance(b, Tensor) and b._data.dtype.kind in "biu":
        b = _floating(b)
    if not isinstance(a, Tensor):
        from .creation import tensor
        a = tensor(a, dtype=b.dtype, device=b.device)
    if not isinstance(b, Tensor):
        from .creation import tensor
        b = tensor(b, dtype=a.dtype, device=a.device)
    r = fn.apply(a, b)
    return r if out is None else out.copy_(r)


def xlog1py(input, other, *, out=None) -> Tensor:
    """``input * log1p(other)`` with 0 where ``input`` is 0 (broadcasts; differentiable in both)."""
    return _xlog_apply(Xlog1py, input, other, out)


def xlogy(input, other, *, out=None) -> Tensor:
    """``input * log(other)`` with 0 where ``input`` is 0 (broadcasts; differentiable in both)."""
    return _xlog_apply(Xlogy, input, other, out)


# --------------------------------------------------------------------------- forward-only (as PyTorch)
def _nodiff(name, scipy_name, binary=False):
    if binary:
        def op(input, other, *, out=None) -> Tensor:
            from .._tensor import _wrap
            from .promotion import _promote
            a, b = _promote(input, other)
            a = a if isinstance(a, Tensor) else _wrap(namespace_of(b._data).asarray(a, dtype=b._data.dtype))
            b = b if isinstance(b, Tensor) else _wrap(namespace_of(a._data).asarray(b, dtype=a._data.dtype))
            a, b = _floating(a), _floating(b)
            xp = namespace_of(a._data)
            r = _wrap(_cast(_need_scipy(xp, scipy_name)(a._data, b._data), a._data))
            return r if out is None else out.copy_(r)
    else:
        def op(input, *, out=None) -> Tensor:
            from .._tensor import _wrap
            x = _floating(input)._data
            r = _wrap(_cast(_need_scipy(namespace_of(x), scipy_name)(x), x))
            return r if out is None else out.copy_(r)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise ``{name}`` (SciPy's ``{scipy_name}``); not differentiable, as in PyTorch."
    return op


bessel_j0 = _nodiff("bessel_j0", "j0")
bessel_j1 = _nodiff("bessel_j1", "j1")
bessel_y0 = _nodiff("bessel_y0", "y0")
bessel_y1 = _nodiff("bessel_y1", "y1")
modified_bessel_i0 = _nodiff("modified_bessel_i0", "i0")
modified_bessel_i1 = _nodiff("modified_bessel_i1", "i1")
modified_bessel_k0 = _nodiff("modified_bessel_k0", "k0")
modified_bessel_k1 = _nodiff("modified_bessel_k1", "k1")
scaled_modified_bessel_k0 = _nodiff("scaled_modified_bessel_k0", "k0e")
scaled_modified_bessel_k1 = _nodiff("scaled_modified_bessel_k1", "k1e")
airy_ai = _nodiff("airy_ai", "_airy_ai")
zeta = _nodiff("zeta", "zeta", binary=True)
gammainc = _nodiff("gammainc", "gammainc", binary=True)
gammaincc = _nodiff("gammaincc", "gammaincc", binary=True)


def spherical_bessel_j0(input, *, out=None) -> Tensor:
    """sin(x) / x (1 at 0); not differentiable, as in PyTorch."""
    from .._tensor import _wrap
    x = _floating(input)._data
    xp = namespace_of(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = xp.where(x == 0, 1, xp.sin(x) / xp.where(x == 0, 1, x))
    r = _wrap(_cast(r, x))
    return r if out is None else out.copy_(r)
