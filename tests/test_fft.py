"""ember.fft against torch.fft: values, dtypes, gradients (real-valued losses through view_as_real),
grad_fn names, errors; plus the complex autograd it rests on (view_as_real/complex, real/imag, conj
rules of mul/div/unary ops)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import assert_close, pair, raises_like

import ember
from ember.autograd import gradcheck

RNG = np.random.default_rng(7)
REAL = RNG.standard_normal((3, 6)).astype(np.float32)
CPLX = (RNG.standard_normal((3, 6)) + 1j * RNG.standard_normal((3, 6))).astype(np.complex64)
NORMS = [None, "backward", "ortho", "forward"]


def _as_real(m, y):
    if y.is_complex():
        return m.view_as_real(y.resolve_conj() if m is torch else y)
    return y


def _check(fn, arr, rtol=1e-5, atol=1e-5, grad_rtol=1e-4, grad_atol=1e-5):
    """fn(module, x) in both libraries: values, dtype, shape, grad_fn name, and the gradient of a
    random real linear functional of the (real view of the) result."""
    xe, xt = pair(arr, requires_grad=True)
    ye, yt = fn(ember, xe), fn(torch, xt)
    assert_close(ye, yt.resolve_conj(), rtol, atol)
    assert type(ye.grad_fn).__name__ == yt.grad_fn.name()
    le, lt = _as_real(ember, ye), _as_real(torch, yt)
    w = RNG.standard_normal(tuple(lt.shape)).astype(np.float32 if lt.dtype == torch.float32 else np.float64)
    (le * ember.tensor(w)).sum().backward()
    (lt * torch.tensor(w)).sum().backward()
    assert_close(xe.grad, xt.grad.resolve_conj(), grad_rtol, grad_atol)


ONE_D = [
    ("fft", REAL, {}), ("fft", CPLX, {}), ("fft", CPLX, {"n": 8}), ("fft", REAL, {"n": 4, "dim": 0}),
    ("ifft", REAL, {}), ("ifft", CPLX, {"n": 5}),
    ("rfft", REAL, {}), ("rfft", REAL, {"n": 5}), ("rfft", REAL, {"n": 9, "dim": 0}),
    ("irfft", CPLX, {}), ("irfft", CPLX, {"n": 9}), ("irfft", CPLX, {"n": 4}), ("irfft", CPLX, {"dim": 0}),
    ("irfft", REAL, {"n": 7}),
    ("hfft", CPLX, {}), ("hfft", CPLX, {"n": 7}),
    ("ihfft", REAL, {}), ("ihfft", REAL, {"n": 5, "dim": 0}),
]


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("name,arr,kw", ONE_D)
def test_one_dimensional(name, arr, kw, norm):
    _check(lambda m, x: getattr(m.fft, name)(x, norm=norm, **kw), arr)


N_D = [
    ("fft2", CPLX, {}), ("fft2", REAL, {"s": (4, 8)}), ("ifft2", CPLX, {"s": (2, 3)}),
    ("fftn", CPLX, {"dim": 0}), ("fftn", REAL, {"s": (-1, 7)}), ("ifftn", CPLX, {"dim": (1, 0)}),
    ("rfft2", REAL, {}), ("rfftn", REAL, {"s": (4, 5)}), ("rfftn", REAL, {"dim": (1, 0)}),
    ("irfft2", CPLX, {}), ("irfftn", CPLX, {"s": (2, 5)}), ("irfftn", CPLX, {"s": (4, -1)}),
    ("irfftn", CPLX, {"dim": (1, 0)}),
    ("hfft2", CPLX, {}), ("hfftn", CPLX, {"s": (3, 4)}), ("ihfft2", REAL, {}), ("ihfftn", REAL, {"dim": 1}),
]


@pytest.mark.parametrize("norm", ["backward", "ortho", "forward"])
@pytest.mark.parametrize("name,arr,kw", N_D)
def test_n_dimensional(name, arr, kw, norm):
    fn = lambda m, x: getattr(m.fft, name)(x, norm=norm, **kw)  # noqa: E731
    if name.startswith("ihfft"):  # PyTorch's graph ends in a C2C node here, Ember's in the conjugate
        xe, xt = pair(arr, requires_grad=True)
        ye, yt = fn(ember, xe), fn(torch, xt)
        assert_close(ye, yt.resolve_conj())
        ember.view_as_real(ye).pow(2).sum().backward()
        torch.view_as_real(yt.resolve_conj()).pow(2).sum().backward()
        assert_close(xe.grad, xt.grad, 1e-4, 1e-5)
    else:
        _check(fn, arr)


def test_batched_3d_and_abs_loss():
    arr = RNG.standard_normal((2, 3, 4, 5)).astype(np.float32)
    xe, xt = pair(arr, requires_grad=True)
    ember.fft.fftn(xe, dim=(1, 2, 3)).abs().sum().backward()
    torch.fft.fftn(xt, dim=(1, 2, 3)).abs().sum().backward()
    assert_close(xe.grad, xt.grad, 1e-4, 1e-5)


@pytest.mark.parametrize("np_dtype,name", [(np.float32, "fft"), (np.float64, "fft"), (np.complex128, "ifft"),
                                           (np.int64, "fft"), (np.int32, "rfft"), (np.bool_, "fft"),
                                           (np.float64, "irfft"), (np.int64, "hfft"), (np.float64, "ihfft")])
def test_dtypes(np_dtype, name):
    arr = (np.arange(6) % 3).astype(np_dtype)
    e, t = pair(arr)
    assert_close(getattr(ember.fft, name)(e), getattr(torch.fft, name)(t).resolve_conj(), 1e-6, 1e-6)


def test_double_precision_matches_tightly():
    arr = RNG.standard_normal((4, 6))
    e, t = pair(arr)
    assert_close(ember.fft.rfft2(e), torch.fft.rfft2(t), 1e-12, 1e-12)
    assert_close(ember.fft.irfftn(ember.fft.rfftn(e), s=(4, 6)), t, 1e-12, 1e-12)


@pytest.mark.parametrize("name,kw", [("fft", {}), ("ifft", {"norm": "ortho"}), ("rfft", {"n": 5}),
                                     ("irfft", {"n": 7}), ("hfft", {"norm": "forward"}), ("ihfft", {}),
                                     ("fft2", {}), ("rfftn", {}), ("irfftn", {"s": (3, 5)}), ("hfftn", {}),
                                     ("ihfftn", {})])
def test_gradcheck(name, kw):
    """float64 gradcheck; complex inputs enter as view_as_complex of a real leaf, outputs leave as view_as_real."""
    complex_in = name in ("irfft", "hfft", "irfftn", "hfftn") or name in ("fft", "ifft", "fft2")
    shape = (3, 4, 2) if complex_in else (3, 4)
    x = ember.tensor(RNG.standard_normal(shape), requires_grad=True)

    def f(t):
        z = ember.view_as_complex(t) if complex_in else t
        y = getattr(ember.fft, name)(z, **kw)
        return ember.view_as_real(y) if y.is_complex() else y
    assert gradcheck(f, (x,))


def test_second_order_gradient():
    """create_graph=True: the backward runs through the FFT nodes themselves."""
    arr = RNG.standard_normal(6)
    res = []
    for m in (ember, torch):
        x = m.tensor(arr, requires_grad=True)
        y = m.fft.rfft(x).abs().pow(2).sum() + m.fft.irfft(m.fft.fft(x * x), n=6).sum()
        (g,) = m.autograd.grad(y, x, create_graph=True)
        (gg,) = m.autograd.grad((g * g).sum(), x)
        res.append((g, gg))
    assert_close(res[0][0], res[1][0], 1e-10, 1e-10)
    assert_close(res[0][1], res[1][1], 1e-10, 1e-10)


def test_no_graph_under_no_grad():
    x = ember.tensor(REAL, requires_grad=True)
    with ember.no_grad():
        y = ember.fft.rfft(x)
    assert y.grad_fn is None and not y.requires_grad


@pytest.mark.parametrize("call", [
    lambda m: m.fft.fft(m.ones(4), norm="foo"),
    lambda m: m.fft.fft(m.ones(4), dim=1),
    lambda m: m.fft.fft(m.ones(4), n=0),
    lambda m: m.fft.rfft(m.ones(4, dtype=m.complex64)),
    lambda m: m.fft.ihfft(m.ones(4, dtype=m.complex128)),
    lambda m: m.fft.fft(m.ones(4, dtype=m.float16)),
    lambda m: m.fft.fftn(m.ones(2, 3), s=(2,), dim=(0, 1)),
    lambda m: m.fft.fftn(m.ones(2, 3), dim=(1, -1)),
    lambda m: m.fft.fftn(m.ones(2, 3), s=(2, 3, 4)),
    lambda m: m.fft.fftn(m.ones(2, 3), s=(-2, 3)),
    lambda m: m.fft.irfft(m.ones(1, dtype=m.complex64)),
    lambda m: m.fft.irfft(m.ones(4, dtype=m.complex64), n=0),
    lambda m: m.fft.rfftn(m.ones(4), dim=()),
    lambda m: m.fft.fft2(m.ones(4)),
    lambda m: m.fft.fft(m.tensor(1.0)),
    lambda m: m.fft.fftfreq(4, dtype=m.int64),
])
def test_errors(call):
    raises_like(lambda: call(ember), lambda: call(torch))


@pytest.mark.parametrize("n,d,dtype", [(5, 0.3, None), (6, 1.0, None), (1, 2.0, "float64"), (0, 1.0, None),
                                       (7, 0.1, "float64")])
def test_fftfreq(n, d, dtype):
    kw = {} if dtype is None else {"dtype": getattr(ember, dtype)}
    kwt = {} if dtype is None else {"dtype": getattr(torch, dtype)}
    assert_close(ember.fft.fftfreq(n, d, **kw), torch.fft.fftfreq(n, d, **kwt), 1e-7, 0)
    assert_close(ember.fft.rfftfreq(n, d, **kw), torch.fft.rfftfreq(n, d, **kwt), 1e-7, 0)
    assert ember.fft.fftfreq(n, d, requires_grad=True).requires_grad


@pytest.mark.parametrize("dim", [None, 0, 1, (0, 1), (-1,)])
@pytest.mark.parametrize("shape", [(4, 5), (3, 6)])
def test_shifts(dim, shape):
    arr = RNG.standard_normal(shape).astype(np.float32)
    _check(lambda m, x: m.fft.fftshift(x, dim=dim), arr)
    _check(lambda m, x: m.fft.ifftshift(x, dim=dim), arr)
    e, _ = pair(arr)
    assert_close(ember.fft.ifftshift(ember.fft.fftshift(e, dim), dim), torch.tensor(arr))


def test_namespace_after_import():
    import ember as e2
    assert e2.fft.fft is ember.fft.fft
    assert set(ember.fft.__all__) <= {n for n in dir(torch.fft) if not n.startswith("_")}


# --------------------------------------------------------------------------- complex autograd
def test_view_as_real_and_complex():
    arr = RNG.standard_normal((3, 4, 2)).astype(np.float32)
    xe, xt = pair(arr, requires_grad=True)
    ze, zt = ember.view_as_complex(xe), torch.view_as_complex(xt)
    assert_close(ze, zt)
    assert type(ze.grad_fn).__name__ == zt.grad_fn.name() == "ViewAsComplexBackward0"
    re, rt = ember.view_as_real(ze * ze), torch.view_as_real(zt * zt)
    assert type(re.grad_fn).__name__ == rt.grad_fn.name() == "ViewAsRealBackward0"
    (re * re).sum().backward()
    (rt * rt).sum().backward()
    assert_close(xe.grad, xt.grad, 1e-4, 1e-5)
    # views: they share memory with their input
    c = ember.tensor(np.ones(3, np.complex64))
    ember.view_as_real(c)[1, 1] = 5.0
    assert c[1].item() == 1 + 5j


def test_view_errors():
    raises_like(lambda: ember.view_as_real(ember.ones(3)), lambda: torch.view_as_real(torch.ones(3)))
    raises_like(lambda: ember.view_as_complex(ember.ones(3, 3)), lambda: torch.view_as_complex(torch.ones(3, 3)))
    raises_like(lambda: ember.view_as_complex(ember.ones(2, 4).t()), lambda: torch.view_as_complex(torch.ones(2, 4).t()))


@pytest.mark.parametrize("op", ["mul", "div", "rdiv", "mulc", "divc", "exp", "sin", "log", "reciprocal",
                                "abs", "real", "imag", "sq", "sqrt", "tanh"])
def test_complex_gradients(op):
    fns = {
        "mul": lambda m, z, w: z * w, "div": lambda m, z, w: z / w, "rdiv": lambda m, z, w: (2 - 1j) / z,
        "mulc": lambda m, z, w: z * (1 + 2j), "divc": lambda m, z, w: z / (2 - 1j), "exp": lambda m, z, w: z.exp(),
        "sin": lambda m, z, w: z.sin(), "log": lambda m, z, w: z.log(), "reciprocal": lambda m, z, w: z.reciprocal(),
        "abs": lambda m, z, w: z.abs(), "real": lambda m, z, w: z.real * w.imag, "imag": lambda m, z, w: z.imag,
        "sq": lambda m, z, w: z * z, "sqrt": lambda m, z, w: z.sqrt(), "tanh": lambda m, z, w: (z * 0.3).tanh(),
    }
    a = RNG.standard_normal((4, 2)).astype(np.float32)
    b = RNG.standard_normal((4, 2)).astype(np.float32)
    grads = []
    for m in (ember, torch):
        x = m.tensor(a, requires_grad=True)
        y = m.tensor(b, requires_grad=True)
        r = fns[op](m, m.view_as_complex(x), m.view_as_complex(y))
        r = m.view_as_real(r) if r.is_complex() else r
        (r * r).sum().backward()
        grads.append((x.grad, y.grad))
    assert_close(grads[0][0], grads[1][0], 1e-4, 1e-5)
    assert_close(grads[0][1], grads[1][1], 1e-4, 1e-5)
    # real / imag are views through view_as_real, as in PyTorch
    z = ember.view_as_complex(ember.tensor(a, requires_grad=True))
    assert type(z.real.grad_fn).__name__ == "SelectBackward0"
