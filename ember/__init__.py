"""Ember: PyTorch's programming model (tensors, autograd, nn, optim, data, checkpoints) on NumPy.

``import ember as torch`` — code written for PyTorch, within Ember's scope, runs and gives the same numbers.
"""
__version__ = "0.1.0"

from . import _dtype
from ._dtype import (bool_ as bool, uint8, int8, int16, int32, int64, float16, float32, float64,  # noqa: F401
                     complex64, complex128, dtype, get_default_dtype, set_default_dtype, promote_types,
                     bfloat16, finfo, iinfo)
from ._device import device  # noqa: F401
from ._tensor import Tensor, Size, is_tensor  # noqa: F401
from ._tensor_str import set_printoptions  # noqa: F401
from .autograd.grad_mode import (no_grad, enable_grad, set_grad_enabled, is_grad_enabled,  # noqa: F401
                                 inference_mode, is_inference_mode_enabled, is_anomaly_enabled)
from . import _tensor_methods as _tm

_tm.bind()
del _tm

# Each ops module lists its public names in ``__all__``: the star imports bring in exactly those,
# never the modules' own imports (np, math ...) or their Function classes.
from .ops.elementwise import *  # noqa: F401,F403,E402
from .ops.selection import *  # noqa: F401,F403,E402
from .ops.copying import *  # noqa: F401,F403,E402
from .ops.unary import *  # noqa: F401,F403,E402
from .ops.comparison import *  # noqa: F401,F403,E402
from .ops.reduction import (sum, nansum, mean, nanmean, prod, max, min, amax, amin, aminmax, argmax,  # noqa: F401,E402
                            argmin, var, std, var_mean, std_mean, logsumexp, norm, cumsum, cumprod, cummax, all,
                            any, count_nonzero)
from .ops.sorting import sort, argsort, topk, kthvalue, median, unique  # noqa: F401,E402
from .ops.shape import (reshape, flatten, unflatten, permute, transpose, swapaxes, swapdims, t,  # noqa: F401,E402
                        adjoint, movedim, moveaxis, broadcast_to, broadcast_tensors, broadcast_shapes,
                        squeeze, unsqueeze, narrow)
from .ops.join import (cat, concat, concatenate, stack, hstack, vstack, dstack, column_stack,  # noqa: F401,E402
                       atleast_1d, atleast_2d, atleast_3d, split, chunk, tensor_split, unbind)
from .ops.rearrange import (flip, fliplr, flipud, roll, tile, repeat_interleave, tril, triu,  # noqa: F401,E402
                            meshgrid)
from .ops.indexing import (index_put, masked_fill, masked_select, masked_scatter, nonzero,  # noqa: F401,E402
                           argwhere, take)
from .ops.scatter_gather import (gather, scatter, scatter_add, scatter_reduce, index_select,  # noqa: F401,E402
                                 index_add, index_copy, index_fill, take_along_dim)
from .ops.linalg import (matmul, mm, bmm, addmm, addmv, baddbmm, addbmm, dot, inner, vdot, mv, outer,  # noqa: F401,E402
                         ger, einsum, tensordot, kron, trace, diagonal, diag, diag_embed)
from .ops.creation import (tensor, as_tensor, asarray, from_numpy, zeros, ones, empty, full, eye,  # noqa: F401,E402
                           zeros_like, ones_like, empty_like, full_like, arange, linspace, logspace, Generator,
                           default_generator, manual_seed, seed, initial_seed, get_rng_state, set_rng_state, rand,
                           randn, randint, randperm, rand_like, randn_like, randint_like, normal, bernoulli,
                           multinomial, poisson, scalar_tensor, complex)
from .ops.special import (erfc, erfinv, lgamma, digamma, polygamma, mvlgamma, sinc, deg2rad, rad2deg,  # noqa: F401,E402
                          sgn, positive, logaddexp, logaddexp2, hypot, copysign, heaviside, nextafter, gcd, lcm,
                          float_power, ldexp)
from .ops.shape_more import (ravel, select, rot90, diagflat, vsplit, hsplit, dsplit, split_with_sizes,  # noqa: F401,E402
                             cartesian_prod, combinations, block_diag, vander, select_scatter, slice_scatter,
                             diagonal_scatter, as_strided, index_reduce, is_same_size)
from .ops.stats import (logcumsumexp, cummin, diff, msort, quantile, nanquantile, nanmedian, mode, histc,  # noqa: F401,E402
                        bincount, searchsorted, bucketize, trapezoid, trapz, cumulative_trapezoid, cdist, renorm)
from .ops.complex_view import view_as_real, view_as_complex  # noqa: F401,E402
from .ops.extras import *  # noqa: F401,F403,E402
from .ops.settings import *  # noqa: F401,F403,E402
from .ops.numeric_extra import *  # noqa: F401,F403,E402
from .ops.windows import *  # noqa: F401,F403,E402
from .ops.legacy_types import *  # noqa: F401,F403,E402
from .ops.functional_aliases import *  # noqa: F401,F403,E402
from .ops.copy_variants import *  # noqa: F401,F403,E402
from . import autograd  # noqa: E402,F401
from . import linalg  # noqa: E402,F401
from . import return_types  # noqa: E402,F401
from . import backends  # noqa: E402,F401
from .amp.autocast_mode import (autocast, is_autocast_enabled, set_autocast_enabled,  # noqa: E402,F401
                                get_autocast_dtype, set_autocast_dtype, is_autocast_cpu_enabled,
                                set_autocast_cpu_enabled, get_autocast_cpu_dtype, set_autocast_cpu_dtype,
                                get_autocast_gpu_dtype, set_autocast_gpu_dtype, is_autocast_cache_enabled,
                                set_autocast_cache_enabled, clear_autocast_cache, autocast_increment_nesting,
                                autocast_decrement_nesting)


def det(input):
    return linalg.det(input)


def inverse(input):
    return linalg.inv(input)


def logdet(input):
    # torch.linalg has no logdet: it lives in ops/linalg_matrix.py, named only here and as a method
    from .ops.linalg_matrix import logdet as _logdet
    return _logdet(input)


def slogdet(input):
    return linalg.slogdet(input)


def matrix_power(input, n):
    return linalg.matrix_power(input, n)


def matrix_exp(input):
    return linalg.matrix_exp(input)


def cholesky(input, upper=False):
    return linalg.cholesky(input, upper=upper)


def lu(*args, **kwargs):
    """PyTorch's deprecated ``torch.lu(A, pivot=True, get_infos=False)``: (LU, pivots[, infos])."""
    from .ops.linalg_lu import legacy_lu
    return legacy_lu(*args, **kwargs)


def lu_solve(b, LU_data, LU_pivots, *, out=None):
    """PyTorch's deprecated ``torch.lu_solve(b, LU_data, LU_pivots)``: ``linalg.lu_solve(LU, pivots, b)``."""
    from .ops.linalg_lu import legacy_lu_solve
    return legacy_lu_solve(b, LU_data, LU_pivots, out=out)


def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True, *, out=None):
    from .ops.linalg_lu import lu_unpack as _lu_unpack
    return _lu_unpack(LU_data, LU_pivots, unpack_data, unpack_pivots, out=out)


def qr(input, some=True):
    return linalg.qr(input, "reduced" if some else "complete")


def svd(input, some=True, compute_uv=True):
    """PyTorch's legacy ``torch.svd``: returns (U, S, V) with V (not V^H); differentiable."""
    if not compute_uv:  # PyTorch's zero U (..., m, m) and V (..., n, n), whatever ``some`` says
        m, n = input.shape[-2:]
        lead = tuple(input.shape[:-2])
        return return_types.svd_legacy(zeros(lead + (m, m), dtype=input.dtype, device=input.device),
                                       linalg.svdvals(input),
                                       zeros(lead + (n, n), dtype=input.dtype, device=input.device))
    u, s, vh = linalg.svd(input, full_matrices=not some)
    return return_types.svd_legacy(u, s, vh.transpose(-2, -1).conj())


def pinverse(input, rcond=1e-15):
    return linalg.pinv(input, rtol=rcond)


from .ops.linalg_decomp import triangular_solve  # noqa: E402,F401


def cross(input, other, dim=None):
    if dim is None:
        dim = next((i for i, s in enumerate(input.shape) if s == 3), -1)
    return linalg.cross(input, other, dim=dim)


def is_nonzero(input):
    if input.numel() == 0:
        raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
    if input.numel() != 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return input.item() != 0  # (``bool`` is ember.bool, the dtype, in this module)


def result_type(tensor1, tensor2):
    return _dtype.result_type(tensor1, tensor2)


def can_cast(from_, to):
    order = {0: 0, 1: 1, 2: 2, 3: 3}
    return order[from_._kind] <= order[to._kind]


def numel(input):
    return input.numel()


def is_floating_point(input):
    return input.is_floating_point()


def is_complex(input):
    return input.is_complex()


def detach(input):
    return input.detach()


def softmax(input, dim, dtype=None):  # noqa: F811
    from .nn.functional import softmax as _s
    return _s(input, dim, dtype=dtype)


def log_softmax(input, dim, dtype=None):  # noqa: F811
    from .nn.functional import log_softmax as _s
    return _s(input, dim, dtype=dtype)


def relu(input):
    return input.relu()


def sigmoid(input):
    return input.sigmoid()


def tanh(input):
    return input.tanh()


def dropout(input, p=0.5, train=True):
    from .nn.functional import dropout as _d
    return _d(input, p, train)


def norm_except_dim(v, pow=2, dim=0):
    """The ``pow``-norm of ``v`` over every dimension but ``dim`` (``dim=-1``: the whole tensor)."""
    from .nn.utils.weight_norm import norm_except_dim as _n
    return _n(v, pow, dim)


def _weight_norm(v, g, dim=0):
    """``v * (g / norm_except_dim(v, 2, dim))``, the weight of weight normalization."""
    from .nn.utils.weight_norm import _weight_norm as _w
    return _w(v, g, dim)


# Python-type aliases PyTorch exposes
float = float32  # noqa: A001
double = float64
half = float16
long = int64
int = int32  # noqa: A001
short = int16
cfloat = complex64
cdouble = complex128
strided = "torch.strided"
contiguous_format = "torch.contiguous_format"
preserve_format = "torch.preserve_format"
channels_last = "torch.channels_last"


def __getattr__(name):
    # Subpackages that pull in more code load on first use, keeping ``import ember`` fast.
    import importlib
    if name in ("nn", "optim", "utils", "distributed", "cuda", "viz", "serialization", "testing", "hub", "jit",
                "backends", "special", "fft", "multiprocessing", "amp", "onnx", "profiler", "func",
                "distributions", "cpu", "random", "compiler"):
        try:
            mod = importlib.import_module("." + name, __name__)
        except ModuleNotFoundError as e:
            if e.name == f"{__name__}.{name}":
                raise AttributeError(f"module 'ember' has no attribute '{name}'") from None
            raise
        globals()[name] = mod
        return mod
    if name == "compile":  # ember.compile hands the model back unchanged (ember/compiler.py)
        from .compiler import compile as _compile
        return _compile
    if name in ("save", "load"):
        from . import serialization
        return getattr(serialization, name)
    if name in ("from_dlpack",):
        from . import serialization
        return getattr(serialization, name)
    raise AttributeError(f"module 'ember' has no attribute '{name}'")

import warnings as _warnings  # noqa: E402

# PyTorch's ops never warn about floating-point exceptions (log(0) is -inf, 0/0 is nan, silently); NumPy's ufuncs
# do. Silence exactly those raised from Ember's own modules, at no cost per op (a filter is consulted only when a
# warning is raised); the user's own NumPy code keeps NumPy's behaviour.
_warnings.filterwarnings("ignore", r"(divide by zero|invalid value|overflow|underflow) encountered",
                         RuntimeWarning, r"ember(\.|$)")
