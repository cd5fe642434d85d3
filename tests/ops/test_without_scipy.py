"""SciPy is optional: with it hidden, the NumPy fallbacks of the special functions still give PyTorch's values."""
import sys

import numpy as np
import pytest
import torch

import ember
from ember.ops import unary as U
from conftest import assert_close


@pytest.fixture
def no_scipy(monkeypatch):
    monkeypatch.setitem(sys.modules, "scipy", None)
    monkeypatch.setitem(sys.modules, "scipy.special", None)
    monkeypatch.setattr(U, "_EXPIT", [])  # forget a cached SciPy lookup


@pytest.mark.parametrize("name,lo,hi", [("sigmoid", -30, 30), ("erf", -7, 7), ("erfc", -5, 5), ("erfinv", -0.999, 0.999),
                                        ("lgamma", 0.1, 30), ("digamma", 0.1, 30)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fallbacks_match_torch(no_scipy, name, lo, hi, dtype):
    x = np.linspace(lo, hi, 257).astype(dtype)
    e = ember.tensor(x, requires_grad=True)
    t = torch.tensor(x, requires_grad=True)
    ye, yt = getattr(ember, name)(e), getattr(torch, name)(t)
    if name == "sigmoid":
        assert U._EXPIT == [None]  # the NumPy formula ran, not SciPy's expit
    rtol = 1e-5 if dtype == np.float32 else 1e-10
    assert_close(ye, yt, rtol=rtol, atol=1e-6 if dtype == np.float32 else 1e-12)
    ye.sum().backward()
    yt.sum().backward()
    assert_close(e.grad, t.grad, rtol=rtol * 10, atol=1e-5 if dtype == np.float32 else 1e-10)
