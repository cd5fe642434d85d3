"""The study note Ember grew from, walked through with Ember: every snippet runs, every claim is shown.

    python examples/seed_walkthrough.py [--quick]

Sections follow the note: Buffer vs Parameter, Module and its method table, Sequential,
ModuleList, ModuleDict, and the computation graph (requires_grad, grad, grad_fn, is_leaf,
retain_grad, backward, gradient accumulation, zero_grad, detach, no_grad) -- ending with a trace
of what backward() actually does.
"""
from __future__ import annotations

import argparse
import sys

import ember as torch
from ember import nn


def section(title):
    print("\n" + "=" * 72 + "\n" + title + "\n" + "=" * 72)


def show(label, value):
    print(f"{label:<46} {value}")


def buffers_and_parameters():
    section("Buffer and Parameter")

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(torch.randn(3, 2))         # a learnable parameter
            self.register_buffer("my_buffer", torch.zeros(3))    # saved with the model, never optimised
            self.plain = torch.ones(2)                           # a plain tensor attribute: neither

        def forward(self, x):
            return x @ self.weight.T + self.my_buffer

    model = Model()
    show("buffer requires grad?", model.my_buffer.requires_grad)
    show("state_dict keys", list(model.state_dict().keys()))
    show("buffer device", model.my_buffer.device)
    for name, buf in model.named_buffers():
        show(f"named_buffers: {name}", tuple(buf.shape))
    show("parameters() names", [n for n, _ in model.named_parameters()])
    show("plain tensor in state_dict?", "plain" in model.state_dict())
    lonely = nn.Parameter(torch.randn(2))
    show("a Parameter not assigned to a module is seen?", any(p is lonely for p in model.parameters()))
    assert not model.my_buffer.requires_grad
    assert list(model.state_dict()) == ["weight", "my_buffer"]
    return model


def module_tree():
    section("Module: recursive management of submodules")

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = nn.Linear(4, 3)
            self.block = nn.Sequential(nn.Linear(3, 3), nn.ReLU())

        def forward(self, x):
            return self.block(self.layer(x))

    net = Net()
    print(net)
    show("children", [type(c).__name__ for c in net.children()])
    for name, param in net.named_parameters():
        show(f"named_parameters: {name}", tuple(param.shape))
    show("modules (all, nested)", [type(m).__name__ for m in net.modules()])
    net.eval()
    show("eval() reaches every submodule", all(not m.training for m in net.modules()))
    net.train()

    def init(m):
        if isinstance(m, nn.Linear):
            nn.init.zeros_(m.bias)
    net.apply(init)
    show("apply(fn) zeroed every Linear bias", all(float(m.bias.abs().sum()) == 0 for m in net.modules()
                                                   if isinstance(m, nn.Linear)))
    out = net(torch.randn(2, 4)).sum()
    out.backward()
    net.zero_grad()
    show("zero_grad() clears every .grad", all(p.grad is None for p in net.parameters()))
    sd = net.state_dict()
    other = Net()
    other.load_state_dict(sd)
    show("load_state_dict copies every parameter", all(bool((a == b).all()) for a, b in
                                                       zip(net.parameters(), other.parameters())))


def containers():
    section("Sequential, ModuleList, ModuleDict")
    model = nn.Sequential(
        nn.Linear(20, 10),
        nn.ReLU(),
        nn.Sequential(
            nn.Linear(10, 5),
            nn.ReLU()
        ),
        nn.Linear(5, 1)
    )
    input = torch.Tensor(5, 20).uniform_()
    res = model(input)
    show("Sequential(5x20 input) output shape", tuple(res.shape))

    layers = nn.ModuleList([nn.Linear(10, 20)])
    layers.append(nn.Linear(20, 5))
    layers.extend([nn.Linear(5, 3), nn.Sigmoid()])
    layers.insert(1, nn.BatchNorm1d(20))
    show("ModuleList after append/extend/insert", [type(m).__name__ for m in layers])
    show("its parameters are registered", len(list(layers.parameters())))

    d = nn.ModuleDict({"conv": nn.Conv2d(1, 2, 3), "act": nn.ReLU()})
    d.update({"pool": nn.MaxPool2d(2)})
    show("ModuleDict keys", list(d.keys()))
    popped = d.pop("act")
    show("pop('act') ->", type(popped).__name__)
    show("values", [type(v).__name__ for v in d.values()])
    d.clear()
    show("after clear()", len(d))


def computation_graph():
    section("The computation graph")
    x = torch.tensor([3.0], requires_grad=True)
    y = torch.tensor([2.0], requires_grad=False)
    z = x * y * 4
    z.backward()
    show("z = x * y * 4; x.grad", x.grad)
    show("y.grad (not tracked)", y.grad)
    show("z.grad_fn", z.grad_fn)
    show("x.grad_fn (a leaf)", x.grad_fn)
    show("x.is_leaf, z.is_leaf", (x.is_leaf, z.is_leaf))
    assert x.grad.item() == 8.0

    x = torch.tensor([3.0], requires_grad=True)
    y = x * 2
    y.retain_grad()
    y.backward()
    show("y = x * 2; y.retain_grad(); y.grad", y.grad)
    show("x.grad", x.grad)

    w = torch.tensor([1.0, 2.0], requires_grad=True)
    v = w * w
    try:
        v.backward()
    except RuntimeError as e:
        show("non-scalar backward() without gradient", f"RuntimeError: {e}")
    v.backward(torch.tensor([1.0, 1.0]))
    show("backward(gradient=[1, 1]) -> w.grad", w.grad)

    a = torch.tensor([2.0], requires_grad=True)
    (a * 3).backward()
    (a * 3).backward()
    show("two backward calls accumulate: a.grad", a.grad)
    a.grad.zero_()
    show("after a.grad.zero_()", a.grad)

    d = (a * 3).detach()
    show("detach(): requires_grad, grad_fn", (d.requires_grad, d.grad_fn))
    with torch.no_grad():
        n = a * 3
    show("under no_grad: requires_grad, grad_fn", (n.requires_grad, n.grad_fn))


def what_backward_does():
    section("What does .backward() do? A trace of the real engine")
    x = torch.tensor([3.0], requires_grad=True)
    y = torch.tensor([2.0])
    z = x * y * 4
    with torch.autograd.trace(names={"x": x}) as t:
        z.backward()
    print("z = x * y * 4; z.backward():")
    print(t)
    x2 = torch.tensor([3.0], requires_grad=True)
    y2 = x2 * 2
    y2.retain_grad()
    with torch.autograd.trace(names={"x": x2}) as t2:
        y2.backward()
    print("\ny = x * 2; y.retain_grad(); y.backward():")
    print(t2)
    with torch.autograd.trace(names={"x": x2}) as t3:
        (x2 * 2).backward()
    print("\nA second backward accumulates into x.grad:")
    print(t3)
    x2.grad = None
    show("then zero_grad (set to None): x.grad", x2.grad)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="accepted for symmetry; the walkthrough is quick")
    ap.parse_args(argv)
    torch.manual_seed(0)
    buffers_and_parameters()
    module_tree()
    containers()
    computation_graph()
    what_backward_does()
    print("\nEvery snippet of the note ran on Ember.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
