"""The ``*_copy`` forms of the view ops (``torch.diagonal_copy``, ``torch.narrow_copy`` ...): the view's
values in fresh memory, differentiable like the view. (PyTorch names their grad_fns ``DiagonalBackward0_copy``
...; Ember's show the view's backward followed by the clone.)"""
from __future__ import annotations

__all__ = ["alias_copy", "as_strided_copy", "detach_copy", "diagonal_copy", "expand_copy", "narrow_copy",
           "permute_copy", "select_copy", "slice_copy", "split_copy", "split_with_sizes_copy", "squeeze_copy",
           "t_copy", "transpose_copy", "unbind_copy", "unfold_copy", "unsqueeze_copy", "view_copy",
           "view_as_real_copy", "view_as_complex_copy"]


def _c(t):
    return t.clone()


def alias_copy(input):
    return input.clone()


def as_strided_copy(input, size, stride, storage_offset=None):
    from .shape_more import as_strided
    return _c(as_strided(input, size, stride, storage_offset))


def detach_copy(input):
    return input.detach().clone()


def diagonal_copy(input, offset=0, dim1=0, dim2=1):
    return _c(input.diagonal(offset, dim1, dim2))


def expand_copy(input, size, *, implicit=False):
    return _c(input.expand(*size))


def narrow_copy(input, dim, start, length):
    return _c(input.narrow(dim, start, length))


def permute_copy(input, dims):
    return _c(input.permute(*dims))


def select_copy(input, dim, index):
    return _c(input.select(dim, index))


def slice_copy(input, dim=0, start=None, end=None, step=1):
    d = dim % max(input.ndim, 1)
    return _c(input[(slice(None),) * d + (slice(start, end, step),)])


def split_copy(input, split_size, dim=0):
    return tuple(_c(t) for t in input.split(split_size, dim))


def split_with_sizes_copy(input, split_sizes, dim=0):
    return tuple(_c(t) for t in input.split(list(split_sizes), dim))


def squeeze_copy(input, dim=None):
    return _c(input.squeeze() if dim is None else input.squeeze(dim))


def t_copy(input):
    return _c(input.t())


def transpose_copy(input, dim0, dim1):
    return _c(input.transpose(dim0, dim1))


def unbind_copy(input, dim=0):
    return tuple(_c(t) for t in input.unbind(dim))


def unfold_copy(input, dimension, size, step):
    return _c(input.unfold(dimension, size, step))


def unsqueeze_copy(input, dim):
    return _c(input.unsqueeze(dim))


def view_copy(input, size):
    from .._dtype import dtype as _dtype
    return _c(input.view(size) if isinstance(size, _dtype) else input.view(*size))


def view_as_real_copy(input):
    from .complex_view import view_as_real
    return _c(view_as_real(input))


def view_as_complex_copy(input):
    from .complex_view import view_as_complex
    return _c(view_as_complex(input))
