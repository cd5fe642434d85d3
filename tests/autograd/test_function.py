"""Custom autograd.Function against torch: ctx API, non-differentiable outputs, once_differentiable."""
import pytest
import torch

import ember
from conftest import assert_close, same_error


def T(m, v, rg=True, dtype=None):
    return m.tensor(v, requires_grad=rg, dtype=dtype)


def make_cube(m):
    class Cube(m.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            ctx.save_for_backward(x)
            ctx.k = k
            idx = (x * 0).long()
            ctx.mark_non_differentiable(idx)
            return x ** 3 * k, idx

        @staticmethod
        def backward(ctx, g, g_idx):
            (x,) = ctx.saved_tensors
            return g * 3 * x ** 2 * ctx.k, None
    return Cube


def test_forward_backward_saved_and_non_differentiable():
    def f(m):
        x = T(m, [1.0, 2.0])
        y, idx = make_cube(m).apply(x, 2)
        y.sum().backward()
        return (x.grad, y.grad_fn.name(), idx.requires_grad, y.requires_grad, str(idx.dtype),
                [(None if g is None else g.name(), n) for g, n in y.grad_fn.next_functions])
    (eg, *er), (tg, *tr) = f(ember), f(torch)
    assert_close(eg, tg)
    assert er == tr


def test_needs_input_grad_and_grad_mode_in_forward():
    def f(m):
        seen = {}

        class F(m.autograd.Function):
            @staticmethod
            def forward(ctx, x, y, k):
                seen["fwd_grad"] = m.is_grad_enabled()
                seen["needs_fwd"] = ctx.needs_input_grad
                return x * y * k

            @staticmethod
            def backward(ctx, g):
                seen["needs"] = ctx.needs_input_grad
                return g, g, None
        x = T(m, [1.0])
        F.apply(x, T(m, [2.0], rg=False), 3).sum().backward()
        return seen, x.grad
    (es, eg), (ts, tg) = f(ember), f(torch)
    assert es == ts
    assert_close(eg, tg)


def test_no_graph_when_nothing_requires_grad():
    for m in (ember, torch):
        y, _ = make_cube(m).apply(m.tensor([1.0, 2.0]), 2)
        assert y.grad_fn is None and not y.requires_grad
        with m.no_grad():
            y, _ = make_cube(m).apply(T(m, [1.0]), 2)
        assert y.grad_fn is None and not y.requires_grad


def test_second_derivative_through_custom_function():
    def f(m):
        class F(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x ** 3

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return g * 3 * x ** 2
        x = T(m, [1.0, 2.0], dtype=m.float64)
        (g,) = m.autograd.grad(F.apply(x).sum(), x, create_graph=True)
        (g2,) = m.autograd.grad(g.sum(), x)
        return g, g2
    assert_close(f(ember), f(torch))


def test_once_differentiable():
    def f(m):
        class F(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x.exp()

            @staticmethod
            @m.autograd.function.once_differentiable
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return g * x.exp()
        x = T(m, [1.0, 2.0], dtype=m.float64)
        (g,) = m.autograd.grad(F.apply(x).sum(), x, create_graph=True)
        return g, g.requires_grad
    (eg, er), (tg, tr) = f(ember), f(torch)
    assert_close(eg, tg)
    assert er == tr


def test_returning_an_input_gets_a_new_node():
    def f(m):
        class Ident(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x

            @staticmethod
            def backward(ctx, g):
                return g * 5
        x = T(m, [1.0])
        y = Ident.apply(x)
        y.sum().backward()
        return y is x, x.grad, y.grad_fn.name()
    (es, eg, en), (ts, tg, tn) = f(ember), f(torch)
    assert (es, en) == (ts, tn)
    assert_close(eg, tg)


def test_saved_tensors_errors():
    def saving(m):
        """A Function of framework ``m`` that saves its input for backward."""
        class F(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * 2

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return g * x
        return F

    def twice(m):
        y = saving(m).apply(T(m, [1.0])).sum()
        y.backward()
        y.backward()

    def modified(m):
        h = T(m, [1.0]) * 1
        y = saving(m).apply(h).sum()
        h.add_(1)
        y.backward()

    def wrong_count(m):
        class F(m.autograd.Function):
            @staticmethod
            def forward(ctx, x, y):
                return x * y

            @staticmethod
            def backward(ctx, g):
                return g
        F.apply(T(m, [1.0]), T(m, [2.0])).sum().backward()

    def legacy_call(m):
        class F(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x
        F()(T(m, [1.0]))
    for f in (twice, modified, wrong_count, legacy_call):
        same_error(f)


def test_gradcheck_custom_function():
    Cube = make_cube(ember)
    x = ember.tensor([0.5, -1.5, 2.0], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda t: Cube.apply(t, 2.0)[0], (x,))
    assert ember.autograd.gradgradcheck(lambda t: Cube.apply(t, 2.0)[0], (x,))


def test_custom_function_gradients_are_validated_like_pytorchs():
    # dtype cast to the input's, broadcast gradients summed down to the input's shape, a bad shape names the node
    for lib in (torch, ember):
        class Dbl(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return (g * 2).double()

        class Wide(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x.sum()

            @staticmethod
            def backward(ctx, g):
                return g.expand(2, 3)

        class Bad(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return g[:2]

        x = lib.ones(3, requires_grad=True)
        h = x * 1
        h.retain_grad()
        (Dbl.apply(h) ** 2).sum().backward()
        assert str(h.grad.dtype).endswith("float32") and str(x.grad.dtype).endswith("float32")
        z = lib.ones(3, requires_grad=True)
        Wide.apply(z).backward()
        assert z.grad.tolist() == [2.0, 2.0, 2.0]
        with pytest.raises(RuntimeError, match=r"Function BadBackward returned an invalid gradient at index 0 - "
                                               r"got \[2\] but expected shape compatible with \[3\]"):
            Bad.apply(lib.ones(3, requires_grad=True) * 1).sum().backward()
