"""Shared helpers of the loss functions: reductions, the deprecated ``size_average``/``reduce`` flags,
size warnings and class-index target checks."""

from __future__ import annotations

import warnings


from ..._tensor import Tensor
from ...backends import check_later, to_host


_REDUCTIONS = ("none", "mean", "sum")


def _quiet(xp):
    """Silence NumPy's floating-point warnings where PyTorch returns inf/nan quietly."""
    import contextlib
    errstate = getattr(xp, "errstate", None)
    return errstate(divide="ignore", invalid="ignore") if errstate else contextlib.nullcontext()


def _legacy_reduction(size_average, reduce, reduction):
    """Map the deprecated ``size_average``/``reduce`` flags onto ``reduction`` (as PyTorch does)."""
    if size_average is None and reduce is None:
        return reduction
    warnings.warn("size_average and reduce args will be deprecated, please use reduction='"
                  f"{_legacy_string(size_average, reduce)}' instead.", stacklevel=3)
    return _legacy_string(size_average, reduce)


def _legacy_string(size_average, reduce):
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"


def _check_reduction(reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    _check_reduction(reduction)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _reduce_array(xp, loss, reduction: str):
    """``reduction`` of a raw loss primitive's per-element loss array (a 0-d array of its dtype)."""
    if reduction == "mean":
        return xp.asarray(loss.mean(), dtype=loss.dtype)
    if reduction == "sum":
        return xp.asarray(loss.sum(), dtype=loss.dtype)
    return loss


def _per_sample_grad(g, reduction: str, n: int):
    """The upstream gradient of a per-sample loss (N,) reduced by ``reduction``, shaped to broadcast
    over the (N, C) input: (N, 1) for "none", ``g / N`` for "mean", ``g`` for "sum"."""
    if reduction == "none":
        return g[:, None]
    return g / n if reduction == "mean" else g


def _size_str(t):
    return f"torch.Size([{', '.join(str(s) for s in t.shape)}])"


def _warn_size(input, target):
    if tuple(input.shape) != tuple(target.shape):
        warnings.warn(f"Using a target size ({_size_str(target)}) that is different to the input size "
                      f"({_size_str(input)}). This will likely lead to incorrect results due to broadcasting. "
                      "Please ensure they have the same size.", stacklevel=3)


def _as_tensor_like(v, like):
    if isinstance(v, Tensor):
        return v
    from ...ops.creation import tensor
    return tensor(v, dtype=like.dtype, device=like.device)


def _target_error(t, bad):
    def make():
        return IndexError(f"Target {int(to_host(t[bad]).reshape(-1)[0])} is out of bounds.")
    return make


def _check_targets(t, c, ignore_index):
    bad = (t < 0) | (t >= c)
    if ignore_index is not None:
        bad &= t != ignore_index
    # on a device the flag is read at the next synchronisation, not now (backends.check_later)
    check_later(bad.any(), _target_error(t, bad))
