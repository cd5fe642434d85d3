"""Gradients of the matrix decompositions against PyTorch: svd/svdvals/torch.svd, qr/torch.qr, pinv,
lstsq, solve_triangular/triangular_solve, eigh/eigvalsh; gradcheck and gradgradcheck in float64.

Singular vectors, eigenvectors and Q's columns are defined up to sign, so losses are gauge-invariant:
products such as U diag(S) Vh, |U|, Q R, R's rows times Q's signs (LAPACK's Householder QR gives the
same signs in both, but we do not rely on it for SVD).
float32 tolerances: the decomposition gradients divide by gaps s_j^2 - s_i^2 and by s_i, so LAPACK's
float32 rounding (not the same call sequence in NumPy and PyTorch) is amplified by the conditioning;
1e-4/1e-5 there, 1e-5/1e-6 in float64 (which is far looser than the observed ~1e-14).
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
import torch

import ember
from conftest import assert_close

RNG = np.random.default_rng(7)
W = RNG.standard_normal((8, 8))
SHAPES = [(4, 3), (3, 4), (3, 3), (2, 4, 3), (2, 3, 4)]
TOL = {np.float32: dict(rtol=1e-4, atol=1e-5), np.float64: dict(rtol=1e-5, atol=1e-6)}


def weight(m, shape, dtype):
    return m.tensor(W[: shape[-2], : shape[-1]].astype(dtype)) if len(shape) > 1 else \
        m.tensor(W[0, : shape[-1]].astype(dtype))


def run_both(f, loss, *arrays):
    """f(module, *tensors) in both frameworks; returns [(outputs, loss, grads)] for ember, torch."""
    res = []
    for m in (ember, torch):
        xs = [m.tensor(a.copy(), requires_grad=True) for a in arrays]
        y = f(m, *xs)
        ell = loss(m, y)
        ell.backward()
        res.append((y, ell, [x.grad for x in xs]))
    return res


def check(f, loss, *arrays, outputs=None):
    dt = arrays[0].dtype.type
    (ye, le, ge), (yt, lt, gt) = run_both(f, loss, *arrays)
    assert_close(le, lt, **TOL[dt])
    assert_close(ge, gt, **TOL[dt])
    if outputs is not None:
        assert_close(outputs(ye), outputs(yt), **TOL[dt])
    return ye, yt


def mat(shape, dtype=np.float64):
    return RNG.standard_normal(shape).astype(dtype)


# --------------------------------------------------------------------------- SVD
def _svd_loss(m, y):
    U, S, Vh = y
    k = S.shape[-1]
    rec = (U[..., :, :k] * S.unsqueeze(-2)) @ Vh[..., :k, :]
    dt = S.dtype
    return ((rec * weight(m, rec.shape, _np(dt))).sum() + (U[..., :, :k].abs() * weight(m, (U.shape[-2], k), _np(dt))).sum()
            + (Vh[..., :k, :].abs() * weight(m, (k, Vh.shape[-1]), _np(dt))).sum() + (S * S).sum())


def _np(dt):
    return np.float32 if "float32" in str(dt) else np.float64


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("shape", SHAPES)
def test_svd_grad(shape, full, dtype):
    ye, yt = check(lambda m, x: m.linalg.svd(x, full_matrices=full), _svd_loss, mat(shape, dtype),
                   outputs=lambda y: [y.S, y.U.abs(), y.Vh.abs()])
    assert ye.S.grad_fn.name() == yt.S.grad_fn.name() == "LinalgSvdBackward0"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES)
def test_svdvals_and_legacy_svd_grad(shape, dtype):
    k = min(shape[-2:])
    check(lambda m, x: m.linalg.svdvals(x), lambda m, s: (s * weight(m, (k,), dtype)).sum(), mat(shape, dtype),
          outputs=lambda s: s)
    for some in (True, False):
        check(lambda m, x: m.svd(x, some=some),
              lambda m, y: (y.U[..., :k].abs() * weight(m, (shape[-2], k), dtype)).sum()
              + (y.V[..., :k].abs() * weight(m, (shape[-1], k), dtype)).sum() + y.S.sum(),
              mat(shape, dtype), outputs=lambda y: [y.S, y.U.abs(), y.V.abs()])
    check(lambda m, x: m.svd(x, compute_uv=False), lambda m, y: (y.S ** 3).sum(), mat(shape, dtype),
          outputs=lambda y: list(y))  # U and V: zeros of (m, m) and (n, n)


def test_svd_only_singular_values_used_on_rank_deficient_input():
    # gU/gVh unused: no 1/s terms, so a zero singular value gives finite gradients (as in PyTorch);
    # sum(S^2) = ||A||_F^2 is smooth there (sum(S) is not: its gradient depends on the null space's basis)
    a = mat((4, 3))
    a[:, 2] = a[:, 0]
    check(lambda m, x: m.linalg.svd(x, full_matrices=False), lambda m, y: (y.S * y.S).sum(), a)
    check(lambda m, x: m.linalg.svdvals(x), lambda m, s: (s * s).sum(), a)


def test_svd_gradcheck_and_gradgradcheck():
    for shape in [(4, 3), (3, 4), (2, 3, 3)]:
        x = ember.tensor(mat(shape), requires_grad=True)
        w = ember.tensor(mat(shape))

        def f(t):
            U, S, Vh = ember.linalg.svd(t, full_matrices=False)
            return (U * S.unsqueeze(-2)) @ Vh * w + U.abs().sum() + Vh.abs().sum()
        assert ember.autograd.gradcheck(f, (x,))
        assert ember.autograd.gradgradcheck(f, (x,))
        assert ember.autograd.gradcheck(ember.linalg.svdvals, (x,))
        assert ember.autograd.gradgradcheck(ember.linalg.svdvals, (x,))


# --------------------------------------------------------------------------- QR
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES)
def test_qr_grad(shape, dtype):
    m_, n_ = shape[-2:]
    k = min(m_, n_)

    def loss(m, y):
        return (y.Q * weight(m, (m_, y.Q.shape[-1]), dtype)).sum() + (y.R * weight(m, (y.R.shape[-2], n_), dtype)).sum()
    ye, yt = check(lambda m, x: m.linalg.qr(x), loss, mat(shape, dtype), outputs=lambda y: list(y))
    assert ye.Q.shape[-1] == k and ye.Q.grad_fn.name() == yt.Q.grad_fn.name()
    if m_ <= n_:
        check(lambda m, x: m.linalg.qr(x, mode="complete"), loss, mat(shape, dtype), outputs=lambda y: list(y))
    check(lambda m, x: m.qr(x), loss, mat(shape, dtype))


def test_qr_backward_errors_match_pytorch():
    for mode, shape in [("r", (3, 3)), ("r", (4, 3)), ("complete", (4, 3))]:
        msgs = []
        for m in (torch, ember):
            x = m.tensor(mat(shape), requires_grad=True)
            q, r = m.linalg.qr(x, mode=mode)  # forward works
            assert tuple(q.shape) == ((0,) if mode == "r" else (4, 4))
            with pytest.raises(RuntimeError) as ei:
                r.sum().backward()
            msgs.append(str(ei.value))
        assert msgs[0] == msgs[1]


def test_qr_gradcheck_and_gradgradcheck():
    for shape in [(4, 3), (3, 5), (2, 3, 3)]:
        x = ember.tensor(mat(shape), requires_grad=True)
        assert ember.autograd.gradcheck(lambda t: tuple(ember.linalg.qr(t)), (x,))
        assert ember.autograd.gradgradcheck(lambda t: tuple(ember.linalg.qr(t)), (x,))


# --------------------------------------------------------------------------- pinv
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES)
def test_pinv_grad(shape, dtype):
    def loss(m, p):
        return (p * weight(m, p.shape, dtype)).sum()
    ye, yt = check(lambda m, x: m.linalg.pinv(x), loss, mat(shape, dtype), outputs=lambda p: p)
    assert ye.grad_fn.name() == yt.grad_fn.name() == "LinalgPinvBackward0"
    check(lambda m, x: m.pinverse(x), loss, mat(shape, dtype), outputs=lambda p: p)


def test_pinv_hermitian_and_tolerances():
    a = mat((2, 4, 4))
    sym = a + a.swapaxes(-1, -2)
    check(lambda m, x: m.linalg.pinv(x, hermitian=True), lambda m, p: (p * weight(m, p.shape, np.float64)).sum(),
          sym, outputs=lambda p: p)
    # rank-deficient: a cut singular value; gradients follow the constant-rank formula in both
    low = mat((5, 2)) @ mat((2, 4))
    for kw in [{}, dict(atol=1e-8), dict(rtol=1e-3), dict(atol=0.5, rtol=0.1), dict(atol=100.0)]:
        check(lambda m, x: m.linalg.pinv(x, **kw), lambda m, p: (p * weight(m, p.shape, np.float64)).sum(), low,
              outputs=lambda p: p)
    lo = low @ low.T
    check(lambda m, x: m.linalg.pinv(x, hermitian=True, rtol=1e-6),
          lambda m, p: (p * weight(m, p.shape, np.float64)).sum(), lo, outputs=lambda p: p)
    # tensor tolerances, one per batch matrix
    atol = np.array([0.0, 1.5])
    e = ember.linalg.pinv(ember.tensor(a), atol=ember.tensor(atol))
    t = torch.linalg.pinv(torch.tensor(a), atol=torch.tensor(atol))
    assert_close(e, t, rtol=1e-7, atol=1e-9)


def test_pinv_gradcheck_and_gradgradcheck():
    for shape in [(4, 3), (3, 4)]:
        x = ember.tensor(mat(shape), requires_grad=True)
        assert ember.autograd.gradcheck(ember.linalg.pinv, (x,))
        assert ember.autograd.gradgradcheck(ember.linalg.pinv, (x,))
    s = ember.tensor(mat((3, 3)), requires_grad=True)
    assert ember.autograd.gradcheck(lambda t: ember.linalg.pinv(t + t.mT, hermitian=True), (s,))


def test_pinv_errors():
    for f in (lambda m: m.linalg.pinv(m.ones(3, dtype=m.float64)), lambda m: m.linalg.pinv(m.ones(3, 3, dtype=m.int64))):
        with pytest.raises(RuntimeError) as et:
            f(torch)
        with pytest.raises(RuntimeError) as ee:
            f(ember)
        assert str(ee.value) == str(et.value)


# --------------------------------------------------------------------------- lstsq
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES)
def test_lstsq_solution_grad(shape, dtype):
    b = mat(shape[:-1] + (2,), dtype)
    ye, yt = check(lambda m, x, y: m.linalg.lstsq(x, y).solution,
                   lambda m, s: (s * weight(m, s.shape, dtype)).sum(), mat(shape, dtype), b, outputs=lambda s: s)
    assert ye.grad_fn.name() == yt.grad_fn.name() == "LinalgLstsqBackward0"


@pytest.mark.parametrize("driver", ["gels", "gelsy", "gelsd", "gelss"])
def test_lstsq_outputs_per_driver(driver):
    for shape, bshape in [((5, 3), (5, 2)), ((3, 5), (3, 2)), ((2, 5, 3), (2, 5)), ((2, 5, 3), (1, 5, 2)),
                          ((5, 3), (5,))]:
        a, b = mat(shape), mat(bshape)

        def loss(m, r):
            out = (r.solution * weight(m, r.solution.shape, np.float64)).sum()
            return out + (r.residuals * 1.5).sum() if r.residuals.numel() else out
        ye, yt = check(lambda m, x, y: m.linalg.lstsq(x, y, driver=driver), loss, a, b)
        for fe, ft in zip(ye, yt):
            assert_close(fe, ft, rtol=1e-7, atol=1e-9)
    # a rank-deficient matrix: rank, and the minimum-norm solution (gels assumes full rank: not compared)
    if driver != "gels":
        a = mat((5, 2))
        a = np.concatenate([a, a[:, :1]], 1)
        ye, yt = check(lambda m, x, y: m.linalg.lstsq(x, y, driver=driver),
                       lambda m, r: (r.solution * weight(m, r.solution.shape, np.float64)).sum(), a, mat((5, 2)))
        for fe, ft in zip(ye, yt):
            assert_close(fe, ft, rtol=1e-7, atol=1e-9)


def test_lstsq_gradcheck_and_errors():
    a = ember.tensor(mat((4, 3)), requires_grad=True)
    b = ember.tensor(mat((4, 2)), requires_grad=True)
    assert ember.autograd.gradcheck(lambda x, y: ember.linalg.lstsq(x, y).solution, (a, b))
    assert ember.autograd.gradgradcheck(lambda x, y: ember.linalg.lstsq(x, y).solution, (a, b))
    assert ember.autograd.gradcheck(lambda x, y: ember.linalg.lstsq(x, y, driver="gelsd")[:2], (a, b))
    for f in (lambda m: m.linalg.lstsq(m.ones(3, 3, dtype=m.float64), m.ones(3, 2), driver="foo"),
              lambda m: m.linalg.lstsq(m.ones(3, 3), m.ones(4, 2)),
              lambda m: m.linalg.lstsq(m.ones(3), m.ones(3)),
              lambda m: m.linalg.lstsq(m.ones(3, 3), m.ones(3, 2, dtype=m.float64))):
        with pytest.raises(RuntimeError) as et:
            f(torch)
        with pytest.raises(RuntimeError) as ee:
            f(ember)
        assert str(ee.value) == str(et.value)


# --------------------------------------------------------------------------- triangular solves
def _tri_matrix(shape, dtype=np.float64):
    # well conditioned (random triangular matrices are not): the comparison tests the formulas
    return (0.3 * RNG.standard_normal(shape) + 3 * np.eye(shape[-1])).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("unit", [True, False])
def test_solve_triangular_grad(upper, left, unit, dtype):
    for ashape, bshape in [((3, 3), (3, 2)), ((2, 3, 3), (3, 4)), ((2, 1, 3, 3), (4, 3, 3))]:
        b = mat(bshape if left else bshape[:-2] + bshape[-2:][::-1], dtype)
        ye, yt = check(lambda m, x, y: m.linalg.solve_triangular(x, y, upper=upper, left=left, unitriangular=unit),
                       lambda m, s: (s * weight(m, s.shape, dtype)).sum(), _tri_matrix(ashape, dtype), b,
                       outputs=lambda s: s)
        assert ye.grad_fn.name() == yt.grad_fn.name()


@pytest.mark.parametrize("transpose", [True, False])
@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("unit", [True, False])
def test_triangular_solve_legacy(upper, transpose, unit):
    ye, yt = check(lambda m, y, x: m.triangular_solve(y, x, upper=upper, transpose=transpose, unitriangular=unit),
                   lambda m, r: (r.solution * weight(m, r.solution.shape, np.float64)).sum()
                   + (r.cloned_coefficient * weight(m, (3, 3), np.float64)).sum(),
                   mat((2, 3, 2)), _tri_matrix((2, 3, 3)), outputs=lambda r: list(r))
    assert ye.solution.grad_fn.name() == yt.solution.grad_fn.name() == "TriangularSolveBackward0"
    b, a = mat((3, 2)), _tri_matrix((3, 3))
    check(lambda m, y, x: y.triangular_solve(x, upper=upper, transpose=transpose).solution,
          lambda m, s: (s * weight(m, s.shape, np.float64)).sum(), b, a, outputs=lambda s: s)


def test_solve_triangular_gradcheck_and_errors():
    a = ember.tensor(_tri_matrix((2, 3, 3)), requires_grad=True)
    b = ember.tensor(mat((3, 2)), requires_grad=True)
    for left in (True, False):
        bb = b if left else b.detach().mT.clone().requires_grad_()
        f = lambda x, y: ember.linalg.solve_triangular(x, y, upper=False, left=left)  # noqa: E731
        assert ember.autograd.gradcheck(f, (a, bb))
        assert ember.autograd.gradgradcheck(f, (a, bb))
    m3 = np.eye(3)
    for f in (lambda m: m.linalg.solve_triangular(m.tensor(m3), m.ones(3, dtype=m.float64), upper=True),
              lambda m: m.linalg.solve_triangular(m.tensor(m3[:2]), m.tensor(m3), upper=True),
              lambda m: m.linalg.solve_triangular(m.tensor(m3), m.tensor(m3[:2]), upper=True)):
        with pytest.raises(RuntimeError) as et:
            f(torch)
        with pytest.raises(RuntimeError) as ee:
            f(ember)
        assert str(ee.value) == str(et.value)
    # a zero on the diagonal: inf/nan as PyTorch's, no exception
    e = ember.linalg.solve_triangular(ember.zeros(3, 3), ember.ones(3, 1), upper=True)
    t = torch.linalg.solve_triangular(torch.zeros(3, 3), torch.ones(3, 1), upper=True)
    np.testing.assert_array_equal(np.isfinite(e.numpy()), np.isfinite(t.numpy()))


# --------------------------------------------------------------------------- eigh
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_eigh_batched_grad(dtype):
    a = mat((2, 4, 4), dtype)
    sym = a + a.swapaxes(-1, -2)
    check(lambda m, x: m.linalg.eigh(x), lambda m, y: (y.eigenvalues ** 2).sum()
          + (y.eigenvectors.abs() * weight(m, (4, 4), dtype)).sum(), sym,
          outputs=lambda y: [y.eigenvalues, y.eigenvectors.abs()])
    check(lambda m, x: m.linalg.eigvalsh(x, UPLO="U"), lambda m, w: (w * weight(m, (4,), dtype)).sum(), sym)


def test_eigh_gradcheck_and_gradgradcheck():
    x = ember.tensor(mat((3, 3)), requires_grad=True)

    def f(t):
        w, v = ember.linalg.eigh(t + t.mT)
        return w, v * v
    assert ember.autograd.gradcheck(f, (x,))
    assert ember.autograd.gradgradcheck(f, (x,))


# --------------------------------------------------------------------------- property test over shapes
@settings(max_examples=25, deadline=None)
@given(batch=st.lists(st.integers(1, 2), max_size=2), m=st.integers(1, 5), n=st.integers(1, 5),
       seed=st.integers(0, 2 ** 16))
def test_decompositions_random_shapes(batch, m, n, seed):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(tuple(batch) + (m, n))
    w_rec = rng.standard_normal((m, n))

    def svd_loss(mod, y):
        return (((y.U * y.S.unsqueeze(-2)) @ y.Vh) * mod.tensor(w_rec)).sum() + y.U.abs().sum() + y.Vh.abs().sum()
    check(lambda mod, x: mod.linalg.svd(x, full_matrices=False), svd_loss, a)
    check(lambda mod, x: mod.linalg.qr(x), lambda mod, y: (y.Q @ y.R * mod.tensor(w_rec)).sum()
          + (y.R * y.R).sum(), a)
    check(lambda mod, x: mod.linalg.pinv(x), lambda mod, p: (p * mod.tensor(w_rec.T)).sum(), a)
