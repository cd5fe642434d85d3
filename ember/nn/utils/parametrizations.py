"""``ember.nn.utils.parametrizations``: weight and spectral normalization as parametrizations.

Both register a parametrization (see ``ember.nn.utils.parametrize``) on ``module.<name>``:

* ``weight_norm``: ``parametrizations.weight.original0`` is ``g`` (magnitudes), ``original1`` is ``v``
  (direction), and ``weight = g * v / ||v||``. Checkpoints of the legacy ``weight_norm``
  (``weight_g``/``weight_v``) load into it.
* ``spectral_norm``: ``parametrizations.weight.original`` is the unnormalized weight, the buffers
  ``parametrizations.weight.0._u`` / ``._v`` are the power-iteration vectors, and
  ``weight = original / sigma`` with ``sigma`` the largest singular value estimated by power
  iteration (a step at each access in training mode; none in eval mode).
"""
from __future__ import annotations

from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad as _no_grad
from ..modules.module import Module
from . import parametrize
from .spectral_norm import _conj_t, _normalize_into, _to_matrix
from .weight_norm import _weight_norm, norm_except_dim

__all__ = ["spectral_norm", "weight_norm"]


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
