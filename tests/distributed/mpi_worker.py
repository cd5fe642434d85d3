"""Run under mpiexec by tests/distributed/test_distributed.py: ``mpi_worker.py SCENARIO OUTDIR``.

Each rank writes its results to OUTDIR/<scenario>.<rank>.npz; the test compares them with NumPy.
"""
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))

import ember  # noqa: E402
import ember.distributed as dist  # noqa: E402
from ember import nn  # noqa: E402
from ember.nn.parallel import DistributedDataParallel as DDP  # noqa: E402


def base(rank, shape=(3, 4)):
    return (np.arange(np.prod(shape), dtype=np.float32).reshape(shape) + 10 * rank)


def collectives(out):
    r, w = dist.get_rank(), dist.get_world_size()
    res = {}
    for op in ("SUM", "AVG", "MAX", "MIN", "PRODUCT"):
        t = ember.tensor(base(r) + 1)
        dist.all_reduce(t, op=getattr(dist.ReduceOp, op))
        res["all_reduce_" + op] = t.numpy()
    t = ember.tensor(base(r))
    work = dist.all_reduce(t, async_op=True)
    work.wait()
    res["all_reduce_async"] = t.numpy()
    t = ember.tensor(base(r))
    dist.broadcast(t, src=1)
    res["broadcast"] = t.numpy()
    t = ember.tensor(base(r))
    dist.reduce(t, dst=0)
    res["reduce"] = t.numpy()
    lst = [ember.zeros(3, 4) for _ in range(w)]
    dist.all_gather(lst, ember.tensor(base(r)))
    res["all_gather"] = np.stack([x.numpy() for x in lst])
    o = ember.zeros(3 * w, 4)
    dist.all_gather_into_tensor(o, ember.tensor(base(r)))
    res["all_gather_into_tensor"] = o.numpy()
    o = ember.zeros(3, 4)
    dist.reduce_scatter_tensor(o, ember.tensor(base(r, (3 * w, 4))))
    res["reduce_scatter_tensor"] = o.numpy()
    gl = [ember.zeros(3, 4) for _ in range(w)] if r == 0 else None
    dist.gather(ember.tensor(base(r)), gl, dst=0)
    if r == 0:
        res["gather"] = np.stack([x.numpy() for x in gl])
    t = ember.zeros(3, 4)
    dist.scatter(t, [ember.tensor(base(k) * 2) for k in range(w)] if r == 0 else None, src=0)
    res["scatter"] = t.numpy()
    if r == 0:
        dist.send(ember.tensor(base(7)), dst=1, tag=3)
    elif r == 1:
        t = ember.zeros(3, 4)
        src = dist.recv(t, src=0, tag=3)
        res["recv"] = t.numpy()
        res["recv_src"] = np.array(src)
    g = dist.new_group([0, 1])
    t = ember.tensor(base(r))
    dist.all_reduce(t, group=g)
    res["group_all_reduce"] = t.numpy()
    dist.barrier()
    np.savez(os.path.join(out, f"collectives.{r}.npz"), **res)


def model():
    ember.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 3))


def data():
    rng = np.random.default_rng(0)
    return rng.standard_normal((20, 64, 6)).astype(np.float32), rng.integers(0, 3, (20, 64))


def ddp(out, steps=20, accumulate=False):
    r, w = dist.get_rank(), dist.get_world_size()
    m = model()
    if r == 1:  # different local init: DDP must broadcast rank 0's
        with ember.no_grad():
            for p in m.parameters():
                p.mul_(3.0)
    net = DDP(m, bucket_cap_mb=0.0005)  # tiny buckets: several all-reduces per step
    opt = ember.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    xs, ys = data()
    per = 64 // w
    for s in range(steps):
        x = ember.tensor(xs[s][r * per:(r + 1) * per])
        y = ember.tensor(ys[s][r * per:(r + 1) * per])
        opt.zero_grad()
        if accumulate:
            half = per // 2
            with net.no_sync():
                (loss_fn(net(x[:half]), y[:half]) / 2).backward()
            (loss_fn(net(x[half:]), y[half:]) / 2).backward()
        else:
            loss_fn(net(x), y).backward()
        opt.step()
    name = "ddp_accum" if accumulate else "ddp"
    np.savez(os.path.join(out, f"{name}.{r}.npz"), **{k: v.numpy() for k, v in net.module.state_dict().items()})


def mismatch(out):
    r = dist.get_rank()
    m = nn.Linear(4, 3 if r == 0 else 5)
    try:
        DDP(m)
    except RuntimeError as e:
        with open(os.path.join(out, f"mismatch.{r}.txt"), "w") as f:
            f.write(str(e))


def crash(out):
    r = dist.get_rank()
    if r == 1:
        raise ValueError("rank 1 fails on purpose")
    dist.barrier()  # rank 0 would wait here forever without the abort


def sampler(out):
    from ember.utils.data import DistributedSampler
    r = dist.get_rank()
    s = DistributedSampler(list(range(11)), shuffle=True, seed=3)
    s.set_epoch(2)
    np.savez(os.path.join(out, f"sampler.{r}.npz"), idx=np.array(list(s)))


if __name__ == "__main__":
    scenario, outdir = sys.argv[1], sys.argv[2]
    dist.init_process_group("mpi")
    {"collectives": collectives, "ddp": ddp, "ddp_accum": lambda o: ddp(o, accumulate=True),
     "mismatch": mismatch, "crash": crash, "sampler": sampler}[scenario](outdir)
    dist.destroy_process_group()
