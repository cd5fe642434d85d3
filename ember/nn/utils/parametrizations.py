"""``ember.nn.utils.parametrizations``: weight and spectral normalization as parametrizations.

Both register a parametrization (see ``ember.nn.utils.parametrize``) on ``module.<name>``:

* ``weight_norm``: ``parametrizations.weight.original0`` is ``g`` (magnitudes), ``original1`` is ``v``
  (direction), and ``weight = g * v / ||v||``. Checkpoints of the legacy ``weight_norm``
  (``weight_g``/``weight_v``) load into it.
* ``spectral_norm``: ``parametrizations.weight.original`` is the unnormalized weight, the buffers
  ``parametrizations.weight.0._u`` / ``._v`` are the power-iteration vectors, and
  ``weight = original / sigma`` with ``sigma`` the largest singular value estimated by power
  iteration (a step at each access in training mode; none in eval mode).
* ``orthogonal``: ``weight`` is an orthogonal (unitary) matrix, or a matrix with orthonormal
  columns/rows, built from an unconstrained ``original`` by the matrix exponential, the Cayley map
  or Householder reflectors; with ``use_trivialization`` the buffer ``base`` holds the orthogonal
  matrix the map starts from, and assigning to ``weight`` resets it.
"""
from __future__ import annotations

from enum import Enum, auto

from ..._tensor import Tensor, _wrap
from ...autograd.grad_mode import no_grad as _no_grad
from ...backends import namespace_of as _namespace_of
from ..modules.module import Module
from . import parametrize
from .spectral_norm import _conj_t, _normalize_into, _to_matrix
from .weight_norm import _weight_norm, norm_except_dim

__all__ = ["orthogonal", "spectral_norm", "weight_norm"]


class _WeightNorm(Module):
    def __init__(self, dim: int | None = 0) -> None:
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g: Tensor, weight_v: Tensor) -> Tensor:
        return _weight_norm(weight_v, weight_g, self.dim)

    def right_inverse(self, weight: Tensor):
        return norm_except_dim(weight, 2, self.dim), weight


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Reparametrize ``module.<name>`` as ``g * v / ||v||``, one magnitude per slice along ``dim``
    (``dim=None``: one magnitude for the whole tensor; like PyTorch, ``dim=-1`` means the same).

    ``g`` is ``module.parametrizations.<name>.original0`` and ``v`` is ``original1``. Returns ``module``.
    """
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)

    def load_legacy_keys(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs):
        g_key, v_key = f"{prefix}{name}_g", f"{prefix}{name}_v"
        if g_key in state_dict and v_key in state_dict:
            state_dict[f"{prefix}parametrizations.{name}.original0"] = state_dict.pop(g_key)
            state_dict[f"{prefix}parametrizations.{name}.original1"] = state_dict.pop(v_key)

    module._register_load_state_dict_pre_hook(load_legacy_keys)
    return module


class _SpectralNorm(Module):
    def __init__(self, weight: Tensor, n_power_iterations: int = 1, dim: int = 0, eps: float = 1e-12) -> None:
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError("Dimension out of range (expected to be in range of "
                             f"[-{ndim}, {ndim - 1}] but got {dim})")
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but "
                             f"got n_power_iterations={n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            with _no_grad():
                mat = self._reshape_weight_to_matrix(weight.detach())
                h, w = mat.shape
                u = mat.new_empty(h).normal_(0, 1)
                v = mat.new_empty(w).normal_(0, 1)
                _normalize_into(u, u._data.copy(), eps)
                _normalize_into(v, v._data.copy(), eps)
            self.register_buffer("_u", u)
            self.register_buffer("_v", v)
            self._power_method(mat, 15)  # start near the top singular vectors

    def _reshape_weight_to_matrix(self, weight: Tensor) -> Tensor:
        return _to_matrix(weight, self.dim)

    def _power_method(self, weight_mat: Tensor, n_power_iterations: int) -> None:
        """Power-iteration steps on the buffers ``_u`` and ``_v``, in place (no graph)."""
        mat = weight_mat._data
        mat_h = _conj_t(mat)
        u, v = self._u, self._v
        for _ in range(n_power_iterations):
            _normalize_into(u, mat @ v._data, self.eps)
            _normalize_into(v, mat_h @ u._data, self.eps)

    def forward(self, weight: Tensor) -> Tensor:
        if weight.ndim == 1:
            from ..functional import normalize
            return normalize(weight, dim=0, eps=self.eps)
        weight_mat = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(weight_mat, self.n_power_iterations)
        # copies: the next power-iteration step must not change what this graph saved
        u = self._u.clone()
        v = self._v.clone()
        sigma = u.vdot(weight_mat.mv(v))
        return weight / sigma

    def right_inverse(self, value: Tensor) -> Tensor:
        # any weight is reachable: the normalization is recomputed from it
        return value


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1, eps: float = 1e-12,
                  dim: int | None = None) -> Module:
    """Reparametrize ``module.<name>`` as ``W / sigma(W)``, ``sigma`` its spectral norm estimated by power
    iteration (``n_power_iterations`` steps per access in training mode). ``dim`` (default 1 for
    transposed convolutions, else 0) is the output dimension of the weight matrix. Returns ``module``."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        from ..modules.conv import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
        dim = 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d)) else 0
    parametrize.register_parametrization(module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module


# ---------------------------------------------------------------- orthogonal
def _geqrf(a: Tensor):
    """LAPACK's geqrf (``torch.geqrf``): Householder reflectors below the diagonal, R on and above it,
    and the scalars ``tau``; not differentiable (used under no_grad only)."""
    xp = _namespace_of(a._data)
    h, tau = xp.linalg.qr(a._data, mode="raw")
    return _wrap(xp.ascontiguousarray(xp.swapaxes(h, -1, -2))), _wrap(tau)


def _householder_product(a: Tensor, tau: Tensor) -> Tensor:
    """``linalg.householder_product``: the first ``k`` columns of ``H_1 ... H_k``, ``H_i = I - tau_i v_i v_i^H``
    with ``v_i`` column ``i`` of ``a`` below the diagonal and 1 on it. ``a``: ``(*, n, k)``, ``tau``: ``(*, k)``.
    Written with differentiable ops (a loop over the ``k`` reflectors)."""
    from ...ops.creation import eye
    n, k = a.shape[-2], a.shape[-1]
    ident = eye(n, dtype=a.dtype, device=a.device)
    refl = a.tril(-1) + ident[:, :k]
    q = ident.expand(*a.shape[:-2], n, n)
    for i in range(k):
        v = refl[..., :, i:i + 1]
        q = q - ((q @ v) * tau[..., i:i + 1].unsqueeze(-1)) @ v.mH
    return q[..., :k]


def _is_orthogonal(q: Tensor) -> bool:
    from ...ops.creation import eye
    n, k = q.shape[-2], q.shape[-1]
    ident = eye(k, dtype=q.dtype, device=q.device)
    eps = 10.0 * n * float(_namespace_of(q._data).finfo(q._data.dtype).eps)
    return bool((q.mH @ q).allclose(ident, atol=eps))


def _make_orthogonal(a: Tensor) -> Tensor:
    """The Q of ``a = QR`` (``a`` tall) with a non-negative diagonal of R."""
    x, tau = _geqrf(a)
    q = _householder_product(x, tau)
    return q * x.diagonal(dim1=-2, dim2=-1).sgn().unsqueeze(-2)


class _OrthMaps(Enum):
    matrix_exp = auto()
    cayley = auto()
    householder = auto()


class _Orthogonal(Module):
    def __init__(self, weight: Tensor, orthogonal_map: _OrthMaps, *, use_trivialization: bool = True) -> None:
        super().__init__()
        if weight.is_complex() and orthogonal_map == _OrthMaps.householder:
            raise ValueError("The householder parametrization does not support complex tensors.")
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X: Tensor) -> Tensor:
        n, k = X.shape[-2], X.shape[-1]
        transposed = n < k
        if transposed:  # work on the tall matrix
            X = X.mT
            n, k = k, n
        if self.orthogonal_map in (_OrthMaps.matrix_exp, _OrthMaps.cayley):
            # a skew-symmetric (skew-Hermitian) matrix from the lower triangle, padded to n x n
            X = X.tril()
            if n != k:
                from ...ops.join import cat
                X = cat([X, X.new_zeros(n, n - k).expand(*X.shape[:-2], -1, -1)], dim=-1)
            A = X - X.mH
            if self.orthogonal_map == _OrthMaps.matrix_exp:
                from ... import matrix_exp
                Q = matrix_exp(A)
            else:
                from ...linalg import solve
                from ...ops.creation import eye
                ident = eye(n, dtype=A.dtype, device=A.device)
                Q = solve(ident - 0.5 * A, ident + 0.5 * A)
            if n != k:
                Q = Q[..., :k]
        else:
            A = X.tril(diagonal=-1)
            tau = 2.0 / (1.0 + (A * A).sum(dim=-2))
            Q = _householder_product(A, tau)
            # the diagonal of X flips the sign of each column (truncated to an integer, as in PyTorch)
            Q = Q * X.diagonal(dim1=-2, dim2=-1).int().unsqueeze(-2)
        if "base" in self._buffers:
            Q = self.base @ Q
        if transposed:
            Q = Q.mT
        return Q

    def right_inverse(self, Q: Tensor) -> Tensor:
        with _no_grad():
            if tuple(Q.shape) != tuple(self.shape):
                raise ValueError(f"Expected a matrix or batch of matrices of shape {self.shape}. "
                                 f"Got a tensor of shape {Q.shape}.")
            Q_init = Q
            n, k = Q.shape[-2], Q.shape[-1]
            transpose = n < k
            if transpose:
                Q = Q.mT
                n, k = k, n
            if "base" not in self._buffers:
                if self.orthogonal_map in (_OrthMaps.cayley, _OrthMaps.matrix_exp):
                    raise NotImplementedError("It is not possible to assign to the matrix exponential "
                                              "or the Cayley parametrizations when use_trivialization=False.")
                # the reflectors of Q's QR, with the diagonal holding the signs that undo R's
                A, tau = _geqrf(Q)
                a, xp = A._data, _namespace_of(A._data)
                r = xp.arange(k)
                sign = xp.sign(a[..., r, r])
                a[..., r, r] = xp.where(tau._data != 0.0, sign, -sign)
                return A.mT if transpose else A
            if n == k:
                Q = Q.clone() if _is_orthogonal(Q) else _make_orthogonal(Q)
            else:  # complete the columns at random, then orthogonalize
                from ...ops.creation import randn
                from ...ops.join import cat
                N = randn(*(tuple(Q.shape[:-2]) + (n, n - k)), dtype=Q.dtype, device=Q.device)
                Q = _make_orthogonal(cat([Q, N], dim=-1))
            self.base = Q
            # -Id maps to the identity under every map, so the parametrized value is base (or its first columns)
            xp = _namespace_of(Q_init._data)
            neg_id = xp.zeros_like(Q_init._data)
            r = xp.arange(min(neg_id.shape[-2:]))
            neg_id[..., r, r] = -1.0
            return _wrap(neg_id)


def orthogonal(module: Module, name: str = "weight", orthogonal_map: str | None = None, *,
               use_trivialization: bool = True) -> Module:
    """Constrain ``module.<name>`` (a matrix or batch of matrices, ``(*, n, k)``) to be orthogonal
    (orthonormal columns when ``n >= k``, rows otherwise; unitary for complex).

    ``orthogonal_map``: ``"matrix_exp"`` (default for square or complex), ``"cayley"`` or ``"householder"``
    (default otherwise). With ``use_trivialization=True`` the map is applied around the buffer ``base``
    (``weight = base @ map(original)``), which makes the optimisation better conditioned. Returns ``module``.
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError(f"Expected a matrix or batch of matrices. Got a tensor of {weight.ndim} dimensions.")
    if orthogonal_map is None:
        square = weight.shape[-2] == weight.shape[-1]
        orthogonal_map = "matrix_exp" if square or weight.is_complex() else "householder"
    orth_enum = getattr(_OrthMaps, orthogonal_map, None) if isinstance(orthogonal_map, str) else None
    if orth_enum is None:
        raise ValueError('orthogonal_map has to be one of "matrix_exp", "cayley", "householder". '
                         f"Got: {orthogonal_map}")
    orth = _Orthogonal(weight, orth_enum, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module
