import numpy as np

import ember
from conftest import assert_close, pair


def test_seed_graph_example():
    # z = x * y * 4: only x is tracked, dz/dx = 8
    x = ember.tensor([3.0], requires_grad=True)
    y = ember.tensor([2.0], requires_grad=False)
    z = x * y * 4
    z.backward()
    assert x.grad.item() == 8.0
    assert y.grad is None


def test_mlp_values_and_grads(rng):
    a, ta = pair(rng.standard_normal((3, 4)).astype(np.float32), True)
    b, tb = pair(rng.standard_normal((4, 5)).astype(np.float32), True)
    l = (a @ b).tanh().sum()
    tl = (ta @ tb).tanh().sum()
    l.backward()
    tl.backward()
    assert_close(l, tl)
    assert_close(a.grad, ta.grad)
    assert_close(b.grad, tb.grad)
