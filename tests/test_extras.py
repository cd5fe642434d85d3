"""Top-level extras against PyTorch: constants, settings, small ops, windows, legacy types, in-place forms."""
import numpy as np
import pytest
import torch

import ember
from conftest import assert_close, pair

rng = np.random.default_rng(0)


def f32(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def f64(*shape):
    return rng.standard_normal(shape)


# --------------------------------------------------------------------------- constants / settings
def test_constants():
    for n in ("pi", "e", "inf", "nan", "newaxis"):
        a, b = getattr(ember, n), getattr(torch, n)
        assert (a == b) or (a != a and b != b) or (a is None and b is None)


def test_threads_and_settings():
    old = ember.get_num_threads()
    assert isinstance(old, int) and old >= 1
    ember.set_num_threads(1)
    assert ember.get_num_threads() == 1
    ember.set_num_threads(old)
    for bad in (0, -1):
        with pytest.raises(RuntimeError):
            torch.set_num_threads(bad)
        with pytest.raises(RuntimeError):
            ember.set_num_threads(bad)
    assert ember.get_num_interop_threads() >= 1
    assert ember.get_float32_matmul_precision() == torch.get_float32_matmul_precision()
    ember.set_float32_matmul_precision("high")
    assert ember.get_float32_matmul_precision() == "high"
    with pytest.warns(UserWarning):
        ember.set_float32_matmul_precision("bogus")
    assert ember.get_float32_matmul_precision() == "high"
    ember.set_float32_matmul_precision("highest")
    assert ember.are_deterministic_algorithms_enabled() is torch.are_deterministic_algorithms_enabled()
    ember.use_deterministic_algorithms(True, warn_only=True)
    assert ember.are_deterministic_algorithms_enabled() and ember.is_deterministic_algorithms_warn_only_enabled()
    assert ember.get_deterministic_debug_mode() == 1
    ember.use_deterministic_algorithms(False)
    assert ember.get_deterministic_debug_mode() == 0
    assert ember.is_warn_always_enabled() is torch.is_warn_always_enabled()
    ember.set_warn_always(True)
    assert ember.is_warn_always_enabled()
    ember.set_warn_always(False)


def test_default_device():
    assert str(ember.get_default_device()) == str(torch.get_default_device())
    ember.set_default_device("cpu")
    try:
        assert ember.zeros(2).device.type == "cpu"
        assert ember.get_default_device().type == "cpu"
    finally:
        ember.set_default_device(None)
    # a non-cpu default reaches every creation path (checked without a GPU: _dev answers the default)
    from ember.ops import creation as C
    C._default_device[0] = ember.device("cuda:0")
    try:
        assert C._dev(None) == ember.device("cuda:0")
        assert str(ember.get_default_device()) == "cuda:0"
    finally:
        ember.set_default_device(None)
    assert C._dev(None) is None


def test_typename_is_storage():
    for obj in (1, 2.0, "s"):
        assert ember.typename(obj) == torch.typename(obj)
    for dt in ("float32", "float64", "int64", "int32", "bool", "uint8"):
        assert ember.typename(ember.zeros(2, dtype=getattr(ember, dt))) == \
            torch.typename(torch.zeros(2, dtype=getattr(torch, dt)))
    assert ember.typename(ember.nn.Linear(1, 1)) == "ember.nn.modules.linear.Linear" or \
        ember.typename(ember.nn.Linear(1, 1)).endswith(".Linear")
    assert ember.is_storage(ember.zeros(1)) is torch.is_storage(torch.zeros(1))


# --------------------------------------------------------------------------- indices
@pytest.mark.parametrize("row,col,off", [(4, 4, 0), (3, 5, 1), (5, 3, -1), (0, 3, 0), (4, 2, 5), (3, 3, -4)])
def test_tri_indices(row, col, off):
    assert_close(ember.tril_indices(row, col, off), torch.tril_indices(row, col, off))
    assert_close(ember.triu_indices(row, col, off), torch.triu_indices(row, col, off))
    assert_close(ember.tril_indices(row, col, off, dtype=ember.int32),
                 torch.tril_indices(row, col, off, dtype=torch.int32))


def test_unravel_index():
    idx = np.array([[0, 5, 23], [7, 11, 19]])
    for shape in ((2, 3, 4), (24,), (4, 6)):
        assert_close(ember.unravel_index(ember.tensor(idx), shape), torch.unravel_index(torch.tensor(idx), shape))
    assert_close(ember.unravel_index(ember.tensor(-1), (2, 3)), torch.unravel_index(torch.tensor(-1), (2, 3)))
    with pytest.raises(TypeError):
        torch.unravel_index(torch.tensor([1.0]), (2,))
    with pytest.raises(TypeError):
        ember.unravel_index(ember.tensor([1.0]), (2,))


# --------------------------------------------------------------------------- statistics
@pytest.mark.parametrize("shape", [(3, 6), (6,), (1, 5)])
@pytest.mark.parametrize("correction", [0, 1, 2])
def test_cov(shape, correction):
    e, t = pair(f64(*shape), requires_grad=True)
    ec, tc = ember.cov(e, correction=correction), torch.cov(t, correction=correction)
    assert_close(ec, tc, rtol=1e-10, atol=1e-12)
    g = f64(*tc.shape)
    ec.backward(ember.tensor(g))
    tc.backward(torch.tensor(g))
    assert_close(e.grad, t.grad, rtol=1e-10, atol=1e-12)


def test_cov_weights_and_method():
    x = f64(3, 5)
    fw = np.array([1, 2, 1, 3, 1])
    aw = rng.random(5)
    e, t = pair(x, requires_grad=True)
    ea, ta = pair(aw, requires_grad=True)
    ec = ember.cov(e, fweights=ember.tensor(fw), aweights=ea)
    tc = torch.cov(t, fweights=torch.tensor(fw), aweights=ta)
    assert_close(ec, tc, rtol=1e-10, atol=1e-12)
    ec.sum().backward()
    tc.sum().backward()
    assert_close(e.grad, t.grad, rtol=1e-9, atol=1e-12)
    assert_close(ea.grad, ta.grad, rtol=1e-9, atol=1e-12)
    assert_close(e.cov(correction=0), t.cov(correction=0), rtol=1e-10, atol=1e-12)
    assert_close(ember.cov(ember.tensor([[1, 2, 4], [3, 1, 0]])), torch.cov(torch.tensor([[1, 2, 4], [3, 1, 0]])))
    with pytest.raises(ValueError):
        ember.cov(ember.zeros(2, 2, 2))
    with pytest.raises(RuntimeError):
        ember.cov(ember.zeros(2, 3), fweights=ember.tensor([1, -1, 1]))


def test_corrcoef():
    e, t = pair(f32(4, 7), requires_grad=True)
    ec, tc = ember.corrcoef(e), torch.corrcoef(t)
    assert_close(ec, tc, rtol=1e-5, atol=1e-6)
    ec.sum().backward()
    tc.sum().backward()
    assert_close(e.grad, t.grad, rtol=1e-4, atol=1e-5)  # float32 sum of cancelling terms
    assert_close(pair(f64(5))[0].corrcoef(), torch.corrcoef(torch.tensor(f64(5))) * 0 + 1)
    assert ember.autograd.gradcheck(ember.corrcoef, (ember.tensor(f64(3, 5), requires_grad=True),))


@pytest.mark.parametrize("kw", [dict(bins=5), dict(bins=4, range=(-1.0, 1.0)), dict(bins=6, density=True)])
def test_histogram(kw):
    x = f32(50)
    w = rng.random(50).astype(np.float32)
    eh, th = ember.histogram(ember.tensor(x), **kw), torch.histogram(torch.tensor(x), **kw)
    assert_close(eh.hist, th.hist)
    assert_close(eh.bin_edges, th.bin_edges)
    eh = ember.tensor(x).histogram(weight=ember.tensor(w), **kw)
    th = torch.tensor(x).histogram(weight=torch.tensor(w), **kw)
    assert_close(eh[0], th[0], rtol=1e-5, atol=1e-5)
    edges = np.array([-2.0, -0.5, 0.0, 0.3, 2.0], np.float32)
    assert_close(ember.histogram(ember.tensor(x), ember.tensor(edges)),
                 torch.histogram(torch.tensor(x), torch.tensor(edges)))


def test_isin():
    a = rng.integers(0, 10, (3, 4))
    b = rng.integers(0, 10, 6)
    for kw in ({}, {"invert": True}):
        assert_close(ember.isin(ember.tensor(a), ember.tensor(b), **kw), torch.isin(torch.tensor(a), torch.tensor(b), **kw))
    assert_close(ember.isin(ember.tensor(a), 3), torch.isin(torch.tensor(a), 3))
    assert_close(ember.isin(3, ember.tensor(b)), torch.isin(3, torch.tensor(b)))


# --------------------------------------------------------------------------- complex helpers
def test_angle_real_and_complex():
    x = np.array([-2.0, -0.0, 0.0, 1.5, np.nan], np.float32)
    e, t = pair(x, requires_grad=True)
    ea, ta = ember.angle(e), torch.angle(t)
    assert_close(ea, ta)
    assert ea.grad_fn.name() == ta.grad_fn.name()
    ea.sum().backward()
    ta.sum().backward()
    assert_close(e.grad, t.grad)
    assert_close(ember.tensor([1, -2]).angle(), torch.tensor([1, -2]).angle())
    z = (f64(5) + 1j * f64(5))
    z[0] = 0
    e, t = pair(z, requires_grad=True)
    ea, ta = e.angle(), t.angle()
    assert_close(ea, ta, rtol=1e-12, atol=1e-12)
    g = f64(5)
    ea.backward(ember.tensor(g))
    ta.backward(torch.tensor(g))
    assert_close(e.grad, t.grad, rtol=1e-12, atol=1e-12)


def test_polar_and_flags():
    ea, ta = pair(rng.random(4), requires_grad=True)
    eb, tb = pair(f64(4), requires_grad=True)
    ez, tz = ember.polar(ea, eb), torch.polar(ta, tb)
    assert_close(ez, tz, rtol=1e-12, atol=1e-12)
    g = f64(4) + 1j * f64(4)
    ez.backward(ember.tensor(g))
    tz.backward(torch.tensor(g))
    assert_close(ea.grad, ta.grad, rtol=1e-12, atol=1e-12)
    assert_close(eb.grad, tb.grad, rtol=1e-12, atol=1e-12)
    e = ember.tensor([1 + 0j, 2 + 1j])
    t = torch.tensor([1 + 0j, 2 + 1j])
    assert_close(ember.isreal(e), torch.isreal(t))
    assert_close(e.isreal(), t.isreal())
    assert_close(ember.isreal(ember.ones(2)), torch.isreal(torch.ones(2)))
    for name in ("is_conj", "is_neg"):
        assert getattr(ember, name)(e) is getattr(torch, name)(t)
        assert getattr(e, name)() is getattr(t, name)()
    assert e.resolve_conj() is e and ember.resolve_neg(e) is e


def test_frexp():
    x = np.array([0.0, 1.0, -3.5, 1e-3, 1024.0, 7.25], np.float32)
    e, t = pair(x, requires_grad=True)
    em, tm = ember.frexp(e), torch.frexp(t)
    assert_close(em.mantissa, tm.mantissa)
    assert_close(em.exponent, tm.exponent)
    em.mantissa.sum().backward()
    tm.mantissa.sum().backward()
    assert_close(e.grad, t.grad)
    assert_close(e.frexp()[1], t.frexp()[1])
    with pytest.raises(RuntimeError):
        torch.frexp(torch.tensor([1]))
    with pytest.raises(RuntimeError):
        ember.frexp(ember.tensor([1]))


@pytest.mark.parametrize("dt", [np.int64, np.int32, np.int16, np.uint8, np.int8])
def test_bit_shifts(dt):
    a = rng.integers(-50 if dt != np.uint8 else 0, 50, 12).astype(dt)
    s = np.array([0, 1, 2, 3, 7, 1, 2, 0, 1, 4, 5, 6]).astype(dt)
    ea, ta = pair(a)
    es, ts = pair(s)
    for f in ("bitwise_left_shift", "bitwise_right_shift"):
        assert_close(getattr(ember, f)(ea, es), getattr(torch, f)(ta, ts))
        assert_close(getattr(ea, f)(2), getattr(ta, f)(2))
    assert_close(ea << es, ta << ts)
    assert_close(ea >> 1, ta >> 1)
    e2, t2 = ea.clone(), ta.clone()
    e2 <<= 1
    t2 <<= 1
    assert_close(e2, t2)
    assert_close(ea.clone().bitwise_right_shift_(es), ta.clone().bitwise_right_shift_(ts))
    with pytest.raises(RuntimeError):
        torch.bitwise_left_shift(torch.ones(2), 1)
    with pytest.raises(RuntimeError):
        ember.bitwise_left_shift(ember.ones(2), 1)


# --------------------------------------------------------------------------- linear algebra odds
@pytest.mark.parametrize("p", [2, 1, 3.5, 0, float("inf")])
def test_dist(p):
    e1, t1 = pair(f32(3, 4), requires_grad=True)
    e2, t2 = pair(f32(4), requires_grad=True)
    ed, td = ember.dist(e1, e2, p), torch.dist(t1, t2, p)
    assert_close(ed, td, rtol=1e-5, atol=1e-5)
    if p != 0:
        ed.backward()
        td.backward()
        assert_close(e1.grad, t1.grad, rtol=1e-4, atol=1e-5)
        assert_close(e2.grad, t2.grad, rtol=1e-4, atol=1e-5)
    assert_close(e1.dist(e2, p), t1.dist(t2, p), rtol=1e-5, atol=1e-5)


def test_chain_matmul():
    arrs = [f64(2, 3), f64(3, 4), f64(4, 2)]
    es, ts = zip(*[pair(a, requires_grad=True) for a in arrs])
    er, tr = ember.chain_matmul(*es), torch.chain_matmul(*ts)
    assert_close(er, tr, rtol=1e-12, atol=1e-12)
    er.sum().backward()
    tr.sum().backward()
    for a, b in zip(es, ts):
        assert_close(a.grad, b.grad, rtol=1e-12, atol=1e-12)
    assert_close(ember.chain_matmul(es[0]), torch.chain_matmul(ts[0]))
    with pytest.raises(RuntimeError):
        ember.chain_matmul(ember.ones(3))


def _spd(n, batch=()):
    a = rng.standard_normal(batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


@pytest.mark.parametrize("upper", [False, True])
@pytest.mark.parametrize("batch", [(), (2,)])
def test_cholesky_solve_inverse(upper, batch):
    L = np.linalg.cholesky(_spd(3, batch))
    if upper:
        L = np.swapaxes(L, -1, -2)
    el, tl = pair(L, requires_grad=True)
    eb, tb = pair(f64(*batch, 3, 2), requires_grad=True)
    ex, tx = ember.cholesky_solve(eb, el, upper), torch.cholesky_solve(tb, tl, upper)
    assert_close(ex, tx, rtol=1e-10, atol=1e-12)
    ex.sum().backward()
    tx.sum().backward()
    assert_close(el.grad, tl.grad, rtol=1e-8, atol=1e-10)
    assert_close(eb.grad, tb.grad, rtol=1e-8, atol=1e-10)
    assert_close(eb.cholesky_solve(el, upper), tb.cholesky_solve(tl, upper), rtol=1e-10, atol=1e-12)
    el2, tl2 = pair(L, requires_grad=True)
    ei, ti = ember.cholesky_inverse(el2, upper), torch.cholesky_inverse(tl2, upper)
    assert_close(ei, ti, rtol=1e-10, atol=1e-12)
    g = f64(*ti.shape)
    ei.backward(ember.tensor(g))
    ti.backward(torch.tensor(g))
    assert_close(el2.grad, tl2.grad, rtol=1e-8, atol=1e-10)
    assert_close(el2.cholesky_inverse(upper), tl2.cholesky_inverse(upper), rtol=1e-10, atol=1e-12)
    with pytest.raises(RuntimeError):
        ember.cholesky_solve(ember.ones(3, 2), ember.ones(2, 3))


# --------------------------------------------------------------------------- shapes
@pytest.mark.parametrize("dim", [None, 0, 1])
def test_unique_consecutive(dim):
    a = np.array([[1, 1, 2], [1, 1, 2], [3, 3, 3], [1, 1, 2], [1, 1, 2]])
    e, t = pair(a)
    for ri in (False, True):
        for rc in (False, True):
            kw = dict(return_inverse=ri, return_counts=rc, dim=dim)
            assert_close(ember.unique_consecutive(e, **kw), torch.unique_consecutive(t, **kw))
            assert_close(e.unique_consecutive(**kw), t.unique_consecutive(**kw))
    f, tf = pair(np.array([1.0, 1.0, np.nan, 2.0, 2.0, 1.0], np.float32))
    assert_close(ember.unique_consecutive(f, return_counts=True), torch.unique_consecutive(tf, return_counts=True))


def test_unsafe_and_row_stack():
    e, t = pair(f32(6, 4))
    assert_close(ember.unsafe_chunk(e, 3, 1), torch.unsafe_chunk(t, 3, 1))
    assert_close(ember.unsafe_split(e, 4), torch.unsafe_split(t, 4))
    assert_close(e.unsafe_split_with_sizes([1, 5]), t.unsafe_split_with_sizes([1, 5]))
    assert_close(e.unsafe_chunk(2), t.unsafe_chunk(2))
    assert_close(ember.row_stack([e, e]), torch.row_stack([t, t]))


def test_empty_strided_frombuffer():
    e, t = ember.empty_strided((2, 3), (1, 2)), torch.empty_strided((2, 3), (1, 2))
    assert tuple(e.shape) == tuple(t.shape) and e.stride() == t.stride() and e.dtype == ember.float32
    e = ember.empty_strided((2, 3), (3, 1), dtype=ember.float64)
    assert e.stride() == (3, 1) and e.dtype == ember.float64
    assert tuple(ember.empty_strided((0, 3), (3, 1)).shape) == (0, 3)
    buf = bytearray(np.arange(6, dtype=np.int32).tobytes())
    eb = ember.frombuffer(buf, dtype=ember.int32)
    tb = torch.frombuffer(bytearray(buf), dtype=torch.int32)
    assert_close(eb, tb)
    assert_close(ember.frombuffer(buf, dtype=ember.int32, count=2, offset=4),
                 torch.frombuffer(bytearray(buf), dtype=torch.int32, count=2, offset=4))
    eb[0] = 9  # shares memory with the buffer
    assert np.frombuffer(bytes(buf), np.int32)[0] == 9
    for kw in (dict(count=10), dict(offset=24)):
        with pytest.raises(ValueError):
            torch.frombuffer(bytearray(buf), dtype=torch.int32, **kw)
        with pytest.raises(ValueError):
            ember.frombuffer(buf, dtype=ember.int32, **kw)


@pytest.mark.parametrize("edge_order", [1, 2])
def test_gradient(edge_order):
    e, t = pair(f64(5, 6), requires_grad=True)
    for kw in ({}, {"spacing": 2.0}, {"dim": 1}, {"spacing": [0.5, 3.0]}, {"dim": [0], "spacing": [1.5]}):
        eo, to = ember.gradient(e, edge_order=edge_order, **kw), torch.gradient(t, edge_order=edge_order, **kw)
        assert_close(eo, to, rtol=1e-10, atol=1e-12)
    c0 = np.cumsum(rng.random(5) + 0.2)
    c1 = np.cumsum(rng.random(6) + 0.2)
    eo = ember.gradient(e, spacing=(ember.tensor(c0), ember.tensor(c1)), edge_order=edge_order)
    to = torch.gradient(t, spacing=(torch.tensor(c0), torch.tensor(c1)), edge_order=edge_order)
    assert_close(eo, to, rtol=1e-10, atol=1e-12)
    (eo[0] * 2 + eo[1]).sum().backward()
    (to[0] * 2 + to[1]).sum().backward()
    assert_close(e.grad, t.grad, rtol=1e-10, atol=1e-12)
    with pytest.raises(RuntimeError):
        torch.gradient(torch.ones(2), edge_order=2)
    with pytest.raises(RuntimeError):
        ember.gradient(ember.ones(2), edge_order=2)


# --------------------------------------------------------------------------- windows
@pytest.mark.parametrize("name", ["bartlett_window", "blackman_window", "hamming_window", "hann_window",
                                  "kaiser_window"])
@pytest.mark.parametrize("n", [0, 1, 2, 7, 16])
@pytest.mark.parametrize("periodic", [True, False])
def test_windows(name, n, periodic):
    assert_close(getattr(ember, name)(n, periodic), getattr(torch, name)(n, periodic), atol=2e-6)
    assert_close(getattr(ember, name)(n, periodic, dtype=ember.float64),
                 getattr(torch, name)(n, periodic, dtype=torch.float64), rtol=1e-10, atol=1e-12)


def test_window_args():
    assert_close(ember.hamming_window(9, False, 0.5, 0.4), torch.hamming_window(9, False, 0.5, 0.4))
    assert_close(ember.kaiser_window(9, True, 5.0), torch.kaiser_window(9, True, 5.0), atol=2e-6)
    with pytest.raises(RuntimeError):
        torch.hann_window(-1)
    with pytest.raises(RuntimeError):
        ember.hann_window(-1)
    with pytest.raises(RuntimeError):
        ember.hann_window(4, dtype=ember.int64)
    assert ember.hann_window(4, requires_grad=True).requires_grad


# --------------------------------------------------------------------------- legacy types
@pytest.mark.parametrize("name", ["FloatTensor", "DoubleTensor", "LongTensor", "IntTensor", "BoolTensor",
                                  "HalfTensor", "ByteTensor", "CharTensor", "ShortTensor"])
def test_legacy_types(name):
    E, T = getattr(ember, name), getattr(torch, name)
    assert tuple(E(2, 3).shape) == tuple(T(2, 3).shape) and E(2, 3).dtype == E.dtype
    assert str(E.dtype) == str(T.dtype).replace("torch", "ember") or str(E.dtype).split(".")[-1] == \
        str(T.dtype).split(".")[-1]
    assert_close(E([1, 0, 1]), T([1, 0, 1]))
    assert_close(E(), T())
    assert tuple(E(ember.Size([4])).shape) == (4,)
    assert isinstance(E([1]), E) and not isinstance(ember.zeros(1, dtype=ember.complex64), E)
    assert isinstance(ember.zeros(1), ember.FloatTensor) is isinstance(torch.zeros(1), T) or name != "FloatTensor"
    assert isinstance(ember.zeros(1, dtype=E.dtype), E) and isinstance(torch.zeros(1, dtype=T.dtype), T)
    assert isinstance(ember.zeros(1), E) == isinstance(torch.zeros(1), T)
    assert type(E([1])) is ember.Tensor
    assert E([1]).type() == T([1]).type()


def test_legacy_type_errors():
    with pytest.raises(TypeError):
        torch.FloatTensor(torch.tensor([1, 2]))
    with pytest.raises(TypeError):
        ember.FloatTensor(ember.tensor([1, 2]))
    x = ember.tensor([1.0, 2.0])
    assert ember.FloatTensor(x) is x


def test_tensor_new_get_device():
    e, t = pair(f64(2))
    assert_close(e.new(2, 3).shape and e.new(2, 3).zero_(), t.new(2, 3).zero_())
    assert_close(e.new([1, 2]), t.new([1, 2]))
    assert_close(e.new((2, 3)), t.new((2, 3)))
    assert_close(e.new(), t.new())
    assert tuple(e.new(ember.Size([3])).shape) == tuple(t.new(torch.Size([3])).shape)
    assert e.get_device() == t.get_device() == ember.get_device(e) == torch.get_device(t)


# --------------------------------------------------------------------------- top-level in-place forms
@pytest.mark.parametrize("name", ["abs_", "ceil_", "cos_", "exp_", "floor_", "neg_", "relu_", "sigmoid_", "tanh_",
                                  "sqrt_", "round_", "trunc_", "frac_", "expm1_", "reciprocal_", "square_",
                                  "deg2rad_", "sinc_", "zero_"])
def test_inplace_top_level(name):
    x = np.abs(f32(5)) + 0.1
    e, t = pair(x)
    re, rt = getattr(ember, name)(e), getattr(torch, name)(t)
    assert re is e and rt is t
    assert_close(e, t)


def test_inplace_top_level_args():
    e, t = pair(f32(6))
    assert_close(ember.clamp_(e, -0.5, 0.5), torch.clamp_(t, -0.5, 0.5))
    assert_close(ember.fill_(e, 2.0), torch.fill_(t, 2.0))
    assert_close(ember.fill(e, 3.0), torch.fill(t, 3.0))
    e, t = pair(np.array([np.nan, np.inf, 1.0], np.float32))
    assert_close(ember.nan_to_num_(e, 0.0, 9.0), torch.nan_to_num_(t, 0.0, 9.0))
    e, t = pair(f32(3), requires_grad=True)
    with pytest.raises(RuntimeError):
        torch.exp_(t)
    with pytest.raises(RuntimeError):
        ember.exp_(e)
    e2, t2 = e * 1, t * 1
    ember.tanh_(e2).sum().backward()
    torch.tanh_(t2).sum().backward()
    assert_close(e.grad, t.grad)


def test_is_signed_conj_physical_range():
    for dt in ("uint8", "int8", "float32", "bool"):
        assert ember.is_signed(ember.zeros(1, dtype=getattr(ember, dt))) is \
            torch.is_signed(torch.zeros(1, dtype=getattr(torch, dt)))
    z = f64(3) + 1j * f64(3)
    e, t = pair(z)
    assert_close(ember.conj_physical(e), torch.conj_physical(t))
    assert_close(e.conj_physical(), t.conj_physical())
    e.conj_physical_()
    t.conj_physical_()
    assert_close(e, t)
    for args, kw in (((0, 1, 0.25), {}), ((1, 4), {}), ((1, 4), {"dtype": "int64"}), ((0, 1, 0.3), {}),
                     ((5, 1, -1.5), {"dtype": "float64"})):
        ek = {k: getattr(ember, v) for k, v in kw.items()}
        tk = {k: getattr(torch, v) for k, v in kw.items()}
        with pytest.warns(UserWarning):
            er = ember.range(*args, **ek)
        with pytest.warns(UserWarning):
            tr = torch.range(*args, **tk)
        assert_close(er, tr)
    for bad in ((0, 1, 0), (1, 0, 1)):
        with pytest.warns(UserWarning), pytest.raises(RuntimeError):
            ember.range(*bad)


def test_gradcheck_differentiable_extras():
    gc = ember.autograd.gradcheck

    def t(*shape):
        return ember.tensor(f64(*shape), requires_grad=True)
    assert gc(lambda x: ember.cov(x, correction=1), (t(3, 5),))
    assert gc(lambda x, w: ember.cov(x, aweights=w), (t(2, 4), ember.tensor(rng.random(4) + 0.5, requires_grad=True)))
    assert gc(lambda x: ember.gradient(x, spacing=1.5, edge_order=2)[0], (t(5, 3),))
    assert gc(lambda a, b: ember.dist(a, b, 3), (t(3, 2), t(2)))
    assert gc(lambda a, b: ember.polar(a, b).real + ember.polar(a, b).imag * 2,
              (ember.tensor(rng.random(3) + 0.5, requires_grad=True), t(3)))
    L = ember.tensor(np.linalg.cholesky(_spd(3)), requires_grad=True)
    assert gc(lambda b, low: ember.cholesky_solve(b, low), (t(3, 2), L))
    assert gc(lambda low: ember.cholesky_inverse(low), (L,))
    assert gc(lambda x: ember.pdist(x, 2), (t(4, 3),))
    assert gc(lambda x: ember.frexp(x)[0], (t(5),))


def test_default_device_cuda_on_stand_in(monkeypatch):
    """set_default_device("cuda") reaches every creation path (on the CuPy stand-in of tests/cuda)."""
    import os
    import sys
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "cuda"))
    try:
        import fake_cupy
    finally:
        sys.path.pop(0)
    fake_cupy.install(monkeypatch)
    monkeypatch.setattr(ember.backends, "_pending_checks", [])
    ember.set_default_device("cuda")
    try:
        assert str(ember.get_default_device()) == "cuda:0"
        made = [ember.zeros(2), ember.ones(2, 3), ember.empty(3), ember.full((2,), 1.5), ember.eye(2),
                ember.tensor([1.0, 2.0]), ember.arange(4), ember.linspace(0, 1, 5), ember.rand(2), ember.randn(2),
                ember.randint(0, 5, (3,)), ember.hann_window(4), ember.tril_indices(3, 3), ember.FloatTensor(2)]
        for t in made:
            assert t.device.type == "cuda" and isinstance(t._data, fake_cupy.ndarray), t
        assert ember.zeros(2, device="cpu").device.type == "cpu"
        assert ember.from_numpy(np.zeros(2)).device.type == "cpu"  # as in PyTorch: from_numpy shares host memory
    finally:
        ember.set_default_device(None)
    assert ember.zeros(2).device.type == "cpu" and str(ember.get_default_device()) == "cpu"


def test_copy_variants():
    x = f64(3, 4)
    cases = [("alias_copy", ()), ("detach_copy", ()), ("diagonal_copy", (1,)), ("expand_copy", None),
             ("narrow_copy", (1, 1, 2)), ("permute_copy", ((1, 0),)), ("select_copy", (1, 2)),
             ("slice_copy", (1, 1, 4, 2)), ("split_copy", (2,)), ("split_with_sizes_copy", ([1, 2],)),
             ("squeeze_copy", ()), ("t_copy", ()), ("transpose_copy", (0, 1)), ("unbind_copy", (1,)),
             ("unfold_copy", (1, 2, 1)), ("unsqueeze_copy", (1,)), ("view_copy", ((12,),)),
             ("as_strided_copy", ((2, 2), (1, 2), 1))]
    for name, args in cases:
        arr = f64(1, 4) if name == "expand_copy" else x
        args = ((3, 4),) if args is None else args
        e, t = pair(arr, requires_grad=name != "detach_copy")
        eo, to = getattr(ember, name)(e, *args), getattr(torch, name)(t, *args)
        assert_close(eo, to, rtol=1e-12, atol=1e-12)
        eo0, to0 = (eo[0], to[0]) if isinstance(to, tuple) else (eo, to)
        if name != "detach_copy":
            g = f64(*to0.shape)
            eo0.backward(ember.tensor(g))
            to0.backward(torch.tensor(g))
            assert_close(e.grad, t.grad, rtol=1e-12, atol=1e-12)
    e, t = pair(x)
    c = ember.narrow_copy(e, 0, 0, 1)
    c.fill_(5.0)
    assert float(e[0, 0]) != 5.0  # fresh memory
    assert_close(e.narrow_copy(1, 1, 2), t.narrow_copy(1, 1, 2))
    assert_close(ember.view_copy(ember.zeros(2), ember.int32), torch.view_copy(torch.zeros(2), torch.int32))
    z = f64(3, 2)
    assert_close(ember.view_as_complex_copy(ember.tensor(z)), torch.view_as_complex_copy(torch.tensor(z)))
    assert_close(ember.view_as_real_copy(ember.tensor(z[:, 0] + 1j)), torch.view_as_real_copy(torch.tensor(z[:, 0] + 1j)))


def test_addr_new_empty_strided():
    e, t = pair(f32(3, 2), requires_grad=True)
    ev, tv = pair(f32(3), requires_grad=True)
    ew, tw = pair(f32(2))
    eo, to = ember.addr(e, ev, ew, beta=0.5, alpha=2.0), torch.addr(t, tv, tw, beta=0.5, alpha=2.0)
    assert_close(eo, to)
    eo.sum().backward()
    to.sum().backward()
    assert_close(e.grad, t.grad)
    assert_close(ev.grad, tv.grad)
    x = ember.zeros(2, dtype=ember.float64)
    y = x.new_empty_strided((2, 3), (1, 2))
    ty = torch.zeros(2, dtype=torch.float64).new_empty_strided((2, 3), (1, 2))
    assert y.dtype == ember.float64 and tuple(y.shape) == tuple(ty.shape) and y.stride() == ty.stride()
