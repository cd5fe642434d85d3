"""Adafactor and Muon against PyTorch: 20 steps from the same params and gradients, state layout, state_dict
round trips both ways, constructor checks."""
from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

import ember
from tests.conftest import assert_close

ADAFACTOR_SHAPES = [(3, 4), (2, 3, 5), (5,), ()]
MUON_SHAPES = [(4, 6), (7, 3), (5, 5)]

CASES = [
    ("Adafactor", ADAFACTOR_SHAPES, dict()),
    ("Adafactor", ADAFACTOR_SHAPES, dict(lr=0.05, weight_decay=0.1)),
    ("Adafactor", ADAFACTOR_SHAPES, dict(lr=0.3, beta2_decay=-0.5, eps=(1e-6, 1e-2), d=1.5, maximize=True)),
    ("Adafactor", ADAFACTOR_SHAPES, dict(lr=0.01, foreach=True)),
    ("Muon", MUON_SHAPES, dict(lr=0.02)),
    ("Muon", MUON_SHAPES, dict(lr=0.02, weight_decay=0.0, momentum=0.9, nesterov=False)),
    ("Muon", MUON_SHAPES, dict(lr=0.01, adjust_lr_fn="match_rms_adamw", ns_steps=3)),
    ("Muon", MUON_SHAPES, dict(lr=0.01, ns_coefficients=(2.0, -1.5, 0.5), eps=1e-5, adjust_lr_fn="original")),
]
IDS = [f"{n}-{i}" for i, (n, _, _) in enumerate(CASES)]


def _arrays(shapes, seed):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(np.float32) for s in shapes]


def _make(name, shapes, kw, arrs=None):
    arrs = _arrays(shapes, 0) if arrs is None else arrs
    ep = [ember.tensor(a.copy(), requires_grad=True) for a in arrs]
    tp = [torch.tensor(a.copy(), requires_grad=True) for a in arrs]
    return ep, tp, getattr(ember.optim, name)(ep, **kw), getattr(torch.optim, name)(tp, **kw)


def _run(opt, params, grads):
    for gs in grads:
        for p, g in zip(params, gs):
            p.grad = ember.tensor(g.copy()) if isinstance(p, ember.Tensor) else torch.tensor(g.copy())
        opt.step()


def _grads(shapes, n, seed=1):
    return [_arrays(shapes, seed * 1000 + i) for i in range(n)]


def _state_close(es, ts):
    assert list(es) == list(ts)
    for k, tv in ts.items():
        assert isinstance(es[k], ember.Tensor)
        assert_close(es[k], tv)   # dtype too: step is a 0-d float32 tensor


@pytest.mark.parametrize("name,shapes,kw", CASES, ids=IDS)
def test_twenty_steps_match_torch(name, shapes, kw):
    ep, tp, eo, to = _make(name, shapes, kw)
    for gs in _grads(shapes, 20):
        _run(eo, ep, [gs])
        _run(to, tp, [gs])
        for e, t in zip(ep, tp):
            assert_close(e, t)
    for e, t in zip(ep, tp):
        _state_close(eo.state[e], to.state[t])


def test_muon_orthogonalises_in_bfloat16_exactly_like_torch():
    """The Newton-Schulz output itself (Ember emulates bfloat16 rounding): bit-identical to PyTorch's."""
    from torch.optim._muon import _zeropower_via_newtonschulz

    from ember.optim.muon import _newton_schulz
    for shape in [(4, 6), (9, 5), (16, 16)]:
        g = np.random.default_rng(sum(shape)).standard_normal(shape).astype(np.float32)
        ours = _newton_schulz(np, g, (3.4445, -4.775, 2.0315), 5, 1e-7)
        ref = _zeropower_via_newtonschulz(torch.tensor(g), (3.4445, -4.775, 2.0315), 5, 1e-7)
        np.testing.assert_array_equal(ours, ref.float().numpy())
        s = np.linalg.svd(ours.astype(np.float64), compute_uv=False)   # singular values pushed near 1
        assert np.all((s > 0.5) & (s < 1.5))


@pytest.mark.parametrize("name,shapes,kw", [CASES[1], CASES[4]], ids=["Adafactor", "Muon"])
def test_state_dict_layout_matches_torch(name, shapes, kw):
    ep, tp, eo, to = _make(name, shapes, kw)
    grads = _grads(shapes, 3)
    _run(eo, ep, grads)
    _run(to, tp, grads)
    esd, tsd = eo.state_dict(), to.state_dict()
    assert esd["param_groups"] == tsd["param_groups"]
    assert list(esd["state"]) == list(tsd["state"])
    for i in tsd["state"]:
        _state_close(esd["state"][i], tsd["state"][i])


def _to_ember_sd(sd):
    state = {i: {k: ember.tensor(v.detach().numpy().copy()) for k, v in s.items()} for i, s in sd["state"].items()}
    return {"state": state, "param_groups": copy.deepcopy(sd["param_groups"])}


def _to_torch_sd(sd):
    state = {i: {k: torch.tensor(np.asarray(v._data).copy()) for k, v in s.items()} for i, s in sd["state"].items()}
    return {"state": state, "param_groups": copy.deepcopy(sd["param_groups"])}


@pytest.mark.parametrize("name,shapes,kw", [CASES[2], CASES[5]], ids=["Adafactor", "Muon"])
def test_state_dict_round_trips_both_ways(name, shapes, kw):
    grads = _grads(shapes, 12)
    ep, tp, eo, to = _make(name, shapes, kw)
    _run(to, tp, grads[:5])
    # torch -> Ember: continue 5 steps in both
    ep = [ember.tensor(t.detach().numpy().copy(), requires_grad=True) for t in tp]
    eo = getattr(ember.optim, name)(ep, lr=123.0)   # options come from the state dict
    eo.load_state_dict(_to_ember_sd(to.state_dict()))
    assert eo.param_groups[0]["lr"] == to.param_groups[0]["lr"]
    _run(eo, ep, grads[5:10])
    _run(to, tp, grads[5:10])
    for e, t in zip(ep, tp):
        assert_close(e, t)
    # Ember -> torch: a fresh torch optimizer continues from Ember's dict
    tp2 = [torch.tensor(e.detach().numpy().copy(), requires_grad=True) for e in ep]
    to2 = getattr(torch.optim, name)(tp2, lr=123.0)
    to2.load_state_dict(_to_torch_sd(eo.state_dict()))
    _run(to2, tp2, grads[10:])
    _run(eo, ep, grads[10:])
    for e, t in zip(ep, tp2):
        assert_close(e, t)
    for e, t in zip(ep, tp2):
        _state_close(eo.state[e], to2.state[t])


def test_params_without_grad_are_skipped_and_get_no_state():
    ep, tp, eo, to = _make("Adafactor", [(3, 4), (5,)], dict(lr=0.1))
    g = _arrays([(3, 4)], 7)[0]
    ep[0].grad, tp[0].grad = ember.tensor(g), torch.tensor(g)
    eo.step()
    to.step()
    assert_close(ep[0], tp[0])
    assert len(eo.state) == len(to.state) == 1


BAD = [
    ("Adafactor", dict(lr=-1.0)), ("Adafactor", dict(beta2_decay=0.5)), ("Adafactor", dict(eps=(-1.0, 1e-3))),
    ("Adafactor", dict(eps=(None, -1.0))), ("Adafactor", dict(d=0.5)), ("Adafactor", dict(weight_decay=-0.1)),
    ("Muon", dict(lr=-1.0)), ("Muon", dict(momentum=-0.1)), ("Muon", dict(weight_decay=-1.0)),
    ("Muon", dict(adjust_lr_fn="sqrt")),
]


@pytest.mark.parametrize("name,kw", BAD, ids=[f"{n}-{list(k)[0]}" for n, k in BAD])
def test_bad_options_raise_like_torch(name, kw):
    a = np.zeros((2, 3), np.float32)
    with pytest.raises(ValueError) as te:
        getattr(torch.optim, name)([torch.tensor(a, requires_grad=True)], **kw)
    with pytest.raises(ValueError) as ee:
        getattr(ember.optim, name)([ember.tensor(a, requires_grad=True)], **kw)
    assert str(ee.value) == str(te.value)


def test_muon_refuses_non_2d_params_like_torch():
    with pytest.raises(ValueError) as te:
        torch.optim.Muon([torch.zeros(3, requires_grad=True)])
    with pytest.raises(ValueError) as ee:
        ember.optim.Muon([ember.zeros(3, requires_grad=True)])
    assert str(ee.value) == str(te.value)


def test_defaults_match_torch():
    import inspect
    for name in ("Adafactor", "Muon"):
        es = inspect.signature(getattr(ember.optim, name).__init__).parameters
        ts = inspect.signature(getattr(torch.optim, name).__init__).parameters
        assert list(es) == list(ts)
        assert [p.default for p in es.values()] == [p.default for p in ts.values()]
        assert [p.kind for p in es.values()] == [p.kind for p in ts.values()]


@pytest.mark.parametrize("name,shapes,kw", [CASES[1], CASES[4]], ids=["Adafactor", "Muon"])
def test_float64_params_match_torch(name, shapes, kw):
    arrs = [a.astype(np.float64) for a in _arrays(shapes, 0)]
    ep, tp, eo, to = _make(name, shapes, kw, arrs)
    for gs in _grads(shapes, 5):
        _run(eo, ep, [[g.astype(np.float64) for g in gs]])
        _run(to, tp, [[g.astype(np.float64) for g in gs]])
    for e, t in zip(ep, tp):
        assert_close(e, t, rtol=1e-12, atol=1e-12)
        _state_close(eo.state[e], to.state[t])


def test_adafactor_tensor_lr_and_closure():
    arrs = _arrays([(3, 4)], 3)
    ep, tp = ember.tensor(arrs[0].copy(), requires_grad=True), torch.tensor(arrs[0].copy(), requires_grad=True)
    eo = ember.optim.Adafactor([ep], lr=ember.tensor(0.05))
    to = torch.optim.Adafactor([tp], lr=torch.tensor(0.05))
    for _ in range(3):
        def eclosure():
            eo.zero_grad()
            loss = (ep * ep).sum()
            loss.backward()
            return loss
        def tclosure():
            to.zero_grad()
            loss = (tp * tp).sum()
            loss.backward()
            return loss
        assert_close(eo.step(eclosure), to.step(tclosure))
    assert_close(ep, tp)
