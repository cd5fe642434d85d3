"""``ember.func``: PyTorch's composable function transforms (``torch.func``) on Ember's autograd.

- ``grad``, ``grad_and_value``, ``vjp``, ``jacrev``: reverse mode, one backward pass (per output element
  for ``jacrev``).
- ``jvp``, ``linearize``, ``jacfwd``, ``hessian``: forward-mode products by the double-vjp trick on the
  reverse-mode engine (exact, about twice the cost of a vjp).
- ``vmap``: runs the function once per batch element and stacks the results (correct for any
  function, but a Python loop: no batching rules).
- ``functional_call``, ``stack_module_state``, ``replace_all_batch_norm_modules_``: modules as functions
  of their parameters and buffers.

The transforms nest (``grad(grad(f))``, ``vmap(grad(f))``, ``jacfwd(jacrev(f))``) and compose with
``backward()``: a result stays on the autograd graph where it depends on tensors that require grad
outside the transform.
"""

from ._ad import grad, grad_and_value, hessian, jacfwd, jacrev, jvp, linearize, vjp
from ._module import functional_call, replace_all_batch_norm_modules_, stack_module_state
from ._vmap import vmap

__all__ = ["grad", "grad_and_value", "vmap", "replace_all_batch_norm_modules_", "functionalize", "hessian",
           "jacfwd", "jacrev", "jvp", "linearize", "vjp", "functional_call", "stack_module_state", "debug_unwrap"]


def functionalize(func, *, remove="mutations"):
    """``func`` itself, checked: Ember runs eagerly without a tracer, so there is no program to rewrite
    (the outputs, and the mutations of the inputs, are those of ``func``)."""
    if remove not in ("mutations", "mutations_and_views"):
        raise RuntimeError(f"functionalize(f, remove='mutations'): received invalid argument for remove={remove}. "
                           "Valid options are:\n     remove='mutations': all inplace and out= operators will be "
                           "removed from the program, and replaced with their out-of-place equivalents.\n     "
                           "remove='mutations_and_views': In addition to the above, all aliasing operators {view} "
                           "will be replaced with their non-aliasing counterparts, {view}_copy.\n")

    def wrapped(*args, **kwargs):
        return func(*args, **kwargs)

    wrapped.__name__ = getattr(func, "__name__", "functionalized")
    wrapped.__doc__ = func.__doc__
    return wrapped


def debug_unwrap(tensor, *, recurse=True):
    """The tensor itself: Ember's transforms do not wrap tensors."""
    return tensor
