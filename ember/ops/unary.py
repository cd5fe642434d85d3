"""Unary math primitives (exp, log, trig, sigmoid, erf, relu, abs, rounding ...) generated from one
table, plus ``round(decimals=)``, ``logit`` and ``xlogy``."""
from __future__ import annotations

import math

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor
from ..autograd.function import Function
from ..backends import namespace_of
from ..backends.kernels import Kernel
from . import _bw as B
from .elementwise import _out, clamp, to_dtype


def _erf(xp, x):
    try:
        from scipy.special import erf as sp_erf  # optional: exact and fast when SciPy is present
        if xp is np:
            return sp_erf(x).astype(x.dtype, copy=False)
    except ImportError:
        pass
    if xp is not np:
        import cupyx.scipy.special as cps
        return cps.erf(x)
    # Series erf(x) = 2/sqrt(pi) e^{-x^2} sum 2^n x^{2n+1} / (2n+1)!!  (all terms positive), and
    # |x| >= 6 is +-1 to double precision.
    xd = x.astype(np.float64)
    ax = np.minimum(np.abs(xd), 6.0)
    term = ax.copy()
    total = ax.copy()
    for n in range(1, 200):
        term = term * (2.0 * ax * ax) / (2 * n + 1)
        total += term
        if float(term.max(initial=0.0)) < 1e-17 * max(float(total.max(initial=0.0)), 1e-300):
            break
    r = 2.0 / math.sqrt(math.pi) * np.exp(-ax * ax) * total
    r = np.where(np.abs(xd) >= 6.0, 1.0, np.minimum(r, 1.0))
    return (np.sign(xd) * r).astype(x.dtype)


def _sigmoid(xp, x):
    # PyTorch's own formula, 1 / (1 + exp(-x)): exp overflows to inf for very negative x, which gives
    # exactly 0 there, as PyTorch does. (A where() over the sign is ~5x slower: a random mask defeats
    # NumPy's branch prediction.) Half precision is computed in float32, as PyTorch does.
    if x.dtype.itemsize < 4 and x.dtype.kind == "f":
        return _sigmoid(xp, x.astype(xp.float32)).astype(x.dtype)
    if xp is np:
        expit = _scipy_expit()
        if expit is not None:
            return expit(x)  # one ufunc, same values, no overflow warning to silence (3x faster)
    with np.errstate(over="ignore"):
        return 1 / (1 + xp.exp(-x))


_EXPIT = []


def _scipy_expit():
    """SciPy's logistic ufunc when SciPy is installed (optional), else None; looked up once."""
    if not _EXPIT:
        try:
            from scipy.special import expit
        except ImportError:
            expit = None
        _EXPIT.append(expit)
    return _EXPIT[0]


_SQRT_2_OVER_PI = 2.0 / math.sqrt(math.pi)

# name: (grad_fn name, forward(xp, x), backward(g, x, y), saves, float_only)
#   saves: "x" input, "y" output, "" nothing
_UNARY = {
    "exp": ("ExpBackward0", lambda xp, x: xp.exp(x), lambda g, x, y: g * y, "y", True),
    "exp2": ("Exp2Backward0", lambda xp, x: xp.exp2(x), lambda g, x, y: g * y * math.log(2.0), "y", True),
    "expm1": ("Expm1Backward0", lambda xp, x: xp.expm1(x), lambda g, x, y: g * (y + 1), "y", True),
    "log": ("LogBackward0", lambda xp, x: xp.log(x), lambda g, x, y: g / x, "x", True),
    "log2": ("Log2Backward0", lambda xp, x: xp.log2(x), lambda g, x, y: g / (x * math.log(2.0)), "x", True),
    "log10": ("Log10Backward0", lambda xp, x: xp.log10(x), lambda g, x, y: g / (x * math.log(10.0)), "x", True),
    "log1p": ("Log1PBackward0", lambda xp, x: xp.log1p(x), lambda g, x, y: g / (x + 1), "x", True),
    "sqrt": ("SqrtBackward0", lambda xp, x: xp.sqrt(x), lambda g, x, y: g / (2 * y), "y", True),
    "rsqrt": ("RsqrtBackward0", lambda xp, x: 1 / xp.sqrt(x), lambda g, x, y: g * (-0.5) * y * y * y, "y", True),
    "reciprocal": ("ReciprocalBackward0", lambda xp, x: 1 / x, lambda g, x, y: -g * y * y, "y", True),
    "sin": ("SinBackward0", lambda xp, x: xp.sin(x), lambda g, x, y: g * B.cos(x), "x", True),
    "cos": ("CosBackward0", lambda xp, x: xp.cos(x), lambda g, x, y: -g * B.sin(x), "x", True),
    "tan": ("TanBackward0", lambda xp, x: xp.tan(x), lambda g, x, y: g * (1 + y * y), "y", True),
    "asin": ("AsinBackward0", lambda xp, x: xp.arcsin(x), lambda g, x, y: g / B.sqrt(1 - x * x), "x", True),
    "acos": ("AcosBackward0", lambda xp, x: xp.arccos(x), lambda g, x, y: -g / B.sqrt(1 - x * x), "x", True),
    "atan": ("AtanBackward0", lambda xp, x: xp.arctan(x), lambda g, x, y: g / (1 + x * x), "x", True),
    "sinh": ("SinhBackward0", lambda xp, x: xp.sinh(x), lambda g, x, y: g * _cosh_any(x), "x", True),
    "cosh": ("CoshBackward0", lambda xp, x: xp.cosh(x), lambda g, x, y: g * _sinh_any(x), "x", True),
    "tanh": ("TanhBackward0", lambda xp, x: xp.tanh(x), lambda g, x, y: g * (1 - y * y), "y", True),
    "asinh": ("AsinhBackward0", lambda xp, x: xp.arcsinh(x), lambda g, x, y: g / B.sqrt(x * x + 1), "x", True),
    "acosh": ("AcoshBackward0", lambda xp, x: xp.arccosh(x), lambda g, x, y: g / B.sqrt(x * x - 1), "x", True),
    "atanh": ("AtanhBackward0", lambda xp, x: xp.arctanh(x), lambda g, x, y: g / (1 - x * x), "x", True),
    "sigmoid": ("SigmoidBackward0", _sigmoid, lambda g, x, y: g * (y * (1 - y)), "y", True),
    "erf": ("ErfBackward0", _erf, lambda g, x, y: g * _SQRT_2_OVER_PI * B.exp(-(x * x)), "x", True),
    "relu": ("ReluBackward0", lambda xp, x: xp.maximum(x, 0).astype(x.dtype, copy=False),
             lambda g, x, y: B.linear_in_grad("ThresholdBackwardBackward0", _relu_grad, g, y), "y", False),
    "abs": ("AbsBackward0", lambda xp, x: xp.abs(x), lambda g, x, y: g * B.sign(x), "x", False),
    "sign": ("SignBackward0", lambda xp, x: xp.sign(x), lambda g, x, y: g * 0, "", False),
    "floor": ("FloorBackward0", lambda xp, x: xp.floor(x) if x.dtype.kind in "fc" else x.copy(), lambda g, x, y: g * 0, "", False),
    "ceil": ("CeilBackward0", lambda xp, x: xp.ceil(x) if x.dtype.kind in "fc" else x.copy(), lambda g, x, y: g * 0, "", False),
    "trunc": ("TruncBackward0", lambda xp, x: xp.trunc(x) if x.dtype.kind in "fc" else x.copy(), lambda g, x, y: g * 0, "", False),
    "round": ("RoundBackward0", lambda xp, x: xp.round(x) if x.dtype.kind in "fc" else x.copy(), lambda g, x, y: g * 0, "", False),
    "frac": ("FracBackward0", lambda xp, x: x - xp.trunc(x), lambda g, x, y: g, "", True),
}


# relu's backward on a device: one kernel instead of a comparison and a product (same numbers: g * [y > 0])
_RELU_BWD = Kernel("T g, T y", "T gx", "gx = g * (y > (T)0 ? (T)1 : (T)0)", "ember_relu_bwd")


def _relu_grad(g, y):
    if type(g) is not np.ndarray and not isinstance(g, Tensor) and g.dtype == y.dtype and g.shape == y.shape:
        k = _RELU_BWD.on(namespace_of(g), g.dtype)
        if k is not None:
            return k(g, y)
    return g * (y > 0)


def _cosh_any(x):
    return _UNARY_FUNCS["cosh"](x) if isinstance(x, Tensor) else namespace_of(x).cosh(x)


def _sinh_any(x):
    return _UNARY_FUNCS["sinh"](x) if isinstance(x, Tensor) else namespace_of(x).sinh(x)


# complex-differentiable ops of the table: their gradient for complex input is conj(f'(z)) times g
_HOLOMORPHIC = frozenset(("exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt", "reciprocal",
                          "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh",
                          "atanh", "sigmoid", "neg"))


def _make_unary(name, node_name, fwd, bwd, saves, float_only):
    def forward(ctx, x):
        y = fwd(namespace_of(x), x)
        if saves == "y":
            ctx.save_for_backward(y)
        elif saves == "x":
            ctx.save_for_backward(x)
        return y

    def backward(ctx, g):
        if saves == "y":
            (y,) = ctx.saved_tensors
            x = None
        elif saves == "x":
            (x,) = ctx.saved_tensors
            y = None
        else:
            return bwd(g, None, None)
        saved = x if y is None else y
        if name in _HOLOMORPHIC and (saved.is_complex() if isinstance(saved, Tensor) else saved.dtype.kind == "c"):
            # complex input: PyTorch's gradient is g * conj(f'(z)) = conj(conj(g) * f'(z))
            return B.conj(bwd(B.conj(g), x, y))
        return bwd(g, x, y)

    cls = type(name.capitalize(), (Function,), {
        "raw": True, "node_name": node_name, "__doc__": f"Elementwise ``{name}``.",
        "forward": staticmethod(forward), "backward": staticmethod(backward)})

    if float_only:
        def op(input, *, out=None):
            if input._data.dtype.kind not in "fcV":  # V: bfloat16
                input = to_dtype(input, D.get_default_dtype())
            r = cls.apply(input)
            return r if out is None else _out(r, out)
    else:
        def op(input, *, out=None):
            r = cls.apply(input)
            return r if out is None else _out(r, out)
    op.__name__ = name
    op.__qualname__ = name
    op.__doc__ = f"Elementwise ``{name}`` of a tensor (any shape); differentiable."
    return cls, op


_UNARY_FUNCS = {}
for _name, _spec in _UNARY.items():
    _cls, _op = _make_unary(_name, *_spec)
    _UNARY_FUNCS[_name] = _op
    globals()[_name] = _op
del _name, _spec, _cls, _op

arcsin, arccos, arctan = asin, acos, atan  # noqa: F821
arcsinh, arccosh, arctanh = asinh, acosh, atanh  # noqa: F821
absolute = abs  # noqa: F821
fix = trunc  # noqa: F821


class RoundDecimals(Function):
    """Round half to even at ``decimals`` places; zero gradient."""

    raw = True
    node_name = "RoundBackward1"

    @staticmethod
    def forward(ctx, x, decimals):
        return namespace_of(x).round(x, decimals)

    @staticmethod
    def backward(ctx, g):
        return g * 0, None


_round0 = _UNARY_FUNCS["round"]


def round(input, *, decimals: int = 0):  # noqa: A001
    """Round half to even; ``decimals`` places (may be negative)."""
    if decimals == 0:
        return _round0(input)
    return RoundDecimals.apply(input, decimals)


_UNARY_FUNCS["round"] = round  # the public name (ember.round, Tensor.round) takes ``decimals``


def logit(input, eps=None):
    x = input if eps is None else clamp(input, eps, 1 - eps)
    return log(x / (1 - x))  # noqa: F821


def xlogy(input, other, *, out=None):
    """``input * log(other)``, 0 where ``input`` is 0 (one primitive: XlogyBackward0, PyTorch's gradients)."""
    from .special_extra import xlogy as _xlogy
    return _xlogy(input, other, out=out)


# the public names: the table's ops (with ``round`` taking ``decimals``), their NumPy-style aliases, logit, xlogy
__all__ = [*_UNARY_FUNCS, "arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh", "absolute", "fix", "logit",
           "xlogy"]
