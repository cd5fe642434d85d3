"""The backward pass: one walk of the graph in reverse topological order.

Gradients travel as backend arrays (the fast path) unless ``create_graph=True``, in which
case they travel as Tensors and every backward formula builds graph as it runs.
"""
from __future__ import annotations

from operator import attrgetter

import numpy as np

from .function import AccumulateGrad
from .grad_mode import state


from ..backends import namespace_of as _xp, writeable

Tensor = None  # bound by ember._tensor (importing it here would be circular)
_wrap = None


def _bind_tensor(tensor_cls, wrap):
    global Tensor, _wrap
    Tensor, _wrap = tensor_cls, wrap


def _reachable(roots):
    """Every node reachable from ``roots`` (iterative DFS)."""
    seen = set(roots)
    stack = list(roots)
    add, push = seen.add, stack.append
    while stack:
        for nxt, _ in stack.pop()._next:
            if nxt is not None and nxt not in seen:
                add(nxt)
                push(nxt)
    return seen


_seq_of = attrgetter("_seq")


def _needed(seen, targets):
    """Nodes from which some target is reachable (the only ones worth running)."""
    parents = {}
    for node in seen:
        for nxt, _ in node._next:
            if nxt is not None:
                parents.setdefault(nxt, []).append(node)
    need = set(targets)
    stack = list(targets)
    while stack:
        n = stack.pop()
        for p in parents.get(n, ()):
            if p not in need:
                need.add(p)
                stack.append(p)
    return need


def run_backward(tensors, grad_tensors, retain_graph, create_graph, inputs=None, capture=False,
                 allow_unused=True):
    """Backpropagate from ``tensors`` seeded with ``grad_tensors``.

    ``inputs``: only these tensors receive gradient; with ``capture=True`` their gradients are
    returned instead of accumulated (``autograd.grad``).
    """
    global _task
    prev_mode = state.enabled
    state.enabled = bool(create_graph)
    trace = state.trace
    prev_task = _task
    outer_callbacks = _callbacks[:]  # a nested pass (checkpoint's recompute) must not run or drop these
    _callbacks.clear()
    try:
        root_nodes = []
        buffers = {}
        stored = set()  # arrays already handed to a .grad: never alias two grads
        for t, g in zip(tensors, grad_tensors):
            b = t._base
            if b is not None and t._rg and t._vv is not b._gfn:
                from .function import _regenerate_view
                _regenerate_view(t)
            node = t._gfn
            if node is None:
                if not t.requires_grad:
                    raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
                node = t._accumulator()
            g = _as_tensor(g) if create_graph else (g._data if isinstance(g, Tensor) else g)
            if not create_graph:
                stored.add(id(g if g.base is None else g.base))
            buf = buffers.get(node)
            if buf is None:
                buf = buffers[node] = [None] * node._n_out
                root_nodes.append(node)
            nr = t._output_nr if t._gfn is not None else 0
            buf[nr] = g if buf[nr] is None else buf[nr] + g

        seen = _reachable(root_nodes)
        targets = None
        captured = None
        if inputs is not None:
            targets = {}
            for i, t in enumerate(inputs):
                if t._gfn is not None:
                    targets.setdefault(t._gfn, []).append((t._output_nr, i))
                elif t.requires_grad:
                    targets.setdefault(t._accumulator(), []).append((0, i))
                else:
                    raise RuntimeError("One of the differentiated Tensors does not require grad")
            need = _needed(seen, targets)
            captured = [None] * len(inputs)
        else:
            need = None
        _task = _Task(seen, need, targets, capture)

        simple = not create_graph and trace is None and not state.anomaly
        # Decreasing sequence number is a topological order (a node is always created after its inputs'
        # nodes; leaves' AccumulateGrad nodes come last): by the time a node runs, every consumer of its
        # outputs has run and its gradient buffer is complete. One sort replaces a ready-queue.
        for node in sorted(seen, key=_seq_of, reverse=True):
            grads = buffers.pop(node, None)
            if grads is None:
                continue
            out_grads = None
            if (need is None or node in need) and (grads[0] is not None or any(g is not None for g in grads)):
                run = True
                th = node._tensor_pre_hooks
                if th:
                    # Tensor hooks (register_hook / retain_grad) see the gradient of each output.
                    _run_tensor_hooks(th, grads, create_graph)
                if targets is not None and node in targets:
                    if capture and type(node) is AccumulateGrad and node.variable._hooks:
                        grads = [_run_leaf_hooks(node.variable, grads[0], create_graph, trace)]
                    for nr, i in targets[node]:
                        g = grads[nr] if nr < len(grads) else None
                        if g is not None:
                            captured[i] = g if captured[i] is None else captured[i] + g
                    if capture:
                        run = node in _needed_beyond(node, targets, need)
                if type(node) is AccumulateGrad:
                    if inputs is None or (not capture and node in targets):
                        _accumulate(node, grads[0], create_graph, stored, trace)
                    run = False
                if run and simple and node._fn.raw and node._n_out == 1 and not node._pre_hooks \
                        and not node._post_hooks:
                    # the common case, inlined: a primitive with one output, on arrays, nothing watching
                    if node._graph_mode:
                        node._graph_mode = False
                    out_grads = node._fn.backward(node, grads[0])
                    if type(out_grads) is not tuple:
                        out_grads = (out_grads,)
                    if len(out_grads) != len(node._next):
                        out_grads = _fix_arity(node, out_grads, len(node._next), True)
                    if not retain_graph and node._saved is not None:
                        node._saved = None
                        node._freed = True
                elif run:
                    if node._pre_hooks:
                        for h in list(node._pre_hooks.values()):
                            r = h(tuple(_as_tensor(g) for g in grads))
                            if r is not None:
                                grads = [_unwrap(g, create_graph) for g in r]
                    out_grads = _call_backward(node, grads, create_graph, trace)
                    if node._post_hooks:
                        for h in list(node._post_hooks.values()):
                            r = h(tuple(_as_tensor(g) for g in out_grads), tuple(_as_tensor(g) for g in grads))
                            if r is not None:
                                out_grads = [_unwrap(g, create_graph) for g in r]
                    if not retain_graph and node._saved is not None:
                        if trace is not None:
                            trace.on_free(node)
                        node._saved = None
                        node._freed = True
            if out_grads is None:
                continue
            for (nxt, nr), g in zip(node._next, out_grads):
                if nxt is None or g is None:
                    continue
                buf = buffers.get(nxt)
                if buf is None:
                    buf = buffers[nxt] = [None] * nxt._n_out
                if buf[nr] is None:
                    buf[nr] = g
                else:
                    buf[nr] = buf[nr] + g
        if inputs is not None and not capture:
            # backward(inputs=[...]) fills .grad of the non-leaf inputs too
            for t, g in zip(inputs, captured):
                if g is not None and t._gfn is not None:
                    g = g if isinstance(g, Tensor) else _wrap(g.copy())
                    t._grad = g if t._grad is None else t._grad + g
        if capture:
            out = []
            for i, g in enumerate(captured):
                if g is None:
                    if not allow_unused:
                        raise RuntimeError(f"The differentiated Tensor at index {i} appears to not have been used "
                                           "in the graph. Set allow_unused=True if this is the desired behavior.")
                    out.append(None)
                elif isinstance(g, Tensor):
                    out.append(g)
                else:
                    out.append(_wrap(_writable(g)))
            _run_final_callbacks()
            return tuple(out)
        _run_final_callbacks()
        return None
    finally:
        state.enabled = prev_mode
        _callbacks[:] = outer_callbacks
        if _task is not prev_task:
            done, _task = _task, prev_task
            if done.ends:
                for cb in done.ends:
                    cb()


class _Task:
    """The backward pass now running, as ``autograd.graph.register_multi_grad_hook`` asks about it."""

    __slots__ = ("id", "seen", "need", "targets", "capture", "ends")
    _ids = iter(range(1, 1 << 62))

    def __init__(self, seen, need, targets, capture):
        self.id = next(_Task._ids)
        self.seen, self.need, self.targets, self.capture = seen, need, targets, capture
        self.ends = None

    def will_run_hooks_of(self, node) -> bool:
        """Will this pass run the tensor hooks of ``node``'s outputs (a leaf's, for AccumulateGrad)?"""
        if node not in self.seen or (self.need is not None and node not in self.need):
            return False
        if type(node) is AccumulateGrad and self.targets is not None:
            return node in self.targets
        return True

    def on_end(self, cb) -> None:
        if self.ends is None:
            self.ends = []
        self.ends.append(cb)


_task = None


def _current_task():
    if _task is None:
        raise RuntimeError("expected this hook to be called inside a backward call")
    return _task


def _writable(g):
    """A gradient handed to the user: a read-only array (a broadcast seed or ``sum_to`` result) is
    copied so that in-place ops on it work as on PyTorch's, unless several of its elements share
    memory (an expanded gradient), which PyTorch hands out as an expanded tensor too."""
    if getattr(g.flags, "writeable", True):
        return g
    for st, n in zip(g.strides, g.shape):
        if st == 0 and n > 1:
            return g
    return g.copy()


_callbacks = []


def queue_callback(fn) -> None:
    """Run ``fn()`` once the current backward pass has finished (used by DistributedDataParallel
    to wait for its gradient all-reduces). Only valid while a backward pass is running."""
    _callbacks.append(fn)


def _run_final_callbacks():
    while _callbacks:
        _callbacks.pop(0)()


def _run_tensor_hooks(th, grads, create_graph):
    trace = state.trace
    for nr, hooks in th.items():
        g = grads[nr]
        if g is None:
            continue
        for h in list(hooks.values()):
            if trace is not None and getattr(h, "__name__", "") != "_retain":
                trace.on_hook(h, g)
            r = h(g if isinstance(g, Tensor) else _wrap(g))
            if r is not None:
                g = r if create_graph else r._data
        grads[nr] = g


def _needed_beyond(node, targets, need):
    """With capture, a target node still runs if another target lies behind it."""
    others = {t for t in targets if t is not node}
    if not others:
        return set()
    stack = [n for n, _ in node._next if n is not None]
    seen = set()
    while stack:
        n = stack.pop()
        if n in others:
            return {node}
        if n in seen:
            continue
        seen.add(n)
        stack.extend(m for m, _ in n._next if m is not None)
    return set()


def _as_tensor(g):
    if g is None or isinstance(g, Tensor):
        return g
    return _wrap(g)


def _unwrap(g, create_graph):
    if g is None or create_graph or not isinstance(g, Tensor):
        return g
    return g._data


def _call_backward(node, grads, create_graph, trace):
    fn = node._fn
    raw = fn.raw
    if len(grads) > 1 and (raw or node.materialize_grads) and any(g is None for g in grads):
        grads = _fill_missing(node, grads, create_graph)
    if create_graph:
        node._graph_mode = True
    elif node._graph_mode:
        node._graph_mode = False
    if not raw:
        grads = [g if (g is None or isinstance(g, Tensor)) else _wrap(g) for g in grads]
    if trace is not None:
        trace.on_node_start(node, grads)
    result = fn.backward(node, *grads)
    if type(result) is not tuple:
        result = (result,)
    n_in = len(node._next)
    if len(result) != n_in:
        result = _fix_arity(node, result, n_in, raw)
    if node._in_meta is not None:
        result = _validate_user_grads(node, result)
    if not create_graph:
        if not raw:
            result = tuple([r._data if isinstance(r, Tensor) else r for r in result])
    else:
        result = tuple([r if (r is None or isinstance(r, Tensor)) else _wrap(r) for r in result])
    if state.anomaly and state.anomaly_check_nan:
        _check_nan(node, result)
    if trace is not None:
        trace.on_node_end(node, result)
    return result


def _validate_user_grads(node, result):
    """A user's Function's gradients, as PyTorch validates them: each is summed down to its input's shape when it
    broadcasts to a larger one (an error otherwise) and cast to its input's dtype."""
    out = list(result)
    for i, (r, meta) in enumerate(zip(result, node._in_meta)):
        if r is None or meta is None:
            continue
        shape, dt = meta
        arr = r._data if isinstance(r, Tensor) else r
        if not hasattr(arr, "shape"):
            continue
        if tuple(arr.shape) != tuple(shape):
            try:
                ok = np.broadcast_shapes(shape, arr.shape) == tuple(arr.shape)
            except ValueError:
                ok = False
            if not ok:
                raise RuntimeError(f"Function {node.name()} returned an invalid gradient at index {i} - got "
                                   f"{list(arr.shape)} but expected shape compatible with {list(shape)}")
            from ..ops._bw import sum_to
            r = sum_to(r, tuple(shape))
            arr = r._data if isinstance(r, Tensor) else r
        if arr.dtype != dt:
            if isinstance(r, Tensor):
                from .._dtype import from_np
                r = r.to(from_np(dt))
            else:
                r = arr.astype(dt)
        out[i] = r
    return tuple(out)


def _fix_arity(node, result, n_in, raw):
    if len(result) < n_in:
        if raw:
            return result + (None,) * (n_in - len(result))
        raise RuntimeError(f"function {node.name()} returned an incorrect number of gradients "
                           f"(expected {n_in}, got {len(result)})")
    if any(e is not None for e in result[n_in:]):
        raise RuntimeError(f"function {node.name()} returned an incorrect number of gradients "
                           f"(expected {n_in}, got {len(result)})")
    return result[:n_in]


def _check_nan(node, result):
    for i, r in enumerate(result):
        if r is None:
            continue
        a = r._data if isinstance(r, Tensor) else r
        if a.dtype.kind in "fc" and bool(_xp(a).isnan(a).any()):
            raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th output.")


def _fill_missing(node, grads, create_graph):
    """Outputs that received no gradient get zeros (multi-output ops such as split, unbind)."""
    meta = node.__dict__.get("_out_shapes")
    if meta is None:
        return grads
    out = list(grads)
    for i, g in enumerate(out):
        if g is None and i < len(meta) and meta[i] is not None:
            shape, dt, xp = meta[i]
            z = xp.zeros(shape, dtype=dt)
            out[i] = _wrap(z) if create_graph else z
    return out


def _run_leaf_hooks(var, g, create_graph, trace):
    """A leaf's own hooks (``register_hook``) on its gradient ``g``; returns what they leave."""
    if g is None:
        return g
    for h in list(var._hooks.values()):
        if trace is not None:
            trace.on_hook(h, g)
        r = h(g if isinstance(g, Tensor) else _wrap(g))
        if r is not None:
            g = r if create_graph else r._data
    return g


def _accumulate(node, g, create_graph, stored, trace):
    """Add ``g`` into the leaf's ``.grad`` (after the leaf's own hooks)."""
    var = node.variable
    if g is None:
        return
    if var._hooks:
        g = _run_leaf_hooks(var, g, create_graph, trace)
    before = var._grad
    if trace is not None:
        trace.on_accumulate(var, before, g)
    if create_graph:
        gt = g if isinstance(g, Tensor) else _wrap(g)
        if gt.shape != var.shape:
            gt = _reduce_to(gt, var.shape)
        var._grad = gt if before is None else before + gt
    else:
        arr = g._data if isinstance(g, Tensor) else g
        vd = var._data
        if arr.shape != vd.shape:
            if arr.size == vd.size:
                arr = arr.reshape(vd.shape)
            else:
                raise RuntimeError(f"Function AccumulateGrad returned an invalid gradient - got "
                                   f"{list(arr.shape)} but expected shape compatible with {list(vd.shape)}")
        if arr.dtype != vd.dtype:
            arr = arr.astype(vd.dtype)
        if before is None:
            key = id(arr if arr.base is None else arr.base)
            if key in stored or not writeable(arr):
                arr = arr.copy()
                key = id(arr)
            stored.add(key)
            var._grad = _wrap(arr)
        else:
            before._data = before._data + arr
            before._vc[0] += 1
    if trace is not None:
        trace.on_accumulated(var)
    post = var.__dict__.get("_post_acc_hooks") if hasattr(var, "__dict__") else None
    if post:
        for h in list(post.values()):
            h(var)


def _reduce_to(g, shape):
    from ..ops._bw import sum_to
    return sum_to(g, tuple(shape))
