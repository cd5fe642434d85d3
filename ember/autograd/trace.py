"""``ember.autograd.trace``: record what ``backward()`` does, step by step, from the real engine.

    with ember.autograd.trace() as t:
        loss.backward()
    print(t)            # a numbered table
    t.steps             # plain records (dicts) for programs and tests
    t.render("step.svg")

The engine calls the recorder only while a trace is active (``state.trace`` is None otherwise, one
attribute check per node), so tracing costs nothing when it is off.
"""
from __future__ import annotations

import numpy as np

from .function import AccumulateGrad
from .grad_mode import state


def _arr(g):
    a = getattr(g, "_data", g)
    if a is None:
        return None
    return a if type(a) is np.ndarray else a.get()


def summarize(g) -> dict | None:
    """Shape, dtype, a few statistics and a copy of the values of a gradient."""
    a = _arr(g)
    if a is None:
        return None
    af = a.astype(np.float64) if a.dtype.kind in "fiub" else a
    return {"shape": tuple(a.shape), "dtype": str(a.dtype),
            "min": float(af.min()) if a.size else 0.0, "max": float(af.max()) if a.size else 0.0,
            "mean": float(af.mean()) if a.size else 0.0, "norm": float(np.sqrt((af * af).sum())),
            "value": a.copy()}


def _short(s) -> str:
    if s is None:
        return "None"
    shape = "(" + ", ".join(map(str, s["shape"])) + ")"
    v = s["value"].reshape(-1)
    if v.size <= 4:
        body = "[" + ", ".join(f"{x:.4g}" for x in v.tolist()) + "]"
    else:
        body = f"mean {s['mean']:.4g}, norm {s['norm']:.4g}"
    return f"{shape} {body}"


class trace:  # noqa: N801 - a context manager named like ember.no_grad
    """Records every step of the backward passes run inside the ``with`` block.

    ``names``: optional mapping name -> tensor (e.g. ``dict(model.named_parameters())``) used to
    label leaves. Each record in ``steps`` is a dict with ``step`` (1-based execution order) and
    ``kind``: ``"node"`` (a grad_fn ran: ``name``, ``grad_in`` per output, ``grad_out`` per input with
    the ``to`` node), ``"accumulate"`` (``leaf``, ``before``, ``grad``, ``after``), ``"retain_grad"``,
    ``"hook"`` or ``"free"`` (saved tensors released: ``saved`` shapes).
    """

    def __init__(self, names=None):
        self.steps: list[dict] = []
        self._names = {id(v): k for k, v in (names or {}).items()}
        self._prev = None
        self._nodes = {}
        self._open = {}

    # -- context ------------------------------------------------------------------------
    def __enter__(self):
        self._prev = state.trace
        state.trace = self
        return self

    def __exit__(self, *exc):
        state.trace = self._prev
        return False

    # -- engine callbacks ---------------------------------------------------------------
    def _add(self, rec):
        rec["step"] = len(self.steps) + 1
        self.steps.append(rec)
        return rec

    def _leaf_name(self, var):
        name = self._names.get(id(var))
        return name or "leaf" + "(" + ", ".join(map(str, var.shape)) + ")"

    def _node_name(self, node):
        if node is None:
            return None
        if isinstance(node, AccumulateGrad):
            return "AccumulateGrad[" + self._leaf_name(node.variable) + "]"
        return node.name()

    def on_node_start(self, node, grads):
        self._nodes[id(node)] = node
        rec = self._add({"kind": "node", "name": node.name(), "node": node,
                         "grad_in": [summarize(g) for g in grads], "grad_out": []})
        self._open[id(node)] = rec

    def on_node_end(self, node, result):
        rec = self._open.pop(id(node), None)
        if rec is None:
            return
        for (nxt, nr), g in zip(node.next_functions, result):
            rec["grad_out"].append({"to": self._node_name(nxt), "to_node": nxt, "input_nr": nr,
                                    "grad": summarize(g) if nxt is not None else None})

    def on_accumulate(self, var, before, g):
        self._pending = self._add({"kind": "accumulate", "leaf": self._leaf_name(var), "tensor": var,
                                   "before": summarize(before), "grad": summarize(g), "after": None})

    def on_accumulated(self, var):
        rec = getattr(self, "_pending", None)
        if rec is not None and rec["tensor"] is var:
            rec["after"] = summarize(var.grad)
            self._pending = None

    def on_retain(self, tensor, g):
        self._add({"kind": "retain_grad", "tensor": tensor, "node": tensor.grad_fn,
                   "name": tensor.grad_fn.name() if tensor.grad_fn is not None else "leaf", "grad": summarize(g)})

    def on_hook(self, hook, g):
        self._add({"kind": "hook", "hook": getattr(hook, "__qualname__", repr(hook)), "grad": summarize(g)})

    def on_free(self, node):
        shapes = []
        for s in node._saved or ():
            arr = s[0] if isinstance(s, tuple) else getattr(s, "_data", s)
            if hasattr(arr, "shape"):
                shapes.append(tuple(arr.shape))
        self._add({"kind": "free", "name": node.name(), "node": node, "saved": shapes})

    # -- views ----------------------------------------------------------------------------
    def nodes_in_order(self):
        """The grad_fn nodes in the order the engine ran them (AccumulateGrad included)."""
        out = []
        for s in self.steps:
            if s["kind"] == "node":
                out.append(s["node"])
            elif s["kind"] == "accumulate":
                out.append(s["tensor"]._accum)
        return out

    def __len__(self):
        return len(self.steps)

    def __iter__(self):
        return iter(self.steps)

    def __str__(self):
        lines = [f"{'#':>3}  {'what':<28} gradient"]
        lines.append("-" * 78)
        for s in self.steps:
            k = s["kind"]
            if k == "node":
                gin = "; ".join(_short(g) for g in s["grad_in"])
                lines.append(f"{s['step']:>3}  {s['name']:<28} in:  {gin}")
                for o in s["grad_out"]:
                    if o["to"] is None:
                        continue
                    lines.append(f"{'':>3}  {'  -> ' + o['to']:<28} out: {_short(o['grad'])}")
            elif k == "accumulate":
                lines.append(f"{s['step']:>3}  {'accumulate ' + s['leaf']:<28} .grad {_short(s['before'])} "
                             f"+ {_short(s['grad'])} = {_short(s['after'])}")
            elif k == "retain_grad":
                lines.append(f"{s['step']:>3}  {'retain_grad (' + s['name'] + ')':<28} .grad = {_short(s['grad'])}")
            elif k == "hook":
                lines.append(f"{s['step']:>3}  {'hook ' + s['hook']:<28} sees {_short(s['grad'])}")
            elif k == "free":
                saved = ", ".join("(" + ", ".join(map(str, sh)) + ")" for sh in s["saved"])
                lines.append(f"{s['step']:>3}  {'free saved of ' + s['name']:<28} {saved}")
        return "\n".join(lines)

    __repr__ = __str__

    def to_graph(self):
        """The traced graph with each node's execution step and the gradient along each edge."""
        from ..viz import Graph, _nid, leaf_label
        g = Graph(title="backward trace")
        order = {}
        for s in self.steps:
            if s["kind"] == "node":
                order[id(s["node"])] = s["step"]
            elif s["kind"] == "accumulate":
                order[id(s["tensor"]._accum)] = s["step"]
        names = {k: v for k, v in self._names.items()}
        for s in self.steps:
            if s["kind"] == "node":
                node = s["node"]
                retained = any(r["kind"] == "retain_grad" and r["node"] is node for r in self.steps)
                g.node(_nid(node), f"#{s['step']} {node.name()}" + ("\n[retains grad]" if retained else ""),
                       "op", "orange" if retained else "lightgrey")
                for o in s["grad_out"]:
                    nxt = o["to_node"]
                    if nxt is None or o["grad"] is None:
                        continue
                    if isinstance(nxt, AccumulateGrad) and _nid(nxt) not in g.nodes:
                        st = order.get(id(nxt), "?")
                        g.node(_nid(nxt), f"#{st} " + leaf_label(nxt.variable, names), "leaf", "lightblue")
                    gs = o["grad"]
                    g.edge(_nid(node), _nid(nxt), "(" + ",".join(map(str, gs["shape"])) + f") |g|={gs['norm']:.3g}")
        return g

    def to_dot(self) -> str:
        return self.to_graph().source

    def render(self, path: str, format: str | None = None) -> str:
        return self.to_graph().render(path, format)
