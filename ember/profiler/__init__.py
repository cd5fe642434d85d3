"""``ember.profiler``: PyTorch's CPU profiler API, timing Ember's ops and backward nodes.

    with ember.profiler.profile(record_shapes=True) as prof:
        with ember.profiler.record_function("model_inference"):
            model(x).sum().backward()
    print(prof.key_averages().table(sort_by="cpu_time_total", row_limit=10))

Forward ops are named after PyTorch's aten ops (``aten::addmm``, ``aten::mul``), backward nodes after
their ``grad_fn`` (``MulBackward0``, inside ``autograd::engine::evaluate_function: MulBackward0``).
Ember's ops are single NumPy calls, so the nested aten ops PyTorch shows inside a composite op
(``aten::linear`` -> ``aten::t`` -> ``aten::transpose``) do not appear. Only CPU activity exists; memory
columns count the bytes of the tensors each op returned (frees are not tracked).
"""
import enum as _enum
import functools as _functools

from ._events import EventList as _EventList, _Session
from . import _hooks

__all__ = ["ProfilerActivity", "ProfilerAction", "profile", "record_function", "schedule",
           "tensorboard_trace_handler", "supported_activities"]


class ProfilerActivity(_enum.Enum):
    CPU = 0
    CUDA = 2
    XPU = 3
    MTIA = 4
    HPU = 5
    PrivateUse1 = 6


class ProfilerAction(_enum.Enum):
    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3


def supported_activities():
    return {ProfilerActivity.CPU}


def schedule(*, wait: int, warmup: int, active: int, repeat: int = 0, skip_first: int = 0,
             skip_first_wait: int = 0):
    """A step -> ProfilerAction function: skip ``skip_first`` steps, then cycles of ``wait`` idle steps,
    ``warmup`` steps and ``active`` recorded steps (the last one saves), ``repeat`` times (0: forever).
    With ``skip_first_wait`` the first cycle's wait is dropped."""
    if wait < 0 or warmup < 0 or active <= 0 or repeat < 0 or skip_first < 0:
        raise AssertionError(
            f"Invalid profiler schedule arguments. Got wait={wait} (need >= 0), warmup={warmup} (need >= 0), "
            f"active={active} (need > 0), repeat={repeat} (need >= 0), skip_first={skip_first} (need >= 0).")
    cycle = wait + warmup + active

    def schedule_fn(step: int):
        if step < 0:
            raise AssertionError(f"Step must be non-negative. Got {step}.")
        if step < skip_first:
            return ProfilerAction.NONE
        pos = step - skip_first + (wait if skip_first_wait else 0)
        if repeat > 0 and pos >= repeat * cycle:
            return ProfilerAction.NONE
        phase = pos % cycle
        if phase < wait:
            return ProfilerAction.NONE
        if phase < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD_AND_SAVE if phase == cycle - 1 else ProfilerAction.RECORD

    return schedule_fn


def _always_record(step: int):
    return ProfilerAction.RECORD


_current: list = [None]  # the collecting _Session, if any


class record_function:  # noqa: N801 - PyTorch's name
    """Label a block (context manager) or every call of a function (decorator) in the profile."""

    def __init__(self, name: str, args: str | None = None):
        self.name = name
        self.args = args
        self._ev = None

    def __enter__(self):
        session = _current[0]
        if session is not None:
            self._ev = (session, session.open(self.name, "user_annotation"))
        return self

    def __exit__(self, *exc):
        if self._ev is not None:
            session, ev = self._ev
            session.close(ev)
            self._ev = None
        return False

    def __call__(self, fn):
        @_functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with record_function(self.name, self.args):
                return fn(*args, **kwargs)
        return wrapper


class profile:  # noqa: N801 - PyTorch's name
    """Collect op timings; see the module doc. ``schedule`` decides per ``step()`` whether to record;
    ``on_trace_ready(prof)`` runs each time a recorded window ends."""

    def __init__(self, *, activities=None, schedule=None, on_trace_ready=None, record_shapes: bool = False,
                 profile_memory: bool = False, with_stack: bool = False, with_flops: bool = False,
                 with_modules: bool = False, experimental_config=None, execution_trace_observer=None,
                 acc_events: bool = False, use_cuda=None, custom_trace_id_callback=None, **kwargs):
        acts = set(activities) if activities is not None else supported_activities()
        unknown = [a for a in acts if not isinstance(a, ProfilerActivity)]
        if unknown:
            raise TypeError(f"profile(): activities must be ProfilerActivity members, got {unknown}")
        self.activities = acts
        self.record_shapes = record_shapes
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.with_flops = with_flops
        self.with_modules = with_modules
        self.on_trace_ready = on_trace_ready
        self.record_steps = schedule is not None
        self.schedule = schedule if schedule is not None else _always_record
        self.acc_events = acc_events
        self.step_num = 0
        self.current_action = self.schedule(0)
        self._session = None
        self._events = None
        self._all = []
        self._step_rec = None

    # -- collection windows -------------------------------------------------------------
    def _start_trace(self):
        if _current[0] is not None:
            raise RuntimeError("Profiler is already enabled on this thread: profilers cannot be nested")
        self._session = _Session(self.record_shapes, self.profile_memory, self.with_stack)
        _current[0] = self._session
        _hooks.install(self._session)

    def _stop_trace(self):
        session = self._session
        if session is None:
            return
        _hooks.uninstall()
        _current[0] = None
        self._session = None
        self._events = _EventList(session.events, self.profile_memory)
        if self.acc_events:
            self._all.extend(session.events)

    def _trace_ready(self):
        if self.on_trace_ready is not None:
            self.on_trace_ready(self)

    @staticmethod
    def _recording(action):
        return action in (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE)

    def _transit(self, prev, cur):
        if prev is ProfilerAction.RECORD_AND_SAVE or (self._recording(prev) and not self._recording(cur)):
            self._stop_trace()
            self._trace_ready()
        elif prev is ProfilerAction.WARMUP and cur is None:
            # ended during warmup: PyTorch starts and stops an empty window, then reports it
            self._start_trace()
            self._stop_trace()
            self._trace_ready()
        if cur is not None and self._recording(cur) and self._session is None:
            self._start_trace()

    def _open_step(self):
        if self.record_steps:
            self._step_rec = record_function("ProfilerStep#" + str(self.step_num))
            self._step_rec.__enter__()

    def _close_step(self):
        if self._step_rec is not None:
            self._step_rec.__exit__(None, None, None)
            self._step_rec = None

    def start(self):
        self._transit(ProfilerAction.NONE, self.current_action)
        self._open_step()

    def stop(self):
        self._close_step()
        self._transit(self.current_action, None)

    def step(self):
        """Mark the end of a training step: the schedule decides what the next step records."""
        self._close_step()
        prev = self.current_action
        self.step_num += 1
        self.current_action = self.schedule(self.step_num)
        self._transit(prev, self.current_action)
        self._open_step()

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    # -- results ------------------------------------------------------------------------
    def events(self):
        if self._events is None:
            raise AssertionError("Profiler didn't finish running: call events() after the profile ends")
        if self.acc_events:
            return _EventList(self._all, self.profile_memory)
        return self._events

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0,
                     group_by_overload_name: bool = False):
        return self.events().key_averages(group_by_input_shape, group_by_stack_n)

    def export_chrome_trace(self, path: str) -> None:
        self.events().export_chrome_trace(path)

    def table(self, *args, **kwargs) -> str:
        return self.events().table(*args, **kwargs)

    @property
    def self_cpu_time_total(self) -> float:
        return self.events().self_cpu_time_total


def tensorboard_trace_handler(dir_name: str, worker_name: str | None = None, use_gzip: bool = False):
    """An ``on_trace_ready`` that writes each window's Chrome trace into ``dir_name``."""
    import os
    import socket
    import time

    def handler(prof):
        os.makedirs(dir_name, exist_ok=True)
        name = worker_name or f"{socket.gethostname()}_{os.getpid()}"
        path = os.path.join(dir_name, f"{name}.{time.time_ns() // 1_000_000}.pt.trace.json")
        prof.export_chrome_trace(path)
        if use_gzip:
            import gzip
            import shutil
            with open(path, "rb") as src, gzip.open(path + ".gz", "wb") as dst:
                shutil.copyfileobj(src, dst)
            os.remove(path)
    return handler
