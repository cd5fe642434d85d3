"""ember.save / ember.load inside Ember: round trips, safety, corruption, atomic writes, pickling.

Interchange with PyTorch lives in test_serialization_torch.py; here PyTorch is the oracle where a
behaviour has a PyTorch counterpart (pickle and deepcopy of views, error classes).
"""
from __future__ import annotations

import copy
import io
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time
import zipfile

import numpy as np
import pytest
import torch

import ember
import ember.nn as enn
import ember.serialization as S
from ember.serialization import CheckpointError

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64",
          "complex64", "complex128"]


def _array(name, shape, rng):
    if name == "bool":
        return rng.random(shape) > 0.5
    if name.startswith("complex"):
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(name)
    if name.startswith("float"):
        return rng.standard_normal(shape).astype(name)
    return rng.integers(-100 if name[0] == "i" else 0, 100, size=shape).astype(name)


def _eq(a, b):
    assert type(a) is type(b) and a.dtype == b.dtype and a.shape == b.shape
    assert a.requires_grad == b.requires_grad
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def _shares(a, b):
    return np.shares_memory(a._data, b._data)


# --------------------------------------------------------------------------------------------- round trips
@pytest.mark.parametrize("dtype", DTYPES)
def test_round_trip_every_dtype(dtype, tmp_path, rng):
    x = ember.tensor(_array(dtype, (4, 3), rng))
    s = x.requires_grad_() if dtype.startswith(("float", "complex")) else x
    ember.save({"x": s, "v": x.detach()[1:, ::2], "z": x.detach()[:0], "0d": x.detach()[1, 2]}, tmp_path / "c.pt")
    got = ember.load(tmp_path / "c.pt")
    _eq(got["x"], s)
    _eq(got["v"], x.detach()[1:, ::2])
    _eq(got["z"], x.detach()[:0])
    _eq(got["0d"], x.detach()[1, 2])
    assert got["x"].is_leaf and got["x"]._data.flags.writeable


def test_views_share_after_round_trip_and_identity_is_kept(tmp_path, rng):
    x = ember.tensor(rng.standard_normal((4, 6)).astype(np.float32))
    obj = {"x": x, "again": x, "rows": x[1:3], "t": x.t(), "step": x[:, ::2], "flip": x.flip(0),
           "expand": x[:, :1].expand(4, 3)}
    ember.save(obj, tmp_path / "c.pt")
    with zipfile.ZipFile(tmp_path / "c.pt") as zf:
        storages = [n for n in zf.namelist() if "/data/" in n]
    assert len(storages) == 2  # one shared storage, plus a copy for the negative-stride flip
    got = ember.load(tmp_path / "c.pt")
    assert got["again"] is got["x"]
    for k, v in obj.items():
        _eq(got[k], v)
    for k in ("rows", "t", "step", "expand"):
        assert _shares(got[k], got["x"]), k
        assert got[k].stride() == obj[k].stride() and got[k].storage_offset() == obj[k].storage_offset()
    got["x"][1, 4] = 99.0
    assert got["rows"][0, 4].item() == 99.0 and got["t"][4, 1].item() == 99.0 and got["step"][1, 2].item() == 99.0


def test_state_dict_round_trip_restores_module(tmp_path, rng):
    m = enn.Sequential(enn.Linear(4, 8), enn.BatchNorm1d(8), enn.Linear(8, 2))
    m(ember.tensor(rng.standard_normal((5, 4)).astype(np.float32)))
    ember.save(m.state_dict(), tmp_path / "m.pt")
    m2 = enn.Sequential(enn.Linear(4, 8), enn.BatchNorm1d(8), enn.Linear(8, 2))
    m2.load_state_dict(ember.load(tmp_path / "m.pt"))
    for (k, a), (k2, b) in zip(m.state_dict().items(), m2.state_dict().items()):
        assert k == k2
        _eq(a, b)


def test_file_objects_and_non_seekable_streams(rng):
    x = ember.tensor(rng.standard_normal(5).astype(np.float32))
    buf = io.BytesIO()
    ember.save([x, "meta"], buf)

    class Stream(io.RawIOBase):  # readable, not seekable (a pipe, a socket)
        def __init__(self, data):
            self.src = io.BytesIO(data)

        def readable(self):
            return True

        def readinto(self, b):
            return self.src.readinto(b)

    got = ember.load(io.BufferedReader(Stream(buf.getvalue())))
    _eq(got[0], x)
    assert got[1] == "meta"


def test_map_location_callable_and_storage_api(tmp_path):
    ember.save({"w": ember.ones(3)}, tmp_path / "c.pt")
    calls = []

    def fn(storage, loc):
        calls.append((loc, storage.dtype, storage.size()))
        return storage.cpu()

    got = ember.load(tmp_path / "c.pt", map_location=fn)
    assert calls == [("cpu", ember.float32, 3)]
    _eq(got["w"], ember.ones(3))
    with pytest.raises(TypeError, match="map_location"):
        ember.load(tmp_path / "c.pt", map_location=3.5)

    def broken(storage, loc):
        raise KeyError("user bug")

    with pytest.raises(KeyError, match="user bug"):  # the user's error, not "file corrupted"
        ember.load(tmp_path / "c.pt", map_location=broken)


def test_mmap_is_lazy_and_copy_on_write(tmp_path, rng):
    x = ember.tensor(rng.standard_normal((32, 32)).astype(np.float32))
    ember.save({"x": x, "v": x[2:, 5:]}, tmp_path / "c.pt")
    before = (tmp_path / "c.pt").read_bytes()
    got = ember.load(tmp_path / "c.pt", mmap=True)
    _eq(got["x"], x)
    assert _shares(got["x"], got["v"])
    import mmap as mm
    assert isinstance(got["x"]._data.base.base, mm.mmap)  # storage array over the map: mapped, not read
    assert got["x"].data_ptr() % 64 == 0  # storages are 64-byte aligned in the file
    got["x"][2, 5] = 5.0
    assert got["v"][0, 0].item() == 5.0
    del got
    assert (tmp_path / "c.pt").read_bytes() == before
    with pytest.raises(ValueError, match="mmap"):
        ember.load(io.BytesIO(before), mmap=True)


def test_cuda_tensors_save_their_location(tmp_path, monkeypatch):
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "cuda"))
    try:
        import fake_cupy
    finally:
        sys.path.pop(0)
    fake_cupy.install(monkeypatch)
    g = ember.arange(6.0).reshape(2, 3).to("cuda")
    ember.save({"g": g}, tmp_path / "g.pt")
    with zipfile.ZipFile(tmp_path / "g.pt") as zf:
        assert b"cuda:0" in zf.read("g/data.pkl")
    want = torch.load(tmp_path / "g.pt", weights_only=True, map_location="cpu")["g"]
    got = ember.load(tmp_path / "g.pt", map_location="cpu")["g"]
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    assert got.device == ember.device("cpu")


# --------------------------------------------------------------------------------------------- safety
def _zip_with_pickle(path, payload: bytes, storages=()):
    """A zip in torch's layout whose data.pkl is ``payload``."""
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("archive/data.pkl", payload)
        zf.writestr("archive/byteorder", "little")
        for key, data in storages:
            zf.writestr(f"archive/data/{key}", data)
        zf.writestr("archive/version", "3\n")


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_malicious_pickle_is_refused_without_running(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    _zip_with_pickle(path, pickle.dumps({"w": _Evil(marker)}, protocol=2))
    with pytest.raises(pickle.UnpicklingError, match=r"Unsupported global: GLOBAL (posix|os|nt)\.system") as ei:
        ember.load(path)
    assert "evil.pt" in str(ei.value)
    with pytest.raises(pickle.UnpicklingError, match="posix.system|os.system"):
        torch.load(path, weights_only=True)  # PyTorch refuses it too
    assert not marker.exists()
    # weights_only=False is the explicit opt-in: then the pickle does run (which is why it is opt-in).
    ember.load(path, weights_only=False)
    assert marker.exists()


class _Call:
    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return (self.fn, self.args)


@pytest.mark.parametrize("payload", [
    pickle.dumps(_Call(eval, "1+1"), protocol=2),
    pickle.dumps(_Call(getattr, 1, "real"), protocol=2),
    pickle.dumps([_Call(S._atomic_write, "x", None)], protocol=2),
    pickle.dumps({"f": exec}, protocol=4),  # STACK_GLOBAL goes through the same check
    pickle.dumps(_Call(np.load, "x.npy"), protocol=5),
])
def test_other_globals_are_refused(payload, tmp_path):
    _zip_with_pickle(tmp_path / "x.pt", payload)
    with pytest.raises(pickle.UnpicklingError, match="Unsupported global"):
        ember.load(tmp_path / "x.pt")


def test_rebuild_with_bad_geometry_is_an_error_not_a_crash(tmp_path):
    # A storage of 4 floats, and a tensor that claims 100 elements from it.
    pkl = (b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00storagectorch\nFloatStorage\n"
           b"X\x01\x00\x00\x000X\x03\x00\x00\x00cpuK\x04tQK\x00Kd\x85K\x01\x85\x89ccollections\nOrderedDict\n"
           b")RtR.")
    _zip_with_pickle(tmp_path / "x.pt", pkl, [("0", np.ones(4, np.float32).tobytes())])
    with pytest.raises(pickle.UnpicklingError, match="outside its storage"):
        ember.load(tmp_path / "x.pt")


def _reconstruct_fn():
    import pickletools
    pk = pickle.dumps(np.arange(2), protocol=2)
    mod, name = next(a for op, a, _ in pickletools.genops(pk) if op.name == "GLOBAL").split(" ")
    import importlib
    return getattr(importlib.import_module(mod), name)


def test_safe_globals_allow_listed_by_the_user(tmp_path):
    ember.save({"arr": np.arange(3)}, tmp_path / "np.pt")
    with pytest.raises(pickle.UnpicklingError, match="numpy"):
        ember.load(tmp_path / "np.pt")
    with S.safe_globals([np.ndarray, np.dtype, type(np.dtype(np.int64)), _reconstruct_fn()]):
        got = ember.load(tmp_path / "np.pt")
    np.testing.assert_array_equal(got["arr"], np.arange(3))
    assert S.get_safe_globals() == []


# --------------------------------------------------------------------------------------------- bad files
def _good_file(tmp_path, rng):
    path = tmp_path / "good.pt"
    ember.save({"w": ember.tensor(rng.standard_normal((4, 4)).astype(np.float32)), "n": 3,
                "b": ember.arange(5)}, path)
    return path


def _assert_clear_error(path, want=None):
    try:
        got = ember.load(path)
    except (CheckpointError, pickle.UnpicklingError) as e:
        assert os.path.basename(str(path)) in str(e), str(e)
        return "error"
    assert want is not None, "a broken file loaded without an error"
    # A flip in bytes nobody reads (timestamps, padding) may load: then the data must be exact.
    assert set(got) == set(want) and got["n"] == want["n"]
    for k in ("w", "b"):
        _eq(got[k], want[k])
    return "loaded"


def test_truncated_files_raise_clear_errors(tmp_path, rng):
    data = _good_file(tmp_path, rng).read_bytes()
    bad = tmp_path / "cut.pt"
    for n in sorted({0, 1, 3, 4, 30, 64, len(data) // 3, len(data) // 2, len(data) - 22, len(data) - 1}):
        bad.write_bytes(data[:n])
        with pytest.raises((CheckpointError, pickle.UnpicklingError), match="cut.pt"):
            ember.load(bad)


def test_every_single_bit_flip_is_detected_or_harmless(tmp_path, rng):
    good = _good_file(tmp_path, rng)
    want = ember.load(good)
    data = good.read_bytes()
    bad = tmp_path / "flip.pt"
    payload = set()  # bytes of data.pkl and of every storage record
    with zipfile.ZipFile(good) as zf, open(good, "rb") as fp:
        for zi in zf.infolist():
            if zi.filename.endswith("data.pkl") or "/data/" in zi.filename:
                start = S._data_offset(fp, zi, "")
                payload.update(range(start, start + zi.file_size))
    assert len(payload) > 64 + 20 + 100
    for i in sorted(payload | set(range(0, len(data), 5))):  # headers and directory: a sample
        b = bytearray(data)
        b[i] ^= 1 << (i % 8)
        bad.write_bytes(bytes(b))
        outcome = _assert_clear_error(bad, want)
        if i in payload:
            assert outcome == "error", f"flipped byte {i} of the pickle or tensor data went unnoticed"


def test_not_a_checkpoint(tmp_path):
    cases = {"empty.pt": b"", "text.pt": b"hello world, not a checkpoint\n", "rand.pt": bytes(range(256)) * 4}
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(CheckpointError, match=name):
            ember.load(tmp_path / name)
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as zf:
        zf.writestr("readme.txt", "hi")
    with pytest.raises(CheckpointError, match="data.pkl"):
        ember.load(tmp_path / "other.zip")
    with pytest.raises(FileNotFoundError):
        ember.load(tmp_path / "missing.pt")


# --------------------------------------------------------------------------------------------- atomic writes
def _no_temp_files(folder):
    return [p.name for p in folder.iterdir() if p.name.endswith(".tmp")] == []


def test_failed_save_leaves_old_file_and_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "ck.pt"
    ember.save({"v": ember.ones(3)}, path)
    old = path.read_bytes()
    with pytest.raises((pickle.PicklingError, AttributeError, TypeError)):
        ember.save({"v": ember.zeros(3), "f": lambda: 1}, path)  # unpicklable: fails before any write
    assert path.read_bytes() == old and _no_temp_files(tmp_path)

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(S.os, "fsync", disk_full)  # fails after every byte of the temp file is written
    with pytest.raises(OSError, match="No space"):
        ember.save({"v": ember.zeros(1000)}, path)
    assert path.read_bytes() == old and _no_temp_files(tmp_path)
    _eq(ember.load(path)["v"], ember.ones(3))


def test_kill_during_save_keeps_old_checkpoint(tmp_path):
    path = tmp_path / "ck.pt"
    ember.save({"step": 1, "w": ember.ones(10)}, path)
    old = path.read_bytes()
    child = textwrap.dedent(f"""
        import time, numpy as np, ember, ember.serialization as S
        slow = S._zip_io.ZipWriter.add
        def add(zw, name, data, crc):  # widen the window in which the temp file is half written
            slow(zw, name, data, crc)
            time.sleep(0.02)
        S._zip_io.ZipWriter.add = add
        sd = {{f"w{{i}}": ember.from_numpy(np.full(1 << 18, i, np.float32)) for i in range(200)}}
        ember.save(sd, {str(path)!r})
    """)
    proc = subprocess.Popen([sys.executable, "-c", child], cwd=os.path.dirname(os.path.dirname(__file__)))
    try:
        deadline = time.monotonic() + 60
        tmp = None
        while time.monotonic() < deadline and proc.poll() is None:
            tmps = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
            if tmps and tmps[0].stat().st_size > (4 << 20):
                tmp = tmps[0]
                break
            time.sleep(0.005)
        assert tmp is not None and proc.poll() is None, "the child finished before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert path.read_bytes() == old
    got = ember.load(path)
    assert got["step"] == 1
    _eq(got["w"], ember.ones(10))


def test_save_arguments_checked():
    with pytest.raises(NotImplementedError):
        ember.save(ember.ones(1), io.BytesIO(), _use_new_zipfile_serialization=False)
    with pytest.raises(AttributeError):
        ember.save(ember.ones(1), 42)
    with pytest.raises(RuntimeError, match="pickle_module"):
        ember.load(io.BytesIO(), pickle_module=object())


# --------------------------------------------------------------------------------------------- pickle/copy
def test_pickle_and_deepcopy_keep_dtype_grad_and_view_sharing(rng):
    a = rng.standard_normal((3, 4)).astype(np.float32)
    e = ember.tensor(a).requires_grad_()
    t = torch.tensor(a).requires_grad_()
    ev, tv = e.detach(), t.detach()
    for dup in (lambda o: pickle.loads(pickle.dumps(o)), copy.deepcopy):
        ge = dup([e, ev[1:], ev.t(), ember.arange(3, dtype=ember.int16)])
        gt = dup([t, tv[1:], tv.t(), torch.arange(3, dtype=torch.int16)])
        for x, y in zip(ge, gt):
            assert str(x.dtype) == str(y.dtype) and x.requires_grad == y.requires_grad
            assert x.stride() == y.stride()
            np.testing.assert_array_equal(x.detach().numpy(), y.detach().numpy())
        with torch.no_grad():
            gt[1][0, 0] = 42.0
        with ember.no_grad():
            ge[1][0, 0] = 42.0
        # Views still share after the copy. (PyTorch's deepcopy does too; its plain pickle copies
        # each view separately, torch.save shares: Ember's pickle shares, like torch.save.)
        assert ge[2][0, 1].item() == 42.0 and ge[0][1, 0].item() == 42.0
        if dup is copy.deepcopy:
            assert gt[2][0, 1].item() == 42.0
        assert e[1, 0].item() == a[1, 0]  # ... and not with the original
    p = pickle.loads(pickle.dumps(enn.Parameter(ember.ones(2))))
    assert type(p) is enn.Parameter and p.requires_grad


def test_dlpack_with_numpy_and_grad_check(rng):
    a = rng.standard_normal((2, 3)).astype(np.float32)
    x = ember.from_dlpack(a)
    x[0, 0] = 5.0
    assert a[0, 0] == 5.0
    b = np.from_dlpack(x)
    b[1, 1] = -1.0
    assert x[1, 1].item() == -1.0
    with pytest.raises(BufferError, match="require"):
        torch.from_dlpack(ember.ones(2, requires_grad=True))
    with pytest.raises(BufferError, match="require"):
        torch.ones(2, requires_grad=True).__dlpack__()
    with pytest.raises(TypeError):
        ember.from_dlpack([1, 2])


def test_safetensors_round_trip(tmp_path, rng):
    pytest.importorskip("safetensors")
    d = {k: ember.tensor(_array(k, (2, 3), rng)) for k in ("float32", "int64", "bool", "float16", "uint8")}
    S.save_safetensors(d, tmp_path / "m.safetensors", metadata={"note": "hi"})
    got = S.load_safetensors(tmp_path / "m.safetensors")
    assert list(got) == sorted(d) or set(got) == set(d)
    for k in d:
        _eq(got[k], d[k])
    with pytest.raises(TypeError):
        S.save_safetensors({"a": np.ones(2)}, tmp_path / "x.safetensors")
