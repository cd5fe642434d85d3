"""Activation functions: pointwise nonlinearities, GLU, PReLU/RReLU; the softmax family lives in
``activation_softmax`` and is re-exported here.

Every pointwise activation is one primitive (its grad_fn is PyTorch's, e.g. ``GeluBackward0``);
its backward formula uses operators and the polymorphic helpers of ``_activation_utils``, so it
runs on arrays on the fast path and on Tensors under ``create_graph=True`` (second derivatives).
"""
from __future__ import annotations

import math

from ..._tensor import Tensor, _wrap, _wrap_dim
from ...amp.autocast_mode import _ACTIVE as _AUTOCAST, cast_lower as _cast_lower
from ...autograd.function import Function
from ...backends import namespace_of
from ...ops import _bw as B
from ...ops import unary as U
from ...ops._bw import sum_to
from ._activation_utils import (_is_t, _sigmoid_any, _erf_any, _softplus_arr, _softplus_any,  # noqa: F401
                                _cast, _result)
from .activation_softmax import (_sum_keep, _row_kernel, Softmax, LogSoftmax, _softmax_dim,  # noqa: F401
                                 _softmax_apply, softmax, softmin, log_softmax)

__all__ = ["relu", "relu_", "relu6", "leaky_relu", "leaky_relu_", "prelu", "rrelu", "rrelu_", "elu", "elu_",
           "selu", "selu_", "celu", "celu_", "gelu", "silu", "mish", "sigmoid", "tanh", "hardtanh", "hardtanh_",
           "hardsigmoid", "hardswish", "softplus", "softsign", "tanhshrink", "threshold", "threshold_", "glu",
           "logsigmoid", "hardshrink", "softshrink", "softmax", "softmin", "log_softmax"]


# --------------------------------------------------------------------------- pointwise primitives
def _pointwise(cls_name, node_name, fwd, bwd, saves="x", linear=False):
    """A raw primitive ``y = fwd(xp, x, *params)`` whose input gradient is ``bwd(g, saved, *params)``.

    ``saves`` is "x" (the input) or "y" (the output) -- whatever the derivative is cheapest from.
    ``linear``: the derivative is piecewise constant, so the gradient is linear in ``g`` with zero
    derivative in ``x``; under create_graph it is one node (``<node_name>Backward0``, as in PyTorch).
    """
    grad_node = node_name.replace("Backward0", "BackwardBackward0") if linear else None

    def forward(ctx, x, *params):
        y = _cast(fwd(namespace_of(x), x, *params), x)
        ctx.save_for_backward(x if saves == "x" else y)
        ctx.params = params
        return y

    def backward(ctx, g):
        (s,) = ctx.saved_tensors
        p = ctx.params
        gx = B.linear_in_grad(grad_node, bwd, g, s, *p) if grad_node else bwd(g, s, *p)
        return (gx,) + (None,) * len(p) if p else gx

    return type(cls_name, (Function,), {"raw": True, "node_name": node_name,
                                         "forward": staticmethod(forward), "backward": staticmethod(backward)})


def _hardtanh_fwd(xp, x, lo, hi):
    return xp.clip(x, lo, hi)


def _hardtanh_bwd(g, x, lo, hi):
    return g * ((x > lo) & (x < hi))


def _threshold_fwd(xp, x, th, value):
    return xp.where(x > th, x, value)


def _leaky_fwd(xp, x, slope):
    return xp.where(x > 0, x, x * slope)


def _leaky_bwd(g, x, slope):
    return B.where(x > 0, g, g * slope)


def _elu_fwd(xp, x, alpha, scale, input_scale):
    neg = xp.expm1(xp.minimum(x, 0) * input_scale) * (alpha * scale)
    return xp.where(x > 0, x * scale, neg)


def _elu_bwd(g, x, alpha, scale, input_scale):
    neg = B.exp(x * input_scale) * (alpha * scale * input_scale)
    return B.where(x > 0, g * scale, g * neg)


_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_C = 0.044715


def _gelu_fwd(xp, x, approximate):
    if approximate == "tanh":
        inner = (x + _GELU_C * x * x * x) * _SQRT_2_OVER_PI
        return x * 0.5 * (1 + xp.tanh(inner))
    return x * 0.5 * (1 + _erf_any(x * _SQRT_HALF))


def _gelu_bwd(g, x, approximate):
    if approximate == "tanh":
        x2 = x * x
        t = B.tanh((x + _GELU_C * x2 * x) * _SQRT_2_OVER_PI)
        d = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * (_SQRT_2_OVER_PI * (1 + 3 * _GELU_C * x2))
        return g * d
    cdf = 0.5 * (1 + _erf_any(x * _SQRT_HALF))
    pdf = B.exp(x * x * -0.5) * _INV_SQRT_2PI
    return g * (cdf + x * pdf)


def _silu_bwd(g, x):
    s = _sigmoid_any(x)
    return g * (s * (1 + x * (1 - s)))


def _mish_fwd(xp, x):
    return x * xp.tanh(_softplus_arr(xp, x))


def _mish_bwd(g, x):
    t = B.tanh(_softplus_any(x))
    return g * (t + x * _sigmoid_any(x) * (1 - t * t))


def _hardsigmoid_fwd(xp, x):
    return xp.clip(x / 6 + 0.5, 0, 1)


def _hardsigmoid_bwd(g, x):
    return g * (((x > -3) & (x < 3)) * (1 / 6))


def _hardswish_fwd(xp, x):
    return x * xp.clip(x + 3, 0, 6) / 6


def _hardswish_bwd(g, x):
    mid = B.where(x <= 3, x / 3 + 0.5, x * 0 + 1)
    return g * B.where(x < -3, x * 0, mid)


def _softplus_fwd(xp, x, beta, threshold):
    bx = x * beta
    soft = _softplus_arr(xp, xp.minimum(bx, threshold)) / beta
    return xp.where(bx > threshold, x, soft)


def _softplus_bwd(g, x, beta, threshold):
    bx = x * beta
    return B.where(bx > threshold, g, g * _sigmoid_any(bx))


def _logsigmoid_fwd(xp, x):
    return -_softplus_arr(xp, -x)


def _logsigmoid_bwd(g, x):
    return g * _sigmoid_any(-x)


def _hardshrink_fwd(xp, x, lambd):
    return xp.where((x >= -lambd) & (x <= lambd), 0, x)


def _shrink_bwd(g, x, lambd):
    return g * ((x < -lambd) | (x > lambd))


def _softshrink_fwd(xp, x, lambd):
    return xp.where(x > lambd, x - lambd, xp.where(x < -lambd, x + lambd, 0))


Hardtanh = _pointwise("Hardtanh", "HardtanhBackward0", _hardtanh_fwd, _hardtanh_bwd, linear=True)
Threshold = _pointwise("Threshold", "ThresholdBackward0", _threshold_fwd, lambda g, x, th, v: g * (x > th),
                       linear=True)
LeakyRelu = _pointwise("LeakyRelu", "LeakyReluBackward0", _leaky_fwd, _leaky_bwd, linear=True)
Elu = _pointwise("Elu", "EluBackward0", _elu_fwd, _elu_bwd)
Celu = _pointwise("Celu", "CeluBackward0", _elu_fwd, _elu_bwd)
Gelu = _pointwise("Gelu", "GeluBackward0", _gelu_fwd, _gelu_bwd)
Silu = _pointwise("Silu", "SiluBackward0", lambda xp, x: x * _sigmoid_any(x), _silu_bwd)
Mish = _pointwise("Mish", "MishBackward0", _mish_fwd, _mish_bwd)
Hardsigmoid = _pointwise("Hardsigmoid", "HardsigmoidBackward0", _hardsigmoid_fwd, _hardsigmoid_bwd, linear=True)
Hardswish = _pointwise("Hardswish", "HardswishBackward0", _hardswish_fwd, _hardswish_bwd)
Softplus = _pointwise("Softplus", "SoftplusBackward0", _softplus_fwd, _softplus_bwd)
LogSigmoid = _pointwise("LogSigmoid", "LogSigmoidBackward0", _logsigmoid_fwd, _logsigmoid_bwd)
Hardshrink = _pointwise("Hardshrink", "HardshrinkBackward0", _hardshrink_fwd, _shrink_bwd, linear=True)
Softshrink = _pointwise("Softshrink", "SoftshrinkBackward0", _softshrink_fwd, _shrink_bwd, linear=True)


def _float(input):
    if not isinstance(input, Tensor):
        raise TypeError(f"expected a Tensor as input, got {type(input).__name__}")
    return input


# --------------------------------------------------------------------------- public functions
def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """``max(x, 0)`` elementwise (any shape)."""
    return _result(input, U.relu(input), inplace)


def relu_(input: Tensor) -> Tensor:
    return relu(input, inplace=True)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """Clamp to ``[min_val, max_val]``; the gradient is zero outside the open interval."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return _result(input, Hardtanh.apply(_float(input), min_val, max_val), inplace)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """``min(max(x, 0), 6)``."""
    return hardtanh(input, 0.0, 6.0, inplace)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """``x if x > threshold else value``."""
    return _result(input, Threshold.apply(_float(input), threshold, value), inplace)


def threshold_(input, threshold, value):
    return globals()["threshold"](input, threshold, value, inplace=True)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``x if x > 0 else negative_slope * x``."""
    return _result(input, LeakyRelu.apply(_float(input), negative_slope), inplace)


def leaky_relu_(input, negative_slope=0.01):
    return leaky_relu(input, negative_slope, inplace=True)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``x if x > 0 else alpha * (exp(x) - 1)``."""
    return _result(input, Elu.apply(_float(input), alpha, 1.0, 1.0), inplace)


def elu_(input, alpha=1.0):
    return elu(input, alpha, inplace=True)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """Scaled ELU with the self-normalising constants (grad_fn ``EluBackward0``, as in PyTorch)."""
    return _result(input, Elu.apply(_float(input), _SELU_ALPHA, _SELU_SCALE, 1.0), inplace)


def selu_(input):
    return selu(input, inplace=True)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: celu with alpha=0")
    return _result(input, Celu.apply(_float(input), alpha, 1.0, 1.0 / alpha), inplace)


def celu_(input, alpha=1.0):
    return celu(input, alpha, inplace=True)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """``x * Phi(x)`` (exact, with erf) or its tanh approximation (``approximate='tanh'``)."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"approximate argument must be either none or tanh., got {approximate!r}")
    return Gelu.apply(_float(input), approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * sigmoid(x)`` (swish)."""
    return _result(input, Silu.apply(_float(input)), inplace)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * tanh(softplus(x))``."""
    return _result(input, Mish.apply(_float(input)), inplace)


def sigmoid(input: Tensor) -> Tensor:
    return U.sigmoid(input)


def tanh(input: Tensor) -> Tensor:
    return U.tanh(input)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """``clamp(x / 6 + 1/2, 0, 1)``."""
    return _result(input, Hardsigmoid.apply(_float(input)), inplace)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * relu6(x + 3) / 6``."""
    return _result(input, Hardswish.apply(_float(input)), inplace)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta x)) / beta``, linear where ``beta x > threshold``."""
    return Softplus.apply(_float(input), beta, threshold)


def softsign(input: Tensor) -> Tensor:
    """``x / (1 + |x|)``."""
    return input / (U.abs(input) + 1)


def tanhshrink(input: Tensor) -> Tensor:
    """``x - tanh(x)``."""
    return input - U.tanh(input)


def logsigmoid(input: Tensor) -> Tensor:
    """``log(sigmoid(x))``, computed without overflow."""
    return LogSigmoid.apply(_float(input))


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    return Hardshrink.apply(_float(input), lambd)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    if lambd < 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {lambd}.")
    return Softshrink.apply(_float(input), lambd)


# --------------------------------------------------------------------------- GLU
def _cat_any(parts, axis):
    if _is_t(parts[0]):
        from ...ops.join import cat
        return cat(parts, axis)
    return namespace_of(parts[0]).concatenate(parts, axis=axis)


class Glu(Function):
    """``a * sigmoid(b)`` where ``a, b`` are the two halves of ``dim``."""

    raw = True
    node_name = "GluBackward0"

    @staticmethod
    def forward(ctx, x, dim):
        h = x.shape[dim] // 2
        xp = namespace_of(x)
        a = x[(slice(None),) * dim + (slice(0, h),)]
        b = x[(slice(None),) * dim + (slice(h, None),)]
        ctx.save_for_backward(x)
        ctx.dim, ctx.h = dim, h
        return a * U._sigmoid(xp, b)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        dim, h = ctx.dim, ctx.h
        a = x[(slice(None),) * dim + (slice(0, h),)]
        b = x[(slice(None),) * dim + (slice(h, None),)]
        s = _sigmoid_any(b)
        ga = g * s
        gb = ga * a * (1 - s)
        return _cat_any([ga, gb], dim), None


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """Gated linear unit: split ``dim`` in halves ``a, b`` and return ``a * sigmoid(b)``."""
    if input.dim() == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = _wrap_dim(dim, input.dim())
    n = input.shape[d]
    if n % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size {n}")
    return Glu.apply(input, d)


# --------------------------------------------------------------------------- PReLU / RReLU
class Prelu(Function):
    """``x if x > 0 else w * x`` with one learnable slope per channel (dim 1) or one in all."""

    raw = True
    node_name = "PreluKernelBackward0"

    @staticmethod
    def forward(ctx, x, w):
        wb = _prelu_weight_view(w, x.ndim)
        ctx.save_for_backward(x, w)
        return namespace_of(x).where(x > 0, x, x * wb)

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        wb = _prelu_weight_view(w, x.ndim)
        need = ctx.needs_input_grad
        pos = x > 0
        gx = None
        if need[0]:
            gx = PreluGradInput.apply(g, x, w) if _is_t(g) else B.where(pos, g, g * wb)
        gw = None
        if need[1]:
            gw = sum_to(B.where(pos, g * 0, g * x), tuple(wb.shape)).reshape(tuple(w.shape))
        return gx, gw


class PreluGradInput(Function):
    """The input gradient of PReLU under create_graph, ``where(x > 0, g, w * g)``, as one node (PyTorch's
    ``PreluKernelBackwardBackward0``): linear in ``g``, slope zero in ``x``, ``g`` where ``x <= 0`` in ``w``."""

    raw = True
    node_name = "PreluKernelBackwardBackward0"

    @staticmethod
    def forward(ctx, g, x, w):
        ctx.save_for_backward(g, x, w)
        return namespace_of(x).where(x > 0, g, g * _prelu_weight_view(w, x.ndim))

    @staticmethod
    def backward(ctx, gg):
        g, x, w = ctx.saved_tensors
        need = ctx.needs_input_grad
        wb = _prelu_weight_view(w, x.ndim)
        pos = x > 0
        dg = dx = dw = None
        if need[0]:
            dg = PreluGradInput.apply(gg, x, w) if _is_t(gg) else B.where(pos, gg, gg * wb)
        if need[1]:
            dx = B.zeros_like(x)
        if need[2]:
            dw = sum_to(B.where(pos, gg * 0, gg * g), tuple(wb.shape)).reshape(tuple(w.shape))
        return dg, dx, dw


def _prelu_weight_view(w, ndim):
    if math.prod(w.shape) == 1:
        return w.reshape(())
    shape = (-1,) + (1,) * (ndim - 2) if ndim >= 2 else (-1,)
    return w.reshape(shape)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """``max(0, x) + weight * min(0, x)``; ``weight`` has 1 or C (= input.shape[1]) elements."""
    if _AUTOCAST[0]:
        input, weight = _cast_lower(input, weight)
    if weight.dim() > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {weight.dim()}")
    n = weight.numel()
    if n != 1:
        if input.dim() == 0:
            raise RuntimeError("Not allow zero-dim input tensor.")
        c = input.shape[1] if input.dim() >= 2 else input.shape[0] if input.dim() == 1 else 1
        if c != n:
            raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found parameter numbers = "
                               f"{n} and channel size = {c}.")
    return Prelu.apply(input, weight)


class RreluWithNoise(Function):
    raw = True
    node_name = "RreluWithNoiseBackward0"

    @staticmethod
    def forward(ctx, x, noise):
        ctx.save_for_backward(x, noise)  # x: under create_graph the gradient depends on it (with zero slope)
        return x * noise

    @staticmethod
    def backward(ctx, g):
        x, noise = ctx.saved_tensors
        return B.linear_in_grad("RreluWithNoiseBackwardBackward0", _times_noise, g, x, noise), None


def _times_noise(g, x, noise):
    return g * noise


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          inplace: bool = False) -> Tensor:
    """Randomised leaky ReLU: negative slopes ~ U(lower, upper) in training, (lower+upper)/2 in eval."""
    xp = namespace_of(input._data)
    x = input._data
    if training:
        from ...ops.creation import _rng, sample_like
        slopes = sample_like(input, _rng(None).uniform(lower, upper, x.shape))
        noise = xp.where(x >= 0, 1, slopes).astype(x.dtype)
    else:
        noise = xp.where(x >= 0, 1, (lower + upper) / 2).astype(x.dtype)
    return _result(input, RreluWithNoise.apply(input, _wrap(noise)), inplace)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    return rrelu(input, lower, upper, training, inplace=True)
