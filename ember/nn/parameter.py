"""``Parameter`` (a tensor a Module trains) and ``Buffer`` (a tensor a Module keeps but does not train).

Both are recognised by ``Module.__setattr__``: assigning a ``Parameter`` registers it in the
module's ``_parameters``; assigning a ``Buffer`` registers it in ``_buffers``. A plain ``Tensor``
attribute is neither: it is not trained, not listed and not saved in ``state_dict``.
"""
from __future__ import annotations

import numpy as np

from .._tensor import Tensor, _init
from .. import _dtype as D


def _typename(obj) -> str:
    """``torch.typename``: ``'torch.FloatTensor'`` for a tensor, the qualified class name otherwise."""
    if isinstance(obj, Tensor):
        return obj.type()
    cls = obj if isinstance(obj, type) else type(obj)
    mod = getattr(cls, "__module__", "") or ""
    name = getattr(cls, "__qualname__", cls.__name__)
    return name if mod in ("", "builtins") else f"{mod}.{name}"


class Parameter(Tensor):
    """A tensor that a ``Module`` registers as trainable when it is assigned as an attribute.

    ``Parameter(data=None, requires_grad=True)`` shares ``data``'s memory (no copy). With no
    data it is an empty float tensor. Ops on a Parameter return plain Tensors.
    """

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = True):
        if data is None:
            arr = np.empty((0,), dtype=D.default_float_np())
        elif isinstance(data, Tensor):
            arr = data._data
        else:
            raise TypeError(f"Parameter(): data must be a Tensor or None, got {type(data).__name__}")
        if requires_grad and arr.dtype.kind not in "fcV":  # V: bfloat16
            raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
        t = object.__new__(cls)
        _init(t, arr, bool(requires_grad))
        return t

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


class _BufferMeta(type):
    # ``Buffer(...)`` returns a plain Tensor tagged ``_is_buffer``; isinstance recognises the tag.
    def __instancecheck__(cls, obj):
        if cls is Buffer:
            d = getattr(obj, "__dict__", None)
            return isinstance(obj, Tensor) and bool(d) and d.get("_is_buffer", False) is True
        return super().__instancecheck__(obj)


class Buffer(Tensor, metaclass=_BufferMeta):
    """Marks a tensor as a buffer: assigned to a Module attribute, it goes to ``_buffers``.

    ``Buffer(data=None, *, persistent=True)`` returns a Tensor sharing ``data``'s memory and
    keeping its ``requires_grad`` (False for ordinary data). A non-persistent buffer is left out
    of ``state_dict``.
    """

    def __new__(cls, data: Tensor | None = None, *, persistent: bool = True):
        if data is None:
            from ..ops.creation import empty
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Buffer(): data must be a Tensor or None, got {type(data).__name__}")
        t = data.detach()
        t.requires_grad = data.requires_grad
        t.persistent = persistent
        t._is_buffer = True
        return t


class UninitializedParameter(Parameter):
    """A parameter whose shape is not known yet (``LazyLinear``); ``materialize(shape)`` fills it."""

    def __new__(cls, requires_grad: bool = True, device=None, dtype=None):
        t = Parameter.__new__(cls, None, requires_grad)
        if dtype is not None:
            t._data = t._data.astype(D.as_dtype(dtype).np)
        return t

    def materialize(self, shape, device=None, dtype=None) -> None:
        from ..ops.creation import empty
        dt = self.dtype if dtype is None else dtype
        self._data = empty(tuple(shape), dtype=dt, device=device or self.device)._data
        self.__class__ = Parameter

    def __repr__(self):
        return "<UninitializedParameter>"


class UninitializedBuffer(Tensor):
    """A buffer whose shape is not known yet (lazy norm layers); ``materialize(shape)`` turns it into a
    plain tensor buffer of that shape."""

    def __new__(cls, requires_grad: bool = False, device=None, dtype=None, persistent: bool = True):
        from ..ops.creation import empty
        data = empty(0, dtype=dtype, device=device)
        t = object.__new__(cls)
        _init(t, data._data, bool(requires_grad))
        t.persistent = persistent
        t._is_buffer = True
        return t

    def materialize(self, shape, device=None, dtype=None) -> None:
        from ..ops.creation import empty
        dt = self.dtype if dtype is None else dtype
        self._data = empty(tuple(shape), dtype=dt, device=device or self.device)._data
        self.__class__ = Tensor

    def __repr__(self):
        return "<UninitializedBuffer>"


def is_lazy(t) -> bool:
    return isinstance(t, (UninitializedParameter, UninitializedBuffer))
