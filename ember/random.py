"""``ember.random``: the default random generator's seed and state, as ``torch.random`` has them.

The functions act on ``ember.default_generator`` (NumPy's PCG64, so the values differ from PyTorch's for the
same seed; a seed reproduces Ember's own stream exactly).
"""

import contextlib as _contextlib

from .ops.creation import (Generator, default_generator, get_rng_state, initial_seed, manual_seed, seed,
                           set_rng_state)

__all__ = ["Generator", "default_generator", "manual_seed", "seed", "initial_seed", "get_rng_state",
           "set_rng_state", "fork_rng"]


@_contextlib.contextmanager
def fork_rng(devices=None, enabled: bool = True, _caller: str = "fork_rng", _devices_kw: str = "devices",
             device_type: str = "cuda"):
    """Run the block with the default generator's state saved, and put that state back on exit.

    Random numbers drawn inside the block leave the stream outside it untouched, also when the block raises.
    ``devices``/``device_type`` are accepted for PyTorch's signature; Ember's GPU stream (CuPy's) is not
    forked. ``enabled=False`` makes the manager do nothing.
    """
    if not enabled:
        yield
        return
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)
