"""``RemovableHandle`` (what every ``register_*hook`` returns) and ``BackwardHook`` (the machinery
behind ``Module.register_full_backward_hook`` / ``register_full_backward_pre_hook``)."""
from __future__ import annotations

import itertools
import warnings

_ids = itertools.count()


class RemovableHandle:
    """Removes the hook it was returned for: ``handle.remove()`` or ``with handle: ...``.

    ``extra_dict``: further tables (a dict or a list of dicts) keyed by the same id, e.g. the
    "with_kwargs" flags of a forward hook; they are cleaned up too.
    """

    __slots__ = ("hooks_dict", "id", "extra_dicts")

    def __init__(self, hooks_dict, *, extra_dict=None):
        self.hooks_dict = hooks_dict
        self.id = next(_ids)
        if extra_dict is None:
            self.extra_dicts = ()
        elif isinstance(extra_dict, list):
            self.extra_dicts = tuple(extra_dict)
        else:
            self.extra_dicts = (extra_dict,)

    @classmethod
    def add(cls, hooks_dict, fn):
        h = cls(hooks_dict)
        hooks_dict[h.id] = fn
        return h

    def remove(self) -> None:
        self.hooks_dict.pop(self.id, None)
        for d in self.extra_dicts:
            d.pop(self.id, None)

    def __getstate__(self):
        return (self.hooks_dict, self.id, self.extra_dicts)

    def __setstate__(self, state):
        self.hooks_dict, self.id, self.extra_dicts = state

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def _identity_function():
    # Built lazily: ember.autograd imports this module.
    global _HookIdentity
    if _HookIdentity is None:
        from ..autograd.function import Function

        class BackwardHookFunction(Function):
            """Identity on the tensors entering (or leaving) a hooked module: its graph node is
            where the module's gradients are observed and may be replaced."""

            raw = True
            node_name = "BackwardHookFunctionBackward"

            @staticmethod
            def forward(ctx, *arrays):
                return arrays if len(arrays) > 1 else arrays[0]

            @staticmethod
            def backward(ctx, *grads):
                return grads

        _HookIdentity = BackwardHookFunction
    return _HookIdentity


_HookIdentity = None


class BackwardHook:
    """Wires a module's full backward hooks into the graph for one call.

    The tensors entering the module (that require grad) pass through an identity node whose
    backward sees ``grad_input``; the tensors leaving it pass through another that sees
    ``grad_output``. ``grad_input``/``grad_output`` tuples have one slot per positional argument
    / output, None where that slot is not a tensor requiring grad.
    """

    def __init__(self, module, user_hooks, user_pre_hooks):
        self.module = module
        self.user_hooks = user_hooks
        self.user_pre_hooks = user_pre_hooks
        self.grad_outputs = None
        self.n_inputs = 0
        self.input_index = None
        self.n_outputs = 0
        self.output_index = None

    def _wrap(self, values):
        """Route the tensors of ``values`` that require grad through an identity node."""
        from .._tensor import Tensor
        from ..autograd.grad_mode import state
        index = [i for i, v in enumerate(values) if isinstance(v, Tensor) and v.requires_grad]
        if not index or not state.enabled:
            return values, None, None
        out = _identity_function().apply(*[values[i] for i in index])
        if not isinstance(out, tuple):
            out = (out,)
        new = list(values)
        for i, t in zip(index, out):
            new[i] = t
        return tuple(new), index, out[0].grad_fn

    def _spread(self, index, grads, size):
        full = [None] * size
        for i, g in zip(index, grads):
            full[i] = g
        return tuple(full)

    def setup_input_hook(self, args):
        args, index, node = self._wrap(args)
        self.n_inputs = len(args)
        self.input_index = index
        if node is not None:
            node.register_hook(self._on_input_grads)
        return args

    def _on_input_grads(self, grad_inputs, _grad_outputs):
        if self.grad_outputs is None:
            return None  # gradient reached the inputs without passing through the outputs
        res = self._spread(self.input_index, grad_inputs, self.n_inputs)
        for hook in self.user_hooks:
            out = hook(self.module, res, self.grad_outputs)
            if out is None:
                continue
            if len(out) != len(res):
                raise RuntimeError(f"Backward hook returned an invalid number of grad_input, got {len(out)}, "
                                   f"but expected {len(res)}")
            res = out
        self.grad_outputs = None
        return tuple(res[i] for i in self.input_index)

    def setup_output_hook(self, result):
        single = not isinstance(result, tuple)
        values = (result,) if single else result
        values, index, node = self._wrap(values)
        self.n_outputs = len(values)
        self.output_index = index
        if node is not None:
            node.register_prehook(self._on_output_grads)
        return values[0] if single else values

    def _on_output_grads(self, grads):
        self.grad_outputs = self._spread(self.output_index, grads, self.n_outputs)
        for hook in self.user_pre_hooks:
            out = hook(self.module, self.grad_outputs)
            if out is None:
                continue
            if len(out) != len(self.grad_outputs):
                raise RuntimeError(f"Backward pre hook returned an invalid number of grad_output, got {len(out)}, "
                                   f"but expected {len(self.grad_outputs)}")
            self.grad_outputs = tuple(out)
        local = self.grad_outputs
        if self.input_index is None:
            # no input requires grad: the hook fires now, with grad_input all None
            warnings.warn("Full backward hook is firing when gradients are computed with respect to module "
                          "outputs since no inputs require gradients.", stacklevel=2)
            grad_inputs = (None,) * self.n_inputs
            for hook in self.user_hooks:
                res = hook(self.module, grad_inputs, self.grad_outputs)
                if res is not None and not (isinstance(res, tuple) and all(r is None for r in res)):
                    raise RuntimeError("Backward hook for Modules where no input requires gradient should "
                                       "always return None or None for all gradients.")
            self.grad_outputs = None
        return tuple(local[i] for i in self.output_index)
