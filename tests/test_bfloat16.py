"""ember.bfloat16 (on the optional package ml_dtypes) against PyTorch's bfloat16.

PyTorch on CPU computes most bfloat16 ops in float32 and rounds each result to bfloat16; Ember
does the same, so arithmetic, unary math, sum/mean and matmul are compared bit for bit. Composite
kernels that PyTorch runs in float32 from end to end (softmax, rsqrt, pow by an integer) and the
gradients of a network (Ember keeps some intermediate gradients in float32) are compared with
bfloat16 tolerances: a few units in the last place (bfloat16 has 8 significant bits, eps 2**-7).
"""
from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch

import ember
from ember import _dtype as D

HAVE_ML_DTYPES = importlib.util.find_spec("ml_dtypes") is not None
needs_ml_dtypes = pytest.mark.skipif(not HAVE_ML_DTYPES, reason="ml_dtypes is not installed")

BF16_RTOL, BF16_ATOL = 1.6e-2, 1e-5  # PyTorch's own bfloat16 tolerances (torch.testing)


def _f32(x):
    """float32 NumPy copy of an Ember or torch tensor (bfloat16 widens exactly)."""
    if isinstance(x, torch.Tensor):
        return x.detach().float().numpy()
    return x.detach().float().numpy()


def _same(e, t):
    """Same dtype, shape and values, bit for bit."""
    assert str(e.dtype) == str(t.dtype), (e.dtype, t.dtype)
    assert tuple(e.shape) == tuple(t.shape)
    np.testing.assert_array_equal(_f32(e), _f32(t))


def _close(e, t, rtol=BF16_RTOL, atol=BF16_ATOL):
    assert str(e.dtype) == str(t.dtype), (e.dtype, t.dtype)
    assert tuple(e.shape) == tuple(t.shape)
    np.testing.assert_allclose(_f32(e), _f32(t), rtol=rtol, atol=atol)


def _pair(arr, requires_grad=False):
    """The same bfloat16 tensor in Ember and torch, rounded from one float32 array."""
    arr = np.asarray(arr, dtype=np.float32)
    t = torch.tensor(arr).bfloat16().requires_grad_(requires_grad)
    e = ember.tensor(arr).bfloat16().requires_grad_(requires_grad)
    return e, t


@pytest.fixture
def no_ml_dtypes(monkeypatch):
    """Ember as it is where ml_dtypes is not installed (the lazy import fails), restored afterwards."""
    saved_np, saved_live = D.bfloat16._np, D.bf16_live[0]

    def fail():
        raise ImportError("No module named 'ml_dtypes'")

    monkeypatch.setattr(D, "_import_ml_dtypes", fail)
    D.bfloat16._np = None
    D.bf16_live[0] = False
    yield
    D.bfloat16._np, D.bf16_live[0] = saved_np, saved_live


# --------------------------------------------------------------------------- without ml_dtypes
def test_dtype_object_needs_no_ml_dtypes(no_ml_dtypes):
    assert repr(ember.bfloat16) == repr(torch.bfloat16) == "torch.bfloat16"
    assert ember.bfloat16.is_floating_point is torch.bfloat16.is_floating_point is True
    assert ember.bfloat16.is_signed == torch.bfloat16.is_signed
    assert ember.bfloat16.itemsize == torch.bfloat16.itemsize == 2
    assert ember.promote_types(ember.bfloat16, ember.float16) is ember.float32
    assert repr(ember.finfo(ember.bfloat16)) == repr(torch.finfo(torch.bfloat16))


def test_creating_without_ml_dtypes_names_the_extra(no_ml_dtypes):
    for make in (lambda: ember.zeros(2, dtype=ember.bfloat16), lambda: ember.tensor([1.0]).bfloat16(),
                 lambda: ember.tensor([1.0], dtype=ember.bfloat16), lambda: ember.ones(2).to(ember.bfloat16)):
        with pytest.raises(ImportError, match=r"pip install 'ember-autograd\[bfloat16\]'"):
            make()


def test_load_without_ml_dtypes_widens_with_a_warning(no_ml_dtypes, tmp_path):
    rng = np.random.default_rng(0)
    t = torch.tensor(rng.standard_normal((3, 4)).astype(np.float32)).bfloat16()
    torch.save({"b": t, "v": t[1:, ::2]}, tmp_path / "bf.pt")
    with pytest.warns(UserWarning, match=r"bfloat16.*ember-autograd\[bfloat16\]"):
        got = ember.load(tmp_path / "bf.pt")
    assert got["b"].dtype is ember.float32
    np.testing.assert_array_equal(got["b"].numpy(), t.float().numpy())
    np.testing.assert_array_equal(got["v"].numpy(), t[1:, ::2].float().numpy())
    assert got["v"]._data.base is got["b"]._data.base  # the view still shares its storage


# --------------------------------------------------------------------------- dtype, creation, printing
@needs_ml_dtypes
def test_finfo_matches_torch():
    for d, td in ((ember.bfloat16, torch.bfloat16), (ember.float32, torch.float32), (ember.float16, torch.float16)):
        e, t = ember.finfo(d), torch.finfo(td)
        assert repr(e) == repr(t)
        for a in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
            assert getattr(e, a) == getattr(t, a), a
    assert repr(ember.iinfo(ember.int32)) == repr(torch.iinfo(torch.int32))


@needs_ml_dtypes
def test_creation_functions():
    vals = [1.1, -2.5, 3e5, 1e-5, 0.3]
    _same(ember.tensor(vals, dtype=ember.bfloat16), torch.tensor(vals, dtype=torch.bfloat16))
    _same(ember.zeros(2, 3, dtype=ember.bfloat16), torch.zeros(2, 3, dtype=torch.bfloat16))
    _same(ember.ones(4, dtype=ember.bfloat16), torch.ones(4, dtype=torch.bfloat16))
    _same(ember.full((2,), 1.1, dtype=ember.bfloat16), torch.full((2,), 1.1, dtype=torch.bfloat16))
    for f in (ember.empty, ember.randn, ember.rand):
        x = f(3, 2, dtype=ember.bfloat16, requires_grad=True)
        assert x.dtype is ember.bfloat16 and x.shape == (3, 2) and x.requires_grad and x.is_floating_point()
        assert x.element_size() == 2 and x.type() == "torch.BFloat16Tensor"
    r = ember.rand(1000, dtype=ember.bfloat16)
    assert 0 <= float(r.min()) and float(r.max()) <= 1


@needs_ml_dtypes
def test_conversions_round_like_torch():
    x = np.random.default_rng(1).standard_normal(200).astype(np.float32) * 100
    e, t = ember.tensor(x), torch.tensor(x)
    _same(e.bfloat16(), t.bfloat16())
    _same(e.to(ember.bfloat16), t.to(torch.bfloat16))
    _same(e.double().bfloat16(), t.double().bfloat16())
    _same(e.bfloat16().float(), t.bfloat16().float())
    _same(e.bfloat16().half(), t.bfloat16().half())
    _same(e.bfloat16().to(ember.int32), t.bfloat16().to(torch.int32))
    b = e.bfloat16()
    assert b.bfloat16() is b and b.float() is not b
    assert b.tolist() == t.bfloat16().tolist()
    assert b[3].item() == t.bfloat16()[3].item()


@needs_ml_dtypes
def test_conversion_gradient_flows_back():
    x = np.random.default_rng(2).standard_normal(5).astype(np.float32)
    e, t = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (e.bfloat16() * 3.3).float().sum().backward()
    (t.bfloat16() * 3.3).float().sum().backward()
    assert e.grad.dtype is ember.float32
    # PyTorch rounds the bfloat16 gradient at MulBackward0 (3.296875); Ember's stays float32 (3.3)
    # until it is cast to the leaf's dtype: within one bfloat16 ulp
    np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), rtol=2 ** -8)


@needs_ml_dtypes
def test_numpy_raises_like_torch():
    with pytest.raises(TypeError) as et:
        torch.ones(2, dtype=torch.bfloat16).numpy()
    with pytest.raises(TypeError) as ee:
        ember.ones(2, dtype=ember.bfloat16).numpy()
    assert str(ee.value) == str(et.value)


@needs_ml_dtypes
def test_repr_matches_torch():
    cases = [[1.5, 2.25, 3e5], [1e-5, 2.0], [1.0, 2.0], [[0.1, -0.2], [3.3, 4.4]], 1.5, [float("nan"), 1.0]]
    for v in cases:
        assert repr(ember.tensor(v, dtype=ember.bfloat16)) == repr(torch.tensor(v, dtype=torch.bfloat16))
    e, t = _pair([1.0, 2.0], requires_grad=True)
    assert repr(e) == repr(t)
    assert repr(e * 2) == repr(t * 2)


# --------------------------------------------------------------------------- promotion
@needs_ml_dtypes
def test_promotion_as_torch():
    names = ["bool", "uint8", "int8", "int32", "int64", "float16", "bfloat16", "float32", "float64", "complex64"]
    for a in names:
        assert str(ember.promote_types(ember.bfloat16, getattr(ember, a))) == \
            str(torch.promote_types(torch.bfloat16, getattr(torch, a))), a
    e, t = ember.ones(3, dtype=ember.bfloat16), torch.ones(3, dtype=torch.bfloat16)
    for other in ("float16", "float32", "float64", "int64", "int32", "bool", "uint8"):
        eo, to = ember.ones(3, dtype=getattr(ember, other)), torch.ones(3, dtype=getattr(torch, other))
        assert str((e + eo).dtype) == str((t + to).dtype), other
        assert str((eo * e).dtype) == str((to * t).dtype), other
    for s in (2, 2.5, True):
        assert str((e + s).dtype) == str((t + s).dtype)
        assert str((s * e).dtype) == str((s * t).dtype)
    ei = ember.ones(3, dtype=ember.int64)
    assert str((ei / e).dtype) == str((torch.ones(3, dtype=torch.int64) / t).dtype)


# --------------------------------------------------------------------------- arithmetic and ops
@needs_ml_dtypes
@pytest.mark.parametrize("s", [1.1, 0.3, 3.7, 1e-3, 3, -2])
def test_arithmetic_with_python_numbers_bit_exact(s):
    x = np.random.default_rng(3).standard_normal(2000).astype(np.float32) * 4
    e, t = _pair(x)
    _same(e * s, t * s)
    _same(e / s, t / s)
    _same(e + s, t + s)
    _same(e - s, t - s)
    _same(s - e, s - t)
    _same(s / e, s / t)
    _same(e.abs() ** 0.5 if s == -2 else e.abs() ** abs(s) if isinstance(s, float) else e * 1,
          t.abs() ** 0.5 if s == -2 else t.abs() ** abs(s) if isinstance(s, float) else t * 1)


@needs_ml_dtypes
def test_tensor_arithmetic_and_unary_bit_exact():
    rng = np.random.default_rng(4)
    (a, ta), (b, tb) = _pair(rng.standard_normal((8, 9))), _pair(rng.standard_normal((8, 9)))
    for op in (lambda x, y: x + y, lambda x, y: x - y, lambda x, y: x * y, lambda x, y: x / y,
               lambda x, y: x.maximum(y), lambda x, y: (x > y).float()):
        _same(op(a, b), op(ta, tb))
    for name in ("exp", "tanh", "sigmoid", "sin", "cos", "log1p", "relu", "abs", "sqrt", "neg", "log", "expm1"):
        _same(getattr(ember, name)(a.abs()), getattr(torch, name)(ta.abs()))
    import ember.nn.functional as EF
    import torch.nn.functional as TF
    for name in ("gelu", "silu", "softplus", "leaky_relu", "elu"):
        _same(getattr(EF, name)(a), getattr(TF, name)(ta))


@needs_ml_dtypes
def test_reductions_and_matmul():
    rng = np.random.default_rng(5)
    (a, ta), (b, tb) = _pair(rng.standard_normal((40, 33))), _pair(rng.standard_normal((33, 20)))
    _same(a.sum(), ta.sum())  # accumulated in float32, rounded once (a bfloat16 sum would drift)
    _same(a.sum(0), ta.sum(0))
    _same(a.sum(1, keepdim=True), ta.sum(1, keepdim=True))
    _same(a.mean(), ta.mean())
    _same(a.mean(0), ta.mean(0))
    _close(a.sum(dtype=ember.float32), ta.sum(dtype=torch.float32), rtol=1e-5)  # explicit dtype kept
    _close(a @ b, ta @ tb)  # (bit-exact in practice; float32 GEMMs may sum in another order)
    _close(a[0] @ a[1], ta[0] @ ta[1])
    _same(a.max(), ta.max())
    _same(a.amax(1), ta.amax(1))
    # kernels PyTorch runs in float32 throughout; Ember rounds between steps: a few ulp
    _close(ember.softmax(a, 1), torch.softmax(ta, 1), atol=1e-3)  # values in [0, 1]
    _close(ember.log_softmax(a, 1), torch.log_softmax(ta, 1), atol=2e-2)
    _close(a.abs().rsqrt(), ta.abs().rsqrt())
    _close(a ** 3, ta ** 3)


@needs_ml_dtypes
def test_autograd_elementwise_and_reductions():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((6, 7)).astype(np.float32)
    e, t = _pair(x, requires_grad=True)
    ye = ((e * 1.7 + 0.5).sigmoid() * e).sum()
    yt = ((t * 1.7 + 0.5).sigmoid() * t).sum()
    _close(ye, yt)
    ye.backward()
    yt.backward()
    assert e.grad.dtype is ember.bfloat16
    _close(e.grad, t.grad, atol=1e-2)
    assert type(ye.grad_fn).__name__ == type(yt.grad_fn).__name__


@needs_ml_dtypes
def test_mlp_forward_backward_against_torch():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((16, 10)).astype(np.float32)
    target = rng.integers(0, 3, 16)
    em = ember.nn.Sequential(ember.nn.Linear(10, 32), ember.nn.ReLU(), ember.nn.Linear(32, 3))
    tm = torch.nn.Sequential(torch.nn.Linear(10, 32), torch.nn.ReLU(), torch.nn.Linear(32, 3))
    tm.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in em.state_dict().items()})
    assert em.to(ember.bfloat16) is em
    tm.to(torch.bfloat16)
    for (k, p), (_, q) in zip(em.named_parameters(), tm.named_parameters()):
        _same(p, q)
    xe, xt = _pair(x)
    oe, ot = em(xe), tm(xt)
    _close(oe, ot, atol=1e-2)
    le = ember.nn.functional.cross_entropy(oe.float(), ember.tensor(target))
    lt = torch.nn.functional.cross_entropy(ot.float(), torch.tensor(target))
    np.testing.assert_allclose(le.item(), lt.item(), rtol=BF16_RTOL)
    le.backward()
    lt.backward()
    for (k, p), (_, q) in zip(em.named_parameters(), tm.named_parameters()):
        assert p.grad.dtype is ember.bfloat16, k
        scale = float(q.grad.abs().max())
        _close(p.grad, q.grad, rtol=3e-2, atol=2e-2 * scale)
    # an optimizer step keeps the parameters in bfloat16
    ember.optim.SGD(em.parameters(), lr=0.1).step()
    assert all(p.dtype is ember.bfloat16 for p in em.parameters())


@needs_ml_dtypes
def test_module_bfloat16_and_back():
    m = ember.nn.Linear(3, 2)
    m.register_buffer("steps", ember.zeros(1, dtype=ember.int64))
    w = m.weight.detach().clone()
    m.bfloat16()
    assert m.weight.dtype is ember.bfloat16 and m.bias.dtype is ember.bfloat16
    assert m.steps.dtype is ember.int64 and m.weight.requires_grad
    m.float()
    _same(m.weight, torch.tensor(w.numpy()).bfloat16().float())


# --------------------------------------------------------------------------- checkpoints
@needs_ml_dtypes
def test_checkpoint_from_torch_is_bfloat16_bit_exact(tmp_path):
    t = torch.tensor(np.random.default_rng(8).standard_normal((3, 4)).astype(np.float32)).bfloat16()
    torch.save({"b": t, "v": t[1:, ::2]}, tmp_path / "bf.pt")
    got = ember.load(tmp_path / "bf.pt")
    assert got["b"].dtype is ember.bfloat16
    np.testing.assert_array_equal(got["b"]._data.view(np.uint16), t.view(torch.int16).numpy().view(np.uint16))
    _same(got["v"], t[1:, ::2])
    assert got["v"]._data.base is got["b"]._data.base


@needs_ml_dtypes
def test_checkpoint_to_torch_is_bfloat16_bit_exact(tmp_path):
    x = np.random.default_rng(9).standard_normal((4, 5)).astype(np.float32)
    e = ember.tensor(x).bfloat16()
    m = ember.nn.Linear(5, 2).bfloat16()
    ember.save({"b": e, "v": e[::2, 1:], "sd": m.state_dict()}, tmp_path / "bf.pt")
    got = torch.load(tmp_path / "bf.pt", weights_only=True)
    assert got["b"].dtype is torch.bfloat16
    assert got["b"].untyped_storage().data_ptr() == got["v"].untyped_storage().data_ptr()
    _same(e, got["b"])
    _same(e[::2, 1:], got["v"])
    for k, v in m.state_dict().items():
        _same(v, got["sd"][k])
    back = ember.load(tmp_path / "bf.pt")  # and Ember reads its own file
    np.testing.assert_array_equal(back["b"]._data.view(np.uint16), e._data.view(np.uint16))


def test_vector_norm_and_probability_cross_entropy_take_bfloat16():
    pytest.importorskip("ml_dtypes")
    a = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    x = ember.tensor(a).bfloat16().requires_grad_()
    t = torch.tensor(a).bfloat16().requires_grad_()
    ye, yt = ember.linalg.vector_norm(x), torch.linalg.vector_norm(t)
    ye.backward()
    yt.backward()
    assert ye.dtype == ember.bfloat16 and float(ye) == float(yt)
    np.testing.assert_array_equal(x.grad.float().numpy(), t.grad.float().numpy())
    p = np.abs(a) / np.abs(a).sum(1, keepdims=True)
    le = ember.nn.functional.cross_entropy(ember.tensor(a).bfloat16(), ember.tensor(p).bfloat16())
    lt = torch.nn.functional.cross_entropy(torch.tensor(a).bfloat16(), torch.tensor(p).bfloat16())
    assert le.dtype == ember.bfloat16 and abs(float(le) - float(lt)) <= 1e-2 * abs(float(lt))


@pytest.mark.parametrize("kind", ["layer_norm", "batch_norm", "group_norm"])
def test_norms_of_bfloat16_input_with_float32_weights_return_bfloat16(kind):
    # PyTorch computes in float32 and returns the input's dtype (and the input gradient in it)
    pytest.importorskip("ml_dtypes")
    a = np.random.default_rng(0).standard_normal((4, 8)).astype(np.float32)
    w = np.random.default_rng(1).standard_normal(8).astype(np.float32)
    res = []
    for T in (torch, ember):
        x = T.tensor(a).bfloat16().requires_grad_()
        wt, bt = T.tensor(w, requires_grad=True), T.tensor(w * 0.5, requires_grad=True)
        if kind == "layer_norm":
            y = T.nn.functional.layer_norm(x, (8,), wt, bt)
        elif kind == "batch_norm":
            y = T.nn.functional.batch_norm(x, T.zeros(8), T.ones(8), wt, bt, training=True)
        else:
            y = T.nn.functional.group_norm(x.reshape(4, 8, 1), 2, wt, bt).reshape(4, 8)
        (y.float() * T.tensor(a)).sum().backward()
        res.append((y, x.grad, wt.grad))
    (yt, gxt, gwt), (ye, gxe, gwe) = res
    assert ye.dtype == ember.bfloat16 and gxe.dtype == ember.bfloat16 and gwe.dtype == ember.float32
    np.testing.assert_allclose(ye.float().detach().numpy(), yt.float().detach().numpy(), rtol=1e-2, atol=1e-2)
    np.testing.assert_allclose(gxe.float().numpy(), gxt.float().numpy(), rtol=2e-2, atol=2e-2)
    np.testing.assert_allclose(gwe.numpy(), gwt.numpy(), rtol=2e-2, atol=2e-2)
