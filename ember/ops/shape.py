"""Shape views: view, reshape, flatten, permute/transpose, expand, squeeze/unsqueeze, movedim, narrow."""
from __future__ import annotations

import math

import numpy as np

from .._tensor import Tensor, _wrap_dim
from ..autograd.function import Function
from ..backends import namespace_of
from . import _bw as B


def _dims(args):
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(args[0])
    return tuple(args)


def _infer_shape(shape, numel, opname="view"):
    shape = tuple(int(s) for s in shape)
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = 1
    for s in shape:
        if s != -1:
            if s < 0:
                raise RuntimeError(f"invalid shape dimension {s}")
            known *= s
    if -1 in shape:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


def _share_vc(out: Tensor, src: Tensor) -> Tensor:
    """Views share their base's version counter."""
    if out._data.base is not None or out._data is src._data:
        out._vc = src._vc
        root = out._base = src if src._base is None else src._base  # in-place checks need the view's base
        out._vv = root._gfn  # see ember.ops.view_inplace
        if src._mv and out._rg:
            out._mv = True  # a view of one of several views stays unwritable under grad
    return out


class View(Function):
    raw = True
    node_name = "ViewBackward0"

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.in_shape), None


def view(input: Tensor, *shape) -> Tensor:
    shape = _dims(shape)
    if len(shape) == 1 and not isinstance(shape[0], (int, np.integer)):
        from .elementwise import to_dtype
        return to_dtype(input, shape[0])  # view(dtype) of equal itemsize is rare: treat as a cast
    shape = _infer_shape(shape, input._data.size)
    if not input._data.flags.c_contiguous and input._data.size > 1:
        try:
            arr = input._data.view()
            arr.shape = shape  # raises if no view is possible
        except AttributeError:
            raise RuntimeError("view size is not compatible with input tensor's size and stride (at least one "
                               "dimension spans across two contiguous subspaces). Use .reshape(...) instead.") from None
    return _share_vc(View.apply(input, shape), input)


class UnsafeView(View):
    """``reshape`` that has to copy (the strides allow no view): the result owns its memory."""

    node_name = "UnsafeViewBackward0"

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return namespace_of(x).ascontiguousarray(x).reshape(shape)


def _viewable(arr, shape) -> bool:
    """Can ``arr`` be reshaped to ``shape`` without copying?"""
    if arr.flags.c_contiguous or arr.size <= 1:
        return True
    if isinstance(arr, np.ndarray) and _RESHAPE_HAS_COPY:
        try:
            arr.reshape(shape, copy=False)
        except ValueError:
            return False
        return True
    v = arr.view()
    try:
        v.shape = shape  # NumPy < 2.1 and CuPy: setting the shape refuses to copy
    except AttributeError:
        return False
    return True


_RESHAPE_HAS_COPY = tuple(int(p) for p in np.__version__.split(".")[:2]) >= (2, 1)


def reshape(input: Tensor, *shape) -> Tensor:
    """A view when the strides allow one, else a copy (as PyTorch)."""
    shape = _infer_shape(_dims(shape), input._data.size, "reshape")
    if _viewable(input._data, shape):
        return _share_vc(View.apply(input, shape), input)
    return UnsafeView.apply(input, shape)


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    nd = input._data.ndim
    if nd == 0:
        return reshape(input, 1)
    s = _wrap_dim(start_dim, nd)
    e = _wrap_dim(end_dim, nd)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return input
    shp = input._data.shape
    new = shp[:s] + (math.prod(shp[s:e + 1]),) + shp[e + 1:]
    return reshape(input, new)


def unflatten(input: Tensor, dim: int, sizes) -> Tensor:
    d = _wrap_dim(dim, input._data.ndim)
    shp = input._data.shape
    sizes = _infer_shape(tuple(sizes), shp[d], "unflatten")
    return reshape(input, shp[:d] + tuple(sizes) + shp[d + 1:])


class Permute(Function):
    raw = True
    node_name = "PermuteBackward0"

    @staticmethod
    def forward(ctx, x, perm):
        ctx.perm = perm
        return x.transpose(perm)

    @staticmethod
    def backward(ctx, g):
        inv = [0] * len(ctx.perm)
        for i, p in enumerate(ctx.perm):
            inv[p] = i
        return B.permute(g, inv), None


class Transpose(Permute):
    node_name = "TransposeBackward0"


class TNode(Permute):
    node_name = "TBackward0"


def permute(input: Tensor, *dims) -> Tensor:
    dims = _dims(dims)
    nd = input._data.ndim
    if len(dims) != nd:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does not match the length "
                           f"of the desired ordering of dimensions i.e. input.dim() = {nd} is not equal to len(dims) = {len(dims)}")
    perm = tuple(_wrap_dim(d, nd) for d in dims)
    if len(set(perm)) != nd:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return _share_vc(Permute.apply(input, perm), input)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    nd = input._data.ndim
    if nd == 0:
        return input
    d0, d1 = _wrap_dim(dim0, nd), _wrap_dim(dim1, nd)
    perm = list(range(nd))
    perm[d0], perm[d1] = perm[d1], perm[d0]
    return _share_vc(Transpose.apply(input, tuple(perm)), input)


swapaxes = swapdims = transpose


def t(input: Tensor) -> Tensor:
    nd = input._data.ndim
    if nd > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {nd}D")
    if nd < 2:
        return input
    return _share_vc(TNode.apply(input, (1, 0)), input)


def adjoint(input):
    return transpose(input, -2, -1)


def movedim(input: Tensor, source, destination) -> Tensor:
    nd = input._data.ndim
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    if len(src) != len(dst):
        raise RuntimeError("movedim: Invalid source or destination dims")
    src = [_wrap_dim(d, nd) for d in src]
    dst = [_wrap_dim(d, nd) for d in dst]
    order = [d for d in range(nd) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(input, order)


moveaxis = movedim


class Expand(Function):
    raw = True
    node_name = "ExpandBackward0"

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return namespace_of(x).broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, g):
        return B.sum_to(g, ctx.in_shape), None


def expand(input: Tensor, *sizes) -> Tensor:
    sizes = _dims(sizes)
    shp = input._data.shape
    if len(sizes) < len(shp):
        raise RuntimeError(f"expand(torch.FloatTensor{{{list(shp)}}}, size={list(sizes)}): the number of sizes provided "
                           f"({len(sizes)}) must be greater or equal to the number of dimensions in the tensor ({len(shp)})")
    lead = len(sizes) - len(shp)
    new = []
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise RuntimeError("expand: -1 is not allowed in a leading, non-existing dimension")
            new.append(s)
        else:
            cur = shp[i - lead]
            if s == -1:
                new.append(cur)
            elif cur != s and cur != 1:
                raise RuntimeError(f"The expanded size of the tensor ({s}) must match the existing size ({cur}) at "
                                   f"non-singleton dimension {i}.  Target sizes: {list(sizes)}.  Tensor sizes: {list(shp)}")
            else:
                new.append(s)
    new = tuple(new)
    if new == shp:
        return _share_vc(View.apply(input, new), input)  # PyTorch still records ExpandBackward0
    return _share_vc(Expand.apply(input, new), input)


def expand_as(input: Tensor, other: Tensor) -> Tensor:
    return expand(input, tuple(other.shape))


def broadcast_to(input: Tensor, size) -> Tensor:
    return expand(input, tuple(size))


def broadcast_tensors(*tensors):
    shape = np.broadcast_shapes(*[tuple(t.shape) for t in tensors])
    return tuple(expand(t, shape) for t in tensors)


def broadcast_shapes(*shapes):
    from .._tensor import Size
    try:
        return Size(np.broadcast_shapes(*[tuple(s) if not isinstance(s, int) else (s,) for s in shapes]))
    except ValueError as e:
        raise RuntimeError(f"Shape mismatch: objects cannot be broadcast to a single shape: {e}") from None


class Squeeze(Function):
    raw = True
    node_name = "SqueezeBackward0"

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.in_shape), None


class Unsqueeze(Squeeze):
    node_name = "UnsqueezeBackward0"


class SqueezeDim(Squeeze):
    node_name = "SqueezeBackward1"


class SqueezeDims(Squeeze):
    node_name = "SqueezeBackward2"


def squeeze(input: Tensor, dim=None) -> Tensor:
    shp = input._data.shape
    nd = len(shp)
    if dim is None:
        fn = Squeeze
        new = tuple(s for s in shp if s != 1)
    else:
        fn = SqueezeDim if isinstance(dim, int) else SqueezeDims
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        dims = {_wrap_dim(d, nd) for d in dims} if nd else set()
        new = tuple(s for i, s in enumerate(shp) if not (i in dims and s == 1))
    return _share_vc(fn.apply(input, new), input)


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    nd = input._data.ndim
    if not -nd - 1 <= dim <= nd:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-nd - 1}, {nd}], but got {dim})")
    d = dim + nd + 1 if dim < 0 else dim
    shp = input._data.shape
    return _share_vc(Unsqueeze.apply(input, shp[:d] + (1,) + shp[d:]), input)


def contiguous(input: Tensor, memory_format=None) -> Tensor:
    if input._data.flags.c_contiguous:
        return input
    from .elementwise import clone
    return clone(input)


class Narrow(Function):
    raw = True
    node_name = "SliceBackward0"

    @staticmethod
    def forward(ctx, x, dim, start, length):
        ctx.shape, ctx.dim, ctx.start, ctx.length = x.shape, dim, start, length
        return x[(slice(None),) * dim + (slice(start, start + length),)]

    @staticmethod
    def backward(ctx, g):
        pad = [(0, 0)] * len(ctx.shape)
        pad[ctx.dim] = (ctx.start, ctx.shape[ctx.dim] - ctx.start - ctx.length)
        if isinstance(g, Tensor):
            from ..nn.functional import pad as F_pad
            flat = []
            for lo, hi in reversed(pad):
                flat += [lo, hi]
            return F_pad(g, flat), None, None, None
        return namespace_of(g).pad(g, pad), None, None, None


def narrow(input: Tensor, dim: int, start, length: int) -> Tensor:
    d = _wrap_dim(dim, input._data.ndim)
    start = int(start)
    n = input._data.shape[d]
    if start < 0:
        start += n
    if not 0 <= start <= n or start + length > n or length < 0:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return _share_vc(Narrow.apply(input, d, start, length), input)
