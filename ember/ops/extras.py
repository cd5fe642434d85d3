"""Small top-level names PyTorch users reach for: ``angle``/``polar``, conj/neg-bit queries, ``isreal``,
``frexp``, bit shifts, ``dist``, ``chain_matmul``, ``cholesky_inverse``/``cholesky_solve``,
``unique_consecutive``, ``row_stack``, ``unsafe_chunk``/``unsafe_split``, ``empty_strided``, ``frombuffer``,
``is_signed``, ``conj_physical``, the deprecated ``range``, and the in-place top-level forms
(``torch.abs_(x)`` ...). ``bind_methods`` puts the matching ``Tensor`` methods in place.

Settings and constants live in ``settings.py``; cov/corrcoef/histogram/gradient ... in ``numeric_extra.py``.
"""
from __future__ import annotations

import math as _math

import numpy as _np

from .. import _dtype as _D
from .._tensor import Tensor as _Tensor, _wrap
from ..autograd.function import Function as _Function
from ..backends import namespace_of as _ns

__all__ = [
    "angle", "polar", "resolve_conj", "resolve_neg", "is_conj", "is_neg", "isreal", "frexp",
    "bitwise_left_shift", "bitwise_right_shift", "dist", "chain_matmul", "cholesky_inverse", "cholesky_solve",
    "unique_consecutive", "row_stack", "unsafe_chunk", "unsafe_split", "unsafe_split_with_sizes",
    "empty_strided", "frombuffer", "is_signed", "conj_physical", "range", "addr",
]


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


def addr(input, vec1, vec2, *, beta=1, alpha=1, out=None):
    """``beta * input + alpha * outer(vec1, vec2)``."""
    return input.addr(vec1, vec2, beta=beta, alpha=alpha)


def is_signed(input):
    return input.is_signed()


def conj_physical(input):
    """The conjugate, materialised (Ember's ``conj`` is never lazy, so this is ``conj``)."""
    from .elementwise import conj
    return conj(input)


def range(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,  # noqa: A001
          requires_grad=False):
    """Deprecated in PyTorch (use ``arange``): ``start, start + step, ...`` up to and including ``end``; the
    default dtype is the default float dtype even for integer bounds."""
    import warnings
    from .creation import _finish
    warnings.warn("torch.range is deprecated and will be removed in a future release because its behavior is "
                  "inconsistent with Python's range builtin. Instead, use torch.arange, which produces values "
                  "in [start, end).", UserWarning, stacklevel=2)
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    dtype = _D.get_default_dtype() if dtype is None else dtype
    n = int(_math.floor((end - start) / step)) + 1
    arr = (start + step * _np.arange(n, dtype=_np.float64)).astype(dtype.np)
    return _finish(arr, device, requires_grad)


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
__all__ += list(_INPLACE) + ["fill", "conj_physical_"]


def conj_physical_(input):
    return input.conj_physical_()


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


def _conj_physical_(self):
    if self.is_complex():
        from .inplace import inplace
        return inplace(self, conj_physical(self))
    return self


def _new_empty_strided(self, size, stride, dtype=None, device=None, requires_grad=False, layout=None,
                       pin_memory=False):
    return empty_strided(size, stride, dtype=dtype or self.dtype, device=device or self.device,
                         requires_grad=requires_grad)


def bind_methods(T):
    """Binds this module's Tensor methods (called once from ``_tensor_methods.bind``)."""
    from . import functional_aliases as FA
    from . import legacy_types as LT
    from .numeric_extra import corrcoef, cov, histogram
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
        "conj_physical": conj_physical, "conj_physical_": _conj_physical_, "hardshrink": FA.hardshrink, "prelu": FA.prelu, "new": LT.tensor_new, "get_device": LT.get_device,
    }
    from .copy_variants import narrow_copy
    methods.update(narrow_copy=narrow_copy, new_empty_strided=_new_empty_strided)
    for name, fn in methods.items():
        setattr(T, name, fn)
