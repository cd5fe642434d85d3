"""Layer norm, softmax, log-softmax and cross entropy on the device path: fused kernels (run on the CPU through
the CuPy stand-in, see kernel_emu.py) against PyTorch; device checks read at the next synchronisation; the
device calls of a training step."""
import os
import sys

import numpy as np
import pytest
import torch

import ember

import fake_cupy
import kernel_emu
from conftest import assert_close

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts"))

pytestmark = pytest.mark.skipif(not kernel_emu.available(), reason="g++ is needed to run kernels on the CPU")


@pytest.fixture
def cuda(monkeypatch):
    fake = fake_cupy.install(monkeypatch)
    monkeypatch.setattr(ember.backends, "_pending_checks", [])
    fake_cupy.calls.clear()
    ember.cuda.reset_transfer_counts()
    return fake


def _kernels_called(fn):
    """Run ``fn`` counting device calls; return (result, names of the fused kernels it launched)."""
    fake_cupy.calls.clear()
    fake_cupy.counting[0] = True
    try:
        out = fn()
    finally:
        fake_cupy.counting[0] = False
    return out, {k.split()[1] for k in fake_cupy.calls if k.startswith("kernel ")}


def _both(a, dtype, requires_grad=True):
    a = a.astype(dtype)
    e = ember.tensor(a).cuda().requires_grad_(requires_grad)
    t = torch.tensor(a, requires_grad=requires_grad)
    return e, t


def _tol(dtype):
    return dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("affine", ["both", "weight", "none"])
@pytest.mark.parametrize("shape,ns", [((40, 16), (16,)), ((4, 12, 3, 5), (3, 5)), ((2, 20, 7), (7,))])
def test_layer_norm_fused(cuda, dtype, affine, shape, ns):
    r = np.random.default_rng(0)
    xe, xt = _both(r.standard_normal(shape) * 3 + 1, dtype)
    we, wt = _both(r.standard_normal(ns), dtype)
    be, bt = _both(r.standard_normal(ns), dtype)
    ge = r.standard_normal(shape).astype(dtype)
    w_e, w_t = (we, wt) if affine != "none" else (None, None)
    b_e, b_t = (be, bt) if affine == "both" else (None, None)
    ye, used = _kernels_called(lambda: ember.nn.functional.layer_norm(xe, ns, w_e, b_e, eps=1e-5))
    yt = torch.nn.functional.layer_norm(xt, ns, w_t, b_t, eps=1e-5)
    assert "ember_layer_norm_fwd" in used
    assert_close(ye.cpu(), yt, **_tol(dtype))
    _, used = _kernels_called(lambda: ye.backward(ember.tensor(ge).cuda()))
    yt.backward(torch.tensor(ge))
    assert used == ({"ember_layer_norm_bwd_input", "ember_layer_norm_bwd_affine"} if affine != "none"
                    else {"ember_layer_norm_bwd_input"})
    for e, t in ((xe, xt), (w_e, w_t), (b_e, b_t)):
        if e is not None:
            assert isinstance(e.grad._data, fake_cupy.ndarray)
            assert_close(e.grad.cpu(), t.grad, **_tol(dtype))


def test_layer_norm_few_rows_keeps_the_array_path(cuda):
    x = ember.randn(3, 16).cuda()
    _, used = _kernels_called(lambda: ember.nn.functional.layer_norm(x, (16,)))
    assert not used


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_fused(cuda, dtype, name):
    r = np.random.default_rng(1)
    a = r.standard_normal((6, 8, 10)) * 4
    a[0, 0, 3] = 50.0  # a dominant logit
    a[1, 2] = -np.inf
    a[1, 2, 4] = 0.0  # a row of one finite value
    xe, xt = _both(a, dtype)
    g = r.standard_normal(a.shape).astype(dtype)
    ye, used = _kernels_called(lambda: getattr(ember.nn.functional, name)(xe, -1))
    yt = getattr(torch.nn.functional, name)(xt, -1)
    assert f"ember_{name}_fwd" in used
    assert_close(ye.cpu(), yt, **_tol(dtype))
    _, used = _kernels_called(lambda: ye.backward(ember.tensor(g).cuda()))
    yt.backward(torch.tensor(g))
    assert f"ember_{name}_bwd" in used
    assert_close(xe.grad.cpu(), xt.grad, **_tol(dtype))


def test_softmax_nan_row_and_other_dims(cuda):
    a = np.random.default_rng(2).standard_normal((40, 5)).astype(np.float32)
    a[3, 1] = np.nan
    xe, xt = _both(a, np.float32, requires_grad=False)
    assert_close(ember.softmax(xe, -1).cpu(), torch.softmax(xt, -1))
    assert_close(ember.softmax(xe, 0).cpu(), torch.softmax(xt, 0))  # not the last dim: array path


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_fused(cuda, dtype, reduction, weighted):
    r = np.random.default_rng(3)
    n, c = 48, 7
    xe, xt = _both(r.standard_normal((n, c)) * 2, dtype)
    tgt = r.integers(0, c, n)
    tgt[[1, 5, 9]] = -100  # ignored
    te, tt = ember.tensor(tgt).cuda(), torch.tensor(tgt)
    w = r.random(c) + 0.5
    we, wt_ = (_both(w, dtype, requires_grad=False) if weighted else (None, None))
    le, used = _kernels_called(lambda: ember.nn.functional.cross_entropy(xe, te, we, reduction=reduction))
    lt = torch.nn.functional.cross_entropy(xt, tt, wt_, reduction=reduction)
    assert "ember_cross_entropy_fwd" in used
    assert_close(le.cpu(), lt, **_tol(dtype))
    g = r.standard_normal(lt.shape).astype(dtype)
    _, used = _kernels_called(lambda: le.backward(ember.tensor(g).cuda()))
    lt.backward(torch.tensor(g))
    assert "ember_cross_entropy_bwd" in used
    assert_close(xe.grad.cpu(), xt.grad, **_tol(dtype))


def test_cross_entropy_double_backward_on_the_fused_path(cuda):
    a = np.random.default_rng(4).standard_normal((40, 5))
    xe, xt = _both(a, np.float64)
    tgt = np.random.default_rng(5).integers(0, 5, 40)
    (ge,) = ember.autograd.grad(ember.nn.functional.cross_entropy(xe, ember.tensor(tgt).cuda()), xe, create_graph=True)
    (gt,) = torch.autograd.grad(torch.nn.functional.cross_entropy(xt, torch.tensor(tgt)), xt, create_graph=True)
    (ge * ge).sum().backward()
    (gt * gt).sum().backward()
    assert_close(xe.grad.cpu(), xt.grad, rtol=1e-9, atol=1e-12)


def test_bad_target_is_reported_at_the_next_synchronisation(cuda):
    x = ember.randn(40, 5).cuda()
    t = ember.zeros(40, dtype=ember.int64)
    t[7] = 9
    t = t.cuda()
    loss = ember.nn.functional.cross_entropy(x, t)  # no host wait here: the check is queued
    with pytest.raises(IndexError, match="Target 9 is out of bounds"):
        loss.item()
    loss = ember.nn.functional.cross_entropy(x, t)
    with pytest.raises(IndexError, match="Target 9 is out of bounds"):
        ember.cuda.synchronize()
    ember.cuda.synchronize()  # reported once
    assert ember.nn.functional.cross_entropy(x, ember.zeros(40, dtype=ember.int64).cuda()).item() > 0


@pytest.mark.parametrize("op", ["nll", "ce_smoothing", "embedding"])
def test_other_device_index_checks_are_deferred_too(cuda, op):
    x = ember.randn(4, 5).cuda()
    t = ember.tensor([0, 1, 5, 2]).cuda()
    if op == "nll":
        out = ember.nn.functional.nll_loss(x, t)
    elif op == "ce_smoothing":
        out = ember.nn.functional.cross_entropy(x, t, label_smoothing=0.1)
    else:
        out = ember.nn.functional.embedding(t, ember.randn(5, 3).cuda())
    with pytest.raises(IndexError, match="out of (bounds|range)"):
        out.tolist()


def test_on_the_cpu_the_checks_raise_at_once():
    with pytest.raises(IndexError, match="Target 5 is out of bounds"):
        ember.nn.functional.cross_entropy(ember.randn(4, 5), ember.tensor([0, 1, 5, 2]))
    with pytest.raises(IndexError, match="index out of range in self"):
        ember.nn.functional.embedding(ember.tensor([0, 7]), ember.randn(5, 3))


def test_transformer_training_step_matches_pytorch_on_the_fused_path(cuda):
    torch.manual_seed(0)
    d, vocab = 16, 11

    def model(T):
        layer = T.nn.TransformerEncoderLayer(d, 2, dim_feedforward=32, dropout=0.0, batch_first=True)
        return T.nn.Sequential(T.nn.Embedding(vocab, d), T.nn.TransformerEncoder(layer, 1), T.nn.Linear(d, vocab))

    mt = model(torch)
    me = model(ember)
    me.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in mt.state_dict().items()})
    me.cuda()
    tok = np.random.default_rng(6).integers(0, vocab, (6, 8))
    tgt = np.random.default_rng(7).integers(0, vocab, 48)
    # SGD, not Adam: the key bias's gradient is zero up to rounding, which Adam would scale up to full steps
    oe, ot = ember.optim.SGD(me.parameters(), lr=0.1, momentum=0.9), torch.optim.SGD(mt.parameters(), lr=0.1, momentum=0.9)
    for _ in range(3):
        for T, m, o, tk, tg in ((ember, me, oe, ember.tensor(tok).cuda(), ember.tensor(tgt).cuda()),
                                (torch, mt, ot, torch.tensor(tok), torch.tensor(tgt))):
            o.zero_grad()
            loss = T.nn.functional.cross_entropy(m(tk).reshape(-1, vocab), tg)
            loss.backward()
            o.step()
    for (k, pe), pt in zip(me.named_parameters(), mt.parameters()):
        assert_close(pe.detach().cpu(), pt.detach(), rtol=2e-4, atol=2e-5), k


def test_training_steps_make_few_device_calls_and_no_host_syncs(cuda):
    import gpu_launches
    budget = {"mlp_step": 45, "transformer_step": 200}  # measured 38 and 184 (274 before fusing)
    for name, most in budget.items():
        c = gpu_launches.count_step(name, warmup=1)
        syncs = sum(v for k, v in c.items() if k.startswith("SYNC"))
        assert syncs == 0, c
        assert sum(c.values()) <= most, (name, sum(c.values()), c.most_common(10))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_backward_fused(cuda, dtype):
    a = np.random.default_rng(8).standard_normal((5, 7))
    a[0, :3] = 0.0
    xe, xt = _both(a, dtype)
    g = np.random.default_rng(9).standard_normal(a.shape).astype(dtype)
    ye, yt = ember.relu(xe), torch.relu(xt)
    _, used = _kernels_called(lambda: ye.backward(ember.tensor(g).cuda()))
    yt.backward(torch.tensor(g))
    assert used == {"ember_relu_bwd"}
    assert_close(xe.grad.cpu(), xt.grad, **_tol(dtype))
