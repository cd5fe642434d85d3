"""Beta distribution on [0, 1]."""
from __future__ import annotations

from numbers import Number

from . import constraints
from .exp_family import ExponentialFamily
from .gamma import _StandardGamma
from .utils import broadcast_all

__all__ = ["Beta"]


class Beta(ExponentialFamily):
    """Beta(concentration1, concentration0): density ``x^(a-1) (1-x)^(b-1) / B(a, b)`` with a =
    ``concentration1``, b = ``concentration0``.

    ``rsample`` draws X ~ Gamma(a), Y ~ Gamma(b) and returns X / (X + Y), differentiable through both
    Gamma samples. (PyTorch differentiates through the Beta CDF instead: the same distribution of
    gradients, not the same gradient for a given sample.)"""

    arg_constraints = {"concentration1": constraints.positive, "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1, concentration0, validate_args=None):
        self._c1, self._c0 = broadcast_all(concentration1, concentration0)
        scalar = isinstance(concentration1, Number) and isinstance(concentration0, Number)
        super().__init__(() if scalar else self._c1.size(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expand_params(Beta, batch_shape, _instance, "_c1", "_c0")

    @property
    def concentration1(self):
        return self._c1

    @property
    def concentration0(self):
        return self._c0

    @property
    def mean(self):
        return self._c1 / (self._c1 + self._c0)

    @property
    def mode(self):
        import ember
        # the interior maximum where it exists, 0 or 1 when one concentration is below 1; when both are
        # (density unbounded at both ends) PyTorch reports 1, and so does Ember
        a1, b1 = (self._c1 - 1).clamp(min=0), (self._c0 - 1).clamp(min=0)
        with ember.no_grad():
            both_below = (self._c1 < 1) & (self._c0 < 1)
        return ember.where(both_below, ember.ones_like(a1), a1 / (a1 + b1))

    @property
    def variance(self):
        total = self._c1 + self._c0
        return self._c1 * self._c0 / (total.pow(2) * (total + 1))

    def rsample(self, sample_shape=()):
        shape = tuple(self._extended_shape(sample_shape))
        x = _StandardGamma.apply(self._c1.expand(shape))
        y = _StandardGamma.apply(self._c0.expand(shape))
        return (x / (x + y)).clamp(min=0, max=1)

    def log_prob(self, value):
        import ember
        if self._validate_args:
            self._validate_sample(value)
        value = ember.as_tensor(value, dtype=self._c1.dtype)
        a, b = self._c1, self._c0
        return (ember.xlogy(a - 1, value) + ember.xlogy(b - 1, 1 - value)
                + (a + b).lgamma() - a.lgamma() - b.lgamma())

    def entropy(self):
        a, b = self._c1, self._c0
        total = a + b
        log_beta = a.lgamma() + b.lgamma() - total.lgamma()
        return log_beta - (a - 1) * a.digamma() - (b - 1) * b.digamma() + (total - 2) * total.digamma()

    @property
    def _natural_params(self):
        return (self.concentration1, self.concentration0)

    def _log_normalizer(self, x, y):
        return x.lgamma() + y.lgamma() - (x + y).lgamma()
