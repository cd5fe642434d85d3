"""Lookup tables: ``embedding``, ``embedding_bag`` and ``one_hot``."""
from __future__ import annotations

import numpy as np

from ..._tensor import Tensor, _wrap
from ...autograd.function import Function
from ...autograd.grad_mode import no_grad
from ...backends import check_later, namespace_of, scatter_at

__all__ = ["embedding", "embedding_bag", "one_hot"]


def _scatter_rows(xp, out, idx, rows):
    """``out[idx[i]] += rows[i]`` with repeated indices accumulating."""
    scatter_at("add", out, idx, rows)


def _check_indices(input: Tensor, name: str):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'indices' must be Tensor, not {type(input).__name__}")
    k = input._data.dtype.kind
    if k not in "iu":
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the following scalar types: "
                           f"Long, Int; but got torch.{input.dtype.name.capitalize().replace('Float32', 'Float')}"
                           f"Tensor instead (while checking arguments for {name})")


def _index_error():
    return IndexError("index out of range in self")


def _check_range(idx, n):
    if not idx.size:
        return
    if type(idx) is np.ndarray:
        if int(idx.min()) < 0 or int(idx.max()) >= n:
            raise _index_error()
        return
    xp = namespace_of(idx)  # on a device: read at the next synchronisation, not now (backends.check_later)
    check_later(xp.logical_or(idx < 0, idx >= n).any(), _index_error)


class Embedding(Function):
    """``weight[indices]``; the weight gradient sums the rows of every occurrence of an index."""

    raw = True
    node_name = "EmbeddingBackward0"

    @staticmethod
    def forward(ctx, w, idx, padding_idx, scale_grad_by_freq):
        if type(idx) is not np.ndarray:  # a bad index is reported later (check_later): read a valid row now
            idx = namespace_of(idx).clip(idx, 0, w.shape[0] - 1)
        ctx.save_for_backward(idx)
        ctx.wshape, ctx.padding_idx, ctx.scale = w.shape, padding_idx, scale_grad_by_freq
        return w[idx]

    @staticmethod
    def backward(ctx, g):
        (idx,) = ctx.saved_tensors
        v, d = ctx.wshape[0], ctx.wshape[1:]
        if isinstance(g, Tensor):
            from ...ops.creation import zeros
            from ...ops.scatter_gather import index_add
            flat = idx.reshape(-1)
            rows = g.reshape((-1,) + tuple(d))
            if ctx.scale:
                xp = namespace_of(flat._data)
                counts = xp.bincount(flat._data, minlength=v)
                rows = rows * _wrap((1.0 / counts[flat._data]).astype(g._data.dtype).reshape((-1,) + (1,) * len(d)))
            gw = index_add(zeros(ctx.wshape, dtype=g.dtype, device=g.device), 0, flat, rows)
            if ctx.padding_idx is not None:
                mask = namespace_of(g._data).ones((v,) + (1,) * len(d), dtype=g._data.dtype)
                mask[ctx.padding_idx] = 0
                gw = gw * _wrap(mask)
            return gw, None, None, None
        xp = namespace_of(g)
        flat = idx.reshape(-1)
        rows = g.reshape((-1,) + tuple(d))
        if ctx.scale:
            counts = xp.bincount(flat, minlength=v)
            rows = rows * (1.0 / counts[flat]).astype(g.dtype).reshape((-1,) + (1,) * len(d))
        gw = xp.zeros(ctx.wshape, dtype=g.dtype)
        _scatter_rows(xp, gw, flat, rows)
        if ctx.padding_idx is not None:
            gw[ctx.padding_idx] = 0
        return gw, None, None, None


def _renorm_(weight: Tensor, idx, max_norm, norm_type):
    """Rescale (in place, no graph) the rows of ``weight`` used by ``idx`` whose norm exceeds ``max_norm``."""
    xp = namespace_of(weight._data)
    rows = xp.unique(idx.reshape(-1))
    w = weight._data
    sub = w[rows]
    norms = (xp.abs(sub) ** norm_type).sum(axis=1) ** (1.0 / norm_type)
    big = norms > max_norm
    if bool(big.any()):
        scale = (max_norm / (norms[big] + 1e-7)).astype(w.dtype)
        w[rows[big]] = sub[big] * scale[:, None]
        weight._vc[0] += 1


def _padding_idx(padding_idx, n):
    if padding_idx is None:
        return None
    if padding_idx > 0:
        assert padding_idx < n, "Padding_idx must be within num_embeddings"
    elif padding_idx < 0:
        assert padding_idx >= -n, "Padding_idx must be within num_embeddings"
        padding_idx = n + padding_idx
    return padding_idx


def embedding(input: Tensor, weight: Tensor, padding_idx=None, max_norm=None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of ``weight`` (V, D) picked by integer ``input`` (any shape) -> (*input.shape, D).

    ``padding_idx``'s row gets no gradient; ``max_norm`` renormalises the used rows of ``weight`` in
    place first; ``scale_grad_by_freq`` divides each row's gradient by its count in ``input``.
    """
    _check_indices(input, "embedding")
    if weight.dim() != 2:
        raise RuntimeError(f"'weight' must be 2-D, got a {weight.dim()}-D tensor")
    n = weight.shape[0]
    padding_idx = _padding_idx(padding_idx, n)
    idx = input._data
    _check_range(idx, n)
    if max_norm is not None:
        with no_grad():
            _renorm_(weight, idx, max_norm, norm_type)
    return Embedding.apply(weight, input, padding_idx, bool(scale_grad_by_freq))


# --------------------------------------------------------------------------- embedding_bag
class EmbeddingBag(Function):
    """Sum / mean / max of the embedding rows in each bag (bags are runs of ``idx``)."""

    raw = True
    node_name = "EmbeddingBagBackward0"

    @staticmethod
    def forward(ctx, w, psw, idx, bag, nbags, mode):
        xp = namespace_of(w)
        d = w.shape[1]
        rows = w[idx]
        if mode == "max":
            out = xp.full((nbags, d), -xp.inf, dtype=w.dtype)
            scatter_at("max", out, bag, rows)
            n = idx.shape[0]
            cand = xp.where(rows == out[bag], xp.arange(n)[:, None], n)
            arg = xp.full((nbags, d), n, dtype=xp.int64)
            scatter_at("min", arg, bag, cand)
            empty = arg == n
            out[empty] = 0
            ctx.arg, ctx.empty = arg, empty
        else:
            if psw is not None:
                rows = rows * psw[:, None]
            out = xp.zeros((nbags, d), dtype=w.dtype)
            _scatter_rows(xp, out, bag, rows)
            if mode == "mean":
                counts = xp.bincount(bag, minlength=nbags).astype(w.dtype)
                ctx.inv = (1.0 / xp.maximum(counts, 1)).astype(w.dtype)[:, None]
                out *= ctx.inv
        ctx.save_for_backward(w, psw)
        ctx.idx, ctx.bag, ctx.mode = idx, bag, mode
        return out

    @staticmethod
    def backward(ctx, g):
        graph = isinstance(g, Tensor)
        w, psw = ctx.saved_tensors
        if graph:  # first-order gradient only (no graph through the bag reduction)
            g = g._data
            w = w._data
            psw = psw._data if psw is not None else None
        xp = namespace_of(g)
        need = ctx.needs_input_grad
        idx, bag = ctx.idx, ctx.bag
        gw = xp.zeros(w.shape, dtype=g.dtype)
        gp = None
        if ctx.mode == "max":
            arg = ctx.arg
            cols = xp.broadcast_to(xp.arange(w.shape[1]), arg.shape)
            keep = ~ctx.empty
            _scatter_rows(xp, gw, (idx[arg[keep]], cols[keep]), g[keep])
        else:
            gb = g * ctx.inv if ctx.mode == "mean" else g
            grows = gb[bag]
            if need[1]:
                gp = (grows * w[idx]).sum(axis=1)
            if psw is not None:
                grows = grows * psw[:, None]
            _scatter_rows(xp, gw, idx, grows)
        if graph:
            gw = _wrap(gw)
            gp = _wrap(gp) if gp is not None else None
        return gw if need[0] else None, gp, None, None, None, None


def embedding_bag(input: Tensor, weight: Tensor, offsets=None, max_norm=None, norm_type: float = 2,
                  scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                  per_sample_weights=None, include_last_offset: bool = False, padding_idx=None) -> Tensor:
    """Reduce (``mode`` = 'sum' | 'mean' | 'max') the embedding rows of each bag -> (B, D).

    ``input`` is (B, L) (fixed-size bags) or 1-D with ``offsets`` (B,) giving each bag's start;
    entries equal to ``padding_idx`` are skipped (and do not count towards a mean)."""
    _check_indices(input, "embedding_bag")
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"mode has to be one of sum, mean or max, got {mode!r}")
    if per_sample_weights is not None:
        if mode != "sum":
            raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                                      f"supported for mode='sum' (got mode='{mode}'). Please open a feature "
                                      "request on GitHub.")
        if tuple(per_sample_weights.shape) != tuple(input.shape):
            raise ValueError(f"embedding_bag: If per_sample_weights ({list(per_sample_weights.shape)}) is not None, "
                             f"then it must have the same shape as the input ({list(input.shape)})")
    xp = namespace_of(input._data)
    idx = input._data
    if input.dim() == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated is a mini-batch of "
                             f"fixed length sequences. However, found offsets of type {type(offsets)}")
        b, l = idx.shape
        starts = xp.arange(0, b * l, l) if l else xp.zeros(b, dtype=xp.int64)
        idx = idx.reshape(-1)
        nbags = b
    elif input.dim() == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.dim() != 1:
            raise ValueError("offsets has to be a 1D Tensor")
        starts = offsets._data.astype(xp.int64)
        if starts.size and int(starts[0]) != 0:
            raise RuntimeError("offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start "
                               f"from position 0. However, got {int(starts[0])}")
        if include_last_offset:
            starts = starts[:-1]
        nbags = int(starts.shape[0])
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.dim()}")
    n = weight.shape[0]
    _check_range(idx, n)
    padding_idx = _padding_idx(padding_idx, n)
    if max_norm is not None:
        with no_grad():
            _renorm_(weight, idx, max_norm, norm_type)
    bag = xp.searchsorted(starts, xp.arange(idx.shape[0]), side="right") - 1
    if include_last_offset and input.dim() == 1 and offsets.numel():
        end = int(offsets._data[-1])
        valid = xp.arange(idx.shape[0]) < end
    else:
        valid = None
    if padding_idx is not None:
        v = idx != padding_idx
        valid = v if valid is None else valid & v
    psw = per_sample_weights.reshape(-1) if per_sample_weights is not None else None
    if valid is not None and not bool(valid.all()):
        keep = xp.nonzero(valid)[0]
        idx, bag = idx[keep], bag[keep]
        if psw is not None:
            psw = psw[_wrap(keep)]
    return EmbeddingBag.apply(weight, psw, _wrap(idx), _wrap(bag), nbags, mode)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 one-hot encoding: shape ``(*tensor.shape, num_classes)`` (inferred as max + 1 when -1)."""
    if tensor._data.dtype.kind not in "iu" or tensor._data.dtype.itemsize != 8:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    x = tensor._data
    xp = namespace_of(x)
    if x.size and int(x.min()) < 0:
        raise RuntimeError("Class values must be non-negative.")
    if num_classes == -1:
        if x.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(x.max()) + 1
    elif x.size and int(x.max()) >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    out = (x[..., None] == xp.arange(num_classes)).astype(xp.int64)
    return _wrap(out)
