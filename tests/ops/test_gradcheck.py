"""Finite-difference gradcheck (float64) of the differentiable primitives, and second derivatives
(create_graph=True) compared with PyTorch's."""
import numpy as np
import pytest
import torch

import ember
from conftest import assert_close
from ember.autograd import gradcheck

R = np.random.default_rng(7)


def _t(shape, lo=-1.0, hi=1.0):
    return ember.tensor(R.uniform(lo, hi, shape), dtype=ember.float64, requires_grad=True)


IDX = np.array([[0, 2], [1, 0]])
FUNCS = {
    # elementwise
    "add": (lambda a, b: a + b, [(2, 3), (3,)]),
    "sub": (lambda a, b: a - b, [(2, 3), (2, 1)]),
    "mul": (lambda a, b: a * b, [(2, 3), (3,)]),
    "div": (lambda a, b: a / b, [(2, 3), ((3,), 0.5, 2.0)]),
    "pow": (lambda a, b: a ** b, [((2, 3), 0.5, 2.0), (3,)]),
    "pow_scalar": (lambda a: a ** 3, [(2, 3)]),
    "rpow": (lambda a: 2.0 ** a, [(2, 3)]),
    "neg": (lambda a: -a, [(2, 3)]),
    "exp": (ember.exp, [(2, 3)]), "log": (ember.log, [((2, 3), 0.5, 2.0)]),
    "log2": (ember.log2, [((2, 3), 0.5, 2.0)]), "log10": (ember.log10, [((2, 3), 0.5, 2.0)]),
    "log1p": (ember.log1p, [(2, 3)]), "expm1": (ember.expm1, [(2, 3)]),
    "sqrt": (ember.sqrt, [((2, 3), 0.5, 2.0)]), "rsqrt": (ember.rsqrt, [((2, 3), 0.5, 2.0)]),
    "sin": (ember.sin, [(2, 3)]), "cos": (ember.cos, [(2, 3)]), "tan": (ember.tan, [(2, 3)]),
    "tanh": (ember.tanh, [(2, 3)]), "sigmoid": (ember.sigmoid, [(2, 3)]), "erf": (ember.erf, [(2, 3)]),
    "reciprocal": (ember.reciprocal, [((2, 3), 0.5, 2.0)]), "abs": (ember.abs, [(2, 3)]),
    "relu": (ember.relu, [(2, 3)]), "clamp": (lambda a: ember.clamp(a, -0.5, 0.5), [(2, 3)]),
    "clamp_t": (lambda a, lo, hi: ember.clamp(a, lo, hi), [(2, 3), ((3,), -1, -0.3), ((3,), 0.3, 1)]),
    "maximum": (ember.maximum, [(2, 3), (3,)]), "minimum": (ember.minimum, [(2, 3), (3,)]),
    "where": (lambda a, b: ember.where(a > 0, a, b), [(2, 3), (3,)]),
    "remainder": (lambda a, b: ember.remainder(a, b), [(2, 3), ((3,), 0.3, 2.0)]),
    # reductions
    "sum": (lambda a: a.sum(1), [(2, 3)]), "mean": (lambda a: a.mean((0, 1)), [(2, 3)]),
    "prod": (lambda a: a.prod(1), [(2, 3)]), "prod_all": (lambda a: a.prod(), [(2, 3)]),
    "amax": (lambda a: a.amax(1), [(2, 3)]), "max_dim": (lambda a: a.max(0).values, [(2, 3)]),
    "max_all": (lambda a: a.max(), [(2, 3)]), "min_dim": (lambda a: a.min(1, keepdim=True)[0], [(2, 3)]),
    "std": (lambda a: a.std(1), [(2, 3)]), "var": (lambda a: a.var(0, correction=0), [(2, 3)]),
    "logsumexp": (lambda a: a.logsumexp(1), [(2, 3)]), "norm": (lambda a: a.norm(), [(2, 3)]),
    "norm1": (lambda a: a.norm(1, dim=1), [(2, 3)]), "cumsum": (lambda a: a.cumsum(1), [(2, 3)]),
    "cumprod": (lambda a: a.cumprod(1), [(2, 3)]),
    # shape
    "view": (lambda a: a.view(3, 2), [(2, 3)]), "reshape_t": (lambda a: a.t().reshape(6), [(2, 3)]),
    "permute": (lambda a: a.permute(2, 0, 1), [(2, 3, 2)]), "expand": (lambda a: a.expand(2, 2, 3), [(1, 3)]),
    "repeat": (lambda a: a.repeat(2, 2), [(2, 3)]), "flip": (lambda a: a.flip(1), [(2, 3)]),
    "roll": (lambda a: a.roll(1, 1), [(2, 3)]), "narrow": (lambda a: a.narrow(1, 1, 2), [(2, 3)]),
    "cat": (lambda a, b: ember.cat([a, b], 1), [(2, 3), (2, 2)]),
    "stack": (lambda a, b: ember.stack([a, b], 0), [(2, 3), (2, 3)]),
    "split": (lambda a: a.split([1, 2], 1), [(2, 3)]), "unbind": (lambda a: a.unbind(0), [(2, 3)]),
    "squeeze": (lambda a: a.unsqueeze(0).squeeze(0), [(2, 3)]), "movedim": (lambda a: a.movedim(0, 1), [(2, 3)]),
    # indexing
    "getitem": (lambda a: a[1:, ::2], [(3, 3)]), "adv": (lambda a: a[[0, 0, 2]], [(3, 3)]),
    "mask": (lambda a: a[a > 0], [(3, 3)]),
    "gather": (lambda a: a.gather(1, ember.tensor(IDX)), [(2, 3)]),
    "scatter_add": (lambda a, s: a.scatter_add(1, ember.tensor(IDX), s), [(2, 3), (2, 2)]),
    "index_select": (lambda a: a.index_select(0, ember.tensor([1, 1, 0])), [(2, 3)]),
    "masked_fill": (lambda a: a.masked_fill(a > 0, 0.5), [(2, 3)]),
    "take": (lambda a: ember.take(a, ember.tensor([0, 5, 5])), [(2, 3)]),
    "tril": (lambda a: a.tril(), [(3, 3)]), "triu": (lambda a: a.triu(1), [(3, 3)]),
    "sort": (lambda a: a.sort(1).values, [(2, 3)]), "topk": (lambda a: a.topk(2).values, [(2, 3)]),
    # linalg
    "mm": (ember.mm, [(2, 3), (3, 2)]), "bmm": (ember.bmm, [(2, 2, 3), (2, 3, 2)]),
    "matmul_bcast": (ember.matmul, [(2, 2, 3), (3, 2)]), "mv": (ember.matmul, [(2, 3), (3,)]),
    "vm": (ember.matmul, [(3,), (3, 2)]), "dot": (ember.dot, [(3,), (3,)]),
    "addmm": (ember.addmm, [(2,), (2, 3), (3, 2)]), "outer": (ember.outer, [(2,), (3,)]),
    "einsum": (lambda a, b: ember.einsum("bij,jk->bik", a, b), [(2, 2, 3), (3, 2)]),
    "einsum_diag": (lambda a: ember.einsum("ii->i", a), [(3, 3)]),
}


def _inputs(specs):
    out = []
    for s in specs:
        if isinstance(s[0], tuple):
            out.append(_t(*s))
        else:
            out.append(_t(s))
    return out


@pytest.mark.parametrize("name", sorted(FUNCS))
def test_gradcheck(name):
    f, specs = FUNCS[name]
    assert gradcheck(f, tuple(_inputs(specs)), eps=1e-6, atol=1e-5, rtol=1e-4)


SECOND = {
    "mul_tanh": lambda x, y, L: (L.tanh(x * y) * x).sum(),
    "div_exp": lambda x, y, L: (L.exp(x) / (y * y + 1)).sum(),
    "pow_sigmoid": lambda x, y, L: (L.sigmoid(x) ** 3 + (x * x + 1) ** (y * 0.5)).sum(),
    "reductions": lambda x, y, L: (x.sum(1) * y.mean(1)).sum() + x.logsumexp(1).sum() + (x * y).std(),
    "norm_prod": lambda x, y, L: (x * y).norm() + (x.prod(1) * x.amax(1)).sum(),
    "shape": lambda x, y, L: (x.t().reshape(-1) * y.flip(0).reshape(-1)).sum() + L.cat([x, y]).pow(2).sum(),
    "index": lambda x, y, L: (x[:, 1:] ** 2 * y[[0, 1], :2]).sum() + x.gather(1, L.tensor([[0], [2]])).pow(3).sum(),
    "matmul": lambda x, y, L: ((x @ y.t()) ** 2).sum() + (x.unsqueeze(0) @ y.t()).tanh().sum(),
    "clamp_where": lambda x, y, L: (L.where(x > 0, x * y, y * y) + L.clamp(x * y, -0.2, 0.2) * x).sum(),
    "unary": lambda x, y, L: (L.sin(x) * L.cos(y) + L.log1p(x * x) + L.sqrt(y * y + 1) + L.erf(x)).sum(),
}


@pytest.mark.parametrize("name", sorted(SECOND))
def test_second_derivative_matches_torch(name):
    f = SECOND[name]
    xa, ya = R.standard_normal((2, 3)), R.standard_normal((2, 3))
    ex, ey = (ember.tensor(a, requires_grad=True) for a in (xa, ya))
    tx, ty = (torch.tensor(a, requires_grad=True) for a in (xa, ya))
    ge = ember.autograd.grad(f(ex, ey, ember), (ex, ey), create_graph=True)
    gt = torch.autograd.grad(f(tx, ty, torch), (tx, ty), create_graph=True)
    assert_close(ge, gt, 1e-9, 1e-10)
    we = (ge[0] * ge[0]).sum() + (ge[0] * ge[1]).sum()
    wt = (gt[0] * gt[0]).sum() + (gt[0] * gt[1]).sum()
    gge = ember.autograd.grad(we, (ex, ey), allow_unused=True)
    ggt = torch.autograd.grad(wt, (tx, ty), allow_unused=True)
    for a, b in zip(gge, ggt):
        if b is None:
            assert a is None or np.allclose(a.detach().numpy(), 0)
        else:
            assert_close(a, b, 1e-9, 1e-10)
