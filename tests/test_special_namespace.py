"""ember.special against torch.special: values (float32/float64), dtypes, gradients, grad_fn names."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import assert_close, pair

import ember
from ember.autograd import gradcheck

pytest.importorskip("scipy")

RNG = np.random.default_rng(3)
X = np.array([-2.7, -1.3, -0.4, 0.0, 0.35, 0.9, 1.7, 3.2])
POS = np.array([0.05, 0.3, 0.9, 1.7, 2.5, 4.0])
PROB = np.array([0.01, 0.2, 0.5, 0.73, 0.99])

# name -> (domain, differentiable in PyTorch)
UNARY = {
    "erf": (X, True), "erfc": (X, True), "erfinv": (PROB * 1.8 - 0.9, True), "expit": (X, True),
    "logit": (PROB, True), "exp2": (X, True), "expm1": (X, True), "log1p": (POS, True), "gammaln": (POS, True),
    "digamma": (POS, True), "psi": (POS, True), "sinc": (X, True), "round": (X * 2.5, True), "entr": (POS, True),
    "ndtr": (X, True), "ndtri": (PROB, True), "log_ndtr": (X * 3, True), "erfcx": (X, True), "i0": (X, True),
    "i0e": (X, True), "i1": (X, True), "i1e": (X, True),
    "bessel_j0": (X, False), "bessel_j1": (X, False), "bessel_y0": (POS, False), "bessel_y1": (POS, False),
    "modified_bessel_i0": (X, False), "modified_bessel_i1": (X, False), "modified_bessel_k0": (POS, False),
    "modified_bessel_k1": (POS, False), "scaled_modified_bessel_k0": (POS, False),
    "scaled_modified_bessel_k1": (POS, False), "spherical_bessel_j0": (X, False),
}


@pytest.mark.parametrize("np_dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_values_and_gradients(name, np_dtype):
    dom, diff = UNARY[name]
    arr = dom.astype(np_dtype)
    tol = dict(rtol=1e-5, atol=1e-6) if np_dtype == np.float32 else dict(rtol=1e-8, atol=1e-9)  # SciPy vs PyTorch approximations: ~1e-9
    e, t = pair(arr, requires_grad=diff)
    ye, yt = getattr(ember.special, name)(e), getattr(torch.special, name)(t)
    assert_close(ye, yt, **tol)
    if not diff:
        assert ye.grad_fn is None
        return
    w = RNG.standard_normal(arr.shape).astype(np_dtype)
    (ye * ember.tensor(w)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    assert_close(e.grad, t.grad, **tol)
    if yt.grad_fn.name().startswith(("Special", "I0")):
        assert type(ye.grad_fn).__name__ == yt.grad_fn.name()


def test_airy_ai():
    # PyTorch evaluates Ai with its own approximation (up to ~3e-7 relative from SciPy's cephes)
    e, t = pair(X)
    assert_close(ember.special.airy_ai(e), torch.special.airy_ai(t), 1e-6, 1e-10)


@pytest.mark.parametrize("name", ["entr", "ndtri", "log_ndtr", "erfcx", "i0", "i0e", "i1", "i1e"])
def test_gradcheck_new_primitives(name):
    dom = {"entr": POS, "ndtri": PROB}.get(name, X[X != 0])
    x = ember.tensor(dom.copy(), requires_grad=True)
    assert gradcheck(getattr(ember.special, name), (x,))


def test_second_order_i1():
    res = []
    for m in (ember, torch):
        x = m.tensor(X.copy(), requires_grad=True)
        (g,) = m.autograd.grad(m.special.i0(x).sum(), x, create_graph=True)
        (gg,) = m.autograd.grad((g * g).sum(), x)
        res.append((g, gg))
    assert_close(res[0][0], res[1][0], 1e-10, 1e-12)
    assert_close(res[0][1], res[1][1], 1e-10, 1e-12)


@pytest.mark.parametrize("name", ["xlogy", "xlog1py"])
def test_binary_xlog(name):
    # (xlogy's gradient at input == 0 differs: Ember's is 0, PyTorch's log(other); xlogy is tested off 0)
    a = np.array([[0.0 if name == "xlog1py" else 0.6, 1.5, -2.0, 0.3]], dtype=np.float32)
    b = np.array([[0.7], [2.0], [0.0]], dtype=np.float32)
    if name == "xlogy":
        b = np.abs(b) + 0.1
    ae, at = pair(a, requires_grad=True)
    be, bt = pair(b, requires_grad=True)
    ye, yt = getattr(ember.special, name)(ae, be), getattr(torch.special, name)(at, bt)
    assert_close(ye, yt)
    ye.sum().backward()
    yt.sum().backward()
    assert_close(ae.grad, at.grad)
    assert_close(be.grad, bt.grad, 1e-5, 1e-5)
    if name == "xlog1py":
        assert type(ye.grad_fn).__name__ == yt.grad_fn.name()
        x = ember.tensor(RNG.random(4) + 0.1, requires_grad=True)
        y = ember.tensor(RNG.random(4) + 0.1, requires_grad=True)
        assert gradcheck(ember.special.xlog1py, (x, y))


@pytest.mark.parametrize("name", ["zeta", "gammainc", "gammaincc"])
def test_binary_forward_only(name):
    a = np.array([1.5, 2.0, 3.3, 5.0])
    b = np.array([0.5, 1.0, 2.5, 4.0])
    (ae, at), (be, bt) = pair(a), pair(b)
    assert_close(getattr(ember.special, name)(ae, be), getattr(torch.special, name)(at, bt), 1e-10, 1e-12)


def test_reductions_and_softmax():
    arr = RNG.standard_normal((3, 5)).astype(np.float32)
    e, t = pair(arr, requires_grad=True)
    ye = ember.special.softmax(e, 1) + ember.special.log_softmax(e, 0, dtype=ember.float64).float()
    yt = torch.special.softmax(t, 1) + torch.special.log_softmax(t, 0, dtype=torch.float64).float()
    ye = ye.sum(0) + ember.special.logsumexp(e, 0)
    yt = yt.sum(0) + torch.special.logsumexp(t, 0)
    assert_close(ye, yt)
    ye.pow(2).sum().backward()
    yt.pow(2).sum().backward()
    assert_close(e.grad, t.grad, 1e-4, 1e-5)


def test_misc_signatures():
    e, t = pair(X + 4)
    assert_close(ember.special.multigammaln(e, 3), torch.special.multigammaln(t, 3), 1e-10, 1e-12)
    assert_close(ember.special.polygamma(2, e), torch.special.polygamma(2, t), 1e-10, 1e-12)
    assert_close(ember.special.round(e * 1.37, decimals=1), torch.special.round(t * 1.37, decimals=1))
    p, pt = pair(PROB)
    assert_close(ember.special.logit(p, eps=0.1), torch.special.logit(pt, eps=0.1), 1e-10, 1e-12)
    # integers are promoted to the default float dtype
    ie, it = pair(np.arange(1, 5))
    for name in ("entr", "i0", "ndtr", "erfcx", "bessel_j0"):
        assert_close(getattr(ember.special, name)(ie), getattr(torch.special, name)(it))


def test_namespace():
    torch_names = {n for n in dir(torch.special) if not n.startswith("_")}
    assert set(ember.special.__all__) <= torch_names
    for n in ember.special.__all__:
        assert callable(getattr(ember.special, n))
