"""``ember.autograd.graph``: the backward graph's public surface, as in ``torch.autograd.graph``.

* ``Node``: the type of ``tensor.grad_fn``.
* ``saved_tensors_hooks(pack_hook, unpack_hook)``: every tensor an op saves for backward while the
  context is active goes through ``pack_hook`` (its result is what the graph keeps), and comes back
  through ``unpack_hook`` each time backward reads it. The innermost active pair wins.
* ``save_on_cpu``: the hooks that park saved tensors in host memory until backward needs them.
* ``disable_saved_tensors_hooks(error_message)``: entering ``saved_tensors_hooks`` inside it raises.
* ``register_multi_grad_hook(tensors, fn, mode="all" | "any")``.
* ``GradientEdge`` / ``get_gradient_edge(tensor)``, ``increment_version(tensor)``.

The pack and unpack points live in ``ember.autograd.function`` (``Function._record`` and
``Node.saved_tensors``); with no hooks active they cost one list-truthiness check per recorded op.
"""
from __future__ import annotations

import threading as _threading
from typing import Any, Callable, NamedTuple, Sequence

from . import function as _fn
from .function import Node

__all__ = ["saved_tensors_hooks", "save_on_cpu", "disable_saved_tensors_hooks", "register_multi_grad_hook",
           "Node", "GradientEdge", "get_gradient_edge", "increment_version"]


class GradientEdge(NamedTuple):
    """A place in the graph a gradient flows into: output ``output_nr`` of ``node``."""

    node: Node
    output_nr: int
    ownership_token: Any = None  # something that keeps the graph alive where ``node`` cannot


def get_gradient_edge(tensor) -> GradientEdge:
    """The edge that ``tensor``'s gradient enters the graph through: ``(grad_fn, output_nr)`` for a
    computed tensor, ``(AccumulateGrad node, 0)`` for a leaf that requires grad."""
    if not tensor.requires_grad:
        raise RuntimeError("It is not possible to get the gradient edge for a Tensor that does not require "
                           "gradients")
    gfn = tensor.grad_fn
    if gfn is None:
        return GradientEdge(tensor._accumulator(), 0)
    return GradientEdge(gfn, tensor._output_nr)


def increment_version(tensor) -> None:
    """Bump the version counter of ``tensor`` (or of each tensor of an iterable), as an in-place write
    made outside Ember's ops would: a graph that saved it then refuses to backward."""
    from .._tensor import Tensor
    ts = (tensor,) if isinstance(tensor, Tensor) else tuple(tensor)
    for t in ts:
        t._vc[0] += 1


# -- saved-tensor hooks ------------------------------------------------------------------------

class saved_tensors_hooks:
    """Context manager: ``pack_hook(tensor) -> Any`` runs on every tensor saved for backward inside it;
    ``unpack_hook(packed) -> Tensor`` runs each time backward reads that saved tensor.

    Both run with grad mode off; ``unpack_hook`` must return a Tensor with the saved one's values.
    Saved tensors are not checked for in-place changes while hooks own them (as in PyTorch).
    """

    def __init__(self, pack_hook: Callable[[Any], Any], unpack_hook: Callable[[Any], Any]):
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self):
        msg = _fn._saved_hooks_disabled[0]
        if msg is not None:
            raise RuntimeError(msg)
        _fn._saved_hooks.append((self.pack_hook, self.unpack_hook))
        return self

    def __exit__(self, *exc):
        _fn._saved_hooks.pop()
        return False


class save_on_cpu(saved_tensors_hooks):
    """Saved tensors go to host memory during forward and come back to their device in backward.

    Ember's CPU tensors already live in host memory: for them packing keeps the tensor itself (no
    copy). ``pin_memory`` is accepted; the host copy of a CUDA tensor is an ordinary NumPy array.
    """

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda"):
        def pack(t):
            dev = t.device
            return dev, (t if dev.type == "cpu" else t.cpu())

        def unpack(packed):
            dev, t = packed
            return t if t.device == dev else t.to(dev)

        super().__init__(pack, unpack)
        self.pin_memory = pin_memory
        self.device_type = device_type


class disable_saved_tensors_hooks:
    """Context manager (also a decorator): inside it, entering ``saved_tensors_hooks`` raises
    ``RuntimeError(error_message)``; entering it while saved-tensor hooks are active raises too."""

    def __init__(self, error_message: str):
        self.error_message = error_message

    def __enter__(self):
        if _fn._saved_hooks:
            raise RuntimeError(self.error_message)
        self._prev = _fn._saved_hooks_disabled[0]
        _fn._saved_hooks_disabled[0] = self.error_message
        return self

    def __exit__(self, *exc):
        _fn._saved_hooks_disabled[0] = self._prev
        return False

    def __call__(self, func):
        import functools

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with disable_saved_tensors_hooks(self.error_message):
                return func(*args, **kwargs)
        return wrapper


# -- multi-grad hooks ------------------------------------------------------------------------

class _MultiHandle:
    """Removes every per-tensor hook a multi-grad hook registered."""

    def __init__(self, handles):
        self.handles = handles

    def remove(self) -> None:
        for h in self.handles:
            h.remove()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def register_multi_grad_hook(tensors: Sequence, fn: Callable, *, mode: str = "all") -> _MultiHandle:
    """Call ``fn`` once per backward pass over several tensors' gradients.

    ``mode="all"``: ``fn(grads)`` runs once the gradient of every tensor of ``tensors`` that this
    backward pass computes is ready; ``grads`` holds one entry per tensor, None where the pass did
    not compute that tensor's gradient (not in the graph, or not needed for the requested ``inputs``).
    ``mode="any"``: ``fn(grad)`` runs with the first of those gradients to be computed.
    ``fn`` must not change the gradients it receives. Returns a handle whose ``remove()`` undoes it.
    """
    if mode not in ("all", "any"):
        raise ValueError(f"Expects mode to be one of ('all', 'any') but got {mode}")
    from . import engine as _engine
    tensors = tuple(tensors)
    lock = _threading.Lock()

    if mode == "any":
        done = set()

        def any_hook(grad):
            task = _engine._current_task()
            with lock:
                if task.id in done:
                    return None
                done.add(task.id)
            task.on_end(lambda: done.discard(task.id))
            fn(grad)
            return None

        return _MultiHandle(tuple(t.register_hook(any_hook) for t in tensors if t.requires_grad))

    pending = {}  # task id -> [gradients so far, number still expected]

    def _all_hook(i):
        def all_hook(grad):
            task = _engine._current_task()
            with lock:
                entry = pending.get(task.id)
                if entry is None:
                    expected = sum(1 for n in edges if n is not None and task.will_run_hooks_of(n))
                    entry = pending[task.id] = [[None] * len(tensors), expected]
                    task.on_end(lambda: pending.pop(task.id, None))
                entry[0][i] = grad
                entry[1] -= 1
                ready = entry[1] == 0
                if ready:
                    del pending[task.id]
            if ready:
                fn(entry[0])
            return None
        return all_hook

    edges = []
    for t in tensors:
        if isinstance(t, GradientEdge):
            raise TypeError("register_multi_grad_hook: GradientEdge entries are not supported by Ember; pass tensors")
        if not t.requires_grad:
            raise AssertionError("Expected gradient function to be set")  # PyTorch's words and class
        edges.append(get_gradient_edge(t).node)
    handles = tuple(t.register_hook(_all_hook(i)) for i, t in enumerate(tensors))
    return _MultiHandle(handles)
