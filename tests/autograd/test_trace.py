"""ember.autograd.trace: the recorded backward pass against PyTorch's gradients."""
import numpy as np
import torch

import ember
from conftest import assert_close


def _mlp(T, arrays, keep):
    """A 2-layer MLP step written once for both frameworks; ``keep`` collects intermediates."""
    x, w1, b1, w2, b2, y = arrays
    h = x @ w1
    keep.append(h)
    h = h + b1
    keep.append(h)
    h = h.tanh()
    keep.append(h)
    o = h @ w2
    keep.append(o)
    o = o + b2
    keep.append(o)
    d = o - y
    keep.append(d)
    loss = (d * d).mean()
    return loss


def _arrays(seed=0):
    r = np.random.default_rng(seed)
    shapes = [(4, 3), (3, 5), (5,), (5, 2), (2,), (4, 2)]
    return [r.standard_normal(s).astype(np.float32) for s in shapes]


def test_seed_examples_trace_order_and_values():
    x = ember.tensor([3.0], requires_grad=True)
    y = ember.tensor([2.0], requires_grad=False)
    z = x * y * 4
    with ember.autograd.trace(names={"x": x}) as t:
        z.backward()
    nodes = [s for s in t.steps if s["kind"] == "node"]
    assert [s["name"] for s in nodes] == ["MulBackward0", "MulBackward0"]
    acc = [s for s in t.steps if s["kind"] == "accumulate"]
    assert len(acc) == 1 and acc[0]["leaf"] == "x"
    assert acc[0]["before"] is None
    np.testing.assert_allclose(acc[0]["after"]["value"], [8.0])
    # two backward calls accumulate, then zero_grad-style reset
    z2 = x * y * 4
    with ember.autograd.trace() as t2:
        z2.backward()
    acc2 = [s for s in t2.steps if s["kind"] == "accumulate"][0]
    np.testing.assert_allclose(acc2["before"]["value"], [8.0])
    np.testing.assert_allclose(acc2["after"]["value"], [16.0])
    assert "accumulate" in str(t2)


def test_retain_grad_recorded():
    x = ember.tensor([3.0], requires_grad=True)
    y = x * 2
    y.retain_grad()
    with ember.autograd.trace() as t:
        y.backward()
    kinds = [s["kind"] for s in t.steps]
    assert "retain_grad" in kinds
    ret = next(s for s in t.steps if s["kind"] == "retain_grad")
    np.testing.assert_allclose(ret["grad"]["value"], [1.0])
    assert y.grad.item() == 1.0 and x.grad.item() == 2.0


def test_hooks_and_freed_saved_tensors_recorded():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    y.register_hook(lambda g: g * 3)
    with ember.autograd.trace() as t:
        y.sum().backward()
    assert any(s["kind"] == "hook" for s in t.steps)
    frees = [s for s in t.steps if s["kind"] == "free"]
    assert frees and frees[0]["name"] == "MulBackward0" and frees[0]["saved"] == [(2,), (2,)]
    tx = torch.tensor([1.0, 2.0], requires_grad=True)
    ty = tx * tx
    ty.register_hook(lambda g: g * 3)
    ty.sum().backward()
    assert_close(x.grad, tx.grad)


def test_mlp_trace_is_reverse_topological_and_matches_torch():
    arrays = _arrays()
    ek, tk = [], []
    e_in = [ember.tensor(a, requires_grad=i in (1, 2, 3, 4)) for i, a in enumerate(arrays)]
    t_in = [torch.tensor(a, requires_grad=i in (1, 2, 3, 4)) for i, a in enumerate(arrays)]
    eloss = _mlp(ember, e_in, ek)
    tloss = _mlp(torch, t_in, tk)
    for t in tk:
        t.retain_grad()
    names = {"w1": e_in[1], "b1": e_in[2], "w2": e_in[3], "b2": e_in[4]}
    with ember.autograd.trace(names=names) as tr:
        eloss.backward()
    tloss.backward()

    # 1. a valid reverse topological order: every node runs after all nodes that feed it gradient
    order = {id(n): i for i, n in enumerate(tr.nodes_in_order())}
    for s in tr.steps:
        if s["kind"] != "node":
            continue
        for o in s["grad_out"]:
            if o["to_node"] is not None:
                assert order[id(o["to_node"])] > order[id(s["node"])], (s["name"], o["to"])

    # 2. the gradient arriving at each intermediate's grad_fn equals torch's retained .grad
    by_node = {id(t.grad_fn): i for i, t in enumerate(ek)}
    checked = 0
    for s in tr.steps:
        if s["kind"] == "node" and id(s["node"]) in by_node:
            i = by_node[id(s["node"])]
            np.testing.assert_allclose(s["grad_in"][0]["value"], tk[i].grad.numpy(), rtol=1e-5, atol=1e-6)
            checked += 1
    assert checked == len(ek)

    # 3. leaf accumulations sum to the final .grad, and match torch
    for name, leaf, tleaf in zip(["w1", "b1", "w2", "b2"], e_in[1:5], t_in[1:5]):
        accs = [s for s in tr.steps if s["kind"] == "accumulate" and s["leaf"] == name]
        assert accs
        total = sum(a["grad"]["value"] for a in accs)
        np.testing.assert_allclose(total, leaf.grad.numpy(), rtol=1e-6)
        assert_close(leaf.grad, tleaf.grad)


def test_trace_graph_renders_svg_and_dot(tmp_path):
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    with ember.autograd.trace(names={"x": x}) as t:
        (x * x).sum().backward()
    dot = t.to_dot()
    assert "#1 SumBackward0" in dot and "MulBackward0" in dot and "->" in dot
    p = t.render(str(tmp_path / "step.svg"))
    import xml.dom.minidom
    doc = xml.dom.minidom.parse(p)
    assert doc.documentElement.tagName == "svg"


def test_no_trace_means_no_recorder():
    from ember.autograd.grad_mode import state
    assert state.trace is None
    x = ember.tensor([1.0], requires_grad=True)
    with ember.autograd.trace():
        assert state.trace is not None
    assert state.trace is None
    (x * 2).backward()
    assert x.grad.item() == 2.0
