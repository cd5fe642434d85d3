"""Shared test helpers: PyTorch (CPU) is the oracle.

``pair(arr)`` builds the same tensor in Ember and PyTorch from one NumPy array;
``assert_close(ember_tensor, torch_tensor)`` compares values, shape and dtype.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

import ember

torch.set_num_threads(1)

# Property tests draw the same examples on every run: CI must not depend on luck.
from hypothesis import settings  # noqa: E402

settings.register_profile("ember", derandomize=True, deadline=None, database=None)
settings.load_profile("ember")


def to_np(x):
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    if isinstance(x, ember.Tensor):
        return x.detach()._cpu_array()
    return np.asarray(x)


def assert_close(e, t, rtol=1e-5, atol=1e-6, check_dtype=True):
    """Ember result ``e`` equals PyTorch result ``t`` (values, shape, dtype)."""
    if t is None or e is None:
        assert e is None and t is None, f"one side is None: ember={e!r} torch={t!r}"
        return
    if isinstance(t, (tuple, list)):
        assert len(e) == len(t)
        for a, b in zip(e, t):
            assert_close(a, b, rtol, atol, check_dtype)
        return
    a, b = to_np(e), to_np(t)
    assert a.shape == b.shape, f"shape {a.shape} != torch {b.shape}"
    if check_dtype and isinstance(t, torch.Tensor):
        assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1], f"dtype {e.dtype} != torch {t.dtype}"
    if a.dtype == bool or b.dtype == bool:
        np.testing.assert_array_equal(a, b)
    elif a.dtype.kind == "c" or b.dtype.kind == "c":
        np.testing.assert_allclose(a.astype(np.complex128), b.astype(np.complex128), rtol=rtol, atol=atol)
    else:
        np.testing.assert_allclose(a.astype(np.float64), b.astype(np.float64), rtol=rtol, atol=atol)


def pair(arr, requires_grad=False):
    """(ember tensor, torch tensor) holding copies of the same NumPy array."""
    arr = np.asarray(arr)
    e = ember.tensor(arr.copy(), requires_grad=requires_grad)
    t = torch.tensor(arr.copy(), requires_grad=requires_grad)
    return e, t


def raises_like(fn_e, fn_t, same_message=True):
    """``fn_t()`` (PyTorch) raises, and ``fn_e()`` (Ember) raises the same exception class (and, by
    default, the same message)."""
    with pytest.raises(Exception) as et:
        fn_t()
    with pytest.raises(et.type) as ee:
        fn_e()
    assert type(ee.value) is type(et.value)
    if same_message:
        assert str(ee.value) == str(et.value)


def same_error(f, exc=RuntimeError):
    """``f(torch)`` and ``f(ember)`` both raise ``exc`` with the same message."""
    with pytest.raises(exc) as te:
        f(torch)
    with pytest.raises(exc) as ee:
        f(ember)
    assert str(ee.value) == str(te.value)


@pytest.fixture
def rng():
    return np.random.default_rng(0)
