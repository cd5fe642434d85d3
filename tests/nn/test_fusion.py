"""nn.utils fusion helpers, skip_init, stateless.functional_call, memory-format converters vs PyTorch."""
import numpy as np
import pytest
import torch

import ember
from tests.conftest import assert_close


def _copy_params(em, tm, rng):
    for (n, pe), (_, pt) in zip(em.named_parameters(), tm.named_parameters()):
        v = rng.standard_normal(tuple(pt.shape)).astype(np.float32)
        with ember.no_grad():
            pe.copy_(ember.tensor(v))
        with torch.no_grad():
            pt.copy_(torch.tensor(v))


def _bn(em_bn, t_bn, rng, c):
    mean = rng.standard_normal(c).astype(np.float32)
    var = rng.uniform(0.5, 2.0, c).astype(np.float32)
    em_bn.running_mean.copy_(ember.tensor(mean))
    em_bn.running_var.copy_(ember.tensor(var))
    t_bn.running_mean.copy_(torch.tensor(mean))
    t_bn.running_var.copy_(torch.tensor(var))


@pytest.mark.parametrize("transpose, bias", [(False, True), (False, False), (True, True)])
def test_fuse_conv_bn_eval_matches_torch(transpose, bias):
    rng = np.random.default_rng(0)
    name = "ConvTranspose2d" if transpose else "Conv2d"
    ec, tc = getattr(ember.nn, name)(3, 4, 3, bias=bias), getattr(torch.nn, name)(3, 4, 3, bias=bias)
    eb, tb = ember.nn.BatchNorm2d(4), torch.nn.BatchNorm2d(4)
    _copy_params(ec, tc, rng)
    _copy_params(eb, tb, rng)
    _bn(eb, tb, rng, 4)
    for m in (ec, tc, eb, tb):
        m.eval()
    ef = ember.nn.utils.fuse_conv_bn_eval(ec, eb, transpose=transpose)
    tf = torch.nn.utils.fuse_conv_bn_eval(tc, tb, transpose=transpose)
    assert_close(ef.weight, tf.weight, rtol=1e-5, atol=1e-6)
    assert_close(ef.bias, tf.bias, rtol=1e-5, atol=1e-6)
    assert ef is not ec and isinstance(ef.weight, ember.nn.Parameter)
    assert ef.bias.requires_grad == tf.bias.requires_grad
    x = rng.standard_normal((2, 3, 6, 6)).astype(np.float32)
    with ember.no_grad():
        assert_close(ef(ember.tensor(x)), tf(torch.tensor(x)), rtol=1e-4, atol=1e-5)
        assert_close(ef(ember.tensor(x)), eb(ec(ember.tensor(x))), rtol=1e-4, atol=1e-5)


def test_fuse_linear_bn_eval_matches_torch():
    rng = np.random.default_rng(1)
    el, tl = ember.nn.Linear(5, 4), torch.nn.Linear(5, 4)
    eb, tb = ember.nn.BatchNorm1d(4), torch.nn.BatchNorm1d(4)
    _copy_params(el, tl, rng)
    _copy_params(eb, tb, rng)
    _bn(eb, tb, rng, 4)
    for m in (el, tl, eb, tb):
        m.eval()
    ef, tf = ember.nn.utils.fuse_linear_bn_eval(el, eb), torch.nn.utils.fuse_linear_bn_eval(tl, tb)
    assert_close(ef.weight, tf.weight, rtol=1e-5, atol=1e-6)
    assert_close(ef.bias, tf.bias, rtol=1e-5, atol=1e-6)


def test_fuse_weights_functions_and_none_terms():
    rng = np.random.default_rng(2)
    w = rng.standard_normal((4, 2, 3)).astype(np.float32)
    rm, rv = rng.standard_normal(4).astype(np.float32), rng.uniform(0.5, 2, 4).astype(np.float32)
    e = ember.nn.utils.fuse_conv_bn_weights(ember.tensor(w, requires_grad=True), None, ember.tensor(rm),
                                            ember.tensor(rv), 1e-3, None, None)
    t = torch.nn.utils.fuse_conv_bn_weights(torch.tensor(w, requires_grad=True), None, torch.tensor(rm),
                                            torch.tensor(rv), 1e-3, None, None)
    for a, b in zip(e, t):
        assert_close(a, b, rtol=1e-5, atol=1e-6)
        assert a.requires_grad == b.requires_grad
    lw, lb, bw, bb = (rng.standard_normal(s).astype(np.float32) for s in ((4, 3), 4, 4, 4))
    e = ember.nn.utils.fuse_linear_bn_weights(*(ember.tensor(v) for v in (lw, lb, rm, rv)), 1e-5,
                                              ember.tensor(bw), ember.tensor(bb))
    t = torch.nn.utils.fuse_linear_bn_weights(*(torch.tensor(v) for v in (lw, lb, rm, rv)), 1e-5,
                                              torch.tensor(bw), torch.tensor(bb))
    for a, b in zip(e, t):
        assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_fusion_requires_eval_and_matching_features():
    for lib in (ember, torch):
        with pytest.raises(AssertionError, match="Fusion only for eval"):
            lib.nn.utils.fuse_conv_bn_eval(lib.nn.Conv2d(1, 2, 1), lib.nn.BatchNorm2d(2))
        lin, bn = lib.nn.Linear(2, 3).eval(), lib.nn.BatchNorm1d(4).eval()
        with pytest.raises(AssertionError, match="To fuse"):
            lib.nn.utils.fuse_linear_bn_eval(lin, bn)


def test_skip_init_and_memory_format_and_stateless():
    m = ember.nn.utils.skip_init(ember.nn.Linear, 3, 2)
    t = torch.nn.utils.skip_init(torch.nn.Linear, 3, 2)
    assert type(m) is ember.nn.Linear and tuple(m.weight.shape) == tuple(t.weight.shape)

    class NoDevice(ember.nn.Module):
        def __init__(self):
            super().__init__()

    class TNoDevice(torch.nn.Module):
        def __init__(self):
            super().__init__()
    for lib, cls in ((ember, NoDevice), (torch, TNoDevice)):
        with pytest.raises(RuntimeError, match="device"):
            lib.nn.utils.skip_init(cls)
    conv = ember.nn.Conv2d(2, 2, 1)
    assert ember.nn.utils.convert_conv2d_weight_memory_format(conv, getattr(ember, "channels_last", None)) is conv
    assert ember.nn.utils.convert_conv3d_weight_memory_format(conv, None) is conv

    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((2, 3)).astype(np.float32), rng.standard_normal((2, 3)).astype(np.float32)
    el, tl = ember.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    ew, tw = ember.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    with pytest.warns(FutureWarning, match="torch.func.functional_call"):
        eo = ember.nn.utils.stateless.functional_call(el, {"weight": ew, "bias": ember.zeros(2)}, (ember.tensor(x),))
    with pytest.warns(FutureWarning):
        to = torch.nn.utils.stateless.functional_call(tl, {"weight": tw, "bias": torch.zeros(2)}, (torch.tensor(x),))
    assert_close(eo, to, rtol=1e-5, atol=1e-6)
    eo.sum().backward()
    to.sum().backward()
    assert_close(ew.grad, tw.grad, rtol=1e-5, atol=1e-6)
