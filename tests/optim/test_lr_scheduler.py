"""lr schedulers against PyTorch: same optimizer + scheduler in both, every step's lr compared."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import ember

E, T = ember.optim, torch.optim


def _opts(lib, opt="SGD", groups=2, **kw):
    ps = [lib.tensor(np.ones(2, np.float32), requires_grad=True) for _ in range(groups)]
    pg = [{"params": [p], "lr": 0.1 * (i + 1)} for i, p in enumerate(ps)]
    return getattr(lib.optim, opt)(pg, **kw)


SCHEDS = {
    "LambdaLR": (dict(lr_lambda=lambda e: 0.95 ** e), "SGD"),
    "MultiplicativeLR": (dict(lr_lambda=lambda e: 0.9 if e % 2 else 1.01), "SGD"),
    "StepLR": (dict(step_size=7, gamma=0.5), "SGD"),
    "MultiStepLR": (dict(milestones=[5, 12, 12, 30], gamma=0.3), "SGD"),
    "ConstantLR": (dict(factor=0.25, total_iters=8), "SGD"),
    "LinearLR": (dict(start_factor=0.2, end_factor=0.9, total_iters=17), "SGD"),
    "ExponentialLR": (dict(gamma=0.93), "SGD"),
    "PolynomialLR": (dict(total_iters=25, power=2.0), "SGD"),
    "CosineAnnealingLR": (dict(T_max=11, eta_min=0.001), "SGD"),
    "CosineAnnealingWarmRestarts": (dict(T_0=5, T_mult=2, eta_min=0.01), "SGD"),
    "CyclicLR": (dict(base_lr=0.01, max_lr=0.1, step_size_up=4, step_size_down=6, mode="triangular2"), "SGD"),
    "CyclicLR-exp": (dict(base_lr=[0.01, 0.02], max_lr=0.2, step_size_up=5, mode="exp_range", gamma=0.97), "Adam"),
    "OneCycleLR": (dict(max_lr=[0.5, 1.0], total_steps=50), "SGD"),
    "OneCycleLR-3": (dict(max_lr=0.3, total_steps=45, three_phase=True, anneal_strategy="linear"), "Adam"),
}


def _groups_equal(eo, to):
    for eg, tg in zip(eo.param_groups, to.param_groups):
        assert eg["lr"] == tg["lr"]
        for key in ("momentum", "betas"):
            if key in tg:
                assert eg[key] == tg[key]


@pytest.mark.parametrize("key", list(SCHEDS))
def test_sequence_matches_torch(key):
    kw, opt = SCHEDS[key]
    name = key.split("-")[0]
    opt_kw = dict(momentum=0.9) if opt == "SGD" else {}
    eo, to = _opts(ember, opt, **opt_kw), _opts(torch, opt, **opt_kw)
    es, ts = getattr(E.lr_scheduler, name)(eo, **kw), getattr(T.lr_scheduler, name)(to, **kw)
    assert es.get_last_lr() == ts.get_last_lr()
    for _ in range(45):
        eo.step()
        to.step()
        es.step()
        ts.step()
        assert es.get_last_lr() == ts.get_last_lr()  # exact: the same float recurrences
        assert es.last_epoch == ts.last_epoch
        _groups_equal(eo, to)


def test_reduce_lr_on_plateau():
    eo, to = _opts(ember), _opts(torch)
    kw = dict(mode="min", factor=0.5, patience=2, threshold=0.01, cooldown=1, min_lr=[0.01, 0.0])
    es, ts = E.lr_scheduler.ReduceLROnPlateau(eo, **kw), T.lr_scheduler.ReduceLROnPlateau(to, **kw)
    metrics = [1.0, 0.9, 0.95, 0.92, 0.91, 0.91, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6]
    for m in metrics + metrics[::-1]:
        es.step(m)
        ts.step(m)
        assert es.get_last_lr() == ts.get_last_lr()
        assert es.num_bad_epochs == ts.num_bad_epochs and es.best == ts.best
    for mode, tmode in (("max", "abs"), ("min", "abs"), ("max", "rel")):
        eo, to = _opts(ember), _opts(torch)
        es = E.lr_scheduler.ReduceLROnPlateau(eo, mode=mode, threshold_mode=tmode, patience=1)
        ts = T.lr_scheduler.ReduceLROnPlateau(to, mode=mode, threshold_mode=tmode, patience=1)
        for m in metrics:
            es.step(m)
            ts.step(m)
            assert es.get_last_lr() == ts.get_last_lr()


def test_sequential_and_chained():
    def build(lib):
        o = _opts(lib)
        s1 = lib.optim.lr_scheduler.LinearLR(o, start_factor=0.1, total_iters=5)
        s2 = lib.optim.lr_scheduler.CosineAnnealingLR(o, T_max=20, eta_min=0.001)
        s3 = lib.optim.lr_scheduler.StepLR(o, step_size=4, gamma=0.5)
        seq = lib.optim.lr_scheduler.SequentialLR(o, [s1, s2, s3], milestones=[6, 20])
        o2 = _opts(lib)
        c1 = lib.optim.lr_scheduler.ConstantLR(o2, factor=0.5, total_iters=4)
        c2 = lib.optim.lr_scheduler.ExponentialLR(o2, gamma=0.9)
        chain = lib.optim.lr_scheduler.ChainedScheduler([c1, c2])
        return o, seq, o2, chain

    eo, es, eo2, ec = build(ember)
    to, ts, to2, tc = build(torch)
    assert es.get_last_lr() == ts.get_last_lr() and ec.get_last_lr() == tc.get_last_lr()
    for _ in range(40):
        for o in (eo, to, eo2, to2):
            o.step()
        for s in (es, ts, ec, tc):
            s.step()
        assert es.get_last_lr() == ts.get_last_lr()
        assert ec.get_last_lr() == tc.get_last_lr()
        _groups_equal(eo, to)
        _groups_equal(eo2, to2)


@pytest.mark.parametrize("key", ["StepLR", "CosineAnnealingLR", "OneCycleLR", "CyclicLR", "MultiStepLR"])
def test_scheduler_state_dict_resume(key):
    kw, opt = SCHEDS[key]
    name = key.split("-")[0]
    o = _opts(ember, opt, momentum=0.9)
    s = getattr(E.lr_scheduler, name)(o, **kw)
    for _ in range(10):
        o.step()
        s.step()
    sd, osd = s.state_dict(), o.state_dict()
    assert "optimizer" not in sd and sd["last_epoch"] == 10
    # torch's state dict for the same run has the same keys and values
    to = _opts(torch, opt, momentum=0.9)
    ts = getattr(T.lr_scheduler, name)(to, **kw)
    for _ in range(10):
        to.step()
        ts.step()
    tsd = ts.state_dict()
    assert set(sd) == set(tsd)
    for k in ("last_epoch", "base_lrs", "_last_lr", "_step_count"):
        assert sd[k] == tsd[k]

    o2 = _opts(ember, opt, momentum=0.9)
    o2.load_state_dict(osd)
    s2 = getattr(E.lr_scheduler, name)(o2, **kw)
    s2.load_state_dict(sd)
    for _ in range(10):
        o.step()
        o2.step()
        s.step()
        s2.step()
        assert s.get_last_lr() == s2.get_last_lr()


def test_step_with_epoch_uses_closed_form_and_warns():
    eo, to = _opts(ember), _opts(torch)
    es, ts = E.lr_scheduler.StepLR(eo, 3, 0.5), T.lr_scheduler.StepLR(to, 3, 0.5)
    with pytest.warns(UserWarning):
        es.step(7)
    with pytest.warns(UserWarning):
        ts.step(7)
    assert es.get_last_lr() == ts.get_last_lr()


def test_cosine_warm_restarts_fractional_epoch():
    eo, to = _opts(ember), _opts(torch)
    es = E.lr_scheduler.CosineAnnealingWarmRestarts(eo, T_0=3, T_mult=2)
    ts = T.lr_scheduler.CosineAnnealingWarmRestarts(to, T_0=3, T_mult=2)
    for ep in np.linspace(0, 20, 41):
        es.step(float(ep))
        ts.step(float(ep))
        assert es.get_last_lr() == ts.get_last_lr()


def test_lambda_state_dict_and_errors():
    eo = _opts(ember)
    with pytest.raises(ValueError):
        E.lr_scheduler.LambdaLR(eo, [lambda e: 1.0])
    with pytest.raises(ValueError):
        E.lr_scheduler.ConstantLR(eo, factor=2.0)
    with pytest.raises(ValueError):
        E.lr_scheduler.OneCycleLR(eo, max_lr=0.1)
    with pytest.raises(TypeError):
        E.lr_scheduler.StepLR(object(), 3)
    with pytest.raises(ValueError):
        E.lr_scheduler.CyclicLR(_opts(ember, "Adagrad"), 0.01, 0.1)
    with pytest.raises(KeyError):
        E.lr_scheduler.StepLR(_opts(ember), 3, last_epoch=4)

    class Scale:
        def __init__(self):
            self.k = 0.5

        def __call__(self, e):
            return self.k ** e

    fn = Scale()
    s = E.lr_scheduler.LambdaLR(eo, fn)
    fn.k = 0.25
    sd = s.state_dict()
    assert sd["lr_lambdas"] == [{"k": 0.25}, {"k": 0.25}]
    fn.k = 0.9
    s.load_state_dict(sd)
    assert fn.k == 0.25 and math.isclose(s.get_last_lr()[0], 0.1)


def test_warns_when_scheduler_steps_before_optimizer():
    eo = _opts(ember)
    s = E.lr_scheduler.StepLR(eo, 3)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        s.step()
