"""``torch.fft``: discrete Fourier transforms, differentiable, with PyTorch's signatures.

Every transform takes ``norm`` = "backward" (default: no scaling forward, 1/n on the inverse),
"ortho" (1/sqrt(n) both ways) or "forward" (1/n forward). ``n`` / ``s`` zero-pad or trim the
input along the transformed dims first (``-1`` in ``s`` keeps a dim's size). Real inputs give
complex results of the same precision (float32 -> complex64); integer inputs are promoted to the
default float dtype; half precision is not supported (as PyTorch on CPU).
"""


from . import _dtype as _D
from ._tensor import Tensor as _Tensor

__all__ = ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft", "fft2", "ifft2", "rfft2", "irfft2", "hfft2",
           "ihfft2", "fftn", "ifftn", "rfftn", "irfftn", "hfftn", "ihfftn", "fftfreq", "rfftfreq", "fftshift",
           "ifftshift"]

_NORMS = ("backward", "ortho", "forward")


# --------------------------------------------------------------------------- argument checks
def _norm(norm):
    if norm is None:
        return "backward"
    if norm not in _NORMS:
        raise RuntimeError(f'Invalid normalization mode: "{norm}"')
    return norm


def _wrap_dim(d, ndim):
    if ndim == 0:
        raise IndexError(f"Dimension specified as {d} but tensor has no dimensions")
    if not -ndim <= d < ndim:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}], but got {d})")
    return d % ndim


def _check_n(n):
    if n < 1:
        raise RuntimeError(f"Invalid number of data points ({n}) specified")


def _float_input(x: _Tensor) -> _Tensor:
    """``x`` with a dtype the transforms accept: integers/bool promoted to the default float dtype."""
    k = x._data.dtype.kind
    if k in "biu":
        return x.to(_D.get_default_dtype())
    if x.dtype in (_D.float16, _D.bfloat16):
        raise RuntimeError(f"Unsupported dtype {'Half' if x.dtype is _D.float16 else 'BFloat16'}")
    return x


def _complex_input(x: _Tensor) -> _Tensor:
    x = _float_input(x)
    return x if x.is_complex() else x.to(x.dtype.to_complex())


def _real_input(x: _Tensor, op: str) -> _Tensor:
    if x.is_complex():
        raise RuntimeError(f"{op} expects a real input tensor, but got {_scalar_name(x.dtype)}")
    return _float_input(x)


def _scalar_name(dt):
    return {"complex64": "ComplexFloat", "complex128": "ComplexDouble"}.get(dt.name, dt.name)


def _resize(x: _Tensor, d: int, n: int) -> _Tensor:
    """``x`` trimmed (SliceBackward0) or zero-padded at the end (ConstantPadNdBackward0) to ``n`` along ``d``."""
    size = x.shape[d]
    if n == size:
        return x
    if n < size:
        return x.narrow(d, 0, n)
    from .nn.functional import pad
    return pad(x, (0, 0) * (x.dim() - 1 - d) + (0, n - size))


def _dims_and_sizes(x: _Tensor, s, dim, op_halves=False):
    """PyTorch's rules for (s, dim): both given (same length), one given, or neither (all dims).
    Returns (dims, sizes) with dims non-negative and unique; a size of -1 keeps the input's size."""
    nd = x.dim()
    if isinstance(dim, int):
        dim = (dim,)
    if s is not None:
        s = tuple(s)
        if dim is not None and len(tuple(dim)) != len(s):
            raise RuntimeError("When given, dim and shape arguments must have the same length")
        if len(s) > nd:
            raise RuntimeError(f"Got shape with {len(s)} values but input tensor only has {nd} dimensions.")
        if dim is None:
            dim = tuple(range(nd - len(s), nd))
    if dim is None:
        dims = tuple(range(nd))
    else:
        dims = tuple(_wrap_dim(d, nd) for d in dim)
    if len(set(dims)) != len(dims):
        raise RuntimeError("FFT dims must be unique")
    if s is None:
        sizes = [x.shape[d] for d in dims]
    else:
        sizes = []
        for d, n in zip(dims, s):
            if n != -1:
                _check_n(n)
            sizes.append(n)
    return dims, sizes


def _resize_all(x, dims, sizes):
    for d, n in zip(dims, sizes):
        if n != -1:
            x = _resize(x, d, n)
    return x


# --------------------------------------------------------------------------- the transforms
def _c2c_n(input, s, dim, norm, forward, one_dim=False):
    from .ops.fft import FftC2C, FftR2C
    norm = _norm(norm)
    x = _float_input(input)
    dims, sizes = _dims_and_sizes(x, s, dim)
    x = _resize_all(x, dims, sizes)
    if not dims:
        return _complex_input(x).clone()
    if one_dim and not x.is_complex():  # fft/ifft of a real signal: PyTorch's R2C node, full spectrum
        if forward:
            return FftR2C.apply(x, dims, norm, False)
        from .ops.fft import _DUAL
        return FftR2C.apply(x, dims, _DUAL[norm], False).conj()
    return FftC2C.apply(_complex_input(x), dims, norm, forward)


def _r2c_n(input, s, dim, norm, op, inverse=False):
    """rfftn (and ihfftn, its conjugate with the dual norm)."""
    from .ops.fft import _DUAL, FftR2C
    norm = _norm(norm)
    x = _real_input(input, op)
    dims, sizes = _dims_and_sizes(x, s, dim)
    if not dims:
        raise RuntimeError(f"{op} must transform at least one axis")
    x = _resize_all(x, dims, sizes)
    if inverse:
        return FftR2C.apply(x, dims, _DUAL[norm], True).conj()
    return FftR2C.apply(x, dims, norm, True)


def _c2r_n(input, s, dim, norm, op, hermitian=False):
    """irfftn (and hfftn: irfftn of the conjugate with the dual norm)."""
    from .ops.fft import _DUAL, FftC2R
    norm = _norm(norm)
    x = _complex_input(input)
    dims, sizes = _dims_and_sizes(x, s, dim)
    if not dims:
        raise RuntimeError(f"{op} must transform at least one axis")
    last = dims[-1]
    last_n = sizes[-1] if s is not None and sizes[-1] != -1 else 2 * (x.shape[last] - 1)
    _check_n(last_n)
    x = _resize_all(x, dims[:-1], sizes[:-1])
    x = _resize(x, last, last_n // 2 + 1)
    if hermitian:
        return FftC2R.apply(x.conj(), dims, _DUAL[norm], last_n)
    return FftC2R.apply(x, dims, norm, last_n)


def _one(n, dim):
    if not isinstance(dim, int):
        raise TypeError(f"argument 'dim' must be int, not {type(dim).__name__}")
    return None if n is None else (n,), (dim,)


def fft(input: _Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> _Tensor:
    """One-dimensional DFT of ``input`` along ``dim`` (length ``n`` after padding/trimming)."""
    s, d = _one(n, dim)
    return _c2c_n(input, s, d, norm, True, one_dim=True)


def ifft(input: _Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> _Tensor:
    """One-dimensional inverse DFT of ``input`` along ``dim``."""
    s, d = _one(n, dim)
    return _c2c_n(input, s, d, norm, False, one_dim=True)


def rfft(input: _Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> _Tensor:
    """DFT of a real signal: the ``n // 2 + 1`` non-negative frequency bins along ``dim``."""
    s, d = _one(n, dim)
    return _r2c_n(input, s, d, norm, "rfft")


def irfft(input: _Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> _Tensor:
    """Inverse of ``rfft``: a real signal of length ``n`` (default ``2 * (m - 1)``) from ``m`` bins."""
    s, d = _one(n, dim)
    return _c2r_n(input, s, d, norm, "irfft")


def hfft(input: _Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> _Tensor:
    """DFT of a Hermitian-symmetric signal given by its first half: a real spectrum of length ``n``."""
    s, d = _one(n, dim)
    return _c2r_n(input, s, d, norm, "hfft", hermitian=True)


def ihfft(input: _Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> _Tensor:
    """Inverse of ``hfft``: the ``n // 2 + 1`` first bins of the inverse DFT of a real signal."""
    s, d = _one(n, dim)
    return _r2c_n(input, s, d, norm, "ihfft", inverse=True)


def fftn(input: _Tensor, s=None, dim=None, norm: str | None = None) -> _Tensor:
    """N-dimensional DFT over ``dim`` (default: the last ``len(s)`` dims, or all)."""
    return _c2c_n(input, s, dim, norm, True)


def ifftn(input: _Tensor, s=None, dim=None, norm: str | None = None) -> _Tensor:
    """N-dimensional inverse DFT."""
    return _c2c_n(input, s, dim, norm, False)


def rfftn(input: _Tensor, s=None, dim=None, norm: str | None = None) -> _Tensor:
    """N-dimensional DFT of a real signal; the last transformed dim keeps ``n // 2 + 1`` bins."""
    return _r2c_n(input, s, dim, norm, "rfftn")


def irfftn(input: _Tensor, s=None, dim=None, norm: str | None = None) -> _Tensor:
    """Inverse of ``rfftn``: a real signal (last dim ``s[-1]``, default ``2 * (m - 1)``)."""
    return _c2r_n(input, s, dim, norm, "irfftn")


def hfftn(input: _Tensor, s=None, dim=None, norm: str | None = None) -> _Tensor:
    """N-dimensional DFT of a Hermitian-symmetric signal given by its half (last dim): real."""
    return _c2r_n(input, s, dim, norm, "hfftn", hermitian=True)


def ihfftn(input: _Tensor, s=None, dim=None, norm: str | None = None) -> _Tensor:
    """Inverse of ``hfftn``: the half (last dim) of the inverse DFT of a real signal."""
    return _r2c_n(input, s, dim, norm, "ihfftn", inverse=True)


def fft2(input: _Tensor, s=None, dim=(-2, -1), norm: str | None = None) -> _Tensor:
    """Two-dimensional DFT (``fftn`` over the last two dims)."""
    return _c2c_n(input, s, dim, norm, True)


def ifft2(input: _Tensor, s=None, dim=(-2, -1), norm: str | None = None) -> _Tensor:
    return _c2c_n(input, s, dim, norm, False)


def rfft2(input: _Tensor, s=None, dim=(-2, -1), norm: str | None = None) -> _Tensor:
    return _r2c_n(input, s, dim, norm, "rfftn")


def irfft2(input: _Tensor, s=None, dim=(-2, -1), norm: str | None = None) -> _Tensor:
    return _c2r_n(input, s, dim, norm, "irfftn")


def hfft2(input: _Tensor, s=None, dim=(-2, -1), norm: str | None = None) -> _Tensor:
    return _c2r_n(input, s, dim, norm, "hfftn", hermitian=True)


def ihfft2(input: _Tensor, s=None, dim=(-2, -1), norm: str | None = None) -> _Tensor:
    return _r2c_n(input, s, dim, norm, "ihfftn", inverse=True)


# --------------------------------------------------------------------------- frequencies and shifts
def _freq(n, d, dtype, device, requires_grad, op, onesided):
    from .ops.creation import arange
    dtype = _D.get_default_dtype() if dtype is None else dtype
    if not (dtype.is_floating_point or dtype.is_complex):
        raise RuntimeError(f"{op} requires a floating point or complex dtype")
    if onesided:
        k = arange(n // 2 + 1, dtype=dtype, device=device)
    else:
        k = arange(n, dtype=dtype, device=device)
        half = (n + 1) // 2
        if n - half:
            k._data[half:] -= n  # the negative frequencies, in place on a fresh tensor
    if n:
        k._data *= k._data.dtype.type(1.0 / (n * d))  # one multiply in the tensor's precision, as PyTorch
    else:
        k._data[...] = float("nan")  # PyTorch's 0 * (1 / 0): rfftfreq(0) is [nan]
    if requires_grad:
        k.requires_grad_(True)
    return k


def fftfreq(n: int, d: float = 1.0, *, out=None, dtype=None, layout=None, device=None,
            requires_grad: bool = False) -> _Tensor:
    """Sample frequencies of an ``n``-point DFT with sample spacing ``d``: [0, 1, ..., -2, -1] / (n d)."""
    r = _freq(n, d, dtype, device, requires_grad, "fftfreq", False)
    return r if out is None else out.copy_(r)


def rfftfreq(n: int, d: float = 1.0, *, out=None, dtype=None, layout=None, device=None,
             requires_grad: bool = False) -> _Tensor:
    """Sample frequencies of ``rfft``: [0, 1, ..., n // 2] / (n d)."""
    r = _freq(n, d, dtype, device, requires_grad, "rfftfreq", True)
    return r if out is None else out.copy_(r)


def _shift(input, dim, sign):
    from .ops.rearrange import roll
    if dim is None:
        dims = tuple(range(input.dim()))
    elif isinstance(dim, int):
        dims = (dim,)
    else:
        dims = tuple(dim)
    if not dims:
        return input.clone()
    dims = tuple(_wrap_dim(d, input.dim()) for d in dims)
    shifts = tuple(input.shape[d] // 2 if sign > 0 else (input.shape[d] + 1) // 2 for d in dims)
    return roll(input, shifts, dims)


def fftshift(input: _Tensor, dim=None) -> _Tensor:
    """Move the zero-frequency bin to the centre of ``dim`` (all dims by default); a roll."""
    return _shift(input, dim, 1)


def ifftshift(input: _Tensor, dim=None) -> _Tensor:
    """The inverse of ``fftshift``."""
    return _shift(input, dim, -1)


