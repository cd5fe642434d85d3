"""What runs inside a DataLoader worker process, and the fetchers both sides share.

A fetcher turns one item of the index sampler (an index, or a list of indices) into a batch.
A worker loops: take ``(send_idx, index)`` from its own index queue, fetch, and put
``pickle.dumps((send_idx, batch))`` on the shared result queue. Pickling in the worker (rather
than in the queue's feeder thread) means an unpicklable batch comes back as an error instead of
vanishing and leaving the main process waiting.
"""
from __future__ import annotations

import os
import pickle
import queue
import random
import sys
import traceback
from dataclasses import dataclass
from typing import Any

import numpy as np

# How often (seconds) a blocked side wakes up to check that the other is still alive.
MP_STATUS_CHECK_INTERVAL = 1.0

_worker_info: "WorkerInfo | None" = None


@dataclass(frozen=True, slots=True)
class WorkerInfo:
    """About the current worker process: ``id`` (0..num_workers-1), ``num_workers``, ``seed``
    (already applied to ``random``, NumPy's global RNG and Ember's default generator), and
    ``dataset`` (this process's copy)."""

    id: int
    num_workers: int
    seed: int
    dataset: Any
    rng: Any = None
    worker_method: str | None = "multiprocessing"


def get_worker_info() -> WorkerInfo | None:
    """The ``WorkerInfo`` of this DataLoader worker process; ``None`` in the main process."""
    return _worker_info


class _IterableDatasetStopIteration:
    """Sent by a worker whose IterableDataset iterator is exhausted."""

    __slots__ = ("worker_id",)

    def __init__(self, worker_id: int):
        self.worker_id = worker_id


class _ResumeIteration:
    """Sent to a persistent worker at a new epoch; echoed back as an acknowledgement."""

    __slots__ = ("seed",)

    def __init__(self, seed=None):
        self.seed = seed


class KeyErrorMessage(str):
    """A str whose repr is itself, so a re-raised KeyError shows its multi-line message readably."""

    def __repr__(self):
        return self


class ExceptionWrapper:
    """An exception caught in a worker, carried to the main process as its type and traceback text."""

    def __init__(self, exc_info=None, where: str = "in background"):
        if exc_info is None:
            exc_info = sys.exc_info()
        self.exc_type = exc_info[0]
        self.exc_msg = "".join(traceback.format_exception(*exc_info))
        self.where = where
        try:  # a class defined inside a function cannot cross the process boundary
            pickle.dumps(self.exc_type)
        except Exception:
            self.exc_msg = f"(exception of unpicklable type {self.exc_type.__qualname__})\n" + self.exc_msg
            self.exc_type = RuntimeError

    def reraise(self):
        """Raise the original exception type, its message holding the worker's traceback."""
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            msg = KeyErrorMessage(msg)
        elif getattr(self.exc_type, "message", None):
            raise self.exc_type(message=msg)
        try:
            exc = self.exc_type(msg)
        except Exception:
            raise RuntimeError(msg) from None
        raise exc


# --------------------------------------------------------------------------- fetchers
class _MapDatasetFetcher:
    """Index (or list of indices) -> collated batch, for map-style datasets."""

    def __init__(self, dataset, auto_collation: bool, collate_fn, drop_last: bool):
        from ._collate import default_collate
        from .dataset import _collated_fetch
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last
        getitems = getattr(dataset, "__getitems__", None)
        self._getitems = getitems if callable(getitems) else None
        # TensorDataset (and Subsets of it) with default_collate: one gather per tensor per batch.
        self._fast = _collated_fetch(dataset) if auto_collation and collate_fn is default_collate else None

    def fetch(self, index):
        if self.auto_collation:
            if self._fast is not None:
                return self._fast(index)
            if self._getitems is not None:
                data = self._getitems(index)
            else:
                ds = self.dataset
                data = [ds[i] for i in index]
        else:
            data = self.dataset[index]
        return self.collate_fn(data)


class _IterableDatasetFetcher:
    """Pulls ``len(index)`` samples (or one, without batching) from the dataset's iterator."""

    def __init__(self, dataset, auto_collation: bool, collate_fn, drop_last: bool):
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last
        self.dataset_iter = iter(dataset)
        self.ended = False

    def fetch(self, index):
        if self.ended:
            raise StopIteration
        if self.auto_collation:
            data = []
            it = self.dataset_iter
            for _ in index:
                try:
                    data.append(next(it))
                except StopIteration:
                    self.ended = True
                    break
            if not data or (self.drop_last and len(data) < len(index)):
                raise StopIteration
        else:
            data = next(self.dataset_iter)
        return self.collate_fn(data)


def create_fetcher(iterable: bool, dataset, auto_collation, collate_fn, drop_last):
    cls = _IterableDatasetFetcher if iterable else _MapDatasetFetcher
    return cls(dataset, auto_collation, collate_fn, drop_last)


# --------------------------------------------------------------------------- the worker
def _seed_worker(base_seed: int, worker_id: int) -> int:
    seed = base_seed + worker_id
    random.seed(seed)
    from ...ops.creation import manual_seed
    manual_seed(seed)
    np.random.seed(np.random.SeedSequence([worker_id, base_seed]).generate_state(4))
    return seed


def _worker_loop(iterable: bool, dataset, index_queue, result_queue, done_event, auto_collation: bool,
                 collate_fn, drop_last: bool, base_seed: int, init_fn, worker_id: int, num_workers: int):
    """Body of worker process ``worker_id``; returns when told (``None``) or when the parent dies."""
    global _worker_info
    try:
        seed = _seed_worker(base_seed, worker_id)
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=dataset)
        where = f"in DataLoader worker process {worker_id}"
        init_error = None
        fetcher = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
            fetcher = create_fetcher(iterable, dataset, auto_collation, collate_fn, drop_last)
        except Exception:
            init_error = ExceptionWrapper(where=where)

        parent = os.getppid()
        iteration_end = False
        while os.getppid() == parent:
            try:
                r = index_queue.get(timeout=MP_STATUS_CHECK_INTERVAL)
            except queue.Empty:
                continue
            if isinstance(r, _ResumeIteration):
                result_queue.put(pickle.dumps((r, None), pickle.HIGHEST_PROTOCOL))
                iteration_end = False
                if iterable:  # a new epoch of an iterable dataset starts a fresh iterator
                    try:
                        fetcher = create_fetcher(iterable, dataset, auto_collation, collate_fn, drop_last)
                    except Exception:
                        init_error = ExceptionWrapper(where=where)
                continue
            if r is None:
                break
            if done_event.is_set() or iteration_end:
                continue  # drain: the main process is shutting down or this stream has ended
            send_idx, index = r
            if init_error is not None:
                data, init_error = init_error, None
            else:
                try:
                    data = fetcher.fetch(index)
                except StopIteration:
                    if not iterable:
                        data = ExceptionWrapper(where=where)
                    else:
                        data = _IterableDatasetStopIteration(worker_id)
                        iteration_end = True
                except Exception:
                    data = ExceptionWrapper(where=where)
            try:
                payload = pickle.dumps((send_idx, data), pickle.HIGHEST_PROTOCOL)
            except Exception:
                payload = pickle.dumps((send_idx, ExceptionWrapper(where=where + " (pickling the batch)")),
                                       pickle.HIGHEST_PROTOCOL)
            result_queue.put(payload)
            del data, r, index, payload
    except KeyboardInterrupt:
        pass
    if done_event.is_set():
        result_queue.cancel_join_thread()
        result_queue.close()
