"""Grad mode: ``no_grad``, ``enable_grad``, ``set_grad_enabled``, ``inference_mode``.

The one flag lives in ``state.enabled``; ops read it once per call.
"""
from __future__ import annotations

import functools


class _State:
    __slots__ = ("enabled", "inference", "anomaly", "anomaly_check_nan", "trace")

    def __init__(self):
        self.enabled = True
        self.inference = False
        self.anomaly = False
        self.anomaly_check_nan = True
        self.trace = None  # the active ember.autograd.trace recorder, if any


state = _State()


def is_grad_enabled() -> bool:
    return state.enabled


def is_inference_mode_enabled() -> bool:
    return state.inference


class _GradModeContext:
    """Base for the grad-mode context managers; also usable as a decorator."""

    _target = True

    def __call__(self, fn):
        if isinstance(fn, type):
            raise TypeError(f"{type(self).__name__} cannot decorate a class")

        import inspect
        if inspect.isgeneratorfunction(fn):
            @functools.wraps(fn)
            def gen_wrapper(*args, **kwargs):
                # the mode holds while the generator body runs, not between its yields
                gen = fn(*args, **kwargs)
                step, arg = gen.send, None
                while True:
                    try:
                        with self.clone():
                            value = step(arg)
                    except StopIteration as stop:
                        return stop.value
                    try:
                        step, arg = gen.send, (yield value)
                    except GeneratorExit:
                        gen.close()
                        raise
                    except BaseException as e:  # noqa: BLE001 - forwarded into the generator
                        step, arg = gen.throw, e
            return gen_wrapper

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.clone():
                return fn(*args, **kwargs)
        return wrapper

    def clone(self):
        return type(self)()

    def __enter__(self):
        self._prev = state.enabled
        state.enabled = self._target
        return None

    def __exit__(self, *exc):
        state.enabled = self._prev
        return False


class no_grad(_GradModeContext):
    """Context manager / decorator that turns graph building off: ops run on the fast path."""

    _target = False

    def __new__(cls, orig_func=None):
        # ``@no_grad`` without parentheses decorates directly, as in PyTorch.
        self = super().__new__(cls)
        if orig_func is not None:
            return self(orig_func)
        return self


class enable_grad(_GradModeContext):
    """Context manager / decorator that turns graph building on (inside a no_grad block)."""

    _target = True

    def __new__(cls, orig_func=None):
        self = super().__new__(cls)
        if orig_func is not None:
            return self(orig_func)
        return self


class set_grad_enabled(_GradModeContext):
    """``set_grad_enabled(mode)``: sets grad mode at once; as a context manager, restores it on exit."""

    def __init__(self, mode: bool):
        if not isinstance(mode, bool):
            raise TypeError(f"set_grad_enabled(): argument 'mode' must be bool, not {type(mode).__name__}")
        self._prev = state.enabled
        self._target = mode
        state.enabled = mode

    def clone(self):
        return set_grad_enabled(self._target)

    def __call__(self, fn):
        # As a decorator it must not leave the mode changed by its own construction.
        state.enabled = self._prev
        return super().__call__(fn)

    def __enter__(self):
        state.enabled = self._target
        return None

    def __exit__(self, *exc):
        state.enabled = self._prev
        return False


class inference_mode(_GradModeContext):
    """Like ``no_grad`` (Ember has no separate inference tensors); ``inference_mode(False)`` is a no-op."""

    def __init__(self, mode: bool = True):
        self.mode = mode

    def clone(self):
        return inference_mode(self.mode)

    def __enter__(self):
        self._prev = state.enabled
        self._prev_inf = state.inference
        if self.mode:
            state.enabled = False
            state.inference = True
        return None

    def __exit__(self, *exc):
        state.enabled = self._prev
        state.inference = self._prev_inf
        return False


class set_detect_anomaly:
    """``set_detect_anomaly(True)``: backward raises naming the op whose backward produced NaN."""

    def __init__(self, mode: bool, check_nan: bool = True):
        self._prev = (state.anomaly, state.anomaly_check_nan)
        state.anomaly = mode
        state.anomaly_check_nan = check_nan

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        state.anomaly, state.anomaly_check_nan = self._prev
        return False


class detect_anomaly(set_detect_anomaly):
    def __init__(self, check_nan: bool = True):
        super().__init__(True, check_nan)


def is_anomaly_enabled() -> bool:
    return state.anomaly
