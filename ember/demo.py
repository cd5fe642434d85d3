"""``make demo`` / ``python -m ember.demo``: train a small CNN on scikit-learn's bundled 8x8 digits.

Writes to ``runs/<timestamp>/``: the checkpoint in PyTorch's format, a PNG of the loss and accuracy
curves, and the autograd graph of one training step as an SVG; prints where they are and the line
of PyTorch that loads the checkpoint. Everything below is plain PyTorch code run on Ember.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

import ember as torch
from ember import nn
from ember.utils.data import DataLoader, TensorDataset


def _need(module: str, extra: str = "demo"):
    try:
        return __import__(module)
    except ImportError:
        sys.exit(f"ember demo: the optional package '{module}' is missing. Install the demo extra: "
                 f"pip install 'ember-autograd[{extra}]' (or run `make demo`, which sets it up).")


class DigitsCNN(nn.Module):
    """Two 3x3 convolutions with max pooling, then a two-layer classifier: 8x8 -> 10 classes."""

    def __init__(self, dropout: float = 0.25):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(32 * 2 * 2, 64), nn.ReLU(), nn.Dropout(dropout), nn.Linear(64, 10),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


def load_digits(seed: int, test_fraction: float = 0.2):
    """(train, test) TensorDatasets of the 1,797 bundled 8x8 digits, pixels scaled to [0, 1]."""
    datasets = _need("sklearn.datasets").datasets
    d = datasets.load_digits()
    x = (d.images.astype(np.float32) / 16.0)[:, None, :, :]
    y = d.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(x))
    n_test = int(len(x) * test_fraction)
    te, tr = order[:n_test], order[n_test:]
    return (TensorDataset(torch.from_numpy(x[tr]), torch.from_numpy(y[tr])),
            TensorDataset(torch.from_numpy(x[te]), torch.from_numpy(y[te])))


def evaluate(model, loader, loss_fn):
    model.eval()
    total, correct, loss_sum = 0, 0, 0.0
    with torch.no_grad():
        for xb, yb in loader:
            out = model(xb)
            loss_sum += loss_fn(out, yb).item() * len(yb)
            correct += (out.argmax(1) == yb).sum().item()
            total += len(yb)
    return loss_sum / total, correct / total


def train(epochs=15, batch_size=32, lr=2e-3, seed=0, out="runs", quiet=False, graph=True, plot=True):
    """Train, evaluate and write the artifacts; returns a dict with the metrics and file paths."""
    tqdm = _need("tqdm").tqdm
    torch.manual_seed(seed)
    np.random.seed(seed)
    train_set, test_set = load_digits(seed)
    g = torch.Generator().manual_seed(seed)
    train_loader = DataLoader(train_set, batch_size=batch_size, shuffle=True, generator=g)
    test_loader = DataLoader(test_set, batch_size=256)
    model = DigitsCNN()
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    run_dir = os.path.join(out, time.strftime("%Y%m%d-%H%M%S"))
    os.makedirs(run_dir, exist_ok=True)
    history = {"train_loss": [], "test_loss": [], "test_acc": []}
    t0 = time.perf_counter()
    for epoch in range(1, epochs + 1):
        model.train()
        bar = tqdm(train_loader, desc=f"epoch {epoch:2d}/{epochs}", leave=False, disable=quiet, ncols=90)
        seen, running = 0, 0.0
        for xb, yb in bar:
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            running += loss.item() * len(yb)
            seen += len(yb)
            bar.set_postfix(loss=f"{running / seen:.4f}")
        scheduler.step()
        test_loss, test_acc = evaluate(model, test_loader, loss_fn)
        history["train_loss"].append(running / seen)
        history["test_loss"].append(test_loss)
        history["test_acc"].append(test_acc)
        if not quiet:
            print(f"epoch {epoch:2d}/{epochs}  train loss {running / seen:.4f}  test loss {test_loss:.4f}  "
                  f"test accuracy {test_acc:.2%}", flush=True)
    seconds = time.perf_counter() - t0
    paths = {"checkpoint": os.path.join(run_dir, "digits_cnn.pt")}
    torch.save(model.state_dict(), paths["checkpoint"])
    if plot:
        paths["curves"] = _plot(history, os.path.join(run_dir, "curves.png"))
    if graph:
        model.train()
        xb, yb = next(iter(train_loader))
        loss = loss_fn(model(xb), yb)
        from ember.viz import make_dot
        paths["graph"] = make_dot(loss, params=dict(model.named_parameters())).render(
            os.path.join(run_dir, "train_step_graph.svg"))
    return {"history": history, "test_acc": history["test_acc"][-1], "seconds": seconds, "paths": paths,
            "run_dir": run_dir}


def _plot(history, path):
    matplotlib = _need("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.5))
    ep = range(1, len(history["train_loss"]) + 1)
    a1.plot(ep, history["train_loss"], label="train")
    a1.plot(ep, history["test_loss"], label="test")
    a1.set_xlabel("epoch")
    a1.set_ylabel("cross-entropy loss")
    a1.legend()
    a2.plot(ep, [100 * a for a in history["test_acc"]], color="tab:green")
    a2.set_xlabel("epoch")
    a2.set_ylabel("held-out accuracy (%)")
    fig.suptitle("Ember: small CNN on the 8x8 digits")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m ember.demo",
                                 description="Train a small CNN on scikit-learn's 8x8 digits with Ember.")
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="runs", help="folder for the run's outputs (default: runs/)")
    ap.add_argument("--quiet", action="store_true", help="no progress bars")
    ap.add_argument("--quick", action="store_true", help="a short run (4 epochs) for tests and a first look")
    args = ap.parse_args(argv)
    if args.quick:
        args.epochs = min(args.epochs, 4)
    r = train(args.epochs, args.batch_size, args.lr, args.seed, args.out, args.quiet)
    p = r["paths"]
    print(f"\nheld-out accuracy {r['test_acc']:.2%} after {args.epochs} epochs in {r['seconds']:.1f} s")
    print(f"checkpoint (PyTorch format): {p['checkpoint']}")
    print(f"loss/accuracy curves:        {p['curves']}")
    print(f"autograd graph of one step:  {p['graph']}")
    print("\nLoad it in PyTorch:\n"
          f"    state_dict = torch.load({p['checkpoint']!r}, weights_only=True)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
