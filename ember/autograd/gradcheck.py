"""``gradcheck`` / ``gradgradcheck``: analytical gradients against central finite differences."""
from __future__ import annotations

import numpy as np


class GradcheckError(RuntimeError):
    pass


def _as_tuple(x):
    return x if isinstance(x, tuple) else (x,)


def _diff_inputs(inputs):
    from .._tensor import Tensor
    return [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]


def _numerical_jacobian(fn, inputs, idx, eps):
    """Jacobian of every output w.r.t. input ``idx``: shape (in_numel, out_numel) per output."""
    x = inputs[idx]
    data = x._data  # perturbed in place element by element (C order), strided views included
    base_outs = [o for o in _as_tuple(fn(*inputs))]
    jac = [np.zeros((data.size, o._data.size), dtype=np.float64) for o in base_outs]
    for k in range(data.size):
        at = np.unravel_index(k, data.shape)
        orig = data[at].item()
        data[at] = orig + eps
        plus = [o._data.astype(np.float64).reshape(-1).copy() for o in _as_tuple(fn(*inputs))]
        data[at] = orig - eps
        minus = [o._data.astype(np.float64).reshape(-1).copy() for o in _as_tuple(fn(*inputs))]
        data[at] = orig
        for j in range(len(jac)):
            jac[j][k] = (plus[j] - minus[j]) / (2 * eps)
    return jac


def _analytical_jacobian(fn, inputs, idx):
    from .. import autograd
    from ..ops.creation import zeros_like
    outs = _as_tuple(fn(*inputs))
    x = inputs[idx]
    jac = [np.zeros((x._data.size, o._data.size), dtype=np.float64) for o in outs]
    for j, o in enumerate(outs):
        if not o.requires_grad:
            continue
        for m in range(o._data.size):
            go = zeros_like(o)
            go._data.reshape(-1)[m] = 1
            (g,) = autograd.grad([o], [x], [go], retain_graph=True, allow_unused=True)
            if g is not None:
                jac[j][:, m] = g._data.astype(np.float64).reshape(-1)
    return jac


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, nondet_tol=0.0,
              check_undefined_grad=True, fast_mode=False, **_ignored) -> bool:
    """True when analytical and numerical Jacobians agree (inputs should be float64)."""
    inputs = _as_tuple(inputs)
    for i in _diff_inputs(inputs):
        t = inputs[i]
        if t._data.dtype != np.float64:
            import warnings
            warnings.warn(f"Input #{i} requires gradient and is not a double precision floating point. "
                          "This check will likely fail if all the inputs are not of double precision floating point.")
        num = _numerical_jacobian(func, inputs, i, eps)
        ana = _analytical_jacobian(func, inputs, i)
        for j, (n, a) in enumerate(zip(num, ana)):
            if not np.allclose(a, n, rtol=rtol, atol=atol):
                if raise_exception:
                    raise GradcheckError(f"Jacobian mismatch for output {j} with respect to input {i},\n"
                                         f"numerical:{n}\nanalytical:{a}\n")
                return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
                  **_ignored) -> bool:
    """Checks second derivatives: gradcheck of the function ``inputs -> d(func)/d(inputs) . v``."""
    from .. import autograd
    from ..ops.creation import tensor
    inputs = _as_tuple(inputs)
    diff = _diff_inputs(inputs)
    outs = _as_tuple(func(*inputs))
    rng = np.random.default_rng(0)
    if grad_outputs is None:
        grad_outputs = tuple(tensor(rng.standard_normal(tuple(o.shape)), dtype=o.dtype, requires_grad=True)
                             for o in outs)
    grad_outputs = _as_tuple(grad_outputs)
    n_in = len(inputs)

    def first(*args):
        ins, gos = args[:n_in], args[n_in:]
        o = _as_tuple(func(*ins))
        gs = autograd.grad(list(o), [ins[i] for i in diff], list(gos), create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(first, tuple(inputs) + tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
