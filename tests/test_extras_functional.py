"""PyTorch's top-level functional forms (``torch.conv2d``, ``torch.layer_norm``, ``torch.embedding`` ...) with
their top-level signatures, against torch: values and gradients."""
import numpy as np
import pytest
import torch

import ember
from conftest import assert_close, pair

rng = np.random.default_rng(1)


def f32(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def _check(name, *args, grad=True, rtol=1e-5, atol=1e-6, constant=(), **kw):
    """Calls ember.<name> and torch.<name> with the same positional arguments, each NumPy array becoming a
    tensor on each side (requiring grad when floating); compares outputs and gradients."""
    es, ts = [], []
    for i, a in enumerate(args):
        if not isinstance(a, np.ndarray):
            es.append(a)
            ts.append(a)
            continue
        e, t = pair(a, requires_grad=grad and a.dtype.kind == "f" and i not in constant)
        es.append(e)
        ts.append(t)
    eo, to = getattr(ember, name)(*es, **kw), getattr(torch, name)(*ts, **kw)
    assert_close(eo, to, rtol, atol)
    if grad:
        eo0, to0 = (eo[0], to[0]) if isinstance(to, tuple) else (eo, to)
        g = f32(*to0.shape).astype(np.float32)
        eo0.backward(ember.tensor(g))
        to0.backward(torch.tensor(g))
        for e, t in zip(es, ts):
            if isinstance(t, torch.Tensor) and t.requires_grad:
                assert_close(e.grad, t.grad, rtol * 10, atol * 10)
    return eo, to


def test_convs():
    _check("conv1d", f32(2, 4, 9), f32(6, 2, 3), f32(6), 2, 1, 1, 2)
    _check("conv2d", f32(2, 3, 6, 6), f32(4, 3, 3, 3), None, 1, 1)
    _check("conv3d", f32(1, 2, 4, 4, 4), f32(3, 2, 2, 2, 2))
    _check("conv_transpose1d", f32(2, 4, 5), f32(4, 3, 3), f32(3), 2, 1, 1)
    _check("conv_transpose2d", f32(1, 2, 4, 4), f32(2, 3, 3, 3), None, 2)
    _check("conv_transpose3d", f32(1, 2, 3, 3, 3), f32(2, 2, 2, 2, 2))


def test_norms():
    _check("layer_norm", f32(3, 4, 5), [5], f32(5), f32(5))
    _check("layer_norm", f32(3, 4, 5), [4, 5], None, None, 1e-3, True)
    _check("group_norm", f32(2, 6, 3), 3, f32(6), f32(6))
    _check("group_norm", f32(2, 6, 3), 2, None, None, 1e-4)
    _check("rms_norm", f32(3, 5), [5], f32(5))
    _check("rms_norm", f32(3, 5), [5], None, 1e-3)
    x, w, b = f32(4, 3, 2), f32(3), f32(3)
    rm, rv = np.zeros(3, np.float32), np.ones(3, np.float32)
    erm, trm = pair(rm)
    erv, trv = pair(rv)
    ex, tx = pair(x, requires_grad=True)
    eo = ember.batch_norm(ex, ember.tensor(w), ember.tensor(b), erm, erv, True, 0.1, 1e-5, True)
    to = torch.batch_norm(tx, torch.tensor(w), torch.tensor(b), trm, trv, True, 0.1, 1e-5, True)
    assert_close(eo, to)
    assert_close(erm, trm)
    assert_close(erv, trv)
    eo.sum().backward()
    to.sum().backward()
    assert_close(ex.grad, tx.grad, atol=1e-5)
    assert_close(ember.batch_norm(ex, None, None, erm, erv, False, 0.1, 1e-5, False),
                 torch.batch_norm(tx, None, None, trm, trv, False, 0.1, 1e-5, False))
    assert_close(ember.instance_norm(ex, ember.tensor(w), ember.tensor(b), None, None, True, 0.1, 1e-5, False),
                 torch.instance_norm(tx, torch.tensor(w), torch.tensor(b), None, None, True, 0.1, 1e-5, False),
                 atol=1e-5)


def test_embedding():
    w = f32(6, 3)
    idx = np.array([[0, 2, 5], [2, 2, 1]])
    for pad in (-1, 2):
        ew, tw = pair(w, requires_grad=True)
        eo, to = ember.embedding(ew, ember.tensor(idx), pad), torch.embedding(tw, torch.tensor(idx), pad)
        assert_close(eo, to)
        eo.sum().backward()
        to.sum().backward()
        assert_close(ew.grad, tw.grad)


def test_pools():
    x = f32(2, 3, 10)
    _check("max_pool1d", x, 3)
    _check("max_pool1d", x, 3, 2, 1, 1, True)
    _check("max_pool1d", x, [2], [])
    _check("max_pool2d", f32(1, 2, 6, 7), 2)
    _check("max_pool2d", f32(1, 2, 6, 7), [3, 2], [2, 1], 1)
    _check("max_pool3d", f32(1, 1, 4, 4, 5), 2)
    _check("max_pool1d_with_indices", x, 3, 2)
    _check("avg_pool1d", x, 3)
    _check("avg_pool1d", x, 3, 2, 1, True, False)
    _check("adaptive_avg_pool1d", x, 4)
    eo, to = _check("adaptive_max_pool1d", x, 4)
    assert isinstance(to, tuple) and len(eo) == 2


def test_shuffles_and_activations():
    _check("pixel_shuffle", f32(1, 8, 2, 3), 2)
    _check("pixel_unshuffle", f32(1, 2, 4, 6), 2)
    _check("channel_shuffle", f32(2, 6, 3, 2), 3, grad=False)
    _check("native_channel_shuffle", f32(2, 6, 3), 2, grad=False)
    e, t = pair(f32(2, 6, 3), requires_grad=True)
    ember.channel_shuffle(e, 2).sum().backward()  # composed of views: the gradient is all ones
    assert_close(e.grad, torch.ones(2, 6, 3))
    for bad in (0, 4):
        with pytest.raises(RuntimeError):
            torch.channel_shuffle(torch.ones(1, 6, 2), bad)
        with pytest.raises(RuntimeError):
            ember.channel_shuffle(ember.ones(1, 6, 2), bad)
    _check("prelu", f32(2, 3, 4), np.abs(f32(3)))
    _check("selu", f32(3, 4))
    _check("celu", f32(3, 4), 0.7)
    _check("rrelu", f32(3, 4))
    _check("threshold", f32(3, 4), 0.1, -2.0)
    _check("hardshrink", f32(3, 4), 0.3)
    e, t = pair(f32(3, 4))
    assert_close(e.hardshrink(), t.hardshrink())
    w = np.abs(f32(1))
    assert_close(e.prelu(ember.tensor(w)), t.prelu(torch.tensor(w)))
    for name, args in (("selu_", ()), ("celu_", (1.5,)), ("rrelu_", ()), ("threshold_", (0.0, 5.0))):
        e, t = pair(f32(3, 4))
        assert getattr(ember, name)(e, *args) is e
        getattr(torch, name)(t, *args)
        assert_close(e, t)


def test_similarity_and_distances():
    _check("bilinear", f32(4, 3), f32(4, 2), f32(5, 3, 2), f32(5))
    _check("cosine_similarity", f32(4, 3), f32(4, 3))
    _check("cosine_similarity", f32(4, 3), f32(1, 3), 1, 1e-6)
    _check("pairwise_distance", f32(4, 3), f32(4, 3))
    _check("pairwise_distance", f32(4, 3), f32(4, 3), 1.0, 1e-6, True)
    for p in (2, 1, 3.0, float("inf"), 0):
        _check("pdist", f32(5, 3), p, grad=p != 0, atol=1e-5)
    x = f32(4, 3)
    x[2] = x[0]  # coincident rows: gradient 0 there, as in PyTorch
    _check("pdist", x)
    assert_close(ember.pdist(ember.ones(1, 3)), torch.pdist(torch.ones(1, 3)))
    with pytest.raises(RuntimeError):
        ember.pdist(ember.ones(3))


@pytest.mark.parametrize("reduction", [0, 1, 2])
def test_losses_int_reduction(reduction):
    a, b = f32(4, 3), f32(4, 3)
    y = np.sign(f32(4)).astype(np.float32)
    _check("kl_div", a, np.log(np.abs(b) + 0.1), reduction, log_target=True)
    _check("kl_div", a, np.abs(b), reduction)
    _check("poisson_nll_loss", a, np.abs(b), True, False, 1e-8, reduction)
    _check("poisson_nll_loss", np.abs(a) + 0.1, np.abs(b) * 3, False, True, 1e-8, reduction)  # Stirling term too
    _check("margin_ranking_loss", f32(4), f32(4), y, 0.2, reduction)
    _check("hinge_embedding_loss", a, np.sign(b), 0.5, reduction)
    _check("triplet_margin_loss", a, b, f32(4, 3), 1.0, 2.0, 1e-6, True, reduction)
    _check("cosine_embedding_loss", a, b, y, 0.1, reduction)
    _check("binary_cross_entropy_with_logits", a, (b > 0).astype(np.float32), np.abs(f32(3)), np.abs(f32(3)),
           reduction, constant=(2, 3))


def test_ctc_loss_top_level():
    T, N, C, S = 6, 2, 4, 3
    lp = np.log(np.exp(f32(T, N, C)) / np.exp(f32(T, N, C)).sum(-1, keepdims=True) + 1e-3).astype(np.float32)
    tg = rng.integers(1, C, (N, S))
    for red in (0, 1, 2):
        el, tl = pair(lp, requires_grad=True)
        eo = ember.ctc_loss(el, ember.tensor(tg), [6, 5], [3, 2], 0, red, False)
        to = torch.ctc_loss(tl, torch.tensor(tg), [6, 5], [3, 2], 0, red, False)
        assert_close(eo, to, rtol=1e-4, atol=1e-5)
        eo.sum().backward()
        to.sum().backward()
        assert_close(el.grad, tl.grad, rtol=1e-4, atol=1e-5)


def test_dropouts_eval_and_stats():
    x = f32(4, 5, 6)
    for name in ("alpha_dropout", "feature_alpha_dropout", "feature_dropout"):
        e, t = pair(x)
        assert_close(getattr(ember, name)(e, 0.5, False), getattr(torch, name)(t, 0.5, False))
        assert_close(getattr(ember, name + "_")(e, 0.5, False), getattr(torch, name + "_")(t, 0.5, False))
    e = ember.ones(64, 32, 4)
    out = ember.feature_dropout(e, 0.25, True)
    ch = out[:, :, 0]
    assert bool(((out == 0) | (out - 1 / 0.75).abs().lt(1e-6)).all())
    assert bool((out == ch.unsqueeze(-1)).all())  # whole channels
    frac = float((ch == 0).float().mean())
    assert 0.18 < frac < 0.32
    e = ember.ones(1000)
    ember.dropout_(e, 0.5, True)
    assert set(np.unique(e.numpy()).tolist()) <= {0.0, 2.0}
    with pytest.raises(RuntimeError):
        ember.feature_dropout(ember.ones(2, 2), 1.5, True)


def test_grid_sampler_affine_grid_pad():
    theta = f32(2, 2, 3) * 0.3 + np.array([[1, 0, 0], [0, 1, 0]], np.float32)
    for ac in (False, True):
        _check("affine_grid_generator", theta, [2, 3, 4, 5], ac)
    x = f32(2, 3, 4, 5)
    grid = np.clip(f32(2, 3, 3, 2) * 0.6, -1.1, 1.1).astype(np.float32)
    for mode in (0, 1):
        for pad in (0, 1, 2):
            _check("grid_sampler", x, grid, mode, pad, False, grad=mode == 0, atol=1e-5)
    with pytest.raises(RuntimeError):
        ember.grid_sampler(ember.tensor(x), ember.tensor(grid), 5, 0, False)
    _check("constant_pad_nd", f32(2, 3), [1, 2])
    _check("constant_pad_nd", f32(2, 3, 4), [1, 0, 0, 2], 1.5)


def test_functional_namespace_has_pdist_and_channel_shuffle():
    F, TF = ember.nn.functional, torch.nn.functional
    x = f32(5, 3)
    assert_close(F.pdist(ember.tensor(x), 1.5), TF.pdist(torch.tensor(x), 1.5))
    y = f32(2, 6, 2)
    assert_close(F.channel_shuffle(ember.tensor(y), 3), TF.channel_shuffle(torch.tensor(y), 3))
    assert_close(F.native_channel_shuffle(ember.tensor(y), 2), TF.native_channel_shuffle(torch.tensor(y), 2))


@pytest.mark.parametrize("mode", [0, 1, 2])
@pytest.mark.parametrize("case", ["offsets", "last_offset", "padding", "neg_padding", "no_offsets"])
def test_embedding_bag_top_level(mode, case):
    w = f32(6, 3)
    idx = np.array([0, 2, 5, 2, 2, 1, 4])
    off = np.array([0, 3, 3, 5])
    kw = {}
    if case == "last_offset":
        off = np.array([0, 3, 3, 7])
        kw = dict(include_last_offset=True)
    args = ()
    if case == "padding":
        args = (False, None, False, 2)  # padding_idx is positional-only at top level
    if case == "neg_padding":
        args = (False, None, False, -1)
    ew, tw = pair(w, requires_grad=True)
    if case == "no_offsets":
        with pytest.raises(TypeError):
            torch.embedding_bag(tw, torch.tensor(idx.reshape(7, 1)), None, False, mode)
        with pytest.raises(TypeError):
            ember.embedding_bag(ew, ember.tensor(idx.reshape(7, 1)), None, False, mode)
        return
    eo = ember.embedding_bag(ew, ember.tensor(idx), ember.tensor(off), False, mode, *args, **kw)
    to = torch.embedding_bag(tw, torch.tensor(idx), torch.tensor(off), False, mode, *args, **kw)
    assert len(eo) == 4
    assert_close(eo, to)
    g = f32(*to[0].shape)
    eo[0].backward(ember.tensor(g))
    to[0].backward(torch.tensor(g))
    assert_close(ew.grad, tw.grad)
