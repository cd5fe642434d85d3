"""Connectionist temporal classification: ``ctc_loss``.

The loss of one sample is ``-log p(target | log_probs)``, summed over every alignment of the
target (with blanks and repeats) to the input frames. The forward pass is the log-space alpha
recursion over the extended label sequence ``blank, l1, blank, l2, ..., blank``, vectorised over
the batch and the label positions (the loop runs over time only); the backward pass runs the beta
recursion the same way and scatters the per-position posteriors into the classes with one
``bincount``. The sums run in float64 whatever the input's precision.

The gradient w.r.t. ``log_probs`` is PyTorch's: ``exp(log_probs) - posterior`` on the frames
inside each input length (0 beyond). The ``exp(log_probs)`` term assumes that ``log_probs`` come
from ``log_softmax`` over the classes (through which it cancels, giving the exact gradient w.r.t.
the logits), which is how CTC is used.
"""
from __future__ import annotations

from ..._tensor import Tensor
from ...autograd.function import Function
from ...backends import namespace_of as _ns

__all__ = ["ctc_loss"]

_WHERE = "(while checking arguments for ctc_loss_allocate_outputs)"


def _logsumexp3(xp, a, b, c):
    return xp.logaddexp(xp.logaddexp(a, b), c)


class _Alignment:
    """The extended labels and what the recursions need, built once per call (arrays)."""

    def __init__(self, xp, targets, il, tl, n, blank):
        self.il, self.tl = il, tl
        smax = int(tl.max()) if n else 0
        self.L = L = 2 * smax + 1
        pos = xp.arange(smax)
        if targets.ndim == 1:  # concatenated targets: sample n's labels start at sum(tl[:n])
            starts = xp.cumsum(tl) - tl
            idx = starts[:, None] + pos[None, :]
            inside = pos[None, :] < tl[:, None]
            lab = targets[xp.clip(idx, 0, max(targets.shape[0] - 1, 0))] if targets.shape[0] else \
                xp.zeros((n, smax), xp.int64)
            lab = xp.where(inside, lab, blank)
        else:
            inside = pos[None, :] < tl[:, None]
            lab = xp.where(inside, targets[:, :smax], blank)
        ext = xp.full((n, L), blank, dtype=xp.int64)
        ext[:, 1::2] = lab
        self.ext = ext
        s = xp.arange(L)
        self.valid = s[None, :] < (2 * tl + 1)[:, None]  # positions inside each sample's extended labels
        skip = xp.zeros((n, L), dtype=bool)
        if L > 2:
            skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
        self.skip = skip


def _gather_ext(xp, lp, ext):
    """(T, N, L): ``lp[t, n, ext[n, s]]``."""
    n = ext.shape[0]
    return lp[:, xp.arange(n)[:, None], ext]


def _alpha(xp, lpe, al):
    t_len, n, L = lpe.shape
    ninf = -xp.inf
    alpha = xp.full((t_len, n, L), ninf)
    if t_len == 0:
        return alpha
    first = xp.full((n, L), ninf)
    first[:, 0] = lpe[0, :, 0]
    if L > 1:
        first[:, 1] = xp.where(al.tl > 0, lpe[0, :, 1], ninf)
    alpha[0] = first
    pad1 = xp.full((n, 1), ninf)
    pad2 = xp.full((n, 2), ninf)
    for t in range(1, t_len):
        a = alpha[t - 1]
        a1 = xp.concatenate([pad1, a[:, :-1]], 1)
        a2 = xp.where(al.skip, xp.concatenate([pad2, a[:, :-2]], 1)[:, :L], ninf)
        alpha[t] = xp.where(al.valid, _logsumexp3(xp, a, a1, a2) + lpe[t], ninf)
    return alpha


def _nll(xp, alpha, al):
    n = alpha.shape[1]
    il, tl = al.il, al.tl
    rows = xp.arange(n)
    last = xp.clip(il - 1, 0, None)
    end = alpha[last, rows, 2 * tl]
    before = xp.where(tl > 0, alpha[last, rows, xp.clip(2 * tl - 1, 0, None)], -xp.inf)
    ll = xp.logaddexp(end, before)
    # no frames: only the empty target has an alignment (probability 1)
    ll = xp.where(il == 0, xp.where(tl == 0, 0.0, -xp.inf), ll)
    return -ll


def _beta(xp, lpe, al):
    t_len, n, L = lpe.shape
    ninf = -xp.inf
    beta = xp.full((t_len, n, L), ninf)
    s = xp.arange(L)
    tl, il = al.tl, al.il
    is_end = al.valid & ((s[None, :] == 2 * tl[:, None]) | (s[None, :] == 2 * tl[:, None] - 1))
    pad1 = xp.full((n, 1), ninf)
    pad2 = xp.full((n, 2), ninf)
    skip_from = xp.concatenate([al.skip[:, 2:], xp.zeros((n, 2), bool)], 1)[:, :L]  # s -> s + 2 allowed
    nxt = xp.full((n, L), ninf)
    for t in range(t_len - 1, -1, -1):
        b1 = xp.concatenate([nxt[:, 1:], pad1], 1)
        b2 = xp.where(skip_from, xp.concatenate([nxt[:, 2:], pad2], 1)[:, :L], ninf)
        rec = _logsumexp3(xp, nxt, b1, b2) + lpe[t]
        init = xp.where(is_end, lpe[t], ninf)
        cur = xp.where((t == il - 1)[:, None], init, xp.where((t < il - 1)[:, None], rec, ninf))
        cur = xp.where(al.valid, cur, ninf)
        beta[t] = cur
        nxt = cur
    return beta


def _ctc_grad(lp, gout, al, alpha, nll, zero_infinity):
    """PyTorch's gradient w.r.t. log_probs (T, N, C) for per-sample output gradients ``gout`` (N,)."""
    xp = _ns(lp)
    t_len, n, c = lp.shape
    lp64 = lp.astype(xp.float64, copy=False)
    lpe = _gather_ext(xp, lp64, al.ext)
    beta = _beta(xp, lpe, al)
    with _quiet(xp):
        # the probability mass of the alignments through (t, s), relative to all of them: in [0, 1]
        post = xp.exp(alpha + beta - lpe + nll[None, :, None])
    flat = ((xp.arange(t_len)[:, None, None] * n + xp.arange(n)[None, :, None]) * c + al.ext[None]).reshape(-1)
    occ = xp.bincount(flat, weights=post.reshape(-1), minlength=t_len * n * c).reshape(t_len, n, c)
    g = (xp.exp(lp64) - occ) * gout.astype(xp.float64)[None, :, None]
    keep = xp.arange(t_len)[:, None] < al.il[None, :]
    # an impossible alignment (infinite loss) has no posterior: NaN on its frames, as in PyTorch
    g = xp.where(xp.isinf(nll)[None, :, None], xp.nan, g)
    if zero_infinity:
        keep = keep & ~xp.isinf(nll)[None, :]
    g = xp.where(keep[:, :, None], g, 0.0)
    return g.astype(lp.dtype, copy=False)


class _quiet:
    """Silence NumPy's overflow/invalid warnings for -inf arithmetic (no-op on CuPy)."""

    def __init__(self, xp):
        self.ctx = xp.errstate(all="ignore") if hasattr(xp, "errstate") else None

    def __enter__(self):
        if self.ctx is not None:
            self.ctx.__enter__()

    def __exit__(self, *exc):
        if self.ctx is not None:
            self.ctx.__exit__(*exc)


class _CtcLossBackward(Function):
    """The backward as a primitive (recorded under ``create_graph=True``); not differentiable again."""

    raw = True
    node_name = "NotImplemented"

    @staticmethod
    def forward(ctx, gout, lp, al, alpha, nll, zero_infinity):
        return _ctc_grad(lp, gout, al, alpha, nll, zero_infinity)

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError("derivative for aten::_ctc_loss_backward is not implemented")


class CtcLoss(Function):
    raw = True
    node_name = "CtcLossBackward0"

    @staticmethod
    def forward(ctx, lp, al, zero_infinity):
        xp = _ns(lp)
        lpe = _gather_ext(xp, lp.astype(xp.float64, copy=False), al.ext)
        with _quiet(xp):
            alpha = _alpha(xp, lpe, al)
            nll = _nll(xp, alpha, al)
        ctx.save_for_backward(lp)
        ctx.al, ctx.alpha, ctx.nll, ctx.zero_infinity = al, alpha, nll, zero_infinity
        return nll.astype(lp.dtype)

    @staticmethod
    def backward(ctx, g):
        (lp,) = ctx.saved_tensors
        if isinstance(g, Tensor):
            return _CtcLossBackward.apply(g, lp, ctx.al, ctx.alpha, ctx.nll, ctx.zero_infinity), None, None
        with _quiet(_ns(lp)):
            return _ctc_grad(lp, g, ctx.al, ctx.alpha, ctx.nll, ctx.zero_infinity), None, None


def _lengths(v, name, xp):
    """Input/target lengths as an int64 array: a 1-D integer tensor, a 0-d one, or a tuple/list of ints."""
    import numpy as np
    if isinstance(v, Tensor):
        a = v._data
        if a.dtype.kind not in "iu":
            raise RuntimeError(f"{name} must be integral")
        return xp.asarray(a, dtype=xp.int64).reshape(-1)
    if isinstance(v, (tuple, list)):
        a = np.asarray(v)
        if a.size and a.dtype.kind not in "iu":
            raise TypeError(f"ctc_loss(): {name} must be a tuple of ints or an integer Tensor, got {v!r}")
        return xp.asarray(a.astype(np.int64).reshape(-1))
    raise TypeError(f"ctc_loss(): argument '{name}' must be a tuple of ints or a Tensor, not {type(v).__name__}")


def ctc_loss(log_probs: Tensor, targets: Tensor, input_lengths, target_lengths, blank: int = 0,
             reduction: str = "mean", zero_infinity: bool = False) -> Tensor:
    """CTC loss.

    log_probs (T, N, C) (or (T, C) unbatched), normally ``log_softmax`` outputs over the C classes;
    targets (N, S) padded or 1-D concatenated (sum(target_lengths),); input_lengths and target_lengths:
    (N,) integer tensors or tuples. ``reduction``: 'none' -> (N,), 'sum', or 'mean' (each loss divided
    by its target length, then averaged over the batch). ``zero_infinity`` zeroes infinite losses (an
    input too short for its target) and their gradients."""
    from .loss import _check_reduction
    _check_reduction(reduction)
    if log_probs.dim() not in (2, 3):
        raise RuntimeError(f"ctc_loss(): expected log_probs to be 2-D (T, C) or 3-D (T, N, C), but got sizes "
                           f"{list(log_probs.shape)}")
    if log_probs._data.dtype.kind != "f":
        raise NotImplementedError(f'"ctc_loss_cpu" not implemented for {log_probs.dtype} (floating point only)')
    unbatched = log_probs.dim() == 2
    lp = log_probs.unsqueeze(1) if unbatched else log_probs
    xp = _ns(lp._data)
    tg = targets._data if isinstance(targets, Tensor) else xp.asarray(targets)
    if unbatched:
        tg = tg.reshape(1, -1)
    il = _lengths(input_lengths, "input_lengths", xp)
    tl = _lengths(target_lengths, "target_lengths", xp)
    t_len, n, c = lp.shape
    if il.shape[0] != n:
        raise RuntimeError("input_lengths must be of size batch_size")
    if tl.shape[0] != n:
        raise RuntimeError("target_lengths must be of size batch_size")
    if not 0 <= blank < c:
        raise RuntimeError("blank must be in label range")
    if n:
        if int(il.max()) > t_len:
            raise RuntimeError(f"Expected input_lengths to have value at most {t_len}, but got value "
                               f"{int(il.max())} {_WHERE}")
        if int(il.min()) < 0:
            raise RuntimeError(f"Expected input_lengths to have value at least 0, but got value {int(il.min())} "
                               f"{_WHERE}")
        if int(tl.min()) < 0:
            raise RuntimeError(f"Expected target_lengths to have value at least 0, but got value {int(tl.min())} "
                               f"{_WHERE}")
    if tg.ndim == 1:
        total = int(tl.sum())
        if tg.shape[0] != total:
            raise RuntimeError(f"Expected tensor to have size {total} at dimension 0, but got size {tg.shape[0]} "
                               f"for argument #2 'targets' {_WHERE}")
    elif tg.ndim == 2:
        if tg.shape[0] != n:
            raise RuntimeError(f"Expected tensor to have size {n} at dimension 0, but got size {tg.shape[0]} for "
                               f"argument #2 'targets' {_WHERE}")
        need = int(tl.max()) if n else 0
        if tg.shape[1] < need:
            raise RuntimeError(f"Expected tensor to have size at least {need} at dimension 1, but got size "
                               f"{tg.shape[1]} for argument #2 'targets' {_WHERE}")
    else:
        raise RuntimeError(f"ctc_loss(): expected targets to be 1-D (concatenated) or 2-D (N, S), but got sizes "
                           f"{list(tg.shape)}")
    tg = tg.astype(xp.int64)
    al = _Alignment(xp, tg, il, tl, n, blank)
    used = al.ext[al.valid]
    if used.size and (int(used.min()) < 0 or int(used.max()) >= c):
        bad = int(used.min()) if int(used.min()) < 0 else int(used.max())
        raise IndexError(f"ctc_loss(): target value {bad} is out of range for {c} classes")
    loss = CtcLoss.apply(lp, al, bool(zero_infinity))
    if zero_infinity:
        from ...ops.selection import where
        loss = where(loss == float("inf"), loss.new_zeros(()), loss)
    if reduction == "mean":
        from ...ops.creation import tensor
        div = tensor(tl.astype(lp._data.dtype), device=lp.device).clamp_min(1)
        loss = (loss / div).mean()
    elif reduction == "sum":
        loss = loss.sum()
    elif unbatched:
        loss = loss.squeeze(0)
    return loss
