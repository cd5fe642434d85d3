"""Rprop and ASGD against PyTorch: 20 steps with the same gradients, state, state_dict round trips, errors."""
from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

import ember
from tests.conftest import assert_close

SHAPES = [(3, 4), (5,), ()]

CASES = [
    ("Rprop", dict()),
    ("Rprop", dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.2))),
    ("Rprop", dict(lr=0.01, maximize=True, foreach=False)),
    ("ASGD", dict()),
    ("ASGD", dict(lr=0.05, lambd=1e-2, alpha=0.5, t0=5, weight_decay=0.1)),
    ("ASGD", dict(lr=0.02, t0=0, maximize=True, foreach=True)),
]
IDS = [f"{n}-{i}" for i, (n, _) in enumerate(CASES)]


def _setup(name, kw, seed=0, dtype=np.float32, shapes=SHAPES):
    rng = np.random.default_rng(seed)
    arrs = [rng.standard_normal(s).astype(dtype) for s in shapes]
    ep = [ember.tensor(a.copy(), requires_grad=True) for a in arrs]
    tp = [torch.tensor(a.copy(), requires_grad=True) for a in arrs]
    return rng, ep, tp, getattr(ember.optim, name)(ep, **kw), getattr(torch.optim, name)(tp, **kw)


def _set_grads(rng, ep, tp, dtype=np.float32, sparse_signs=False):
    for e, t in zip(ep, tp):
        g = rng.standard_normal(t.shape).astype(dtype)
        if sparse_signs:  # zeros exercise Rprop's "factor 1" branch
            g = np.where(rng.random(t.shape) < 0.3, 0, g).astype(dtype)
        e.grad = ember.tensor(g.copy())
        t.grad = torch.tensor(g.copy())


def _state_close(es, ts, rtol=1e-5, atol=1e-6):
    assert list(es.keys()) == list(ts.keys())
    for k in ts:
        assert_close(es[k], ts[k], rtol, atol)
        assert str(es[k].dtype).split(".")[-1] == str(ts[k].dtype).split(".")[-1]


@pytest.mark.parametrize("name,kw", CASES, ids=IDS)
def test_twenty_steps_match_torch(name, kw):
    rng, ep, tp, eo, to = _setup(name, kw)
    for i in range(20):
        _set_grads(rng, ep, tp, sparse_signs=i % 3 == 1)
        eo.step()
        to.step()
        for e, t in zip(ep, tp):
            assert_close(e, t, rtol=1e-5, atol=1e-6)
    for e, t in zip(ep, tp):
        _state_close(eo.state[e], to.state[t])
    assert eo.state_dict()["param_groups"] == to.state_dict()["param_groups"]


@pytest.mark.parametrize("name", ["Rprop", "ASGD"])
def test_float64_and_complex(name):
    kw = dict(lr=0.03, t0=3) if name == "ASGD" else dict(lr=0.03)
    rng, ep, tp, eo, to = _setup(name, kw, dtype=np.float64)
    for _ in range(10):
        _set_grads(rng, ep, tp, np.float64)
        eo.step()
        to.step()
    for e, t in zip(ep, tp):
        assert_close(e, t, rtol=1e-12, atol=1e-12)
    # complex parameters are updated as interleaved real pairs, as in PyTorch
    rng = np.random.default_rng(3)
    z = (rng.standard_normal(4) + 1j * rng.standard_normal(4)).astype(np.complex64)
    e, t = ember.tensor(z.copy(), requires_grad=True), torch.tensor(z.copy(), requires_grad=True)
    eo, to = getattr(ember.optim, name)([e], **kw), getattr(torch.optim, name)([t], **kw)
    for _ in range(6):
        g = (rng.standard_normal(4) + 1j * rng.standard_normal(4)).astype(np.complex64)
        e.grad, t.grad = ember.tensor(g.copy()), torch.tensor(g.copy())
        eo.step()
        to.step()
    np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=1e-5, atol=1e-6)
    for k, v in to.state[t].items():
        np.testing.assert_allclose(eo.state[e][k].numpy(), v.numpy(), rtol=1e-5, atol=1e-6)


def _torch_sd_to_ember(sd):
    def conv(v):
        if isinstance(v, torch.Tensor):
            return ember.tensor(v.detach().numpy().copy())
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items()}
        return v
    return {"state": conv(sd["state"]), "param_groups": copy.deepcopy(sd["param_groups"])}


def _ember_sd_to_torch(sd):
    def conv(v):
        if isinstance(v, ember.Tensor):
            return torch.tensor(v.numpy().copy())
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items()}
        return v
    return {"state": conv(sd["state"]), "param_groups": copy.deepcopy(sd["param_groups"])}


@pytest.mark.parametrize("name,kw", [CASES[1], CASES[4]], ids=["Rprop", "ASGD"])
def test_state_dict_round_trip_with_torch(name, kw):
    rng, ep, tp, eo, to = _setup(name, kw)
    for _ in range(7):
        _set_grads(rng, ep, tp)
        eo.step()
        to.step()
    esd, tsd = eo.state_dict(), to.state_dict()
    assert esd["param_groups"] == tsd["param_groups"]
    assert list(esd["state"]) == list(tsd["state"])
    for i in tsd["state"]:
        _state_close(esd["state"][i], tsd["state"][i])
    # torch's dict into a fresh Ember optimizer, Ember's dict into a fresh torch optimizer: both go on alike
    ep2 = [ember.tensor(t.detach().numpy().copy(), requires_grad=True) for t in tp]
    tp2 = [torch.tensor(e.detach().numpy().copy(), requires_grad=True) for e in ep]
    eo2, to2 = getattr(ember.optim, name)(ep2, **kw), getattr(torch.optim, name)(tp2, **kw)
    eo2.load_state_dict(_torch_sd_to_ember(tsd))
    to2.load_state_dict(_ember_sd_to_torch(esd))
    for _ in range(5):
        for e, t, e2, t2 in zip(ep, tp, ep2, tp2):
            g = rng.standard_normal(t.shape).astype(np.float32)
            e.grad, e2.grad, t.grad, t2.grad = ember.tensor(g), ember.tensor(g), torch.tensor(g), torch.tensor(g)
        for o in (eo, to, eo2, to2):
            o.step()
    for e, t, e2, t2 in zip(ep, tp, ep2, tp2):
        assert_close(e2, t, rtol=1e-5, atol=1e-6)
        assert_close(e, t2, rtol=1e-5, atol=1e-6)
        _state_close(eo2.state[e2], to.state[t])


def _raises_like(efn, tfn, cls):
    with pytest.raises(cls) as te:
        tfn()
    with pytest.raises(cls) as ee:
        efn()
    assert str(ee.value) == str(te.value)


def test_errors_match_torch():
    e = [ember.tensor(np.ones(2, np.float32), requires_grad=True)]
    t = [torch.ones(2, requires_grad=True)]
    for kw in (dict(lr=-1.0), dict(etas=(1.0, 1.2)), dict(etas=(0.5, 0.9)), dict(etas=(0.0, 1.2))):
        _raises_like(lambda: ember.optim.Rprop(e, **kw), lambda: torch.optim.Rprop(t, **kw), ValueError)
    for kw in (dict(lr=-0.1), dict(weight_decay=-1.0)):
        _raises_like(lambda: ember.optim.ASGD(e, **kw), lambda: torch.optim.ASGD(t, **kw), ValueError)
    with pytest.raises(NotImplementedError):
        ember.optim.Rprop(e, differentiable=True)
    opt = ember.optim.ASGD(e)
    assert opt.defaults["t0"] == 1e6 and torch.optim.ASGD(t).defaults == opt.defaults
    assert torch.optim.Rprop(t).defaults == ember.optim.Rprop(e).defaults


def test_version_and_skipped_params():
    a = ember.tensor(np.ones(3, np.float32), requires_grad=True)
    b = ember.tensor(np.ones(3, np.float32), requires_grad=True)
    a.grad = ember.tensor(np.full(3, 0.5, np.float32))
    v = a._version
    for name in ("Rprop", "ASGD"):
        opt = getattr(ember.optim, name)([a, b])
        opt.step()
        assert b not in opt.state and len(opt.state[a]) > 0
    assert a._version > v
    np.testing.assert_array_equal(b.detach().numpy(), np.ones(3, np.float32))
