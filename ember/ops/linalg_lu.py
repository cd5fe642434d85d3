"""LU with partial pivoting and what is built on it: ``linalg.lu_factor(_ex)``, ``linalg.lu``, ``lu_unpack``,
``linalg.lu_solve``, ``linalg.solve(_ex)`` and the legacy ``torch.lu`` / ``torch.lu_solve``.

The factorization is LAPACK getrf's: ``A = P L U``, ``LU`` packs the unit-lower L (below the diagonal) and U,
``pivots`` are getrf's 1-based row swaps (int32), ``info`` the 1-based index of U's first zero diagonal element.
SciPy's ``lu_factor`` computes it when SciPy is installed; otherwise (and on CuPy arrays) a NumPy elimination
vectorised over the batch (one step per column) does. All of them are differentiable for real dtypes,
rectangular LU included.
"""
from __future__ import annotations

import warnings

import numpy as np

from .._tensor import Tensor, _wrap
from ..autograd.function import Function
from ..backends import namespace_of
from . import _bw as B
from .linalg_decomp import _promote, _real_only, _solve_tri_any, _t, _tri, _unsq
from .linalg_matrix import LinAlgError, _batch_prefix, _check_square, _first_bad, _out, _scalar_name

_NO_PIVOT = "LU without pivoting is not implemented on the CPU"


# --------------------------------------------------------------------------- the factorization (arrays)
def _scipy_lu():
    try:
        from scipy.linalg import lu_factor
    except ImportError:
        return None
    return lu_factor


def _lu_numpy(a):
    """getrf by Gaussian elimination with partial pivoting: a loop over the min(m, n) columns, each step
    vectorised over the batch. Returns (LU, 0-based pivots)."""
    xp = namespace_of(a)
    m, n = a.shape[-2:]
    k = min(m, n)
    batch = a.shape[:-2]
    lu = a.reshape((-1, m, n)).copy()
    piv = xp.zeros((lu.shape[0], k), dtype=np.int32)
    rows = xp.arange(lu.shape[0])
    with np.errstate(divide="ignore", invalid="ignore"):
        for j in range(k):
            p = xp.argmax(xp.abs(lu[:, j:, j]), axis=-1) + j
            piv[:, j] = p
            top = lu[rows, j].copy()
            lu[rows, j] = lu[rows, p]
            lu[rows, p] = top
            d = lu[:, j, j]
            scale = xp.where(d == 0, 1, d)
            lu[:, j + 1:, j] /= scale[:, None]
            lu[:, j + 1:, j + 1:] -= lu[:, j + 1:, j:j + 1] * lu[:, j:j + 1, j + 1:]
    return lu.reshape(a.shape), piv.reshape(batch + (k,))


def _lu_arrays(a):
    """(LU, pivots 1-based int32, info int32) of a batch of (m, n) matrices."""
    xp = namespace_of(a)
    m, n = a.shape[-2:]
    k = min(m, n)
    lu = piv = None
    f = _scipy_lu() if xp is np else None
    if f is not None and a.size:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                lu, piv = f(a, check_finite=False)
            except ValueError:  # an older SciPy: 2-D only
                lu = None
    if lu is None:
        lu, piv = _lu_numpy(a)
    lu = lu.astype(a.dtype, copy=False)
    piv = piv.astype(np.int32, copy=False) + 1
    zero = xp.diagonal(lu, 0, -2, -1)[..., :k] == 0
    info = xp.where(zero.any(-1), zero.argmax(-1) + 1, 0).astype(np.int32) if k else xp.zeros(a.shape[:-2], np.int32)
    return lu, piv, info


def _perm_from_pivots(piv, m):
    """perm with (P^T A)[j] = A[perm[j]], for getrf's 1-based pivots (..., k)."""
    xp = namespace_of(piv)
    batch = piv.shape[:-1]
    perm = xp.broadcast_to(xp.arange(m), batch + (m,)).reshape(-1, m).copy()
    pv = (piv.reshape(-1, piv.shape[-1]) - 1).astype(np.int64)
    rows = xp.arange(perm.shape[0])
    for j in range(pv.shape[-1]):
        p = pv[:, j]
        top = perm[:, j].copy()
        perm[:, j] = perm[rows, p]
        perm[rows, p] = top
    return perm.reshape(batch + (m,))


def _perm_matrix(perm, dtype):
    """P with P[perm[j], j] = 1, so that A = P L U."""
    xp = namespace_of(perm)
    m = perm.shape[-1]
    return (perm[..., :, None] == xp.arange(m)).swapaxes(-1, -2).astype(dtype)


def _unpack_arrays(lu):
    xp = namespace_of(lu)
    m, n = lu.shape[-2:]
    k = min(m, n)
    L = xp.tril(lu[..., :, :k], -1) + xp.eye(m, k, dtype=lu.dtype)
    U = xp.triu(lu[..., :k, :])
    return L, U


def _take_rows(x, perm):
    """x[..., perm, :] with perm batched (broadcast over x's batch)."""
    xp = namespace_of(x)
    shape = np.broadcast_shapes(x.shape[:-2], perm.shape[:-1])
    x = xp.broadcast_to(x, shape + x.shape[-2:])
    idx = xp.broadcast_to(perm, shape + perm.shape[-1:])[..., None]
    return xp.take_along_axis(x, idx, -2)


# --------------------------------------------------------------------------- gradients
def _lu_backward(P, L, U, gL, gU):
    """d/dA of a loss of (L, U) for A = P L U (getrf's factors of an m x n A, k = min(m, n)).
    Square: gA = P L^-H (tril(L^H gL, -1) + triu(gU U^H)) U^-H. Wide (m < n): U = [U1 U2], U2 = L^-1 P^T A2,
    which adds -L^-H gU2 U2^H to gL and gives gA2 = P L^-H gU2. Tall: L = [L1; L2], L2 = B2 U^-1, which adds
    -L2^H gL2 U^-H to gU and gives gB2 = gL2 U^-H."""
    m, n = L.shape[-2], U.shape[-1]
    k = min(m, n)
    if gL is None:
        gL = L * 0
    if gU is None:
        gU = U * 0
    if m == n:
        return P @ _square_core(L, U, gL, gU)
    if m < n:
        U1, U2, gU1, gU2 = U[..., :, :k], U[..., :, k:], gU[..., :, :k], gU[..., :, k:]
        gA2 = _solve_tri_any(B.swap_last(L), gU2, True, True, True)  # L^-H gU2
        gB1 = _square_core(L, U1, gL - gA2 @ B.swap_last(U2), gU1)
        from .join import cat
        cat_ = cat if _t(gB1) else (lambda xs, d: namespace_of(xs[0]).concatenate(xs, d))
        return P @ cat_([gB1, gA2], -1)
    L1, L2, gL1, gL2 = L[..., :k, :], L[..., k:, :], gL[..., :k, :], gL[..., k:, :]
    gB2 = _solve_tri_any(B.swap_last(U), gL2, False, False, False)  # gL2 U^-H
    gB1 = _square_core(L1, U, gL1, gU - B.swap_last(L2) @ gB2)
    from .join import cat
    cat_ = cat if _t(gB1) else (lambda xs, d: namespace_of(xs[0]).concatenate(xs, d))
    return P @ cat_([gB1, gB2], -2)


def _square_core(L, U, gL, gU):
    phi = _tri(B.swap_last(L) @ gL, False, -1) + _tri(gU @ B.swap_last(U), True)
    x = _solve_tri_any(B.swap_last(L), phi, True, True, True)           # L^-H phi
    return _solve_tri_any(B.swap_last(U), x, False, False, False)       # ... U^-H


def _pmat_any(perm, like):
    P = _perm_matrix(perm, (like._data if _t(like) else like).dtype)
    return _wrap(P) if _t(like) else P


class LuFactor(Function):
    raw = True
    node_name = "LinalgLuFactorExBackward0"

    @staticmethod
    def forward(ctx, a):
        lu, piv, info = _lu_arrays(a)
        ctx.save_for_backward(lu)
        ctx.perm = _perm_from_pivots(piv, a.shape[-2])
        return lu, piv, info

    @staticmethod
    def backward(ctx, g, _gp=None, _gi=None):
        (lu,) = ctx.saved_tensors
        _real_only("linalg.lu_factor", lu)
        m, n = lu.shape[-2:]
        k = min(m, n)
        L, U = _unpack_any(lu)
        gL, gU = _tri(g[..., :, :k], False, -1), _tri(g[..., :k, :], True)
        return _lu_backward(_pmat_any(ctx.perm, lu), L, U, gL, gU)


def _unpack_any(lu):
    if not _t(lu):
        return _unpack_arrays(lu)
    from .creation import eye
    m, n = lu.shape[-2:]
    k = min(m, n)
    return lu[..., :, :k].tril(-1) + eye(m, k, dtype=lu.dtype, device=lu.device), lu[..., :k, :].triu()


class Lu(Function):
    raw = True
    node_name = "LinalgLuBackward0"

    @staticmethod
    def forward(ctx, a):
        lu, piv, _ = _lu_arrays(a)
        perm = _perm_from_pivots(piv, a.shape[-2])
        L, U = _unpack_arrays(lu)
        P = _perm_matrix(perm, a.dtype)
        ctx.save_for_backward(P, L, U)
        return P, L, U

    @staticmethod
    def backward(ctx, _gP, gL, gU):
        P, L, U = ctx.saved_tensors
        _real_only("linalg.lu", L)
        return _lu_backward(P, L, U, gL, gU)


class LuUnpack(Function):
    raw = True
    node_name = "LuUnpackBackward0"

    @staticmethod
    def forward(ctx, lu, piv, unpack_data, unpack_pivots):
        xp = namespace_of(lu)
        m, n = lu.shape[-2:]
        ctx.mn = (m, n)
        if unpack_data:
            L, U = _unpack_arrays(lu)
        else:
            L, U = xp.zeros((0,), lu.dtype), xp.zeros((0,), lu.dtype)
        if unpack_pivots:
            P = _perm_matrix(_perm_from_pivots(piv, m), lu.dtype)
        else:
            P = xp.zeros((0,), lu.dtype)
        ctx.unpacked = unpack_data
        return P, L, U

    @staticmethod
    def backward(ctx, _gP, gL, gU):
        if not ctx.unpacked:
            return None, None, None, None
        m, n = ctx.mn
        # scatter back into the packed (m, n) layout: L's strict lower part in the first k columns,
        # U's upper part in the first k rows
        g = None
        if gL is not None:
            g = _pad_to(_tri(gL, False, -1), m, n)
        if gU is not None:
            gu = _pad_to(_tri(gU, True), m, n)
            g = gu if g is None else g + gu
        return g, None, None, None


def _pad_to(x, m, n):
    """x (..., r, c) placed top-left in zeros (..., m, n)."""
    r, c = x.shape[-2:]
    if (r, c) == (m, n):
        return x
    if _t(x):
        from ..nn.functional import pad
        return pad(x, (0, n - c, 0, m - r))
    xp = namespace_of(x)
    widths = [(0, 0)] * (x.ndim - 2) + [(0, m - r), (0, n - c)]
    return xp.pad(x, widths)


def _check_lu_input(op, A):
    if A.dim() < 2:
        raise RuntimeError(f"{op}: Expected tensor with 2 or more dimensions. Got size: {list(A.shape)} instead")
    if A._data.dtype.kind not in "fc":
        raise RuntimeError(f"{op}: Expected a floating point or complex tensor as input. Got "
                           f"{_scalar_name(A.dtype)}")


def _zero_pivot_error(op, shape, info):
    i, k = _first_bad(info)
    return RuntimeError(f"{op}: {_batch_prefix(shape, i)}U[{k},{k}] is zero and using it on lu_solve would result "
                        f"in a division by zero. If you still want to perform the factorization, consider calling "
                        f"linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)")


def lu_factor_ex(A: Tensor, *, pivot: bool = True, check_errors: bool = False, out=None):
    """(LU, pivots, info) of getrf; differentiable in LU for real dtypes."""
    from .. import return_types as RT
    op = "torch.linalg.lu_factor_ex"
    _check_lu_input(op, A)
    if not pivot:
        raise RuntimeError(f"linalg.lu_factor: {_NO_PIVOT}")
    lu, piv, info = LuFactor.apply(A)
    if check_errors and bool(info._data.any()):
        raise _zero_pivot_error(op, tuple(A.shape), info._data)
    return _out(out, RT.lu_factor_ex(lu, piv, info))


def lu_factor(A: Tensor, *, pivot: bool = True, out=None):
    """(LU, pivots); raises RuntimeError when U has a zero on its diagonal, as PyTorch does."""
    from .. import return_types as RT
    op = "torch.linalg.lu_factor"
    _check_lu_input(op, A)
    if not pivot:
        raise RuntimeError(f"linalg.lu_factor: {_NO_PIVOT}")
    lu, piv, info = LuFactor.apply(A)
    if bool(info._data.any()):
        raise _zero_pivot_error(op, tuple(A.shape), info._data)
    return _out(out, RT.lu_factor(lu, piv))


def lu(A: Tensor, *, pivot: bool = True, out=None):
    """(P, L, U) with A = P L U; differentiable in L and U for real dtypes (any shape)."""
    from .. import return_types as RT
    _check_lu_input("linalg.lu", A)
    if not pivot:
        raise RuntimeError(f"linalg.lu: {_NO_PIVOT}")
    P, L, U = Lu.apply(A)
    return _out(out, RT.lu(P, L, U))


def lu_unpack(LU_data: Tensor, LU_pivots: Tensor, unpack_data: bool = True, unpack_pivots: bool = True, *,
              out=None):
    """(P, L, U) from ``lu_factor``'s packed result; empty tensors for the parts not asked for."""
    from .. import return_types as RT
    if LU_data.dim() < 2:
        raise RuntimeError(f"torch.lu_unpack: Expected tensor with 2 or more dimensions. Got size: "
                           f"{list(LU_data.shape)} instead")
    if LU_pivots._data.dtype != np.int32:
        raise RuntimeError(f"torch.lu_unpack: LU_pivots is expected to be a contiguous tensor of torch.int32 "
                           f"dtype. Note: this function is intended to be used with the output produced by "
                           f"torch.linalg.lu_factor. Got {LU_pivots.dtype}")
    P, L, U = LuUnpack.apply(LU_data, LU_pivots, bool(unpack_data), bool(unpack_pivots))
    return _out(out, RT.lu_unpack(P, L, U))


# --------------------------------------------------------------------------- solves
def _lu_solve_left(lu, perm, b, adjoint):
    """op(A)^-1 B for A = P L U given as (LU, perm); op = conjugate transpose when ``adjoint``."""
    if not adjoint:
        y = _take_rows(b, perm)                                      # P^T B
        y = _solve_tri_any(lu, y, False, True, True)                 # L^-1
        return _solve_tri_any(lu, y, True, True, False)              # U^-1
    xp = namespace_of(lu)
    luh = lu.swapaxes(-1, -2).conj()
    y = _solve_tri_any(luh, b, False, True, False)                   # U^-H
    y = _solve_tri_any(luh, y, True, True, True)                     # L^-H
    inv = xp.argsort(perm, -1)
    return _take_rows(y, inv)                                        # P Y


def _lu_solve_arrays(lu, perm, b, left, adjoint):
    if left:
        return _lu_solve_left(lu, perm, b, adjoint)
    return _lu_solve_left(lu, perm, b.swapaxes(-1, -2).conj(), not adjoint).swapaxes(-1, -2).conj()


class LuSolve(Function):
    raw = True
    node_name = "LinalgLuSolveBackward0"

    @staticmethod
    def forward(ctx, lu, piv, b, left, adjoint):
        perm = _perm_from_pivots(piv, lu.shape[-1])
        x = _lu_solve_arrays(lu, perm, b, left, adjoint)
        ctx.flags = (left, adjoint)
        ctx.perm = perm
        ctx.bshape = b.shape
        ctx.save_for_backward(lu, piv, x)
        return x

    @staticmethod
    def backward(ctx, g):
        lu, piv, x = ctx.saved_tensors
        _real_only("linalg.lu_solve", lu)
        left, adjoint = ctx.flags
        need = ctx.needs_input_grad
        if _t(g):
            gb = lu_solve(lu, piv, g, left=left, adjoint=not adjoint)
        else:
            gb = _lu_solve_arrays(lu, ctx.perm, g, left, not adjoint)
        glu = None
        if need[0]:
            g_op = -(gb @ B.swap_last(x)) if left else -(B.swap_last(x) @ gb)
            gA = B.swap_last(g_op) if adjoint else g_op
            L, U = _unpack_any(lu)
            P = _pmat_any(ctx.perm, lu)
            R = B.swap_last(P) @ gA
            glu = B.sum_to(_tri(R @ B.swap_last(U), False, -1) + _tri(B.swap_last(L) @ R, True), tuple(lu.shape))
        return glu, None, (B.sum_to(gb, tuple(ctx.bshape)) if need[2] else None), None, None


def lu_solve(LU: Tensor, pivots: Tensor, B_: Tensor, *, left: bool = True, adjoint: bool = False, out=None):
    """X with op(A) X = B (``left``) or X op(A) = B, A given by ``lu_factor``; differentiable in LU and B."""
    op = "linalg.lu_solve"
    if LU.dim() < 2 or LU.shape[-1] != LU.shape[-2]:
        raise RuntimeError(f"{op}: Expected LU to be batches of square matrices, but they are "
                           f"{LU.shape[-2] if LU.dim() > 1 else 1} by {LU.shape[-1] if LU.dim() else 1} matrices")
    if B_.dim() < 2:
        raise RuntimeError(f"{op}: The input tensor B must have at least 2 dimensions.")
    n = LU.shape[-1]
    if (B_.shape[-2] if left else B_.shape[-1]) != n:
        raise RuntimeError(f"{op}: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({n}x{n} and {B_.shape[-2]}x{B_.shape[-1]})")
    if tuple(pivots.shape) != tuple(LU.shape[:-1]):
        raise RuntimeError(f"{op}: Expected LU.shape[:-1] and pivots.shape to be the same, but got pivots with "
                           f"shape {list(pivots.shape)} instead")
    LU, B_ = _promote(LU, B_)
    return _out(out, LuSolve.apply(LU, pivots, B_, bool(left), bool(adjoint)))


def legacy_lu(A, pivot=True, get_infos=False, out=None):
    """PyTorch's deprecated ``torch.lu``: (LU, pivots) or (LU, pivots, infos)."""
    from .. import return_types as RT
    r = lu_factor_ex(A, pivot=pivot, check_errors=not get_infos)
    res = RT.lu_with_info(*r) if get_infos else (r.LU, r.pivots)
    return _out(out, res)


def legacy_lu_solve(b, LU_data, LU_pivots, *, out=None):
    """PyTorch's deprecated ``torch.lu_solve(b, LU_data, LU_pivots)``."""
    return _out(out, lu_solve(LU_data, LU_pivots, b))


# --------------------------------------------------------------------------- linalg.solve
def _vector_rhs(A, Bt):
    """PyTorch's rule: B is a (batch of) vector(s) when it is 1-D, or has A's batch shape plus one dimension."""
    return Bt.dim() == 1 or (Bt.dim() == A.dim() - 1 and tuple(Bt.shape) == tuple(A.shape[:-1]))


class Solve(Function):
    raw = True
    node_name = "LinalgSolveExBackward0"

    @staticmethod
    def forward(ctx, a, b, left, op, check, vec=False):
        xp = namespace_of(a)
        ctx.vec = vec
        b0shape = b.shape
        if vec:
            b = b[..., :, None] if left else b[..., None, :]
        shape = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        info = xp.zeros(shape, dtype=np.int32)
        aa = a if left else a.swapaxes(-1, -2)
        bb = b if left else b.swapaxes(-1, -2)
        aa = xp.broadcast_to(aa, shape + aa.shape[-2:])
        bb = xp.broadcast_to(bb, shape + bb.shape[-2:])
        try:
            x = xp.linalg.solve(aa, bb)
        except np.linalg.LinAlgError:
            lu, piv, info = _lu_arrays(aa)
            if check:
                i, _ = _first_bad(info)
                raise LinAlgError(f"{op}: {_batch_prefix(aa.shape, i)}The solver failed because the input "
                                  f"matrix is singular.") from None
            with np.errstate(all="ignore"):
                x = _lu_solve_arrays(lu, _perm_from_pivots(piv, aa.shape[-1]), bb, True, False)
        if not left:
            x = x.swapaxes(-1, -2)
        ctx.left = left
        ctx.shapes = (a.shape, b0shape)
        ctx.save_for_backward(a, x)
        if vec:
            x = x[..., 0] if left else x[..., 0, :]
        return x, info

    @staticmethod
    def backward(ctx, g, _gi=None):
        a, x = ctx.saved_tensors
        ashape, bshape = ctx.shapes
        if ctx.vec:
            g = _unsq(g, -1 if ctx.left else -2)
        cplx = (a._data if _t(a) else a).dtype.kind == "c"
        ah = B.swap_last(a).conj() if cplx else B.swap_last(a)
        xh = B.swap_last(x).conj() if cplx else B.swap_last(x)
        if ctx.left:   # X = A^-1 B: gB = A^-H G, gA = -gB X^H
            gb = solve(ah, g) if _t(g) else _solve_plain(ah, g)
            ga = -(gb @ xh)
        else:          # X = B A^-1: gB = G A^-H, gA = -X^H gB
            gb = solve(ah, g, left=False) if _t(g) else _solve_plain(B.swap_last(ah), B.swap_last(g)).swapaxes(-1, -2)
            ga = -(xh @ gb)
        need = ctx.needs_input_grad
        if ctx.vec:
            gb = gb[..., 0] if ctx.left else gb[..., 0, :]
        return (B.sum_to(ga, tuple(ashape)) if need[0] else None,
                B.sum_to(gb, tuple(bshape)) if need[1] else None, None, None, None, None)


def _solve_plain(a, b):
    xp = namespace_of(a)
    shape = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    return xp.linalg.solve(xp.broadcast_to(a, shape + a.shape[-2:]), xp.broadcast_to(b, shape + b.shape[-2:]))


def _solve_impl(A, B_, left, op, check):
    _check_square(op, A)
    if B_._data.dtype.kind not in "fc":
        raise RuntimeError(f"{op}: Expected a floating point or complex tensor as input. Got "
                           f"{_scalar_name(B_.dtype)}")
    vec = _vector_rhs(A, B_)
    Bm = B_.unsqueeze(-1) if vec and left else (B_.unsqueeze(-2) if vec else B_)  # for the checks
    n = A.shape[-1]
    if (Bm.shape[-2] if left else Bm.shape[-1]) != n:
        raise RuntimeError(f"{op}: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({n}x{n} and {Bm.shape[-2]}x{Bm.shape[-1]})")
    try:
        np.broadcast_shapes(tuple(A.shape[:-2]), tuple(Bm.shape[:-2]))
    except ValueError:
        raise RuntimeError(f"{op}: Incompatible batch shapes of A {list(A.shape)} and B {list(B_.shape)}") from None
    A, B_ = _promote(A, B_)
    return Solve.apply(A, B_, bool(left), op, check, vec)


def solve(A: Tensor, B_: Tensor, *, left: bool = True, out=None) -> Tensor:
    """X with A X = B (``left``) or X A = B; B may be a (batch of) vector(s). LinAlgError for singular A."""
    return _out(out, _solve_impl(A, B_, left, "torch.linalg.solve", True)[0])


def solve_ex(A: Tensor, B_: Tensor, *, left: bool = True, check_errors: bool = False, out=None):
    """(result, info): info > 0 marks a singular A instead of raising."""
    from .. import return_types as RT
    return _out(out, RT.solve_ex(*_solve_impl(A, B_, left, "torch.linalg.solve_ex", check_errors)))

