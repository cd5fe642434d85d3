"""``vmap``: map a function over a batch dimension.

Ember has no batching rules: ``vmap(f)`` runs ``f`` once per batch element (each mapped input indexed
with ``select(in_dim, i)``) and stacks the results along ``out_dims``. That is correct for any ``f`` —
including ones with data-dependent control flow, ``.item()`` and in-place updates of their own
tensors, which PyTorch's vmap rejects — and composes with ``grad``/``jacrev`` and with itself, but it
costs one Python call of ``f`` per element: a loop, not a vectorised kernel.
"""

from ._pytree import broadcast_prefix, flatten, unflatten


def _fname(func):
    return getattr(func, "__name__", repr(func))


def _check_randomness(randomness):
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or 'same'. Got {randomness}")


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """``func`` vectorised over dimension ``in_dims`` of its inputs (an int, ``None`` for an unmapped
    input, or a pytree of those matching the positional arguments); the outputs gain the batch dimension
    at ``out_dims``. ``randomness``: ``'error'`` raises if ``func`` draws random numbers, ``'different'``
    lets each element draw its own, ``'same'`` replays one stream for every element. ``chunk_size`` is
    accepted (elements are already processed one at a time).

    Implementation note: this runs ``func`` once per batch element and stacks the results (see the
    module docstring): correct for any ``func``, but slow for large batches."""
    if not callable(func):
        raise RuntimeError(f"vmap: Expected a callable, got {type(func)}")
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size <= 0):
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got {chunk_size})")

    def wrapped(*args, **kwargs):
        _check_randomness(randomness)
        return _vmap_call(func, in_dims, out_dims, randomness, args, kwargs)

    wrapped.__name__ = f"vmap({_fname(func)})"
    wrapped.__doc__ = func.__doc__
    return wrapped


def _vmap_call(func, in_dims, out_dims, randomness, args, kwargs):
    from .._tensor import Tensor
    name = _fname(func)
    if not isinstance(in_dims, (int, tuple)) or isinstance(in_dims, bool):
        raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): expected `in_dims` to be int or a "
                         f"(potentially nested) tuple matching the structure of inputs, got: {type(in_dims)}.")
    if len(args) == 0:
        raise ValueError(f"vmap({name})(<inputs>): got no inputs. Maybe you forgot to add inputs, or you are "
                         "trying to vmap over a function with no inputs. The latter is unsupported.")
    leaves, spec = flatten(tuple(args))
    if isinstance(in_dims, tuple):
        if len(in_dims) != len(args):
            raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): in_dims is not compatible with "
                             f"the structure of `inputs`. in_dims has structure {flatten(in_dims)[1]} but inputs "
                             f"has structure {spec}.")
        dims = broadcast_prefix(in_dims, spec,
                                f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): in_dims is not compatible with "
                                f"the structure of `inputs`. in_dims has structure {flatten(in_dims)[1]} but "
                                f"inputs has structure {spec}.")
    else:
        dims = [in_dims] * len(leaves)
    sizes = []
    norm_dims = []
    for x, d in zip(leaves, dims):
        if d is None:
            norm_dims.append(None)
            continue
        if not isinstance(d, int) or isinstance(d, bool):
            raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): in_dims must be int or None for "
                             f"each input, got {type(d)}.")
        if not isinstance(x, Tensor):
            raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} for an input but "
                             f"the input is of type {type(x)}. We cannot vmap over non-Tensor arguments, please use "
                             "None as the respective in_dim")
        nd = x.dim()
        if not -nd <= d < nd:
            raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} for some input, but "
                             f"that input is a Tensor of dimensionality {nd} so expected in_dim to satisfy "
                             f"-{nd} <= in_dim < {nd}.")
        d = d % nd
        norm_dims.append(d)
        sizes.append(x.shape[d])
    if not sizes:
        raise ValueError("vmap: Expected at least one Tensor to vmap over")
    if any(s != sizes[0] for s in sizes):
        raise ValueError("vmap: Expected all tensors to have the same size in the mapped dimension, got sizes "
                         f"{sizes} for the mapped dimension")
    batch = sizes[0]

    def element(i):
        if i is None:  # an empty batch: trace the shapes with a zero element
            from ..ops.creation import zeros
            return [x if d is None else zeros(tuple(s for k, s in enumerate(x.shape) if k != d), dtype=x.dtype,
                                              device=x.device)
                    for x, d in zip(leaves, norm_dims)]
        return [x if d is None else x.select(d, i) for x, d in zip(leaves, norm_dims)]

    from ..ops.creation import get_rng_state, set_rng_state
    state0 = get_rng_state()
    results = []
    for i in (range(batch) if batch else [None]):
        if randomness == "same":
            set_rng_state(state0)
        out = func(*unflatten(element(i), spec), **kwargs)
        if randomness == "error" and i in (0, None) and not _same_state(state0, get_rng_state()):
            set_rng_state(state0)
            raise RuntimeError("vmap: called random operation while in randomness error mode. Please either use "
                               "the 'same' or 'different' randomness flags on vmap or perform the randomness "
                               "operation out of vmap")
        results.append(out)
    return _stack_outputs(results, out_dims, batch, name)


def _same_state(a, b):
    return tuple(a.shape) == tuple(b.shape) and bool((a == b).all())


def _stack_outputs(results, out_dims, batch, name):
    from .._tensor import Tensor
    from ..ops.join import stack
    flat = []
    spec = None
    for r in results:
        leaves, s = flatten(r)
        if spec is None:
            spec = s
        elif s != spec:
            raise ValueError(f"vmap({name}, ...): `{name}` must return outputs with the same structure for every "
                             "batch element")
        flat.append(leaves)
    msg = (f"vmap({name}, ..., out_dims={out_dims})(<inputs>): out_dims is not compatible with the structure of "
           f"`outputs`. out_dims has structure {flatten(out_dims)[1]} but outputs has structure {spec}.")
    if isinstance(out_dims, tuple) and spec.kind == "leaf":
        if len(out_dims) != 1:
            raise ValueError(msg)
        odims = [out_dims[0]]
    else:
        odims = broadcast_prefix(out_dims, spec, msg)
    outs = []
    for j, d in enumerate(odims):
        column = [leaves[j] for leaves in flat]
        first = column[0]
        if d is None:
            outs.append(first)
            continue
        if not isinstance(first, Tensor):
            raise ValueError(f"vmap({name}, ...): `{name}` must only return Tensors, got type {type(first)}. Did "
                             "you mean to set out_dims= to None for output?")
        nd = first.dim() + 1
        if not isinstance(d, int) or isinstance(d, bool):
            raise ValueError(f"vmap({name}, ..., out_dims={out_dims}): out_dims must be int or None, got {type(d)}")
        if not -nd <= d < nd:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-nd}, {nd - 1}], but got {d})")
        if batch == 0:
            shape = list(first.shape)
            shape.insert(d % nd, 0)
            outs.append(first.new_zeros(tuple(shape)))
        else:
            outs.append(stack(column, d % nd))
    return unflatten(outs, spec)
