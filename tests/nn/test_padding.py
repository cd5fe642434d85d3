"""F.pad and the padding modules against PyTorch (values, gradients, errors, repr)."""
import numpy as np
import pytest
import torch

import ember
import ember.nn as enn
import ember.nn.functional as EF
from layercheck import as_np, run_both

TF = torch.nn.functional

CASES = [
    ((2, 3, 5, 4), (1, 2, 2, 0), "reflect"),
    ((2, 3, 5, 4), (1, 2, 3, 0), "replicate"),
    ((2, 3, 5, 4), (1, 2, 3, 4), "circular"),
    ((2, 3, 5, 4), (1, -2, 3, 0, 1, 1), "constant"),
    ((2, 3, 5, 4), (-1, -1), "constant"),
    ((3, 5), (2, 1), "reflect"),
    ((2, 3, 5), (2, 3), "circular"),
    ((2, 3, 4, 5, 6), (1, 1, 2, 2, 1, 0), "replicate"),
    ((1, 2, 3, 4, 5), (1, 1, 2, 2, 1, 2), "reflect"),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,p,mode", CASES)
def test_pad(shape, p, mode, dtype, rng):
    run_both(lambda x: EF.pad(x, p, mode), lambda x: TF.pad(x, p, mode), [as_np(shape, rng, dtype)], rng)


def test_pad_value_and_int(rng):
    run_both(lambda x: EF.pad(x, (1, 2), value=3.5), lambda x: TF.pad(x, (1, 2), value=3.5),
             [as_np((2, 3), rng)], rng)
    xi = np.arange(6).reshape(2, 3)
    np.testing.assert_array_equal(EF.pad(ember.tensor(xi), (1, 1), value=7).numpy(),
                                  TF.pad(torch.tensor(xi), (1, 1), value=7).numpy())


def test_pad_gradcheck(rng):
    for mode in ("constant", "reflect", "replicate", "circular"):
        x = ember.tensor(rng.standard_normal((1, 2, 3, 3)), requires_grad=True)
        assert ember.autograd.gradcheck(lambda t: EF.pad(t, (1, 2, 2, 1), mode), (x,))
        assert ember.autograd.gradgradcheck(lambda t: EF.pad(t, (1, 2, 2, 1), mode), (x,))


def test_pad_errors():
    with pytest.raises(RuntimeError, match="Padding size should be less"):
        EF.pad(ember.randn(1, 1, 3), (3, 3), "reflect")
    with pytest.raises(RuntimeError, match="divisible by 2"):
        EF.pad(ember.randn(2, 3), (1,))
    with pytest.raises(NotImplementedError):
        EF.pad(ember.randn(2, 3), (1, 1), "bogus")


@pytest.mark.parametrize("cls,arg,xs", [
    ("ReflectionPad1d", 2, (2, 3, 5)), ("ReflectionPad2d", (1, 0, 2, 1), (2, 3, 4, 4)), ("ReflectionPad3d", 1,
                                                                                         (1, 2, 3, 3, 3)),
    ("ReplicationPad1d", (3, 1), (2, 3, 4)), ("ReplicationPad2d", 2, (1, 2, 3, 3)), ("ReplicationPad3d", 1,
                                                                                     (1, 1, 2, 2, 2)),
    ("ZeroPad1d", 2, (2, 3, 4)), ("ZeroPad2d", (1, 2, 0, 3), (2, 3, 4)), ("ZeroPad3d", 1, (1, 1, 2, 2, 2)),
    ("CircularPad1d", 2, (2, 3, 4)), ("CircularPad2d", (1, 2, 2, 1), (1, 2, 3, 3)),
    ("CircularPad3d", 1, (1, 1, 2, 2, 2)),
])
def test_pad_modules(cls, arg, xs, rng):
    em, tm = getattr(enn, cls)(arg), getattr(torch.nn, cls)(arg)
    assert repr(em) == repr(tm)
    run_both(em, tm, [as_np(xs, rng)], rng)


def test_constant_pad_modules(rng):
    for cls, arg, xs in (("ConstantPad1d", (1, 2), (2, 4)), ("ConstantPad2d", 1, (1, 2, 3)),
                         ("ConstantPad3d", (1, 0, 0, 1, 2, 0), (1, 2, 2, 2))):
        em, tm = getattr(enn, cls)(arg, -1.5), getattr(torch.nn, cls)(arg, -1.5)
        assert repr(em) == repr(tm)
        run_both(em, tm, [as_np(xs, rng)], rng)
