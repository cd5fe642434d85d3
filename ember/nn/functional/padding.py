"""``F.pad``: constant (negative pads crop), reflect, replicate and circular padding, differentiable.

``pad`` lists (lo, hi) pairs starting from the *last* dimension, as in PyTorch. Constant
padding is one raw primitive whose backward is constant padding by the negated amounts;
the other modes gather with one index vector per padded dimension (``index_select``), so
their gradients (and second derivatives) come from the indexing primitive.
"""
from __future__ import annotations

from ..._tensor import Tensor, _wrap
from ...amp.autocast_mode import _ACTIVE as _AUTOCAST, cast_float32 as _cast_float32
from ...autograd.function import Function
from ...backends import namespace_of


def _slices(shape, pairs):
    """For pairs (lo, hi) of the leading padded dims: (source slices, destination slices, output shape)."""
    src, dst, out = [], [], []
    nd = len(shape)
    lead = nd - len(pairs)
    for i, n in enumerate(shape):
        if i < lead:
            src.append(slice(None))
            dst.append(slice(None))
            out.append(n)
            continue
        lo, hi = pairs[i - lead]
        m = n + lo + hi
        out.append(m)
        src.append(slice(max(-lo, 0), n - max(-hi, 0)))
        dst.append(slice(max(lo, 0), m - max(hi, 0)))
    return tuple(src), tuple(dst), tuple(out)


def _constant_pad(x, pairs, value):
    xp = namespace_of(x)
    src, dst, out = _slices(x.shape, pairs)
    y = xp.full(out, value, dtype=x.dtype) if value != 0 else xp.zeros(out, dtype=x.dtype)
    y[dst] = x[src]
    return y


class ConstantPadNd(Function):
    raw = True
    node_name = "ConstantPadNdBackward0"

    @staticmethod
    def forward(ctx, x, pairs, value):
        ctx.pairs = pairs
        return _constant_pad(x, pairs, value)

    @staticmethod
    def backward(ctx, g):
        neg = tuple((-lo, -hi) for lo, hi in ctx.pairs)
        if isinstance(g, Tensor):
            return ConstantPadNd.apply(g, neg, 0), None, None
        return _constant_pad(g, neg, 0), None, None


def _pairs(pad, ndim, name="pad"):
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2:
        raise RuntimeError(f"{name}: Padding length must be divisible by 2, got {len(pad)}")
    if len(pad) // 2 > ndim:
        raise RuntimeError(f"{name}: Padding length should be less than or equal to two times the input "
                           f"dimension but got padding length {len(pad)} and input of dimension {ndim}")
    k = len(pad) // 2
    # pad runs from the last dim backwards; return pairs ordered from dim (ndim - k) to the last
    return tuple((pad[2 * (k - 1 - j)], pad[2 * (k - 1 - j) + 1]) for j in range(k))


def _index(n, lo, hi, mode, xp):
    i = xp.arange(-lo, n + hi)
    if mode == "reflect":
        i = xp.abs(i)
        i = (n - 1) - xp.abs((n - 1) - i)
    elif mode == "replicate":
        i = xp.clip(i, 0, n - 1)
    else:  # circular
        i = i % n
    return i


def pad(input: Tensor, pad, mode: str = "constant", value=None) -> Tensor:
    """Pad ``input``; ``pad = (left_last, right_last, left_prev, right_prev, ...)``.

    mode: 'constant' (any dims, negative pads crop), 'reflect', 'replicate', 'circular'
    (the last 1-3 dims of a batched or unbatched input).
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"pad(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    if _AUTOCAST[0] and (mode == "replicate" or (mode == "reflect" and len(pad) <= 4)):
        input, = _cast_float32(input)  # PyTorch's float32 list: replication_pad1-3d, reflection_pad1-2d
    nd = input.dim()
    pairs = _pairs(pad, nd)
    if mode == "constant":
        v = 0 if value is None else value
        shape = input.shape
        lead = nd - len(pairs)
        for i, (lo, hi) in enumerate(pairs):
            if shape[lead + i] + lo + hi < 0:
                raise RuntimeError(f"The input size {shape[lead + i]}, plus negative padding {lo} and {hi} resulted "
                                   f"in a negative output size, which is invalid. Check dimension {lead + i} of "
                                   "your input.")
        if input._data.dtype.kind in "iub" and isinstance(v, float) and v != int(v):
            raise RuntimeError("pad: value cannot be represented in the input's integer dtype")
        return ConstantPadNd.apply(input, pairs, v)
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value is not None and value != 0:
        raise NotImplementedError(f"Padding mode \"{mode}\" doesn't take in value argument")
    k = len(pairs)
    if k > 3 or nd not in (k + 1, k + 2):
        raise NotImplementedError(f"Only 2D, 3D, 4D, 5D padding with non-constant padding are supported for now "
                                  f"(got a {nd}-D input and {k} padded dimension(s) in mode {mode!r})")
    xp = namespace_of(input._data)
    from ...ops.scatter_gather import IndexSelect
    out = input
    lead = nd - k
    for j, (lo, hi) in enumerate(pairs):
        d = lead + j
        n = input.shape[d]
        if mode == "reflect" and (lo >= n or hi >= n):
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding input dimension, "
                               f"but got: padding ({lo}, {hi}) at dimension {d} of input {list(input.shape)}")
        if mode == "circular" and (lo > n or hi > n):
            raise RuntimeError(f"Padding value causes wrapping around more than once (padding ({lo}, {hi}) at "
                               f"dimension {d} of input {list(input.shape)})")
        if mode == "replicate" and n == 0 and (lo or hi):
            raise RuntimeError(f"pad: cannot replicate-pad the empty dimension {d} of input {list(input.shape)}")
        if lo == 0 and hi == 0:
            continue
        if lo < 0 or hi < 0:
            if mode != "circular":
                raise RuntimeError(f"pad: negative padding ({lo}, {hi}) is only supported in modes 'constant' and "
                                   f"'circular'")
        out = IndexSelect.apply(out, d, _wrap(_index(n, lo, hi, mode, xp)))
    return out
