"""Small numeric ops at PyTorch's top level: ``tril_indices``/``triu_indices``, ``unravel_index``,
``cov``/``corrcoef`` (differentiable), ``histogram``, ``isin``, ``gradient`` (differentiable, uniform or
coordinate spacing, edge order 1 or 2)."""
from __future__ import annotations

import math as _math
from builtins import range as _brange  # ``histogram`` has a parameter named range

import numpy as _np

from .. import _dtype as _D
from .._tensor import Tensor as _Tensor, _wrap
from ..backends import namespace_of as _ns

__all__ = [
    "tril_indices", "triu_indices", "unravel_index", "cov", "corrcoef", "histogram", "isin", "gradient",
]


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


def gradient(input, *, spacing=1, dim=None, edge_order=1):
    """Central differences inside, one-sided (order ``edge_order``) at the edges, per dimension; spacing is a
    scalar, one scalar per dimension, or one coordinate tensor per dimension. Differentiable."""
    from .scatter_gather import index_select
    if edge_order not in (1, 2):
        raise RuntimeError(f"torch.gradient only supports edge_order=1 and edge_order=2, got {edge_order}")
    dims = list(_brange(input.ndim)) if dim is None else ([dim] if isinstance(dim, int) else list(dim))
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
        for k in _brange(3):
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
