"""Shared helpers for the nn layer tests: run one computation in Ember and PyTorch from the
same arrays and compare outputs and every gradient."""
from __future__ import annotations

import numpy as np
import torch

import ember
from conftest import assert_close


def run_both(fe, ft, arrays, rng, rtol=1e-5, atol=1e-6, grad=True):
    """fe/ft take tensors built from ``arrays`` (all requiring grad when float); compare value and grads."""
    es = [ember.tensor(a.copy(), requires_grad=grad and a.dtype.kind == "f") for a in arrays]
    ts = [torch.tensor(a.copy(), requires_grad=grad and a.dtype.kind == "f") for a in arrays]
    ye, yt = fe(*es), ft(*ts)
    if isinstance(yt, tuple):
        for a, b in zip(ye[1:], yt[1:]):
            assert_close(a, b)
        ye, yt = ye[0], yt[0]
    assert_close(ye, yt, rtol, atol)
    if grad:
        g = rng.standard_normal(tuple(yt.shape)).astype(arrays[0].dtype)
        (ye * ember.tensor(g)).sum().backward()
        (yt * torch.tensor(g)).sum().backward()
        for a, b in zip(es, ts):
            if b.requires_grad:
                assert_close(a.grad, b.grad, rtol * 10, atol * 10)
    return ye, yt


def copy_params(em, tm):
    """Load a torch module's state into an ember module (keys must match)."""
    sd = {k: ember.tensor(v.detach().numpy().copy()) for k, v in tm.state_dict().items()}
    res = em.load_state_dict(sd)
    assert not res.missing_keys and not res.unexpected_keys
    assert list(em.state_dict().keys()) == list(tm.state_dict().keys())


def compare_param_grads(em, tm, rtol=1e-4, atol=1e-5):
    ep = dict(em.named_parameters())
    for name, p in tm.named_parameters():
        assert_close(ep[name].grad, p.grad, rtol, atol)


def as_np(shape, rng, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)
