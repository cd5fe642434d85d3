"""A custom ``autograd.Function``: a clipped ReLU with a hand-written backward, checked with gradcheck.

    python examples/custom_function.py [--quick]
"""
from __future__ import annotations

import argparse
import sys

import ember as torch


class ClippedReLU(torch.autograd.Function):
    """min(max(x, 0), cap); the gradient is 1 strictly inside (0, cap)."""

    @staticmethod
    def forward(ctx, x, cap):
        ctx.save_for_backward(x)
        ctx.cap = cap
        return x.clamp(0, cap)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        inside = (x > 0) & (x < ctx.cap)
        return grad_output * inside, None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.parse_args(argv)
    x = torch.tensor([-1.0, 0.5, 2.0, 7.0], requires_grad=True)
    y = ClippedReLU.apply(x, 6.0)
    y.sum().backward()
    print("y =", y)
    print("dy/dx =", x.grad)
    assert y.grad_fn.name() == "ClippedReLUBackward"
    assert x.grad.tolist() == [0.0, 1.0, 1.0, 0.0]
    xd = torch.tensor([-0.7, 0.3, 1.5, 4.0], dtype=torch.float64, requires_grad=True)
    ok = torch.autograd.gradcheck(lambda t: ClippedReLU.apply(t, 3.0), (xd,))
    print("gradcheck:", ok)
    assert ok
    return 0


if __name__ == "__main__":
    sys.exit(main())
