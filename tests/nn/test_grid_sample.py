"""F.grid_sample and F.affine_grid against PyTorch: values, gradients w.r.t. input, grid and theta,
every mode / padding / align_corners, 4-D and 5-D, border cases, gradcheck, errors."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as F
from ember.autograd import gradcheck
from tests.conftest import assert_close, pair

PADS = ["zeros", "border", "reflection"]


def _run(x, g, mode, pad, align, seed=0):
    """Forward and backward (with a random output weighting) in both libraries."""
    ex, tx = pair(x, True)
    eg, tg = pair(g, True)
    eo = F.grid_sample(ex, eg, mode, pad, align)
    to = TF.grid_sample(tx, tg, mode, pad, align)
    w = np.random.default_rng(seed).standard_normal(to.shape).astype(x.dtype)
    (eo * ember.tensor(w)).sum().backward()
    (to * torch.tensor(w)).sum().backward()
    return (eo, ex.grad, eg.grad), (to, tx.grad, tg.grad)


@pytest.mark.parametrize("align", [False, True])
@pytest.mark.parametrize("pad", PADS)
@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
def test_2d_matches_torch(mode, pad, align):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 5, 6)).astype(np.float32)
    g = (rng.standard_normal((2, 4, 7, 2)) * 0.9).astype(np.float32)  # some points fall outside [-1, 1]
    (eo, egx, egg), (to, tgx, tgg) = _run(x, g, mode, pad, align)
    assert eo.grad_fn.name() == to.grad_fn.name() == "GridSampler2DBackward0"
    assert_close(eo, to, 1e-5, 1e-5)
    assert_close(egx, tgx, 1e-5, 1e-5)
    # grid gradients sum C * taps products of O(1) values, scaled by W/2: float32 rounding ~1e-5 absolute
    assert_close(egg, tgg, 1e-4, 2e-5)


@pytest.mark.parametrize("align", [False, True])
@pytest.mark.parametrize("pad", PADS)
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_3d_matches_torch(mode, pad, align):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 2, 3, 4, 5)).astype(np.float32)
    g = (rng.standard_normal((2, 3, 2, 4, 3)) * 0.9).astype(np.float32)
    (eo, egx, egg), (to, tgx, tgg) = _run(x, g, mode, pad, align)
    assert eo.grad_fn.name() == to.grad_fn.name() == "GridSampler3DBackward0"
    assert_close(eo, to, 1e-5, 1e-5)
    assert_close(egx, tgx, 1e-5, 1e-5)
    assert_close(egg, tgg, 1e-4, 2e-5)


@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
@pytest.mark.parametrize("align", [False, True])
@pytest.mark.parametrize("pad", PADS)
def test_exact_pixels_borders_and_far_points(mode, pad, align):
    """Points on pixel centres, on the borders (where the clip derivative is 0) and several spans
    outside (reflection flips more than once); float64 so only the rules can differ."""
    h, w = 4, 5
    xs = np.concatenate([np.linspace(-1, 1, w), np.linspace(-1, 1, w) * (w - 1) / w, [-3.7, 2.9, 5.3, -1.0, 1.0]])
    ys = np.concatenate([np.linspace(-1, 1, h), [-2.2, 3.1, -1.0, 1.0, 0.0]])
    gx, gy = np.meshgrid(xs, ys)
    g = np.stack([gx, gy], -1)[None].repeat(2, 0)
    x = np.random.default_rng(3).standard_normal((2, 2, h, w))
    (eo, egx, egg), (to, tgx, tgg) = _run(x, g, mode, pad, align)
    assert_close(eo, to, 1e-10, 1e-10)
    assert_close(egx, tgx, 1e-10, 1e-10)
    assert_close(egg, tgg, 1e-10, 1e-10)


def test_non_finite_input_outside_taps_and_only_one_grad():
    # an infinite pixel must not leak into points whose taps lie outside the input (zeros padding)
    x = np.zeros((1, 1, 3, 3), np.float32)
    x[0, 0, 0, 0] = np.inf
    g = np.array([[[[-3.0, -3.0], [0.0, 0.0], [2.5, 0.1]]]], np.float32)
    ex, tx = pair(x)
    eg, tg = pair(g, True)
    eo = F.grid_sample(ex, eg, align_corners=False)
    to = TF.grid_sample(tx, tg, align_corners=False)
    assert_close(eo, to)
    eo.sum().backward()
    to.sum().backward()
    assert_close(eg.grad, tg.grad)
    assert ex.grad is None
    # gradient w.r.t. the input only
    ex, tx = pair(np.random.default_rng(0).standard_normal((1, 2, 3, 3)).astype(np.float32), True)
    eo = F.grid_sample(ex, ember.tensor(g), align_corners=True)
    to = TF.grid_sample(tx, torch.tensor(g), align_corners=True)
    eo.sum().backward()
    to.sum().backward()
    assert_close(ex.grad, tx.grad)


@pytest.mark.parametrize("mode,pad", [("bilinear", "zeros"), ("bilinear", "reflection"), ("bicubic", "border")])
def test_gradcheck(mode, pad):
    rng = np.random.default_rng(4)
    x = ember.tensor(rng.standard_normal((1, 2, 3, 4)), requires_grad=True)
    # points away from pixel boundaries, where the sampler is smooth
    g = ember.tensor(rng.uniform(-0.9, 0.9, (1, 2, 3, 2)) + 0.013, requires_grad=True)
    assert gradcheck(lambda a, b: F.grid_sample(a, b, mode, pad, False), (x, g))
    x3 = ember.tensor(rng.standard_normal((1, 1, 2, 3, 3)), requires_grad=True)
    g3 = ember.tensor(rng.uniform(-0.9, 0.9, (1, 2, 1, 2, 3)) + 0.013, requires_grad=True)
    assert gradcheck(lambda a, b: F.grid_sample(a, b, "bilinear", pad, True), (x3, g3))


def test_double_backward_raises_clearly():
    x = ember.tensor(np.ones((1, 1, 2, 2), np.float32), requires_grad=True)
    g = ember.tensor(np.zeros((1, 1, 1, 2), np.float32), requires_grad=True)
    gx, gg = ember.autograd.grad(F.grid_sample(x, g, align_corners=False).sum(), (x, g), create_graph=True)
    np.testing.assert_allclose(gx.detach().numpy(), np.full((1, 1, 2, 2), 0.25, np.float32))
    with pytest.raises(RuntimeError, match="grid_sampler_2d_backward"):
        gg.sum().backward()


def _same_error(fe, ft, cls=RuntimeError, same_message=True):
    with pytest.raises(cls) as te:
        ft()
    with pytest.raises(cls) as ee:
        fe()
    if same_message:
        assert str(ee.value) == str(te.value)


@pytest.mark.parametrize("xs,gs,kw", [
    ((2, 3, 4, 5), (3, 2, 2, 2), {}),
    ((2, 3, 4, 5), (2, 2, 2, 3), {}),
    ((2, 3, 4, 5), (2, 2, 2), {}),
    ((2, 3, 4), (2, 3, 1), {}),
    ((2, 3, 0, 5), (2, 2, 2, 2), {}),
    ((2, 3, 4, 5, 6), (2, 2, 2, 2, 3), dict(mode="bicubic")),
])
def test_errors_match_torch(xs, gs, kw):
    x, g = np.zeros(xs, np.float32), np.zeros(gs, np.float32)
    _same_error(lambda: F.grid_sample(ember.tensor(x), ember.tensor(g), align_corners=False, **kw),
                lambda: TF.grid_sample(torch.tensor(x), torch.tensor(g), align_corners=False, **kw))


def test_option_errors_and_warning():
    x, g = ember.zeros(1, 1, 2, 2), ember.zeros(1, 1, 1, 2)
    tx, tg = torch.zeros(1, 1, 2, 2), torch.zeros(1, 1, 1, 2)
    for kw in (dict(mode="linear"), dict(padding_mode="edge")):
        _same_error(lambda: F.grid_sample(x, g, align_corners=False, **kw),
                    lambda: TF.grid_sample(tx, tg, align_corners=False, **kw), ValueError)
    # a dtype mismatch is a RuntimeError in both (messages differ: Ember names the op)
    _same_error(lambda: F.grid_sample(x.double(), g, align_corners=False),
                lambda: TF.grid_sample(tx.double(), tg, align_corners=False), same_message=False)
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        F.grid_sample(x, g)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.grid_sample(x, g, align_corners=True)
    # empty batch / empty output grid give empty results, as in PyTorch
    assert F.grid_sample(ember.zeros(2, 3, 4, 5), ember.zeros(2, 0, 3, 2), align_corners=False).shape == (2, 3, 0, 3)


# --------------------------------------------------------------------------- affine_grid
@pytest.mark.parametrize("align", [False, True])
@pytest.mark.parametrize("size", [(2, 3, 4, 5), (2, 1, 1, 3), (2, 3, 2, 3, 4), (2, 1, 3, 1, 2)])
def test_affine_grid_matches_torch(size, align):
    rng = np.random.default_rng(5)
    d = len(size) - 2
    th = rng.standard_normal((2, d, d + 1)).astype(np.float32)
    et, tt = pair(th, True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unit-size grids with align_corners=True warn in both
        eo = F.affine_grid(et, size, align_corners=align)
        to = TF.affine_grid(tt, size, align_corners=align)
    assert eo.grad_fn.name() == to.grad_fn.name() == "AffineGridGeneratorBackward0"
    assert_close(eo, to, 1e-5, 1e-6)
    w = rng.standard_normal(to.shape).astype(np.float32)
    (eo * ember.tensor(w)).sum().backward()
    (to * torch.tensor(w)).sum().backward()
    assert_close(et.grad, tt.grad, 1e-5, 1e-5)


def test_affine_grid_double_backward_and_gradcheck():
    rng = np.random.default_rng(6)
    th = rng.standard_normal((2, 2, 3))
    et, tt = pair(th, True)
    assert gradcheck(lambda t: F.affine_grid(t, (2, 1, 3, 4), align_corners=False), (et,))
    # a gradient penalty: the first derivative is itself differentiable
    eo = F.affine_grid(et, (2, 1, 3, 4), align_corners=False)
    to = TF.affine_grid(tt, (2, 1, 3, 4), align_corners=False)
    (eg,) = ember.autograd.grad((eo ** 2).sum(), et, create_graph=True)
    (tg,) = torch.autograd.grad((to ** 2).sum(), tt, create_graph=True)
    assert_close(eg, tg, 1e-10, 1e-10)
    (eg ** 2).sum().backward()
    (tg ** 2).sum().backward()
    assert_close(et.grad, tt.grad, 1e-10, 1e-10)


def test_affine_grid_then_grid_sample_rotates_like_torch():
    rng = np.random.default_rng(7)
    a = 0.3
    th = np.array([[[np.cos(a), -np.sin(a), 0.1], [np.sin(a), np.cos(a), -0.2]]] * 2, np.float32)
    x = rng.standard_normal((2, 3, 6, 7)).astype(np.float32)
    et, tt = pair(th, True)
    ex, tx = pair(x, True)
    eo = F.grid_sample(ex, F.affine_grid(et, (2, 3, 5, 5), align_corners=False), align_corners=False)
    to = TF.grid_sample(tx, TF.affine_grid(tt, (2, 3, 5, 5), align_corners=False), align_corners=False)
    assert_close(eo, to, 1e-5, 1e-5)
    eo.square().sum().backward()
    to.square().sum().backward()
    assert_close(et.grad, tt.grad, 1e-4, 1e-4)
    assert_close(ex.grad, tx.grad, 1e-5, 1e-5)


@pytest.mark.parametrize("theta_shape,size,cls", [
    ((2, 3, 3), (2, 3, 4, 5), ValueError),
    ((2, 2, 3), (2, 3, 4, 5, 6), ValueError),
    ((2, 2, 3), (2, 3, 4), NotImplementedError),
    ((2, 2, 3), (2, 3, 0, 5), ValueError),
])
def test_affine_grid_errors_match_torch(theta_shape, size, cls):
    th = np.zeros(theta_shape, np.float32)
    _same_error(lambda: F.affine_grid(ember.tensor(th), size, align_corners=False),
                lambda: TF.affine_grid(torch.tensor(th), size, align_corners=False), cls)
    _same_error(lambda: F.affine_grid(ember.tensor(th).int(), size, align_corners=False),
                lambda: TF.affine_grid(torch.tensor(th).int(), size, align_corners=False), ValueError)
