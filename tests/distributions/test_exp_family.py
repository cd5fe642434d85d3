"""Class structure parity with torch.distributions, and the ExponentialFamily machinery.

Every family that both libraries have must sit under the same distribution base classes (so that
``isinstance(d, ExponentialFamily)`` / ``TransformedDistribution`` answers as in PyTorch). For the
exponential families, the natural parameters and log-normaliser are compared with torch's, and the
generic Bregman forms (``ExponentialFamily.entropy`` and the ExponentialFamily KL) are checked against
the closed forms of both libraries, in value and gradient (float64: the Bregman forms go through a
second-order autograd pass, so float32 round-off would dominate the comparison)."""
from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch

import ember
from conftest import assert_close

RNG = np.random.default_rng(5)


def _dist_bases(cls, lib):
    """The Distribution classes in ``cls``'s MRO (private mixins left out)."""
    return [b.__name__ for b in cls.__mro__ if issubclass(b, lib.distributions.Distribution)]


def _shared_families():
    out = []
    for name in torch.distributions.__all__:
        tc = getattr(torch.distributions, name)
        if inspect.isclass(tc) and issubclass(tc, torch.distributions.Distribution):
            ec = getattr(ember.distributions, name, None)
            if ec is not None:
                out.append(name)
    return out


@pytest.mark.parametrize("name", _shared_families())
def test_class_hierarchy_matches_torch(name):
    tc = getattr(torch.distributions, name)
    ec = getattr(ember.distributions, name)
    assert _dist_bases(ec, ember) == _dist_bases(tc, torch)


def test_exponential_family_members_match_torch():
    names = _shared_families()
    t_ef = {n for n in names if issubclass(getattr(torch.distributions, n), torch.distributions.ExponentialFamily)}
    e_ef = {n for n in names if issubclass(getattr(ember.distributions, n), ember.distributions.ExponentialFamily)}
    assert e_ef == t_ef
    assert {"Normal", "Exponential", "Gamma", "Beta", "Bernoulli", "Poisson", "Dirichlet"} <= e_ef


def _pos(shape, lo=0.5, hi=2.5):
    return RNG.uniform(lo, hi, shape)


def _params(name):
    """Parameter arrays (float64) of two instances of family ``name``."""
    s = (2, 3)
    if name == "Normal":
        return [(RNG.standard_normal(s), _pos(s)) for _ in range(2)]
    if name == "Exponential":
        return [(_pos(s),) for _ in range(2)]
    if name in ("Gamma", "Beta"):
        return [(_pos(s), _pos(s)) for _ in range(2)]
    if name == "Chi2":
        return [(_pos(s, 1.0, 4.0),) for _ in range(2)]
    if name == "Bernoulli":
        return [(_pos(s, 0.1, 0.9),) for _ in range(2)]
    if name == "Poisson":
        return [(_pos(s),) for _ in range(2)]
    if name == "Dirichlet":
        return [(_pos((2, 4)),) for _ in range(2)]
    if name == "ContinuousBernoulli":
        return [(_pos(s, 0.1, 0.9),) for _ in range(2)]
    raise AssertionError(name)


def _make(name, arrays):
    e_args = [ember.tensor(a, requires_grad=True) for a in arrays]
    t_args = [torch.tensor(a, requires_grad=True) for a in arrays]
    return (getattr(ember.distributions, name)(*e_args), e_args,
            getattr(torch.distributions, name)(*t_args), t_args)


_EF = ["Normal", "Exponential", "Gamma", "Chi2", "Beta", "Bernoulli", "Poisson", "Dirichlet", "ContinuousBernoulli"]
# torch defines _mean_carrier_measure (so the generic entropy works) for these
_WITH_CARRIER = ["Normal", "Exponential", "Gamma", "Chi2", "Bernoulli", "ContinuousBernoulli"]


@pytest.mark.parametrize("name", _EF)
def test_natural_params_and_log_normalizer_match_torch(name):
    (pa, _) = _params(name)
    ed, e_args, td, t_args = _make(name, pa)
    e_nat, t_nat = ed._natural_params, td._natural_params
    assert len(e_nat) == len(t_nat)
    for e, t in zip(e_nat, t_nat):
        assert_close(e, t, rtol=1e-12, atol=1e-12)
    e_ln, t_ln = ed._log_normalizer(*e_nat), td._log_normalizer(*t_nat)
    assert_close(e_ln, t_ln, rtol=1e-10, atol=1e-12)
    e_ln.sum().backward()
    t_ln.sum().backward()
    for e, t in zip(e_args, t_args):
        assert_close(e.grad, t.grad, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", _WITH_CARRIER)
def test_bregman_entropy_matches_closed_form(name):
    (pa, _) = _params(name)
    ed, e_args, td, t_args = _make(name, pa)
    generic = ember.distributions.ExponentialFamily.entropy(ed)
    assert_close(generic, ed.entropy().detach().numpy(), rtol=1e-8, atol=1e-10)
    t_generic = torch.distributions.ExponentialFamily.entropy(td)
    assert_close(generic, t_generic, rtol=1e-8, atol=1e-10)
    generic.sum().backward()
    t_generic.sum().backward()
    for e, t in zip(e_args, t_args):
        assert_close(e.grad, t.grad, rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize("name", _EF)
def test_bregman_kl_matches_closed_form(name):
    from ember.distributions._kl_more import _kl_expfamily_expfamily
    pa, qa = _params(name)
    ep, _, tp, _ = _make(name, pa)
    eq, eq_args, tq, tq_args = _make(name, qa)
    generic = _kl_expfamily_expfamily(ep, eq)
    closed = ember.distributions.kl_divergence(ep, eq)
    t_closed = torch.distributions.kl_divergence(tp, tq)
    assert_close(generic, closed.detach().numpy(), rtol=1e-8, atol=1e-10)
    assert_close(generic, t_closed, rtol=1e-8, atol=1e-10)
    # the Bregman form treats p's natural parameters as constants (as PyTorch's does): compare q's grads
    generic.sum().backward()
    t_closed.sum().backward()
    for e, t in zip(eq_args, tq_args):
        assert_close(e.grad, t.grad, rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize("lib", [ember, torch])
def test_kl_between_unregistered_families_raises(lib):
    # no closed form is registered for (Normal, Poisson): the ExponentialFamily fallback refuses it
    p = lib.distributions.Normal(lib.zeros(2), lib.ones(2))
    q = lib.distributions.Poisson(lib.ones(2))
    with pytest.raises(NotImplementedError):
        lib.distributions.kl_divergence(p, q)
