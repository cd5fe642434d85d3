"""``ember.backends.cudnn``: PyTorch's cuDNN switches, kept as plain flags.

Ember does not call cuDNN (its GPU path is CuPy's array operations), so ``is_available()`` is False and
``version()`` is None, and setting ``enabled``, ``benchmark``, ``deterministic`` or ``allow_tf32`` changes
nothing: the flags exist so that training scripts which set them run unchanged. Ember's own ops are
deterministic on the CPU whatever ``deterministic`` says.
"""

import contextlib as _contextlib

__all__ = ["enabled", "benchmark", "benchmark_limit", "deterministic", "allow_tf32", "is_available", "version",
           "is_acceptable", "flags"]

enabled = True
benchmark = False
benchmark_limit = 10
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    """False: Ember has no cuDNN code path."""
    return False


def version():
    """None, as PyTorch answers where cuDNN is not available."""
    return None


def is_acceptable(tensor) -> bool:
    return False


@_contextlib.contextmanager
def flags(enabled=False, benchmark=False, benchmark_limit=10, deterministic=False, allow_tf32=True):
    """Set the flags for the block and restore them after it (they change nothing in Ember)."""
    g = globals()
    names = ("enabled", "benchmark", "benchmark_limit", "deterministic", "allow_tf32")
    old = {n: g[n] for n in names}
    g.update(zip(names, (enabled, benchmark, benchmark_limit, deterministic, allow_tf32)))
    try:
        yield
    finally:
        g.update(old)
