"""scaled_dot_product_attention and MultiheadAttention against PyTorch (values, gradients, masks)."""
import numpy as np
import pytest
import torch

import ember
import ember.nn as enn
import ember.nn.functional as EF
from conftest import assert_close
from layercheck import as_np, compare_param_grads, copy_params, run_both

TF = torch.nn.functional


def _mask(kind, rng, shape):
    if kind == "bool":
        m = rng.random(shape) > 0.3
        m[..., 0] = True  # keep every row attendable (a fully masked row is NaN in both)
        return m
    if kind == "float":
        return as_np(shape, rng)
    return None


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kw,mask", [(dict(), None), (dict(is_causal=True), None), (dict(scale=0.3), None),
                                     (dict(), "bool"), (dict(), "float")])
def test_sdpa(kw, mask, dtype, rng):
    arrays = [as_np((2, 3, 5, 4), rng, dtype), as_np((2, 3, 6, 4), rng, dtype), as_np((2, 3, 6, 7), rng, dtype)]
    m = _mask(mask, rng, (5, 6) if mask == "bool" else (2, 1, 5, 6))
    em = None if m is None else ember.tensor(m.astype(dtype) if mask == "float" else m)
    tm = None if m is None else torch.tensor(m.astype(dtype) if mask == "float" else m)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)
    run_both(lambda q, k, v: EF.scaled_dot_product_attention(q, k, v, em, **kw),
             lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, tm, **kw), arrays, rng, **tol)


def test_sdpa_gradcheck_and_errors(rng):
    q, k, v = (ember.tensor(rng.standard_normal(s), requires_grad=True) for s in ((1, 2, 3), (1, 4, 3), (1, 4, 2)))
    assert ember.autograd.gradcheck(lambda q, k, v: EF.scaled_dot_product_attention(q, k, v, is_causal=True),
                                    (q, k, v))
    with pytest.raises(RuntimeError):
        EF.scaled_dot_product_attention(q, k, v, attn_mask=ember.ones(2, 4).bool(), is_causal=True)
    with pytest.raises(RuntimeError):
        EF.scaled_dot_product_attention(q, ember.randn(1, 4, 5).double(), v)


def test_sdpa_dropout_is_random_but_scaled(rng):
    q = ember.ones(1, 4, 3)
    out = EF.scaled_dot_product_attention(q, q, ember.ones(1, 4, 2), dropout_p=0.5)
    vals = np.unique(np.round(out.numpy(), 5))
    assert set(vals.tolist()) <= {0.0, 0.5, 1.0, 1.5, 2.0}


MHA_CASES = [
    (dict(), dict()),
    (dict(batch_first=True), dict(need_weights=True, average_attn_weights=False)),
    (dict(bias=False), dict(need_weights=False)),
    (dict(kdim=3, vdim=5), dict()),
    (dict(add_bias_kv=True, add_zero_attn=True), dict()),
    (dict(), dict(attn_mask="bool", key_padding_mask=True)),
    (dict(batch_first=True), dict(attn_mask="float", need_weights=False, key_padding_mask=True)),
    (dict(), dict(attn_mask="causal", is_causal=True, need_weights=False)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("ctor,call", MHA_CASES)
def test_multihead_attention(ctor, call, dtype, rng):
    E, H, L, S, N = 8, 2, 4, 5, 3
    tm = torch.nn.MultiheadAttention(E, H, **ctor)
    em = enn.MultiheadAttention(E, H, **ctor)
    if dtype == np.float64:
        tm, em = tm.double(), em.double()
    assert repr(em) == repr(tm)
    copy_params(em, tm)
    bf = ctor.get("batch_first", False)
    kd, vd = ctor.get("kdim", E), ctor.get("vdim", E)
    self_attn = "kdim" not in ctor and "attn_mask" in call and call["attn_mask"] == "causal"
    Sx = L if self_attn else S
    shp = (lambda T, D: (N, T, D) if bf else (T, N, D))
    arrays = [as_np(shp(L, E), rng, dtype)] + ([] if self_attn else [as_np(shp(Sx, kd), rng, dtype),
                                                                     as_np(shp(Sx, vd), rng, dtype)])
    call = dict(call)
    am = call.pop("attn_mask", None)
    ekw, tkw = dict(call), dict(call)
    if am == "bool":
        m = rng.random((L, Sx)) > 0.7
        ekw["attn_mask"], tkw["attn_mask"] = ember.tensor(m), torch.tensor(m)
    elif am == "float":
        m = as_np((L, Sx), rng, dtype)
        ekw["attn_mask"], tkw["attn_mask"] = ember.tensor(m), torch.tensor(m)
    elif am == "causal":
        ekw["attn_mask"] = enn.Transformer.generate_square_subsequent_mask(L, dtype=ember.float64 if dtype ==
                                                                           np.float64 else None)
        tkw["attn_mask"] = torch.nn.Transformer.generate_square_subsequent_mask(L, dtype=torch.float64 if dtype ==
                                                                                np.float64 else None)
        assert_close(ekw["attn_mask"], tkw["attn_mask"])
    if call.get("key_padding_mask"):
        kpm = np.zeros((N, Sx), bool)
        kpm[0, -2:] = True
        ekw["key_padding_mask"], tkw["key_padding_mask"] = ember.tensor(kpm), torch.tensor(kpm)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)
    if self_attn:
        ye, yt = run_both(lambda x: em(x, x, x, **ekw), lambda x: tm(x, x, x, **tkw), arrays, rng, **tol)
    else:
        ye, yt = run_both(lambda q, k, v: em(q, k, v, **ekw), lambda q, k, v: tm(q, k, v, **tkw), arrays, rng, **tol)
    compare_param_grads(em, tm, *((1e-4, 1e-5) if dtype == np.float32 else (1e-9, 1e-11)))


def test_multihead_attention_unbatched_and_weights(rng):
    tm, em = torch.nn.MultiheadAttention(6, 3), enn.MultiheadAttention(6, 3)
    copy_params(em, tm)
    q, k = as_np((4, 6), rng), as_np((5, 6), rng)
    oe, we = em(ember.tensor(q), ember.tensor(k), ember.tensor(k))
    ot, wt = tm(torch.tensor(q), torch.tensor(k), torch.tensor(k))
    assert_close(oe, ot)
    assert_close(we, wt)
    assert list(em.state_dict()) == ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"]
    with pytest.raises(AssertionError):
        enn.MultiheadAttention(7, 2)
