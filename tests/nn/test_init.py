"""nn.init: gains and fan computation equal PyTorch's; distributions checked statistically on large
tensors (Ember's random stream differs from PyTorch's, so values are compared by their moments)."""
import math

import numpy as np
import pytest
import torch

import ember
from ember.nn import init

SHAPES = [(30, 20), (16, 8, 3, 3), (5, 4, 7), (10, 6, 2, 3, 2)]


@pytest.mark.parametrize("shape", SHAPES + [(3,), (1, 1)])
def test_fans_match_torch(shape):
    if len(shape) < 2:
        with pytest.raises(ValueError):
            init._calculate_fan_in_and_fan_out(ember.empty(*shape))
        with pytest.raises(ValueError):
            torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))
        return
    assert init._calculate_fan_in_and_fan_out(ember.empty(*shape)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))


@pytest.mark.parametrize("nl,param", [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None),
                                      ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2), ("selu", None)])
def test_calculate_gain(nl, param):
    assert init.calculate_gain(nl, param) == pytest.approx(torch.nn.init.calculate_gain(nl, param))


def test_calculate_gain_errors():
    with pytest.raises(ValueError):
        init.calculate_gain("foo")
    with pytest.raises(ValueError):
        init.calculate_gain("leaky_relu", "x")


def _stats(fn, shape, *args, **kw):
    e, t = ember.empty(*shape), torch.empty(*shape)
    assert fn[0](e, *args, **kw) is e
    fn[1](t, *args, **kw)
    return e.numpy(), t.numpy()


BIG = (256, 64, 3, 3)


@pytest.mark.parametrize("name,args,kw", [
    ("uniform_", (-0.5, 1.5), {}), ("normal_", (0.3, 2.0), {}), ("xavier_uniform_", (), {"gain": 2.0}),
    ("xavier_normal_", (), {}), ("kaiming_uniform_", (), {"a": math.sqrt(5)}),
    ("kaiming_uniform_", (), {"mode": "fan_out", "nonlinearity": "relu"}), ("kaiming_normal_", (), {}),
    ("kaiming_normal_", (), {"a": 0.1, "mode": "fan_out", "nonlinearity": "leaky_relu"}),
    ("trunc_normal_", (0.2, 1.0, -1.0, 1.5), {}), ("trunc_normal_", (), {}),
])
def test_distributions_match_torch(name, args, kw):
    e, t = _stats((getattr(init, name), getattr(torch.nn.init, name)), BIG, *args, **kw)
    assert e.dtype == np.float32
    scale = max(t.std(), 1e-3)
    assert abs(e.mean() - t.mean()) < 0.02 * scale + 1e-4
    assert abs(e.std() - t.std()) < 0.02 * scale
    if "uniform" in name or "trunc" in name:  # bounded: same support
        assert abs(e.min() - t.min()) < 0.01 * scale and abs(e.max() - t.max()) < 0.01 * scale


def test_deterministic_fills():
    for name, shape, args in [("constant_", (3, 4), (0.7,)), ("ones_", (2, 5), ()), ("zeros_", (4,), ()),
                              ("eye_", (3, 5), ()), ("eye_", (5, 2), ()), ("dirac_", (4, 2, 3), ()),
                              ("dirac_", (6, 3, 3, 3), (2,)), ("dirac_", (4, 2, 3, 3, 3), ())]:
        e, t = _stats((getattr(init, name), getattr(torch.nn.init, name)), shape, *args)
        np.testing.assert_array_equal(e, t)


def test_orthogonal():
    for shape, gain in [((20, 50), 1.0), ((50, 20), 2.0), ((8, 4, 3), 0.5)]:
        e = ember.empty(*shape)
        init.orthogonal_(e, gain)
        m = e.numpy().reshape(shape[0], -1)
        small = m @ m.T if m.shape[0] <= m.shape[1] else m.T @ m
        np.testing.assert_allclose(small, gain ** 2 * np.eye(small.shape[0]), atol=1e-5)


def test_sparse():
    e, t = _stats((init.sparse_, torch.nn.init.sparse_), (100, 40), 0.3, 0.05)
    np.testing.assert_array_equal((e == 0).sum(0), (t == 0).sum(0))
    assert abs(e[e != 0].std() - 0.05) < 0.005


def test_no_graph_and_version_bump():
    p = ember.nn.Parameter(ember.empty(4, 4))
    v = p._version
    init.kaiming_uniform_(p)
    assert p.grad_fn is None and p.requires_grad and p._version > v
    with pytest.raises(ValueError):
        init.kaiming_uniform_(p, mode="fan_avg")
    with pytest.raises(ValueError):
        init.eye_(ember.empty(2, 2, 2))


def test_generator_reproducible():
    a, b = ember.empty(10), ember.empty(10)
    init.normal_(a, generator=ember.Generator().manual_seed(5))
    init.normal_(b, generator=ember.Generator().manual_seed(5))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
