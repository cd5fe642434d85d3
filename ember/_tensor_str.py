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
    """Decides one width and one notation for every element of the (summarised) tensor.

    PyTorch's rules: integer and bool tensors print ``str(value)``; floating tensors look only at
    their finite non-zero values: all integral -> ``1.`` style (scientific when max/min > 1000 or
    max > 1e8), otherwise fixed ``precision`` digits (scientific when max/min > 1000, max > 1e8 or
    min < 1e-4). nan/inf/0 never widen a column.
    """

    def __init__(self, values: np.ndarray):
        self.floating = values.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        flat = values.reshape(-1)
        if not self.floating:
            if flat.size:
                self.max_width = max(1, max(len(str(v)) for v in flat.tolist()))
            return
        v = flat.astype(np.float64)
        nz = v[np.isfinite(v) & (v != 0)]
        if nz.size:
            p = PRINT_OPTS.precision
            a = np.abs(nz)
            mx, mn = a.max(), a.min()
            vals = nz.tolist()
            self.int_mode = bool(np.all(np.ceil(nz) == nz))
            wide = mx / mn > 1000.0 or mx > 1.0e8
            self.sci_mode = wide if self.int_mode else (wide or mn < 1.0e-4)
            if PRINT_OPTS.sci_mode is not None:
                self.sci_mode = PRINT_OPTS.sci_mode
            if self.sci_mode:
                self.max_width = max(len(f"{x:.{p}e}") for x in vals)
            elif self.int_mode:
                self.max_width = max(len(f"{x:.0f}") for x in vals) + 1
            else:
                self.max_width = max(len(f"{x:.{p}f}") for x in vals)
        elif PRINT_OPTS.sci_mode is not None:
            self.sci_mode = PRINT_OPTS.sci_mode

    def width(self) -> int:
        return self.max_width

    def format(self, x) -> str:
        if self.floating:
            p = PRINT_OPTS.precision
            if self.sci_mode:
                s = f"{x:{self.max_width}.{p}e}"
            elif self.int_mode:
                s = f"{x:.0f}"
                if math.isfinite(x):
                    s += "."
            else:
                s = f"{x:.{p}f}"
        else:
            s = str(x)
        return " " * (self.max_width - len(s)) + s


def _summarize(a: np.ndarray, edge: int) -> np.ndarray:
    if a.ndim == 0:
        return a
    if a.shape[0] > 2 * edge:
        a = np.concatenate([a[:edge], a[-edge:]])
    return np.stack([_summarize(x, edge) for x in a]) if a.ndim > 1 else a


def _fmt_rows(a, fmt, indent, summarize):
    """Nested brackets; ``fmt`` is one formatter, or a (real, imag) pair for complex tensors."""
    edge = PRINT_OPTS.edgeitems
    if a.ndim == 0:
        return _fmt_value(a.item(), fmt)
    if a.ndim == 1:
        items = a.tolist()
        if summarize and len(items) > 2 * edge:
            parts = ([_fmt_value(x, fmt) for x in items[:edge]] + [" ..."] +
                     [_fmt_value(x, fmt) for x in items[-edge:]])
        else:
            parts = [_fmt_value(x, fmt) for x in items]
        width = fmt[0].width() + fmt[1].width() + 3 if type(fmt) is tuple else fmt.width() + 2
        per_line = max(1, math.floor((PRINT_OPTS.linewidth - indent) / width))
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


def _fmt_value(x, fmt) -> str:
    if type(fmt) is not tuple:
        return fmt.format(x)
    re_s = fmt[0].format(x.real)
    im_s = (fmt[1].format(x.imag) + "j").lstrip()
    return re_s + im_s if im_s[0] in "+-" else re_s + "+" + im_s


def array_str(a: np.ndarray, indent: int) -> str:
    """The bracketed body of a tensor's repr (``[[1., 2.], ...]``)."""
    summarize = a.size > PRINT_OPTS.threshold
    if a.dtype == np.float16 or a.dtype.kind == "V":  # V: bfloat16, printed through float32 like PyTorch
        a = a.astype(np.float32)
    shown = _summarize(a, PRINT_OPTS.edgeitems) if summarize else a
    if a.dtype.kind == "c":
        fmt = (_Formatter(shown.real), _Formatter(shown.imag))
    else:
        fmt = _Formatter(shown)
    return _fmt_rows(a, fmt, indent, summarize)


def _default_complex():
    return D.complex128 if D.get_default_dtype() is D.float64 else D.complex64


def tensor_repr(t, prefix: str = "tensor(", extra_suffixes=()) -> str:
    """PyTorch's ``repr``: body, then ``device=``, ``size=``, ``dtype=``, ``grad_fn=``/``requires_grad=``."""
    a = t._cpu_array()
    indent = len(prefix)
    suffixes = []
    if t.device.type != "cpu":
        suffixes.append(f"device='{t.device}'")
    dt = t.dtype
    if a.size == 0:
        # Nothing to infer the dtype from: anything but the default float dtype is named.
        if a.ndim != 1:
            suffixes.append(f"size={tuple(a.shape)}")
        if dt is not D.get_default_dtype():
            suffixes.append(f"dtype={dt!r}")
        body = "[]"
    else:
        if dt not in (D.get_default_dtype(), _default_complex(), D.int64, D.bool_):
            suffixes.append(f"dtype={dt!r}")
        body = array_str(a, indent)
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    suffixes.extend(extra_suffixes)
    return _add_suffixes(prefix + body, suffixes, indent)


def _add_suffixes(s: str, suffixes, indent: int) -> str:
    # PyTorch counts the last line as 2 characters longer than it is; keep its wrapping points.
    parts = [s]
    last = len(s) - s.rfind("\n") + 1
    for suf in suffixes:
        if last + len(suf) + 2 > PRINT_OPTS.linewidth:
            parts.append(",\n" + " " * indent + suf)
            last = indent + len(suf)
        else:
            parts.append(", " + suf)
            last += len(suf) + 2
    parts.append(")")
    return "".join(parts)
