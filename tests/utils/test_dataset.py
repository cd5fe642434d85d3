"""Datasets against torch.utils.data: same samples, lengths, splits and errors."""
import warnings

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import ember
import ember.utils.data as eud
from conftest import assert_close, raises_like


def _xy(rng, n=10):
    x = rng.standard_normal((n, 3)).astype(np.float32)
    y = rng.integers(0, 5, n)
    return (ember.tensor(x), ember.tensor(y)), (torch.tensor(x), torch.tensor(y))


def test_tensor_dataset_items(rng):
    (ex, ey), (tx, ty) = _xy(rng)
    eds, tds = eud.TensorDataset(ex, ey), tud.TensorDataset(tx, ty)
    assert len(eds) == len(tds) == 10
    for i in (0, 3, -1):
        assert_close(list(eds[i]), list(tds[i]))
    assert_close(list(eds[2:5]), list(tds[2:5]))
    assert_close(list(eds[[1, 4, 4]]), list(tds[[1, 4, 4]]))


def test_tensor_dataset_getitems_matches_per_item(rng):
    (ex, ey), (tx, ty) = _xy(rng)
    eds, tds = eud.TensorDataset(ex, ey), tud.TensorDataset(tx, ty)
    rows = eds.__getitems__([5, 0, 5, 9])
    assert isinstance(rows, list) and all(isinstance(r, tuple) for r in rows)
    for r, i in zip(rows, [5, 0, 5, 9]):
        assert_close(list(r), list(tds[i]))
    assert eds.__getitems__([]) == []


def test_tensor_dataset_size_mismatch():
    raises_like(lambda: eud.TensorDataset(ember.zeros(3, 2), ember.zeros(4)),
                 lambda: tud.TensorDataset(torch.zeros(3, 2), torch.zeros(4)))


def test_dataset_base_and_add():
    with pytest.raises(NotImplementedError):
        eud.Dataset()[0]
    a = eud.TensorDataset(ember.arange(3))
    b = eud.TensorDataset(ember.arange(3, 5))
    c = a + b
    assert isinstance(c, eud.ConcatDataset)
    assert [int(c[i][0]) for i in range(len(c))] == [0, 1, 2, 3, 4]


def test_concat_dataset_matches_torch():
    parts = [np.arange(k, k + n) for k, n in ((0, 3), (10, 1), (20, 4))]
    e = eud.ConcatDataset([eud.TensorDataset(ember.tensor(p)) for p in parts])
    t = tud.ConcatDataset([tud.TensorDataset(torch.tensor(p)) for p in parts])
    assert len(e) == len(t) and e.cumulative_sizes == t.cumulative_sizes
    for i in range(-len(t), len(t)):
        assert_close(e[i][0], t[i][0])
    raises_like(lambda: e[-9], lambda: t[-9])
    with pytest.raises(IndexError):
        e[8]


def test_concat_dataset_errors():
    raises_like(lambda: eud.ConcatDataset([]), lambda: tud.ConcatDataset([]))

    class EIt(eud.IterableDataset):
        def __iter__(self):
            return iter([1])

    class TIt(tud.IterableDataset):
        def __iter__(self):
            return iter([1])

    raises_like(lambda: eud.ConcatDataset([EIt()]), lambda: tud.ConcatDataset([TIt()]))


def test_subset(rng):
    (ex, ey), (tx, ty) = _xy(rng)
    idx = [7, 2, 2, 9]
    e, t = eud.Subset(eud.TensorDataset(ex, ey), idx), tud.Subset(tud.TensorDataset(tx, ty), idx)
    assert len(e) == len(t) == 4
    for i in range(4):
        assert_close(list(e[i]), list(t[i]))
    assert_close(list(e[[0, 3]]), list(t[[0, 3]]))
    for re_, rt in zip(e.__getitems__([3, 1]), t.__getitems__([3, 1])):
        assert_close(list(re_), list(rt))


def test_subset_subclass_must_override_getitems():
    class ESub(eud.Subset):
        def __getitem__(self, i):
            return 0

    class TSub(tud.Subset):
        def __getitem__(self, i):
            return 0

    raises_like(lambda: ESub(eud.TensorDataset(ember.arange(3)), [0]),
                 lambda: TSub(tud.TensorDataset(torch.arange(3)), [0]), same_message=False)


@pytest.mark.parametrize("lengths", [[3, 7], [0.3, 0.7], [0.5, 0.25, 0.25], [0.34, 0.33, 0.33], [10]])
def test_random_split_lengths_and_partition(lengths):
    e = eud.random_split(eud.TensorDataset(ember.arange(10)), lengths, generator=ember.Generator().manual_seed(1))
    t = tud.random_split(tud.TensorDataset(torch.arange(10)), lengths, generator=torch.Generator().manual_seed(1))
    assert [len(s) for s in e] == [len(s) for s in t]
    assert all(isinstance(s, eud.Subset) for s in e)
    got = [int(s[i][0]) for s in e for i in range(len(s))]
    assert sorted(got) == list(range(10))  # disjoint and complete


def test_random_split_reproducible_and_default_generator():
    ds = eud.TensorDataset(ember.arange(20))
    a = eud.random_split(ds, [5, 15], generator=ember.Generator().manual_seed(3))
    b = eud.random_split(ds, [5, 15], generator=ember.Generator().manual_seed(3))
    assert a[0].indices == b[0].indices and a[1].indices == b[1].indices
    ember.manual_seed(7)
    c = eud.random_split(ds, [0.5, 0.5])
    ember.manual_seed(7)
    d = eud.random_split(ds, [0.5, 0.5])
    assert c[0].indices == d[0].indices
    assert sorted(c[0].indices + c[1].indices) == list(range(20))


def test_random_split_errors_and_warning():
    eds, tds = eud.TensorDataset(ember.arange(10)), tud.TensorDataset(torch.arange(10))
    raises_like(lambda: eud.random_split(eds, [3, 3]), lambda: tud.random_split(tds, [3, 3]))
    raises_like(lambda: eud.random_split(eds, [1.5, -0.5]), lambda: tud.random_split(tds, [1.5, -0.5]))
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        parts = eud.random_split(eud.TensorDataset(ember.arange(2)), [0.1, 0.1, 0.8])
    assert any("Length of split at index" in str(x.message) for x in w)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tparts = tud.random_split(tud.TensorDataset(torch.arange(2)), [0.1, 0.1, 0.8])
    assert [len(p) for p in parts] == [len(p) for p in tparts]


def test_stack_dataset(rng):
    (ex, ey), (tx, ty) = _xy(rng, 4)
    e = eud.StackDataset(eud.TensorDataset(ex), eud.TensorDataset(ey))
    t = tud.StackDataset(tud.TensorDataset(tx), tud.TensorDataset(ty))
    assert len(e) == len(t) == 4
    assert_close([e[1][0][0], e[1][1][0]], [t[1][0][0], t[1][1][0]])
    e2 = eud.StackDataset(a=eud.TensorDataset(ex), b=eud.TensorDataset(ey))
    t2 = tud.StackDataset(a=tud.TensorDataset(tx), b=tud.TensorDataset(ty))
    assert list(e2[2]) == list(t2[2]) == ["a", "b"]
    assert_close(e2[2]["b"][0], t2[2]["b"][0])
    rows_e, rows_t = e2.__getitems__([3, 0]), t2.__getitems__([3, 0])
    assert_close([r["a"][0] for r in rows_e], [r["a"][0] for r in rows_t])
    raises_like(lambda: eud.StackDataset(eud.TensorDataset(ex), eud.TensorDataset(ey[:2])),
                 lambda: tud.StackDataset(tud.TensorDataset(tx), tud.TensorDataset(ty[:2])))
    raises_like(lambda: eud.StackDataset(eud.TensorDataset(ex), b=eud.TensorDataset(ey)),
                 lambda: tud.StackDataset(tud.TensorDataset(tx), b=tud.TensorDataset(ty)))


def _range_dataset(data):
    """An IterableDataset class of ``data`` (ember's or torch's utils.data) yielding ``range(a, b)``."""
    class Range(data.IterableDataset):
        def __init__(self, a, b):
            self.a, self.b = a, b

        def __iter__(self):
            return iter(range(self.a, self.b))

        def __len__(self):
            return self.b - self.a
    return Range


_ERange, _TRange = _range_dataset(eud), _range_dataset(tud)


def test_chain_dataset():
    e = eud.ChainDataset([_ERange(0, 3), _ERange(10, 12)])
    t = tud.ChainDataset([_TRange(0, 3), _TRange(10, 12)])
    assert list(e) == list(t) and len(e) == len(t)
    assert list(_ERange(0, 2) + _ERange(5, 6)) == [0, 1, 5]
    assert isinstance(_ERange(0, 2) + _ERange(5, 6), eud.ChainDataset)
    bad_e = eud.ChainDataset([_ERange(0, 1), eud.TensorDataset(ember.arange(2))])
    bad_t = tud.ChainDataset([_TRange(0, 1), tud.TensorDataset(torch.arange(2))])
    raises_like(lambda: list(bad_e), lambda: list(bad_t))
    raises_like(lambda: len(bad_e), lambda: len(bad_t))
