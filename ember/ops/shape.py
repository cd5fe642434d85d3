"""Shape primitives: views (view, reshape, permute, transpose, expand, squeeze ...) and the ops that
join or split tensors (cat, stack, split, chunk, unbind), plus flip, roll, repeat, tril/triu."""
from __future__ import annotations

import math

import numpy as np

from .._tensor import Tensor, _wrap, _wrap_dim
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
        out._vv = root.grad_fn  # see ember.ops.view_inplace
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


# --------------------------------------------------------------------------- join / split
class Cat(Function):
    raw = True
    node_name = "CatBackward0"

    @staticmethod
    def forward(ctx, dim, *xs):
        ctx.sizes = [x.shape[dim] for x in xs]
        ctx.dim = dim
        return namespace_of(xs[0]).concatenate(xs, axis=dim)

    @staticmethod
    def backward(ctx, g):
        out = [None]
        start = 0
        need = ctx.needs_input_grad
        for i, s in enumerate(ctx.sizes):
            if need[i + 1]:
                idx = (slice(None),) * ctx.dim + (slice(start, start + s),)
                out.append(g[idx])
            else:
                out.append(None)
            start += s
        return tuple(out)


def _same_dtype(tensors):
    from .. import _dtype as D
    from .elementwise import to_dtype
    if len({type(t._data) for t in tensors}) > 1:
        from ..backends import same_device
        same_device(*tensors)
    dts = {t._data.dtype for t in tensors}
    if len(dts) == 1:
        return tensors
    rd = tensors[0].dtype
    for t in tensors[1:]:
        rd = D.promote_types(rd, t.dtype)
    return [to_dtype(t, rd) for t in tensors]


def cat(tensors, dim: int = 0, *, out=None) -> Tensor:
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("torch.cat(): expected a non-empty list of Tensors")
    for t in tensors:
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {tensors.index(t)} in argument 0, but got {type(t).__name__}")
    # legacy: 1-D empty tensors are skipped
    tensors = [t for t in tensors if not (t._data.ndim == 1 and t._data.size == 0)] or tensors[:1]
    ref = tensors[0]
    nd = ref._data.ndim
    if nd == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    d = _wrap_dim(dim, nd)
    for i, t in enumerate(tensors):
        if t._data.ndim != nd:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {nd} and {t._data.ndim}")
        for k in range(nd):
            if k != d and t._data.shape[k] != ref._data.shape[k]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. Expected size "
                                   f"{ref._data.shape[k]} but got size {t._data.shape[k]} for tensor number {i} in the list.")
    tensors = _same_dtype(tensors)
    r = Cat.apply(d, *tensors)
    if out is not None:
        out._data = r._data
        return out
    return r


concat = concatenate = cat


class Stack(Function):
    raw = True
    node_name = "StackBackward0"

    @staticmethod
    def forward(ctx, dim, *xs):
        ctx.dim = dim
        return namespace_of(xs[0]).stack(xs, axis=dim)

    @staticmethod
    def backward(ctx, g):
        n = g.shape[ctx.dim]
        need = ctx.needs_input_grad
        idx = (slice(None),) * ctx.dim
        return (None,) + tuple(g[idx + (i,)] if need[i + 1] else None for i in range(n))


def stack(tensors, dim: int = 0, *, out=None) -> Tensor:
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    shp = tensors[0]._data.shape
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got {type(t).__name__}")
        if t._data.shape != shp:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(shp)} at entry 0 and "
                               f"{list(t._data.shape)} at entry {i}")
    nd = len(shp) + 1
    if not -nd <= dim < nd:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-nd}, {nd - 1}], but got {dim})")
    d = dim + nd if dim < 0 else dim
    tensors = _same_dtype(tensors)
    return Stack.apply(d, *tensors)


def hstack(tensors):
    tensors = [atleast_1d(t) for t in tensors]
    return cat(tensors, 0 if tensors[0].dim() == 1 else 1)


def vstack(tensors):
    return cat([atleast_2d(t) for t in tensors], 0)


def dstack(tensors):
    return cat([atleast_3d(t) for t in tensors], 2)


def column_stack(tensors):
    return hstack([t.reshape(-1, 1) if t.dim() <= 1 else t for t in tensors])


def atleast_1d(t):
    return t.reshape(1) if t.dim() == 0 else t


def atleast_2d(t):
    return t.reshape(1, -1) if t.dim() < 2 else t


def atleast_3d(t):
    if t.dim() == 0:
        return t.reshape(1, 1, 1)
    if t.dim() == 1:
        return t.reshape(1, -1, 1)
    if t.dim() == 2:
        return t.unsqueeze(-1)
    return t


class Split(Function):
    """Split along ``dim`` into pieces of the given sizes (several outputs)."""

    raw = True
    node_name = "SplitBackward0"

    @staticmethod
    def forward(ctx, x, sizes, dim):
        ctx.shape, ctx.dtype, ctx.dim = x.shape, x.dtype, dim
        out, start = [], 0
        pre = (slice(None),) * dim
        for s in sizes:
            out.append(x[pre + (slice(start, start + s),)])
            start += s
        return tuple(out)

    @staticmethod
    def backward(ctx, *gs):
        if isinstance(gs[0], Tensor):
            return cat(list(gs), ctx.dim), None, None
        return namespace_of(gs[0]).concatenate(gs, axis=ctx.dim), None, None


class SplitWithSizes(Split):
    node_name = "SplitWithSizesBackward0"


def split(tensor: Tensor, split_size_or_sections, dim: int = 0):
    d = _wrap_dim(dim, tensor._data.ndim)
    n = tensor._data.shape[d]
    if isinstance(split_size_or_sections, int):
        s = split_size_or_sections
        if s <= 0 and n > 0:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {n}")
        sizes = [s] * (n // s) + ([n % s] if n % s else []) if s > 0 else [0]
        cls = Split
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != n:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size at "
                               f"dimension {d}), but got split_sizes={sizes}")
        cls = SplitWithSizes
    outs = cls.apply(tensor, sizes, d)
    outs = outs if isinstance(outs, tuple) else (outs,)
    for o in outs:
        _multi_view(_share_vc(o, tensor))
    return outs


def _multi_view(o: Tensor) -> None:
    """One of several views made by one node (split, chunk, unbind): PyTorch forbids writing into
    it in place while grad mode is on, since its node could not be rebased (Tensor._check_inplace)."""
    if o._rg and o._base is not None:
        o._mv = True


def chunk(input: Tensor, chunks: int, dim: int = 0):
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: " + str(chunks))
    d = _wrap_dim(dim, input._data.ndim)
    n = input._data.shape[d]
    size = -(-n // chunks) if n else 0
    if size == 0:
        return tuple(split(input, [0] * chunks if n == 0 else [n], d))
    return split(input, size, d)


def tensor_split(input: Tensor, indices_or_sections, dim: int = 0):
    d = _wrap_dim(dim, input._data.ndim)
    n = input._data.shape[d]
    if isinstance(indices_or_sections, int):
        k = indices_or_sections
        sizes = [n // k + (1 if i < n % k else 0) for i in range(k)]
    else:
        idx = [0] + list(indices_or_sections) + [n]
        sizes = [max(0, min(idx[i + 1], n) - min(idx[i], n)) for i in range(len(idx) - 1)]
    return split(input, sizes, d)


class Unbind(Function):
    raw = True
    node_name = "UnbindBackward0"

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        pre = (slice(None),) * dim
        return tuple(x[pre + (i,)] for i in range(x.shape[dim]))

    @staticmethod
    def backward(ctx, *gs):
        if isinstance(gs[0], Tensor):
            return stack(list(gs), ctx.dim), None
        return namespace_of(gs[0]).stack(gs, axis=ctx.dim), None


def unbind(input: Tensor, dim: int = 0):
    d = _wrap_dim(dim, input._data.ndim)
    if input._data.shape[d] == 0:
        return ()
    outs = Unbind.apply(input, d)
    outs = outs if isinstance(outs, tuple) else (outs,)
    for o in outs:
        _multi_view(_share_vc(o, input))
    return outs


class Flip(Function):
    raw = True
    node_name = "FlipBackward0"

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return namespace_of(x).flip(x, dims).copy()

    @staticmethod
    def backward(ctx, g):
        if isinstance(g, Tensor):
            return flip(g, ctx.dims), None
        return namespace_of(g).flip(g, ctx.dims), None


def flip(input: Tensor, dims) -> Tensor:
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    nd = input._data.ndim
    return Flip.apply(input, tuple(_wrap_dim(d, nd) for d in dims))


def fliplr(input):
    return flip(input, 1)


def flipud(input):
    return flip(input, 0)


class Roll(Function):
    raw = True
    node_name = "RollBackward0"

    @staticmethod
    def forward(ctx, x, shifts, dims):
        ctx.shifts, ctx.dims = shifts, dims
        return namespace_of(x).roll(x, shifts, dims)

    @staticmethod
    def backward(ctx, g):
        neg = tuple(-s for s in ctx.shifts) if isinstance(ctx.shifts, tuple) else -ctx.shifts
        if isinstance(g, Tensor):
            return roll(g, neg, ctx.dims), None, None
        return namespace_of(g).roll(g, neg, ctx.dims), None, None


def roll(input: Tensor, shifts, dims=None) -> Tensor:
    """Shift elements along ``dims`` with wrap-around; without dims, over the flattened tensor."""
    if dims is None:
        return Roll.apply(input, shifts if isinstance(shifts, int) else tuple(shifts)[0], None)
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    return Roll.apply(input, shifts, dims)


class Repeat(Function):
    raw = True
    node_name = "RepeatBackward0"

    @staticmethod
    def forward(ctx, x, reps):
        lead = len(reps) - x.ndim
        xs = x.reshape((1,) * lead + x.shape)
        ctx.xs_shape, ctx.in_shape, ctx.reps = xs.shape, x.shape, reps
        return namespace_of(x).tile(xs, reps)

    @staticmethod
    def backward(ctx, g):
        # view the output as (r0, s0, r1, s1, ...) and sum the repeat axes
        inter = []
        for r, s in zip(ctx.reps, ctx.xs_shape):
            inter += [r, s]
        gg = g.reshape(tuple(inter))
        axes = tuple(range(0, len(inter), 2))
        return gg.sum(axis=axes).reshape(ctx.in_shape), None


def repeat(input: Tensor, *sizes) -> Tensor:
    reps = _dims(sizes)
    if len(reps) < input._data.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor")
    return Repeat.apply(input, tuple(int(r) for r in reps))


def tile(input: Tensor, *dims) -> Tensor:
    reps = _dims(dims)
    if len(reps) < input._data.ndim:
        reps = (1,) * (input._data.ndim - len(reps)) + tuple(reps)
    return repeat(input, reps)


def repeat_interleave(input: Tensor, repeats, dim=None) -> Tensor:
    from .indexing import index_select
    from .creation import tensor
    if dim is None:
        input = reshape(input, -1)
        dim = 0
    d = _wrap_dim(dim, input._data.ndim)
    n = input._data.shape[d]
    reps = repeats._cpu_array() if isinstance(repeats, Tensor) else repeats
    idx = np.repeat(np.arange(n), reps)
    return index_select(input, d, tensor(idx))


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


class Tril(Function):
    raw = True
    node_name = "TrilBackward0"
    upper = False

    @classmethod
    def forward(cls, ctx, x, k):
        ctx.k = k
        xp = namespace_of(x)
        return xp.triu(x, k) if cls.upper else xp.tril(x, k)

    @classmethod
    def backward(cls, ctx, g):
        if isinstance(g, Tensor):
            return (triu(g, ctx.k) if cls.upper else tril(g, ctx.k)), None
        xp = namespace_of(g)
        return (xp.triu(g, ctx.k) if cls.upper else xp.tril(g, ctx.k)), None


class Triu(Tril):
    node_name = "TriuBackward0"
    upper = True


def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    if input._data.ndim < 2:
        raise RuntimeError("tril: input tensor must have at least 2 dimensions")
    return Tril.apply(input, diagonal)


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    if input._data.ndim < 2:
        raise RuntimeError("triu: input tensor must have at least 2 dimensions")
    return Triu.apply(input, diagonal)


def meshgrid(*tensors, indexing="ij"):
    ts = tensors[0] if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else tensors
    n = len(ts)
    shape = [t.numel() for t in ts]
    if indexing == "xy" and n >= 2:
        shape[0], shape[1] = shape[1], shape[0]
    out = []
    for i, t in enumerate(ts):
        s = [1] * n
        j = i
        if indexing == "xy" and n >= 2 and i < 2:
            j = 1 - i
        s[j] = -1
        out.append(expand(reshape(t, s), shape))
    return tuple(out)


def diag_embed_np(v):
    return _wrap(np.apply_along_axis(np.diag, -1, v._data))
