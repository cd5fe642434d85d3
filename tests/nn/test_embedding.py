"""Embedding / EmbeddingBag / one_hot against PyTorch (values, weight gradients, options)."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as F
from conftest import assert_close

RNG = np.random.default_rng(0)
IDX = np.array([[1, 2, 2, 0], [6, 1, 3, 3]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kw", [{}, {"padding_idx": 2}, {"padding_idx": -1}, {"scale_grad_by_freq": True},
                                {"max_norm": 1.0}, {"max_norm": 0.5, "norm_type": 1.0}])
def test_embedding_functional(kw, dtype):
    w = RNG.standard_normal((7, 3)).astype(dtype)
    ew, tw = ember.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    ey, ty = F.embedding(ember.tensor(IDX), ew, **kw), TF.embedding(torch.tensor(IDX), tw, **kw)
    assert type(ey.grad_fn).__name__ == type(ty.grad_fn).__name__
    g = RNG.standard_normal(tuple(ty.shape)).astype(dtype)
    ey.backward(ember.tensor(g))
    ty.backward(torch.tensor(g))
    assert_close(ey, ty)
    assert_close(ew.grad, tw.grad)
    assert_close(ew, tw)  # max_norm renormalises the weight in place


def test_embedding_module_and_from_pretrained():
    m, tm = ember.nn.Embedding(10, 4, padding_idx=3), torch.nn.Embedding(10, 4, padding_idx=3)
    assert repr(m) == repr(tm)
    assert list(m.state_dict()) == list(tm.state_dict())
    assert (m.weight.detach().numpy()[3] == 0).all()
    assert abs(float(m.weight.detach().numpy().std()) - 1) < 0.5  # N(0, 1) init
    w = RNG.standard_normal((5, 2)).astype(np.float32)
    e = ember.nn.Embedding.from_pretrained(ember.tensor(w))
    t = torch.nn.Embedding.from_pretrained(torch.tensor(w))
    assert e.weight.requires_grad is t.weight.requires_grad is False
    assert_close(e(ember.tensor([4, 0])), t(torch.tensor([4, 0])))
    e2 = ember.nn.Embedding.from_pretrained(ember.tensor(w), freeze=False, max_norm=1.0)
    assert e2.weight.requires_grad
    assert repr(e2) == repr(torch.nn.Embedding.from_pretrained(torch.tensor(w), freeze=False, max_norm=1.0))


def test_embedding_errors_like_torch():
    w = ember.randn(5, 3)
    with pytest.raises(IndexError):
        F.embedding(ember.tensor([5]), w)
    with pytest.raises(IndexError):
        TF.embedding(torch.tensor([5]), torch.randn(5, 3))
    with pytest.raises(RuntimeError):
        F.embedding(ember.tensor([1.0]), w)
    with pytest.raises(AssertionError):
        F.embedding(ember.tensor([1]), w, padding_idx=5)


def test_embedding_double_backward_graph():
    w = RNG.standard_normal((6, 3))
    ew, tw = ember.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    (eg,) = ember.autograd.grad((F.embedding(ember.tensor(IDX[:, :3] % 6), ew, padding_idx=1) ** 2).sum(), [ew],
                                create_graph=True)
    (tg,) = torch.autograd.grad((TF.embedding(torch.tensor(IDX[:, :3] % 6), tw, padding_idx=1) ** 2).sum(), [tw],
                                create_graph=True)
    (eg ** 2).sum().backward()
    (tg ** 2).sum().backward()
    assert_close(ew.grad, tw.grad)


FLAT = np.array([1, 2, 4, 4, 0, 3, 6, 2])
OFFS = np.array([0, 3, 3, 5])


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("kw", [{"offsets": OFFS}, {"offsets": OFFS, "padding_idx": 4},
                                {"offsets": np.array([0, 3, 3, 5, 8]), "include_last_offset": True},
                                {"offsets": OFFS, "max_norm": 1.0}, {"two_d": True}])
def test_embedding_bag(mode, kw):
    w = RNG.standard_normal((7, 3)).astype(np.float32)
    ew, tw = ember.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    kw = dict(kw)
    inp = FLAT.reshape(2, 4) if kw.pop("two_d", False) else FLAT
    ekw = {k: ember.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    tkw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    ey = F.embedding_bag(ember.tensor(inp), ew, mode=mode, **ekw)
    ty = TF.embedding_bag(torch.tensor(inp), tw, mode=mode, **tkw)
    assert type(ey.grad_fn).__name__ == type(ty.grad_fn).__name__
    g = RNG.standard_normal(tuple(ty.shape)).astype(np.float32)
    ey.backward(ember.tensor(g))
    ty.backward(torch.tensor(g))
    assert_close(ey, ty)
    assert_close(ew.grad, tw.grad)


def test_embedding_bag_per_sample_weights_and_module():
    w = RNG.standard_normal((7, 3)).astype(np.float32)
    p = RNG.standard_normal(8).astype(np.float32)
    m, tm = ember.nn.EmbeddingBag(7, 3, mode="sum"), torch.nn.EmbeddingBag(7, 3, mode="sum")
    assert repr(m) == repr(tm)
    m.weight.data = ember.tensor(w)
    with torch.no_grad():
        tm.weight.copy_(torch.tensor(w))
    ep, tp = ember.tensor(p, requires_grad=True), torch.tensor(p, requires_grad=True)
    ey = m(ember.tensor(FLAT), ember.tensor(OFFS), per_sample_weights=ep)
    ty = tm(torch.tensor(FLAT), torch.tensor(OFFS), per_sample_weights=tp)
    (ey * ey).sum().backward()
    (ty * ty).sum().backward()
    assert_close(ey, ty)
    assert_close(m.weight.grad, tm.weight.grad)
    assert_close(ep.grad, tp.grad)
    with pytest.raises(NotImplementedError):
        F.embedding_bag(ember.tensor(FLAT), m.weight, ember.tensor(OFFS), mode="max", per_sample_weights=ep)
    with pytest.raises(ValueError):
        F.embedding_bag(ember.tensor(FLAT), m.weight)
    with pytest.raises(RuntimeError):
        F.embedding_bag(ember.tensor(FLAT), m.weight, ember.tensor([1, 3]))


def test_one_hot():
    t = np.array([[0, 3], [2, 1]])
    assert_close(F.one_hot(ember.tensor(t)), TF.one_hot(torch.tensor(t)))
    assert_close(F.one_hot(ember.tensor(t), 6), TF.one_hot(torch.tensor(t), 6))
    for bad, n in [([-1], -1), ([3], 2)]:
        with pytest.raises(RuntimeError):
            F.one_hot(ember.tensor(bad), n)
        with pytest.raises(RuntimeError):
            TF.one_hot(torch.tensor(bad), n)
