"""What the "half" families (HalfNormal, HalfCauchy) share: |X| for X symmetric about 0."""
from __future__ import annotations

import math

from . import constraints

__all__: list = []


class _FoldedAtZero:
    """Mixin for a TransformedDistribution of ``base_dist`` (loc 0, ``scale``, symmetric about 0) by
    AbsTransform: the density, cdf and icdf fold the base's at 0, the entropy loses log 2."""

    arg_constraints = {"scale": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _value_as_tensor = False  # convert log_prob's value to a tensor of the parameter's dtype first

    @property
    def scale(self):
        return self.base_dist.scale

    @property
    def mode(self):
        import ember
        return ember.zeros_like(self.scale)

    def log_prob(self, value):
        import ember
        if self._validate_args:
            self._validate_sample(value)
        if self._value_as_tensor:
            value = ember.as_tensor(value, dtype=self.scale.dtype, device=self.scale.device)
        lp = self.base_dist.log_prob(value) + math.log(2)
        return ember.where(value >= 0, lp, ember.full_like(lp, -math.inf))

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 2 * self.base_dist.cdf(value) - 1

    def icdf(self, prob):
        return self.base_dist.icdf((prob + 1) / 2)

    def entropy(self):
        return self.base_dist.entropy() - math.log(2)
