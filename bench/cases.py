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


ALL = [
    Case("op_chain", op_chain, 1.0, "200 small ops 16x16, fwd+bwd", per=200),
    Case("op_chain_nograd", op_chain_nograd, 1.0, "200 small ops 16x16, no_grad", per=200),
    Case("matmul_1024", matmul_1024, 1.05, "matmul 1024x1024 fwd+bwd"),
]
