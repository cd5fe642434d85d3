"""ember.utils.checkpoint against torch.utils.checkpoint: same values and gradients as the un-checkpointed run."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.utils.checkpoint as tcp

import ember
import ember.utils.checkpoint as ecp
from tests.conftest import assert_close


def _mlp(lib, seed=0):
    torch.manual_seed(seed)
    t = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 8), torch.nn.ReLU(),
                            torch.nn.Linear(8, 3))
    if lib is torch:
        return t
    e = ember.nn.Sequential(ember.nn.Linear(4, 8), ember.nn.Tanh(), ember.nn.Linear(8, 8), ember.nn.ReLU(),
                            ember.nn.Linear(8, 3))
    e.load_state_dict({k: ember.tensor(v.detach().numpy().copy()) for k, v in t.state_dict().items()})
    return e


def _pair_models():
    return _mlp(ember), _mlp(torch)


X = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)


def _grads(model):
    return [p.grad for _, p in model.named_parameters()]


@pytest.mark.parametrize("reentrant", [True, False])
@pytest.mark.parametrize("x_grad", [True, False])
def test_checkpoint_matches_torch(reentrant, x_grad):
    em, tm = _pair_models()
    xe, xt = ember.tensor(X, requires_grad=x_grad), torch.tensor(X, requires_grad=x_grad)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # reentrant with no input requiring grad warns (both libraries)
        ye = ecp.checkpoint(em, xe, use_reentrant=reentrant)
        yt = tcp.checkpoint(tm, xt, use_reentrant=reentrant)
    assert_close(ye, yt)
    assert ye.requires_grad == yt.requires_grad
    if not yt.requires_grad:  # torch's reentrant variant: nothing flows when no input requires grad
        return
    (ye ** 2).sum().backward()
    (yt ** 2).sum().backward()
    for ge, gt in zip(_grads(em), _grads(tm)):
        assert_close(ge, gt)
    if x_grad:
        assert_close(xe.grad, xt.grad)


def test_checkpoint_saves_no_graph_in_forward():
    # the segment's ops ran under no_grad: the output's only node is the checkpoint's, whose inputs are x
    em = _mlp(ember)
    x = ember.tensor(X, requires_grad=True)
    y = ecp.checkpoint(em, x, use_reentrant=True)
    assert y.grad_fn.name() == "CheckpointFunctionBackward"
    nodes = [n for n, _ in y.grad_fn.next_functions if n is not None]
    assert [n.name() for n in nodes] == ["torch::autograd::AccumulateGrad"]


def test_dropout_recomputed_with_same_mask():
    # with dropout on, the checkpointed gradients equal Ember's own un-checkpointed run from the same seed
    def run(use_cp, preserve=True):
        em = _mlp(ember)
        drop = ember.nn.Dropout(0.5)
        x = ember.tensor(X, requires_grad=True)
        ember.manual_seed(7)
        f = (lambda a: drop(em(a)))
        y = ecp.checkpoint(f, x, use_reentrant=False, preserve_rng_state=preserve) if use_cp else f(x)
        after = ember.rand(3)  # the stream after forward must not depend on checkpointing
        (y * ember.arange(3.0)).sum().backward()
        return y, x.grad, _grads(em), after
    y0, gx0, gp0, a0 = run(False)
    y1, gx1, gp1, a1 = run(True)
    np.testing.assert_array_equal(y0.detach().numpy(), y1.detach().numpy())
    np.testing.assert_array_equal(a0.numpy(), a1.numpy())
    np.testing.assert_allclose(gx1.numpy(), gx0.numpy(), rtol=1e-6, atol=1e-7)
    for a, b in zip(gp1, gp0):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-7)
    # without preserving the state, the re-run draws another mask: the gradient differs
    _, gx2, _, _ = run(True, preserve=False)
    assert not np.allclose(gx2.numpy(), gx0.numpy())


def test_warns_without_use_reentrant_like_torch():
    em, tm = _pair_models()
    for lib, mod, m in ((torch, tcp, tm), (ember, ecp, em)):
        x = lib.tensor(X, requires_grad=True)
        with pytest.warns(UserWarning, match="use_reentrant parameter should be passed explicitly"):
            mod.checkpoint(m, x)
        with pytest.warns(UserWarning, match="use_reentrant parameter should be passed explicitly"):
            mod.checkpoint_sequential(m, 2, x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ecp.checkpoint(em, ember.tensor(X, requires_grad=True), use_reentrant=False)


def test_kwargs_and_non_tensor_outputs():
    a_np = np.random.default_rng(1).standard_normal((3, 4)).astype(np.float32)
    b_np = np.random.default_rng(2).standard_normal((3, 4)).astype(np.float32)

    def fn(a, *, b, scale, lib):
        return (a * b).sin() * scale, "tag", (a + b).argmax()

    res = []
    for lib, mod in ((ember, ecp), (torch, tcp)):
        a, b = lib.tensor(a_np, requires_grad=True), lib.tensor(b_np, requires_grad=True)
        y, tag, idx = mod.checkpoint(fn, a, b=b, scale=2.0, lib=lib, use_reentrant=False)
        assert tag == "tag" and idx.item() == int(np.argmax(a_np + b_np))
        y.sum().backward()
        res.append((y, a.grad, b.grad))
    for e, t in zip(*res):
        assert_close(e, t)
    with pytest.raises(ValueError, match="Unexpected keyword arguments: b,scale"):
        ecp.checkpoint(fn, ember.tensor(a_np), b=1, scale=1, use_reentrant=True)
    with pytest.raises(ValueError, match="Unexpected keyword arguments: b,scale"):
        tcp.checkpoint(fn, torch.tensor(a_np), b=1, scale=1, use_reentrant=True)


def test_multiple_outputs_one_unused():
    res = []
    for lib, mod in ((ember, ecp), (torch, tcp)):
        x = lib.tensor(X, requires_grad=True)
        y1, y2 = mod.checkpoint(lambda a: (a.exp(), a.cos()), x, use_reentrant=True)
        (y1 * 3).sum().backward()  # y2 gets no gradient
        res.append(x.grad)
    assert_close(*res)


def test_nested_checkpoints():
    res = []
    for lib, mod in ((ember, ecp), (torch, tcp)):
        m = _mlp(lib)
        x = lib.tensor(X, requires_grad=True)

        def inner(a, m=m):
            return m[1](m[0](a))

        def outer(a, m=m, mod=mod):
            h = mod.checkpoint(inner, a, use_reentrant=False)
            return m[4](m[3](m[2](h)))

        y = mod.checkpoint(outer, x, use_reentrant=False)
        y.pow(2).mean().backward()
        res.append([x.grad] + [p.grad for p in m.parameters()])
    for e, t in zip(*res):
        assert_close(e, t)


@pytest.mark.parametrize("segments", [1, 2, 3])
def test_checkpoint_sequential_matches_torch(segments):
    em, tm = _pair_models()
    xe, xt = ember.tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
    ye = ecp.checkpoint_sequential(em, segments, xe, use_reentrant=False)
    yt = tcp.checkpoint_sequential(tm, segments, xt, use_reentrant=False)
    assert_close(ye, yt)
    ye.sum().backward()
    yt.sum().backward()
    assert_close(xe.grad, xt.grad)
    for ge, gt in zip(_grads(em), _grads(tm)):
        assert_close(ge, gt)


def test_no_grad_mode_runs_plainly():
    em = _mlp(ember)
    x = ember.tensor(X, requires_grad=True)
    with ember.no_grad():
        y = ecp.checkpoint(em, x, use_reentrant=False)
    assert not y.requires_grad and y.grad_fn is None
    assert_close(y, _mlp(torch)(torch.tensor(X)))


def test_frozen_module_without_grad_inputs_builds_no_node():
    em = _mlp(ember)
    em.requires_grad_(False)
    y = ecp.checkpoint(em, ember.tensor(X), use_reentrant=False)
    assert not y.requires_grad


@pytest.mark.parametrize("reentrant", [True, False])
def test_gradcheck_through_checkpoint(reentrant):
    w = ember.tensor(np.random.default_rng(3).standard_normal((4, 3)), requires_grad=False)

    def f(x, y):
        return ecp.checkpoint(lambda a, b: ((a @ w).tanh() * b).exp(), x, y, use_reentrant=reentrant)

    x = ember.tensor(np.random.default_rng(4).standard_normal((2, 4)), requires_grad=True)
    y = ember.tensor(np.random.default_rng(5).standard_normal((2, 3)), requires_grad=True)
    assert ember.autograd.gradcheck(f, (x, y))
