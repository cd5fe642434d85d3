"""Creation functions (``tensor``, ``zeros``, ``arange`` ...) and random number generation."""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from .. import _dtype as D
from .._device import device as Device
from .._tensor import Tensor, _wrap
from ..backends import namespace, namespace_of, to_device


# ``ember.set_default_device``: where creation functions put tensors when no ``device`` is given (None: cpu)
_default_device = [None]


def _dev(device):
    if device is None:
        return _default_device[0]
    return device if isinstance(device, Device) else Device(device)


def _finish(arr, device, requires_grad):
    d = _dev(device)
    if d is not None and d.type != "cpu":
        arr = to_device(arr, d)
    t = _wrap(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _shape_args(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    out = []
    for s in size:
        if isinstance(s, Tensor):
            s = int(s)
        if not isinstance(s, (int, np.integer)):
            raise TypeError(f"expected a sequence of integers or a single integer, got {type(s).__name__}")
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(size)}")
        out.append(int(s))
    return tuple(out)


def _infer_array(data, exact=False):
    """NumPy array for nested Python data with PyTorch's inference (floats -> default dtype).

    ``exact``: a dtype was asked for, so Python floats stay float64 here (cast once, later)."""
    if isinstance(data, Tensor):
        return data._cpu_array() if data.is_cpu else data._data
    if isinstance(data, np.ndarray):
        D.from_np(data.dtype)
        return data
    if isinstance(data, np.generic):
        return np.asarray(data)
    if isinstance(data, (list, tuple)) and any(isinstance(x, Tensor) for x in _flat_first(data)):
        data = _tensors_to_lists(data)
    arr = np.array(data)
    k = arr.dtype.kind
    if k in "fciu" and arr.dtype != np.int64 and isinstance(data, (list, tuple)):
        want = _sequence_dtype(data)  # NumPy scalars inside keep their dtype, as in PyTorch
        if want is not None:
            return arr if arr.dtype == want else np.array(data, dtype=want)
    if exact and k in "fc":
        pass
    elif k == "f":
        if arr.dtype != D.default_float_np():
            arr = arr.astype(D.default_float_np())
    elif k == "c":
        arr = arr.astype(D.get_default_dtype().to_complex().np)
    elif k in "iu":
        if arr.dtype != np.int64:
            arr = arr.astype(np.int64)
    elif k == "b":
        pass
    elif arr.dtype == object or k in "USV":
        raise TypeError(f"Could not infer dtype of {type(data).__name__}" if not isinstance(data, (list, tuple))
                        else "new(): invalid data type '" + type(_first_leaf(data)).__name__ + "'")
    return arr


_PY_SCALARS = (bool, int, float, complex)


def _sequence_dtype(data):
    """PyTorch's dtype for nested sequences holding NumPy scalars: every element contributes its
    own dtype (a Python float the default dtype, an int int64, a NumPy scalar its dtype) and the
    result is ``promote_types`` of them all. None when the leaves are Python scalars only."""
    import itertools
    leaves = data
    while leaves and isinstance(leaves[0], (list, tuple)):
        leaves = list(itertools.chain.from_iterable(leaves))
    types = set(map(type, leaves))
    if types.issubset(_PY_SCALARS):
        return None
    out = None
    for t in types:
        if issubclass(t, np.generic):
            d = D.from_np(np.dtype(t))
        elif t is bool:
            d = D.bool_
        elif t is int:
            d = D.int64
        elif t is float:
            d = D.get_default_dtype()
        elif t is complex:
            d = D.get_default_dtype().to_complex()
        else:
            return None  # not plain scalars: NumPy's inference (and its errors) stand
        out = d if out is None else D.promote_types(out, d)
    return out.np


def _flat_first(data):
    while isinstance(data, (list, tuple)) and data:
        for x in data:
            yield x
        data = data[0]


def _first_leaf(data):
    while isinstance(data, (list, tuple)) and data:
        data = data[0]
    return data


def _tensors_to_lists(data):
    if isinstance(data, Tensor):
        return data.tolist()
    if isinstance(data, (list, tuple)):
        return [_tensors_to_lists(x) for x in data]
    return data


def tensor(data, *, dtype=None, device=None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """A new tensor (always a copy) from Python data or an array; dtype inferred like PyTorch."""
    if isinstance(data, Tensor) and not data.is_cpu:
        arr = data._data.copy()
    else:
        arr = _infer_array(data, exact=dtype is not None)
        arr = np.array(arr, dtype=D.to_np(dtype) if dtype is not None else None, copy=True)
    if dtype is not None:
        arr = arr.astype(D.to_np(dtype), copy=False)
    if requires_grad and arr.dtype.kind not in "fcV":  # V: bfloat16
        raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
    return _finish(arr, device, requires_grad)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like ``tensor`` but shares memory with a NumPy array or Tensor when dtype and device match."""
    if isinstance(data, Tensor):
        t = data
        if dtype is not None:
            t = t.to(dtype)
        if device is not None:
            t = t.to(device)
        return t
    if isinstance(data, np.ndarray):
        arr = data if dtype is None else data.astype(D.to_np(dtype), copy=False)
        D.from_np(arr.dtype)
        return _finish(arr, device, False)
    if hasattr(data, "__cuda_array_interface__"):
        return _wrap(data if dtype is None else data.astype(D.to_np(dtype)))
    return tensor(data, dtype=dtype, device=device)


asarray = as_tensor


def from_numpy(ndarray: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``ndarray`` (changes show in both)."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    D.from_np(ndarray.dtype)
    return _wrap(ndarray)


def _float_or(dtype):
    return D.default_float_np() if dtype is None else D.to_np(dtype)


def _make(fill, size, dtype, device, requires_grad, default=None):
    shape = _shape_args(size)
    d = _dev(device)
    xp = np if d is None else namespace(d)
    npd = (default if default is not None else D.default_float_np()) if dtype is None else D.to_np(dtype)
    if d is not None and d.type == "cuda" and d.index is not None:
        with xp.cuda.Device(d.index):
            arr = fill(xp, shape, npd)
    else:
        arr = fill(xp, shape, npd)
    t = _wrap(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def zeros(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False) -> Tensor:
    return _make(lambda xp, s, d: xp.zeros(s, d), size, dtype, device, requires_grad)


def ones(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False) -> Tensor:
    return _make(lambda xp, s, d: xp.ones(s, d), size, dtype, device, requires_grad)


def empty(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None,
          pin_memory=False) -> Tensor:
    return _make(lambda xp, s, d: xp.empty(s, d), size, dtype, device, requires_grad)


def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None, requires_grad=False) -> Tensor:
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"full(): argument 'size' (position 1) must be tuple of ints, not {type(size).__name__}")
    if dtype is None:
        dtype = D.result_type(fill_value) if not isinstance(fill_value, Tensor) else fill_value.dtype
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    return _make(lambda xp, s, d: xp.full(s, fill_value, d), (tuple(size),),
                 dtype, device, requires_grad)


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _make(lambda xp, s, d: xp.eye(n, n if m is None else m, dtype=d), (), dtype, device, requires_grad)


def _like(fn, input, dtype, device, requires_grad, **kw):
    return fn(*input.shape, dtype=dtype or input.dtype, device=device or input.device, requires_grad=requires_grad, **kw)


def zeros_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None) -> Tensor:
    return _like(zeros, input, dtype, device, requires_grad)


def ones_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None) -> Tensor:
    return _like(ones, input, dtype, device, requires_grad)


def empty_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None) -> Tensor:
    return _like(empty, input, dtype, device, requires_grad)


def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    return full(tuple(input.shape), fill_value, dtype=dtype or input.dtype, device=device or input.device,
                requires_grad=requires_grad)


def arange(start, end=None, step=1, *, out=None, dtype=None, layout=None, device=None, requires_grad=False) -> Tensor:
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    start, end, step = vals
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) / step < 0:
        raise RuntimeError(f"arange: upper bound and lower bound inconsistent with step sign "
                           f"(start={start}, end={end}, step={step})")
    if dtype is None:
        dtype = D.int64 if all(isinstance(v, int) for v in vals) else D.get_default_dtype()
    npd = D.to_np(dtype)
    n = math.ceil((end - start) / step)
    arr = (start + np.arange(n, dtype=np.float64) * step) if npd.kind == "f" else np.arange(start, end, step)
    return _finish(arr.astype(npd, copy=False), device, requires_grad)


def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None, requires_grad=False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive.

    Computed like PyTorch: the step is rounded to the output dtype, the first half counts up from
    ``start`` and the second half down from ``end`` (one rounding each), so values match bit for bit.
    """
    if steps < 0:
        raise RuntimeError("linspace(): number of steps must be non-negative")
    start = start.item() if isinstance(start, Tensor) else start
    end = end.item() if isinstance(end, Tensor) else end
    npd = _float_or(dtype)
    if steps <= 1:
        arr = np.full((steps,), start, dtype=np.float64)
    elif npd.kind == "f":
        # start, end and step live in the output dtype; each value is one fused multiply-add,
        # emulated in a wider type and rounded once.
        # (float16 may differ from PyTorch's by one unit in the last place.)
        wide = np.longdouble if npd == np.float64 else np.float64
        op = npd
        lo, hi = np.asarray(start, dtype=op), np.asarray(end, dtype=op)
        step = ((hi - lo) / np.asarray(steps - 1, dtype=op)).astype(op)
        idx = np.arange(steps, dtype=wide)
        lo, hi, step = lo.astype(wide), hi.astype(wide), step.astype(wide)
        arr = np.where(idx < steps // 2, lo + step * idx, hi - step * (steps - 1 - idx)).astype(op)
    else:
        arr = np.linspace(float(start), float(end), steps, dtype=np.float64)
    return _finish(arr.astype(npd), device, requires_grad)


def logspace(start, end, steps, base=10.0, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False) -> Tensor:
    arr = np.logspace(float(start), float(end), steps, base=base).astype(_float_or(dtype))
    return _finish(arr, device, requires_grad)


# --------------------------------------------------------------------------- random
class Generator:
    """A random stream (``ember.Generator().manual_seed(0)``); reproducible given its seed.

    Ember's streams are NumPy's PCG64, so values differ from PyTorch's for the same seed.
    """

    def __init__(self, device="cpu"):
        self.device = _dev(device)
        self._seed = 67280421310721
        self._rng = np.random.default_rng(self._seed)

    def manual_seed(self, seed: int) -> "Generator":
        seed = int(seed)
        self._seed = seed
        self._rng = np.random.default_rng(seed & 0xFFFFFFFFFFFFFFFF)
        return self

    def seed(self) -> int:
        import secrets
        s = secrets.randbits(63)
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        return self._seed

    # The state is PCG64's as 40 little-endian bytes (state and increment, 128 bits each; the cached 32-bit half
    # and its flag): a fixed-size uint8 tensor like PyTorch's, and never pickled, so restoring a state read from a
    # checkpoint cannot run code.
    _STATE_BYTES = 40

    def get_state(self) -> Tensor:
        st = self._rng.bit_generator.state
        raw = (st["state"]["state"].to_bytes(16, "little") + st["state"]["inc"].to_bytes(16, "little")
               + int(st["has_uint32"]).to_bytes(4, "little") + int(st["uinteger"]).to_bytes(4, "little"))
        return _wrap(np.frombuffer(raw, dtype=np.uint8).copy())

    def set_state(self, new_state: Tensor) -> "Generator":
        if not isinstance(new_state, Tensor) or new_state._data.dtype != np.uint8:
            raise TypeError("expected a torch.ByteTensor (uint8) RNG state, as returned by get_rng_state()")
        raw = new_state._data.tobytes()
        if len(raw) != self._STATE_BYTES:
            raise RuntimeError(f"Expected an RNG state of size {self._STATE_BYTES} but found the input RNG state size "
                               f"to be {len(raw)}")
        self._rng.bit_generator.state = {
            "bit_generator": "PCG64",
            "state": {"state": int.from_bytes(raw[0:16], "little"), "inc": int.from_bytes(raw[16:32], "little")},
            "has_uint32": int.from_bytes(raw[32:36], "little"), "uinteger": int.from_bytes(raw[36:40], "little")}
        return self


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed the default generator, and the GPU's (applied when the GPU generator is next used)."""
    default_generator.manual_seed(seed)
    seed_device(seed)
    return default_generator


_device_seed = [None]


def seed_device(seed: int) -> None:
    """Remember a seed for the device generator. It is applied lazily, on first device use: seeding CuPy
    here would initialise CUDA, which fails in forked DataLoader workers."""
    _device_seed[0] = int(seed) & 0xFFFFFFFF


def device_random(xp):
    """The device's random module, seeded first if ``manual_seed`` was called since its last use."""
    if _device_seed[0] is not None:
        xp.random.seed(_device_seed[0])
        _device_seed[0] = None
    return xp.random


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state() -> Tensor:
    return default_generator.get_state()


def set_rng_state(new_state: Tensor) -> None:
    default_generator.set_state(new_state)


def _rng(generator):
    return (generator or default_generator)._rng


def _random(sample, size, generator, dtype, device, requires_grad, default=None):
    shape = _shape_args(size)
    npd = (default or D.default_float_np()) if dtype is None else D.to_np(dtype)
    if default is None and npd.kind not in "fV":  # V: bfloat16
        raise NotImplementedError(f"random floating-point sampling is not implemented for {D.from_np(npd)}")
    arr = sample(_rng(generator), shape, npd)
    if not isinstance(arr, np.ndarray):
        arr = np.asarray(arr)
    arr = arr.astype(npd, copy=False)
    return _finish(arr, device, requires_grad)


def rand(*size, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False) -> Tensor:
    """Uniform on [0, 1)."""
    return _random(lambda r, s, d: r.random(s, dtype=d if d in (np.float32, np.float64) else np.float64),
                   size, generator, dtype, device, requires_grad)


def randn(*size, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False) -> Tensor:
    """Standard normal."""
    return _random(lambda r, s, d: r.standard_normal(s, dtype=d if d in (np.float32, np.float64) else np.float64),
                   size, generator, dtype, device, requires_grad)


def randint(low, high=None, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None,
            requires_grad=False) -> Tensor:
    if size is None and isinstance(high, (tuple, list)):
        low, high, size = 0, low, high  # randint(high, size)
    if high is None:
        low, high = 0, low
    if size is None:
        raise TypeError("randint() missing 1 required positional argument: 'size'")
    return _random(lambda r, s, d: r.integers(low, high, s), (tuple(size),), generator, dtype, device,
                   requires_grad, default=np.dtype(np.int64))


def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False) -> Tensor:
    arr = _rng(generator).permutation(int(n)).astype(D.to_np(dtype) if dtype else np.int64)
    return _finish(arr, device, requires_grad)


def rand_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None) -> Tensor:
    return rand(*input.shape, dtype=dtype or input.dtype, device=device or input.device, requires_grad=requires_grad)


def randn_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None) -> Tensor:
    return randn(*input.shape, dtype=dtype or input.dtype, device=device or input.device, requires_grad=requires_grad)


def randint_like(input, low=0, high=None, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    return randint(low, high, tuple(input.shape), dtype=dtype or input.dtype, device=device or input.device)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None, device=None,
           requires_grad=False) -> Tensor:
    """Samples of N(mean, std^2); mean/std may be tensors (broadcast) or numbers with ``size``."""
    r = _rng(generator)
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        m = mean._cpu_array() if isinstance(mean, Tensor) else mean
        s = std._cpu_array() if isinstance(std, Tensor) else std
        shape = np.broadcast_shapes(np.shape(m), np.shape(s))
        ref = mean if isinstance(mean, Tensor) else std
        arr = (r.standard_normal(shape) * s + m).astype(ref._data.dtype)
        return _finish(arr, device or ref.device, requires_grad)
    if size is None:
        raise TypeError("normal() requires size when mean and std are numbers")
    return _random(lambda rr, sh, d: rr.normal(mean, std, sh), (tuple(size),), generator, dtype, device, requires_grad)


def bernoulli(input, p=None, *, generator=None) -> Tensor:
    prob = input._cpu_array() if p is None else p
    arr = (_rng(generator).random(tuple(input.shape)) < prob).astype(input._data.dtype)
    return _finish(arr, input.device, False)


def multinomial(input, num_samples, replacement=False, *, generator=None) -> Tensor:
    """``num_samples`` category indices per row of the weights ``input`` (K,) or (N, K).

    Without replacement a row's zero-weight categories come after all the weighted ones (in random
    order), so ``num_samples`` may be anything up to K, as in PyTorch."""
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: "
                           f"{input.dtype.name.capitalize().replace('Int64', 'Long')}")
    if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)):
        raise TypeError(f"multinomial(): argument 'num_samples' (position 2) must be int, not "
                        f"{type(num_samples).__name__}")
    if input._data.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    n = int(num_samples)
    if n <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    p = input._cpu_array().astype(np.float64)
    single = p.ndim == 1
    p2 = p[None] if single else p
    rows, k = p2.shape
    if not replacement and n > k:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    if (p2 < 0).any() or not np.isfinite(p2).all():
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    s = p2.sum(axis=1)
    if (s <= 0).any():
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    r = _rng(generator)
    if replacement:
        # inverse CDF for all rows in one search: row i's CDF is shifted to [2i, 2i + 1]
        cdf = np.cumsum(p2, axis=1) / s[:, None]
        cdf[:, -1] = 1.0
        off = 2.0 * np.arange(rows)[:, None]
        u = r.random((rows, n))
        out = np.searchsorted((cdf + off).ravel(), (u + off).ravel(), side="right").reshape(rows, n)
        out -= np.arange(rows)[:, None] * k
        over = out >= k  # u rounded onto the row's end: take its last weighted category
        if over.any():
            last = k - 1 - np.argmax(p2[:, ::-1] > 0, axis=1)
            out = np.where(over, last[:, None], out)
    else:
        # Exponential race: sorting E_j / p_j (E_j ~ Exp(1)) draws without replacement in proportion
        # to the weights; zero weights get an infinite key and follow in the order of their E_j.
        e = r.exponential(size=(rows, k))
        with np.errstate(divide="ignore"):
            key = np.where(p2 > 0, e / np.where(p2 > 0, p2, 1.0), np.inf)
        out = np.lexsort((e, key), axis=-1)[:, :n]
    out = out.astype(np.int64)
    return _finish(out[0] if single else out, input.device, False)


def poisson(input, generator=None) -> Tensor:
    return _finish(_rng(generator).poisson(input._cpu_array()).astype(input._data.dtype), input.device, False)


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False):
    return tensor(s, dtype=dtype or D.get_default_dtype(), device=device, requires_grad=requires_grad)


def complex(real, imag):  # noqa: A001
    return _wrap(real._data + 1j * imag._data)


def uniform_like(t: Tensor, shape, dtype=None, generator=None):
    """Uniform [0, 1) samples of ``shape`` on ``t``'s device, in ``dtype`` (default: ``t``'s).

    CPU draws from Ember's generator; a CUDA tensor draws from the device's own generator (seeded by
    ``manual_seed``), so random layers such as dropout make no host-to-device copy."""
    npd = np.dtype(dtype) if dtype is not None else t._data.dtype
    draw = npd if npd in (np.float32, np.float64) else np.dtype(np.float64)
    if type(t._data) is np.ndarray or generator is not None:
        arr = _rng(generator).random(shape, dtype=draw)
        return arr if type(t._data) is np.ndarray else to_device(arr, t.device)
    r = device_random(namespace_of(t._data)).random(shape, dtype=draw)
    return r if draw == npd else r.astype(npd)


def sample_like(t: Tensor, sample: Sequence, generator=None):
    """Internal: random array on ``t``'s device from the host generator (used by nn.init and rrelu)."""
    arr = np.asarray(sample)
    return to_device(arr, t.device) if not t.is_cpu else arr
