"""Transformer layers/stacks against PyTorch in eval mode from identical weights (values and gradients)."""
import numpy as np
import pytest
import torch

import ember
import ember.nn as enn
from conftest import assert_close
from layercheck import as_np, compare_param_grads, copy_params, run_both


def _pair(cls, *args, **kw):
    tm, em = getattr(torch.nn, cls)(*args, **kw), getattr(enn, cls)(*args, **kw)
    return tm, em


@pytest.mark.parametrize("kw", [dict(), dict(norm_first=True, activation="gelu"),
                                dict(batch_first=True, activation=torch.nn.functional.silu)])
def test_encoder_layer_and_stack(kw, rng):
    ekw = dict(kw)
    if callable(kw.get("activation")):
        ekw["activation"] = enn.functional.silu
    tl = torch.nn.TransformerEncoderLayer(8, 2, 16, **kw)
    el = enn.TransformerEncoderLayer(8, 2, 16, **ekw)
    copy_params(el, tl)
    tm = torch.nn.TransformerEncoder(tl, 2, norm=torch.nn.LayerNorm(8), enable_nested_tensor=False)
    em = enn.TransformerEncoder(el, 2, norm=enn.LayerNorm(8))
    copy_params(em, tm)
    for m in (tl, el, tm, em):
        m.eval()
    shape = (3, 5, 8) if kw.get("batch_first") else (5, 3, 8)
    mask = torch.nn.Transformer.generate_square_subsequent_mask(5)
    emask = enn.Transformer.generate_square_subsequent_mask(5)
    kpm = np.zeros((3, 5), bool)
    kpm[1, -1] = True
    run_both(el, tl, [as_np(shape, rng)], rng)
    run_both(lambda x: em(x, emask, ember.tensor(kpm)), lambda x: tm(x, mask, torch.tensor(kpm)),
             [as_np(shape, rng)], rng, rtol=1e-5, atol=1e-5)
    compare_param_grads(em, tm)
    # inference without grad: torch may take its fused "fast path"; values must still agree
    x = as_np(shape, rng)
    with torch.no_grad(), ember.no_grad():
        assert_close(em(ember.tensor(x), src_key_padding_mask=ember.tensor(kpm)),
                     tm(torch.tensor(x), src_key_padding_mask=torch.tensor(kpm)), 1e-5, 1e-5)


@pytest.mark.parametrize("kw", [dict(), dict(norm_first=True, batch_first=True)])
def test_decoder_layer_and_stack(kw, rng):
    tl, el = _pair("TransformerDecoderLayer", 8, 2, 16, **kw)
    copy_params(el, tl)
    tm = torch.nn.TransformerDecoder(tl, 2, norm=torch.nn.LayerNorm(8))
    em = enn.TransformerDecoder(el, 2, norm=enn.LayerNorm(8))
    copy_params(em, tm)
    for m in (tl, el, tm, em):
        m.eval()
    bf = kw.get("batch_first", False)
    tgt, mem = ((3, 4, 8), (3, 6, 8)) if bf else ((4, 3, 8), (6, 3, 8))
    tmask = torch.nn.Transformer.generate_square_subsequent_mask(4)
    emask = enn.Transformer.generate_square_subsequent_mask(4)
    run_both(lambda a, b: el(a, b, tgt_mask=emask), lambda a, b: tl(a, b, tgt_mask=tmask),
             [as_np(tgt, rng), as_np(mem, rng)], rng)
    run_both(lambda a, b: em(a, b, tgt_mask=emask, tgt_is_causal=True),
             lambda a, b: tm(a, b, tgt_mask=tmask, tgt_is_causal=True), [as_np(tgt, rng), as_np(mem, rng)], rng,
             rtol=1e-5, atol=1e-5)
    compare_param_grads(em, tm)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_full_transformer(dtype, rng):
    tm = torch.nn.Transformer(8, 2, 2, 1, 16, dropout=0.1)
    em = enn.Transformer(8, 2, 2, 1, 16, dropout=0.1)
    if dtype == np.float64:
        tm, em = tm.double(), em.double()
    assert [(k, tuple(v.shape)) for k, v in em.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in tm.state_dict().items()]
    copy_params(em, tm)
    tm.eval()
    em.eval()
    tdt = torch.float64 if dtype == np.float64 else torch.float32
    mask_t = tm.generate_square_subsequent_mask(4, dtype=tdt)
    mask_e = em.generate_square_subsequent_mask(4, dtype=ember.float64 if dtype == np.float64 else ember.float32)
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-9, atol=1e-11)
    run_both(lambda s, t: em(s, t, tgt_mask=mask_e), lambda s, t: tm(s, t, tgt_mask=mask_t),
             [as_np((5, 2, 8), rng, dtype), as_np((4, 2, 8), rng, dtype)], rng, **tol)
    compare_param_grads(em, tm, *((1e-4, 1e-5) if dtype == np.float32 else (1e-8, 1e-10)))


def test_transformer_init_and_mask():
    m = enn.Transformer(8, 2, 1, 1, 16)
    for name, p in m.named_parameters():
        if p.dim() > 1:  # xavier_uniform bound
            bound = np.sqrt(6.0 / (p.shape[0] + p.shape[1]))
            assert float(p.abs().max()) <= bound + 1e-6, name
    assert_close(enn.Transformer.generate_square_subsequent_mask(3),
                 torch.nn.Transformer.generate_square_subsequent_mask(3))
    with pytest.raises(RuntimeError):
        m(ember.randn(3, 2, 8), ember.randn(3, 4, 8))
    with pytest.raises(RuntimeError):
        enn.TransformerEncoderLayer(8, 2, activation="swish")
