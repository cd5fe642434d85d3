"""The implementation behind ``ember.linalg`` (the public namespace, ember/linalg.py): vector and matrix norms,
inverse, determinant, solve, Cholesky, eigh, matrix exp and power; all differentiable for real dtypes.
SVD, QR, pinv, lstsq and triangular solves are in ops/linalg_decomp.py."""
from __future__ import annotations

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor, _wrap_dim
from ..autograd.function import Function
from ..backends import namespace_of
from . import _bw as B
from .reduction import _axes, _kept_shape


class VectorNorm(Function):
    raw = True
    node_name = "LinalgVectorNormBackward0"

    @staticmethod
    def forward(ctx, x, ord, axes, keepdim):
        xp = namespace_of(x)
        ax = xp.abs(x)
        if ord == float("inf"):
            r = ax.max(axis=axes, keepdims=True)
        elif ord == -float("inf"):
            r = ax.min(axis=axes, keepdims=True)
        elif ord == 0:
            r = (ax != 0).sum(axis=axes, keepdims=True).astype(x.dtype)
        elif ord == 1:
            r = ax.sum(axis=axes, keepdims=True)
        elif ord == 2:
            r = xp.sqrt((x * x).sum(axis=axes, keepdims=True))
        else:
            r = (ax ** ord).sum(axis=axes, keepdims=True) ** (1.0 / ord)
        r = r.astype(x.dtype, copy=False)
        ctx.ord, ctx.axes = ord, axes
        ctx.kept = r.shape
        out = r if keepdim else r.reshape(tuple(s for i, s in enumerate(x.shape) if axes is not None and i not in axes))
        ctx.save_for_backward(x, out)  # the output itself, so double backward sees its graph
        return out

    @staticmethod
    def backward(ctx, g):
        x, r = ctx.saved_tensors
        r = r.reshape(ctx.kept)
        g = g.reshape(ctx.kept)
        p = ctx.ord
        if p == 2:
            safe = B.where(r == 0, 1, r) if not isinstance(r, Tensor) else B.where(r == 0, r * 0 + 1, r)
            return g * x / safe * (r != 0), None, None, None
        if p == 1:
            return g * B.sign(x), None, None, None
        if p in (float("inf"), -float("inf")):
            mask = B.abs(x) == r
            cnt = mask.sum(axis=ctx.axes, keepdims=True)
            return g * B.sign(x) * mask / cnt, None, None, None
        if p == 0:
            return g * 0 * x, None, None, None
        ax = B.abs(x)
        return g * B.sign(x) * ax ** (p - 1) / B.where(r == 0, 1, r) ** (p - 1), None, None, None


def vector_norm(x: Tensor, ord=2, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """p-norm of ``x`` over ``dim`` (all elements when None); differentiable (0 at the origin for p=2)."""
    if dtype is not None:
        x = x.to(dtype)
    if not (x.is_floating_point() or x.is_complex()):  # bfloat16 included
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got {_scalar_name(x.dtype)}")
    axes = _axes(dim, x._data.ndim)
    if axes is None:
        axes = tuple(range(x._data.ndim)) or None
    return VectorNorm.apply(x, float(ord), axes, keepdim)


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    if ord is None or (isinstance(dim, int) or (dim is None and A.dim() == 1)):
        return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)
    if ord == "fro":
        return vector_norm(A, 2, dim if dim is not None else (-2, -1), keepdim, dtype=dtype)
    return matrix_norm(A, ord, dim if dim is not None else (-2, -1), keepdim)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False):
    if ord == "fro":
        return vector_norm(A, 2, dim, keepdim)
    d0, d1 = (_wrap_dim(d, A.dim()) for d in dim)
    if ord in (1, -1):
        s = A.abs().sum(d0, keepdim=True)
        r = s.amax(d1, keepdim=True) if ord == 1 else s.amin(d1, keepdim=True)
    elif ord in (float("inf"), -float("inf")):
        s = A.abs().sum(d1, keepdim=True)
        r = s.amax(d0, keepdim=True) if ord > 0 else s.amin(d0, keepdim=True)
    elif ord in (2, -2, "nuc"):
        from .linalg_decomp import svdvals
        sv = svdvals(A.movedim((d0, d1), (-2, -1)))
        r = sv.sum(-1) if ord == "nuc" else (sv.amax(-1) if ord == 2 else sv.amin(-1))
        if keepdim:
            r = r.unsqueeze(min(d0, d1)).unsqueeze(max(d0, d1))
        return r
    else:
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    return r if keepdim else r.squeeze(max(d0, d1)).squeeze(min(d0, d1))


class LinAlgError(RuntimeError):
    """PyTorch's ``torch.linalg.LinAlgError``: a singular or non-positive-definite input to a factorization,
    an inverse or a solve. A RuntimeError, so code catching that keeps working."""


LinAlgError.__module__ = "ember.linalg"


def _batch_prefix(shape, flat_index):
    """PyTorch's "(Batch element i): " for batched inputs (the flat index over the batch dimensions)."""
    return f"(Batch element {flat_index}): " if len(shape) > 2 else ""


def _first_bad(info):
    """(flat batch index, info value) of the first nonzero entry of an info array, or None."""
    flat = np.asarray(info).reshape(-1)
    bad = np.flatnonzero(flat)
    return (int(bad[0]), int(flat[bad[0]])) if bad.size else None


def _singular_error(op, shape, info):
    i, k = _first_bad(info)
    return LinAlgError(f"{op}: {_batch_prefix(shape, i)}The diagonal element {k} is zero, the inversion could "
                       f"not be completed because the input matrix is singular.")


def _inv_arrays(a, op, check=True):
    """(inverse, info): info is LAPACK getrf's (0, or the 1-based index of U's first zero diagonal element)."""
    xp = namespace_of(a)
    try:
        return xp.linalg.inv(a), xp.zeros(a.shape[:-2], dtype=np.int32)
    except np.linalg.LinAlgError:
        from .linalg_lu import _lu_arrays
        _, _, info = _lu_arrays(a)
        if check:
            raise _singular_error(op, a.shape, info) from None
        with np.errstate(all="ignore"):
            y = xp.full(a.shape, np.nan, dtype=a.dtype)
            ok = info == 0
            if ok.any():
                y[ok] = xp.linalg.inv(a[ok])
        return y, info


class Inv(Function):
    raw = True
    node_name = "LinalgInvExBackward0"

    @staticmethod
    def forward(ctx, a, op="linalg.inv", check=True):
        y, info = _inv_arrays(a, op, check)
        ctx.save_for_backward(y)
        return y, info

    @staticmethod
    def backward(ctx, g, _ginfo=None):
        (y,) = ctx.saved_tensors
        yt = B.swap_last(y).conj()
        return -(yt @ g @ yt), None, None


_SCALAR_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16", "int64": "Long",
                 "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool",
                 "complex64": "ComplexFloat", "complex128": "ComplexDouble"}


def _scalar_name(dtype):
    """PyTorch's ScalarType name of a dtype (Float, Double, Long ...), as its error messages write it."""
    name = str(dtype).rsplit(".", 1)[-1]
    return _SCALAR_NAMES.get(name, name.capitalize())


def _check_square(op, A, name="A"):
    if A.dim() < 2:
        raise RuntimeError(f"{op}: The input tensor {name} must have at least 2 dimensions.")
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{op}: {name} must be batches of square matrices, but they are "
                           f"{A.shape[-2]} by {A.shape[-1]} matrices")
    if A._data.dtype.kind not in "fc":
        raise RuntimeError(f"{op}: Expected a floating point or complex tensor as input. Got "
                           f"{_scalar_name(A.dtype)}")


def inv(A: Tensor, *, out=None) -> Tensor:
    """Inverse of square matrices; raises LinAlgError for a singular one (PyTorch's message). Differentiable."""
    _check_square("linalg.inv", A)
    return _out(out, Inv.apply(A)[0])


def inv_ex(A: Tensor, *, check_errors: bool = False, out=None):
    """(inverse, info): info > 0 marks a singular matrix (its inverse is then NaN) instead of raising."""
    from .. import return_types as RT
    _check_square("linalg.inv_ex", A)
    y, info = Inv.apply(A, "linalg.inv_ex", check_errors)
    return _out(out, RT.inv_ex(y, info))


def _out(out, res):
    if out is None:
        return res
    from .linalg_decomp import _into
    if isinstance(res, tuple):
        for o, r in zip(out, res):
            _into(o, r)
        return out
    return _into(out, res)


class Det(Function):
    raw = True
    node_name = "LinalgDetBackward0"

    @staticmethod
    def forward(ctx, a):
        xp = namespace_of(a)
        d = xp.asarray(xp.linalg.det(a)).astype(a.dtype)
        ctx.save_for_backward(a, d)
        return d

    @staticmethod
    def backward(ctx, g):
        a, d = ctx.saved_tensors
        if isinstance(a, Tensor):
            ainv_t = inv(a).transpose(-2, -1)
        else:
            ainv_t = namespace_of(a).linalg.inv(a).swapaxes(-1, -2)
        gd = (g * d).reshape(tuple(d.shape) + (1, 1))
        return gd * ainv_t


def det(A: Tensor) -> Tensor:
    return Det.apply(A)


def solve(A: Tensor, B_: Tensor, *, left: bool = True, out=None) -> Tensor:
    from .linalg_lu import solve as _solve
    return _solve(A, B_, left=left, out=out)


def slogdet(A):
    d = det(A)
    return d.sign(), d.abs().log()


def cross(a, b, dim=-1):
    d = _wrap_dim(dim, a.dim())
    i0 = [slice(None)] * a.dim()

    def comp(t, k):
        idx = list(i0)
        idx[d] = k
        return t[tuple(idx)]
    from .join import stack
    return stack([comp(a, 1) * comp(b, 2) - comp(a, 2) * comp(b, 1),
                  comp(a, 2) * comp(b, 0) - comp(a, 0) * comp(b, 2),
                  comp(a, 0) * comp(b, 1) - comp(a, 1) * comp(b, 0)], d)


def matmul(a, b):
    return a @ b


del D, _kept_shape


# --------------------------------------------------------------------------- decompositions and matrix functions
def _chol_loop(a):
    """Lower Cholesky factor by columns (vectorised over the batch) and LAPACK potrf's info: the order of the
    first leading minor that is not positive-definite (0 when all are). Used only once NumPy's factorization
    has failed, to name the minor as PyTorch does; the factor is NaN from the failing column on."""
    xp = namespace_of(a)
    n = a.shape[-1]
    L = xp.zeros(a.shape, dtype=a.dtype)
    info = xp.zeros(a.shape[:-2], dtype=np.int32)
    with np.errstate(all="ignore"):
        for j in range(n):
            row = L[..., j, :j]
            d = (a[..., j, j] - (row * row.conj()).sum(-1)).real
            bad = ~(d > 0)
            info = xp.where((info == 0) & bad, j + 1, info)
            dj = xp.sqrt(xp.where(info == 0, d, np.nan))
            L[..., j, j] = dj
            L[..., j + 1:, j] = (a[..., j + 1:, j] - (L[..., j + 1:, :j] @ row.conj()[..., None])[..., 0]) / dj[..., None]
    return L, info


def _chol_arrays(a, op, check):
    xp = namespace_of(a)
    try:
        return xp.linalg.cholesky(a), xp.zeros(a.shape[:-2], dtype=np.int32)
    except np.linalg.LinAlgError:
        L, info = _chol_loop(a)
        if check:
            i, k = _first_bad(info)
            raise LinAlgError(f"{op}: {_batch_prefix(a.shape, i)}The factorization could not be completed because "
                              f"the input is not positive-definite (the leading minor of order {k} is not "
                              f"positive-definite).") from None
        return L, info


class Cholesky(Function):
    raw = True
    node_name = "LinalgCholeskyExBackward0"

    @staticmethod
    def forward(ctx, a, upper, op="linalg.cholesky", check=True):
        L, info = _chol_arrays(a, op, check)
        ctx.upper = upper
        ctx.save_for_backward(L)
        return (B.swap_last(L).conj() if upper else L), info

    @staticmethod
    def backward(ctx, g, _ginfo=None):
        (L,) = ctx.saved_tensors
        if ctx.upper:
            g = B.swap_last(g)
        # gA = L^-T Phi(L^T gL) L^-1, symmetrised; Phi keeps the lower triangle and halves the diagonal
        P = B.swap_last(L) @ g
        P = _tril(P) - 0.5 * _diag_part(P)
        Linv = _inv_any(L)
        gA = B.swap_last(Linv) @ P @ Linv
        return 0.5 * (gA + B.swap_last(gA)), None, None, None


def _tril(x):
    if isinstance(x, Tensor):
        return x.tril()
    return namespace_of(x).tril(x)


def _diag_part(x):
    if isinstance(x, Tensor):
        from .linalg import diag_embed
        return diag_embed(x.diagonal(0, -2, -1))
    xp = namespace_of(x)
    return x * xp.eye(x.shape[-1], dtype=x.dtype)


def _inv_any(x):
    return inv(x) if isinstance(x, Tensor) else namespace_of(x).linalg.inv(x)


def cholesky(A, *, upper=False, out=None):
    """Cholesky factor of Hermitian positive-definite matrices; LinAlgError (PyTorch's message) otherwise."""
    _check_square("linalg.cholesky", A)
    return _out(out, Cholesky.apply(A, upper)[0])


def cholesky_ex(A, *, upper=False, check_errors=False, out=None):
    """(L, info): info > 0 is the order of the first leading minor that is not positive-definite."""
    from .. import return_types as RT
    _check_square("linalg.cholesky_ex", A)
    L, info = Cholesky.apply(A, upper, "linalg.cholesky_ex", check_errors)
    return _out(out, RT.cholesky_ex(L, info))


def _expm_np(xp, a):
    """exp(A) by scaling and squaring with a degree-18 Taylor polynomial, in float64."""
    ad = a.astype(xp.float64 if a.dtype.kind == "f" else xp.complex128)
    nrm = xp.abs(ad).sum(-2).max(-1) if ad.size else xp.zeros(ad.shape[:-2])
    s = int(max(0, np.ceil(np.log2(max(float(xp.max(nrm)) if ad.size else 0.0, 1e-300) / 0.5)))) if ad.size else 0
    x = ad / (2.0 ** s)
    eye = xp.broadcast_to(xp.eye(a.shape[-1], dtype=ad.dtype), ad.shape)
    r = eye.copy()
    term = eye.copy()
    for k in range(1, 19):
        term = term @ x / k
        r = r + term
    for _ in range(s):
        r = r @ r
    return r.astype(a.dtype)


class MatrixExp(Function):
    raw = True
    node_name = "LinalgMatrixExpBackward0"

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return _expm_np(namespace_of(a), a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        # d/dA <G, exp(A)> is the upper-right block of exp([[A^H, G], [0, A^H]])
        n = a.shape[-1]
        at = B.swap_last(a).conj()
        if isinstance(a, Tensor):
            from .join import cat
            z = g * 0
            big = cat([cat([at, g], -1), cat([z, at], -1)], -2)
            return matrix_exp(big)[..., :n, n:]
        xp = namespace_of(a)
        big = xp.concatenate([xp.concatenate([at, g], -1), xp.concatenate([xp.zeros_like(g), at], -1)], -2)
        return _expm_np(xp, big)[..., :n, n:]


def matrix_exp(A):
    if A.dim() < 2 or A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"linalg.matrix_exp: A must be batches of square matrices, but they are "
                           f"{A.shape[-2] if A.dim() > 1 else 1} by {A.shape[-1] if A.dim() else 1} matrices")
    return MatrixExp.apply(A)


def matrix_power(A, n):
    """``A`` multiplied by itself ``n`` times (``n < 0``: powers of the inverse); differentiable."""
    if A.dim() < 2 or A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"linalg.matrix_power: A must be batches of square matrices, but they are "
                           f"{A.shape[-2] if A.dim() > 1 else 1} by {A.shape[-1] if A.dim() else 1} matrices")
    if n == 0:
        from .creation import eye
        return eye(A.shape[-1], dtype=A.dtype, device=A.device).expand(tuple(A.shape)).clone()
    if n < 0:
        A, n = inv(A), -n
    result, base = None, A
    while n:
        if n & 1:
            result = base if result is None else result @ base
        n >>= 1
        if n:
            base = base @ base
    return result


class Eigh(Function):
    raw = True
    node_name = "LinalgEighBackward0"

    @staticmethod
    def forward(ctx, a, uplo):
        xp = namespace_of(a)
        w, v = xp.linalg.eigh(a, UPLO=uplo)
        ctx.save_for_backward(w, v)
        return w, v

    @staticmethod
    def backward(ctx, gw, gv):
        w, v = ctx.saved_tensors
        vt = B.swap_last(v)
        inner = 0
        if gw is not None:
            inner = _diag_embed_any(gw)
        if gv is not None:
            diffw = _unsq(w, -2) - _unsq(w, -1)  # [i, j] = w_j - w_i
            eye = _eye_like(diffw)
            F = eye * 0 + (1 - eye) / (diffw + eye)
            inner = inner + F * (vt @ gv)
        gA = v @ inner @ vt
        return 0.5 * (gA + B.swap_last(gA)), None


def _unsq(x, d):
    return x.unsqueeze(d) if isinstance(x, Tensor) else namespace_of(x).expand_dims(x, d)


def _eye_like(x):
    n = x.shape[-1]
    if isinstance(x, Tensor):
        from .creation import eye
        return eye(n, dtype=x.dtype, device=x.device)
    return namespace_of(x).eye(n, dtype=x.dtype)


def _diag_embed_any(x):
    if isinstance(x, Tensor):
        from .linalg import diag_embed
        return diag_embed(x)
    xp = namespace_of(x)
    return x[..., None] * xp.eye(x.shape[-1], dtype=x.dtype)


def eigh(A, UPLO="L"):
    from .. import return_types as RT
    w, v = Eigh.apply(A, UPLO)
    return RT.eigh(w, v)


def eigvalsh(A, UPLO="L"):
    return Eigh.apply(A, UPLO)[0]


def logdet(A):
    """log(det(A)) (NaN for a negative determinant); differentiable."""
    return det(A).log()
