"""The CNN path's device kernels (pooling, im2col/col2im, conv output + bias), checked without a GPU.

Ember runs on the CuPy stand-in (tests/cuda/fake_cupy.py), whose ElementwiseKernel compiles the kernels'
C++ bodies with g++; every result and gradient is compared with PyTorch on the CPU. The last test keeps
the CNN training step's device calls (host time on a GPU) in check.
"""
import importlib.util
import os

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import ember
import ember.backends
import ember.nn.functional as F

import fake_cupy
import kernel_emu

pytestmark = pytest.mark.skipif(not kernel_emu.available(), reason="g++ is needed to run kernels on the CPU")

DTYPES = [np.float32, np.float64]


@pytest.fixture
def cuda(monkeypatch):
    fake = fake_cupy.install(monkeypatch)
    if hasattr(ember.backends, "_pending_checks"):
        monkeypatch.setattr(ember.backends, "_pending_checks", [])
    ember.cuda.reset_transfer_counts()
    return fake


def _tol(dt):
    return dict(rtol=1e-5, atol=1e-6) if dt == np.float32 else dict(rtol=1e-12, atol=1e-12)


def _np(t):
    return t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else t.detach().cpu().numpy()


def _counted(fn):
    """Run ``fn`` with the stand-in counting device calls; return (result, Counter)."""
    fake_cupy.calls.clear()
    fake_cupy.counting[0] = True
    try:
        out = fn()
    finally:
        fake_cupy.counting[0] = False
    return out, fake_cupy.calls.copy()


def _check(name, x, kw, dt, grad_tol=None):
    """F.<name>(x, **kw) on the fake device and in PyTorch: values, indices (exact) and input gradients.
    The device call must be fused: its kernels run, nothing is read back on the host."""
    xe = ember.tensor(x).cuda().requires_grad_()
    xt = torch.tensor(x, requires_grad=True)
    ye, calls = _counted(lambda: getattr(F, name)(xe, **kw))
    yt = getattr(torch.nn.functional, name)(xt, **kw)
    assert any(k.startswith("kernel ember_") for k in calls), calls
    assert not any(k.startswith("SYNC") for k in calls), calls
    if isinstance(yt, tuple):
        assert isinstance(ye[1]._data, fake_cupy.ndarray)
        assert str(ye[1].dtype).endswith("int64")
        np.testing.assert_array_equal(_np(ye[1]), _np(yt[1]))
        ye, yt = ye[0], yt[0]
    assert isinstance(ye._data, fake_cupy.ndarray) and ye._data.dtype == dt
    if "1d" not in name:   # PyTorch's 1-d pooling is 2-d pooling between unsqueeze and squeeze
        assert ye.grad_fn.name() == yt.grad_fn.name()
    np.testing.assert_allclose(_np(ye), _np(yt), **_tol(dt))
    g = np.random.default_rng(1).standard_normal(tuple(yt.shape)).astype(dt)
    _, calls = _counted(lambda: ye.backward(ember.tensor(g).cuda()))
    yt.backward(torch.tensor(g))
    assert not any(k.startswith("SYNC") for k in calls), calls
    assert isinstance(xe.grad._data, fake_cupy.ndarray)
    np.testing.assert_allclose(_np(xe.grad), _np(xt.grad), **(grad_tol or _tol(dt)))


MAX_CASES = [
    ("max_pool2d", (2, 3, 8, 8), dict(kernel_size=2)),                                   # tiled (LeNet)
    ("max_pool2d", (2, 3, 9, 7), dict(kernel_size=2)),                                   # odd: a ragged edge
    ("max_pool2d", (2, 3, 7, 9), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("max_pool2d", (1, 2, 9, 8), dict(kernel_size=(3, 2), stride=(1, 2), padding=(1, 0), dilation=(2, 3))),
    ("max_pool2d", (3, 7, 6), dict(kernel_size=3, stride=1, padding=1)),                 # unbatched, overlapping
    ("max_pool1d", (2, 3, 11), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("max_pool1d", (2, 3, 10), dict(kernel_size=4, dilation=2)),
    ("max_pool3d", (2, 2, 5, 6, 7), dict(kernel_size=2, stride=(1, 2, 2), padding=1, ceil_mode=True)),
    ("max_pool3d", (1, 2, 4, 4, 4), dict(kernel_size=2)),
    ("adaptive_max_pool1d", (2, 3, 10), dict(output_size=4)),
    ("adaptive_max_pool2d", (2, 3, 7, 9), dict(output_size=(3, 4))),
    ("adaptive_max_pool2d", (2, 3, 5, 5), dict(output_size=(7, None))),                  # windows overlap
    ("adaptive_max_pool3d", (1, 2, 5, 6, 7), dict(output_size=(2, 3, 4))),
]


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("name,shape,kw", MAX_CASES)
def test_max_pooling_matches_pytorch(cuda, name, shape, kw, dt):
    x = np.random.default_rng(0).standard_normal(shape).astype(dt)
    _check(name, x, dict(kw, return_indices=True), dt)
    _check(name, x, kw, dt)


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("name,shape,kw", MAX_CASES)
def test_max_pooling_ties_nan_and_inf(cuda, name, shape, kw, dt):
    """Ties (the first maximum in window order wins), NaN (wins over numbers; PyTorch takes the last NaN
    of a window), -inf everywhere in a window: the same values, indices and gradients as PyTorch."""
    r = np.random.default_rng(2)
    x = r.integers(0, 3, shape).astype(dt)
    flat = x.reshape(-1)
    flat[r.random(flat.size) < 0.08] = np.nan
    flat[r.random(flat.size) < 0.08] = -np.inf
    flat[:6] = -np.inf
    _check(name, x, dict(kw, return_indices=True), dt)


AVG_CASES = [
    ("avg_pool2d", (2, 3, 8, 8), dict(kernel_size=2)),
    ("avg_pool2d", (2, 3, 7, 9), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("avg_pool2d", (2, 3, 7, 9), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)),
    ("avg_pool2d", (2, 3, 7, 9), dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 1), divisor_override=5)),
    ("avg_pool2d", (3, 5, 6), dict(kernel_size=3, stride=1, padding=1, count_include_pad=False)),
    ("avg_pool1d", (2, 3, 10), dict(kernel_size=4, stride=3, padding=2)),
    ("avg_pool1d", (2, 3, 11), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)),
    ("avg_pool3d", (2, 2, 5, 6, 7), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)),
    ("avg_pool3d", (1, 2, 4, 5, 4), dict(kernel_size=2, divisor_override=3)),
    ("adaptive_avg_pool1d", (2, 3, 10), dict(output_size=4)),
    ("adaptive_avg_pool2d", (2, 3, 7, 9), dict(output_size=(3, 4))),
    ("adaptive_avg_pool2d", (2, 3, 4, 5), dict(output_size=(6, 1))),
    ("adaptive_avg_pool3d", (2, 2, 5, 6, 7), dict(output_size=(2, 4, 3))),
]


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("name,shape,kw", AVG_CASES)
def test_avg_pooling_matches_pytorch(cuda, name, shape, kw, dt):
    x = np.random.default_rng(0).standard_normal(shape).astype(dt)
    # float32: PyTorch's adaptive average divides by kh then kw (Ember by kh * kw), a rounding apart
    _check(name, x, kw, dt, grad_tol=dict(rtol=1e-5, atol=1e-6) if dt == np.float32 else None)


def test_pooling_of_a_non_contiguous_input(cuda):
    x = np.random.default_rng(3).standard_normal((2, 3, 9, 8)).astype(np.float32)
    xe = ember.tensor(x).cuda().requires_grad_()
    xt = torch.tensor(x, requires_grad=True)
    ye = F.max_pool2d(xe.transpose(2, 3), 3, 2, 1) * F.avg_pool2d(xe.transpose(2, 3), 3, 2, 1)
    yt = torch.nn.functional.max_pool2d(xt.transpose(2, 3), 3, 2, 1) * torch.nn.functional.avg_pool2d(
        xt.transpose(2, 3), 3, 2, 1)
    np.testing.assert_allclose(_np(ye), _np(yt), rtol=1e-5, atol=1e-6)
    ye.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(_np(xe.grad), _np(xt.grad), rtol=1e-5, atol=1e-6)


def test_pooling_of_an_empty_batch(cuda):
    xe = ember.zeros(0, 3, 6, 6, device="cuda", requires_grad=True)
    y, idx = F.max_pool2d(xe, 2, return_indices=True)
    assert tuple(y.shape) == (0, 3, 3, 3) and tuple(idx.shape) == (0, 3, 3, 3)
    (y.sum() + F.avg_pool2d(xe, 3, 1, 1).sum()).backward()
    assert tuple(xe.grad.shape) == (0, 3, 6, 6)


@pytest.mark.parametrize("name,kw", [("max_pool2d", dict(kernel_size=3, stride=2, padding=1)),
                                     ("avg_pool2d", dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
                                     ("adaptive_avg_pool2d", dict(output_size=(3, 2)))])
def test_pooling_double_backward_matches_pytorch(cuda, name, kw):
    """create_graph through the device path: the gradient of sum((dL/dx)^2) with respect to the
    output gradient (the pooling's backward is linear in it)."""
    r = np.random.default_rng(4)
    x = r.standard_normal((2, 2, 7, 6))
    g = r.standard_normal(tuple(getattr(torch.nn.functional, name)(torch.tensor(x), **kw).shape))
    res = []
    for T, mk in ((ember, lambda a: ember.tensor(a).cuda()), (torch, torch.tensor)):
        xx, gg = mk(x).requires_grad_(), mk(g).requires_grad_()
        y = getattr(T.nn.functional, name)(xx, **kw)
        (gx,) = T.autograd.grad(y, xx, gg, create_graph=True)
        (gx * gx).sum().backward()
        res.append((_np(gx), _np(gg.grad)))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_pooling_gradcheck_on_the_device(cuda):
    x = ember.tensor(np.random.default_rng(5).standard_normal((1, 2, 5, 6))).cuda().requires_grad_()
    assert ember.autograd.gradcheck(lambda t: F.avg_pool2d(t, 3, 2, 1, count_include_pad=False), (x,))
    assert ember.autograd.gradcheck(lambda t: F.adaptive_avg_pool2d(t, (2, 4)), (x,))
    assert ember.autograd.gradcheck(lambda t: F.max_pool2d(t, 2, 1), (x,))


@settings(max_examples=40)
@given(h=st.integers(1, 9), w=st.integers(1, 9), k=st.integers(1, 4), s=st.integers(1, 3),
       p=st.integers(0, 2), d=st.integers(1, 2), ceil=st.booleans(), ties=st.booleans())
def test_max_pool2d_geometry_property(h, w, k, s, p, d, ceil, ties):
    """Random geometry against PyTorch (skipping what PyTorch rejects)."""
    if 2 * p > (k - 1) * d + 1:
        return
    kw = dict(kernel_size=k, stride=s, padding=p, dilation=d, ceil_mode=ceil, return_indices=True)
    r = np.random.default_rng(h * 100 + w)
    x = (r.integers(0, 2, (1, 2, h, w)) if ties else r.standard_normal((1, 2, h, w))).astype(np.float32)
    try:
        torch.nn.functional.max_pool2d(torch.tensor(x), **kw)
    except RuntimeError:
        return
    mp = pytest.MonkeyPatch()
    try:
        fake_cupy.install(mp)
        _check("max_pool2d", x, kw, np.float32)
    finally:
        mp.undo()


# --------------------------------------------------------------------------- convolutions
CONV_CASES = [
    ("conv2d", (2, 1, 12, 12), (6, 1, 5, 5), True, dict(padding=2)),                         # LeNet's first layer
    ("conv2d", (2, 3, 9, 8), (4, 3, 3, 2), True, dict(stride=(2, 1), padding=(1, 2), dilation=(1, 2))),
    ("conv2d", (2, 4, 7, 7), (6, 2, 3, 3), False, dict(groups=2, padding=1)),
    ("conv2d", (2, 4, 7, 6), (6, 4, 4, 3), True, dict(padding="same")),
    ("conv2d", (3, 5, 5), (2, 3, 3, 3), True, dict()),                                        # unbatched
    ("conv1d", (2, 3, 11), (5, 3, 4), True, dict(stride=3, padding=2, dilation=2)),
    ("conv3d", (2, 2, 5, 6, 5), (3, 2, 2, 3, 2), True, dict(stride=(1, 2, 2), padding=1)),
    ("conv_transpose2d", (2, 3, 5, 6), (3, 4, 3, 3), True, dict(stride=2, padding=1, output_padding=1)),
    ("conv_transpose1d", (2, 4, 7), (4, 3, 3), True, dict(stride=3, padding=1, output_padding=2, groups=2,
                                                          dilation=2)),
    ("conv_transpose3d", (1, 2, 3, 4, 3), (2, 2, 2, 3, 2), False, dict(stride=2, padding=(0, 1, 0), output_padding=1)),
]


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("name,xs,ws,bias,kw", CONV_CASES)
def test_convolution_matches_pytorch(cuda, name, xs, ws, bias, kw, dt):
    r = np.random.default_rng(0)
    x, w = r.standard_normal(xs).astype(dt), r.standard_normal(ws).astype(dt)
    nb = ws[1] * kw.get("groups", 1) if "transpose" in name else ws[0]
    b = r.standard_normal(nb).astype(dt) if bias else None
    te = [ember.tensor(a).cuda().requires_grad_() if a is not None else None for a in (x, w, b)]
    tt = [torch.tensor(a, requires_grad=True) if a is not None else None for a in (x, w, b)]
    ye, calls = _counted(lambda: getattr(F, name)(*te, **kw))
    yt = getattr(torch.nn.functional, name)(*tt, **kw)
    assert any(k.startswith("kernel ember_") for k in calls), calls
    assert not any("add.__call__" in k or "SYNC" in k for k in calls), calls
    assert isinstance(ye._data, fake_cupy.ndarray)
    # float32: GEMMs sum in another order than PyTorch's
    tol = dict(rtol=1e-4, atol=1e-5) if dt == np.float32 else dict(rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(_np(ye), _np(yt), **tol)
    g = r.standard_normal(tuple(yt.shape)).astype(dt)
    _, calls = _counted(lambda: ye.backward(ember.tensor(g).cuda()))
    yt.backward(torch.tensor(g))
    assert not any("add.__call__" in k or "SYNC" in k for k in calls), calls   # col2im: one kernel, no adds
    for a, c in zip(te, tt):
        if a is not None:
            assert isinstance(a.grad._data, fake_cupy.ndarray)
            np.testing.assert_allclose(_np(a.grad), _np(c.grad), **tol)


def test_convolution_double_backward_on_the_device(cuda):
    r = np.random.default_rng(6)
    x, w = r.standard_normal((2, 3, 6, 5)), r.standard_normal((4, 3, 3, 3))
    res = []
    for T, mk in ((ember, lambda a: ember.tensor(a).cuda()), (torch, torch.tensor)):
        xx, ww = mk(x).requires_grad_(), mk(w).requires_grad_()
        y = T.nn.functional.conv2d(xx, ww, stride=2, padding=1)
        gx, gw = T.autograd.grad((y * y).sum(), (xx, ww), create_graph=True)
        ((gx * gx).sum() + (gw * gw).sum()).backward()
        res.append((_np(gx), _np(gw), _np(xx.grad), _np(ww.grad)))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)


@settings(max_examples=25)
@given(h=st.integers(3, 9), w=st.integers(3, 9), k=st.integers(1, 3), s=st.integers(1, 3), p=st.integers(0, 2),
       d=st.integers(1, 2), groups=st.sampled_from([1, 2]))
def test_conv2d_geometry_property(h, w, k, s, p, d, groups):
    if h + 2 * p < d * (k - 1) + 1 or w + 2 * p < d * (k - 1) + 1:
        return
    mp = pytest.MonkeyPatch()
    try:
        fake_cupy.install(mp)
        test_convolution_matches_pytorch(None, "conv2d", (2, 2, h, w), (4, 2 // groups, k, k), True,
                                         dict(stride=s, padding=p, dilation=d, groups=groups), np.float64)
    finally:
        mp.undo()


# --------------------------------------------------------------------------- a training step
def _lenet(T):
    nn = T.nn
    T.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 6, 3), nn.ReLU(),
                         nn.AvgPool2d(2, ceil_mode=True), nn.Flatten(), nn.Linear(6 * 2 * 2, 10))


def test_cnn_training_steps_match_pytorch(cuda):
    r = np.random.default_rng(7)
    x = r.standard_normal((4, 1, 12, 12)).astype(np.float32)
    y = r.integers(0, 10, 4)
    mt = _lenet(torch)
    me = _lenet(ember)
    me.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in mt.state_dict().items()})
    me = me.cuda()
    oe, ot = ember.optim.SGD(me.parameters(), lr=0.1, momentum=0.9), torch.optim.SGD(mt.parameters(), lr=0.1,
                                                                                         momentum=0.9)
    xe, ye = ember.tensor(x).cuda(), ember.tensor(y).cuda()
    xt, yt = torch.tensor(x), torch.tensor(y)
    for _ in range(3):
        oe.zero_grad()
        ot.zero_grad()
        le = ember.nn.functional.cross_entropy(me(xe), ye)
        lt = torch.nn.functional.cross_entropy(mt(xt), yt)
        le.backward()
        lt.backward()
        oe.step()
        ot.step()
        np.testing.assert_allclose(le.item(), lt.item(), rtol=1e-5)
    for (n, pe), (_, pt) in zip(me.named_parameters(), mt.named_parameters()):
        assert isinstance(pe._data, fake_cupy.ndarray), n
        np.testing.assert_allclose(_np(pe), _np(pt), rtol=1e-4, atol=1e-5, err_msg=n)


def _gpu_launches():
    path = os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "gpu_launches.py")
    spec = importlib.util.spec_from_file_location("gpu_launches", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_cnn_step_device_calls_stay_down(cuda, monkeypatch):
    """bench/gpu.py's LeNet step: convolutions and poolings made 127 device calls and 2 host syncs per step
    before their kernels (col2im alone was 25 adds), 18 calls and no sync after."""
    monkeypatch.setattr(ember.backends, "_cupy", ember.backends._cupy)   # count_step swaps it: restore after
    c = _gpu_launches().count_step("cnn_step", warmup=1)
    mine = {k: v for k, v in c.items() if "functional/conv" in k or "functional/pooling" in k}  # any split file
    assert sum(mine.values()) <= 22, mine
    assert not any(k.startswith("SYNC") for k in mine), mine
    launches = {}  # by kernel name, wherever the call site lives
    for k, v in c.items():
        if k.startswith("kernel "):
            launches[k.split()[1]] = launches.get(k.split()[1], 0) + v
    assert launches["ember_col2im"] == 1 and launches["ember_maxpool_fwd"] == 2, launches
    total = sum(v for k, v in c.items() if not k.startswith("SYNC"))
    assert total <= 80, c.most_common(20)   # 196 before the fused kernels, 63 after
