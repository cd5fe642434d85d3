"""F.ctc_loss / nn.CTCLoss against PyTorch: losses and gradients w.r.t. log_probs for padded and
concatenated targets, every reduction, zero_infinity, unbatched input, lengths as tensors or tuples,
repeats and impossible alignments, gradcheck through log_softmax, and the errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as F
from ember.autograd import gradcheck
from tests.conftest import assert_close


def _problem(seed=0, T=12, N=4, C=6, S=5, dtype=np.float32):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((T, N, C))
    lp = torch.tensor(x).log_softmax(2).numpy().astype(dtype)
    tg = rng.integers(1, C, (N, S))
    tg[0, :3] = [2, 2, 3]  # a repeat: the alignment must put a blank between the two 2s
    il = np.array([T, T - 2, T - 3, T][:N])
    tl = np.array([S, 3, 0, 4][:N])
    return rng, lp, tg, il, tl


def _both(lp, tg, il, tl, as_tensor=True, **kw):
    e = ember.tensor(lp.copy(), requires_grad=True)
    t = torch.tensor(lp.copy(), requires_grad=True)
    if as_tensor:
        eargs = (ember.tensor(tg), ember.tensor(il), ember.tensor(tl))
        targs = (torch.tensor(tg), torch.tensor(il), torch.tensor(tl))
    else:
        eargs = (ember.tensor(tg), tuple(int(v) for v in il), tuple(int(v) for v in tl))
        targs = (torch.tensor(tg), tuple(int(v) for v in il), tuple(int(v) for v in tl))
    return e, t, F.ctc_loss(e, *eargs, **kw), TF.ctc_loss(t, *targs, **kw)


@pytest.mark.parametrize("zero_infinity", [False, True])
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_padded_targets_match_torch(reduction, zero_infinity):
    rng, lp, tg, il, tl = _problem()
    e, t, el, tl_ = _both(lp, tg, il, tl, reduction=reduction, zero_infinity=zero_infinity)
    assert el.grad_fn.name() == tl_.grad_fn.name()
    # alpha sums over T frames: float32 PyTorch vs float64 sums here differ by ~T ulp of the loss
    assert_close(el, tl_, 1e-5, 1e-5)
    w = rng.standard_normal(tl_.shape).astype(np.float32)
    (el * ember.tensor(w)).sum().backward()
    (tl_ * torch.tensor(w)).sum().backward()
    assert_close(e.grad, t.grad, 1e-5, 1e-5)


@pytest.mark.parametrize("blank", [0, 3, 5])
def test_float64_concatenated_targets_tuples_and_blank(blank):
    rng, lp, tg, il, tl = _problem(1, dtype=np.float64)
    tg = np.where(tg == blank, 0 if blank else 1, tg)  # labels avoid the blank
    flat = np.concatenate([tg[i, :tl[i]] for i in range(len(tl))])
    for as_tensor in (True, False):
        e, t, el, tl_ = _both(lp, flat, il, tl, as_tensor=as_tensor, blank=blank, reduction="none")
        assert_close(el, tl_, 1e-12, 1e-12)
        el.sum().backward()
        tl_.sum().backward()
        assert_close(e.grad, t.grad, 1e-12, 1e-12)
    # the padded form gives the same numbers as the concatenated one
    e2, t2, el2, _ = _both(lp, tg, il, tl, blank=blank, reduction="none")
    assert_close(el2, tl_, 1e-12, 1e-12)


def test_impossible_alignments_inf_nan_and_zero_infinity():
    rng, lp, tg, il, tl = _problem(2, dtype=np.float64)
    tg[1, :3] = [4, 4, 4]  # needs 5 frames
    il = np.array([12, 4, 0, 3])  # sample 1 too short; sample 2 has no frames but an empty target (loss 0)
    tl = np.array([5, 3, 0, 4])  # sample 3: 4 labels in 3 frames
    for zi in (False, True):
        e, t, el, tl_ = _both(lp, tg, il, tl, reduction="none", zero_infinity=zi)
        assert_close(el, tl_)
        assert np.isinf(el.detach().numpy()[1]) != zi
        el.sum().backward()
        tl_.sum().backward()
        np.testing.assert_array_equal(np.isnan(e.grad.numpy()), np.isnan(t.grad.numpy()))
        assert_close(e.grad, t.grad, 1e-12, 1e-12)


def test_unbatched_and_module():
    rng, lp, tg, il, tl = _problem(3, N=1)
    for red in ("none", "mean", "sum"):
        e, t = ember.tensor(lp[:, 0].copy(), requires_grad=True), torch.tensor(lp[:, 0].copy(), requires_grad=True)
        el = F.ctc_loss(e, ember.tensor(tg[0]), ember.tensor(il), ember.tensor(tl), reduction=red)
        tl_ = TF.ctc_loss(t, torch.tensor(tg[0]), torch.tensor(il), torch.tensor(tl), reduction=red)
        assert_close(el, tl_, 1e-5, 1e-5)
        el.backward()
        tl_.backward()
        assert_close(e.grad, t.grad, 1e-5, 1e-5)
    _, lp, tg, il, tl = _problem(4)
    em, tm = ember.nn.CTCLoss(blank=0, zero_infinity=True), torch.nn.CTCLoss(blank=0, zero_infinity=True)
    assert repr(em) == repr(tm)
    el = em(ember.tensor(lp), ember.tensor(tg), ember.tensor(il), ember.tensor(tl))
    assert_close(el, tm(torch.tensor(lp), torch.tensor(tg), torch.tensor(il), torch.tensor(tl)), 1e-5, 1e-5)
    assert ember.nn.CTCLoss(reduction="sum").reduction == "sum"


def test_gradcheck_through_log_softmax_and_training_step():
    rng = np.random.default_rng(5)
    x = ember.tensor(rng.standard_normal((6, 2, 4)), requires_grad=True)
    tg, il, tl = ember.tensor([[1, 2, 2], [3, 1, 0]]), ember.tensor([6, 5]), ember.tensor([3, 2])
    assert gradcheck(lambda a: F.ctc_loss(a.log_softmax(2), tg, il, tl), (x,))
    assert gradcheck(lambda a: F.ctc_loss(a.log_softmax(2), tg, il, tl, reduction="none"), (x,))
    # a logits -> log_softmax -> CTC step, compared with torch end to end
    xt = torch.tensor(x.detach().numpy(), requires_grad=True)
    le = F.ctc_loss(x.log_softmax(2), tg, il, tl)
    lt = TF.ctc_loss(xt.log_softmax(2), torch.tensor([[1, 2, 2], [3, 1, 0]]), torch.tensor([6, 5]),
                     torch.tensor([3, 2]))
    le.backward()
    lt.backward()
    assert_close(le, lt, 1e-12, 1e-12)
    assert_close(x.grad, xt.grad, 1e-12, 1e-12)


def test_double_backward_raises():
    _, lp, tg, il, tl = _problem(6)
    e = ember.tensor(lp, requires_grad=True)
    (g,) = ember.autograd.grad(F.ctc_loss(e, ember.tensor(tg), ember.tensor(il), ember.tensor(tl)), e,
                               create_graph=True)
    with pytest.raises(RuntimeError, match="_ctc_loss_backward"):
        g.sum().backward()


def _same_error(fe, ft, cls=RuntimeError):
    with pytest.raises(cls) as te:
        ft()
    with pytest.raises(cls) as ee:
        fe()
    assert str(ee.value) == str(te.value)


@pytest.mark.parametrize("change", [
    dict(il=[13, 10, 9, 12]), dict(tl=[6, 3, 0, 4]), dict(il=[12, 10, 9]), dict(tl=[5, 3, 0]),
    dict(blank=6), dict(blank=-1), dict(il=[-1, 10, 9, 12]), dict(tl=[-1, 3, 0, 4]), dict(tg="short"),
    dict(tg="flat_short"), dict(reduction="avg"), dict(il_float=True)])
def test_errors_match_torch(change):
    _, lp, tg, il, tl = _problem(7)
    il = np.array(change.get("il", il))
    tl = np.array(change.get("tl", tl))
    if change.get("tg") == "short":
        tg = tg[:3]
    elif change.get("tg") == "flat_short":
        tg = np.concatenate([tg[i, :tl[i]] for i in range(4)])[:-1]
    ilf = (lambda a: a.float()) if change.get("il_float") else (lambda a: a)
    kw = {k: change[k] for k in ("blank", "reduction") if k in change}
    cls = ValueError if "reduction" in change else RuntimeError
    _same_error(lambda: F.ctc_loss(ember.tensor(lp), ember.tensor(tg), ilf(ember.tensor(il)), ember.tensor(tl), **kw),
                lambda: TF.ctc_loss(torch.tensor(lp), torch.tensor(tg), ilf(torch.tensor(il)), torch.tensor(tl), **kw),
                cls)


def test_integer_log_probs_and_out_of_range_targets_rejected():
    with pytest.raises(NotImplementedError):
        F.ctc_loss(ember.zeros(3, 1, 4, dtype=ember.int32), ember.tensor([[1]]), ember.tensor([3]),
                   ember.tensor([1]))
    # PyTorch reads out of bounds here; Ember refuses
    with pytest.raises(IndexError, match="out of range"):
        F.ctc_loss(ember.zeros(3, 1, 4), ember.tensor([[9]]), ember.tensor([3]), ember.tensor([1]))
