"""``ember.autograd``: backward, grad, Function, grad modes, gradcheck, anomaly detection, trace."""

# torch.autograd's names only: FunctionCtx and once_differentiable are in ember.autograd.function, Node in
# ember.autograd.graph, is_grad_enabled and is_anomaly_enabled at the top level, as in PyTorch
from .function import Function  # noqa: F401
from .grad_mode import (detect_anomaly, enable_grad, inference_mode, no_grad, set_detect_anomaly,  # noqa: F401
                        set_grad_enabled)
from . import graph  # noqa: F401


def _tensors(x):
    from .._tensor import Tensor
    if x is None:
        return None
    if isinstance(x, Tensor):
        return [x]
    return list(x)


def _make_grads(outputs, grads, is_grads_batched=False):
    from .._tensor import Tensor
    from ..backends import namespace_of
    out = []
    for i, (t, g) in enumerate(zip(outputs, grads)):
        if g is None:
            if not t.requires_grad:
                raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
            if t._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if t._data.dtype.kind not in "fcV":  # V: bfloat16
                raise RuntimeError(f"grad can be implicitly created only for real scalar outputs but got {t.dtype}")
            xp = namespace_of(t._data)
            out.append(xp.ones(t._data.shape, dtype=t._data.dtype))
        else:
            if not isinstance(g, Tensor):
                raise TypeError(f"gradients can be either Tensors or None, but got {type(g).__name__}")
            if tuple(g.shape) != tuple(t.shape):
                raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape} and output[{i}] has "
                                   f"a shape of {t.shape}.")
            if g._data.dtype != t._data.dtype:
                g = g.to(t.dtype)
            out.append(g)
    return out


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, grad_variables=None,
             inputs=None) -> None:
    """Accumulate gradients of ``tensors`` into the ``.grad`` of the graph's leaves.

    Non-scalar outputs need ``grad_tensors``. Saved tensors are freed afterwards unless
    ``retain_graph=True``; ``create_graph=True`` records the backward pass itself.
    """
    from .engine import run_backward
    inputs = _tensors(inputs)
    if inputs is not None and len(inputs) == 0:
        raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
    tensors = _tensors(tensors)
    if grad_tensors is None:
        grad_tensors = grad_variables
    grads = _tensors(grad_tensors) if grad_tensors is not None else [None] * len(tensors)
    grads = _make_grads(tensors, grads)
    if len(grads) != len(tensors):
        raise RuntimeError(f"got {len(tensors)} tensors and {len(grads)} gradients")
    for i, t in enumerate(tensors):
        if not t.requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
    if retain_graph is None:
        retain_graph = create_graph
    run_backward(tensors, grads, retain_graph, create_graph, inputs=inputs)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, only_inputs=True,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """Gradients of ``outputs`` with respect to ``inputs``, returned (not accumulated into ``.grad``)."""
    from .engine import run_backward
    outputs = _tensors(outputs)
    inputs_l = _tensors(inputs)
    if not inputs_l:
        raise RuntimeError("`inputs` argument to `grad()` cannot be empty.")
    grads = _tensors(grad_outputs) if grad_outputs is not None else [None] * len(outputs)
    grads = _make_grads(outputs, grads)
    for i, t in enumerate(outputs):
        if not t.requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
    for t in inputs_l:
        if not t.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    if retain_graph is None:
        retain_graph = create_graph
    if allow_unused is None:
        allow_unused = materialize_grads
    res = run_backward(outputs, grads, retain_graph, create_graph, inputs=inputs_l, capture=True,
                       allow_unused=allow_unused)
    if materialize_grads:
        from ..ops.creation import zeros_like
        res = tuple(zeros_like(i) if r is None else r for i, r in zip(inputs_l, res))
    return res


from .gradcheck import gradcheck, gradgradcheck  # noqa: E402,F401
from .trace import trace  # noqa: E402,F401
from . import functional  # noqa: E402,F401
from . import forward_ad  # noqa: E402,F401


class _VariableMeta(type):
    def __instancecheck__(cls, obj):
        from .._tensor import Tensor
        return isinstance(obj, Tensor)


class Variable(metaclass=_VariableMeta):
    """The deprecated ``Variable(tensor, requires_grad=False)``: returns the tensor itself (a Tensor, as in
    PyTorch, where Variables and Tensors merged); ``isinstance(t, Variable)`` is True for every Tensor."""

    def __new__(cls, data=None, requires_grad=False, volatile=False):
        from .._tensor import Tensor
        from ..ops.creation import tensor
        if data is None:
            data = tensor([])
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        if requires_grad:
            data.requires_grad_(True)
        return data

__all__ = ["Function", "backward", "grad", "no_grad", "enable_grad", "set_grad_enabled", "inference_mode",
           "gradcheck", "gradgradcheck", "set_detect_anomaly", "detect_anomaly", "trace", "functional",
           "Variable"]


def __getattr__(name):
    # ember.autograd.profiler is imported on first use: the profiler is not needed to train
    if name == "profiler":
        import importlib
        return importlib.import_module(".profiler", __name__)
    raise AttributeError(f"module 'ember.autograd' has no attribute '{name}'")
