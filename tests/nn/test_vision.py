"""interpolate / Upsample, pixel_(un)shuffle, unfold/fold against PyTorch."""
import numpy as np
import pytest
import torch

import ember
import ember.nn as enn
import ember.nn.functional as EF
from layercheck import as_np, run_both

TF = torch.nn.functional

INTERP = [
    ((2, 3, 5, 4), dict(size=(7, 9), mode="nearest")),
    ((2, 3, 5, 4), dict(scale_factor=1.7, mode="nearest")),
    ((2, 3, 5, 4), dict(size=(3, 2), mode="nearest")),
    ((2, 3, 5, 4), dict(scale_factor=(0.6, 2.5), mode="nearest-exact")),
    ((2, 3, 5, 4), dict(size=(7, 9), mode="bilinear", align_corners=False)),
    ((2, 3, 5, 4), dict(size=(7, 3), mode="bilinear", align_corners=True)),
    ((2, 3, 5, 4), dict(scale_factor=1.5, mode="bilinear")),
    ((2, 3, 5, 4), dict(scale_factor=0.5, mode="bilinear", recompute_scale_factor=True)),
    ((2, 3, 5, 4), dict(scale_factor=2.3, mode="bicubic", align_corners=False)),
    ((2, 3, 5, 4), dict(size=(8, 7), mode="bicubic", align_corners=True)),
    ((2, 3, 5), dict(size=8, mode="linear")),
    ((2, 3, 5), dict(scale_factor=3, mode="nearest")),
    ((1, 2, 3, 4, 5), dict(size=(4, 6, 3), mode="trilinear", align_corners=True)),
    ((1, 2, 3, 4, 5), dict(scale_factor=2, mode="nearest")),
    ((2, 3, 9, 8), dict(size=(4, 3), mode="area")),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("xs,kw", INTERP)
def test_interpolate(xs, kw, dtype, rng):
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-7, atol=1e-9)
    run_both(lambda x: EF.interpolate(x, **kw), lambda x: TF.interpolate(x, **kw), [as_np(xs, rng, dtype)], rng,
             **tol)


def test_interpolate_gradcheck(rng):
    x = ember.tensor(rng.standard_normal((1, 1, 3, 4)), requires_grad=True)
    for kw in (dict(size=(5, 3), mode="bilinear"), dict(scale_factor=2, mode="nearest"),
               dict(size=(4, 5), mode="bicubic", align_corners=True)):
        assert ember.autograd.gradcheck(lambda t: EF.interpolate(t, **kw), (x,))


def test_interpolate_errors():
    with pytest.raises(ValueError):
        EF.interpolate(ember.randn(1, 1, 4, 4), size=(2, 2), scale_factor=2)
    with pytest.raises(ValueError):
        EF.interpolate(ember.randn(1, 1, 4, 4), size=2, align_corners=True)
    with pytest.raises(NotImplementedError):
        EF.interpolate(ember.randn(1, 1, 4), size=2, mode="bilinear")


@pytest.mark.parametrize("kw", [dict(scale_factor=2), dict(size=(5, 7), mode="bilinear"),
                                dict(scale_factor=(2.0, 1.5), mode="bilinear", align_corners=True)])
def test_upsample_module(kw, rng):
    em, tm = enn.Upsample(**kw), torch.nn.Upsample(**kw)
    assert repr(em) == repr(tm)
    run_both(em, tm, [as_np((2, 3, 4, 4), rng)], rng)
    for cls in ("UpsamplingNearest2d", "UpsamplingBilinear2d"):
        run_both(getattr(enn, cls)(scale_factor=2), getattr(torch.nn, cls)(scale_factor=2), [as_np((1, 2, 3, 3), rng)],
                 rng)


def test_pixel_shuffle(rng):
    run_both(lambda x: EF.pixel_shuffle(x, 2), lambda x: TF.pixel_shuffle(x, 2), [as_np((2, 12, 3, 4), rng)], rng)
    run_both(lambda x: EF.pixel_unshuffle(x, 3), lambda x: TF.pixel_unshuffle(x, 3), [as_np((2, 2, 6, 3), rng)], rng)
    run_both(enn.PixelShuffle(3), torch.nn.PixelShuffle(3), [as_np((5, 18, 2, 2), rng)], rng)
    run_both(enn.PixelUnshuffle(2), torch.nn.PixelUnshuffle(2), [as_np((1, 2, 4, 6), rng)], rng)
    assert repr(enn.PixelShuffle(3)) == repr(torch.nn.PixelShuffle(3))
    with pytest.raises(RuntimeError):
        EF.pixel_shuffle(ember.randn(1, 3, 2, 2), 2)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_unfold_fold(dtype, rng):
    kw = dict(dilation=(1, 2), padding=1, stride=(2, 1))
    run_both(lambda x: EF.unfold(x, (2, 3), **kw), lambda x: TF.unfold(x, (2, 3), **kw),
             [as_np((2, 3, 6, 5), rng, dtype)], rng)
    run_both(lambda x: EF.fold(x, (4, 5), (2, 2), padding=1, stride=2),
             lambda x: TF.fold(x, (4, 5), (2, 2), padding=1, stride=2), [as_np((2, 12, 9), rng, dtype)], rng)
    em, tm = enn.Unfold(3, padding=1), torch.nn.Unfold(3, padding=1)
    assert repr(em) == repr(tm)
    run_both(em, tm, [as_np((1, 2, 4, 4), rng, dtype)], rng)
    em, tm = enn.Fold((3, 3), 2), torch.nn.Fold((3, 3), 2)
    assert repr(em) == repr(tm)
    run_both(em, tm, [as_np((1, 8, 4), rng, dtype)], rng)
    x = ember.tensor(rng.standard_normal((1, 2, 3, 3)), requires_grad=True)
    assert ember.autograd.gradgradcheck(lambda t: EF.unfold(t, 2, padding=1), (x,))
