"""Complex tensors seen as real pairs and back: ``view_as_real`` / ``view_as_complex``.

Both are views (they share memory and the version counter with their input), and both are
differentiable, so a complex computation can end in a real loss (``view_as_real(z).pow(2).sum()``,
``z.real``, ``z.abs()``) and its gradient reaches complex leaves with PyTorch's convention:
the gradient of a real loss L in z = x + iy is dL/dx + i dL/dy.
"""
from __future__ import annotations

from .._tensor import Tensor
from ..autograd.function import Function
from ..backends import namespace_of

__all__ = ["view_as_real", "view_as_complex"]

_REAL_OF = {"complex64": "float32", "complex128": "float64"}
_COMPLEX_OF = {"float32": "complex64", "float64": "complex128"}


def _as_real_array(z):
    """(..., 2) real view of the complex array ``z``: its real parts with the imaginary parts one element on."""
    xp = namespace_of(z)
    re = z.real  # a strided view of the real parts (numpy and cupy)
    half = re.itemsize
    return xp.lib.stride_tricks.as_strided(re, shape=z.shape + (2,), strides=z.strides + (half,))


def _as_complex_array(x):
    """Complex view of the real (..., 2) array ``x`` when its layout allows one, else a complex copy."""
    xp = namespace_of(x)
    cdt = xp.dtype(_COMPLEX_OF[x.dtype.name])
    isz = x.itemsize
    lead = x.shape[:-1]
    if x.size and x.strides[-1] == isz and all(s % (2 * isz) == 0 for s in x.strides[:-1]):
        one = x[(0,) * len(lead)].view(cdt)  # the first pair, contiguous: one complex number
        return xp.lib.stride_tricks.as_strided(one, shape=lead, strides=x.strides[:-1])
    out = xp.empty(lead, dtype=cdt)
    out.real = x[..., 0]
    out.imag = x[..., 1]
    return out


class ViewAsReal(Function):
    raw = True
    node_name = "ViewAsRealBackward0"

    @staticmethod
    def forward(ctx, z):
        return _as_real_array(z)

    @staticmethod
    def backward(ctx, g):
        if isinstance(g, Tensor):
            return view_as_complex(g.contiguous())
        return _as_complex_array(namespace_of(g).ascontiguousarray(g))


class ViewAsComplex(Function):
    raw = True
    node_name = "ViewAsComplexBackward0"

    @staticmethod
    def forward(ctx, x):
        return _as_complex_array(x)

    @staticmethod
    def backward(ctx, g):
        if isinstance(g, Tensor):
            return view_as_real(g)
        return _as_real_array(g)


def view_as_real(input: Tensor) -> Tensor:
    """The complex tensor ``input`` (...) as a real tensor (..., 2) of (real, imaginary) pairs; a view."""
    from .shape import _share_vc
    if not input.is_complex():
        raise RuntimeError("view_as_real is only supported for complex tensors")
    return _share_vc(ViewAsReal.apply(input), input)


def view_as_complex(input: Tensor) -> Tensor:
    """The real tensor ``input`` (..., 2) of (real, imaginary) pairs as a complex tensor (...); a view."""
    from .shape import _share_vc
    name = input._data.dtype.name
    if name not in _COMPLEX_OF:
        raise RuntimeError("view_as_complex is only supported for float and double tensors, but got a tensor "
                           f"of scalar type: {input.dtype.name.capitalize()}")
    if input.dim() == 0 or input.shape[-1] != 2:
        raise RuntimeError("Tensor must have a last dimension of size 2")
    if input._data.strides[-1] != input._data.itemsize:
        raise RuntimeError("Tensor must have a last dimension with stride 1")
    if any(s % (2 * input._data.itemsize) for s in input._data.strides[:-1]):
        raise RuntimeError("Tensor must have a stride divisible by 2 for all but last dimension")
    return _share_vc(ViewAsComplex.apply(input), input)
