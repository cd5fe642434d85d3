"""autograd.grad/backward, grad modes, hooks, in-place checks, anomaly mode, gradcheck, gradient aliasing."""
import numpy as np
import pytest
import torch

import ember
from conftest import assert_close, same_error


def T(m, v, rg=True, dtype=None):
    return m.tensor(v, requires_grad=rg, dtype=dtype)


def run_both(f):
    return f(ember), f(torch)


# ------------------------------------------------------------------ autograd.grad / backward
def test_grad_returns_without_accumulating():
    def f(m):
        x = T(m, [1.0, 2.0])
        (g,) = m.autograd.grad((x ** 3).sum(), x)
        return g, x.grad
    (eg, ex), (tg, tx) = run_both(f)
    assert_close(eg, tg)
    assert ex is None and tx is None


def test_second_and_third_derivatives():
    def f(m):
        x = T(m, [0.5, 2.0], dtype=m.float64)
        (g1,) = m.autograd.grad((x.sin() * x).sum(), x, create_graph=True)
        (g2,) = m.autograd.grad(g1.sum(), x, create_graph=True)
        (g3,) = m.autograd.grad(g2.sum(), x)
        return g1, g2, g3, g1.requires_grad
    e, t = run_both(f)
    assert_close(e[:3], t[:3])
    assert e[3] == t[3] is True


def test_create_graph_backward_gradient_penalty():
    def f(m):
        x = T(m, [0.5, -1.0, 2.0])
        w = T(m, [1.5, 0.5, -2.0])
        y = (w * x).tanh().sum()
        (gx,) = m.autograd.grad(y, x, create_graph=True)
        (gx ** 2).sum().backward()
        return w.grad, x.grad
    assert_close(*run_both(f))


def test_grad_options():
    def f(m):
        x, y = T(m, [1.0]), T(m, [1.0])
        a = m.autograd.grad((x * 2).sum(), [x, y], allow_unused=True)
        b = m.autograd.grad((x * 2).sum(), [x, y], materialize_grads=True)
        c = m.autograd.grad(x * 2, x, m.tensor([3.0]))
        h = x * 2
        d = m.autograd.grad((h * h).sum(), [h, x])
        return a, b, c, d
    e, t = run_both(f)
    assert e[0][1] is None and t[0][1] is None
    assert_close(e[0][0], t[0][0])
    assert_close(e[1:], t[1:])


@pytest.mark.parametrize("f", [
    lambda m: m.autograd.grad((T(m, [1.0]) * 2).sum(), [T(m, [1.0])]),
    lambda m: m.autograd.grad(T(m, [1.0, 2.0]) * 2, T(m, [1.0])),
    lambda m: m.autograd.grad(m.ones(2).sum(), T(m, [1.0])),
    lambda m: m.autograd.grad(T(m, [1.0]).sum(), []),
    lambda m: (lambda x: m.autograd.grad((x * 2).sum(), x, m.ones(2)))(T(m, [1.0])),
    lambda m: (lambda x: (lambda y: (m.autograd.grad(y, x), m.autograd.grad(y, x)))((x * x).sum()))(T(m, [1.0])),
])
def test_grad_errors(f):
    same_error(f)


def test_autograd_backward():
    def f(m):
        x = T(m, [1.0, 2.0])
        m.autograd.backward([(x * 2).sum(), (x * x).sum()])
        g1 = x.grad.clone()
        m.autograd.backward([x * 3], [m.tensor([1.0, 2.0])])
        m.autograd.backward((x * 4).sum())
        return g1, x.grad
    assert_close(*run_both(f))


# ------------------------------------------------------------------ grad modes
def test_grad_mode_context_managers_and_decorators():
    def f(m):
        x = T(m, [1.0])
        r = []
        with m.no_grad():
            r.append((x * 2).requires_grad)
            with m.enable_grad():
                r.append((x * 2).requires_grad)
            r.append(m.is_grad_enabled())
        r.append(m.is_grad_enabled())

        @m.no_grad()
        def a():
            return (x * 2).requires_grad

        @m.no_grad
        def b():
            return (x * 2).requires_grad

        @m.enable_grad()
        def c():
            return (x * 2).requires_grad

        @m.set_grad_enabled(False)
        def d():
            return (x * 2).requires_grad
        r.append(m.is_grad_enabled())  # decorating does not change the mode
        r += [a(), b(), d(), a.__name__]
        with m.no_grad():
            r.append(c())
        with m.set_grad_enabled(False):
            r.append((x * 2).requires_grad)
            with m.set_grad_enabled(True):
                r.append((x * 2).requires_grad)
            r.append(m.is_grad_enabled())
        r.append(m.is_grad_enabled())
        m.set_grad_enabled(False)
        r.append(m.is_grad_enabled())
        m.set_grad_enabled(True)
        r.append(m.is_grad_enabled())
        try:
            with m.no_grad():
                raise ValueError
        except ValueError:
            pass
        r.append(m.is_grad_enabled())
        return r
    e, t = run_both(f)
    assert e == t


def test_inference_mode():
    def f(m):
        x = T(m, [1.0])
        r = []
        with m.inference_mode():
            y = x * 2
            r += [y.requires_grad, m.is_grad_enabled(), m.is_inference_mode_enabled()]
        with m.inference_mode(False):
            r += [(x * 2).requires_grad, m.is_inference_mode_enabled()]

        @m.inference_mode()
        def g():
            return (x * 2).requires_grad
        r += [g(), m.is_inference_mode_enabled(), m.is_grad_enabled()]
        return r
    e, t = run_both(f)
    assert e == t


def test_no_grad_generator_function():
    def f(m):
        @m.no_grad()
        def gen():
            yield m.is_grad_enabled()
            yield m.is_grad_enabled()
        out = []
        for v in gen():
            out.append((v, m.is_grad_enabled()))
        return out
    e, t = run_both(f)
    assert e == t


# ------------------------------------------------------------------ hooks
def test_hooks_order_replacement_and_retain_grad():
    def f(m):
        log = []
        x = T(m, [1.0, 2.0])
        y = x * 2
        y.register_hook(lambda g: log.append(("h1", g.tolist())))
        y.retain_grad()
        y.register_hook(lambda g: (log.append(("h2", g.tolist())), g * 10)[1])
        y.register_hook(lambda g: log.append(("h3", g.tolist())))
        (y * 3).sum().backward()
        return log, y.grad, x.grad
    (el, ey, ex), (tl, ty, tx) = run_both(f)
    assert el == tl
    assert_close(ey, ty)
    assert_close(ex, tx)


def test_leaf_hooks_and_remove():
    def f(m):
        log = []
        x = T(m, [1.0, 2.0])
        x.register_hook(lambda g: g * 2)
        h = x.register_hook(lambda g: log.append(g.tolist()))
        (x * 3).sum().backward()
        h.remove()
        (x * 3).sum().backward()
        return log, x.grad
    (el, eg), (tl, tg) = run_both(f)
    assert el == tl
    assert_close(eg, tg)
    same_error(lambda m: m.ones(2).register_hook(lambda g: g))


# ------------------------------------------------------------------ in-place checks
@pytest.mark.parametrize("f", [
    lambda m: T(m, [1.0]).add_(1), lambda m: T(m, [1.0]).mul_(2), lambda m: T(m, [1.0]).exp_(),
    lambda m: T(m, [1.0]).zero_(), lambda m: T(m, [1.0]).fill_(2), lambda m: T(m, [1.0, 2.0])[0].add_(1),
    lambda m: T(m, [1.0, 2.0]).view(2, 1).mul_(2),
])
def test_inplace_on_leaf_requiring_grad_raises(f):
    same_error(f)


def test_inplace_on_leaf_allowed_under_no_grad():
    def f(m):
        x = T(m, [1.0])
        with m.no_grad():
            x.add_(1)
        return x, x._version
    (e, ev), (t, tv) = run_both(f)
    assert_close(e, t)
    assert ev == tv


def _modify_saved(op, mode="input", anomaly=False):
    def f(m):
        a = T(m, [[1.0, 2.0], [3.0, 4.0]])
        b = a * 1
        y = op(b)
        if mode == "input":
            b.add_(1)
        elif mode == "output_twice":
            y.mul_(2)
            y.add_(1)
        elif mode == "no_grad":
            with m.no_grad():
                b.mul_(2)
        with m.autograd.set_detect_anomaly(anomaly):
            y.sum().backward()
    return f


@pytest.mark.parametrize("case", [
    (lambda b: b.sin(), "input", False), (lambda b: b * b, "input", False), (lambda b: b ** 2, "input", False),
    (lambda b: b @ b, "input", False), (lambda b: b.exp(), "output_twice", False),
    (lambda b: b.sigmoid(), "output_twice", False), (lambda b: b.sin(), "no_grad", False),
    (lambda b: b.sin(), "input", True),
])
def test_modified_saved_tensor_message_and_versions(case):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        same_error(_modify_saved(*case))


def test_modified_saved_constant_and_double():
    def f(m):
        x = T(m, [1.0, 2.0], dtype=m.float64)
        c = m.ones(2, dtype=m.float64)
        y = (x * c).sum()
        c.mul_(2)
        y.backward()
    same_error(f)


# ------------------------------------------------------------------ anomaly detection
@pytest.mark.parametrize("op", [lambda a: (a.sqrt() * 0).sum(), lambda a: (a / a).sum()])
def test_detect_anomaly_names_the_backward(op):
    import warnings

    def f(m):
        a = T(m, [0.0, 1.0])
        with m.autograd.set_detect_anomaly(True):
            op(a).backward()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        same_error(f)


def test_anomaly_flag():
    r = []
    for m in (torch, ember):
        s = [m.is_anomaly_enabled()]
        with m.autograd.detect_anomaly():
            s.append(m.is_anomaly_enabled())
        s.append(m.is_anomaly_enabled())
        r.append(s)
    assert r[0] == r[1]


# ------------------------------------------------------------------ gradcheck
def test_gradcheck_and_gradgradcheck():
    x = ember.tensor(np.random.default_rng(0).standard_normal(4), requires_grad=True, dtype=ember.float64)
    assert ember.autograd.gradcheck(lambda t: (t.sin() * t).sum(), (x,))
    assert ember.autograd.gradgradcheck(lambda t: t.sin() * t, (x,))
    assert ember.autograd.gradcheck(lambda a, b: a @ b.T, (x.view(2, 2), x.view(2, 2) * 1))


def test_gradcheck_catches_wrong_gradients():
    for m in (ember, torch):
        class Wrong(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x ** 2

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return g * 3 * x

        class NoSecond(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x ** 2

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return g * 2 * x.detach()
        x = T(m, [1.0, 2.0], dtype=m.float64)
        assert m.autograd.gradcheck(Wrong.apply, (x,), raise_exception=False) is False
        with pytest.raises(RuntimeError):
            m.autograd.gradcheck(Wrong.apply, (x,))
        assert m.autograd.gradcheck(NoSecond.apply, (x,))
        assert m.autograd.gradgradcheck(NoSecond.apply, (x,), raise_exception=False) is False


# ------------------------------------------------------------------ gradient aliasing
@pytest.mark.parametrize("f", [
    lambda m, a, b: (a + b).sum().backward(),
    lambda m, a, b: (a + b).backward(m.ones(2)),
    lambda m, a, b: (a.view(2) + b.view(2)).sum().backward(),
    lambda m, a, b: (a * 1 + b * 1).sum().backward(),
    lambda m, a, b: (a - b).sum().backward(),
])
def test_two_leaves_never_share_a_grad(f):
    def g(m):
        a, b = T(m, [1.0, 2.0]), T(m, [3.0, 4.0])
        f(m, a, b)
        a.grad.mul_(2)
        return a.grad, b.grad
    assert_close(*run_both(g))


def test_grad_does_not_alias_gradient_argument():
    def g(m):
        a = T(m, [1.0, 2.0])
        seed = m.ones(2)
        (a * 1).backward(seed)
        a.grad.mul_(2)
        b = T(m, [1.0, 2.0])
        b.backward(seed)
        b.grad.mul_(3)
        return a.grad, b.grad, seed
    assert_close(*run_both(g))


def test_retained_grad_does_not_alias_leaf_grad():
    def g(m):
        a, b = T(m, [1.0, 2.0]), T(m, [3.0, 4.0])
        y = a + b
        y.retain_grad()
        y.sum().backward()
        y.grad.mul_(2)
        return a.grad, b.grad, y.grad
    assert_close(*run_both(g))


def test_gradcheck_perturbs_non_contiguous_inputs():
    # a transposed (strided) input: the numerical Jacobian must see the perturbation, and a wrong
    # analytical gradient must still be caught
    x = ember.randn(4, 3, dtype=ember.float64).t().requires_grad_()
    assert not x._data.flags.c_contiguous
    assert ember.autograd.gradcheck(lambda t: (t * t).sum(0), (x,))

    class Wrong(ember.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            return t * 2

        @staticmethod
        def backward(ctx, g):
            return g * 3

    assert not ember.autograd.gradcheck(Wrong.apply, (x,), raise_exception=False)


def test_autograd_grad_runs_leaf_hooks_and_final_callbacks_like_torch():
    res = {}
    for lib in (torch, ember):
        queue = (torch.autograd.Variable._execution_engine.queue_callback if lib is torch
                 else ember.autograd.engine.queue_callback)
        calls = []
        x = lib.ones(3, requires_grad=True)
        x.register_hook(lambda g: calls.append("leaf") or g * 2)
        (g,) = lib.autograd.grad((x * 3).sum(), x)

        class Inner(lib.autograd.Function):
            # queues a callback in the outer pass, then runs a nested (reentrant) pass of its own
            @staticmethod
            def forward(ctx, a):
                return a * 1

            @staticmethod
            def backward(ctx, go):
                queue(lambda: calls.append("outer-cb"))
                z = lib.ones(2, requires_grad=True)
                with lib.enable_grad():
                    lib.autograd.grad((z * 5).sum(), z)
                calls.append("inner-done")
                return go

        q = lib.ones(2, requires_grad=True)
        Inner.apply(q).sum().backward()
        res[lib] = (calls, g.tolist(), q.grad.tolist())
    assert res[ember] == res[torch]
