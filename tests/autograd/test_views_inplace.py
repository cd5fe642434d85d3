"""In-place ops through views of non-leaf tensors (PyTorch's CopySlices), compared with PyTorch.

Each case builds ``a = x * 1`` (a non-leaf), writes into views of ``a`` in place, and returns a
result; both libraries must give the same values, gradients for ``x`` and ``y``, and grad_fn names.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
from tests.conftest import assert_close

_XS = np.arange(1.0, 13.0).reshape(4, 3) / 7
_YS = np.array([0.5, -1.5, 2.0])


def _f(lib):
    return lib.nn.functional


_CASES = {
    "slice_add_": lambda lib, a, y: (a[1:].add_(1), a)[1],
    "int_index_mul_": lambda lib, a, y: (a[1].mul_(y), a)[1],
    "slice_int_mul_": lambda lib, a, y: (a[1:, 1].mul_(y), a)[1],
    "view_then_slice": lambda lib, a, y: (a.view(-1)[2:5].mul_(y), a)[1],
    "reshape_row_mul_": lambda lib, a, y: (a.reshape(2, 6)[1].mul_(lib.cat([y, y])), a)[1],
    "transpose_rows": lambda lib, a, y: _t_rows(a, y),
    "transpose_clamp_": lambda lib, a, y: (a.transpose(0, 1).clamp_(0.3, 1.2), a * y)[1],
    "unsqueeze_copy_": lambda lib, a, y: (a.unsqueeze(0)[0, 2].copy_(y), a)[1],
    "narrow_zero_": lambda lib, a, y: (a.narrow(0, 1, 2).zero_(), a * 2)[1],
    "chained_fill_": lambda lib, a, y: (a[1:][:, 1:].fill_(y[0]), a)[1],
    "fill_scalar": lambda lib, a, y: (a[::2].fill_(0.25), a * y)[1],
    "relu_inplace": lambda lib, a, y: _relu_chain(lib, a),
    "leaky_relu_inplace": lambda lib, a, y: (_f(lib).leaky_relu(a[1:].sub_(0.9), 0.1, inplace=True), a * a)[1],
    "sibling_view_after": lambda lib, a, y: _sibling(a, y),
    "view_after_base_inplace": lambda lib, a, y: _base_then_view(a, y),
    "copy_square": lambda lib, a, y: (a[2].copy_(y * y), a.sum(0))[1],
    "twice_through_view": lambda lib, a, y: _twice(a, y),
    "setitem_on_view": lambda lib, a, y: _setitem_view(a, y),
    "step_slice_div_": lambda lib, a, y: (a[::2][1:].div_(y + 3), a.exp())[1],
    "masked_fill_": lambda lib, a, y: (a[1:].masked_fill_(a[1:] > 0.9, 0.0), a * y)[1],
    "clamp_then_read_view": lambda lib, a, y: _read_view(a, y),
}


def _t_rows(a, y):
    b = a.t()
    b[0].mul_(y[0])
    b[1].add_(y[1])
    return a * a


def _relu_chain(lib, a):
    b = a[::2]
    c = b.sub_(0.6)
    _f(lib).relu(c, inplace=True)
    return a * a


def _sibling(a, y):
    b, c = a[1:], a[:2]
    b.mul_(y)
    return c * 3


def _base_then_view(a, y):
    b = a[1:]
    a.mul_(2)
    return b * y


def _twice(a, y):
    b = a[1:]
    b.mul_(y)
    b.mul_(y)
    return b.sum(0) + a[0]


def _setitem_view(a, y):
    b = a[1:]
    b[0] = y
    b[1, 1:] *= y[:2]
    return a


def _read_view(a, y):
    b = a[:, 1:]
    b.clamp_(max=0.8)
    return b * y[1:]


def _run(lib, name, dtype="float64"):
    x = lib.tensor(_XS.astype(dtype), requires_grad=True)
    y = lib.tensor(_YS.astype(dtype), requires_grad=True)
    a = x * 1
    out = _CASES[name](lib, a, y)
    w = lib.arange(1.0, out.numel() + 1, dtype=out.dtype).reshape(out.shape)
    (out * w).sum().backward()
    return out.detach(), a.grad_fn.name(), x.grad, y.grad


@pytest.mark.parametrize("name", sorted(_CASES))
def test_inplace_through_view_matches_torch(name):
    e, t = _run(ember, name), _run(torch, name)
    assert_close(e[0], t[0], rtol=1e-12, atol=1e-12)
    assert e[1] == t[1]
    assert_close(e[2], t[2], rtol=1e-12, atol=1e-12)
    assert_close(e[3], t[3], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ["int_index_mul_", "transpose_rows", "relu_inplace", "setitem_on_view"])
def test_inplace_through_view_float32(name):
    e, t = _run(ember, name, "float32"), _run(torch, name, "float32")
    for a, b in zip(e[2:] + (e[0],), t[2:] + (t[0],)):
        assert_close(a, b)


def test_grad_fn_names_and_next_functions():
    def run(lib):
        x = lib.tensor(_XS, requires_grad=True)
        y = lib.tensor(_YS, requires_grad=True)
        a = x * 1
        b, c = a[1], a[2:]
        b.mul_(y)
        # (c's grad_fn is brought up to date when c is used: PyTorch does it when it is read)
        names = [a.grad_fn.name(), type(a.grad_fn).__name__, b.grad_fn.name(),
                 (c * 1).grad_fn.next_functions[0][0].name()]
        names += [type(n).__name__ for n, _ in a.grad_fn.next_functions]
        d = a[0]
        d.add_(1)
        names += [type(n).__name__ if n is not None else None for n, _ in a.grad_fn.next_functions]
        z = lib.zeros(4, 3, dtype=lib.float64)
        z[1:3].add_(x[:2] * y)
        names += [z.requires_grad, z.is_leaf, z.grad_fn.name()]
        names += [type(n).__name__ if n is not None else None for n, _ in z.grad_fn.next_functions]
        return names

    assert run(ember) == run(torch)


def test_base_without_grad_becomes_part_of_the_graph():
    def run(lib):
        x = lib.tensor(_XS, requires_grad=True)
        y = lib.tensor(_YS, requires_grad=True)
        z = lib.zeros(4, 3, dtype=lib.float64)
        v = z[1:3]
        v.add_(x[:2] * y)
        v.mul_(y)
        (z * lib.arange(12.0, dtype=lib.float64).reshape(4, 3)).sum().backward()
        return z.detach(), x.grad, y.grad

    assert_close(run(ember), run(torch), rtol=1e-12, atol=1e-12)


def test_double_backward_through_copy_slices():
    def run(lib):
        x = lib.tensor(_XS, requires_grad=True)
        y = lib.tensor(_YS, requires_grad=True)
        a = x * x
        a[1].mul_(y)
        a[2:].exp_()
        gx, gy = lib.autograd.grad((a * a).sum(), (x, y), create_graph=True)
        return (gx.detach(), gy.detach()) + lib.autograd.grad((gx * gx).sum() + gy.sum(), (x, y))

    assert_close(run(ember), run(torch), rtol=1e-10, atol=1e-10)


def test_gradcheck_of_a_function_writing_through_views():
    def fn(x, y):
        a = x * 1
        a[1:, ::2].mul_(y[:2])
        a.t()[1].add_(y[2] * y[0])
        return a.exp()

    x = ember.tensor(_XS, requires_grad=True)
    y = ember.tensor(_YS[:3], requires_grad=True)
    assert ember.autograd.gradcheck(fn, (x, y))
    assert ember.autograd.gradgradcheck(fn, (x, y))


@pytest.mark.parametrize("make", ["split", "chunk", "unbind", "split_sizes", "unbind_then_slice", "split_then_view"])
def test_inplace_on_multi_output_view_raises_like_torch(make):
    views = {"split": lambda a: a.split(2)[1], "chunk": lambda a: a.chunk(2)[0], "unbind": lambda a: a.unbind(0)[2],
             "split_sizes": lambda a: a.split([1, 3])[1], "unbind_then_slice": lambda a: a.unbind(1)[0][1:],
             "split_then_view": lambda a: a.split(2)[1].view(-1)}

    def run(lib):
        a = lib.tensor(_XS, requires_grad=True) * 1
        try:
            views[make](a).mul_(2)
        except RuntimeError as e:
            return str(e)
        return "no error"

    assert run(ember) == run(torch) != "no error"

    # without grad the views are ordinary
    a = ember.tensor(_XS) * 1
    views[make](a).mul_(2)


def test_saved_sibling_view_modified_raises_like_torch():
    def run(lib):
        a = lib.tensor(_XS, requires_grad=True) * 1
        b = a.reshape(3, 4)
        b[1].mul_(b[2])  # mul saved b[2], a view of the memory being written
        try:
            a.sum().backward()
        except RuntimeError as e:
            return str(e)
        return "no error"

    assert run(ember) == run(torch) != "no error"


def test_no_graph_without_grad():
    x = ember.tensor(_XS, requires_grad=True)
    a = x * 1
    fn = a.grad_fn
    with ember.no_grad():
        a[1:].mul_(2)
        a.t()[0].add_(1)
    assert a.grad_fn is fn and a._version == 2
    b = ember.tensor(_XS) * 1
    b[1:].mul_(2)
    assert b.grad_fn is None and not b.requires_grad
    # a view whose base only changed values under no_grad keeps its grad_fn
    c = x * 1
    v = c[1:]
    node = v.grad_fn
    with ember.no_grad():
        c.add_(1)
    (v * 2).sum().backward()
    assert v.grad_fn is node
    np.testing.assert_array_equal(x.grad.numpy()[1:], 2.0)


@pytest.mark.parametrize("op", ["mul_y", "mul_2", "zero_", "clamp_", "leaf_view"])
def test_view_made_under_no_grad_then_written_with_grad_raises_like_torch(op):
    def run(lib):
        x = lib.tensor(_XS, requires_grad=True)
        y = lib.tensor(_YS, requires_grad=True)
        a = x * 1
        with lib.no_grad():
            v = x[1:] if op == "leaf_view" else a[1:]
        try:
            {"mul_y": lambda: v.mul_(y), "mul_2": lambda: v.mul_(2), "zero_": v.zero_, "leaf_view": lambda: v.mul_(2),
             "clamp_": lambda: v.clamp_(0, 1)}[op]()
        except RuntimeError as e:
            return str(e)
        return "no error"

    assert run(ember) == run(torch) != "no error"
    # the same view written under no_grad is fine
    a = ember.tensor(_XS, requires_grad=True) * 1
    with ember.no_grad():
        v = a[1:]
        v.mul_(2)


def test_sibling_views_report_their_new_grad_fn_on_access():
    # after an in-place write through one view, every other view of the base reads AsStridedBackward0 at once
    # (PyTorch regenerates on access), and a hook registered on such a view then sees its gradient
    res = {}
    for lib in (torch, ember):
        a = lib.tensor(np.arange(12.0).reshape(4, 3), requires_grad=True)
        b = a * 2
        v1, v2, v3 = b[0], b[1:], b.t()
        v1.mul_(3)
        names = [type(t.grad_fn).__name__ if lib is ember else t.grad_fn.name()
                 for t in (v1, v2, v3)]
        seen = []
        v2.register_hook(lambda g: seen.append(tuple(g.shape)))
        (v2.sum() + (v3 * v3).sum()).backward()
        res[lib] = (names, seen, a.grad.detach().numpy().copy())
    assert [n.replace("torch::autograd::", "") for n in res[torch][0]] == res[ember][0]
    assert res[torch][1] == res[ember][1] == [(3, 3)]
    np.testing.assert_allclose(res[ember][2], res[torch][2])


def test_inplace_through_a_real_view_of_a_complex_graph_tensor_is_refused_before_writing():
    # Ember's view rebase maps elements of one dtype: rather than a wrong gradient, a clear error, nothing written
    z = ember.tensor(np.array([1 + 2j, 3 - 1j]), requires_grad=True)
    w = z * 1
    for view in (lambda t: t.real, lambda t: t.imag, ember.view_as_real):
        with pytest.raises(RuntimeError, match="real/imaginary view"):
            view(w).mul_(2)
        np.testing.assert_array_equal(w.detach().numpy(), [1 + 2j, 3 - 1j])
    with ember.no_grad():  # outside a graph it works, as in PyTorch
        q = ember.tensor(np.array([1 + 2j]))
        q.real.mul_(2)
    assert q.tolist() == [2 + 2j]
