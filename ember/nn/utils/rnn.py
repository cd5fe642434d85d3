"""Variable-length sequences: ``PackedSequence``, ``pack_padded_sequence``, ``pad_packed_sequence``,
``pad_sequence``, ``pack_sequence``, ``unpad_sequence``, ``unpack_sequence``.

Packing and unpacking are single gathers (``index_select``) over the flattened time-major
batch, so gradients flow through them.
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from ..._tensor import Tensor, _wrap

__all__ = ["PackedSequence", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence", "pack_sequence",
           "unpad_sequence", "unpack_sequence", "invert_permutation"]


class PackedSequence(namedtuple("PackedSequence", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """Time-major packed batch: ``data`` (sum(lengths), *), ``batch_sizes[t]`` = sequences longer than t."""

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        return type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def cpu(self):
        return self.to("cpu")

    @property
    def is_cuda(self):
        return self.data.is_cuda

    def is_pinned(self):
        return False


def invert_permutation(permutation):
    if permutation is None:
        return None
    inv = np.empty_like(permutation._data)
    inv[permutation._data] = np.arange(permutation._data.size)
    return _wrap(inv)


def _lengths_np(lengths):
    if isinstance(lengths, Tensor):
        return np.asarray(lengths._cpu_array()).astype(np.int64).reshape(-1)
    return np.asarray(lengths, dtype=np.int64).reshape(-1)


def pack_padded_sequence(input: Tensor, lengths, batch_first: bool = False, enforce_sorted: bool = True):
    """Pack a padded (T, B, *) batch (or (B, T, *) with ``batch_first``) of the given lengths."""
    from ...ops.scatter_gather import IndexSelect
    lens = _lengths_np(lengths)
    if enforce_sorted:
        if np.any(np.diff(lens) > 0):
            raise RuntimeError("`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You "
                               "can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to sidestep "
                               "this requirement if you do not need ONNX exportability.")
        order = None
    else:
        order = np.argsort(-lens, kind="stable")
        lens = lens[order]
    if lens.size == 0 or lens.min() <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element in 'lengths' that is "
                           "<= 0")
    if batch_first:
        input = input.transpose(0, 1)
    T, B = input.shape[0], input.shape[1]
    if lens.max() > T:
        raise RuntimeError(f"pack_padded_sequence: a length {int(lens.max())} exceeds the sequence dimension {T}")
    cols = order if order is not None else np.arange(B)
    t = np.arange(int(lens.max()))
    mask = t[:, None] < lens[None, :]                        # (T', B) in sorted order
    tt, bb = np.nonzero(mask)                               # time-major order
    idx = tt * B + cols[bb]
    flat = input.reshape(T * B, *input.shape[2:])
    data = IndexSelect.apply(flat, 0, _wrap(idx.astype(np.int64)))
    batch_sizes = _wrap(mask.sum(axis=1).astype(np.int64))
    sorted_idx = _wrap(order.astype(np.int64)) if order is not None else None
    return PackedSequence(data, batch_sizes, sorted_idx, None)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0,
                        total_length=None):
    """Inverse of ``pack_padded_sequence``: returns (padded (T, B, *), lengths int64 in original order)."""
    from ...ops.creation import full
    from ...ops.scatter_gather import IndexSelect
    from ...ops.join import cat
    data, bs = sequence.data, np.asarray(sequence.batch_sizes._cpu_array()).astype(np.int64)
    B = int(bs[0]) if bs.size else 0
    T = bs.size
    if total_length is not None:
        if total_length < T:
            raise ValueError(f"Expected total_length to be at least the length of the longest sequence in input, but "
                             f"got total_length={total_length} and max sequence length being {T}")
        T = total_length
    b = np.arange(B)
    valid = np.zeros((T, B), dtype=bool)
    valid[:bs.size] = b[None, :] < bs[:, None]
    pos = np.full((T, B), data.shape[0], dtype=np.int64)     # the padding row
    pos[valid] = np.arange(int(valid.sum()))
    lengths = valid.sum(axis=0)
    unsorted = sequence.unsorted_indices
    if unsorted is not None:
        perm = np.asarray(unsorted._cpu_array()).astype(np.int64)
        pos = pos[:, perm]
        lengths = lengths[perm]
    padrow = full((1,) + tuple(data.shape[1:]), padding_value, dtype=data.dtype, device=data.device)
    ext = cat([data, padrow])
    out = IndexSelect.apply(ext, 0, _wrap(pos.reshape(-1))).reshape(T, B, *data.shape[1:])
    if batch_first:
        out = out.transpose(0, 1)
    return out, _wrap(lengths.astype(np.int64))


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0, padding_side: str = "right"):
    """Stack variable-length (L_i, *) tensors into (T, B, *) (or (B, T, *)), padding with ``padding_value``."""
    from ..functional.padding import pad
    from ...ops.join import stack
    if isinstance(sequences, Tensor):
        sequences = list(sequences.unbind(0))
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise ValueError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    T = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        extra = T - s.shape[0]
        widths = [0, 0] * (s.dim() - 1) + ([0, extra] if padding_side == "right" else [extra, 0])
        padded.append(pad(s, tuple(widths), value=padding_value) if extra else s)
    return stack(padded, 0 if batch_first else 1)



def unpad_sequence(padded_sequences: Tensor, lengths, batch_first: bool = False):
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [padded_sequences[i, :int(n)] for i, n in enumerate(_lengths_np(lengths))]


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of (L_i, *) tensors (``pad_sequence`` + ``pack_padded_sequence``)."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence):
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
