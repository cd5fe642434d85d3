"""Automatic mixed precision: ``autocast`` and its state (per thread and per device type, as PyTorch's).

Inside ``autocast(device_type)`` the ops on PyTorch's *lower precision* list (matmul, mm, bmm, addmm,
baddbmm, addbmm, linear, conv*/conv_transpose*, prelu, einsum, tensordot) cast their floating inputs
(float32/float16/bfloat16; never float64) to the autocast dtype, and the ops on the *float32* list (the
losses, prod, trace, cdist, inverse, pinverse, quantile) cast them to float32. Every other op runs in the
dtype its inputs promote to. The cast is an ordinary differentiable ``to(dtype)`` (``ToCopyBackward0`` in the
graph), so gradients reach float32 parameters in float32.

The ops pay one check when autocast is off: ``if _ACTIVE[0]:`` (a module-global list), true while any
thread has autocast enabled for some device type; the per-thread state is consulted only then.
"""
from __future__ import annotations

import functools
import threading
import warnings
from typing import Any

__all__ = ["autocast", "is_autocast_available", "custom_fwd", "custom_bwd"]

_DEVICE_TYPES = ("cpu", "cuda")
# ops' one check: any (thread, device type) with autocast on. A count, so threads do not undo each other.
_ACTIVE = [False]
_ON_COUNT = [0]
_LOCK = threading.Lock()


class _State(threading.local):
    """The calling thread's autocast state (PyTorch keeps it thread-local too)."""

    def __init__(self) -> None:
        from .. import _dtype as D
        self.enabled = dict.fromkeys(_DEVICE_TYPES, False)
        self.dtype = {"cpu": D.bfloat16, "cuda": D.float16}
        self.cache_enabled = True
        self.nesting = 0
        self.cache: dict[int, tuple[Any, Any]] = {}


_STATE = _State()


def _check_device_type(device_type, what="autocast") -> str:
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if device_type not in _DEVICE_TYPES:
        raise RuntimeError(f"User specified an unsupported {what} device_type '{device_type}'")
    return device_type


_TORCH_DEVICE_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga",
                       "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone")


def is_autocast_available(device_type: str) -> bool:
    """Whether autocast supports ``device_type`` ("cpu" and "cuda" in Ember); an unknown name raises."""
    if device_type not in _TORCH_DEVICE_TYPES:
        raise RuntimeError(f"Expected one of {', '.join(_TORCH_DEVICE_TYPES)} device type at start of device "
                           f"string: {device_type}")
    return device_type in _DEVICE_TYPES


def is_autocast_enabled(device_type: str | None = None) -> bool:
    """Is autocast on for ``device_type`` (no argument: "cuda", PyTorch's legacy meaning) in this thread?"""
    return _STATE.enabled[_check_device_type("cuda" if device_type is None else device_type)]


def set_autocast_enabled(device_type, enabled=None) -> None:
    """``set_autocast_enabled(device_type, enabled)``; the one-argument legacy form means "cuda"."""
    if enabled is None:
        device_type, enabled = "cuda", device_type
    _check_device_type(device_type)
    enabled = bool(enabled)
    if _STATE.enabled[device_type] == enabled:
        return
    _STATE.enabled[device_type] = enabled
    with _LOCK:
        _ON_COUNT[0] += 1 if enabled else -1
        _ACTIVE[0] = _ON_COUNT[0] > 0


def get_autocast_dtype(device_type: str):
    """The dtype the lower-precision ops cast to on ``device_type`` (cpu: bfloat16, cuda: float16 by default)."""
    return _STATE.dtype[_check_device_type(device_type)]


def set_autocast_dtype(device_type: str, dtype) -> None:
    _STATE.dtype[_check_device_type(device_type)] = dtype


def _deprecated(old: str, new: str) -> None:
    warnings.warn(f"torch.{old} is deprecated. Please use torch.{new} instead.", DeprecationWarning, stacklevel=3)


def is_autocast_cpu_enabled() -> bool:
    _deprecated("is_autocast_cpu_enabled()", "is_autocast_enabled('cpu')")
    return is_autocast_enabled("cpu")


def set_autocast_cpu_enabled(enabled: bool) -> None:
    _deprecated("set_autocast_cpu_enabled(enabled)", "set_autocast_enabled('cpu', enabled)")
    set_autocast_enabled("cpu", enabled)


def get_autocast_cpu_dtype():
    _deprecated("get_autocast_cpu_dtype()", "get_autocast_dtype('cpu')")
    return get_autocast_dtype("cpu")


def set_autocast_cpu_dtype(dtype) -> None:
    _deprecated("set_autocast_cpu_dtype(dtype)", "set_autocast_dtype('cpu', dtype)")
    set_autocast_dtype("cpu", dtype)


def get_autocast_gpu_dtype():
    _deprecated("get_autocast_gpu_dtype()", "get_autocast_dtype('cuda')")
    return get_autocast_dtype("cuda")


def set_autocast_gpu_dtype(dtype) -> None:
    _deprecated("set_autocast_gpu_dtype(dtype)", "set_autocast_dtype('cuda', dtype)")
    set_autocast_dtype("cuda", dtype)


def is_autocast_cache_enabled() -> bool:
    return _STATE.cache_enabled


def set_autocast_cache_enabled(enabled: bool) -> None:
    _STATE.cache_enabled = bool(enabled)


def clear_autocast_cache() -> None:
    """Forget the cached lower-precision copies of parameters (done when the outermost autocast exits)."""
    _STATE.cache.clear()


def autocast_increment_nesting() -> int:
    _STATE.nesting += 1
    return _STATE.nesting


def autocast_decrement_nesting() -> int:
    _STATE.nesting -= 1
    return _STATE.nesting


class autocast:
    """``autocast(device_type, dtype=None, enabled=True, cache_enabled=None)``: a context manager and a
    decorator that runs the ops inside in mixed precision (see the module docstring for the op lists).

    ``dtype`` defaults to the device type's current autocast dtype (cpu: ``bfloat16``, cuda: ``float16``).
    Contexts nest; ``enabled=False`` turns autocast off inside an enclosing one. ``cache_enabled`` keeps the
    lower-precision copy of each parameter (a leaf that requires grad) for the whole outermost context.
    """

    def __init__(self, device_type: str, dtype=None, enabled: bool = True, cache_enabled: bool | None = None):
        from .. import _dtype as D
        self.device = _check_device_type(device_type)
        self.fast_dtype = get_autocast_dtype(device_type) if dtype is None else dtype
        self._cache_enabled = is_autocast_cache_enabled() if cache_enabled is None else bool(cache_enabled)
        self._enabled = bool(enabled)
        if not isinstance(self.fast_dtype, D.dtype):
            raise ValueError(f"Expected `dtype` of type `torch.dtype`, got: `{type(self.fast_dtype)}`")
        if self._enabled and self.fast_dtype not in (D.bfloat16, D.float16):
            warnings.warn(f"In {'CPU' if device_type == 'cpu' else 'CUDA'} autocast, but the target dtype is not "
                          f"supported ({self.fast_dtype}); only torch.bfloat16 and torch.float16 are. "
                          "Disabling autocast.", UserWarning, stacklevel=2)
            self._enabled = False
        if self._enabled and device_type == "cuda":
            from .. import cuda
            if not cuda.is_available():
                warnings.warn("CUDA is not available or torch_xla is imported. Disabling autocast.", UserWarning,
                              stacklevel=2)
                self._enabled = False
        if self._enabled and self.fast_dtype is D.bfloat16:
            D._load_bfloat16()  # ImportError naming the extra to install when ml_dtypes is missing
        self._saved: list[tuple[bool, Any, bool]] = []

    def __enter__(self):
        s = _STATE
        self._saved.append((s.enabled[self.device], s.dtype[self.device], s.cache_enabled))
        set_autocast_enabled(self.device, self._enabled)
        s.dtype[self.device] = self.fast_dtype
        s.cache_enabled = self._cache_enabled
        autocast_increment_nesting()
        return self

    def __exit__(self, exc_type, exc_val, exc_tb) -> bool:
        s = _STATE
        if autocast_decrement_nesting() == 0:
            clear_autocast_cache()
        enabled, dtype, cache = self._saved.pop()
        set_autocast_enabled(self.device, enabled)
        s.dtype[self.device] = dtype
        s.cache_enabled = cache
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def decorate_autocast(*args, **kwargs):
            with self:
                return func(*args, **kwargs)
        decorate_autocast.__autocast_instance = self
        return decorate_autocast

    def __repr__(self) -> str:
        return (f"autocast(device_type={self.device!r}, dtype={self.fast_dtype}, enabled={self._enabled}, "
                f"cache_enabled={self._cache_enabled})")


# --------------------------------------------------------------------------- the casts the ops call
def _device_type(t) -> str:
    return "cpu" if type(t._data).__module__ == "numpy" else "cuda"


def _eligible(t) -> bool:
    from .._tensor import Tensor
    if not isinstance(t, Tensor):
        return False
    k = t._data.dtype
    return k.itemsize <= 4 and t.dtype.is_floating_point


def _cast(t, dtype, cacheable: bool):
    if t.dtype is dtype:
        return t
    s = _STATE
    if cacheable and s.cache_enabled and t.requires_grad and t.grad_fn is None:
        hit = s.cache.get(id(t))
        if hit is not None and hit[0] is t:
            return hit[1]
        out = t.to(dtype)
        s.cache[id(t)] = (t, out)  # holds ``t``: its id stays unique until the cache is cleared
        return out
    return t.to(dtype)


def cast_lower(*tensors):
    """Inside autocast: the floating tensors among ``tensors`` in the autocast dtype of their device type
    (others unchanged). Called by the lower-precision ops after their ``_ACTIVE[0]`` check."""
    en = _STATE.enabled
    out = []
    for t in tensors:
        if _eligible(t):
            dev = _device_type(t)
            if en[dev]:
                t = _cast(t, _STATE.dtype[dev], True)
        out.append(t)
    return out


def cast_float32(*tensors):
    """Inside autocast: the floating tensors among ``tensors`` in float32 (the float32-list ops)."""
    from .. import _dtype as D
    en = _STATE.enabled
    out = []
    for t in tensors:
        if _eligible(t) and en[_device_type(t)]:
            t = _cast(t, D.float32, False)
        out.append(t)
    return out


class _AutocastOff:
    """Autocast off in this thread for a composite op's body (PyTorch runs an op it has cast with autocast
    excluded, so the matmuls inside a float32-list op stay float32)."""

    __slots__ = ("saved",)

    def __enter__(self):
        self.saved = dict(_STATE.enabled)
        for dev in _DEVICE_TYPES:
            set_autocast_enabled(dev, False)

    def __exit__(self, *exc):
        for dev, on in self.saved.items():
            set_autocast_enabled(dev, on)
        return False


def float32_call(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` with the floating tensor arguments in float32 and autocast off inside: how the
    float32-list ops built from other ops (cdist, pinverse, trace ...) run under autocast."""
    args = [cast_float32(a)[0] for a in args]
    kwargs = {k: cast_float32(v)[0] for k, v in kwargs.items()}
    with _AutocastOff():
        return fn(*args, **kwargs)


def plain_call(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` with autocast off: ops on neither list that Ember builds from listed ones
    (mv, addmv, bilinear) run in their inputs' dtype, as PyTorch's do."""
    with _AutocastOff():
        return fn(*args, **kwargs)


# --------------------------------------------------------------------------- custom autograd Functions
def custom_fwd(fwd=None, *, device_type: str, cast_inputs=None):
    """Decorate a custom ``Function.forward``: it remembers whether autocast was on (for ``custom_bwd``);
    with ``cast_inputs=dtype`` inside autocast, floating tensor arguments are cast to ``dtype`` and forward runs
    with autocast off."""
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def decorate_fwd(*args, **kwargs):
        ctx = args[0]
        ctx._dtype = get_autocast_dtype(device_type)
        if cast_inputs is None:
            ctx._fwd_used_autocast = is_autocast_enabled(device_type)
            return fwd(*args, **kwargs)
        autocast_context = is_autocast_enabled(device_type)
        ctx._fwd_used_autocast = False
        if autocast_context:
            with autocast(device_type=device_type, enabled=False):
                return fwd(*_cast_args(args, cast_inputs), **_cast_args(kwargs, cast_inputs))
        return fwd(*args, **kwargs)
    return decorate_fwd


def custom_bwd(bwd=None, *, device_type: str):
    """Decorate a custom ``Function.backward``: it runs under the autocast state its forward saw."""
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def decorate_bwd(*args, **kwargs):
        ctx = args[0]
        with autocast(device_type=device_type, enabled=ctx._fwd_used_autocast, dtype=ctx._dtype):
            return bwd(*args, **kwargs)
    return decorate_bwd


def _cast_args(value, dtype):
    if _eligible(value):
        return value.to(dtype)
    if isinstance(value, dict):
        return {k: _cast_args(v, dtype) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast_args(v, dtype) for v in value)
    return value
