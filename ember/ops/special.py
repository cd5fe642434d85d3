"""Special functions and further element-wise math: special functions (erfc, erfinv, lgamma,
digamma, polygamma), ``sinc``, angle conversions, ``logaddexp``, ``hypot``, ``copysign``,
``heaviside``, ``float_power``, ``ldexp``, ``gcd``/``lcm``, ``nextafter``, ``sgn``, ``positive``.

The special functions use SciPy (CuPy's ``cupyx.scipy.special`` on GPU) when it is installed and
NumPy fallbacks otherwise (``polygamma`` of order >= 2 needs SciPy).
"""
from __future__ import annotations

import math

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor
from ..autograd.function import Function
from ..backends import namespace_of
from . import _bw as B
from . import elementwise as E
from . import unary as U
from ._bw import sum_to


def _special(xp, name):
    """SciPy's (or cupyx's) ufunc ``name``, or None when it is not installed."""
    try:
        if xp is np:
            import scipy.special as sp
        else:
            import cupyx.scipy.special as sp
    except ImportError:
        return None
    return getattr(sp, name)


def _erfc(xp, x):
    f = _special(xp, "erfc")
    return f(x).astype(x.dtype, copy=False) if f is not None else (1 - U._erf(xp, x)).astype(x.dtype)


def _erfinv(xp, x):
    f = _special(xp, "erfinv")
    if f is not None:
        return f(x).astype(x.dtype, copy=False)
    # Giles' single-precision starting point, then Newton steps on erf(y) = x in float64.
    xd = x.astype(np.float64)
    w = -np.log((1.0 - xd) * (1.0 + xd))
    y = np.where(w < 5.0, _poly(w - 2.5, [2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06,
                                           0.00021858087, -0.00125372503, -0.00417768164, 0.246640727,
                                           1.50140941]),
                 _poly(np.sqrt(np.maximum(w, 5.0)) - 3.0, [-0.000200214257, 0.000100950558, 0.00134934322,
                                                           -0.00367342844, 0.00573950773, -0.0076224613,
                                                           0.00943887047, 1.00167406, 2.83297682])) * xd
    for _ in range(3):
        err = U._erf(np, y) - xd
        y = y - err / (2.0 / math.sqrt(math.pi) * np.exp(-y * y))
    y = np.where(np.abs(xd) == 1, np.sign(xd) * np.inf, y)
    return y.astype(x.dtype)


def _poly(w, coeffs):
    p = np.full_like(w, coeffs[0])
    for c in coeffs[1:]:
        p = p * w + c
    return p


def _lgamma(xp, x):
    f = _special(xp, "gammaln")
    if f is not None:
        return f(x).astype(x.dtype, copy=False)
    return np.vectorize(math.lgamma, otypes=[np.float64])(x.astype(np.float64)).astype(x.dtype)


def _digamma(xp, x):
    f = _special(xp, "psi")
    if f is not None:
        return f(x).astype(x.dtype, copy=False)
    return _polygamma_np(0, x)


def _polygamma_np(n, x):
    """digamma / trigamma without SciPy: recurrence up to x >= 6, then the asymptotic series."""
    if n > 1:
        raise RuntimeError("polygamma of order >= 2 needs SciPy (pip install scipy)")
    xd = x.astype(np.float64)
    refl = xd < 0.5  # reflection for digamma: psi(1-x) - psi(x) = pi cot(pi x)
    z = np.where(refl, 1.0 - xd, xd) if n == 0 else xd.copy()
    acc = np.zeros_like(z)
    while True:
        small = z < 6.0
        if not small.any():
            break
        acc += np.where(small, (-1.0 / z) if n == 0 else (1.0 / (z * z)), 0.0)
        z = np.where(small, z + 1.0, z)
    zi2 = 1.0 / (z * z)
    if n == 0:
        r = np.log(z) - 0.5 / z - zi2 * (1 / 12 - zi2 * (1 / 120 - zi2 * (1 / 252 - zi2 * (1 / 240 - zi2 / 132))))
        r = r + acc
        r = np.where(refl, r - math.pi / np.tan(math.pi * xd), r)
        r = np.where((xd <= 0) & (xd == np.floor(xd)), np.nan, r)
    else:
        r = 1 / z + zi2 / 2 + zi2 / z * (1 / 6 - zi2 * (1 / 30 - zi2 * (1 / 42 - zi2 / 30))) + acc
    return r.astype(x.dtype)


def _polygamma(xp, x, n):
    if n == 0:
        return _digamma(xp, x)
    f = _special(xp, "polygamma")
    if f is not None:
        return xp.asarray(f(n, x)).astype(x.dtype, copy=False)
    return _polygamma_np(n, x)


def _sinc(xp, x):
    return xp.sinc(x).astype(x.dtype, copy=False)


def _sinc_grad(g, x, y):
    # d/dx sin(pi x)/(pi x) = (cos(pi x) - sinc(x)) / x, and 0 at x = 0
    safe = B.where(x == 0, 1.0, x)
    return g * B.where(x == 0, 0.0, (B.cos(x * math.pi) - _sinc_any(x)) / safe)


def _sinc_any(x):
    return sinc(x) if isinstance(x, Tensor) else namespace_of(x).sinc(x).astype(x.dtype, copy=False)  # noqa: F821


def _digamma_any(x):
    return digamma(x) if isinstance(x, Tensor) else _digamma(namespace_of(x), x)  # noqa: F821


def _polygamma_any(n, x):
    return polygamma(n, x) if isinstance(x, Tensor) else _polygamma(namespace_of(x), x, n)


_SQRT_PI_2 = math.sqrt(math.pi) / 2
_D2R = math.pi / 180.0
_R2D = 180.0 / math.pi

# name: (grad_fn name, forward(xp, x), backward(g, x, y), saves, float_only)
_SPECIAL = {
    "erfc": ("ErfcBackward0", _erfc, lambda g, x, y: -g * U._SQRT_2_OVER_PI * B.exp(-(x * x)), "x", True),
    "erfinv": ("ErfinvBackward0", _erfinv, lambda g, x, y: g * _SQRT_PI_2 * B.exp(y * y), "y", True),
    "lgamma": ("LgammaBackward0", _lgamma, lambda g, x, y: g * _digamma_any(x), "x", True),
    "digamma": ("DigammaBackward0", _digamma, lambda g, x, y: g * _polygamma_any(1, x), "x", True),
    "sinc": ("SincBackward0", _sinc, _sinc_grad, "x", True),
    "deg2rad": ("Deg2RadBackward0", lambda xp, x: x * x.dtype.type(_D2R), lambda g, x, y: g * _D2R, "", True),
    "rad2deg": ("Rad2DegBackward0", lambda xp, x: x * x.dtype.type(_R2D), lambda g, x, y: g * _R2D, "", True),
    "sgn": ("SgnBackward0", lambda xp, x: xp.sign(x) if x.dtype.kind != "c" else _csgn(xp, x),
            lambda g, x, y: g * 0, "", False),
}


def _csgn(xp, x):
    a = xp.abs(x)
    return xp.where(a == 0, 0, x / xp.where(a == 0, 1, a)).astype(x.dtype)


SPECIAL_FUNCS = {}
for _name, _spec in _SPECIAL.items():
    _cls, _op = U._make_unary(_name, *_spec)
    SPECIAL_FUNCS[_name] = _op
    globals()[_name] = _op
del _name, _spec, _cls, _op


class Polygamma(Function):
    raw = True
    node_name = "PolygammaBackward0"

    @staticmethod
    def forward(ctx, x, n):
        ctx.n = n
        ctx.save_for_backward(x)
        return _polygamma(namespace_of(x), x, n)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * _polygamma_any(ctx.n + 1, x), None


def polygamma(n, input):
    """The ``n``-th derivative of digamma; differentiable in ``input``."""
    if not isinstance(n, int) or n < 0:
        raise RuntimeError(f"polygamma(n, x) does not support negative n (got {n}).")
    if input._data.dtype.kind not in "fcV":  # V: bfloat16
        input = E.to_dtype(input, D.get_default_dtype())
    if n == 0:
        return digamma(input)  # noqa: F821
    return Polygamma.apply(input, n)


def mvlgamma(input, p):
    """Multivariate log-gamma of dimension ``p`` (composed: differentiable)."""
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    if bool((input <= (p - 1) / 2).any()):
        raise RuntimeError(f"All elements must be greater than (p-1)/2 = {(p - 1) / 2}")
    from .creation import arange
    from .reduction import sum as rsum
    j = arange(p, dtype=input.dtype, device=input.device)
    return rsum(lgamma(input.unsqueeze(-1) - j / 2), -1) + p * (p - 1) / 4 * math.log(math.pi)  # noqa: F821


def positive(input):
    """Returns ``input`` itself (PyTorch refuses bool tensors)."""
    if input.dtype is D.bool_:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


# --------------------------------------------------------------------------- binary
def _float_pair(a, b):
    a, b = E._promote(a, b)
    a, b = E._float_operands(a, b)
    return a, b


def _binary(name, node, fwd, bwd, float_only=True):
    """A broadcasting binary primitive; ``bwd(g, a, b, y)`` returns the (unreduced) gradients."""
    def forward(ctx, a, b):
        y = fwd(namespace_of(a if hasattr(a, "shape") else b), a, b)
        if ctx.needs_input_grad:
            ctx.save_for_backward(a if isinstance(a, np.ndarray) or hasattr(a, "shape") else None,
                                  b if hasattr(b, "shape") else None, y)
            ctx.scalars = (None if hasattr(a, "shape") else a, None if hasattr(b, "shape") else b)
            ctx.shapes = (getattr(a, "shape", ()), getattr(b, "shape", ()))
        return y

    def backward(ctx, g):
        a, b, y = ctx.saved_tensors
        sa, sb = ctx.scalars
        a = sa if a is None else a
        b = sb if b is None else b
        need = ctx.needs_input_grad
        ga, gb = bwd(g, a, b, y, need)
        return (sum_to(ga, ctx.shapes[0]) if need[0] and ga is not None else None,
                sum_to(gb, ctx.shapes[1]) if need[1] and gb is not None else None)

    cls = type(name.capitalize(), (Function,), {"raw": True, "node_name": node, "forward": staticmethod(forward),
                                                "backward": staticmethod(backward)})

    def op(input, other, *, out=None):
        if float_only:
            x, y = _float_pair(input, other)
        else:
            x, y = E._promote(input, other)
        try:
            r = cls.apply(x, y)
        except ValueError:
            E._raise_broadcast(x, y)
            raise
        return r if out is None else E._out(r, out)
    op.__name__ = op.__qualname__ = name
    return cls, op


_LN2 = math.log(2.0)

_, logaddexp = _binary(
    "logaddexp", "LogaddexpBackward0", lambda xp, a, b: xp.logaddexp(a, b),
    lambda g, a, b, y, need: (g * B.exp(a - y) if need[0] else None, g * B.exp(b - y) if need[1] else None))
_, logaddexp2 = _binary(
    "logaddexp2", "Logaddexp2Backward0", lambda xp, a, b: xp.logaddexp2(a, b),
    lambda g, a, b, y, need: (g * B.exp((a - y) * _LN2) if need[0] else None,
                              g * B.exp((b - y) * _LN2) if need[1] else None))
_, hypot = _binary(
    "hypot", "HypotBackward0", lambda xp, a, b: xp.hypot(a, b),
    lambda g, a, b, y, need: (g * a / y if need[0] else None, g * b / y if need[1] else None))


def _copysign_grad(g, a, b, y, need):
    ga = B.where(a == 0, 0.0, g * y / B.where(a == 0, 1.0, a)) if need[0] else None
    return ga, (g * 0 if need[1] else None)


_, copysign = _binary("copysign", "CopysignBackward0", lambda xp, a, b: xp.copysign(a, b), _copysign_grad)


def _nodiff(name, fwd):
    cls = E._not_differentiable(name, fwd)

    def op(input, other, *, out=None):
        a, b = E._promote(input, other)
        r = cls.apply(a, b)
        return r if out is None else E._out(r, out)
    op.__name__ = op.__qualname__ = name
    return op


def heaviside(input, values, *, out=None):
    """0 where ``input < 0``, ``values`` where ``input == 0``, 1 where ``input > 0``; no derivative."""
    if not isinstance(values, Tensor):
        raise TypeError(f"heaviside(): argument 'values' must be Tensor, not {type(values).__name__}")
    if input.dtype is not values.dtype:
        raise RuntimeError(f"heaviside is not yet implemented for tensors with different dtypes ({input.dtype} "
                           f"and {values.dtype})")
    return _heaviside(input, values, out=out)


_heaviside = _nodiff("heaviside", lambda ctx, a, b: namespace_of(a).heaviside(a, b).astype(a.dtype, copy=False))
nextafter = _nodiff("nextafter", lambda ctx, a, b: namespace_of(a).nextafter(a, b))


def _int_only(name, npname):
    f = _nodiff(name, lambda ctx, a, b: getattr(namespace_of(a if hasattr(a, "shape") else b), npname)(a, b))

    def op(input, other, *, out=None):
        for v in (input, other):
            if isinstance(v, Tensor) and v._data.dtype.kind not in "iub":
                raise RuntimeError(f"\"{name}_cpu\" not implemented for '{str(v.dtype).split('.')[-1].capitalize()}'")
        return f(input, other, out=out)
    op.__name__ = op.__qualname__ = name
    return op


gcd = _int_only("gcd", "gcd")
lcm = _int_only("lcm", "lcm")


def float_power(input, exponent):
    """``input ** exponent`` computed in double precision (complex128 for complex operands)."""
    cplx = any(isinstance(v, Tensor) and v.is_complex() or isinstance(v, complex) for v in (input, exponent))
    dt = D.complex128 if cplx else D.float64
    a = E.to_dtype(input, dt) if isinstance(input, Tensor) else input
    b = E.to_dtype(exponent, dt) if isinstance(exponent, Tensor) else exponent
    return E.pow(a, b)


def ldexp(input, other):
    """``input * 2 ** other`` (composed, so differentiable in both)."""
    if isinstance(other, Tensor) and other._data.dtype.kind in "iub":
        other = E.to_dtype(other, input.dtype if input.is_floating_point() else D.get_default_dtype())
    return E.mul(input, E.pow(2.0, other))


SPECIAL_FUNCS.update(polygamma=lambda self, n: polygamma(n, self), mvlgamma=mvlgamma, positive=positive,
                     logaddexp=logaddexp, logaddexp2=logaddexp2, hypot=hypot, copysign=copysign,
                     heaviside=heaviside, nextafter=nextafter, gcd=gcd, lcm=lcm, float_power=float_power,
                     ldexp=ldexp)
