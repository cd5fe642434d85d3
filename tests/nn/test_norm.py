"""Normalisation layers against PyTorch: forward, input and parameter gradients, running statistics,
train/eval, float32/float64, state_dict keys and reprs; gradcheck and double backward of the
fused functional forms."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as F
from conftest import assert_close

RNG = np.random.default_rng(0)
TOL = {np.float32: dict(rtol=1e-5, atol=1e-5), np.float64: dict(rtol=1e-10, atol=1e-12)}
# float32 gradients of normalisation sum O(N) terms, so compare with atol 1e-5 rather than 1e-6


def _copy_params(em, tm):
    for (n, p), (tn, tp) in zip(em.named_parameters(), tm.named_parameters()):
        assert n == tn
        v = RNG.standard_normal(tuple(p.shape)).astype(p.detach().numpy().dtype)
        p.data = ember.tensor(v)
        with torch.no_grad():
            tp.copy_(torch.tensor(v))


def _run(em, tm, shape, dtype, steps=2):
    for _ in range(steps):
        x = (RNG.standard_normal(shape) * 2 + 0.5).astype(dtype)
        g = RNG.standard_normal(shape).astype(dtype)
        ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        ey, ty = em(ex), tm(tx)
        assert type(ey.grad_fn).__name__ == type(ty.grad_fn).__name__
        ey.backward(ember.tensor(g))
        ty.backward(torch.tensor(g))
        assert_close(ey, ty, **TOL[dtype])
        assert_close(ex.grad, tx.grad, **TOL[dtype])
    for (n, p), (_, tp) in zip(em.named_parameters(), tm.named_parameters()):
        assert_close(p.grad, tp.grad, **TOL[dtype])
    for (n, b), (tn, tb) in zip(em.named_buffers(), tm.named_buffers()):
        assert n == tn
        assert_close(b, tb, **TOL[dtype])


def _dt(dtype):
    return ember.float64 if dtype == np.float64 else ember.float32


BN = [("BatchNorm1d", (6, 3)), ("BatchNorm1d", (4, 3, 5)), ("BatchNorm2d", (2, 3, 4, 5)),
      ("BatchNorm3d", (2, 3, 2, 3, 2))]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,shape", BN)
@pytest.mark.parametrize("kw", [{}, {"momentum": None}, {"affine": False}, {"track_running_stats": False},
                                {"momentum": 0.3, "eps": 1e-3}, {"bias": False}])
def test_batchnorm(name, shape, kw, dtype):
    em = getattr(ember.nn, name)(3, dtype=_dt(dtype), **kw)
    tm = getattr(torch.nn, name)(3, dtype=torch.float64 if dtype == np.float64 else torch.float32, **kw)
    assert repr(em) == repr(tm)
    assert list(em.state_dict()) == list(tm.state_dict())
    _copy_params(em, tm)
    _run(em, tm, shape, dtype, steps=3)
    em.eval()
    tm.eval()
    _run(em, tm, shape, dtype, steps=1)
    if kw.get("track_running_stats", True):
        assert int(em.num_batches_tracked) == int(tm.num_batches_tracked) == 3


def test_batchnorm_errors_like_torch():
    m, tm = ember.nn.BatchNorm1d(3), torch.nn.BatchNorm1d(3)
    with pytest.raises(ValueError):
        m(ember.randn(1, 3))
    with pytest.raises(ValueError):
        tm(torch.randn(1, 3))
    with pytest.raises(ValueError):
        m(ember.randn(2, 3, 4, 5))
    with pytest.raises(ValueError):
        ember.nn.BatchNorm2d(3)(ember.randn(2, 3, 4))
    with pytest.raises(RuntimeError):
        F.batch_norm(ember.randn(4, 3), ember.zeros(4), ember.ones(4), training=True)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("ns,shape", [(5, (3, 5)), ((4, 5), (2, 3, 4, 5)), (6, (2, 7, 6))])
@pytest.mark.parametrize("kw", [{}, {"elementwise_affine": False}, {"bias": False}, {"eps": 1e-3}])
def test_layernorm(ns, shape, kw, dtype):
    tdt = torch.float64 if dtype == np.float64 else torch.float32
    em, tm = ember.nn.LayerNorm(ns, dtype=_dt(dtype), **kw), torch.nn.LayerNorm(ns, dtype=tdt, **kw)
    assert repr(em) == repr(tm)
    assert list(em.state_dict()) == list(tm.state_dict())
    _copy_params(em, tm)
    _run(em, tm, shape, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("groups,shape", [(1, (2, 6, 4)), (3, (2, 6, 4, 3)), (6, (3, 6, 5)), (2, (2, 6, 2, 2, 2))])
@pytest.mark.parametrize("affine,bias", [(True, True), (False, True), (True, False)])
def test_groupnorm(groups, shape, affine, bias, dtype):
    tdt = torch.float64 if dtype == np.float64 else torch.float32
    em = ember.nn.GroupNorm(groups, 6, affine=affine, dtype=_dt(dtype), bias=bias)
    tm = torch.nn.GroupNorm(groups, 6, affine=affine, dtype=tdt, bias=bias)
    assert repr(em) == repr(tm)
    _copy_params(em, tm)
    _run(em, tm, shape, dtype)


@pytest.mark.parametrize("name,shape", [("InstanceNorm1d", (2, 3, 5)), ("InstanceNorm1d", (3, 5)),
                                        ("InstanceNorm2d", (2, 3, 4, 5)), ("InstanceNorm3d", (2, 3, 2, 3, 2))])
@pytest.mark.parametrize("kw", [{}, {"affine": True}, {"track_running_stats": True},
                                {"affine": True, "track_running_stats": True, "momentum": 0.2}])
def test_instancenorm(name, shape, kw):
    em, tm = getattr(ember.nn, name)(3, **kw), getattr(torch.nn, name)(3, **kw)
    assert repr(em) == repr(tm)
    assert list(em.state_dict()) == list(tm.state_dict())
    _copy_params(em, tm)
    _run(em, tm, shape, np.float32)
    em.eval()
    tm.eval()
    _run(em, tm, shape, np.float32, steps=1)


@pytest.mark.parametrize("ns,shape,kw", [(5, (3, 5), {}), ((4, 5), (2, 3, 4, 5), {"eps": 1e-3}),
                                         (6, (2, 6), {"elementwise_affine": False})])
def test_rmsnorm(ns, shape, kw):
    em, tm = ember.nn.RMSNorm(ns, **kw), torch.nn.RMSNorm(ns, **kw)
    assert repr(em) == repr(tm)
    _copy_params(em, tm)
    _run(em, tm, shape, np.float32)


@pytest.mark.parametrize("size", [1, 2, 3, 4])
def test_local_response_norm(size):
    em, tm = ember.nn.LocalResponseNorm(size, 1e-2, 0.6, 2.0), torch.nn.LocalResponseNorm(size, 1e-2, 0.6, 2.0)
    assert repr(em) == repr(tm)
    _run(em, tm, (2, 5, 3, 2), np.float32)


def test_normalize():
    x = RNG.standard_normal((3, 4, 2))
    for kw in [{}, {"p": 1.0, "dim": 2}, {"dim": 0, "eps": 0.5}]:
        ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        ey, ty = F.normalize(ex, **kw), TF.normalize(tx, **kw)
        (ey * ey.detach() ** 2).sum().backward()
        (ty * ty.detach() ** 2).sum().backward()
        assert_close(ey, ty)
        assert_close(ex.grad, tx.grad)


def _f64(*shape):
    return ember.tensor(RNG.standard_normal(shape), requires_grad=True)


def test_gradcheck_functional():
    x, w, b = _f64(3, 2, 2), _f64(2), _f64(2)
    assert ember.autograd.gradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, True), (x, w, b))
    rm, rv = ember.tensor(RNG.standard_normal(2)), ember.tensor(RNG.uniform(0.5, 2, 2))
    assert ember.autograd.gradcheck(lambda x, w, b: F.batch_norm(x, rm, rv, w, b, False), (x, w, b))
    x, w, b = _f64(2, 3, 4), _f64(3, 4), _f64(3, 4)
    assert ember.autograd.gradcheck(lambda x, w, b: F.layer_norm(x, (3, 4), w, b), (x, w, b))
    x, w, b = _f64(2, 4, 3), _f64(4), _f64(4)
    assert ember.autograd.gradcheck(lambda x, w, b: F.group_norm(x, 2, w, b), (x, w, b))
    assert ember.autograd.gradcheck(lambda x, w, b: F.instance_norm(x, weight=w, bias=b), (x, w, b))
    x, w = _f64(2, 5), _f64(5)
    assert ember.autograd.gradcheck(lambda x, w: F.rms_norm(x, (5,), w), (x, w))


@pytest.mark.parametrize("which", ["batch", "layer", "group"])
def test_double_backward(which):
    x = RNG.standard_normal((4, 3, 2))
    w = RNG.standard_normal(3 if which != "layer" else 2)
    ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ew, tw = ember.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    fn = {"batch": (lambda x, w: F.batch_norm(x, None, None, w, None, True),
                    lambda x, w: TF.batch_norm(x, None, None, w, None, True)),
          "layer": (lambda x, w: F.layer_norm(x, (2,), w), lambda x, w: TF.layer_norm(x, (2,), w)),
          "group": (lambda x, w: F.group_norm(x, 3, w), lambda x, w: TF.group_norm(x, 3, w))}[which]
    (eg,) = ember.autograd.grad((fn[0](ex, ew) ** 3).sum(), [ex], create_graph=True)
    (tg,) = torch.autograd.grad((fn[1](tx, tw) ** 3).sum(), [tx], create_graph=True)
    (eg * eg).sum().backward()
    (tg * tg).sum().backward()
    assert_close(eg, tg, rtol=1e-9, atol=1e-10)
    assert_close(ex.grad, tx.grad, rtol=1e-8, atol=1e-9)
    assert_close(ew.grad, tw.grad, rtol=1e-8, atol=1e-9)


def test_shape_errors_like_torch():
    for fe, ft in [(lambda: F.layer_norm(ember.randn(2, 4), (5,)), lambda: TF.layer_norm(torch.randn(2, 4), (5,))),
                   (lambda: F.group_norm(ember.randn(2, 5, 3), 2), lambda: TF.group_norm(torch.randn(2, 5, 3), 2))]:
        with pytest.raises(RuntimeError):
            ft()
        with pytest.raises(RuntimeError):
            fe()
    with pytest.raises(ValueError):
        ember.nn.GroupNorm(2, 5)
