"""Continuous Bernoulli distribution on [0, 1] (Loaiza-Ganem & Cunningham, 2019)."""
from __future__ import annotations

import math

from . import constraints
from .exp_family import ExponentialFamily
from .utils import _ProbsOrLogits, broadcast_all, clamp_probs, lazy_property, logits_to_probs

__all__ = ["ContinuousBernoulli"]


class ContinuousBernoulli(_ProbsOrLogits, ExponentialFamily):
    """Density ``C(p) p^x (1 - p)^(1 - x)`` on [0, 1], with ``C(p)`` its normaliser.

    Near p = 1/2 (inside ``lims``) the closed forms are 0/0, so Taylor expansions in (p - 1/2) are used."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    _mean_carrier_measure = 0
    has_rsample = True

    def __init__(self, probs=None, logits=None, lims=(0.499, 0.501), validate_args=None):
        self._init_probs_or_logits(probs, logits)
        if probs is not None:
            # checked before clamping (the clamped values would always pass)
            if validate_args is not None and not bool(self.arg_constraints["probs"].check(self.probs).all()):
                raise ValueError("The parameter probs has invalid values")
            self._set_param("probs", clamp_probs(self.probs))
        self._lims = lims
        super().__init__(self._param.size(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expand_probs_or_logits(ContinuousBernoulli, batch_shape, _instance, keep=("_lims",))

    def _stable(self):
        """Where the closed forms are used (probs outside ``lims``)."""
        return (self.probs <= self._lims[0]) | (self.probs > self._lims[1])

    def _cut_probs(self):
        import ember
        return ember.where(self._stable(), self.probs, ember.full_like(self.probs, self._lims[0]))

    def _log_ratio(self, p):
        return (-p).log1p() - p.log()  # log((1 - p) / p)

    def _cont_bern_log_norm(self):
        import ember
        p = self._cut_probs()
        below = p <= 0.5
        p_lo = ember.where(below, p, ember.zeros_like(p))
        p_hi = ember.where(p >= 0.5, p, ember.ones_like(p))
        log_norm = self._log_ratio(p).abs().log() - ember.where(below, (-2.0 * p_lo).log1p(), (2.0 * p_hi - 1.0).log())
        x = (self.probs - 0.5).pow(2)
        taylor = math.log(2.0) + (4.0 / 3.0 + 104.0 / 45.0 * x) * x
        return ember.where(self._stable(), log_norm, taylor)

    @property
    def mean(self):
        import ember
        p = self._cut_probs()
        mus = p / (2.0 * p - 1.0) + 1.0 / self._log_ratio(p)
        x = self.probs - 0.5
        taylor = 0.5 + (1.0 / 3.0 + 16.0 / 45.0 * x.pow(2)) * x
        return ember.where(self._stable(), mus, taylor)

    @property
    def stddev(self):
        return self.variance.sqrt()

    @property
    def variance(self):
        import ember
        p = self._cut_probs()
        vs = p * (p - 1.0) / (1.0 - 2.0 * p).pow(2) + 1.0 / self._log_ratio(p).pow(2)
        x = (self.probs - 0.5).pow(2)
        taylor = 1.0 / 12.0 - (1.0 / 15.0 - 128.0 / 945.0 * x) * x
        return ember.where(self._stable(), vs, taylor)

    @lazy_property
    def probs(self):
        # clamped, like probs given directly
        return clamp_probs(logits_to_probs(self.logits, is_binary=True))

    def sample(self, sample_shape=()):
        import ember
        u = ember.rand(self._extended_shape(sample_shape), dtype=self.probs.dtype, device=self.probs.device)
        with ember.no_grad():
            return self.icdf(u)

    def rsample(self, sample_shape=()):
        import ember
        u = ember.rand(self._extended_shape(sample_shape), dtype=self.probs.dtype, device=self.probs.device)
        return self.icdf(u)

    def log_prob(self, value):
        from ..nn.functional import binary_cross_entropy_with_logits
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        return -binary_cross_entropy_with_logits(logits, value, reduction="none") + self._cont_bern_log_norm()

    def cdf(self, value):
        import ember
        if self._validate_args:
            self._validate_sample(value)
        p = self._cut_probs()
        cdfs = (p.pow(value) * (1.0 - p).pow(1.0 - value) + p - 1.0) / (2.0 * p - 1.0)
        inner = ember.where(self._stable(), cdfs, value)
        return ember.where(value <= 0.0, ember.zeros_like(value),
                           ember.where(value >= 1.0, ember.ones_like(value), inner))

    def icdf(self, value):
        import ember
        p = self._cut_probs()
        closed = ((-p + value * (2.0 * p - 1.0)).log1p() - (-p).log1p()) / (p.log() - (-p).log1p())
        return ember.where(self._stable(), closed, value)

    def entropy(self):
        log_p0 = (-self.probs).log1p()
        log_p1 = self.probs.log()
        return self.mean * (log_p0 - log_p1) - self._cont_bern_log_norm() - log_p0

    @property
    def _natural_params(self):
        return (self.logits,)

    def _log_normalizer(self, x):
        import ember
        lo, hi = self._lims[0] - 0.5, self._lims[1] - 0.5
        stable = (x <= lo) | (x > hi)
        cut = ember.where(stable, x, ember.full_like(x, lo))
        log_norm = cut.expm1().abs().log() - cut.abs().log()
        taylor = 0.5 * x + x.pow(2) / 24.0 - x.pow(4) / 2880.0
        return ember.where(stable, log_norm, taylor)
