"""ember.amp (autocast, GradScaler) against torch.amp on the CPU, with bfloat16: output dtypes per op class,
values, gradients reaching float32 parameters, the autocast state API, and GradScaler's numbers.

Tolerances: both sides cast the same float32 inputs to bfloat16 and accumulate in float32, rounding the result
once to bfloat16, so results agree to about one bfloat16 ulp (2**-8 relative): rtol 1e-2. A training step feeds
such rounded activations through several layers, hence the looser tolerance there.
"""
from __future__ import annotations

import pickle
import threading
import warnings

import numpy as np
import pytest
import torch

import ember
import ember.cuda
import ember.nn.functional as EF
from ember import _dtype as D
from tests.conftest import assert_close

pytest.importorskip("ml_dtypes")
TF = torch.nn.functional
BF = dict(rtol=1e-2, atol=1e-2)


def rng(seed=0):
    return np.random.default_rng(seed)


def arr(*shape, seed=0):
    return rng(seed).standard_normal(shape).astype(np.float32)


def close(e, t, rtol=1e-2, atol=1e-2):
    """Same dtype; values compared in float32 (torch's bfloat16 tensors have no .numpy())."""
    assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1], f"dtype {e.dtype} != torch {t.dtype}"
    assert_close(e.detach().float(), t.detach().float(), rtol=rtol, atol=atol)


def both(fn, *arrays, requires_grad=False):
    """Run ``fn(lib, F, *tensors)`` under each library's CPU autocast; returns (ember result, torch result,
    ember inputs, torch inputs)."""
    ei = [ember.tensor(a.copy(), requires_grad=requires_grad) for a in arrays]
    ti = [torch.tensor(a.copy(), requires_grad=requires_grad) for a in arrays]
    with ember.autocast("cpu"):
        e = fn(ember, EF, *ei)
    with torch.autocast("cpu"):
        t = fn(torch, TF, *ti)
    return e, t, ei, ti


# --------------------------------------------------------------------------- op classes
LOWER = {
    "matmul": (lambda L, F, a, b: L.matmul(a, b), [(4, 8), (8, 5)]),
    "matmul_batched": (lambda L, F, a, b: a @ b, [(2, 4, 8), (8, 5)]),
    "mm": (lambda L, F, a, b: L.mm(a, b), [(4, 8), (8, 5)]),
    "bmm": (lambda L, F, a, b: L.bmm(a, b), [(2, 4, 8), (2, 8, 5)]),
    "addmm": (lambda L, F, c, a, b: L.addmm(c, a, b), [(5,), (4, 8), (8, 5)]),
    "baddbmm": (lambda L, F, c, a, b: L.baddbmm(c, a, b, beta=0.5, alpha=2.0), [(2, 4, 5), (2, 4, 8), (2, 8, 5)]),
    "addbmm": (lambda L, F, c, a, b: L.addbmm(c, a, b), [(4, 5), (2, 4, 8), (2, 8, 5)]),
    "linear": (lambda L, F, x, w, b: F.linear(x, w, b), [(3, 4, 8), (5, 8), (5,)]),
    "linear_nobias": (lambda L, F, x, w: F.linear(x, w), [(4, 8), (5, 8)]),
    "conv1d": (lambda L, F, x, w, b: F.conv1d(x, w, b, padding=1), [(2, 3, 9), (4, 3, 3), (4,)]),
    "conv2d": (lambda L, F, x, w, b: F.conv2d(x, w, b, stride=2), [(2, 3, 8, 8), (4, 3, 3, 3), (4,)]),
    "conv3d": (lambda L, F, x, w: F.conv3d(x, w), [(1, 2, 4, 4, 4), (3, 2, 2, 2, 2)]),
    "conv_transpose2d": (lambda L, F, x, w, b: F.conv_transpose2d(x, w, b, stride=2), [(2, 3, 5, 5), (3, 4, 3, 3),
                                                                                      (4,)]),
    "prelu": (lambda L, F, x, w: F.prelu(x, w), [(2, 3, 4), (3,)]),
    "einsum": (lambda L, F, a, b: L.einsum("bij,bjk->bik", a, b), [(2, 4, 8), (2, 8, 5)]),
    "tensordot": (lambda L, F, a, b: L.tensordot(a, b, 1), [(4, 8), (8, 5)]),
    "linalg.vecdot": (lambda L, F, a, b: L.linalg.vecdot(a, b), [(4, 8), (4, 8)]),
    "linalg.multi_dot": (lambda L, F, a, b, c: L.linalg.multi_dot([a, b, c]), [(4, 8), (8, 5), (5, 3)]),
}


@pytest.mark.parametrize("name", list(LOWER))
def test_lower_precision_ops_cast_to_bfloat16(name):
    fn, shapes = LOWER[name]
    arrays = [arr(*s, seed=i) for i, s in enumerate(shapes)]
    e, t, ei, ti = both(fn, *arrays, requires_grad=True)
    assert t.dtype == torch.bfloat16  # the oracle's own classification of the op
    # addbmm/baddbmm are composites in Ember (bmm, sum, add), each step rounded to bfloat16, where PyTorch
    # rounds once: errors of an ulp of the largest intermediate, hence atol scaled by the output's magnitude
    close(e, t, rtol=1e-2, atol=1e-2 * max(1.0, float(t.detach().float().abs().max())))
    # the cast is differentiable: float32 gradients reach the float32 inputs
    e.float().sum().backward()
    t.float().sum().backward()
    for a, b in zip(ei, ti):
        assert a.grad.dtype is ember.float32
        close(a.grad, b.grad, rtol=2e-2, atol=5e-2)


T = rng(9).integers(0, 5, size=(4,))
FLOAT32 = {
    "mse_loss": lambda L, F, x, y: F.mse_loss(x, y),
    "l1_loss": lambda L, F, x, y: F.l1_loss(x, y),
    "smooth_l1_loss": lambda L, F, x, y: F.smooth_l1_loss(x, y, beta=0.5),
    "huber_loss": lambda L, F, x, y: F.huber_loss(x, y),
    "soft_margin_loss": lambda L, F, x, y: F.soft_margin_loss(x, y.sign().detach()),
    "bce": lambda L, F, x, y: F.binary_cross_entropy(x.sigmoid(), y.sigmoid()),
    "bce_with_logits": lambda L, F, x, y: F.binary_cross_entropy_with_logits(x, y.sigmoid()),
    "kl_div": lambda L, F, x, y: F.kl_div(F.log_softmax(x, 1), F.softmax(y, 1), reduction="batchmean"),
    "cross_entropy": lambda L, F, x, y: F.cross_entropy(x, L.tensor(T)),
    "nll_loss": lambda L, F, x, y: F.nll_loss(F.log_softmax(x, 1), L.tensor(T)),
}


@pytest.mark.parametrize("name", list(FLOAT32))
def test_float32_ops_run_in_float32(name):
    """Losses fed a bfloat16 activation (the output of a linear layer) compute in float32."""
    a, b, w = arr(4, 6), arr(4, 5, seed=1), arr(5, 6, seed=2)
    fn = FLOAT32[name]

    def run(L, F, a, b, w):
        h = F.linear(a, w)  # bfloat16 under autocast
        assert h.dtype == L.bfloat16
        return fn(L, F, h, b)
    e, t, ei, ti = both(run, a, b, w, requires_grad=True)
    assert t.dtype == torch.float32
    # the same bfloat16 activation on both sides, then float32 math; kl_div/nll_loss take a bfloat16
    # log_softmax first (neither list), rounded to bfloat16 in one ulp's difference
    tol = 1e-2 if name in ("kl_div", "nll_loss") else 1e-4
    close(e, t, rtol=tol, atol=tol / 10)
    e.backward()
    t.backward()
    for x, y in zip(ei, ti):
        assert (x.grad is None) == (y.grad is None)
        if y.grad is not None:
            close(x.grad, y.grad, rtol=2e-2, atol=2e-2)


# more of PyTorch's float32 list: composites whose inner matmuls must stay float32 too (cdist, pinverse, trace)
FLOAT32_MORE = {
    "cosine_embedding_loss": lambda L, F, h, b: F.cosine_embedding_loss(h, b, L.tensor([1.0, -1, 1, -1])),
    "margin_ranking_loss": lambda L, F, h, b: F.margin_ranking_loss(h[0], b[0], L.ones(5)),
    "hinge_embedding_loss": lambda L, F, h, b: F.hinge_embedding_loss(h, b.sign().detach()),
    "multi_margin_loss": lambda L, F, h, b: F.multi_margin_loss(h, L.tensor(T)),
    "multilabel_soft_margin_loss": lambda L, F, h, b: F.multilabel_soft_margin_loss(h, (b > 0).float()),
    "poisson_nll_loss": lambda L, F, h, b: F.poisson_nll_loss(h, b.abs().detach()),
    "gaussian_nll_loss": lambda L, F, h, b: F.gaussian_nll_loss(h, b, L.ones(4, 5)),
    "triplet_margin_loss": lambda L, F, h, b: F.triplet_margin_loss(h, b, b.flip(0)),
    "prod": lambda L, F, h, b: h.prod(1),
    "trace": lambda L, F, h, b: h[:, :4].trace(),
    "cdist": lambda L, F, h, b: L.cdist(h, b),
    "pinverse": lambda L, F, h, b: L.pinverse(h),
    "quantile": lambda L, F, h, b: L.quantile(h, 0.3, dim=1),
    "max_pool3d": lambda L, F, h, b: F.max_pool3d(h.reshape(1, 1, 2, 2, 5), 2),
    "avg_pool3d": lambda L, F, h, b: F.avg_pool3d(h.reshape(1, 1, 2, 2, 5), 2),
    "adaptive_avg_pool3d": lambda L, F, h, b: F.adaptive_avg_pool3d(h.reshape(1, 1, 2, 2, 5), 1),
    "replicate_pad": lambda L, F, h, b: F.pad(h.reshape(1, 4, 5), (1, 2), mode="replicate"),
    "reflect_pad": lambda L, F, h, b: F.pad(h.reshape(1, 1, 4, 5), (1, 2, 1, 1), mode="reflect"),
}


@pytest.mark.parametrize("name", list(FLOAT32_MORE))
def test_more_float32_list_ops(name):
    fn = FLOAT32_MORE[name]

    def run(L, F, a, b, w):
        return fn(L, F, F.linear(a, w), b)
    e, t, ei, ti = both(run, arr(4, 6), arr(4, 5, seed=1), arr(5, 6, seed=2), requires_grad=True)
    assert t.dtype == torch.float32
    close(e, t, rtol=1e-4, atol=1e-4)  # the same bfloat16 activation on both sides, then float32 math
    e.sum().backward()
    t.sum().backward()
    for x, y in zip(ei, ti):
        assert (x.grad is None) == (y.grad is None)
        if y.grad is not None:
            close(x.grad, y.grad, rtol=2e-2, atol=2e-2)


@pytest.mark.parametrize("name", ["mv", "addmv", "bilinear", "kron"])
def test_unlisted_composites_stay_float32(name):
    """mv, addmv, bilinear, kron are on neither list: float32 in, float32 out (no bfloat16 matmul inside)."""
    fns = {"mv": lambda L, F, m, v, w: L.mv(m, v[0]),
           "addmv": lambda L, F, m, v, w: L.addmv(v[1, :4], m, v[0]),
           "kron": lambda L, F, m, v, w: L.kron(m[:2, :3], v[:2, :2]),
           "bilinear": lambda L, F, m, v, w: F.bilinear(v, v, w)}
    e, t, _, _ = both(fns[name], arr(4, 6), arr(3, 6, seed=1), arr(2, 6, 6, seed=2))
    assert t.dtype == torch.float32
    # PyTorch's bilinear (a composite of its own) rounds an inner product to bfloat16 and returns float32;
    # Ember's runs wholly in float32: same dtype, values within a bfloat16 ulp
    tol = 1e-2 if name == "bilinear" else 1e-5
    close(e, t, rtol=tol, atol=tol)


PASSTHROUGH = {  # neither list: run in the dtype the inputs have (or promote to)
    "softmax": lambda L, F, x, w: F.softmax(F.linear(x, w), 1),
    "layer_norm": lambda L, F, x, w: F.layer_norm(F.linear(x, w), (5,)),
    "exp": lambda L, F, x, w: F.linear(x, w).exp(),
    "sum": lambda L, F, x, w: F.linear(x, w).sum(),
    "add_float32": lambda L, F, x, w: F.linear(x, w) + w[:, :1].t(),
    "cat_promotes": lambda L, F, x, w: L.cat([F.linear(x, w), w[:, :4].t()]),
    "relu": lambda L, F, x, w: F.relu(F.linear(x, w)),
}


@pytest.mark.parametrize("name", list(PASSTHROUGH))
def test_other_ops_keep_their_input_dtype(name):
    e, t, _, _ = both(PASSTHROUGH[name], arr(4, 6), arr(5, 6, seed=1))
    close(e, t, rtol=2e-2, atol=2e-2)


def test_float64_integer_and_disabled_inputs_are_untouched():
    for L in (ember, torch):
        a64 = L.ones(3, 3, dtype=L.float64)
        i64 = L.ones(3, 3, dtype=L.int64)
        x = L.ones(3, 3)
        with L.autocast("cpu"):
            assert (a64 @ a64).dtype == L.float64
            assert (i64 @ i64).dtype == L.int64
            assert (x.half() @ x.half()).dtype == L.bfloat16  # float16 is eligible too
            with L.autocast("cpu", enabled=False):
                assert (x @ x).dtype == L.float32
            assert (x @ x).dtype == L.bfloat16
        assert (x @ x).dtype == L.float32


def test_graph_has_to_copy_nodes_and_weight_cast_is_cached():
    x = ember.randn(4, 8)
    lin = ember.nn.Linear(8, 3)
    with ember.autocast("cpu"):
        y1, y2 = lin(x), lin(x)
    names = [n.name() if n is not None else None for n, _ in y1.grad_fn.next_functions]
    tx, tlin = torch.tensor(x.numpy()), torch.nn.Linear(8, 3)
    with torch.autocast("cpu"):
        t1 = tlin(tx)
    tnames = [n.name() if n is not None else None for n, _ in t1.grad_fn.next_functions]
    assert y1.grad_fn.name() == t1.grad_fn.name() == "AddmmBackward0"
    assert names == tnames
    # one cast of the weight for the whole context (the cache), a fresh one in the next context
    def weight_cast(y):  # Addmm <- T <- ToCopy(weight)
        node = y.grad_fn.next_functions[2][0].next_functions[0][0]
        assert node.name() == "ToCopyBackward0"
        return node
    assert weight_cast(y1) is weight_cast(y2)
    with ember.autocast("cpu"):
        y3 = lin(x)
    assert weight_cast(y3) is not weight_cast(y1)
    with ember.autocast("cpu", cache_enabled=False):
        y4, y5 = lin(x), lin(x)
    assert weight_cast(y4) is not weight_cast(y5)


def test_no_graph_under_no_grad():
    w = ember.randn(3, 3, requires_grad=True)
    with ember.no_grad(), ember.autocast("cpu"):
        y = w @ w
    assert y.dtype is ember.bfloat16 and y.grad_fn is None and not y.requires_grad


@pytest.mark.parametrize("kind", ["mha", "lstm", "rnn"])
def test_modules_under_autocast(kind):
    """Attention projections and recurrent layers: output dtype and values as PyTorch's, float32 weight grads."""
    mods = {"mha": lambda L: L.nn.MultiheadAttention(8, 2, batch_first=True),
            "lstm": lambda L: L.nn.LSTM(8, 6, batch_first=True), "rnn": lambda L: L.nn.RNN(8, 6, batch_first=True)}
    me, mt = mods[kind](ember), mods[kind](torch)
    mt.load_state_dict({k: torch.tensor(v.numpy()) for k, v in me.state_dict().items()})
    x = arr(2, 4, 8, seed=5)
    outs = []
    for L, m in ((ember, me), (torch, mt)):
        xt = L.tensor(x)
        with L.autocast("cpu"):
            y = m(xt, xt, xt)[0] if kind == "mha" else m(xt)[0]
        y.float().sum().backward()
        outs.append((y, [p.grad for p in m.parameters()]))
    (ye, ge), (yt, gt) = outs
    close(ye, yt, rtol=3e-2, atol=3e-2)  # several bfloat16 roundings in a row on both sides
    for a, b in zip(ge, gt):
        assert a.dtype is ember.float32
        close(a, b, rtol=5e-2, atol=5e-2)


# --------------------------------------------------------------------------- state API
def test_state_functions_match_torch():
    for L in (ember, torch):
        assert L.get_autocast_dtype("cpu") == L.bfloat16
        assert L.get_autocast_dtype("cuda") == L.float16
        assert not L.is_autocast_enabled("cpu")
        assert L.is_autocast_cache_enabled()
        with L.autocast("cpu", dtype=L.float16):
            with pytest.warns(DeprecationWarning, match=r"is_autocast_cpu_enabled\(\) is deprecated"):
                assert L.is_autocast_enabled("cpu") and L.is_autocast_cpu_enabled()
            with pytest.warns(DeprecationWarning, match="get_autocast_dtype\\('cpu'\\) instead"):
                assert L.get_autocast_dtype("cpu") == L.float16 == L.get_autocast_cpu_dtype()
            assert not L.is_autocast_enabled("cuda")
            with L.autocast("cpu", enabled=False):
                assert not L.is_autocast_enabled("cpu")
            with L.autocast("cpu"):  # nested, default dtype: the enclosing one's
                assert L.get_autocast_dtype("cpu") == L.float16
            assert L.is_autocast_enabled("cpu")
        assert not L.is_autocast_enabled("cpu")
        assert L.get_autocast_dtype("cpu") == L.bfloat16
        L.set_autocast_enabled("cpu", True)
        assert L.is_autocast_enabled("cpu")
        L.set_autocast_enabled("cpu", False)
        L.set_autocast_dtype("cpu", L.float16)
        assert L.get_autocast_dtype("cpu") == L.float16
        L.set_autocast_dtype("cpu", L.bfloat16)
        assert L.autocast_increment_nesting() == 1
        assert L.autocast_decrement_nesting() == 0
        assert L.amp.is_autocast_available("cpu")
        assert not L.amp.is_autocast_available("meta")
        with pytest.raises(RuntimeError, match="device type at start of device string: xyz"):
            L.amp.is_autocast_available("xyz")


def test_float16_autocast_dtype_on_cpu():
    x, w = arr(4, 8), arr(8, 3, seed=1)
    e, t, _, _ = both(lambda L, F, a, b: a @ b, x, w)
    with ember.autocast("cpu", dtype=ember.float16):
        e = ember.tensor(x) @ ember.tensor(w)
    with torch.autocast("cpu", dtype=torch.float16):
        t = torch.tensor(x) @ torch.tensor(w)
    close(e, t, rtol=2e-3, atol=2e-3)


def test_decorator_and_exceptions_restore_state():
    for L in (ember, torch):
        @L.autocast("cpu")
        def f(a, b):
            assert L.is_autocast_enabled("cpu")
            return a @ b
        x = L.ones(2, 2)
        assert f(x, x).dtype == L.bfloat16 and f.__name__ == "f"
        assert not L.is_autocast_enabled("cpu")
        with pytest.raises(ZeroDivisionError):
            with L.autocast("cpu"):
                1 / 0
        assert not L.is_autocast_enabled("cpu")
        assert (x @ x).dtype == L.float32


def test_state_is_per_thread():
    seen = []
    with ember.autocast("cpu"):
        th = threading.Thread(target=lambda: seen.append((ember.is_autocast_enabled("cpu"),
                                                          (ember.ones(2, 2) @ ember.ones(2, 2)).dtype)))
        th.start()
        th.join()
    assert seen == [(False, ember.float32)]


def test_bad_arguments_raise_like_torch():
    for exc, fn in [(RuntimeError, lambda L: L.autocast("xyz")), (ValueError, lambda L: L.autocast(3)),
                    (RuntimeError, lambda L: L.is_autocast_enabled("xyz"))]:
        with pytest.raises(exc) as te:
            fn(torch)
        with pytest.raises(exc) as ee:
            fn(ember)
        assert "xyz" in str(ee.value) or "str" in str(ee.value)
        assert type(ee.value) is type(te.value)
    # an unsupported target dtype warns and disables autocast, as PyTorch does
    for L in (ember, torch):
        with pytest.warns(UserWarning, match="not supported"):
            ac = L.autocast("cpu", dtype=L.float64)
        with ac:
            assert not L.is_autocast_enabled("cpu")


@pytest.mark.skipif(ember.cuda.is_available(), reason="checks the no-GPU fallback")
def test_cuda_autocast_without_a_gpu_disables_itself():
    for L in (ember, torch):
        with pytest.warns(UserWarning, match="CUDA is not available"):
            ac = L.autocast("cuda")
        with ac:
            assert not L.is_autocast_enabled("cuda")
            assert L.get_autocast_dtype("cuda") == L.float16


def test_deprecated_spellings_warn_and_work():
    import ember.cpu.amp
    import ember.cuda.amp
    with pytest.warns(FutureWarning, match=r"torch.cpu.amp.autocast\(args...\)` is deprecated"):
        ac = ember.cpu.amp.autocast()
    with ac:
        assert ember.is_autocast_enabled("cpu") and ember.get_autocast_dtype("cpu") is ember.bfloat16
    with pytest.warns(FutureWarning, match="torch.cpu.amp.GradScaler"):
        s = ember.cpu.amp.GradScaler(init_scale=8.0)
    assert s.get_scale() == 8.0 and s.is_enabled()
    with pytest.warns(FutureWarning, match="torch.cuda.amp.autocast"):
        ember.cuda.amp.autocast(enabled=False)
    if not ember.cuda.is_available():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert not ember.cuda.amp.GradScaler().is_enabled()  # PyTorch: disabled without CUDA
    assert ember.autocast is ember.amp.autocast


def test_missing_ml_dtypes_is_a_clear_error(monkeypatch):
    saved_np, saved_live = D.bfloat16._np, D.bf16_live[0]

    def fail():
        raise ImportError("No module named 'ml_dtypes'")
    monkeypatch.setattr(D, "_import_ml_dtypes", fail)
    D.bfloat16._np = None
    D.bf16_live[0] = False
    try:
        with pytest.raises(ImportError, match="ml_dtypes"):
            ember.autocast("cpu")
        assert not ember.is_autocast_enabled("cpu")
        with ember.autocast("cpu", dtype=ember.float16):  # float16 needs nothing extra
            assert (ember.ones(2, 2) @ ember.ones(2, 2)).dtype is ember.float16
    finally:
        D.bfloat16._np, D.bf16_live[0] = saved_np, saved_live


# --------------------------------------------------------------------------- custom_fwd / custom_bwd
def _custom(L):
    class MyMM(L.autograd.Function):
        @staticmethod
        @L.amp.custom_fwd(device_type="cpu", cast_inputs=L.float32)
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            ctx.inner = L.is_autocast_enabled("cpu")
            return a.mm(b)

        @staticmethod
        @L.amp.custom_bwd(device_type="cpu")
        def backward(ctx, g):
            a, b = ctx.saved_tensors
            return g.mm(b.t()), a.t().mm(g)
    return MyMM


def test_custom_fwd_bwd():
    x, w = arr(3, 4), arr(4, 2, seed=1)
    out = []
    for L in (ember, torch):
        a, b = L.tensor(x, requires_grad=True), L.tensor(w, requires_grad=True)
        with L.autocast("cpu"):
            y = _custom(L).apply(a.bfloat16(), b)
        assert y.dtype == L.float32  # inputs cast to float32, forward ran with autocast off
        y.sum().backward()
        out.append((y, a.grad, b.grad))
    # PyTorch's engine rounds the gradient of a Function's bfloat16 input to bfloat16 (the input's dtype);
    # Ember's engine passes the float32 gradient through: equal within a bfloat16 ulp
    for e, t in zip(*out):
        close(e, t, rtol=1e-2, atol=1e-2)
    with pytest.raises(ValueError):
        ember.amp.custom_fwd(device_type=1)


# --------------------------------------------------------------------------- GradScaler
def _scaler_pair(**kw):
    return ember.amp.GradScaler("cpu", **kw), torch.amp.GradScaler("cpu", **kw)


def test_grad_scaler_scale_unscale_step_update():
    es, ts = _scaler_pair(init_scale=1024.0, growth_interval=2)
    assert es.state_dict() == ts.state_dict()
    pe, pt = ember.tensor(arr(3), requires_grad=True), torch.tensor(arr(3), requires_grad=True)
    oe, ot = ember.optim.SGD([pe], lr=0.1), torch.optim.SGD([pt], lr=0.1)
    for it, bad in enumerate([False, False, False, True, False, False, False]):
        for p, o, s in ((pe, oe, es), (pt, ot, ts)):
            o.zero_grad()
            loss = (p * p).sum()
            if bad:
                loss = loss * float("inf")
            scaled = s.scale(loss)
            scaled.backward()
            if it == 1:
                s.unscale_(o)  # explicit unscale (as for clipping), then step must not unscale again
            s.step(o)
            s.update()
        assert_close(pe, pt)
        assert es.get_scale() == ts.get_scale(), it
        assert es.state_dict() == ts.state_dict(), it
        if not bad:
            assert_close(pe.grad, pt.grad)
    assert es.scale(ember.tensor(2.0)).dtype is ember.float32


def test_grad_scaler_scale_structures_and_dtype():
    es, ts = _scaler_pair(init_scale=4.0)
    e = es.scale([ember.tensor(1.0), (ember.tensor(2.0), ember.tensor(3.0))])
    t = ts.scale([torch.tensor(1.0), (torch.tensor(2.0), torch.tensor(3.0))])
    assert type(e) is list and type(e[1]) is tuple
    assert_close(e[1][1], t[1][1])
    assert isinstance(es.scale(iter([ember.tensor(1.0)])), map)
    # a bfloat16 loss times the float32 scale: a float32 scaled loss
    close(es.scale(ember.tensor(1.5).bfloat16()), ts.scale(torch.tensor(1.5).bfloat16()), rtol=0, atol=0)


def test_grad_scaler_growth_backoff_and_set_scale():
    es, ts = _scaler_pair(init_scale=3.0, growth_factor=3.0, backoff_factor=0.25, growth_interval=3)
    pe, pt = ember.tensor(arr(2), requires_grad=True), torch.tensor(arr(2), requires_grad=True)
    oe, ot = ember.optim.SGD([pe], lr=0.1), torch.optim.SGD([pt], lr=0.1)
    for bad in [0, 0, 0, 0, 1, 0, 1, 1, 0, 0, 0, 0]:
        for p, o, s in ((pe, oe, es), (pt, ot, ts)):
            o.zero_grad()
            s.scale((p * (float("nan") if bad else 1.0)).sum()).backward()
            s.step(o)
            s.update()
        assert es.state_dict() == ts.state_dict()
    assert_close(pe, pt)
    es.update(new_scale=10.0)
    ts.update(new_scale=10.0)
    assert es.get_scale() == ts.get_scale()
    es.update(ember.tensor(5.0))
    ts.update(torch.tensor(5.0))
    assert es.get_scale() == ts.get_scale()


def test_grad_scaler_errors_and_disabled():
    es, ts = _scaler_pair()
    for s, L in ((es, ember), (ts, torch)):
        p = L.tensor([1.0], requires_grad=True)
        o = L.optim.SGD([p], lr=0.1)
        with pytest.raises(AssertionError, match="_scale is None"):
            s.unscale_(o)
        s.scale(p.sum()).backward()
        s.unscale_(o)
        with pytest.raises(RuntimeError, match="unscale_\\(\\) has already been called"):
            s.unscale_(o)
        s.step(o)
        with pytest.raises(RuntimeError, match="step\\(\\) has already been called"):
            s.step(o)
        with pytest.raises(RuntimeError, match="Closure use is not currently supported"):
            s.step(o, closure=lambda: 0)
        s.update()
        with pytest.raises(RuntimeError, match="state dict is empty"):
            s.load_state_dict({})
        p16 = L.tensor([1.0], dtype=L.float16, requires_grad=True)
        o16 = L.optim.SGD([p16], lr=0.1)
        s.scale(p16.sum()).backward()
        with pytest.raises(ValueError, match="Attempting to unscale FP16 gradients."):
            s.unscale_(o16)
    de, dt = ember.amp.GradScaler("cpu", enabled=False), torch.amp.GradScaler("cpu", enabled=False)
    x = ember.tensor(2.0)
    assert de.scale(x) is x and de.get_scale() == dt.get_scale() == 1.0
    assert de.state_dict() == dt.state_dict() == {}


def test_grad_scaler_state_dict_roundtrip_and_pickle():
    es, ts = _scaler_pair(init_scale=16.0, growth_interval=1)
    p = ember.tensor([1.0], requires_grad=True)
    o = ember.optim.SGD([p], lr=0.1)
    es.scale(p.sum()).backward()
    es.step(o)
    es.update()
    sd = es.state_dict()
    assert sd["scale"] == 32.0 and sd["_growth_tracker"] == 0
    ts.load_state_dict(sd)
    fresh = ember.amp.GradScaler("cpu")
    fresh.load_state_dict(ts.state_dict())
    assert fresh.state_dict() == ts.state_dict() == sd
    again = pickle.loads(pickle.dumps(es))
    assert again.state_dict() == sd


# --------------------------------------------------------------------------- training steps
def _mlp(L):
    L.manual_seed(0)
    return L.nn.Sequential(L.nn.Linear(6, 16), L.nn.ReLU(), L.nn.Linear(16, 3))


def _cnn(L):
    return L.nn.Sequential(L.nn.Conv2d(2, 4, 3, padding=1), L.nn.ReLU(), L.nn.Flatten(), L.nn.Linear(4 * 5 * 5, 3))


@pytest.mark.parametrize("kind", ["mlp", "cnn"])
def test_training_steps_under_autocast_and_grad_scaler(kind):
    shape = (8, 6) if kind == "mlp" else (8, 2, 5, 5)
    x = arr(*shape, seed=3)
    y = rng(4).integers(0, 3, size=(8,))
    me = _mlp(ember) if kind == "mlp" else _cnn(ember)
    mt = _mlp(torch) if kind == "mlp" else _cnn(torch)
    mt.load_state_dict({k: torch.tensor(v.numpy()) for k, v in me.state_dict().items()})
    runs = []
    for L, m in ((ember, me), (torch, mt)):
        opt = L.optim.SGD(m.parameters(), lr=0.05, momentum=0.9)
        scaler = L.amp.GradScaler("cpu", init_scale=2.0 ** 10, growth_interval=2)
        losses = []
        for _ in range(3):
            opt.zero_grad()
            with L.autocast("cpu"):
                out = m(L.tensor(x))
                assert out.dtype == L.bfloat16
                loss = L.nn.functional.cross_entropy(out, L.tensor(y))
                assert loss.dtype == L.float32
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            losses.append(float(loss))
        grads = [p.grad for p in m.parameters()]
        assert all(g.dtype == L.float32 for g in grads)
        runs.append((losses, [p.detach() for p in m.parameters()], grads, scaler.state_dict()))
    (le, pe, ge, se), (lt, pt, gt, st) = runs
    np.testing.assert_allclose(le, lt, rtol=2e-2, atol=1e-2)
    assert se == st
    for a, b in zip(pe, pt):
        assert_close(a, b, rtol=2e-2, atol=5e-3)
    for a, b in zip(ge, gt):
        assert_close(a, b, rtol=5e-2, atol=2e-2)
