"""ember.autograd.graph against torch.autograd.graph: saved-tensor hooks, multi-grad hooks, gradient edges.

Every test runs the same program on both libraries (``lib`` is the module) and compares what the hooks
saw and the gradients that came out.
"""
import numpy as np
import pytest
import torch

import ember
from tests.conftest import assert_close

LIBS = (ember, torch)


def _np(t):
    return t.detach().numpy().copy()


def _mlp_step(lib, pack, unpack, seed=0):
    """A two-layer MLP's loss and backward under the hooks; returns the parameters' gradients."""
    rng = np.random.default_rng(seed)
    x = lib.tensor(rng.standard_normal((4, 3)).astype(np.float32))
    w1 = lib.tensor(rng.standard_normal((5, 3)).astype(np.float32), requires_grad=True)
    b1 = lib.tensor(rng.standard_normal(5).astype(np.float32), requires_grad=True)
    w2 = lib.tensor(rng.standard_normal((2, 5)).astype(np.float32), requires_grad=True)
    b2 = lib.tensor(rng.standard_normal(2).astype(np.float32), requires_grad=True)
    target = lib.tensor(rng.standard_normal((4, 2)).astype(np.float32))
    F = lib.nn.functional
    with lib.autograd.graph.saved_tensors_hooks(pack, unpack):
        h = F.linear(x, w1, b1).tanh()
        out = F.linear(h, w2, b2)
        loss = ((out - target) * (out - target)).mean()
    loss.backward()
    return [_np(p.grad) for p in (w1, b1, w2, b2)], _np(loss)


def _logging_hooks(lib, log):
    def pack(t):
        log.append(("pack", tuple(t.shape), _np(t), t.requires_grad, lib.is_grad_enabled()))
        return t

    def unpack(t):
        log.append(("unpack", tuple(t.shape), _np(t), lib.is_grad_enabled()))
        return t
    return pack, unpack


def _same_log(le, lt):
    assert len(le) == len(lt), (len(le), len(lt))
    for e, t in zip(le, lt):
        assert e[0] == t[0] and e[1] == t[1], (e[:2], t[:2])
        np.testing.assert_allclose(e[2], t[2], rtol=1e-5, atol=1e-6)
        assert e[3:] == t[3:], (e[0], e[1], e[3:], t[3:])


def test_mlp_step_pack_unpack_calls_match_torch():
    logs, results = {}, {}
    for lib in LIBS:
        log = logs[lib] = []
        results[lib] = _mlp_step(lib, *_logging_hooks(lib, log))
    _same_log(logs[ember], logs[torch])
    assert sum(1 for e in logs[torch] if e[0] == "pack") >= 4
    for g_e, g_t in zip(results[ember][0], results[torch][0]):
        np.testing.assert_allclose(g_e, g_t, rtol=1e-5, atol=1e-6)


def _no_hooks_grads(lib):
    return _mlp_step(lib, lambda t: t, lambda t: t)


def test_identity_hooks_leave_gradients_unchanged():
    for lib in LIBS:
        rng = np.random.default_rng(0)
        x = lib.tensor(rng.standard_normal((4, 3)).astype(np.float32), requires_grad=True)
        ref_x = lib.tensor(_np(x), requires_grad=True)
        (ref_x.sin() * ref_x).sum().backward()
        with lib.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
            y = (x.sin() * x).sum()
        y.backward()
        np.testing.assert_array_equal(_np(x.grad), _np(ref_x.grad))
    g_e, g_t = _no_hooks_grads(ember)[0], _no_hooks_grads(torch)[0]
    for a, b in zip(g_e, g_t):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_hooks_that_move_data_give_torchs_gradients():
    """Pack to a NumPy copy (the graph keeps no tensor), unpack to a fresh tensor."""
    res = {}
    for lib in LIBS:
        def pack(t):
            return ("numpy", _np(t))

        def unpack(p, lib=lib):
            assert p[0] == "numpy"
            return lib.from_numpy(p[1])
        res[lib] = _mlp_step(lib, pack, unpack, seed=3)
    for a, b in zip(res[ember][0], res[torch][0]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(res[ember][1], res[torch][1], rtol=1e-5, atol=1e-6)


def test_hooks_that_scale_data_change_gradients_like_torch():
    """A non-identity unpack really feeds backward: doubling every saved tensor changes the gradient."""
    out = {}
    for lib in LIBS:
        x = lib.tensor(np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3), requires_grad=True)
        with lib.autograd.graph.saved_tensors_hooks(lambda t: t * 2, lambda t: t):
            (x * x.exp()).sum().backward()
        out[lib] = x.grad
    assert_close(out[ember], out[torch])


def test_nested_hooks_innermost_wins():
    logs = {}
    for lib in LIBS:
        log = logs[lib] = []
        G = lib.autograd.graph
        x = lib.ones(3, requires_grad=True)
        with G.saved_tensors_hooks(lambda t: log.append("outer") or t, lambda t: log.append("outer-u") or t):
            with G.saved_tensors_hooks(lambda t: log.append("inner") or t, lambda t: log.append("inner-u") or t):
                a = x * x
            b = x.exp()
        (a + b).sum().backward()
        log.append(tuple(_np(x.grad)))
    assert logs[ember] == logs[torch]


def test_custom_function_save_for_backward_is_packed_and_unpacked_per_access():
    counts = {}
    for lib in LIBS:
        class Cube(lib.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                ctx.save_for_backward(a)
                return a * a * a

            @staticmethod
            def backward(ctx, g):
                (a,) = ctx.saved_tensors
                (a,) = ctx.saved_tensors  # each access runs the unpack hook
                return 3 * g * a * a

        c = counts[lib] = [0, 0]
        x = lib.tensor(np.array([1.0, -2.0, 0.5], dtype=np.float32), requires_grad=True)

        def pack(t):
            c[0] += 1
            return _np(t)

        def unpack(p, lib=lib):
            c[1] += 1
            return lib.tensor(p)
        with lib.autograd.graph.saved_tensors_hooks(pack, unpack):
            y = Cube.apply(x)
        y.sum().backward()
        c.append(tuple(_np(x.grad)))
    assert counts[ember] == counts[torch]


def test_unpack_must_return_a_tensor():
    msgs = {}
    for lib in LIBS:
        x = lib.ones(2, requires_grad=True)
        with lib.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: 3):
            y = (x * x).sum()
        with pytest.raises(TypeError) as ei:
            y.backward()
        msgs[lib] = str(ei.value)
    assert msgs[ember] == msgs[torch]


def test_disable_saved_tensors_hooks():
    for lib in LIBS:
        G = lib.autograd.graph
        with G.disable_saved_tensors_hooks("no hooks here"):
            with pytest.raises(RuntimeError, match="^no hooks here$"):
                with G.saved_tensors_hooks(lambda t: t, lambda t: t):
                    pass
            with G.disable_saved_tensors_hooks("inner"):  # nesting is fine
                pass
            with pytest.raises(RuntimeError, match="^no hooks here$"):  # the outer message is back
                G.saved_tensors_hooks(lambda t: t, lambda t: t).__enter__()
            x = lib.ones(2, requires_grad=True)
            (x * x).sum().backward()  # saving without hooks still works
            assert x.grad.tolist() == [2.0, 2.0]
        with G.saved_tensors_hooks(lambda t: t, lambda t: t):
            with pytest.raises(RuntimeError, match="^busy$"):
                with G.disable_saved_tensors_hooks("busy"):
                    pass
        with G.saved_tensors_hooks(lambda t: t, lambda t: t):  # usable again once left
            pass

        @G.disable_saved_tensors_hooks("decorated")
        def f():
            with G.saved_tensors_hooks(lambda t: t, lambda t: t):
                pass
        with pytest.raises(RuntimeError, match="^decorated$"):
            f()


def test_save_on_cpu_matches_torch():
    res = {}
    for lib in LIBS:
        rng = np.random.default_rng(1)
        x = lib.tensor(rng.standard_normal((3, 4)).astype(np.float32), requires_grad=True)
        w = lib.tensor(rng.standard_normal((4, 2)).astype(np.float32), requires_grad=True)
        with lib.autograd.graph.save_on_cpu(pin_memory=False):
            y = (x @ w).relu().pow(2).sum()
        y.backward()
        res[lib] = (x.grad, w.grad)
    assert_close(res[ember][0], res[torch][0])
    assert_close(res[ember][1], res[torch][1])


def test_no_version_check_under_hooks_but_without():
    """PyTorch does not check saved tensors' versions when hooks own them; without hooks it does."""
    for lib in LIBS:
        x = lib.ones(3, requires_grad=True)
        with lib.autograd.graph.saved_tensors_hooks(lambda t: t.clone(), lambda t: t):
            a = x * 1
            q = (a * a).sum()
        with lib.no_grad():
            a.add_(1)
        q.backward()
        assert x.grad.tolist() == [2.0, 2.0, 2.0]  # from the packed clone (a was 1)
        a = x * 1
        q = (a * a).sum()
        with lib.no_grad():
            a.add_(1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            q.backward()


def test_retain_graph_unpacks_each_backward_then_frees():
    counts = {}
    for lib in LIBS:
        c = counts[lib] = [0]
        x = lib.ones(3, requires_grad=True)
        with lib.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: c.__setitem__(0, c[0] + 1) or t):
            z = (x * x.sin()).sum()
        z.backward(retain_graph=True)
        z.backward()
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            z.backward()
        c.append(tuple(_np(x.grad)))
    assert counts[ember] == counts[torch]


def test_double_backward_through_packed_tensors():
    out = {}
    for lib in LIBS:
        x = lib.tensor(np.array([0.5, -1.0, 2.0], dtype=np.float32), requires_grad=True)
        with lib.autograd.graph.saved_tensors_hooks(lambda t: ("c", _np(t)), lambda p, lib=lib: lib.tensor(p[1])):
            y = (x * x * x.exp()).sum()
            (g,) = lib.autograd.grad(y, x, create_graph=True)
            g.sum().backward()
        out[lib] = (g, x.grad)
    assert_close(out[ember][0], out[torch][0])
    assert_close(out[ember][1], out[torch][1], rtol=1e-5, atol=1e-5)


# -- multi-grad hooks ------------------------------------------------------------------------

def _multi_all_run(lib):
    rng = np.random.default_rng(2)
    a = lib.tensor(rng.standard_normal((2, 3)).astype(np.float32), requires_grad=True)
    b = lib.tensor(rng.standard_normal((2, 3)).astype(np.float32), requires_grad=True)
    c = a * b
    d = a * b
    calls = []

    def fn(grads):
        calls.append([None if g is None else _np(g) for g in grads])
    h = lib.autograd.graph.register_multi_grad_hook((a, b, c, d), fn)
    (c * 2).sum().backward(retain_graph=True)
    (c * 3).sum().backward(inputs=(a,), retain_graph=True)
    (c.sum() + d.sum()).backward(retain_graph=True)
    lib.autograd.grad(c.sum(), (c,), retain_graph=True)
    h.remove()
    c.sum().backward()
    return calls


def test_multi_grad_hook_all_matches_torch():
    ce, ct = _multi_all_run(ember), _multi_all_run(torch)
    assert len(ce) == len(ct) == 4
    for e, t in zip(ce, ct):
        assert [g is None for g in e] == [g is None for g in t]
        for ge, gt in zip(e, t):
            if gt is not None:
                np.testing.assert_allclose(ge, gt, rtol=1e-5, atol=1e-6)


def test_multi_grad_hook_any_matches_torch():
    res = {}
    for lib in LIBS:
        a = lib.ones(2, requires_grad=True)
        b = lib.full((2,), 3.0, requires_grad=True)
        n = lib.zeros(2)  # does not require grad: ignored in "any" mode
        got = res[lib] = []
        h = lib.autograd.graph.register_multi_grad_hook((a, b, n), lambda g: got.append(_np(g).tolist()), mode="any")
        (a * b * 2).sum().backward()
        (a * 5).sum().backward()
        h.remove()
        (a * b).sum().backward()
    assert res[ember] == res[torch]
    assert len(res[torch]) == 2


def test_multi_grad_hook_errors():
    for lib in LIBS:
        a = lib.ones(2, requires_grad=True)
        with pytest.raises(ValueError, match="Expects mode to be one of"):
            lib.autograd.graph.register_multi_grad_hook((a,), print, mode="some")
        with pytest.raises(AssertionError, match="Expected gradient function to be set"):
            lib.autograd.graph.register_multi_grad_hook((a, lib.ones(2)), print)


# -- gradient edges, versions --------------------------------------------------------------------

def test_get_gradient_edge():
    names = {}
    for lib in LIBS:
        G = lib.autograd.graph
        x = lib.ones(2, requires_grad=True)
        y, z = (x * 2).unbind()
        ex, ez = G.get_gradient_edge(x), G.get_gradient_edge(z)
        assert isinstance(ex, G.GradientEdge) and isinstance(ex, tuple)
        assert ez.node is z.grad_fn and ez.output_nr == 1
        assert G.get_gradient_edge(x).node is ex.node  # one AccumulateGrad per leaf
        names[lib] = (ex.node.name(), ez.node.name(), ex.output_nr, ez._fields)
        with pytest.raises(RuntimeError, match="not possible to get the gradient edge"):
            G.get_gradient_edge(lib.ones(2))
    assert names[ember] == names[torch]


def test_increment_version():
    for lib in LIBS:
        x = lib.ones(2, requires_grad=True)
        a = x * 1
        y = (a * a).sum()
        v = a._version
        lib.autograd.graph.increment_version(a)
        assert a._version == v + 1
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.backward()


def test_namespace_names_exist_in_torch():
    for name in ember.autograd.graph.__all__:
        assert hasattr(torch.autograd.graph, name), name
