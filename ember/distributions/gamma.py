"""Gamma distribution, with reparameterised samples (implicit differentiation through the CDF)."""
from __future__ import annotations

import math
from numbers import Number

import numpy as _np

from ..autograd.function import Function
from . import constraints
from .exp_family import ExponentialFamily
from .utils import broadcast_all

__all__ = ["Gamma"]

_lgamma_np = _np.vectorize(math.lgamma, otypes=[_np.float64])


def _gammainc_lower(a, x, iters=200):
    """Regularised lower incomplete gamma P(a, x) in float64 (series below a + 1, Lentz's continued
    fraction for the upper tail above), vectorised over broadcast ``a`` and ``x``."""
    a, x = _np.broadcast_arrays(_np.asarray(a, _np.float64), _np.asarray(x, _np.float64))
    with _np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        log_front = a * _np.log(x) - x - _lgamma_np(a)
        # series: P = front / a * sum_n x^n / ((a + 1) ... (a + n))
        term = _np.ones_like(a)
        total = _np.ones_like(a)
        for n in range(1, iters):
            term = term * x / (a + n)
            total = total + term
        p_series = _np.exp(log_front) * total / a
        # continued fraction for Q = 1 - P
        tiny = 1e-300
        b = x + 1 - a
        c = _np.full_like(a, 1 / tiny)
        d = 1 / _np.where(_np.abs(b) < tiny, tiny, b)
        h = d.copy()
        for i in range(1, iters):
            an = -i * (i - a)
            b = b + 2
            d = an * d + b
            d = 1 / _np.where(_np.abs(d) < tiny, tiny, d)
            c = b + an / c
            c = _np.where(_np.abs(c) < tiny, tiny, c)
            h = h * d * c
        p_cf = 1 - _np.exp(log_front) * h
    p = _np.where(x < a + 1, p_series, p_cf)
    return _np.where(x <= 0, 0.0, p)


def _standard_gamma_grad(alpha, x):
    """dx/dalpha of a Gamma(alpha, 1) sample x held at a fixed CDF level: -dP/dalpha / density."""
    alpha = alpha.astype(_np.float64)
    x = _np.maximum(x.astype(_np.float64), _np.finfo(_np.float64).tiny)
    h = 1e-5 * _np.maximum(alpha, 1.0)
    dP = (_gammainc_lower(alpha + h, x) - _gammainc_lower(alpha - h, x)) / (2 * h)
    log_pdf = (alpha - 1) * _np.log(x) - x - _lgamma_np(alpha)
    with _np.errstate(over="ignore", invalid="ignore"):
        return -dP * _np.exp(-log_pdf)


class _StandardGamma(Function):
    """Gamma(alpha, 1) samples of ``alpha``'s shape; differentiable in ``alpha``."""

    raw = True
    node_name = "StandardGammaBackward0"

    @staticmethod
    def forward(ctx, alpha):
        from ..backends import namespace_of
        from ..ops.creation import _rng
        host = alpha if isinstance(alpha, _np.ndarray) else namespace_of(alpha).asnumpy(alpha)
        x = _rng(None).standard_gamma(host.astype(_np.float64))
        tiny = _np.finfo(host.dtype).tiny
        x = _np.maximum(x, tiny).astype(host.dtype)  # a float32 sample never rounds to 0
        if ctx.needs_input_grad and ctx.needs_input_grad[0]:
            ctx.dx_dalpha = _standard_gamma_grad(host, x).astype(host.dtype)
            if not isinstance(alpha, _np.ndarray):
                ctx.dx_dalpha = namespace_of(alpha).asarray(ctx.dx_dalpha)
        return x if isinstance(alpha, _np.ndarray) else namespace_of(alpha).asarray(x)

    @staticmethod
    def backward(ctx, grad):
        from .._tensor import Tensor, _wrap
        d = ctx.dx_dalpha
        return grad * (_wrap(d) if isinstance(grad, Tensor) else d)


class Gamma(ExponentialFamily):
    """Gamma(concentration, rate): density ``rate^k x^(k-1) exp(-rate x) / Gamma(k)`` on x > 0."""

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _mean_carrier_measure = 0

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = broadcast_all(concentration, rate)
        scalar = isinstance(concentration, Number) and isinstance(rate, Number)
        super().__init__(() if scalar else self.concentration.size(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expand_params(Gamma, batch_shape, _instance, "concentration", "rate")

    @property
    def mean(self):
        return self.concentration / self.rate

    @property
    def mode(self):
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self):
        return self.concentration / self.rate.pow(2)

    def rsample(self, sample_shape=()):
        shape = tuple(self._extended_shape(sample_shape))
        return _StandardGamma.apply(self.concentration.expand(shape)) / self.rate.expand(shape)

    def log_prob(self, value):
        import ember
        if self._validate_args:
            self._validate_sample(value)
        value = ember.as_tensor(value, dtype=self.rate.dtype)
        return (ember.xlogy(self.concentration, self.rate) + ember.xlogy(self.concentration - 1, value)
                - self.rate * value - self.concentration.lgamma())

    def entropy(self):
        k = self.concentration
        return k - self.rate.log() + k.lgamma() + (1.0 - k) * k.digamma()

    @property
    def _natural_params(self):
        return (self.concentration - 1, -self.rate)

    def _log_normalizer(self, x, y):
        return (x + 1).lgamma() + (x + 1) * (-y.reciprocal()).log()
