"""nn.utils.parametrize, parametrizations.{weight_norm, spectral_norm} and the legacy hook-based
weight_norm / spectral_norm, against PyTorch: values, gradients, state_dict keys, training steps."""
import copy
import pickle
import warnings

import numpy as np
import pytest
import torch

import ember
import ember.nn as enn
from conftest import assert_close
from ember.nn.utils import parametrize as EP
from ember.nn.utils import parametrizations as EPZ
from ember.nn.utils.weight_norm import _weight_norm, norm_except_dim
from torch.nn.utils import parametrize as TP
from torch.nn.utils import parametrizations as TPZ


def _e(t):
    return ember.tensor(t.detach().numpy().copy())


def _copy_state(tm, em):
    """Copy every parameter and buffer of torch module ``tm`` into ember module ``em`` (same names)."""
    sd = {k: _e(v) for k, v in tm.state_dict().items()}
    res = em.load_state_dict(sd)
    assert not res.missing_keys and not res.unexpected_keys


def _pair_modules(make_t, make_e, seed=0):
    torch.manual_seed(seed)
    tm = make_t(torch.nn)
    em = make_e(enn) if make_e is not None else make_t(enn)
    _copy_state(tm, em)
    return tm, em


def _input(shape, seed=1):
    x = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    return ember.tensor(x), torch.tensor(x)


def _check_grads(em, tm, rtol=1e-5, atol=1e-6):
    ep, tp = dict(em.named_parameters()), dict(tm.named_parameters())
    assert list(ep) == list(tp)
    for k in tp:
        assert_close(ep[k].grad, tp[k].grad, rtol, atol)


# ---------------------------------------------------------------- user parametrizations
def _symmetric(nn):
    class Symmetric(nn.Module):
        def forward(self, X):
            return X.triu() + X.triu(1).transpose(-1, -2)

    return Symmetric()


def _skew(nn):
    class Skew(nn.Module):
        def forward(self, X):
            A = X.triu(1)
            return A - A.transpose(-1, -2)

        def right_inverse(self, A):
            return A.triu(1)

    return Skew()


def _scale(nn, k):
    class Scale(nn.Module):
        def forward(self, X):
            return X * k

        def right_inverse(self, Y):
            return Y / k

    return Scale()


def _split(nn):
    class Split(nn.Module):  # two originals: weight = A + B
        def forward(self, A, B):
            return A + B

        def right_inverse(self, W):
            return W * 0.25, W * 0.75

    return Split()


def _both(fn):
    return fn(torch.nn), fn(enn)


@pytest.mark.parametrize("kind", ["symmetric", "skew", "chain", "split"])
def test_register_forward_grads_keys_repr(kind):
    tm, em = _pair_modules(lambda nn: nn.Linear(4, 4), None)
    if kind == "symmetric":
        regs = [_both(_symmetric)]
    elif kind == "skew":
        regs = [_both(_skew)]
    elif kind == "chain":
        regs = [_both(lambda nn: _scale(nn, 2.0)), _both(_symmetric), _both(lambda nn: _scale(nn, 0.5))]
    else:
        regs = [_both(_split)]
    for pt, pe in regs:
        TP.register_parametrization(tm, "weight", pt)
        EP.register_parametrization(em, "weight", pe)
    assert type(em).__name__ == type(tm).__name__ == "ParametrizedLinear"
    assert repr(em) == repr(tm)
    assert list(em.state_dict()) == list(tm.state_dict())
    assert [k for k, _ in em.named_parameters()] == [k for k, _ in tm.named_parameters()]
    for k, v in tm.state_dict().items():
        assert_close(em.state_dict()[k], v)
    assert_close(em.weight, tm.weight)
    xe, xt = _input((3, 4))
    em(xe).square().sum().backward()
    tm(xt).square().sum().backward()
    _check_grads(em, tm)
    assert EP.is_parametrized(em) and EP.is_parametrized(em, "weight") and not EP.is_parametrized(em, "bias")
    assert EP.type_before_parametrizations(em) is enn.Linear


def test_assign_runs_right_inverse_and_keeps_identity():
    tm, em = _pair_modules(lambda nn: nn.Linear(4, 4), None)
    for nn, m in ((torch.nn, tm), (enn, em)):
        TP.register_parametrization(m, "weight", _scale(nn, 3.0)) if nn is torch.nn else \
            EP.register_parametrization(m, "weight", _scale(nn, 3.0))
    orig_e = em.parametrizations.weight.original
    w = np.random.default_rng(5).standard_normal((4, 4)).astype(np.float32)
    tm.weight = torch.tensor(w)
    em.weight = ember.tensor(w)
    assert em.parametrizations.weight.original is orig_e
    assert_close(em.parametrizations.weight.original, tm.parametrizations.weight.original)
    assert_close(em.weight, tm.weight)
    with pytest.raises(KeyError):  # a Parameter cannot replace the property, as in PyTorch
        em.weight = enn.Parameter(ember.zeros(4, 4))


@pytest.mark.parametrize("leave", [True, False])
def test_remove_parametrizations(leave):
    tm, em = _pair_modules(lambda nn: nn.Linear(4, 4), None)
    TP.register_parametrization(tm, "weight", _scale(torch.nn, 2.0))
    EP.register_parametrization(em, "weight", _scale(enn, 2.0))
    TP.register_parametrization(tm, "bias", _scale(torch.nn, 0.5))
    EP.register_parametrization(em, "bias", _scale(enn, 0.5))
    orig = em.parametrizations.weight.original
    TP.remove_parametrizations(tm, "weight", leave_parametrized=leave)
    EP.remove_parametrizations(em, "weight", leave_parametrized=leave)
    assert em.weight is orig and isinstance(em.weight, enn.Parameter)
    assert list(em.state_dict()) == list(tm.state_dict())
    assert_close(em.weight, tm.weight)
    assert type(em).__name__ == "ParametrizedLinear"
    TP.remove_parametrizations(tm, "bias", leave_parametrized=leave)
    EP.remove_parametrizations(em, "bias", leave_parametrized=leave)
    assert type(em) is enn.Linear and not EP.is_parametrized(em)
    assert "parametrizations" not in em._modules
    assert list(em.state_dict()) == list(tm.state_dict())
    assert_close(em.bias, tm.bias)
    with pytest.raises(ValueError, match="does not have a parametrization"):
        EP.remove_parametrizations(em, "weight")


def test_remove_sequence_originals():
    tm, em = _pair_modules(lambda nn: nn.Linear(3, 2), None)
    TP.register_parametrization(tm, "weight", _split(torch.nn))
    EP.register_parametrization(em, "weight", _split(enn))
    with pytest.raises(ValueError, match="sequence of tensors"):
        EP.remove_parametrizations(em, "weight", leave_parametrized=False)
    TP.remove_parametrizations(tm, "weight")
    EP.remove_parametrizations(em, "weight")
    assert isinstance(em.weight, enn.Parameter) and em.weight.requires_grad
    assert list(em.state_dict()) == list(tm.state_dict())
    assert_close(em.weight, tm.weight)


def test_buffer_parametrization_and_load_torch_state():
    class Holder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("w", torch.arange(9.0).reshape(3, 3))

    class EHolder(enn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("w", ember.arange(9.0).reshape(3, 3))

    tm, em = Holder(), EHolder()
    TP.register_parametrization(tm, "w", _skew(torch.nn))
    EP.register_parametrization(em, "w", _skew(enn))
    assert [k for k, _ in em.named_buffers()] == [k for k, _ in tm.named_buffers()] == ["parametrizations.w.original"]
    assert list(em.parameters()) == []
    with torch.no_grad():
        tm.parametrizations.w.original.mul_(-1.5)
    em.load_state_dict({k: _e(v) for k, v in tm.state_dict().items()})
    assert_close(em.w, tm.w)


def test_cached():
    em = enn.Linear(3, 3)
    EP.register_parametrization(em, "weight", _symmetric(enn))
    assert em.weight is not em.weight
    with EP.cached():
        a = em.weight
        with EP.cached():
            assert em.weight is a
        assert em.weight is a
    assert em.weight is not a
    assert_close(em.weight, a)


def test_unsafe_and_errors():
    em = enn.Linear(3, 4)

    class Drop(enn.Module):
        def forward(self, X):
            return X[:, :2]

    with pytest.raises(ValueError, match="may not change the shape"):
        EP.register_parametrization(em, "weight", Drop())
    assert type(em) is enn.Linear and isinstance(em._parameters["weight"], enn.Parameter)  # unchanged
    with pytest.raises(ValueError, match="does not have a parameter, a buffer"):
        EP.register_parametrization(em, "nope", Drop())
    EP.register_parametrization(em, "weight", Drop(), unsafe=True)
    assert tuple(em.weight.shape) == (4, 2)

    class Double(enn.Module):
        def forward(self, X):
            return X.double()

    em2 = enn.Linear(4, 4)
    with pytest.raises(ValueError, match="may not change the dtype"):
        EP.register_parametrization(em2, "weight", Double())
    with pytest.raises(ValueError, match="requires one or more modules"):
        EP.ParametrizationList([], ember.zeros(2))
    EP.register_parametrization(em2, "weight", _symmetric(enn))
    with pytest.raises(RuntimeError, match="does not implement right_inverse"):
        em2.weight = ember.zeros(4, 4)
    with pytest.raises(RuntimeError, match="Serialization of parametrized modules"):
        pickle.dumps(em2)


def test_deepcopy_and_transfer_and_train_mode():
    tm, em = _pair_modules(lambda nn: nn.Linear(4, 4), None)
    EP.register_parametrization(em, "weight", _skew(enn))
    TP.register_parametrization(tm, "weight", _skew(torch.nn))
    em.eval()
    assert not em.parametrizations.weight[0].training
    c = copy.deepcopy(em)
    assert type(c).__name__ == "ParametrizedLinear" and type(c) is type(em)
    assert c.parametrizations.weight.original is not em.parametrizations.weight.original
    assert_close(c.weight, tm.weight)
    tgt_t, tgt_e = torch.nn.Linear(4, 4), enn.Linear(4, 4)
    TP.transfer_parametrizations_and_params(tm, tgt_t)
    EP.transfer_parametrizations_and_params(em, tgt_e)
    assert tgt_e.parametrizations.weight.original is em.parametrizations.weight.original
    assert list(tgt_e.state_dict()) == list(tgt_t.state_dict())
    assert_close(tgt_e.weight, tgt_t.weight)


# ---------------------------------------------------------------- weight_norm
_LAYERS = {
    "linear": (lambda nn: nn.Linear(5, 4), (3, 5)),
    "conv2d": (lambda nn: nn.Conv2d(2, 3, 3), (2, 2, 6, 6)),
    "conv1d": (lambda nn: nn.Conv1d(2, 3, 2), (2, 2, 5)),
}


@pytest.mark.parametrize("layer", list(_LAYERS))
@pytest.mark.parametrize("dim", [0, 1, None, -1, "last"])
def test_weight_norm_parametrization_training(layer, dim):
    make, xshape = _LAYERS[layer]
    tm, em = _pair_modules(make, None)
    if dim == "last":
        dim = tm.weight.ndim - 1
    TPZ.weight_norm(tm, dim=dim)
    EPZ.weight_norm(em, dim=dim)
    assert list(em.state_dict()) == list(tm.state_dict())
    for k, v in tm.state_dict().items():
        assert_close(em.state_dict()[k], v)
    assert repr(em) == repr(tm)
    assert type(em.weight.grad_fn).__name__ == type(tm.weight.grad_fn).__name__
    xe, xt = _input(xshape)
    opt_t = torch.optim.SGD(tm.parameters(), lr=0.1)
    opt_e = ember.optim.SGD(em.parameters(), lr=0.1)
    for _ in range(3):
        opt_t.zero_grad()
        opt_e.zero_grad()
        tm(xt).tanh().square().sum().backward()
        em(xe).tanh().square().sum().backward()
        _check_grads(em, tm, 1e-4, 1e-5)
        opt_t.step()
        opt_e.step()
    for k, v in tm.state_dict().items():
        assert_close(em.state_dict()[k], v, 1e-4, 1e-5)
    TP.remove_parametrizations(tm, "weight")
    EP.remove_parametrizations(em, "weight")
    assert list(em.state_dict()) == list(tm.state_dict())
    assert_close(em.weight, tm.weight, 1e-4, 1e-5)


def test_weight_norm_loads_legacy_keys():
    torch.manual_seed(0)
    legacy = torch.nn.Linear(5, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        torch.nn.utils.weight_norm(legacy)
    with torch.no_grad():
        legacy.weight_g.mul_(2.0)
    sd = {k: _e(v) for k, v in legacy.state_dict().items()}
    em = EPZ.weight_norm(enn.Linear(5, 3))
    res = em.load_state_dict(sd)
    assert not res.missing_keys and not res.unexpected_keys
    xe, xt = _input((2, 5))
    assert_close(em(xe), legacy(xt))


@pytest.mark.parametrize("dim", [0, 1, 2, None])
def test_weight_norm_function_gradcheck(dim):
    rng = np.random.default_rng(3)
    v = ember.tensor(rng.standard_normal((3, 4, 2)), requires_grad=True)
    dim_ = -1 if dim is None else dim
    g0 = norm_except_dim(v.detach(), 2, dim_) * 1.5
    g = g0.detach().requires_grad_(True)
    assert ember.autograd.gradcheck(lambda a, b: _weight_norm(a, b, dim_), (v, g))
    assert ember.autograd.gradgradcheck(lambda a, b: _weight_norm(a, b, dim_), (v, g))
    vt, gt = torch.tensor(v.detach().numpy()), torch.tensor(g.detach().numpy())
    assert_close(_weight_norm(v, g, dim_), torch._weight_norm(vt, gt, dim_), 1e-12, 1e-12)
    assert_close(ember.norm_except_dim(v, 2, dim_), torch.norm_except_dim(vt, 2, dim_), 1e-12, 1e-12)
    assert_close(ember._weight_norm(v, g, dim_), torch._weight_norm(vt, gt, dim_), 1e-12, 1e-12)


def test_legacy_weight_norm():
    tm, em = _pair_modules(lambda nn: nn.Conv2d(2, 3, 3), None)
    with pytest.warns(FutureWarning):
        enn.utils.weight_norm(em, dim=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        torch.nn.utils.weight_norm(tm, dim=1)
        with pytest.raises(RuntimeError, match="Cannot register two weight_norm hooks"):
            enn.utils.weight_norm(em, dim=1)
    assert list(em.state_dict()) == list(tm.state_dict()) == ["bias", "weight_g", "weight_v"]
    assert [k for k, _ in em.named_parameters()] == [k for k, _ in tm.named_parameters()]
    xe, xt = _input((2, 2, 5, 5))
    opt_t = torch.optim.SGD(tm.parameters(), lr=0.05)
    opt_e = ember.optim.SGD(em.parameters(), lr=0.05)
    for _ in range(3):
        opt_t.zero_grad()
        opt_e.zero_grad()
        tm(xt).square().mean().backward()
        em(xe).square().mean().backward()
        _check_grads(em, tm, 1e-4, 1e-6)
        opt_t.step()
        opt_e.step()
    torch.nn.utils.remove_weight_norm(tm)
    enn.utils.remove_weight_norm(em)
    assert list(em.state_dict()) == list(tm.state_dict())
    assert_close(em.weight, tm.weight, 1e-4, 1e-6)
    assert not em._forward_pre_hooks
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found"):
        enn.utils.remove_weight_norm(em)


# ---------------------------------------------------------------- spectral_norm
_SN_LAYERS = {
    "linear": (lambda nn: nn.Linear(6, 4), (3, 6)),
    "conv2d": (lambda nn: nn.Conv2d(3, 4, 3), (2, 3, 5, 5)),
    "convT2d": (lambda nn: nn.ConvTranspose2d(3, 2, 3), (2, 3, 4, 4)),
}


@pytest.mark.parametrize("layer", list(_SN_LAYERS))
@pytest.mark.parametrize("n_iter", [1, 3])
def test_spectral_norm_parametrization_training(layer, n_iter):
    make, xshape = _SN_LAYERS[layer]
    tm, em = _pair_modules(make, None)
    TPZ.spectral_norm(tm, n_power_iterations=n_iter)
    EPZ.spectral_norm(em, n_power_iterations=n_iter)
    assert em.parametrizations.weight[0].dim == tm.parametrizations.weight[0].dim
    assert list(em.state_dict()) == list(tm.state_dict())
    assert repr(em) == repr(tm)
    _copy_state(tm, em)  # the random start of u, v differs (another RNG): take torch's
    xe, xt = _input(xshape)
    opt_t = torch.optim.SGD(tm.parameters(), lr=0.1)
    opt_e = ember.optim.SGD(em.parameters(), lr=0.1)
    for _ in range(3):
        opt_t.zero_grad()
        opt_e.zero_grad()
        tm(xt).tanh().sum().backward()
        em(xe).tanh().sum().backward()
        _check_grads(em, tm, 1e-4, 1e-5)
        opt_t.step()
        opt_e.step()
    for k, v in tm.state_dict().items():
        assert_close(em.state_dict()[k], v, 1e-4, 1e-5)
    # eval mode: no power-iteration step, the buffers stay as they are
    tm.eval()
    em.eval()
    u_before = em.parametrizations.weight[0]._u.detach().clone()
    assert_close(em(xe), tm(xt), 1e-4, 1e-5)
    assert_close(em.parametrizations.weight[0]._u, u_before, 0, 0)
    TP.remove_parametrizations(tm, "weight")
    EP.remove_parametrizations(em, "weight")
    assert list(em.state_dict()) == list(tm.state_dict())
    assert_close(em.weight, tm.weight, 1e-4, 1e-5)


def test_spectral_norm_init_converges_and_1d_and_errors():
    torch.manual_seed(0)
    tm = torch.nn.Linear(5, 4)
    em = enn.Linear(5, 4)
    _copy_state(tm, em)
    TPZ.spectral_norm(tm)
    EPZ.spectral_norm(em)
    # 15 power-iteration steps from different random starts: sigma agrees to a few digits
    assert_close(em.weight, tm.weight, 1e-3, 1e-4)
    tb, eb = torch.nn.Linear(3, 4), enn.Linear(3, 4)
    _copy_state(tb, eb)
    TPZ.spectral_norm(tb, name="bias")
    EPZ.spectral_norm(eb, name="bias")
    assert list(eb.state_dict()) == list(tb.state_dict())
    assert_close(eb.bias, tb.bias)
    with pytest.raises(IndexError, match="Dimension out of range"):
        EPZ.spectral_norm(enn.Linear(3, 4), dim=2)
    with pytest.raises(ValueError, match="n_power_iterations"):
        EPZ.spectral_norm(enn.Linear(3, 4), n_power_iterations=0)
    with pytest.raises(ValueError, match="no parameter or buffer"):
        EPZ.spectral_norm(enn.Linear(3, 4), name="nope")


@pytest.mark.parametrize("layer", ["linear", "convT2d"])
def test_legacy_spectral_norm(layer):
    make, xshape = _SN_LAYERS[layer]
    tm, em = _pair_modules(make, None)
    torch.nn.utils.spectral_norm(tm, n_power_iterations=2)
    enn.utils.spectral_norm(em, n_power_iterations=2)
    with pytest.raises(RuntimeError, match="Cannot register two spectral_norm hooks"):
        enn.utils.spectral_norm(em)
    assert list(em.state_dict()) == list(tm.state_dict()) == ["bias", "weight_orig", "weight_u", "weight_v"]
    assert em.state_dict()._metadata[""]["spectral_norm"] == tm.state_dict()._metadata[""]["spectral_norm"]
    _copy_state(tm, em)
    xe, xt = _input(xshape)
    opt_t = torch.optim.SGD(tm.parameters(), lr=0.1)
    opt_e = ember.optim.SGD(em.parameters(), lr=0.1)
    for _ in range(3):
        opt_t.zero_grad()
        opt_e.zero_grad()
        tm(xt).tanh().sum().backward()
        em(xe).tanh().sum().backward()
        _check_grads(em, tm, 1e-4, 1e-5)
        opt_t.step()
        opt_e.step()
    for k, v in tm.state_dict().items():
        assert_close(em.state_dict()[k], v, 1e-4, 1e-5)
    tm.eval()
    em.eval()
    assert_close(em(xe), tm(xt), 1e-4, 1e-5)
    torch.nn.utils.remove_spectral_norm(tm)
    enn.utils.remove_spectral_norm(em)
    assert list(em.state_dict()) == list(tm.state_dict())
    assert_close(em.weight, tm.weight, 1e-4, 1e-5)
    assert not em._forward_pre_hooks and not em._state_dict_hooks and not em._load_state_dict_pre_hooks
    with pytest.raises(ValueError, match="spectral_norm of 'weight' not found"):
        enn.utils.remove_spectral_norm(em)


def test_legacy_spectral_norm_loads_version0_checkpoint():
    # an old checkpoint: weight_orig, weight (normalized) and weight_u, no weight_v; no metadata.
    # A tall weight, so that the least-squares solve for v is well conditioned
    torch.manual_seed(0)
    tm = torch.nn.utils.spectral_norm(torch.nn.Linear(3, 4))
    tm(torch.randn(2, 3))
    sd_t = {k: v.clone() for k, v in tm.state_dict().items() if k != "weight_v"}
    sd_t["weight"] = tm.weight.detach().clone()
    em = enn.utils.spectral_norm(enn.Linear(3, 4))
    em.load_state_dict({k: _e(v) for k, v in sd_t.items()})
    t2 = torch.nn.utils.spectral_norm(torch.nn.Linear(3, 4))
    t2.load_state_dict(sd_t)
    assert_close(em.weight_v, t2.weight_v, 1e-4, 1e-5)
    em.eval()
    t2.eval()
    xe, xt = _input((2, 3))
    assert_close(em(xe), t2(xt), 1e-4, 1e-5)


# ---------------------------------------------------------------- orthogonal
@pytest.mark.parametrize("shape,omap,triv", [
    ((4, 4), None, True), ((4, 4), "cayley", True), ((4, 4), "householder", True),
    ((5, 3), None, True), ((3, 5), "householder", False), ((5, 3), "matrix_exp", False),
    ((5, 3), "cayley", True), ((4, 4), "householder", False),
])
def test_orthogonal(shape, omap, triv):
    tm, em = _pair_modules(lambda nn: nn.Linear(shape[1], shape[0]), None)
    TPZ.orthogonal(tm, orthogonal_map=omap, use_trivialization=triv)
    EPZ.orthogonal(em, orthogonal_map=omap, use_trivialization=triv)
    assert list(em.state_dict()) == list(tm.state_dict())
    assert em.parametrizations.weight[0].orthogonal_map.name == tm.parametrizations.weight[0].orthogonal_map.name
    random_base = triv and shape[0] != shape[1]  # completed with random columns: take torch's
    if not random_base:
        for k, v in tm.state_dict().items():
            assert_close(em.state_dict()[k], v, 1e-5, 1e-5)
    _copy_state(tm, em)
    w = em.weight.detach().numpy().astype(np.float64)
    small = min(shape)
    gram = w @ w.T if shape[0] < shape[1] else w.T @ w
    np.testing.assert_allclose(gram, np.eye(small), atol=1e-5)
    xe, xt = _input((3, shape[1]))
    opt_t = torch.optim.SGD(tm.parameters(), lr=0.1)
    opt_e = ember.optim.SGD(em.parameters(), lr=0.1)
    for _ in range(3):
        opt_t.zero_grad()
        opt_e.zero_grad()
        tm(xt).tanh().square().sum().backward()
        em(xe).tanh().square().sum().backward()
        _check_grads(em, tm, 1e-4, 1e-5)
        opt_t.step()
        opt_e.step()
    assert_close(em.weight, tm.weight, 1e-4, 1e-5)


def test_orthogonal_assign_and_errors():
    tm, em = _pair_modules(lambda nn: nn.Linear(4, 4), None)
    TPZ.orthogonal(tm)
    EPZ.orthogonal(em)
    q = np.linalg.qr(np.random.default_rng(7).standard_normal((4, 4)))[0].astype(np.float32)
    tm.weight = torch.tensor(q)
    em.weight = ember.tensor(q)
    assert_close(em.parametrizations.weight[0].base, tm.parametrizations.weight[0].base)
    assert_close(em.weight, tm.weight, 1e-5, 1e-5)
    with pytest.raises(ValueError, match="Expected a matrix"):
        EPZ.orthogonal(enn.Linear(3, 4), name="bias")
    with pytest.raises(ValueError, match="orthogonal_map has to be one of"):
        EPZ.orthogonal(enn.Linear(3, 4), orthogonal_map="svd")
    m = EPZ.orthogonal(enn.Linear(4, 4), use_trivialization=False)
    with pytest.raises(NotImplementedError, match="use_trivialization=False"):
        m.weight = ember.tensor(q)
