"""The byte level of checkpoints: CRC-32 on worker threads, a small zip writer, durable writes.

``zlib.crc32`` runs at ~1.5-3 GB/s on one core (the optional ``isal`` or ``zlib-ng`` packages,
used when installed, at ~12 GB/s); all release the GIL, so a big buffer is cut into
``CHUNK``-byte pieces whose CRCs are computed on a thread pool and joined with ``crc32_combine``
(Python's ``zlib`` does not expose zlib's, so it is written here: shifting a CRC over ``n`` zero
bytes is a multiplication by ``x^(8n)`` modulo the CRC polynomial, in GF(2)). The thread that
waits for a result computes the pieces nobody has started yet itself, so waiting never idles a core.

``ZipWriter`` writes the stored (uncompressed) zip archive ``torch.save`` writes: each record's
bytes start on a 64-byte boundary (the padding sits in an ``FB`` extra field, as PyTorch's writer
does), the CRC is known before the local header is written (so no seeking back), the data goes
straight from the array's memory to the file (no intermediate ``bytes``), and zip64 records are
used where a size or an offset needs them. Python's ``zipfile`` and ``torch.load`` read the result.

``atomic_write`` writes a file beside the target, fsyncs it and renames it over the target; a
``BackgroundSync`` flushes the data written so far from a helper thread every few MB, so the disk
works while the rest is written and the final fsync has little left.
"""
from __future__ import annotations

import os
import secrets
import struct
import sys
import threading
import zlib
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

# ---------------------------------------------------------------------------------------------
# CRC-32 arithmetic (reflected bit order: bit 31 of a word is the coefficient of x^0)
# ---------------------------------------------------------------------------------------------
_POLY = 0xEDB88320  # x^32 + x^26 + ... + 1, the CRC-32 of zip/zlib, reflected


def _mulmod(a: int, b: int) -> int:
    """``a * b mod P`` for two reflected 32-bit polynomials."""
    prod = 0
    bit = 1 << 31
    while a:
        if a & bit:
            prod ^= b
            a ^= bit
        bit >>= 1
        b = (b >> 1) ^ _POLY if b & 1 else b >> 1
    return prod


def _powers_of_x():
    # _X_POW2[k] = x^(2^k) mod P; x^(2^k) repeats with a period dividing 2^32 - 1, 32 entries suffice
    table, p = [], 1 << 30  # x^1
    for _ in range(32):
        table.append(p)
        p = _mulmod(p, p)
    return table


_X_POW2 = _powers_of_x()
_SHIFT_CACHE: dict[int, int] = {}


def _x_pow_8n(n: int) -> int:
    """``x^(8 n) mod P``: the operator that moves a CRC past ``n`` zero bytes."""
    op = _SHIFT_CACHE.get(n)
    if op is None:
        op, k, m = 1 << 31, 3, n  # x^0; 8 n = n * 2^3
        while m:
            if m & 1:
                op = _mulmod(_X_POW2[k & 31], op)
            m >>= 1
            k += 1
        if len(_SHIFT_CACHE) < 4096:
            _SHIFT_CACHE[n] = op
    return op


def crc32_combine(crc1: int, crc2: int, len2: int) -> int:
    """CRC-32 of ``A + B`` from ``crc1 = crc32(A)``, ``crc2 = crc32(B)`` and ``len2 = len(B)``."""
    if len2 <= 0:
        return crc1
    return _mulmod(_x_pow_8n(len2), crc1) ^ crc2


# ---------------------------------------------------------------------------------------------
# parallel CRC-32
# ---------------------------------------------------------------------------------------------
def _pick_crc32():
    """The fastest CRC-32 installed: ISA-L's or zlib-ng's (carry-less multiply, ~5x zlib's), else zlib's.

    Both optional packages (``pip install ember-autograd[fast]``) compute the very same CRC-32 and
    release the GIL; the check value of ``b"123456789"`` guards against a different polynomial.
    """
    import importlib
    for module in ("isal.isal_zlib", "zlib_ng.zlib_ng"):
        try:
            fn = importlib.import_module(module).crc32
            if fn(b"123456789") == 0xCBF43926 and fn(memoryview(b"6789"), fn(b"12345")) == 0xCBF43926:
                return fn
        except Exception:  # noqa: BLE001 - missing or broken: fall back
            continue
    return zlib.crc32


_crc32_impl = None


def crc32_function():
    """The function ``CrcJob`` uses for each piece (chosen once, on first use: no import cost before)."""
    global _crc32_impl
    if _crc32_impl is None:
        _crc32_impl = _pick_crc32()
    return _crc32_impl


CHUNK = 2 << 20  # bytes per task: large enough that a task's overhead (~20 us) is noise
_INLINE_BELOW = 1 << 20  # smaller buffers are checksummed on the calling thread


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))  # what this process may use (containers, taskset)
    except (AttributeError, OSError):
        return os.cpu_count() or 1


WORKERS = max(1, min(8, _usable_cpus()))

_pool: ThreadPoolExecutor | None = None
_pool_pid = -1
_pool_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    # A pool inherited through fork() has no threads in the child: make a new one there.
    global _pool, _pool_pid
    pid = os.getpid()
    if _pool is None or _pool_pid != pid:
        with _pool_lock:
            if _pool is None or _pool_pid != pid:
                _pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="ember-crc")
                _pool_pid = pid
    return _pool


def _forget_pool_after_fork():
    global _pool, _pool_pid, _pool_lock
    _pool, _pool_pid, _pool_lock = None, -1, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_after_fork)


class CrcJob:
    """The CRC-32 of one buffer, computed on the pool in ``CHUNK``-byte pieces.

    ``result()`` computes the pieces no worker has started yet on the calling thread, then joins
    the pieces' CRCs. The buffer must not change until ``result()`` returns.
    """

    __slots__ = ("pieces", "value")

    def __init__(self, data):
        mv = data if isinstance(data, (bytes, bytearray)) else memoryview(data).cast("B")
        n = len(mv)
        self.pieces = None
        self.value = None
        fn = _crc32_impl or crc32_function()
        if n < _INLINE_BELOW or WORKERS < 2 and n < 2 * CHUNK:
            self.value = fn(mv)
            return
        mv = memoryview(mv)
        submit = _executor().submit
        pieces = []
        try:
            for i in range(0, n, CHUNK):
                pieces.append((submit(fn, mv[i:i + CHUNK]), mv[i:i + CHUNK]))
        except RuntimeError:  # no new tasks once the interpreter shuts down (e.g. a save in atexit)
            for fut, _ in pieces:
                fut.cancel()
            self.value = fn(mv)
            return
        self.pieces = pieces

    def result(self) -> int:
        if self.value is None:
            crc = None
            fn = _crc32_impl or crc32_function()
            for fut, piece in self.pieces:
                part = fn(piece) if fut.cancel() else fut.result()
                crc = part if crc is None else crc32_combine(crc, part, len(piece))
            self.value, self.pieces = crc, None
        return self.value

    def cancel(self) -> None:
        """Drop the pieces not started yet (after an error: nobody will ask for the result)."""
        if self.pieces:
            for fut, _ in self.pieces:
                fut.cancel()
            self.pieces = None


def crc32(data) -> int:
    """``zlib.crc32(data)``, on several threads when ``data`` is large."""
    return CrcJob(data).result()


# ---------------------------------------------------------------------------------------------
# zip writer
# ---------------------------------------------------------------------------------------------
ZIP64_LIMIT = (1 << 32) - 1  # a size or offset at or above this needs zip64 fields
_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IBBBBHHHHIIIHHHHHII")
_END = struct.Struct("<IHHHHIIH")
_END64 = struct.Struct("<IQHHIIQQQQ")
_LOCATOR64 = struct.Struct("<IIQI")
_DOS_DATE = (0 << 9) | (1 << 5) | 1  # 1980-01-01, as torch and a reproducible build write
_ATTR = 0o600 << 16  # -rw-------, what zipfile writes for a record opened for writing


class ZipWriter:
    """Writes stored records to the binary file object ``fp``, each record's data ``align``-byte aligned.

    ``fp`` needs only ``write``. Offsets in the archive count from where ``fp`` stood at the start
    (as ``zipfile`` does); alignment is of the absolute position when ``fp.tell()`` works.
    Array data is handed to ``fp.write`` as a memoryview: a buffered file writes a large buffer
    straight from that memory.
    """

    def __init__(self, fp, align: int = 64):
        self.fp, self.align = fp, align
        try:
            start = fp.tell()
        except (AttributeError, OSError, ValueError):
            start = 0
        self.start = start  # absolute position of the archive's first byte
        self.pos = 0  # bytes written so far
        self.entries: list[tuple[bytes, int, int, int, int]] = []  # name, crc, size, offset, flags

    def _write(self, data) -> None:
        mv = memoryview(data)
        n = mv.nbytes
        done = self.fp.write(mv)
        while done is not None and done < n:  # a raw (unbuffered) file may take less than asked
            done += self.fp.write(mv[done:])
        self.pos += n

    def add(self, name: str, data, crc) -> None:
        """One record; ``crc`` is its CRC-32 or a ``CrcJob`` (waited for before the header goes out)."""
        raw = name.encode("utf-8")
        flags = 0 if raw.isascii() else 0x800  # bit 11: the name is UTF-8
        mv = data if isinstance(data, bytes) else memoryview(data).cast("B")
        size = len(mv)
        offset = self.pos
        zip64 = size >= ZIP64_LIMIT
        extra = struct.pack("<HHQQ", 1, 16, size, size) if zip64 else b""
        head = _LOCAL.size + len(raw) + len(extra) + 4  # + the FB field's own 4 bytes
        pad = (-(self.start + offset + head)) % self.align
        extra += b"FB" + struct.pack("<H", pad) + b"Z" * pad
        if not isinstance(crc, int):
            crc = crc.result()
        small = 0xFFFFFFFF if zip64 else size
        self._write(_LOCAL.pack(0x04034B50, 45 if zip64 else 20, flags, 0, 0, _DOS_DATE, crc, small, small,
                                len(raw), len(extra)) + raw + extra)
        if size:
            self._write(mv)
        self.entries.append((raw, crc, size, offset, flags))

    def close(self) -> None:
        """The central directory and the end records (zip64 ones where counts or offsets need them)."""
        cd_start = self.pos
        parts = []
        for raw, crc, size, offset, flags in self.entries:
            z64 = []
            if size >= ZIP64_LIMIT:
                z64 += [size, size]
            if offset >= ZIP64_LIMIT:
                z64.append(offset)
            extra = struct.pack(f"<HH{len(z64)}Q", 1, 8 * len(z64), *z64) if z64 else b""
            small = 0xFFFFFFFF if size >= ZIP64_LIMIT else size
            version = 45 if z64 else 20
            parts.append(_CENTRAL.pack(0x02014B50, version, 3, version, 0, flags, 0, 0, _DOS_DATE, crc, small,
                                       small, len(raw), len(extra), 0, 0, 0, _ATTR,
                                       0xFFFFFFFF if offset >= ZIP64_LIMIT else offset) + raw + extra)
        cd = b"".join(parts)
        self._write(cd)
        count, cd_size = len(self.entries), len(cd)
        tail = b""
        if count >= 0xFFFF or cd_size >= ZIP64_LIMIT or cd_start >= ZIP64_LIMIT:
            end64 = self.pos
            tail = (_END64.pack(0x06064B50, 44, 45, 45, 0, 0, count, count, cd_size, cd_start)
                    + _LOCATOR64.pack(0x07064B50, 0, end64, 1))
            count, cd_size, cd_start = min(count, 0xFFFF), min(cd_size, 0xFFFFFFFF), 0xFFFFFFFF
        self._write(tail + _END.pack(0x06054B50, 0, 0, count, count, cd_size, cd_start, 0))


# ---------------------------------------------------------------------------------------------
# durable, atomic file writes
# ---------------------------------------------------------------------------------------------
_SFR_WRITE = 2  # SYNC_FILE_RANGE_WRITE: start write-back of dirty pages, do not wait
_sfr_fn = False  # not looked up yet


def _sync_file_range():
    """libc's ``sync_file_range`` on Linux (through ctypes), else None."""
    global _sfr_fn
    if _sfr_fn is False:
        _sfr_fn = None
        if sys.platform.startswith("linux"):
            try:
                import ctypes
                fn = ctypes.CDLL(None, use_errno=True).sync_file_range
                fn.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
                fn.restype = ctypes.c_int
                _sfr_fn = fn
            except (OSError, AttributeError):
                pass
    return _sfr_fn


class BackgroundSync:
    """Starts the disk on the bytes written so far, from a helper thread, every ``EVERY`` bytes.

    The disk then works while later records are written, and the final ``fsync`` has little left.
    On Linux the helper calls ``sync_file_range(WRITE)`` on the new bytes: it starts their write-back
    without a journal commit and leaves any write-back error to the final ``fsync``. Elsewhere it
    calls ``fdatasync``; an error of that is raised by ``finish`` (the kernel reports a write-back
    error once per file, so the final ``fsync`` might not see it again).
    """

    EVERY = 8 << 20

    def __init__(self, fp):
        self.fp, self.mark, self.thread, self.error = fp, 0, None, None
        self.sfr = _sync_file_range()
        self.enabled = self.sfr is not None or hasattr(os, "fdatasync")

    def wrote(self, pos: int) -> None:
        if not self.enabled or pos - self.mark < self.EVERY:
            return
        if self.thread is not None:
            if self.thread.is_alive():
                return
            self.thread = None
            self._raise()
        self.fp.flush()
        thread = threading.Thread(target=self._run, args=(self.mark, pos), name="ember-fsync", daemon=True)
        try:
            thread.start()
        except RuntimeError:  # no new threads at interpreter shutdown: the final fsync does it all
            self.enabled = False
            return
        self.thread, self.mark = thread, pos

    def _run(self, start: int, end: int) -> None:
        try:
            fd = self.fp.fileno()
            if self.sfr is not None:
                if self.sfr(fd, start, end - start, _SFR_WRITE) == 0:
                    return
                self.sfr = None  # unsupported here: fall back; the final fsync is what counts
            os.fdatasync(fd)
        except BaseException as e:  # noqa: BLE001 - handed to the saving thread
            self.error = e

    def _raise(self) -> None:
        if self.error is not None:
            e, self.error = self.error, None
            raise e

    def finish(self) -> None:
        """Wait for a flush in progress (always, before the file closes); raise its error."""
        if self.thread is not None:
            self.thread.join()
            self.thread = None
        self._raise()


def atomic_write(path: str, write: Callable, fsync: bool = True) -> None:
    """``write(fp, sync)`` into a temp file beside ``path``, fsync, then rename over ``path``.

    ``sync`` is a ``BackgroundSync`` (or None): ``sync.wrote(pos)`` lets the disk start early.

    On any error (or KeyboardInterrupt) the temp file is removed and ``path`` is untouched.
    """
    if os.path.islink(path):
        path = os.path.realpath(path)  # write through a symlink, as open(path, "wb") would
    if os.path.isdir(path):
        raise IsADirectoryError(f"ember.save: {path!r} is a directory")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise RuntimeError(f"Parent directory {folder} does not exist.")
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as fp:
            sync = BackgroundSync(fp) if fsync else None
            try:
                write(fp, sync)
            finally:
                if sync is not None:
                    sync.finish()  # before the file closes, also when write failed
            fp.flush()
            if fsync:
                os.fsync(fp.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    if fsync and hasattr(os, "O_DIRECTORY"):  # make the rename itself durable
        try:
            dfd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
        except OSError:
            pass
