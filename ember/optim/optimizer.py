"""``Optimizer``: the base class of ``ember.optim`` (param groups, state, state_dict, hooks).

Updates run on the arrays (``p._data``, ``p.grad._data``) with the array namespace's in-place
ufuncs, so a step builds no graph and allocates only the temporaries the math needs. After a
parameter's array is written, its version counter is bumped (``p._vc[0] += 1``).

State layout equals PyTorch's, so a state dict moves between the two: per-parameter state is a
dict of tensors (``step`` is a 0-d float32 tensor, float64 when the default dtype is float64),
and ``state_dict()`` keys parameters by their integer position across the groups.
"""
from __future__ import annotations

import copy
import functools
from collections import OrderedDict, defaultdict
from itertools import chain
from typing import TYPE_CHECKING, Any, Callable, Iterable

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor, _wrap, zero_grads
from ..autograd.grad_mode import enable_grad
from ..backends import namespace_of

if TYPE_CHECKING:
    from ..utils.hooks import RemovableHandle

__all__ = ["Optimizer", "required"]


class _RequiredParameter:
    """Marks an option that a param group must give (no default)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()

_global_pre_hooks: "OrderedDict[int, Callable]" = OrderedDict()
_global_post_hooks: "OrderedDict[int, Callable]" = OrderedDict()


def _add_hook(hooks: dict, fn: Callable) -> RemovableHandle:
    # imported on first use: ember.utils pulls in the data loaders, which ``import ember.optim`` does not need
    from ..utils.hooks import RemovableHandle
    return RemovableHandle.add(hooks, fn)


def register_optimizer_step_pre_hook(hook: Callable) -> RemovableHandle:
    """``hook(optimizer, args, kwargs)`` runs before every optimizer's ``step``."""
    return _add_hook(_global_pre_hooks, hook)


def register_optimizer_step_post_hook(hook: Callable) -> RemovableHandle:
    """``hook(optimizer, args, kwargs)`` runs after every optimizer's ``step``."""
    return _add_hook(_global_post_hooks, hook)


def _scalar_dtype():
    return np.float64 if D.get_default_dtype() is D.float64 else np.float32


def _step_tensor(value: float = 0.0) -> Tensor:
    """The 0-d ``step`` counter PyTorch keeps per parameter."""
    return _wrap(np.array(value, dtype=_scalar_dtype()))


def _zeros_like(p: Tensor) -> Tensor:
    return _wrap(namespace_of(p._data).zeros_like(p._data))


def _float(x) -> float:
    """A Python float from a float, a 0-d Tensor or a 0-d array."""
    if isinstance(x, Tensor):
        return float(x._data)
    return float(x)


def _lerp_(xp, a, b, w: float, tmp) -> None:
    """``a.lerp_(b, w)`` in place, with PyTorch's two-sided formula (exact at w = 0 and 1)."""
    xp.subtract(b, a, out=tmp)
    if abs(w) < 0.5:
        xp.multiply(tmp, w, out=tmp)
        xp.add(a, tmp, out=a)
    else:
        xp.multiply(tmp, 1.0 - w, out=tmp)
        xp.subtract(b, tmp, out=a)


_OPTION_WORDS = {"lr": "learning rate", "eps": "epsilon value"}


def _check_options(**options) -> None:
    """The optimizers' constructor checks, in the order given and with PyTorch's messages: an
    option must be >= 0 (NaN fails), ``betas[0]`` and ``betas[1]`` in [0, 1), ``rho`` in [0, 1]."""
    for name, value in options.items():
        if name == "betas":
            for i in (0, 1):
                if not 0.0 <= value[i] < 1.0:
                    raise ValueError(f"Invalid beta parameter at index {i}: {value[i]}")
        elif name == "rho":
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"Invalid rho value: {value}")
        elif not 0.0 <= value:
            raise ValueError(f"Invalid {_OPTION_WORDS.get(name, name + ' value')}: {value}")


def _decay_grad(xp, g, p, weight_decay: float, owned: bool):
    """``g + weight_decay * p`` (L2 penalty); reuses ``g`` when it is already a temporary."""
    t = xp.multiply(p, weight_decay, out=xp.empty_like(p))
    if owned:
        xp.add(g, t, out=g)
        return g
    xp.add(g, t, out=t)
    return t


def _weight_decay(xp, g, p, lr: float, weight_decay: float, decoupled: bool, owned: bool):
    """The gradient after weight decay: decoupled (AdamW) shrinks ``p`` in place by
    ``1 - lr * weight_decay`` and returns ``g``; otherwise the L2 term ``g + weight_decay * p``."""
    if decoupled:
        xp.multiply(p, 1 - lr * weight_decay, out=p)
        return g
    return _decay_grad(xp, g, p, weight_decay, owned)


def _ema_square_(xp, v, g, beta: float, tmp) -> None:
    """``v = beta * v + (1 - beta) * g * g`` in place (the running second moment of Adam, RMSprop,
    Adadelta), rounded as PyTorch's ``v.mul_(beta).addcmul_(g, g, value=1 - beta)``; ``tmp`` is scratch."""
    xp.multiply(g, 1 - beta, out=tmp)
    xp.multiply(tmp, g, out=tmp)
    xp.multiply(v, beta, out=v)
    xp.add(v, tmp, out=v)


class Optimizer:
    """Base class: holds ``param_groups`` (a list of dicts with a ``params`` list and the options)
    and ``state`` (a defaultdict keyed by parameter tensor)."""

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        if defaults.get("differentiable"):
            # foreach/fused/capturable only pick kernels in PyTorch (same numbers): accepted and
            # ignored here; differentiable changes what step() computes, so it is refused.
            raise NotImplementedError(f"{type(self).__name__}: differentiable=True is not supported by Ember; "
                                      "the update runs on arrays outside autograd")
        self.defaults = defaults
        self._optimizer_step_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_step_post_hooks: OrderedDict = OrderedDict()
        self._optimizer_state_dict_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_state_dict_post_hooks: OrderedDict = OrderedDict()
        self._optimizer_load_state_dict_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_load_state_dict_post_hooks: OrderedDict = OrderedDict()
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            f"but got {type(params).__module__}.{type(params).__name__}")
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        groups = list(params)
        if len(groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for g in groups:
            self.add_param_group(g)

    # -- step wrapping: hooks, and the flag lr schedulers read ------------------------------
    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "step" in cls.__dict__:
            cls.step = _with_hooks(cls.__dict__["step"])

    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state):
        self.__dict__.update(state)
        for name in ("_optimizer_step_pre_hooks", "_optimizer_step_post_hooks",
                     "_optimizer_state_dict_pre_hooks", "_optimizer_state_dict_post_hooks",
                     "_optimizer_load_state_dict_pre_hooks", "_optimizer_load_state_dict_post_hooks"):
            self.__dict__.setdefault(name, OrderedDict())

    def __repr__(self) -> str:
        s = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            s += f"\nParameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    s += f"    {key}: {group[key]}\n"
        return s + ")"

    # -- param groups ----------------------------------------------------------------------
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Append a group; options it does not give come from ``defaults``.

        Raises ValueError when a parameter is already in another group, is not a leaf, or a
        required option is missing; TypeError for non-tensors. Nothing changes on error."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering "
                            "of tensors in sets will change between runs. Please use a list instead.")
        else:
            params = list(params)
        tensors, names = [], []
        for p in params:
            if isinstance(p, tuple):
                names.append(p[0])
                tensors.append(p[1])
            else:
                tensors.append(p)
        if names and len(names) != len(tensors):
            raise ValueError("all optimizer params should be with/without names. Some param names are missing")
        for p in tensors:
            if not isinstance(p, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                f"{type(p).__module__}.{type(p).__name__}")
            if not self.defaults.get("differentiable", None) and not (p.is_leaf or p.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
        existing = set()
        for g in self.param_groups:
            existing.update(id(p) for p in g["params"])
            if ("param_names" in g) != bool(names):
                txt = "with names" if names else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {txt} to the optimizer")
        if any(id(p) in existing for p in tensors):
            raise ValueError("some parameters appear in more than one parameter group")
        if len({id(p) for p in tensors}) != len(tensors):
            import warnings
            warnings.warn("optimizer contains a parameter group with duplicate parameters; "
                          "in future, this will cause an error", stacklevel=3)
        param_group["params"] = tensors
        if names:
            param_group["param_names"] = names
        for name, default in self.defaults.items():
            param_group.setdefault(name, default)
        self.param_groups.append(param_group)

    # -- gradients -------------------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Set every parameter's ``.grad`` to None (default) or fill it with zeros in place."""
        for group in self.param_groups:
            zero_grads(group["params"], set_to_none)

    def step(self, closure: Callable[[], Any] | None = None):
        """Update the parameters once; ``closure`` re-evaluates the model and returns the loss."""
        raise NotImplementedError

    def _params_with_grad(self, group, name: str):
        """For each parameter of ``group`` that has a gradient: ``(p, state, array, namespace, grad array,
        grad_is_private)``; the gradient is negated when the group maximizes."""
        maximize = group.get("maximize", False)
        for p in group["params"]:
            if p._grad is None:
                continue
            _check_sparse(p, name)
            pd = p._data
            g, owned = _grad_array(p, maximize)
            yield p, self.state[p], pd, namespace_of(pd), g, owned

    @staticmethod
    def _eval_closure(closure):
        if closure is None:
            return None
        with enable_grad():
            return closure()

    # -- hooks -----------------------------------------------------------------------------
    def register_step_pre_hook(self, hook: Callable) -> RemovableHandle:
        """``hook(optimizer, args, kwargs) -> None or (args, kwargs)`` runs before ``step``."""
        return _add_hook(self._optimizer_step_pre_hooks, hook)

    def register_step_post_hook(self, hook: Callable) -> RemovableHandle:
        """``hook(optimizer, args, kwargs) -> None`` runs after ``step``."""
        return _add_hook(self._optimizer_step_post_hooks, hook)

    def register_state_dict_pre_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        h = _add_hook(self._optimizer_state_dict_pre_hooks, hook)
        if prepend:
            self._optimizer_state_dict_pre_hooks.move_to_end(h.id, last=False)
        return h

    def register_state_dict_post_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        h = _add_hook(self._optimizer_state_dict_post_hooks, hook)
        if prepend:
            self._optimizer_state_dict_post_hooks.move_to_end(h.id, last=False)
        return h

    def register_load_state_dict_pre_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        h = _add_hook(self._optimizer_load_state_dict_pre_hooks, hook)
        if prepend:
            self._optimizer_load_state_dict_pre_hooks.move_to_end(h.id, last=False)
        return h

    def register_load_state_dict_post_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        h = _add_hook(self._optimizer_load_state_dict_post_hooks, hook)
        if prepend:
            self._optimizer_load_state_dict_post_hooks.move_to_end(h.id, last=False)
        return h

    # -- state dict ------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """``{"state": {index: {...}}, "param_groups": [{..., "params": [index, ...]}]}``.

        Indices count parameters across the groups in order. State tensors are references,
        as in PyTorch (``load_state_dict`` copies them)."""
        for hook in self._optimizer_state_dict_pre_hooks.values():
            hook(self)
        mapping: dict[int, int] = {}
        start = 0
        groups = []
        for g in self.param_groups:
            packed = {k: v for k, v in g.items() if k != "params"}
            for i, p in enumerate(g["params"], start):
                mapping.setdefault(id(p), i)
            packed["params"] = [mapping[id(p)] for p in g["params"]]
            start += len(packed["params"])
            groups.append(packed)
        state = {(mapping[id(k)] if isinstance(k, Tensor) else k): v for k, v in self.state.items()}
        sd = {"state": state, "param_groups": groups}
        for hook in self._optimizer_state_dict_post_hooks.values():
            r = hook(self, sd)
            if r is not None:
                sd = r
        return sd

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a state dict made by ``state_dict()`` here or in PyTorch (tensors converted to Ember
        tensors or NumPy arrays). Values are copied and cast to each parameter's dtype and device
        (``step`` keeps its own dtype). A dict with a different number of groups, or groups of
        other sizes, raises ValueError and leaves the optimizer unchanged."""
        state_dict = dict(state_dict)
        for hook in self._optimizer_load_state_dict_pre_hooks.values():
            r = hook(self, state_dict)
            if r is not None:
                state_dict = r
        if "state" not in state_dict or "param_groups" not in state_dict:
            raise ValueError("optimizer state dict must have the keys 'state' and 'param_groups', got "
                             f"{sorted(state_dict)}")
        groups = self.param_groups
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups "
                             f"({len(saved_groups)} vs the optimizer's {len(groups)})")
        own = [len(g["params"]) for g in groups]
        saved = [len(g["params"]) for g in saved_groups]
        if own != saved:
            raise ValueError("loaded state dict contains a parameter group that doesn't match the size of "
                             f"optimizer's group (group sizes {saved} vs the optimizer's {own})")
        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))
        new_state: defaultdict = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                p = id_map[k]
                new_state[p] = _cast_state(p, v)
            else:
                new_state[k] = copy.deepcopy(v)
        new_groups = []
        for g, ng in zip(groups, saved_groups):
            ng["params"] = g["params"]
            if "param_names" in g and "param_names" not in ng:
                ng["param_names"] = g["param_names"]
            for name, default in self.defaults.items():
                ng.setdefault(name, default)
            new_groups.append(ng)
        self.state = new_state
        self.param_groups = new_groups
        for hook in self._optimizer_load_state_dict_post_hooks.values():
            hook(self)


def _to_tensor_copy(value) -> Tensor:
    if isinstance(value, Tensor):
        return _wrap(value._data.copy())
    return _wrap(np.array(value, copy=True))


def _cast_state(p: Tensor, value, key=None):
    """A deep copy of one parameter's state, tensors moved to ``p``'s device (and dtype, except ``step``)."""
    if isinstance(value, (Tensor, np.ndarray)):
        t = _to_tensor_copy(value)
        if key != "step" and t._data.dtype.kind in "fc" and p._data.dtype.kind in "fc":
            if t._data.dtype != p._data.dtype:
                t._data = t._data.astype(p._data.dtype)
        if type(t._data) is not type(p._data):
            from ..backends import to_device
            t._data = to_device(t._data, p.device)
        return t
    if isinstance(value, dict):
        return {k: _cast_state(p, v, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast_state(p, v) for v in value)
    return copy.deepcopy(value)


def _with_hooks(step):
    """Wrap a subclass's ``step`` with the global and per-optimizer pre/post hooks."""

    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        self._opt_called = True
        if _global_pre_hooks or self._optimizer_step_pre_hooks:
            for hook in chain(_global_pre_hooks.values(), self._optimizer_step_pre_hooks.values()):
                r = hook(self, args, kwargs)
                if r is not None:
                    if isinstance(r, tuple) and len(r) == 2:
                        args, kwargs = r
                    else:
                        raise RuntimeError(f"{hook} must return None or a tuple of (new_args, new_kwargs), "
                                           f"but got {r}.")
        out = step(self, *args, **kwargs)
        if _global_post_hooks or self._optimizer_step_post_hooks:
            for hook in chain(self._optimizer_step_post_hooks.values(), _global_post_hooks.values()):
                hook(self, args, kwargs)
        return out

    wrapper._ember_step_hooks = True
    return wrapper


def _real_view(a):
    """A complex array as interleaved reals (``torch.view_as_real``), so updates treat re/im apart."""
    if a.dtype.kind != "c":
        return a
    return a.view(a.real.dtype)


def _grad_array(p: Tensor, maximize: bool):
    """(gradient array, whether it is a private temporary) for ``p``, negated under ``maximize``."""
    g = p._grad._data
    if maximize:
        xp = namespace_of(g)
        return xp.negative(g, out=xp.empty_like(g)), True
    return g, False


def _bump_step(state) -> float:
    """Increment the 0-d ``step`` tensor in place and return its new value."""
    st = state["step"]
    if not isinstance(st, Tensor):
        st = state["step"] = _step_tensor(float(st))
    st._data += 1
    return float(st._data)


def _check_sparse(p: Tensor, name: str) -> None:
    if getattr(p._grad, "is_sparse", False):
        raise RuntimeError(f"{name} does not support sparse gradients")
