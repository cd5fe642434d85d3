"""Joining and splitting tensors: cat, stack and the *stack family, atleast_*, split, chunk, tensor_split, unbind."""
from __future__ import annotations

from .._tensor import Tensor, _wrap_dim
from ..autograd.function import Function
from ..backends import namespace_of
from .shape import _share_vc


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
