"""Linear layers: ``Identity``, ``Linear``, ``Bilinear``, ``LazyLinear``, and the reshaping layers
``Flatten`` and ``Unflatten``."""
from __future__ import annotations

import math

from ..._tensor import Tensor
from ...amp.autocast_mode import _ACTIVE as _AUTOCAST, cast_lower as _cast_lower
from ...amp.autocast_mode import plain_call as _plain_call
from ...autograd.grad_mode import no_grad
from ...ops.creation import empty
from ...ops.linalg import addmm, matmul
from ...ops.shape import flatten, unflatten
from ..parameter import Parameter, UninitializedParameter
from .module import Module

__all__ = ["Identity", "Linear", "Bilinear", "LazyLinear", "Flatten", "Unflatten"]


def _uniform(t: Tensor, bound: float) -> None:
    with no_grad():
        t.uniform_(-bound, bound)


class Identity(Module):
    """Returns its input unchanged; any constructor arguments are accepted and ignored."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return input


class Linear(Module):
    """``y = x @ weight.T + bias``. ``weight``: ``(out_features, in_features)``, ``bias``: ``(out_features,)``.

    Input ``(*, in_features)``, output ``(*, out_features)``. Both are initialised uniformly in
    ``[-1/sqrt(in_features), 1/sqrt(in_features)]`` (PyTorch's ``kaiming_uniform_(a=sqrt(5))`` for
    the weight works out to exactly that bound).
    """

    __constants__ = ["in_features", "out_features"]

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(empty((out_features, in_features), device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_features, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        fan_in = self.weight.shape[1] if self.weight.ndim == 2 else 0
        if fan_in > 0:
            # kaiming_uniform_(a=sqrt(5)): gain sqrt(2 / (1 + 5)), bound gain * sqrt(3 / fan_in)
            _uniform(self.weight, math.sqrt(1.0 / 3.0) * math.sqrt(3.0 / fan_in))
        if self.bias is not None and fan_in > 0:
            _uniform(self.bias, 1.0 / math.sqrt(fan_in))

    def forward(self, input: Tensor) -> Tensor:
        return linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias``; one GEMM (``addmm``) for inputs of any rank >= 2."""
    if _AUTOCAST[0]:  # cast before the transpose, as PyTorch's graph has it (ToCopy -> T -> Addmm)
        input, weight, bias = _cast_lower(input, weight, bias)
    wt = weight.t()
    nd = input.ndim
    if nd == 2:
        return addmm(bias, input, wt) if bias is not None else matmul(input, wt)
    if nd > 2 and input.shape[-1] == weight.shape[-1]:
        lead = input.shape[:-1]
        flat = input.reshape(-1, input.shape[-1])
        out = addmm(bias, flat, wt) if bias is not None else matmul(flat, wt)
        return out.reshape(*lead, weight.shape[0])
    out = matmul(input, wt)  # 1-D input, or a shape error raised by matmul
    return out + bias if bias is not None else out


class Bilinear(Module):
    """``y_k = x1 @ weight[k] @ x2 + bias_k``. ``weight``: ``(out, in1, in2)``, ``bias``: ``(out,)``.

    Inputs ``(*, in1_features)`` and ``(*, in2_features)``, output ``(*, out_features)``; both
    parameters are initialised uniformly in ``[-1/sqrt(in1_features), 1/sqrt(in1_features)]``.
    """

    __constants__ = ["in1_features", "in2_features", "out_features"]

    def __init__(self, in1_features: int, in2_features: int, out_features: int, bias: bool = True,
                 device=None, dtype=None) -> None:
        super().__init__()
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        self.weight = Parameter(empty((out_features, in1_features, in2_features), device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_features, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.weight.shape[1]) if self.weight.shape[1] > 0 else 0.0
        _uniform(self.weight, bound)
        if self.bias is not None:
            _uniform(self.bias, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        return bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``out[..., k] = sum_ij input1[..., i] weight[k, i, j] input2[..., j] + bias[k]`` as two GEMMs."""
    if _AUTOCAST[0]:
        return _plain_call(bilinear, input1, input2, weight, bias)
    o, i, j = weight.shape
    if input1.shape[:-1] != input2.shape[:-1]:
        raise RuntimeError(f"bilinear(): input1 and input2 batch dimensions must match, got "
                           f"{list(input1.shape)} and {list(input2.shape)}")
    if input1.shape[-1] != i or input2.shape[-1] != j:
        raise RuntimeError(f"bilinear(): expected input1 (*, {i}) and input2 (*, {j}) for weight "
                           f"{list(weight.shape)}, got {list(input1.shape)} and {list(input2.shape)}")
    lead = input1.shape[:-1]
    x1 = input1.reshape(-1, i)
    x2 = input2.reshape(-1, j)
    # (N, i) @ (i, o*j) -> (N, o, j); then contract j against x2
    t = matmul(x1, weight.permute(1, 0, 2).reshape(i, o * j)).reshape(-1, o, j)
    out = matmul(t, x2.unsqueeze(-1)).squeeze(-1)
    if bias is not None:
        out = out + bias
    return out.reshape(*lead, o)


class LazyLinear(Linear):
    """A ``Linear`` whose ``in_features`` is taken from the first input it sees; it then becomes a
    plain ``Linear``."""

    cls_to_become = Linear

    def __init__(self, out_features: int, bias: bool = True, device=None, dtype=None) -> None:
        Module.__init__(self)
        self.in_features = 0
        self.out_features = out_features
        self.weight = UninitializedParameter(dtype=dtype)
        if bias:
            self.bias = UninitializedParameter(dtype=dtype)
        else:
            self.register_parameter("bias", None)

    def has_uninitialized_params(self) -> bool:
        return any(isinstance(p, UninitializedParameter) for p in self._parameters.values())

    def _save_to_state_dict(self, destination, prefix, keep_vars) -> None:
        # before the first forward the state_dict holds the UninitializedParameters themselves, as in PyTorch
        from .lazy import LazyModuleMixin
        LazyModuleMixin._save_to_state_dict(self, destination, prefix, keep_vars)

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_features != 0:
            Linear.reset_parameters(self)

    def initialize_parameters(self, input: Tensor) -> None:
        if self.has_uninitialized_params():
            with no_grad():
                self.in_features = input.shape[-1]
                self.weight.materialize((self.out_features, self.in_features))
                if self.bias is not None:
                    self.bias.materialize((self.out_features,))
                self.reset_parameters()

    def forward(self, input: Tensor) -> Tensor:
        self.initialize_parameters(input)
        if self.in_features == 0:
            self.in_features = self.weight.shape[1]
        self.__class__ = self.cls_to_become
        return linear(input, self.weight, self.bias)


class Flatten(Module):
    """Flattens dims ``start_dim..end_dim`` into one: ``(N, C, H, W) -> (N, C*H*W)`` by default."""

    __constants__ = ["start_dim", "end_dim"]

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input: Tensor) -> Tensor:
        return flatten(input, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Splits dim ``dim`` into ``unflattened_size``: ``Unflatten(1, (2, 5))`` maps ``(N, 10)`` to ``(N, 2, 5)``."""

    __constants__ = ["dim", "unflattened_size"]

    def __init__(self, dim: int, unflattened_size) -> None:
        super().__init__()
        if isinstance(dim, int):
            if not isinstance(unflattened_size, (tuple, list)):
                raise TypeError("unflattened_size must be a tuple of ints, but found type "
                                f"{type(unflattened_size).__name__}")
            for k, s in enumerate(unflattened_size):
                if not isinstance(s, int):
                    raise TypeError(f"unflattened_size must be tuple of ints, but found element of type "
                                    f"{type(s).__name__} at pos {k}")
        else:
            raise TypeError(f"invalid argument type for dim parameter: {type(dim).__name__} "
                            "(named dimensions are not supported)")
        self.dim = dim
        self.unflattened_size = unflattened_size

    def forward(self, input: Tensor) -> Tensor:
        return unflatten(input, self.dim, self.unflattened_size)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
