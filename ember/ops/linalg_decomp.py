"""Differentiable matrix decompositions: SVD, QR, pseudo-inverse, least squares, triangular solves.

Each primitive's backward is written with operators and the polymorphic helpers below, so one
formula serves the fast path (backend arrays) and ``create_graph=True`` (Tensors, double backward).
Real dtypes only for the derivatives; complex inputs run forward.
"""
from __future__ import annotations

import numpy as np

from .._tensor import Tensor, _wrap
from ..amp.autocast_mode import _ACTIVE as _AUTOCAST, float32_call as _float32_call
from ..autograd.function import Function
from ..backends import namespace_of
from . import _bw as B


# --------------------------------------------------------------------------- helpers: arrays or Tensors
def _t(x):
    return isinstance(x, Tensor)


def _unsq(x, d):
    return x.unsqueeze(d) if _t(x) else namespace_of(x).expand_dims(x, d)


def _tri(x, upper, k=0):
    """Upper (``triu(x, k)``) or lower (``tril(x, k)``) triangle of a batch of matrices."""
    if _t(x):
        return x.triu(k) if upper else x.tril(k)
    xp = namespace_of(x)
    return xp.triu(x, k) if upper else xp.tril(x, k)


def _eye(n, like):
    if _t(like):
        from .creation import eye
        return eye(n, dtype=like.dtype, device=like.device)
    return namespace_of(like).eye(n, dtype=like.dtype)


def _diag_embed(v):
    return _unsq(v, -1) * _eye(v.shape[-1], v)


def _cat(xs, dim):
    if any(_t(x) for x in xs):
        from .join import cat
        return cat([x if _t(x) else _wrap(x) for x in xs], dim)
    return namespace_of(xs[0]).concatenate(xs, dim)


def _is_zero(g):
    """An all-zero gradient that no graph depends on: the engine's stand-in for an unused output."""
    if g is None:
        return True
    if _t(g):
        return not g.requires_grad and not bool(namespace_of(g._data).any(g._data))
    return not bool(namespace_of(g).any(g))


def _real_only(op, x):
    if (x._data if _t(x) else x).dtype.kind == "c":
        raise RuntimeError(f"{op}: the derivative for complex inputs is not implemented in Ember")


def _check_float(op, A, min_dim=2):
    if A._data.ndim < min_dim:
        raise RuntimeError(f"{op}: The input tensor A must have at least 2 dimensions.")
    if A._data.dtype.kind not in "fc":
        raise RuntimeError(f"{op}: Expected a floating point or complex tensor as input. Got "
                           f"{A.dtype.name.capitalize()}")


# --------------------------------------------------------------------------- triangular solve
def _solve_tri_arrays(a, b, upper, left, unit):
    """X with op(A) X = B (left) or X op(A) = B, op(A) the triangle of A (unit diagonal if ``unit``)."""
    xp = namespace_of(a)
    t = xp.triu(a) if upper else xp.tril(a)
    if unit:
        eye = xp.eye(a.shape[-1], dtype=a.dtype)
        t = t * (1 - eye) + eye
    if not left:  # X A = B  <=>  A^T X^T = B^T
        return _solve_tri_arrays(t.swapaxes(-1, -2), b.swapaxes(-1, -2), not upper, True, False).swapaxes(-1, -2)
    shape = np.broadcast_shapes(t.shape[:-2], b.shape[:-2])
    t = xp.broadcast_to(t, shape + t.shape[-2:])
    b = xp.broadcast_to(b, shape + b.shape[-2:])
    try:
        return xp.linalg.solve(t, b)
    except np.linalg.LinAlgError:
        return _substitute(xp, t, b, upper)


def _substitute(xp, t, b, upper):
    """Row-by-row substitution (vectorised over the batch and right-hand sides): for singular triangles,
    where it gives inf/nan as BLAS's trsm does instead of raising."""
    n = t.shape[-1]
    x = xp.zeros(b.shape, dtype=np.result_type(t.dtype, b.dtype))
    rows = range(n - 1, -1, -1) if upper else range(n)
    with np.errstate(divide="ignore", invalid="ignore"):
        for i in rows:
            acc = (t[..., i:i + 1, :] @ x)[..., 0, :]
            x[..., i, :] = (b[..., i, :] - acc) / t[..., i, i:i + 1]
    return x


def _solve_tri_any(a, b, upper, left, unit):
    if _t(a) or _t(b):
        return solve_triangular(a if _t(a) else _wrap(a), b if _t(b) else _wrap(b), upper=upper, left=left,
                                unitriangular=unit)
    return _solve_tri_arrays(a, b, upper, left, unit)


def _tri_solve_grads(need_a, bshape, a, x, g, upper, left, unit, transpose=False):
    """Gradients (for A, for B) of X = op(A)^-1 B (``left``) or B op(A)^-1, where op(A) is the
    triangle of A (``upper`` or lower, unit diagonal if ``unit``), transposed when ``transpose``."""
    up = upper != transpose                 # the triangle op(A) lies in
    op_t = a if transpose else B.swap_last(a)  # op(A)^T (the solve reads only its triangle)
    gb = _solve_tri_any(op_t, g, not up, left, unit)
    ga = None
    if need_a:
        gop = -(gb @ B.swap_last(x)) if left else -(B.swap_last(x) @ gb)  # the gradient for op(A)
        if transpose:
            gop = B.swap_last(gop)
        # only A's triangle is read (without its diagonal when unit): the rest gets no gradient
        ga = B.sum_to(_tri(gop, upper, (1 if upper else -1) if unit else 0), tuple(a.shape))
    return ga, B.sum_to(gb, tuple(bshape))


class SolveTriangular(Function):
    raw = True
    node_name = "LinalgSolveTriangularBackward0"

    @staticmethod
    def forward(ctx, a, b, upper, left, unit):
        x = _solve_tri_arrays(a, b, upper, left, unit)
        ctx.flags = (upper, left, unit)
        ctx.bshape = b.shape
        ctx.save_for_backward(a, x)
        return x

    @staticmethod
    def backward(ctx, g):
        a, x = ctx.saved_tensors
        _real_only("linalg.solve_triangular", a)
        need = ctx.needs_input_grad
        ga, gb = _tri_solve_grads(need[0], ctx.bshape, a, x, g, *ctx.flags)
        return ga, (gb if need[1] else None), None, None, None


def _promote(a, b):
    if a._data.dtype != b._data.dtype:
        from .._dtype import result_type
        rd = result_type(a, b)
        a, b = a.to(rd), b.to(rd)
    return a, b


def solve_triangular(A: Tensor, B_: Tensor, *, upper: bool, left: bool = True, unitriangular: bool = False,
                     out=None) -> Tensor:
    """X solving ``A X = B`` (``left``) or ``X A = B`` for triangular ``A`` (..., n, n), ``B`` (..., n, k)
    (or (..., k, n) when ``left=False``); batch dimensions broadcast. Differentiable in both."""
    op = "linalg.solve_triangular"
    if B_.dim() < 2:
        raise RuntimeError(f"{op}: The input tensor B must have at least 2 dimensions.")
    if A.dim() < 2 or A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{op}: A must be batches of square matrices, but they are "
                           f"{A.shape[-2] if A.dim() > 1 else 1} by {A.shape[-1]} matrices")
    n = A.shape[-1]
    if (B_.shape[-2] if left else B_.shape[-1]) != n:
        eq = "AX = B" if left else "XA = B"
        raise RuntimeError(f"{op}: Incompatible shapes of A and B for the equation {eq} "
                           f"({n}x{n} and {B_.shape[-2]}x{B_.shape[-1]})")
    try:
        np.broadcast_shapes(tuple(A.shape[:-2]), tuple(B_.shape[:-2]))
    except ValueError:
        from .elementwise import _raise_broadcast
        from .linalg import _wrap_shape
        _raise_broadcast(_wrap_shape(A.shape[:-2]), _wrap_shape(B_.shape[:-2]))
        raise
    A, B_ = _promote(A, B_)
    x = SolveTriangular.apply(A, B_, bool(upper), bool(left), bool(unitriangular))
    return _into(out, x)


def _into(out, x):
    if out is None:
        return x
    if tuple(out.shape) != tuple(x.shape):
        raise RuntimeError(f"out= tensor has shape {list(out.shape)}, but the result has shape {list(x.shape)}")
    with _no_grad():
        out.copy_(x)
    return out


def _no_grad():
    from ..autograd.grad_mode import no_grad
    return no_grad()


class TriangularSolve(Function):
    """Legacy ``torch.triangular_solve(b, A)``: (solution, a copy of A), one node for both."""

    raw = True
    node_name = "TriangularSolveBackward0"

    @staticmethod
    def forward(ctx, b, a, upper, transpose, unit):
        op_a = a.swapaxes(-1, -2) if transpose else a
        x = _solve_tri_arrays(op_a, b, upper != transpose, True, unit)
        ctx.flags = (upper, transpose, unit)
        ctx.bshape = b.shape
        ctx.save_for_backward(a, x)
        shape = np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + a.shape[-2:]
        return x, namespace_of(a).broadcast_to(a, shape).copy()

    @staticmethod
    def backward(ctx, g, gc):
        a, x = ctx.saved_tensors
        _real_only("triangular_solve", a)
        upper, transpose, unit = ctx.flags
        need = ctx.needs_input_grad
        ga, gb = _tri_solve_grads(need[1], ctx.bshape, a, x, g, upper, True, unit, transpose)
        if need[1] and not _is_zero(gc):  # the copy of A passes its gradient straight through
            ga = ga + B.sum_to(gc, tuple(a.shape))
        return (gb if need[0] else None), ga, None, None, None


def triangular_solve(b: Tensor, A: Tensor, upper: bool = True, transpose: bool = False,
                     unitriangular: bool = False):
    """PyTorch's legacy ``torch.triangular_solve``: returns (solution, cloned_coefficient)."""
    from .. import return_types as RT
    if b.dim() < 2 or A.dim() < 2:
        raise RuntimeError(f"torch.triangular_solve: Expected b to have at least 2 dimensions, but it has "
                           f"{b.dim()} dimensions instead" if b.dim() < 2 else
                           f"torch.triangular_solve: Expected A to have at least 2 dimensions, but it has "
                           f"{A.dim()} dimensions instead")
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"A must be batches of square matrices, but they are {A.shape[-2]} by {A.shape[-1]} "
                           f"matrices")
    if b.shape[-2] != A.shape[-1]:
        raise RuntimeError(f"Incompatible matrix sizes for triangular_solve: each A matrix is {A.shape[-1]} by "
                           f"{A.shape[-1]} but each b matrix is {b.shape[-2]} by {b.shape[-1]}")
    if b._data.dtype != A._data.dtype:
        raise RuntimeError(f"Expected b and A to have the same dtype, but got b.dtype = {b.dtype} and "
                           f"A.dtype = {A.dtype}")
    x, c = TriangularSolve.apply(b, A, bool(upper), bool(transpose), bool(unitriangular))
    return RT.triangular_solve(x, c)


# --------------------------------------------------------------------------- SVD
class Svd(Function):
    """A = U diag(S) Vh. svdvals uses it too and hides U and Vh: they stay outputs of the node so that
    double backward (whose first-order gradient reads them) reaches them on the graph."""

    raw = True
    node_name = "LinalgSvdBackward0"

    @staticmethod
    def forward(ctx, a, full):
        xp = namespace_of(a)
        u, s, vh = xp.linalg.svd(a, full_matrices=full)
        s = s.astype(a.real.dtype if a.dtype.kind == "c" else a.dtype, copy=False)
        ctx.full = full
        ctx.save_for_backward(u, s, vh)
        return u, s, vh

    @staticmethod
    def backward(ctx, gu, gs, gvh):
        u, s, vh = ctx.saved_tensors
        _real_only("linalg.svd", u)
        k = s.shape[-1]
        if ctx.full:  # the columns beyond min(m, n) do not depend on A smoothly: PyTorch drops them
            u, vh = u[..., :, :k], vh[..., :k, :]
            gu = None if gu is None else gu[..., :, :k]
            gvh = None if gvh is None else gvh[..., :k, :]
        # an unused output's zeros would still bring in the 1/s terms (0/0 at a zero singular value)
        if _is_zero(gu):
            gu = None
        if _is_zero(gvh):
            gvh = None
        return svd_backward(gu, gs, gvh, u, s, vh), None


def svd_backward(gu, gs, gvh, u, s, vh):
    """Gradient of A = U diag(S) Vh (reduced: U (..., m, k), Vh (..., k, n)); ``None`` for an unused output."""
    m, n = u.shape[-2], vh.shape[-1]
    if gu is None and gvh is None:
        if gs is None:
            return None
        return (u * _unsq(gs, -2)) @ vh if m < n else u @ (_unsq(gs, -1) * vh)
    s_row, s_col = _unsq(s, -2), _unsq(s, -1)
    s2 = s * s
    eye = _eye(s.shape[-1], s)
    denom = _unsq(s2, -2) - _unsq(s2, -1) + eye  # [i, j] = s_j^2 - s_i^2, 1 on the diagonal
    inner = 0
    if gu is not None:
        j = B.swap_last(u) @ gu
        inner = (j - B.swap_last(j)) * s_row
    if gvh is not None:
        kk = vh @ B.swap_last(gvh)
        inner = inner + s_col * (kk - B.swap_last(kk))
    inner = inner / denom
    if gs is not None:
        inner = inner + _diag_embed(gs)
    if m > n and gu is not None:
        # the part of gU outside span(U)
        gus = gu / s_row
        out = u @ inner + gus - u @ (B.swap_last(u) @ gus)
        return out @ vh
    if m < n and gvh is not None:
        gvs = gvh / s_col
        out = inner @ vh + gvs - (gvs @ B.swap_last(vh)) @ vh
        return u @ out
    return u @ (inner @ vh) if m >= n else (u @ inner) @ vh


def svd(A: Tensor, full_matrices: bool = True, *, driver=None):
    """U (..., m, m|k), S (..., k), Vh (..., n|k, n) with k = min(m, n); differentiable (real dtypes)."""
    from .. import return_types as RT
    _check_float("linalg.svd", A)
    u, s, vh = Svd.apply(A, bool(full_matrices))
    return RT.svd(u, s, vh)


def svdvals(A: Tensor, *, driver=None) -> Tensor:
    """Singular values (..., min(m, n)), descending; differentiable (real dtypes)."""
    _check_float("linalg.svd", A)
    from ..autograd.grad_mode import is_grad_enabled
    if A.requires_grad and is_grad_enabled():
        return Svd.apply(A, False)[1]
    a = A._data
    s = namespace_of(a).linalg.svd(a, compute_uv=False)
    return _wrap(s.astype(a.real.dtype if a.dtype.kind == "c" else a.dtype, copy=False))


# --------------------------------------------------------------------------- QR
class Qr(Function):
    raw = True
    node_name = "LinalgQrBackward0"

    @staticmethod
    def forward(ctx, a, mode):
        xp = namespace_of(a)
        ctx.mode = mode
        if mode == "r":
            r = xp.linalg.qr(a, mode="r")
            return xp.empty((0,), dtype=a.dtype), r
        q, r = xp.linalg.qr(a, mode=mode)
        ctx.save_for_backward(q, r)
        return q, r

    @staticmethod
    def backward(ctx, gq, gr):
        if ctx.mode == "r":
            raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when mode='r'. "
                               "Please use linalg.qr(A, mode='reduced') if you are going to differentiate through "
                               "linalg.qr.")
        q, r = ctx.saved_tensors
        m, n = q.shape[-2], r.shape[-1]
        if ctx.mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and nrows > ncols.")
        _real_only("linalg.qr", q)
        return qr_backward(gq, gr, q, r), None


def _qr_square_backward(gq, gr, q, r):
    """A = Q R with R square upper-triangular: gA = (gQ + Q sym(M)) R^-T, M = R gR^T - gQ^T Q,
    sym(M) the symmetric matrix with M's lower triangle."""
    mm = r @ B.swap_last(gr) - B.swap_last(gq) @ q
    low = _tri(mm, False, -1)
    sym = low + B.swap_last(low) + _diag_embed(_diag(mm))
    rhs = gq + q @ sym
    # X R^T = rhs  <=>  R X^T = rhs^T
    return B.swap_last(_solve_tri_any(r, B.swap_last(rhs), True, True, False))


def _diag(x):
    if _t(x):
        return x.diagonal(0, -2, -1)
    return namespace_of(x).diagonal(x, 0, -2, -1)


def qr_backward(gq, gr, q, r):
    m, n = q.shape[-2], r.shape[-1]
    if m >= n:
        return _qr_square_backward(gq, gr, q, r)
    # wide: A = [X | Y], R = [U | V], X = Q U (square), Y = Q V with V = Q^T Y
    y = q @ r[..., :, m:]
    gv = gr[..., :, m:]
    gx = _qr_square_backward(gq + y @ B.swap_last(gv), gr[..., :, :m], q, r[..., :, :m])
    return _cat([gx, q @ gv], -1)


def qr(A: Tensor, mode: str = "reduced"):
    """Q (..., m, k|m), R (..., k|m, n); differentiable for mode='reduced', and 'complete' when m <= n."""
    from .. import return_types as RT
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), "
                           f"'r', or 'complete'")
    _check_float("linalg.qr", A)
    q, r = Qr.apply(A, mode)
    return RT.qr(q, r)


# --------------------------------------------------------------------------- pseudo-inverse
def _tol_array(t):
    return t._data if _t(t) else t


def _pinv_arrays(a, atol, rtol, hermitian):
    xp = namespace_of(a)
    m, n = a.shape[-2:]
    rdt = a.real.dtype if a.dtype.kind == "c" else a.dtype
    if hermitian:
        w, v = xp.linalg.eigh(a)
        s = xp.abs(w)
    else:
        u, s, vh = xp.linalg.svd(a, full_matrices=False)
    s = s.astype(rdt, copy=False)
    smax = s.max(-1, keepdims=True) if s.shape[-1] else xp.zeros(s.shape[:-1] + (1,), rdt)
    atol, rtol = _tol_array(atol), _tol_array(rtol)
    if rtol is None:
        # PyTorch's default: eps * max(m, n), or 0 where a positive atol is given
        default = max(m, n) * float(np.finfo(rdt).eps)
        rtol = default if atol is None else xp.where(xp.asarray(atol) > 0, 0.0, default)
    if atol is None:
        atol = 0.0
    atol = xp.asarray(atol, dtype=rdt)[..., None]
    rtol = xp.asarray(rtol, dtype=rdt)[..., None]
    keep = s > xp.maximum(atol, rtol * smax)
    d = w if hermitian else s
    dinv = xp.where(keep, 1 / xp.where(keep, d, 1), 0).astype(rdt, copy=False)
    if hermitian:
        return (v * dinv[..., None, :]) @ v.swapaxes(-1, -2).conj()
    return (vh.swapaxes(-1, -2).conj() * dinv[..., None, :]) @ u.swapaxes(-1, -2).conj()


class Pinv(Function):
    raw = True
    node_name = "LinalgPinvBackward0"

    @staticmethod
    def forward(ctx, a, atol, rtol, hermitian):
        p = _pinv_arrays(a, atol, rtol, hermitian)
        ctx.save_for_backward(a, p)
        return p

    @staticmethod
    def backward(ctx, g):
        a, p = ctx.saved_tensors
        _real_only("linalg.pinv", a)
        return pinv_backward(g, a, p), None, None, None


def pinv_backward(g, a, p):
    """d/dA <G, A+> for constant rank: -P^T G P^T + (I - A P) G^T P P^T + P^T P G^T (I - P A), P = A+;
    grouped so that the largest intermediate is min(m, n)-sized where possible."""
    pt, gt = B.swap_last(p), B.swap_last(g)
    m, n = a.shape[-2], a.shape[-1]
    if m <= n:
        k = gt @ p                      # (m, m)
        kpt = k @ pt                    # (m, n)
        return -(pt @ g @ pt) + kpt - a @ (p @ kpt) + pt @ (p @ (gt - k @ a))
    k = p @ gt                          # (n, n)
    ptk = pt @ k                        # (m, n)
    return -(pt @ g @ pt) + (gt - a @ k) @ (p @ pt) + ptk - (ptk @ p) @ a


def pinv(A: Tensor, *, atol=None, rtol=None, hermitian: bool = False, out=None) -> Tensor:
    """Moore-Penrose pseudo-inverse (..., n, m) of A (..., m, n); singular values at or below
    max(atol, rtol * s_max) are treated as zero. Differentiable where the rank is locally constant."""
    if _AUTOCAST[0]:
        return _float32_call(pinv, A, atol=atol, rtol=rtol, hermitian=hermitian, out=out)
    if A.dim() < 2 or A._data.dtype.kind not in "fc":
        dt = {"float32": "Float", "float64": "Double", "int64": "Long", "int32": "Int"}.get(A.dtype.name,
                                                                                             A.dtype.name)
        raise RuntimeError(f"linalg.pinv({dt}{{{list(A.shape)}}}): expected a tensor with 2 or more dimensions "
                           f"of float, double, cfloat or cdouble types")
    if hermitian and A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"linalg.eigh: A must be batches of square matrices, but they are {A.shape[-2]} by "
                           f"{A.shape[-1]} matrices")
    return _into(out, Pinv.apply(A, atol, rtol, bool(hermitian)))


# --------------------------------------------------------------------------- least squares
_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


class Lstsq(Function):
    """Solution (and residuals) of min ||A X - B||: X = A+ B, differentiable in A and B."""

    raw = True
    node_name = "LinalgLstsqBackward0"

    @staticmethod
    def forward(ctx, a, b, rcond, want_residuals):
        xp = namespace_of(a)
        p = _pinv_arrays(a, None, rcond, False)
        x = p @ b
        ctx.want_residuals = want_residuals
        if want_residuals:
            diff = a @ x - b
            res = (diff * diff).sum(-2)
        else:
            res = xp.empty((0,), dtype=a.dtype)
        ctx.rcond = rcond
        ctx.save_for_backward(a, b, x, p)
        return x, res

    @staticmethod
    def backward(ctx, gx, gres):
        a, b, x, p = ctx.saved_tensors
        _real_only("linalg.lstsq", a)
        if _t(a):  # double backward needs the pseudo-inverse on the graph
            p = Pinv.apply(a, None, ctx.rcond, False)
        need = ctx.needs_input_grad
        ga = B.sum_to(pinv_backward(gx @ B.swap_last(b), a, p), tuple(a.shape)) if need[0] else None
        gb = B.sum_to(B.swap_last(p) @ gx, tuple(b.shape)) if need[1] else None
        if ctx.want_residuals and not _is_zero(gres):
            # at the optimum, d||AX - B||^2 is the partial derivative with X held fixed
            w = 2 * (a @ x - b) * _unsq(gres, -2)
            ga = None if ga is None else ga + B.sum_to(w @ B.swap_last(x), tuple(a.shape))
            gb = None if gb is None else gb - B.sum_to(w, tuple(b.shape))
        return ga, gb, None, None


def lstsq(A: Tensor, B_: Tensor, rcond=None, *, driver=None):
    """Least-squares solution of ``A X = B`` (A (..., m, n), B (..., m, k) or (..., m)), with PyTorch's
    residuals, rank and singular_values for each driver; the solution and residuals are differentiable."""
    from .. import return_types as RT
    op = "torch.linalg.lstsq"
    if A.dim() < 2:
        raise RuntimeError(f"{op}: input must have at least 2 dimensions.")
    if B_.dim() < 1:
        raise RuntimeError(f"{op}: other must have at least 1 dimension.")
    if A._data.dtype != B_._data.dtype:
        raise RuntimeError(f"{op}: Expected input and other to have the same dtype, but got input's dtype "
                           f"{_cap(A)} and other's dtype {_cap(B_)}")
    if driver is None:
        driver = "gelsy" if isinstance(A._data, np.ndarray) else "gels"
    if driver not in _DRIVERS:
        raise RuntimeError(f"{op}: parameter `driver` should be one of (gels, gelsy, gelsd, gelss)")
    vector = B_.dim() == 1 or B_.dim() == A.dim() - 1
    b = B_.unsqueeze(-1) if vector else B_
    if A.shape[-2] != b.shape[-2]:
        raise RuntimeError(f"{op}: input.size(-2) should match other.size(-2)")
    a = A._data
    xp = namespace_of(a)
    m, n = a.shape[-2:]
    rdt = a.real.dtype if a.dtype.kind == "c" else a.dtype
    if rcond is None or rcond < 0:
        rcond = float(np.finfo(rdt).eps) * max(m, n)
    if driver == "gels":
        rcond = 0.0
    s = xp.linalg.svd(a, compute_uv=False).astype(rdt, copy=False) if a.size else xp.zeros(a.shape[:-1], rdt)
    smax = s.max(-1, keepdims=True) if s.shape[-1] else s
    rank = (s > rcond * smax).sum(-1).astype(np.int64)
    full_rank = bool((rank == min(m, n)).all())
    want_res = m > n and driver != "gelsy" and full_rank
    x, res = Lstsq.apply(A, b, rcond, want_res)
    if vector:
        x = x.squeeze(-1)
    empty_f = _wrap(xp.empty((0,), dtype=rdt))
    rank_t = _wrap(rank) if driver != "gels" else _wrap(xp.empty((0,), dtype=np.int64))
    sv = _wrap(s) if driver in ("gelsd", "gelss") else empty_f
    return RT.lstsq(x, res, rank_t, sv)


def _cap(t):
    return {"float32": "Float", "float64": "Double", "float16": "Half"}.get(t.dtype.name, t.dtype.name)
