"""Fine-tuning across frameworks: load a checkpoint written by PyTorch, train it in Ember, save it back
in PyTorch's format.

    python examples/finetune_from_pytorch.py CHECKPOINT.pt [--out OUT.pt] [--quick]

Without a checkpoint argument, one is first written with PyTorch if PyTorch is installed.
The checkpoint must hold the state_dict of ``make_model()`` below (a small MLP).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile

import ember as torch
from ember import nn


def make_model(nn_module):
    return nn_module.Sequential(nn_module.Linear(4, 16), nn_module.ReLU(), nn_module.Linear(16, 3))


def write_with_pytorch(path):
    try:
        import torch as real_torch
    except ImportError:
        sys.exit("no checkpoint given and PyTorch is not installed to write one; pass CHECKPOINT.pt")
    real_torch.manual_seed(0)
    real_torch.save(make_model(real_torch.nn).state_dict(), path)
    return path


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint", nargs="?")
    ap.add_argument("--out", default=None)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    tmp = tempfile.mkdtemp()
    ckpt = args.checkpoint or write_with_pytorch(os.path.join(tmp, "from_pytorch.pt"))
    out = args.out or os.path.join(tmp, "finetuned_by_ember.pt")

    model = make_model(nn)
    result = model.load_state_dict(torch.load(ckpt))   # safe load: tensors and containers only
    print("loaded", ckpt, result)
    torch.manual_seed(0)
    x = torch.randn(64, 4)
    y = (x[:, 0] > 0).long() + (x[:, 1] > 0).long()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    loss_fn = nn.CrossEntropyLoss()
    before = loss_fn(model(x), y).item()
    for _ in range(30 if args.quick else 300):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    after = loss_fn(model(x), y).item()
    torch.save(model.state_dict(), out)
    print(f"loss {before:.4f} -> {after:.4f}; saved {out} (loads with torch.load(..., weights_only=True))")
    assert after < before
    return out


if __name__ == "__main__":
    main()
