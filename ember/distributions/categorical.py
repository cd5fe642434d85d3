"""Categorical distribution over ``0 .. K-1``, parameterised by ``probs`` or ``logits``."""
from __future__ import annotations

from . import constraints
from .distribution import Distribution
from .utils import _ProbsOrLogits

__all__ = ["Categorical"]


class _ViaCategorical:
    """Mixin of the families built on an inner ``Categorical`` (``self._categorical``): their
    ``probs``, ``logits``, ``param_shape`` (and ``_param``) are the inner distribution's."""

    @property
    def _param(self):
        return self._categorical._param

    @property
    def probs(self):
        return self._categorical.probs

    @property
    def logits(self):
        return self._categorical.logits

    @property
    def param_shape(self):
        return self._categorical.param_shape


class Categorical(_ProbsOrLogits, Distribution):
    """Draws an index in ``0 .. K-1`` where K = ``probs.shape[-1]``; the leading dims are the batch.

    ``probs`` need only be nonnegative (rows are normalised); ``logits`` are unnormalised log-weights
    (normalised with logsumexp). Give exactly one of them."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.independent(constraints.real, 1)}
    has_enumerate_support = True
    _binary = False  # probs <-> logits over the last dim (softmax / log)

    def __init__(self, probs=None, logits=None, validate_args=None):
        self._check_one_of(probs, logits)
        if probs is not None:
            if probs.dim() < 1:
                raise ValueError("`probs` parameter must be at least one-dimensional.")
            self._set_param("probs", probs / probs.sum(-1, keepdim=True))
        else:
            if logits.dim() < 1:
                raise ValueError("`logits` parameter must be at least one-dimensional.")
            self._set_param("logits", logits - logits.logsumexp(dim=-1, keepdim=True))
        self._num_events = self._param.size()[-1]
        batch_shape = self._param.size()[:-1] if self._param.dim() > 1 else ()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expand_probs_or_logits(Categorical, batch_shape, _instance, keep=("_num_events",))

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self._num_events - 1)

    @property
    def mean(self):
        import ember
        return ember.full(self._extended_shape(), float("nan"), dtype=self.probs.dtype, device=self.probs.device)

    @property
    def mode(self):
        return self.probs.argmax(-1)

    @property
    def variance(self):
        import ember
        return ember.full(self._extended_shape(), float("nan"), dtype=self.probs.dtype, device=self.probs.device)

    def sample(self, sample_shape=()):
        import ember
        sample_shape = tuple(sample_shape)
        n = 1
        for s in sample_shape:
            n *= s
        with ember.no_grad():
            probs_2d = self.probs.reshape(-1, self._num_events)
            if n == 0:
                return ember.zeros(self._extended_shape(sample_shape), dtype=ember.int64, device=probs_2d.device)
            draws = ember.multinomial(probs_2d, n, True).T  # (n, batch)
            return draws.reshape(self._extended_shape(sample_shape))

    def log_prob(self, value):
        import ember
        if self._validate_args:
            self._validate_sample(value)
        value = value.long().unsqueeze(-1)
        value, log_pmf = ember.broadcast_tensors(value, self.logits)
        return log_pmf.gather(-1, value[..., :1]).squeeze(-1)

    def entropy(self):
        import ember
        # a zero probability has logit -inf: clamp it so that 0 * logit is 0, not NaN
        logits = self.logits.clamp(min=ember.finfo(self.logits.dtype).min)
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand=True):
        import ember
        values = ember.arange(self._num_events, dtype=ember.int64, device=self._param.device)
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        if expand:
            values = values.expand((-1,) + tuple(self._batch_shape))
        return values
