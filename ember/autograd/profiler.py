"""``ember.autograd.profiler``: the legacy names, ``profile`` and ``record_function``."""
from __future__ import annotations

from ..profiler import record_function
from ..profiler._events import EventList, FunctionEvent, FunctionEventAvg

__all__ = ["profile", "record_function", "EventList", "FunctionEvent", "FunctionEventAvg"]


class profile:  # noqa: N801 - PyTorch's name
    """``torch.autograd.profiler.profile(enabled=True, record_shapes=..., profile_memory=..., with_stack=...)``."""

    def __init__(self, enabled: bool = True, *, use_cuda: bool = False, use_device=None, record_shapes: bool = False,
                 with_flops: bool = False, profile_memory: bool = False, with_stack: bool = False,
                 with_modules: bool = False, use_kineto: bool = False, use_cpu: bool = True, **kwargs):
        from .. import profiler as _p
        self.enabled = enabled
        self._prof = _p.profile(record_shapes=record_shapes, profile_memory=profile_memory, with_stack=with_stack)
        self.function_events = None

    def __enter__(self):
        if self.enabled:
            self._prof.__enter__()
        return self

    def __exit__(self, *exc):
        if self.enabled:
            self._prof.__exit__(*exc)
            self.function_events = self._prof.events()
        return False

    def _check(self):
        if self.function_events is None:
            raise RuntimeError("Profiler didn't finish running")
        return self.function_events

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0):
        return self._check().key_averages(group_by_input_shape, group_by_stack_n)

    def table(self, *args, **kwargs):
        return self._check().table(*args, **kwargs)

    def export_chrome_trace(self, path):
        return self._check().export_chrome_trace(path)

    @property
    def self_cpu_time_total(self):
        return self._check().self_cpu_time_total

    def __str__(self):
        return str(self._check())
