"""Activations (functional + modules) against PyTorch: values, grad_fn names, input/parameter
gradients, float32 and float64, double backward, and gradcheck of the primitives."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as F
from conftest import assert_close

RNG = np.random.default_rng(0)

# name: (ember fn, torch fn)
POINTWISE = {
    "relu": (F.relu, TF.relu), "relu6": (F.relu6, TF.relu6),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.2), lambda x: TF.leaky_relu(x, 0.2)),
    "elu": (lambda x: F.elu(x, 0.7), lambda x: TF.elu(x, 0.7)), "selu": (F.selu, TF.selu),
    "celu": (lambda x: F.celu(x, 1.3), lambda x: TF.celu(x, 1.3)),
    "gelu": (F.gelu, TF.gelu),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"), lambda x: TF.gelu(x, approximate="tanh")),
    "silu": (F.silu, TF.silu), "mish": (F.mish, TF.mish), "sigmoid": (F.sigmoid, TF.sigmoid),
    "tanh": (F.tanh, TF.tanh), "hardtanh": (lambda x: F.hardtanh(x, -0.5, 2.0), lambda x: TF.hardtanh(x, -0.5, 2.0)),
    "hardsigmoid": (F.hardsigmoid, TF.hardsigmoid), "hardswish": (F.hardswish, TF.hardswish),
    "softplus": (lambda x: F.softplus(x, 2.0, 3.0), lambda x: TF.softplus(x, 2.0, 3.0)),
    "softsign": (F.softsign, TF.softsign), "tanhshrink": (F.tanhshrink, TF.tanhshrink),
    "threshold": (lambda x: F.threshold(x, 0.3, -2.0), lambda x: TF.threshold(x, 0.3, -2.0)),
    "logsigmoid": (F.logsigmoid, TF.logsigmoid), "hardshrink": (F.hardshrink, TF.hardshrink),
    "softshrink": (lambda x: F.softshrink(x, 0.3), lambda x: TF.softshrink(x, 0.3)),
    "glu": (lambda x: F.glu(x, 1), lambda x: TF.glu(x, 1)),
    "softmax": (lambda x: F.softmax(x, -1), lambda x: TF.softmax(x, -1)),
    "softmax0": (lambda x: F.softmax(x, 0), lambda x: TF.softmax(x, 0)),
    "softmin": (lambda x: F.softmin(x, -1), lambda x: TF.softmin(x, -1)),
    "log_softmax": (lambda x: F.log_softmax(x, -1), lambda x: TF.log_softmax(x, -1)),
    "rrelu_eval": (F.rrelu, TF.rrelu),
}


def _grad_fn(t):
    return None if t.grad_fn is None else type(t.grad_fn).__name__


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(7,), (3, 4), (2, 4, 3)])
@pytest.mark.parametrize("name", sorted(POINTWISE))
def test_pointwise_vs_torch(name, shape, dtype):
    if name == "glu" and len(shape) < 2:
        shape = (4, 2)
    fe, ft = POINTWISE[name]
    x = (RNG.standard_normal(shape) * 3).astype(dtype)
    g = RNG.standard_normal(ft(torch.tensor(x)).shape).astype(dtype)
    ex = ember.tensor(x, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    ey, ty = fe(ex), ft(tx)
    assert _grad_fn(ey) == _grad_fn(ty)
    ey.backward(ember.tensor(g))
    ty.backward(torch.tensor(g))
    # gelu(tanh)'s derivative has 1 + tanh(x) cancelling for x << 0: in float32 both libraries
    # are ~1e-6 (absolute) from the float64 value there, so allow that much
    atol = 3e-6 if (name == "gelu_tanh" and dtype == np.float32) else 1e-6
    assert_close(ey, ty)
    assert_close(ex.grad, tx.grad, atol=atol)


@pytest.mark.parametrize("name", ["gelu", "gelu_tanh", "silu", "mish", "elu", "softplus", "logsigmoid",
                                  "softmax", "log_softmax", "glu", "sigmoid", "hardswish"])
def test_double_backward(name):
    fe, ft = POINTWISE[name]
    x = RNG.standard_normal((3, 4))
    ex = ember.tensor(x, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    w = RNG.standard_normal(ft(tx).shape)
    (eg,) = ember.autograd.grad((fe(ex) * ember.tensor(w)).sum(), [ex], create_graph=True)
    (tg,) = torch.autograd.grad((ft(tx) * torch.tensor(w)).sum(), [tx], create_graph=True)
    (eg * eg).sum().backward()
    (tg * tg).sum().backward()
    assert_close(eg, tg, rtol=1e-7, atol=1e-9)
    assert_close(ex.grad, tx.grad, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("name", ["gelu", "gelu_tanh", "mish", "celu", "softplus", "hardswish", "glu",
                                  "softmax", "log_softmax", "logsigmoid"])
def test_gradcheck(name):
    fe, _ = POINTWISE[name]
    x = ember.tensor(RNG.standard_normal((2, 4)) + 0.05, requires_grad=True)
    assert ember.autograd.gradcheck(fe, (x,))


def test_softmax_stable_and_dtype():
    x = np.array([[1e4, 0.0, -1e4], [1e4, 1e4, 1e4]], dtype=np.float32)
    for fe, ft in [(F.softmax, TF.softmax), (F.log_softmax, TF.log_softmax)]:
        ey, ty = fe(ember.tensor(x), 1), ft(torch.tensor(x), 1)
        assert np.isfinite(ey.numpy()).all()
        assert_close(ey, ty)
        assert_close(fe(ember.tensor(x), 1, dtype=ember.float64), ft(torch.tensor(x), 1, dtype=torch.float64))
    # masked row with -inf entries
    m = np.array([[0.0, -np.inf, 1.0]], dtype=np.float32)
    assert_close(F.softmax(ember.tensor(m), -1), TF.softmax(torch.tensor(m), -1))
    assert_close(ember.tensor(x).softmax(-1), torch.tensor(x).softmax(-1))


def test_softmax_implicit_dim_warns():
    x = RNG.standard_normal((2, 3, 4)).astype(np.float32)
    with pytest.warns(UserWarning):
        ey = F.softmax(ember.tensor(x))
    with pytest.warns(UserWarning):
        ty = TF.softmax(torch.tensor(x))
    assert_close(ey, ty)


def test_prelu_weight_grad():
    for c, shape in [(1, (2, 3, 4)), (3, (2, 3, 4)), (3, (5, 3))]:
        x = RNG.standard_normal(shape).astype(np.float32)
        w = RNG.uniform(0.1, 0.5, c).astype(np.float32)
        ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        ew, tw = ember.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
        ey, ty = F.prelu(ex, ew), TF.prelu(tx, tw)
        assert _grad_fn(ey) == _grad_fn(ty)
        (ey * ey).sum().backward()
        (ty * ty).sum().backward()
        assert_close(ey, ty)
        assert_close(ex.grad, tx.grad)
        assert_close(ew.grad, tw.grad)
    with pytest.raises(RuntimeError):
        F.prelu(ember.randn(2, 3), ember.ones(4))
    with pytest.raises(RuntimeError):
        TF.prelu(torch.randn(2, 3), torch.ones(4))


def test_prelu_module_matches_torch():
    m, tm = ember.nn.PReLU(3, init=0.1), torch.nn.PReLU(3, init=0.1)
    assert_close(m.weight, tm.weight)
    assert repr(m) == repr(tm)
    x = RNG.standard_normal((2, 3, 5)).astype(np.float32)
    ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    m(ex).sum().backward()
    tm(tx).sum().backward()
    assert_close(m.weight.grad, tm.weight.grad)
    assert_close(ex.grad, tx.grad)


def test_rrelu_training_slopes_in_range():
    x = ember.tensor(-np.ones(10000, dtype=np.float32), requires_grad=True)
    y = F.rrelu(x, 0.1, 0.3, training=True)
    slopes = -y.detach().numpy()
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3
    assert abs(slopes.mean() - 0.2) < 0.01
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), slopes)  # gradient = the slope used forward


def test_inplace_forms():
    x = RNG.standard_normal((3, 4)).astype(np.float32)
    for fe, ft in [(lambda t: F.relu(t, inplace=True), lambda t: TF.relu(t, inplace=True)),
                   (lambda t: F.leaky_relu(t, 0.1, True), lambda t: TF.leaky_relu(t, 0.1, True)),
                   (lambda t: F.hardtanh(t, inplace=True), lambda t: TF.hardtanh(t, inplace=True)),
                   (lambda t: F.elu(t, inplace=True), lambda t: TF.elu(t, inplace=True))]:
        a, b = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        ea, tb = a * 1, b * 1
        er, tr = fe(ea), ft(tb)
        assert er is ea and tr is tb
        assert_close(ea, tb)
        (er * er).sum().backward()
        (tr * tr).sum().backward()
        assert_close(a.grad, b.grad)


MODULES = [
    ("ReLU", (), {}), ("ReLU6", (), {"inplace": False}), ("LeakyReLU", (0.2,), {}), ("ELU", (), {"alpha": 0.5}),
    ("SELU", (), {}), ("CELU", (), {"alpha": 2.0}), ("GELU", (), {"approximate": "tanh"}), ("SiLU", (), {}),
    ("Mish", (), {}), ("Sigmoid", (), {}), ("Tanh", (), {}), ("Hardtanh", (-2.0, 2.0), {}),
    ("Hardsigmoid", (), {}), ("Hardswish", (), {}), ("Softplus", (), {"beta": 2.0}), ("Softsign", (), {}),
    ("Tanhshrink", (), {}), ("Threshold", (0.1, 20.0), {}), ("GLU", (), {"dim": -1}), ("LogSigmoid", (), {}),
    ("Hardshrink", (), {}), ("Softshrink", (0.2,), {}), ("Softmax", (), {"dim": 1}), ("Softmin", (), {"dim": 1}),
    ("LogSoftmax", (), {"dim": -1}), ("Softmax2d", (), {}), ("RReLU", (), {}),
]


@pytest.mark.parametrize("name,args,kwargs", MODULES, ids=[m[0] for m in MODULES])
def test_modules(name, args, kwargs):
    em, tm = getattr(ember.nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    em.eval()
    tm.eval()
    assert repr(em) == repr(tm)
    x = RNG.standard_normal((2, 4, 3, 2)).astype(np.float32)
    ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ey, ty = em(ex), tm(tx)
    ey.backward(ember.ones_like(ey))
    ty.backward(torch.ones_like(ty))
    assert_close(ey, ty)
    assert_close(ex.grad, tx.grad)


def test_errors_match_torch():
    with pytest.raises(RuntimeError):
        F.glu(ember.randn(2, 3))
    with pytest.raises(RuntimeError):
        TF.glu(torch.randn(2, 3))
    with pytest.raises(RuntimeError):
        F.gelu(ember.randn(2), approximate="fast")
