"""dtype objects (``ember.float32`` ...) and PyTorch's type-promotion rules."""
from __future__ import annotations

import numpy as np


class dtype:
    """A tensor element type. ``ember.float32`` and friends are the only instances."""

    __slots__ = ("name", "_np", "is_floating_point", "is_complex", "is_signed", "itemsize", "_kind")

    def __init__(self, name: str, np_dtype, kind: int):
        self.name = name
        if np_dtype is None:  # bfloat16: its NumPy dtype comes from ml_dtypes, loaded on first use
            self._np = None
            self.is_floating_point, self.is_complex, self.is_signed, self.itemsize = True, False, True, 2
        else:
            self._np = np.dtype(np_dtype)
            self.is_floating_point = self._np.kind == "f"
            self.is_complex = self._np.kind == "c"
            self.is_signed = self._np.kind in "fic"
            self.itemsize = self._np.itemsize
        self._kind = kind  # 0 bool, 1 integer, 2 floating, 3 complex: promotion category

    @property
    def np(self) -> np.dtype:
        """The NumPy dtype (for bfloat16, ml_dtypes' one: importing it on first use)."""
        n = self._np
        return n if n is not None else _load_bfloat16()

    def __repr__(self) -> str:
        return "torch." + self.name if _REPR_AS_TORCH else "ember." + self.name

    def __reduce__(self):
        return (_dtype_by_name, (self.name,))

    def to_complex(self):
        return complex128 if self is float64 else complex64

    def to_real(self):
        return float64 if self is complex128 else float32


# Printed like PyTorch (``torch.float32``) so that code and docs that compare reprs port unchanged.
_REPR_AS_TORCH = True

bool_ = dtype("bool", np.bool_, 0)
uint8 = dtype("uint8", np.uint8, 1)
int8 = dtype("int8", np.int8, 1)
int16 = dtype("int16", np.int16, 1)
int32 = dtype("int32", np.int32, 1)
int64 = dtype("int64", np.int64, 1)
float16 = dtype("float16", np.float16, 2)
float32 = dtype("float32", np.float32, 2)
float64 = dtype("float64", np.float64, 2)
complex64 = dtype("complex64", np.complex64, 3)
complex128 = dtype("complex128", np.complex128, 3)
bfloat16 = dtype("bfloat16", None, 2)  # NumPy has no bfloat16: ml_dtypes supplies it (optional)

ALL = (bool_, uint8, int8, int16, int32, int64, float16, float32, float64, complex64, complex128)
_BY_NP = {d.np: d for d in ALL}
_BY_NAME = {d.name: d for d in ALL}
_BY_NAME.update(bfloat16=bfloat16, half=float16, float=float32, double=float64, long=int64, int=int32, short=int16,
                cfloat=complex64, cdouble=complex128)


def _dtype_by_name(name: str) -> dtype:
    return _BY_NAME[name]


# --------------------------------------------------------------------------- bfloat16 (optional)
BF16_INSTALL_HINT = "pip install 'ember-autograd[bfloat16]'"
# True once ml_dtypes is loaded and bfloat16 arrays may exist: ops test this flag before any
# bfloat16-only work, so float32 code pays one list lookup at most.
bf16_live = [False]


def _import_ml_dtypes():
    """``import ml_dtypes`` (a function of its own so that tests can make it fail)."""
    import ml_dtypes
    return ml_dtypes


def _load_bfloat16() -> np.dtype:
    """Import ml_dtypes, register its bfloat16 as ``ember.bfloat16``'s array dtype and return it."""
    n = bfloat16._np
    if n is not None:
        return n
    try:
        mod = _import_ml_dtypes()
    except ImportError:
        raise ImportError("ember.bfloat16 needs the optional package ml_dtypes (NumPy has no bfloat16): "
                          f"{BF16_INSTALL_HINT}") from None
    n = np.dtype(mod.bfloat16)
    bfloat16._np = n
    _BY_NP[n] = bfloat16
    bf16_live[0] = True
    return n


def bfloat16_np_or_none():
    """ml_dtypes' bfloat16 dtype, or None where ml_dtypes is not installed (never raises)."""
    try:
        return _load_bfloat16()
    except ImportError:
        return None


def is_float_np(npd) -> bool:
    """Is this NumPy dtype a floating-point one (bfloat16's NumPy kind is 'V', not 'f')?"""
    k = npd.kind
    return k == "f" or (k == "V" and npd == bfloat16._np)


def from_np(np_dtype) -> dtype:
    """The ember dtype of a NumPy dtype (raises TypeError for types Ember does not have)."""
    try:
        return _BY_NP[np_dtype]
    except KeyError:
        d = _BY_NP.get(np.dtype(np_dtype))
        if d is None and np.dtype(np_dtype).name == "bfloat16" and bfloat16._np is None:
            _load_bfloat16()  # an ml_dtypes array met before ember.bfloat16 was used
            d = _BY_NP.get(np.dtype(np_dtype))
        if d is None:
            raise TypeError(f"can't convert np.ndarray of type {np.dtype(np_dtype)}. The only supported "
                            "types are: float64, float32, float16, complex64, complex128, int64, int32, "
                            "int16, int8, uint8, and bool.") from None
        return d


def to_np(d) -> np.dtype:
    """The NumPy dtype for an ember dtype, a NumPy dtype, a Python type or a name."""
    if type(d) is dtype:
        n = d._np
        return n if n is not None else _load_bfloat16()
    if d is float:
        return float32.np if _default[0] is float32 else _default[0].np
    if d is int:
        return np.dtype(np.int64)
    if d is bool:
        return np.dtype(np.bool_)
    if isinstance(d, str):
        name = d[6:] if d.startswith("torch.") else d
        if name in _BY_NAME:
            return to_np(_BY_NAME[name])
    return from_np(np.dtype(d)).np


def as_dtype(d) -> dtype:
    if type(d) is dtype:
        return d
    return from_np(to_np(d))


_default = [float32]


def get_default_dtype() -> dtype:
    return _default[0]


def set_default_dtype(d) -> None:
    d = as_dtype(d)
    if d not in (float16, float32, float64):
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _default[0] = d


def default_float_np() -> np.dtype:
    return _default[0].np


def scalar_kind(v) -> int:
    if isinstance(v, bool):
        return 0
    if isinstance(v, int):
        return 1
    if isinstance(v, float):
        return 2
    if isinstance(v, complex):
        return 3
    raise TypeError(f"unsupported scalar type {type(v).__name__}")


def promote_types(a: dtype, b: dtype) -> dtype:
    """``torch.promote_types``: the smallest type both convert to (bool < ints < floats)."""
    if a is b:
        return a
    if a._kind != b._kind:
        hi, lo = (a, b) if a._kind > b._kind else (b, a)
        if hi._kind == 3 and lo._kind == 2 and lo is float64:
            return complex128
        return hi
    if a is bfloat16 or b is bfloat16:  # bfloat16 with float16 has no common 16-bit type
        o = b if a is bfloat16 else a
        return float32 if o is float16 else o
    return from_np(np.promote_types(a.np, b.np))


def result_type(*operands) -> dtype:
    """PyTorch's ``torch.result_type`` over tensors (dim > 0 or 0-dim) and Python scalars.

    Categories rank bool < integer < floating < complex. Within the highest category present,
    dimensioned tensors decide first, then zero-dim tensors, then Python scalars (which give the
    default float dtype, int64, or complex of the default dtype).
    """
    dims, zeros, scalars = [], [], []
    for o in operands:
        d = getattr(o, "dtype", None)
        if type(d) is dtype:
            (zeros if o.ndim == 0 else dims).append(d)
        else:
            scalars.append(scalar_kind(o))

    def fold(ds):
        r = ds[0]
        for d in ds[1:]:
            r = promote_types(r, d)
        return r

    best_dim = fold(dims) if dims else None
    best_zero = fold(zeros) if zeros else None
    best_scalar = max(scalars) if scalars else -1
    kind = max((best_dim._kind if best_dim else -1), (best_zero._kind if best_zero else -1), best_scalar)
    if best_dim is not None and best_dim._kind == kind:
        return best_dim
    if best_zero is not None and best_zero._kind == kind:
        if best_dim is not None and best_dim._kind == kind:
            return promote_types(best_dim, best_zero)
        return best_zero
    # A Python scalar lifts the category.
    if kind == 0:
        return bool_
    if kind == 1:
        return int64
    if kind == 2:
        return _default[0]
    base = best_dim if best_dim is not None else best_zero
    if base is not None and base is float64:
        return complex128
    return complex128 if _default[0] is float64 else complex64


# --------------------------------------------------------------------------- finfo / iinfo
class finfo:
    """``torch.finfo``: the limits of a floating-point dtype (default: the default dtype)."""

    def __init__(self, type=None):
        d = _default[0] if type is None else as_dtype(type)
        if d is bfloat16:  # from its bit layout (8 exponent bits, 7 mantissa bits): no ml_dtypes needed
            self.bits, self.eps, self.resolution = 16, 2.0 ** -7, 0.01
            self.max = float((2 - 2.0 ** -7) * 2.0 ** 127)
            self.tiny = self.smallest_normal = 2.0 ** -126
        elif d.is_floating_point or d.is_complex:
            i = np.finfo(d.to_real().np if d.is_complex else d.np)
            self.bits, self.eps, self.resolution = int(i.bits), float(i.eps), 10.0 ** -int(i.precision)
            self.max, self.tiny = float(i.max), float(i.smallest_normal)
            self.smallest_normal = self.tiny
        else:
            raise TypeError(f"torch.finfo() requires a floating point input type. Use torch.iinfo to handle "
                            f"'{_type_name(d)}'")
        self.min = -self.max
        self.dtype = (d.to_real() if d.is_complex else d).name

    def __repr__(self):
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
                f"smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    """``torch.iinfo``: the limits of an integer (or bool) dtype."""

    def __init__(self, type):
        d = as_dtype(type)
        if d._kind > 1:
            raise TypeError("torch.iinfo() requires an integer input type. Use torch.finfo to handle "
                            f"'{_type_name(d)}'")
        i = np.iinfo(np.uint8 if d is bool_ else d.np)
        self.bits, self.min, self.max = int(i.bits), int(i.min), int(i.max)
        self.dtype = d.name

    def __repr__(self):
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"


def _type_name(d) -> str:
    return {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16",
            "int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
            "bool": "Bool"}.get(d.name, d.name)
