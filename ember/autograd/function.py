"""``Function`` (forward/backward pairs) and the graph ``Node`` that becomes a tensor's ``grad_fn``.

One class serves Ember's own primitives and users' custom Functions:

* A user's ``Function`` (the default) gets Tensors in ``forward`` (run with grad mode off) and
  Tensors in ``backward``, exactly as in PyTorch.
* A primitive sets ``raw = True``: ``forward`` gets the backend arrays (the fast path), and
  ``backward`` gets arrays too, unless the engine runs with ``create_graph=True``, in which
  case it gets Tensors. Primitive backward formulas are therefore written with operators and
  the helpers of ``ember.ops._bw`` that accept both, so second derivatives come for free.

The context object passed as ``ctx`` *is* the graph node (like PyTorch's ``BackwardCFunction``):
its class is named after the op (``MulBackward0``), it holds ``next_functions`` and the saved
values, and it is what ``tensor.grad_fn`` returns.
"""
from __future__ import annotations

from .grad_mode import state
from .._dtype import bf16_live as _bf16_live

import itertools

import numpy as np

_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)

_next_seq = itertools.count(1).__next__
_leaf_seq = itertools.count(1)


class Node:
    """A node of the backward graph (``tensor.grad_fn``)."""

    __slots__ = ("_next", "_saved", "_saved_versions", "needs_input_grad", "_seq", "_n_out",
                 "to_save", "shapes", "__dict__", "__weakref__")
    # ``shapes`` (the operand shapes broadcasting ops keep for their backward) is a slot because nearly
    # every recorded op sets it: a slot write avoids allocating the node's __dict__.

    # Rarely-set fields live as class defaults (an instance sets them in its __dict__ only when used):
    # building a node must cost as little as possible.
    _freed = False
    _tensor_pre_hooks = None
    _pre_hooks = None
    _post_hooks = None
    _graph_mode = False
    _non_diff = None
    materialize_grads = True
    metadata = None
    _fn = None  # the Function class whose backward this node runs
    _pub_next = None  # next_functions as users see them, when it differs from _next
    _in_meta = None  # users' Functions: (shape, dtype) of each input that requires grad, to validate gradients
    _packed = False  # saved values went through autograd.graph.saved_tensors_hooks' pack hook

    def name(self) -> str:
        return type(self).__name__

    @property
    def next_functions(self):
        """``((node, output_nr), ...)``: one edge per tensor input, ``(None, 0)`` where no gradient flows.

        The engine walks ``_next`` (one edge per ``forward`` argument); PyTorch lists only tensor
        inputs (plus the Python numbers that add/sub/mul/div wrap), which is what users see here.
        """
        pub = self._pub_next
        return self._next if pub is None else pub

    def __repr__(self):
        return f"<{type(self).__name__} object at {hex(id(self))}>"

    # -- saving ---------------------------------------------------------------------------
    def save_for_backward(self, *values):
        self.to_save = values

    def mark_non_differentiable(self, *values):
        self._non_diff = values

    def mark_dirty(self, *values):
        pass

    def set_materialize_grads(self, value: bool):
        self.materialize_grads = value

    @property
    def saved_tensors(self):
        saved = self._saved
        if saved is None:
            if self._freed:
                raise RuntimeError(
                    "Trying to backward through the graph a second time (or directly access saved "
                    "tensors after they have already been freed). Saved intermediate values of the graph "
                    "are freed when you call .backward() or autograd.grad(). Specify retain_graph=True if "
                    "you need to backward through the graph a second time or if you need to access saved "
                    "tensors after calling backward.")
            return ()
        if self._packed:
            return _unpack_saved(self, saved)
        versions = self._saved_versions
        if not self._graph_mode and self._fn.raw:
            # fast path: a primitive's backward on arrays
            out = []
            for s, v in zip(saved, versions):
                if type(s) is tuple:
                    if s[2][0] != v:
                        _raise_modified(s[0], s[2][0], v, self, s[1])
                    out.append(s[0])
                elif isinstance(s, Tensor):
                    if s._vc[0] != v:
                        _raise_modified(s._data, s._vc[0], v, _current_fn(s), s._output_nr)
                    out.append(s._data)
                else:
                    out.append(s)
            return out
        out = []
        for i, s in enumerate(saved):
            if s is None:
                out.append(None)
                continue
            if type(s) is tuple:  # a saved output: (array, output_nr, version counter)
                arr, nr, vc = s
                if vc[0] != versions[i]:
                    _raise_modified(arr, vc[0], versions[i], self, nr)
                t = _wrap(arr)
                t._vc = vc
                if nr not in self._non_diff_idx():
                    t._gfn = self
                    t._output_nr = nr
                    t._rg = True
                out.append(t)
            elif isinstance(s, Tensor):
                if s._vc[0] != versions[i]:
                    _raise_modified(s._data, s._vc[0], versions[i], _current_fn(s), s._output_nr)
                out.append(s)
            elif not isinstance(s, (int, float, complex, bool)):
                out.append(_wrap(s))  # a constant array computed in forward
            else:
                out.append(s)
        return tuple(out)

    @property
    def saved_variables(self):
        return self.saved_tensors

    def _non_diff_idx(self):
        return self.__dict__.get("_non_diff_idx_set", ())

    # -- hooks ----------------------------------------------------------------------------
    def register_hook(self, fn):
        """``fn(grad_inputs, grad_outputs)`` runs after this node's backward; may return new grad_inputs."""
        from ..utils.hooks import RemovableHandle
        if self._post_hooks is None:
            self._post_hooks = {}
        return RemovableHandle.add(self._post_hooks, fn)

    def register_prehook(self, fn):
        """``fn(grad_outputs)`` runs before this node's backward; may return new grad_outputs."""
        from ..utils.hooks import RemovableHandle
        if self._pre_hooks is None:
            self._pre_hooks = {}
        return RemovableHandle.add(self._pre_hooks, fn)

    def _register_tensor_hook(self, output_nr, fn):
        from ..utils.hooks import RemovableHandle
        if self._tensor_pre_hooks is None:
            self._tensor_pre_hooks = {}
        return RemovableHandle.add(self._tensor_pre_hooks.setdefault(output_nr, {}), fn)


_LEGACY_TYPE = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long", "int32": "Int",
                "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool", "complex64": "ComplexFloat",
                "complex128": "ComplexDouble"}


def _raise_modified(arr, now, then, grad_fn, output_nr):
    """PyTorch's error for a saved tensor changed in place before backward, word for word.

    ``grad_fn``: the node that made the saved tensor (its current one for a saved input, the
    saving node for a saved output), or None for a tensor outside the graph.
    """
    import re
    from .._dtype import from_np
    kind = _LEGACY_TYPE.get(from_np(arr.dtype).name, "")
    legacy = "CPUBoolType" if kind == "Bool" else f"torch.{kind}Tensor"  # PyTorch's own spelling for bool
    made_by = ""
    if grad_fn is not None:
        name = grad_fn.name()
        name = "torch::autograd::" + name if name == "CopySlices" else re.sub(r"Backward\d*$", "", name)
        made_by = f", which is output {output_nr} of {name},"
    if state.anomaly:
        hint = ("the backtrace further above shows the operation that failed to compute its gradient. "
                "The variable in question was changed in there or anywhere later. Good luck!")
    else:
        hint = ("enable anomaly detection to find the operation that failed to compute its gradient, "
                "with torch.autograd.set_detect_anomaly(True, check_nan=False).")
    raise RuntimeError(
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: [{legacy} [{', '.join(str(d) for d in arr.shape)}]]{made_by} is at version "
        f"{now}; expected version {then} instead. Hint: {hint}")


class AccumulateGrad(Node):
    """The node that adds an incoming gradient into a leaf tensor's ``.grad``."""

    __slots__ = ("variable",)

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"  # what PyTorch's C++ node reports

    def __init__(self, variable):
        self.variable = variable
        self._next = ()
        # after every function node, in creation order: a deterministic order on every process
        # (DistributedDataParallel's ranks must see their gradients become ready alike)
        self._seq = -next(_leaf_seq)
        self._saved = None
        self._n_out = 1


class _NullCtx:
    """The ctx handed to ``forward`` when no graph is built: saving is a no-op."""

    needs_input_grad = ()
    materialize_grads = True

    def save_for_backward(self, *values):
        pass

    def mark_non_differentiable(self, *values):
        pass

    def mark_dirty(self, *values):
        pass

    def set_materialize_grads(self, value):
        pass


_NULL = _NullCtx()


class FunctionMeta(type):
    def __init__(cls, name, bases, ns):
        super().__init__(name, bases, ns)
        node_name = ns.get("node_name") or (name + "Backward")
        cls._node_cls = type(node_name, (Node,), {"_fn": cls, "__slots__": (), "__module__": cls.__module__})
        # PyTorch turns Python numbers into tensors for these four ops only, so they keep an edge.
        cls._wrapped_numbers = node_name in ("AddBackward0", "SubBackward0", "MulBackward0", "DivBackward0")


class Function(metaclass=FunctionMeta):
    """Base class of differentiable operations; subclass it and call ``YourFn.apply(...)``.

    ``forward(ctx, *args)`` computes outputs, ``backward(ctx, *grad_outputs)`` returns one gradient
    (or None) per ``forward`` argument.
    """

    raw = False          # primitives: forward/backward see backend arrays (see module doc)
    node_name = None     # grad_fn class name, e.g. "MulBackward0"; default "<Name>Backward"

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for your custom "
                                  "autograd.Function to use it with backward mode AD.")

    vjp = backward

    def __call__(self, *args, **kwargs):
        raise RuntimeError("Legacy autograd function with non-static forward method is deprecated. Please use "
                           "new-style autograd function with static forward method. (Example: "
                           "https://pytorch.org/docs/stable/autograd.html#torch.autograd.Function)")

    @classmethod
    def apply(cls, *args, **kwargs):
        if state.enabled:
            for a in args:
                if isinstance(a, Tensor) and a._rg:
                    return cls._record(args, kwargs)
        if cls.raw:
            # one- and two-argument calls (nearly every op) unpack by hand: no list, no star-call
            n = len(args)
            if n == 2 and not kwargs:
                a, b = args
                out = cls.forward(_NULL, a._data if isinstance(a, Tensor) else a, b._data if isinstance(b, Tensor) else b)
            elif n == 1 and not kwargs:
                a = args[0]
                out = cls.forward(_NULL, a._data if isinstance(a, Tensor) else a)
            else:
                out = cls.forward(_NULL, *[a._data if isinstance(a, Tensor) else a for a in args], **kwargs)
            if type(out) is tuple:
                return tuple([_wrap(o) for o in out])
            if _bf16_live[0] and (out.dtype is _F32 or out.dtype is _F64):
                out = _bf16_result(out, args)
            return _wrap(out)
        ctx = _UserCtx()
        ctx.needs_input_grad = (False,) * len(args)
        prev = state.enabled
        state.enabled = False
        try:
            return cls.forward(ctx, *args, **kwargs)
        finally:
            state.enabled = prev

    @classmethod
    def _record(cls, args, kwargs):
        """Run forward and record a node: the graph-building path."""
        raw = cls.raw
        node = cls._node_cls()
        needs = []
        edges = []
        arrays = []  # what a raw forward receives, gathered in the same pass
        wrapped = cls._wrapped_numbers
        drop = False  # does the public next_functions drop an argument?
        for a in args:
            if isinstance(a, Tensor):
                arrays.append(a._data)
                if a._rg:
                    b = a._base
                    if b is not None and a._vv is not b._gfn:
                        _regenerate_view(a)  # its base was rebased by an in-place op since
                    fn = a._gfn
                    if fn is None:
                        edges.append((a._accum or a._accumulator(), 0))
                    else:
                        edges.append((fn, a._output_nr))
                    needs.append(True)
                    continue
            else:
                arrays.append(a)
                if not (wrapped and (type(a) is float or type(a) is int or _is_number(a))):
                    drop = True
            edges.append(_NO_EDGE)
            needs.append(False)
        node.needs_input_grad = tuple(needs)
        node._next = edges = tuple(edges)
        if drop:
            # the public next_functions drop non-tensor arguments, as PyTorch's do (except the Python
            # numbers that add/sub/mul/div wrap into tensors)
            keep = _is_number if wrapped else _never
            node._pub_next = tuple([e for a, e in zip(args, edges) if isinstance(a, Tensor) or keep(a)])
        node.to_save = None
        node._seq = _next_seq()
        if raw:
            out = cls.forward(node, *arrays, **kwargs)
        else:
            node._in_meta = tuple([(a._data.shape, a._data.dtype) if n else None for a, n in zip(args, needs)])
            arrays = args
            prev = state.enabled
            state.enabled = False
            try:
                out = cls.forward(node, *args, **kwargs)
            finally:
                state.enabled = prev
        if raw and type(out) is not tuple:
            # the common case: one array out
            if _bf16_live[0] and (out.dtype is _F32 or out.dtype is _F64):
                out = _bf16_result(out, arrays)
            t = _wrap(out)
            if out.dtype.kind in "fcV":  # integer and bool results are never differentiable (V: bfloat16)
                t._rg = True
                t._gfn = node
            node._n_out = 1
            outs = (out,)
            results = [t]
            multi = False
        else:
            multi = type(out) is tuple
            outs = out if multi else (out,)
            node._n_out = len(outs)
            non_diff = node._non_diff
            results = []
            for i, o in enumerate(outs):
                if raw:
                    t = _wrap(o)
                elif isinstance(o, Tensor):
                    if o._gfn is not None or o.requires_grad or any(o is a for a in args):
                        # forward returned an input or a view of one: give the output its own identity
                        t = _wrap(o._data)
                        t._vc = o._vc
                    else:
                        t = o
                else:
                    results.append(o)
                    continue
                if (non_diff is not None and any(o is nd for nd in non_diff)) or t._data.dtype.kind not in "fcV":
                    node.__dict__.setdefault("_non_diff_idx_set", set()).add(i)
                else:
                    t._rg = True
                    t._gfn = node
                    t._output_nr = i
                results.append(t)
        to_save = node.to_save
        if to_save:
            node._saved, node._saved_versions = _resolve_saved(to_save, args, arrays, outs, results)
            if _saved_hooks:
                _pack_saved(node, results)
        else:
            node._saved = None
        node.to_save = None
        if multi:
            from ..backends import namespace_of
            node.__dict__["_out_shapes"] = [(r._data.shape, r._data.dtype, namespace_of(r._data))
                                            if isinstance(r, Tensor) else None for r in results]
        return tuple(results) if multi else results[0]


_NO_EDGE = (None, 0)


def _bf16_result(out, operands):
    """Round a float32 (or float64) result of bfloat16 operands back to bfloat16.

    NumPy (with ml_dtypes) computes a bfloat16 array with a Python float in float32; PyTorch
    computes bfloat16 ops in float32 too and rounds the result to bfloat16, which this restores.
    A float32/float64 operand, or an explicit dtype argument, means float32 was asked for: kept.
    """
    from .. import _dtype as D
    bf = D.bfloat16._np
    seen = False
    for a in operands:
        if Tensor is not None and isinstance(a, Tensor):
            a = a._data
        if isinstance(a, (np.dtype, D.dtype)):
            return out
        d = getattr(a, "dtype", None)
        if d is None or isinstance(a, np.generic):
            continue
        if d == bf:
            seen = True
        elif d.kind in "fc":
            return out
    return out.astype(bf) if seen else out


def _is_number(v) -> bool:
    return isinstance(v, (int, float, complex)) or (getattr(v, "ndim", None) == 0 and not isinstance(v, Tensor))


def _never(v) -> bool:
    return False


def _resolve_saved(to_save, args, arrays, outs, results):
    """What forward saved: inputs are kept as Tensors (their versions are checked at backward),
    outputs as (array, output_nr, version counter) so that no reference cycle forms."""
    saved, versions = [], []
    for v in to_save:
        ver = 0
        s = v
        if v is not None and type(v) is not float and type(v) is not int:
            for a, arr in zip(args, arrays):
                if v is arr and isinstance(a, Tensor):
                    s = a
                    ver = a._vc[0]
                    break
            else:
                for i, o in enumerate(outs):
                    if v is o:
                        t = results[i]
                        s = (t._data, i, t._vc)
                        ver = t._vc[0]
                        break
                else:
                    if isinstance(v, Tensor):
                        s = v._data
        saved.append(s)
        versions.append(ver)
    return tuple(saved), versions


# -- saved-tensor hooks (ember.autograd.graph.saved_tensors_hooks) ---------------------------
_saved_hooks = []  # stack of active (pack_hook, unpack_hook); the innermost (last) one packs
_saved_hooks_disabled = [None]  # disable_saved_tensors_hooks' error message while it is active


class _Packed:
    """A saved tensor as the graph keeps it under saved-tensor hooks: the pack hook's result, the
    unpack hook to apply, and the tensor's place in the graph (never the tensor itself)."""

    __slots__ = ("unpack", "packed", "kind", "gfn", "nr", "accum")

    def __init__(self, unpack, packed, kind, gfn, nr, accum):
        self.unpack, self.packed, self.kind, self.gfn, self.nr, self.accum = unpack, packed, kind, gfn, nr, accum


def _pack_saved(node, results):
    """Run the innermost pack hook on every tensor ``node`` saved (grad mode off, as in PyTorch)."""
    pack, unpack = _saved_hooks[-1]
    saved = list(node._saved)
    prev = state.enabled
    state.enabled = False
    try:
        for i, s in enumerate(saved):
            if type(s) is tuple:  # an output of this node
                t = results[s[1]]
                saved[i] = _Packed(unpack, pack(t), "out", None, s[1], None)
            elif isinstance(s, Tensor):  # an input
                saved[i] = _Packed(unpack, pack(s), "in" if s._rg else "const", s._gfn, s._output_nr,
                                   s._accum if s._rg and s._gfn is None else None)
            elif getattr(s, "ndim", None) is not None and not isinstance(s, np.generic):  # made in forward
                saved[i] = _Packed(unpack, pack(_wrap(s)), "const", None, 0, None)
    finally:
        state.enabled = prev
    node._saved = tuple(saved)
    node._packed = True


def _unpack_saved(node, saved):
    """``node.saved_tensors`` for values packed by saved-tensor hooks: each read runs the unpack hook.
    Backends arrays for a primitive's fast path; Tensors, wired back into the graph, otherwise."""
    fast = not node._graph_mode and node._fn.raw
    out = []
    for s in saved:
        if type(s) is not _Packed:
            out.append(s if fast or s is None or isinstance(s, (int, float, complex, bool, Tensor)) else _wrap(s))
            continue
        t = s.unpack(s.packed)
        if not isinstance(t, Tensor):
            raise TypeError("Output of saved tensor unpack_hook expected to be a Tensor but got result of type "
                            f"{type(t).__name__}")
        if fast:
            out.append(t._data)
            continue
        kind = s.kind
        if kind == "out":
            if s.nr not in node._non_diff_idx() and t._gfn is not node:
                t = _wrap(t._data)
                t._gfn, t._output_nr, t._rg = node, s.nr, True
        elif kind == "in":
            if t._gfn is not s.gfn or not t._rg or (s.gfn is None and t._accum is not s.accum):
                # a new tensor from the hook: give it the saved tensor's place in the graph
                t = _wrap(t._data)
                t._rg, t._gfn, t._output_nr = True, s.gfn, s.nr
                if s.gfn is None:
                    t._accum = s.accum
        out.append(t)
    return out if fast else tuple(out)


def _bind_tensor(tensor_cls, wrap):
    """Called once by ``ember._tensor`` (importing it here would be circular)."""
    global Tensor, _wrap
    Tensor, _wrap = tensor_cls, wrap


def _regenerate_view(view):
    from ..ops.view_inplace import regenerate
    regenerate(view)


def _current_fn(t):
    """``t.grad_fn``, brought up to date first if ``t`` is a view whose base was rebased (as PyTorch
    reports it in the "modified by an inplace operation" error)."""
    b = t._base
    if b is not None and t._rg and t._vv is not b._gfn:
        _regenerate_view(t)
    return t._gfn


Tensor = None
_wrap = None


class _UserCtx:
    """ctx for a user's Function called with grad mode off (nothing is recorded)."""

    materialize_grads = True

    def save_for_backward(self, *values):
        self.to_save = values

    @property
    def saved_tensors(self):
        return getattr(self, "to_save", ())

    def mark_non_differentiable(self, *values):
        pass

    def mark_dirty(self, *values):
        pass

    def set_materialize_grads(self, value):
        pass


FunctionCtx = Node
BackwardCFunction = Node


def once_differentiable(fn):
    """Decorator for ``backward``: run it with grad mode off (Ember's backward already is, unless
    ``create_graph=True``)."""
    import functools

    @functools.wraps(fn)
    def wrapper(ctx, *args):
        prev = state.enabled
        state.enabled = False
        try:
            return fn(ctx, *args)
        finally:
            state.enabled = prev
    return wrapper
