"""The transforms onto the simplex and onto matrix spaces (softmax, stick-breaking, lower Cholesky,
positive definite, correlation Cholesky). Public through ``ember.distributions.transforms``, where the
base class and the elementwise transforms live."""

import math as _math

from . import constraints
from .transforms import Transform, _clipped_sigmoid

__all__ = ["CorrCholeskyTransform", "LowerCholeskyTransform", "PositiveDefiniteTransform", "SoftmaxTransform",
           "StickBreakingTransform"]


class SoftmaxTransform(Transform):
    """y = softmax(x) over the last dim (not bijective: the inverse gives log-probabilities)."""

    domain = constraints.real_vector
    codomain = constraints.simplex

    def __eq__(self, other):
        return isinstance(other, SoftmaxTransform)

    def __hash__(self):
        return hash(SoftmaxTransform)

    def _call(self, x):
        z = (x - x.max(-1, keepdim=True)[0]).exp()
        return z / z.sum(-1, keepdim=True)

    def _inverse(self, y):
        return y.log()

    def forward_shape(self, shape):
        if len(shape) < 1:
            raise ValueError("Too few dimensions on input")
        return shape

    inverse_shape = forward_shape


class StickBreakingTransform(Transform):
    """Maps R^(K-1) to the K-simplex by stick breaking: a bijection (unlike softmax)."""

    domain = constraints.real_vector
    codomain = constraints.simplex
    bijective = True

    def __eq__(self, other):
        return isinstance(other, StickBreakingTransform)

    def __hash__(self):
        return hash(StickBreakingTransform)

    @staticmethod
    def _log_offset(x, k):
        import ember
        # log of (K - i) for i = 1 .. K-1 where K = k + 1: the stick length each logit is centred on
        return ember.arange(k, 0, -1, dtype=x.dtype, device=x.device).log()

    def _call(self, x):
        from ..nn.functional import pad
        k = x.shape[-1]
        z = _clipped_sigmoid(x - self._log_offset(x, k))
        remaining = (1 - z).cumprod(-1)
        return pad(z, [0, 1], value=1) * pad(remaining, [1, 0], value=1)

    def _inverse(self, y):
        import ember
        y_crop = y[..., :-1]
        k = y_crop.shape[-1]
        sf = (1 - y_crop.cumsum(-1)).clamp(min=ember.finfo(y.dtype).tiny)
        return y_crop.log() - sf.log() + self._log_offset(y, k)

    def log_abs_det_jacobian(self, x, y):
        from ..nn.functional import logsigmoid
        k = x.shape[-1]
        x = x - self._log_offset(x, k)
        return (-x + logsigmoid(x) + y[..., :-1].log()).sum(-1)

    def forward_shape(self, shape):
        if len(shape) < 1:
            raise ValueError("Too few dimensions on input")
        return tuple(shape[:-1]) + (shape[-1] + 1,)

    def inverse_shape(self, shape):
        if len(shape) < 1:
            raise ValueError("Too few dimensions on input")
        return tuple(shape[:-1]) + (shape[-1] - 1,)


class LowerCholeskyTransform(Transform):
    """Unconstrained square matrices to lower-triangular ones with a positive diagonal (the strict
    lower triangle is kept, the diagonal exponentiated, the upper triangle dropped)."""

    domain = constraints.independent(constraints.real, 2)
    codomain = constraints.lower_cholesky

    def __eq__(self, other):
        return isinstance(other, LowerCholeskyTransform)

    def __hash__(self):
        return hash(LowerCholeskyTransform)

    def _call(self, x):
        return x.tril(-1) + x.diagonal(dim1=-2, dim2=-1).exp().diag_embed()

    def _inverse(self, y):
        return y.tril(-1) + y.diagonal(dim1=-2, dim2=-1).log().diag_embed()


class PositiveDefiniteTransform(Transform):
    """Unconstrained square matrices to positive-definite ones: L L^T with L from LowerCholeskyTransform."""

    domain = constraints.independent(constraints.real, 2)
    codomain = constraints.positive_definite

    def __eq__(self, other):
        return isinstance(other, PositiveDefiniteTransform)

    def __hash__(self):
        return hash(PositiveDefiniteTransform)

    def _call(self, x):
        L = LowerCholeskyTransform()(x)
        return L @ L.mT

    def _inverse(self, y):
        import ember
        return LowerCholeskyTransform().inv(ember.linalg.cholesky(y))


def _tril_index(n, diag):
    """Flat (row-major) positions of the entries of an n x n matrix on or below diagonal ``diag``."""
    import numpy as np
    r = np.arange(n)
    return np.nonzero((r[None, :] < r[:, None] + (diag + 1)).ravel())[0]


def _vec_to_tril(vec, diag):
    import numpy as np

    import ember
    k = vec.shape[-1]
    n = (-(1 + 2 * diag) + ((1 + 2 * diag) ** 2 + 8 * k + 4 * abs(diag) * (diag + 1)) ** 0.5) / 2
    if round(n) - n > ember.finfo(vec.dtype).eps:
        raise ValueError(f"The size of last dimension is {k} which cannot be expressed as the lower triangular "
                         "part of a square D x D matrix.")
    n = round(n)
    # gather from vec padded with one zero: positions off the triangle read the zero
    src = np.full(n * n, k, dtype=np.int64)
    src[_tril_index(n, diag)] = np.arange(k)
    padded = ember.cat([vec, vec.new_zeros(tuple(vec.shape[:-1]) + (1,))], -1)
    return padded[..., ember.tensor(src, device=vec.device)].reshape(tuple(vec.shape[:-1]) + (n, n))


def _tril_to_vec(mat, diag):
    import ember
    n = mat.shape[-1]
    flat = mat.reshape(tuple(mat.shape[:-2]) + (n * n,))
    return flat[..., ember.tensor(_tril_index(n, diag), device=mat.device)]


class CorrCholeskyTransform(Transform):
    """Unconstrained vectors of size D (D - 1) / 2 to Cholesky factors of D x D correlation matrices
    (tanh to (-1, 1), then stick breaking along each row so every row has unit norm)."""

    domain = constraints.real_vector
    codomain = constraints.corr_cholesky
    bijective = True

    def __eq__(self, other):
        return isinstance(other, CorrCholeskyTransform)

    def __hash__(self):
        return hash(CorrCholeskyTransform)

    def _call(self, x):
        import ember
        from ..nn.functional import pad
        eps = ember.finfo(x.dtype).eps
        x = x.tanh().clamp(min=-1 + eps, max=1 - eps)
        r = _vec_to_tril(x, diag=-1)
        remaining = (1 - r.pow(2)).sqrt().cumprod(-1)
        r = r + ember.eye(r.shape[-1], dtype=r.dtype, device=r.device)
        return r * pad(remaining[..., :-1], [1, 0], value=1)

    def _inverse(self, y):
        from ..nn.functional import pad
        left = 1 - (y * y).cumsum(-1)
        left_shifted = pad(left[..., :-1], [1, 0], value=1)
        t = _tril_to_vec(y, diag=-1) / _tril_to_vec(left_shifted, diag=-1).sqrt()
        return ((t).log1p() - (-t).log1p()) / 2

    def log_abs_det_jacobian(self, x, y, intermediates=None):
        from ..nn.functional import softplus
        left = 1 - (y * y).cumsum(-1)
        stick_logdet = 0.5 * _tril_to_vec(left, diag=-2).log().sum(-1)
        tanh_logdet = -2 * (x + softplus(-2 * x) - _math.log(2.0)).sum(-1)
        return stick_logdet + tanh_logdet

    def forward_shape(self, shape):
        if len(shape) < 1:
            raise ValueError("Too few dimensions on input")
        k = shape[-1]
        n = round((0.25 + 2 * k) ** 0.5 + 0.5)
        if n * (n - 1) // 2 != k:
            raise ValueError("Input is not a flattend lower-diagonal number")
        return tuple(shape[:-1]) + (n, n)

    def inverse_shape(self, shape):
        if len(shape) < 2:
            raise ValueError("Too few dimensions on input")
        n = shape[-2]
        if shape[-1] != n:
            raise ValueError("Input is not square")
        return tuple(shape[:-2]) + (n * (n - 1) // 2,)
