"""The pickle halves of PyTorch's checkpoint format, written without importing torch.

``TorchPickler`` writes ``data.pkl`` exactly as ``torch.save`` does (protocol 2): a tensor is a
call to ``torch._utils._rebuild_tensor_v2`` whose first argument is a persistent id
``('storage', torch.FloatStorage, key, location, numel)``; the storage bytes go to the zip
record ``data/<key>``. Tensors whose arrays share memory share one storage record. Ember's
dtypes, devices and ``Size`` are written as ``torch.float32``, ``torch.device`` and
``torch.Size``, so PyTorch's ``weights_only`` loader accepts the file.

``SafeUnpickler`` reads such a pickle with an allow-list: only the rebuild functions, storage
types, dtypes, ``torch.Size``/``torch.device``, ``OrderedDict`` and a few builtins resolve;
every other global raises ``pickle.UnpicklingError`` *before* anything is called.
``FullUnpickler`` (``weights_only=False``) maps the same torch names to Ember and lets any
other global through, as ``pickle`` does.
"""
from __future__ import annotations

import collections
import contextlib
import importlib
import pickle
import warnings

import numpy as np
from numpy.lib.stride_tricks import as_strided as _as_strided

from . import _dtype as D
from ._device import device as Device
from ._tensor import Size, Tensor, _wrap

# ---------------------------------------------------------------------------------------------
# names: torch's storage type for each dtype, and the dtypes PyTorch has that Ember has not
# ---------------------------------------------------------------------------------------------
STORAGE_NAME = {
    np.dtype(np.float32): "FloatStorage", np.dtype(np.float64): "DoubleStorage",
    np.dtype(np.float16): "HalfStorage", np.dtype(np.int64): "LongStorage",
    np.dtype(np.int32): "IntStorage", np.dtype(np.int16): "ShortStorage",
    np.dtype(np.int8): "CharStorage", np.dtype(np.uint8): "ByteStorage",
    np.dtype(np.bool_): "BoolStorage", np.dtype(np.complex64): "ComplexFloatStorage",
    np.dtype(np.complex128): "ComplexDoubleStorage",
}
BFLOAT16_NAME = "bfloat16"  # BFloat16Storage: read as ember.bfloat16 (widened to float32 without ml_dtypes)
_STORAGE_DTYPE = {name: dt for dt, name in STORAGE_NAME.items()}
_STORAGE_DTYPE["BFloat16Storage"] = BFLOAT16_NAME
_TORCH_ONLY_DTYPES = ("bfloat16", "uint16", "uint32", "uint64", "complex32", "float8_e4m3fn",
                      "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e8m0fnu",
                      "float4_e2m1fn_x2", "qint8", "quint8", "qint32", "quint4x2", "quint2x4",
                      "bits8", "bits16", "bits1x8", "bits2x4", "bits4x2", "int1", "int2", "int3",
                      "int4", "int5", "int6", "int7", "uint1", "uint2", "uint3", "uint4", "uint5",
                      "uint6", "uint7")


class _Global:
    """A global written by name only (``GLOBAL module\\nname``): nothing is imported."""

    __slots__ = ("module", "name")
    _cache: dict = {}

    def __new__(cls, module: str, name: str):
        key = (module, name)
        g = cls._cache.get(key)
        if g is None:
            g = object.__new__(cls)
            g.module, g.name = module, name
            cls._cache[key] = g
        return g

    def __call__(self, *args, **kwargs):  # callable, as pickle requires of a reduce function
        raise TypeError(f"{self.module}.{self.name} is a name written into a pickle, not a function")

    def __reduce__(self):
        raise pickle.PicklingError(f"{self.module}.{self.name} is a name marker, not an object")


REBUILD_TENSOR_V2 = _Global("torch._utils", "_rebuild_tensor_v2")
REBUILD_PARAMETER = _Global("torch._utils", "_rebuild_parameter")
REBUILD_PARAMETER_WITH_STATE = _Global("torch._utils", "_rebuild_parameter_with_state")
TORCH_SIZE = _Global("torch", "Size")
TORCH_DEVICE = _Global("torch", "device")


class StorageRecord:
    """One storage to write: ``data`` is a contiguous uint8 view of its bytes."""

    __slots__ = ("key", "dtype", "data", "location", "numel", "pid", "lo")

    def __init__(self, key, dtype, data, location, lo):
        self.key, self.dtype, self.data, self.location, self.lo = key, dtype, data, location, lo
        self.numel = data.nbytes // dtype.itemsize
        self.pid = ("storage", _Global("torch", STORAGE_NAME[dtype]), key, location, self.numel)


# ---------------------------------------------------------------------------------------------
# memory layout helpers
# ---------------------------------------------------------------------------------------------
try:
    from numpy.lib.array_utils import byte_bounds as _byte_bounds
except ImportError:  # NumPy < 2
    _byte_bounds = np.byte_bounds


def memory_root(arr: np.ndarray) -> np.ndarray:
    """The outermost ndarray ``arr`` views (through ``.base``, ``as_strided`` wrappers included)."""
    o = arr
    while True:
        b = o.base
        if isinstance(b, np.ndarray):
            o = b
            continue
        inner = getattr(b, "base", None)  # as_strided's DummyArray keeps the array in .base
        if b is not None and isinstance(inner, np.ndarray) and not hasattr(b, "shape"):
            o = inner
            continue
        return o


def raw_bytes(arr: np.ndarray):
    """``(lo, u8)``: the lowest address ``arr`` touches and a uint8 view of its whole extent."""
    lo, hi = _byte_bounds(arr)
    idx = tuple(slice(0, 1) if s >= 0 else slice(n - 1, n) for s, n in zip(arr.strides, arr.shape))
    # one element at ``lo``; size-1 arrays are contiguous. A 0-d array is its own element
    # (indexing it with () would give a NumPy scalar, i.e. a copy elsewhere in memory).
    first = (arr[idx] if arr.ndim else arr).reshape(1).view(np.uint8)
    return lo, _as_strided(first, shape=(hi - lo,), strides=(1,), writeable=False)


# ---------------------------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------------------------
def _parameter_class():
    import sys
    mod = sys.modules.get("ember.nn.parameter")
    return getattr(mod, "Parameter", None)


class TorchPickler(pickle._Pickler):
    """Pickles like ``torch.save``; collects the storages to write in ``self.records``.

    The pure-Python pickler is used because it lets a marker write ``GLOBAL torch ...`` by
    name; the C pickler would import ``torch`` to check the name. Only ``data.pkl`` goes
    through it; tensor bytes never do.
    """

    dispatch = dict(pickle._Pickler.dispatch)

    def __init__(self, file, protocol=2):
        super().__init__(file, protocol)
        self.records: list[StorageRecord] = []
        self._by_root: dict[int, tuple[np.ndarray, StorageRecord]] = {}
        self._param_cls = _parameter_class()

    # persistent ids: storages
    def persistent_id(self, obj):
        if type(obj) is StorageRecord:
            return obj.pid
        return None

    def reducer_override(self, obj):
        if isinstance(obj, Tensor):
            return self._reduce_tensor(obj)
        return NotImplemented

    def _save_global_marker(self, obj):
        self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode("utf-8"))
        self.memoize(obj)

    def _save_dtype(self, obj):
        self._save_global_marker(_Global("torch", obj.name))

    def _save_device(self, obj):
        args = (obj.type,) if obj.index is None else (obj.type, obj.index)
        self.save_reduce(TORCH_DEVICE, args, obj=obj)

    def _save_size(self, obj):
        self.save_reduce(TORCH_SIZE, (tuple(int(s) for s in obj),), obj=obj)

    dispatch[_Global] = _save_global_marker
    dispatch[D.dtype] = _save_dtype
    dispatch[Device] = _save_device
    dispatch[Size] = _save_size

    def _reduce_tensor(self, t: Tensor):
        pcls = self._param_cls
        if pcls is not None and isinstance(t, pcls):
            data = _wrap(t._data)
            state = {k: v for k, v in t.__dict__.items() if not k.startswith("_")}
            if state:
                return REBUILD_PARAMETER_WITH_STATE, (data, t.requires_grad, collections.OrderedDict(), state)
            return REBUILD_PARAMETER, (data, t.requires_grad, collections.OrderedDict())
        arr = t._data
        location = "cpu"
        if type(arr) is not np.ndarray:  # CuPy: saved from a host copy (views do not share then)
            location = str(t.device)
            arr = arr.get()
        record, offset, strides = self._storage_of(arr, location)
        return REBUILD_TENSOR_V2, (record, offset, tuple(arr.shape), strides, bool(t.requires_grad),
                                   collections.OrderedDict())

    def _new_record(self, dtype, u8, location, lo):
        rec = StorageRecord(str(len(self.records)), dtype, u8, location, lo)
        self.records.append(rec)
        return rec

    def _storage_of(self, arr: np.ndarray, location: str):
        """The storage record ``arr`` lives in, its element offset and element strides."""
        dt = arr.dtype
        if dt not in STORAGE_NAME and dt.kind == "V" and dt == D.bfloat16._np:
            STORAGE_NAME[dt] = "BFloat16Storage"  # (ml_dtypes is loaded once a bfloat16 tensor exists)
        if dt not in STORAGE_NAME:
            raise TypeError(f"ember.save: cannot save a tensor of NumPy dtype {dt}")
        isz = dt.itemsize
        if arr.size == 0:
            return self._new_record(dt, np.empty(0, np.uint8), location, 0), 0, _contig_strides(arr.shape)
        root = memory_root(arr)
        entry = self._by_root.get(id(root))
        if entry is None:
            lo, u8 = raw_bytes(root)
            u8 = u8[: (u8.nbytes // isz) * isz]
            rec = self._new_record(dt, u8, location, lo)
            self._by_root[id(root)] = (root, rec)  # keeps root alive, so its id stays unique
        else:
            rec = entry[1]
            if rec.dtype != dt:
                raise RuntimeError(
                    "ember.save: cannot save multiple tensors that view the same memory as different "
                    f"dtypes ({D.from_np(rec.dtype)} and {D.from_np(dt)}); clone() one of them first")
        start = arr.__array_interface__["data"][0] - rec.lo
        strides = arr.strides
        ok = (start >= 0 and start % isz == 0 and location == rec.location
              and all(s >= 0 and s % isz == 0 for s in strides))
        if ok:
            end = start + isz + sum((n - 1) * s for n, s in zip(arr.shape, strides))
            ok = end <= rec.data.nbytes
        if not ok:  # negative strides or misaligned views: saved as their own contiguous copy
            c = np.ascontiguousarray(arr)
            return self._new_record(dt, c.reshape(-1).view(np.uint8), location, 0), 0, _contig_strides(arr.shape)
        return rec, start // isz, tuple(s // isz for s in strides)


def _contig_strides(shape):
    st, acc = [], 1
    for n in reversed(shape):
        st.append(acc)
        acc *= max(int(n), 1)
    return tuple(reversed(st))


# ---------------------------------------------------------------------------------------------
# reading
# ---------------------------------------------------------------------------------------------
class LoadedStorage:
    """A storage read from a checkpoint: a 1-D array of its dtype plus where it was saved.

    ``map_location`` callables receive one (``fn(storage, location)``) and may return it moved
    with ``.cpu()`` / ``.cuda(i)`` / ``.to(device)``.
    """

    __slots__ = ("_data", "location", "__weakref__")

    def __init__(self, data, location="cpu"):
        self._data = data
        self.location = location

    @property
    def device(self):
        from .backends import device_of
        return device_of(self._data)

    @property
    def dtype(self):
        return D.from_np(self._data.dtype)

    def size(self) -> int:
        return int(self._data.size)

    def nbytes(self) -> int:
        return int(self._data.nbytes)

    def to(self, device) -> "LoadedStorage":
        from .backends import to_device
        return LoadedStorage(to_device(self._data, Device(device)), str(device))

    def cpu(self) -> "LoadedStorage":
        return self.to("cpu")

    def cuda(self, device=None, non_blocking=False) -> "LoadedStorage":
        return self.to(Device("cuda", device) if isinstance(device, int) else (device or "cuda"))

    def __repr__(self):
        return f"LoadedStorage(dtype={self.dtype}, size={self.size()}, device={self.device})"


class _StorageType:
    """What ``torch.FloatStorage`` (etc.) resolves to when reading: it names a dtype."""

    __slots__ = ("name", "dtype")

    def __init__(self, name, dtype):
        self.name, self.dtype = name, dtype

    def __call__(self, *args, **kwargs):
        raise pickle.UnpicklingError(f"ember.load: torch.{self.name} cannot be called from a checkpoint")


class _TorchOnlyDtype:
    """A PyTorch dtype Ember has not (``torch.uint16`` ...): an error if a tensor uses it."""

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return "torch." + self.name


def _as_int_tuple(x, what):
    if not isinstance(x, (tuple, list)) or not all(type(v) is int for v in x):
        raise pickle.UnpicklingError(f"ember.load: tensor {what} must be a tuple of ints, got {x!r}")
    return tuple(x)


def _strided_view(storage, offset, size, stride):
    if not isinstance(storage, LoadedStorage):
        raise pickle.UnpicklingError(f"ember.load: expected a storage, got {type(storage).__name__}")
    if type(offset) is not int:
        raise pickle.UnpicklingError(f"ember.load: storage offset must be an int, got {offset!r}")
    size, stride = _as_int_tuple(size, "size"), _as_int_tuple(stride, "stride")
    base = storage._data
    if len(size) != len(stride) or offset < 0 or any(n < 0 for n in size) or any(s < 0 for s in stride):
        raise pickle.UnpicklingError(f"ember.load: invalid tensor geometry size={size} stride={stride} "
                                     f"offset={offset}")
    n = base.size
    if 0 not in size:
        last = offset + sum((a - 1) * s for a, s in zip(size, stride))
        if last >= n:
            raise pickle.UnpicklingError(
                f"ember.load: tensor of size {size}, stride {stride}, offset {offset} lies outside its "
                f"storage of {n} elements (file corrupted?)")
    isz = base.itemsize
    if type(base) is np.ndarray:
        if 0 in size:
            return np.empty(size, base.dtype)
        arr = np.ndarray(size, base.dtype, buffer=base, offset=offset * isz,
                         strides=tuple(s * isz for s in stride))
        return arr
    from .backends import cupy
    xp = cupy()
    if 0 in size:
        return xp.empty(size, base.dtype)
    return xp.lib.stride_tricks.as_strided(base[offset:], shape=size, strides=tuple(s * isz for s in stride))


def rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None,
                      metadata=None):
    t = _wrap(_strided_view(storage, storage_offset, size, stride))
    if requires_grad:
        t.requires_grad_(bool(requires_grad))
    return t


def rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks, dtype,
                      metadata=None):
    if isinstance(dtype, _TorchOnlyDtype):
        raise RuntimeError(f"ember.load: the checkpoint holds a tensor of dtype {dtype!r}, which Ember does "
                           "not have; convert it in PyTorch first (e.g. .to(torch.int32) / .float())")
    if not isinstance(dtype, D.dtype) or not isinstance(storage, LoadedStorage):
        raise pickle.UnpicklingError("ember.load: malformed _rebuild_tensor_v3 arguments")
    raw = storage._data
    if raw.nbytes % dtype.itemsize:
        raise pickle.UnpicklingError(f"ember.load: a storage of {raw.nbytes} bytes cannot hold {dtype} elements")
    if dtype is D.bfloat16:
        bf = D.bfloat16_np_or_none()
        typed = LoadedStorage(raw.view(bf) if bf is not None else widen_bfloat16(raw.view(np.uint16)),
                              storage.location)
        return rebuild_tensor_v2(typed, storage_offset, size, stride, requires_grad)
    typed = LoadedStorage(raw.view(dtype.np), storage.location)
    return rebuild_tensor_v2(typed, storage_offset, size, stride, requires_grad)


def _user_state(t, state):
    if state:
        for k, v in dict(state).items():
            if isinstance(k, str) and not k.startswith("_"):
                setattr(t, k, v)
    return t


def rebuild_parameter(data, requires_grad, backward_hooks=None):
    if not isinstance(data, Tensor):
        raise pickle.UnpicklingError("ember.load: _rebuild_parameter expects a tensor")
    pcls = _parameter_class()
    if pcls is None:
        try:
            from .nn.parameter import Parameter as pcls
        except ImportError:
            return data.detach().requires_grad_(bool(requires_grad))
    return pcls(data, bool(requires_grad))


def rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    return _user_state(rebuild_parameter(data, requires_grad), state)


def rebuild_from_type_v2(func, new_type, args, state):
    if func not in (rebuild_tensor_v2, rebuild_tensor_v3, rebuild_parameter):
        raise pickle.UnpicklingError("ember.load: _rebuild_from_type_v2 with an unexpected rebuild function")
    t = func(*args)
    pcls = _parameter_class()
    if pcls is not None and new_type is pcls and not isinstance(t, pcls):
        t = pcls(t, t.requires_grad)
    return _user_state(t, state)


def _encode(obj, encoding="latin1"):  # ``_codecs.encode``: how protocol 2 pickles bytes
    import codecs
    if not isinstance(obj, str) or encoding not in ("latin1", "latin-1", "utf-8", "utf8", "ascii"):
        raise pickle.UnpicklingError("ember.load: _codecs.encode is only allowed for bytes literals")
    return codecs.encode(obj, encoding)


def _torch_table() -> dict:
    """``'module.name'`` of each PyTorch global a checkpoint may use -> Ember's counterpart."""
    t = {
        "torch._utils._rebuild_tensor_v2": rebuild_tensor_v2,
        "torch._utils._rebuild_tensor_v3": rebuild_tensor_v3,
        "torch._utils._rebuild_parameter": rebuild_parameter,
        "torch._utils._rebuild_parameter_with_state": rebuild_parameter_with_state,
        "torch._tensor._rebuild_from_type_v2": rebuild_from_type_v2,
        "torch.Size": Size,
        "torch.device": Device,
        "torch.Tensor": Tensor,
        "torch._tensor.Tensor": Tensor,
        "torch.storage.UntypedStorage": _StorageType("UntypedStorage", np.dtype(np.uint8)),
    }
    pcls = _parameter_class()
    if pcls is None:
        try:
            from .nn.parameter import Parameter as pcls
        except ImportError:
            pcls = None
    if pcls is not None:
        t["torch.nn.parameter.Parameter"] = pcls
    for name, dt in _STORAGE_DTYPE.items():
        t[f"torch.{name}"] = t[f"torch.cuda.{name}"] = _StorageType(name, dt)
    for d in D.ALL + (D.bfloat16,):
        t[f"torch.{d.name}"] = d
    for name in _TORCH_ONLY_DTYPES:
        t.setdefault(f"torch.{name}", _TorchOnlyDtype(name))
    return t


_SAFE_BUILTINS = {
    "collections.OrderedDict": collections.OrderedDict,
    "collections.Counter": collections.Counter,
    "_codecs.encode": _encode,
    "builtins.set": set,
    "builtins.frozenset": frozenset,
    "builtins.complex": complex,
    "builtins.bytearray": bytearray,
    "builtins.slice": slice,
}
_PY2_NAMES = {"__builtin__": "builtins", "copy_reg": "copyreg"}

_user_safe_globals: dict = {}


def _qualname(obj) -> str:
    return f"{obj.__module__}.{obj.__qualname__}"


def add_safe_globals(safe_globals) -> None:
    """Allow more globals in ``weights_only`` loads: objects, or ``(object, "module.name")`` pairs."""
    for g in safe_globals:
        if isinstance(g, tuple):
            obj, name = g
        else:
            obj, name = g, _qualname(g)
        _user_safe_globals[name] = obj


def get_safe_globals() -> list:
    return list(_user_safe_globals.values())


def clear_safe_globals() -> None:
    _user_safe_globals.clear()


@contextlib.contextmanager
def safe_globals(globs):
    """Context manager: ``add_safe_globals(globs)`` for the duration of the block."""
    saved = dict(_user_safe_globals)
    add_safe_globals(globs)
    try:
        yield
    finally:
        _user_safe_globals.clear()
        _user_safe_globals.update(saved)


class _CheckpointUnpickler(pickle.Unpickler):
    """Shared part: storages come from ``load_storage(key, dtype, numel, location)``."""

    def __init__(self, file, load_storage, where):
        super().__init__(file, encoding="utf-8")
        self._load_storage = load_storage
        self._where = where
        self._table = _torch_table()

    def persistent_load(self, pid):
        if (not isinstance(pid, tuple) or len(pid) != 5 or pid[0] != "storage"
                or not isinstance(pid[1], _StorageType) or not isinstance(pid[2], str)
                or not isinstance(pid[3], str) or type(pid[4]) is not int or pid[4] < 0):
            raise pickle.UnpicklingError(f"ember.load: unsupported persistent id {pid!r} in {self._where}")
        _, stype, key, location, numel = pid
        return self._load_storage(key, stype.dtype, numel, location)


class SafeUnpickler(_CheckpointUnpickler):
    """``weights_only=True``: an allow-list; a refused global is never imported or called."""

    def find_class(self, module, name):
        module = _PY2_NAMES.get(module, module)
        full = f"{module}.{name}"
        obj = self._table.get(full)
        if obj is None:
            obj = _SAFE_BUILTINS.get(full)
        if obj is None:
            obj = _user_safe_globals.get(full)
        if obj is None:
            raise pickle.UnpicklingError(
                f"Weights only load failed for {self._where}: Unsupported global: GLOBAL {full} is not an "
                "allowed global. ember.load(weights_only=True) only rebuilds tensors, storages, dtypes, "
                "OrderedDict and plain containers. If you trust this file, allow it with "
                f"ember.serialization.add_safe_globals([{full}]) or load with weights_only=False "
                "(which can run arbitrary code).")
        return obj


class FullUnpickler(_CheckpointUnpickler):
    """``weights_only=False``: torch names map to Ember; everything else imports as pickle does."""

    def find_class(self, module, name):
        full = f"{module}.{name}"
        obj = self._table.get(full)
        if obj is not None:
            return obj
        if module == "torch" or module.startswith("torch."):
            ember_mod = "ember" + module[5:]
            try:
                return getattr(importlib.import_module(ember_mod), name)
            except (ImportError, AttributeError):
                raise pickle.UnpicklingError(
                    f"ember.load: {self._where} refers to {full}, which has no Ember counterpart "
                    f"({ember_mod}.{name} does not exist)") from None
        return super().find_class(module, name)


def widen_bfloat16(raw: np.ndarray) -> np.ndarray:
    """bfloat16 bits (as uint16) -> float32, where ml_dtypes is missing: float32 holds every value."""
    warnings.warn("ember.load: bfloat16 tensors are loaded as float32 (ember.bfloat16 needs ml_dtypes: "
                  f"{D.BF16_INSTALL_HINT})", stacklevel=4)
    out = raw.astype(np.uint32) << 16
    return out.view(np.float32)
