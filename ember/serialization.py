"""``ember.save`` / ``ember.load``: PyTorch's checkpoint file format, both ways, safe by default.

The file is the zip archive ``torch.save`` writes (since PyTorch 1.6)::

    <archive>/data.pkl                 the object, pickled (protocol 2) like torch does
    <archive>/.format_version          "1"
    <archive>/.storage_alignment       "64"
    <archive>/byteorder                "little"
    <archive>/data/<key>               one record per storage: raw bytes, stored, 64-byte aligned
    <archive>/version                  "3"
    <archive>/.data/serialization_id

so files go from Ember to PyTorch (``torch.load(f, weights_only=True)``) and back, and PyTorch
is never imported. Tensors sharing memory share one storage record and share again after
loading. ``ember.load`` reads with an allow-list unpickler (``weights_only=True`` is the
default); storage records and ``data.pkl`` are checked against their CRC-32, so a corrupted
or truncated file raises ``CheckpointError`` (a ``RuntimeError``) naming the file.
Saving to a path is atomic: a temporary file in the same folder, fsync, ``os.replace``.
The bytes are handled in ``_zip_io``: CRC-32s are computed on worker threads (while earlier
records are written, or while later ones are read), array memory goes to the file and comes back
from it without intermediate copies, and the disk starts flushing while the save is still writing.

Also here: DLPack exchange (``from_dlpack``), pickling support for tensors, and safetensors
files through the optional ``safetensors`` package.
"""
from __future__ import annotations

import io
import mmap as _mmap
import os
import pickle
import secrets
import struct
import weakref
import zipfile
from typing import IO, Any, BinaryIO, Callable, Union

import numpy as np

from . import _dtype as D
from . import _zip_io
from ._device import device as Device
from ._tensor import Tensor, _init, _wrap
from ._zip_io import CrcJob
from ._pickle_safe import (BFLOAT16_NAME, FullUnpickler, LoadedStorage, SafeUnpickler, TorchPickler,  # noqa: F401
                           add_safe_globals, clear_safe_globals, get_safe_globals, memory_root, raw_bytes,
                           safe_globals, widen_bfloat16)

__all__ = ["save", "load", "from_dlpack", "CheckpointError", "add_safe_globals", "safe_globals",
           "get_safe_globals", "clear_safe_globals", "save_safetensors", "load_safetensors", "LoadedStorage"]

FILE_LIKE = Union[str, os.PathLike, BinaryIO, IO[bytes]]
MAP_LOCATION = Union[None, str, Device, dict, Callable]

DEFAULT_PROTOCOL = 2
ALIGNMENT = 64
FSYNC = True  # flush checkpoints to disk before the rename; set False to trade durability for speed
VERIFY_CRC = True  # check each storage record's CRC-32 on load (mmap loads never read the data)
_ZIP_MAGIC = b"PK\x03\x04"
_LOCAL_HEADER = struct.Struct("<IHHHHHIIIHH")


class CheckpointError(RuntimeError):
    """A file that is not a readable checkpoint: truncated, corrupted, or another format."""


# ---------------------------------------------------------------------------------------------
# save
# ---------------------------------------------------------------------------------------------
def save(obj: Any, f: FILE_LIKE, pickle_module: Any = pickle, pickle_protocol: int = DEFAULT_PROTOCOL,
         _use_new_zipfile_serialization: bool = True, _disable_byteorder_record: bool = False) -> None:
    """Write ``obj`` (tensors, Parameters, state dicts, optimizer states, nested containers) to ``f``.

    ``f`` is a path (written atomically: temp file + fsync + rename) or a binary file object.
    The file loads in PyTorch with ``torch.load(f, weights_only=True)``.
    """
    if not _use_new_zipfile_serialization:
        raise NotImplementedError("ember.save writes only the zip format (_use_new_zipfile_serialization=True)")
    if pickle_module is not None and pickle_module is not pickle:
        raise NotImplementedError("ember.save pickles with its own torch-compatible Pickler; "
                                  "pickle_module must be the standard pickle module")
    if not isinstance(pickle_protocol, int) or pickle_protocol < 2:
        raise ValueError(f"ember.save: pickle_protocol must be >= 2, got {pickle_protocol!r}")
    if not isinstance(f, (str, os.PathLike)) and not hasattr(f, "write"):
        raise AttributeError(f"ember.save: f must be a path or a writable binary file object, "
                             f"got {type(f).__name__}")
    # Pickle first, in memory: a failure here touches no file at all.
    buf = io.BytesIO()
    pickler = TorchPickler(buf, pickle_protocol)
    pickler.dump(obj)
    records = [("data.pkl", buf.getbuffer()), (".format_version", b"1"),
               (".storage_alignment", str(ALIGNMENT).encode())]
    if not _disable_byteorder_record:
        records.append(("byteorder", b"little"))
    records += [(f"data/{r.key}", r.data) for r in pickler.records]
    records += [("version", b"3\n"), (".data/serialization_id", str(secrets.randbits(128)).zfill(40).encode())]
    # Every record's CRC-32 starts now, on worker threads, while the records before it are written.
    jobs = [CrcJob(data) for _, data in records]
    try:
        if isinstance(f, (str, os.PathLike)):
            path = os.fspath(f)
            archive = os.path.splitext(os.path.basename(path))[0] or "archive"
            _atomic_write(path, lambda fp, sync: _write_zip(fp, _archive_name(archive), records, jobs, sync))
        else:
            _write_zip(f, "archive", records, jobs)
            if hasattr(f, "flush"):
                f.flush()
    finally:
        for job in jobs:
            job.cancel()


def _archive_name(stem: str) -> str:
    # PyTorch names the folder inside the zip after the file; keep it a plain, portable name.
    clean = "".join(c if (c.isalnum() or c in "-_.") else "_" for c in stem)
    return clean if clean.isascii() and clean else "archive"


def _write_zip(fp, archive: str, records, jobs, sync=None) -> None:
    """Stored records, data 64-byte aligned, then the central directory (see ``_zip_io.ZipWriter``)."""
    zw = _zip_io.ZipWriter(fp, align=ALIGNMENT)
    for (name, data), job in zip(records, jobs):
        zw.add(f"{archive}/{name}", data, job)
        if sync is not None:
            sync.wrote(zw.pos)
    zw.close()


def _atomic_write(path: str, write: Callable) -> None:
    """``write(fp, sync)`` into a temp file beside ``path``, fsync (if ``FSYNC``), rename over ``path``."""
    _zip_io.atomic_write(path, write, fsync=FSYNC)


# ---------------------------------------------------------------------------------------------
# load
# ---------------------------------------------------------------------------------------------
def load(f: FILE_LIKE, map_location: MAP_LOCATION = None, pickle_module: Any = None, *,
         weights_only: bool | None = None, mmap: bool | None = None, **pickle_load_args) -> Any:
    """Read a checkpoint written by ``torch.save`` or ``ember.save``; PyTorch is not needed.

    ``weights_only`` (default True) refuses every pickle global except tensors, storages,
    dtypes, ``OrderedDict`` and plain containers (``pickle.UnpicklingError`` names the global).
    ``weights_only=False`` is the explicit opt-in to unrestricted unpickling (trusted files only).
    ``mmap=True`` maps storages from the file (copy-on-write) instead of reading them.
    ``map_location``: ``"cpu"``, a device, ``{"cuda:0": "cpu"}``, or ``fn(storage, location)``.
    """
    if weights_only is None:
        weights_only = True
    if pickle_module is not None and pickle_module is not pickle:
        if weights_only:
            raise RuntimeError("Can not safely load weights when explicit pickle_module is specified")
        raise NotImplementedError("ember.load unpickles with its own Unpickler; pickle_module must be pickle")
    if pickle_load_args and set(pickle_load_args) - {"encoding"}:
        raise TypeError(f"ember.load got unexpected keyword arguments {sorted(pickle_load_args)}")
    restore = _location_restorer(map_location)
    own = isinstance(f, (str, os.PathLike))
    where = repr(os.fspath(f)) if own else f"<{type(f).__name__}>"
    if mmap and not own:
        try:
            f.fileno()
        except (AttributeError, OSError, ValueError):
            raise ValueError("ember.load: mmap=True needs a file path or a real file object "
                             f"(with fileno()), got {type(f).__name__}") from None
    fp = open(f, "rb") if own else f
    try:
        if not own and not _seekable(fp):
            fp = io.BytesIO(fp.read())
        return _load_zip(fp, where, restore, bool(weights_only), bool(mmap))
    finally:
        if own:
            fp.close()


def _seekable(fp) -> bool:
    try:
        return bool(fp.seekable())
    except (AttributeError, OSError, ValueError):
        return False


def _load_zip(fp, where, restore, weights_only, use_mmap):
    start = fp.tell()
    head = fp.read(4)
    fp.seek(start)
    if len(head) == 0:
        raise CheckpointError(f"ember.load: {where} is empty (0 bytes): not a checkpoint")
    if head != _ZIP_MAGIC:
        if head[:1] == b"\x80":
            raise CheckpointError(
                f"ember.load: {where} is in PyTorch's legacy (pre-1.6) format, which Ember does not read; "
                "re-save it in PyTorch with torch.save(obj, f) (the zip format is the default)")
        raise CheckpointError(f"ember.load: {where} is not a checkpoint (no zip signature at its start; "
                              f"first bytes {head!r})")
    try:
        zf = zipfile.ZipFile(fp, "r")
    except Exception as e:  # zipfile raises many kinds for a damaged directory
        raise CheckpointError(f"ember.load: {where} is truncated or corrupted: cannot read its zip "
                              f"directory ({type(e).__name__}: {e})") from None
    with zf:
        infos = {zi.filename: zi for zi in zf.infolist()}
        pkl = [n for n in infos if n.endswith("/data.pkl") and n.count("/") == 1]
        if len(pkl) != 1:
            hint = " (a TorchScript archive?)" if any(n.endswith("/constants.pkl") for n in infos) else ""
            raise CheckpointError(f"ember.load: {where} is a zip file but not a torch checkpoint{hint}: "
                                  f"expected one '<archive>/data.pkl' record, found {len(pkl)}")
        prefix = pkl[0][: -len("data.pkl")]
        try:
            data_pkl = zf.read(pkl[0])
            order = zf.read(prefix + "byteorder").decode("ascii", "replace") if prefix + "byteorder" in infos \
                else "little"
        except Exception as e:  # bad CRC, unknown compression, bad local header ...
            raise CheckpointError(f"ember.load: {where} is corrupted: {type(e).__name__}: {e}") from None
        if order not in ("little", "big"):
            raise CheckpointError(f"ember.load: {where} has an invalid byteorder record {order!r}")
        mm = None
        if use_mmap:
            mm = _mmap.mmap(fp.fileno(), 0, access=_mmap.ACCESS_COPY)
        storages: dict[str, LoadedStorage] = {}
        crc = _CrcChecker(where, inline=order == "big")

        def load_storage(key, dtype, numel, location):
            st = storages.get(key)
            if st is None:
                zi = infos.get(f"{prefix}data/{key}")
                if zi is None:
                    raise CheckpointError(f"ember.load: {where} has no storage record 'data/{key}' "
                                          "(file incomplete or corrupted)")
                st = _read_storage(fp, mm, zi, dtype, numel, location, order, where, crc)
                try:
                    st = restore(st, location)
                except Exception as e:  # the user's map_location: not a corrupted file
                    raise _MapLocationError(e) from e
                storages[key] = st
            return st

        unpickler_cls = SafeUnpickler if weights_only else FullUnpickler
        up = unpickler_cls(io.BytesIO(data_pkl), load_storage, where)
        try:
            obj = up.load()
            crc.finish()
            return obj
        except (CheckpointError, pickle.UnpicklingError):
            raise
        except _MapLocationError as e:
            raise e.error from None
        except (EOFError, ValueError, KeyError, IndexError, TypeError, UnicodeDecodeError, OverflowError,
                AttributeError, struct.error, MemoryError, RecursionError) as e:
            raise CheckpointError(f"ember.load: {where} is corrupted: its data.pkl does not unpickle "
                                  f"({type(e).__name__}: {e})") from e
        finally:
            crc.close()


class _MapLocationError(Exception):
    def __init__(self, error):
        super().__init__(str(error))
        self.error = error


class _CrcChecker:
    """Checks storage records' CRC-32 on worker threads while the next records are read.

    ``readinto`` and ``zlib.crc32`` both release the GIL; ``finish`` (after unpickling) computes
    the pieces still waiting on the loading thread itself, then compares.
    """

    def __init__(self, where, inline=False):
        self.where, self.inline = where, inline
        self.jobs = []

    def check(self, view, zi):
        if not VERIFY_CRC or not zi.CRC:
            return
        job = CrcJob(view)
        if self.inline:  # the caller changes the bytes next (byte swap): verify now
            self._verify(job.result(), zi)
        else:
            self.jobs.append((job, zi))

    def _verify(self, value, zi):
        if value != zi.CRC:
            raise CheckpointError(f"ember.load: {self.where} is corrupted: record {zi.filename} fails its "
                                  "CRC-32 check")

    def finish(self):
        jobs, self.jobs = self.jobs, []
        for job, zi in jobs:
            self._verify(job.result(), zi)

    def close(self):
        for job, _ in self.jobs:
            job.cancel()
        self.jobs = []


def _read_storage(fp, mm, zi, dtype, numel, location, order, where, crc) -> LoadedStorage:
    bf16 = isinstance(dtype, str) and dtype == BFLOAT16_NAME
    np_dtype = np.dtype(np.uint16) if bf16 else dtype
    nbytes = numel * np_dtype.itemsize
    if zi.file_size != nbytes:
        raise CheckpointError(f"ember.load: {where}: record {zi.filename} holds {zi.file_size} bytes but its "
                              f"tensor needs {nbytes} ({numel} x {np_dtype}); file corrupted")
    if zi.compress_type != zipfile.ZIP_STORED:  # a re-zipped checkpoint: decompress (zipfile checks CRC)
        try:
            arr = np.frombuffer(bytearray(_zip_read(fp, zi, where)), dtype=np_dtype)
        except Exception as e:
            raise CheckpointError(f"ember.load: {where}: record {zi.filename} is corrupted "
                                  f"({type(e).__name__}: {e})") from None
    else:
        off = _data_offset(fp, zi, where)
        if mm is not None:
            if off + nbytes > len(mm):
                raise CheckpointError(f"ember.load: {where} is truncated inside record {zi.filename}")
            arr = np.ndarray((numel,), np_dtype, buffer=mm, offset=off)
        else:
            arr = np.empty(numel, np_dtype)
            view = memoryview(arr).cast("B")
            fp.seek(off)
            got = 0
            while got < nbytes:
                n = fp.readinto(view[got:])
                if not n:
                    raise CheckpointError(f"ember.load: {where} is truncated inside record {zi.filename}")
                got += n
            crc.check(view, zi)
    if order == "big" and np_dtype.itemsize > 1:
        if not arr.flags.writeable:
            arr = arr.copy()
        arr.byteswap(inplace=True)
    if bf16:
        bf = D.bfloat16_np_or_none()  # ember.bfloat16 with ml_dtypes; float32 (with a warning) without
        arr = arr.view(bf) if bf is not None else widen_bfloat16(arr)
    return LoadedStorage(arr, location)


def _zip_read(fp, zi, where) -> bytes:
    fp.seek(0)
    with zipfile.ZipFile(fp) as zf:
        return zf.read(zi)


def _data_offset(fp, zi, where) -> int:
    fp.seek(zi.header_offset)
    raw = fp.read(_LOCAL_HEADER.size)
    if len(raw) != _LOCAL_HEADER.size:
        raise CheckpointError(f"ember.load: {where} is truncated (record {zi.filename})")
    sig, _, _, _, _, _, _, _, _, nlen, elen = _LOCAL_HEADER.unpack(raw)
    name = fp.read(nlen)
    if sig != 0x04034B50 or name.decode("utf-8", "replace") != zi.filename:
        raise CheckpointError(f"ember.load: {where} is corrupted: bad local header for record {zi.filename}")
    return zi.header_offset + _LOCAL_HEADER.size + nlen + elen


def _location_restorer(map_location):
    """``restore(storage, saved_location) -> storage`` for each kind of ``map_location``."""
    if map_location is None:
        return lambda st, loc: _move(st, loc)
    if isinstance(map_location, (str, Device)):
        target = str(Device(map_location) if isinstance(map_location, str) else map_location)
        return lambda st, loc: _move(st, target)
    if isinstance(map_location, dict):
        table = {str(k): str(v) for k, v in map_location.items()}
        return lambda st, loc: _move(st, table.get(loc, loc))
    if callable(map_location):
        def restore(st, loc):
            out = map_location(st, loc)
            if out is None:
                return _move(st, loc)
            if isinstance(out, LoadedStorage):
                return out
            if isinstance(out, Tensor):
                return LoadedStorage(out._data.reshape(-1), str(out.device))
            raise TypeError(f"ember.load: map_location returned {type(out).__name__}; expected a storage or None")
        return restore
    raise TypeError(f"ember.load: map_location must be None, a str, a device, a dict or a callable, "
                    f"got {type(map_location).__name__}")


def _move(st: LoadedStorage, loc: str) -> LoadedStorage:
    if loc == "cpu" or loc.startswith("cpu:"):
        return st if type(st._data) is np.ndarray else st.to("cpu")
    if loc.startswith("cuda"):
        from .backends import cupy
        if cupy() is None:
            raise RuntimeError("Attempting to deserialize object on a CUDA device but CUDA is not available "
                               "to Ember (CuPy is not installed). Use ember.load(..., map_location='cpu') to "
                               "map your storages to the CPU.")
        return st.to(loc)
    raise RuntimeError(f"ember.load: don't know how to restore data location {loc!r}")


# ---------------------------------------------------------------------------------------------
# pickle / copy support for Tensor (used by Tensor.__reduce_ex__)
# ---------------------------------------------------------------------------------------------
def reduce_tensor(t: Tensor):
    """``Tensor.__reduce_ex__``: the bytes of the memory the tensor views, plus its geometry.

    Tensors viewing one array pass the *same* byte-view object, so one ``pickle.dumps`` stores
    the memory once and the views share it again after ``pickle.loads``.
    """
    arr = t._data
    dev = "cpu"
    if type(arr) is not np.ndarray:
        dev = str(t.device)
        arr = arr.get()
    cls = type(t) if type(t) is not Tensor else None
    extra = dict(t.__dict__) if t.__dict__ else None
    if arr.size == 0:
        return (_rebuild_pickled, (np.empty(0, np.uint8), 0, arr.shape, (0,) * arr.ndim, arr.dtype.str,
                                   t.requires_grad, dev, cls, extra))
    root = memory_root(arr)
    view = _pickle_views.get(id(root))
    if view is None or memory_root(view) is not root:
        view = raw_bytes(root)[1]
        _pickle_views[id(root)] = view
    off = arr.__array_interface__["data"][0] - view.__array_interface__["data"][0]
    return (_rebuild_pickled, (view, off, arr.shape, arr.strides, arr.dtype.str, t.requires_grad, dev, cls,
                               extra))


# id(root array) -> its byte view, alive only while a pickler's memo holds the view.
_pickle_views: "weakref.WeakValueDictionary[int, np.ndarray]" = weakref.WeakValueDictionary()


def _rebuild_pickled(u8, off, shape, strides, dtype_str, requires_grad, dev, cls=None, extra=None):
    u8 = np.asarray(u8)
    if not u8.flags.writeable:  # pickle gives a fresh array; be sure we own writable memory
        u8 = u8.copy()
    arr = np.ndarray(tuple(shape), np.dtype(dtype_str), buffer=u8, offset=int(off), strides=tuple(strides))
    if dev != "cpu":
        from .backends import to_device
        arr = to_device(arr, Device(dev))
    t = object.__new__(cls) if cls is not None else object.__new__(Tensor)
    _init(t, arr, False)
    if requires_grad:
        t.requires_grad = True
    if extra:
        t.__dict__.update(extra)
    return t


# ---------------------------------------------------------------------------------------------
# DLPack
# ---------------------------------------------------------------------------------------------
class _Capsule:
    # A bare (legacy) DLPack capsule, e.g. from torch.utils.dlpack.to_dlpack: CPU is assumed.
    def __init__(self, capsule):
        self.capsule = capsule

    def __dlpack__(self, *args, **kwargs):
        return self.capsule

    def __dlpack_device__(self):
        return (1, 0)


def from_dlpack(ext_tensor: Any) -> Tensor:
    """A Tensor sharing memory with ``ext_tensor`` (any ``__dlpack__`` producer, or a capsule).

    CPU producers (NumPy, PyTorch CPU) give NumPy-backed tensors; CUDA producers give CuPy ones.
    """
    if isinstance(ext_tensor, Tensor):
        t = _wrap(ext_tensor._data)
        t._vc = ext_tensor._vc
        return t
    if not hasattr(ext_tensor, "__dlpack__"):
        if type(ext_tensor).__name__ != "PyCapsule":
            raise TypeError(f"from_dlpack: expected an object with __dlpack__ or a DLPack capsule, "
                            f"got {type(ext_tensor).__name__}")
        ext_tensor = _Capsule(ext_tensor)
    dev_type = ext_tensor.__dlpack_device__()[0]
    if dev_type in (1, 3):  # kDLCPU, kDLCUDAHost
        arr = np.from_dlpack(ext_tensor)
    elif dev_type in (2, 10):  # kDLCUDA, kDLROCM
        from .backends import cupy
        cp = cupy()
        if cp is None:
            raise RuntimeError("from_dlpack: the tensor is on a CUDA device but CuPy is not installed")
        arr = cp.from_dlpack(ext_tensor)
    else:
        raise BufferError(f"from_dlpack: unsupported DLPack device type {dev_type}")
    D.from_np(arr.dtype)  # TypeError for dtypes Ember does not have (bfloat16 ...)
    return _wrap(arr)


# ---------------------------------------------------------------------------------------------
# safetensors (optional package)
# ---------------------------------------------------------------------------------------------
def _safetensors_numpy():
    try:
        import safetensors.numpy as stn
    except ImportError:
        raise ImportError("ember safetensors support needs the optional 'safetensors' package: "
                          "pip install safetensors") from None
    return stn


def save_safetensors(tensors: dict, filename: str | os.PathLike, metadata: dict | None = None) -> None:
    """Write a ``{name: Tensor}`` dict as a ``.safetensors`` file (atomically)."""
    stn = _safetensors_numpy()
    if not isinstance(tensors, dict):
        raise TypeError(f"save_safetensors: expected a dict of tensors, got {type(tensors).__name__}")
    arrays = {}
    for k, v in tensors.items():
        if not isinstance(k, str) or not isinstance(v, Tensor):
            raise TypeError(f"save_safetensors: entries must be str -> Tensor, got {type(k).__name__} -> "
                            f"{type(v).__name__}")
        arrays[k] = np.ascontiguousarray(v._cpu_array())
    blob = stn.save(arrays, metadata=metadata)
    _atomic_write(os.fspath(filename), lambda fp, sync: fp.write(blob))


def load_safetensors(filename: str | os.PathLike, device: str | Device = "cpu") -> dict:
    """Read a ``.safetensors`` file into ``{name: Tensor}`` (writable arrays, on ``device``)."""
    stn = _safetensors_numpy()
    arrays = stn.load_file(os.fspath(filename))
    out = {}
    for k, a in arrays.items():
        if not a.flags.writeable:
            a = a.copy()
        t = _wrap(a)
        out[k] = t if str(device) == "cpu" else t.to(device)
    return out
