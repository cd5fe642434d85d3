"""Ember's fused device kernels (ember.backends.kernels), checked without a GPU.

Each kernel body compiles as CUDA (``nvcc -ptx``, where nvcc is installed) and runs on the CPU through the
CuPy stand-in, which compiles the same body with g++ (kernel_emu). The fused paths are compared with
PyTorch and with Ember's array path, and a training step's device-call count is kept in check: on a GPU
every call is host time, which is what a step's time is made of.
"""
import importlib
import os
import shutil
import subprocess

import numpy as np
import pytest
import torch

import ember
from ember.backends import kernels

import fake_cupy
import kernel_emu
from conftest import assert_close

pytestmark = pytest.mark.skipif(not kernel_emu.available(), reason="g++ is needed to run kernels on the CPU")

# every module that defines kernels: importing them fills the registry
KERNEL_MODULES = ["ember.optim.adam", "ember.nn.functional.pooling_kernels", "ember.nn.functional.conv",
                  "ember.nn.functional.normalization", "ember.nn.functional.activation_softmax",
                  "ember.nn.functional.loss_classification", "ember.ops.unary"]


def _all_kernels():
    for m in KERNEL_MODULES:
        importlib.import_module(m)
    return kernels.REGISTRY


@pytest.fixture
def cuda(monkeypatch):
    fake = fake_cupy.install(monkeypatch)
    monkeypatch.setattr(ember.backends, "_pending_checks", [])
    ember.cuda.reset_transfer_counts()
    return fake


@pytest.mark.skipif(shutil.which("nvcc") is None, reason="nvcc is not installed")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_kernel_compiles_for_the_gpu(tmp_path, dtype):
    ks = _all_kernels()
    names = [k.name for k in ks]
    assert len(names) == len(set(names)), "kernel names must be unique"
    src = "\n".join(kernel_emu.cuda_source(k, dtype).replace("void run(", f"void {k.name}(")
                    .replace("struct _Index", f"struct _Index_{k.name}").replace("_Index _ind", f"_Index_{k.name} _ind")
                    for k in ks)
    path = os.path.join(tmp_path, "k.cu")
    with open(path, "w") as f:
        f.write(src)
    r = subprocess.run(["nvcc", "-ptx", "-arch=compute_80", "-diag-suppress", "177,550", "-o",
                        os.path.join(tmp_path, "k.ptx"), path], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_registry_lists_the_kernels():
    ks = _all_kernels()
    assert "ember_adam_step" in [k.name for k in ks]


def test_kernels_are_only_used_where_they_can_run(cuda):
    k = _all_kernels()[0]
    assert k.on(np) is None
    assert k.on(cuda, np.float16) is None and k.on(cuda, np.int64) is None
    assert k.on(cuda, np.float32) is not None and k.on(cuda, np.float32) is k.on(cuda, np.float64)


@pytest.mark.parametrize("kw", [{}, {"weight_decay": 0.1}, {"weight_decay": 0.1, "decoupled_weight_decay": True},
                                {"maximize": True}])
def test_fused_adam_matches_pytorch(cuda, kw):
    r = np.random.default_rng(0)
    w0 = r.standard_normal((5, 7)).astype(np.float32)
    grads = [r.standard_normal((5, 7)).astype(np.float32) for _ in range(4)]
    pe = ember.nn.Parameter(ember.tensor(w0).cuda())
    pt = torch.nn.Parameter(torch.tensor(w0))
    oe, ot = ember.optim.Adam([pe], lr=0.1, **kw), torch.optim.Adam([pt], lr=0.1, **kw)
    for g in grads:
        pe.grad, pt.grad = ember.tensor(g).cuda(), torch.tensor(g)
        oe.step()
        ot.step()
    assert isinstance(pe._data, fake_cupy.ndarray)
    assert_close(pe.cpu(), pt, rtol=1e-5, atol=1e-6)
