"""Convolutions against PyTorch: functional forms (values, input/weight/bias grads, grad_fn names,
double backward via gradcheck/gradgradcheck) and the Conv/ConvTranspose modules (init, repr, state_dict)."""
import numpy as np
import pytest
import torch

import ember
import ember.nn as enn
import ember.nn.functional as EF
from conftest import assert_close
from layercheck import as_np, compare_param_grads, copy_params, run_both

TF = torch.nn.functional

CONV_CASES = [
    ("conv1d", (2, 3, 9), (4, 3, 3), dict(padding="same", dilation=2)),
    ("conv1d", (2, 3, 9), (4, 3, 4), dict(padding="same")),
    ("conv1d", (3, 10), (4, 3, 3), dict(stride=3, padding="valid")),
    ("conv2d", (2, 4, 7, 6), (6, 2, 3, 2), dict(stride=(2, 1), padding=1, dilation=(1, 2), groups=2)),
    ("conv2d", (1, 3, 5, 5), (2, 3, 1, 1), dict()),
    ("conv3d", (1, 2, 5, 4, 5), (3, 2, 2, 3, 2), dict(stride=2, padding=(1, 0, 1))),
    ("conv_transpose1d", (2, 4, 5), (4, 3, 3), dict(stride=3, padding=1, output_padding=2, dilation=2)),
    ("conv_transpose2d", (2, 4, 5, 4), (4, 3, 3, 2), dict(stride=(2, 3), padding=(1, 0), output_padding=(1, 2),
                                                         groups=2)),
    ("conv_transpose2d", (3, 5, 5), (3, 3, 3, 2), dict(stride=2)),
    ("conv_transpose3d", (1, 2, 3, 4, 3), (2, 2, 2, 2, 2), dict(stride=2, padding=1)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,xs,ws,kw", CONV_CASES)
@pytest.mark.parametrize("bias", [True, False])
def test_conv_functional(name, xs, ws, kw, bias, dtype, rng):
    out_ch = ws[1] * kw.get("groups", 1) if "transpose" in name else ws[0]
    arrays = [as_np(xs, rng, dtype), as_np(ws, rng, dtype)] + ([as_np((out_ch,), rng, dtype)] if bias else [])
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)
    ye, yt = run_both(lambda *a: getattr(EF, name)(*a[:2], a[2] if bias else None, **kw),
                      lambda *a: getattr(TF, name)(*a[:2], a[2] if bias else None, **kw), arrays, rng, **tol)
    if len(xs) == len(ws):
        assert ye.grad_fn.name() == yt.grad_fn.name() == "ConvolutionBackward0"


@pytest.mark.parametrize("name,xs,ws,kw", [
    ("conv2d", (1, 2, 4, 4), (2, 1, 2, 2), dict(stride=2, padding=1, groups=2)),
    ("conv_transpose1d", (1, 2, 3), (2, 2, 2), dict(stride=2, output_padding=1)),
])
def test_conv_gradcheck_and_double_backward(name, xs, ws, kw, rng):
    x = ember.tensor(rng.standard_normal(xs), requires_grad=True)
    w = ember.tensor(rng.standard_normal(ws), requires_grad=True)
    b = ember.tensor(rng.standard_normal(ws[1] if "transpose" in name else ws[0]), requires_grad=True)
    f = lambda x, w, b: getattr(EF, name)(x, w, b, **kw)  # noqa: E731
    assert ember.autograd.gradcheck(f, (x, w, b))
    assert ember.autograd.gradgradcheck(f, (x, w, b))


def test_conv_double_backward_matches_torch(rng):
    xa, wa = rng.standard_normal((2, 3, 5, 5)), rng.standard_normal((4, 3, 3, 3))
    res = []
    for lib, F in ((ember, EF), (torch, TF)):
        x = lib.tensor(xa, requires_grad=True)
        w = lib.tensor(wa, requires_grad=True)
        y = F.conv2d(x, w, stride=2, padding=1)
        (gx,) = lib.autograd.grad(y.pow(2).sum(), [x], create_graph=True)
        (gw,) = lib.autograd.grad(gx.pow(2).sum(), [w])
        res.append((gx, gw))
    assert_close(res[0][0], res[1][0], 1e-10, 1e-10)
    assert_close(res[0][1], res[1][1], 1e-10, 1e-9)


def test_conv_errors():
    x = ember.randn(1, 3, 5, 5)
    with pytest.raises(RuntimeError, match="channels"):
        EF.conv2d(x, ember.randn(2, 2, 3, 3))
    with pytest.raises(RuntimeError, match="Kernel size can't be greater"):
        EF.conv2d(x, ember.randn(2, 3, 7, 7))
    with pytest.raises(RuntimeError, match="should be the same"):
        EF.conv2d(x, ember.randn(2, 3, 3, 3, dtype=ember.float64))
    with pytest.raises(RuntimeError, match="strided"):
        EF.conv2d(x, ember.randn(2, 3, 3, 3), stride=2, padding="same")
    with pytest.raises(ValueError):
        enn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError):
        enn.Conv2d(3, 3, 3, padding_mode="bogus")
    with pytest.raises(ValueError):
        enn.ConvTranspose2d(3, 3, 3, padding_mode="reflect")


@pytest.mark.parametrize("cls,args,kw,xs", [
    ("Conv1d", (3, 4, 3), dict(padding=2, padding_mode="circular"), (2, 3, 8)),
    ("Conv2d", (4, 6, (3, 2)), dict(stride=2, padding=1, groups=2, padding_mode="reflect"), (2, 4, 7, 6)),
    ("Conv2d", (3, 4, 4), dict(padding="same", dilation=2, padding_mode="replicate", bias=False), (1, 3, 9, 9)),
    ("Conv2d", (3, 4, 3), dict(), (3, 6, 6)),
    ("Conv3d", (2, 3, 2), dict(padding=1), (1, 2, 4, 3, 4)),
    ("ConvTranspose1d", (3, 2, 4), dict(stride=2, padding=1, dilation=2), (2, 3, 5)),
    ("ConvTranspose2d", (4, 6, 3), dict(stride=2, output_padding=1, groups=2), (2, 4, 4, 5)),
    ("ConvTranspose3d", (2, 2, 2), dict(stride=2), (1, 2, 2, 3, 2)),
])
def test_conv_modules(cls, args, kw, xs, rng):
    tm = getattr(torch.nn, cls)(*args, **kw)
    em = getattr(enn, cls)(*args, **kw)
    assert repr(em) == repr(tm)
    assert [(k, tuple(v.shape)) for k, v in em.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in tm.state_dict().items()]
    # default init: kaiming_uniform(a=sqrt(5)) -> |w| <= 1/sqrt(fan_in)
    fan_in = tm.weight.shape[1] * int(np.prod(tm.kernel_size))
    assert float(em.weight.abs().max()) <= 1 / np.sqrt(fan_in) + 1e-7
    copy_params(em, tm)
    x = as_np(xs, rng)
    ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ye, yt = em(ex), tm(tx)
    assert_close(ye, yt, 1e-5, 1e-5)
    g = as_np(tuple(yt.shape), rng)
    (ye * ember.tensor(g)).sum().backward()
    (yt * torch.tensor(g)).sum().backward()
    assert_close(ex.grad, tx.grad, 1e-4, 1e-5)
    compare_param_grads(em, tm)


def test_conv_transpose_output_size(rng):
    tm = torch.nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)
    em = enn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)
    copy_params(em, tm)
    x = as_np((1, 2, 4, 4), rng)
    assert_close(em(ember.tensor(x), output_size=[8, 8]), tm(torch.tensor(x), output_size=[8, 8]), 1e-5, 1e-5)
    with pytest.raises(ValueError):
        em(ember.tensor(x), output_size=[20, 20])


def test_conv_no_graph_under_no_grad(rng):
    m = enn.Conv2d(2, 3, 3)
    with ember.no_grad():
        y = m(ember.randn(1, 2, 5, 5))
    assert y.grad_fn is None and not y.requires_grad
