"""Gradient accumulation over micro-batches equals one big batch (the note's reason ``.grad`` accumulates).

    python examples/grad_accumulation.py [--quick]
"""
from __future__ import annotations

import argparse
import copy
import sys

import ember as torch
from ember import nn


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.parse_args(argv)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 3))
    twin = copy.deepcopy(model)
    x, y = torch.randn(32, 8), torch.randint(0, 3, (32,))
    loss_fn = nn.CrossEntropyLoss()
    opt_big = torch.optim.SGD(model.parameters(), lr=0.1)
    opt_micro = torch.optim.SGD(twin.parameters(), lr=0.1)

    opt_big.zero_grad()
    loss_fn(model(x), y).backward()
    opt_big.step()

    opt_micro.zero_grad()
    for xb, yb in zip(x.chunk(4), y.chunk(4)):
        (loss_fn(twin(xb), yb) / 4).backward()   # .grad accumulates across the four calls
    opt_micro.step()

    worst = max(float((a - b).abs().max()) for a, b in zip(model.parameters(), twin.parameters()))
    print(f"largest parameter difference after one step: {worst:.2e}")
    assert worst < 1e-6
    return 0


if __name__ == "__main__":
    sys.exit(main())
