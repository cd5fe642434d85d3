"""ember.distributions vs torch.distributions.

Everything deterministic (log_prob, entropy, cdf, icdf, mean, variance, stddev, mode, KL) is built in
both libraries from the same NumPy arrays and compared in value and in gradient w.r.t. the parameters.
Random streams differ (Ember draws from NumPy), so samples are checked by shape, dtype, support and
moments, and reparameterised samples by the exact identity their gradient must satisfy."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
from conftest import assert_close

RNG = np.random.default_rng(7)


def _f32(a):
    return np.asarray(a, dtype=np.float32)


def _psd(batch, n, rng=RNG):
    a = rng.standard_normal(batch + (n, n))
    return _f32(a @ np.swapaxes(a, -1, -2) + n * np.eye(n))


# name -> (builder(lib, **params), params as NumPy arrays, value in the support, icdf-able?)
def _cases():
    loc = _f32(RNG.standard_normal((3, 4)))
    scale = _f32(RNG.uniform(0.5, 2.0, (3, 4)))
    x = _f32(RNG.standard_normal((2, 3, 4)))
    probs = _f32(RNG.uniform(0.1, 0.9, (3, 4)))
    catp = _f32(RNG.uniform(0.1, 1.0, (3, 5)))
    low = _f32(RNG.uniform(-2, -1, (3, 4)))
    high = _f32(RNG.uniform(1, 2, (3, 4)))
    cov = _psd((3,), 2)
    return {
        "Normal": (lambda m, loc, scale: m.distributions.Normal(loc, scale), dict(loc=loc, scale=scale), x),
        "Laplace": (lambda m, loc, scale: m.distributions.Laplace(loc, scale), dict(loc=loc, scale=scale), x),
        "Exponential": (lambda m, rate: m.distributions.Exponential(rate), dict(rate=scale), np.abs(x)),
        "Uniform": (lambda m, low, high: m.distributions.Uniform(low, high), dict(low=low, high=high),
                    _f32(RNG.uniform(-1, 1, (2, 3, 4)))),
        "Bernoulli_probs": (lambda m, probs: m.distributions.Bernoulli(probs=probs), dict(probs=probs),
                            _f32(RNG.integers(0, 2, (2, 3, 4)))),
        "Bernoulli_logits": (lambda m, logits: m.distributions.Bernoulli(logits=logits), dict(logits=loc),
                             _f32(RNG.integers(0, 2, (2, 3, 4)))),
        "Categorical_probs": (lambda m, probs: m.distributions.Categorical(probs=probs), dict(probs=catp),
                              RNG.integers(0, 5, (2, 3))),
        "Categorical_logits": (lambda m, logits: m.distributions.Categorical(logits=logits),
                               dict(logits=_f32(RNG.standard_normal((3, 5)))), RNG.integers(0, 5, (2, 3))),
        "OneHotCategorical": (lambda m, logits: m.distributions.OneHotCategorical(logits=logits),
                              dict(logits=_f32(RNG.standard_normal((3, 5)))),
                              _f32(np.eye(5)[RNG.integers(0, 5, (2, 3))])),
        "MVN_cov": (lambda m, loc, cov: m.distributions.MultivariateNormal(loc, covariance_matrix=cov),
                    dict(loc=_f32(RNG.standard_normal((3, 2))), cov=cov), _f32(RNG.standard_normal((4, 3, 2)))),
        "MVN_prec": (lambda m, loc, prec: m.distributions.MultivariateNormal(loc, precision_matrix=prec),
                     dict(loc=_f32(RNG.standard_normal((2,))), prec=cov), _f32(RNG.standard_normal((4, 3, 2)))),
        "MVN_tril": (lambda m, loc, tril: m.distributions.MultivariateNormal(loc, scale_tril=tril),
                     dict(loc=_f32(RNG.standard_normal((3, 2))), tril=_f32(np.linalg.cholesky(cov))),
                     _f32(RNG.standard_normal((3, 2)))),
        "Gamma": (lambda m, conc, rate: m.distributions.Gamma(conc, rate), dict(conc=high, rate=scale),
                  np.abs(x) + 0.1),
        "Beta": (lambda m, c1, c0: m.distributions.Beta(c1, c0), dict(c1=scale, c0=high),
                 _f32(RNG.uniform(0.05, 0.95, (2, 3, 4)))),
        "Independent": (lambda m, loc, scale: m.distributions.Independent(m.distributions.Normal(loc, scale), 1),
                        dict(loc=loc, scale=scale), x),
    }


CASES = _cases()


def _build(name, lib):
    build, params, _ = CASES[name]
    ts = {k: lib.tensor(v.copy(), requires_grad=True) for k, v in params.items()}
    return build(lib, **ts), ts


def _compare(name, fn, rtol=1e-5, atol=1e-6, grad=True):
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
        for k, ge, gt in zip(sorted(CASES[name][1]), *grads):
            assert (ge is None) == (gt is None), k
            if gt is not None:
                assert_close(ge, gt, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", list(CASES))
def test_log_prob(name):
    value = CASES[name][2]
    _compare(name, lambda lib, d: d.log_prob(lib.tensor(value)), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", list(CASES))
def test_entropy(name):
    _compare(name, lambda lib, d: d.entropy(), atol=1e-5)


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("prop", ["mean", "variance", "stddev", "mode"])
def test_moments(name, prop):
    def f(lib, d):
        return getattr(d, prop)
    _compare(name, f, grad=prop != "mode")


@pytest.mark.parametrize("name", ["Normal", "Laplace", "Exponential", "Uniform"])
def test_cdf_icdf(name):
    value = CASES[name][2]
    _compare(name, lambda lib, d: d.cdf(lib.tensor(value)), atol=1e-6)
    u = _f32(RNG.uniform(0.05, 0.95, (2, 3, 4)))
    _compare(name, lambda lib, d: d.icdf(lib.tensor(u)), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", ["MVN_cov", "MVN_prec", "MVN_tril"])
@pytest.mark.parametrize("prop", ["covariance_matrix", "precision_matrix", "scale_tril"])
def test_mvn_matrices(name, prop):
    _compare(name, lambda lib, d: getattr(d, prop), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", list(CASES))
def test_shapes_and_repr(name):
    de, _ = _build(name, ember)
    dt, _ = _build(name, torch)
    assert tuple(de.batch_shape) == tuple(dt.batch_shape)
    assert tuple(de.event_shape) == tuple(dt.event_shape)
    assert repr(de) == repr(dt)
    assert de.has_rsample == dt.has_rsample
    assert de.has_enumerate_support == dt.has_enumerate_support
    assert repr(de.support) == repr(dt.support)


# -- KL divergence -------------------------------------------------------------------------------------------
KL_PAIRS = [("Normal", "Normal"), ("Laplace", "Laplace"), ("Exponential", "Exponential"), ("Uniform", "Uniform"),
            ("Bernoulli_probs", "Bernoulli_logits"), ("Categorical_probs", "Categorical_logits"),
            ("OneHotCategorical", "OneHotCategorical"), ("MVN_cov", "MVN_tril"), ("MVN_prec", "MVN_cov"),
            ("Independent", "Independent"), ("Uniform", "Normal"), ("Gamma", "Gamma"), ("Beta", "Beta")]


def _kl_case(pname, qname, lib, shift):
    """p from ``pname``'s parameters, q from ``qname``'s with each parameter moved a little."""
    bp, pp, _ = CASES[pname]
    bq, pq, _ = CASES[qname]
    tp = {k: lib.tensor(v.copy(), requires_grad=True) for k, v in pp.items()}
    tq = {}
    for k, v in pq.items():
        if k in ("cov", "prec"):
            v = _psd(v.shape[:-2], v.shape[-1], np.random.default_rng(shift))
        elif k == "tril":
            v = _f32(np.linalg.cholesky(_psd(v.shape[:-2], v.shape[-1], np.random.default_rng(shift))))
        elif k in ("low",):
            v = v - 0.5
        elif k in ("high",):
            v = v + 0.5
        elif k in ("probs",):
            v = _f32(np.clip(v * 0.7 + 0.1, 0.05, 0.95))
        else:
            v = _f32(v * 1.3 + 0.2) if k not in ("scale", "rate", "conc", "c1", "c0") else _f32(v * 1.3)
        tq[k] = lib.tensor(v, requires_grad=True)
    return bp(lib, **tp), bq(lib, **tq), tp, tq


@pytest.mark.parametrize("pname, qname", KL_PAIRS)
def test_kl_divergence(pname, qname):
    res = []
    for lib in (ember, torch):
        p, q, tp, tq = _kl_case(pname, qname, lib, shift=11)
        kl = lib.distributions.kl_divergence(p, q)
        w = lib.tensor(np.cos(np.arange(kl.numel())).reshape(tuple(kl.shape)).astype(np.float32))
        (kl * w).sum().backward()
        res.append((kl, [tp[k].grad for k in sorted(tp)] + [tq[k].grad for k in sorted(tq)]))
    (ke, ge), (kt, gt) = res
    assert_close(ke, kt, rtol=1e-4, atol=1e-5)
    for a, b in zip(ge, gt):
        assert_close(a, b, rtol=1e-4, atol=1e-5)


def test_kl_infinite_outside_support():
    for lib in (ember, torch):
        D = lib.distributions
        kl = D.kl_divergence(D.Uniform(lib.tensor([0., 0.]), lib.tensor([1., 2.])),
                             D.Uniform(lib.tensor([0., 0.5]), lib.tensor([2., 3.])))
        assert np.isinf(kl.tolist()[1]) and np.isfinite(kl.tolist()[0])
    e = ember.distributions.kl_divergence(ember.distributions.Categorical(ember.tensor([0.5, 0.5, 0.0])),
                                          ember.distributions.Categorical(ember.tensor([0.2, 0.8, 0.0])))
    t = torch.distributions.kl_divergence(torch.distributions.Categorical(torch.tensor([0.5, 0.5, 0.0])),
                                          torch.distributions.Categorical(torch.tensor([0.2, 0.8, 0.0])))
    assert_close(e, t)


def test_kl_errors_and_registry():
    De, Dt = ember.distributions, torch.distributions
    with pytest.raises(NotImplementedError) as et:
        Dt.kl_divergence(Dt.Uniform(0., 1.), Dt.Bernoulli(0.3))
    with pytest.raises(NotImplementedError) as ee:
        De.kl_divergence(De.Uniform(0., 1.), De.Bernoulli(0.3))
    assert str(ee.value) == str(et.value)
    with pytest.raises(ValueError):
        De.kl_divergence(De.MultivariateNormal(ember.zeros(2), ember.eye(2)),
                         De.MultivariateNormal(ember.zeros(3), ember.eye(3)))

    class MyNormal(De.Normal):
        pass

    # a subclass uses its parent's KL until it registers its own
    p, q = MyNormal(ember.tensor(0.), ember.tensor(1.)), De.Normal(ember.tensor(1.), ember.tensor(2.))
    assert_close(De.kl_divergence(p, q), Dt.kl_divergence(Dt.Normal(0., 1.), Dt.Normal(1., 2.)))

    @De.register_kl(MyNormal, De.Normal)
    def _kl(p, q):
        return ember.tensor(-1.0)

    assert De.kl_divergence(p, q).item() == -1.0
    assert De.kl_divergence(De.Normal(ember.tensor(0.), ember.tensor(1.)), q).item() != -1.0


# -- validation ----------------------------------------------------------------------------------------------
def _same_value_error(fn):
    with pytest.raises(ValueError) as et:
        fn(torch)
    with pytest.raises(ValueError) as ee:
        fn(ember)
    assert str(ee.value) == str(et.value)


@pytest.mark.parametrize("fn", [
    lambda m: m.distributions.Normal(m.zeros(2), -m.ones(2)),
    lambda m: m.distributions.Uniform(m.ones(2), m.zeros(2)),
    lambda m: m.distributions.Exponential(m.tensor([1.0, -2.0])),
    lambda m: m.distributions.Bernoulli(probs=m.tensor([0.5, 1.5])),
    lambda m: m.distributions.Bernoulli(probs=m.tensor(0.5), logits=m.tensor(0.)),
    lambda m: m.distributions.Categorical(probs=m.tensor([[0.5, -0.1]])),
    lambda m: m.distributions.Categorical(probs=m.tensor(0.5)),
    lambda m: m.distributions.MultivariateNormal(m.zeros(2)),
    lambda m: m.distributions.MultivariateNormal(m.tensor(0.), m.eye(2)),
    lambda m: m.distributions.MultivariateNormal(m.zeros(2), scale_tril=m.tensor([[1., 1.], [0., 1.]])),
    lambda m: m.distributions.Normal(0., 1.).log_prob(m.zeros(1)[0].tolist()),
    lambda m: m.distributions.Normal(m.zeros(2), 1.).log_prob(m.zeros(3)),
    lambda m: m.distributions.MultivariateNormal(m.zeros(2), m.eye(2)).log_prob(m.zeros(3)),
    lambda m: m.distributions.Exponential(1.).log_prob(m.tensor(-1.)),
    lambda m: m.distributions.Bernoulli(0.3).log_prob(m.tensor(0.5)),
    lambda m: m.distributions.Categorical(m.ones(3)).log_prob(m.tensor(3)),
    lambda m: m.distributions.Uniform(0., 1.).log_prob(m.tensor(2.)),
    lambda m: m.distributions.Distribution.set_default_validate_args(3),
])
def test_validation_errors(fn):
    _same_value_error(fn)


def test_validate_args_off():
    for lib in (ember, torch):
        d = lib.distributions.Normal(lib.zeros(2), -lib.ones(2), validate_args=False)  # no error
        assert np.isnan(d.log_prob(lib.zeros(2)).tolist()).all()
        lib.distributions.Distribution.set_default_validate_args(False)
        try:
            lib.distributions.Exponential(lib.tensor(-1.0)).log_prob(lib.tensor(-1.0))  # no error
        finally:
            lib.distributions.Distribution.set_default_validate_args(True)
        with pytest.raises(ValueError):
            lib.distributions.Exponential(lib.tensor(-1.0))


# -- sampling ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(CASES))
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


@pytest.mark.parametrize("name", ["Normal", "Laplace", "Exponential", "Uniform", "Bernoulli_probs",
                                  "Categorical_logits", "OneHotCategorical", "MVN_cov", "Gamma", "Beta"])
def test_sample_moments(name):
    ember.manual_seed(0)
    de, _ = _build(name, ember)
    n = 20000
    s = de.sample((n,)).double()
    mean = de.mean.detach().double() if name != "Categorical_logits" else None
    if name == "Categorical_logits":  # compare frequencies with the probabilities
        freq = np.stack([(s._cpu_array() == k).mean(0) for k in range(5)], -1)
        np.testing.assert_allclose(freq, de.probs.detach()._cpu_array(), atol=0.02)
        return
    se = np.sqrt(de.variance.detach().double()._cpu_array() / n)
    np.testing.assert_array_less(np.abs(s.mean(0)._cpu_array() - mean._cpu_array()), 5 * se + 1e-3)
    var = s.var(0)._cpu_array()
    np.testing.assert_allclose(var, de.variance.detach()._cpu_array(), rtol=0.1)
    if name == "MVN_cov":  # the correlations too
        xc = s - s.mean(0)
        emp = (xc.unsqueeze(-1) * xc.unsqueeze(-2)).mean(0)
        np.testing.assert_allclose(emp._cpu_array(), de.covariance_matrix.detach()._cpu_array(), rtol=0.1,
                                   atol=0.1)


def test_manual_seed_repeats_samples():
    d = ember.distributions.Normal(ember.zeros(3), ember.ones(3))
    ember.manual_seed(5)
    a = d.sample((4,))
    c = ember.distributions.Categorical(logits=ember.zeros(4)).sample((6,))
    ember.manual_seed(5)
    assert ember.equal(a, d.sample((4,)))
    assert ember.equal(c, ember.distributions.Categorical(logits=ember.zeros(4)).sample((6,)))


def test_rsample_gradients_are_reparameterised():
    D = ember.distributions
    loc = ember.tensor([0.5, -1.0], requires_grad=True)
    scale = ember.tensor([2.0, 0.5], requires_grad=True)
    x = D.Normal(loc, scale).rsample((7,))
    x.sum().backward()
    eps = (x.detach() - loc.detach()) / scale.detach()
    assert_close(loc.grad, ember.full((2,), 7.0))
    np.testing.assert_allclose(scale.grad._cpu_array(), eps.sum(0)._cpu_array(), rtol=1e-5)
    # exponential: x = E / rate, so dx/drate = -x / rate
    rate = ember.tensor([0.5, 3.0], requires_grad=True)
    y = D.Exponential(rate).rsample((5,))
    y.sum().backward()
    np.testing.assert_allclose(rate.grad._cpu_array(), (-y.detach() / rate.detach()).sum(0)._cpu_array(),
                               rtol=1e-5)
    # uniform: x = low + u (high - low)
    low, high = ember.tensor(1.0, requires_grad=True), ember.tensor(3.0, requires_grad=True)
    z = D.Uniform(low, high).rsample((6,))
    z.sum().backward()
    u = (z.detach() - 1.0) / 2.0
    np.testing.assert_allclose(high.grad.item(), u.sum().item(), rtol=1e-5)
    np.testing.assert_allclose(low.grad.item(), (1 - u).sum().item(), rtol=1e-5)
    # multivariate normal: x = loc + L eps, dx/dL = eps^T (lower triangle)
    L = ember.tensor([[1.0, 0.0], [0.5, 2.0]], requires_grad=True)
    m = ember.zeros(2, requires_grad=True)
    w = D.MultivariateNormal(m, scale_tril=L).rsample((3,))
    w.sum().backward()
    eps = ember.linalg.solve_triangular(L.detach(), w.detach().T, upper=False).T  # (3, 2)
    expect = np.ones((2, 1)) * eps.sum(0)._cpu_array()[None, :]  # L @ eps reads the whole matrix
    np.testing.assert_allclose(L.grad._cpu_array(), expect, rtol=1e-5, atol=1e-6)
    assert_close(m.grad, ember.full((2,), 3.0))


@pytest.mark.parametrize("name", ["Normal", "Bernoulli_logits", "Categorical_probs", "OneHotCategorical",
                                  "MVN_tril"])
def test_expand(name):
    outs = []
    for lib in (ember, torch):
        d, _ = _build(name, lib)
        big = d.expand((2,) + tuple(d.batch_shape))
        outs.append((tuple(big.batch_shape), tuple(big.event_shape), big.log_prob(lib.tensor(CASES[name][2])),
                     tuple(big.sample().shape)))
    (be, ee, le, se), (bt, et, lt, st) = outs
    assert (be, ee, se) == (bt, et, st)
    assert_close(le, lt, atol=1e-5)


def test_beta_mode_at_the_edges():
    a, b = [0.5, 0.5, 0.7, 2.0, 1.0, 3.0, 0.3], [0.5, 0.7, 0.5, 0.5, 1.0, 2.0, 4.0]
    assert_close(ember.distributions.Beta(ember.tensor(a), ember.tensor(b)).mode,
                 torch.distributions.Beta(torch.tensor(a), torch.tensor(b)).mode)


@pytest.mark.parametrize("name", ["Bernoulli_probs", "Categorical_logits", "OneHotCategorical"])
@pytest.mark.parametrize("expand", [True, False])
def test_enumerate_support(name, expand):
    de, _ = _build(name, ember)
    dt, _ = _build(name, torch)
    assert_close(de.enumerate_support(expand), dt.enumerate_support(expand))


def test_gamma_rsample_gradient_matches_torch_implicit_gradient():
    # d sample / d concentration at a fixed CDF level: compare with PyTorch's formula on Ember's samples
    conc = ember.tensor([0.3, 0.9, 2.5, 8.0], dtype=ember.float64, requires_grad=True)
    rate = ember.tensor([1.0, 2.0, 0.5, 3.0], dtype=ember.float64, requires_grad=True)
    x = ember.distributions.Gamma(conc, rate).rsample((50,))
    x.sum().backward()
    xs = x.detach()._cpu_array()
    tc = torch.tensor(conc.detach()._cpu_array()).expand(50, 4)
    expect = (torch._standard_gamma_grad(tc, torch.tensor(xs * rate.detach()._cpu_array())) /
              torch.tensor(rate.detach()._cpu_array())).sum(0)
    # PyTorch's own gradient is an approximation (about 1e-4 relative); Ember's is numerical-exact
    np.testing.assert_allclose(conc.grad._cpu_array(), expect.numpy(), rtol=2e-3)
    np.testing.assert_allclose(rate.grad._cpu_array(), (-xs / rate.detach()._cpu_array()).sum(0), rtol=1e-10)
    # Beta = X / (X + Y) differentiates through both Gamma draws: the gradient is finite and its mean sign
    # follows d mean / d a > 0
    a = ember.tensor(2.0, requires_grad=True)
    ember.distributions.Beta(a, ember.tensor(3.0)).rsample((2000,)).mean().backward()
    assert 0 < a.grad.item() < 1


def test_gradcheck_log_prob_float64():
    D = ember.distributions
    rng = np.random.default_rng(1)
    loc = ember.tensor(rng.standard_normal(3), requires_grad=True)
    scale = ember.tensor(rng.uniform(0.5, 2, 3), requires_grad=True)
    x = ember.tensor(rng.standard_normal(3), requires_grad=True)
    assert ember.autograd.gradcheck(lambda a, b, v: D.Normal(a, b).log_prob(v), (loc, scale, x))
    assert ember.autograd.gradcheck(lambda a, b, v: D.Laplace(a, b).cdf(v), (loc, scale, x))
    logits = ember.tensor(rng.standard_normal((2, 4)), requires_grad=True)
    assert ember.autograd.gradcheck(lambda lg: D.Categorical(logits=lg).entropy(), (logits,))
    a = rng.standard_normal((3, 3))
    cov = ember.tensor(a @ a.T + 3 * np.eye(3), requires_grad=True)
    mu = ember.tensor(rng.standard_normal(3), requires_grad=True)
    v = ember.tensor(rng.standard_normal((2, 3)))
    assert ember.autograd.gradcheck(lambda c, m: D.MultivariateNormal(m, (c + c.mT) / 2).log_prob(v), (cov, mu))


def test_namespace_is_torchs():
    import types
    public = [n for n in dir(ember.distributions) if not n.startswith("_")]
    leaked = [n for n in public if isinstance(getattr(ember.distributions, n), types.ModuleType)
              and not getattr(ember.distributions, n).__name__.startswith("ember.distributions")]
    assert leaked == []
    assert [n for n in public if not hasattr(torch.distributions, n)] == []
    assert [n for n in dir(ember.distributions.constraints) if not n.startswith("_")
            and not hasattr(torch.distributions.constraints, n)] == []
