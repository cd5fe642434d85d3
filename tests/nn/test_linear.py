"""Identity, Linear, Bilinear, LazyLinear, Flatten, Unflatten against PyTorch (values, input
gradients, parameter gradients from identical weights; init bounds; reprs; errors)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import ember
from conftest import assert_close
from ember.nn.modules.linear import bilinear, linear


def copy_params(e, t):
    e.load_state_dict({k: ember.tensor(v.detach().numpy().copy()) for k, v in t.state_dict().items()})


TOL = {np.float32: dict(rtol=1e-5, atol=1e-5), np.float64: dict(rtol=1e-10, atol=1e-12)}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(5, 4), (4,), (2, 3, 4), (2, 1, 3, 4), (0, 4)])
def test_linear_matches_torch(rng, dtype, bias, shape):
    tdt = getattr(torch, np.dtype(dtype).name)
    edt = getattr(ember, np.dtype(dtype).name)
    t = torch.nn.Linear(4, 3, bias=bias, dtype=tdt)
    e = ember.nn.Linear(4, 3, bias=bias, dtype=edt)
    assert e.weight.dtype == edt and [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]
    copy_params(e, t)
    x = rng.standard_normal(shape).astype(dtype)
    xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ye, yt = e(xe), t(xt)
    assert_close(ye, yt, **TOL[dtype])
    g = rng.standard_normal(yt.shape).astype(dtype)
    ye.backward(ember.tensor(g))
    yt.backward(torch.tensor(g))
    assert_close(xe.grad, xt.grad, **TOL[dtype])
    assert_close(e.weight.grad, t.weight.grad, **TOL[dtype])
    if bias:
        assert_close(e.bias.grad, t.bias.grad, **TOL[dtype])
    if len(shape) == 2 and bias:
        assert ye.grad_fn.name() == yt.grad_fn.name() == "AddmmBackward0"


def test_linear_gradcheck(rng):
    x = ember.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    w = ember.tensor(rng.standard_normal((2, 4)), requires_grad=True)
    b = ember.tensor(rng.standard_normal(2), requires_grad=True)
    assert ember.autograd.gradcheck(linear, (x, w, b))
    x3 = ember.tensor(rng.standard_normal((2, 3, 4)), requires_grad=True)
    assert ember.autograd.gradcheck(linear, (x3, w, b))
    w3 = ember.tensor(rng.standard_normal((2, 4, 3)), requires_grad=True)
    x2 = ember.tensor(rng.standard_normal((3, 3)), requires_grad=True)
    assert ember.autograd.gradcheck(bilinear, (x[:, :4], x2, w3, b))


def test_linear_init_bounds_and_repr():
    ember.manual_seed(0)
    e = ember.nn.Linear(400, 300)
    t = torch.nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    for pe, pt in ((e.weight, t.weight), (e.bias, t.bias)):
        a, b = pe.detach().numpy(), pt.detach().numpy()
        assert a.min() >= -bound and a.max() <= bound
        assert abs(a.min() - b.min()) < 0.05 * bound and abs(a.max() - b.max()) < 0.05 * bound
    # uniform(-b, b) has std b / sqrt(3)
    assert abs(e.weight.detach().numpy().std() - bound / math.sqrt(3)) < 0.02 * bound
    assert e.weight.shape == t.weight.shape and e.bias.shape == t.bias.shape
    assert isinstance(e.weight, ember.nn.Parameter) and e.weight.requires_grad
    assert repr(e) == repr(t)
    assert repr(ember.nn.Linear(3, 2, bias=False)) == repr(torch.nn.Linear(3, 2, bias=False))
    assert ember.nn.Linear(3, 2, bias=False).bias is None
    assert list(ember.nn.Linear(3, 2, bias=False).state_dict()) == ["weight"]
    z = ember.nn.Linear(0, 2)  # fan_in 0: no init error, as in torch
    assert z.weight.shape == (2, 0)


def test_linear_shape_error():
    for lib in (ember, torch):
        m = lib.nn.Linear(4, 3)
        with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(5x3 and 4x3\)"):
            m(lib.ones(5, 3))


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("lead", [(5,), (2, 3)])
def test_bilinear_matches_torch(rng, bias, lead):
    t = torch.nn.Bilinear(3, 4, 2, bias=bias)
    e = ember.nn.Bilinear(3, 4, 2, bias=bias)
    copy_params(e, t)
    assert repr(e) == repr(t)
    x1 = rng.standard_normal(lead + (3,)).astype(np.float32)
    x2 = rng.standard_normal(lead + (4,)).astype(np.float32)
    e1, t1 = ember.tensor(x1, requires_grad=True), torch.tensor(x1, requires_grad=True)
    e2, t2 = ember.tensor(x2, requires_grad=True), torch.tensor(x2, requires_grad=True)
    ye, yt = e(e1, e2), t(t1, t2)
    assert_close(ye, yt, rtol=1e-5, atol=1e-5)
    (ye ** 2).sum().backward()
    (yt ** 2).sum().backward()
    for a, b in ((e1.grad, t1.grad), (e2.grad, t2.grad), (e.weight.grad, t.weight.grad)):
        assert_close(a, b, rtol=1e-4, atol=1e-5)  # float32 sums of products in a different order
    if bias:
        assert_close(e.bias.grad, t.bias.grad, rtol=1e-5, atol=1e-5)
    bound = 1 / math.sqrt(3)
    w = ember.nn.Bilinear(3, 4, 50).weight.detach().numpy()
    assert w.min() >= -bound and w.max() <= bound and w.max() > 0.8 * bound


def test_bilinear_shape_error():
    for lib in (ember, torch):
        with pytest.raises(RuntimeError):
            lib.nn.Bilinear(3, 4, 2)(lib.ones(5, 3), lib.ones(5, 5))


def test_lazy_linear(rng):
    e = ember.nn.LazyLinear(3)
    t = torch.nn.LazyLinear(3)
    assert repr(e) == repr(t)
    assert isinstance(e.weight, ember.nn.UninitializedParameter)
    x = rng.standard_normal((2, 5)).astype(np.float32)
    ye = e(ember.tensor(x))
    t(torch.tensor(x))
    assert type(e) is ember.nn.Linear and e.in_features == 5 and e.weight.shape == (3, 5)
    assert type(e.weight) is ember.nn.Parameter and e.weight.requires_grad
    assert repr(e) == repr(t)
    copy_params(e, t)
    assert_close(e(ember.tensor(x)), t(torch.tensor(x)))
    assert ye.shape == (2, 3)
    bound = 1 / math.sqrt(5)
    assert float(e.bias.abs().max()) <= bound
    # loading a state_dict into a lazy layer materialises it
    e2 = ember.nn.LazyLinear(3)
    e2.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    assert_close(e2(ember.tensor(x)), t(torch.tensor(x)))
    assert type(e2) is ember.nn.Linear and e2.in_features == 5


@pytest.mark.parametrize("start,end", [(1, -1), (0, -1), (1, 2), (-2, -1)])
def test_flatten(rng, start, end):
    x = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
    e, t = ember.nn.Flatten(start, end), torch.nn.Flatten(start, end)
    xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ye, yt = e(xe), t(xt)
    assert_close(ye, yt)
    ye.backward(ember.tensor(np.arange(ye.numel(), dtype=np.float32).reshape(tuple(ye.shape))))
    yt.backward(torch.arange(yt.numel(), dtype=torch.float32).reshape(yt.shape))
    assert_close(xe.grad, xt.grad)
    assert repr(e) == repr(t)


@pytest.mark.parametrize("dim,sizes", [(1, (2, 6)), (1, [3, -1]), (-1, (5, 1)), (0, (1, 2))])
def test_unflatten(rng, dim, sizes):
    x = rng.standard_normal((2, 12, 5)).astype(np.float32)
    e, t = ember.nn.Unflatten(dim, sizes), torch.nn.Unflatten(dim, sizes)
    xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ye, yt = e(xe), t(xt)
    assert_close(ye, yt)
    ye.sum().backward()
    yt.sum().backward()
    assert_close(xe.grad, xt.grad)
    assert repr(e) == repr(t)


def test_unflatten_errors():
    for bad in (5, (2, 1.5)):
        with pytest.raises(TypeError) as et:
            torch.nn.Unflatten(1, bad)
        with pytest.raises(TypeError) as ee:
            ember.nn.Unflatten(1, bad)
        assert str(ee.value) == str(et.value)


def test_identity(rng):
    e, t = ember.nn.Identity(54, unused="x"), torch.nn.Identity(54, unused="x")
    x = ember.tensor(rng.standard_normal(3))
    assert e(x) is x
    assert repr(e) == repr(t) and list(e.parameters()) == []
