"""``repr(tensor)`` in PyTorch's format: ``tensor([1., 2.], requires_grad=True)``."""
from __future__ import annotations

import math

import numpy as np

from . import _dtype as D


class _PrintOptions:
    precision = 4
    threshold = 1000
    edgeitems = 3
    linewidth = 80
    sci_mode = None


PRINT_OPTS = _PrintOptions()


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None):
    if profile == "default":
        PRINT_OPTS.precision, PRINT_OPTS.threshold, PRINT_OPTS.edgeitems, PRINT_OPTS.linewidth = 4, 1000, 3, 80
    elif profile == "short":
        PRINT_OPTS.precision, PRINT_OPTS.threshold, PRINT_OPTS.edgeitems, PRINT_OPTS.linewidth = 2, 1000, 2, 80
    elif profile == "full":
        PRINT_OPTS.precision, PRINT_OPTS.threshold, PRINT_OPTS.edgeitems, PRINT_OPTS.linewidth = 4, math.inf, 3, 80
    if precision is not None:
        PRINT_OPTS.precision = precision
    if threshold is not None:
        PRINT_OPTS.threshold = threshold
    if edgeitems is not None:
        PRINT_OPTS.edgeitems = edgeitems
    if linewidth is not None:
        PRINT_OPTS.linewidth = linewidth
    PRINT_OPTS.sci_mode = sci_mode


class _Formatter:
    def __init__(self, values: np.ndarray):
        self.floating = values.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        if values.size == 0:
            return
        if values.dtype.kind == "b":
            self.max_width = max(len(str(bool(v))) for v in values.reshape(-1))
            return
        if not self.floating:
            self.max_width = max(len(str(v)) for v in values.reshape(-1).tolist())
            return
        v = values.astype(np.float64).reshape(-1)
        finite = v[np.isfinite(v)]
        nonzero = np.abs(finite[finite != 0])
        if finite.size == 0:
            self.max_width = max(len(_special(x)) for x in v)
            return
        self.int_mode = bool(np.all(np.ceil(finite) == finite))
        if self.int_mode:
            if nonzero.size and nonzero.max() > 1e8:
                self.sci_mode = True
                self.int_mode = False
        elif nonzero.size:
            mx, mn = nonzero.max(), nonzero.min()
            if mx / mn > 1000.0 or mx > 1e8 or mn < 1e-4:
                self.sci_mode = True
        if PRINT_OPTS.sci_mode is not None:
            self.sci_mode = PRINT_OPTS.sci_mode
            if self.sci_mode:
                self.int_mode = False
        self.max_width = max(len(self._fmt(x)) for x in v)

    def _fmt(self, x):
        if not math.isfinite(x):
            return _special(x)
        p = PRINT_OPTS.precision
        if self.int_mode:
            return f"{x:.0f}."
        if self.sci_mode:
            return f"{x:.{p}e}"
        return f"{x:.{p}f}"

    def format(self, x) -> str:
        if self.floating:
            s = self._fmt(float(x))
        elif isinstance(x, (bool, np.bool_)):
            s = str(bool(x))
        else:
            s = str(x)
        return " " * (self.max_width - len(s)) + s


def _special(x):
    if math.isnan(x):
        return "nan"
    return "inf" if x > 0 else "-inf"


def _summarize(a: np.ndarray, edge: int) -> np.ndarray:
    if a.ndim == 0:
        return a
    if a.shape[0] > 2 * edge:
        a = np.concatenate([a[:edge], a[-edge:]])
    return np.stack([_summarize(x, edge) for x in a]) if a.ndim > 1 else a


def _fmt_rows(a, fmt, indent, summarize):
    edge = PRINT_OPTS.edgeitems
    if a.ndim == 0:
        return fmt.format(a.item())
    if a.ndim == 1:
        items = a.tolist()
        if summarize and len(items) > 2 * edge:
            parts = [fmt.format(x) for x in items[:edge]] + ["..."] + [fmt.format(x) for x in items[-edge:]]
        else:
            parts = [fmt.format(x) for x in items]
        per_line = max(1, math.floor((PRINT_OPTS.linewidth - indent) / (fmt.max_width + 2)))
        lines = [", ".join(parts[i:i + per_line]) for i in range(0, len(parts), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    n = a.shape[0]
    sep = "," + "\n" * (a.ndim - 1) + " " * (indent + 1)
    if summarize and n > 2 * edge:
        rows = ([_fmt_rows(a[i], fmt, indent + 1, summarize) for i in range(edge)] + ["..."] +
                [_fmt_rows(a[i], fmt, indent + 1, summarize) for i in range(n - edge, n)])
    else:
        rows = [_fmt_rows(a[i], fmt, indent + 1, summarize) for i in range(n)]
    return "[" + sep.join(rows) + "]"


def array_str(a: np.ndarray, indent: int) -> str:
    summarize = a.size > PRINT_OPTS.threshold
    shown = _summarize(a, PRINT_OPTS.edgeitems) if summarize else a
    fmt = _Formatter(shown)
    return _fmt_rows(a, fmt, indent, summarize)


def tensor_repr(t, prefix: str = "tensor(", extra_suffixes=()) -> str:
    a = t._cpu_array()
    indent = len(prefix)
    suffixes = []
    if t.device.type != "cpu":
        suffixes.append(f"device='{t.device}'")
    dt = t.dtype
    if a.size == 0 and a.ndim != 1 or (a.size == 0 and a.shape != (0,)):
        body = "[]"
        suffixes.append(f"size={tuple(a.shape)}")
    elif a.size == 0:
        body = "[]"
    else:
        body = array_str(a, indent)
    if not (dt is D.get_default_dtype() or dt is D.int64 or dt is D.bool_ or
            (dt is D.complex64 and D.get_default_dtype() is D.float32)):
        suffixes.append(f"dtype={dt!r}")
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    suffixes.extend(extra_suffixes)
    s = prefix + body
    for suf in suffixes:
        last = s.rsplit("\n", 1)[-1]
        if len(last) + len(suf) + 2 > PRINT_OPTS.linewidth:
            s += ",\n" + " " * indent + suf
        else:
            s += ", " + suf
    return s + ")"
