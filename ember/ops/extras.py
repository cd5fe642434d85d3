"""Small top-level names PyTorch users reach for: constants, global settings (threads, default device,
determinism, matmul precision, warn-always), ``typename``/``is_storage``, the in-place top-level forms
(``torch.abs_(x)`` ...), and small ops: ``tril_indices``/``triu_indices``, ``cov``/``corrcoef``, ``isin``,
``unravel_index``, ``histogram``, ``angle``/``polar``, conj/neg-bit queries, ``frexp``, bit shifts,
``dist``, ``chain_matmul``, ``cholesky_inverse``/``cholesky_solve``, ``unique_consecutive``,
``unsafe_chunk``/``unsafe_split``, ``empty_strided``, ``frombuffer``, ``gradient``.

Settings that have no effect on NumPy (determinism, matmul precision, inter-op threads) are recorded and
reported back, as PyTorch's CPU build does; ``set_num_threads`` limits NumPy's BLAS pool through
threadpoolctl when it is installed.
"""
from __future__ import annotations

import math as _math

import numpy as _np

from .. import _dtype as _D
from .._tensor import Tensor as _Tensor, _wrap
from ..autograd.function import Function as _Function
from ..backends import namespace_of as _ns

__all__ = [
    "pi", "e", "inf", "nan", "newaxis",
    "set_num_threads", "get_num_threads", "set_num_interop_threads", "get_num_interop_threads",
    "set_default_device", "get_default_device", "use_deterministic_algorithms",
    "are_deterministic_algorithms_enabled", "is_deterministic_algorithms_warn_only_enabled",
    "set_deterministic_debug_mode", "get_deterministic_debug_mode", "set_float32_matmul_precision",
    "get_float32_matmul_precision", "typename", "is_storage", "set_warn_always", "is_warn_always_enabled",
    "get_device",
    "tril_indices", "triu_indices", "cov", "corrcoef", "isin", "unravel_index", "histogram", "angle", "polar",
    "resolve_conj", "resolve_neg", "is_conj", "is_neg", "isreal", "frexp", "bitwise_left_shift",
    "bitwise_right_shift", "dist", "chain_matmul", "cholesky_inverse", "cholesky_solve", "unique_consecutive",
    "row_stack", "unsafe_chunk", "unsafe_split", "unsafe_split_with_sizes", "empty_strided", "frombuffer",
    "gradient",
]

# --------------------------------------------------------------------------- constants
pi = _math.pi
e = _math.e
inf = _math.inf
nan = _math.nan
newaxis = None

# --------------------------------------------------------------------------- global settings
_settings = {"threads": None, "interop": None, "deterministic": False, "warn_only": False,
             "precision": "highest", "warn_always": False}


def _blas_limits():
    try:
        import threadpoolctl
    except ImportError:
        return None
    return threadpoolctl


def set_num_threads(int):  # noqa: A002 (PyTorch's parameter name)
    """Threads for intra-op work: limits NumPy's BLAS pool (via threadpoolctl, when installed) and records it."""
    n = int
    if not isinstance(n, type(1)) or isinstance(n, bool) or n <= 0:
        raise RuntimeError("set_num_threads expects a positive integer")
    tp = _blas_limits()
    if tp is not None:
        tp.threadpool_limits(limits=n, user_api="blas")
    _settings["threads"] = n


def get_num_threads():
    """The value last given to ``set_num_threads``, else the BLAS pool's size (else the CPU count)."""
    if _settings["threads"] is not None:
        return _settings["threads"]
    tp = _blas_limits()
    if tp is not None:
        sizes = [i["num_threads"] for i in tp.threadpool_info() if i.get("user_api") == "blas"]
        if sizes:
            return max(sizes)
    import os
    return os.cpu_count() or 1


def set_num_interop_threads(int):  # noqa: A002
    """Recorded only: Ember runs one op at a time (there is no inter-op pool)."""
    n = int
    if not isinstance(n, type(1)) or isinstance(n, bool) or n <= 0:
        raise RuntimeError("Expected positive number of threads")
    _settings["interop"] = n


def get_num_interop_threads():
    if _settings["interop"] is not None:
        return _settings["interop"]
    import os
    return os.cpu_count() or 1


def set_default_device(device):
    """Creation functions (``zeros``, ``tensor``, ``arange``, ``randn`` ...) put tensors on ``device`` when they
    are not given one; ``None`` restores the CPU."""
    from .._device import device as _Device
    from . import creation as _C
    if device is None:
        _C._default_device[0] = None
        return
    d = device if isinstance(device, _Device) else _Device(device)
    _C._default_device[0] = None if d.type == "cpu" else d


def get_default_device():
    from .._device import device as _Device
    from . import creation as _C
    d = _C._default_device[0]
    return _Device("cpu") if d is None else d


def use_deterministic_algorithms(mode, *, warn_only=False):
    """Recorded: Ember's NumPy kernels are deterministic already (scatter-adds use ``np.add.at``)."""
    if not isinstance(mode, bool):
        raise TypeError(f"use_deterministic_algorithms(): argument 'mode' must be bool, not {type(mode).__name__}")
    _settings["deterministic"] = mode
    _settings["warn_only"] = bool(warn_only) and mode


def are_deterministic_algorithms_enabled():
    return _settings["deterministic"]


def is_deterministic_algorithms_warn_only_enabled():
    return _settings["warn_only"]


def set_deterministic_debug_mode(debug_mode):
    modes = {"default": 0, "warn": 1, "error": 2}
    if isinstance(debug_mode, str):
        if debug_mode not in modes:
            raise RuntimeError(f"invalid value of debug_mode, expected one of `default`, `warn`, `error`, "
                               f"but got {debug_mode}")
        debug_mode = modes[debug_mode]
    if debug_mode not in (0, 1, 2):
        raise RuntimeError(f"invalid value of debug_mode, expected 0, 1, or 2, but got {debug_mode}")
    use_deterministic_algorithms(debug_mode != 0, warn_only=debug_mode == 1)


def get_deterministic_debug_mode():
    if not _settings["deterministic"]:
        return 0
    return 1 if _settings["warn_only"] else 2


def set_float32_matmul_precision(precision):
    """Recorded only: NumPy's float32 matmul always runs at full float32 precision."""
    if precision not in ("highest", "high", "medium"):
        import warnings
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current "
                      "set_float32_matmul_precision call has no effect.", UserWarning, stacklevel=2)
        return
    _settings["precision"] = precision


def get_float32_matmul_precision():
    return _settings["precision"]


def set_warn_always(b):
    _settings["warn_always"] = bool(b)


def is_warn_always_enabled():
    return _settings["warn_always"]


def typename(obj):
    """``'torch.FloatTensor'`` for a tensor, else the dotted name of the object (or of its class)."""
    if isinstance(obj, _Tensor):
        return obj.type()
    if hasattr(obj, "__qualname__"):
        module, name = getattr(obj, "__module__", "") or "", obj.__qualname__
    elif hasattr(obj, "__name__"):
        module, name = getattr(obj, "__module__", "") or "", obj.__name__
    else:
        module, name = type(obj).__module__ or "", type(obj).__qualname__
    return name if module in ("", "builtins") else f"{module}.{name}"


def is_storage(obj):
    """Ember has no storage objects (a tensor's memory is its NumPy/CuPy array), so this is always False."""
    return False


def get_device(input):
    return input.get_device()


# --------------------------------------------------------------------------- index helpers
def _tri_indices(fn, row, col, offset, dtype, device):
    from .creation import _finish
    if row < 0 or col < 0:
        raise RuntimeError(f"row must be non-negative, got{row}" if row < 0 else f"col must be non-negative, got{col}")
    dtype = _D.int64 if dtype is None else dtype
    if dtype not in (_D.int32, _D.int64):
        raise RuntimeError(f"\"{fn}\" not implemented for '{str(dtype).split('.')[-1].capitalize()}'")
    r, c = (_np.tril_indices if fn == "tril_indices" else _np.triu_indices)(row, offset, col)
    return _finish(_np.stack([r, c]).astype(dtype.np), device, False)


def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """The (2, N) row/column indices of the lower triangle of a ``row x col`` matrix, row-major."""
    return _tri_indices("tril_indices", row, col, offset, dtype, device)


def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """The (2, N) row/column indices of the upper triangle of a ``row x col`` matrix, row-major."""
    return _tri_indices("triu_indices", row, col, offset, dtype, device)


def unravel_index(indices, shape):
    """Flat indices -> a tuple of coordinate tensors (int64), one per dimension of ``shape``."""
    if isinstance(shape, int):
        shape = (shape,)
    shape = tuple(int(s) for s in shape)
    if isinstance(indices, _Tensor):
        if indices.is_floating_point() or indices.is_complex() or indices.dtype == _D.bool_:
            raise TypeError("expected 'indices' to be integer dtype, but got " + str(indices.dtype))
        a = indices._data
    else:
        a = _np.asarray(indices)
        if a.dtype.kind not in "iu":
            raise TypeError(f"expected 'indices' to be integer dtype, but got {a.dtype}")
    if any(s < 0 for s in shape):
        raise ValueError("'shape' cannot have negative values, but got " + str(shape))
    xp = _ns(a)
    n = _math.prod(shape)
    if a.size and (bool((a < -n).any()) or bool((a >= n).any())):
        raise RuntimeError("index out of bounds in unravel_index")
    a = xp.where(a < 0, a + n, a).astype(_np.int64)
    out, rest = [], a
    for s in reversed(shape):
        out.append(rest % s if s else rest * 0)
        rest = rest // s if s else rest
    return tuple(_wrap(o) for o in reversed(out))


# --------------------------------------------------------------------------- statistics
def cov(input, *, correction=1, fweights=None, aweights=None):
    """Covariance of the rows (variables) of ``input`` over its columns (observations); differentiable."""
    from . import elementwise as E
    from . import linalg as L
    from . import reduction as R
    if input.ndim > 2:
        raise ValueError(f"cov(): expected input to have two or fewer dimensions but got an input with "
                         f"{input.ndim} dimensions")
    x = input.reshape(1, -1) if input.ndim < 2 else input
    if not (x.is_floating_point() or x.is_complex()):
        x = E.to_dtype(x, _D.get_default_dtype())
    n = x.shape[1]
    w = None
    if fweights is not None:
        if fweights.ndim > 1 or fweights.numel() != n:
            raise RuntimeError(f"cov(): expected fweights to have one dimension and {n} elements")
        if fweights.is_floating_point():
            raise RuntimeError("cov(): expected fweights to have integral dtype")
        if bool((fweights._data < 0).any()):
            raise RuntimeError("cov(): fweights cannot be negative")
        w = fweights
    if aweights is not None:
        if aweights.ndim > 1 or aweights.numel() != n:
            raise RuntimeError(f"cov(): expected aweights to have one dimension and {n} elements")
        if not aweights.is_floating_point():
            raise RuntimeError("cov(): expected aweights to have floating point dtype")
        if bool((aweights._data < 0).any()):
            raise RuntimeError("cov(): aweights cannot be negative")
        w = aweights if w is None else w * aweights
    if w is None:
        avg = R.mean(x, 1)
        w_sum = n
        norm = n - correction
    else:
        w = E.to_dtype(w, x.dtype) if w.dtype != x.dtype else w
        w_sum = R.sum(w)
        avg = R.sum(x * w, 1) / w_sum
        if aweights is None or correction == 0:
            norm = w_sum - correction
        else:
            norm = w_sum - correction * R.sum(w * aweights) / w_sum
    if isinstance(norm, _Tensor):
        norm = E.clamp_min(norm, 0)
    else:
        norm = max(norm, 0)
    xm = x - avg.unsqueeze(1)
    xw = xm if w is None else xm * w
    c = L.matmul(xw, E.conj(xm).transpose(0, 1)) / norm
    return c.squeeze()  # PyTorch: a single variable gives a 0-d result


def corrcoef(input):
    """Pearson correlation coefficients of the rows of ``input`` (clipped to [-1, 1] for real inputs)."""
    from . import elementwise as E
    from . import linalg as L
    from . import unary as U
    if input.ndim > 2:
        raise ValueError(f"corrcoef(): expected input to have two or fewer dimensions but got an input with "
                         f"{input.ndim} dimensions")
    c = cov(input)
    if c.ndim == 0:
        return c / c
    d = L.diagonal(c)
    std = U.sqrt(d.real if c.is_complex() else d)
    c = c / std.unsqueeze(1)
    c = c / std.unsqueeze(0)
    return c if c.is_complex() else E.clamp(c, -1, 1)


def histogram(input, bins=100, *, range=None, weight=None, density=False, out=None):  # noqa: A002
    """(hist, bin_edges): ``bins`` equal bins over ``range`` (default: the data's min..max) or given edges."""
    from ..return_types import _nt
    if not input.is_floating_point():
        raise RuntimeError(f"torch.histogram: input tensor and bins tensors should have the same dtype, "
                           f"but got input {str(input.dtype).split('.')[-1]}")
    a = input._data
    dt = a.dtype
    edges = bins._data if isinstance(bins, _Tensor) else bins
    if isinstance(bins, _Tensor) and bins.dtype != input.dtype:
        raise RuntimeError("torch.histogram: input tensor and bins tensors should have the same dtype")
    wts = None if weight is None else _np.asarray(weight._data).reshape(-1)
    if weight is not None and tuple(weight.shape) != tuple(input.shape):
        raise RuntimeError("torch.histogram: if weight tensor is provided, it should have the same shape as "
                           "the input tensor")
    if isinstance(edges, int) and edges <= 0:
        raise RuntimeError("torch.histogram(): bins must be > 0, but got " + str(edges))
    flat = _np.asarray(a).reshape(-1)
    if range is not None:
        lo, hi = float(range[0]), float(range[1])
    elif flat.size:
        lo, hi = float(flat.min()), float(flat.max())
    else:
        lo, hi = 0.0, 0.0
    if isinstance(edges, int):
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5  # PyTorch (and NumPy) widen an empty range by 1
        e = _np.linspace(lo, hi, edges + 1).astype(dt)
    else:
        e = _np.asarray(edges)
    h, _ = _np.histogram(flat, bins=e.astype(_np.float64), weights=wts, density=density)
    return _nt("histogram", ("hist", "bin_edges"))(_wrap(h.astype(dt)), _wrap(e.astype(dt)))


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """For each of ``elements``: is it among ``test_elements`` (bool, the shape of ``elements``)."""
    if not isinstance(elements, _Tensor) and not isinstance(test_elements, _Tensor):
        raise TypeError("isin() received an invalid combination of arguments: expected at least one Tensor")
    a = elements._data if isinstance(elements, _Tensor) else _np.asarray(elements)
    b = test_elements._data if isinstance(test_elements, _Tensor) else _np.asarray(test_elements)
    xp = _ns(a) if isinstance(elements, _Tensor) else _ns(b)
    return _wrap(xp.asarray(xp.isin(a, b, assume_unique=assume_unique, invert=invert)))


# --------------------------------------------------------------------------- complex helpers
class _Angle(_Function):
    raw = True
    node_name = "AngleBackward0"

    @staticmethod
    def forward(ctx, z):
        xp = _ns(z)
        ctx.save_for_backward(z)
        if z.dtype.kind == "c":
            return xp.angle(z)
        out = xp.where(z < 0, _np.pi, 0.0).astype(z.dtype)
        return xp.where(xp.isnan(z), z, out)

    @staticmethod
    def backward(ctx, g):
        from . import _bw as B
        (z,) = ctx.saved_tensors
        if not isinstance(z, _Tensor) and z.dtype.kind != "c" or isinstance(z, _Tensor) and not z.is_complex():
            return g * 0
        a2 = B.abs(z) ** 2
        safe = B.where(a2 == 0, 1.0, a2)
        return B.where(a2 == 0, 0.0, g * z / safe * 1j)


def angle(input):
    """The element-wise angle in radians (0 or pi for real inputs, NaN kept)."""
    from . import elementwise as E
    if not (input.is_floating_point() or input.is_complex()):
        input = E.to_dtype(input, _D.get_default_dtype())
    return _Angle.apply(input)


def polar(abs, angle):  # noqa: A002
    """The complex tensor ``abs * (cos(angle) + i sin(angle))``."""
    from . import unary as U
    if abs.dtype != angle.dtype:
        raise RuntimeError(f"polar(): expected both inputs to have the same dtype, got {abs.dtype} and "
                           f"{angle.dtype}")
    if abs.dtype not in (_D.float32, _D.float64):
        raise RuntimeError(f"polar(): expected float or double inputs, got {abs.dtype}")
    return abs * U.cos(angle) + abs * U.sin(angle) * 1j


def is_conj(input):
    """Always False: Ember materialises conjugates (it has no lazy conjugate bit)."""
    return False


def is_neg(input):
    """Always False: Ember has no lazy negative bit."""
    return False


def resolve_conj(input):
    return input


def resolve_neg(input):
    return input


def isreal(input):
    """True where the element is real (the imaginary part is 0); all True for real dtypes."""
    a = input._data
    xp = _ns(a)
    if a.dtype.kind != "c":
        return _wrap(xp.ones(a.shape, dtype=bool))
    return _wrap(a.imag == 0)


def frexp(input):
    """(mantissa, exponent) with ``input = mantissa * 2 ** exponent``; the mantissa is differentiable."""
    from ..return_types import _nt
    from . import elementwise as E
    if not input.is_floating_point():
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    xp = _ns(input._data)
    m, ex = xp.frexp(input._data)
    ex = ex.astype(_np.int32)
    if input.requires_grad:
        m = E.mul(input, _wrap(xp.ldexp(_np.ones((), input._data.dtype), -ex)))
    else:
        m = _wrap(m)
    return _nt("frexp", ("mantissa", "exponent"))(m, _wrap(ex))


# --------------------------------------------------------------------------- bit shifts
def _shift(name, op, input, other):
    a, b = _operands(input, other)
    if a.dtype.kind not in "iub" or a.dtype.kind == "b":
        raise RuntimeError(f"\"{name}_cpu\" not implemented for '{_D.from_np(a.dtype)}'")
    xp = _ns(a)
    bits = a.dtype.itemsize * 8
    big = (b >= bits) | (b < 0)
    safe = xp.where(big, 0, b).astype(a.dtype)
    r = op(a, safe)
    if name == "lshift":
        r = xp.where(big, 0, r)
    else:
        r = xp.where(big, xp.where(a < 0, -1, 0), r)
    return _wrap(r.astype(a.dtype, copy=False))


def _operands(input, other):
    t = input if isinstance(input, _Tensor) else other
    dt = _D.result_type(input, other)
    a = input._data if isinstance(input, _Tensor) else input
    b = other._data if isinstance(other, _Tensor) else other
    xp = _ns(t._data)
    return xp.asarray(a).astype(dt.np, copy=False), xp.asarray(b).astype(dt.np, copy=False)


def bitwise_left_shift(input, other):
    """``input << other`` element-wise (integer dtypes; shifts past the width give 0)."""
    return _shift("lshift", lambda a, b: _ns(a).left_shift(a, b), input, other)


def bitwise_right_shift(input, other):
    """``input >> other`` element-wise, arithmetic for signed dtypes."""
    return _shift("rshift", lambda a, b: _ns(a).right_shift(a, b), input, other)


# --------------------------------------------------------------------------- linear algebra odds
def dist(input, other, p=2):
    """The ``p``-norm of ``input - other`` (broadcast)."""
    from . import reduction as R
    return R.norm(input - other, p)


def chain_matmul(*matrices, out=None):
    """The product of 2-D matrices, left to right (``torch.linalg.multi_dot`` is the current name)."""
    from . import linalg as L
    if len(matrices) == 1 and isinstance(matrices[0], (list, tuple)):
        matrices = tuple(matrices[0])
    if not matrices:
        raise RuntimeError("chain_matmul(): Expected one or more matrices")
    for m in matrices:
        if m.ndim != 2:
            raise RuntimeError(f"Tensor dimension is {m.ndim}, expected 2 instead.")
    if len(matrices) == 1:
        return matrices[0].clone()
    r = matrices[0]
    for m in matrices[1:]:
        r = L.mm(r, m)
    return r


def _check_square(name, t):
    if t.ndim < 2 or t.shape[-1] != t.shape[-2]:
        raise RuntimeError(f"{name}: A must be batches of square matrices, but they are "
                           f"{t.shape[-2] if t.ndim >= 2 else 1} by {t.shape[-1] if t.ndim else 1} matrices")


def cholesky_inverse(L, upper=False, *, out=None):  # noqa: N803 (PyTorch's name)
    """The inverse of ``A`` from its Cholesky factor (``A = L L^H``, or ``U^H U`` with ``upper``)."""
    _check_square("cholesky_inverse", L)
    return cholesky_solve(_eye_like(L), L, upper)


def _eye_like(L):
    xp = _ns(L._data)
    n = L.shape[-1]
    return _wrap(xp.broadcast_to(xp.eye(n, dtype=L._data.dtype), tuple(L.shape)).copy())


def cholesky_solve(B, L, upper=False, *, out=None):  # noqa: N803
    """Solves ``A X = B`` given ``A``'s Cholesky factor (lower ``L``, or upper ``U`` with ``upper``)."""
    from .. import linalg as LA
    from . import elementwise as E
    _check_square("cholesky_solve", L)
    if B.ndim < 2:
        raise RuntimeError(f"b should have at least 2 dimensions, but has {B.ndim} dimensions instead")
    if B.dtype != L.dtype:
        raise RuntimeError(f"Expected b and A to have the same dtype, but found b of type {B.dtype} and A of "
                           f"type {L.dtype} instead.")
    if B.shape[-2] != L.shape[-1]:
        raise RuntimeError(f"Incompatible matrix sizes for cholesky_solve: each A matrix is "
                           f"{L.shape[-1]} by {L.shape[-1]} but each b matrix is {B.shape[-2]} by {B.shape[-1]}")
    from .linalg import matmul
    low = E.conj(L.transpose(-2, -1)) if upper else L
    # Through A = L L^H, so that (as in PyTorch) the whole of L, not only its triangle, gets a gradient.
    return LA.solve(matmul(low, E.conj(low.transpose(-2, -1))), B)


# --------------------------------------------------------------------------- shapes
def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Drops every element (or slice along ``dim``) equal to the one before it."""
    a = input._data
    xp = _ns(a)
    if dim is None:
        flat = a.reshape(-1)
        keep = xp.ones(flat.shape[0], dtype=bool)
        if flat.shape[0]:
            keep[1:] = flat[1:] != flat[:-1]
        vals = flat[keep]
        group = xp.cumsum(keep) - 1
        inv_shape = a.shape
    else:
        d = dim % max(a.ndim, 1)
        if a.ndim == 0:
            raise IndexError(f"Dimension out of range (expected to be in range of [-1, 0], but got {dim})")
        m = xp.moveaxis(a, d, 0).reshape(a.shape[d], -1)
        keep = xp.ones(m.shape[0], dtype=bool)
        if m.shape[0]:
            keep[1:] = (m[1:] != m[:-1]).any(axis=1) if m.shape[1] else False
        vals = xp.compress(keep, a, axis=d)
        group = xp.cumsum(keep) - 1
        inv_shape = (a.shape[d],)
    out = _wrap(vals)
    if not (return_inverse or return_counts):
        return out
    res = [out]
    if return_inverse:
        res.append(_wrap(group.reshape(inv_shape).astype(_np.int64)))
    if return_counts:
        starts = xp.flatnonzero(keep)
        res.append(_wrap(xp.diff(xp.append(starts, keep.shape[0])).astype(_np.int64)))
    return tuple(res)


def row_stack(tensors, *, out=None):
    from .join import vstack
    return vstack(tensors)


def unsafe_chunk(input, chunks, dim=0):
    from .join import chunk
    return chunk(input, chunks, dim)


def unsafe_split(tensor, split_size_or_sections, dim=0):
    from .join import split
    return split(tensor, split_size_or_sections, dim)


def unsafe_split_with_sizes(input, split_sizes, dim=0):
    from .join import split
    return split(input, list(split_sizes), dim)


def empty_strided(size, stride, *, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    """An uninitialised tensor of ``size`` laid out with ``stride`` (elements) over a fresh buffer."""
    from .creation import empty
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError(f"mismatch in length of strides and shape: {len(stride)} vs {len(size)}")
    n = 0 if 0 in size else 1 + sum((s - 1) * st for s, st in zip(size, stride))
    buf = empty(n, dtype=dtype, device=device)
    xp = _ns(buf._data)
    it = buf._data.itemsize
    view = xp.lib.stride_tricks.as_strided(buf._data, size, tuple(st * it for st in stride)) if n else \
        buf._data[:0].reshape(size)
    t = _wrap(view)
    if requires_grad:
        t.requires_grad_(True)
    return t


def frombuffer(buffer, *, dtype, count=-1, offset=0, requires_grad=False):
    """A 1-D tensor sharing memory with a Python buffer (bytes, bytearray, array, memoryview ...)."""
    mv = memoryview(buffer)
    nbytes = mv.nbytes
    item = _np.dtype(dtype.np).itemsize
    if nbytes <= 0:
        raise ValueError(f"both buffer length ({nbytes}) and count ({count}) must not be 0")
    if offset < 0 or offset >= nbytes:
        raise ValueError(f"offset ({offset} bytes) must be non-negative and no greater than buffer length "
                         f"({nbytes} bytes) minus 1")
    if count <= 0 and (nbytes - offset) % item:
        raise ValueError(f"buffer length ({nbytes - offset} bytes) after offset ({offset} bytes) must be a "
                         f"multiple of element size ({item})")
    if count > 0 and count * item > nbytes - offset:
        raise ValueError(f"requested buffer length ({count} * {item} bytes) after offset ({offset} bytes) "
                         f"must not be greater than actual buffer length ({nbytes} bytes)")
    arr = _np.frombuffer(buffer, dtype=dtype.np, count=count if count > 0 else -1, offset=offset)
    t = _wrap(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def gradient(input, *, spacing=1, dim=None, edge_order=1):
    """Central differences inside, one-sided (order ``edge_order``) at the edges, per dimension; spacing is a
    scalar, one scalar per dimension, or one coordinate tensor per dimension. Differentiable."""
    from .scatter_gather import index_select
    if edge_order not in (1, 2):
        raise RuntimeError(f"torch.gradient only supports edge_order=1 and edge_order=2, got {edge_order}")
    dims = list(range(input.ndim)) if dim is None else ([dim] if isinstance(dim, int) else list(dim))
    dims = [d % input.ndim for d in dims]
    if isinstance(spacing, (list, tuple)):
        if len(spacing) != len(dims):
            raise RuntimeError(f"torch.gradient expected spacing to be unspecified, a scalar or it's spacing and "
                               f"dim arguments to have the same length, but got a spacing argument of length "
                               f"{len(spacing)} and a dim argument of length {len(dims)}.")
        sp = list(spacing)
    else:
        sp = [spacing] * len(dims)
    xp = _ns(input._data)
    dt = input._data.dtype if input._data.dtype.kind in "fc" else _D.default_float_np()
    outs = []
    for d, s in zip(dims, sp):
        n = input.shape[d]
        if n < edge_order + 1:
            raise RuntimeError("torch.gradient expected each dimension size to be at least edge_order+1")
        if isinstance(s, _Tensor):
            if s.ndim != 1 or s.shape[0] != n:
                raise RuntimeError("torch.gradient expected each tensor to be on the same device and of size "
                                   "equal to the input along the dimension")
            x = _np.asarray(s._cpu_array(), dtype=_np.float64)
        else:
            x = _np.arange(n, dtype=_np.float64) * float(s.item() if hasattr(s, "item") else s)
        idx, w = _stencil(x, edge_order)
        out = None
        for k in range(3):
            wk = w[:, k]
            if not wk.any():
                continue
            shape = [1] * input.ndim
            shape[d] = n
            wt = _wrap(xp.asarray(wk.astype(dt)).reshape(shape))
            term = index_select(input, d, _wrap(xp.asarray(idx[:, k]))) * wt
            out = term if out is None else out + term
        outs.append(out)
    return tuple(outs)


def _stencil(x, edge_order):
    """Per output point: three input indices and their weights (NumPy's non-uniform formulas)."""
    n = x.shape[0]
    h = _np.diff(x)
    idx = _np.zeros((n, 3), _np.int64)
    w = _np.zeros((n, 3))
    if n > 2:
        hs, hd = h[:-1], h[1:]
        i = _np.arange(1, n - 1)
        idx[1:-1] = _np.stack([i - 1, i, i + 1], 1)
        w[1:-1, 0] = -hd / (hs * (hd + hs))
        w[1:-1, 1] = (hd - hs) / (hd * hs)
        w[1:-1, 2] = hs / (hd * (hd + hs))
    if edge_order == 1:
        idx[0] = [0, 1, 0]
        w[0] = [-1 / h[0], 1 / h[0], 0]
        idx[-1] = [n - 2, n - 1, n - 1]
        w[-1] = [-1 / h[-1], 1 / h[-1], 0]
    else:
        d1, d2 = h[0], h[1]
        idx[0] = [0, 1, 2]
        w[0] = [-(2 * d1 + d2) / (d1 * (d1 + d2)), (d1 + d2) / (d1 * d2), -d1 / (d2 * (d1 + d2))]
        d1, d2 = h[-2], h[-1]
        idx[-1] = [n - 3, n - 2, n - 1]
        w[-1] = [d2 / (d1 * (d1 + d2)), -(d2 + d1) / (d1 * d2), (2 * d2 + d1) / (d2 * (d1 + d2))]
    return idx, w


# --------------------------------------------------------------------------- top-level in-place forms
# ``torch.abs_(x)`` is ``x.abs_()``: one forwarding function per in-place method PyTorch also names at top level.
_INPLACE = ("abs_", "acos_", "acosh_", "addmv_", "arccos_", "arccosh_", "arcsin_", "arcsinh_", "arctan_",
            "arctanh_", "asin_", "asinh_", "atan_", "atanh_", "ceil_", "clamp_", "clamp_max_", "clamp_min_",
            "clip_", "cos_", "cosh_", "deg2rad_", "detach_", "erf_", "erfc_", "exp2_", "exp_", "expm1_", "fill_",
            "fix_", "floor_", "frac_", "gcd_", "index_put_", "lcm_", "ldexp_", "log10_", "log1p_", "log2_", "log_",
            "logit_", "nan_to_num_", "neg_", "negative_", "rad2deg_", "reciprocal_", "relu_", "round_", "rsqrt_",
            "sigmoid_", "sin_", "sinc_", "sinh_", "sqrt_", "square_", "tan_", "tanh_", "trunc_", "xlogy_", "zero_")


def _forward_inplace(name):
    def fn(input, *args, **kwargs):
        return getattr(input, name)(*args, **kwargs)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"``input.{name}(...)``: in place, returns ``input``."
    return fn


for _name in _INPLACE:
    globals()[_name] = _forward_inplace(_name)
del _name
__all__ += list(_INPLACE) + ["fill"]


def fill(input, value):
    """A new tensor like ``input`` filled with ``value`` (a number or a 0-d tensor); differentiable in
    ``value`` only through ``fill_``'s rules, as in PyTorch (the input gets no gradient)."""
    return input.clone().fill_(value) if not input.requires_grad else input.detach().clone().fill_(value)


# --------------------------------------------------------------------------- Tensor methods
def _shift_inplace(fn):
    def method(self, other):
        r = fn(self, other)
        if r.dtype != self.dtype:
            raise RuntimeError(f"result type {r.dtype} can't be cast to the desired output type {self.dtype}")
        self._check_inplace()
        self._data[...] = r._data
        self._vc[0] += 1
        return self
    return method


def bind_methods(T):
    """Binds this module's Tensor methods (called once from ``_tensor_methods.bind``)."""
    from . import functional_aliases as FA
    from . import legacy_types as LT
    lsh_ = _shift_inplace(bitwise_left_shift)
    rsh_ = _shift_inplace(bitwise_right_shift)
    methods = {
        "angle": angle, "bitwise_left_shift": bitwise_left_shift, "bitwise_right_shift": bitwise_right_shift,
        "bitwise_left_shift_": lsh_, "bitwise_right_shift_": rsh_, "__lshift__": bitwise_left_shift,
        "__rshift__": bitwise_right_shift, "__ilshift__": lsh_, "__irshift__": rsh_,
        "__rlshift__": lambda self, other: bitwise_left_shift(other, self),
        "__rrshift__": lambda self, other: bitwise_right_shift(other, self),
        "cholesky_inverse": cholesky_inverse,
        "cholesky_solve": lambda self, input2, upper=False: cholesky_solve(self, input2, upper),
        "corrcoef": corrcoef, "cov": cov, "dist": dist, "frexp": frexp, "histogram": histogram,
        "is_conj": is_conj, "is_neg": is_neg, "resolve_conj": resolve_conj, "resolve_neg": resolve_neg,
        "isreal": isreal, "unique_consecutive": unique_consecutive, "unsafe_chunk": unsafe_chunk,
        "unsafe_split": unsafe_split, "unsafe_split_with_sizes": unsafe_split_with_sizes,
        "hardshrink": FA.hardshrink, "prelu": FA.prelu, "new": LT.tensor_new, "get_device": LT.get_device,
    }
    for name, fn in methods.items():
        setattr(T, name, fn)
