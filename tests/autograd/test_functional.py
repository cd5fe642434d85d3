"""``autograd.functional`` (jacobian, hessian, vjp, jvp, hvp, vhp) and ``autograd.Variable`` vs PyTorch."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
from conftest import assert_close

RNG = np.random.default_rng(7)
X = RNG.standard_normal(3)
Y = RNG.standard_normal((2, 3))


def both(fn_of_module):
    """Run ``fn_of_module(module)`` for ember and torch on float64 copies of X, Y."""
    res = []
    for m in (ember, torch):
        a, b = m.tensor(X.copy()), m.tensor(Y.copy())
        res.append(fn_of_module(m, a, b))
    return res


def f1(m, a, b):
    return (a * b).sin().sum(0) + a.exp()


def f2(m, a, b):
    return (a * b).tanh(), (a ** 2).sum()


@pytest.mark.parametrize("case", ["1in1out", "2in1out", "1in2out", "2in2out"])
def test_jacobian_shapes_and_values(case):
    def run(m, a, b):
        F = m.autograd.functional
        if case == "1in1out":
            return F.jacobian(lambda x: f1(m, x, b), a)
        if case == "2in1out":
            return F.jacobian(lambda x, y: f1(m, x, y), (a, b))
        if case == "1in2out":
            return F.jacobian(lambda x: f2(m, x, b), a)
        return F.jacobian(lambda x, y: f2(m, x, y), (a, b))
    e, t = both(run)
    assert type(e) is type(t) or isinstance(t, torch.Tensor)
    assert_close(e, t, rtol=1e-10, atol=1e-12)


def test_jacobian_unused_input_zeros_and_strict():
    for m in (ember, torch):
        a, b = m.tensor(X.copy()), m.tensor(Y.copy())
        j = m.autograd.functional.jacobian(lambda x, y: x * 2, (a, b))
        assert tuple(j[1].shape) == (3, 2, 3) and float(j[1].abs().sum()) == 0
        with pytest.raises(RuntimeError):
            m.autograd.functional.jacobian(lambda x, y: x * 2, (a, b), strict=True)


def test_jacobian_create_graph_is_differentiable():
    res = []
    for m in (ember, torch):
        a = m.tensor(X.copy(), requires_grad=True)
        j = m.autograd.functional.jacobian(lambda x: x.sin() * x, a, create_graph=True)
        assert j.requires_grad
        j.sum().backward()
        res.append(a.grad)
        j2 = m.autograd.functional.jacobian(lambda x: x.sin() * x, a)
        assert not j2.requires_grad
    assert_close(res[0], res[1], rtol=1e-10, atol=1e-12)


def test_hessian_single_and_tuple():
    def run(m, a, b):
        F = m.autograd.functional
        h1 = F.hessian(lambda x: (x ** 3 * x.sin()).sum(), a)
        h2 = F.hessian(lambda x, y: (x ** 2 * y).sum() + (y.exp()).sum(), (a, b))
        return h1, h2
    e, t = both(run)
    assert_close(e[0], t[0], rtol=1e-10, atol=1e-12)
    for re_, rt in zip(e[1], t[1]):
        assert_close(re_, rt, rtol=1e-10, atol=1e-12)


def test_hessian_rejects_non_scalar():
    for m in (ember, torch):
        with pytest.raises(RuntimeError):
            m.autograd.functional.hessian(lambda x: x * 2, m.tensor(X.copy()))


def test_vjp_jvp():
    v_out = RNG.standard_normal(3)
    v_in = (RNG.standard_normal(3), RNG.standard_normal((2, 3)))

    def run(m, a, b):
        F = m.autograd.functional
        out1, g1 = F.vjp(lambda x, y: f1(m, x, y), (a, b), m.tensor(v_out))
        out2, g2 = F.jvp(lambda x, y: f1(m, x, y), (a, b), tuple(m.tensor(v) for v in v_in))
        out3, g3 = F.vjp(lambda x: (x ** 2).sum(), a)  # v may be None for a one-element output
        out4, g4 = F.jvp(lambda x, y: f2(m, x, y), (a, b), tuple(m.tensor(v) for v in v_in))
        return out1, g1, out2, g2, out3, g3, out4, g4
    e, t = both(run)
    for re_, rt in zip(e, t):
        assert_close(re_, rt, rtol=1e-10, atol=1e-12)
    assert not e[1][0].requires_grad and not e[3].requires_grad


def test_hvp_vhp():
    v = (RNG.standard_normal(3), RNG.standard_normal((2, 3)))

    def run(m, a, b):
        F = m.autograd.functional
        fn = lambda x, y: (x.sin() * y ** 2).sum() + (x ** 3).sum()  # noqa: E731
        vv = tuple(m.tensor(z) for z in v)
        return F.hvp(fn, (a, b), vv), F.vhp(fn, (a, b), vv), F.hvp(lambda x: (x ** 4).sum(), a, vv[0])
    e, t = both(run)
    for re_, rt in zip(e, t):
        assert_close(re_, rt, rtol=1e-10, atol=1e-12)


def test_bad_arguments_raise_like_torch():
    for m in (ember, torch):
        F = m.autograd.functional
        a = m.tensor(X.copy())
        with pytest.raises(TypeError):
            F.jacobian(lambda x: x, [1.0, 2.0])
        with pytest.raises(RuntimeError):
            F.vjp(lambda x: x * 2, a)  # non-scalar output needs v
        with pytest.raises(RuntimeError):
            F.jvp(lambda x: x * 2, a, m.ones(4, dtype=m.float64))  # wrong size
        with pytest.raises(RuntimeError):
            F.vjp(lambda x: x.detach() * 2, a, m.ones(3, dtype=m.float64), strict=True)


def test_variable_returns_tensor():
    for m in (ember, torch):
        t = m.tensor(X.copy())
        v = m.autograd.Variable(t, requires_grad=True)
        assert isinstance(v, m.Tensor) and v.requires_grad
        assert isinstance(m.zeros(2), m.autograd.Variable)
