"""Pictures of the autograd graph: ``make_dot(output, params=None, show_saved=False)``.

The DOT text is always available (``graph.source``). ``graph.render("g.svg")`` uses Graphviz's
``dot`` program when it is installed, and otherwise Ember's own small layered SVG layout, so a
picture can always be drawn; PNG needs Graphviz. In Jupyter a graph displays inline.
"""
from __future__ import annotations

import html
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field

from .autograd.function import AccumulateGrad, Node


@dataclass
class GraphNode:
    id: str
    label: str
    kind: str = "op"        # "op", "leaf", "output"
    color: str = "lightgrey"


@dataclass
class Graph:
    """A drawn graph: nodes, edges ``(src, dst, label)``, and renderers."""

    nodes: dict = field(default_factory=dict)
    edges: list = field(default_factory=list)
    title: str = ""

    def node(self, id, label, kind="op", color="lightgrey"):
        self.nodes[id] = GraphNode(id, label, kind, color)

    def edge(self, src, dst, label=""):
        self.edges.append((src, dst, label))

    @property
    def source(self) -> str:
        lines = ["digraph {", '  graph [rankdir=TB, fontsize=12]',
                 '  node [shape=box, style=filled, fontname="monospace", fontsize=10]']
        for n in self.nodes.values():
            shape = "ellipse" if n.kind == "output" else "box"
            lab = n.label.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
            lines.append(f'  "{n.id}" [label="{lab}", fillcolor="{n.color}", shape={shape}]')
        for s, d, lab in self.edges:
            extra = f' [label="{lab}", fontsize=9]' if lab else ""
            lines.append(f'  "{s}" -> "{d}"{extra}')
        lines.append("}")
        return "\n".join(lines) + "\n"

    def save(self, path: str) -> str:
        with open(path, "w") as f:
            f.write(self.source)
        return path

    def pipe(self, format: str = "svg") -> bytes:
        """The picture as bytes: Graphviz when installed, else Ember's SVG layout (SVG only)."""
        dot = shutil.which("dot")
        if dot:
            return subprocess.run([dot, f"-T{format}"], input=self.source.encode(), capture_output=True,
                                  check=True).stdout
        if format != "svg":
            raise RuntimeError(f"rendering {format!r} needs Graphviz's 'dot' program (apt install graphviz); "
                               "SVG works without it")
        return _layered_svg(self).encode()

    def render(self, path: str, format: str | None = None) -> str:
        """Write the picture to ``path`` (format from the extension: svg, png, pdf, dot)."""
        fmt = format or os.path.splitext(path)[1].lstrip(".").lower() or "svg"
        if fmt in ("dot", "gv"):
            return self.save(path)
        data = self.pipe(fmt)
        d = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(dir=d, suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
        return path

    def _repr_svg_(self):
        return self.pipe("svg").decode()

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"image/svg+xml": self._repr_svg_(), "text/plain": self.source}


def _shape(t):
    return "(" + ", ".join(str(s) for s in t.shape) + ")"


def _retains(node):
    hooks = node._tensor_pre_hooks or {}
    return any(getattr(h, "__name__", "") == "_retain" for hs in hooks.values() for h in hs.values())


def walk(roots):
    """Every node reachable from ``roots`` (Nodes), each once, in discovery order."""
    seen, order, stack = set(), [], list(reversed(roots))
    while stack:
        n = stack.pop()
        if n is None or n in seen:
            continue
        seen.add(n)
        order.append(n)
        for nxt, _ in reversed(n.next_functions):
            if nxt is not None and nxt not in seen:
                stack.append(nxt)
    return order


def leaf_label(var, names):
    name = names.get(id(var)) if names else None
    return (name + "\n" if name else "") + _shape(var)


def make_dot(output, params=None, show_saved: bool = False) -> Graph:
    """The autograd graph that produced ``output`` (a Tensor or a sequence of them).

    ``params``: a mapping name -> tensor (e.g. ``dict(model.named_parameters())``) to label leaves.
    Op nodes carry PyTorch's grad_fn names; leaves show name and shape; nodes whose tensor called
    ``retain_grad()`` are marked.
    """
    from ._tensor import Tensor
    outs = [output] if isinstance(output, Tensor) else list(output)
    names = {id(v): k for k, v in (params or {}).items()}
    g = Graph()
    roots = []
    for i, o in enumerate(outs):
        oid = f"out{i}"
        g.node(oid, "output\n" + _shape(o) + (f"\n{names[id(o)]}" if id(o) in names else ""), "output", "darkolivegreen1")
        fn = o.grad_fn
        if fn is None and o.requires_grad:
            fn = o._accumulator()
        if fn is not None:
            roots.append(fn)
            g.edge(_nid(fn), oid)
    for n in walk(roots):
        _add_node(g, n, names, show_saved)
        for nxt, _ in n.next_functions:
            if nxt is not None:
                g.edge(_nid(nxt), _nid(n))
    return g


def _nid(n: Node) -> str:
    return f"n{id(n):x}"


def _add_node(g, n, names, show_saved, extra=""):
    if isinstance(n, AccumulateGrad):
        var = n.variable
        g.node(_nid(n), leaf_label(var, names) + extra, "leaf", "lightblue")
        return
    label = n.name()
    if show_saved and n._saved:
        for s in n._saved:
            if s is None:
                continue
            arr = s[0] if isinstance(s, tuple) else getattr(s, "_data", s)
            if hasattr(arr, "shape"):
                label += "\nsaved " + "(" + ", ".join(map(str, arr.shape)) + ")"
    if _retains(n):
        label += "\n[retains grad]"
    g.node(_nid(n), label + extra, "op", "orange" if _retains(n) else "lightgrey")


# --------------------------------------------------------------------------- built-in SVG layout
_CHAR_W, _LINE_H, _PAD, _GAP_X, _GAP_Y = 7.0, 14.0, 8.0, 24.0, 46.0


def _layered_svg(graph: Graph) -> str:
    """A simple layered drawing: sinks (outputs) on top, each node one row below its lowest consumer."""
    nodes = list(graph.nodes)
    consumers = {n: [] for n in nodes}
    for s, d, _ in graph.edges:
        if s in consumers and d in graph.nodes:
            consumers[s].append(d)
    depth = {}

    def depth_of(n, stack=()):
        if n in depth:
            return depth[n]
        if n in stack:
            return 0
        ds = [depth_of(c, stack + (n,)) + 1 for c in consumers[n]]
        depth[n] = max(ds) if ds else 0
        return depth[n]

    for n in nodes:
        depth_of(n)
    rows = {}
    for n in nodes:
        rows.setdefault(depth[n], []).append(n)
    size = {}
    for n in nodes:
        lines = graph.nodes[n].label.split("\n")
        size[n] = (max(len(s) for s in lines) * _CHAR_W + 2 * _PAD, len(lines) * _LINE_H + 2 * _PAD - 4)
    pos = {}
    y = 20.0
    width = 0.0
    for r in sorted(rows):
        row = rows[r]
        x = 20.0
        h = max(size[n][1] for n in row)
        for n in row:
            w = size[n][0]
            pos[n] = (x, y, w, size[n][1])
            x += w + _GAP_X
        width = max(width, x)
        y += h + _GAP_Y
    height = y
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
           f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="monospace" font-size="11">',
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
           'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#444"/></marker></defs>']
    if graph.title:
        out.append(f'<title>{html.escape(graph.title)}</title>')
    for s, d, lab in graph.edges:
        if s not in pos or d not in pos:
            continue
        x1, y1, w1, _ = pos[s]
        x2, y2, w2, h2 = pos[d]
        sx, sy = x1 + w1 / 2, y1
        ex, ey = x2 + w2 / 2, y2 + h2
        out.append(f'<line x1="{sx:.1f}" y1="{sy:.1f}" x2="{ex:.1f}" y2="{ey:.1f}" stroke="#444" '
                   'marker-end="url(#arrow)"/>')
        if lab:
            out.append(f'<text x="{(sx + ex) / 2 + 4:.1f}" y="{(sy + ey) / 2:.1f}" font-size="9" fill="#225">'
                       f'{html.escape(lab)}</text>')
    for n, (x, y0, w, h) in pos.items():
        gn = graph.nodes[n]
        if gn.kind == "output":
            out.append(f'<ellipse cx="{x + w / 2:.1f}" cy="{y0 + h / 2:.1f}" rx="{w / 2:.1f}" ry="{h / 2:.1f}" '
                       f'fill="{_svg_color(gn.color)}" stroke="#333"/>')
        else:
            out.append(f'<rect x="{x:.1f}" y="{y0:.1f}" width="{w:.1f}" height="{h:.1f}" rx="3" '
                       f'fill="{_svg_color(gn.color)}" stroke="#333"/>')
        for i, line in enumerate(gn.label.split("\n")):
            out.append(f'<text x="{x + w / 2:.1f}" y="{y0 + _PAD + (i + 0.8) * _LINE_H - 2:.1f}" '
                       f'text-anchor="middle">{html.escape(line)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _svg_color(name):
    return {"lightgrey": "#d3d3d3", "lightblue": "#add8e6", "orange": "#ffa500",
            "darkolivegreen1": "#caff70", "gold": "#ffd700", "palegreen": "#98fb98"}.get(name, name)
