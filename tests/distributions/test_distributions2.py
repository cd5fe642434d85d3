"""ember.distributions vs torch.distributions: the second batch of families, transforms,
TransformedDistribution, biject_to/transform_to and more KL pairs.

As in test_distributions.py: deterministic quantities are built in both libraries from the same NumPy
arrays and compared in value and gradient; samples (different random streams) by shape, dtype,
support and moments."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import ember
from conftest import assert_close

RNG = np.random.default_rng(11)


def _f32(a):
    return np.asarray(a, dtype=np.float32)


def _pos(shape, lo=0.5, hi=2.0):
    return _f32(RNG.uniform(lo, hi, shape))


def _cases():
    loc = _f32(RNG.standard_normal((3, 4)))
    scale = _pos((3, 4))
    x = _f32(RNG.standard_normal((2, 3, 4)))
    posx = np.abs(x) + _f32(0.1)
    probs = _pos((3, 4), 0.1, 0.9)
    counts = _f32(RNG.integers(0, 6, (2, 3, 4)))
    conc = _pos((3, 4), 0.5, 3.0)
    simplex_v = RNG.uniform(0.1, 1.0, (2, 3, 4))
    simplex_v = _f32(simplex_v / simplex_v.sum(-1, keepdims=True))
    D = "distributions"

    def d(name):
        return lambda m, *a, **k: getattr(getattr(m, D), name)(*a, **k)

    return {
        "Dirichlet": (lambda m, c: d("Dirichlet")(m, c), dict(c=conc), simplex_v),
        "Poisson": (lambda m, rate: d("Poisson")(m, rate), dict(rate=scale * 2), counts),
        "Binomial_probs": (lambda m, probs: d("Binomial")(m, 6, probs=probs), dict(probs=probs), counts),
        "Binomial_logits": (lambda m, n, logits: d("Binomial")(m, n, logits=logits),
                            dict(n=_f32(np.full((3, 4), 7.0)), logits=loc), counts),
        "Multinomial": (lambda m, probs: d("Multinomial")(m, 5, probs=probs), dict(probs=conc),
                        _f32(RNG.multinomial(5, [0.1, 0.2, 0.3, 0.4], (2, 3)))),
        "Geometric_probs": (lambda m, probs: d("Geometric")(m, probs=probs), dict(probs=probs), counts),
        "Geometric_logits": (lambda m, logits: d("Geometric")(m, logits=logits), dict(logits=loc), counts),
        "NegativeBinomial": (lambda m, n, probs: d("NegativeBinomial")(m, n, probs=probs),
                             dict(n=conc, probs=probs), counts),
        "NegativeBinomial_logits": (lambda m, n, logits: d("NegativeBinomial")(m, n, logits=logits),
                                    dict(n=conc, logits=loc), counts),
        "Cauchy": (lambda m, loc, scale: d("Cauchy")(m, loc, scale), dict(loc=loc, scale=scale), x),
        "HalfCauchy": (lambda m, scale: d("HalfCauchy")(m, scale), dict(scale=scale), posx),
        "Gumbel": (lambda m, loc, scale: d("Gumbel")(m, loc, scale), dict(loc=loc, scale=scale), x),
        "HalfNormal": (lambda m, scale: d("HalfNormal")(m, scale), dict(scale=scale), posx),
        "LogNormal": (lambda m, loc, scale: d("LogNormal")(m, loc, scale), dict(loc=loc, scale=scale), posx),
        "StudentT": (lambda m, df, loc, scale: d("StudentT")(m, df, loc, scale),
                     dict(df=_pos((3, 4), 2.5, 6.0), loc=loc, scale=scale), x),
        "Chi2": (lambda m, df: d("Chi2")(m, df), dict(df=conc * 2), posx),
        "Weibull": (lambda m, scale, k: d("Weibull")(m, scale, k), dict(scale=scale, k=conc + 0.5), posx),
        "Pareto": (lambda m, scale, alpha: d("Pareto")(m, scale, alpha), dict(scale=scale * 0.2, alpha=conc + 2.0),
                   posx + 0.5),
        "LowRankMVN": (lambda m, loc, W, Dg: d("LowRankMultivariateNormal")(m, loc, W, Dg),
                       dict(loc=_f32(RNG.standard_normal((3, 3))), W=_f32(RNG.standard_normal((3, 3, 2))),
                            Dg=_pos((3, 3))), _f32(RNG.standard_normal((2, 3, 3)))),
        "LowRankMVN_bcast": (lambda m, loc, W, Dg: d("LowRankMultivariateNormal")(m, loc, W, Dg),
                             dict(loc=_f32(RNG.standard_normal((2, 1, 3))), W=_f32(RNG.standard_normal((3, 1))),
                                  Dg=_pos((4, 3))), _f32(RNG.standard_normal((2, 4, 3)))),
        "Mixture": (lambda m, logits, loc, scale: d("MixtureSameFamily")(
            m, d("Categorical")(m, logits=logits), d("Normal")(m, loc, scale)),
            dict(logits=_f32(RNG.standard_normal((3, 4))), loc=loc, scale=scale), x[..., 0]),
        "Mixture_event": (lambda m, logits, loc, scale: d("MixtureSameFamily")(
            m, d("Categorical")(m, logits=logits), d("Independent")(m, d("Normal")(m, loc, scale), 1)),
            dict(logits=_f32(RNG.standard_normal(3)), loc=loc, scale=scale), x[..., :4]),
        "RelaxedBernoulli": (lambda m, t, probs: d("RelaxedBernoulli")(m, t, probs=probs),
                             dict(t=_f32(0.7), probs=probs), _f32(RNG.uniform(0.05, 0.95, (2, 3, 4)))),
        "RelaxedBernoulli_logits": (lambda m, t, logits: d("RelaxedBernoulli")(m, t, logits=logits),
                                    dict(t=_pos((3, 4)), logits=loc), _f32(RNG.uniform(0.05, 0.95, (2, 3, 4)))),
        "RelaxedOneHot": (lambda m, t, logits: d("RelaxedOneHotCategorical")(m, t, logits=logits),
                          dict(t=_f32(0.5), logits=loc), simplex_v),
        "RelaxedOneHot_probs": (lambda m, t, probs: d("RelaxedOneHotCategorical")(m, t, probs=probs),
                                dict(t=_f32(1.3), probs=conc), simplex_v),
        # float64: near p = 1/2 the closed forms cancel catastrophically, in PyTorch as in Ember
        "ContinuousBernoulli": (lambda m, probs: d("ContinuousBernoulli")(m, probs=probs),
                                dict(probs=np.r_[0.1, 0.3, 0.4995, 0.5, 0.5005, 0.7, 0.9, 0.2, 0.45, 0.55,
                                                 0.499, 0.501].reshape(3, 4)),
                                RNG.uniform(0.05, 0.95, (2, 3, 4))),
        "ContinuousBernoulli_logits": (lambda m, logits: d("ContinuousBernoulli")(m, logits=logits),
                                       dict(logits=loc.astype(np.float64)), RNG.uniform(0.05, 0.95, (2, 3, 4))),
    }


CASES = _cases()
EXTRA = {}  # filled further down by later families


def _all_cases():
    return {**CASES, **EXTRA}


def _build(name, lib):
    build, params, _ = _all_cases()[name]
    ts = {k: lib.tensor(v.copy(), requires_grad=True) for k, v in params.items()}
    return build(lib, **ts), ts


def _compare(name, fn, rtol=1e-5, atol=1e-6, grad=True, grtol=1e-4, gatol=1e-5):
    """``fn(lib, dist)`` in both libraries: equal values and equal gradients w.r.t. every parameter."""
    outs, grads = [], []
    for lib in (ember, torch):
        d, ps = _build(name, lib)
        out = fn(lib, d)
        outs.append(out)
        if grad and out.requires_grad:
            w = lib.tensor(np.cos(np.arange(out.numel())).reshape(tuple(out.shape)).astype(np.float32))
            (out * w).sum().backward()
            grads.append([ps[k].grad for k in sorted(ps)])
    assert_close(outs[0], outs[1], rtol, atol)
    if grads:
        assert len(grads) == 2, "requires_grad differs between Ember and PyTorch"
        for k, ge, gt in zip(sorted(_all_cases()[name][1]), *grads):
            assert (ge is None) == (gt is None), k
            if gt is not None:
                assert_close(ge, gt, rtol=grtol, atol=gatol)


def _names():
    return list(CASES)


@pytest.mark.parametrize("name", _names())
def test_log_prob(name):
    value = CASES[name][2]
    _compare(name, lambda lib, d: d.log_prob(lib.tensor(value)), rtol=1e-5, atol=1e-5)


NO_ENTROPY = {"Poisson", "NegativeBinomial", "NegativeBinomial_logits", "Binomial_logits", "Mixture",
              "Mixture_event", "RelaxedBernoulli", "RelaxedBernoulli_logits", "RelaxedOneHot",
              "RelaxedOneHot_probs"}


@pytest.mark.parametrize("name", [n for n in _names() if n not in NO_ENTROPY])
def test_entropy(name):
    _compare(name, lambda lib, d: d.entropy(), atol=1e-5)


def _has(lib_dist, prop):
    try:
        getattr(lib_dist, prop)
        return True
    except NotImplementedError:
        return False


@pytest.mark.parametrize("name", _names())
@pytest.mark.parametrize("prop", ["mean", "variance", "stddev", "mode"])
def test_moments(name, prop):
    dt, _ = _build(name, torch)
    if not _has(dt, prop):
        de, _ = _build(name, ember)
        with pytest.raises(NotImplementedError):
            getattr(de, prop)
        return
    _compare(name, lambda lib, d: getattr(d, prop), grad=prop != "mode")


CDF_NAMES = ["Cauchy", "HalfCauchy", "HalfNormal", "LogNormal", "Gumbel", "Weibull", "Pareto", "ContinuousBernoulli"]


@pytest.mark.parametrize("name", CDF_NAMES)
def test_cdf_icdf(name):
    value = CASES[name][2]
    _compare(name, lambda lib, d: d.cdf(lib.tensor(value)), atol=1e-6)
    u = _f32(RNG.uniform(0.05, 0.95, (2, 3, 4)))
    _compare(name, lambda lib, d: d.icdf(lib.tensor(u)), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", _names())
def test_shapes_and_repr(name):
    de, _ = _build(name, ember)
    dt, _ = _build(name, torch)
    assert tuple(de.batch_shape) == tuple(dt.batch_shape)
    assert tuple(de.event_shape) == tuple(dt.event_shape)
    assert repr(de) == repr(dt)
    assert de.has_rsample == dt.has_rsample
    assert de.has_enumerate_support == dt.has_enumerate_support
    assert repr(de.support) == repr(dt.support)


@pytest.mark.parametrize("name", _names())
@pytest.mark.parametrize("sample_shape", [(), (5,), (2, 3)])
def test_sample_shape_dtype_support(name, sample_shape):
    de, _ = _build(name, ember)
    dt, _ = _build(name, torch)
    se = de.sample(sample_shape)
    st = dt.sample(sample_shape)
    assert tuple(se.shape) == tuple(st.shape)
    assert str(se.dtype) == str(st.dtype)
    assert not se.requires_grad
    assert bool(de.support.check(se).all())
    if de.has_rsample:
        r = de.rsample(sample_shape)
        assert tuple(r.shape) == tuple(st.shape) and r.requires_grad


MOMENT_NAMES = ["Dirichlet", "Poisson", "Binomial_probs", "Multinomial", "Geometric_probs", "NegativeBinomial",
                "Gumbel", "HalfNormal", "LogNormal", "StudentT", "Chi2", "Weibull", "Pareto"]


@pytest.mark.parametrize("name", MOMENT_NAMES)
def test_sample_moments(name):
    ember.manual_seed(0)
    de, _ = _build(name, ember)
    n = 20000
    s = de.sample((n,)).double()._cpu_array()
    mean = de.mean.detach().double()._cpu_array()
    var = de.variance.detach().double()._cpu_array()
    se = np.sqrt(var / n)
    tol = 6 * se + 1e-3
    if name in ("LogNormal", "Pareto", "StudentT"):  # heavy tails: the sample mean converges slowly
        tol = 12 * se + 1e-2
    np.testing.assert_array_less(np.abs(s.mean(0) - mean), tol)
    if name not in ("LogNormal", "Pareto", "StudentT"):
        np.testing.assert_allclose(s.var(0), var, rtol=0.15)


# -- KL divergence -------------------------------------------------------------------------------------------
def _psd(batch, n, rng):
    a = rng.standard_normal(batch + (n, n))
    return _f32(a @ np.swapaxes(a, -1, -2) + n * np.eye(n))


KL_ONLY = {
    "Normal": (lambda m, loc, scale: m.distributions.Normal(loc, scale),
               dict(loc=_f32(RNG.standard_normal((3, 4))), scale=_pos((3, 4))), None),
    "Laplace": (lambda m, loc, scale: m.distributions.Laplace(loc, scale),
                dict(loc=_f32(RNG.standard_normal((3, 4))), scale=_pos((3, 4))), None),
    "Exponential": (lambda m, rate: m.distributions.Exponential(rate), dict(rate=_pos((3, 4))), None),
    "Gamma": (lambda m, conc, rate: m.distributions.Gamma(conc, rate), dict(conc=_pos((3, 4)), rate=_pos((3, 4))),
              None),
    "Uniform": (lambda m, low, high: m.distributions.Uniform(low, high),
                dict(low=_pos((3, 4), 0.6, 1.0), high=_pos((3, 4), 1.5, 2.0)), None),
    "Bernoulli": (lambda m, probs: m.distributions.Bernoulli(probs), dict(probs=_pos((3, 4), 0.1, 0.9)), None),
    "MVN": (lambda m, loc, tril: m.distributions.MultivariateNormal(loc, scale_tril=tril),
            dict(loc=_f32(RNG.standard_normal((3, 3))),
                 tril=_f32(np.linalg.cholesky(_psd((3,), 3, RNG)))), None),
}


def _shift(key, v, pname):
    if key in ("n",):
        return v
    if key == "tril":
        return _f32(np.linalg.cholesky(_psd(v.shape[:-2], v.shape[-1], np.random.default_rng(3))))
    if key == "probs":
        return _f32(np.clip(v * 0.7 + 0.1, 0.05, 0.95))
    if key in ("loc", "logits", "W"):
        return _f32(v * 1.3 + 0.2)
    if key == "scale" and pname == "Pareto":
        return _f32(v * 0.8)
    return (v * 1.3).astype(v.dtype)


KL_PAIRS = [("Binomial_logits", "Binomial_logits"), ("ContinuousBernoulli", "ContinuousBernoulli"),
            ("Dirichlet", "Dirichlet"), ("Gumbel", "Gumbel"), ("Geometric_probs", "Geometric_logits"),
            ("HalfNormal", "HalfNormal"), ("Pareto", "Pareto"), ("Poisson", "Poisson"), ("LogNormal", "LogNormal"),
            ("Cauchy", "Cauchy"), ("LowRankMVN", "LowRankMVN"), ("LowRankMVN", "MVN"), ("MVN", "LowRankMVN"),
            ("LowRankMVN_bcast", "LowRankMVN_bcast"),
            ("Exponential", "Gamma"), ("Exponential", "Gumbel"), ("Exponential", "Normal"), ("Gamma", "Exponential"),
            ("Gamma", "Gumbel"), ("Gamma", "Normal"), ("Gumbel", "Normal"), ("Laplace", "Normal"),
            ("Normal", "Gumbel"), ("Normal", "Laplace"), ("Pareto", "Exponential"), ("Pareto", "Gamma"),
            ("Pareto", "Normal"), ("Uniform", "Exponential"), ("Uniform", "Gamma"), ("Uniform", "Gumbel"),
            ("Uniform", "Pareto"), ("Bernoulli", "Poisson"), ("Normal", "Uniform"), ("Gamma", "Pareto"),
            ("Poisson", "Binomial_probs"), ("Pareto", "Uniform")]


def _kl_builder(name):
    return {**CASES, **KL_ONLY}[name]


@pytest.mark.parametrize("pname, qname", KL_PAIRS)
def test_kl_divergence(pname, qname):
    res = []
    for lib in (ember, torch):
        bp, pp, _ = _kl_builder(pname)
        bq, pq, _ = _kl_builder(qname)
        tp = {k: lib.tensor(v.copy(), requires_grad=True) for k, v in pp.items()}
        tq = {k: lib.tensor(_shift(k, v, qname), requires_grad=True) for k, v in pq.items()}
        kl = lib.distributions.kl_divergence(bp(lib, **tp), bq(lib, **tq))
        if kl.requires_grad:
            w = lib.tensor(np.cos(np.arange(kl.numel())).reshape(tuple(kl.shape)).astype(np.float32))
            (kl * w).sum().backward()
        res.append((kl, [tp[k].grad for k in sorted(tp)] + [tq[k].grad for k in sorted(tq)]))
    (ke, ge), (kt, gt) = res
    assert_close(ke, kt, rtol=1e-4, atol=1e-5)
    for a, b in zip(ge, gt):
        assert (a is None) == (b is None)
        if b is not None:
            assert_close(a, b, rtol=1e-3, atol=1e-4)


def test_kl_infinite_and_errors():
    for lib in (ember, torch):
        D = lib.distributions
        kl = D.kl_divergence(D.Pareto(lib.tensor([1.0, 2.0]), lib.tensor([3.0, 3.0])),
                             D.Pareto(lib.tensor([1.5, 1.5]), lib.tensor([2.0, 2.0])))
        assert math.isinf(kl.tolist()[0]) and math.isfinite(kl.tolist()[1])
        with pytest.raises(NotImplementedError):
            D.kl_divergence(D.Binomial(2, lib.tensor(0.3)), D.Binomial(5, lib.tensor(0.3)))
        with pytest.raises(NotImplementedError):  # different transforms
            D.kl_divergence(D.LogNormal(0.0, 1.0), D.TransformedDistribution(D.Normal(0.0, 1.0),
                                                                              [D.SigmoidTransform()]))
        with pytest.raises(ValueError):
            D.kl_divergence(D.LowRankMultivariateNormal(lib.zeros(2), lib.ones(2, 1), lib.ones(2)),
                            D.LowRankMultivariateNormal(lib.zeros(3), lib.ones(3, 1), lib.ones(3)))


def test_kl_exponential_family_bregman():
    # Dirichlet and Poisson have closed forms; the generic Bregman form must agree with them
    from ember.distributions._kl_more import _kl_expfamily_expfamily
    D = ember.distributions
    c1 = ember.tensor(_pos((3, 4)), dtype=ember.float64)
    c2 = ember.tensor(_pos((3, 4)), dtype=ember.float64)
    assert_close(_kl_expfamily_expfamily(D.Dirichlet(c1), D.Dirichlet(c2)),
                 D.kl_divergence(D.Dirichlet(c1), D.Dirichlet(c2)), rtol=1e-10, atol=1e-10)
    assert_close(_kl_expfamily_expfamily(D.Poisson(c1), D.Poisson(c2)),
                 D.kl_divergence(D.Poisson(c1), D.Poisson(c2)), rtol=1e-10, atol=1e-10)
    t1 = torch.tensor(c1._cpu_array())
    # the generic entropy (ContinuousBernoulli has its own; compare both through PyTorch's generic one)
    cb = D.ContinuousBernoulli(logits=c1 - 1)
    assert_close(D.ExponentialFamily.entropy(cb),
                 torch.distributions.ExponentialFamily.entropy(torch.distributions.ContinuousBernoulli(
                     logits=t1 - 1)), rtol=1e-8, atol=1e-10)
