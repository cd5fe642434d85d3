"""Autograd basics: gradients of a scalar, of a vector (with ``gradient=``), second derivatives,
hooks, and what no_grad/detach do.

    python examples/autograd_basics.py [--quick]
"""
from __future__ import annotations

import argparse
import sys

import ember as torch


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.parse_args(argv)

    # f(x) = x^3 + 2x: f'(x) = 3x^2 + 2, f''(x) = 6x
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    f = (x ** 3 + 2 * x).sum()
    (g,) = torch.autograd.grad(f, x, create_graph=True)
    (h,) = torch.autograd.grad(g.sum(), x)
    print("f'(x)  =", g)
    print("f''(x) =", h)
    assert torch.allclose(g, 3 * x.detach() ** 2 + 2) and torch.allclose(h, 6 * x.detach())

    # a vector output needs the vector in the vector-Jacobian product
    y = x * x
    y.backward(gradient=torch.tensor([1.0, 0.1, 0.01]))
    print("d(y . v)/dx =", x.grad)
    assert torch.allclose(x.grad, 2 * x.detach() * torch.tensor([1.0, 0.1, 0.01]))

    # a hook sees (and may change) the gradient flowing into a tensor
    x.grad = None
    seen = []
    z = x * 2
    z.register_hook(lambda grad: seen.append(grad.clone()))
    z.sum().backward()
    print("hook saw", seen[0], "and x.grad is", x.grad)

    with torch.no_grad():
        w = x * 2
    print("under no_grad:", w.requires_grad, w.grad_fn)
    print("detach shares data:", x.detach().data_ptr() == x.data_ptr())
    return 0


if __name__ == "__main__":
    sys.exit(main())
