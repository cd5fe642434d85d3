"""Attention: ``scaled_dot_product_attention`` and ``multi_head_attention_forward``.

Both are compositions of Ember's differentiable primitives (matmul, softmax, masked_fill,
dropout), so their gradients and second derivatives come from those. Mask conventions follow
PyTorch, which differ between the two: in ``scaled_dot_product_attention`` a boolean mask is
True where attention is *allowed*; in multi-head attention a boolean ``attn_mask`` or
``key_padding_mask`` is True where attention is *forbidden*.
"""
from __future__ import annotations

import math

from ..._tensor import Tensor
from ...amp.autocast_mode import _ACTIVE as _AUTOCAST, cast_lower as _cast_lower


def _softmax(x, dim):
    from .activation import softmax
    return softmax(x, dim)


def _dropout(x, p, training=True):
    from .dropout import dropout
    return dropout(x, p, training)


def _linear(x, w, b=None):
    if _AUTOCAST[0]:  # F.linear's cast (its bias included), as PyTorch's attention projections have it
        x, w, b = _cast_lower(x, w, b)
    y = x @ w.t()
    return y if b is None else y + b


def _neg_inf_mask(mask: Tensor, like: Tensor) -> Tensor:
    """Boolean 'forbidden' mask -> additive float mask (-inf where True)."""
    from ...ops.creation import zeros
    return zeros(tuple(mask.shape), dtype=like.dtype, device=like.device).masked_fill(mask, float("-inf"))


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask=None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale=None, enable_gqa: bool = False) -> Tensor:
    """softmax(Q K^T * scale + mask) V.

    Shapes: query (..., L, E), key (..., S, E), value (..., S, Ev) -> (..., L, Ev). ``attn_mask``
    broadcasts to (..., L, S): bool (True = may attend) or float (added to the scores).
    ``is_causal`` applies a lower-triangular mask and requires ``attn_mask=None``.
    """
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"scaled_dot_product_attention(): argument '{name}' must be Tensor, not "
                            f"{type(t).__name__}")
    if query.dim() < 2 or key.dim() < 2 or value.dim() < 2:
        raise RuntimeError("scaled_dot_product_attention: query, key and value must be at least 2-D, got "
                           f"{list(query.shape)}, {list(key.shape)}, {list(value.shape)}")
    if query.shape[-1] != key.shape[-1]:
        raise RuntimeError(f"scaled_dot_product_attention: query's embedding size {query.shape[-1]} must equal "
                           f"key's {key.shape[-1]} (query {list(query.shape)}, key {list(key.shape)})")
    if key.shape[-2] != value.shape[-2]:
        raise RuntimeError(f"scaled_dot_product_attention: key and value must have the same sequence length, got "
                           f"key {list(key.shape)} and value {list(value.shape)}")
    if query.dtype != key.dtype or query.dtype != value.dtype:
        raise RuntimeError(f"Expected query, key, and value to have the same dtype, but got query.dtype: "
                           f"{query.dtype} key.dtype: {key.dtype} and value.dtype: {value.dtype} instead.")
    if is_causal and attn_mask is not None:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True")
    L, S = query.shape[-2], key.shape[-2]
    if enable_gqa and query.dim() >= 3 and key.shape[-3] != query.shape[-3]:
        hq, hk = query.shape[-3], key.shape[-3]
        if hq % hk:
            raise RuntimeError(f"scaled_dot_product_attention: number of query heads {hq} must be divisible by the "
                               f"number of key/value heads {hk} with enable_gqa=True")
        key = key.repeat_interleave(hq // hk, dim=-3)
        value = value.repeat_interleave(hq // hk, dim=-3)
    s = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = (query @ key.transpose(-2, -1)) * s
    if is_causal:
        from ...ops.creation import ones
        allowed = ones(L, S, dtype=None, device=query.device).tril().bool()
        scores = scores.masked_fill(allowed.logical_not(), float("-inf"))
    elif attn_mask is not None:
        if attn_mask._data.dtype.kind == "f":
            scores = scores + attn_mask
        elif attn_mask._data.dtype.kind == "b":
            scores = scores.masked_fill(attn_mask.logical_not(), float("-inf"))
        else:
            raise RuntimeError(f"scaled_dot_product_attention: attn_mask must be bool or float, got {attn_mask.dtype}")
    attn = _softmax(scores, -1)
    if dropout_p > 0.0:
        attn = _dropout(attn, dropout_p, True)
    return attn @ value


def _canonical_mask(mask, name, like):
    if mask is None:
        return None
    if mask._data.dtype.kind == "b":
        return _neg_inf_mask(mask, like)
    if mask._data.dtype.kind != "f":
        raise AssertionError(f"only bool and floating types of {name} are supported")
    return mask


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
                                 bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias,
                                 training=True, key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
                                 v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True,
                                 is_causal=False):
    """Multi-head attention on (L, N, E) query and (S, N, E_k/E_v) key/value (unbatched: (L, E)).

    Returns (output (L, N, E), weights (N, L, S) averaged over heads, or (N, H, L, S), or None).
    """
    from ...ops.creation import zeros
    from ...ops.join import cat
    batched = query.dim() == 3
    if query.dim() not in (2, 3):
        raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but received {query.dim()}-D query "
                             "tensor")
    if key.dim() != query.dim() or value.dim() != query.dim():
        raise AssertionError(f"For {'batched' if batched else 'unbatched'} (3-D) `query`, expected `key` and `value` "
                             f"to be {query.dim()}-D but found {key.dim()}-D and {value.dim()}-D tensors respectively")
    if not batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim}")
    if key.shape[:2] != value.shape[:2]:
        raise AssertionError(f"key shape {list(key.shape)} does not match value shape {list(value.shape)}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the Transformer module "
                           "method `generate_square_subsequent_mask` to create this mask.")
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", query)
    attn_mask = _canonical_mask(attn_mask, "attn_mask", query)

    # input projections
    if not use_separate_proj_weight:
        E = embed_dim
        if key is query and value is query:
            qkv = _linear(query, in_proj_weight, in_proj_bias)
            q, k, v = qkv.split(E, -1)  # one node: its backward is one concatenation
        else:
            b = in_proj_bias
            q = _linear(query, in_proj_weight[:E], None if b is None else b[:E])
            k = _linear(key, in_proj_weight[E:2 * E], None if b is None else b[E:2 * E])
            v = _linear(value, in_proj_weight[2 * E:], None if b is None else b[2 * E:])
    else:
        E = embed_dim
        b = in_proj_bias
        q = _linear(query, q_proj_weight, None if b is None else b[:E])
        k = _linear(key, k_proj_weight, None if b is None else b[E:2 * E])
        v = _linear(value, v_proj_weight, None if b is None else b[2 * E:])

    if attn_mask is not None:
        if attn_mask.dim() == 2:
            if tuple(attn_mask.shape) != (tgt_len, src_len):
                raise RuntimeError(f"The shape of the 2D attn_mask is {tuple(attn_mask.shape)}, but should be "
                                   f"{(tgt_len, src_len)}.")
            attn_mask = attn_mask.unsqueeze(0)
        elif attn_mask.dim() == 3:
            if tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
                raise RuntimeError(f"The shape of the 3D attn_mask is {tuple(attn_mask.shape)}, but should be "
                                   f"{(bsz * num_heads, tgt_len, src_len)}.")
        else:
            raise RuntimeError(f"attn_mask's dimension {attn_mask.dim()} is not supported")

    if bias_k is not None and bias_v is not None:
        k = cat([k, bias_k.reshape(1, 1, -1).expand(1, bsz, embed_dim)])
        v = cat([v, bias_v.reshape(1, 1, -1).expand(1, bsz, embed_dim)])
        if attn_mask is not None:
            attn_mask = cat([attn_mask, zeros(attn_mask.shape[0], attn_mask.shape[1], 1, dtype=attn_mask.dtype)], -1)
        if key_padding_mask is not None:
            key_padding_mask = cat([key_padding_mask, zeros(bsz, 1, dtype=key_padding_mask.dtype)], -1)

    q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    k = (k.reshape(k.shape[0], bsz * num_heads, head_dim).transpose(0, 1) if static_k is None else static_k)
    v = (v.reshape(v.shape[0], bsz * num_heads, head_dim).transpose(0, 1) if static_v is None else static_v)

    if add_zero_attn:
        k = cat([k, zeros(bsz * num_heads, 1, head_dim, dtype=k.dtype, device=k.device)], 1)
        v = cat([v, zeros(bsz * num_heads, 1, head_dim, dtype=v.dtype, device=v.device)], 1)
        if attn_mask is not None:
            attn_mask = cat([attn_mask, zeros(attn_mask.shape[0], attn_mask.shape[1], 1, dtype=attn_mask.dtype)], -1)
        if key_padding_mask is not None:
            key_padding_mask = cat([key_padding_mask, zeros(bsz, 1, dtype=key_padding_mask.dtype)], -1)
    src_len = k.shape[1]

    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (bsz, src_len):
            raise AssertionError(f"expecting key_padding_mask shape of {(bsz, src_len)}, but got "
                                 f"{tuple(key_padding_mask.shape)}")
        kpm = key_padding_mask.reshape(bsz, 1, 1, src_len).expand(bsz, num_heads, 1, src_len)
        kpm = kpm.reshape(bsz * num_heads, 1, src_len)
        attn_mask = kpm if attn_mask is None else attn_mask + kpm

    if not training:
        dropout_p = 0.0
    scale = 1.0 / math.sqrt(head_dim)
    if need_weights:
        scores = (q * scale) @ k.transpose(-2, -1)
        if attn_mask is not None:
            scores = scores + attn_mask
        w = _softmax(scores, -1)
        if dropout_p > 0.0:
            w = _dropout(w, dropout_p, True)
        out = w @ v
        out = out.transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
        out = _linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, embed_dim)
        w = w.reshape(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            w = w.mean(dim=1)
        if not batched:
            out, w = out.squeeze(1), w.squeeze(0)
        return out, w
    if attn_mask is not None:
        attn_mask = attn_mask.reshape(bsz, num_heads, -1, src_len) if attn_mask.shape[0] != 1 else \
            attn_mask.unsqueeze(0)
    q = q.reshape(bsz, num_heads, tgt_len, head_dim)
    k = k.reshape(bsz, num_heads, src_len, head_dim)
    v = v.reshape(bsz, num_heads, src_len, head_dim)
    out = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, False)
    out = out.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim)
    out = _linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, embed_dim)
    if not batched:
        out = out.squeeze(1)
    return out, None
