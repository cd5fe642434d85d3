"""A graph network whose ``forward`` takes two inputs (node features and an adjacency matrix): the
case the note says ``Sequential`` cannot express. Two graph-convolution layers learn to classify
nodes of two noisy communities.

    python examples/graph_network.py [--quick]
"""
from __future__ import annotations

import argparse
import sys

import numpy as np

import ember as torch
from ember import nn
import ember.nn.functional as F


class GraphConv(nn.Module):
    """h' = D^-1/2 (A + I) D^-1/2 h W: each node averages its neighbours, then a linear map."""

    def __init__(self, n_in, n_out):
        super().__init__()
        self.linear = nn.Linear(n_in, n_out)

    def forward(self, h, adj):
        a = adj + torch.eye(adj.shape[0])
        d = a.sum(1).rsqrt()
        norm = d[:, None] * a * d[None, :]
        return norm @ self.linear(h)


class GCN(nn.Module):
    def __init__(self, n_in, hidden, n_classes):
        super().__init__()
        self.conv1 = GraphConv(n_in, hidden)
        self.conv2 = GraphConv(hidden, n_classes)

    def forward(self, x, adj):          # two inputs: Sequential could not pass both along
        return self.conv2(F.relu(self.conv1(x, adj)), adj)


def two_communities(n=60, seed=0):
    r = np.random.default_rng(seed)
    labels = np.repeat([0, 1], n // 2)
    same = labels[:, None] == labels[None, :]
    p = np.where(same, 0.25, 0.02)
    adj = (r.random((n, n)) < p).astype(np.float32)
    adj = np.triu(adj, 1)
    adj = adj + adj.T
    feats = (r.standard_normal((n, 8)) + 0.3 * labels[:, None]).astype(np.float32)
    return torch.from_numpy(feats), torch.from_numpy(adj), torch.from_numpy(labels.astype(np.int64))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    torch.manual_seed(0)
    x, adj, y = two_communities()
    train = torch.zeros(len(y), dtype=torch.bool)
    train[::3] = True
    model = GCN(8, 16, 2)
    opt = torch.optim.Adam(model.parameters(), lr=0.02, weight_decay=5e-4)
    for epoch in range(60 if args.quick else 200):
        opt.zero_grad()
        out = model(x, adj)
        loss = F.cross_entropy(out[train], y[train])
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        pred = model(x, adj).argmax(1)
    acc = float((pred[~train] == y[~train]).float().mean())
    print(f"held-out node accuracy {acc:.2%} (loss {loss.item():.4f})")
    assert acc > 0.8, acc
    return 0


if __name__ == "__main__":
    sys.exit(main())
