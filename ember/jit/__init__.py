"""``ember.jit``: TorchScript's entry points, for code that calls them; Ember scripts and traces nothing.

- ``script`` and ``trace`` (and ``trace_module``, ``freeze``, ``optimize_for_inference``) return the function
  or module they are given, unchanged: it runs eagerly in Python, with the same numbers.
- ``is_scripting()`` and ``is_tracing()`` are always False, so ``if not torch.jit.is_scripting():`` branches
  take their eager side.
- ``ignore``, ``unused``, ``export``, ``interface`` and ``script_method`` are decorators that return what they
  decorate; ``Final`` is ``typing.Final``; ``annotate(type, value)`` returns ``value``.
- ``save`` and ``load`` raise NotImplementedError: there is no TorchScript archive to write or read.
  Save ``model.state_dict()`` with ``ember.save`` instead.
"""

import builtins as _builtins
from typing import Final

__all__ = ["script", "trace", "trace_module", "is_scripting", "is_tracing", "ignore", "unused", "export",
           "interface", "script_method", "Final", "annotate", "isinstance", "freeze", "optimize_for_inference",
           "fork", "wait", "save", "load"]


def script(obj, optimize=None, _frames_up: int = 0, _rcb=None, example_inputs=None):
    """Return ``obj`` (a function, ``nn.Module`` or class) unchanged: it runs eagerly."""
    return obj


def trace(func, example_inputs=None, optimize=None, check_trace: bool = True, check_inputs=None,
          check_tolerance: float = 1e-5, strict: bool = True, _force_outplace: bool = False,
          _module_class=None, _compilation_unit=None, example_kwarg_inputs=None, _store_inputs: bool = True):
    """Return ``func`` unchanged (nothing is recorded): it runs eagerly, also for inputs other than the
    example's, where a real trace would have frozen the control flow of the example."""
    return func


def trace_module(mod, inputs, optimize=None, check_trace: bool = True, check_inputs=None,
                 check_tolerance: float = 1e-5, strict: bool = True, _force_outplace: bool = False,
                 _module_class=None, _compilation_unit=None, example_inputs_is_kwarg: bool = False,
                 _store_inputs: bool = True):
    return mod


def is_scripting() -> bool:
    """False: Ember code never runs under TorchScript."""
    return False


def is_tracing() -> bool:
    """False: Ember never traces."""
    return False


def ignore(drop=False, **kwargs):
    """``@ignore`` or ``@ignore(drop=True)``: leave a function to Python, which is where it runs anyway."""
    if callable(drop):
        return drop
    return lambda fn: fn


def unused(fn):
    return fn


def export(fn):
    return fn


def interface(obj):
    return obj


def script_method(fn):
    return fn


def annotate(the_type, the_value):
    """The value itself (TorchScript reads the type; Python needs nothing)."""
    return the_value


def isinstance(obj, target_type) -> bool:  # noqa: A001
    """Python's isinstance, also for ``List[int]``-style containers (checked on the container type only)."""
    origin = getattr(target_type, "__origin__", None)
    return _builtins.isinstance(obj, origin if origin is not None else target_type)


def freeze(mod, preserved_attrs=None, optimize_numerics: bool = True):
    return mod


def optimize_for_inference(mod, other_methods=None):
    return mod


class _Done:
    """What ``fork`` returns: the call's result, already computed (Ember runs it at once)."""

    def __init__(self, value):
        self._value = value

    def wait(self):
        return self._value

    def done(self) -> bool:
        return True


def fork(func, *args, **kwargs):
    """Run ``func(*args, **kwargs)`` now (no parallelism) and return a future holding its result."""
    return _Done(func(*args, **kwargs))


def wait(future):
    return future.wait()


def save(m, f, _extra_files=None):
    raise NotImplementedError("ember.jit.save: Ember has no TorchScript, so there is no scripted module to save "
                              "(ember.jit.script returns the module unchanged). Save its weights instead: "
                              "ember.save(model.state_dict(), f)")


def load(f, map_location=None, _extra_files=None, _restore_shapes: bool = False):
    raise NotImplementedError("ember.jit.load: Ember cannot read TorchScript archives (they hold compiled "
                              "code, not only weights). Load a state_dict with ember.load(f) and "
                              "model.load_state_dict(...)")
