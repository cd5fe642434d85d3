"""The "cuda" device's code paths, exercised on the CPU through a CuPy stand-in (tests/cuda/fake_cupy.py).

Real-GPU tests live in test_cuda_gpu.py and skip cleanly without CuPy and a GPU.
"""
import numpy as np
import pytest

import ember
from ember import nn

import fake_cupy


@pytest.fixture
def cuda(monkeypatch):
    fake = fake_cupy.install(monkeypatch)
    monkeypatch.setattr(ember.backends, "_pending_checks", [])
    ember.cuda.reset_transfer_counts()
    return fake


def on_device(t):
    return isinstance(t._data, fake_cupy.ndarray)


def test_without_cupy_cuda_is_unavailable():
    assert ember.cuda.is_available() in (True, False)
    if not ember.cuda.is_available():
        assert ember.cuda.device_count() == 0
        with pytest.raises(AssertionError, match="CUDA"):
            ember.zeros(2, device="cuda")


def test_device_bookkeeping(cuda):
    assert ember.cuda.is_available() and ember.cuda.device_count() == 1 and ember.cuda.current_device() == 0
    x = ember.ones(2, 3, device="cuda")
    assert on_device(x) and x.is_cuda and not x.is_cpu
    assert x.device == ember.device("cuda", 0) and str(x.device) == "cuda:0"
    y = ember.tensor([1.0, 2.0]).cuda()
    assert on_device(y) and y.device.type == "cuda"
    assert ember.tensor([1.0]).to("cuda:0").is_cuda
    z = y.cpu()
    assert type(z._data) is np.ndarray and z.tolist() == [1.0, 2.0]
    assert ember.cuda.get_device_name() == "Fake GPU (NumPy)"
    assert "device='cuda:0'" in repr(y)


def test_numpy_on_cuda_tensor_raises_typeerror(cuda):
    x = ember.ones(2, device="cuda")
    with pytest.raises(TypeError, match=r"Use Tensor.cpu\(\) to copy the tensor to host memory first"):
        x.numpy()


def test_mixing_devices_raises_runtimeerror(cuda):
    a = ember.ones(2, device="cuda")
    b = ember.ones(2)
    for fn in (lambda: a + b, lambda: b * a, lambda: a @ b, lambda: ember.cat([a, b])):
        with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
            fn()


def test_gradient_moves_back_across_to(cuda):
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = (x.cuda() * 3).sum()
    y.backward()
    assert type(x.grad._data) is np.ndarray and x.grad.tolist() == [3.0, 3.0]


def _step(model, loss_fn, opt, x, y):
    opt.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    opt.step()
    return loss


@pytest.mark.parametrize("arch", ["mlp", "cnn", "transformer"])
def test_training_step_stays_on_device_without_transfers(cuda, arch):
    ember.manual_seed(0)
    if arch == "mlp":
        model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
        x, y = ember.randn(6, 8), ember.randint(0, 4, (6,))
    elif arch == "cnn":
        model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Flatten(), nn.Linear(4 * 4 * 4, 4))
        x, y = ember.randn(6, 1, 8, 8), ember.randint(0, 4, (6,))
    else:
        layer = nn.TransformerEncoderLayer(16, 2, dim_feedforward=32, dropout=0.1, batch_first=True)
        model = nn.Sequential(nn.Embedding(11, 16), nn.TransformerEncoder(layer, 1), nn.Flatten(),
                              nn.Linear(5 * 16, 4))
        x, y = ember.randint(0, 11, (6, 5)), ember.randint(0, 4, (6,))
    model.to("cuda")
    x, y = x.cuda(), y.cuda()
    opt = ember.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    _step(model, loss_fn, opt, x, y)  # first step creates optimizer state
    ember.cuda.reset_transfer_counts()
    _step(model, loss_fn, opt, x, y)
    assert ember.cuda.transfer_counts() == {"h2d": 0, "d2h": 0}
    for name, p in model.named_parameters():
        assert on_device(p) and on_device(p.grad), name
    for name, b in model.named_buffers():
        assert on_device(b), name
    for st in opt.state.values():
        for k, v in st.items():
            if isinstance(v, ember.Tensor) and k != "step":
                assert on_device(v), k


def test_manual_seed_reaches_the_device_only_when_used(cuda, monkeypatch):
    # seeding CuPy eagerly would initialise CUDA, which fails in forked DataLoader workers
    calls = []
    monkeypatch.setattr(cuda.random, "seed", lambda s: calls.append(s))
    ember.manual_seed(7)
    assert calls == []
    x = ember.ones(4, 4, device="cuda")
    ember.nn.functional.dropout(x, 0.5)
    assert calls == [7]
    ember.nn.functional.dropout(x, 0.5)
    assert calls == [7]
