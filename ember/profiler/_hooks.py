"""Where the profiler listens: every ``Function.apply`` (forward ops) and the backward engine's nodes.

Nothing here runs unless a profiler is collecting: ``install`` wraps ``Function.apply`` and puts a
recorder in ``state.trace`` (the engine's per-node callback slot) when a collection window opens, and
``uninstall`` puts both back when it closes, so an unprofiled program pays nothing at all.
"""
from __future__ import annotations

import re

from ..autograd.function import Function, AccumulateGrad
from ..autograd.grad_mode import state

# Functions whose aten name is not their grad_fn name made snake_case
_ATEN = {
    "ToCopyBackward0": "aten::_to_copy", "CopySlices": "aten::copy_", "CopyBackwards": "aten::copy_",
    "SpecialXlog1PyBackward0": "aten::special_xlog1py", "RsubBackward1": "aten::rsub",
    "FillBackward2": "aten::fill_", "ZeroBackward0": "aten::zero_", "ClampBackward1": "aten::clamp",
    "TBackward0": "aten::t", "UnsafeViewBackward0": "aten::_unsafe_view", "IndexPutBackward0": "aten::index_put_",
    "MaskedFillBackward0": "aten::masked_fill", "ThresholdBackward0": "aten::threshold",
    "ReluBackward0": "aten::relu", "NativeLayerNormBackward0": "aten::native_layer_norm",
    "NativeBatchNormBackward0": "aten::native_batch_norm", "ConvolutionBackward0": "aten::convolution",
    "LogSoftmaxBackward0": "aten::_log_softmax", "SoftmaxBackward0": "aten::_softmax",
    "EmbeddingBackward0": "aten::embedding", "NllLossBackward0": "aten::nll_loss_forward",
    "MseLossBackward0": "aten::mse_loss",
}
_names: dict = {}


def op_name(cls) -> str:
    """The event name of a Function: PyTorch's aten op for Ember's primitives, the class name for users'."""
    name = _names.get(cls)
    if name is None:
        if cls.raw and cls.node_name:
            node = cls.node_name
            name = _ATEN.get(node)
            if name is None:
                base = re.sub(r"Backward\d*$", "", node)
                name = "aten::" + re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", base).lower()
        else:
            name = cls.__name__
        _names[cls] = name
    return name


class _Listener:
    """The engine's trace callbacks, timing each backward node like PyTorch's autograd events."""

    def __init__(self, session, prev):
        self.session = session
        self.prev = prev  # an ember.autograd.trace active when profiling began: still fed
        self._open = {}

    def on_node_start(self, node, grads):
        s = self.session
        name = node.name()
        outer = s.open("autograd::engine::evaluate_function: " + name, "cpu_op")
        inner = s.open(name, "cpu_op")
        self._open[id(node)] = (outer, inner)
        if self.prev is not None:
            self.prev.on_node_start(node, grads)

    def on_node_end(self, node, result):
        pair = self._open.pop(id(node), None)
        if pair is not None:
            self.session.close(pair[1])
            self.session.close(pair[0])
        if self.prev is not None:
            self.prev.on_node_end(node, result)

    def on_accumulate(self, var, before, g):
        s = self.session
        name = AccumulateGrad.name(None)
        self._acc = (s.open("autograd::engine::evaluate_function: " + name, "cpu_op"), s.open(name, "cpu_op"))
        if self.prev is not None:
            self.prev.on_accumulate(var, before, g)

    def on_accumulated(self, var):
        acc = getattr(self, "_acc", None)
        if acc is not None:
            self.session.close(acc[1])
            self.session.close(acc[0])
            self._acc = None
        if self.prev is not None:
            self.prev.on_accumulated(var)

    def __getattr__(self, name):  # on_retain, on_hook, on_free: passed on, not timed
        if name.startswith("on_"):
            prev = self.__dict__.get("prev")
            return getattr(prev, name) if prev is not None else _ignore
        raise AttributeError(name)


def _ignore(*args, **kwargs):
    pass


_installed: list = []  # (original apply, listener) while collecting


def _rebind_operators() -> None:
    """Tensor's + - * / bind ``Function.apply`` once for speed: rebind them to the current one."""
    from .._tensor import Tensor
    from .._tensor_method_impls import bind_operators
    bind_operators(Tensor)


def install(session) -> None:
    original = Function.__dict__["apply"]
    run = original.__func__

    def apply(cls, *args, **kwargs):
        ev = session.open(op_name(cls), "cpu_op", args)
        out = None
        try:
            out = run(cls, *args, **kwargs)
            return out
        finally:
            session.close(ev, out)

    Function.apply = classmethod(apply)
    _rebind_operators()
    listener = _Listener(session, state.trace)
    state.trace = listener
    _installed.append((original, listener))


def uninstall() -> None:
    original, listener = _installed.pop()
    Function.apply = original
    _rebind_operators()
    if state.trace is listener:
        state.trace = listener.prev
