"""Ember on CuPy vs PyTorch CUDA: training steps on one GPU, interleaved, median time ratios.

    python bench/gpu.py [--markdown FILE] [--repeats N]

Each workload is written once against the shared API (``T`` is ``torch`` or ``ember``) and both
libraries synchronise the device after every step, so the times are wall-clock GPU step times.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _sync(T):
    T.cuda.synchronize()


def _train(T, model, x, y, lr=1e-3):
    opt = T.optim.Adam(model.parameters(), lr=lr)
    loss_fn = T.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    return step


def _data(T, shape, classes, seed=0):
    r = np.random.default_rng(seed)
    x = T.tensor(r.standard_normal(shape).astype(np.float32), device="cuda")
    y = T.tensor(r.integers(0, classes, shape[0]), device="cuda")
    return x, y


def mlp(T, batch=128):
    nn = T.nn
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10)).cuda()
    return _train(T, model, *_data(T, (batch, 784), 10))


def cnn(T, batch=64):
    nn = T.nn
    model = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.ReLU(), nn.Linear(120, 84),
                          nn.ReLU(), nn.Linear(84, 10)).cuda()
    return _train(T, model, *_data(T, (batch, 1, 28, 28), 10))


def transformer(T, batch=32, seq=64, d=128, vocab=1000):
    nn = T.nn

    class LM(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(vocab, d)
            layer = nn.TransformerEncoderLayer(d, 4, dim_feedforward=4 * d, dropout=0.0, batch_first=True)
            self.enc = nn.TransformerEncoder(layer, 2)
            self.head = nn.Linear(d, vocab)

        def forward(self, tok):
            return self.head(self.enc(self.emb(tok))).reshape(-1, vocab)

    r = np.random.default_rng(0)
    tok = T.tensor(r.integers(0, vocab, (batch, seq)), device="cuda")
    tgt = T.tensor(r.integers(0, vocab, batch * seq), device="cuda")
    return _train(T, LM().cuda(), tok, tgt)


def matmul(T, n=4096):
    r = np.random.default_rng(0)
    a = T.tensor(r.standard_normal((n, n)).astype(np.float32), device="cuda", requires_grad=True)
    b = T.tensor(r.standard_normal((n, n)).astype(np.float32), device="cuda", requires_grad=True)

    def step():
        (a @ b).sum().backward()
        a.grad = None
        b.grad = None
    return step


CASES = [("mlp_step", mlp, 2.0, "MLP 784-512-256-10 training step, batch 128"),
         ("mlp_step_b4096", lambda T: mlp(T, 4096), 2.0, "MLP 784-512-256-10 training step, batch 4096"),
         ("cnn_step", cnn, 2.0, "LeNet-style CNN training step, 64x1x28x28"),
         ("transformer_step", transformer, 2.0, "2-layer TransformerEncoder d128 h4, batch 32 x 64 tokens, step"),
         ("matmul_4096", matmul, 1.1, "matmul 4096x4096 fwd+bwd")]


def timed(T, fn, n):
    _sync(T)
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    _sync(T)
    return (time.perf_counter() - t0) / n


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--markdown", default="")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--only", default="")
    args = ap.parse_args(argv)
    import torch

    import ember
    only = {s for s in args.only.split(",") if s}
    gpu = torch.cuda.get_device_name()
    rows = []
    for name, build, target, desc in CASES:
        if only and name not in only:
            continue
        try:
            ft, fe = build(torch), build(ember)
            for f, T in ((ft, torch), (fe, ember)):
                f()
                f()
                _sync(T)
            n = max(3, min(50, int(0.2 / max(timed(torch, ft, 3), 1e-4))))
            tt, te = [], []
            for _ in range(args.repeats):
                tt.append(timed(torch, ft, n))
                te.append(timed(ember, fe, n))
            mt, me = statistics.median(tt), statistics.median(te)
            rows.append(f"| {desc} | {me / mt:.2f} | <= {target} | {me * 1e3:.2f} ms vs {mt * 1e3:.2f} ms |")
            print(f"{name:20s} ratio {me / mt:6.2f}  ember {me * 1e3:8.2f} ms  torch {mt * 1e3:8.2f} ms", flush=True)
        except Exception as e:
            rows.append(f"| {desc} | error | <= {target} | {type(e).__name__}: {str(e)[:80]} |")
            print(f"{name:20s} ERROR {type(e).__name__}: {e}", flush=True)
    table = "\n".join([f"GPU: {gpu}; PyTorch {torch.__version__}, Ember on CuPy; median of {args.repeats} interleaved "
                       "runs, device synchronised after each step.", "",
                       "| workload | Ember / PyTorch CUDA time | target | times |", "|---|---|---|---|", *rows])
    print("\n" + table)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(table + "\n")


if __name__ == "__main__":
    main()
