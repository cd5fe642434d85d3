"""``ember.nn.utils.parametrize``: express a module's parameter or buffer as a function of other tensors.

``register_parametrization(module, "weight", P)`` moves ``module.weight`` into
``module.parametrizations.weight.original`` (or ``original0``, ``original1`` ... when ``P.right_inverse``
returns several tensors) and makes ``module.weight`` a property that returns ``P(original)``, recomputed
on every access (or once per ``cached()`` block). Several parametrizations on one tensor chain:
``P2(P1(original))``. Assigning ``module.weight = X`` runs the ``right_inverse`` chain backwards.

As in PyTorch, the module's class is swapped for a subclass made for that one module
(``ParametrizedLinear``), which carries the property; removing the last parametrization restores the
class. ``state_dict`` keys follow from the module tree: ``parametrizations.weight.original``.
"""
from __future__ import annotations

import contextlib
import copy as _copy
from collections.abc import Sequence as _Sequence

from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad as _no_grad
from ..modules.container import ModuleDict, ModuleList
from ..modules.module import Module
from ..parameter import Parameter

__all__ = [
    "cached",
    "ParametrizationList",
    "register_parametrization",
    "is_parametrized",
    "remove_parametrizations",
    "type_before_parametrizations",
    "transfer_parametrizations_and_params",
]

# cached(): nesting depth and the values computed inside the outermost block, by (id(module), name)
_cache_enabled = 0
_cache: dict = {}


@contextlib.contextmanager
def cached():
    """Inside this block each parametrized tensor is computed once, on first access, and reused.

    Useful when a parametrized weight is read many times per step (e.g. an RNN's weight at every
    time step). Blocks nest; the cache is emptied when the outermost one exits.
    """
    global _cache_enabled
    _cache_enabled += 1
    try:
        yield
    finally:
        _cache_enabled -= 1
        if not _cache_enabled:
            _cache.clear()


def _register_tensor(module: Module, name: str, value: Tensor) -> None:
    """A Parameter stays a parameter; any other tensor becomes a buffer."""
    if isinstance(value, Parameter):
        module.register_parameter(name, value)
    else:
        module.register_buffer(name, value)


def _set_in_place(dest: Tensor, src: Tensor) -> None:
    """``dest.set_(src)``: ``dest`` keeps its identity (optimizers holding it stay valid) and takes
    ``src``'s data, shape and dtype."""
    dest._data = src._data
    dest._vc[0] += 1


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor, in the order they apply, plus the unparametrized tensor(s).

    ``original`` holds the tensor (or ``original0``, ``original1`` ... when the first parametrization's
    ``right_inverse`` returns a sequence). Calling the list evaluates the chain. Built by
    ``register_parametrization``; not meant to be created by hand.
    """

    def __init__(self, modules, original: Tensor, unsafe: bool = False) -> None:
        modules = list(modules)
        if len(modules) == 0:
            raise ValueError("ParametrizationList requires one or more modules.")
        super().__init__(modules)
        self.unsafe = unsafe
        shape, dtype = tuple(original.shape), original.dtype

        # Map the current value into the space of the first parametrization's inputs.
        with _no_grad():
            new = original
            for p in reversed(self):
                if hasattr(p, "right_inverse"):
                    try:
                        new = p.right_inverse(new)
                    except NotImplementedError:
                        pass
                # a parametrization without right_inverse keeps the value as it is
        if not isinstance(new, Tensor) and not isinstance(new, _Sequence):
            raise ValueError("'right_inverse' must return a Tensor or a Sequence of tensors (list, tuple...). "
                             f"Got {type(new).__name__}")
        self.is_tensor = isinstance(new, Tensor)
        self.ntensors = 1 if self.is_tensor else len(new)

        if self.is_tensor:
            if original.dtype != new.dtype:
                raise ValueError("When `right_inverse` outputs one tensor, it may not change the dtype.\n"
                                 f"original.dtype: {original.dtype}\n"
                                 f"right_inverse(original).dtype: {new.dtype}")
            if original.device != new.device:
                raise ValueError("When `right_inverse` outputs one tensor, it may not change the device.\n"
                                 f"original.device: {original.device}\n"
                                 f"right_inverse(original).device: {new.device}")
            with _no_grad():
                if new is not original:
                    _set_in_place(original, new)
            _register_tensor(self, "original", original)
        else:
            for i, part in enumerate(new):
                if not isinstance(part, Tensor):
                    raise ValueError("'right_inverse' must return a Tensor or a Sequence of tensors "
                                     f"(list, tuple...). Got element {i} of the sequence with type "
                                     f"{type(part).__name__}.")
            for i, part in enumerate(new):
                # each piece inherits the original's kind (parameter or buffer) and requires_grad
                if isinstance(original, Parameter):
                    part = Parameter(part.detach(), original.requires_grad)
                else:
                    part = part.detach()
                    part.requires_grad_(original.requires_grad)
                _register_tensor(self, f"original{i}", part)

        if not self.unsafe:
            z = self()
            if not isinstance(z, Tensor):
                raise ValueError(f"A parametrization must return a tensor. Got {type(z).__name__}.")
            if z.dtype != dtype:
                raise ValueError("Registering a parametrization may not change the dtype of the tensor, "
                                 "unless `unsafe` flag is enabled.\n"
                                 f"unparametrized dtype: {dtype}\nparametrized dtype: {z.dtype}")
            if tuple(z.shape) != shape:
                raise ValueError("Registering a parametrization may not change the shape of the tensor, "
                                 "unless `unsafe` flag is enabled.\n"
                                 f"unparametrized shape: {original.shape}\nparametrized shape: {z.shape}")

    def right_inverse(self, value: Tensor) -> None:
        """Set the original tensor(s) so that the chain evaluates to ``value`` (what
        ``module.<name> = value`` does). Every parametrization must define ``right_inverse``."""
        with _no_grad():
            for p in reversed(self):
                if not hasattr(p, "right_inverse"):
                    raise RuntimeError(f"parametrization {type(p).__name__} does not implement right_inverse.")
                value = p.right_inverse(value)
            if self.is_tensor:
                if not isinstance(value, Tensor):
                    raise ValueError(f"`right_inverse` should return a tensor. Got {type(value).__name__}")
                if value.dtype != self.original.dtype:
                    raise ValueError(f"The tensor returned by `right_inverse` has dtype {value.dtype} "
                                     f"while `original` has dtype {self.original.dtype}")
                _set_in_place(self.original, value)
                return
            if not isinstance(value, _Sequence):
                raise ValueError(f"'right_inverse' must return a sequence of tensors. Got {type(value).__name__}.")
            if len(value) != self.ntensors:
                raise ValueError("'right_inverse' must return a sequence of tensors of length "
                                 f"{self.ntensors}. Got a sequence of length {len(value)}.")
            originals = [getattr(self, f"original{i}") for i in range(self.ntensors)]
            for i, (t, orig) in enumerate(zip(value, originals)):  # validate all before writing any
                if not isinstance(t, Tensor):
                    raise ValueError("'right_inverse' must return a sequence of tensors. Got element "
                                     f"{i} of type {type(t).__name__}.")
                if t.dtype != orig.dtype:
                    raise ValueError(f"Tensor {i} returned by `right_inverse` has dtype {t.dtype} "
                                     f"while `original{i}` has dtype {orig.dtype}")
            for t, orig in zip(value, originals):
                _set_in_place(orig, t)

    def forward(self) -> Tensor:
        if self.is_tensor:
            x = self[0](self.original)
        else:
            x = self[0](*(getattr(self, f"original{i}") for i in range(self.ntensors)))
        for p in list(self._modules.values())[1:]:
            x = p(x)
        return x


def _parametrized_class(cls: type) -> type:
    """A subclass of ``cls`` made for one module: it will carry that module's properties."""

    def __getstate__(self):
        raise RuntimeError("Serialization of parametrized modules is only supported through state_dict(). See:\n"
                           "https://pytorch.org/tutorials/beginner/saving_loading_models.html"
                           "#saving-loading-a-general-checkpoint-for-inference-and-or-resuming-training")

    def __deepcopy__(self, memo):
        # deepcopy would go through __getstate__ (which refuses): copy the instance dict directly
        done = memo.get(id(self))
        if done is not None:
            return done
        replica = self.__new__(type(self))
        memo[id(self)] = replica
        replica.__dict__ = _copy.deepcopy(self.__dict__, memo)
        return replica

    body = {"__getstate__": __getstate__, "__module__": __name__}
    if not hasattr(cls, "__deepcopy__"):
        body["__deepcopy__"] = __deepcopy__
    return type(f"Parametrized{cls.__name__}", (cls,), body)


def _add_property(module: Module, name: str) -> None:
    if hasattr(module, name):
        raise AssertionError(f"Module already has an attribute named '{name}'")

    def get(self):
        chain = self.parametrizations[name]
        if not _cache_enabled:
            return chain()
        key = (id(self), name)
        value = _cache.get(key)
        if value is None:
            value = _cache[key] = chain()
        return value

    def set_(self, value):
        self.parametrizations[name].right_inverse(value)

    setattr(type(module), name, property(get, set_))


def register_parametrization(module: Module, tensor_name: str, parametrization: Module, *,
                             unsafe: bool = False) -> Module:
    """Make ``module.<tensor_name>`` equal ``parametrization(original)``, recomputed at each access.

    ``parametrization`` is a Module whose ``forward`` maps the original tensor(s) to the value; an optional
    ``right_inverse(value)`` maps a value back to the original(s) (a Tensor, or a sequence of Tensors that
    become ``original0``, ``original1`` ...), used at registration and by ``module.<tensor_name> = value``.
    Registering again on the same name chains the new parametrization after the previous ones.
    Unless ``unsafe=True``, the parametrized tensor must keep the shape and dtype of the original.
    Returns ``module`` (whose class becomes ``Parametrized<Class>``).
    """
    parametrization.train(module.training)
    if is_parametrized(module, tensor_name):
        if not unsafe:
            y = getattr(module, tensor_name)
            x = parametrization(y)
            if not isinstance(x, Tensor):
                raise ValueError(f"A parametrization must return a tensor. Got {type(x).__name__}.")
            if x.dtype != y.dtype:
                raise ValueError("Registering a parametrization may not change the dtype of the tensor, unless "
                                 "the `unsafe` flag is enabled.\n"
                                 f"module.{tensor_name}.dtype: {y.dtype}\n"
                                 f"parametrization(module.{tensor_name}).dtype: {x.dtype}")
            if tuple(x.shape) != tuple(y.shape):
                raise ValueError("Registering a parametrization may not change the shape of the tensor, unless "
                                 "the `unsafe` flag is enabled.\n"
                                 f"module.{tensor_name}.shape: {y.shape}\n"
                                 f"parametrization(module.{tensor_name}).shape: {x.shape}")
            if hasattr(parametrization, "right_inverse"):
                try:
                    z = parametrization.right_inverse(x)
                except NotImplementedError:
                    pass
                else:
                    if not isinstance(z, Tensor):
                        raise ValueError("parametrization.right_inverse must return a tensor. "
                                         f"Got: {type(z).__name__}")
                    if z.dtype != y.dtype:
                        raise ValueError("The tensor returned by parametrization.right_inverse must have the same "
                                         f"dtype as module.{tensor_name}, unless the `unsafe` flag is enabled.\n"
                                         f"module.{tensor_name}.dtype: {y.dtype}\n"
                                         f"returned dtype: {z.dtype}")
                    if tuple(z.shape) != tuple(y.shape):
                        raise ValueError("The tensor returned by parametrization.right_inverse must have the same "
                                         f"shape as module.{tensor_name}, unless the `unsafe` flag is enabled.\n"
                                         f"module.{tensor_name}.shape: {y.shape}\n"
                                         f"returned shape: {z.shape}")
        chain = module.parametrizations[tensor_name]
        chain.append(parametrization)
        chain.unsafe |= unsafe  # once unsafe, the whole chain stays unsafe
        return module
    if tensor_name in module._buffers or tensor_name in module._parameters:
        original = getattr(module, tensor_name)
        if original is None:
            raise ValueError(f"Module '{module}' does not have a parameter, a buffer, or a parametrized "
                             f"element with name '{tensor_name}'")
        chain = ParametrizationList([parametrization], original, unsafe=unsafe)  # validates before any change
        delattr(module, tensor_name)
        if not is_parametrized(module):
            module.__class__ = _parametrized_class(type(module))
            module.parametrizations = ModuleDict()
        _add_property(module, tensor_name)
        module.parametrizations[tensor_name] = chain
        return module
    raise ValueError(f"Module '{module}' does not have a parameter, a buffer, or a parametrized "
                     f"element with name '{tensor_name}'")


def is_parametrized(module: Module, tensor_name: str | None = None) -> bool:
    """Whether ``module`` has any parametrization (or one on ``tensor_name``)."""
    chains = module.__dict__.get("_modules", {}).get("parametrizations")
    if chains is None or not isinstance(chains, ModuleDict):
        return False
    if tensor_name is None:
        return len(chains) > 0
    return tensor_name in chains


def remove_parametrizations(module: Module, tensor_name: str, leave_parametrized: bool = True) -> Module:
    """Undo ``register_parametrization`` on ``tensor_name``: it becomes a plain parameter (or buffer) again.

    With ``leave_parametrized=True`` it keeps its current parametrized value (written into the original
    tensor object, so optimizers holding it stay valid); with ``False`` it gets back the unparametrized
    original, which needs a single original tensor. Removing the last one restores the module's class.
    """
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"Module {module} does not have a parametrization on {tensor_name}")
    chain = module.parametrizations[tensor_name]
    if chain.is_tensor:
        original = chain.original
        if leave_parametrized:
            with _no_grad():
                value = getattr(module, tensor_name)
                if value is not original:
                    _set_in_place(original, value)
    else:
        if not leave_parametrized:
            raise ValueError("Cannot leave unparametrized (`leave_parametrized=False`) a tensor that is "
                             "parametrized in terms of a sequence of tensors.")
        value = getattr(module, tensor_name)
        if value.requires_grad:
            original = Parameter(value.detach(), value.requires_grad)
        else:
            original = value
    delattr(type(module), tensor_name)
    del module.parametrizations[tensor_name]
    _register_tensor(module, tensor_name, original)
    if not is_parametrized(module):
        delattr(module, "parametrizations")
        module.__class__ = type(module).__bases__[0]
    return module


def type_before_parametrizations(module: Module) -> type:
    """The module's class as it was before any parametrization (``Linear`` for ``ParametrizedLinear``)."""
    if is_parametrized(module):
        return type(module).__bases__[0]
    return type(module)


def transfer_parametrizations_and_params(from_module: Module, to_module: Module,
                                         tensor_name: str | None = None) -> Module:
    """Register ``from_module``'s parametrizations (all, or those of ``tensor_name``) on ``to_module`` and
    share the original tensors with it. A name ``to_module`` lacks is created first as a parameter holding
    ``from_module``'s current value. Returns ``to_module``."""
    if not is_parametrized(from_module):
        return to_module
    names = list(from_module.parametrizations) if tensor_name is None else [tensor_name]
    for name in names:
        src = from_module.parametrizations[name]
        if not hasattr(to_module, name):
            setattr(to_module, name, Parameter(getattr(from_module, name)))
        for p in src:
            register_parametrization(to_module, name, p)
        dst = to_module.parametrizations[name]
        if hasattr(src, "original"):
            dst.original = src.original
        else:
            i = 0
            while hasattr(src, f"original{i}"):
                setattr(dst, f"original{i}", getattr(src, f"original{i}"))
                i += 1
    return to_module
