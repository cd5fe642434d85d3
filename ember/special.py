"""``torch.special``: special functions, differentiable where PyTorch's are.

Most are Ember's top-level functions under their ``special`` names (``expit`` is ``sigmoid``,
``gammaln`` is ``lgamma``, ``psi`` is ``digamma``, ``multigammaln`` is ``mvlgamma`` ...); the rest
live in ``ember/ops/special_extra.py``. Not provided: the orthogonal polynomials
(``chebyshev_polynomial_*``, ``hermite_polynomial_*``, ``laguerre_polynomial_l``,
``legendre_polynomial_p``, ``shifted_chebyshev_polynomial_*``).
"""

from .ops.special import digamma, erfc, erfinv, polygamma, sinc
from .ops.special import mvlgamma as _mvlgamma
from .ops.special import lgamma as gammaln
from .ops.special_extra import (airy_ai, bessel_j0, bessel_j1, bessel_y0, bessel_y1, entr, erfcx, gammainc,
                                gammaincc, i0, i0e, i1, i1e, log_ndtr, modified_bessel_i0, modified_bessel_i1,
                                modified_bessel_k0, modified_bessel_k1, ndtri, scaled_modified_bessel_k0,
                                scaled_modified_bessel_k1, spherical_bessel_j0, xlog1py, zeta)
from .ops.unary import erf, exp2, expm1, log1p, logit, round, xlogy  # noqa: A004
from .ops.unary import sigmoid as expit

__all__ = ["airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "digamma", "entr", "erf", "erfc", "erfcx",
           "erfinv", "exp2", "expit", "expm1", "gammainc", "gammaincc", "gammaln", "i0", "i0e", "i1", "i1e",
           "log1p", "log_ndtr", "log_softmax", "logit", "logsumexp", "modified_bessel_i0", "modified_bessel_i1",
           "modified_bessel_k0", "modified_bessel_k1", "multigammaln", "ndtr", "ndtri", "polygamma", "psi", "round",
           "scaled_modified_bessel_k0", "scaled_modified_bessel_k1", "sinc", "softmax", "spherical_bessel_j0",
           "xlog1py", "xlogy", "zeta"]

psi = digamma


def multigammaln(input, p: int):
    """Multivariate log-gamma of dimension ``p``."""
    return _mvlgamma(input, p)


def ndtr(input):
    """Standard normal CDF: (1 + erf(x / sqrt(2))) / 2 (composed, as PyTorch: differentiable)."""
    from .ops.promotion import to_dtype
    from ._dtype import get_default_dtype
    x = input if input.is_floating_point() else to_dtype(input, get_default_dtype())
    return (1 + erf(x * 0.7071067811865476)) * 0.5


def softmax(input, dim: int, *, dtype=None):
    from .nn.functional import softmax as _softmax
    return _softmax(input, dim, dtype=dtype)


def log_softmax(input, dim: int, *, dtype=None):
    from .nn.functional import log_softmax as _log_softmax
    return _log_softmax(input, dim, dtype=dtype)


def logsumexp(input, dim, keepdim: bool = False):
    from .ops.reduction import logsumexp as _logsumexp
    return _logsumexp(input, dim, keepdim)
