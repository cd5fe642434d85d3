"""A character-level Transformer language model trained on text that ships with Python itself (the
standard library's source), then sampled.

    python examples/char_transformer.py [--quick] [--steps N]
"""
from __future__ import annotations

import argparse
import inspect
import math
import sys

import numpy as np

import ember as torch
from ember import nn
import ember.nn.functional as F


def corpus(max_chars=200_000):
    import argparse as a1
    import collections as a2
    import textwrap as a3
    text = "".join(inspect.getsource(m) for m in (a3, a2, a1))
    return text[:max_chars]


class CharLM(nn.Module):
    def __init__(self, vocab, d_model=64, heads=4, layers=2, context=64):
        super().__init__()
        self.context = context
        self.embed = nn.Embedding(vocab, d_model)
        self.pos = nn.Parameter(torch.randn(context, d_model) * 0.02)
        layer = nn.TransformerEncoderLayer(d_model, heads, dim_feedforward=4 * d_model, dropout=0.0,
                                           batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers)
        self.head = nn.Linear(d_model, vocab)
        self.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(context), persistent=False)

    def forward(self, idx):
        t = idx.shape[1]
        h = self.embed(idx) + self.pos[:t]
        h = self.encoder(h, mask=self.mask[:t, :t], is_causal=True)
        return self.head(h)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--steps", type=int, default=None)
    args = ap.parse_args(argv)
    torch.manual_seed(0)
    text = corpus()
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    data = np.array([stoi[c] for c in text], dtype=np.int64)
    context = 32 if args.quick else 64
    model = CharLM(len(chars), d_model=48 if args.quick else 96, context=context)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    steps = args.steps or (60 if args.quick else 1500)
    rng = np.random.default_rng(0)
    first = None
    for step in range(steps):
        starts = rng.integers(0, len(data) - context - 1, 16)
        xb = torch.from_numpy(np.stack([data[s:s + context] for s in starts]))
        yb = torch.from_numpy(np.stack([data[s + 1:s + context + 1] for s in starts]))
        logits = model(xb)
        loss = F.cross_entropy(logits.reshape(-1, len(chars)), yb.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        first = first if first is not None else loss.item()
        if step % max(1, steps // 10) == 0:
            print(f"step {step:5d}  loss {loss.item():.3f}")
    print(f"loss {first:.3f} -> {loss.item():.3f} (uniform would be {math.log(len(chars)):.3f})")
    assert loss.item() < first
    model.eval()
    idx = torch.tensor([[stoi[c] for c in "def "]])
    with torch.no_grad():
        for _ in range(80 if not args.quick else 20):
            logits = model(idx[:, -context:])[:, -1] / 0.8
            nxt = torch.multinomial(F.softmax(logits, -1), 1)
            idx = torch.cat([idx, nxt], 1)
    sample = "".join(chars[i] for i in idx[0].tolist())
    print("sample:\n" + sample)
    return 0


if __name__ == "__main__":
    sys.exit(main())
