"""Scans, order statistics, histograms and distances:
``logcumsumexp cummin diff quantile nanquantile nanmedian mode msort histc bincount searchsorted
bucketize trapezoid trapz cumulative_trapezoid cdist renorm``. Differentiable where PyTorch's are
(composed from differentiable primitives, except ``logcumsumexp``, a primitive)."""
from __future__ import annotations

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor, _wrap, _wrap_dim
from ..amp.autocast_mode import _ACTIVE as _AUTOCAST, cast_float32 as _cast_float32, float32_call as _float32_call
from ..autograd.function import Function
from ..backends import namespace_of
from . import comparison as Cmp
from . import elementwise as E
from . import join as J
from . import rearrange as RA
from . import reduction as R
from . import shape as S
from . import sorting as SO
from . import unary as U
from .scatter_gather import gather


class LogCumSumExp(Function):
    raw = True
    node_name = "LogcumsumexpBackward0"

    @staticmethod
    def forward(ctx, x, dim):
        xp = namespace_of(x)
        with np.errstate(invalid="ignore"):
            y = xp.logaddexp.accumulate(x, axis=dim) if xp is np else _lcse_generic(xp, x, dim)
        ctx.dim = dim
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        d = ctx.dim
        if isinstance(g, Tensor):
            # grad_i = sum_{j >= i} g_j exp(x_i - y_j), shifted by the last y for range
            c = y.narrow(d, y.shape[d] - 1, 1).detach()
            w = g * U._UNARY_FUNCS["exp"](c - y)
            rc = RA.flip(R.cumsum(RA.flip(w, [d]), d), [d])
            return rc * U._UNARY_FUNCS["exp"](x - c), None
        xp = namespace_of(x)
        xd, yd, gd = x.astype(np.float64), y.astype(np.float64), g.astype(np.float64)
        c = xp.take(yd, [-1], axis=d)
        c = xp.where(xp.isfinite(c), c, 0.0)
        with np.errstate(over="ignore", invalid="ignore"):
            w = gd * xp.exp(c - yd)
            rc = xp.flip(xp.cumsum(xp.flip(w, d), axis=d), d)
            r = rc * xp.exp(xd - c)
        return xp.nan_to_num(r, nan=0.0).astype(x.dtype), None


def _lcse_generic(xp, x, dim):
    m = xp.max(x, axis=dim, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0)
    return xp.log(xp.cumsum(xp.exp(x - m), axis=dim)) + m


def logcumsumexp(input, dim):
    if input._data.dtype.kind not in "fcV":  # V: bfloat16
        input = E.to_dtype(input, D.get_default_dtype())
    if input.dim() == 0:
        return input.clone()
    return LogCumSumExp.apply(input, _wrap_dim(dim, input.dim()))


def cummin(input, dim):
    """Running minimum and the (last) index where it was reached; differentiable in the values."""
    from .. import return_types
    xp = namespace_of(input._data)
    d = _wrap_dim(dim, max(input._data.ndim, 1))
    if input.dim() == 0:
        return return_types.cummin(input.clone(), _wrap(xp.zeros((), np.int64)))
    vals = xp.minimum.accumulate(input._data, axis=d)
    n = input._data.shape[d]
    ar = xp.arange(n).reshape([-1 if i == d else 1 for i in range(input._data.ndim)])
    idx = xp.maximum.accumulate(xp.where(input._data == vals, ar, 0), axis=d).astype(np.int64)
    return return_types.cummin(gather(input, d, _wrap(idx)), _wrap(idx))


def diff(input, n=1, dim=-1, prepend=None, append=None):
    """``n``-th forward difference along ``dim`` (bool tensors: ``!=``)."""
    if input.dim() == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    d = _wrap_dim(dim, input.dim())
    parts = [t for t in (prepend, input, append) if t is not None]
    x = J.cat(parts, d) if len(parts) > 1 else input
    for _ in range(n):
        L = x.shape[d]
        if L == 0:
            break
        a, b = S.narrow(x, d, 1, L - 1), S.narrow(x, d, 0, L - 1)
        x = Cmp.ne(a, b) if x.dtype is D.bool_ else a - b
    return x


def msort(input):
    return SO.sort(input, 0).values


def _quantile(input, q, dim, keepdim, interpolation, ignore_nan, name):
    if interpolation not in ("linear", "lower", "higher", "midpoint", "nearest"):
        raise ValueError(f"{name}() interpolation must be one of linear, lower, higher, midpoint or nearest. "
                         f"Got {interpolation}")
    if not input.is_floating_point():
        raise RuntimeError(f"{name}() input tensor must be either float or double dtype")
    scalar_q = not isinstance(q, Tensor)
    xp = namespace_of(input._data)
    qa = xp.asarray(q, dtype=input._data.dtype) if scalar_q else q._data
    if not scalar_q and (q.dtype is not input.dtype):
        raise RuntimeError(f"{name}() q tensor must be same dtype as the input tensor")
    if qa.ndim > 1:
        raise RuntimeError(f"{name}() q must be a scalar or 1D tensor")
    if bool(((qa < 0) | (qa > 1)).any()):
        raise RuntimeError(f"{name}() q values must be in the range [0, 1]")
    if dim is None:
        x = input.reshape(-1)
        d = 0
        out_shape = [1] * input.dim() if keepdim else []
    else:
        d = _wrap_dim(dim, max(input.dim(), 1))
        x = input if input.dim() else input.reshape(1)
        out_shape = list(x.shape)
        if keepdim:
            out_shape[d] = 1
        else:
            del out_shape[d]
        x = S.movedim(x, d, -1)
    if x.shape[-1] == 0:
        raise IndexError(f"{name}() input tensor must be non-empty")
    s = SO.sort(x, -1).values  # NaN sort last
    nanmask = xp.isnan(s._data)
    n = s.shape[-1]
    cnt = (n - nanmask.sum(-1, keepdims=True)) if ignore_nan else xp.full(s.shape[:-1] + (1,), n)
    qv = qa.reshape(-1)  # (k,)
    pos = (xp.maximum(cnt, 1) - 1).astype(np.float64) * qv.astype(np.float64)  # (..., k)
    lo = xp.floor(pos).astype(np.int64)
    hi = xp.ceil(pos).astype(np.int64)
    if interpolation == "lower":
        hi = lo
    elif interpolation == "higher":
        lo = hi
    elif interpolation == "nearest":
        lo = hi = xp.round(pos).astype(np.int64)
    vlo, vhi = gather(s, -1, _wrap(lo)), gather(s, -1, _wrap(hi))
    if interpolation == "linear":
        w = _wrap((pos - xp.floor(pos)).astype(input._data.dtype))
        r = E.lerp(vlo, vhi, w)
    elif interpolation == "midpoint":
        r = (vlo + vhi) * 0.5
    else:
        r = vlo
    bad = (cnt == 0) if ignore_nan else nanmask.any(-1, keepdims=True)
    if bool(bad.any()):
        r = E.where(_wrap(xp.broadcast_to(bad, r.shape)), float("nan"), r)
    # r: (..., k) -> (k, *out_shape) or out_shape
    r = S.movedim(r, -1, 0)
    if scalar_q and qa.ndim == 0:
        return r.reshape(out_shape)
    return r.reshape([qv.shape[0]] + out_shape)


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    if _AUTOCAST[0]:
        input, q = _cast_float32(input, q)
    return _quantile(input, q, dim, keepdim, interpolation, False, "quantile")


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    if _AUTOCAST[0]:
        input, q = _cast_float32(input, q)
    return _quantile(input, q, dim, keepdim, interpolation, True, "nanquantile")


def nanmedian(input, dim=None, keepdim=False):
    """The lower median of the non-NaN values (NaN where all are NaN); with ``dim``: (values, indices)."""
    from .. import return_types
    xp = namespace_of(input._data)
    if dim is None:
        x = input.reshape(-1)
        if x.numel() == 0:
            return _wrap(xp.asarray(np.nan, dtype=input._data.dtype))
        s, i = SO.sort(x, 0)
        k = max((int((~xp.isnan(x._data)).sum()) - 1) // 2, 0)
        return s[k]
    d = _wrap_dim(dim, max(input.dim(), 1))
    x = input if input.dim() else input.reshape(1)
    s, i = SO.sort(x, d)
    valid = (~xp.isnan(s._data)).sum(axis=d, keepdims=True)
    k = xp.maximum(valid - 1, 0) // 2
    vals, idx = gather(s, d, _wrap(k)), gather(i, d, _wrap(k))
    if not keepdim:
        vals, idx = vals.squeeze(d), idx.squeeze(d)
    if input.dim() == 0:
        vals, idx = vals.reshape(()), idx.reshape(())
    return return_types.nanmedian(vals, idx)


def mode(input, dim=-1, keepdim=False):
    """Most frequent value along ``dim`` (the smallest on ties) and the last index where it occurs."""
    from .. import return_types
    xp = namespace_of(input._data)
    d = _wrap_dim(dim, max(input.dim(), 1))
    x = input._data if input.dim() else input._data.reshape(1)
    a = xp.moveaxis(x, d, -1)
    lead = a.shape[:-1]
    n = a.shape[-1]
    rows = a.reshape(-1, n)
    s = xp.sort(rows, axis=-1)
    start = xp.ones(s.shape, dtype=bool)
    start[:, 1:] = s[:, 1:] != s[:, :-1]
    run = xp.cumsum(start, axis=1) - 1 + (xp.arange(rows.shape[0]) * n)[:, None]
    counts = xp.bincount(run.reshape(-1), minlength=rows.size)
    best = xp.argmax(counts[run], axis=1)  # first (smallest) value with the top count
    val = s[xp.arange(rows.shape[0]), best]
    ar = xp.arange(n)[None, :]
    idx = xp.max(xp.where(rows == val[:, None], ar, -1), axis=1).astype(np.int64).reshape(lead + (1,))
    idx = xp.moveaxis(idx, -1, d)
    src = input if input.dim() else input.reshape(1)
    vals = gather(src, d, _wrap(idx))
    idx_t = _wrap(idx)
    if not keepdim:
        vals, idx_t = vals.squeeze(d), idx_t.squeeze(d)
    if input.dim() == 0:
        vals, idx_t = vals.reshape(()), idx_t.reshape(())
    return return_types.mode(vals, idx_t)


def histc(input, bins=100, min=0, max=0):  # noqa: A002
    """Histogram of ``bins`` equal bins over [min, max] (the data's range when both are 0); no gradient."""
    if not input.is_floating_point():
        raise RuntimeError(f"\"histogram_cpu\" not implemented for '{str(input.dtype).split('.')[-1].capitalize()}'")
    if bins <= 0:
        raise RuntimeError("bins must be > 0")
    xp = namespace_of(input._data)
    a = input._data.reshape(-1)
    lo, hi = float(min), float(max)
    if lo > hi:
        raise RuntimeError("max must be larger than min")
    if lo == hi and a.size:
        lo, hi = float(a.min()), float(a.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    keep = a[(a >= lo) & (a <= hi)]
    b = ((keep - lo) * bins / (hi - lo)).astype(np.int64)
    b = xp.minimum(b, bins - 1)
    return _wrap(xp.bincount(b, minlength=bins).astype(input._data.dtype))


def bincount(input, weights=None, minlength=0):
    """Counts of each non-negative integer of a 1-D tensor (weighted sums with ``weights``)."""
    if input.dim() != 1 or input._data.dtype.kind not in "iu":
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    xp = namespace_of(input._data)
    a = input._data
    if a.size and int(a.min()) < 0:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is None:
        return _wrap(xp.bincount(a, minlength=minlength).astype(np.int64))
    if tuple(weights.shape) != tuple(input.shape):
        raise RuntimeError("weights should be 1-d and have the same length as input")
    out_dt = weights._data.dtype if weights._data.dtype.kind == "f" else np.float64
    if weights._data.dtype == np.float32:
        out_dt = np.float32
    elif weights._data.dtype.kind == "f":
        out_dt = np.float64
    return _wrap(xp.bincount(a, weights=weights._data.astype(np.float64), minlength=minlength).astype(out_dt))


def searchsorted(sorted_sequence, values, *, out_int32=False, right=False, side=None, sorter=None):
    """Insertion indices of ``values`` into the last dim of ``sorted_sequence``; no gradient."""
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}")
        if right and side == "left":
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, got side of left "
                               "while right was True")
        right = side == "right"
    seq = sorted_sequence._data
    xp = namespace_of(seq)
    scalar = not isinstance(values, Tensor)
    v = xp.asarray(values, dtype=seq.dtype) if scalar else values._data
    if sorter is not None:
        seq = xp.take_along_axis(seq, sorter._data, axis=-1)
    odt = np.int32 if out_int32 else np.int64
    side_ = "right" if right else "left"
    if seq.ndim == 1:
        return _wrap(xp.asarray(xp.searchsorted(seq, v, side=side_)).astype(odt))
    if scalar or v.shape[:-1] != seq.shape[:-1]:
        raise RuntimeError(f"torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
                           f"dimensions of boundaries tensor and input value tensor must match, but we got "
                           f"boundaries tensor {list(seq.shape)} and input value tensor {list(v.shape)}")
    cmp = (seq[..., None, :] <= v[..., :, None]) if right else (seq[..., None, :] < v[..., :, None])
    return _wrap(cmp.sum(-1).astype(odt))


def bucketize(input, boundaries, *, out_int32=False, right=False):
    if boundaries.dim() != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({boundaries.dim()})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def _trap_dx(y, x, dx, d):
    if x is not None:
        if x.dim() == 1:
            shape = [1] * y.dim()
            shape[d] = -1
            x = x.reshape(shape)
        return diff(x, dim=d if x.dim() == y.dim() else -1)
    return 1.0 if dx is None else dx


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """Integral of ``y`` along ``dim`` by the trapezoidal rule (sample points ``x`` or spacing ``dx``)."""
    if x is not None and dx is not None:
        raise TypeError("trapezoid() received an invalid combination of arguments: pass x or dx, not both")
    d = _wrap_dim(dim, y.dim())
    L = y.shape[d]
    if L == 0:
        return R.sum(y, d)
    h = _trap_dx(y, x, dx, d)
    mid = (S.narrow(y, d, 1, L - 1) + S.narrow(y, d, 0, L - 1)) * h
    return R.sum(mid, d) / 2


def trapz(y, x=None, *, dx=None, dim=-1):
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        return trapezoid(y, dx=x, dim=dim)
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    d = _wrap_dim(dim, y.dim())
    L = y.shape[d]
    h = _trap_dx(y, x, dx, d)
    mid = (S.narrow(y, d, 1, L - 1) + S.narrow(y, d, 0, L - 1)) * h
    return R.cumsum(mid, d) / 2


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """Pairwise p-norm distances between the rows of ``x1`` (..., P, M) and ``x2`` (..., R, M)."""
    if _AUTOCAST[0]:
        return _float32_call(cdist, x1, x2, p, compute_mode)
    if x1.dim() < 2 or x2.dim() < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {x1.dim()}D, X2 got: {x2.dim()}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: {x2.shape[-1]}")
    if p < 0:
        raise RuntimeError(f"cdist only supports non-negative p values, got {p}")
    from ..linalg import vector_norm
    return vector_norm(S.unsqueeze(x1, -2) - S.unsqueeze(x2, -3), p, -1)


def renorm(input, p, dim, maxnorm):
    """Sub-tensors along ``dim`` whose p-norm exceeds ``maxnorm`` are scaled down to it."""
    if p <= 0:
        raise RuntimeError(f"renorm: non-positive-norm not supported, got p={p}")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    d = _wrap_dim(dim, input.dim())
    from ..linalg import vector_norm
    others = tuple(i for i in range(input.dim()) if i != d)
    norms = vector_norm(input, p, others, True) if others else U.abs(input)
    factor = E.where(norms > maxnorm, maxnorm / (norms + 1e-7), 1.0)
    return input * factor


STATS_FUNCS = dict(logcumsumexp=logcumsumexp, cummin=cummin, diff=diff, msort=msort, quantile=quantile,
                   nanquantile=nanquantile, nanmedian=nanmedian, mode=mode, histc=histc, bincount=bincount,
                   renorm=renorm)
