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
                "Gumbel", "HalfNormal", "LogNormal", "StudentT", "Chi2", "Weibull", "Pareto", "LowRankMVN",
                "LowRankMVN_bcast", "Mixture", "Mixture_event", "ContinuousBernoulli", "Cauchy_median"]


@pytest.mark.parametrize("name", MOMENT_NAMES)
def test_sample_moments(name):
    ember.manual_seed(0)
    n = 20000
    if name == "Cauchy_median":  # no mean: check the median and quartiles instead
        de, _ = _build("Cauchy", ember)
        s = de.sample((n,))._cpu_array()
        q = np.quantile(s, [0.25, 0.5, 0.75], axis=0)
        expect = np.stack([de.icdf(ember.tensor(v)).detach()._cpu_array() for v in (0.25, 0.5, 0.75)])
        np.testing.assert_allclose(q, expect, atol=0.1 * de.scale.detach()._cpu_array().max())
        return
    de, _ = _build(name, ember)
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
    "Beta": (lambda m, c1, c0: m.distributions.Beta(c1, c0), dict(c1=_pos((3, 4)), c0=_pos((3, 4))), None),
    "Uniform01": (lambda m, low, high: m.distributions.Uniform(low, high),
                  dict(low=_pos((3, 4), 0.05, 0.4), high=_pos((3, 4), 0.6, 0.95)), None),
    "UniformWide": (lambda m, low, high: m.distributions.Uniform(low, high),
                    dict(low=_pos((3, 4), -1.0, -0.1), high=_pos((3, 4), 1.1, 2.0)), None),
    "CB64": (lambda m, probs: m.distributions.ContinuousBernoulli(probs),
             dict(probs=RNG.uniform(0.1, 0.9, (3, 4))), None),
    "MVN": (lambda m, loc, tril: m.distributions.MultivariateNormal(loc, scale_tril=tril),
            dict(loc=_f32(RNG.standard_normal((3, 3))),
                 tril=_f32(np.linalg.cholesky(_psd((3,), 3, RNG)))), None),
}


def _shift(key, v, pname):
    if key in ("n",) or pname in ("UniformWide", "Uniform01"):
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
            ("Poisson", "Binomial_probs"), ("Pareto", "Uniform"), ("Beta", "CB64"), ("Beta", "Exponential"),
            ("Beta", "Gamma"), ("Beta", "Normal"), ("Beta", "UniformWide"), ("Beta", "Uniform01"),
            ("CB64", "Exponential"), ("CB64", "Normal"), ("CB64", "UniformWide"), ("CB64", "Uniform01"),
            ("Uniform01", "Beta"), ("Uniform", "Beta"), ("Uniform01", "CB64"), ("CB64", "Pareto")]


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


# -- transforms ----------------------------------------------------------------------------------------------
def _tf_cases():
    return {
        "Exp": (lambda m: m.distributions.ExpTransform(), (3, 4)),
        "Affine": (lambda m: m.distributions.AffineTransform(m.tensor([0.5, -1.0, 2.0, 0.1]),
                                                             m.tensor([2.0, -0.5, 1.5, 3.0])), (3, 4)),
        "Affine_num": (lambda m: m.distributions.AffineTransform(1.0, -2.0), (3, 4)),
        "Affine_event": (lambda m: m.distributions.AffineTransform(m.tensor([0.5, -1.0, 2.0, 0.1]),
                                                                   m.tensor([2.0, -0.5, 1.5, 3.0]), event_dim=1),
                         (3, 4)),
        "Sigmoid": (lambda m: m.distributions.SigmoidTransform(), (3, 4)),
        "Tanh": (lambda m: m.distributions.TanhTransform(), (3, 4)),
        "Softplus": (lambda m: m.distributions.SoftplusTransform(), (3, 4)),
        "Power": (lambda m: m.distributions.PowerTransform(m.tensor(2.5)), (3, 4)),
        "StickBreaking": (lambda m: m.distributions.StickBreakingTransform(), (3, 4)),
        "Compose": (lambda m: m.distributions.ComposeTransform([m.distributions.AffineTransform(0.5, 2.0),
                                                                m.distributions.ExpTransform(),
                                                                m.distributions.PowerTransform(m.tensor(0.5))]),
                    (3, 4)),
        "Compose_event": (lambda m: m.distributions.ComposeTransform([m.distributions.ExpTransform(),
                                                                      m.distributions.StickBreakingTransform().inv,
                                                                      ]), (3, 4)),
        "Independent": (lambda m: m.distributions.IndependentTransform(m.distributions.ExpTransform(), 2),
                        (2, 3, 4)),
        "Reshape": (lambda m: m.distributions.ReshapeTransform((4,), (2, 2)), (3, 4)),
        "Identity": (lambda m: m.distributions.identity_transform, (3, 4)),
        "Abs": (lambda m: m.distributions.AbsTransform(), (3, 4)),
        "Softmax": (lambda m: m.distributions.SoftmaxTransform(), (3, 4)),
        "LowerCholesky": (lambda m: m.distributions.LowerCholeskyTransform(), (2, 3, 3)),
        "PositiveDefinite": (lambda m: m.distributions.PositiveDefiniteTransform(), (2, 3, 3)),
        "CorrCholesky": (lambda m: m.distributions.CorrCholeskyTransform(), (2, 6)),
        "CDF": (lambda m: m.distributions.CumulativeDistributionTransform(
            m.distributions.Normal(m.tensor([0.5, -1.0, 0.0, 2.0]), m.tensor([1.0, 2.0, 0.5, 1.5]))), (3, 4)),
    }


TF = _tf_cases()


def _tf_input(name, shape):
    x = _f32(np.random.default_rng(5).standard_normal(shape))
    if name == "Power":
        x = np.abs(x) + _f32(0.2)
    if name == "Compose_event":
        x = np.abs(x) + _f32(0.2)
        x = _f32(x / (x.sum(-1, keepdims=True) + 1))  # inside the simplex (StickBreaking.inv's domain)
    return x


@pytest.mark.parametrize("name", list(TF))
def test_transform_forward_inverse_ladj(name):
    build, shape = TF[name]
    x = _tf_input(name, shape)
    res = []
    for lib in (ember, torch):
        t = build(lib)
        xt = lib.tensor(x, requires_grad=True)
        y = t(xt)
        outs = [y]
        outs.append(t.inv(y.detach()))
        has_ladj = name not in ("Abs", "Softmax", "LowerCholesky", "PositiveDefinite")
        if has_ladj:
            outs.append(t.log_abs_det_jacobian(xt, y))
        total = sum((o * lib.tensor(np.cos(np.arange(o.numel())).reshape(tuple(o.shape)).astype(np.float32))).sum()
                    for o in outs if o.requires_grad)
        total.backward()
        meta = (t.bijective, t.domain.event_dim, t.codomain.event_dim, repr(t), repr(t.inv),
                tuple(t.forward_shape(shape)), tuple(t.inverse_shape(t.forward_shape(shape))))
        res.append((outs, xt.grad, meta))
    (oe, ge, me), (ot, gt, mt) = res
    for a, b in zip(oe, ot):
        assert_close(a, b, rtol=1e-5, atol=1e-5)
    assert_close(ge, gt, rtol=1e-4, atol=1e-5)
    assert me == mt


def test_transform_cache_sign_eq():
    D = ember.distributions
    t = D.ExpTransform(cache_size=1)
    x = ember.randn(3)
    y = t(x)
    assert t.inv(y) is x and t(x) is y
    assert D.ExpTransform().inv.inv == D.ExpTransform()
    assert D.ExpTransform() == D.ExpTransform() and D.ExpTransform() != D.SigmoidTransform()
    assert D.AffineTransform(1.0, 2.0) == D.AffineTransform(1.0, 2.0) != D.AffineTransform(1.0, 3.0)
    assert D.ComposeTransform([D.ExpTransform()]) == D.ComposeTransform([D.ExpTransform()])
    assert D.AffineTransform(0.0, -2.0).sign == -1 and D.ExpTransform().sign == 1
    assert D.ComposeTransform([D.AffineTransform(0.0, -2.0), D.AffineTransform(0.0, -1.0)]).sign == 1
    assert_close(D.AffineTransform(0.0, ember.tensor([-2.0, 3.0])).sign, torch.tensor([-1.0, 1.0]))
    with pytest.raises(ValueError):
        D.ExpTransform(cache_size=2)
    c = D.ComposeTransform([D.ExpTransform(), D.AffineTransform(1.0, 2.0)], cache_size=1)
    z = c(x)
    assert c.parts[0]._cache_size == 1 and bool((c.inv(z) - x).abs().max() < 1e-5)


@pytest.mark.parametrize("which", ["biject_to", "transform_to"])
def test_biject_to_transform_to(which):
    ce, ct = ember.distributions.constraints, torch.distributions.constraints
    names = [("real", ()), ("positive", ()), ("nonnegative", ()), ("greater_than", (2.0,)),
             ("greater_than_eq", (-1.0,)), ("less_than", (1.0,)), ("unit_interval", ()), ("interval", (-1.0, 3.0)),
             ("half_open_interval", (0.0, 2.0)), ("simplex", ()), ("real_vector", ())]
    x = _f32(np.random.default_rng(2).standard_normal((3, 4)))
    for name, args in names:
        outs = []
        for lib, C in ((ember, ce), (torch, ct)):
            c = getattr(C, name)(*args) if args else getattr(C, name)
            t = getattr(lib.distributions, which)(c)
            xt = lib.tensor(x, requires_grad=True)
            y = t(xt)
            assert bool(c.check(y).all()), name
            ladj = t.log_abs_det_jacobian(xt, y) if t.bijective else y.sum()
            (y.sum() + ladj.sum()).backward()
            outs.append((repr(t), y, ladj, xt.grad))
        (re_, ye, le, ge), (rt, yt, lt, gt) = outs
        assert re_ == rt, name
        assert_close(ye, yt, atol=1e-6)
        assert_close(le, lt, atol=1e-5)
        assert_close(ge, gt, atol=1e-5)
    with pytest.raises(NotImplementedError) as ee:
        getattr(ember.distributions, which)(ce.boolean)
    with pytest.raises(NotImplementedError) as et:
        getattr(torch.distributions, which)(ct.boolean)
    assert "Cannot transform" in str(ee.value) and "Cannot transform" in str(et.value)
    if which == "transform_to":
        lt = ember.distributions.transform_to(ce.lower_cholesky)(ember.randn(2, 3, 3))
        assert bool(ce.lower_cholesky.check(lt).all())
        pd = ember.distributions.transform_to(ce.positive_definite)(ember.randn(2, 3, 3))
        assert bool(ce.positive_definite.check(pd).all())
    cc = getattr(ember.distributions, which)(ce.corr_cholesky)(ember.randn(4, 10))
    assert tuple(cc.shape) == (4, 5, 5) and bool(ce.corr_cholesky.check(cc).all())
    assert not bool(ce.corr_cholesky.check(2 * cc).any())


# -- TransformedDistribution ---------------------------------------------------------------------------------
def _td_cases():
    return {
        "exp_affine": (lambda m, loc, scale: m.distributions.TransformedDistribution(
            m.distributions.Normal(loc, scale), [m.distributions.ExpTransform(),
                                                 m.distributions.AffineTransform(1.0, 2.0)]),
            dict(loc=_f32(RNG.standard_normal((3, 4))), scale=_pos((3, 4))), _pos((2, 3, 4), 1.2, 4.0)),
        "neg_affine": (lambda m, loc, scale: m.distributions.TransformedDistribution(
            m.distributions.Normal(loc, scale), m.distributions.AffineTransform(-1.0, -2.0)),
            dict(loc=_f32(RNG.standard_normal((3, 4))), scale=_pos((3, 4))), _f32(RNG.standard_normal((2, 3, 4)))),
        "stick": (lambda m, loc, scale: m.distributions.TransformedDistribution(
            m.distributions.Normal(loc, scale), m.distributions.StickBreakingTransform()),
            dict(loc=_f32(RNG.standard_normal((3, 4))), scale=_pos((3, 4))),
            _f32(np.random.default_rng(4).dirichlet(np.ones(5), (2, 3)))),
        "tanh_mvn": (lambda m, loc, tril: m.distributions.TransformedDistribution(
            m.distributions.MultivariateNormal(loc, scale_tril=tril), m.distributions.TanhTransform()),
            dict(loc=_f32(RNG.standard_normal((3, 2))), tril=_f32(np.linalg.cholesky(_psd((3,), 2, RNG)))),
            _f32(RNG.uniform(-0.9, 0.9, (4, 3, 2)))),
    }


TD = _td_cases()


@pytest.mark.parametrize("name", list(TD))
def test_transformed_distribution(name):
    build, params, value = TD[name]
    u = _pos((2, 3, 4), 0.05, 0.95)
    res = []
    for lib in (ember, torch):
        ps = {k: lib.tensor(v.copy(), requires_grad=True) for k, v in params.items()}
        d = build(lib, **ps)
        lp = d.log_prob(lib.tensor(value))
        (lp * lib.tensor(np.cos(np.arange(lp.numel())).reshape(tuple(lp.shape)).astype(np.float32))).sum().backward()
        extra = []
        if name in ("exp_affine", "neg_affine"):
            extra = [d.cdf(lib.tensor(value)), d.icdf(lib.tensor(u))]
        meta = (tuple(d.batch_shape), tuple(d.event_shape), repr(d.support), d.has_rsample,
                tuple(d.sample((5,)).shape), tuple(d.expand((2,) + tuple(d.batch_shape)).batch_shape))
        res.append((lp, [ps[k].grad for k in sorted(ps)], extra, meta))
    (le, ge, xe, me), (lt, gt, xt, mt) = res
    assert_close(le, lt, rtol=1e-5, atol=1e-5)
    for a, b in zip(ge, gt):
        assert_close(a, b, rtol=1e-4, atol=1e-5)
    for a, b in zip(xe, xt):
        assert_close(a, b, rtol=1e-5, atol=1e-5)
    assert me == mt
    de = build(ember, **{k: ember.tensor(v) for k, v in params.items()})
    assert bool(de.support.check(de.sample((7,))).all())


# -- the rest: expand, enumerate_support, reparameterisation, validation, gradcheck ---------------------------
@pytest.mark.parametrize("name", ["Dirichlet", "Poisson", "Binomial_logits", "Multinomial", "Geometric_logits",
                                  "NegativeBinomial", "Cauchy", "HalfCauchy", "Gumbel", "LogNormal", "StudentT",
                                  "Chi2", "Weibull", "Pareto", "LowRankMVN", "Mixture", "RelaxedBernoulli",
                                  "RelaxedOneHot", "ContinuousBernoulli"])
def test_expand(name):
    outs = []
    for lib in (ember, torch):
        d, _ = _build(name, lib)
        big = d.expand((2,) + tuple(d.batch_shape))
        outs.append((tuple(big.batch_shape), tuple(big.event_shape), big.log_prob(lib.tensor(CASES[name][2])),
                     tuple(big.sample().shape), type(big).__name__))
    (be, ee, le, se, ne), (bt, et, lt, st, nt) = outs
    assert (be, ee, se, ne) == (bt, et, st, nt)
    assert_close(le, lt, atol=1e-5)


@pytest.mark.parametrize("expand", [True, False])
def test_binomial_enumerate_support(expand):
    de, _ = _build("Binomial_probs", ember)
    dt, _ = _build("Binomial_probs", torch)
    assert_close(de.enumerate_support(expand), dt.enumerate_support(expand))
    with pytest.raises(NotImplementedError):
        ember.distributions.Binomial(ember.tensor([2.0, 3.0]), ember.tensor([0.5, 0.5])).enumerate_support()


def test_rsample_reparameterised():
    D = ember.distributions
    # Dirichlet: normalised Gamma draws; the gradient of sum(x) is exactly 0 (the sum is always 1)
    c = ember.tensor([0.5, 2.0, 3.0], requires_grad=True)
    x = D.Dirichlet(c).rsample((50,))
    x.sum().backward()
    assert float(c.grad.abs().max()) < 1e-4
    assert_close(x.sum(-1), ember.ones(50), atol=1e-5)
    # and the gradient of E[x_0] averages to d/dc (c_0 / sum c) = (sum c - c_0) / (sum c)^2
    c.grad = None
    ember.manual_seed(1)
    D.Dirichlet(c).rsample((20000,))[:, 0].mean().backward()
    np.testing.assert_allclose(c.grad[0].item(), 5.0 / 5.5 ** 2, rtol=0.1)
    # Cauchy / Gumbel / LogNormal / HalfNormal: x is affine in (loc, scale) at fixed noise
    loc, scale = ember.tensor([0.5, -1.0], requires_grad=True), ember.tensor([2.0, 0.5], requires_grad=True)
    for dist in (D.Cauchy(loc, scale), D.Gumbel(loc, scale)):
        loc.grad = scale.grad = None
        y = dist.rsample((6,))
        y.sum().backward()
        assert_close(loc.grad, ember.full((2,), 6.0))
        np.testing.assert_allclose(scale.grad._cpu_array(),
                                   ((y.detach() - loc.detach()) / scale.detach()).sum(0)._cpu_array(), rtol=1e-4)
    loc.grad = scale.grad = None
    z = D.LogNormal(loc, scale).rsample((6,))
    z.sum().backward()
    assert_close(loc.grad, z.detach().sum(0), rtol=1e-5)
    # StudentT and the relaxed distributions: samples carry gradients to every parameter
    for d, ps in ((lambda a, b: D.StudentT(a + 3.0, 0.0, b), (loc, scale)),
                  (lambda a, b: D.RelaxedBernoulli(b, logits=a), (loc, scale)),
                  (lambda a, b: D.RelaxedOneHotCategorical(b[0], logits=a), (loc, scale)),
                  (lambda a, b: D.ContinuousBernoulli(logits=a), (loc,)),
                  (lambda a, b: D.LowRankMultivariateNormal(a, b.reshape(2, 1), b), (loc, scale))):
        for p in ps:
            p.grad = None
        d(loc, scale).rsample((4,)).sum().backward()
        assert all(p.grad is not None and bool(p.grad.isfinite().all()) for p in ps)


def _same_value_error(fn):
    with pytest.raises(ValueError) as et:
        fn(torch)
    with pytest.raises(ValueError) as ee:
        fn(ember)
    assert str(ee.value) == str(et.value)


@pytest.mark.parametrize("fn", [
    lambda m: m.distributions.Dirichlet(m.tensor([1.0, -1.0])),
    lambda m: m.distributions.Dirichlet(m.tensor(1.0)),
    lambda m: m.distributions.Poisson(m.tensor([-1.0])),
    lambda m: m.distributions.Binomial(m.tensor([2.5]), m.tensor([0.5])),
    lambda m: m.distributions.Geometric(m.tensor([0.0, 0.5])),
    lambda m: m.distributions.NegativeBinomial(m.tensor([2.0]), m.tensor([1.0])),
    lambda m: m.distributions.Cauchy(m.zeros(2), -m.ones(2)),
    lambda m: m.distributions.HalfNormal(m.tensor([-1.0])),
    lambda m: m.distributions.StudentT(m.tensor([-1.0])),
    lambda m: m.distributions.Chi2(m.tensor([-1.0])),
    lambda m: m.distributions.Pareto(m.tensor([1.0]), m.tensor([-1.0])),
    lambda m: m.distributions.LowRankMultivariateNormal(m.zeros(2), m.ones(3, 1), m.ones(2)),
    lambda m: m.distributions.LowRankMultivariateNormal(m.zeros(2), m.ones(2, 1), m.ones(3)),
    lambda m: m.distributions.LowRankMultivariateNormal(m.zeros(2), m.ones(2), m.ones(2)),
    lambda m: m.distributions.MixtureSameFamily(m.distributions.Categorical(m.ones(3)),
                                                m.distributions.Normal(m.zeros(4), m.ones(4))),
    lambda m: m.distributions.MixtureSameFamily(m.distributions.Normal(0.0, 1.0),
                                                m.distributions.Normal(m.zeros(4), m.ones(4))),
    lambda m: m.distributions.ContinuousBernoulli(m.tensor([1.5]), validate_args=True),
    lambda m: m.distributions.Poisson(m.tensor(2.0)).log_prob(m.tensor(1.5)),
    lambda m: m.distributions.Binomial(3, m.tensor(0.5)).log_prob(m.tensor(4.0)),
    lambda m: m.distributions.Dirichlet(m.ones(3)).log_prob(m.tensor([0.5, 0.6, 0.1])),
    lambda m: m.distributions.Multinomial(3, m.ones(3)).log_prob(m.tensor([2.0, 2.0, 1.0])),
    lambda m: m.distributions.LogNormal(0.0, 1.0).log_prob(m.tensor(-1.0)),
    lambda m: m.distributions.Pareto(m.tensor(2.0), m.tensor(1.0)).log_prob(m.tensor(1.0)),
    lambda m: m.distributions.TransformedDistribution(m.distributions.Normal(0.0, 1.0), "exp"),
])
def test_validation_errors(fn):
    _same_value_error(fn)


def test_gradcheck_float64():
    D = ember.distributions
    rng = np.random.default_rng(3)
    c = ember.tensor(rng.uniform(0.5, 2.0, (2, 3)), requires_grad=True)
    v = ember.tensor(rng.dirichlet(np.ones(3), 2))
    assert ember.autograd.gradcheck(lambda a: D.Dirichlet(a).log_prob(v), (c,))
    assert ember.autograd.gradcheck(lambda a: D.Dirichlet(a).entropy(), (c,))
    loc = ember.tensor(rng.standard_normal(3), requires_grad=True)
    W = ember.tensor(rng.standard_normal((3, 2)), requires_grad=True)
    d = ember.tensor(rng.uniform(0.5, 2.0, 3), requires_grad=True)
    x = ember.tensor(rng.standard_normal((2, 3)))
    assert ember.autograd.gradcheck(lambda a, b, e: D.LowRankMultivariateNormal(a, b, e).log_prob(x), (loc, W, d))
    df = ember.tensor(rng.uniform(2.5, 5.0, 3), requires_grad=True)
    assert ember.autograd.gradcheck(lambda f, a: D.StudentT(f, a).log_prob(x), (df, loc))
    y = ember.tensor(rng.standard_normal(3), requires_grad=True)
    assert ember.autograd.gradcheck(lambda a: D.StickBreakingTransform()(a), (y,))
    assert ember.autograd.gradcheck(lambda a: D.StickBreakingTransform().log_abs_det_jacobian(
        a, D.StickBreakingTransform()(a)), (y,))
    logits = ember.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    locs = ember.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    z = ember.tensor(rng.standard_normal((4, 2)))
    assert ember.autograd.gradcheck(lambda lg, m: D.MixtureSameFamily(
        D.Categorical(logits=lg), D.Normal(m, 1.0)).log_prob(z), (logits, locs))


def test_namespaces_are_torchs():
    for mod_e, mod_t in ((ember.distributions, torch.distributions),
                         (ember.distributions.transforms, torch.distributions.transforms),
                         (ember.distributions.constraints, torch.distributions.constraints)):
        public = [n for n in dir(mod_e) if not n.startswith("_")]
        assert [n for n in public if not hasattr(mod_t, n)] == []
