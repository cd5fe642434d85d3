"""torch.inner on N-d inputs: values, gradients and the shape error, against PyTorch."""
import numpy as np
import pytest
import torch

import ember
from conftest import assert_close


@pytest.mark.parametrize("sa,sb", [((3,), (3,)), ((2, 3), (4, 3)), ((2, 5, 3), (3,)), ((), (2, 3)), ((4,), ())])
def test_inner_matches_torch(sa, sb):
    r = np.random.default_rng(0)
    a, b = r.standard_normal(sa), r.standard_normal(sb)
    res = []
    for T in (torch, ember):
        x, y = T.tensor(a, requires_grad=True), T.tensor(b, requires_grad=True)
        z = T.inner(x, y)
        (z * z).sum().backward()
        res.append((z.detach(), x.grad, y.grad))
    for e, t in zip(res[1], res[0]):
        assert_close(e, t, rtol=1e-10, atol=1e-12)
    assert_close(ember.tensor(a).inner(ember.tensor(b)), torch.tensor(a).inner(torch.tensor(b)), rtol=1e-10)


def test_inner_last_dims_must_match():
    with pytest.raises(RuntimeError) as te:
        torch.inner(torch.ones(2, 3), torch.ones(2, 4))
    with pytest.raises(RuntimeError) as ee:
        ember.inner(ember.ones(2, 3), ember.ones(2, 4))
    assert str(ee.value) == str(te.value)
