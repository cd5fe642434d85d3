"""Event recording for ``ember.profiler``: timed spans, their averages, and PyTorch's table layout.

A span is opened and closed on one stack per profiler session; a span's self time is its total time
less its direct children's totals, as PyTorch computes it. Times are kept in nanoseconds
(``time.perf_counter_ns``) and shown in microseconds like PyTorch's ``FunctionEvent``.
"""
from __future__ import annotations

import threading
import time


class FunctionEvent:
    """One timed span: an op, a backward node or a ``record_function`` block."""

    __slots__ = ("id", "name", "start_ns", "end_ns", "input_shapes", "stack", "cpu_parent", "cpu_children",
                 "cpu_memory_usage", "thread", "kind")

    def __init__(self, id, name, start_ns, input_shapes, stack, parent, thread, kind):
        self.id = id
        self.name = name
        self.start_ns = start_ns
        self.end_ns = start_ns
        self.input_shapes = input_shapes
        self.stack = stack
        self.cpu_parent = parent
        self.cpu_children = []
        self.cpu_memory_usage = 0
        self.thread = thread
        self.kind = kind

    key = property(lambda self: self.name)
    count = property(lambda self: 1)

    @property
    def cpu_time_total(self) -> float:
        """Microseconds from start to end, children included."""
        return (self.end_ns - self.start_ns) / 1000.0

    @property
    def self_cpu_time_total(self) -> float:
        return self.cpu_time_total - sum(c.cpu_time_total for c in self.cpu_children)

    cpu_time = cpu_time_total

    @property
    def self_cpu_memory_usage(self) -> int:
        return self.cpu_memory_usage - sum(c.cpu_memory_usage for c in self.cpu_children)

    @property
    def time_range(self):
        return (self.start_ns / 1000.0, self.end_ns / 1000.0)

    device_time_total = self_device_time_total = device_time = 0.0
    cuda_time_total = self_cuda_time_total = 0.0

    def __repr__(self):
        return (f"<FunctionEvent id={self.id} name={self.name} cpu_time={_format_time(self.cpu_time_total)} "
                f"input_shapes={self.input_shapes}>")


class FunctionEventAvg:
    """Events of one key (name, and input shapes when grouped by them) summed up."""

    def __init__(self, key, input_shapes=None, stack=None):
        self.key = key
        self.count = 0
        self.cpu_time_total = 0.0
        self.self_cpu_time_total = 0.0
        self.cpu_memory_usage = 0
        self.self_cpu_memory_usage = 0
        self.input_shapes = input_shapes
        self.stack = stack

    device_time_total = self_device_time_total = 0.0
    cuda_time_total = self_cuda_time_total = 0.0

    @property
    def cpu_time(self) -> float:
        return self.cpu_time_total / self.count if self.count else 0.0

    def add(self, ev):
        self.count += ev.count
        self.cpu_time_total += ev.cpu_time_total
        self.self_cpu_time_total += ev.self_cpu_time_total
        self.cpu_memory_usage += ev.cpu_memory_usage
        self.self_cpu_memory_usage += ev.self_cpu_memory_usage
        return self

    def __repr__(self):
        return (f"<FunctionEventAvg key={self.key} self_cpu_time={_format_time(self.self_cpu_time_total)} "
                f"cpu_time={_format_time(self.cpu_time_total)} count={self.count}>")


class EventList(list):
    """A list of events with PyTorch's summaries: ``key_averages``, ``table``, ``export_chrome_trace``."""

    def __init__(self, events=(), profile_memory=False):
        super().__init__(events)
        self._profile_memory = profile_memory

    @property
    def self_cpu_time_total(self) -> float:
        return sum(e.self_cpu_time_total for e in self)

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0,
                     group_by_overload_name: bool = False) -> "EventList":
        groups: dict = {}
        for ev in self:
            name = ev.key
            if name.startswith("ProfilerStep#"):
                name = "ProfilerStep*"  # PyTorch folds the numbered step markers into one row
            key = [name]
            if group_by_input_shape:
                key.append(str(ev.input_shapes))
            if group_by_stack_n > 0:
                key.append(str((ev.stack or [])[:group_by_stack_n]))
            key = tuple(key)
            avg = groups.get(key)
            if avg is None:
                avg = groups[key] = FunctionEventAvg(
                    name, ev.input_shapes if group_by_input_shape else None,
                    (ev.stack or [])[:group_by_stack_n] if group_by_stack_n > 0 else None)
            avg.add(ev)
        return EventList(groups.values(), self._profile_memory)

    def table(self, sort_by: str | None = None, row_limit: int = 100, max_src_column_width: int = 75,
              max_name_column_width: int = 55, max_shapes_column_width: int = 80, header: str | None = None,
              top_level_events_only: bool = False, time_unit: str | None = None) -> str:
        return _build_table(self, sort_by, row_limit, max_name_column_width, max_shapes_column_width,
                            max_src_column_width, header, self._profile_memory, time_unit)

    def __str__(self):
        return self.table()

    def export_chrome_trace(self, path: str) -> None:
        import json
        import os
        events = []
        pid = os.getpid()
        for ev in self:
            if not isinstance(ev, FunctionEvent):
                continue
            rec = {"ph": "X", "cat": ev.kind, "name": ev.name, "pid": pid, "tid": ev.thread,
                   "ts": ev.start_ns / 1000.0, "dur": (ev.end_ns - ev.start_ns) / 1000.0, "args": {}}
            if ev.input_shapes is not None:
                rec["args"]["Input Dims"] = ev.input_shapes
            if ev.stack:
                rec["args"]["Call stack"] = ";".join(ev.stack)
            events.append(rec)
        with open(path, "w") as f:
            json.dump({"schemaVersion": 1, "traceEvents": events, "displayTimeUnit": "ms",
                       "traceName": path}, f)


def _format_time(us: float, unit: str | None = None) -> str:
    if unit == "s" or (unit is None and us >= 1e6):
        return f"{us / 1e6:.3f}s"
    if unit == "ms" or (unit is None and us >= 1e3):
        return f"{us / 1e3:.3f}ms"
    return f"{us:.3f}us"


def _format_memory(nbytes: int) -> str:
    kb, mb, gb = 1024, 1024 ** 2, 1024 ** 3
    if abs(nbytes) >= gb:
        return f"{nbytes / gb:.2f} Gb"
    if abs(nbytes) >= mb:
        return f"{nbytes / mb:.2f} Mb"
    if abs(nbytes) >= kb:
        return f"{nbytes / kb:.2f} Kb"
    return f"{nbytes} b"


_SORT_KEYS = {"cpu_time_total", "self_cpu_time_total", "cpu_time", "count", "cpu_memory_usage",
              "self_cpu_memory_usage", "device_time_total", "self_device_time_total", "cuda_time_total",
              "self_cuda_time_total", "device_time", "cuda_time"}


def _build_table(events, sort_by, row_limit, max_name_width, max_shapes_width, max_src_width, header,
                 profile_memory, time_unit):
    """PyTorch's table: right-aligned columns two spaces apart, dashed rules, a total line."""
    if not events:
        return ""
    if sort_by is not None:
        if sort_by not in _SORT_KEYS:
            raise AttributeError(f"'FunctionEventAvg' object has no attribute '{sort_by}'")
        attr = "cpu_time_total" if sort_by == "cpu_time" and isinstance(events[0], FunctionEventAvg) else sort_by
        events = sorted(events, key=lambda e: getattr(e, attr, 0), reverse=True)
    has_shapes = any(e.input_shapes for e in events)
    has_stack = any(e.stack for e in events)
    name_w = min(max(len(e.key) for e in events) + 4, max_name_width)
    shapes_w = min(max(len(str(e.input_shapes)) for e in events) + 4, max_shapes_width)
    src_w = min(max(len(s) for e in events for s in (e.stack or [""])) + 4, max_src_width) if has_stack else 0
    cols = [("Name", name_w)] + [(h, 12) for h in ("Self CPU %", "Self CPU", "CPU total %", "CPU total",
                                                    "CPU time avg")]
    if profile_memory:
        cols += [("CPU Mem", 12), ("Self CPU Mem", 12)]
    cols.append(("# of Calls", 12))
    if has_shapes:
        cols.append(("Input Shapes", shapes_w))
    if has_stack:
        cols.append(("Source Location", src_w))
    rule = "".join("-" * w + "  " for _, w in cols)

    def row(values):
        return "".join(f"{_fit(str(v), w):>{w}}  " for v, (_, w) in zip(values, cols))

    total = sum(e.self_cpu_time_total for e in events)
    pct = (lambda v: f"{100.0 * v / total:.2f}%") if total > 0 else (lambda v: "0.00%")
    lines = []
    if header is not None:
        lines += ["=" * (len(rule) - 2), header]
    lines += [rule, row([c for c, _ in cols]), rule]
    for e in events[:row_limit] if row_limit is not None and row_limit > 0 else events:
        vals = [e.key, pct(e.self_cpu_time_total), _format_time(e.self_cpu_time_total, time_unit),
                pct(e.cpu_time_total), _format_time(e.cpu_time_total, time_unit),
                _format_time(e.cpu_time_total / max(e.count, 1), time_unit)]
        if profile_memory:
            vals += [_format_memory(e.cpu_memory_usage), _format_memory(e.self_cpu_memory_usage)]
        vals.append(e.count)
        if has_shapes:
            vals.append(str(e.input_shapes))
        if has_stack:
            vals.append((e.stack or [""])[0])
        lines.append(row(vals))
    lines.append(rule)
    lines.append(f"Self CPU time total: {_format_time(total, time_unit)}")
    return "\n".join(lines) + "\n"


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 3] + "..."


class _Session:
    """The spans of one collection window, opened and closed on a stack."""

    def __init__(self, record_shapes, profile_memory, with_stack):
        self.record_shapes = record_shapes
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.events: list[FunctionEvent] = []
        self.stack: list[FunctionEvent] = []
        self._lock = threading.Lock()

    def open(self, name, kind, args=None):
        shapes = None
        if self.record_shapes:
            shapes = [] if args is None else [list(a.shape) if hasattr(a, "shape") and hasattr(a, "_data")
                                               else [] for a in args]
        stack = None
        if self.with_stack:
            import traceback
            stack = [f"{fr.filename}({fr.lineno}): {fr.name}" for fr in reversed(traceback.extract_stack()[:-3])
                     if "/ember/profiler/" not in fr.filename and "/ember/autograd/" not in fr.filename][:5]
        parent = self.stack[-1] if self.stack else None
        ev = FunctionEvent(len(self.events), name, 0, shapes, stack, parent, threading.get_ident(), kind)
        self.events.append(ev)
        if parent is not None:
            parent.cpu_children.append(ev)
        self.stack.append(ev)
        ev.start_ns = time.perf_counter_ns()
        return ev

    def close(self, ev, result=None):
        ev.end_ns = time.perf_counter_ns()
        if self.profile_memory:
            if result is not None:
                ev.cpu_memory_usage += _nbytes(result)
            if ev.cpu_parent is not None:
                ev.cpu_parent.cpu_memory_usage += ev.cpu_memory_usage
        stack = self.stack
        while stack:  # an exception may have skipped inner closes
            top = stack.pop()
            if top is ev:
                break
            top.end_ns = ev.end_ns


def _nbytes(result) -> int:
    """Bytes of the Tensors an op returned (what it allocated; frees are not tracked)."""
    if isinstance(result, (tuple, list)):
        return sum(_nbytes(r) for r in result)
    data = getattr(result, "_data", None)
    return int(getattr(data, "nbytes", 0) or 0)
