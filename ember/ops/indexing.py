"""Indexing: ``__getitem__``/``__setitem__`` (basic, advanced, boolean mask), index_put, masked ops, nonzero, take."""
from __future__ import annotations

import numpy as np

from .._tensor import Tensor, _wrap
from ..autograd.function import Function
from ..backends import namespace_of, scatter_at
from . import _bw as B


def _convert_index(idx, shape):
    """Turn a PyTorch index into a NumPy one; reports whether it is basic (a view)."""
    if not isinstance(idx, tuple):
        idx = (idx,)
    out = []
    basic = True
    for i in idx:
        if isinstance(i, Tensor):
            a = i._data
            if a.dtype.kind not in "biu":
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            if a.dtype == np.uint8:
                a = a.astype(bool)
            if a.ndim == 0 and a.dtype.kind in "iu":
                out.append(int(a))
                continue
            out.append(a)
            basic = False
        elif isinstance(i, (list, np.ndarray)):
            a = np.asarray(i)
            if a.dtype.kind == "f":
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            out.append(a if a.dtype.kind != "O" else np.asarray([int(v) for v in i]))
            basic = False
        elif i is None or i is Ellipsis or isinstance(i, slice):
            if isinstance(i, slice) and i.step is not None and i.step <= 0:
                raise ValueError("step must be greater than zero")
            out.append(i)
        elif isinstance(i, (bool, np.bool_)):
            out.append(bool(i))
            basic = False
        elif isinstance(i, (int, np.integer)):
            out.append(int(i))
        else:
            raise TypeError("only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are "
                            f"valid indices (got {type(i).__name__})")
    return tuple(out), basic


class Select(Function):
    """Basic indexing (ints, slices, None, Ellipsis): a view."""

    raw = True
    node_name = "SliceBackward0"

    @staticmethod
    def forward(ctx, x, idx):
        ctx.shape, ctx.dtype, ctx.idx = x.shape, x.dtype, idx
        r = x[idx]
        if type(r) is not type(x):  # a NumPy scalar is a copy: take the 0-d view instead
            r = x[(idx if type(idx) is tuple else (idx,)) + (Ellipsis,)]
        return r

    @staticmethod
    def backward(ctx, g):
        if isinstance(g, Tensor):
            from .creation import zeros
            z = zeros(*ctx.shape, dtype=g.dtype, device=g.device)
            return IndexPut.apply(z, ctx.idx, g, False), None
        z = namespace_of(g).zeros(ctx.shape, dtype=g.dtype)
        z[ctx.idx] = g
        return z, None


class SelectInt(Select):
    node_name = "SelectBackward0"


class _UnsqueezeView(Select):
    node_name = "UnsqueezeBackward0"


class _AliasView(Select):
    node_name = "AliasBackward0"


def _basic_fn(nidx, shape, bare):
    """PyTorch applies a basic index one element at a time, skipping slices that keep a whole
    dim; the last one that does something names the grad_fn (int: Select, None: Unsqueeze,
    slice: Slice; nothing: Alias). A bare slice (not in a tuple) is always applied."""
    if bare and type(nidx[0]) is slice:
        return Select
    consumed = sum(1 for i in nidx if i is not None and i is not Ellipsis)
    dims, d = [], 0
    for i in nidx:
        if i is Ellipsis:
            d += len(shape) - consumed
            dims.append(None)
        elif i is None:
            dims.append(None)
        else:
            dims.append(d)
            d += 1
    for i, d in zip(reversed(nidx), reversed(dims)):
        if type(i) is int:
            return SelectInt
        if i is None:
            return _UnsqueezeView
        if type(i) is slice and not (i.start in (None, 0) and i.step in (None, 1)
                                     and (i.stop is None or i.stop >= shape[d])):
            return Select
    return _AliasView


class Index(Function):
    """Advanced indexing (integer arrays, masks): a copy; backward scatters with accumulation."""

    raw = True
    node_name = "IndexBackward0"

    @staticmethod
    def forward(ctx, x, idx):
        ctx.shape, ctx.idx = x.shape, idx
        return x[idx]

    @staticmethod
    def backward(ctx, g):
        _check_indices(ctx)
        if isinstance(g, Tensor):
            from .creation import zeros
            z = zeros(*ctx.shape, dtype=g.dtype, device=g.device)
            return IndexPut.apply(z, ctx.idx, g, True), None
        xp = namespace_of(g)
        z = xp.zeros(ctx.shape, dtype=g.dtype)
        xp.add.at(z, ctx.idx, g) if xp is np else _cupy_add_at(xp, z, ctx.idx, g)
        return z, None


def _cupy_add_at(xp, z, idx, g):
    scatter_at("add", z, idx, g)


def _add_at(z, idx, g):
    """``z[idx] += g`` with repeated indices accumulating, on NumPy or CuPy arrays."""
    scatter_at("add", z, idx, g)


def _index_error(e, shape):
    msg = str(e)
    if "out of bounds" in msg:
        import re
        m = re.search(r"index (-?\d+) is out of bounds for axis (\d+) with size (\d+)", msg)
        if m:
            raise IndexError(f"index {m.group(1)} is out of bounds for dimension {m.group(2)} with size {m.group(3)}") from None
    raise IndexError(msg) from None


def getitem(self: Tensor, idx) -> Tensor:
    if type(idx) is int and self._data.ndim:
        n = self._data.shape[0]
        if not -n <= idx < n:
            raise IndexError(f"index {idx} is out of bounds for dimension 0 with size {n}")
        r = SelectInt.apply(self, idx)
        r._vc = self._vc
        root = r._base = self if self._base is None else self._base
        r._vv = root._gfn
        if self._mv and r._rg:
            r._mv = True
        return r
    if self._data.ndim == 0 and not (idx is None or idx is Ellipsis or (isinstance(idx, tuple) and all(i is None or i is Ellipsis for i in idx))):
        if not (isinstance(idx, Tensor) and idx._data.dtype == np.bool_):
            raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` "
                             "in C++ to convert a 0-dim tensor to a number")
    nidx, basic = _convert_index(idx, self._data.shape)
    try:
        if basic:
            r = _basic_fn(nidx, self._data.shape, not isinstance(idx, tuple)).apply(self, nidx)
            r._vc = self._vc
            root = r._base = self if self._base is None else self._base
            r._vv = root._gfn
            if self._mv and r._rg:
                r._mv = True  # still a view of one of several views (see join._multi_view)
            return r
        return _guard_indices(Index.apply(self, nidx), idx if type(idx) is tuple else (idx,))
    except IndexError as e:
        _index_error(e, self._data.shape)


class IndexPut(Function):
    """``out = x.clone(); out[idx] = v`` (or ``+=`` with accumulate): differentiable in x and v."""

    raw = True
    node_name = "IndexPutBackward0"

    @staticmethod
    def forward(ctx, x, idx, v, accumulate):
        out = x.copy()
        vv = v.astype(x.dtype, copy=False) if hasattr(v, "astype") else v
        if accumulate:
            xp = namespace_of(x)
            if xp is np:
                np.add.at(out, idx, vv)
            else:
                _cupy_add_at(xp, out, idx, vv)
        else:
            out[idx] = vv
        ctx.idx, ctx.accumulate = idx, accumulate
        ctx.vshape = v.shape if hasattr(v, "shape") else ()
        ctx.sel_shape = x[idx].shape
        return out

    @staticmethod
    def backward(ctx, g):
        _check_indices(ctx)
        need = ctx.needs_input_grad
        gx = gv = None
        if need[0]:
            if ctx.accumulate:
                gx = g
            elif isinstance(g, Tensor):
                from .creation import zeros
                gx = IndexPut.apply(g, ctx.idx, zeros(*ctx.sel_shape, dtype=g.dtype, device=g.device), False)
            else:
                gx = g.copy()
                gx[ctx.idx] = 0
        if need[2]:
            sel = g[ctx.idx] if not isinstance(g, Tensor) else Index.apply(g, ctx.idx)
            gv = B.sum_to(sel, ctx.vshape)
        return gx, None, gv, None


def setitem(self: Tensor, idx, value) -> None:
    """``self[idx] = value`` in place; repeated indices write once (no accumulation)."""
    from .inplace import inplace
    nidx, basic = _convert_index(idx, self._data.shape)
    if isinstance(value, Tensor):
        if value._data.dtype != self._data.dtype:
            value = value.to(self.dtype)
    elif not isinstance(value, (int, float, bool, complex)):
        from .creation import tensor
        value = tensor(value, dtype=self.dtype)
    from ..autograd.grad_mode import state
    if state.enabled and self._rg and self._gfn is None and _setitem_views(nidx, self._data.shape):
        # PyTorch writes through a view made by the basic part of the index
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")
    self._check_inplace()
    try:
        if state.enabled and (self.requires_grad or (isinstance(value, Tensor) and value.requires_grad)):
            r = (_CopySlices if basic else IndexPut).apply(self, nidx, value, False)
            inplace(self, r if basic else _guard_indices(r, idx if type(idx) is tuple else (idx,)))
            return
        v = value._data if isinstance(value, Tensor) else value
        self._data[nidx] = v
    except IndexError as e:
        _index_error(e, self._data.shape)
    except ValueError as e:
        raise RuntimeError(f"shape mismatch: value tensor of shape {list(getattr(value, 'shape', []))} cannot be "
                           f"broadcast to indexing result ({e})") from None
    self._vc[0] += 1


def _setitem_views(nidx, shape) -> bool:
    """Does ``x[nidx] = v`` write through a view in PyTorch? It does when the index holds an int,
    None, or a slice that does not keep its whole dim (full slices and advanced indices do not)."""
    consumed = sum(getattr(i, "ndim", 1) if not isinstance(i, bool) else 0
                   for i in nidx if i is not None and i is not Ellipsis)
    d = 0
    for i in nidx:
        if i is Ellipsis:
            d += len(shape) - consumed
        elif i is None or type(i) is int:
            return True
        elif type(i) is slice:
            if not (i.start in (None, 0) and i.step in (None, 1) and (i.stop is None or i.stop >= shape[d])):
                return True
            d += 1
        elif not isinstance(i, bool):
            d += getattr(i, "ndim", 1) if getattr(i, "dtype", None) == np.bool_ else 1
    return False


class _CopySlices(IndexPut):
    """``x[basic_index] = v``: PyTorch copies into a view of x and names the node CopySlices."""

    node_name = "CopySlices"


_CopySlices._node_cls.name = lambda node: "torch::autograd::CopySlices"  # PyTorch's C++ node name


def index_put(input, indices, values, accumulate=False):
    nidx, _ = _convert_index(tuple(indices), input._data.shape)
    return _guard_indices(IndexPut.apply(input, nidx, values, accumulate), tuple(indices))


def index_put_(input, indices, values, accumulate=False):
    from .inplace import inplace
    return inplace(input, index_put(input, indices, values, accumulate))


# --------------------------------------------------------------------------- index arguments
def _check_index(index: Tensor, name):
    if not isinstance(index, Tensor):
        raise TypeError(f"{name}(): argument 'index' must be Tensor, not {type(index).__name__}")
    if index._data.dtype != np.int64:
        if index._data.dtype.kind in "iu":
            return index._data.astype(np.int64)
        raise RuntimeError(f"{name}(): Expected dtype int64 for index")
    return index._data


def _index_arg(index: Tensor, idx):
    """The index as a Function argument: the user's tensor itself (or a view sharing its version
    counter) when ``idx`` is its memory, so that an in-place change to the index before backward
    raises PyTorch's "modified by an inplace operation" error instead of giving a wrong gradient."""
    d = index._data
    if idx is d:
        return index
    t = _wrap(idx)
    if idx.base is not None and (idx.base is d or idx.base is d.base):
        t._vc = index._vc
    return t


def _guard_indices(out: Tensor, idx) -> Tensor:
    """Remember the versions of the index tensors inside ``idx`` (a converted index tuple) on
    ``out``'s node; ``_check_indices`` compares them at backward, as PyTorch's saved indices do."""
    node = out._gfn
    if node is not None and idx:
        guard = [(t, t._vc[0]) for t in idx if isinstance(t, Tensor)]
        if guard:
            node.__dict__["_index_guard"] = guard
    return out


def _check_indices(ctx):
    guard = ctx.__dict__.get("_index_guard")
    if guard:
        from ..autograd.function import _raise_modified
        for t, v in guard:
            if t._vc[0] != v:
                _raise_modified(t._data, t._vc[0], v, None, 0)


class MaskedFill(Function):
    raw = True
    node_name = "MaskedFillBackward0"

    @staticmethod
    def forward(ctx, x, mask, value):
        xp = namespace_of(x)
        ctx.save_for_backward(mask)
        ctx.vshape = value.shape if hasattr(value, "shape") else None
        return xp.where(mask, xp.asarray(value, dtype=x.dtype), x)

    @staticmethod
    def backward(ctx, g):
        (mask,) = ctx.saved_tensors
        gx = B.where(mask, 0 * g, g) if ctx.needs_input_grad[0] else None
        gv = None
        if ctx.vshape is not None and ctx.needs_input_grad[2]:
            gv = B.where(mask, g, 0 * g).sum()
        return gx, None, gv


def masked_fill(input: Tensor, mask: Tensor, value) -> Tensor:
    if not isinstance(mask, Tensor) or mask._data.dtype != np.bool_:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{mask.dtype if isinstance(mask, Tensor) else type(mask).__name__}")
    try:
        np.broadcast_shapes(mask._data.shape, input._data.shape)
    except ValueError:
        raise RuntimeError(f"The size of tensor a ({input._data.shape[-1]}) must match the size of tensor b "
                           f"({mask._data.shape[-1]}) at non-singleton dimension") from None
    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise RuntimeError("masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                               f"{value._data.ndim} dimension(s).")
        if input._data.dtype.kind in "iub" and value._data.dtype.kind == "f":
            pass
    out = MaskedFill.apply(input, mask, value)
    if tuple(out.shape) != tuple(input.shape):
        raise RuntimeError("masked_fill: mask broadcast beyond the input's shape")
    return out


def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    shape = np.broadcast_shapes(input._data.shape, mask._data.shape)
    return getitem(input.expand(shape), mask.expand(shape))


def masked_scatter(input, mask, source):
    out = input._data.copy()
    m = np.broadcast_to(mask._data, out.shape)
    out[m] = source._data.reshape(-1)[: int(m.sum())]
    return _wrap(out)


def nonzero(input: Tensor, *, as_tuple: bool = False):
    xp = namespace_of(input._data)
    nz = xp.nonzero(input._data if input._data.ndim else input._data.reshape(1))
    if as_tuple:
        return tuple(_wrap(a.astype(np.int64)) for a in nz)
    return _wrap(xp.stack(nz, axis=1).astype(np.int64) if nz else xp.zeros((0, 0), np.int64))


def argwhere(input):
    return nonzero(input)


class Take(Function):
    raw = True
    node_name = "TakeBackward0"

    @staticmethod
    def forward(ctx, x, idx):
        ctx.shape = x.shape
        ctx.save_for_backward(idx)
        return x.reshape(-1)[idx]

    @staticmethod
    def backward(ctx, g):
        (idx,) = ctx.saved_tensors
        if isinstance(g, Tensor):
            from .creation import zeros
            z = zeros(int(np.prod(ctx.shape)), dtype=g.dtype, device=g.device)
            return IndexPut.apply(z, (idx._data,), g, True).reshape(ctx.shape), None
        xp = namespace_of(g)
        z = xp.zeros(int(np.prod(ctx.shape)), g.dtype)
        _add_at(z, idx, g)
        return z.reshape(ctx.shape), None


def take(input: Tensor, index: Tensor) -> Tensor:
    idx = _check_index(index, "take")
    n = input._data.size
    if idx.size and (int(idx.max()) >= n or int(idx.min()) < -n):
        raise IndexError(f"out of range: tried to access index {int(idx.max())} on a tensor of {n} elements.")
    return Take.apply(input, _index_arg(index, idx))
