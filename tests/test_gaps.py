"""Correctness gaps found by the first round of helpers, each checked against PyTorch.

Every test runs the same program on both libraries (``lib`` is ``ember`` or ``torch``) and
compares what comes out: values, gradients, exception classes and messages, warnings.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import ember
from tests.conftest import assert_close


def _both(fn):
    """Run ``fn(lib)`` for Ember and PyTorch; an exception is returned (class, message) instead."""
    out = []
    for lib in (ember, torch):
        try:
            out.append(fn(lib))
        except Exception as e:  # noqa: BLE001 - the exception is the result being compared
            out.append((type(e), str(e)))
    return out


def _error(fn):
    e, t = _both(fn)
    assert isinstance(t, tuple) and isinstance(t[0], type), f"torch did not raise: {t}"
    assert e == t, f"ember {e} != torch {t}"
    return t


# --------------------------------------------------------------------------- 2. saved index tensors
_A = np.arange(12.0, dtype=np.float32).reshape(3, 4)

_INDEX_OPS = {
    "getitem": lambda lib, a, i: a[i],
    "getitem_tuple": lambda lib, a, i: a[i, 1],
    "index_select": lambda lib, a, i: a.index_select(1, i),
    "gather": lambda lib, a, i: a.gather(1, i.view(1, 2).expand(3, 2)),
    "take": lambda lib, a, i: a.take(i),
    "scatter": lambda lib, a, i: a.scatter(1, i.view(1, 2), 1.0) * a,
    "scatter_add": lambda lib, a, i: (a * 1).scatter_add(1, i.view(1, 2), a[:1, :2] * 3),
    "index_add": lambda lib, a, i: a.index_add(0, i, a[:2] * 2),
    "index_copy": lambda lib, a, i: a.index_copy(0, i, a[:2] * 2),
    "index_fill": lambda lib, a, i: a.index_fill(0, i, 3.0) * a,
    "index_put": lambda lib, a, i: a.index_put((i,), lib.ones(2, 4)),
    "setitem_adv": lambda lib, a, i: _setitem(a * 1, i, a[:2] * 2),
    "cross_entropy": lambda lib, a, i: lib.nn.functional.cross_entropy(a[:2], i),
    "nll_loss": lambda lib, a, i: lib.nn.functional.nll_loss(a[:2], i),
}


def _setitem(x, i, v):
    x[i] = v
    return x


@pytest.mark.parametrize("name", sorted(_INDEX_OPS))
def test_index_modified_in_place_before_backward_raises(name):
    op = _INDEX_OPS[name]

    def run(lib):
        a = lib.tensor(_A, requires_grad=True)
        i = lib.tensor([0, 2])
        y = op(lib, a, i)
        i[0] = 1
        y.sum().backward()
        return a.grad

    e, t = _both(run)
    assert isinstance(t, tuple), "torch should raise"
    assert e[0] is RuntimeError and e[1] == t[1]


@pytest.mark.parametrize("name", sorted(_INDEX_OPS))
def test_index_unchanged_gives_torch_gradient(name):
    op = _INDEX_OPS[name]

    def run(lib):
        a = lib.tensor(_A, requires_grad=True)
        i = lib.tensor([0, 2])
        y = op(lib, a, i)
        (y * lib.arange(y.numel()).reshape(y.shape)).sum().backward()
        return a.grad

    e, t = _both(run)
    assert_close(e, t)


def test_bool_mask_modified_in_place_raises_with_torch_message():
    def run(lib):
        a = lib.tensor(_A[0, :3], requires_grad=True)
        m = lib.tensor([True, False, True])
        y = a[m]
        m[1] = True
        y.sum().backward()

    _error(run)


def test_take_along_dim_broadcasts_and_keeps_its_own_indices():
    def run(lib):
        a = lib.tensor(_A, requires_grad=True)
        i = lib.tensor([[0, 2]])
        y = lib.take_along_dim(a, i, dim=1)
        i[0, 0] = 1  # PyTorch gathers with a broadcast copy: no error
        (y * lib.arange(6.0).reshape(3, 2)).sum().backward()
        return y.detach(), a.grad

    e, t = _both(run)
    assert_close(e, t)


# --------------------------------------------------------------------------- 3. setitem on a leaf
@pytest.mark.parametrize("idx", [0, (0, 1), slice(1, None), Ellipsis, [0, 1], slice(None), (slice(None), slice(None)),
                                 slice(0, 3), (slice(None), slice(0, 1)), (Ellipsis, 0), (slice(1, None), [0]),
                                 (slice(0, 3), [0]), None, (0, [1]), "mask"], ids=repr)
def test_setitem_on_leaf_that_requires_grad_message(idx):
    def run(lib):
        x = lib.ones(3, 2, requires_grad=True)
        x[lib.tensor([True, False, True]) if idx == "mask" else idx] = 5

    _error(run)


# --------------------------------------------------------------------------- 4. .grad of a non-leaf
def _grad_warnings(lib, case):
    x = lib.ones(3, requires_grad=True)
    y = x * 2
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        if case == "non_leaf":
            r = [y.grad, y.grad]  # one warning per access
        elif case == "leaf":
            r = [x.grad, lib.ones(2).grad, (lib.ones(2) * 2).grad]
        elif case == "retained":
            y.retain_grad()
            r = [y.grad]
            y.sum().backward()
            r.append(y.grad)
        else:  # filled by backward(inputs=[non-leaf])
            y.sum().backward(inputs=[y])
            r = [y.grad]
    msgs = [(m.category, str(m.message).split(" (Triggered internally")[0]) for m in w]
    return [None if g is None else g.tolist() for g in r], msgs


@pytest.mark.parametrize("case", ["non_leaf", "leaf", "retained", "inputs"])
def test_non_leaf_grad_access_warns_like_torch(case):
    e, t = _grad_warnings(ember, case), _grad_warnings(torch, case)
    assert e == t
    if case == "non_leaf":
        assert len(t[1]) == 2 and t[1][0][0] is UserWarning


# --------------------------------------------------------------------------- 6. multinomial
_W = [0.1, 0.0, 0.3, 0.6, 0.0]


def _draws(lib, replacement, n, rows=4000):
    lib.manual_seed(0)
    return lib.multinomial(lib.tensor([_W] * rows, dtype=lib.float64), n, replacement=replacement).numpy()


def test_multinomial_without_replacement_fills_with_zero_weight_categories():
    e, t = _draws(ember, False, 5), _draws(torch, False, 5)
    assert e.shape == t.shape == (4000, 5)
    for out in (e, t):
        assert (np.sort(out, axis=1) == np.arange(5)).all()  # a permutation in every row
        # the weighted categories come first, the zero-weight ones last
        assert np.isin(out[:, :3], [0, 2, 3]).all() and np.isin(out[:, 3:], [1, 4]).all()
    # the first draw follows the weights, the second the renormalised rest: same frequencies as torch
    for col in range(3):
        fe = np.bincount(e[:, col], minlength=5) / len(e)
        ft = np.bincount(t[:, col], minlength=5) / len(t)
        np.testing.assert_allclose(fe, ft, atol=0.04)
    # (the order among zero-weight categories is torch's topk tie order: not compared)


def test_multinomial_with_replacement_frequencies_match_torch():
    e, t = _draws(ember, True, 7), _draws(torch, True, 7)
    assert e.shape == t.shape and e.dtype == t.dtype
    fe, ft = np.bincount(e.ravel(), minlength=5) / e.size, np.bincount(t.ravel(), minlength=5) / t.size
    np.testing.assert_allclose(fe, ft, atol=0.01)
    assert fe[1] == fe[4] == 0
    one = ember.multinomial(ember.tensor([0.0, 0.0, 2.0]), 6, replacement=True)
    assert one.tolist() == torch.multinomial(torch.tensor([0.0, 0.0, 2.0]), 6, replacement=True).tolist()


@pytest.mark.parametrize("args", [([0.0, 0.0, 0.0], 5, False), ([0.0, 0.0, 0.0], 2, False), ([0.0, 0.0, 0.0], 2, True),
                                  ([0.5, 0.5, 0.0, 0.0], 5, False), ([1.0, 1.0], 0, True), ([[[1.0]]], 1, False),
                                  ([1.0, -1.0], 1, True), ([1.0, float("nan")], 1, False), ([1, 2], 1, True),
                                  ([1.0, 2.0], 2.0, True)], ids=repr)
def test_multinomial_errors(args):
    data, n, rep = args
    _error(lambda lib: lib.multinomial(lib.tensor(data), n, replacement=rep))


# --------------------------------------------------------------------------- 7. lists of NumPy scalars
@pytest.mark.parametrize("data", [
    [np.int32(1), np.int32(2)], [np.float32(1), np.float32(2)], [np.float64(1.5)], [np.bool_(True), np.bool_(False)],
    [np.int16(1), 2], [np.float32(1), 2.5], [2.5, np.float64(1)], [np.int32(1), np.int64(2)], [np.float16(1)],
    [np.uint8(3)], [[np.int32(1)], [np.int32(2)]], [np.int32(1), 2.0], [np.float32(1), np.float64(2)],
    [np.int32(1), np.float32(2)], [np.int8(1), True], [np.complex64(1j)], [np.float32(1), 1j], (np.int16(4),),
    [1, 2], [1.0, 2], [True, False]], ids=repr)
@pytest.mark.parametrize("fn", ["tensor", "as_tensor"])
def test_sequence_of_numpy_scalars_keeps_torch_dtype(data, fn):
    e, t = getattr(ember, fn)(data), getattr(torch, fn)(data)
    assert_close(e, t)


# --------------------------------------------------------------------------- 8. autograd.grad results
_GRAD_CASES = {
    "a+b": lambda lib, a, b, s: ((a + b).sum(), (a, b)),
    "a*2": lambda lib, a, b, s: ((a * 2).sum(), (a,)),
    "a.sum": lambda lib, a, b, s: (a.sum(), (a,)),
    "a.mean": lambda lib, a, b, s: (a.mean(), (a,)),
    "a.mean(0)": lambda lib, a, b, s: (a.mean(0).sum(), (a,)),
    "grad_outputs": lambda lib, a, b, s: ((a + b), (a, b), lib.ones(2, 3)),
    "a+s": lambda lib, a, b, s: ((a + s).sum(), (a, s)),
    "a[0]": lambda lib, a, b, s: (a[0].sum(), (a,)),
    "a.view": lambda lib, a, b, s: (a.view(6).sum(), (a,)),
    "b.expand": lambda lib, a, b, s: (b.expand(2, 3).sum(), (b,)),
    "a@b": lambda lib, a, b, s: ((a @ b).sum(), (a, b)),
    "s*3": lambda lib, a, b, s: ((s * 3), (s,)),
    "s.sum": lambda lib, a, b, s: (s.sum(), (s,)),
}


@pytest.mark.parametrize("case", sorted(_GRAD_CASES))
def test_autograd_grad_results_are_writable_where_torch_s_are(case):
    def run(lib):
        a = lib.tensor(np.arange(6.0, dtype=np.float32).reshape(2, 3), requires_grad=True)
        b = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        s = lib.tensor(2.0, requires_grad=True)
        r = _GRAD_CASES[case](lib, a, b, s)
        out = []
        for g in lib.autograd.grad(*r):
            before = g.clone()
            try:
                g.mul_(2)
                out.append(("ok", g.tolist(), before.tolist()))
            except RuntimeError as e:
                out.append((str(e), before.tolist()))
        return out

    e, t = _both(run)
    assert e == t


# --------------------------------------------------------------------------- 5. double backward of activations
_XS = np.array([-2.5, -0.7, 0.3, 1.2, 4.0, 7.0], dtype=np.float64)
_ACTS = {
    "relu": lambda lib, x: lib.nn.functional.relu(x),
    "torch.relu": lambda lib, x: lib.relu(x),
    "relu6": lambda lib, x: lib.nn.functional.relu6(x),
    "leaky_relu": lambda lib, x: lib.nn.functional.leaky_relu(x, 0.2),
    "hardtanh": lambda lib, x: lib.nn.functional.hardtanh(x, -1.0, 2.0),
    "threshold": lambda lib, x: lib.nn.functional.threshold(x, 0.5, -1.0),
    "hardshrink": lambda lib, x: lib.nn.functional.hardshrink(x, 0.5),
    "softshrink": lambda lib, x: lib.nn.functional.softshrink(x, 0.5),
    "rrelu_eval": lambda lib, x: lib.nn.functional.rrelu(x, training=False),
    "prelu_const": lambda lib, x: lib.nn.functional.prelu(x, lib.tensor([0.25], dtype=lib.float64)),
    "elu": lambda lib, x: lib.nn.functional.elu(x),
    "selu": lambda lib, x: lib.nn.functional.selu(x),
    "celu": lambda lib, x: lib.nn.functional.celu(x, 0.5),
    "gelu": lambda lib, x: lib.nn.functional.gelu(x),
    "gelu_tanh": lambda lib, x: lib.nn.functional.gelu(x, approximate="tanh"),
    "silu": lambda lib, x: lib.nn.functional.silu(x),
    "mish": lambda lib, x: lib.nn.functional.mish(x),
    "sigmoid": lambda lib, x: lib.sigmoid(x),
    "tanh": lambda lib, x: lib.tanh(x),
    "hardswish": lambda lib, x: lib.nn.functional.hardswish(x),
    "softplus": lambda lib, x: lib.nn.functional.softplus(x, 2.0, 5.0),
    "softsign": lambda lib, x: lib.nn.functional.softsign(x),
    "tanhshrink": lambda lib, x: lib.nn.functional.tanhshrink(x),
    "logsigmoid": lambda lib, x: lib.nn.functional.logsigmoid(x),
    "glu": lambda lib, x: lib.nn.functional.glu(x, 0),
    "softmax": lambda lib, x: lib.nn.functional.softmax(x, 0),
    "log_softmax": lambda lib, x: lib.nn.functional.log_softmax(x, 0),
    "clamp": lambda lib, x: x.clamp(-1, 1),
    "maximum": lambda lib, x: lib.maximum(x, lib.zeros(6, dtype=lib.float64)),
    "relu_inplace": lambda lib, x: lib.nn.functional.relu(x * 1, inplace=True),
    "leaky_relu_inplace": lambda lib, x: lib.nn.functional.leaky_relu(x * 1, 0.1, inplace=True),
}


def _double_backward(lib, name):
    x = lib.tensor(_XS, requires_grad=True)
    w = lib.arange(1.0, 7.0, dtype=lib.float64)
    y = _ACTS[name](lib, x)
    (g,) = lib.autograd.grad((y * w[: y.numel()]).sum(), x, create_graph=True)
    if not g.requires_grad:  # torch's clamp/maximum backward is a mask on a constant gradient
        return False, g.detach(), None
    (g2,) = lib.autograd.grad((g * w).sum(), x)
    return True, g.detach(), g2


@pytest.mark.parametrize("name", sorted(_ACTS))
def test_activation_first_order_grad_is_differentiable_like_torch(name):
    (er, eg, eg2), (tr, tg, tg2) = _double_backward(ember, name), _double_backward(torch, name)
    assert er == tr
    assert_close(eg, tg, rtol=1e-10, atol=1e-12)
    assert_close(eg2, tg2, rtol=1e-10, atol=1e-12)


def test_relu_grad_fn_names_under_create_graph():
    def run(lib):
        x = lib.tensor(_XS, requires_grad=True)
        (g,) = lib.autograd.grad(lib.relu(x).sum(), x, create_graph=True)
        (h,) = lib.autograd.grad(lib.nn.functional.leaky_relu(x).sum(), x, create_graph=True)
        return g.grad_fn.name(), h.grad_fn.name()

    e, t = _both(run)
    assert e == t


def test_hardsigmoid_first_order_grad_requires_grad():
    # PyTorch has no second derivative for hardsigmoid (it raises); Ember's is the true one, zeros.
    x, xt = ember.tensor(_XS, requires_grad=True), torch.tensor(_XS, requires_grad=True)
    (g,) = ember.autograd.grad(ember.nn.functional.hardsigmoid(x).sum(), x, create_graph=True)
    (gt,) = torch.autograd.grad(torch.nn.functional.hardsigmoid(xt).sum(), xt, create_graph=True)
    assert g.requires_grad and gt.requires_grad
    assert_close(g, gt)
    (g2,) = ember.autograd.grad(g.sum(), x)
    assert_close(g2, torch.zeros_like(xt))


def test_prelu_double_backward_with_learnable_weight():
    def run(lib):
        x = lib.tensor(np.array([[-1.5, 2.0, -0.3], [0.7, -2.2, 1.1]]), requires_grad=True)
        wt = lib.tensor([0.2, -0.4], dtype=lib.float64, requires_grad=True)
        y = lib.nn.functional.prelu(x.t().reshape(3, 2), wt)
        gx, gw = lib.autograd.grad((y * lib.arange(6.0, dtype=lib.float64).reshape(3, 2)).sum(), (x, wt),
                                   create_graph=True)
        return (gx.detach(), gw.detach()) + lib.autograd.grad((gx * gx).sum() + (gw * gw).sum(), (x, wt))

    e, t = _both(run)
    assert_close(e, t, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "hardtanh", "threshold", "softshrink", "rrelu_eval"])
def test_piecewise_activation_gradgradcheck(name):
    x = ember.tensor(_XS + 0.05, requires_grad=True)  # away from the kinks
    assert ember.autograd.gradgradcheck(lambda t: _ACTS[name](ember, t), (x,))


@pytest.mark.parametrize("data", [[0.1, 0.2], 0.3, [[1e-40, 3.3]], [0.1 + 0.2j]], ids=repr)
@pytest.mark.parametrize("fn", ["tensor", "as_tensor"])
def test_python_floats_with_explicit_double_dtype_are_not_rounded_to_float32(data, fn):
    dt = "complex128" if "j" in repr(data) else "float64"
    e = getattr(ember, fn)(data, dtype=getattr(ember, dt))
    t = getattr(torch, fn)(data, dtype=getattr(torch, dt))
    np.testing.assert_array_equal(e.numpy(), t.numpy())
    assert str(e.dtype) == str(t.dtype)
