"""Oracle harness for op tests: run one computation in Ember and in PyTorch from the same NumPy
inputs, compare values, dtype, grad_fn name and (with a random upstream gradient) input gradients."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
from conftest import assert_close, to_np

_RNG = np.random.default_rng(1234)


def grad_fn_name(t):
    return None if t.grad_fn is None else type(t.grad_fn).__name__


def make(arrays, requires_grad=None):
    """Build (ember inputs, torch inputs); NumPy arrays become tensors, other values pass through.

    ``requires_grad``: one bool per input, default: float arrays require grad."""
    es, ts = [], []
    for i, a in enumerate(arrays):
        if isinstance(a, np.ndarray):
            rg = a.dtype.kind == "f" if requires_grad is None else requires_grad[i]
            es.append(ember.tensor(a.copy(), requires_grad=rg))
            ts.append(torch.tensor(a.copy(), requires_grad=rg))
        else:
            es.append(a)
            ts.append(a)
    return es, ts


def check(fe, ft, *arrays, requires_grad=None, rtol=1e-5, atol=1e-6, grad_rtol=None, grad_atol=None,
          names=True, grads=True):
    """``fe(*ember_inputs)`` must equal ``ft(*torch_inputs)`` in value, dtype, grad_fn name and
    gradients. Returns the two results."""
    es, ts = make(arrays, requires_grad)
    try:
        yt = ft(*ts)
    except Exception as err:  # PyTorch refuses: Ember must raise the same class
        try:
            fe(*es)
        except type(err):
            return None, None
        raise AssertionError(f"torch raised {type(err).__name__}: {err}; ember did not")
    ye = fe(*es)
    outs_e = ye if isinstance(ye, (tuple, list)) else (ye,)
    outs_t = yt if isinstance(yt, (tuple, list)) else (yt,)
    assert len(outs_e) == len(outs_t)
    for oe, ot in zip(outs_e, outs_t):
        assert_close(oe, ot, rtol, atol)
        if names and isinstance(ot, torch.Tensor):
            assert grad_fn_name(oe) == grad_fn_name(ot), (grad_fn_name(oe), grad_fn_name(ot))
    if not grads:
        return ye, yt
    diff = []
    for oe, ot in zip(outs_e, outs_t):
        if isinstance(ot, torch.Tensor) and ot.requires_grad:
            if grad_fn_name(ot) == "NotImplemented":  # no derivative in PyTorch: backward raises
                with pytest.raises(RuntimeError, match="not implemented"):
                    oe.sum().backward()
            else:
                diff.append((oe, ot))
    if not diff:
        for e in es:
            if isinstance(e, ember.Tensor):
                assert e.grad is None
        return ye, yt
    le, lt = 0, 0
    for oe, ot in diff:
        g = _RNG.standard_normal(tuple(ot.shape)).astype(to_np(ot).dtype)
        le = le + (oe * ember.tensor(g)).sum()
        lt = lt + (ot * torch.tensor(g)).sum()
    le.backward()
    lt.backward()
    gr = rtol if grad_rtol is None else grad_rtol
    ga = atol if grad_atol is None else grad_atol
    for e, t in zip(es, ts):
        if isinstance(t, torch.Tensor) and t.requires_grad:
            assert_close(e.grad, t.grad, gr, ga)
    return ye, yt


def randn(*shape, dtype=np.float32):
    return _RNG.standard_normal(shape).astype(dtype)


def rand(*shape, lo=0.0, hi=1.0, dtype=np.float32):
    return _RNG.uniform(lo, hi, shape).astype(dtype)


def randint(*shape, lo=-5, hi=6, dtype=np.int64):
    return _RNG.integers(lo, hi, shape).astype(dtype)
