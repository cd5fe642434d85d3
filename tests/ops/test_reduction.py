"""Reductions against PyTorch: values, dtypes, grad_fn names, gradients (ties included)."""
import numpy as np
import pytest
import torch

import ember
from conftest import assert_close, pair
from opcheck import check, rand, randint, randn


@pytest.mark.parametrize("name", ["sum", "mean", "prod", "amax", "amin", "logsumexp", "std", "var", "norm"])
@pytest.mark.parametrize("dim,keepdim", [(None, False), (0, False), (1, True), (-1, False), ((0, 2), False),
                                         ((0, 2), True)])
def test_reduce_dims(name, dim, keepdim):
    a = rand(3, 4, 5, lo=0.5, hi=1.5)
    if dim is None:
        if name in ("logsumexp",):
            pytest.skip("logsumexp needs dim")
        fe = lambda x: getattr(ember, name)(x)
        ft = lambda x: getattr(torch, name)(x)
    else:
        fe = lambda x: getattr(ember, name)(x, dim=dim, keepdim=keepdim)
        ft = lambda x: getattr(torch, name)(x, dim=dim, keepdim=keepdim)
    check(fe, ft, a, rtol=1e-5, atol=1e-5)
    check(lambda x: getattr(x, name)() if dim is None else getattr(x, name)(dim=dim, keepdim=keepdim),
          lambda x: getattr(x, name)() if dim is None else getattr(x, name)(dim=dim, keepdim=keepdim), a,
          rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("correction", [0, 1, 2])
def test_std_var_correction(correction):
    a = randn(4, 6)
    for fname in ("std", "var"):
        check(lambda x: getattr(ember, fname)(x, 1, correction=correction),
              lambda x: getattr(torch, fname)(x, 1, correction=correction), a, rtol=1e-5, atol=1e-5)
        check(lambda x: getattr(ember, fname)(x, correction=correction),
              lambda x: getattr(torch, fname)(x, correction=correction), a, rtol=1e-5, atol=1e-5)
    check(lambda x: ember.var(x, 0, unbiased=False), lambda x: torch.var(x, 0, unbiased=False), a)


def test_sum_dtypes():
    for arr in (randint(3, 4), randint(3, 4).astype(np.int32), randint(3, 4) > 0, randint(3, 4).astype(np.uint8)):
        check(ember.sum, torch.sum, arr)
        check(lambda x: ember.sum(x, 0), lambda x: torch.sum(x, 0), arr)
        check(ember.prod, torch.prod, arr)
    check(lambda x: ember.sum(x, dtype=ember.float64), lambda x: torch.sum(x, dtype=torch.float64), randn(3, 4))
    check(ember.mean, torch.mean, randn(3, 4).astype(np.float64))
    with pytest.raises(RuntimeError):
        torch.mean(torch.tensor([1, 2]))
    with pytest.raises(RuntimeError):
        ember.mean(ember.tensor([1, 2]))


def test_prod_with_zeros():
    a = np.array([[1.0, 0.0, 3.0], [0.0, 0.0, 2.0], [1.5, 2.0, 3.0]], dtype=np.float32)
    check(ember.prod, torch.prod, a)
    check(lambda x: ember.prod(x, 1), lambda x: torch.prod(x, 1), a)
    check(lambda x: ember.prod(x, 0, keepdim=True), lambda x: torch.prod(x, 0, keepdim=True), a)


def test_max_min_all_ties_split_gradient():
    a = np.array([[1.0, 3.0, 3.0], [2.0, 3.0, 0.0]], dtype=np.float32)
    for name in ("max", "min", "amax", "amin"):
        check(getattr(ember, name), getattr(torch, name), a)
    check(lambda x: ember.amax(x, 1), lambda x: torch.amax(x, 1), a)
    check(lambda x: ember.amin(x, 0), lambda x: torch.amin(x, 0), a)


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_dim_returns_values_indices(name):
    a = np.array([[1.0, 3.0, 3.0], [2.0, 3.0, 0.0], [5.0, 5.0, 5.0]], dtype=np.float32)
    for dim, keepdim in [(0, False), (1, False), (1, True), (-1, False)]:
        ye, yt = check(lambda x: getattr(ember, name)(x, dim, keepdim=keepdim),
                       lambda x: getattr(torch, name)(x, dim, keepdim=keepdim), a)
        assert_close(ye.values, yt.values)
        assert_close(ye.indices, yt.indices)
        assert type(ye).__name__ == type(yt).__name__
    check(lambda x: getattr(x, name)(dim=1), lambda x: getattr(x, name)(dim=1), randn(4, 5))


def test_max_binary_form():
    check(ember.max, torch.max, randn(3, 4), randn(4))


@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_argmax_argmin(name):
    a = np.array([[1.0, 3.0, 3.0], [2.0, 3.0, 0.0], [5.0, 5.0, 5.0]], dtype=np.float32)
    for kw in [{}, {"dim": 0}, {"dim": 1}, {"dim": 1, "keepdim": True}]:
        check(lambda x: getattr(ember, name)(x, **kw), lambda x: getattr(torch, name)(x, **kw), a)


def test_logsumexp_large_values():
    a = np.array([[1000.0, 1000.0, -1000.0], [-5.0, 0.0, 5.0]], dtype=np.float32)
    check(lambda x: ember.logsumexp(x, 1), lambda x: torch.logsumexp(x, 1), a)
    check(lambda x: ember.logsumexp(x, 0, keepdim=True), lambda x: torch.logsumexp(x, 0, keepdim=True), a)


@pytest.mark.parametrize("p", [1, 2, 3, float("inf"), "fro"])
def test_norm(p):
    a = randn(3, 4)
    check(lambda x: ember.norm(x, p), lambda x: torch.norm(x, p), a, rtol=1e-5, atol=1e-5)
    if p != "fro":
        check(lambda x: ember.norm(x, p, dim=1), lambda x: torch.norm(x, p, dim=1), a, rtol=1e-5, atol=1e-5)
        check(lambda x: x.norm(p, 0, True), lambda x: x.norm(p, 0, True), a, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
def test_cumulative(name):
    a = rand(3, 4, lo=0.5, hi=1.5)
    for dim in (0, 1, -1):
        check(lambda x: getattr(ember, name)(x, dim), lambda x: getattr(torch, name)(x, dim), a)
        check(lambda x: getattr(x, name)(dim=dim), lambda x: getattr(x, name)(dim=dim), a)
    check(lambda x: getattr(ember, name)(x, 1), lambda x: getattr(torch, name)(x, 1), randint(3, 4))
    check(lambda x: getattr(ember, name)(x, 0), lambda x: getattr(torch, name)(x, 0), randint(3, 4) > 0)


def test_cumprod_with_zero():
    a = np.array([[1.0, 0.0, 3.0, 2.0], [2.0, 3.0, 0.0, 0.0]], dtype=np.float32)
    check(lambda x: ember.cumprod(x, 1), lambda x: torch.cumprod(x, 1), a)
    check(lambda x: ember.cumprod(x, 0), lambda x: torch.cumprod(x, 0), a)
    check(lambda x: ember.prod(x, 1), lambda x: torch.prod(x, 1), a)


@pytest.mark.parametrize("name", ["all", "any"])
def test_all_any(name):
    a = randint(3, 4, lo=0, hi=2)
    for arr in (a, a.astype(bool), a.astype(np.float32)):
        check(getattr(ember, name), getattr(torch, name), arr, requires_grad=[False])
        check(lambda x: getattr(ember, name)(x, 1), lambda x: getattr(torch, name)(x, 1), arr,
              requires_grad=[False])
        check(lambda x: getattr(x, name)(0, keepdim=True), lambda x: getattr(x, name)(0, keepdim=True), arr,
              requires_grad=[False])


def test_sort_topk():
    a = randn(4, 6)
    a[0, 1] = a[0, 3]  # a tie
    for kw in [{}, {"dim": 0}, {"descending": True}, {"dim": 0, "descending": True}]:
        ye, yt = check(lambda x: ember.sort(x, **kw), lambda x: torch.sort(x, **kw), a)
        check(lambda x: ember.argsort(x, **kw), lambda x: torch.argsort(x, **kw), a)
    check(lambda x: ember.sort(x, stable=True), lambda x: torch.sort(x, stable=True), randint(4, 6))
    for k, kw in [(2, {}), (3, {"dim": 0}), (2, {"largest": False}), (1, {"dim": 0, "largest": False})]:
        check(lambda x: ember.topk(x, k, **kw), lambda x: torch.topk(x, k, **kw), randn(4, 6))
    e, t = pair(randn(3))
    with pytest.raises(RuntimeError):
        torch.topk(t, 5)
    with pytest.raises(RuntimeError):
        ember.topk(e, 5)


def test_reduction_errors():
    e, t = pair(randn(3, 4))
    for f in ("sum", "mean", "amax"):
        with pytest.raises(IndexError):
            getattr(torch, f)(t, 2)
        with pytest.raises(IndexError):
            getattr(ember, f)(e, 2)
    with pytest.raises(IndexError):
        torch.max(t, 5)
    with pytest.raises(IndexError):
        ember.max(e, 5)
    ez, tz = pair(np.zeros((0, 3), np.float32))
    with pytest.raises(RuntimeError):
        torch.max(tz)
    with pytest.raises(RuntimeError):
        ember.max(ez)
    assert_close(ember.sum(ez, 0), torch.sum(tz, 0))
    assert_close(ember.amax(ez, 1), torch.amax(tz, 1))
