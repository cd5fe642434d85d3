"""``ember.utils.checkpoint``: activation checkpointing — trade compute for memory.

``checkpoint(function, *args)`` runs ``function`` under ``no_grad``: none of its intermediate activations
are kept. The result is the output of one graph node (``CheckpointFunctionBackward``) whose backward runs
``function`` again, this time recording its graph, on detached copies of the inputs, and backpropagates
the incoming gradient through that re-run: the inputs get their gradients from the node, and the tensors
``function`` reads from elsewhere (an ``nn.Module``'s parameters) get theirs accumulated into ``.grad``
by that inner backward pass. Gradients equal an un-checkpointed run's; the cost is a second forward.

With ``preserve_rng_state=True`` (the default) the default generator's state at the first forward is
restored for the re-run, so dropout draws the same mask; the generator's state after backward is what it
was before it.

How this differs from PyTorch (both ``use_reentrant`` values run the mechanism above):

- parameters used inside ``function`` get their gradients by accumulation, as PyTorch's reentrant variant
  does; ``ember.autograd.grad(loss, params)`` through a checkpoint therefore does not return them (with
  ``use_reentrant=False`` PyTorch does).
- with ``use_reentrant=False`` and no input requiring grad, the output requires grad whenever grad mode is
  on (Ember cannot know, without recording the forward, whether ``function`` reads a trainable tensor;
  a ``nn.Module`` or a method of one is checked for parameters that require grad).
- ``context_fn`` and ``determinism_check`` are accepted and not used; the GPU (CuPy) random stream is not
  saved and restored.
"""

import warnings as _warnings

from ..autograd.function import Function as _Function
from .._tensor import Tensor as _Tensor

__all__ = ["checkpoint", "checkpoint_sequential", "noop_context_fn", "detach_variable", "CheckpointFunction"]


def noop_context_fn():
    """The default ``context_fn``: two context managers that do nothing."""
    import contextlib
    return contextlib.nullcontext(), contextlib.nullcontext()


def detach_variable(inputs):
    """Detached copies of the tensors in ``inputs`` (a tuple), keeping each one's ``requires_grad``."""
    if not isinstance(inputs, tuple):
        raise RuntimeError("Only tuple of tensors is supported. Got Unsupported input type: "
                           f"{type(inputs).__name__}")
    return tuple(x.detach().requires_grad_(x.requires_grad) if isinstance(x, _Tensor) else x for x in inputs)


class CheckpointFunction(_Function):
    """The node a checkpointed segment becomes: forward without a graph, backward by recomputation.

    ``apply(run, preserve_rng_state, n_tensors, *tensors)``: ``run(*tensors)`` calls the user's function
    (with its non-tensor arguments and keyword arguments bound in).
    """

    node_name = "CheckpointFunctionBackward"

    @staticmethod
    def forward(ctx, run, preserve_rng_state, *tensors):
        from ..ops.creation import get_rng_state
        ctx.run = run
        ctx.rng_state = get_rng_state() if preserve_rng_state else None
        ctx.save_for_backward(*[t for t in tensors if isinstance(t, _Tensor)])
        ctx.tensor_at = [i for i, t in enumerate(tensors) if isinstance(t, _Tensor)]
        ctx.n_in = len(tensors)
        out = run(*tensors)  # grad mode is off here: no activation is kept
        ctx.out_is_tuple = isinstance(out, tuple)
        return out

    @staticmethod
    def backward(ctx, *grads):
        from .. import autograd
        from ..autograd.grad_mode import enable_grad
        from ..ops.creation import get_rng_state, set_rng_state
        saved = ctx.saved_tensors
        inputs = [None] * ctx.n_in
        detached = detach_variable(tuple(saved))
        for i, t in zip(ctx.tensor_at, detached):
            inputs[i] = t
        if ctx.rng_state is not None:
            outer = get_rng_state()
            set_rng_state(ctx.rng_state)
        try:
            with enable_grad():
                out = ctx.run(*inputs)
        finally:
            if ctx.rng_state is not None:
                set_rng_state(outer)
        outs = out if isinstance(out, tuple) else (out,)
        roots, seeds = [], []
        for o, g in zip(outs, grads):
            if isinstance(o, _Tensor) and o.requires_grad and g is not None:
                roots.append(o)
                seeds.append(g)
        if not roots:
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is not necessary")
        autograd.backward(roots, seeds)
        result = [None] * ctx.n_in
        for i, t in zip(ctx.tensor_at, detached):
            result[i] = t.grad if t.requires_grad else None
        return (None, None, *result)


def _has_trainable_state(function) -> bool:
    """Whether ``function`` is (a method of) a module with a parameter that requires grad; True when unknown."""
    from ..nn import Module
    owner = function if isinstance(function, Module) else getattr(function, "__self__", None)
    if isinstance(owner, Module):
        return any(p.requires_grad for p in owner.parameters())
    return True


def checkpoint(function, *args, use_reentrant=None, context_fn=noop_context_fn, determinism_check="default",
               debug: bool = False, early_stop: bool = True, **kwargs):
    """``function(*args, **kwargs)`` without keeping its activations; backward recomputes them.

    ``use_reentrant`` should be passed (PyTorch 2.13 warns when it is not, and then behaves as ``True``);
    ``preserve_rng_state=True`` (a keyword) replays the random stream for the recomputation. Keyword
    arguments for ``function`` and ``context_fn``/``debug`` need ``use_reentrant=False`` (ValueError
    otherwise, as in PyTorch). Outputs may be a tensor or a tuple of tensors and other values.
    """
    if use_reentrant is None:
        _warnings.warn("torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. "
                       "Starting in PyTorch 2.9, calling checkpoint without use_reentrant will raise an exception. "
                       "use_reentrant=False is recommended, but if you need to preserve the current default "
                       "behavior, you can pass use_reentrant=True. Refer to docs for more details on the "
                       "differences between the two variants.", stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs and use_reentrant:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    if use_reentrant and (context_fn is not noop_context_fn or debug is not False):
        raise ValueError("Passing `context_fn` or `debug` is only supported when use_reentrant=False.")
    from ..autograd.grad_mode import is_grad_enabled
    if not is_grad_enabled():  # nothing to save: run it plainly
        return function(*args, **kwargs)

    # tensors (positional and keyword) become the node's inputs; everything else is bound into ``run``
    keys = list(kwargs)
    flat = list(args) + [kwargs[k] for k in keys]
    n_args = len(args)
    tensors = [a for a in flat if isinstance(a, _Tensor)]
    slots = [i for i, a in enumerate(flat) if isinstance(a, _Tensor)]

    def run(*ts):
        vals = list(flat)
        for i, t in zip(slots, ts):
            vals[i] = t
        return function(*vals[:n_args], **dict(zip(keys, vals[n_args:])))

    if not use_reentrant and not any(t.requires_grad for t in tensors) and _has_trainable_state(function):
        # an input that requires grad makes the node record, so the parameters inside get their gradients
        from ..ops.creation import zeros
        tensors = tensors + [zeros((), requires_grad=True)]
        run_user = run

        def run(*ts):  # noqa: F811  (the anchor is not passed on)
            return run_user(*ts[:-1])
    elif use_reentrant and not any(t.requires_grad for t in tensors):
        _warnings.warn("None of the inputs have requires_grad=True. Gradients will be None", stacklevel=2)
    return CheckpointFunction.apply(run, preserve, *tensors)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Run ``functions`` (an ``nn.Sequential`` or a list of modules/functions) in ``segments`` chunks, each
    but the last checkpointed; the last runs normally (its activations are needed for backward at once)."""
    if use_reentrant is None:
        _warnings.warn("torch.utils.checkpoint.checkpoint_sequential: the use_reentrant parameter should be "
                       "passed explicitly. In version 2.9 we will raise an exception if use_reentrant is not "
                       "passed. use_reentrant=False is recommended, but if you need to preserve the current "
                       "default behavior, you can pass use_reentrant=True. Refer to docs for more details on the "
                       "differences between the two variants.", stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    from ..nn import Sequential
    if isinstance(functions, Sequential):
        functions = list(functions.children())

    def segment(start, end):
        def forward(x):
            for j in range(start, end + 1):
                x = functions[j](x)
            return x
        return forward

    size = len(functions) // segments
    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(segment(start, end), input, use_reentrant=use_reentrant, preserve_rng_state=preserve)
    return segment(end + 1, len(functions) - 1)(input)
