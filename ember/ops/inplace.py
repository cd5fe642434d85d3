"""In-place plumbing: write an op's result into an existing tensor and rebase the graph onto it."""
from __future__ import annotations

from .. import _dtype as D
from .._tensor import Tensor, _wrap
from ..autograd.grad_mode import state
from ..backends import namespace_of, writeable

__all__: list[str] = []  # internal plumbing (Tensor's ``*_`` methods); nothing here is public API


def inplace(self: Tensor, result: Tensor) -> Tensor:
    """Make ``self`` hold ``result`` in place: write into its array, bump its version, and if the
    result is part of a graph, take over its place in it (PyTorch's rebase of grad_fn)."""
    self._check_inplace()
    r = result._data
    d = self._data
    if r.shape != d.shape:
        xp = namespace_of(d)
        try:
            xp.broadcast_to(r, d.shape)
        except ValueError:
            raise RuntimeError(f"output with shape {list(d.shape)} doesn't match the broadcast shape "
                               f"{list(r.shape)}") from None
    if r.dtype != d.dtype:
        if d.dtype.kind in "iub" and r.dtype.kind in "fc" and result._gfn is None:
            raise RuntimeError(f"result type {D.from_np(r.dtype).name.capitalize()} can't be cast to the desired "
                               f"output type {D.from_np(d.dtype).name.capitalize()}")
    if not writeable(d):
        raise RuntimeError("unsupported operation: some elements of the input tensor and the written-to "
                           "tensor refer to a single memory location. Please clone() the tensor before "
                           "performing the operation.")
    b = self._base
    if b is not None and result._gfn is not None and state.enabled and d.dtype != b._data.dtype:
        # .real / .imag / view_as_real of a complex tensor in a graph: the rebase (view_inplace.py) maps elements
        # of one dtype, so the gradient would come out wrong; refuse before writing anything
        raise RuntimeError("Ember does not support in-place operations on a real/imaginary view (.real, .imag, "
                           "view_as_real) of a complex tensor that is part of an autograd graph; write it out of "
                           "place instead, e.g. z = torch.complex(z.real * 2, z.imag)")
    node = result._gfn
    if node is not None and node._saved and state.enabled:
        # The op saved the value we are about to overwrite (e.g. ``z.mul_(w)`` needs the old z
        # for w's gradient): keep a copy of it, as PyTorch does, instead of failing at backward.
        # (only ``self`` itself: another view of the same memory saved by the op is stale, and backward
        # raises for it as PyTorch does)
        if any(s is self for s in node._saved):
            snap = {}
            saved, versions = list(node._saved), list(node._saved_versions)
            for i, s in enumerate(saved):
                if s is self:
                    if id(s) not in snap:
                        c = _wrap(s._data.copy())
                        c.requires_grad, c._gfn, c._output_nr = s.requires_grad, s._gfn, s._output_nr
                        snap[id(s)] = c
                    saved[i], versions[i] = snap[id(s)], 0
            node._saved, node._saved_versions = tuple(saved), versions
    if writeable(d):
        d[...] = r
    else:
        raise RuntimeError("unsupported operation: some elements of the input tensor and the written-to "
                           "tensor refer to a single memory location. Please clone() the tensor before "
                           "performing the operation.")
    self._vc[0] += 1
    if result._gfn is not None and state.enabled:
        node = result._gfn
        if self._base is not None:
            # written through a view: the base's graph is rebased (CopySlices), as in PyTorch
            from .view_inplace import rebase_view
            if rebase_view(self, result):
                _repoint_saved_output(node, r, d, self._vc)
                return self
        self._gfn = node
        self._output_nr = result._output_nr
        self.requires_grad = True
        _repoint_saved_output(node, r, d, self._vc)
    return self


def _repoint_saved_output(node, r, d, vc):
    """The node may have saved its output ``r`` (now copied into ``d``): point it at ``d`` instead."""
    if node._saved:
        node._saved = tuple((d, s[1], vc) if type(s) is tuple and s[0] is r else s for s in node._saved)
        node._saved_versions = [vc[0] if type(s) is tuple and s[0] is d else v
                                for s, v in zip(node._saved, node._saved_versions)]

