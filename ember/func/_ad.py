"""The differentiation transforms of ``ember.func`` (grad, grad_and_value, vjp, jvp, linearize, jacrev,
jacfwd, hessian), built on Ember's reverse-mode engine.

Each call gives the function fresh differentiable aliases of its inputs, runs it with grad mode on and
asks the engine for the derivatives. Forward-mode products (jvp, jacfwd, linearize) use the
double-vjp trick: ``g(u) = J^T u`` is linear in ``u``, so ``d<g(u), v>/du = J v``; that needs one
``create_graph=True`` backward pass, then one more pass per tangent.

Transforms nest (``grad(grad(f))``, ``jacfwd(jacrev(f))``) because every backward pass whose result
must stay differentiable records its graph. A result stays attached to the autograd graph only where
it depends on a tensor from outside the transform (a closed-over parameter, an input that requires
grad, an outer transform's input) and grad mode was on at the call; everything else is returned
detached, as PyTorch's transforms return plain tensors.
"""

from ._pytree import flatten, unflatten


def _tensor_cls():
    from .._tensor import Tensor
    return Tensor


def _grad_enabled():
    from ..autograd.grad_mode import is_grad_enabled
    return is_grad_enabled()


def _enable_grad():
    from ..autograd.grad_mode import enable_grad
    return enable_grad()


def _autograd_grad(outputs, inputs, grad_outputs, create_graph, retain_graph=True):
    from ..autograd import grad
    return grad(outputs, inputs, grad_outputs, retain_graph=retain_graph, create_graph=create_graph,
                allow_unused=True)


def _zeros(shape, like):
    from ..ops.creation import zeros
    return zeros(tuple(shape), dtype=like.dtype, device=like.device)


# --------------------------------------------------------------------------- inputs, outputs, graph reach
def _alias_inputs(leaves):
    """Fresh differentiable stand-ins for the inputs: an alias that stays connected to the autograd graph
    where the input requires grad (so outer transforms and ``backward`` see through), else a new leaf."""
    Tensor = _tensor_cls()
    out = []
    for x in leaves:
        if not isinstance(x, Tensor):
            raise ValueError(f"Thing passed to transform API must be Tensor, got {type(x)}")
        if x.requires_grad:
            out.append(x.view_as(x))
        else:
            if x.dtype.is_floating_point is False and not x.dtype.is_complex:
                raise RuntimeError("only Tensors of floating point dtype can require gradients")
            out.append(x.detach().requires_grad_(True))
    return out


def _reaches_outside(tensors, inner):
    """Does the autograd graph of ``tensors`` reach a leaf whose id is not in ``inner`` (a tensor from
    outside the transform)? One walk over the graph, stopping at the first such leaf."""
    from ..autograd.function import AccumulateGrad
    stack = []
    for t in tensors:
        if t is None or not t.requires_grad:
            continue
        fn = t.grad_fn
        if fn is None:
            if id(t) not in inner:
                return True
        else:
            stack.append(fn)
    seen = set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, AccumulateGrad):
            if id(node.variable) not in inner:
                return True
            continue
        for nxt, _ in node._next:
            if nxt is not None and id(nxt) not in seen:
                stack.append(nxt)
    return False


def _release(x, keep, inner):
    """``x`` as the transform returns it: detached unless ``keep`` and its graph reaches outside."""
    Tensor = _tensor_cls()
    if not isinstance(x, Tensor):
        return x
    if keep and x.requires_grad and _reaches_outside([x], inner):
        return x
    return x.detach() if x.requires_grad else x


def _release_tree(tree, keep, inner, aux=False):
    leaves, spec = flatten(tree)
    if aux:
        Tensor = _tensor_cls()
        for x in leaves:
            if not isinstance(x, Tensor):
                raise RuntimeError(f"Expected tensors, got unsupported type {type(x)}")
    return unflatten([_release(x, keep, inner) for x in leaves], spec)


def _check_outputs_tensors(leaves, api):
    Tensor = _tensor_cls()
    for o in leaves:
        if not isinstance(o, Tensor):
            raise RuntimeError(f"{api}: expected f(*primals) to return only tensors, got unsupported type {type(o)}")


def _split_aux(out, has_aux, api):
    if not has_aux:
        return out, None
    if not (isinstance(out, tuple) and len(out) == 2):
        raise RuntimeError(f"{api}: output of function f should be a tuple: (output, aux) if has_aux is True")
    return out


# --------------------------------------------------------------------------- argnums
def _check_argnums(argnums, n_args):
    def one(a):
        if not isinstance(a, int) or isinstance(a, bool):
            raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(a)}")
        if not -n_args <= a < n_args:
            raise RuntimeError(f"Got argnum={a}, but only {n_args} positional inputs")
        return a % n_args

    if isinstance(argnums, tuple):
        if len(argnums) == 0:
            raise RuntimeError("argnums must be non-empty")
        norm = tuple(one(a) for a in argnums)
        if len(set(norm)) != len(norm):
            raise RuntimeError(f"argnums elements must be unique, got {argnums}")
        return norm
    return one(argnums)


def _diff_args(args, argnums):
    """(the differentiated arguments: one arg or a tuple of them, their flat leaves, the spec)."""
    norm = _check_argnums(argnums, len(args))
    diff = tuple(args[i] for i in norm) if isinstance(norm, tuple) else args[norm]
    leaves, spec = flatten(diff)
    return norm, leaves, spec


def _replace_args(args, norm, wrapped_diff):
    new = list(args)
    if isinstance(norm, tuple):
        for i, v in zip(norm, wrapped_diff):
            new[i] = v
    else:
        new[norm] = wrapped_diff
    return new


# --------------------------------------------------------------------------- grad, grad_and_value
def grad_and_value(func, argnums=0, has_aux=False):
    """``f -> (grad of f with respect to args[argnums], f(*args))`` for a scalar-valued ``f``.

    ``argnums`` is an int or a tuple of ints (then the gradient is a tuple); the differentiated
    arguments may be pytrees (tuples, lists, dicts) of tensors. ``has_aux=True``: ``f`` returns
    ``(output, aux)`` and the value part is ``(output, aux)``.
    """
    def wrapper(*args, **kwargs):
        outer = _grad_enabled()
        with _enable_grad():
            norm, leaves, spec = _diff_args(args, argnums)
            wrapped = _alias_inputs(leaves)
            out = func(*_replace_args(args, norm, unflatten(wrapped, spec)), **kwargs)
            api = "grad_and_value(f)(*args)"
            if has_aux:
                if not (isinstance(out, tuple) and len(out) == 2):
                    raise RuntimeError(f"{api}: output of function f should be a tuple: (output, aux) if has_aux "
                                       "is True")
                out, aux = out
            if not isinstance(out, _tensor_cls()):
                raise RuntimeError(f"{api}: Expected f(*args) to return a Tensor, got {type(out)}")
            if out.dim() != 0:
                raise RuntimeError(f"{api}: Expected f(*args) to return a scalar Tensor, got tensor with "
                                   f"{out.dim()} dims. Maybe you wanted to use the vjp or jacrev APIs instead?")
            inner = {id(w) for w in wrapped}
            keep = outer and out.requires_grad and _reaches_outside([out], inner)
            if out.requires_grad:
                grads = _autograd_grad([out], wrapped, None, create_graph=keep, retain_graph=keep)
            else:
                grads = (None,) * len(wrapped)
            grads = [_release(g if g is not None else _zeros(w.shape, w), keep, inner)
                     for g, w in zip(grads, wrapped)]
        value = _release(out, outer, inner)
        if has_aux:
            value = (value, _release_tree(aux, outer, inner, aux=True))
        return unflatten(grads, spec), value

    return wrapper


def grad(func, argnums=0, has_aux=False):
    """``f -> grad of f with respect to args[argnums]`` for a scalar-valued ``f`` (``(grad, aux)`` with
    ``has_aux``). Nests: ``grad(grad(f))`` is the second derivative."""
    gv = grad_and_value(func, argnums, has_aux)

    def wrapper(*args, **kwargs):
        g, value = gv(*args, **kwargs)
        if has_aux:
            return g, value[1]
        return g

    return wrapper


# --------------------------------------------------------------------------- vjp
def vjp(func, *primals, has_aux=False):
    """``(f(*primals), vjp_fn)`` (plus ``aux`` with ``has_aux``). ``vjp_fn(cotangents)`` takes
    cotangents shaped like the output and returns a tuple with one gradient per primal; it may be
    called many times."""
    outer = _grad_enabled()
    api = "vjp(f, *primals)"
    with _enable_grad():
        leaves, pspec = flatten(primals)
        wrapped = _alias_inputs(leaves)
        out = func(*unflatten(wrapped, pspec))
        out, aux = _split_aux(out, has_aux, api)
        out_leaves, ospec = flatten(out)
        _check_outputs_tensors(out_leaves, api)
        inner = {id(w) for w in wrapped}
        out_outside = outer and _reaches_outside(out_leaves, inner)

    def vjp_fn(cotangents, *, retain_graph=True, create_graph=None):
        c_leaves, cspec = flatten(cotangents)
        if cspec != ospec:
            raise RuntimeError("Expected pytree structure of cotangents to be the same as pytree structure of "
                               f"outputs to the function. cotangents: {cspec}, primal output: {ospec}")
        Tensor = _tensor_cls()
        for c in c_leaves:
            if not isinstance(c, Tensor):
                raise RuntimeError(f"vjp_fn: expected cotangents to be only Tensors, got {type(c)}")
        need = _grad_enabled() and (out_outside or any(c.requires_grad for c in c_leaves))
        if create_graph is not None:
            need = bool(create_graph)
        outs = [o for o in out_leaves if o.requires_grad]
        cots = [c for o, c in zip(out_leaves, c_leaves) if o.requires_grad]
        for i, (o, c) in enumerate(zip(out_leaves, c_leaves)):
            if tuple(o.shape) != tuple(c.shape):
                raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of {c.shape} and output[{i}] "
                                   f"has a shape of {o.shape}.")
        with _enable_grad():
            if outs:
                grads = _autograd_grad(outs, wrapped, cots, create_graph=need, retain_graph=True)
            else:
                grads = (None,) * len(wrapped)
            grads = [_release(g if g is not None else _zeros(w.shape, w), need, inner)
                     for g, w in zip(grads, wrapped)]
        return unflatten(grads, pspec)

    res = _release_tree(out, outer, inner)
    if has_aux:
        return res, vjp_fn, _release_tree(aux, outer, inner, aux=True)
    return res, vjp_fn


# --------------------------------------------------------------------------- jvp, linearize
class _Linearized:
    """The first, graph-recording backward pass of the double-vjp trick: ``g(u) = J^T u`` as a graph in
    the dummy cotangents ``u``; ``apply(tangents)`` is then one backward pass each."""

    def __init__(self, out_leaves, inputs, outer):
        self.out_leaves = out_leaves
        self.inputs = inputs
        self.diff = [i for i, o in enumerate(out_leaves) if o.requires_grad]
        self.us = [_zeros(out_leaves[i].shape, out_leaves[i]).requires_grad_(True) for i in self.diff]
        if self.diff:
            self.g = _autograd_grad([out_leaves[i] for i in self.diff], inputs, self.us, create_graph=True)
        else:
            self.g = (None,) * len(inputs)
        self.inner = {id(x) for x in inputs} | {id(u) for u in self.us}
        self.g_outside = outer and _reaches_outside(self.g, self.inner)

    def apply(self, tangents, outer):
        """``J v`` for every output (zeros where an output does not depend on the inputs)."""
        pairs = [(g, t) for g, t in zip(self.g, tangents) if g is not None and g.requires_grad]
        res = [None] * len(self.out_leaves)
        need = outer and (self.g_outside or any(t.requires_grad for _, t in pairs))
        if pairs and self.us:
            with _enable_grad():
                got = _autograd_grad([g for g, _ in pairs], self.us, [t for _, t in pairs], create_graph=need)
            for i, r in zip(self.diff, got):
                res[i] = r
        return [_release(r if r is not None else _zeros(o.shape, o), need, self.inner)
                for r, o in zip(res, self.out_leaves)]

    def columns(self, j, outer):
        """The Jacobian of every output with respect to input ``j``: ``out.shape + input.shape`` each."""
        from ..ops.join import stack
        x = self.inputs[j]
        g = self.g[j]
        n = x.numel()
        if g is None or not g.requires_grad or n == 0 or not self.us:
            return [_zeros(tuple(o.shape) + tuple(x.shape), o) for o in self.out_leaves]
        need = outer and self.g_outside
        cols = [[] for _ in self.out_leaves]
        basis = _zeros((n,), g)
        for k in range(n):
            e = basis.clone()
            e[k] = 1
            with _enable_grad():
                got = _autograd_grad([g], self.us, [e.view(tuple(g.shape))], create_graph=need)
            got_full = [None] * len(self.out_leaves)
            for i, r in zip(self.diff, got):
                got_full[i] = r
            for i, (r, o) in enumerate(zip(got_full, self.out_leaves)):
                cols[i].append(r if r is not None else _zeros(o.shape, o))
        out = []
        for i, o in enumerate(self.out_leaves):
            jac = stack(cols[i], -1).reshape(tuple(o.shape) + tuple(x.shape))
            out.append(_release(jac, need, self.inner))
        return out


def _check_tangents(p_leaves, t_leaves, api):
    Tensor = _tensor_cls()
    for p, t in zip(p_leaves, t_leaves):
        if not isinstance(p, Tensor):
            raise RuntimeError(f"{api}: Expected primals to only contain Tensors, got {type(p)}")
        if not isinstance(t, Tensor):
            raise RuntimeError(f"{api}: Expected tangents to only contain Tensors, got {type(t)}")
        if tuple(p.shape) != tuple(t.shape):
            raise RuntimeError("Trying to set a forward gradient that has a different size than that of the original "
                               f"Tensor, this is not supported. Tensor is of size {list(p.shape)} while the given "
                               f"forward gradient is of size {list(t.shape)}.")


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """``(f(*primals), J v)`` for tangents ``v`` shaped like ``primals`` (plus ``aux`` with ``has_aux``).

    Computed on the reverse-mode engine by the double-vjp trick (two backward passes), so the numbers
    are those of forward-mode AD; ``strict`` is accepted (PyTorch does not implement it either)."""
    api = "jvp(f, primals, tangents)"
    if not isinstance(primals, tuple):
        raise RuntimeError(f"{api}: Expected primals to be a tuple. E.g. it should be valid to call f(*primals).")
    if strict:
        raise RuntimeError(f"{api}: strict=True is not supported.")
    p_leaves, pspec = flatten(primals)
    t_leaves, tspec = flatten(tangents)
    if pspec != tspec:
        raise RuntimeError(f"{api}: Expected primals and tangents to have the same python structure. For example, "
                           "if primals is a tuple of 3 tensors, tangents also must be. Got primals with structure "
                           f"{pspec} and tangents with structure {tspec}")
    _check_tangents(p_leaves, t_leaves, api)
    outer = _grad_enabled()
    with _enable_grad():
        wrapped = _alias_inputs(p_leaves)
        out = func(*unflatten(wrapped, pspec))
        out, aux = _split_aux(out, has_aux, api)
        out_leaves, ospec = flatten(out)
        _check_outputs_tensors(out_leaves, api)
        lin = _Linearized(out_leaves, wrapped, outer)
        tan_out = lin.apply(t_leaves, outer)
    inner = lin.inner
    res = (_release_tree(out, outer, inner), unflatten(tan_out, ospec))
    if has_aux:
        return res + (_release_tree(aux, outer, inner, aux=True),)
    return res


def linearize(func, *primals):
    """``(f(*primals), jvp_fn)``: ``jvp_fn(*tangents)`` is ``J v`` at ``primals``; the first backward
    pass is recorded once and reused by every call."""
    api = "linearize(func, *primals)"
    p_leaves, pspec = flatten(primals)
    outer = _grad_enabled()
    with _enable_grad():
        wrapped = _alias_inputs(p_leaves)
        out = func(*unflatten(wrapped, pspec))
        out_leaves, ospec = flatten(out)
        _check_outputs_tensors(out_leaves, api)
        lin = _Linearized(out_leaves, wrapped, outer)

    def jvp_fn(*tangents):
        t_leaves, tspec = flatten(tangents)
        if tspec != pspec:
            raise RuntimeError(f"Expected the tangents {tspec} to have the same argspec as the primals {pspec}")
        _check_tangents(p_leaves, t_leaves, api)
        return unflatten(lin.apply(t_leaves, _grad_enabled()), ospec)

    return _release_tree(out, outer, lin.inner), jvp_fn


# --------------------------------------------------------------------------- Jacobians
def _jac_result(per_out, out_spec, norm, diff_spec):
    """Nest Jacobians as PyTorch does: the output's structure outside, the differentiated arguments'
    structure inside."""
    return unflatten([unflatten(row, diff_spec) for row in per_out], out_spec)


def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None, _preallocate_and_copy=False):
    """``f -> Jacobian of f with respect to args[argnums]`` by reverse mode: one backward pass per
    output element. Entry shapes are ``output.shape + input.shape``."""
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size <= 0):
        raise ValueError("jacrev: `chunk_size` should be greater than 0.")

    def wrapper(*args, **kwargs):
        from ..ops.join import stack
        outer = _grad_enabled()
        api = "vjp(f, *primals)"
        with _enable_grad():
            norm, leaves, spec = _diff_args(args, argnums)
            wrapped = _alias_inputs(leaves)
            out = func(*_replace_args(args, norm, unflatten(wrapped, spec)), **kwargs)
            out, aux = _split_aux(out, has_aux, api)
            out_leaves, ospec = flatten(out)
            _check_outputs_tensors(out_leaves, api)
            inner = {id(w) for w in wrapped}
            need = outer and _reaches_outside(out_leaves, inner)
            per_out = []
            for o in out_leaves:
                n = o.numel()
                if not o.requires_grad or n == 0:
                    per_out.append([_zeros(tuple(o.shape) + tuple(w.shape), o) for w in wrapped])
                    continue
                rows = [[] for _ in wrapped]
                basis = _zeros((n,), o)
                for k in range(n):
                    e = basis.clone()
                    e[k] = 1
                    gs = _autograd_grad([o], wrapped, [e.view(tuple(o.shape))], create_graph=need)
                    for r, g, w in zip(rows, gs, wrapped):
                        r.append(g if g is not None else _zeros(w.shape, w))
                per_out.append([_release(stack(r, 0).reshape(tuple(o.shape) + tuple(w.shape)), need, inner)
                                for r, w in zip(rows, wrapped)])
        jac = _jac_result(per_out, ospec, norm, spec)
        if has_aux:
            return jac, _release_tree(aux, outer, inner, aux=True)
        return jac

    return wrapper


def jacfwd(func, argnums=0, has_aux=False, *, randomness="error"):
    """``f -> Jacobian of f with respect to args[argnums]`` by forward-mode products (one Jacobian-vector
    product per input element, by the double-vjp trick). Same layout as :func:`jacrev`."""
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or 'same'. Got {randomness}")

    def wrapper(*args, **kwargs):
        outer = _grad_enabled()
        api = "jvp(f, primals, tangents)"
        with _enable_grad():
            norm, leaves, spec = _diff_args(args, argnums)
            wrapped = _alias_inputs(leaves)
            out = func(*_replace_args(args, norm, unflatten(wrapped, spec)), **kwargs)
            out, aux = _split_aux(out, has_aux, api)
            out_leaves, ospec = flatten(out)
            _check_outputs_tensors(out_leaves, api)
            lin = _Linearized(out_leaves, wrapped, outer)
            by_input = [lin.columns(j, outer) for j in range(len(wrapped))]
        per_out = [[by_input[j][i] for j in range(len(wrapped))] for i in range(len(out_leaves))]
        jac = _jac_result(per_out, ospec, norm, spec)
        if has_aux:
            return jac, _release_tree(aux, outer, lin.inner, aux=True)
        return jac

    return wrapper


def hessian(func, argnums=0):
    """``f -> Hessian of a scalar f with respect to args[argnums]``: ``jacfwd(jacrev(f))``."""
    return jacfwd(jacrev(func, argnums), argnums)
