"""Modules as functions of their state: ``functional_call``, ``stack_module_state``,
``replace_all_batch_norm_modules_``."""


def _merge_dicts(parameter_and_buffer_dicts):
    if isinstance(parameter_and_buffer_dicts, dict):
        return dict(parameter_and_buffer_dicts)
    if isinstance(parameter_and_buffer_dicts, (list, tuple)):
        merged = {}
        seen = set()
        dupes = []
        for d in parameter_and_buffer_dicts:
            if not isinstance(d, dict):
                raise ValueError("Expected all elements of parameter_and_buffer_dicts to be dictionaries")
            for k in d:
                if k in seen and k not in dupes:
                    dupes.append(k)
                seen.add(k)
        if dupes:
            raise ValueError(f"{dupes} appeared in multiple dictionaries; behavior of functional call is ambiguous")
        for d in parameter_and_buffer_dicts:
            merged.update(d)
        return merged
    raise ValueError(f"Expected parameter_and_buffer_dicts to be a dict, or a list/tuple of dicts, but got "
                     f"{type(parameter_and_buffer_dicts)}")


def _state_names(module):
    """Every parameter and buffer name, tied duplicates included, with the tensor it names."""
    named = list(module.named_parameters(remove_duplicate=False))
    named += list(module.named_buffers(remove_duplicate=False))
    return named


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *, tie_weights=True,
                    strict=False):
    """Call ``module(*args, **kwargs)`` with some parameters and buffers replaced by the given tensors
    (dotted names as in ``state_dict``); the module's own tensors are put back afterwards, also when the
    call raises. In-place updates during the call (BatchNorm's running statistics) land in the given
    tensors. ``tie_weights``: a replaced tensor also replaces the names tied to it. ``strict``: every
    parameter and buffer must be given, and nothing else."""
    from .._tensor import Tensor
    values = _merge_dicts(parameter_and_buffer_dicts)
    for v in values.values():
        if not isinstance(v, Tensor):
            raise TypeError(f"{v} is not an instance of torch.Tensor")
    named = _state_names(module)
    all_names = [n for n, _ in named]
    if tie_weights:
        by_tensor = {}
        for n, t in named:
            by_tensor.setdefault(id(t), []).append(n)
        for names in by_tensor.values():
            if len(names) < 2:
                continue
            given = [n for n in names if n in values]
            if not given:
                continue
            if len(given) > 1 and any(values[n] is not values[given[0]] for n in given[1:]):
                raise ValueError(f"functional_call got multiple values for keys {sorted(given)}, which are tied. "
                                 "Consider using tie_weights=False")
            for n in names:
                values.setdefault(n, values[given[0]])
    if strict:
        name_set = set(all_names)
        missing = [n for n in all_names if n not in values]
        unexpected = sorted(n for n in values if n not in name_set)
        if missing or unexpected:
            lines = []
            if unexpected:
                lines.append("Unexpected key(s): " + ", ".join(repr(n) for n in unexpected) + ".")
            if missing:
                lines.append("Missing key(s): " + ", ".join(repr(n) for n in missing) + ".")
            raise RuntimeError(f"Error(s) in reparametrizing for {type(module).__name__}:\n\t" + "\n\t".join(lines))
    # resolve every owner first: a bad name raises before anything is swapped
    plan = []
    for name, value in values.items():
        prefix, _, attr = name.rpartition(".")
        owner = module.get_submodule(prefix)
        plan.append((owner, attr, value))
    restore = []
    try:
        for owner, attr, value in plan:
            d = owner.__dict__
            if attr in d["_parameters"]:
                restore.append((d["_parameters"], attr, d["_parameters"][attr]))
                d["_parameters"][attr] = value
            elif attr in d["_buffers"]:
                restore.append((d["_buffers"], attr, d["_buffers"][attr]))
                d["_buffers"][attr] = value
            else:
                restore.append((d, attr, d.get(attr, _MISSING)))
                d[attr] = value
        if args is None:
            args = ()
        elif not isinstance(args, tuple):
            args = (args,)
        return module(*args, **(kwargs or {}))
    finally:
        for store, attr, old in reversed(restore):
            if old is _MISSING:
                store.pop(attr, None)
            else:
                store[attr] = old


_MISSING = object()


def stack_module_state(models):
    """``(params, buffers)``: each model's parameters (and buffers) stacked along a new leading dimension,
    keyed by name, ready for ``vmap(functional_call)`` ensembling. Stacked parameters are new leaves
    (detached) that require grad like the originals."""
    from ..ops.join import stack
    models = list(models)
    if len(models) == 0:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if not (all(m.training for m in models) or all(not m.training for m in models)):
        raise RuntimeError("stack_module_state: Expected all models to have the same training/eval mode.")
    first = models[0]
    if not all(type(m) is type(first) for m in models):
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")
    all_params = [dict(m.named_parameters()) for m in models]
    params = {}
    for k in all_params[0]:
        ts = [p[k] for p in all_params]
        rg = ts[0].requires_grad
        if any(t.requires_grad != rg for t in ts):
            raise RuntimeError(f"Expected {k} from each model to have the same .requires_grad")
        params[k] = stack([t.detach() for t in ts]).requires_grad_(rg)
    all_buffers = [dict(m.named_buffers()) for m in models]
    buffers = {k: stack([b[k].detach() for b in all_buffers]) for k in all_buffers[0]}
    return params, buffers


def replace_all_batch_norm_modules_(root):
    """In place: every BatchNorm in ``root`` stops tracking running statistics (they are dropped and
    batch statistics are used), the form ``vmap`` over a model needs. Returns ``root``."""
    from ..nn.modules.batchnorm import _BatchNorm
    for m in root.modules():
        if isinstance(m, _BatchNorm):
            m.running_mean = None
            m.running_var = None
            m.num_batches_tracked = None
            m.track_running_stats = False
    return root
