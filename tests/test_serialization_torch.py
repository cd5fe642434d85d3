"""Checkpoints between Ember and PyTorch: files written by one load in the other.

PyTorch is the oracle: a file ``ember.save`` writes must load with ``torch.load(weights_only=True)``
to the same values, dtypes, shapes, strides and storage sharing; a file ``torch.save`` writes must
load in Ember to the same. Models and optimizers continue identically after the exchange.
"""
from __future__ import annotations

import collections
import io
import pickle
import warnings

import numpy as np
import pytest
import torch

import ember
import ember.nn as enn
import ember.optim as eoptim
from ember import _pickle_safe
from ember.serialization import CheckpointError

from tests.conftest import assert_close

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64",
          "complex64", "complex128"]


def _array(name, shape, rng):
    if name == "bool":
        return rng.random(shape) > 0.5
    if name.startswith("complex"):
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(name)
    if name.startswith("float"):
        return rng.standard_normal(shape).astype(name)
    info = np.iinfo(name)
    return rng.integers(max(info.min, -1000), min(info.max, 1000), size=shape, endpoint=True).astype(name)


def _assert_same(e, t):
    """Ember tensor ``e`` equals torch tensor ``t`` exactly: dtype, shape, values, requires_grad."""
    assert isinstance(e, ember.Tensor) and isinstance(t, torch.Tensor)
    assert str(e.dtype) == str(t.dtype)
    assert tuple(e.shape) == tuple(t.shape)
    assert e.requires_grad == t.requires_grad
    np.testing.assert_array_equal(e.detach().numpy(), t.detach().numpy())


@pytest.mark.parametrize("dtype", DTYPES)
def test_every_dtype_both_ways(dtype, tmp_path, rng):
    a = _array(dtype, (3, 5), rng)
    e, t = ember.tensor(a.copy()), torch.tensor(a.copy())
    ember.save({"x": e, "s": e[1:, ::2]}, tmp_path / "e.pt")
    got = torch.load(tmp_path / "e.pt", weights_only=True)
    _assert_same(e, got["x"])
    _assert_same(e[1:, ::2], got["s"])
    torch.save({"x": t, "s": t[1:, ::2]}, tmp_path / "t.pt")
    back = ember.load(tmp_path / "t.pt")
    _assert_same(back["x"], t)
    _assert_same(back["s"], t[1:, ::2])


def test_views_share_one_storage_in_torch(tmp_path, rng):
    a = rng.standard_normal((4, 6)).astype(np.float32)
    e, t = ember.tensor(a.copy()), torch.tensor(a.copy())
    views = lambda x: [x, x[1:, 2:], x.t(), x[::2, 1::3], x[2], x.reshape(3, 8), x[:, :1].expand(4, 5)]  # noqa: E731
    ember.save(views(e), tmp_path / "e.pt")
    got = torch.load(tmp_path / "e.pt", weights_only=True)
    for g, want in zip(got, views(t)):
        assert g.shape == want.shape and g.stride() == want.stride()
        assert g.storage_offset() == want.storage_offset()
        assert torch.equal(g, want)
        assert g.untyped_storage().data_ptr() == got[0].untyped_storage().data_ptr()
    got[0][2, 3] = 100.0  # one storage: the change shows through every view
    assert got[1][1, 1].item() == 100.0 and got[2][3, 2].item() == 100.0


def test_torch_views_share_after_ember_load(tmp_path, rng):
    t = torch.tensor(rng.standard_normal((4, 6)).astype(np.float32))
    views = [t, t[1:, 2:], t.t(), t[::2, 1::3]]
    torch.save(views, tmp_path / "t.pt")
    got = ember.load(tmp_path / "t.pt")
    for g, want in zip(got, views):
        assert g.stride() == want.stride() and g.storage_offset() == want.storage_offset()
        _assert_same(g, want)
    got[0][2, 3] = 100.0
    assert got[1][1, 1].item() == 100.0 and got[2][3, 2].item() == 100.0


def test_parameters_and_requires_grad_both_ways(tmp_path):
    ep = enn.Parameter(ember.ones(2, 3))
    eg = ember.zeros(4).requires_grad_()
    ember.save({"p": ep, "g": eg, "frozen": enn.Parameter(ember.ones(2), requires_grad=False)}, tmp_path / "e.pt")
    got = torch.load(tmp_path / "e.pt", weights_only=True)
    assert type(got["p"]) is torch.nn.Parameter and got["p"].requires_grad
    assert type(got["g"]) is torch.Tensor and got["g"].requires_grad
    assert type(got["frozen"]) is torch.nn.Parameter and not got["frozen"].requires_grad
    torch.save(got, tmp_path / "t.pt")
    back = ember.load(tmp_path / "t.pt")
    assert type(back["p"]) is enn.Parameter and back["p"].requires_grad
    assert type(back["g"]) is ember.Tensor and back["g"].requires_grad and back["g"].is_leaf
    assert type(back["frozen"]) is enn.Parameter and not back["frozen"].requires_grad
    _assert_same(back["p"], got["p"])


def test_nested_containers_and_python_values_both_ways(tmp_path):
    def build(lib, size_cls):
        return {"epoch": 7, "loss": 0.25, "name": "run-1", "none": None, "flag": True, "blob": b"\x00\xff",
                "tags": {"a", "b"}, "c": 1 + 2j, "shape": size_cls([2, 3]), "dtype": lib.float16,
                "device": lib.device("cpu"), "nested": [(1, [lib.arange(3)]), {"deep": {"t": lib.ones(2)}}],
                "od": collections.OrderedDict(b=lib.zeros(1), a=lib.ones(1))}

    ember.save(build(ember, ember.Size), tmp_path / "e.pt")
    got = torch.load(tmp_path / "e.pt", weights_only=True)
    want = build(torch, torch.Size)
    assert got["dtype"] is torch.float16 and got["device"] == torch.device("cpu")
    assert type(got["shape"]) is torch.Size and got["shape"] == want["shape"]
    assert type(got["od"]) is collections.OrderedDict and list(got["od"]) == ["b", "a"]
    for k in ("epoch", "loss", "name", "none", "flag", "blob", "tags", "c"):
        assert got[k] == want[k] and type(got[k]) is type(want[k])
    assert torch.equal(got["nested"][0][1][0], want["nested"][0][1][0])
    torch.save(want, tmp_path / "t.pt")
    back = ember.load(tmp_path / "t.pt")
    assert back["dtype"] is ember.float16 and back["device"] == ember.device("cpu")
    assert type(back["shape"]) is ember.Size and back["shape"] == (2, 3)
    assert back["blob"] == b"\x00\xff" and back["tags"] == {"a", "b"} and back["c"] == 1 + 2j
    assert_close(back["nested"][1]["deep"]["t"], want["nested"][1]["deep"]["t"])
    assert list(back["od"]) == ["b", "a"]


def _cnn(nn):
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(4 * 4 * 4, 5))


def test_cnn_state_dict_torch_to_ember(tmp_path, rng):
    torch.manual_seed(0)
    tm = _cnn(torch.nn)
    x = rng.standard_normal((6, 3, 8, 8)).astype(np.float32)
    tm(torch.tensor(x))  # train-mode forward updates the BatchNorm running stats
    tm.eval()
    torch.save(tm.state_dict(), tmp_path / "cnn.pt")
    sd = ember.load(tmp_path / "cnn.pt")
    assert list(sd) == list(tm.state_dict())
    assert str(sd["1.num_batches_tracked"].dtype) == "torch.int64" and sd["1.num_batches_tracked"].item() == 1
    em = _cnn(enn)
    res = em.load_state_dict(sd)
    assert list(res.missing_keys) == [] and list(res.unexpected_keys) == []
    em.eval()
    with torch.no_grad():
        want = tm(torch.tensor(x))
    with ember.no_grad():
        got = em(ember.tensor(x))
    assert_close(got, want, rtol=1e-5, atol=1e-5)  # conv via im2col+GEMM vs oneDNN: summation order


def test_cnn_state_dict_ember_to_torch(tmp_path, rng):
    ember.manual_seed(0)
    em = _cnn(enn)
    x = rng.standard_normal((6, 3, 8, 8)).astype(np.float32)
    em(ember.tensor(x))
    em.eval()
    ember.save(em.state_dict(), tmp_path / "cnn.pt")
    tm = _cnn(torch.nn)
    sd = torch.load(tmp_path / "cnn.pt", weights_only=True)
    assert list(sd) == list(em.state_dict())
    tm.load_state_dict(sd, strict=True)
    tm.eval()
    for k, v in em.state_dict().items():
        _assert_same(v, tm.state_dict()[k])
    with torch.no_grad():
        want = tm(torch.tensor(x))
    with ember.no_grad():
        got = em(ember.tensor(x))
    assert_close(got, want, rtol=1e-5, atol=1e-5)


def _adam_steps(lib, nn, optim, params, x, steps):
    lin = nn.Linear(4, 3)
    with lib.no_grad():
        lin.weight.copy_(lib.tensor(params[0]))
        lin.bias.copy_(lib.tensor(params[1]))
    opt = optim.Adam(lin.parameters(), lr=0.05, weight_decay=0.01)
    for _ in range(steps):
        opt.zero_grad()
        (lin(lib.tensor(x)) ** 2).mean().backward()
        opt.step()
    return lin, opt


def test_adam_state_dict_both_ways(tmp_path, rng):
    params = [rng.standard_normal((3, 4)).astype(np.float32), rng.standard_normal(3).astype(np.float32)]
    x = rng.standard_normal((5, 4)).astype(np.float32)
    tlin, topt = _adam_steps(torch, torch.nn, torch.optim, params, x, 2)
    torch.save({"model": tlin.state_dict(), "optim": topt.state_dict()}, tmp_path / "t.pt")
    ck = ember.load(tmp_path / "t.pt")
    st = ck["optim"]["state"]
    assert sorted(st) == [0, 1] and set(st[0]) == {"step", "exp_avg", "exp_avg_sq"}
    for i in (0, 1):
        for k in ("step", "exp_avg", "exp_avg_sq"):
            _assert_same(st[i][k], topt.state_dict()["state"][i][k])
    assert ck["optim"]["param_groups"][0]["betas"] == (0.9, 0.999)

    # Ember resumes from PyTorch's checkpoint and steps exactly like PyTorch.
    elin = enn.Linear(4, 3)
    elin.load_state_dict(ck["model"])
    eopt = eoptim.Adam(elin.parameters(), lr=0.05, weight_decay=0.01)
    eopt.load_state_dict(ck["optim"])
    for lib, lin, opt in ((torch, tlin, topt), (ember, elin, eopt)):
        opt.zero_grad()
        (lin(lib.tensor(x)) ** 2).mean().backward()
        opt.step()
    assert_close(elin.weight, tlin.weight)
    assert_close(elin.bias, tlin.bias)

    # ... and PyTorch resumes from Ember's.
    ember.save({"model": elin.state_dict(), "optim": eopt.state_dict()}, tmp_path / "e.pt")
    ck2 = torch.load(tmp_path / "e.pt", weights_only=True)
    tlin2 = torch.nn.Linear(4, 3)
    tlin2.load_state_dict(ck2["model"])
    topt2 = torch.optim.Adam(tlin2.parameters(), lr=0.05, weight_decay=0.01)
    topt2.load_state_dict(ck2["optim"])
    assert topt2.state_dict()["state"][0]["step"].item() == 3.0
    for lib, lin, opt in ((torch, tlin2, topt2), (ember, elin, eopt)):
        opt.zero_grad()
        (lin(lib.tensor(x)) ** 2).mean().backward()
        opt.step()
    assert_close(elin.weight, tlin2.weight)
    assert_close(elin.bias, tlin2.bias)


def test_file_objects_both_ways(rng):
    a = rng.standard_normal((2, 3)).astype(np.float32)
    buf = io.BytesIO()
    ember.save({"w": ember.tensor(a)}, buf)
    buf.seek(0)
    _assert_same(ember.tensor(a), torch.load(buf, weights_only=True)["w"])
    buf = io.BytesIO()
    torch.save({"w": torch.tensor(a)}, buf)
    buf.seek(0)
    _assert_same(ember.load(buf)["w"], torch.tensor(a))


def test_mmap_load_of_torch_file(tmp_path, rng):
    a = rng.standard_normal((64, 32)).astype(np.float32)
    t = torch.tensor(a)
    torch.save({"w": t, "v": t[1:, 3:]}, tmp_path / "t.pt")
    before = (tmp_path / "t.pt").read_bytes()
    got = ember.load(tmp_path / "t.pt", mmap=True)
    want = torch.load(tmp_path / "t.pt", weights_only=True, mmap=True)
    _assert_same(got["w"], want["w"])
    _assert_same(got["v"], want["v"])
    got["w"][1, 3] = 42.0  # copy-on-write map: visible through the view, never written to the file
    assert got["v"][0, 0].item() == 42.0
    del got
    assert (tmp_path / "t.pt").read_bytes() == before


def _save_with_location(obj, path, location):
    """An Ember checkpoint whose storages claim to live on ``location`` (e.g. a CUDA device)."""

    class Pickler(_pickle_safe.TorchPickler):
        def _new_record(self, dtype, u8, loc, lo):
            rec = super()._new_record(dtype, u8, loc, lo)
            rec.location = location
            rec.pid = rec.pid[:3] + (location,) + rec.pid[4:]
            return rec

    orig = _pickle_safe.TorchPickler
    import ember.serialization as S
    S.TorchPickler = Pickler
    try:
        ember.save(obj, path)
    finally:
        S.TorchPickler = orig


def test_map_location_forms_match_torch(tmp_path, rng):
    a = rng.standard_normal((2, 3)).astype(np.float32)
    path = tmp_path / "gpu.pt"
    _save_with_location({"w": ember.tensor(a)}, path, "cuda:0")
    want = torch.load(path, weights_only=True, map_location="cpu")["w"]  # PyTorch reads it the same way
    seen = []

    def fn(storage, loc):
        seen.append(loc)
        return storage

    for ml in ("cpu", ember.device("cpu"), {"cuda:0": "cpu"}, fn):
        _assert_same(ember.load(path, map_location=ml)["w"], want)
    assert seen == ["cuda:0"]
    from ember.backends import cupy
    if cupy() is None:
        with pytest.raises(RuntimeError, match="map_location"):
            ember.load(path)
        with pytest.raises(RuntimeError):
            torch.load(path, weights_only=True)


# bfloat16 checkpoints (read as ember.bfloat16, or widened to float32 without ml_dtypes): tests/test_bfloat16.py


def test_dtype_ember_lacks_is_a_clear_error(tmp_path):
    torch.save({"u": torch.zeros(3, dtype=torch.uint16)}, tmp_path / "u16.pt")
    with pytest.raises(RuntimeError, match="uint16"):
        ember.load(tmp_path / "u16.pt")


def test_foreign_global_refused_by_default_like_torch(tmp_path):
    torch.save({"arr": np.arange(3)}, tmp_path / "np.pt")
    with pytest.raises(pickle.UnpicklingError, match="Unsupported global: GLOBAL numpy"):
        torch.load(tmp_path / "np.pt", weights_only=True)
    with pytest.raises(pickle.UnpicklingError, match="Unsupported global: GLOBAL numpy"):
        ember.load(tmp_path / "np.pt")
    np.testing.assert_array_equal(ember.load(tmp_path / "np.pt", weights_only=False)["arr"], np.arange(3))


def test_legacy_torch_format_is_a_clear_error(tmp_path):
    torch.save({"w": torch.ones(2)}, tmp_path / "old.pt", _use_new_zipfile_serialization=False)
    with pytest.raises(CheckpointError, match="legacy"):
        ember.load(tmp_path / "old.pt")


def test_same_memory_as_two_dtypes_raises_like_torch(tmp_path):
    t = torch.zeros(4)
    with pytest.raises(RuntimeError):
        torch.save([t, t.view(torch.int32)], io.BytesIO())
    a = np.zeros(4, np.float32)
    e, ei = ember.from_numpy(a), ember.from_numpy(a.view(np.int32))  # one memory, two dtypes
    assert e.data_ptr() == ei.data_ptr()
    with pytest.raises(RuntimeError, match="different"):
        ember.save([e, ei], tmp_path / "x.pt")
    assert not any(tmp_path.iterdir())


def test_dlpack_shares_memory_both_ways(rng):
    a = rng.standard_normal((3, 4)).astype(np.float32)
    e = ember.tensor(a)
    t = torch.from_dlpack(e)
    assert t.data_ptr() == e.data_ptr()
    t[0, 0] = 7.0
    assert e[0, 0].item() == 7.0
    t2 = torch.tensor(a)[:, 1:]
    e2 = ember.from_dlpack(t2)
    assert e2.data_ptr() == t2.data_ptr() and e2.stride() == t2.stride()
    e2[1, 1] = -3.0
    assert t2[1, 1].item() == -3.0
    e3 = ember.from_dlpack(torch.utils.dlpack.to_dlpack(torch.arange(5)))
    assert str(e3.dtype) == "torch.int64" and e3.tolist() == [0, 1, 2, 3, 4]
    for name in ("bool", "float16", "int8", "complex64"):
        x = torch.tensor(_array(name, (2, 2), rng))
        _assert_same(ember.from_dlpack(x), x)


def test_safetensors_both_ways(tmp_path, rng):
    st = pytest.importorskip("safetensors.torch")
    from ember.serialization import load_safetensors, save_safetensors
    arrays = {"w": rng.standard_normal((3, 4)).astype(np.float32), "i": np.arange(5, dtype=np.int64),
              "h": rng.standard_normal(4).astype(np.float16)}
    save_safetensors({k: ember.tensor(v) for k, v in arrays.items()}, tmp_path / "e.safetensors",
                     metadata={"format": "pt"})
    got = st.load_file(str(tmp_path / "e.safetensors"))
    for k, v in arrays.items():
        _assert_same(ember.tensor(v), got[k])
    st.save_file({k: torch.tensor(v) for k, v in arrays.items()}, str(tmp_path / "t.safetensors"))
    back = load_safetensors(tmp_path / "t.safetensors")
    for k, v in arrays.items():
        _assert_same(back[k], torch.tensor(v))
    back["w"][0, 0] = 1.0  # writable, like torch's


def test_ember_file_layout_matches_torch(tmp_path):
    import zipfile
    ember.save({"w": ember.ones(3)}, tmp_path / "e.pt")
    torch.save({"w": torch.ones(3)}, tmp_path / "t.pt")
    with zipfile.ZipFile(tmp_path / "e.pt") as ze, zipfile.ZipFile(tmp_path / "t.pt") as zt:
        names_e = [n.split("/", 1)[1] for n in ze.namelist()]
        names_t = [n.split("/", 1)[1] for n in zt.namelist()]
        assert names_e == names_t
        for n in ("data.pkl", "version", "byteorder", ".format_version", ".storage_alignment", "data/0"):
            assert ze.read("e/" + n) == zt.read("t/" + n), n
        for zi in ze.infolist():
            assert zi.compress_type == zipfile.ZIP_STORED
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        torch.load(tmp_path / "e.pt", weights_only=True, mmap=True)


def test_big_endian_checkpoint_reads_like_torch(tmp_path, rng):
    import zipfile
    a = rng.standard_normal((3, 4)).astype(np.float32)
    ember.save({"w": ember.tensor(a), "v": ember.tensor(a)[1:, ::2], "i": ember.arange(4)}, tmp_path / "le.pt")
    with zipfile.ZipFile(tmp_path / "le.pt") as src, zipfile.ZipFile(tmp_path / "be.pt", "w") as dst:
        for n in src.namelist():  # the same checkpoint as a big-endian machine would write it
            data = src.read(n)
            if n.endswith("byteorder"):
                data = b"big"
            elif "/data/" in n:
                dt = np.float32 if n.endswith("/0") else np.int64
                data = np.frombuffer(data, dt).byteswap().tobytes()
            dst.writestr(n, data)
    want = torch.load(tmp_path / "be.pt", weights_only=True)
    got = ember.load(tmp_path / "be.pt")
    for k in want:
        _assert_same(got[k], want[k])
    _assert_same(got["w"], torch.tensor(a))


def test_save_into_missing_folder_raises_like_torch(tmp_path):
    with pytest.raises(RuntimeError, match="does not exist"):
        torch.save(torch.ones(1), tmp_path / "nope" / "t.pt")
    with pytest.raises(RuntimeError, match="does not exist"):
        ember.save(ember.ones(1), tmp_path / "nope" / "e.pt")
