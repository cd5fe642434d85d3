"""Shape ops against PyTorch: values, grad_fn names, gradients, view semantics and errors."""
import numpy as np
import pytest
import torch

import ember
from conftest import assert_close, pair
from opcheck import check, randn

CASES = [
    ("view", lambda x: x.view(4, 6), None),
    ("view-1", lambda x: x.view(-1), None),
    ("reshape", lambda x: x.reshape(3, 8), None),
    ("reshape_t", lambda x: x.t().reshape(-1), None),
    ("flatten", lambda x: x.flatten(), None),
    ("unflatten", lambda x: x.unflatten(1, (3, 2)), None),
    ("squeeze", lambda x: x.reshape(1, 4, 1, 6).squeeze(), None),
    ("squeeze_dim", lambda x: x.reshape(1, 4, 1, 6).squeeze(2), None),
    ("squeeze_dims", lambda x: x.reshape(1, 4, 1, 6).squeeze((0, 2)), None),
    ("unsqueeze", lambda x: x.unsqueeze(1), None),
    ("unsqueeze_neg", lambda x: x.unsqueeze(-1), None),
    ("permute", lambda x: x.reshape(2, 3, 4).permute(2, 0, 1), None),
    ("transpose", lambda x: x.transpose(0, 1), None),
    ("t", lambda x: x.t(), None),
    ("T", lambda x: x.T, None),
    ("expand", lambda x: x[:1].expand(3, 6), None),
    ("expand_new_dim", lambda x: x[0].expand(2, 6), None),
    ("expand_as", lambda x: x[:1].expand_as(x), None),
    ("repeat", lambda x: x.repeat(2, 1, 3), None),
    ("tile", lambda x: x.tile((2,)), None),
    ("flip", lambda x: x.flip(0, 1), None),
    ("roll", lambda x: x.roll(2, 1), None),
    ("roll_flat", lambda x: x.roll(5), None),
    ("roll_multi", lambda x: x.roll((1, -2), (0, 1)), None),
    ("narrow", lambda x: x.narrow(1, 2, 3), None),
    ("movedim", lambda x: x.reshape(2, 3, 4).movedim(0, -1), None),
    ("movedim_multi", lambda x: x.reshape(2, 3, 4).movedim((0, 1), (2, 0)), None),
    ("contiguous", lambda x: x.t().contiguous(), None),
]


@pytest.mark.parametrize("name,f,_", CASES, ids=[c[0] for c in CASES])
def test_shape_op(name, f, _):
    check(f, f, randn(4, 6))


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cat_stack(dim):
    a, b, c = randn(2, 3), randn(2, 3), randn(2, 3)
    check(lambda *t: ember.cat(t, dim), lambda *t: torch.cat(t, dim), a, b, c)
    check(lambda *t: ember.stack(t, dim), lambda *t: torch.stack(t, dim), a, b, c)
    check(lambda x, y: ember.cat([x, y], dim=0), lambda x, y: torch.cat([x, y], dim=0), randn(1, 3), randn(4, 3))
    # mixed dtypes promote
    check(lambda x, y: ember.cat([x, y]), lambda x, y: torch.cat([x, y]), randn(2, 3),
          np.ones((1, 3), np.int64), requires_grad=[True, False])


def test_cat_stack_errors():
    e1, t1 = pair(randn(2, 3))
    e2, t2 = pair(randn(2, 4))
    with pytest.raises(RuntimeError):
        torch.cat([t1, t2], 0)
    with pytest.raises(RuntimeError):
        ember.cat([e1, e2], 0)
    with pytest.raises(RuntimeError):
        torch.stack([t1, t2])
    with pytest.raises(RuntimeError):
        ember.stack([e1, e2])
    with pytest.raises((RuntimeError, ValueError)):
        torch.cat([])
    with pytest.raises((RuntimeError, ValueError)):
        ember.cat([])


def test_split_chunk_unbind():
    a = randn(7, 4)
    check(lambda x: x.split(3), lambda x: x.split(3), a)
    check(lambda x: x.split([2, 5]), lambda x: x.split([2, 5]), a)
    check(lambda x: ember.split(x, 2, dim=1), lambda x: torch.split(x, 2, dim=1), a)
    check(lambda x: x.chunk(3), lambda x: x.chunk(3), a)
    check(lambda x: x.chunk(4, 1), lambda x: x.chunk(4, 1), a)
    check(lambda x: x.unbind(1), lambda x: x.unbind(1), a)
    check(lambda x: ember.unbind(x), lambda x: torch.unbind(x), a)
    # only some outputs used
    check(lambda x: x.split(3)[1], lambda x: x.split(3)[1], a)


def test_views_share_memory_and_version():
    e = ember.zeros(2, 3)
    v = e.view(6)
    v[0] = 5.0
    assert e[0, 0].item() == 5.0 and e._version == v._version
    t = e.t()
    t.mul_(2)
    assert e[0, 0].item() == 10.0
    assert e.reshape(3, 2)._data.base is not None  # contiguous reshape is a view


def test_view_errors():
    e, t = pair(randn(4, 6))
    with pytest.raises(RuntimeError):
        t.view(5, 5)
    with pytest.raises(RuntimeError):
        e.view(5, 5)
    with pytest.raises(RuntimeError):
        t.t().view(-1)
    with pytest.raises(RuntimeError):
        e.t().view(-1)
    with pytest.raises(RuntimeError):
        t.expand(3, 6)
    with pytest.raises(RuntimeError):
        e.expand(3, 6)
    with pytest.raises(IndexError):
        t.transpose(0, 2)
    with pytest.raises(IndexError):
        e.transpose(0, 2)
    with pytest.raises(RuntimeError):
        t.permute(0, 0)
    with pytest.raises(RuntimeError):
        e.permute(0, 0)


def test_shape_grad_fn_names_second_order():
    a = randn(3, 4).astype(np.float64)
    for f in [lambda x: (x.t() * x.t()).reshape(-1).sum(), lambda x: (x.expand(2, 3, 4) ** 2).flip(0).sum(),
              lambda x: ember.cat([x, x * x]).sum() if isinstance(x, ember.Tensor) else torch.cat([x, x * x]).sum()]:
        e, t = pair(a, True)
        (ge,) = ember.autograd.grad(f(e), e, create_graph=True)
        (gt,) = torch.autograd.grad(f(t), t, create_graph=True)
        assert_close(ge, gt)
        (gge,) = ember.autograd.grad((ge * ge).sum(), e)
        (ggt,) = torch.autograd.grad((gt * gt).sum(), t)
        assert_close(gge, ggt, 1e-10, 1e-12)
