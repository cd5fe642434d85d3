"""Optimizer state_dict: PyTorch's layout, round trips, loading PyTorch's dicts, bad dicts."""
from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

import ember
from tests.conftest import assert_close

NAMES = [("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(lr=0.01, amsgrad=True)), ("AdamW", dict(lr=0.01)),
         ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5)), ("Adagrad", dict(lr=0.1, lr_decay=0.01)),
         ("Adadelta", dict()), ("Adamax", dict(lr=0.01)), ("NAdam", dict(lr=0.01)), ("RAdam", dict(lr=0.01))]
SHAPES = [(3, 2), (4,)]


def _params(seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(np.float32) for s in SHAPES]


def _grads(n, seed=1):
    rng = np.random.default_rng(seed)
    return [[rng.standard_normal(s).astype(np.float32) for s in SHAPES] for _ in range(n)]


def _run(opt, params, grads):
    for gs in grads:
        for p, g in zip(params, gs):
            p.grad = ember.tensor(g.copy()) if isinstance(p, ember.Tensor) else torch.tensor(g.copy())
        opt.step()


def _torch_sd_to_ember(sd):
    """PyTorch optimizer state dict -> the same dict with NumPy arrays turned into Ember tensors."""
    def conv(v):
        if isinstance(v, torch.Tensor):
            return ember.tensor(v.detach().numpy().copy())
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items()}
        if isinstance(v, list):
            return [conv(x) for x in v]
        return v
    return {"state": conv(sd["state"]), "param_groups": copy.deepcopy(sd["param_groups"])}


@pytest.mark.parametrize("name,kw", NAMES, ids=[n for n, _ in NAMES])
def test_state_dict_layout_matches_torch(name, kw):
    arrs, grads = _params(), _grads(3)
    ep = [ember.tensor(a.copy(), requires_grad=True) for a in arrs]
    tp = [torch.tensor(a.copy(), requires_grad=True) for a in arrs]
    eo, to = getattr(ember.optim, name)(ep, **kw), getattr(torch.optim, name)(tp, **kw)
    _run(eo, ep, grads)
    _run(to, tp, grads)
    esd, tsd = eo.state_dict(), to.state_dict()
    assert esd["param_groups"] == tsd["param_groups"]
    assert list(esd["state"]) == list(tsd["state"])
    for i in tsd["state"]:
        assert list(esd["state"][i]) == list(tsd["state"][i])
        for k, tv in tsd["state"][i].items():
            ev = esd["state"][i][k]
            assert isinstance(ev, ember.Tensor)
            assert_close(ev, tv)  # dtype included: step is a 0-d float32 tensor


@pytest.mark.parametrize("name,kw", NAMES, ids=[n for n, _ in NAMES])
def test_round_trip_continues_like_uninterrupted_run(name, kw):
    arrs, grads = _params(), _grads(10)
    ref = [ember.tensor(a.copy(), requires_grad=True) for a in arrs]
    ref_opt = getattr(ember.optim, name)(ref, **kw)
    _run(ref_opt, ref, grads)

    ps = [ember.tensor(a.copy(), requires_grad=True) for a in arrs]
    opt = getattr(ember.optim, name)(ps, **kw)
    _run(opt, ps, grads[:5])
    sd = opt.state_dict()
    ps2 = [ember.tensor(p.detach().numpy().copy(), requires_grad=True) for p in ps]
    opt2 = getattr(ember.optim, name)(ps2, lr=123.0)  # options come from the state dict
    opt2.load_state_dict(sd)
    assert opt2.param_groups[0]["lr"] == kw.get("lr", opt.param_groups[0]["lr"])
    _run(opt2, ps2, grads[5:])
    for a, b in zip(ps2, ref):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    # loading copied the state: stepping the new optimizer did not touch the old one's buffers
    if "step" in opt.state[ps[0]]:
        assert float(opt.state[ps[0]]["step"]) == 5.0


@pytest.mark.parametrize("name,kw", NAMES, ids=[n for n, _ in NAMES])
def test_torch_state_dict_loads_and_continues(name, kw):
    arrs, grads = _params(), _grads(10)
    tp = [torch.tensor(a.copy(), requires_grad=True) for a in arrs]
    to = getattr(torch.optim, name)(tp, **kw)
    _run(to, tp, grads[:5])
    ep = [ember.tensor(p.detach().numpy().copy(), requires_grad=True) for p in tp]
    eo = getattr(ember.optim, name)(ep, **kw)
    eo.load_state_dict(_torch_sd_to_ember(to.state_dict()))
    assert eo.state[ep[0]].keys() == to.state[tp[0]].keys()
    _run(to, tp, grads[5:])
    _run(eo, ep, grads[5:])
    for e, t in zip(ep, tp):
        assert_close(e, t)
    # and back: Ember's dict, converted to torch tensors, loads into torch
    back = {"state": {i: {k: torch.tensor(np.asarray(v._data)) for k, v in s.items()}
                      for i, s in eo.state_dict()["state"].items()},
            "param_groups": eo.state_dict()["param_groups"]}
    tp2 = [torch.tensor(p.detach().numpy().copy(), requires_grad=True) for p in ep]
    to2 = getattr(torch.optim, name)(tp2, **kw)
    to2.load_state_dict(back)
    _run(to2, tp2, grads[:2])
    _run(eo, ep, grads[:2])
    for e, t in zip(ep, tp2):
        assert_close(e, t)


def test_lbfgs_state_round_trip_from_torch():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((5, 3)).astype(np.float32)
    x0 = rng.standard_normal(3).astype(np.float32)
    t = torch.tensor(x0.copy(), requires_grad=True)
    tA = torch.tensor(A)
    to = torch.optim.LBFGS([t], max_iter=3)

    def tclosure():
        to.zero_grad()
        loss = (tA @ t).pow(2).sum() + t.pow(4).sum()
        loss.backward()
        return loss

    to.step(tclosure)
    e = ember.tensor(t.detach().numpy().copy(), requires_grad=True)
    eA = ember.tensor(A)
    eo = ember.optim.LBFGS([e], max_iter=3)
    eo.load_state_dict(_torch_sd_to_ember(to.state_dict()))

    def eclosure():
        eo.zero_grad()
        loss = ((eA @ e) ** 2).sum() + (e ** 4).sum()
        loss.backward()
        return loss

    to.step(tclosure)
    eo.step(eclosure)
    assert_close(e, t, rtol=1e-4, atol=1e-5)
    assert eo.state[e]["n_iter"] == to.state[t]["n_iter"]


def test_bad_state_dict_raises_and_changes_nothing():
    a, b = _params()
    ps = [ember.tensor(a, requires_grad=True), ember.tensor(b, requires_grad=True)]
    opt = ember.optim.Adam(ps, lr=0.01)
    _run(opt, ps, _grads(2))
    before = {k: v._data.copy() for k, v in opt.state[ps[0]].items()}
    groups_before = copy.deepcopy([{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups])

    other = ember.optim.Adam([{"params": [ps[0]]}, {"params": [ps[1]]}], lr=0.5)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        opt.load_state_dict(other.state_dict())
    single = ember.optim.Adam([ps[0]], lr=0.5)
    with pytest.raises(ValueError, match="doesn't match the size"):
        opt.load_state_dict(single.state_dict())
    # PyTorch raises the same class for the same dicts
    tps = [torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)]
    with pytest.raises(ValueError):
        torch.optim.Adam(tps).load_state_dict(torch.optim.Adam([tps[0]]).state_dict())

    assert [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups] == groups_before
    for k, v in opt.state[ps[0]].items():
        np.testing.assert_array_equal(v._data, before[k])


def test_state_cast_to_param_dtype_except_step():
    p = ember.tensor(np.ones(3, np.float64), requires_grad=True)
    opt = ember.optim.Adam([p])
    sd = {"state": {0: {"step": ember.tensor(np.array(2.0, np.float32)),
                        "exp_avg": ember.tensor(np.ones(3, np.float32)),
                        "exp_avg_sq": ember.tensor(np.ones(3, np.float32))}},
          "param_groups": opt.state_dict()["param_groups"]}
    opt.load_state_dict(sd)
    assert opt.state[p]["exp_avg"].dtype == ember.float64
    assert opt.state[p]["step"].dtype == ember.float32
