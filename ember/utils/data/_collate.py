"""Batch assembly: ``default_collate`` (a list of samples -> one batch) and ``default_convert``.

The rules follow PyTorch's, type by type:

=====================  ==============================================================
sample element         batched as
=====================  ==============================================================
Tensor                 ``stack(batch, 0)``
NumPy array            a stacked tensor of the same dtype (string/object arrays: TypeError)
NumPy scalar           a 1-D tensor of that dtype
float / int / bool     float64 / int64 / bool tensor (Python ``bool`` is an ``int``)
str / bytes            the list unchanged
Mapping                the same mapping type, each key collated
namedtuple             the same namedtuple type, each field collated
tuple / other Sequence a list (tuple) or the same sequence type, each position collated
=====================  ==============================================================

``collate(batch, collate_fn_map=...)`` is the generic walk; extend ``default_collate_fn_map``-style
dicts (``{type: fn(batch, *, collate_fn_map)}``) to teach it new element types.
"""
from __future__ import annotations

import collections.abc
import copy
import re
from typing import Callable

import numpy as np

from ..._tensor import Tensor, _wrap

__all__ = ["default_collate", "default_convert", "collate", "default_collate_fn_map",
           "collate_tensor_fn", "collate_numpy_array_fn", "collate_numpy_scalar_fn", "collate_float_fn",
           "collate_int_fn", "collate_str_fn"]

# dtype.str of arrays that cannot become tensors: bytes, str, unicode, object.
np_str_obj_array_pattern = re.compile(r"[SaUO]")

default_collate_err_msg_format = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or "
                                  "lists; found {}")
_NUMPY_STRINGS = (np.str_, np.bytes_)


def _array_tensor(arr: np.ndarray) -> Tensor:
    from ..._dtype import from_np
    from_np(arr.dtype)  # raises PyTorch's TypeError for dtypes tensors cannot hold (e.g. uint32)
    return _wrap(arr)


def default_convert(data):
    """Turn NumPy arrays and scalars inside ``data`` into tensors; keep everything else.

    Used by ``DataLoader`` when automatic batching is off (``batch_size=None``). Tuples come
    back as lists, like PyTorch; arrays of strings or objects stay arrays.
    """
    elem_type = type(data)
    if isinstance(data, Tensor):
        return data
    if elem_type.__module__ == "numpy" and not isinstance(data, _NUMPY_STRINGS):
        if isinstance(data, np.ndarray) and np_str_obj_array_pattern.search(data.dtype.str) is not None:
            return data
        return _array_tensor(np.asarray(data))  # shares memory, like torch.as_tensor
    if isinstance(data, collections.abc.Mapping):
        try:
            if isinstance(data, collections.abc.MutableMapping):
                clone = copy.copy(data)
                clone.update({k: default_convert(data[k]) for k in data})
                return clone
            return elem_type({k: default_convert(data[k]) for k in data})
        except TypeError:
            return {k: default_convert(data[k]) for k in data}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return elem_type(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        try:
            if isinstance(data, collections.abc.MutableSequence):
                clone = copy.copy(data)
                for i, d in enumerate(data):
                    clone[i] = default_convert(d)
                return clone
            return elem_type([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data


def collate(batch, *, collate_fn_map: dict | None = None):
    """Collate ``batch`` (a sequence of samples), dispatching element types through ``collate_fn_map``.

    A type found exactly in the map wins; otherwise the first entry whose type ``isinstance``
    matches. Containers (mappings, namedtuples, sequences) are walked recursively.
    """
    elem = batch[0]
    elem_type = type(elem)
    if collate_fn_map is not None:
        fn = collate_fn_map.get(elem_type)
        if fn is not None:
            return fn(batch, collate_fn_map=collate_fn_map)
        for collate_type, fn in collate_fn_map.items():
            if isinstance(elem, collate_type):
                return fn(batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, collections.abc.Mapping):
        try:
            if isinstance(elem, collections.abc.MutableMapping):
                clone = copy.copy(elem)
                clone.update({k: collate([d[k] for d in batch], collate_fn_map=collate_fn_map) for k in elem})
                return clone
            return elem_type({k: collate([d[k] for d in batch], collate_fn_map=collate_fn_map) for k in elem})
        except TypeError:
            return {k: collate([d[k] for d in batch], collate_fn_map=collate_fn_map) for k in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return elem_type(*(collate(s, collate_fn_map=collate_fn_map) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(e) != size for e in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        transposed = list(zip(*batch))
        if isinstance(elem, tuple):
            return [collate(s, collate_fn_map=collate_fn_map) for s in transposed]
        try:
            if isinstance(elem, collections.abc.MutableSequence):
                clone = copy.copy(elem)
                for i, s in enumerate(transposed):
                    clone[i] = collate(s, collate_fn_map=collate_fn_map)
                return clone
            return elem_type([collate(s, collate_fn_map=collate_fn_map) for s in transposed])
        except TypeError:
            return [collate(s, collate_fn_map=collate_fn_map) for s in transposed]
    raise TypeError(default_collate_err_msg_format.format(elem_type))


def collate_tensor_fn(batch, *, collate_fn_map=None) -> Tensor:
    first = batch[0]._data
    dt, shape = first.dtype, first.shape
    arrays = []
    for t in batch:
        if not isinstance(t, Tensor) or t.requires_grad:
            break
        a = t._data
        if a.dtype != dt or a.shape != shape:
            break
        arrays.append(a)
    else:
        # Plain same-shape, same-dtype tensors without grad: one array stack, no op dispatch.
        from ...backends import namespace_of
        return _wrap(namespace_of(first).stack(arrays, 0))
    from ...ops.join import stack
    return stack(batch, 0)  # errors, dtype promotion and autograd exactly as ember.stack


def collate_numpy_array_fn(batch, *, collate_fn_map=None) -> Tensor:
    elem = batch[0]
    if np_str_obj_array_pattern.search(elem.dtype.str) is not None:
        raise TypeError(default_collate_err_msg_format.format(elem.dtype))
    shape = elem.shape
    for i, b in enumerate(batch):
        if b.shape != shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(shape)} at entry 0 "
                               f"and {list(b.shape)} at entry {i}")
    return _array_tensor(np.stack(batch, 0))


def collate_numpy_scalar_fn(batch, *, collate_fn_map=None) -> Tensor:
    return _array_tensor(np.asarray(batch))


def collate_float_fn(batch, *, collate_fn_map=None) -> Tensor:
    return _wrap(np.asarray(batch, dtype=np.float64))


def collate_int_fn(batch, *, collate_fn_map=None) -> Tensor:
    # ``tensor(batch)`` inference: all bools -> bool, ints -> int64, a float among them -> default float.
    from ...ops.creation import tensor
    return tensor(list(batch))


def collate_str_fn(batch, *, collate_fn_map=None):
    return batch


default_collate_fn_map: dict[type | tuple, Callable] = {
    Tensor: collate_tensor_fn,
    np.ndarray: collate_numpy_array_fn,
    (np.bool_, np.number, np.object_): collate_numpy_scalar_fn,
    float: collate_float_fn,
    int: collate_int_fn,
    str: collate_str_fn,
    bytes: collate_str_fn,
}


def default_collate(batch):
    """Stack a list of samples into a batch (see the module docstring for the per-type rules).

    Example: ``default_collate([(x0, 0), (x1, 1)])`` -> ``[stack([x0, x1]), tensor([0, 1])]``.
    """
    return collate(batch, collate_fn_map=default_collate_fn_map)
