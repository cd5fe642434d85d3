"""``assert_close``: PyTorch's closeness check, its default tolerances and its failure messages."""
from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor

# (rtol, atol) per dtype when neither is given: PyTorch's table; integers and bool compare exactly
_DEFAULT_TOL = {"float16": (1e-3, 1e-5), "bfloat16": (1.6e-2, 1e-5), "float32": (1.3e-6, 1e-5),
                "float64": (1e-7, 1e-7), "complex64": (1.3e-6, 1e-5), "complex128": (1e-7, 1e-7)}


def _tol(dtype) -> tuple:
    return _DEFAULT_TOL.get(str(dtype).replace("torch.", ""), (0.0, 0.0))


class _Mismatch(AssertionError):
    pass


def assert_close(actual, expected, *, allow_subclasses: bool = True, rtol=None, atol=None, equal_nan: bool = False,
                 check_device: bool = True, check_dtype: bool = True, check_layout: bool = True,
                 check_stride: bool = False, msg=None):
    """Raise AssertionError unless ``actual`` and ``expected`` are close: ``|a - e| <= atol + rtol * |e|``
    elementwise, with equal shapes (and, by default, dtypes and devices).

    Tensors, NumPy arrays, Python numbers and (nested) sequences and mappings of them compare as PyTorch's
    do; ``rtol``/``atol`` default per dtype (float32: 1.3e-6/1e-5, float64: 1e-7/1e-7, integers: exact).
    ``msg`` replaces the message (a string) or rewrites it (a callable taking the generated message).
    """
    if (rtol is None) != (atol is None):
        raise ValueError(f"Both 'rtol' and 'atol' must be either specified or omitted, "
                         f"but got no {'rtol' if rtol is None else 'atol'}.")
    opts = dict(rtol=rtol, atol=atol, equal_nan=equal_nan, check_device=check_device, check_dtype=check_dtype,
                check_stride=check_stride)
    try:
        _compare(actual, expected, "", opts)
    except _Mismatch as e:
        text, where = e.args
        if where:
            text += f"\n\nThe failure occurred for item {where}"
        if msg is not None:
            text = msg(text) if callable(msg) else msg
        raise AssertionError(text) from None


def _is_tensor_like(x) -> bool:
    return isinstance(x, (Tensor, np.ndarray))


def _is_number(x) -> bool:
    return isinstance(x, (numbers.Number, np.number)) and not isinstance(x, np.ndarray)


def _compare(a, e, where: str, opts) -> None:
    if _is_tensor_like(a) and _is_tensor_like(e):
        return _compare_tensors(a, e, where, opts)
    if _is_number(a) and _is_number(e):
        return _compare_numbers(a, e, where, opts)
    if isinstance(a, Mapping) and isinstance(e, Mapping):
        if set(a.keys()) != set(e.keys()):
            raise _Mismatch("The keys of the mappings do not match:\n"
                            f"Missing keys in the actual mapping: {sorted(set(e) - set(a), key=repr)}\n"
                            f"Additional keys in the actual mapping: {sorted(set(a) - set(e), key=repr)}", where)
        for k in e:
            _compare(a[k], e[k], f"{where}[{k!r}]", opts)
        return
    if (isinstance(a, Sequence) and isinstance(e, Sequence) and not isinstance(a, (str, bytes))
            and not isinstance(e, (str, bytes))):
        if len(a) != len(e):
            raise _Mismatch(f"The length of the sequences mismatch: {len(a)} != {len(e)}", where)
        for i, (x, y) in enumerate(zip(a, e)):
            _compare(x, y, f"{where}[{i}]", opts)
        return
    if a is None and e is None:
        return
    raise TypeError(f"No comparison pair was able to handle inputs of type {type(a)} and {type(e)}.")


def _as_tensor(x):
    if isinstance(x, Tensor):
        return x
    from ..ops.creation import from_numpy
    return from_numpy(np.ascontiguousarray(x))


def _attr_mismatch(name, a, e, where):
    raise _Mismatch(f"The values for attribute '{name}' do not match: {a} != {e}.", where)


def _compare_tensors(a, e, where, opts) -> None:
    a, e = _as_tensor(a), _as_tensor(e)
    if tuple(a.shape) != tuple(e.shape):
        _attr_mismatch("shape", a.shape, e.shape, where)
    if opts["check_device"] and str(a.device) != str(e.device):
        _attr_mismatch("device", a.device, e.device, where)
    if opts["check_dtype"] and a.dtype != e.dtype:
        _attr_mismatch("dtype", a.dtype, e.dtype, where)
    if opts["check_stride"] and a.numel() > 0 and tuple(a.stride()) != tuple(e.stride()):
        _attr_mismatch("stride()", a.stride(), e.stride(), where)
    rtol, atol = opts["rtol"], opts["atol"]
    if rtol is None:
        (r1, a1), (r2, a2) = _tol(a.dtype), _tol(e.dtype)
        rtol, atol = max(r1, r2), max(a1, a2)
    from ..backends import to_host
    x, y = to_host(a.detach()._data), to_host(e.detach()._data)
    if x.dtype != y.dtype:  # check_dtype=False: compare in the promoted dtype
        common = D.to_np(D.promote_types(a.dtype, e.dtype))
        x, y = x.astype(common), y.astype(common)
    if x.dtype.kind == "V":  # bfloat16: compare its float32 values
        x, y = x.astype(np.float32), y.astype(np.float32)
    _compare_arrays(x, y, rtol, atol, opts["equal_nan"], a.ndim == 0, where)


def _compare_numbers(a, e, where, opts) -> None:
    rtol, atol = opts["rtol"], opts["atol"]
    kind = complex if isinstance(a, complex) or isinstance(e, complex) else (
        float if isinstance(a, (float, np.floating)) or isinstance(e, (float, np.floating)) else int)
    if rtol is None:
        rtol, atol = (0.0, 0.0) if kind is int else (1e-7, 1e-7)
    dt = {int: np.int64, float: np.float64, complex: np.complex128}[kind]
    if isinstance(a, bool) and isinstance(e, bool):
        dt = np.bool_
    _compare_arrays(np.asarray(a, dtype=dt), np.asarray(e, dtype=dt), rtol, atol, opts["equal_nan"], True, where)


def _num(v):
    v = v.item() if hasattr(v, "item") else v
    return v


def _compare_arrays(x, y, rtol, atol, equal_nan, scalar, where) -> None:
    exact = rtol == 0 and atol == 0
    if x.dtype.kind in "biu":
        ok = x == y
    else:
        with np.errstate(invalid="ignore", over="ignore"):
            ok = x == y  # equal infinities are close, unequal ones never are
            finite = np.isfinite(x) & np.isfinite(y)
            ok = ok | (finite & (np.abs(x - y) <= atol + rtol * np.abs(y)))
        if equal_nan:
            ok = ok | (np.isnan(x) & np.isnan(y))
    if ok.all():
        return
    noun = "equal" if exact else "close"
    # the differences: integers' absolute one exact; relative ones in floating point (float32 below float64)
    with np.errstate(all="ignore"):
        if x.dtype.kind == "b":
            x, y = x.astype(np.int64), y.astype(np.int64)
        if x.dtype.kind in "iu":
            adiff = np.abs(x.astype(np.int64) - y.astype(np.int64))
            rdiff = adiff.astype(np.float32) / np.abs(y).astype(np.float32)
        else:
            adiff = np.abs(x - y)
            rdiff = adiff / np.abs(y)
    # matching elements count as no difference (a 0/0 there must not hide the real mismatch)
    adiff = np.where(ok, 0, adiff)
    rdiff = np.where(ok, 0, rdiff)
    allowed_a = "" if exact else f" (up to {atol} allowed)"
    allowed_r = "" if exact else f" (up to {rtol} allowed)"
    if scalar:  # PyTorch compares 0-d values as Python numbers, the relative difference in double precision
        if x.dtype.kind in "fc":
            wide = np.complex128 if x.dtype.kind == "c" else np.float64
            x, y = x.astype(wide), y.astype(wide)
            adiff = np.abs(x - y)
        with np.errstate(all="ignore"):
            rdiff = np.float64(adiff) / np.abs(y.astype(np.complex128 if y.dtype.kind == "c" else np.float64))
        text = (f"Scalars are not {noun}!\n\nExpected {_num(y)} but got {_num(x)}.\n"
                f"Absolute difference: {_num(adiff)}{allowed_a}\nRelative difference: {_num(rdiff)}{allowed_r}")
        raise _Mismatch(text, where)
    total, bad = ok.size, int(ok.size - np.count_nonzero(ok))
    ia = np.unravel_index(int(np.argmax(adiff)), adiff.shape)
    ir = np.unravel_index(int(np.argmax(rdiff)), rdiff.shape)
    text = (f"Tensor-likes are not {noun}!\n\nMismatched elements: {bad} / {total} ({bad / total:.1%})\n"
            f"Greatest absolute difference: {_num(adiff[ia])} at index {tuple(int(i) for i in ia)}{allowed_a}\n"
            f"Greatest relative difference: {_num(rdiff[ir])} at index {tuple(int(i) for i in ir)}{allowed_r}")
    raise _Mismatch(text, where)
