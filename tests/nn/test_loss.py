"""Losses against PyTorch: values, input (and target) gradients, grad_fn names, every reduction,
weights / ignore_index / label smoothing / probability targets / K-dim inputs, numerical
stability, errors, gradcheck of the primitives and the loss modules."""
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as F
from conftest import assert_close

RNG = np.random.default_rng(0)
N, C = 5, 4
X = RNG.standard_normal((N, C)).astype(np.float32)
Y = RNG.standard_normal((N, C)).astype(np.float32)
P = RNG.uniform(0.02, 0.98, (N, C)).astype(np.float32)
TB = RNG.integers(0, 2, (N, C)).astype(np.float32)
SGN = np.sign(RNG.standard_normal((N, C))).astype(np.float32)
T = np.array([0, 3, 1, 2, 3])
W = np.abs(RNG.standard_normal(C)).astype(np.float32) + 0.1
X4 = RNG.standard_normal((2, 3, 4, 5)).astype(np.float32)
T4 = RNG.integers(0, 3, (2, 4, 5))
PM1 = np.array([1, -1, 1, -1, 1], dtype=np.float32)
MLT = np.array([[3, 0, -1, 1], [1, -1, 0, 0], [0, 1, 2, 3], [-1, 0, 0, 0], [2, 2, -1, 0]])


def _same_grad_fn(name):
    # Ember fuses log_softmax + nll (one NllLossBackward0 node) even where torch composes the
    # label-smoothing sum (AddBackward0); plain-python clamp is ClampBackward1 (torch: ClampMinBackward0)
    return name not in ("ce_smooth", "ce_smooth_w", "ce4d_smooth", "margin_ranking", "triplet", "ce_prob")


CASES = {
    "l1": (lambda m, r: m.l1_loss, [X, Y], [1, 1], {}),
    "mse": (lambda m, r: m.mse_loss, [X, Y], [1, 1], {}),
    "huber": (lambda m, r: m.huber_loss, [X * 2, Y], [1, 1], {"delta": 0.7}),
    "smooth_l1": (lambda m, r: m.smooth_l1_loss, [X * 2, Y], [1, 1], {"beta": 0.5}),
    "smooth_l1_b0": (lambda m, r: m.smooth_l1_loss, [X, Y], [1, 1], {"beta": 0.0}),
    "soft_margin": (lambda m, r: m.soft_margin_loss, [X, SGN], [1, 0], {}),
    "bce": (lambda m, r: m.binary_cross_entropy, [P, TB], [1, 0], {}),
    "bce_w": (lambda m, r: m.binary_cross_entropy, [P, P[::-1].copy(), W], [1, 1, 0], {}),
    "bce_logits": (lambda m, r: m.binary_cross_entropy_with_logits, [X * 3, TB], [1, 0], {}),
    "bce_logits_pw": (lambda m, r: lambda a, b, w, pw, **k: m.binary_cross_entropy_with_logits(a, b, w, pos_weight=pw,
                                                                                                 **k),
                      [X, P, W, W[::-1].copy()], [1, 1, 0, 0], {}),
    "ce": (lambda m, r: m.cross_entropy, [X, T], [1, 0], {}),
    "ce_w_ignore": (lambda m, r: m.cross_entropy, [X, T, W], [1, 0, 0], {"ignore_index": 3}),
    "ce_smooth": (lambda m, r: m.cross_entropy, [X, T], [1, 0], {"label_smoothing": 0.2}),
    "ce_smooth_w": (lambda m, r: m.cross_entropy, [X, T, W], [1, 0, 0], {"label_smoothing": 0.1, "ignore_index": 0}),
    "ce4d_smooth": (lambda m, r: m.cross_entropy, [X4, T4], [1, 0], {"label_smoothing": 0.1}),
    "ce3d": (lambda m, r: m.cross_entropy, [X4[:, :, 0].copy(), T4[:, 0].copy()], [1, 0], {}),
    "ce_prob": (lambda m, r: m.cross_entropy, [X, P], [1, 0], {"label_smoothing": 0.1}),
    "nll": (lambda m, r: m.nll_loss, [X, T, W], [1, 0, 0], {"ignore_index": 1}),
    "nll4d": (lambda m, r: m.nll_loss, [X4, T4], [1, 0], {}),
    "kl": (lambda m, r: m.kl_div, [X, P], [1, 1], {}),
    "kl_log_target": (lambda m, r: m.kl_div, [X, Y], [1, 1], {"log_target": True}),
    "poisson": (lambda m, r: m.poisson_nll_loss, [X, np.abs(Y) * 3], [1, 0], {"full": True}),
    "poisson_lin": (lambda m, r: m.poisson_nll_loss, [np.abs(X), np.abs(Y) * 3], [1, 0], {"log_input": False}),
    "gaussian": (lambda m, r: m.gaussian_nll_loss, [X, Y, P], [1, 1, 1], {"full": True}),
    "gaussian_var1d": (lambda m, r: m.gaussian_nll_loss, [X, Y, P[:, 0].copy()], [1, 1, 1], {}),
    "cosine_embedding": (lambda m, r: m.cosine_embedding_loss, [X, Y, PM1], [1, 1, 0], {"margin": 0.1}),
    "margin_ranking": (lambda m, r: m.margin_ranking_loss, [X[:, 0].copy(), Y[:, 0].copy(), PM1], [1, 1, 0],
                       {"margin": 0.1}),
    "hinge_embedding": (lambda m, r: m.hinge_embedding_loss, [X, SGN], [1, 0], {}),
    "triplet": (lambda m, r: m.triplet_margin_loss, [X, Y, P], [1, 1, 1], {"swap": True}),
    "multilabel_margin": (lambda m, r: m.multilabel_margin_loss, [X, MLT], [1, 0], {}),
    "multilabel_soft_margin": (lambda m, r: m.multilabel_soft_margin_loss, [X, TB, W], [1, 0, 0], {}),
    "multi_margin_p1": (lambda m, r: m.multi_margin_loss, [X, T], [1, 0], {"margin": 0.8}),
    "multi_margin_p2": (lambda m, r: lambda a, b, w, **k: m.multi_margin_loss(a, b, 2, 0.8, w, **k), [X, T, W],
                        [1, 0, 0], {}),
}


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_loss_vs_torch(name, reduction):
    get, arrays, grads, kw = CASES[name]
    ef, tf = get(F, reduction), get(TF, reduction)
    E = [ember.tensor(a, requires_grad=bool(g)) for a, g in zip(arrays, grads)]
    Tt = [torch.tensor(a, requires_grad=bool(g)) for a, g in zip(arrays, grads)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ey, ty = ef(*E, reduction=reduction, **kw), tf(*Tt, reduction=reduction, **kw)
    if _same_grad_fn(name):
        assert type(ey.grad_fn).__name__ == type(ty.grad_fn).__name__
    g = RNG.standard_normal(tuple(ty.shape)).astype(np.float32)
    ey.backward(ember.tensor(g))
    ty.backward(torch.tensor(g))
    # sums of N*C float32 terms: relative 1e-5 plus a small absolute slack
    assert_close(ey, ty, rtol=1e-5, atol=1e-5)
    for e, t, gr in zip(E, Tt, grads):
        if gr:
            assert_close(e.grad, t.grad, rtol=1e-5, atol=1e-6)


def test_stability_extreme_logits():
    x = np.array([[1e4, 0.0, -1e4], [-1e4, 1e4, 0.0]], dtype=np.float32)
    t = np.array([2, 1])
    for smoothing in (0.0, 0.3):
        ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        ey = F.cross_entropy(ex, ember.tensor(t), label_smoothing=smoothing)
        ty = TF.cross_entropy(tx, torch.tensor(t), label_smoothing=smoothing)
        ey.backward()
        ty.backward()
        assert np.isfinite(ey.item()) and np.isfinite(ex.grad.numpy()).all()
        assert_close(ey, ty)
        assert_close(ex.grad, tx.grad)
    z = np.array([100.0, -100.0, 50.0], dtype=np.float32)
    tz = np.array([0.0, 1.0, 0.5], dtype=np.float32)
    ex, tx = ember.tensor(z, requires_grad=True), torch.tensor(z, requires_grad=True)
    ey = F.binary_cross_entropy_with_logits(ex, ember.tensor(tz))
    ty = TF.binary_cross_entropy_with_logits(tx, torch.tensor(tz))
    ey.backward()
    ty.backward()
    assert np.isfinite(ey.item())
    assert_close(ey, ty)
    assert_close(ex.grad, tx.grad)
    # BCE on exact 0/1 probabilities: logs clamped at -100 like torch
    p = np.array([0.0, 1.0, 0.5], dtype=np.float32)
    assert_close(F.binary_cross_entropy(ember.tensor(p), ember.tensor(tz)),
                 TF.binary_cross_entropy(torch.tensor(p), torch.tensor(tz)))


def test_ce_all_ignored_and_unbatched():
    x = X[0]
    for t in (1, 3):
        assert_close(F.cross_entropy(ember.tensor(x), ember.tensor(t)), TF.cross_entropy(torch.tensor(x), torch.tensor(t)))
        assert_close(F.cross_entropy(ember.tensor(x), ember.tensor(t), reduction="none"),
                     TF.cross_entropy(torch.tensor(x), torch.tensor(t), reduction="none"))
    t = np.full(N, -100)
    e = F.cross_entropy(ember.tensor(X), ember.tensor(t)).item()
    assert np.isnan(e) and np.isnan(TF.cross_entropy(torch.tensor(X), torch.tensor(t)).item())


def _raises_like(fe, ft):
    with pytest.raises(Exception) as te:
        ft()
    with pytest.raises(te.type):
        fe()


def test_errors_like_torch():
    x, tx = ember.tensor(X), torch.tensor(X)
    _raises_like(lambda: F.cross_entropy(x, ember.tensor([0, 1, 5, 1, 1])),
                 lambda: TF.cross_entropy(tx, torch.tensor([0, 1, 5, 1, 1])))
    with pytest.raises(IndexError, match="Target 5 is out of bounds."):
        F.cross_entropy(x, ember.tensor([0, 1, 5, 1, 1]))
    with pytest.raises(IndexError, match="Target -3 is out of bounds."):
        F.nll_loss(x, ember.tensor([0, 1, -3, 1, 1]))
    _raises_like(lambda: F.nll_loss(x, ember.tensor([0, 1, 2])), lambda: TF.nll_loss(tx, torch.tensor([0, 1, 2])))
    _raises_like(lambda: F.cross_entropy(x, ember.tensor(P[:, :2].copy())),
                 lambda: TF.cross_entropy(tx, torch.tensor(P[:, :2].copy())))
    _raises_like(lambda: F.binary_cross_entropy(ember.tensor(P[:, 0].copy()), ember.tensor(P[:, :1].copy())),
                 lambda: TF.binary_cross_entropy(torch.tensor(P[:, 0].copy()), torch.tensor(P[:, :1].copy())))
    _raises_like(lambda: F.binary_cross_entropy_with_logits(x[:, 0], ember.tensor(P[:, :1].copy())),
                 lambda: TF.binary_cross_entropy_with_logits(tx[:, 0], torch.tensor(P[:, :1].copy())))
    _raises_like(lambda: F.binary_cross_entropy(ember.tensor(P + 1), ember.tensor(P)),
                 lambda: TF.binary_cross_entropy(torch.tensor(P + 1), torch.tensor(P)))
    _raises_like(lambda: F.mse_loss(x, x, reduction="avg"), lambda: TF.mse_loss(tx, tx, reduction="avg"))
    _raises_like(lambda: F.cross_entropy(x, ember.tensor(T), label_smoothing=1.5),
                 lambda: TF.cross_entropy(tx, torch.tensor(T), label_smoothing=1.5))


def test_gradcheck_primitives():
    x = ember.tensor(RNG.standard_normal((3, 4)), requires_grad=True)
    y = ember.tensor(RNG.standard_normal((3, 4)), requires_grad=True)
    t = ember.tensor(np.array([0, 3, 1]))
    w = ember.tensor(np.abs(RNG.standard_normal(4)) + 0.1)
    p = ember.tensor(RNG.uniform(0.1, 0.9, (3, 4)), requires_grad=True)
    checks = [
        (lambda a, b: F.mse_loss(a, b), (x, y)),
        (lambda a, b: F.huber_loss(a, b, delta=0.5, reduction="sum"), (x, y)),
        (lambda a, b: F.smooth_l1_loss(a, b, beta=0.5, reduction="none"), (x, y)),
        (lambda a, b: F.binary_cross_entropy_with_logits(a, b.sigmoid(), pos_weight=w), (x, y)),
        (lambda a, b: F.binary_cross_entropy(a, b.sigmoid()), (p, y)),
        (lambda a: F.cross_entropy(a, t, weight=w, label_smoothing=0.2), (x,)),
        (lambda a: F.cross_entropy(a, t, reduction="none"), (x,)),
        (lambda a: F.nll_loss(a, t, weight=w), (x,)),
        (lambda a: F.multi_margin_loss(a, t, p=2), (x,)),
        (lambda a, b: F.soft_margin_loss(a, b.sign()), (x, y)),
    ]
    for fn, inputs in checks:
        assert ember.autograd.gradcheck(fn, inputs)


def test_cross_entropy_double_backward():
    x = RNG.standard_normal((4, 3))
    t = np.array([0, 2, 1, 2])
    ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (eg,) = ember.autograd.grad(F.cross_entropy(ex, ember.tensor(t), label_smoothing=0.1), [ex], create_graph=True)
    (tg,) = torch.autograd.grad(TF.cross_entropy(tx, torch.tensor(t), label_smoothing=0.1), [tx], create_graph=True)
    (eg ** 2).sum().backward()
    (tg ** 2).sum().backward()
    assert_close(ex.grad, tx.grad, rtol=1e-8, atol=1e-10)


MODULES = [
    ("L1Loss", {}, [X, Y]), ("MSELoss", {"reduction": "sum"}, [X, Y]),
    ("CrossEntropyLoss", {"weight": W, "ignore_index": 2, "label_smoothing": 0.1}, [X, T]),
    ("NLLLoss", {"weight": W}, [X, T]), ("BCELoss", {"weight": W}, [P, TB]),
    ("BCEWithLogitsLoss", {"pos_weight": W}, [X, TB]), ("HuberLoss", {"delta": 0.5}, [X, Y]),
    ("SmoothL1Loss", {"beta": 0.5}, [X, Y]), ("KLDivLoss", {"reduction": "batchmean"}, [X, P]),
    ("PoissonNLLLoss", {}, [X, np.abs(Y)]), ("GaussianNLLLoss", {}, [X, Y, P]),
    ("CosineEmbeddingLoss", {"margin": 0.2}, [X, Y, PM1]),
    ("MarginRankingLoss", {"margin": 0.2}, [X[:, 0].copy(), Y[:, 0].copy(), PM1]),
    ("HingeEmbeddingLoss", {"margin": 0.5}, [X, SGN]), ("TripletMarginLoss", {"p": 1.0}, [X, Y, P]),
    ("MultiLabelMarginLoss", {}, [X, MLT]), ("MultiLabelSoftMarginLoss", {}, [X, TB]),
    ("MultiMarginLoss", {"p": 2}, [X, T]), ("SoftMarginLoss", {}, [X, SGN]),
]


@pytest.mark.parametrize("name,kw,arrays", MODULES, ids=[m[0] for m in MODULES])
def test_loss_modules(name, kw, arrays):
    ekw = {k: ember.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    tkw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    em, tm = getattr(ember.nn, name)(**ekw), getattr(torch.nn, name)(**tkw)
    assert repr(em) == repr(tm)
    assert list(em.state_dict()) == list(tm.state_dict())
    ex, tx = ember.tensor(arrays[0], requires_grad=True), torch.tensor(arrays[0], requires_grad=True)
    ey = em(ex, *[ember.tensor(a) for a in arrays[1:]])
    ty = tm(tx, *[torch.tensor(a) for a in arrays[1:]])
    ey.backward()
    ty.backward()
    assert_close(ey, ty, rtol=1e-5, atol=1e-6)
    assert_close(ex.grad, tx.grad, rtol=1e-5, atol=1e-6)
