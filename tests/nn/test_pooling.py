"""Pooling against PyTorch: values, indices, input gradients, grad_fn names, gradcheck, modules."""
import numpy as np
import pytest
import torch

import ember
import ember.nn as enn
import ember.nn.functional as EF
from conftest import assert_close
from layercheck import as_np, run_both

TF = torch.nn.functional

CASES = [
    ("max_pool2d", (2, 3, 7, 6), (3, 2, 1), dict(return_indices=True)),
    ("max_pool2d", (2, 3, 7, 6), ((3, 2), (2, 1), (1, 0)), dict(dilation=(1, 2), ceil_mode=True, return_indices=True)),
    ("max_pool1d", (2, 3, 9), (3, 2, 1), dict(ceil_mode=True, return_indices=True)),
    ("max_pool1d", (3, 9), (2,), dict()),
    ("max_pool3d", (1, 2, 5, 4, 5), (2,), dict(return_indices=True)),
    ("avg_pool2d", (2, 3, 7, 6), (3, 2, 1), dict()),
    ("avg_pool2d", (2, 3, 7, 6), (3, 2, 1), dict(count_include_pad=False, ceil_mode=True)),
    ("avg_pool2d", (2, 3, 7, 6), (3, 2, 1), dict(ceil_mode=True)),
    ("avg_pool2d", (2, 3, 7, 6), (3, 2, 1), dict(divisor_override=4)),
    ("avg_pool1d", (2, 3, 10), (4, 3, 2), dict(ceil_mode=True)),
    ("avg_pool3d", (1, 2, 5, 4, 5), (2,), dict(padding=1, ceil_mode=True, count_include_pad=False)),
    ("adaptive_avg_pool2d", (2, 3, 7, 6), ((3, 4),), dict()),
    ("adaptive_avg_pool2d", (2, 3, 7, 6), ((None, 4),), dict()),
    ("adaptive_avg_pool2d", (3, 5, 5), (1,), dict()),
    ("adaptive_avg_pool1d", (2, 3, 7), (5,), dict()),
    ("adaptive_max_pool2d", (2, 3, 7, 6), ((3, 4),), dict(return_indices=True)),
    ("adaptive_max_pool1d", (2, 3, 7), (5,), dict(return_indices=True)),
    ("lp_pool2d", (2, 3, 7, 6), (2, 3, 2), dict()),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,xs,args,kw", CASES)
def test_pool_functional(name, xs, args, kw, dtype, rng):
    ye, yt = run_both(lambda x: getattr(EF, name)(x, *args, **kw), lambda x: getattr(TF, name)(x, *args, **kw),
                      [as_np(xs, rng, dtype)], rng)
    if len(xs) > 3 and not name.startswith("lp"):
        assert ye.grad_fn.name() == yt.grad_fn.name()


def test_max_pool_indices_dtype_and_unpool(rng):
    x = as_np((2, 3, 6, 6), rng)
    ye, ie = EF.max_pool2d(ember.tensor(x), 2, return_indices=True)
    yt, it = TF.max_pool2d(torch.tensor(x), 2, return_indices=True)
    assert ie.dtype == ember.int64
    assert_close(ie, it)
    assert_close(EF.max_unpool2d(ye, ie, 2), TF.max_unpool2d(yt, it, 2))
    assert_close(enn.MaxUnpool2d(2)(ye, ie, output_size=(7, 7)), torch.nn.MaxUnpool2d(2)(yt, it, output_size=(7, 7)))


def test_pool_ties_and_neg_inf(rng):
    x = np.zeros((1, 1, 4, 4), np.float32)
    x[0, 0, 1, 1] = -np.inf
    run_both(lambda t: EF.max_pool2d(t, 2, 1), lambda t: TF.max_pool2d(t, 2, 1), [x], rng)


@pytest.mark.parametrize("fn,args", [("max_pool2d", (2, 1, 1)), ("avg_pool2d", (3, 2, 1)),
                                     ("adaptive_avg_pool2d", ((2, 3),)), ("adaptive_max_pool2d", ((2, 2),))])
def test_pool_gradcheck(fn, args, rng):
    x = ember.tensor(rng.standard_normal((1, 2, 4, 5)), requires_grad=True)
    f = lambda x: getattr(EF, fn)(x, *args)  # noqa: E731
    assert ember.autograd.gradcheck(f, (x,))
    assert ember.autograd.gradgradcheck(f, (x,))


def test_pool_errors():
    with pytest.raises(RuntimeError, match="pad should be at most half"):
        EF.max_pool2d(ember.randn(1, 1, 5, 5), 2, 1, 2)
    with pytest.raises(RuntimeError, match="too small"):
        EF.avg_pool2d(ember.randn(1, 1, 2, 2), 3)
    with pytest.raises(RuntimeError):
        EF.max_pool2d(ember.randn(5, 5), 2)


@pytest.mark.parametrize("cls,args,kw,xs", [
    ("MaxPool2d", (3,), dict(stride=2, padding=1, ceil_mode=True), (2, 3, 7, 7)),
    ("MaxPool1d", (2,), dict(return_indices=True), (2, 3, 8)),
    ("AvgPool1d", (3,), dict(stride=2, count_include_pad=False, padding=1), (2, 3, 8)),
    ("AvgPool2d", ((2, 3),), dict(stride=1), (2, 3, 5, 6)),
    ("AvgPool3d", (2,), dict(), (1, 2, 4, 4, 4)),
    ("AdaptiveAvgPool2d", ((1, 1),), dict(), (2, 3, 5, 6)),
    ("AdaptiveAvgPool1d", (3,), dict(), (2, 3, 8)),
    ("AdaptiveMaxPool2d", (2,), dict(return_indices=True), (2, 3, 5, 6)),
    ("LPPool2d", (2, 2), dict(), (2, 3, 5, 6)),
    ("MaxPool3d", (2,), dict(), (1, 2, 4, 4, 4)),
])
def test_pool_modules(cls, args, kw, xs, rng):
    em, tm = getattr(enn, cls)(*args, **kw), getattr(torch.nn, cls)(*args, **kw)
    assert repr(em) == repr(tm)
    run_both(em, tm, [as_np(xs, rng)], rng)
