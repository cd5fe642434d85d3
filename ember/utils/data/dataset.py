"""Datasets: map-style (``__getitem__`` + ``__len__``) and iterable-style (``__iter__``).

``TensorDataset`` and ``Subset`` also answer ``__getitems__`` (a whole batch of indices at once),
and carry Ember's private ``_fetch_collated(indices)``: the batch ``default_collate`` would build,
made with one fancy index per tensor instead of stacking per-row views. ``DataLoader`` takes that
path only when its ``collate_fn`` is ``default_collate``, so custom collate functions still see
the list of samples PyTorch gives them.
"""
from __future__ import annotations

import bisect
import math
import warnings
from typing import Generic, Iterable, Iterator, Sequence, TypeVar

import numpy as np

from ..._tensor import Tensor, _wrap

T_co = TypeVar("T_co", covariant=True)
T = TypeVar("T")

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "StackDataset", "ConcatDataset", "ChainDataset",
           "Subset", "random_split"]


class Dataset(Generic[T_co]):
    """A map-style dataset: subclasses define ``__getitem__(index)`` and usually ``__len__``.

    ``a + b`` is ``ConcatDataset([a, b])``. A subclass may define ``__getitems__(indices)``
    returning a list of samples, which ``DataLoader`` then calls once per batch.
    """

    def __getitem__(self, index) -> T_co:
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __add__(self, other: "Dataset[T_co]") -> "ConcatDataset[T_co]":
        return ConcatDataset([self, other])


class IterableDataset(Dataset[T_co]):
    """An iterable-style dataset: subclasses define ``__iter__``.

    With ``num_workers > 0`` each worker iterates its own copy; use
    ``ember.utils.data.get_worker_info()`` inside ``__iter__`` to split the stream between workers.
    ``a + b`` is ``ChainDataset([a, b])``.
    """

    def __iter__(self) -> Iterator[T_co]:
        raise NotImplementedError("Subclasses of IterableDataset should implement __iter__.")

    def __add__(self, other: Dataset[T_co]):
        return ChainDataset([self, other])


def _index_array(indices) -> np.ndarray:
    """Batch indices as one int64 array (a list from BatchSampler, a tensor, or an array)."""
    if isinstance(indices, Tensor):
        return indices._cpu_array().astype(np.int64, copy=False)
    return np.asarray(indices, dtype=np.int64)


def _take_rows(t: Tensor, idx: np.ndarray) -> Tensor:
    """``t[idx]`` for a 1-D int64 index array, as a fresh tensor (one gather, no graph)."""
    arr = t._data
    n = arr.shape[0]
    if idx.size and (idx.max() >= n or idx.min() < -n):
        bad = idx[(idx >= n) | (idx < -n)][0]
        raise IndexError(f"index {int(bad)} is out of bounds for dimension 0 with size {n}")
    if type(arr) is not np.ndarray:
        from ...backends import to_device
        return _wrap(arr[to_device(idx, t.device)])
    return _wrap(arr.take(idx, axis=0))


class TensorDataset(Dataset[tuple]):
    """Samples are ``tuple(t[i] for t in tensors)``; all tensors share their first dimension.

    Args:
        *tensors: tensors of shape ``(N, ...)`` with the same ``N``.
    """

    def __init__(self, *tensors: Tensor) -> None:
        if any(tensors[0].size(0) != t.size(0) for t in tensors):
            raise AssertionError("Size mismatch between tensors")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __getitems__(self, indices: list) -> list:
        if type(self).__getitem__ is not TensorDataset.__getitem__:
            return [self[i] for i in indices]  # a subclass's own __getitem__ wins, as in PyTorch
        # One gather per tensor, then cheap per-row views: what a custom collate_fn receives.
        cols = self._fetch_collated(indices)
        return list(zip(*(c.unbind(0) for c in cols))) if len(indices) else []

    def _fetch_collated(self, indices) -> list:
        """The batch ``default_collate(self.__getitems__(indices))`` gives: a list of stacked tensors."""
        idx = _index_array(indices)
        if any(t.requires_grad for t in self.tensors):
            # Keep the autograd graph PyTorch would build (stack of indexed rows).
            from ...ops.join import stack
            return [stack([t[int(i)] for i in idx], 0) for t in self.tensors]
        return [_take_rows(t, idx) for t in self.tensors]

    def __len__(self) -> int:
        return self.tensors[0].size(0)


class StackDataset(Dataset):
    """Zips datasets of equal length: ``StackDataset(a, b)[i] == (a[i], b[i])``,
    ``StackDataset(x=a, y=b)[i] == {"x": a[i], "y": b[i]}``."""

    def __init__(self, *args: Dataset, **kwargs: Dataset) -> None:
        if args:
            if kwargs:
                raise ValueError("Supported either ``tuple``- (via ``args``) or``dict``- (via ``kwargs``) like "
                                 "input/output, but both types are given.")
            self._length = len(args[0])
            if any(self._length != len(d) for d in args):
                raise ValueError("Size mismatch between datasets")
            self.datasets = args
        elif kwargs:
            values = list(kwargs.values())
            self._length = len(values[0])
            if any(self._length != len(d) for d in values):
                raise ValueError("Size mismatch between datasets")
            self.datasets = kwargs
        else:
            raise ValueError("At least one dataset should be passed")

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {k: d[index] for k, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def _column(self, d, indices):
        if callable(getattr(d, "__getitems__", None)):
            items = d.__getitems__(indices)
            if len(items) != len(indices):
                raise ValueError("Nested dataset's output size mismatch. Expected "
                                 f"{len(indices)}, got {len(items)}")
            return items
        return [d[i] for i in indices]

    def __getitems__(self, indices: list) -> list:
        if isinstance(self.datasets, dict):
            cols = {k: self._column(d, indices) for k, d in self.datasets.items()}
            return [{k: c[j] for k, c in cols.items()} for j in range(len(indices))]
        cols = [self._column(d, indices) for d in self.datasets]
        return [tuple(c[j] for c in cols) for j in range(len(indices))]

    def __len__(self) -> int:
        return self._length


class ConcatDataset(Dataset[T_co]):
    """The concatenation of map-style datasets: index ``i`` runs through each in turn."""

    @staticmethod
    def cumsum(sequence) -> list:
        r, s = [], 0
        for e in sequence:
            s += len(e)
            r.append(s)
        return r

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = list(datasets)
        if len(self.datasets) == 0:
            raise AssertionError("datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise AssertionError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = self.cumsum(self.datasets)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        if idx < 0:
            if -idx > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            idx = len(self) + idx
        which = bisect.bisect_right(self.cumulative_sizes, idx)
        local = idx if which == 0 else idx - self.cumulative_sizes[which - 1]
        return self.datasets[which][local]

    @property
    def cummulative_sizes(self):
        warnings.warn("cummulative_sizes attribute is renamed to cumulative_sizes", DeprecationWarning,
                      stacklevel=2)
        return self.cumulative_sizes


class ChainDataset(IterableDataset):
    """Iterable datasets chained one after another (built lazily, on each iteration)."""

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        super().__init__()
        self.datasets = datasets

    def __iter__(self):
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            yield from d

    def __len__(self) -> int:
        total = 0
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            total += len(d)
        return total


class Subset(Dataset[T_co]):
    """The samples of ``dataset`` at ``indices`` (in that order).

    A subclass that overrides ``__getitem__`` must also override ``__getitems__`` (as in PyTorch),
    because ``DataLoader`` fetches whole batches through ``__getitems__``.
    """

    def __init__(self, dataset: Dataset[T_co], indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices
        cls = type(self)
        if cls.__getitem__ is not Subset.__getitem__ and cls.__getitems__ is Subset.__getitems__:
            raise NotImplementedError(
                f"{cls.__name__} overrides __getitem__ but not __getitems__. When subclassing Subset and "
                "overriding __getitem__, also override __getitems__ so that DataLoader uses your logic, "
                "for example:\n\ndef __getitems__(self, indices):\n"
                "    return [self.__getitem__(idx) for idx in indices]")

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices: list) -> list:
        if callable(getattr(self.dataset, "__getitems__", None)):
            return self.dataset.__getitems__([self.indices[i] for i in indices])
        return [self.dataset[self.indices[i]] for i in indices]

    def _fetch_collated(self, indices) -> list:
        own = self.indices
        if not isinstance(own, np.ndarray):
            # Cache the array form of ``indices`` (keyed on identity and length; ``self.indices`` is
            # left as the user gave it): converting a long list on every batch would dominate.
            cached = self.__dict__.get("_indices_array")
            if cached is None or cached[0] is not own or len(cached[1]) != len(own):
                cached = (own, _index_array(own))
                self.__dict__["_indices_array"] = cached
            own = cached[1]
        return self.dataset._fetch_collated(own[_index_array(indices)])

    def __len__(self) -> int:
        return len(self.indices)


def _collated_fetch(dataset):
    """Ember's batch fast path for ``dataset``, or None.

    Only for ``TensorDataset`` / ``Subset`` chains whose item methods are not overridden, so that
    a subclass's own ``__getitem__``/``__getitems__`` is always honoured.
    """
    ds = dataset
    while isinstance(ds, Subset):
        cls = type(ds)
        if cls.__getitem__ is not Subset.__getitem__ or cls.__getitems__ is not Subset.__getitems__:
            return None
        ds = ds.dataset
    if not isinstance(ds, TensorDataset):
        return None
    cls = type(ds)
    if cls.__getitem__ is not TensorDataset.__getitem__ or cls.__getitems__ is not TensorDataset.__getitems__:
        return None
    return dataset._fetch_collated


def random_split(dataset: Dataset[T], lengths: Sequence, generator=None) -> list:
    """Split ``dataset`` into non-overlapping ``Subset``s of the given lengths.

    ``lengths`` are counts summing to ``len(dataset)``, or fractions summing to 1 (the
    ``floor`` of each share, then the remainder handed out one by one, round-robin).
    The permutation comes from ``generator`` (default: Ember's global generator).
    """
    from ...ops.creation import default_generator, randperm
    if generator is None:
        generator = default_generator
    lengths = list(lengths)
    n = len(dataset)  # type: ignore[arg-type]
    total = sum(lengths)
    if math.isclose(total, 1) and total <= 1:
        counts = []
        for i, frac in enumerate(lengths):
            if frac < 0 or frac > 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
            counts.append(int(math.floor(n * frac)))
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
        for i, length in enumerate(lengths):
            if length == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an empty dataset.",
                              stacklevel=2)
    if sum(lengths) != n:
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    perm = randperm(sum(lengths), generator=generator).tolist()
    out, offset = [], 0
    for length in lengths:
        out.append(Subset(dataset, perm[offset:offset + length]))
        offset += length
    return out
