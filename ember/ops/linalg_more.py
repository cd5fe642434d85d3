"""The rest of ``torch.linalg``: eig/eigvals (complex results, differentiable), cond, matrix_rank, multi_dot,
vecdot, diagonal, vander, tensorinv, tensorsolve, householder_product and the LDL^T (Bunch-Kaufman)
factorization (``ldl_factor(_ex)``, ``ldl_solve``: SciPy's LAPACK sytrf/sytrs, forward only)."""
from __future__ import annotations

import numpy as np

from .._tensor import Tensor, _wrap
from ..amp.autocast_mode import _ACTIVE as _AUTOCAST, cast_lower as _cast_lower
from ..autograd.function import Function
from ..backends import namespace_of
from . import _bw as B
from .linalg_decomp import _diag_embed, _t, _unsq
from .linalg_matrix import LinAlgError, _batch_prefix, _check_square, _first_bad, _out, _scalar_name


# --------------------------------------------------------------------------- eig
def _complex_of(dtype):
    return np.complex64 if dtype in (np.float32, np.complex64) else np.complex128


class Eig(Function):
    raw = True
    node_name = "LinalgEigBackward0"

    @staticmethod
    def forward(ctx, a):
        xp = namespace_of(a)
        if xp is not np:  # CuPy has no general eigensolver: compute on the host
            w, v = np.linalg.eig(xp.asnumpy(a))
            w, v = xp.asarray(w), xp.asarray(v)
        else:
            w, v = np.linalg.eig(a)
        c = _complex_of(a.dtype)
        w, v = w.astype(c, copy=False), v.astype(c, copy=False)
        ctx.real_input = a.dtype.kind == "f"
        ctx.save_for_backward(w, v)
        return w, v

    @staticmethod
    def backward(ctx, gw, gv):
        w, v = ctx.saved_tensors
        vh = B.swap_last(v).conj()
        inner = 0
        if gv is not None and not _zero(gv):
            # the eigenvectors are defined up to a phase (LAPACK makes each unit-norm): project that out
            vhgv = vh @ gv
            d = _diag(vhgv).real
            vhgv = vhgv - vh @ (v * _unsq(d, -2))
            wc = w.conj()
            diff = _unsq(wc, -2) - _unsq(wc, -1)             # [i, j] = conj(w_j) - conj(w_i)
            eye = _eye_c(diff)
            inner = vhgv / (diff + eye)
            inner = inner * (1 - eye)
        if gw is not None:
            inner = inner + _diag_embed(gw)
        if isinstance(inner, int):
            return None
        rhs = inner @ vh
        if _t(rhs):
            from .linalg_lu import solve
            ga = solve(vh, rhs)
        else:
            ga = namespace_of(rhs).linalg.solve(vh, rhs)
        return ga.real if ctx.real_input else ga


def _zero(g):
    arr = g._data if _t(g) else g
    return not (g.requires_grad if _t(g) else False) and not bool(namespace_of(arr).any(arr))


def _diag(x):
    return x.diagonal(0, -2, -1) if _t(x) else namespace_of(x).diagonal(x, 0, -2, -1)


def _eye_c(like):
    n = like.shape[-1]
    if _t(like):
        from .creation import eye
        return eye(n, dtype=like.dtype, device=like.device)
    return namespace_of(like).eye(n, dtype=like.dtype)


def eig(A: Tensor, *, out=None):
    """(eigenvalues, eigenvectors) of general square matrices, always complex (LAPACK geev's unit-norm
    eigenvectors); differentiable (for distinct eigenvalues)."""
    from .. import return_types as RT
    _check_square("linalg.eig", A)
    w, v = Eig.apply(A)
    return _out(out, RT.eig(w, v))


def eigvals(A: Tensor, *, out=None) -> Tensor:
    """Eigenvalues (complex) of general square matrices; differentiable."""
    _check_square("linalg.eigvals", A)
    return _out(out, Eig.apply(A)[0])


# --------------------------------------------------------------------------- cond, rank
def cond(A: Tensor, p=None, *, out=None) -> Tensor:
    """Condition number in the norm ``p`` (None/2/-2 from singular values, any shape; 'fro', 'nuc', +-1, +-inf
    as norm(A) * norm(A^-1) for square A, inf where A is singular)."""
    from .linalg_decomp import svdvals
    from .linalg_matrix import inv_ex, matrix_norm
    if A.dim() < 2:
        raise RuntimeError("linalg.cond: The input tensor must have at least 2 dimensions.")
    if p is None or p in (2, -2):
        s = svdvals(A)
        r = s[..., 0] / s[..., -1] if p != -2 else s[..., -1] / s[..., 0]
        return _out(out, r)
    if p not in ("fro", "nuc", 1, -1, float("inf"), -float("inf")):
        raise RuntimeError(f"linalg.cond got an invalid norm type: {p}")
    _check_square("linalg.cond", A)
    ainv, info = inv_ex(A)
    r = matrix_norm(A, p) * matrix_norm(ainv, p)
    bad = info > 0
    if bool(bad._data.any()):
        from .selection import where
        r = where(bad, float("inf"), r)
    return _out(out, r)


def matrix_rank(A: Tensor, tol=None, hermitian: bool = False, *, atol=None, rtol=None, out=None) -> Tensor:
    """Number of singular values (|eigenvalues| when ``hermitian``) above max(atol, rtol * largest); rtol
    defaults to eps * max(m, n) when atol is not given (or not positive), else 0. ``tol`` is atol with rtol=0."""
    from .. import int64
    if A.dim() < 2:
        raise RuntimeError("torch.linalg.matrix_rank: The input tensor input must have at least 2 dimensions.")
    if A._data.dtype.kind not in "fc":
        raise RuntimeError("This function doesn't handle types other than float and double")
    if tol is not None:
        atol, rtol = tol, 0.0
    a = A._data
    xp = namespace_of(a)
    rdt = a.real.dtype
    m, n = a.shape[-2:]
    s = xp.abs(xp.linalg.eigvalsh(a)) if hermitian else xp.linalg.svd(a, compute_uv=False)
    s = s.astype(rdt, copy=False)
    smax = s.max(-1) if s.shape[-1] else xp.zeros(s.shape[:-1], rdt)
    at = None if atol is None else (atol._data if _t(atol) else xp.asarray(atol, dtype=rdt))
    rt = None if rtol is None else (rtol._data if _t(rtol) else xp.asarray(rtol, dtype=rdt))
    if rt is None:
        default = max(m, n) * float(np.finfo(rdt).eps)
        rt = xp.asarray(default, rdt) if at is None else xp.where(xp.asarray(at) > 0, 0.0, default)
    if at is None:
        at = xp.asarray(0.0, rdt)
    thr = xp.maximum(at, rt * smax)
    r = _wrap((s > thr[..., None]).sum(-1).astype(np.int64))
    return _out(out, r.to(int64))


# --------------------------------------------------------------------------- products
def multi_dot(tensors, *, out=None) -> Tensor:
    """A chain of matrix products in the cheapest order (dynamic programming on the shapes); the first
    operand may be a vector (a row), the last a vector (a column). Differentiable."""
    ts = list(tensors)
    if len(ts) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(ts)}")
    for i, t in enumerate(ts):
        end = i in (0, len(ts) - 1)
        if not (t.dim() == 2 or (end and t.dim() == 1)):
            where_ = "first" if i == 0 else ("last" if i == len(ts) - 1 else None)
            if where_:
                raise RuntimeError(f"multi_dot(): the {where_} tensor must be 1D or 2D but got {t.dim()}D")
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got {t.dim()}D")
    dt = ts[0].dtype
    for i, t in enumerate(ts):
        if t.dtype != dt:
            raise RuntimeError(f"multi_dot(): all tensors must have be the same dtype but tensor 0 is {dt} and "
                               f"tensor {i} {t.dtype}")
    row, col = ts[0].dim() == 1, ts[-1].dim() == 1
    if row:
        ts[0] = ts[0].unsqueeze(0)
    if col:
        ts[-1] = ts[-1].unsqueeze(-1)
    for i in range(len(ts) - 1):
        if ts[i].shape[-1] != ts[i + 1].shape[-2]:
            raise RuntimeError(f"multi_dot(): tensors {i} and {i + 1} with shapes {tuple(ts[i].shape)} and "
                               f"{tuple(ts[i + 1].shape)} cannot be multiplied")
    r = _chain(ts)
    if row:
        r = r.squeeze(0)
    if col:
        r = r.squeeze(-1)
    return _out(out, r)


def _chain(ts):
    n = len(ts)
    if n == 2:
        return ts[0] @ ts[1]
    dims = [t.shape[0] for t in ts] + [ts[-1].shape[1]]
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = None
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if cost[i][j] is None or c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k

    def build(i, j):
        if i == j:
            return ts[i]
        k = split[i][j]
        return build(i, k) @ build(k + 1, j)
    return build(0, n - 1)


def vecdot(x: Tensor, y: Tensor, *, dim: int = -1, out=None) -> Tensor:
    """sum(conj(x) * y) over ``dim`` (broadcasting); differentiable."""
    if _AUTOCAST[0]:
        x, y = _cast_lower(x, y)
    if x.dtype != y.dtype:
        raise RuntimeError(f"linalg.vecdot: Expected x and y to have the same dtype, but found x of type "
                           f"{_scalar_name(x.dtype)} and y of type {_scalar_name(y.dtype)} instead")
    xc = x.conj() if x.is_complex() else x
    return _out(out, (xc * y).sum(dim))


def diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """A view of the ``offset`` diagonal of each matrix (``torch.diagonal`` with matrix defaults)."""
    from .linalg import diagonal as _diagonal
    return _diagonal(A, offset, dim1, dim2)


def vander(x: Tensor, *, N=None) -> Tensor:
    """Vandermonde matrix with increasing powers: ``x[..., i] ** j`` for j < N (default x.shape[-1])."""
    if x.dim() < 1:
        raise RuntimeError("linalg.vander: x must have at least one dimension.")
    n = x.shape[-1] if N is None else int(N)
    if n <= 1:
        raise RuntimeError("N must be greater than 1.")
    from .join import cat
    xu = x.unsqueeze(-1)
    ones = xu * 0 + 1 if x.requires_grad else xu.new_ones(tuple(xu.shape))
    return cat([ones, xu.expand(tuple(x.shape) + (n - 1,))], -1).cumprod(-1)


def tensorinv(A: Tensor, ind: int = 2, *, out=None) -> Tensor:
    """The inverse with respect to ``tensordot(., ., ind)``: shape A.shape[ind:] + A.shape[:ind]."""
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    from .linalg_matrix import inv
    out_shape = tuple(A.shape[ind:]) + tuple(A.shape[:ind])
    rows = int(np.prod(A.shape[:ind]))
    cols = int(np.prod(A.shape[ind:]))
    if rows != cols:
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                           f"prod(self.shape[:ind]), but got {cols} != {rows}")
    try:
        r = inv(A.reshape(rows, cols))
    except LinAlgError as e:
        raise LinAlgError(str(e).replace("linalg.inv", "linalg.tensorinv")) from None
    return _out(out, r.reshape(out_shape))


def tensorsolve(A: Tensor, B_: Tensor, dims=None, *, out=None) -> Tensor:
    """X with ``tensordot(A, X, X.ndim) == B``; ``dims`` are moved to the end of A first."""
    from .linalg_lu import solve
    if dims is not None:
        d = [x % A.dim() for x in dims]
        A = A.movedim(d, list(range(A.dim() - len(d), A.dim())))
    res_shape = tuple(A.shape[B_.dim():])
    rows = int(np.prod(B_.shape))
    cols = int(np.prod(res_shape))
    if tuple(A.shape[:B_.dim()]) != tuple(B_.shape) or rows != cols:
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[other.ndim:]) == "
                           f"prod(self.shape[:other.ndim]), but got {cols} != {int(np.prod(A.shape[:B_.dim()]))}")
    x = solve(A.reshape(rows, cols), B_.reshape(rows))
    return _out(out, x.reshape(res_shape))


def householder_product(A: Tensor, tau: Tensor, *, out=None) -> Tensor:
    """The first n columns of H_1 ... H_k, H_i = I - tau_i v_i v_i^H with v_i the i-th column of A below the
    diagonal (unit diagonal): LAPACK orgqr's Q from geqrf's output. Differentiable (a composite of tensor ops,
    so its grad_fn is not PyTorch's LinalgHouseholderProductBackward0)."""
    op = "torch.linalg.householder_product"
    if A.dim() < 2:
        raise RuntimeError(f"{op}: input must have at least 2 dimensions.")
    if tau.dim() < 1:
        raise RuntimeError(f"{op}: input.dim() must be greater than or equal to tau.dim()")
    m, n = A.shape[-2:]
    k = tau.shape[-1]
    if m < n:
        raise RuntimeError(f"{op}: input.shape[-2] must be greater than or equal to input.shape[-1]")
    if n < k:
        raise RuntimeError(f"{op}: input.shape[-1] must be greater than or equal to tau.shape[-1]")
    if A.dim() - tau.dim() != 1:
        raise RuntimeError(f"{op}: Expected tau to have one dimension less than input, but got tau.ndim equal to "
                           f"{tau.dim()} and input.ndim is equal to {A.dim()}")
    if tuple(tau.shape[:-1]) != tuple(A.shape[:-2]):
        raise RuntimeError(f"{op}: Expected batch dimensions of tau to be equal to input.shape[:-2], but got "
                           f"{list(tau.shape[:-1])}")
    if tau.dtype != A.dtype:
        raise RuntimeError(f"{op}: tau dtype {tau.dtype} does not match input dtype {A.dtype}")
    from .creation import eye
    V = A[..., :, :k].tril(-1) + eye(m, k, dtype=A.dtype, device=A.device)
    Q = eye(m, n, dtype=A.dtype, device=A.device).expand(tuple(A.shape)).clone()
    for i in range(k - 1, -1, -1):
        v = V[..., :, i:i + 1]
        t = tau[..., i:i + 1].unsqueeze(-1)
        vh = v.transpose(-2, -1).conj() if A.is_complex() else v.transpose(-2, -1)
        Q = Q - (t * v) @ (vh @ Q)
    return _out(out, Q)


# --------------------------------------------------------------------------- LDL^T (Bunch-Kaufman)
def _lapack(name, a):
    try:
        from scipy.linalg import get_lapack_funcs
    except ImportError:
        raise RuntimeError("linalg.ldl_factor: Ember computes the LDL factorization with SciPy's LAPACK; "
                           "install SciPy (pip install scipy)") from None
    return get_lapack_funcs((name,), (a,))[0]


def ldl_factor_ex(A: Tensor, *, hermitian: bool = False, check_errors: bool = False, out=None):
    """(LD, pivots, info) of LAPACK sytrf (hetrf when ``hermitian``), lower triangle; forward only."""
    from .. import return_types as RT
    _check_square("torch.linalg.ldl_factor_ex", A)
    a = A._data
    xp = namespace_of(a)
    host = np.asarray(a) if xp is np else xp.asnumpy(a)
    n = host.shape[-1]
    flat = host.reshape(-1, n, n)
    name = "hetrf" if hermitian and host.dtype.kind == "c" else "sytrf"
    f = _lapack(name, flat[:1] if flat.size else np.zeros((1, 1), host.dtype))
    LD = np.zeros_like(flat)
    piv = np.zeros(flat.shape[:2], np.int32)
    info = np.zeros(flat.shape[0], np.int32)
    for i in range(flat.shape[0]):  # LAPACK's sytrf is one matrix at a time
        ld, ip, inf = f(flat[i], lower=1)[:3]
        LD[i], piv[i], info[i] = np.tril(ld), ip, inf
    LD = LD.reshape(host.shape)
    piv, info = piv.reshape(host.shape[:-1]), info.reshape(host.shape[:-2])
    if check_errors and info.any():
        i, k = _first_bad(info)
        raise LinAlgError(f"torch.linalg.ldl_factor_ex: {_batch_prefix(host.shape, i)}The factorization could not "
                          f"be completed because the input is singular (D[{k},{k}] is zero).")
    res = RT.ldl_factor_ex(_wrap(xp.asarray(LD)), _wrap(xp.asarray(piv)), _wrap(xp.asarray(info)))
    return _out(out, res)


def ldl_factor(A: Tensor, *, hermitian: bool = False, out=None):
    """(LD, pivots) of ``ldl_factor_ex`` (errors are raised); forward only."""
    from .. import return_types as RT
    LD, piv, info = ldl_factor_ex(A, hermitian=hermitian)
    if bool(info._data.any()):
        i, k = _first_bad(info._data)
        raise LinAlgError(f"torch.linalg.ldl_factor: {_batch_prefix(tuple(A.shape), i)}The factorization could "
                          f"not be completed because the input is singular (D[{k},{k}] is zero).")
    return _out(out, RT.ldl_factor(LD, piv))


def ldl_solve(LD: Tensor, pivots: Tensor, B_: Tensor, *, hermitian: bool = False, out=None) -> Tensor:
    """X with A X = B from ``ldl_factor``'s (LD, pivots) (LAPACK sytrs/hetrs); forward only."""
    op = "torch.linalg.ldl_solve"
    _check_square(op, LD, "LD")
    if B_.dim() < 2:
        raise RuntimeError(f"{op}: The input tensor B must have at least 2 dimensions.")
    if B_.shape[-2] != LD.shape[-1]:
        raise RuntimeError(f"{op}: Incompatible shapes of A and B for the equation AX = B "
                           f"({LD.shape[-2]}x{LD.shape[-1]} and {B_.shape[-2]}x{B_.shape[-1]})")
    xp = namespace_of(LD._data)
    conv = (lambda x: np.asarray(x)) if xp is np else xp.asnumpy
    ld, ip, b = conv(LD._data), conv(pivots._data), conv(B_._data)
    shape = np.broadcast_shapes(ld.shape[:-2], b.shape[:-2])
    n, k = ld.shape[-1], b.shape[-1]
    ld = np.broadcast_to(ld, shape + (n, n)).reshape(-1, n, n)
    ip = np.broadcast_to(ip, shape + (n,)).reshape(-1, n)
    b = np.broadcast_to(b, shape + (n, k)).reshape(-1, n, k).astype(ld.dtype)
    name = "hetrs" if hermitian and ld.dtype.kind == "c" else "sytrs"
    f = _lapack(name, ld[:1] if ld.size else np.zeros((1, 1), ld.dtype))
    x = np.empty_like(b)
    for i in range(ld.shape[0]):
        x[i] = f(ld[i], ip[i], b[i], lower=1)[0]
    return _out(out, _wrap(xp.asarray(x.reshape(shape + (n, k)))))

