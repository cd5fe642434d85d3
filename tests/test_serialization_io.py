"""The byte level of checkpoints (ember/_zip_io.py): parallel CRC-32, crc32_combine, the zip writer.

zlib / zipfile / PyTorch are the oracles: CRCs are compared with ``zlib.crc32``, archives are read
back with Python's ``zipfile`` and with ``torch.load(weights_only=True)``.
"""
from __future__ import annotations

import io
import multiprocessing
import os
import sys
import zipfile
import zlib
from concurrent.futures import Future

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import ember
import ember._zip_io as Z
import ember.serialization as S
from ember.serialization import CheckpointError

BACKENDS = {"zlib": zlib.crc32, "fastest": Z._pick_crc32()}


@pytest.fixture
def small_pieces(monkeypatch):
    """Pieces of 64 KiB from 128 KiB on: small buffers take the parallel path."""
    monkeypatch.setattr(Z, "CHUNK", 1 << 16)
    monkeypatch.setattr(Z, "_INLINE_BELOW", 1 << 17)


@pytest.fixture(params=sorted(BACKENDS))
def backend(request, monkeypatch):
    monkeypatch.setattr(Z, "_crc32_impl", BACKENDS[request.param])
    return request.param


# --------------------------------------------------------------------------------------------- CRC arithmetic
@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=3000), st.binary(max_size=3000))
def test_crc32_combine_matches_zlib(a, b):
    assert Z.crc32_combine(zlib.crc32(a), zlib.crc32(b), len(b)) == zlib.crc32(a + b)


def test_crc32_combine_long_lengths():
    # lengths with many bits set exercise every power of x; the zeros are the cheap way to get them
    a = bytes(range(256)) * 3
    for n in (1, 7, 64, 4095, 65537, 1 << 20, (1 << 21) + 12345):
        b = bytes(n - 1) + b"\x01"
        assert Z.crc32_combine(zlib.crc32(a), zlib.crc32(b), n) == zlib.crc32(a + b), n
    assert Z.crc32_combine(0x1234, 0x5678, 0) == 0x1234


def test_fastest_backend_is_the_same_crc():
    data = np.random.default_rng(0).integers(0, 256, 300_001, dtype=np.uint8)
    fn = BACKENDS["fastest"]
    assert fn(memoryview(data)) == zlib.crc32(data)
    assert fn(memoryview(data)[7:], 99) == zlib.crc32(memoryview(data)[7:], 99)


@pytest.mark.parametrize("workers", [1, 2, 3])
@pytest.mark.parametrize("size", [0, 5, (1 << 17) - 1, 1 << 17, (1 << 17) + 1, 5 * (1 << 16) + 333])
def test_parallel_crc_matches_zlib(size, workers, small_pieces, backend, monkeypatch):
    monkeypatch.setattr(Z, "WORKERS", workers)
    data = np.random.default_rng(size).integers(0, 256, size, dtype=np.uint8)
    assert Z.crc32(data) == zlib.crc32(data)
    f32 = np.random.default_rng(1).standard_normal(size // 4 + 1).astype(np.float32)
    assert Z.CrcJob(f32).result() == zlib.crc32(f32.tobytes())


class _NotStarted(Future):
    def result(self, timeout=None):
        raise AssertionError("waited for a piece that no worker had started")


class _NeverRuns:
    """An executor whose tasks never start: every piece must be computed by the waiting thread."""

    def __init__(self):
        self.submitted = 0

    def submit(self, fn, *args):
        self.submitted += 1
        return _NotStarted()


def test_waiting_thread_computes_pieces_nobody_started(small_pieces, monkeypatch):
    idle = _NeverRuns()
    monkeypatch.setattr(Z, "_executor", lambda: idle)
    data = np.random.default_rng(2).integers(0, 256, 10 * (1 << 16) + 5, dtype=np.uint8)
    assert Z.crc32(data) == zlib.crc32(data)
    assert idle.submitted == 11


def _crc_in_child(queue):
    data = np.random.default_rng(3).integers(0, 256, 1 << 19, dtype=np.uint8)
    try:  # the child has a pool of its own whose workers run (the parent's threads are not there)
        ran = Z._executor().submit(int, 7).result(timeout=10) == 7
    except Exception:  # noqa: BLE001
        ran = False
    queue.put((ran, Z.crc32(data) == zlib.crc32(data)))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork start method")
def test_pool_works_in_a_forked_child(small_pieces):
    Z.crc32(np.zeros(1 << 19, np.uint8))  # the parent's pool exists now
    ctx = multiprocessing.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=_crc_in_child, args=(q,))
    p.start()
    p.join(30)
    alive = p.is_alive()
    if alive:
        p.kill()
    assert not alive, "CRC in a forked child hung (inherited thread pool)"
    assert p.exitcode == 0 and q.get(timeout=5) == (True, True)


# --------------------------------------------------------------------------------------------- zip archives
def _state(rng):
    return {"w": ember.tensor(rng.standard_normal((300, 200)).astype(np.float32)),  # 240 kB: pieces
            "b": ember.tensor(rng.standard_normal(7).astype(np.float64)),
            "i": ember.arange(5), "n": 3}


def _check_archive(raw: bytes, want, prefix: int = 0):
    """Python's zipfile, ember.load and torch.load all read ``raw`` and agree with ``want``."""
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        assert zf.testzip() is None  # every record's CRC-32 checks
        for zi in zf.infolist():
            assert zi.compress_type == zipfile.ZIP_STORED
            start = S._data_offset(io.BytesIO(raw), zi, "")
            if "/data/" in zi.filename:
                assert start % 64 == 0, (zi.filename, start)
    f = io.BytesIO(raw)
    f.seek(prefix)
    got = ember.load(f)
    f.seek(prefix)
    ref = torch.load(f, weights_only=True)
    assert got["n"] == ref["n"] == want["n"]
    for k in ("w", "b", "i"):
        np.testing.assert_array_equal(got[k].numpy(), want[k].numpy())
        np.testing.assert_array_equal(ref[k].numpy(), want[k].numpy())


def test_archive_reads_in_zipfile_ember_and_torch(rng, small_pieces, backend):
    want = _state(rng)
    buf = io.BytesIO()
    ember.save(want, buf)
    _check_archive(buf.getvalue(), want)


def test_zip64_records_and_directory(rng, small_pieces, monkeypatch):
    monkeypatch.setattr(Z, "ZIP64_LIMIT", 200)  # every size/offset past 200 bytes takes zip64 fields
    want = _state(rng)
    buf = io.BytesIO()
    ember.save(want, buf)
    raw = buf.getvalue()
    assert b"PK\x06\x06" in raw and b"PK\x06\x07" in raw  # zip64 end record and its locator
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        big = [zi for zi in zf.infolist() if zi.file_size >= 200]
        assert big and all(zi.extract_version == 45 for zi in big)
        infos = zf.infolist()
    # in the central directory, a 32-bit offset past the limit is 0xFFFFFFFF: readers take the zip64 one
    cd = raw[raw.index(b"PK\x01\x02"):]
    fields = [int.from_bytes(cd[i + 42:i + 46], "little") for i in range(len(cd)) if cd.startswith(b"PK\x01\x02", i)]
    assert fields == [0xFFFFFFFF if zi.header_offset >= 200 else zi.header_offset for zi in infos]
    assert any(f == 0xFFFFFFFF for f in fields)
    _check_archive(raw, want)


def test_archive_after_a_prefix_is_aligned_in_the_file(rng):
    want = _state(rng)
    buf = io.BytesIO()
    buf.write(b"x" * 13)  # e.g. a header of the user's own format before the checkpoint
    ember.save(want, buf)
    _check_archive(buf.getvalue(), want, prefix=13)


class _WriteOnly:
    """A stream with only ``write`` (a socket or pipe wrapper): no tell, no seek."""

    def __init__(self):
        self.parts = []

    def write(self, b):
        self.parts.append(bytes(b))
        return len(b)


class _Dribble(io.RawIOBase):
    """A raw stream that accepts at most 1000 bytes per write call."""

    def __init__(self):
        self.out = bytearray()

    def writable(self):
        return True

    def write(self, b):
        b = memoryview(b)[:1000]
        self.out += b
        return len(b)


def test_write_only_and_short_write_streams(rng, small_pieces):
    want = _state(rng)
    w = _WriteOnly()
    ember.save(want, w)
    _check_archive(b"".join(w.parts), want)
    d = _Dribble()
    ember.save(want, d)
    _check_archive(bytes(d.out), want)


def test_flip_in_a_multi_piece_record_is_detected(tmp_path, rng, small_pieces, backend):
    want = _state(rng)
    path = tmp_path / "c.pt"
    ember.save(want, path)
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf, open(path, "rb") as fp:
        zi = max(zf.infolist(), key=lambda z: z.file_size)
        start = S._data_offset(fp, zi, "")
    assert zi.file_size > 3 * Z.CHUNK
    for where in (start, start + Z.CHUNK + 17, start + zi.file_size - 1):  # first, middle, last piece
        bad = bytearray(raw)
        bad[where] ^= 0x10
        (tmp_path / "bad.pt").write_bytes(bytes(bad))
        with pytest.raises(CheckpointError, match="CRC-32"):
            ember.load(tmp_path / "bad.pt")
    np.testing.assert_array_equal(ember.load(path)["w"].numpy(), want["w"].numpy())


# --------------------------------------------------------------------------------------------- durability
needs_fdatasync = pytest.mark.skipif(not hasattr(os, "fdatasync"), reason="no fdatasync on this platform")


def _big(rng):
    return {f"w{i}": ember.tensor(rng.standard_normal(1 << 15).astype(np.float32)) for i in range(4)}


@needs_fdatasync
def test_background_flush_error_fails_the_save(tmp_path, rng, monkeypatch):
    path = tmp_path / "ck.pt"
    ember.save({"v": ember.ones(3)}, path)
    old = path.read_bytes()
    monkeypatch.setattr(Z, "_sfr_fn", None)  # the fdatasync flavour: its errors are the save's
    monkeypatch.setattr(Z.BackgroundSync, "EVERY", 1 << 16)
    calls = []

    def failing(fd):
        calls.append(fd)
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(S.os, "fdatasync", failing)
    with pytest.raises(OSError, match="Input/output"):
        ember.save(_big(rng), path)
    assert calls, "the background flush never ran"
    assert path.read_bytes() == old
    assert [p.name for p in tmp_path.iterdir()] == ["ck.pt"]  # no temp file left


@pytest.mark.parametrize("flavour", ["sync_file_range", "fdatasync"])
def test_background_flushes_then_final_fsync(flavour, tmp_path, rng, monkeypatch):
    seen = []
    if flavour == "sync_file_range":
        real_sfr = Z._sync_file_range()
        if real_sfr is None:
            pytest.skip("no sync_file_range on this platform")
        monkeypatch.setattr(Z, "_sfr_fn", lambda fd, start, n, flags: (seen.append((start, n)), real_sfr(fd, start, n, flags))[1])
    else:
        if not hasattr(os, "fdatasync"):
            pytest.skip("no fdatasync on this platform")
        monkeypatch.setattr(Z, "_sfr_fn", None)
        real_datasync = os.fdatasync
        monkeypatch.setattr(S.os, "fdatasync", lambda fd: (seen.append("fdatasync"), real_datasync(fd))[1])
    real_fsync = os.fsync
    monkeypatch.setattr(S.os, "fsync", lambda fd: (seen.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(Z.BackgroundSync, "EVERY", 1 << 16)
    big = _big(rng)
    ember.save(big, tmp_path / "ck.pt")
    flushes = seen[:-2]
    assert flushes and "fsync" not in flushes and seen[-2:] == ["fsync", "fsync"]  # the file, then its folder
    if flavour == "sync_file_range":  # consecutive ranges of the new bytes, from the start
        assert flushes[0][0] == 0 and all(a[0] + a[1] == b[0] for a, b in zip(flushes, flushes[1:]))
    got = ember.load(tmp_path / "ck.pt")
    for k, v in big.items():
        np.testing.assert_array_equal(got[k].numpy(), v.numpy())


@needs_fdatasync
def test_failing_sync_file_range_falls_back_to_fdatasync(tmp_path, rng, monkeypatch):
    monkeypatch.setattr(Z, "_sfr_fn", lambda *args: -1)  # e.g. a file system that does not support it
    monkeypatch.setattr(Z.BackgroundSync, "EVERY", 1 << 16)
    calls = []
    real_datasync = os.fdatasync
    monkeypatch.setattr(S.os, "fdatasync", lambda fd: (calls.append(fd), real_datasync(fd))[1])
    big = _big(rng)
    ember.save(big, tmp_path / "ck.pt")
    assert calls
    np.testing.assert_array_equal(ember.load(tmp_path / "ck.pt")["w3"].numpy(), big["w3"].numpy())


@needs_fdatasync
def test_background_flush_error_is_raised_by_finish(tmp_path, monkeypatch):
    def failing(fd):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(Z, "_sfr_fn", None)
    monkeypatch.setattr(S.os, "fdatasync", failing)
    with open(tmp_path / "f", "wb") as fp:
        sync = Z.BackgroundSync(fp)
        fp.write(b"x" * 10)
        sync.wrote(sync.EVERY)  # starts the one flush, which fails
        with pytest.raises(OSError, match="Input/output"):
            sync.finish()
        sync.finish()  # reported once


def test_save_and_load_in_an_atexit_handler(tmp_path):
    # After threading's shutdown no pool task can start: CRCs and flushes run on the calling thread.
    import subprocess
    import textwrap
    path = tmp_path / "exit.pt"
    child = textwrap.dedent(f"""
        import atexit, numpy as np, ember, ember._zip_io as Z
        Z.BackgroundSync.EVERY = 1 << 16
        def bye():
            ember.save({{"w": ember.tensor(np.arange(1 << 20, dtype=np.float32))}}, {str(path)!r})
            print("sum", float(ember.load({str(path)!r})["w"].sum()))
        atexit.register(bye)
        ember.save({{"w": ember.tensor(np.ones(1 << 20, np.float32))}}, {str(path)!r})  # pool in use before
    """)
    out = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=60,
                         cwd=os.path.dirname(os.path.dirname(__file__)))
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
    n = 1 << 20
    assert out.stdout.split() == ["sum", str(float(np.arange(n, dtype=np.float64).sum()))]
