"""Benchmark workloads, each written once against the API Ember shares with PyTorch.

``build(T)`` receives the module (``torch`` or ``ember``) and returns a no-argument callable: one step.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np


@dataclass
class Case:
    name: str
    build: Optional[Callable]
    target: float
    desc: str
    per: Optional[int] = None  # report time per this many units
    unit: str = "op"
    number: Optional[int] = None  # calls per timing; None: calibrate to ~50 ms


def _arr(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def op_chain(T):
    """200 small ops (16x16 float32), forward + backward."""
    a = T.tensor(_arr(16, 16), requires_grad=True)
    b = T.tensor(_arr(16, 16, seed=1), requires_grad=True)

    def step():
        x = a
        for _ in range(25):
            x = x * b
            x = x + a
            x = x.tanh()
            x = x - b
            x = x * 0.5
            x = x.sigmoid()
            x = x + 1.0
            x = x / 2.0
        x.sum().backward()
        a.grad = None
        b.grad = None
    return step


def op_chain_nograd(T):
    """200 small ops (16x16 float32) under no_grad (inference fast path)."""
    a = T.tensor(_arr(16, 16))
    b = T.tensor(_arr(16, 16, seed=1))

    def step():
        with T.no_grad():
            x = a
            for _ in range(50):
                x = x * b
                x = x + a
                x = x.tanh()
                x = x - b
    return step


def matmul_1024(T):
    """1024x1024 matmul forward + backward."""
    a = T.tensor(_arr(1024, 1024), requires_grad=True)
    b = T.tensor(_arr(1024, 1024, seed=1), requires_grad=True)

    def step():
        (a @ b).sum().backward()
        a.grad = None
        b.grad = None
    return step



_TMPDIRS = []


def _tmpdir():
    import tempfile
    d = tempfile.mkdtemp(prefix="ember_bench_")
    _TMPDIRS.append(d)
    return d


def cleanup():
    """Remove the files the save/load cases wrote."""
    import shutil
    while _TMPDIRS:
        shutil.rmtree(_TMPDIRS.pop(), ignore_errors=True)


def _traversal_model(T):
    """1,000 submodules holding 10 parameters each (10,000 parameters), two levels deep."""
    nn = T.nn

    class Leaf(nn.Module):
        def __init__(self):
            super().__init__()
            for i in range(10):
                self.register_parameter(f"w{i}", nn.Parameter(T.zeros(4)))

    return nn.Sequential(*[nn.ModuleList([Leaf() for _ in range(10)]) for _ in range(100)])


def module_named_parameters(T):
    """named_parameters() over 10,000 parameters in 1,000 submodules."""
    m = _traversal_model(T)

    def step():
        for _ in m.named_parameters():
            pass
    return step


def module_state_dict(T):
    """state_dict() over 10,000 parameters in 1,000 submodules."""
    m = _traversal_model(T)

    def step():
        m.state_dict()
    return step


def _train_step(T, model, opt, x, y):
    lossf = T.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        out = model(x)
        loss = lossf(out.reshape(-1, out.shape[-1]), y.reshape(-1))
        loss.backward()
        opt.step()
    return step


def mlp_train(T):
    """MLP 784-512-256-10, batch 128: forward, cross-entropy, backward, SGD(momentum) step."""
    nn = T.nn
    T.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10))
    opt = T.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = T.tensor(_arr(128, 784))
    y = T.tensor(np.random.default_rng(1).integers(0, 10, 128))
    return _train_step(T, model, opt, x, y)


def lenet_train(T):
    """LeNet-5 style CNN on 64x1x28x28: forward, cross-entropy, backward, SGD(momentum) step."""
    nn = T.nn
    T.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
    opt = T.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = T.tensor(_arr(64, 1, 28, 28))
    y = T.tensor(np.random.default_rng(1).integers(0, 10, 64))
    return _train_step(T, model, opt, x, y)


def transformer_train(T):
    """Embedding + 2-layer TransformerEncoder (d_model 128, 4 heads, ff 512) + token head, batch 32 x seq 64,
    token-level cross-entropy, backward, Adam step."""
    nn = T.nn
    T.manual_seed(0)
    vocab, d = 1000, 128

    class LM(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(vocab, d)
            layer = nn.TransformerEncoderLayer(d, 4, dim_feedforward=512, batch_first=True)
            self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
            self.head = nn.Linear(d, vocab)

        def forward(self, tokens):
            return self.head(self.encoder(self.emb(tokens)))

    model = LM()
    opt = T.optim.Adam(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(1)
    x = T.tensor(rng.integers(0, vocab, (32, 64)))
    y = T.tensor(rng.integers(0, vocab, (32, 64)))
    return _train_step(T, model, opt, x, y)


def lstm_fwd_bwd(T):
    """LSTM(64, 128), 50 steps, batch 32: forward + backward."""
    T.manual_seed(0)
    lstm = T.nn.LSTM(64, 128)
    x = T.tensor(_arr(50, 32, 64), requires_grad=True)

    def step():
        lstm.zero_grad()
        x.grad = None
        out, (h, c) = lstm(x)
        (out.sum() + c.sum()).backward()
    return step


def adam_step(T):
    """Adam step over 1M parameters in 100 tensors of 10,000."""
    params = [T.nn.Parameter(T.tensor(_arr(100, 100, seed=i))) for i in range(100)]
    for i, p in enumerate(params):
        p.grad = T.tensor(_arr(100, 100, seed=1000 + i))
    opt = T.optim.Adam(params, lr=1e-3)

    def step():
        opt.step()
    return step


def dataloader_epoch(T):
    """DataLoader over TensorDataset(60,000 x 784 float32, labels), batch 128, shuffled: one epoch."""
    data = T.utils.data
    ds = data.TensorDataset(T.tensor(_arr(60000, 784)), T.tensor(np.arange(60000) % 10))
    loader = data.DataLoader(ds, batch_size=128, shuffle=True)

    def step():
        for xb, yb in loader:
            pass
    return step


def _big_state_dict(T):
    """~100 MB: 25 float32 tensors of 1M elements."""
    return {f"layer{i}.weight": T.tensor(_arr(1000, 1000, seed=i)) for i in range(25)}


def save_100mb(T):
    """save() of a ~100 MB state dict (25 x 4 MB float32) to a file."""
    import os
    sd = _big_state_dict(T)
    path = os.path.join(_tmpdir(), "sd.pt")

    def step():
        T.save(sd, path)
    return step


def load_100mb(T):
    """load() of a ~100 MB state dict (25 x 4 MB float32) from a file (written by the same library)."""
    import os
    path = os.path.join(_tmpdir(), "sd.pt")
    T.save(_big_state_dict(T), path)

    def step():
        T.load(path)
    return step


ALL = [
    Case("op_chain", op_chain, 1.0, "200 small ops 16x16, fwd+bwd", per=200),
    Case("op_chain_nograd", op_chain_nograd, 1.0, "200 small ops 16x16, no_grad", per=200),
    Case("matmul_1024", matmul_1024, 1.05, "matmul 1024x1024 fwd+bwd"),
    Case("named_parameters", module_named_parameters, 2.0,
         "named_parameters(): 10k params in 1k submodules"),
    Case("state_dict", module_state_dict, 2.0, "state_dict(): 10k params in 1k submodules"),
    Case("mlp_train", mlp_train, 1.15, "MLP 784-512-256-10 train step, batch 128 (SGD)"),
    Case("lenet_train", lenet_train, 1.5, "LeNet CNN train step, 64x1x28x28 (SGD)"),
    Case("transformer_train", transformer_train, 1.3,
         "TransformerEncoder 2x(d128, 4 heads) + Embedding, 32x64 tokens, train step (Adam)"),
    Case("lstm", lstm_fwd_bwd, 1.5, "LSTM(64, 128), 50 steps, batch 32, fwd+bwd"),
    Case("adam_1m", adam_step, 1.5, "Adam step, 1M params in 100 tensors"),
    Case("dataloader_epoch", dataloader_epoch, 1.2, "DataLoader epoch, 60k x 784, batch 128, shuffle",
         number=1),
    Case("save_100mb", save_100mb, 1.2, "save ~100 MB state dict", number=1),
    Case("load_100mb", load_100mb, 1.2, "load ~100 MB state dict", number=1),
]
