"""RNN / LSTM / GRU and their cells against PyTorch from identical weights: outputs, final states,
input/state/parameter gradients, packed sequences, repr and state_dict keys."""
import numpy as np
import pytest
import torch

import ember
import ember.nn as enn
from conftest import assert_close
from layercheck import as_np, compare_param_grads, copy_params

RNN_CASES = [
    ("RNN", dict(num_layers=2, nonlinearity="relu")),
    ("RNN", dict(bidirectional=True, bias=False)),
    ("LSTM", dict()),
    ("LSTM", dict(num_layers=2, bidirectional=True, batch_first=True)),
    ("LSTM", dict(proj_size=2)),
    ("GRU", dict(num_layers=2)),
    ("GRU", dict(bidirectional=True, batch_first=True)),
]


def _state(lib, arrs, is_lstm):
    if arrs is None:
        return None
    ts = [lib.tensor(a, requires_grad=True) for a in arrs]
    return (tuple(ts) if is_lstm else ts[0]), ts


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cls,kw", RNN_CASES)
@pytest.mark.parametrize("with_h0", [False, True])
def test_rnn_modules(cls, kw, with_h0, dtype, rng):
    I, H, T, B = 3, 4, 5, 2
    tm = getattr(torch.nn, cls)(I, H, **kw).to(torch.float64 if dtype == np.float64 else torch.float32)
    em = getattr(enn, cls)(I, H, **kw)
    if dtype == np.float64:
        em = em.double()
    assert repr(em) == repr(tm)
    copy_params(em, tm)
    x = as_np((B, T, I) if kw.get("batch_first") else (T, B, I), rng, dtype)
    is_lstm = cls == "LSTM"
    L = kw.get("num_layers", 1) * (2 if kw.get("bidirectional") else 1)
    hsz = kw.get("proj_size") or H
    h0 = [as_np((L, B, hsz), rng, dtype)] + ([as_np((L, B, H), rng, dtype)] if is_lstm else []) if with_h0 else None
    ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    es, ts = (_state(ember, h0, is_lstm), _state(torch, h0, is_lstm)) if with_h0 else ((None, []), (None, []))
    ye, he = em(ex, es[0])
    yt, ht = tm(tx, ts[0])
    tol = (1e-5, 1e-6) if dtype == np.float32 else (1e-10, 1e-12)
    assert_close(ye, yt, *tol)
    assert_close(he, ht, *tol)
    hs_e = he if is_lstm else (he,)
    hs_t = ht if is_lstm else (ht,)
    ge = [as_np(tuple(yt.shape), rng, dtype)] + [as_np(tuple(h.shape), rng, dtype) for h in hs_t]
    le = (ye * ember.tensor(ge[0])).sum() + sum((h * ember.tensor(g)).sum() for h, g in zip(hs_e, ge[1:]))
    lt = (yt * torch.tensor(ge[0])).sum() + sum((h * torch.tensor(g)).sum() for h, g in zip(hs_t, ge[1:]))
    le.backward()
    lt.backward()
    gt = (1e-4, 1e-5) if dtype == np.float32 else (1e-9, 1e-11)
    assert_close(ex.grad, tx.grad, *gt)
    for a, b in zip(es[1], ts[1]):
        assert_close(a.grad, b.grad, *gt)
    compare_param_grads(em, tm, *gt)


def test_rnn_unbatched_and_dropout_eval(rng):
    tm, em = torch.nn.GRU(3, 4, num_layers=2, dropout=0.5), enn.GRU(3, 4, num_layers=2, dropout=0.5)
    copy_params(em, tm)
    em.eval()
    tm.eval()
    x = as_np((5, 3), rng)
    ye, he = em(ember.tensor(x))
    yt, ht = tm(torch.tensor(x))
    assert_close(ye, yt)
    assert_close(he, ht)


@pytest.mark.parametrize("cls,kw", [("LSTM", dict(bidirectional=True)), ("GRU", dict(num_layers=2)),
                                    ("RNN", dict(bidirectional=True, num_layers=2))])
def test_rnn_packed(cls, kw, rng):
    tm, em = getattr(torch.nn, cls)(3, 4, **kw), getattr(enn, cls)(3, 4, **kw)
    copy_params(em, tm)
    lengths = [3, 5, 1, 4]
    x = as_np((5, 4, 3), rng)
    ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    pe = enn.utils.rnn.pack_padded_sequence(ex, lengths, enforce_sorted=False)
    pt = torch.nn.utils.rnn.pack_padded_sequence(tx, torch.tensor(lengths), enforce_sorted=False)
    oe, he = em(pe)
    ot, ht = tm(pt)
    assert_close(oe.data, ot.data)
    assert_close(he, ht)
    ue, _ = enn.utils.rnn.pad_packed_sequence(oe)
    ut, _ = torch.nn.utils.rnn.pad_packed_sequence(ot)
    assert_close(ue, ut)
    hs_e, hs_t = (he if cls == "LSTM" else (he,)), (ht if cls == "LSTM" else (ht,))
    (ue.sum() + sum(h.pow(2).sum() for h in hs_e)).backward()
    (ut.sum() + sum(h.pow(2).sum() for h in hs_t)).backward()
    assert_close(ex.grad, tx.grad, 1e-4, 1e-5)
    compare_param_grads(em, tm)


@pytest.mark.parametrize("cls,kw", [("RNNCell", dict()), ("RNNCell", dict(nonlinearity="relu", bias=False)),
                                    ("LSTMCell", dict()), ("GRUCell", dict())])
@pytest.mark.parametrize("batched", [True, False])
def test_cells(cls, kw, batched, rng):
    tm, em = getattr(torch.nn, cls)(3, 4, **kw), getattr(enn, cls)(3, 4, **kw)
    assert repr(em) == repr(tm)
    copy_params(em, tm)
    x = as_np((2, 3) if batched else (3,), rng)
    hs = (2, 4) if batched else (4,)
    h = as_np(hs, rng)
    ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    if cls == "LSTMCell":
        c = as_np(hs, rng)
        ye = em(ex, (ember.tensor(h), ember.tensor(c)))
        yt = tm(tx, (torch.tensor(h), torch.tensor(c)))
        assert_close(ye, yt)
        (ye[0].sum() + ye[1].pow(2).sum()).backward()
        (yt[0].sum() + yt[1].pow(2).sum()).backward()
    else:
        ye, yt = em(ex, ember.tensor(h)), tm(tx, torch.tensor(h))
        assert_close(ye, yt)
        ye.pow(2).sum().backward()
        yt.pow(2).sum().backward()
    assert_close(ex.grad, tx.grad, 1e-4, 1e-6)
    compare_param_grads(em, tm)
    # default state is zeros
    assert_close(em(ember.tensor(x))[0] if cls == "LSTMCell" else em(ember.tensor(x)),
                 tm(torch.tensor(x))[0] if cls == "LSTMCell" else tm(torch.tensor(x)))


def test_rnn_errors_and_init():
    with pytest.raises(ValueError):
        enn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError):
        enn.GRU(3, 4, proj_size=2)
    m = enn.LSTM(3, 4)
    with pytest.raises(RuntimeError, match="input_size"):
        m(ember.randn(5, 2, 2))
    with pytest.raises(RuntimeError, match="hidden"):
        m(ember.randn(5, 2, 3), (ember.zeros(1, 3, 4), ember.zeros(1, 2, 4)))
    for p in m.parameters():
        assert float(p.abs().max()) <= 0.5 + 1e-7
