"""``ember.autograd.functional``: Jacobians, Hessians and their products with vectors, computed
with the reverse-mode engine (``vjp``, ``jacobian``, ``hessian``, ``vhp``) and the double-backward
trick for forward-mode products (``jvp``, ``hvp``), as PyTorch does. ``vectorize=True`` is accepted
and runs the same row-by-row loop (there is no vmap); ``strategy="forward-mode"`` (with ``vectorize=True``,
as PyTorch requires) builds the Jacobian column by column from ``ember.func.jacfwd``.
"""

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]


def _as_tuple(x, arg_name, fn_name):
    """(was_tuple, tuple of Tensors), with PyTorch's TypeError for anything that is not a Tensor."""
    from .._tensor import Tensor
    is_tuple = isinstance(x, (tuple, list))
    t = tuple(x) if is_tuple else (x,)
    for i, el in enumerate(t):
        if not isinstance(el, Tensor):
            if is_tuple:
                raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of Tensors "
                                f"but the value at index {i} has type {type(el)}.")
            raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of Tensors but "
                            f"the given {arg_name} has type {type(el)}.")
    return is_tuple, t


def _prep_inputs(inputs, create_graph, need_graph=True):
    """Fresh leaves that require grad (or, under create_graph, differentiable aliases of the inputs)."""
    out = []
    for x in inputs:
        if create_graph and x.requires_grad:
            out.append(x.view_as(x))
        else:
            out.append(x.detach().requires_grad_(need_graph))
    return tuple(out)


def _post(x, create_graph):
    """Results leave the graph unless create_graph=True."""
    if isinstance(x, tuple):
        return tuple(_post(el, create_graph) for el in x)
    if x is None or create_graph:
        return x
    return x.detach()


def _untuple(is_tuple, x):
    return x if is_tuple else x[0]


def _grad(outputs, inputs, grad_outputs, create_graph, retain_graph=None):
    """``autograd.grad`` over the outputs that require grad; None where an input is unused."""
    from . import grad as _autograd_grad
    outs, gos = [], []
    for o, g in zip(outputs, grad_outputs):
        if o is not None and o.requires_grad:
            outs.append(o)
            gos.append(g)
    if not outs:
        return (None,) * len(inputs)
    return _autograd_grad(outs, inputs, gos, retain_graph=retain_graph if retain_graph is not None else True,
                          create_graph=create_graph, allow_unused=True)


def _fill_zeros(grads, refs, strict, create_graph, stage, fn_name):
    from ..ops.creation import zeros_like
    res = []
    for i, (g, r) in enumerate(zip(grads, refs)):
        if g is None:
            if strict:
                if stage == "back":
                    raise RuntimeError(f"The output of the user-provided function is independent of input {i}. "
                                       "This is not allowed in strict mode.")
                if stage == "back_trick":
                    raise RuntimeError(f"The gradient with respect to the input is independent of entry {i} in "
                                       "the grad_outputs when using the double backward trick to compute forward "
                                       "mode gradients. This is not allowed in strict mode.")
                if stage == "double_back":
                    raise RuntimeError(f"The jacobian of the user-provided function is independent of input {i}. "
                                       "This is not allowed in strict mode.")
                raise RuntimeError(f"The hessian of the user-provided function is independent of entry {i} in "
                                   "the grad_jacobian. This is not allowed in strict mode.")
            g = zeros_like(r)
        elif strict and create_graph and not g.requires_grad and "double" not in stage:
            raise RuntimeError(f"The jacobian of the user-provided function is independent of input {i}. "
                               "This is not allowed in strict mode when create_graph=True.")
        res.append(g)
    return tuple(res)


def _check_outputs(outputs, fn_name):
    is_tuple, outs = _as_tuple(outputs, "outputs of the user-provided function", fn_name)
    return is_tuple, outs


def _validate_v(v, refs, is_refs_tuple, fn_name, what="outputs"):
    if len(v) != len(refs):
        if is_refs_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(refs)} but got {len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for i, (a, b) in enumerate(zip(v, refs)):
        if tuple(a.shape) != tuple(b.shape):
            raise RuntimeError(f"Entry {i} in v has invalid size: should be {tuple(b.shape)} but got "
                               f"{tuple(a.shape)}.")


def _check_strict_requires_grad(outs, strict, fn_name):
    if strict:
        for i, o in enumerate(outs):
            if not o.requires_grad:
                raise RuntimeError(f"Output {i} of the user-provided function does not require gradients. The "
                                   "outputs must be computed in a differentiable manner from the input when "
                                   "running in strict mode.")


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(*inputs), v^T J)``: the vector-Jacobian product at ``inputs``."""
    from .grad_mode import enable_grad
    with enable_grad():
        in_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _prep_inputs(inputs, create_graph)
        out_tuple, outputs = _check_outputs(func(*inputs), "vjp")
        _check_strict_requires_grad(outputs, strict, "vjp")
        if v is not None:
            _, v = _as_tuple(v, "v", "vjp")
            _validate_v(v, outputs, out_tuple, "vjp")
        else:
            if len(outputs) != 1 or outputs[0].numel() != 1:
                raise RuntimeError("The vector v can only be None if the user-provided function returns a single "
                                   "Tensor with a single element.")
            from ..ops.creation import ones_like
            v = (ones_like(outputs[0]),)
        grads = _grad(outputs, inputs, v, create_graph)
        vjp_ = _fill_zeros(grads, inputs, strict, create_graph, "back", "vjp")
    return _post(_untuple(out_tuple, outputs), create_graph), _post(_untuple(in_tuple, vjp_), create_graph)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(*inputs), J v)``: the Jacobian-vector product at ``inputs`` (by the double-backward trick)."""
    from .grad_mode import enable_grad
    from ..ops.creation import zeros_like
    with enable_grad():
        in_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _prep_inputs(inputs, create_graph)
        if v is not None:
            _, v = _as_tuple(v, "v", "jvp")
            _validate_v(v, inputs, in_tuple, "jvp")
        else:
            if len(inputs) != 1 or inputs[0].numel() != 1:
                raise RuntimeError("The vector v can only be None if the input to the user-provided function is "
                                   "a single Tensor with a single element.")
            from ..ops.creation import ones_like
            v = (ones_like(inputs[0]),)
        out_tuple, outputs = _check_outputs(func(*inputs), "jvp")
        _check_strict_requires_grad(outputs, strict, "jvp")
        grad_outputs = tuple(zeros_like(o).requires_grad_(True) for o in outputs)
        grad_inputs = _grad(outputs, inputs, grad_outputs, create_graph=True)
        _fill_zeros(grad_inputs, inputs, strict, create_graph, "back", "jvp")
        if create_graph:
            grad_res = _grad(grad_inputs, grad_outputs, v, create_graph=True)
            jvp_ = _fill_zeros(grad_res, outputs, strict, create_graph, "back_trick", "jvp")
        else:
            grad_res = _grad(grad_inputs, grad_outputs, v, create_graph=False)
            jvp_ = _fill_zeros(grad_res, outputs, strict, create_graph, "back_trick", "jvp")
    return _post(_untuple(out_tuple, outputs), create_graph), _post(_untuple(out_tuple, jvp_), create_graph)


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``: entry [i][j] has shape ``outputs[i].shape + inputs[j].shape``."""
    from .grad_mode import enable_grad
    from ..ops.creation import zeros_like
    from ..ops.join import stack
    if strategy not in ("forward-mode", "reverse-mode"):
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your '
                         'function has more outputs than inputs, "forward-mode" tends to be more performant. '
                         'Otherwise, prefer to use "reverse-mode".')
    if strategy == "forward-mode":
        if not vectorize:
            raise NotImplementedError("Computing Jacobian using forward-AD or forward-over-reverse Hessian is"
                                      "only implemented for `vectorize=True`.")
        if strict:
            raise RuntimeError("torch.autograd.functional.jacobian: `strict=True` and `strategy=\"forward-mode\"` "
                               "are not supported together (yet). Please either set `strict=False` or "
                               "`strategy=\"reverse-mode\"`.")
        if create_graph:
            raise NotImplementedError("torch.autograd.functional.jacobian: `create_graph=True` and "
                                      "`strategy=\"forward-mode\"` are not supported together (yet). Please either "
                                      "set `create_graph=False` or `strategy=\"reverse-mode\"`.")
        return _jacobian_forward(func, inputs)
    if strict and vectorize:
        raise RuntimeError("torch.autograd.functional.jacobian: `strict=True` and `vectorized=True` are not "
                           "supported together. Please either set `strict=False` or `vectorize=False`.")
    with enable_grad():
        in_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _prep_inputs(inputs, create_graph)
        out_tuple, outputs = _check_outputs(func(*inputs), "jacobian")
        _check_strict_requires_grad(outputs, strict, "jacobian")
        jac = []
        for i, out in enumerate(outputs):
            rows = [[] for _ in inputs]
            flat = out.reshape(-1)
            for j in range(flat.numel()):
                if flat.requires_grad:
                    gs = _grad((flat[j],), inputs, (None,), create_graph, retain_graph=True)
                else:
                    gs = (None,) * len(inputs)
                for k, (g, x) in enumerate(zip(gs, inputs)):
                    if g is None:
                        if strict:
                            raise RuntimeError(f"Output {i} of the user-provided function is independent of input "
                                               f"{k}. This is not allowed in strict mode.")
                        g = zeros_like(x)
                    rows[k].append(g)
            per_in = []
            for k, x in enumerate(inputs):
                if rows[k]:
                    per_in.append(stack(rows[k], 0).view(tuple(out.shape) + tuple(x.shape)))
                else:
                    per_in.append(zeros_like(x).new_zeros(tuple(out.shape) + tuple(x.shape)))
            jac.append(tuple(per_in))
    jac = _post(tuple(jac), create_graph)
    if not out_tuple and not in_tuple:
        return jac[0][0]
    if not out_tuple:
        return jac[0]
    if not in_tuple:
        return tuple(row[0] for row in jac)
    return jac


def _jacobian_forward(func, inputs):
    """``strategy="forward-mode"``: ember.func.jacfwd (Jacobian-vector products by the double-vjp trick)."""
    from ..func import jacfwd
    in_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
    holder = {}

    def tupled(*xs):
        out = func(*xs)
        holder["out_tuple"], outs = _check_outputs(out, "jacobian")
        return outs

    jac = jacfwd(tupled, argnums=tuple(range(len(inputs))))(*inputs)
    if not holder["out_tuple"] and not in_tuple:
        return jac[0][0]
    if not holder["out_tuple"]:
        return jac[0]
    if not in_tuple:
        return tuple(row[0] for row in jac)
    return jac


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a scalar ``func``: entry [i][j] has shape ``inputs[i].shape + inputs[j].shape``."""
    in_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def ensure_single_output(*inp):
        out = func(*inp)
        is_out_tuple, t_out = _as_tuple(out, "outputs of the user-provided function", "hessian")
        if is_out_tuple or t_out[0].numel() != 1:
            raise RuntimeError("The function given to hessian should return a single Tensor")
        if t_out[0].ndim != 0:
            out = t_out[0].squeeze()
        return out

    def jac_func(*inp):
        return jacobian(ensure_single_output, inp, create_graph=True, strict=strict)

    res = jacobian(jac_func, inputs, create_graph=create_graph, strict=strict, vectorize=vectorize,
                   strategy=outer_jacobian_strategy)
    if not in_tuple:
        return res[0][0] if isinstance(res, tuple) and isinstance(res[0], tuple) else res
    return res


def _scalar_func_grad(func, inputs, create_graph, strict, fn_name):
    is_out_tuple, outputs = _check_outputs(func(*inputs), fn_name)
    _check_strict_requires_grad(outputs, strict, fn_name)
    if is_out_tuple or outputs[0].numel() != 1:
        raise RuntimeError(f"The function given to {fn_name} should return a single Tensor")
    if outputs[0].numel() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {fn_name} should contain a single "
                           "element")
    jac = _grad(outputs, inputs, (None,), create_graph=True)
    jac = _fill_zeros(jac, inputs, strict, create_graph, "double_back", fn_name)
    return outputs[0], jac


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(*inputs), v^T H)`` for a scalar ``func``."""
    from .grad_mode import enable_grad
    with enable_grad():
        in_tuple, inputs = _as_tuple(inputs, "inputs", "vhp")
        inputs = _prep_inputs(inputs, create_graph)
        v = _hv_vector(v, inputs, in_tuple, "vhp")
        out, jac = _scalar_func_grad(func, inputs, create_graph, strict, "vhp")
        grads = _grad(jac, inputs, v, create_graph)
        res = _fill_zeros(grads, inputs, strict, create_graph, "double_back_trick", "vhp")
    return _post(out, create_graph), _post(_untuple(in_tuple, res), create_graph)


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(*inputs), H v)`` for a scalar ``func`` (by the double-backward trick)."""
    from .grad_mode import enable_grad
    from ..ops.creation import zeros_like
    with enable_grad():
        in_tuple, inputs = _as_tuple(inputs, "inputs", "hvp")
        inputs = _prep_inputs(inputs, create_graph)
        v = _hv_vector(v, inputs, in_tuple, "hvp")
        out, jac = _scalar_func_grad(func, inputs, create_graph, strict, "hvp")
        grad_jac = tuple(zeros_like(x).requires_grad_(True) for x in inputs)
        double_back = _grad(jac, inputs, grad_jac, create_graph=True)
        _fill_zeros(double_back, inputs, strict, create_graph, "double_back", "hvp")
        grads = _grad(double_back, grad_jac, v, create_graph)
        res = _fill_zeros(grads, inputs, strict, create_graph, "double_back_trick", "hvp")
    return _post(out, create_graph), _post(_untuple(in_tuple, res), create_graph)


def _hv_vector(v, inputs, in_tuple, fn_name):
    if v is not None:
        _, v = _as_tuple(v, "v", fn_name)
        _validate_v(v, inputs, in_tuple, fn_name)
        return v
    if len(inputs) != 1 or inputs[0].numel() != 1:
        raise RuntimeError("The vector v can only be None if the input to the user-provided function is a single "
                           "Tensor with a single element.")
    from ..ops.creation import ones_like
    return (ones_like(inputs[0]),)
