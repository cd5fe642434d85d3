"""xlogy / special.xlog1py: one primitive each, PyTorch's values and gradients at the edges (x == 0, y at the pole,
NaN), gradcheck, grad_fn names, scalar operands."""
import numpy as np
import pytest
import torch

import ember
from conftest import assert_close

X = [0.0, 0.0, 1.0, 2.0, 0.0, 3.0, -1.5]
Y = [2.0, 0.0, 0.0, 3.0, np.nan, -1.0, 0.5]


@pytest.mark.parametrize("name,shift", [("xlogy", 0.0), ("xlog1py", -1.0)])
def test_edges_values_and_gradients(name, shift):
    res = {}
    for T in (torch, ember):
        x = T.tensor(X, requires_grad=True)
        y = T.tensor(Y, requires_grad=True)
        fn = T.xlogy if name == "xlogy" else T.special.xlog1py
        r = fn(x, y + shift)
        r.sum().backward()
        res[T] = (r, x.grad, y.grad, type(r.grad_fn).__name__)
    for e, t in zip(res[ember][:3], res[torch][:3]):
        assert_close(e.detach() if e.requires_grad else e, t.detach() if t.requires_grad else t)
    assert res[ember][3] == res[torch][3]


def test_gradcheck_and_broadcasting():
    r = np.random.default_rng(0)
    x = ember.tensor(r.random((3, 1)) + 0.1, dtype=ember.float64, requires_grad=True)
    y = ember.tensor(r.random(4) + 0.5, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(ember.xlogy, (x, y))
    assert ember.autograd.gradgradcheck(ember.xlogy, (x, y))


def test_scalar_and_integer_operands():
    for a, b in ((2, [3.0, 4.0]), ([3.0, 4.0], 2), ([1, 2], [3, 4])):
        ea = ember.tensor(a) if isinstance(a, list) else a
        eb = ember.tensor(b) if isinstance(b, list) else b
        ta = torch.tensor(a) if isinstance(a, list) else a
        tb = torch.tensor(b) if isinstance(b, list) else b
        assert_close(ember.xlogy(ea, eb), torch.xlogy(ta, tb))
