"""gumbel_softmax, the ``*_with_indices`` pooling forms and the deprecated nn.init aliases eye/dirac, vs PyTorch."""
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as EF
from ember.nn.functional import gumbel as _gumbel
from tests.conftest import assert_close, pair


# --------------------------------------------------------------------------- gumbel_softmax
def _fix_noise(monkeypatch, noise: np.ndarray) -> None:
    """Both libraries draw the given Exp(1) noise: Ember through its one noise function, PyTorch through
    ``Tensor.exponential_`` (which its gumbel_softmax calls on an empty tensor shaped like the logits)."""
    monkeypatch.setattr(_gumbel, "_standard_exponential", lambda logits: noise.astype(logits._data.dtype))

    def exponential_(self, lambd=1.0, *, generator=None):
        with torch.no_grad():
            self.copy_(torch.from_numpy(noise))
        return self

    monkeypatch.setattr(torch.Tensor, "exponential_", exponential_)


@pytest.mark.parametrize("hard", [False, True])
@pytest.mark.parametrize("tau,dim,shape", [(1.0, -1, (4, 6)), (0.5, 1, (2, 5, 3)), (2.0, 0, (5, 3))])
def test_gumbel_softmax_matches_torch_given_the_same_noise(monkeypatch, hard, tau, dim, shape):
    rng = np.random.default_rng(0)
    logits = rng.standard_normal(shape).astype(np.float32)
    noise = rng.standard_exponential(shape).astype(np.float32)
    w = rng.standard_normal(shape).astype(np.float32)
    _fix_noise(monkeypatch, noise)
    e, t = pair(logits, requires_grad=True)
    ye = EF.gumbel_softmax(e, tau=tau, hard=hard, dim=dim)
    yt = TF.gumbel_softmax(t, tau=tau, hard=hard, dim=dim)
    assert_close(ye, yt)
    assert type(ye.grad_fn).__name__ == type(yt.grad_fn).__name__
    (ye * ember.tensor(w)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    assert_close(e.grad, t.grad)
    if hard:   # the forward value is one-hot along dim
        one_hot = (to := ye.detach().numpy()) == to.max(axis=dim, keepdims=True)
        np.testing.assert_array_equal(to, one_hot.astype(np.float32))


def test_gumbel_softmax_gradcheck_soft(monkeypatch):
    rng = np.random.default_rng(1)
    noise = rng.standard_exponential((3, 4))
    monkeypatch.setattr(_gumbel, "_standard_exponential", lambda logits: noise.astype(logits._data.dtype))
    x = ember.tensor(rng.standard_normal((3, 4)), dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda z: EF.gumbel_softmax(z, tau=0.7), (x,))


def test_gumbel_softmax_samples_follow_softmax_of_logits():
    ember.manual_seed(0)
    logits = np.log(np.array([0.1, 0.2, 0.3, 0.4], dtype=np.float32))
    n = 20000
    x = ember.tensor(np.broadcast_to(logits, (n, 4)).copy())
    y = EF.gumbel_softmax(x, hard=True).numpy()
    assert np.all(y.sum(-1) == 1)
    freq = y.mean(0)
    p = torch.softmax(torch.tensor(logits), -1).numpy()
    sigma = np.sqrt(p * (1 - p) / n)
    assert np.all(np.abs(freq - p) < 5 * sigma), (freq, p)
    # soft samples: the mean of y_soft over the draws is not p, but each row sums to one and draws differ
    ys = EF.gumbel_softmax(x[:100], tau=1.0).numpy()
    np.testing.assert_allclose(ys.sum(-1), 1, rtol=1e-5)
    assert len(np.unique(ys[:, 0])) > 90


def test_gumbel_softmax_eps_warns_like_torch():
    x = np.zeros((2, 3), np.float32)
    e, t = pair(x)
    with pytest.warns(UserWarning) as we:
        EF.gumbel_softmax(e, eps=1e-5)
    with pytest.warns(UserWarning) as wt:
        TF.gumbel_softmax(t, eps=1e-5)
    assert str(we[0].message) == str(wt[0].message)


# --------------------------------------------------------------------------- *_with_indices
@pytest.mark.parametrize("return_indices", [False, True])
def test_adaptive_max_pool3d_with_indices(return_indices):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 5, 6, 7)).astype(np.float32)
    e, t = pair(x, requires_grad=True)
    oe = EF.adaptive_max_pool3d_with_indices(e, (2, 3, None), return_indices)
    ot = TF.adaptive_max_pool3d_with_indices(t, (2, 3, None), return_indices)
    assert isinstance(oe, tuple) and len(oe) == 2
    assert_close(oe[0], ot[0])
    np.testing.assert_array_equal(oe[1].numpy(), ot[1].numpy())
    assert oe[1].dtype == ember.int64
    g = rng.standard_normal(tuple(ot[0].shape)).astype(np.float32)
    oe[0].backward(ember.tensor(g))
    ot[0].backward(torch.tensor(g))
    assert_close(e.grad, t.grad)
    assert type(oe[0].grad_fn).__name__ == type(ot[0].grad_fn).__name__


@pytest.mark.parametrize("name,shape,args", [
    ("adaptive_max_pool1d_with_indices", (2, 3, 7), (3,)),
    ("adaptive_max_pool2d_with_indices", (2, 3, 7, 5), ((3, 2),)),
    ("max_pool1d_with_indices", (2, 3, 7), (2,)),
    ("max_pool2d_with_indices", (1, 2, 6, 6), (3, 2, 1)),
    ("max_pool3d_with_indices", (1, 2, 4, 4, 4), (2,)),
])
def test_with_indices_forms_always_return_a_pair(name, shape, args):
    x = np.random.default_rng(3).standard_normal(shape).astype(np.float32)
    e, t = pair(x)
    oe, ot = getattr(EF, name)(e, *args), getattr(TF, name)(t, *args)
    assert isinstance(oe, tuple) and isinstance(ot, tuple)
    assert_close(oe[0], ot[0])
    np.testing.assert_array_equal(oe[1].numpy(), ot[1].numpy())


# --------------------------------------------------------------------------- nn.init deprecated aliases
@pytest.mark.parametrize("name,shape,kwargs", [("eye", (3, 5), {}), ("dirac", (4, 2, 3, 3), {"groups": 2})])
def test_init_deprecated_aliases(name, shape, kwargs):
    e, t = pair(np.full(shape, 7.0, np.float32))
    with warnings.catch_warnings(record=True) as we:
        warnings.simplefilter("always")
        re = getattr(ember.nn.init, name)(e, **kwargs)
    with warnings.catch_warnings(record=True) as wt:
        warnings.simplefilter("always")
        rt = getattr(torch.nn.init, name)(t, **kwargs)
    assert [w.category for w in we] == [w.category for w in wt] == [FutureWarning]
    assert str(we[0].message) == str(wt[0].message)
    assert we[0].filename == __file__   # stacklevel points at the caller
    assert re is e and rt is t
    assert_close(e, t)


def test_init_all_matches_torch():
    assert ember.nn.init.__all__ == torch.nn.init.__all__
