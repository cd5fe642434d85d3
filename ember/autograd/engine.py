"""The backward pass: one walk of the graph in reverse topological order.

Gradients travel as backend arrays (the fast path) unless ``create_graph=True``, in which
case they travel as Tensors and every backward formula builds graph as it runs.
"""
from __future__ import annotations

import heapq

from .function import AccumulateGrad
from .grad_mode import state


def _xp(a):
    from ..backends import namespace_of
    return namespace_of(a)


def _collect(roots):
    """Dependency counts of every node reachable from ``roots`` (iterative DFS)."""
    deps = {}
    seen = set()
    stack = [r for r in roots]
    for r in roots:
        seen.add(r)
    while stack:
        node = stack.pop()
        for nxt, _ in node.next_functions:
            if nxt is None:
                continue
            deps[nxt] = deps.get(nxt, 0) + 1
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return deps, seen


def _needed(seen, targets):
    """Nodes from which some target is reachable (the only ones worth running)."""
    parents = {}
    for node in seen:
        for nxt, _ in node.next_functions:
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
    from .._tensor import Tensor, _wrap
    prev_mode = state.enabled
    state.enabled = bool(create_graph)
    trace = state.trace
    try:
        root_nodes = []
        buffers = {}
        stored = set()  # arrays already handed to a .grad: never alias two grads
        for t, g in zip(tensors, grad_tensors):
            node = t.grad_fn
            if node is None:
                if not t.requires_grad:
                    raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
                node = t._accumulator()
            g = g if create_graph else (g._data if isinstance(g, Tensor) else g)
            if not create_graph:
                stored.add(id(g if g.base is None else g.base))
            buf = buffers.get(node)
            if buf is None:
                buf = buffers[node] = [None] * node._n_out
                root_nodes.append(node)
            nr = t._output_nr if t.grad_fn is not None else 0
            buf[nr] = g if buf[nr] is None else buf[nr] + g

        deps, seen = _collect(root_nodes)
        targets = None
        captured = None
        if inputs is not None:
            targets = {}
            for i, t in enumerate(inputs):
                if t.grad_fn is not None:
                    targets.setdefault(t.grad_fn, []).append((t._output_nr, i))
                elif t.requires_grad:
                    targets.setdefault(t._accumulator(), []).append((0, i))
                else:
                    raise RuntimeError("One of the differentiated Tensors does not require grad")
            need = _needed(seen, targets)
            captured = [None] * len(inputs)
        else:
            need = None

        heap = [(-n._seq, id(n), n) for n in root_nodes if deps.get(n, 0) == 0]
        heapq.heapify(heap)
        while heap:
            _, _, node = heapq.heappop(heap)
            grads = buffers.pop(node, None)
            if grads is None:
                grads = [None] * node._n_out
            run = need is None or node in need
            if run and all(g is None for g in grads):
                run = False  # nothing flowed into this node: it sends nothing on
                if type(node) is AccumulateGrad:
                    pass
            if run:
                # Tensor hooks (register_hook / retain_grad) see the gradient of each output.
                th = node._tensor_pre_hooks
                if th:
                    for nr, hooks in th.items():
                        g = grads[nr]
                        if g is None:
                            continue
                        for h in list(hooks.values()):
                            gt = g if isinstance(g, Tensor) else _wrap(g)
                            r = h(gt)
                            if r is not None:
                                g = r if create_graph else r._data
                        grads[nr] = g
                if targets is not None and node in targets:
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
            if run:
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
                    node._saved = None
                    node._freed = True
                    if trace is not None:
                        trace.on_free(node)
            else:
                out_grads = None
            for k, (nxt, nr) in enumerate(node.next_functions):
                if nxt is None:
                    continue
                if out_grads is not None:
                    g = out_grads[k] if k < len(out_grads) else None
                    if g is not None:
                        buf = buffers.get(nxt)
                        if buf is None:
                            buf = buffers[nxt] = [None] * nxt._n_out
                        if buf[nr] is None:
                            buf[nr] = g
                        else:
                            buf[nr] = buf[nr] + g
                d = deps[nxt] - 1
                deps[nxt] = d
                if d == 0:
                    heapq.heappush(heap, (-nxt._seq, id(nxt), nxt))
        if capture:
            out = []
            for i, g in enumerate(captured):
                if g is None:
                    if not allow_unused:
                        raise RuntimeError("One of the differentiated Tensors appears to not have been used in "
                                           "the graph. Set allow_unused=True if this is the desired behavior.")
                    out.append(None)
                else:
                    out.append(g if isinstance(g, Tensor) else _wrap(g))
            return tuple(out)
        return None
    finally:
        state.enabled = prev_mode


def _needed_beyond(node, targets, need):
    """With capture, a target node still runs if another target lies behind it."""
    others = {t for t in targets if t is not node}
    if not others:
        return set()
    stack = [n for n, _ in node.next_functions if n is not None]
    seen = set()
    while stack:
        n = stack.pop()
        if n in others:
            return {node}
        if n in seen:
            continue
        seen.add(n)
        stack.extend(m for m, _ in n.next_functions if m is not None)
    return set()


def _as_tensor(g):
    from .._tensor import Tensor, _wrap
    if g is None or isinstance(g, Tensor):
        return g
    return _wrap(g)


def _unwrap(g, create_graph):
    from .._tensor import Tensor
    if g is None or create_graph or not isinstance(g, Tensor):
        return g
    return g._data


def _call_backward(node, grads, create_graph, trace):
    from .._tensor import Tensor, _wrap
    fn = node._fn
    if len(grads) > 1 and any(g is None for g in grads) and (fn.raw or node.materialize_grads):
        grads = _fill_missing(node, grads, create_graph)
    node._graph_mode = create_graph
    if fn.raw:
        args = grads
    else:
        args = [g if (g is None or isinstance(g, Tensor)) else _wrap(g) for g in grads]
    if trace is not None:
        trace.on_node_start(node, args)
    result = fn.backward(node, *args)
    if type(result) is not tuple:
        result = (result,)
    n_in = len(node.next_functions)
    if len(result) < n_in:
        if fn.raw:
            result = result + (None,) * (n_in - len(result))
        else:
            raise RuntimeError(f"function {node.name()} returned an incorrect number of gradients "
                               f"(expected {n_in}, got {len(result)})")
    elif len(result) > n_in:
        extra = result[n_in:]
        if any(e is not None for e in extra):
            raise RuntimeError(f"function {node.name()} returned an incorrect number of gradients "
                               f"(expected {n_in}, got {len(result)})")
        result = result[:n_in]
    if not create_graph:
        result = tuple(r._data if isinstance(r, Tensor) else r for r in result)
    else:
        result = tuple(r if (r is None or isinstance(r, Tensor)) else _wrap(r) for r in result)
    if state.anomaly and state.anomaly_check_nan:
        for i, r in enumerate(result):
            if r is None:
                continue
            a = r._data if isinstance(r, Tensor) else r
            xp = _xp(a)
            if a.dtype.kind in "fc" and bool(xp.isnan(a).any()):
                raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th output.")
    if trace is not None:
        trace.on_node_end(node, result)
    return result


def _fill_missing(node, grads, create_graph):
    """Outputs that received no gradient get zeros (multi-output ops such as split, unbind)."""
    from .._tensor import _wrap
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


def _accumulate(node, g, create_graph, stored, trace):
    """Add ``g`` into the leaf's ``.grad`` (after the leaf's own hooks)."""
    from .._tensor import Tensor, _wrap
    var = node.variable
    if g is None:
        return
    hooks = var._hooks
    if hooks:
        for h in list(hooks.values()):
            r = h(g if isinstance(g, Tensor) else _wrap(g))
            if r is not None:
                g = r if create_graph else r._data
    before = var.grad
    if trace is not None:
        trace.on_accumulate(var, before, g)
    if create_graph:
        gt = g if isinstance(g, Tensor) else _wrap(g)
        if gt.shape != var.shape:
            gt = _reduce_to(gt, var.shape)
        var.grad = gt if before is None else before + gt
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
            if key in stored or not arr.flags.writeable:
                arr = arr.copy()
                key = id(arr)
            stored.add(key)
            var.grad = _wrap(arr)
        else:
            before._data = before._data + arr
            before._vc[0] += 1
    post = var.__dict__.get("_post_acc_hooks") if hasattr(var, "__dict__") else None
    if post:
        for h in list(post.values()):
            h(var)


def _reduce_to(g, shape):
    from ..ops._bw import sum_to
    return sum_to(g, tuple(shape))
