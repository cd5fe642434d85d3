"""``parameters_to_vector`` / ``vector_to_parameters``."""
from __future__ import annotations

from ..._tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def parameters_to_vector(parameters) -> Tensor:
    """Flatten and concatenate the parameters into one 1-D tensor (differentiable)."""
    from ...ops.join import cat
    params = list(parameters)
    dev = None
    for p in params:
        if dev is not None and p.device != dev:
            raise TypeError("Found two parameters on different devices, this is currently not supported.")
        dev = p.device
    return cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec: Tensor, parameters) -> None:
    """Copy consecutive slices of the 1-D ``vec`` into the parameters' data (no graph)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    params = list(parameters)
    n = sum(p.numel() for p in params)
    if vec.dim() != 1 or vec.numel() != n:
        raise RuntimeError(f"vector_to_parameters: expected a 1-D vector of {n} elements, got shape {list(vec.shape)}")
    i = 0
    for p in params:
        k = p.numel()
        p.data = vec[i:i + k].detach().reshape(tuple(p.shape))
        i += k
