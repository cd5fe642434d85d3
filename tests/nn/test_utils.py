"""nn.utils against PyTorch: gradient clipping, parameter vectors, packed sequences."""
import math

import numpy as np
import pytest
import torch

import ember
import ember.nn as enn
from conftest import assert_close
from layercheck import as_np


def _grads(rng, shapes, scale=1.0):
    gs = [as_np(s, rng) * scale for s in shapes]
    ep = [ember.tensor(np.zeros(s, np.float32), requires_grad=True) for s in shapes]
    tp = [torch.zeros(s, requires_grad=True) for s in shapes]
    for e, t, g in zip(ep, tp, gs):
        e.grad = ember.tensor(g.copy())
        t.grad = torch.tensor(g.copy())
    return ep, tp


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm(norm_type, max_norm, rng):
    ep, tp = _grads(rng, [(3, 4), (5,), (2, 2, 2)])
    ne = enn.utils.clip_grad_norm_(ep, max_norm, norm_type)
    nt = torch.nn.utils.clip_grad_norm_(tp, max_norm, norm_type)
    assert_close(ne, nt, 1e-5, 1e-6)
    for e, t in zip(ep, tp):
        assert_close(e.grad, t.grad, 1e-5, 1e-6)


def test_clip_grad_norm_nonfinite_and_single(rng):
    ep, tp = _grads(rng, [(3,)])
    ep[0].grad._data[0] = np.inf
    with pytest.raises(RuntimeError, match="non-finite"):
        enn.utils.clip_grad_norm_(ep, 1.0, error_if_nonfinite=True)
    ep, tp = _grads(rng, [(4, 2)])
    assert_close(enn.utils.clip_grad_norm_(ep[0], 0.1), torch.nn.utils.clip_grad_norm_(tp[0], 0.1))
    assert_close(ep[0].grad, tp[0].grad)


def test_clip_grad_value(rng):
    ep, tp = _grads(rng, [(3, 4), (6,)], scale=3)
    enn.utils.clip_grad_value_(ep, 1.2)
    torch.nn.utils.clip_grad_value_(tp, 1.2)
    for e, t in zip(ep, tp):
        assert_close(e.grad, t.grad)


def test_parameters_vector_roundtrip(rng):
    arrs = [as_np((3, 2), rng), as_np((4,), rng)]
    ep = [ember.tensor(a.copy(), requires_grad=True) for a in arrs]
    tp = [torch.tensor(a.copy(), requires_grad=True) for a in arrs]
    ve, vt = enn.utils.parameters_to_vector(ep), torch.nn.utils.parameters_to_vector(tp)
    assert_close(ve, vt)
    (ve * ember.arange(10.0)).sum().backward()
    (vt * torch.arange(10.0)).sum().backward()
    for e, t in zip(ep, tp):
        assert_close(e.grad, t.grad)
    new = as_np((10,), rng)
    enn.utils.vector_to_parameters(ember.tensor(new), ep)
    torch.nn.utils.vector_to_parameters(torch.tensor(new), tp)
    for e, t in zip(ep, tp):
        assert_close(e, t)
    with pytest.raises(RuntimeError):
        enn.utils.vector_to_parameters(ember.zeros(3), ep)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_pack_pad_roundtrip(batch_first, enforce_sorted, rng):
    lengths = [5, 3, 3, 1] if enforce_sorted else [3, 5, 1, 3]
    x = as_np((4, 5, 2) if batch_first else (5, 4, 2), rng)
    ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    pe = enn.utils.rnn.pack_padded_sequence(ex, lengths, batch_first, enforce_sorted)
    pt = torch.nn.utils.rnn.pack_padded_sequence(tx, torch.tensor(lengths), batch_first, enforce_sorted)
    assert_close(pe.data, pt.data)
    assert_close(pe.batch_sizes, pt.batch_sizes)
    assert_close(pe.sorted_indices, pt.sorted_indices)
    assert_close(pe.unsorted_indices, pt.unsorted_indices)
    ue, le = enn.utils.rnn.pad_packed_sequence(pe, batch_first, padding_value=-1.0, total_length=6)
    ut, lt = torch.nn.utils.rnn.pad_packed_sequence(pt, batch_first, padding_value=-1.0, total_length=6)
    assert_close(ue, ut)
    assert_close(le, lt)
    g = as_np(tuple(ut.shape), rng)
    (ue * ember.tensor(g)).sum().backward()
    (ut * torch.tensor(g)).sum().backward()
    assert_close(ex.grad, tx.grad)


def test_pad_sequence_and_pack_sequence(rng):
    arrs = [as_np((n, 3), rng) for n in (2, 4, 1)]
    es, ts = [ember.tensor(a) for a in arrs], [torch.tensor(a) for a in arrs]
    for kw in (dict(), dict(batch_first=True, padding_value=9.0), dict(padding_side="left")):
        assert_close(enn.utils.rnn.pad_sequence(es, **kw), torch.nn.utils.rnn.pad_sequence(ts, **kw))
    pe = enn.utils.rnn.pack_sequence(es, enforce_sorted=False)
    pt = torch.nn.utils.rnn.pack_sequence(ts, enforce_sorted=False)
    assert_close(pe.data, pt.data)
    assert_close(pe.batch_sizes, pt.batch_sizes)
    for a, b in zip(enn.utils.rnn.unpack_sequence(pe), torch.nn.utils.rnn.unpack_sequence(pt)):
        assert_close(a, b)
    with pytest.raises(RuntimeError, match="sorted in decreasing order"):
        enn.utils.rnn.pack_sequence(es)
