"""Matrix functions and decompositions vs PyTorch: values and (where Ember has them) gradients."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
from conftest import assert_close

RNG = np.random.default_rng(11)
A = RNG.standard_normal((3, 3))
SPD = A @ A.T + 3 * np.eye(3)
W = RNG.standard_normal((3, 3))


def both(f, arr):
    out = []
    for m in (ember, torch):
        x = m.tensor(arr.copy(), requires_grad=True)
        y = f(m, x)
        ys = y if isinstance(y, (tuple, list)) else (y,)
        (ys[0] * m.tensor(W[: ys[0].shape[-2]] if ys[0].dim() == 2 else W[0, : ys[0].shape[-1]])).sum().backward()
        out.append((ys, x.grad))
    (ye, ge), (yt, gt) = out
    assert_close(list(ye), list(yt), rtol=1e-9, atol=1e-10)
    assert_close(ge, gt, rtol=1e-8, atol=1e-9)


@pytest.mark.parametrize("name", ["cholesky", "cholesky_upper", "matrix_exp", "matrix_power3", "matrix_power-2",
                                  "det", "inverse", "logdet", "eigvalsh"])
def test_differentiable_matrix_functions(name):
    fns = {
        "cholesky": lambda m, x: m.linalg.cholesky(x),
        "cholesky_upper": lambda m, x: m.cholesky(x, upper=True),
        "matrix_exp": lambda m, x: m.matrix_exp(x * 0.3),
        "matrix_power3": lambda m, x: m.linalg.matrix_power(x, 3),
        "matrix_power-2": lambda m, x: x.matrix_power(-2),
        "det": lambda m, x: m.det(x).reshape(1, 1),
        "inverse": lambda m, x: x.inverse(),
        "logdet": lambda m, x: m.logdet(x).reshape(1, 1),
        "eigvalsh": lambda m, x: m.linalg.eigvalsh(x),
    }
    both(fns[name], SPD)


def test_eigh_vectors_gradient_sign_invariant():
    # eigenvectors are defined up to sign: compare a sign-invariant function of them
    for_both = []
    for m in (ember, torch):
        x = m.tensor(SPD.copy(), requires_grad=True)
        w, v = m.linalg.eigh(x)
        (w.sum() + (v ** 2 * m.tensor(W)).sum()).backward()
        for_both.append((w, x.grad))
    assert_close(for_both[0][0], for_both[1][0], rtol=1e-9)
    assert_close(for_both[0][1], for_both[1][1], rtol=1e-7, atol=1e-9)


def test_gradcheck_matrix_primitives():
    x = ember.tensor(SPD.copy(), requires_grad=True)
    assert ember.autograd.gradcheck(lambda t: ember.linalg.cholesky((t + t.mT) / 2), (x,))  # symmetric input
    assert ember.autograd.gradcheck(lambda t: ember.linalg.matrix_exp(t * 0.2), (x,))
    assert ember.autograd.gradgradcheck(lambda t: ember.linalg.matrix_exp(t * 0.2), (x,))


def test_decompositions_forward():
    a = RNG.standard_normal((4, 3))
    e, t = ember.tensor(a), torch.tensor(a)
    qe, re_ = ember.linalg.qr(e)
    qt, rt = torch.linalg.qr(t)
    assert_close(qe.abs(), qt.abs(), rtol=1e-9)
    assert_close(re_.abs(), rt.abs(), rtol=1e-9)
    assert_close(ember.linalg.svd(e, full_matrices=False).S, torch.linalg.svd(t, full_matrices=False).S)
    assert_close(ember.linalg.svdvals(e), torch.linalg.svdvals(t))
    assert_close(ember.svd(e).S, torch.svd(t).S)
    assert_close(ember.linalg.pinv(e), torch.linalg.pinv(t), rtol=1e-9, atol=1e-10)
    assert_close(ember.pinverse(e), torch.pinverse(t), rtol=1e-9, atol=1e-10)
    b = RNG.standard_normal((4, 2))
    assert_close(ember.linalg.lstsq(e, ember.tensor(b)).solution, torch.linalg.lstsq(t, torch.tensor(b)).solution,
                 rtol=1e-9, atol=1e-10)
    # their gradients: tests/test_linalg_grad.py
    x, xt = ember.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    (ember.linalg.svd(x)[1] ** 2).sum().backward()
    (torch.linalg.svd(xt)[1] ** 2).sum().backward()
    assert_close(x.grad, xt.grad, rtol=1e-9, atol=1e-12)


def test_errors():
    with pytest.raises(RuntimeError):
        ember.linalg.cholesky(ember.tensor(-np.eye(2)))
    with pytest.raises(RuntimeError):
        ember.linalg.matrix_exp(ember.zeros(2, 3))
    with pytest.raises(RuntimeError):
        ember.linalg.qr(ember.zeros(2, 2), mode="bad")
    with pytest.raises(RuntimeError):
        torch.linalg.cholesky(torch.tensor(-np.eye(2)))


def test_cross_and_addr():
    a, b = RNG.standard_normal((2, 3)), RNG.standard_normal((2, 3))
    assert_close(ember.cross(ember.tensor(a), ember.tensor(b)), torch.cross(torch.tensor(a), torch.tensor(b)))
    v1, v2, M = RNG.standard_normal(3), RNG.standard_normal(2), RNG.standard_normal((3, 2))
    assert_close(ember.tensor(M).addr(ember.tensor(v1), ember.tensor(v2), beta=0.5, alpha=2),
                 torch.tensor(M).addr(torch.tensor(v1), torch.tensor(v2), beta=0.5, alpha=2))
