"""Fold an eval-mode BatchNorm into the preceding convolution or linear layer (``torch.nn.utils.fusion``)."""
from __future__ import annotations

import copy as _copy

__all__ = ["fuse_conv_bn_eval", "fuse_conv_bn_weights", "fuse_linear_bn_eval", "fuse_linear_bn_weights"]


def fuse_conv_bn_eval(conv, bn, transpose: bool = False):
    """A copy of ``conv`` whose weight and bias also apply ``bn`` (both must be in eval mode).

    ``transpose``: ``conv`` is a ConvTranspose, whose output channels are the weight's dim 1.
    """
    if conv.training or bn.training:
        raise AssertionError("Fusion only for eval!")
    fused = _copy.deepcopy(conv)
    if bn.running_mean is None or bn.running_var is None:
        raise AssertionError("fuse_conv_bn_eval: the BatchNorm has no running statistics (track_running_stats=False)")
    fused.weight, fused.bias = fuse_conv_bn_weights(fused.weight, fused.bias, bn.running_mean, bn.running_var,
                                                    bn.eps, bn.weight, bn.bias, transpose)
    return fused


def fuse_conv_bn_weights(conv_w, conv_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b, transpose: bool = False):
    """``(weight, bias)`` Parameters of a convolution followed by BatchNorm with these statistics.

    conv_w: (C_out, C_in/groups, *k), or (C_in, C_out/groups, *k) with ``transpose``; the rest: (C_out,).
    None bias/affine terms count as 0 (bias, bn_b) and 1 (bn_w). Results keep conv_w's and conv_b's dtypes.
    """
    import ember
    from ..parameter import Parameter
    w_dtype = conv_w.dtype
    b_dtype = conv_b.dtype if conv_b is not None else w_dtype
    b_grad = conv_b.requires_grad if conv_b is not None else False
    with ember.no_grad():
        if conv_b is None:
            conv_b = ember.zeros_like(bn_rm)
        if bn_w is None:
            bn_w = ember.ones_like(bn_rm)
        if bn_b is None:
            bn_b = ember.zeros_like(bn_rm)
        inv_std = ember.rsqrt(bn_rv + bn_eps)
        shape = [1] * conv_w.dim()
        shape[1 if transpose else 0] = -1
        w = (conv_w * (bn_w * inv_std).reshape(shape)).to(dtype=w_dtype)
        b = ((conv_b - bn_rm) * inv_std * bn_w + bn_b).to(dtype=b_dtype)
    return Parameter(w, conv_w.requires_grad), Parameter(b, b_grad)


def fuse_linear_bn_eval(linear, bn):
    """A copy of ``linear`` whose weight and bias also apply ``bn`` (both must be in eval mode)."""
    if linear.training or bn.training:
        raise AssertionError("Fusion only for eval!")
    if not (linear.out_features == bn.num_features or bn.num_features == 1):
        raise AssertionError("To fuse, linear.out_features == bn.num_features or bn.num_features == 1")
    if bn.running_mean is None or bn.running_var is None:
        raise AssertionError("fuse_linear_bn_eval: the BatchNorm has no running statistics "
                             "(track_running_stats=False)")
    fused = _copy.deepcopy(linear)
    fused.weight, fused.bias = fuse_linear_bn_weights(fused.weight, fused.bias, bn.running_mean, bn.running_var,
                                                      bn.eps, bn.weight, bn.bias)
    return fused


def fuse_linear_bn_weights(linear_w, linear_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b):
    """``(weight, bias)`` Parameters of a linear layer (weight (out, in)) followed by BatchNorm1d."""
    import ember
    from ..parameter import Parameter
    b_grad = linear_b.requires_grad if linear_b is not None else False
    with ember.no_grad():
        if linear_b is None:
            linear_b = ember.zeros_like(bn_rm)
        scale = bn_w * ember.rsqrt(bn_rv + bn_eps)
        w = linear_w * scale.unsqueeze(-1)
        b = (linear_b - bn_rm) * scale + bn_b
    return Parameter(w, linear_w.requires_grad), Parameter(b, b_grad)
