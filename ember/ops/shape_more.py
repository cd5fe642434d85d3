"""Shape and indexing ops composed from the differentiable primitives of ``shape.py``, ``join.py`` and
``indexing.py``: ``ravel select unfold rot90 diagflat vsplit hsplit dsplit
split_with_sizes cartesian_prod combinations block_diag vander select_scatter slice_scatter
diagonal_scatter as_strided fill_diagonal_ index_reduce is_same_size``."""
from __future__ import annotations

import itertools

import numpy as np

from .. import _dtype as D
from .._tensor import _wrap, _wrap_dim
from ..backends import namespace_of
from . import indexing as I
from . import join as J
from . import rearrange as RA
from . import scatter_gather as SG
from . import shape as S


def ravel(input):
    return S.reshape(input, -1)


def select(input, dim, index):
    """``input`` indexed at ``index`` along ``dim`` (a view; the dim is removed)."""
    n = input.dim()
    if n == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = _wrap_dim(dim, n)
    size = input.shape[d]
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(input.shape)} at "
                         f"dimension {d}")
    return input[(slice(None),) * d + (index,)]


def unfold(input, dimension, size, step):
    """All slices of ``size`` elements, ``step`` apart, along ``dimension`` (a new last dim)."""
    n = max(input.dim(), 1)
    d = _wrap_dim(dimension, n)
    length = input.shape[d] if input.dim() else 1
    if size > length:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {length} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    if input.dim() == 0:
        return input.reshape(1)
    count = (length - size) // step + 1
    from .creation import arange
    idx = (arange(count, device=input.device) * step).unsqueeze(1) + arange(size, device=input.device)
    x = S.movedim(input, d, -1)  # (..., L)
    g = x[..., idx.reshape(-1)]  # (..., count*size)
    g = g.reshape(tuple(x.shape[:-1]) + (count, size))
    return S.movedim(g, -2, d)


def rot90(input, k=1, dims=(0, 1)):
    """Rotate by 90 degrees ``k`` times in the plane ``dims`` (from the first towards the second)."""
    dims = list(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    n = input.dim()
    if n < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {n}")
    d0, d1 = _wrap_dim(dims[0], n), _wrap_dim(dims[1], n)
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {d0} and dim1 = {d1}")
    k = k % 4
    if k == 1:
        return S.transpose(RA.flip(input, [d1]), d0, d1)
    if k == 2:
        return RA.flip(input, [d0, d1])
    if k == 3:
        return RA.flip(S.transpose(input, d0, d1), [d1])
    return input.clone()


def diagflat(input, offset=0):
    from .linalg import diag
    return diag(ravel(input), offset)


def _dir_split(input, indices_or_sections, dim, name, min_dim):
    if input.dim() < min_dim:
        raise RuntimeError(f"torch.{name} requires a tensor with at least {min_dim} dimension, but got a tensor "
                           f"with {input.dim()} dimensions!")
    if isinstance(indices_or_sections, int):
        if input.shape[dim] % indices_or_sections:
            raise RuntimeError(f"torch.{name} attempted to split along dimension {dim}, but the size of the "
                               f"dimension {input.shape[dim]} is not divisible by the split_size "
                               f"{indices_or_sections}!")
    return J.tensor_split(input, indices_or_sections, dim)


def vsplit(input, indices_or_sections):
    return _dir_split(input, indices_or_sections, 0, "vsplit", 2)


def hsplit(input, indices_or_sections):
    return _dir_split(input, indices_or_sections, 1 if input.dim() > 1 else 0, "hsplit", 1)


def dsplit(input, indices_or_sections):
    return _dir_split(input, indices_or_sections, 2, "dsplit", 3)


def split_with_sizes(input, split_sizes, dim=0):
    d = _wrap_dim(dim, input.dim())
    if sum(split_sizes) != input.shape[d]:
        raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {input.shape[d]} (input tensor's "
                           f"size at dimension {d}), but got split_sizes={list(split_sizes)}")
    return J.split(input, list(split_sizes), d)


def cartesian_prod(*tensors):
    """Every combination of one element from each 1-D tensor, as rows."""
    for t in tensors:
        if t.dim() != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(t.shape)}")
    if len(tensors) == 1:
        return tensors[0]
    grids = RA.meshgrid(*tensors, indexing="ij")
    return J.stack([g.reshape(-1) for g in grids], 1)


def combinations(input, r=2, with_replacement=False):
    """Length-``r`` combinations of a 1-D tensor's elements, as rows (itertools order)."""
    if input.dim() != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    n = input.shape[0]
    it = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    idx = np.array(list(it(range(n), r)), dtype=np.int64).reshape(-1, r)
    if r == 0 or idx.size == 0:
        from .creation import empty
        return empty((0,) if r == 0 else (0, r), dtype=input.dtype, device=input.device)
    from .creation import tensor
    return input[tensor(idx.reshape(-1), device=input.device)].reshape(-1, r)


def block_diag(*tensors):
    """A block-diagonal matrix from 0-, 1- or 2-D tensors (rows padded with zeros, then concatenated)."""
    mats = []
    for i, t in enumerate(tensors):
        if t.dim() > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {i} has "
                               f"{t.dim()} dimensions")
        mats.append(t.reshape(1, -1) if t.dim() < 2 else t)
    from .creation import zeros
    if not mats:
        return zeros((1, 0))
    dt = mats[0].dtype
    for m in mats[1:]:
        dt = D.promote_types(dt, m.dtype)
    rows = sum(m.shape[0] for m in mats)
    cols = sum(m.shape[1] for m in mats)
    parts, c = [], 0
    for m in mats:
        h, w = m.shape
        dev = m.device
        parts.append(J.cat([zeros((h, c), dtype=dt, device=dev), m.to(dt),
                            zeros((h, cols - c - w), dtype=dt, device=dev)], 1))
        c += w
    del rows
    return J.cat(parts, 0)


def vander(x, N=None, increasing=False):
    """Vandermonde matrix of a 1-D tensor: columns are powers ``x ** k``."""
    if x.dim() != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    n = x.shape[0] if N is None else N
    if n < 0:
        raise RuntimeError("N must be non-negative.")
    from .creation import ones
    from .reduction import cumprod
    if n == 0:
        return x.new_zeros((x.shape[0], 0))
    xx = x if x.dtype.is_floating_point or x.is_complex() else x.to(D.int64)
    cols = [ones((x.shape[0], 1), dtype=xx.dtype, device=x.device)]
    if n > 1:
        cols.append(cumprod(xx.unsqueeze(1).expand(x.shape[0], n - 1), 1))
    v = J.cat(cols, 1)
    return v if increasing else RA.flip(v, [1])


def _scatter_into(input, src, index):
    """A copy of ``input`` whose region ``index`` holds ``src``; differentiable in both."""
    from .elementwise import clone
    region = input._data[index].shape
    if tuple(region) != tuple(src.shape):
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size = {list(src.shape)}, "
                           f"slice size = {list(region)}")
    out = clone(input)
    out[index] = src
    return out


def select_scatter(input, src, dim, index):
    d = _wrap_dim(dim, input.dim())
    return _scatter_into(input, src, (slice(None),) * d + (index,))


def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    d = _wrap_dim(dim, input.dim())
    return _scatter_into(input, src, (slice(None),) * d + (slice(start, end, step),))


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    """A copy of ``input`` whose diagonal (``offset``, ``dim1``, ``dim2``) holds ``src``."""
    from .elementwise import clone
    xp = namespace_of(input._data)
    want = xp.diagonal(input._data, offset, dim1, dim2).shape
    if tuple(want) != tuple(src.shape):
        raise RuntimeError(f"expected src to have a size equal to the diagonal of self. src size = "
                           f"{list(src.shape)}, diagonal size = {list(want)}")
    n = input.dim()
    d1, d2 = _wrap_dim(dim1, n), _wrap_dim(dim2, n)
    k = want[-1]
    rows = xp.arange(k) + max(-offset, 0)
    cols = xp.arange(k) + max(offset, 0)
    out = clone(S.movedim(input, (d1, d2), (n - 2, n - 1)))
    out[..., _wrap(rows), _wrap(cols)] = src
    return S.movedim(out, (n - 2, n - 1), (d1, d2))


def as_strided(input, size, stride, storage_offset=0):
    """A view with the given sizes and strides (in elements) over the input's storage; differentiable
    (the gradient is scattered back by index, so overlapping windows accumulate)."""
    size, stride = tuple(size), tuple(stride)
    if len(size) != len(stride):
        raise RuntimeError(f"mismatch in length of strides and shape: {len(size)} vs {len(stride)}")
    numel = input.numel()
    xp = namespace_of(input._data)
    flat_idx = xp.full(size, storage_offset, dtype=np.int64)
    for k, (n, s) in enumerate(zip(size, stride)):
        flat_idx = flat_idx + (xp.arange(n, dtype=np.int64) * s).reshape([-1 if i == k else 1 for i in range(len(size))])
    if flat_idx.size and (int(flat_idx.max()) >= numel or int(flat_idx.min()) < 0):
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {storage_offset} "
                           f"out of bounds for storage of size {numel}")
    base = S.contiguous(input).reshape(-1)
    return I.take(base, _wrap(flat_idx))


def fill_diagonal_(self, fill_value, wrap=False):
    """Fill the main diagonal in place (all dims equal, or a tall 2-D matrix, with ``wrap``)."""
    n = self.dim()
    if n < 2:
        raise RuntimeError("dimensions must larger than 1")
    if n > 2 and len(set(self.shape)) != 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    xp = namespace_of(self._data)
    if n == 2:
        h, w = self.shape
        step = w + 1
        stop = h * w if wrap else min(h, w) * w
        flat = xp.arange(0, stop, step)
        if wrap:
            flat = flat[(flat // w) < h]
        idx = (_wrap(flat // w), _wrap(flat % w))
    else:
        ar = xp.arange(self.shape[0])
        idx = tuple(_wrap(ar) for _ in range(n))
    return I.index_put_(self, idx, _wrap(xp.asarray(fill_value, dtype=self._data.dtype)))


def index_reduce(input, dim, index, source, reduce, *, include_self=True):
    """Reduce ``source`` slices into ``input`` at ``index`` along ``dim`` ('prod', 'mean', 'amax', 'amin')."""
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or amin but got {reduce}.")
    d = _wrap_dim(dim, input.dim())
    if index.dim() > 1:
        raise IndexError("index_reduce_(): Index is supposed to be a vector")
    shape = [1] * source.dim()
    shape[d] = -1
    full = index.reshape(shape).expand(tuple(source.shape))
    return SG.scatter_reduce(input, d, full, source, reduce, include_self=include_self)


def is_same_size(input, other):
    return tuple(input.shape) == tuple(other.shape)


SHAPE_FUNCS = dict(ravel=ravel, select=select, rot90=rot90, diagflat=diagflat, vsplit=vsplit, hsplit=hsplit,
                   dsplit=dsplit, split_with_sizes=split_with_sizes, select_scatter=select_scatter,
                   slice_scatter=slice_scatter, diagonal_scatter=diagonal_scatter, as_strided=as_strided,
                   index_reduce=index_reduce, is_same_size=is_same_size)
