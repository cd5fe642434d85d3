"""The shared parameter machinery of ember.distributions vs torch.distributions: the probs/logits
families (one-of check, lazily derived parameter, ``param_shape``, ``expand``) and the ``expand`` of the
families with named parameters (the other parameter derived before or after expanding)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
from conftest import assert_close

RNG = np.random.default_rng(23)


def _both(arr):
    return ember.tensor(arr), torch.tensor(arr)


# name, extra positional args (as arrays or numbers), event rank of probs
_PL = [
    ("Bernoulli", (), 0),
    ("Geometric", (), 0),
    ("ContinuousBernoulli", (), 0),
    ("Binomial", (5.0,), 0),
    ("NegativeBinomial", (3.0,), 0),
    ("RelaxedBernoulli", (np.array(0.7),), 0),
    ("Categorical", (), 1),
    ("OneHotCategorical", (), 1),
    ("Multinomial", (4,), 1),
    ("RelaxedOneHotCategorical", (np.array(0.7),), 1),
]


def _build(lib, name, extra, which, arr):
    args = [lib.tensor(a) if isinstance(a, np.ndarray) else a for a in extra]
    kw = {which: lib.tensor(arr)}
    return getattr(lib.distributions, name)(*args, **kw)


@pytest.mark.parametrize("which", ["probs", "logits"])
@pytest.mark.parametrize("name,extra,event", _PL)
def test_probs_logits_family_expand(name, extra, event, which):
    shape = (3,) + (4,) * event
    probs = RNG.uniform(0.1, 0.9, shape)
    if event:
        probs = probs / probs.sum(-1, keepdims=True)
    arr = probs if which == "probs" else np.log(probs) - (0 if event else np.log1p(-probs))
    e, t = _build(ember, name, extra, which, arr), _build(torch, name, extra, which, arr)
    for derive_first in (False, True):
        if derive_first:  # the other parameter is computed (and cached) before expanding
            e.probs, e.logits, t.probs, t.logits
        ee, te = e.expand((2, 3)), t.expand((2, 3))
        assert ee.batch_shape == te.batch_shape and ee.event_shape == te.event_shape
        if hasattr(te, "param_shape"):
            assert ee.param_shape == te.param_shape
        assert_close(ee.probs, te.probs, rtol=1e-12, atol=1e-12)
        assert_close(ee.logits, te.logits, rtol=1e-12, atol=1e-12)
        value = te.sample()
        assert_close(ee.log_prob(ember.tensor(value.numpy())), te.log_prob(value), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name,extra", [(n, x) for n, x, _ in _PL])
def test_probs_and_logits_both_or_neither_raise(name, extra):
    for lib in (ember, torch):
        args = [lib.tensor(a) if isinstance(a, np.ndarray) else a for a in extra]
        cls = getattr(lib.distributions, name)
        with pytest.raises(ValueError):
            cls(*args)
        with pytest.raises(ValueError):
            cls(*args, probs=lib.tensor([0.5, 0.5]), logits=lib.tensor([0.0, 0.0]))


def _named_cases():
    s = (3,)
    loc, pos, pos2 = RNG.standard_normal(s), RNG.uniform(0.5, 2, s), RNG.uniform(0.5, 2, s)
    a = RNG.standard_normal((3, 2, 2))
    cov = a @ a.transpose(0, 2, 1) + np.eye(2)
    return [
        ("Normal", (loc, pos)), ("Laplace", (loc, pos)), ("Cauchy", (loc, pos)), ("Gumbel", (loc, pos)),
        ("Exponential", (pos,)), ("Gamma", (pos, pos2)), ("Beta", (pos, pos2)), ("Chi2", (pos,)),
        ("Uniform", (loc, loc + pos)), ("Poisson", (pos,)), ("StudentT", (pos, loc, pos2)),
        ("HalfNormal", (pos,)), ("HalfCauchy", (pos,)), ("LogNormal", (loc, pos)), ("Pareto", (pos, pos2)),
        ("Weibull", (pos, pos2)), ("Dirichlet", (RNG.uniform(0.5, 2, (3, 4)),)),
        ("MultivariateNormal", (RNG.standard_normal((3, 2)), cov)),
        ("LowRankMultivariateNormal", (RNG.standard_normal((3, 2)), RNG.standard_normal((3, 2, 1)),
                                       RNG.uniform(0.5, 2, (3, 2)))),
    ]


@pytest.mark.parametrize("name,arrays", _named_cases(), ids=[c[0] for c in _named_cases()])
def test_named_param_expand(name, arrays):
    e = getattr(ember.distributions, name)(*[ember.tensor(x) for x in arrays])
    t = getattr(torch.distributions, name)(*[torch.tensor(x) for x in arrays])
    ee, te = e.expand((2, 3)), t.expand((2, 3))
    assert ee.batch_shape == te.batch_shape and ee.event_shape == te.event_shape
    assert type(ee) is type(e) and ee._validate_args == e._validate_args
    for attr in ("mean", "variance"):
        tv = getattr(te, attr)
        if torch.isfinite(tv).all():
            assert_close(getattr(ee, attr), tv, rtol=1e-10, atol=1e-12)
    value = te.sample()
    assert_close(ee.log_prob(ember.tensor(value.numpy())), te.log_prob(value), rtol=1e-9, atol=1e-10)
