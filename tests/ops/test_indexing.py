"""Indexing ops against PyTorch: getitem/setitem (basic, advanced, masks), gather/scatter family,
index_select, masked_fill, where, nonzero, take, index_add_, tril/triu."""
import numpy as np
import pytest
import torch

import ember
from conftest import assert_close, pair
from opcheck import check, randn

GET = [
    ("int", lambda x, I: x[1]),
    ("neg_int", lambda x, I: x[-1, 2]),
    ("slice", lambda x, I: x[1:3, ::2]),
    ("neg_step_free", lambda x, I: x[:, -3:]),
    ("ellipsis", lambda x, I: x[..., 1]),
    ("none", lambda x, I: x[None, :, None, 0]),
    ("list", lambda x, I: x[[0, 2, 2]]),
    ("int_tensor", lambda x, I: x[I(np.array([3, 0, 0]))]),
    ("two_arrays", lambda x, I: x[I(np.array([0, 1])), I(np.array([2, 3]))]),
    ("array_and_slice", lambda x, I: x[1:, I(np.array([4, 0, 4]))]),
    ("bool_mask", lambda x, I: x[I(np.array([True, False, True, False]))]),
    ("full_mask", lambda x, I: x[x > 0]),
    ("neg_index_tensor", lambda x, I: x[I(np.array([-1, -4]))]),
    ("2d_index", lambda x, I: x[I(np.array([[0, 1], [3, 3]]))]),
    ("separated_adv", lambda x, I: x.reshape(2, 2, 5)[I(np.array([0, 1])), :, I(np.array([1, 4]))]),
    ("scalar_tensor", lambda x, I: x[I(np.array(2))]),
]


def _I_ember(a):
    return ember.tensor(a)


def _I_torch(a):
    return torch.tensor(a)


@pytest.mark.parametrize("name,f", GET, ids=[g[0] for g in GET])
def test_getitem(name, f):
    check(lambda x: f(x, _I_ember), lambda x: f(x, _I_torch), randn(4, 5))


def test_getitem_errors():
    e, t = pair(randn(4, 5))
    for idx in (4, (0, 5), [0, 7]):
        with pytest.raises(IndexError):
            t[idx]
        with pytest.raises(IndexError):
            e[idx]
    with pytest.raises(IndexError):
        t[torch.tensor([True, False])]
    with pytest.raises(IndexError):
        e[ember.tensor([True, False])]


SET = [
    ("int", lambda x, I, v: x.__setitem__(1, v)),
    ("slice", lambda x, I, v: x.__setitem__((slice(1, 3), slice(None, None, 2)), v)),
    ("mask", lambda x, I, v: x.__setitem__(x > 0, v)),
    ("int_tensor", lambda x, I, v: x.__setitem__(I(np.array([0, 2])), v)),
    ("two_arrays", lambda x, I, v: x.__setitem__((I(np.array([0, 1])), I(np.array([2, 3]))), v)),
]


@pytest.mark.parametrize("name,f", SET, ids=[s[0] for s in SET])
def test_setitem_scalar_and_tensor(name, f):
    a = randn(4, 5)

    def run(lib, I, x, val):
        z = x * 1
        v = z._version
        f(z, I, val)
        assert z._version > v
        return z

    check(lambda x: run(ember, _I_ember, x, 2.5), lambda x: run(torch, _I_torch, x, 2.5), a)
    val = randn(1)
    check(lambda x, w: run(ember, _I_ember, x, w), lambda x, w: run(torch, _I_torch, x, w), a, val)


def test_setitem_repeated_indices_do_not_accumulate_index_add_does():
    e, t = pair(np.zeros(5, np.float32))
    e[ember.tensor([0, 0, 1])] += 1
    t[torch.tensor([0, 0, 1])] += 1
    assert_close(e, t)
    assert e.tolist()[0] == 1.0
    e2, t2 = pair(np.zeros(5, np.float32))
    e2.index_add_(0, ember.tensor([0, 0, 1]), ember.ones(3))
    t2.index_add_(0, torch.tensor([0, 0, 1]), torch.ones(3))
    assert_close(e2, t2)
    assert e2.tolist()[0] == 2.0


def test_gather_scatter():
    a = randn(3, 4)
    idx = np.array([[0, 1, 1], [3, 2, 0], [1, 1, 1]])
    for dim in (0, 1):
        ix = idx if dim == 1 else idx[:, :3] % 3
        check(lambda x: ember.gather(x, dim, ember.tensor(ix)), lambda x: torch.gather(x, dim, torch.tensor(ix)), a)
    src = randn(3, 3)
    sidx = np.array([[0, 1, 2], [3, 2, 0], [1, 0, 3]])  # unique per row along dim 1
    check(lambda x, s: ember.scatter(x, 1, ember.tensor(sidx), s), lambda x, s: torch.scatter(x, 1, torch.tensor(sidx), s),
          a, src)
    check(lambda x: ember.scatter(x, 1, ember.tensor(sidx), 0.5), lambda x: torch.scatter(x, 1, torch.tensor(sidx), 0.5),
          a)
    rep = np.array([[0, 0, 1], [3, 3, 3], [1, 0, 1]])  # repeated: add accumulates
    check(lambda x, s: ember.scatter_add(x, 1, ember.tensor(rep), s),
          lambda x, s: torch.scatter_add(x, 1, torch.tensor(rep), s), a, src)
    check(lambda x, s: (x * 1).scatter_add_(1, ember.tensor(rep), s),
          lambda x, s: (x * 1).scatter_add_(1, torch.tensor(rep), s), a, src, names=False)


def test_gather_errors():
    e, t = pair(randn(3, 4))
    with pytest.raises(RuntimeError):
        torch.gather(t, 1, torch.tensor([[5]]))
    with pytest.raises(RuntimeError):
        ember.gather(e, 1, ember.tensor([[5]]))
    with pytest.raises(RuntimeError):
        torch.gather(t, 1, torch.tensor([[1.0]]))
    with pytest.raises(RuntimeError):
        ember.gather(e, 1, ember.tensor([[1.0]]))


def test_index_select_take_index_add():
    a = randn(4, 5)
    ix = np.array([3, 0, 3])
    for dim in (0, 1):
        check(lambda x: ember.index_select(x, dim, ember.tensor(ix)),
              lambda x: torch.index_select(x, dim, torch.tensor(ix)), a)
    check(lambda x: ember.take(x, ember.tensor([[0, 19], [7, 7]])),
          lambda x: torch.take(x, torch.tensor([[0, 19], [7, 7]])), a)
    check(lambda x, s: ember.index_add(x, 0, ember.tensor(ix), s),
          lambda x, s: torch.index_add(x, 0, torch.tensor(ix), s), a, randn(3, 5))
    check(lambda x, s: (x * 1).index_add_(1, ember.tensor(ix), s, alpha=2),
          lambda x, s: (x * 1).index_add_(1, torch.tensor(ix), s, alpha=2), a, randn(4, 3))


def test_masked_fill_where_nonzero():
    a = randn(4, 5)
    m = randn(4, 5) > 0
    check(lambda x: ember.masked_fill(x, ember.tensor(m), -1.0), lambda x: torch.masked_fill(x, torch.tensor(m), -1.0), a)
    check(lambda x: x.masked_fill(ember.tensor(m[0]), 0.0), lambda x: x.masked_fill(torch.tensor(m[0]), 0.0), a)
    check(lambda x: (x * 1).masked_fill_(ember.tensor(m), 3.0), lambda x: (x * 1).masked_fill_(torch.tensor(m), 3.0), a)
    check(lambda x: ember.nonzero(x > 0), lambda x: torch.nonzero(x > 0), a)
    check(lambda x: ember.nonzero(x > 0, as_tuple=True), lambda x: torch.nonzero(x > 0, as_tuple=True), a)
    check(lambda x: ember.where(x > 0), lambda x: torch.where(x > 0), a)
    check(lambda x: (x > 0).nonzero(), lambda x: (x > 0).nonzero(), a)


@pytest.mark.parametrize("k", [0, 1, -1, 3])
def test_tril_triu(k):
    a = randn(4, 5)
    check(lambda x: ember.tril(x, k), lambda x: torch.tril(x, k), a)
    check(lambda x: ember.triu(x, k), lambda x: torch.triu(x, k), a)
    check(lambda x: x.reshape(2, 2, 5).triu(k), lambda x: x.reshape(2, 2, 5).triu(k), a)
    check(lambda x: (x * 1).tril_(k), lambda x: (x * 1).tril_(k), a, names=False)
