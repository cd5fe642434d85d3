"""The less common torch.nn modules against PyTorch: distance, ChannelShuffle, LPPool3d, fractional max
pooling, AdaptiveLogSoftmaxWithLoss, the Lazy modules, SyncBatchNorm, the deprecated layers, DataParallel.
Values, gradients, constructor defaults, state_dict keys and reprs."""
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch

import ember
import ember.nn as enn
import ember.nn.functional as EF
from conftest import assert_close
from layercheck import as_np, compare_param_grads, copy_params, run_both

TF = torch.nn.functional
tnn = torch.nn


# --------------------------------------------------------------------------- distance, channel shuffle, lp_pool3d
@pytest.mark.parametrize("kw", [dict(), dict(dim=0, eps=1e-3)])
def test_cosine_similarity_module(kw, rng):
    em, tm = enn.CosineSimilarity(**kw), tnn.CosineSimilarity(**kw)
    assert (em.dim, em.eps) == (tm.dim, tm.eps) and repr(em) == repr(tm)
    run_both(em, tm, [as_np((4, 5), rng), as_np((4, 5), rng)], rng)


@pytest.mark.parametrize("kw", [dict(), dict(p=1.0, keepdim=True), dict(p=3.0, eps=1e-2)])
def test_pairwise_distance_module(kw, rng):
    em, tm = enn.PairwiseDistance(**kw), tnn.PairwiseDistance(**kw)
    assert (em.norm, em.eps, em.keepdim) == (tm.norm, tm.eps, tm.keepdim) and repr(em) == repr(tm)
    run_both(em, tm, [as_np((4, 5), rng), as_np((4, 5), rng)], rng)


@pytest.mark.parametrize("shape,groups", [((2, 6, 3, 3), 3), ((2, 4, 5), 2), ((1, 6, 2, 2, 2), 6)])
def test_channel_shuffle(shape, groups, rng):
    em, tm = enn.ChannelShuffle(groups), tnn.ChannelShuffle(groups)
    assert repr(em) == repr(tm) == f"ChannelShuffle(groups={groups})"
    run_both(em, tm, [as_np(shape, rng)], rng)
    run_both(lambda x: EF.channel_shuffle(x, groups), lambda x: TF.channel_shuffle(x, groups), [as_np(shape, rng)],
             rng)


def test_channel_shuffle_errors():
    for bad in (0, 4):
        with pytest.raises(RuntimeError):
            tnn.ChannelShuffle(bad)(torch.zeros(1, 6, 2, 2))
        with pytest.raises(RuntimeError, match="groups"):
            enn.ChannelShuffle(bad)(ember.zeros(1, 6, 2, 2))


@pytest.mark.parametrize("args,kw", [((2.0, 2), {}), ((3.0, (2, 1, 2)), dict(stride=(1, 2, 1))),
                                     ((1.5, 2), dict(stride=2, ceil_mode=True))])
def test_lp_pool3d(args, kw, rng):
    em, tm = enn.LPPool3d(*args, **kw), tnn.LPPool3d(*args, **kw)
    assert repr(em) == repr(tm)
    x = np.abs(as_np((2, 2, 5, 4, 5), rng)) + 0.1   # positive: fractional powers of negatives are NaN in both
    run_both(em, tm, [x], rng, rtol=1e-4, atol=1e-5)   # pow / sum / pow round-trips lose a few ulps
    run_both(lambda t: EF.lp_pool3d(t, *args, **kw), lambda t: TF.lp_pool3d(t, *args, **kw), [x], rng,
             rtol=1e-4, atol=1e-5)


# --------------------------------------------------------------------------- fractional max pooling
FRAC = [(2, (2, 3, 9, 11), (2, 3), dict(output_size=(4, 5))),
        (2, (3, 10, 10), 3, dict(output_size=5)),
        (2, (2, 2, 12, 9), 2, dict(output_ratio=(0.5, 0.7))),
        (2, (1, 2, 6, 6), 2, dict(output_size=(1, 5))),
        (3, (2, 2, 7, 8, 9), (2, 2, 3), dict(output_size=(3, 4, 5))),
        (3, (2, 6, 6, 7), 2, dict(output_ratio=0.5))]


@pytest.mark.parametrize("nd,shape,k,kw", FRAC)
def test_fractional_max_pool_functional(nd, shape, k, kw, rng):
    lead = shape[:-nd - 1] if len(shape) == nd + 2 else ()
    u = rng.random((lead[0] if lead else 1, shape[-nd - 1], nd)).astype(np.float32)
    name = f"fractional_max_pool{nd}d"
    ye, yt = run_both(lambda x: getattr(EF, name)(x, k, return_indices=True, _random_samples=ember.tensor(u), **kw),
                      lambda x: getattr(TF, name)(x, k, return_indices=True, _random_samples=torch.tensor(u), **kw),
                      [as_np(shape, rng)], rng)
    assert type(ye.grad_fn).__name__ == type(yt.grad_fn).__name__ == f"FractionalMaxPool{nd}DBackward0"
    ie = getattr(EF, f"{name}_with_indices")(ember.tensor(as_np(shape, rng)), k, _random_samples=ember.tensor(u),
                                             **kw)
    assert isinstance(ie, tuple) and ie[1].dtype == ember.int64


@pytest.mark.parametrize("nd", [2, 3])
def test_fractional_max_pool_module(nd, rng):
    shape = (2, 3) + (8,) * nd
    u = rng.random((2, 3, nd)).astype(np.float32)
    E, T = getattr(enn, f"FractionalMaxPool{nd}d"), getattr(tnn, f"FractionalMaxPool{nd}d")
    em = E(3, output_size=4, return_indices=True, _random_samples=ember.tensor(u))
    tm = T(3, output_size=4, return_indices=True, _random_samples=torch.tensor(u))
    assert repr(em) == repr(tm)
    assert (em.kernel_size, em.output_size, em.output_ratio) == (tm.kernel_size, tm.output_size, tm.output_ratio)
    assert list(em.state_dict()) == list(tm.state_dict()) == ["_random_samples"]
    run_both(em, tm, [as_np(shape, rng)], rng)
    # without samples: shape and "every output is some input in its window" (PyTorch's draws differ)
    x = ember.tensor(as_np(shape, rng))
    y, idx = E(2, output_ratio=0.5, return_indices=True)(x)
    assert tuple(y.shape) == (2, 3) + (4,) * nd
    flat = x.numpy().reshape(2, 3, -1)
    np.testing.assert_array_equal(np.take_along_axis(flat, idx.numpy().reshape(2, 3, -1), 2),
                                  y.numpy().reshape(2, 3, -1))
    assert list(E(2, output_size=3).state_dict()) == list(T(2, output_size=3).state_dict()) == []


def test_fractional_max_pool_errors():
    for cls in (enn.FractionalMaxPool2d, tnn.FractionalMaxPool2d):
        with pytest.raises(ValueError):
            cls(2)
        with pytest.raises(ValueError):
            cls(2, output_size=3, output_ratio=0.5)
        with pytest.raises(ValueError):
            cls(2, output_ratio=1.5)
    with pytest.raises(RuntimeError):
        TF.fractional_max_pool2d(torch.zeros(1, 1, 4, 4), 3, output_size=3)
    with pytest.raises(RuntimeError, match="too large"):
        EF.fractional_max_pool2d(ember.zeros(1, 1, 4, 4), 3, output_size=3)


def test_fractional_max_pool_gradcheck(rng):
    x = ember.tensor(rng.standard_normal((1, 2, 7, 6)), requires_grad=True)
    u = ember.tensor(rng.random((1, 2, 2)))
    assert ember.autograd.gradcheck(lambda t: EF.fractional_max_pool2d(t, 2, output_size=(4, 3),
                                                                       _random_samples=u), (x,))


# --------------------------------------------------------------------------- AdaptiveLogSoftmaxWithLoss
def _asm_pair(head_bias=False):
    tm = tnn.AdaptiveLogSoftmaxWithLoss(8, 10, [4, 8], div_value=2.0, head_bias=head_bias)
    em = enn.AdaptiveLogSoftmaxWithLoss(8, 10, [4, 8], div_value=2.0, head_bias=head_bias)
    copy_params(em, tm)
    return em, tm


@pytest.mark.parametrize("head_bias", [False, True])
def test_adaptive_log_softmax_forward_and_grads(head_bias, rng):
    em, tm = _asm_pair(head_bias)
    assert repr(em) == repr(tm)
    assert (em.cutoffs, em.shortlist_size, em.n_clusters, em.head_size) == \
        (tm.cutoffs, tm.shortlist_size, tm.n_clusters, tm.head_size)
    x = as_np((7, 8), rng)
    t = np.array([0, 5, 9, 3, 8, 4, 2])
    xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    oe, ot = em(xe, ember.tensor(t)), tm(xt, torch.tensor(t))
    assert type(oe).__name__ == "_ASMoutput" and oe._fields == ot._fields
    assert_close(oe.output, ot.output)
    assert_close(oe.loss, ot.loss)
    oe.loss.backward()
    ot.loss.backward()
    assert_close(xe.grad, xt.grad)
    compare_param_grads(em, tm, 1e-5, 1e-6)
    assert_close(em.log_prob(ember.tensor(x)), tm.log_prob(torch.tensor(x)))
    assert_close(em.predict(ember.tensor(x)), tm.predict(torch.tensor(x)))
    # unbatched
    ou, tu = em(ember.tensor(x[0]), ember.tensor(np.array(9))), tm(torch.tensor(x[0]), torch.tensor(9))
    assert_close(ou.output, tu.output)
    assert_close(ou.loss, tu.loss)


def test_adaptive_log_softmax_predict_paths(rng):
    em, tm = _asm_pair(True)
    with torch.no_grad():
        tm.head.bias.copy_(torch.tensor([0, 0, 0, 0, 50.0, 0]))   # every row goes to cluster 0
    copy_params(em, tm)
    x = as_np((5, 8), rng)
    assert_close(em.predict(ember.tensor(x)), tm.predict(torch.tensor(x)))
    with torch.no_grad():
        tm.head.bias.copy_(torch.tensor([0, 0, 0, 0, 0, 0.0]))
        tm.head.weight[4].mul_(20)   # a mix of shortlist and tail rows
    copy_params(em, tm)
    assert_close(em.predict(ember.tensor(x)), tm.predict(torch.tensor(x)))


def test_adaptive_log_softmax_errors():
    for cls in (enn.AdaptiveLogSoftmaxWithLoss, tnn.AdaptiveLogSoftmaxWithLoss):
        for cut in ([], [4, 4], [8, 4], [0, 4], [10]):
            with pytest.raises(ValueError):
                cls(8, 10, cut)
    em, tm = _asm_pair()
    for m, lib in ((em, ember), (tm, torch)):
        with pytest.raises(RuntimeError):
            m(lib.zeros(3, 8), lib.tensor([0, 1]))
        with pytest.raises(RuntimeError):
            m(lib.zeros(2, 8), lib.tensor([0, 10]))
        with pytest.raises(RuntimeError):
            m(lib.zeros(2, 8), lib.zeros(2, 2, dtype=lib.int64))


# --------------------------------------------------------------------------- lazy modules
LAZY = [("LazyConv1d", "Conv1d", (4, 3), dict(), (2, 3, 8)),
        ("LazyConv2d", "Conv2d", (4, 3), dict(stride=2, padding=1, groups=2), (2, 4, 6, 6)),
        ("LazyConv2d", "Conv2d", (4, 3), dict(bias=False), (3, 6, 6)),
        ("LazyConv3d", "Conv3d", (2, 2), dict(), (1, 2, 4, 4, 4)),
        ("LazyConvTranspose1d", "ConvTranspose1d", (4, 3), dict(stride=2, output_padding=1), (2, 3, 5)),
        ("LazyConvTranspose2d", "ConvTranspose2d", (4, 3), dict(groups=2), (2, 4, 4, 4)),
        ("LazyConvTranspose3d", "ConvTranspose3d", (2, 2), dict(bias=False), (1, 3, 3, 3, 3)),
        ("LazyBatchNorm1d", "BatchNorm1d", (), dict(), (4, 3)),
        ("LazyBatchNorm1d", "BatchNorm1d", (), dict(affine=False, momentum=None), (4, 3, 5)),
        ("LazyBatchNorm2d", "BatchNorm2d", (), dict(eps=1e-3), (2, 3, 4, 4)),
        ("LazyBatchNorm3d", "BatchNorm3d", (), dict(track_running_stats=False), (2, 2, 3, 3, 3)),
        ("LazyInstanceNorm1d", "InstanceNorm1d", (), dict(), (2, 3, 5)),
        ("LazyInstanceNorm2d", "InstanceNorm2d", (), dict(affine=False), (2, 3, 4, 4)),
        ("LazyInstanceNorm3d", "InstanceNorm3d", (), dict(), (2, 2, 3, 3, 3))]


def _sd_summary(sd):
    return [(k, type(v).__name__ if type(v).__name__.startswith("Uninit") else tuple(v.shape)) for k, v in sd.items()]


@pytest.mark.parametrize("lazy,plain,args,kw,shape", LAZY)
def test_lazy_module_materialises_like_torch(lazy, plain, args, kw, shape, rng):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tm = getattr(tnn, lazy)(*args, **kw)
    em = getattr(enn, lazy)(*args, **kw)
    assert repr(em) == repr(tm)
    assert _sd_summary(em.state_dict()) == _sd_summary(tm.state_dict())
    assert em.has_uninitialized_params()
    x = as_np(shape, rng)
    ye, yt = em(ember.tensor(x)), tm(torch.tensor(x))
    assert type(em).__name__ == type(tm).__name__ == plain
    assert repr(em) == repr(tm)
    assert not em._forward_pre_hooks
    assert _sd_summary(em.state_dict()) == _sd_summary(tm.state_dict())
    assert tuple(ye.shape) == tuple(yt.shape)
    copy_params(em, tm)
    em.train(), tm.train()
    run_both(em, tm, [x], rng, rtol=1e-4, atol=1e-5)
    compare_param_grads(em, tm)
    for name, b in tm.named_buffers():
        assert_close(dict(em.named_buffers())[name], b, 1e-5, 1e-6)


@pytest.mark.parametrize("lazy,plain,args,kw,shape", [c for c in LAZY if "Conv" in c[0]][:3])
def test_lazy_conv_init_matches_plain_layer(lazy, plain, args, kw, shape, rng):
    # same seed, same draws: the lazy layer initialises exactly like the plain one
    x = ember.tensor(as_np(shape, rng))
    cin = shape[1] if len(shape) == len(getattr(enn, plain)(1, 1, 1).kernel_size) + 2 else shape[0]
    ember.manual_seed(3)
    em = getattr(enn, lazy)(*args, **kw)
    em(x)
    ember.manual_seed(3)
    ref = getattr(enn, plain)(cin, *args, **kw)
    for (n1, p1), (n2, p2) in zip(em.named_parameters(), ref.named_parameters()):
        assert n1 == n2
        np.testing.assert_array_equal(p1.detach().numpy(), p2.detach().numpy())


def test_lazy_load_state_dict_materialises(rng):
    tm = tnn.Conv2d(3, 4, 3)
    em = enn.LazyConv2d(4, 3)
    copy_params(em, tm)
    assert type(em).__name__ == "LazyConv2d" and not em.has_uninitialized_params()
    x = as_np((2, 3, 5, 5), rng)
    assert_close(em(ember.tensor(x)), tm(torch.tensor(x)))
    assert type(em) is enn.Conv2d and em.in_channels == 3
    eb = enn.LazyBatchNorm2d()
    tb = tnn.BatchNorm2d(3)
    tb.running_mean.fill_(0.5)
    copy_params(eb, tb)
    assert_close(eb.running_mean, tb.running_mean)
    eb(ember.tensor(as_np((2, 3, 2, 2), rng)))
    assert type(eb) is enn.BatchNorm2d and eb.num_features == 3


def test_lazy_errors_and_uninitialized():
    assert repr(enn.UninitializedBuffer()) == repr(tnn.UninitializedBuffer()) == "<UninitializedBuffer>"
    assert enn.UninitializedBuffer().requires_grad is tnn.UninitializedBuffer().requires_grad is False
    assert repr(enn.UninitializedParameter()) == repr(tnn.UninitializedParameter())
    with pytest.raises(ValueError, match="Expected 3D"):
        enn.LazyConv2d(4, 3)(ember.zeros(2, 3))
    with pytest.raises(ValueError, match="divisible"):
        enn.LazyConv2d(4, 3, groups=2)(ember.zeros(1, 3, 5, 5))
    m = enn.LazyConv2d(4, 3)
    with pytest.raises(RuntimeError, match="DataParallel"):
        m._replicate_for_data_parallel()


# --------------------------------------------------------------------------- SyncBatchNorm
@pytest.mark.parametrize("kw,shape", [(dict(), (4, 3)), (dict(momentum=None), (2, 3, 4, 4)),
                                      (dict(affine=False), (2, 3, 5)), (dict(track_running_stats=False), (3, 3, 2))])
def test_sync_batchnorm_single_process_is_batchnorm(kw, shape, rng):
    em, tm = enn.SyncBatchNorm(3, **kw), tnn.SyncBatchNorm(3, **kw)
    assert repr(em) == repr(tm)
    assert list(em.state_dict()) == list(tm.state_dict())
    for _ in range(2):
        run_both(em, tm, [as_np(shape, rng)], rng)
    compare_param_grads(em, tm)
    for name, b in tm.named_buffers():
        assert_close(dict(em.named_buffers())[name], b)
    em.eval(), tm.eval()
    run_both(em, tm, [as_np(shape, rng)], rng)
    for m in (em, tm):
        with pytest.raises(ValueError):
            m(m.weight.new_zeros(3) if m.weight is not None else (ember if m is em else torch).zeros(3))


def test_convert_sync_batchnorm():
    tm = tnn.Sequential(tnn.Conv2d(2, 3, 1), tnn.BatchNorm2d(3), tnn.Sequential(tnn.BatchNorm1d(4, affine=False)))
    em = enn.Sequential(enn.Conv2d(2, 3, 1), enn.BatchNorm2d(3), enn.Sequential(enn.BatchNorm1d(4, affine=False)))
    em[1].running_mean.fill_(2.0)
    w = em[1].weight
    em.eval()
    se, st = enn.SyncBatchNorm.convert_sync_batchnorm(em), tnn.SyncBatchNorm.convert_sync_batchnorm(tm)
    assert repr(se) == repr(st)
    assert list(se.state_dict()) == list(st.state_dict())
    assert se[1].weight is w and not se[1].training
    np.testing.assert_array_equal(se[1].running_mean.numpy(), np.full(3, 2.0, np.float32))


_SYNC_WORKER = r'''
import sys
import numpy as np
import ember
import ember.distributed as dist
dist.init_process_group("mpi")
r = dist.get_rank()
x = np.load(sys.argv[1])["x"]
g = np.load(sys.argv[1])["g"]
half = x.shape[0] // 2
m = ember.nn.SyncBatchNorm(3, momentum=0.3)
m.weight.data.copy_(ember.tensor([1.0, 2.0, 0.5]))
xe = ember.tensor(x[r * half:(r + 1) * half], requires_grad=True)
y = m(xe)
(y * ember.tensor(g[r * half:(r + 1) * half])).sum().backward()
np.savez(sys.argv[2] + f".{r}.npz", y=y.detach().numpy(), gx=xe.grad.numpy(), gw=m.weight.grad.numpy(),
         gb=m.bias.grad.numpy(), rm=m.running_mean.numpy(), rv=m.running_var.numpy())
'''


def test_sync_batchnorm_two_ranks_equals_full_batch(tmp_path, rng):
    pytest.importorskip("mpi4py")
    from ember.distributed.run import find_mpiexec
    x, g = as_np((6, 3, 4), rng), as_np((6, 3, 4), rng)
    np.savez(tmp_path / "in.npz", x=x, g=g)
    worker = tmp_path / "worker.py"
    worker.write_text(_SYNC_WORKER)
    root = os.path.dirname(os.path.dirname(os.path.abspath(ember.__file__)))
    env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    p = subprocess.run([find_mpiexec(), "-n", "2", sys.executable, str(worker), str(tmp_path / "in.npz"),
                        str(tmp_path / "out")], capture_output=True, text=True, timeout=90, env=env)
    assert p.returncode == 0, p.stderr
    tm = tnn.BatchNorm1d(3, momentum=0.3)
    with torch.no_grad():
        tm.weight.copy_(torch.tensor([1.0, 2.0, 0.5]))
    xt = torch.tensor(x, requires_grad=True)
    yt = tm(xt)
    (yt * torch.tensor(g)).sum().backward()
    r = [dict(np.load(tmp_path / f"out.{k}.npz")) for k in (0, 1)]
    assert_close(np.concatenate([r[0]["y"], r[1]["y"]]), yt.detach().numpy(), 1e-5, 1e-5)
    assert_close(np.concatenate([r[0]["gx"], r[1]["gx"]]), xt.grad.numpy(), 1e-4, 1e-5)
    assert_close(r[0]["gw"] + r[1]["gw"], tm.weight.grad.numpy(), 1e-4, 1e-5)   # local grads sum to the full one
    assert_close(r[0]["gb"] + r[1]["gb"], tm.bias.grad.numpy(), 1e-4, 1e-5)
    for k in (0, 1):
        assert_close(r[k]["rm"], tm.running_mean.numpy(), 1e-5, 1e-6)
        assert_close(r[k]["rv"], tm.running_var.numpy(), 1e-5, 1e-6)


# --------------------------------------------------------------------------- deprecated layers, DataParallel
def test_nll_loss_2d(rng):
    with pytest.warns(FutureWarning, match="NLLLoss2d"):
        em = enn.NLLLoss2d(ignore_index=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tm = tnn.NLLLoss2d(ignore_index=1)
    assert repr(em) == repr(tm) and isinstance(em, enn.NLLLoss)
    x = as_np((2, 3, 4, 4), rng)
    t = rng.integers(0, 3, (2, 4, 4))
    run_both(lambda a: em(a, ember.tensor(t)), lambda a: tm(a, torch.tensor(t)), [x], rng)


def test_container():
    with pytest.warns(FutureWarning, match="Container"):
        em = enn.Container(a=enn.Linear(1, 2), b=enn.ReLU())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tm = tnn.Container(a=tnn.Linear(1, 2), b=tnn.ReLU())
    assert repr(em) == repr(tm)
    assert list(em.state_dict()) == list(tm.state_dict())


@pytest.mark.parametrize("size,C", [(2, 3), (3, 1), (3, 7), (4, 5), (5, 7), (8, 3)])
def test_cross_map_lrn2d(size, C, rng):
    em, tm = enn.CrossMapLRN2d(size, 0.3, 0.8, 2), tnn.CrossMapLRN2d(size, 0.3, 0.8, 2)
    assert repr(em) == repr(tm)
    run_both(em, tm, [as_np((2, C, 3, 2), rng)], rng)
    with pytest.raises(ValueError, match="4D"):
        em(ember.zeros(3, 2, 2))


def test_data_parallel_single_device(rng):
    tm = tnn.DataParallel(tnn.Linear(3, 2))
    em = enn.DataParallel(enn.Linear(3, 2))
    assert repr(em) == repr(tm)
    assert em.device_ids == tm.device_ids == []
    copy_params(em, tm)
    assert list(em.state_dict()) == ["module.weight", "module.bias"]
    run_both(em, tm, [as_np((4, 3), rng)], rng)
    compare_param_grads(em, tm)
    assert isinstance(em.module, enn.Linear)
    assert ember.nn.parallel.DataParallel is enn.DataParallel


def test_lazy_dtype_conversion_before_first_forward(rng):
    em, tm = enn.LazyBatchNorm1d().double(), tnn.LazyBatchNorm1d().double()
    assert _sd_summary(em.state_dict()) == _sd_summary(tm.state_dict())
    x = rng.standard_normal((4, 3))
    assert_close(em(ember.tensor(x)), tm(torch.tensor(x)))
    assert em.running_mean.dtype == ember.float64 and em.weight.dtype == ember.float64
    assert_close(em.running_var, tm.running_var)


def test_user_lazy_module_with_the_mixin(rng):
    from ember.nn.modules.lazy import LazyModuleMixin
    from ember.nn.parameter import UninitializedParameter

    class LazyScale(LazyModuleMixin, enn.Module):
        def __init__(self):
            super().__init__()
            self.scale = UninitializedParameter()

        def initialize_parameters(self, x):
            if self.has_uninitialized_params():
                self.scale.materialize((x.shape[-1],))
                with ember.no_grad():
                    self.scale.fill_(2.0)

        def forward(self, x):
            return x * self.scale

    m = LazyScale()
    assert repr(m.state_dict()["scale"]) == "<UninitializedParameter>"
    x = as_np((2, 5), rng)
    np.testing.assert_allclose(m(ember.tensor(x)).detach().numpy(), 2 * x)
    assert type(m) is LazyScale and not m.has_uninitialized_params() and not m._forward_pre_hooks
    assert type(m.scale) is enn.Parameter and tuple(m.scale.shape) == (5,)


def test_channel_shuffle_and_lp_pool3d_gradcheck(rng):
    x = ember.tensor(rng.standard_normal((2, 4, 3)), requires_grad=True)
    assert ember.autograd.gradcheck(lambda t: EF.channel_shuffle(t, 2), (x,))
    x = ember.tensor(np.abs(rng.standard_normal((1, 2, 3, 3, 4))) + 0.5, requires_grad=True)
    assert ember.autograd.gradcheck(lambda t: EF.lp_pool3d(t, 2.0, 2, 1), (x,))


def test_lazy_linear_state_dict_before_first_forward(rng):
    em, tm = enn.LazyLinear(3), tnn.LazyLinear(3)
    assert _sd_summary(em.state_dict()) == _sd_summary(tm.state_dict())
    x = as_np((2, 4), rng)
    em(ember.tensor(x)), tm(torch.tensor(x))
    assert _sd_summary(em.state_dict()) == _sd_summary(tm.state_dict()) and repr(em) == repr(tm)
