"""Each claim of the seed note's computation-graph section, checked against torch."""
import pytest
import torch

import ember
from conftest import assert_close, same_error


def T(m, v, rg=True, dtype=None):
    return m.tensor(v, requires_grad=rg, dtype=dtype)


def test_only_tracked_tensors_enter_the_graph():
    # z = x * y * 4: y and 4 are constants, dz/dx = 2 * 4
    out = []
    for m in (ember, torch):
        x, y = T(m, [3.0]), T(m, [2.0], rg=False)
        z = x * y * 4
        z.backward()
        out.append((x.grad, y.grad, z.requires_grad, y.requires_grad, z.grad_fn.name()))
    (ex, ey, *er), (tx, ty, *tr) = out
    assert_close(ex, tx)
    assert ey is None and ty is None and er == tr


def test_requires_grad_and_requires_grad_():
    for m in (ember, torch):
        x = m.ones(2)
        assert x.requires_grad is False
        assert x.requires_grad_() is x and x.requires_grad
        assert x.requires_grad_(False).requires_grad is False
        x.requires_grad = True
        assert x.requires_grad
    for f in (lambda m: m.ones(2, dtype=m.int64).requires_grad_(),
              lambda m: setattr(m.ones(2, dtype=m.int64), "requires_grad", True),
              lambda m: (T(m, [1.0]) * 2).requires_grad_(False),
              lambda m: setattr(T(m, [1.0]) * 2, "requires_grad", False),
              lambda m: m.tensor([1], requires_grad=True)):
        same_error(f)


def test_grad_accumulates_until_zeroed():
    res = []
    for m in (ember, torch):
        x = T(m, [1.0, 2.0])
        (x * 2).sum().backward()
        (x * x).sum().backward()
        g1 = x.grad.clone()
        x.grad.zero_()
        (x * 3).sum().backward()
        res.append((g1, x.grad))
    assert_close(res[0], res[1])


def test_grad_fn_names_and_next_functions():
    def graph(m):
        x, y = T(m, [1.0, 2.0]), T(m, [3.0, 4.0], rg=False)
        outs = [x + 1, x - 1, x * x, x / 2, -x, x ** 2, 2 ** x, 1 - x, 2 / x, x.exp(), x.sum(), x.mean(),
                x.view(2, 1), x[0], x.unsqueeze(0), x.tanh(), x.sigmoid(), x.relu(), x @ x, x.sum(0), x.clone(),
                x.abs(), x.log(), x.sqrt(), x.expand(3, 2), x.double(), m.cat([x, x]), m.stack([x, x]),
                x * y + x.exp(), x.sum() * x.mean(), x.pow(m.tensor(2.0)), x.clamp(0, 1)]
        rows = []
        for o in outs:
            nf = [(None if f is None else f.name(), n) for f, n in o.grad_fn.next_functions]
            nf2 = [[(None if g is None else g.name(), k) for g, k in f.next_functions] for f, _ in
                   o.grad_fn.next_functions if f is not None]
            rows.append((o.grad_fn.name(), nf, nf2))
        return rows
    for e, t in zip(graph(ember), graph(torch)):
        assert e == t


def test_accumulate_grad_variable_is_the_leaf():
    for m in (ember, torch):
        x = T(m, [1.0])
        assert (x * 2).grad_fn.next_functions[0][0].variable is x


def test_is_leaf():
    for m in (ember, torch):
        x, c = T(m, [1.0]), m.ones(1)
        y = x * 2
        assert x.is_leaf and c.is_leaf and not y.is_leaf
        assert x.grad_fn is None and y.detach().is_leaf
        with m.no_grad():
            assert (x * 2).is_leaf


def test_non_leaf_grad_is_freed_unless_retained():
    res = []
    for m in (ember, torch):
        x = T(m, [3.0])
        y = x * 2
        z = x * 5
        y.retain_grad()
        (y * z).sum().backward()
        res.append((y.grad, z.grad, x.grad, y.retains_grad, z.retains_grad, x.retains_grad))
    (ey, ez, ex, *ef), (ty, tz, tx, *tf) = res
    assert_close(ey, ty)
    assert_close(ex, tx)
    assert ez is None and tz is None and ef == tf


def test_seed_retain_grad_example():
    # y = x * 2; y.retain_grad(); y.backward() -> y.grad == 1, x.grad == 2
    res = []
    for m in (ember, torch):
        x = T(m, [3.0])
        y = x * 2
        y.retain_grad()
        y.backward()
        res.append((y.grad, x.grad))
    assert_close(res[0], res[1])


def test_retain_grad_accumulates_and_errors():
    res = []
    for m in (ember, torch):
        x = T(m, [3.0])
        y = x * 2
        y.retain_grad()
        (y * 2).sum().backward(retain_graph=True)
        (y * 2).sum().backward()
        res.append(y.grad)
    assert_close(*res)
    with pytest.raises(RuntimeError):
        torch.ones(2).retain_grad()
    with pytest.raises(RuntimeError):
        ember.ones(2).retain_grad()


def test_detach_shares_memory_and_version():
    res = []
    for m in (ember, torch):
        x = T(m, [3.0, 4.0])
        y = x * 2
        d = y.detach()
        assert not d.requires_grad and d.is_leaf and d.grad_fn is None and d.data_ptr() == y.data_ptr()
        d.add_(1)
        res.append((y.detach().clone(), y._version, d._version))
    assert_close(res[0][0], res[1][0])
    assert res[0][1:] == res[1][1:]


def test_detach_():
    for m in (ember, torch):
        y = T(m, [3.0]) * 2
        assert y.detach_() is y
        assert (y.requires_grad, y.grad_fn, y.is_leaf) == (False, None, True)
    same_error(lambda m: T(m, [3.0, 4.0]).view(2).detach_())


def test_no_grad_builds_no_graph():
    for m in (ember, torch):
        x = T(m, [1.0])
        with m.no_grad():
            y = x * 2
            assert not m.is_grad_enabled()
        assert m.is_grad_enabled()
        assert (y.requires_grad, y.grad_fn) == (False, None)


def _err(f):
    """(exception class, message) that ``f`` raises under torch and under ember."""
    out = []
    for m in (torch, ember):
        with pytest.raises(Exception) as ei:
            f(m)
        out.append((ei.type, str(ei.value)))
    return out


@pytest.mark.parametrize("f", [
    lambda m: (T(m, [1.0, 2.0]) * 2).backward(),                     # implicit gradient, non-scalar
    lambda m: m.ones(2).sum().backward(),                             # nothing requires grad
    lambda m: (T(m, [1.0, 2.0]) * 2).backward(m.ones(3)),             # gradient shape
    lambda m: (T(m, [1.0]) * 2).sum().backward(inputs=[]),
    lambda m: (T(m, [1.0, 2.0]) * 2).sum().long().backward(),
])
def test_backward_argument_errors(f):
    (tc, tm), (ec, em) = _err(f)
    assert ec is tc and em == tm


def test_backward_with_gradient_argument():
    res = []
    for m in (ember, torch):
        x = T(m, [1.0, 2.0])
        (x * x).backward(m.tensor([1.0, 10.0]))
        res.append(x.grad)
    assert_close(*res)


def test_second_backward_frees_saved_tensors():
    def f(m):
        y = (T(m, [1.0, 2.0]) * T(m, [3.0, 4.0])).sum()
        y.backward()
        y.backward()
    (tc, tm), (ec, em) = _err(f)
    assert ec is tc is RuntimeError and em == tm


def test_second_backward_without_saved_tensors_is_allowed():
    res = []
    for m in (ember, torch):
        x = T(m, [1.0, 2.0])
        y = (x + 2).sum()  # add saves nothing
        y.backward()
        y.backward()
        res.append(x.grad)
    assert_close(*res)


def test_retain_graph_allows_second_backward():
    res = []
    for m in (ember, torch):
        x = T(m, [1.0, 2.0])
        y = (x * x).sum()
        y.backward(retain_graph=True)
        y.backward()
        res.append(x.grad)
    assert_close(*res)


def test_backward_inputs():
    res = []
    for m in (ember, torch):
        x, y = T(m, [1.0, 2.0]), T(m, [3.0, 4.0])
        (x * y).sum().backward(inputs=[x])
        h = x * 2
        (h * h).sum().backward(inputs=h)
        res.append((x.grad, y.grad, h.grad))
    (ex, ey, eh), (tx, ty, th) = res
    assert_close(ex, tx)
    assert_close(eh, th)
    assert ey is None and ty is None
