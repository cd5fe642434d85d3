"""Real-GPU tests: run only where CuPy sees an NVIDIA GPU (scripts/gpu_check.sh runs them); skipped otherwise."""
import numpy as np
import pytest

import ember
from ember import nn

pytestmark = pytest.mark.skipif(not ember.cuda.is_available(), reason="needs CuPy and an NVIDIA GPU")


def _cp():
    import cupy
    return cupy


def test_tensors_live_in_cupy_arrays():
    x = ember.randn(4, 5, device="cuda")
    assert isinstance(x._data, _cp().ndarray) and x.is_cuda and x.device.type == "cuda"
    with pytest.raises(TypeError):
        x.numpy()
    np.testing.assert_allclose(x.cpu().numpy(), _cp().asnumpy(x._data))


@pytest.mark.parametrize("op", ["add", "mul", "matmul", "tanh", "sigmoid", "softmax", "sum", "mean", "max",
                                "index", "cat", "conv2d", "layer_norm", "cross_entropy"])
def test_op_values_and_grads_match_cpu(op):
    import ember.nn.functional as F
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 6)).astype(np.float32)
    b = rng.standard_normal((4, 6)).astype(np.float32)
    img = rng.standard_normal((2, 3, 8, 8)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)

    def run(dev):
        x = ember.tensor(a, device=dev, requires_grad=True)
        y = ember.tensor(b, device=dev, requires_grad=True)
        fns = {
            "add": lambda: x + y, "mul": lambda: x * y, "matmul": lambda: x @ y.T, "tanh": lambda: x.tanh(),
            "sigmoid": lambda: x.sigmoid(), "softmax": lambda: F.softmax(x, -1), "sum": lambda: x.sum(0),
            "mean": lambda: x.mean(), "max": lambda: x.max(1)[0], "index": lambda: x[[0, 2], 1:4],
            "cat": lambda: ember.cat([x, y], 1), "layer_norm": lambda: F.layer_norm(x, (6,)),
            "cross_entropy": lambda: F.cross_entropy(x, ember.tensor([0, 1, 2, 3], device=dev)),
        }
        if op == "conv2d":
            xi = ember.tensor(img, device=dev, requires_grad=True)
            out = F.conv2d(xi, ember.tensor(w, device=dev), padding=1)
            out.sum().backward()
            return out.cpu().detach().numpy(), xi.grad.cpu().numpy()
        out = fns[op]()
        (out * out).sum().backward()
        return out.detach().cpu().numpy(), x.grad.cpu().numpy()
    for got, want in zip(run("cuda"), run("cpu")):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_training_step_has_no_host_transfers_on_gpu():
    ember.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(8 * 4 * 4, 10)).cuda()
    opt = ember.optim.Adam(model.parameters(), lr=1e-3)
    x = ember.randn(16, 1, 8, 8, device="cuda")
    y = ember.randint(0, 10, (16,)).cuda()
    loss_fn = nn.CrossEntropyLoss()
    for i in range(3):
        if i == 2:
            ember.cuda.reset_transfer_counts()
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    ember.cuda.synchronize()
    assert ember.cuda.transfer_counts() == {"h2d": 0, "d2h": 0}
    assert all(isinstance(p._data, _cp().ndarray) for p in model.parameters())


def test_save_cuda_tensor_and_map_location(tmp_path):
    t = ember.arange(6.0, device="cuda")
    path = tmp_path / "c.pt"
    ember.save({"t": t}, path)
    back = ember.load(path, map_location="cpu")
    assert back["t"].is_cpu and back["t"].tolist() == list(range(6))
    again = ember.load(path)
    assert again["t"].is_cuda


@pytest.mark.parametrize("opt_name,kw", [("Adam", {}), ("Adam", {"weight_decay": 0.1}),
                                         ("AdamW", {"weight_decay": 0.1}), ("Adam", {"amsgrad": True})])
def test_adam_on_gpu_equals_cpu_path(opt_name, kw):
    rng = np.random.default_rng(0)
    p0 = rng.standard_normal((5, 7)).astype(np.float32)
    grads = [rng.standard_normal((5, 7)).astype(np.float32) for _ in range(6)]
    out = {}
    for dev in ("cpu", "cuda"):
        p = ember.tensor(p0, device=dev, requires_grad=True)
        opt = getattr(ember.optim, opt_name)([p], lr=0.01, **kw)
        for g in grads:
            p.grad = ember.tensor(g, device=dev)
            opt.step()
        out[dev] = (p.detach().cpu().numpy(), opt.state[p]["exp_avg"].cpu().numpy(),
                    opt.state[p]["exp_avg_sq"].cpu().numpy())
    for a, b in zip(out["cuda"], out["cpu"]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_every_fused_kernel_runs_on_the_gpu_and_matches_the_cpu():
    """Shapes large enough for the fused device paths (rows >= 32 ...), compared with the CPU path; afterwards every
    kernel of ember.backends.kernels must have been compiled and launched on the GPU."""
    import ember.nn.functional as F
    from ember.backends import kernels
    import test_kernels  # noqa: F401  (imports every module that defines kernels)
    rng = np.random.default_rng(0)
    img = rng.standard_normal((4, 3, 12, 12)).astype(np.float32)
    mat = rng.standard_normal((48, 16)).astype(np.float32)
    w = rng.standard_normal((5, 3, 3, 3)).astype(np.float32)
    wt = rng.standard_normal((3, 2, 3, 3)).astype(np.float32)
    tgt = rng.integers(0, 16, 48)
    tgt[3] = -100
    cases = {
        "layer_norm": (mat, lambda x, d: F.layer_norm(x, (16,), ember.full((16,), 1.5, device=d, requires_grad=True),
                                                      ember.ones(16, device=d, requires_grad=True))),
        "softmax": (mat, lambda x, d: F.softmax(x, -1)),
        "log_softmax": (mat, lambda x, d: F.log_softmax(x, -1)),
        "cross_entropy": (mat, lambda x, d: F.cross_entropy(x, ember.tensor(tgt, device=d),
                                                            ember.linspace(0.5, 1.5, 16, device=d))),
        "relu": (mat, lambda x, d: F.relu(x)),
        "max_pool2d": (img, lambda x, d: F.max_pool2d(x, 3, 2, 1)),
        "avg_pool2d": (img, lambda x, d: F.avg_pool2d(x, 2)),
        "adaptive_avg_pool2d": (img, lambda x, d: F.adaptive_avg_pool2d(x, 5)),
        "conv2d": (img, lambda x, d: F.conv2d(x, ember.tensor(w, device=d), ember.arange(5.0, device=d), padding=1)),
        "conv_transpose2d": (img, lambda x, d: F.conv_transpose2d(x, ember.tensor(wt, device=d),
                                                                  ember.arange(2.0, device=d), stride=2)),
    }
    for name, (a, fn) in cases.items():
        res = {}
        for d in ("cpu", "cuda"):
            x = ember.tensor(a, device=d, requires_grad=True)
            out = fn(x, d)
            (out * out).sum().backward()
            res[d] = (out.detach().cpu().numpy(), x.grad.cpu().numpy())
        for got, want in zip(res["cuda"], res["cpu"]):
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5, err_msg=name)
    p = ember.tensor(mat, device="cuda", requires_grad=True)
    p.grad = ember.ones_like(p)
    ember.optim.Adam([p]).step()
    ember.cuda.synchronize()
    cp = _cp()
    unused = [k.name for k in kernels.REGISTRY if cp not in k._compiled]
    assert not unused, f"fused kernels not exercised on the GPU: {unused}"
