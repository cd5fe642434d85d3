"""Train the demo's digits CNN data-parallel over MPI.

    python -m ember.distributed.run --nproc 2 examples/ddp_digits.py [--epochs N] [--quick]
    (or: mpiexec -n 2 python examples/ddp_digits.py)

Each rank sees its DistributedSampler share of every epoch; DistributedDataParallel averages the
gradients, so every rank ends with the same model. Rank 0 reports accuracy and samples per second.
"""
from __future__ import annotations

import argparse
import sys
import time

import ember as torch
import ember.distributed as dist
from ember import nn
from ember.demo import DigitsCNN, evaluate, load_digits
from ember.nn.parallel import DistributedDataParallel as DDP
from ember.utils.data import DataLoader, DistributedSampler


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch-size", type=int, default=32, help="per rank")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    epochs = 2 if args.quick else args.epochs
    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(0)
    train_set, test_set = load_digits(seed=0)
    sampler = DistributedSampler(train_set, shuffle=True, seed=0)
    loader = DataLoader(train_set, batch_size=args.batch_size, sampler=sampler)
    model = DDP(DigitsCNN())
    opt = torch.optim.Adam(model.parameters(), lr=args.lr * world)
    loss_fn = nn.CrossEntropyLoss()
    seen, t0 = 0, time.perf_counter()
    for epoch in range(epochs):
        sampler.set_epoch(epoch)
        model.train()
        for xb, yb in loader:
            opt.zero_grad()
            loss_fn(model(xb), yb).backward()
            opt.step()
            seen += len(yb)
    rate = seen * world / (time.perf_counter() - t0)
    _, acc = evaluate(model.module, DataLoader(test_set, batch_size=256), loss_fn)
    same = torch.tensor([float(sum(p.sum().item() for p in model.parameters()))])
    lst = [torch.zeros(1) for _ in range(world)]
    dist.all_gather(lst, same)
    if rank == 0:
        print(f"{world} rank(s): held-out accuracy {acc:.2%}, {rate:.0f} samples/s")
        assert all(float(x) == float(lst[0]) for x in lst), "ranks diverged"
    dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
