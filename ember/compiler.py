"""``ember.compiler`` and ``ember.compile``: PyTorch's compiler entry points, for scripts that call them.

Ember has no compiler: every op already runs eagerly, one NumPy/CuPy call at a time. ``ember.compile``
therefore hands back the module or function it is given, unchanged, so a training script written as
``model = torch.compile(model)`` runs as it is (eagerly, with the same numbers and no warm-up).
"""

__all__ = ["compile", "disable", "is_compiling", "is_dynamo_compiling", "is_exporting", "reset",
           "allow_in_graph", "assume_constant_result", "list_backends"]

_BACKENDS = ("inductor", "eager", "aot_eager", "cudagraphs")
_MODES = (None, "default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")


def compile(model=None, *, fullgraph: bool = False, dynamic=None, backend="inductor", mode=None,  # noqa: A001
            options=None, disable: bool = False):
    """Return ``model`` (an ``nn.Module`` or a function) unchanged: Ember runs eagerly and compiles nothing.

    Usable as ``compile(model)``, as ``@compile`` and as ``@compile(mode=...)``. The arguments are
    checked as PyTorch checks them (``mode`` and ``options`` are exclusive, ``mode`` must be one of
    PyTorch's) and otherwise ignored; ``backend`` may be any name or callable.
    """
    if mode is not None and options is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be specified at the same time.")
    if mode not in _MODES:
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: "
                           + ", ".join(m for m in _MODES if m is not None))
    if model is None:  # used as ``@compile(...)``
        def decorate(fn):
            return compile(fn, fullgraph=fullgraph, dynamic=dynamic, backend=backend, mode=mode, options=options,
                           disable=disable)
        return decorate
    if not callable(model):
        raise RuntimeError("compile(): the model must be a callable (an nn.Module or a function), got "
                           f"{type(model).__name__}")
    return model


def disable(fn=None, recursive: bool = True, *, reason=None):
    """Mark ``fn`` as not to be compiled: Ember compiles nothing, so ``fn`` is returned unchanged."""
    if fn is None:
        return lambda f: f
    return fn


def is_compiling() -> bool:
    """False: Ember never traces or compiles a function."""
    return False


def is_dynamo_compiling() -> bool:
    return False


def is_exporting() -> bool:
    return False


def reset() -> None:
    """Clear compilation caches: Ember keeps none."""


def allow_in_graph(fn):
    return fn


def assume_constant_result(fn):
    return fn


def list_backends(exclude_tags=("debug", "experimental")) -> list:
    """The ``backend=`` names ``compile`` accepts (all of them run eagerly in Ember)."""
    return ["cudagraphs", "inductor"]
