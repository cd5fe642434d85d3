"""In-place writes through views, the way PyTorch's autograd sees them (CopySlices / AsStrided).

A view (``a[1:]``, ``a.view(...)``, ``a.t()`` ...) shares memory and the version counter with its
base and remembers the base (``_base``, always the root) and the base's ``grad_fn`` its own
``grad_fn`` was built on (``_vv``). When an op writes in place into a view with grad mode on:

* the base gets a new ``grad_fn``, ``CopySlices``: "the old base, with the view's region replaced
  by the op's result". Its backward sends the gradient outside the region to the old base and the
  gradient inside the region to the op's result.
* the view's ``grad_fn`` becomes ``AsStridedBackward0`` of the new base (its region of the base).

Any other view of the same base is out of date once the base's ``grad_fn`` has changed (an in-place
op on the base or on another of its views); it gets the same ``AsStridedBackward0`` the next time it
enters the graph (``regenerate``), as PyTorch does lazily. (Writes under no_grad leave the graph,
and so the views' grad_fns, as they are: a view's backward does not depend on the values.)

A view is described by ``idx``: for every element of the view, the flat (C order) position of the
element it aliases in its base. It is worked out from the two arrays' strides and data pointers,
so every kind of view (slices with steps, integers, transposes, reshapes, chains) is handled the
same way, and nothing is recorded when a view is made: no cost off the in-place path.
"""
from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from ..autograd.function import Function
from ..autograd.grad_mode import state
from ..backends import namespace_of


def _ptr(arr) -> int:
    if type(arr) is np.ndarray:
        return arr.__array_interface__["data"][0]
    return int(arr.data.ptr)


def _extent(shape, strides):
    """Lowest and highest element offsets an array with these element strides reaches."""
    lo = hi = 0
    for n, s in zip(shape, strides):
        if n > 1:
            if s < 0:
                lo += (n - 1) * s
            else:
                hi += (n - 1) * s
    return lo, hi


def view_index(base, view):
    """int64 array of ``view``'s shape: the flat index into ``base`` of each element of ``view``
    (both backend arrays, ``view`` inside ``base``'s memory); None if ``view`` is not such a view."""
    isz = base.itemsize
    if view.dtype != base.dtype or any(s % isz for s in base.strides + view.strides):
        return None
    off = _ptr(view) - _ptr(base)
    if off % isz:
        return None
    off //= isz
    xp = namespace_of(base)
    strided = xp.lib.stride_tricks.as_strided
    if base.size == 0 or view.size == 0:
        return xp.zeros(view.shape, dtype=np.int64)
    eb = [s // isz for s in base.strides]
    if base.flags.c_contiguous:
        lo, span = 0, base.size
        lin = xp.arange(span, dtype=np.int64)
    else:
        # base element at memory offset m (relative to base's pointer) has flat index lin[m - lo]
        lo, hi = _extent(base.shape, eb)
        span = hi - lo + 1
        lin = xp.full(span, -1, dtype=np.int64)
        strided(lin[-lo:], base.shape, [s * 8 for s in eb])[...] = xp.arange(base.size, dtype=np.int64).reshape(
            base.shape)
    ev = [s // isz for s in view.strides]
    start = off - lo
    vlo, vhi = _extent(view.shape, ev)
    if start + vlo < 0 or start + vhi >= span:
        return None
    # as_strided from the element the view starts at: negative strides stay inside ``lin``
    idx = strided(lin[start:] if start + vlo >= 0 else lin, view.shape, [s * 8 for s in ev]).copy()
    if not base.flags.c_contiguous and bool((idx < 0).any()):
        return None
    return idx


def _flat_put(g_flat, idx, value):
    """``out = g_flat.clone(); out[idx] = value`` on arrays or (differentiably) on Tensors."""
    if isinstance(g_flat, Tensor):
        from .indexing import IndexPut
        return IndexPut.apply(g_flat, (idx,), value, False)
    out = g_flat.copy()
    out[idx] = value
    return out


class CopySlices(Function):
    """The base after an in-place op on its view: ``base`` outside the view, ``result`` inside."""

    raw = True
    node_name = "CopySlices"

    @staticmethod
    def forward(ctx, base, result, idx):
        ctx.idx, ctx.shape = idx.reshape(-1), base.shape
        ctx.rshape, ctx.rdtype = result.shape, result.dtype
        ctx.vshape = idx.shape
        return base  # already written in place

    @staticmethod
    def backward(ctx, g):
        need = ctx.needs_input_grad
        flat = g.reshape(-1) if isinstance(g, Tensor) else namespace_of(g).ravel(g)
        gbase = gres = None
        if need[0]:
            gbase = _flat_put(flat, ctx.idx, 0.0).reshape(ctx.shape)
        if need[1]:
            if isinstance(g, Tensor):
                from .indexing import Index
                gres = Index.apply(flat, (ctx.idx,))
            else:
                gres = flat[ctx.idx]
            gres = gres.reshape(ctx.vshape)
            if tuple(ctx.rshape) != tuple(ctx.vshape):
                from ._bw import sum_to
                gres = sum_to(gres, tuple(ctx.rshape))
            from ._bw import astype
            gres = astype(gres, ctx.rdtype)
        return gbase, gres, None


def _copy_slices_name(node) -> str:
    return "torch::autograd::CopySlices"  # what PyTorch's C++ node reports


CopySlices._node_cls.name = _copy_slices_name


class AsStridedView(Function):
    """A view's place in its base: backward scatters the view's gradient into base-shaped zeros."""

    raw = True
    node_name = "AsStridedBackward0"

    @staticmethod
    def forward(ctx, base, view, idx):
        ctx.idx, ctx.shape, ctx.size = idx.reshape(-1), base.shape, base.size
        return view

    @staticmethod
    def backward(ctx, g):
        if isinstance(g, Tensor):
            from .creation import zeros
            z = zeros(ctx.size, dtype=g.dtype, device=g.device)
            return _flat_put(z, ctx.idx, g.reshape(-1)).reshape(ctx.shape), None, None
        xp = namespace_of(g)
        z = xp.zeros(ctx.size, dtype=g.dtype)
        z[ctx.idx] = g.reshape(-1)
        return z.reshape(ctx.shape), None, None


def _point_at_base(view: Tensor, base: Tensor, idx) -> None:
    prev = state.enabled
    state.enabled = True  # also when brought up to date inside a backward pass
    try:
        v = AsStridedView.apply(base, view._data, idx)
    finally:
        state.enabled = prev
    view._gfn, view._output_nr, view._rg = v._gfn, 0, True
    view._vv = base._gfn


def rebase_view(view: Tensor, result: Tensor) -> bool:
    """After ``view`` was overwritten in place by ``result`` (which has a grad_fn): rebase its base's
    graph (CopySlices) and make the view a view of the new base. False if ``view`` cannot be
    mapped into its base's memory (the caller then treats it as a tensor of its own)."""
    base = view._base
    idx = view_index(base._data, view._data)
    if idx is None:
        return False
    old_edge = (view._gfn, view._output_nr) if view._gfn is not None else None
    cs = CopySlices.apply(base, result, idx)
    node = cs._gfn
    # PyTorch lists the old base, then the op's inputs other than the view it wrote into
    pub = tuple(result._gfn.next_functions)
    if pub and (pub[0][0] is None if old_edge is None else pub[0][0] is old_edge[0] and pub[0][1] == old_edge[1]):
        pub = pub[1:]
    node._pub_next = (node._next[0],) + pub
    base._gfn, base._output_nr, base._rg = node, 0, True
    _point_at_base(view, base, idx)
    return True


def regenerate(view: Tensor) -> None:
    """``view``'s base has a new ``grad_fn`` since ``view.grad_fn`` was made: point the view at the
    base's current graph (AsStridedBackward0), as PyTorch does when such a view is used."""
    base = view._base
    view._vv = base._gfn
    if base._rg and base._gfn is not None:
        idx = view_index(base._data, view._data)
        if idx is not None:
            _point_at_base(view, base, idx)
