"""Dropout: identity in eval, statistics of the mask in training, and the gradient uses the very
mask of the forward pass. (Random streams differ from PyTorch's, so values are compared
statistically, and grad_fn names / reprs / errors against torch.)"""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as F


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_statistics_and_grad_mask(p):
    ember.manual_seed(0)
    x = ember.tensor(np.full((200, 100), 2.0, dtype=np.float32), requires_grad=True)
    y = F.dropout(x, p)
    yd = y.detach().numpy()
    kept = yd != 0
    assert abs(1 - kept.mean() - p) < 0.02
    np.testing.assert_allclose(yd[kept], 2.0 / (1 - p), rtol=1e-6)
    y.backward(ember.ones_like(y))
    np.testing.assert_allclose(x.grad.numpy(), kept / (1 - p), rtol=1e-6)
    assert type(y.grad_fn).__name__ == type(TF.dropout(torch.ones(2, requires_grad=True), p).grad_fn).__name__
    assert abs(yd.mean() - 2.0) < 0.1  # expectation preserved


def test_eval_identity_and_edge_p():
    x = ember.randn(4, 5, requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    y = F.dropout(x, 1.0)
    assert (y.detach().numpy() == 0).all()
    y.sum().backward()
    assert (x.grad.numpy() == 0).all()
    with pytest.raises(ValueError):
        F.dropout(x, 1.5)
    with pytest.raises(ValueError):
        TF.dropout(torch.ones(2), 1.5)
    with pytest.raises(ValueError):
        ember.nn.Dropout(-0.1)


@pytest.mark.parametrize("fn,shape", [("dropout1d", (40, 30, 5)), ("dropout1d", (30, 5)),
                                      ("dropout2d", (40, 30, 4, 3)), ("dropout3d", (20, 30, 2, 2, 2))])
def test_channel_dropout_zeroes_whole_channels(fn, shape):
    ember.manual_seed(1)
    x = ember.ones(*shape, requires_grad=True)
    y = getattr(F, fn)(x, 0.4)
    yd = y.detach().numpy()
    lead = 2 if len(shape) > ({"dropout1d": 2, "dropout2d": 3, "dropout3d": 4}[fn]) else 1
    per_channel = yd.reshape(int(np.prod(shape[:lead])), -1)
    assert ((per_channel == 0).all(1) | (per_channel == 1 / 0.6).all(1)).all()
    assert abs((per_channel[:, 0] == 0).mean() - 0.4) < 0.1
    y.backward(ember.ones_like(y))
    np.testing.assert_allclose(x.grad.numpy(), yd)
    t = getattr(TF, fn)(torch.ones(*shape, requires_grad=True), 0.4)
    assert type(y.grad_fn).__name__ == type(t.grad_fn).__name__


def test_dropout1d_bad_dims_like_torch():
    with pytest.raises(RuntimeError):
        F.dropout1d(ember.ones(2, 3, 4, 5))
    with pytest.raises(RuntimeError):
        TF.dropout1d(torch.ones(2, 3, 4, 5))


@pytest.mark.parametrize("fn", ["alpha_dropout", "feature_alpha_dropout"])
def test_alpha_dropout_keeps_mean_and_variance(fn):
    ember.manual_seed(2)
    x = ember.randn(400, 50, 4, 4, requires_grad=True)
    y = getattr(F, fn)(x, 0.2, training=True)
    yd = y.detach().numpy()
    assert abs(yd.mean()) < 0.05 and abs(yd.std() - 1) < 0.05
    y.backward(ember.ones_like(y))
    g = x.grad.numpy()
    a = ((1 - 0.2) * (1 + 0.2 * 1.7580993408473766 ** 2)) ** -0.5
    vals = np.unique(g)
    assert len(vals) == 2 and vals[0] == 0 and np.isclose(vals[1], a, rtol=1e-6)
    t = getattr(TF, fn)(torch.ones(2, 3, 4, requires_grad=True), 0.2, training=True)
    assert type(y.grad_fn).__name__ == type(t.grad_fn).__name__
    assert getattr(F, fn)(x, 0.2) is x  # training defaults to False


@pytest.mark.parametrize("name", ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout",
                                  "FeatureAlphaDropout"])
def test_modules_repr_and_eval(name):
    em, tm = getattr(ember.nn, name)(0.3), getattr(torch.nn, name)(0.3)
    assert repr(em) == repr(tm)
    em.eval()
    x = {"Dropout3d": ember.randn(2, 3, 4, 5, 6), "Dropout2d": ember.randn(2, 3, 4, 5)}.get(name, ember.randn(2, 3, 4))
    assert em(x) is x
    em.train()
    assert em(x) is not x


def test_inplace_dropout():
    ember.manual_seed(3)
    a = ember.ones(100, 10, requires_grad=True)
    b = a * 1
    r = F.dropout(b, 0.5, inplace=True)
    assert r is b
    r.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), b.detach().numpy())
