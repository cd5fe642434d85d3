"""``Module``'s checkpoint half: ``state_dict``/``load_state_dict``, their hooks, and the extra-state
protocol. ``Module`` inherits it from ``ModuleStateDict``; import ``Module`` from ``nn.modules.module``.

Like PyTorch's, ``state_dict`` and ``_load_from_state_dict`` recurse through ``_modules`` so that a
subclass may override them per module; ``load_state_dict`` validates every key before it copies anything.
"""
from __future__ import annotations

import functools
from collections import OrderedDict, namedtuple
from typing import Any

from ..._tensor import Tensor
from ...utils.hooks import RemovableHandle
from ..parameter import Buffer, Parameter, is_lazy

__all__ = ["ModuleStateDict"]


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns: the keys the module wanted but did not get, and the extras."""

    __slots__ = ()

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


class _LoadErrors(list):
    """``error_msgs`` of a load: also carries the copies that wait until every key is validated."""

    def __init__(self):
        super().__init__()
        self.pending = []
        self.deferred_scan = True  # unexpected keys are found in one pass by load_state_dict


class ModuleStateDict:
    """The state_dict methods of ``Module`` (a base class of it; the attributes they use are made by
    ``Module.__init__``)."""

    def get_extra_state(self) -> Any:
        raise RuntimeError("Reached a code path in Module.get_extra_state() that should never be called.")

    def set_extra_state(self, state: Any) -> None:
        raise RuntimeError("Reached a code path in Module.set_extra_state() that should never be called.")

    def register_state_dict_pre_hook(self, hook) -> RemovableHandle:
        """``hook(module, prefix, keep_vars)`` runs before this module's ``state_dict`` entries are made."""
        return self._add_hook(self._state_dict_pre_hooks, hook)

    def _register_state_dict_hook(self, hook) -> RemovableHandle:
        """``hook(module, state_dict, prefix, local_metadata)`` runs after this module's entries are
        made; it may return a replacement state dict."""
        return self._add_hook(self._state_dict_hooks, hook)

    def register_state_dict_post_hook(self, hook) -> RemovableHandle:
        """Like ``_register_state_dict_hook``, but the hook must edit ``state_dict`` in place."""
        return self._add_hook(self._state_dict_hooks, _InPlaceStateDictHook(hook))

    def _register_load_state_dict_pre_hook(self, hook, with_module: bool = False) -> RemovableHandle:
        """``hook(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
        error_msgs)`` runs before this module loads (with ``with_module``, ``module`` comes first)."""
        if with_module:
            hook = functools.partial(hook, self)  # a partial, so deepcopy rebinds it to the copy
        return self._add_hook(self._load_state_dict_pre_hooks, hook)

    def register_load_state_dict_pre_hook(self, hook) -> RemovableHandle:
        """``hook(module, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
        error_msgs)`` runs before this module loads."""
        return self._register_load_state_dict_pre_hook(hook, with_module=True)

    def register_load_state_dict_post_hook(self, hook) -> RemovableHandle:
        """``hook(module, incompatible_keys)`` runs after loading; it may edit the key lists in place
        (a strict load checks them afterwards)."""
        return self._add_hook(self._load_state_dict_post_hooks, hook)

    # ------------------------------------------------------------------ state_dict
    def _save_to_state_dict(self, destination, prefix: str, keep_vars: bool) -> None:
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars else p.detach()
        skip = self._non_persistent_buffers_set
        for name, b in self._buffers.items():
            if b is not None and name not in skip:
                destination[prefix + name] = b if keep_vars else b.detach()
        if type(self).get_extra_state is not ModuleStateDict.get_extra_state:
            destination[prefix + "_extra_state"] = self.get_extra_state()

    def state_dict(self, *args, destination=None, prefix: str = "", keep_vars: bool = False):
        """An ``OrderedDict`` of every parameter and persistent buffer by dotted name: own parameters,
        own buffers, then each child's entries. Values are detached (``keep_vars=False``) but share
        memory; a tied parameter appears under each of its names."""
        if args:
            # the old positional form state_dict(destination, prefix, keep_vars)
            if len(args) > 3:
                raise TypeError(f"state_dict() takes at most 3 positional arguments ({len(args)} given)")
            destination = args[0]
            if len(args) > 1:
                prefix = args[1]
            if len(args) > 2:
                keep_vars = args[2]
        if destination is None:
            destination = OrderedDict()
            destination._metadata = OrderedDict()
        local_metadata = {"version": self._version}
        meta = getattr(destination, "_metadata", None)
        if meta is not None:
            meta[prefix[:-1]] = local_metadata
        for hook in self._state_dict_pre_hooks.values():
            hook(self, prefix, keep_vars)
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, m in self._modules.items():
            if m is not None:
                m.state_dict(destination=destination, prefix=prefix + name + ".", keep_vars=keep_vars)
        for hook in self._state_dict_hooks.values():
            res = hook(self, destination, prefix, local_metadata)
            if res is not None:
                destination = res
        return destination

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs) -> None:
        """Match this module's own entries against ``state_dict``: record missing, unexpected and
        mismatched keys; the copies themselves wait in ``error_msgs.pending`` when the caller
        validates first (``load_state_dict`` does), else they happen here."""
        for hook in self._load_state_dict_pre_hooks.values():
            hook(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs)
        assign = bool(local_metadata.get("assign_to_params_buffers", False))
        skip = self._non_persistent_buffers_set
        local = [(k, v, True) for k, v in self._parameters.items() if v is not None]
        local += [(k, v, False) for k, v in self._buffers.items() if v is not None and k not in skip]
        pending = getattr(error_msgs, "pending", None)
        for name, current, is_param in local:
            key = prefix + name
            if key not in state_dict:
                missing_keys.append(key)
                continue
            value = state_dict[key]
            if not isinstance(value, Tensor):
                error_msgs.append(f'While copying the parameter named "{key}", expected torch.Tensor or '
                                  f"Tensor-like object from checkpoint but received {type(value)}")
                continue
            lazy = is_lazy(current)
            if not lazy and current.ndim == 0 and value.ndim == 1 and value.shape[0] == 1:
                value = value.reshape(())  # checkpoints from before 0-d tensors existed
            if not lazy and tuple(value.shape) != tuple(current.shape):
                error_msgs.append(f"size mismatch for {key}: copying a param with shape {value.shape} from "
                                  f"checkpoint, the shape in current model is {current.shape}.")
                continue
            job = (self, name, current, value, is_param, assign)
            if pending is not None:
                pending.append(job)
            else:
                _copy_into(*job)
        extra_key = prefix + "_extra_state"
        has_extra = type(self).set_extra_state is not ModuleStateDict.set_extra_state
        if has_extra:
            if extra_key in state_dict:
                if pending is not None:
                    pending.append((self, None, None, state_dict[extra_key], False, False))
                else:
                    self.set_extra_state(state_dict[extra_key])
            elif strict:
                missing_keys.append(extra_key)
        elif strict and extra_key in state_dict:
            unexpected_keys.append(extra_key)
        if strict and not getattr(error_msgs, "deferred_scan", False):
            own = _local_state_names(self)
            n = len(prefix)
            for key in state_dict:
                if key.startswith(prefix) and key != extra_key:
                    head, dot, _ = key[n:].partition(".")
                    # a dotted rest must go through a child; a bare name must be loadable here
                    if (head not in self._modules) if dot else (head not in own):
                        unexpected_keys.append(key)

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False) -> _IncompatibleKeys:
        """Copy parameters and buffers from ``state_dict`` (e.g. from ``state_dict()`` or a checkpoint).

        Every key is checked before anything is written: a missing or unexpected key (with
        ``strict=True``) or a shape mismatch raises RuntimeError listing every offending key and
        leaves the module unchanged. Returns ``(missing_keys, unexpected_keys)``. ``assign=True``
        puts the given tensors in place instead of copying into the existing ones.
        """
        if not hasattr(state_dict, "keys") or not hasattr(state_dict, "__getitem__"):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        missing, unexpected = [], []
        errors = _LoadErrors()
        metadata = getattr(state_dict, "_metadata", None)
        state_dict = OrderedDict(state_dict)
        if metadata is not None:
            state_dict._metadata = metadata
        walk = []
        order = {}  # prefix -> position in the pre-order walk (PyTorch reports keys in that order)

        def load(module, prefix=""):
            order[prefix] = len(order)
            local_metadata = {} if metadata is None else dict(metadata.get(prefix[:-1], {}))
            if assign:
                local_metadata["assign_to_params_buffers"] = True
            module._load_from_state_dict(state_dict, prefix, local_metadata, True, missing, unexpected, errors)
            for name, child in module._modules.items():
                if child is not None:
                    load(child, prefix + name + ".")
            walk.append(module)  # post-order, where the post hooks run

        load(self)
        unexpected.extend(_unexpected_keys(self, state_dict, order))
        has_post = any(m._load_state_dict_post_hooks for m in walk)
        if errors or (strict and (missing or unexpected) and not has_post):
            _raise_load_errors(self, errors, missing if strict else [], unexpected if strict else [])
        for job in errors.pending:
            if job[1] is None:
                job[0].set_extra_state(job[3])
            else:
                _copy_into(*job)
        keys = _IncompatibleKeys(missing, unexpected)
        for m in walk:
            for hook in m._load_state_dict_post_hooks.values():
                if hook(m, keys) is not None:
                    raise RuntimeError("Hooks registered with ``register_load_state_dict_post_hook`` are not "
                                       "expected to return new values; edit incompatible_keys in place.")
        if strict and (missing or unexpected):
            _raise_load_errors(self, [], missing, unexpected)
        return keys


class _InPlaceStateDictHook:
    """A ``register_state_dict_post_hook`` hook: it must not return a value."""

    __slots__ = ("fn",)

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, module, state_dict, prefix, local_metadata):
        if self.fn(module, state_dict, prefix, local_metadata) is not None:
            raise RuntimeError("state_dict post-hook must return None")
        return None


def _local_state_names(module) -> set:
    """Names a module loads itself: its parameters and persistent buffers that are not None."""
    skip = module._non_persistent_buffers_set
    names = {k for k, v in module._parameters.items() if v is not None}
    names.update(k for k, v in module._buffers.items() if v is not None and k not in skip)
    return names


def _unexpected_keys(root, state_dict, order) -> list:
    """Keys no module claims, in one pass over the keys (not one per module): follow each key's
    dotted path down the children. A dotted rest must name a child; the last name must be a
    parameter or persistent buffer of the module reached."""
    local = {}
    found = []
    for pos, key in enumerate(state_dict):
        mod, prefix, rest = root, "", key
        while rest != "_extra_state":
            head, dot, tail = rest.partition(".")
            if dot:
                child = mod._modules.get(head, mod)
                if child is mod:  # no such child
                    found.append((order.get(prefix, 0), pos, key))
                elif child is not None:
                    mod, prefix, rest = child, prefix + head + ".", tail
                    continue
                break
            names = local.get(id(mod))
            if names is None:
                names = local[id(mod)] = _local_state_names(mod)
            if head not in names:
                found.append((order.get(prefix, 0), pos, key))
            break
    found.sort()
    return [k for _, _, k in found]


def _copy_into(module, name, current, value, is_param, assign):
    if assign:
        if is_param and isinstance(current, Parameter):
            if isinstance(value, Parameter):
                value.requires_grad_(current.requires_grad)
                new = value
            else:
                new = Parameter(value, requires_grad=current.requires_grad)
            module._parameters[name] = new
        else:
            new = value
            if isinstance(current, Buffer) and not isinstance(value, Buffer):
                new = value.detach()
                new.__dict__.update(persistent=current.persistent, _is_buffer=True)
            module._buffers[name] = new
        return
    if is_lazy(current):
        current.materialize(value.shape)
    src = value._data
    dst = current._data
    if type(src) is not type(dst):
        from ...backends import to_device
        src = to_device(src, current.device)
    if src.dtype != dst.dtype:
        src = src.astype(dst.dtype)
    dst[...] = src
    current._vc[0] += 1


def _raise_load_errors(module, errors, missing, unexpected):
    msgs = []
    if missing:
        msgs.append("Missing key(s) in state_dict: {}. ".format(", ".join(f'"{k}"' for k in missing)))
    if unexpected:
        msgs.append("Unexpected key(s) in state_dict: {}. ".format(", ".join(f'"{k}"' for k in unexpected)))
    msgs.extend(errors)
    raise RuntimeError("Error(s) in loading state_dict for {}:\n\t{}".format(
        type(module).__name__, "\n\t".join(msgs)))
