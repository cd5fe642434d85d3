"""Samplers: iterables of dataset indices (or, for ``BatchSampler``, of lists of indices).

Random samplers draw from an ``ember.Generator`` (NumPy PCG64). The streams are reproducible for
a seed but differ from PyTorch's. Without an explicit generator, ``RandomSampler`` and
``SubsetRandomSampler`` seed a fresh generator from Ember's global one at each ``iter()``, so
``ember.manual_seed(s)`` makes shuffling reproducible, as in PyTorch.
"""
from __future__ import annotations

import itertools
from typing import Generic, Iterable, Iterator, Sequence, Sized, TypeVar

T_co = TypeVar("T_co", covariant=True)

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler",
           "BatchSampler"]


class Sampler(Generic[T_co]):
    """Base class: subclasses define ``__iter__`` (and ``__len__`` where it is known)."""

    def __iter__(self) -> Iterator[T_co]:
        raise NotImplementedError


def _fresh_generator(generator):
    """The generator to draw from: the given one, else one seeded from the global stream."""
    from ...ops.creation import Generator, default_generator
    if generator is not None:
        return generator
    seed = int(default_generator._rng.integers(0, 2 ** 63))
    return Generator().manual_seed(seed)


def _check_num_samples(num_samples) -> None:
    if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples <= 0:
        raise ValueError(f"num_samples should be a positive integer value, but got num_samples={num_samples}")


class SequentialSampler(Sampler[int]):
    """``0, 1, ..., len(data_source) - 1``."""

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler[int]):
    """Random indices into ``data_source``.

    Without replacement: whole permutations, then a prefix of one more, until ``num_samples``
    (default ``len(data_source)``). With replacement: ``num_samples`` uniform draws.
    """

    def __init__(self, data_source: Sized, replacement: bool = False, num_samples: int | None = None,
                 generator=None) -> None:
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(self.replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got replacement={self.replacement}")
        _check_num_samples(self.num_samples)

    @property
    def num_samples(self) -> int:
        # The dataset may change size between construction and iteration.
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        n = len(self.data_source)
        rng = _fresh_generator(self.generator)._rng
        m = self.num_samples
        if self.replacement:
            # Chunks of 32 draws, so stopping early does not consume the whole stream.
            for _ in range(m // 32):
                yield from rng.integers(0, n, 32).tolist()
            yield from rng.integers(0, n, m % 32).tolist()
        else:
            for _ in range(m // n):
                yield from rng.permutation(n).tolist()
            yield from rng.permutation(n)[: m % n].tolist()

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler[int]):
    """The given ``indices``, in a random order (a fresh permutation at each ``iter()``)."""

    def __init__(self, indices: Sequence[int], generator=None) -> None:
        self.indices = indices
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        rng = _fresh_generator(self.generator)._rng
        for i in rng.permutation(len(self.indices)).tolist():
            yield self.indices[i]

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler[int]):
    """``num_samples`` indices in ``[0, len(weights))`` drawn with probability proportional to ``weights``.

    Args:
        weights: 1-D non-negative weights (need not sum to 1).
        num_samples: how many indices per iteration.
        replacement: draw with replacement (default) or without (then ``num_samples`` must not
            exceed the number of non-zero weights).
    """

    def __init__(self, weights: Sequence[float], num_samples: int, replacement: bool = True,
                 generator=None) -> None:
        _check_num_samples(num_samples)
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement should be a boolean value, but got replacement={replacement}")
        from ...ops.creation import as_tensor
        from ..._dtype import float64
        w = as_tensor(weights, dtype=float64)
        if w.dim() != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape {tuple(w.shape)}")
        self.weights = w
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        from ...ops.creation import multinomial
        yield from multinomial(self.weights, self.num_samples, self.replacement, generator=self.generator).tolist()

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler[list]):
    """Groups another sampler's indices into lists of ``batch_size``; the last may be shorter
    unless ``drop_last``.

    Example: ``list(BatchSampler(SequentialSampler(range(5)), 2, False)) == [[0, 1], [2, 3], [4]]``.
    """

    def __init__(self, sampler: Sampler[int] | Iterable[int], batch_size: int, drop_last: bool) -> None:
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list]:
        it = iter(self.sampler)
        size = self.batch_size
        if self.drop_last:
            # zip over one shared iterator pulls ``size`` items per tuple and stops before a short batch.
            for batch in zip(*([it] * size)):
                yield list(batch)
        else:
            while True:
                batch = list(itertools.islice(it, size))
                if not batch:
                    return
                yield batch

    def __len__(self) -> int:
        n = len(self.sampler)  # type: ignore[arg-type]
        return n // self.batch_size if self.drop_last else (n + self.batch_size - 1) // self.batch_size

