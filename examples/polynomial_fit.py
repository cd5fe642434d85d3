"""Fit y = sin(x) with a cubic polynomial three ways: manual gradients on tensors, autograd with
``nn``, and ``nn`` + ``optim``. All three reach the same loss.

    python examples/polynomial_fit.py [--quick]
"""
from __future__ import annotations

import argparse
import math
import sys

import ember as torch
from ember import nn


def data(n=200):
    x = torch.linspace(-math.pi, math.pi, n)
    return x, torch.sin(x)


def manual(steps, lr):
    x, y = data()
    a, b, c, d = (torch.tensor(v) for v in (0.1, -0.2, 0.05, 0.3))
    for _ in range(steps):
        p = a + b * x + c * x ** 2 + d * x ** 3
        gp = 2.0 * (p - y) / len(x)  # d(mean squared error)/dp
        a -= lr * gp.sum()
        b -= lr * (gp * x).sum()
        c -= lr * (gp * x ** 2).sum()
        d -= lr * (gp * x ** 3).sum()
    return float(((a + b * x + c * x ** 2 + d * x ** 3 - y) ** 2).mean())


def with_nn(steps, lr):
    x, y = data()
    feats = torch.stack([x, x ** 2, x ** 3], 1)
    model = nn.Linear(3, 1)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[-0.2, 0.05, 0.3]]))
        model.bias.fill_(0.1)
    loss_fn = nn.MSELoss()
    for _ in range(steps):
        loss = loss_fn(model(feats).squeeze(1), y)
        model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for p in model.parameters():
                p -= lr * p.grad
    return float(loss_fn(model(feats).squeeze(1), y))


def with_optim(steps, lr):
    x, y = data()
    feats = torch.stack([x, x ** 2, x ** 3], 1)
    model = nn.Linear(3, 1)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[-0.2, 0.05, 0.3]]))
        model.bias.fill_(0.1)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    loss_fn = nn.MSELoss()
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn(model(feats).squeeze(1), y)
        loss.backward()
        opt.step()
    return float(loss_fn(model(feats).squeeze(1), y))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    steps = 300 if args.quick else 2000
    lr = 1e-3
    losses = [manual(steps, lr), with_nn(steps, lr), with_optim(steps, lr)]
    for name, loss in zip(["manual gradients", "nn + autograd", "nn + optim.SGD"], losses):
        print(f"{name:<18} final MSE {loss:.6f}")
    assert max(losses) - min(losses) < 1e-4, losses
    start = float(((0.1 - 0.2 * data()[0] + 0.05 * data()[0] ** 2 + 0.3 * data()[0] ** 3 - data()[1]) ** 2).mean())
    assert losses[0] < start / 2, (losses[0], start)
    return 0


if __name__ == "__main__":
    sys.exit(main())
