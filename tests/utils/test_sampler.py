"""Samplers against torch.utils.data: deterministic ones exactly; random ones by their properties
(Ember's streams are PCG64, not PyTorch's Philox/MT, so values differ) and reproducibility."""
import numpy as np
import pytest
import torch
import torch.utils.data as tud
from hypothesis import given, settings
from hypothesis import strategies as st

import ember
import ember.utils.data as eud
from conftest import raises_like


def test_sequential_sampler():
    data = list(range(7))
    assert list(eud.SequentialSampler(data)) == list(tud.SequentialSampler(data))
    assert len(eud.SequentialSampler(data)) == 7


def test_random_sampler_is_permutation_and_reproducible():
    data = list(range(50))
    a = list(eud.RandomSampler(data, generator=ember.Generator().manual_seed(0)))
    b = list(eud.RandomSampler(data, generator=ember.Generator().manual_seed(0)))
    c = list(eud.RandomSampler(data, generator=ember.Generator().manual_seed(1)))
    assert sorted(a) == data and a == b and a != c and a != data
    assert all(type(i) is int for i in a)
    # a generator keeps its state: the next epoch is a different permutation
    g = ember.Generator().manual_seed(0)
    s = eud.RandomSampler(data, generator=g)
    assert list(s) != list(s)


def test_random_sampler_global_seed():
    data = list(range(30))
    ember.manual_seed(5)
    a = list(eud.RandomSampler(data))
    ember.manual_seed(5)
    b = list(eud.RandomSampler(data))
    assert a == b and sorted(a) == data


def test_random_sampler_num_samples_without_replacement():
    data = list(range(5))
    s = eud.RandomSampler(data, num_samples=12, generator=ember.Generator().manual_seed(2))
    out = list(s)
    assert len(out) == len(s) == len(tud.RandomSampler(data, num_samples=12)) == 12
    # whole permutations first, then a prefix of another
    assert sorted(out[:5]) == data and sorted(out[5:10]) == data and len(set(out[10:])) == 2


def test_random_sampler_with_replacement():
    data = list(range(4))
    s = eud.RandomSampler(data, replacement=True, num_samples=100, generator=ember.Generator().manual_seed(0))
    out = list(s)
    assert len(out) == 100 and set(out) <= set(data) and len(set(out)) == 4
    assert out == list(eud.RandomSampler(data, replacement=True, num_samples=100,
                                         generator=ember.Generator().manual_seed(0)))


def test_random_sampler_len_follows_dataset():
    data = list(range(3))
    e, t = eud.RandomSampler(data), tud.RandomSampler(data)
    data.append(3)
    assert len(e) == len(t) == 4


@pytest.mark.parametrize("kwargs", [dict(replacement=1), dict(num_samples=0), dict(num_samples=2.0),
                                    dict(num_samples=-1)])
def test_random_sampler_errors(kwargs):
    raises_like(lambda: eud.RandomSampler(range(3), **kwargs), lambda: tud.RandomSampler(range(3), **kwargs))


def test_subset_random_sampler():
    idx = [10, 3, 7, 7, 42]
    s = eud.SubsetRandomSampler(idx, generator=ember.Generator().manual_seed(0))
    out = list(s)
    assert sorted(out) == sorted(idx) and len(s) == len(tud.SubsetRandomSampler(idx)) == 5
    assert out == list(eud.SubsetRandomSampler(idx, generator=ember.Generator().manual_seed(0)))


def test_weighted_random_sampler():
    w = [0.0, 1.0, 3.0, 0.0, 2.0]
    s = eud.WeightedRandomSampler(w, 3000, generator=ember.Generator().manual_seed(0))
    out = np.array(list(s))
    assert len(s) == len(tud.WeightedRandomSampler(w, 3000)) == len(out) == 3000
    assert set(out.tolist()) == {1, 2, 4}
    freq = np.bincount(out, minlength=5) / 3000
    np.testing.assert_allclose(freq, np.array(w) / 6, atol=0.04)
    assert s.weights.dtype == ember.float64
    once = list(eud.WeightedRandomSampler(w, 3, replacement=False, generator=ember.Generator().manual_seed(1)))
    assert sorted(once) == [1, 2, 4]
    assert out.tolist() == list(eud.WeightedRandomSampler(w, 3000, generator=ember.Generator().manual_seed(0)))


def test_weighted_random_sampler_too_many_without_replacement():
    # (PyTorch, unlike ember.multinomial today, also fills with zero-weight indices when
    # num_samples exceeds the non-zero count; only num_samples > len(weights) is compared here.)
    w = [0.0, 1.0, 3.0]
    with pytest.raises(RuntimeError):
        list(tud.WeightedRandomSampler(torch.tensor(w), 4, replacement=False))
    with pytest.raises(RuntimeError):
        list(eud.WeightedRandomSampler(w, 4, replacement=False))


@pytest.mark.parametrize("args", [([[1.0, 2.0]], 2), ([1.0, 2.0], 0), ([1.0, 2.0], True), ([1.0, 2.0], 2, 1)])
def test_weighted_random_sampler_errors(args):
    raises_like(lambda: eud.WeightedRandomSampler(*args), lambda: tud.WeightedRandomSampler(*args))


@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 30), bs=st.integers(1, 8), drop_last=st.booleans())
def test_batch_sampler_matches_torch(n, bs, drop_last):
    e = eud.BatchSampler(eud.SequentialSampler(range(n)), bs, drop_last)
    t = tud.BatchSampler(tud.SequentialSampler(range(n)), bs, drop_last)
    assert list(e) == list(t)
    assert len(e) == len(t)


def test_batch_sampler_over_plain_iterable():
    assert list(eud.BatchSampler([5, 4, 3, 2, 1], 2, False)) == [[5, 4], [3, 2], [1]]


@pytest.mark.parametrize("bs, dl", [(0, False), (True, False), (2.0, False), (2, 1)])
def test_batch_sampler_errors(bs, dl):
    raises_like(lambda: eud.BatchSampler(range(4), bs, dl), lambda: tud.BatchSampler(range(4), bs, dl))


def test_sampler_base():
    with pytest.raises(NotImplementedError):
        iter(eud.Sampler())

    class Evens(eud.Sampler):
        def __init__(self, n):
            self.n = n

        def __iter__(self):
            return iter(range(0, self.n, 2))

        def __len__(self):
            return (self.n + 1) // 2

    loader = eud.DataLoader(list(range(10)), sampler=Evens(10), batch_size=2)
    assert [b.tolist() for b in loader] == [[0, 2], [4, 6], [8]]
