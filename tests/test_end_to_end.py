"""End-to-end parity: whole training runs give PyTorch's numbers.

Each recipe of ``e2e_models`` is one piece of PyTorch code run twice, once with ``T = torch`` and once
with ``T = ember``.  Torch's freshly initialised ``state_dict()`` is copied into Ember's model (the keys
must match exactly), both consume identical NumPy batches in lockstep, and

- after every step the two losses agree,
- at the end every parameter, gradient and buffer, the optimizer's ``state_dict()`` (state and
  param_groups, the scheduler's lr included) agree,
- Ember's final ``state_dict`` saved with ``ember.save`` loads in PyTorch with ``weights_only=True``
  and equals it bit for bit.

Tolerances.  Ember and PyTorch evaluate the same formulas, but not in the same order (BLAS kernels,
reduction trees, fused vs unfused kernels), so each float32 op may differ by a few ulps, and the optimizer
feeds those differences back into the next step.  ``atol`` is taken relative to the compared tensor's
largest entry (at least 1): a small entry that is a sum of much larger terms (a momentum buffer) carries
their rounding error.  The SGD runs (MLP, custom Function) agree to the usual ``rtol=1e-5, atol=1e-6`` after
10-15 steps with a margin > 10x.  The runs whose optimizer divides by the root of second moments (Adam,
AdamW, AMSGrad, centered RMSprop: CNN, Transformer, GRU, LSTM) turn the relative rounding error of a small
gradient into a relative error of a full lr-sized step, and are compared at ``rtol=1e-4, atol=1e-5``
(measured margin 3-10x; at 1e-5 the Transformer misses by ~3x, the LSTM's centered-RMSprop momentum buffer
by ~2x).  Per-step losses agree to ``rtol=1e-5`` everywhere.  To show that all of this is rounding and not
a formula difference, every recipe is also run in float64, where the whole training run must agree to
``rtol=1e-9``: a perturbation as small as Adam's eps 1e-8 -> 1.1e-8 fails it.
"""
from __future__ import annotations

import os

import numpy as np
import pytest
import torch

import ember
import e2e_models as M
from conftest import assert_close, to_np

# float32: per-op rounding (a few ulps) amplified by 10-15 optimizer steps, see module docstring
F32 = dict(loss_rtol=1e-5, rtol=1e-5, atol=1e-6)
F32_AMPLIFIED = dict(loss_rtol=1e-5, rtol=1e-4, atol=1e-5)
# Adam family / centered RMSprop: rounding of small gradients becomes a relative error of a whole step
F32_BY_RECIPE = {"cnn": F32_AMPLIFIED, "transformer": F32_AMPLIFIED, "lstm": F32_AMPLIFIED,
                 "gru_packed": F32_AMPLIFIED}
# float64: the same run, with rounding noise ~1e-16 per op; anything above 1e-9 is a formula difference
F64 = dict(loss_rtol=1e-10, rtol=1e-9, atol=1e-11)

STEPS = {"mlp": 15, "cnn": 10, "transformer": 12, "lstm": 12, "gru_packed": 12, "custom_function_accum": 10}


# ---------------------------------------------------------------------------------------------- helpers

def copy_torch_state_into(tmodel, emodel):
    """Load torch's state_dict into Ember's model through NumPy; the keys must match exactly (same order)."""
    tsd = tmodel.state_dict()
    esd = emodel.state_dict()
    assert list(esd.keys()) == list(tsd.keys()), "state_dict keys differ from PyTorch's"
    for k in tsd:
        assert tuple(esd[k].shape) == tuple(tsd[k].shape), f"{k}: shape {tuple(esd[k].shape)} != {tuple(tsd[k].shape)}"
    result = emodel.load_state_dict({k: ember.tensor(v.detach().numpy().copy()) for k, v in tsd.items()})
    assert list(result.missing_keys) == [] and list(result.unexpected_keys) == []
    for k, v in emodel.state_dict().items():
        np.testing.assert_array_equal(to_np(v), tsd[k].numpy(), err_msg=k)


def _float_batches(batches, dtype):
    return [tuple(a.astype(dtype) if a.dtype.kind == "f" else a for a in b) for b in batches]


def _assert_same_value(e, t, rtol, atol, where):
    if isinstance(t, torch.Tensor):
        assert isinstance(e, (ember.Tensor, torch.Tensor)), f"{where}: {type(e).__name__}, not a tensor"
        _close(e, t, rtol, atol, where)
    elif isinstance(t, dict):
        assert isinstance(e, dict) and list(e.keys()) == list(t.keys()), f"{where}: keys {list(e)} != {list(t)}"
        for k in t:
            _assert_same_value(e[k], t[k], rtol, atol, f"{where}[{k!r}]")
    elif isinstance(t, (list, tuple)):
        assert len(e) == len(t), f"{where}: length {len(e)} != {len(t)}"
        for i, (a, b) in enumerate(zip(e, t)):
            _assert_same_value(a, b, rtol, atol, f"{where}[{i}]")
    elif isinstance(t, float):
        assert e == pytest.approx(t, rel=1e-12), f"{where}: {e!r} != {t!r}"
    else:
        assert e == t, f"{where}: {e!r} != {t!r}"


def _split_gauge(arr, sl):
    """(the compared part, the gauge slice) of a parameter-shaped array; ``sl`` indexes dim 0."""
    keep = np.ones(arr.shape[0], dtype=bool)
    keep[sl] = False
    return arr[keep], arr[sl]


def _close(e, t, rtol, atol, where, gauge=None):
    """Elementwise ``|e - t| <= atol * scale + rtol * |t|`` where ``scale`` is the largest ``|t|`` (at least 1):
    an entry that is the sum of much larger terms of both signs (a momentum buffer, a gradient summed
    over a batch) carries the rounding error of those terms, not of its own small value."""
    tn = to_np(t)
    scale = max(1.0, float(np.abs(tn).max())) if tn.size and np.issubdtype(tn.dtype, np.floating) else 1.0
    if gauge is None:
        try:
            assert_close(e, t, rtol, atol * scale)
        except AssertionError as exc:
            raise AssertionError(f"{where}: {exc}") from None
        return
    assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1], where
    (a, _), (b, _) = _split_gauge(to_np(e), gauge), _split_gauge(tn, gauge)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol * scale, err_msg=where)


def assert_models_close(emodel, tmodel, rtol, atol, gauge=None):
    """Every parameter, every gradient and every buffer agree (same names, same order).

    ``gauge`` maps a parameter name to a slice whose exact gradient is zero (see the recipe): that slice's
    gradient must be rounding noise in both frameworks, and the slice is left out of the comparisons."""
    gauge = gauge or {}
    ep, tp = dict(emodel.named_parameters()), dict(tmodel.named_parameters())
    assert list(ep) == list(tp)
    for name in tp:
        g = gauge.get(name)
        _close(ep[name], tp[name], rtol, atol, name, g)
        assert (ep[name].grad is None) == (tp[name].grad is None), f"{name}.grad presence differs"
        if tp[name].grad is not None:
            _close(ep[name].grad, tp[name].grad, rtol, atol, f"gradient of {name}", g)
            if g is not None:
                for grad in (to_np(ep[name].grad), tp[name].grad.numpy()):
                    kept, noise = _split_gauge(grad, g)
                    assert np.abs(noise).max() <= 1e-5 * np.abs(kept).max(), f"{name}[{g}] gradient is not ~0"
    eb, tb = dict(emodel.named_buffers()), dict(tmodel.named_buffers())
    assert list(eb) == list(tb)
    for name in tb:
        if tb[name].dtype.is_floating_point:
            _close(eb[name], tb[name], rtol, atol, f"buffer {name}")
        else:
            _close(eb[name], tb[name], 0, 0, f"buffer {name}")


def assert_optimizers_close(eopt, topt, rtol, atol, gauge_by_index=None):
    """The optimizer's state_dict: per-parameter state (step, moments, buffers) and param_groups."""
    assert_optimizer_state_dicts_close(eopt.state_dict(), topt.state_dict(), rtol, atol, gauge_by_index)


def assert_optimizer_state_dicts_close(esd, tsd, rtol, atol, gauge_by_index=None):
    gauge_by_index = gauge_by_index or {}
    assert list(esd.keys()) == list(tsd.keys())
    _assert_same_value(esd["param_groups"], tsd["param_groups"], rtol, atol, "param_groups")
    assert sorted(esd["state"]) == sorted(tsd["state"])
    for idx, tstate in tsd["state"].items():
        estate = esd["state"][idx]
        assert sorted(estate) == sorted(tstate), f"state[{idx}] keys {sorted(estate)} != {sorted(tstate)}"
        for key, tval in tstate.items():
            where = f"state[{idx}][{key!r}]"
            if idx in gauge_by_index and key != "step":
                _close(estate[key], tval, rtol, atol, where, gauge_by_index[idx])
            else:
                _assert_same_value(estate[key], tval, rtol, atol, where)


def gauge_indices(recipe, model):
    """The recipe's gauge slices keyed by the parameter's index in the optimizer's state_dict."""
    names = [n for n, _ in model.named_parameters()]
    return {names.index(n): sl for n, sl in getattr(recipe, "gauge", {}).items()}


def run_lockstep(recipe, n_steps, dtype=np.float32, tol=F32, train=True, build_kwargs=None, seed=0):
    """Train ``recipe`` in both frameworks from torch's initial weights; compare the loss after every step."""
    torch.manual_seed(seed)
    ember.manual_seed(seed)
    kw = build_kwargs or {}
    tmodel, emodel = recipe.build(torch, **kw), recipe.build(ember, **kw)
    copy_torch_state_into(tmodel, emodel)
    if dtype == np.float64:
        tmodel, emodel = tmodel.double(), emodel.double()
    tmodel.train(train)
    emodel.train(train)
    topt, tsched = recipe.optim(torch, tmodel)
    eopt, esched = recipe.optim(ember, emodel)
    batches = _float_batches(recipe.batches(np.random.default_rng(seed + 1), n_steps), dtype)
    for i, batch in enumerate(batches):
        tl = recipe.step(torch, tmodel, topt, tsched, batch)
        el = recipe.step(ember, emodel, eopt, esched, batch)
        assert str(el.dtype).split(".")[-1] == str(tl.dtype).split(".")[-1]
        np.testing.assert_allclose(float(el.detach()), float(tl.detach()), rtol=tol["loss_rtol"], atol=0,
                                   err_msg=f"loss differs at step {i}")
    return tmodel, emodel, topt, eopt, (tsched, esched)


# ---------------------------------------------------------------------------------------------- tests

@pytest.mark.parametrize("name", list(M.RECIPES))
def test_training_run_matches_torch_float32(name):
    recipe, tol = M.RECIPES[name], F32_BY_RECIPE.get(name, F32)
    tmodel, emodel, topt, eopt, scheds = run_lockstep(recipe, STEPS[name], tol=tol)
    assert_models_close(emodel, tmodel, tol["rtol"], tol["atol"], getattr(recipe, "gauge", None))
    assert_optimizers_close(eopt, topt, tol["rtol"], tol["atol"], gauge_indices(recipe, tmodel))
    if scheds[0] is not None:
        assert scheds[1].get_last_lr() == pytest.approx(scheds[0].get_last_lr(), rel=1e-12)
        _assert_same_value(scheds[1].state_dict(), scheds[0].state_dict(), 0, 0, "scheduler")


@pytest.mark.parametrize("name", list(M.RECIPES))
def test_training_run_matches_torch_float64(name):
    """The same run in float64 agrees to ~1e-9: the float32 tolerance above is rounding, not a formula."""
    recipe = M.RECIPES[name]
    tmodel, emodel, topt, eopt, _ = run_lockstep(recipe, STEPS[name], dtype=np.float64, tol=F64)
    assert_models_close(emodel, tmodel, F64["rtol"], F64["atol"], getattr(recipe, "gauge", None))
    assert_optimizers_close(eopt, topt, F64["rtol"], F64["atol"], gauge_indices(recipe, tmodel))


def test_mlp_eval_mode_dropout_is_identity_while_training():
    """Dropout(p=0.5) in eval mode: no mask at all, so training in eval mode matches torch exactly."""
    tmodel, emodel, topt, eopt, _ = run_lockstep(M.MLP, 8, train=False, build_kwargs={"p_drop": 0.5})
    assert not emodel.training and not emodel[2].training
    assert_models_close(emodel, tmodel, F32["rtol"], F32["atol"])
    assert_optimizers_close(eopt, topt, F32["rtol"], F32["atol"])


def test_cnn_train_then_eval_uses_running_statistics():
    """Train with batch statistics (running stats update), then switch to eval: the running statistics
    are used, are no longer updated, and gradients flow through them in eval mode too."""
    recipe = M.CNN
    tmodel, emodel, topt, eopt, _ = run_lockstep(recipe, 8)
    assert int(emodel[1].num_batches_tracked) == 8
    assert_models_close(emodel, tmodel, F32_AMPLIFIED["rtol"], F32_AMPLIFIED["atol"])

    tmodel.eval()
    emodel.eval()
    batches = recipe.batches(np.random.default_rng(99), 4)
    with torch.no_grad(), ember.no_grad():
        x = batches[0][0]
        assert_close(emodel(ember.tensor(x)), tmodel(torch.tensor(x)), F32_AMPLIFIED["rtol"], F32_AMPLIFIED["atol"])
    before = {k: to_np(v).copy() for k, v in emodel.named_buffers()}
    for i, batch in enumerate(batches):
        tl = recipe.step(torch, tmodel, topt, None, batch)
        el = recipe.step(ember, emodel, eopt, None, batch)
        np.testing.assert_allclose(float(el.detach()), float(tl.detach()), rtol=F32_AMPLIFIED["loss_rtol"],
                                   err_msg=f"eval step {i}")
    for k, v in emodel.named_buffers():           # eval mode: running statistics frozen
        np.testing.assert_array_equal(to_np(v), before[k], err_msg=k)
    assert_models_close(emodel, tmodel, F32_AMPLIFIED["rtol"], F32_AMPLIFIED["atol"])
    assert_optimizers_close(eopt, topt, F32_AMPLIFIED["rtol"], F32_AMPLIFIED["atol"])


def test_transformer_eval_forward_matches_torch():
    """After training, an eval-mode forward (with a padding mask) gives torch's logits at every position
    (pads too: enable_nested_tensor=False, so torch computes them).  Torch's eval/no-grad forward runs its
    fused 'fast path' kernels, which differ from torch's own training-path forward by ~5e-7 here, hence
    atol 5e-6 for logits of size ~1."""
    recipe = M.TransformerTagger
    tmodel, emodel, *_ = run_lockstep(recipe, 4)
    tmodel.eval()
    emodel.eval()
    tokens = recipe.batches(np.random.default_rng(5), 1)[0][0]
    assert (tokens == recipe.pad).any()
    with torch.no_grad():
        tl = tmodel(torch.tensor(tokens))
    with ember.no_grad():
        el = emodel(ember.tensor(tokens))
    assert el.grad_fn is None
    assert_close(el, tl, 1e-5, 5e-6)


def test_gradient_accumulation_equals_one_big_batch():
    """Accumulating ``accum`` micro-batches of loss/accum gives the gradient of the whole batch, in
    Ember as in torch (checked against torch's big-batch gradient)."""
    recipe = M.CustomFunctionAccum
    torch.manual_seed(3)
    tmodel, emodel = recipe.build(torch), recipe.build(ember)
    copy_torch_state_into(tmodel, emodel)
    xs, ys = recipe.batches(np.random.default_rng(4), 1)[0]
    for i in range(recipe.accum):                    # accumulated in Ember
        loss = ember.nn.functional.mse_loss(emodel(ember.tensor(xs[i])), ember.tensor(ys[i])) / recipe.accum
        loss.backward()
    big_x = torch.tensor(xs.reshape(-1, recipe.n_in))   # one big batch in torch
    torch.nn.functional.mse_loss(tmodel(big_x), torch.tensor(ys.reshape(-1, recipe.n_out))).backward()
    for (name, ep), (_, tp) in zip(emodel.named_parameters(), tmodel.named_parameters()):
        assert_close(ep.grad, tp.grad, 1e-5, 1e-6)


def test_custom_functions_gradcheck():
    """The recipe's custom Functions pass Ember's gradcheck (float64) and match torch's gradients."""
    MyLinear, SquarePlus = M.make_custom_functions(ember)
    TLinear, TSquarePlus = M.make_custom_functions(torch)
    rng = np.random.default_rng(7)
    x, w, b = rng.standard_normal((4, 3)), rng.standard_normal((5, 3)), rng.standard_normal(5)
    ex, ew, eb = (ember.tensor(a, requires_grad=True) for a in (x, w, b))
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    assert ember.autograd.gradcheck(lambda *a: SquarePlus.apply(MyLinear.apply(*a), 2.0), (ex, ew, eb))
    eout = SquarePlus.apply(MyLinear.apply(ex, ew, eb), 2.0)
    tout = TSquarePlus.apply(TLinear.apply(tx, tw, tb), 2.0)
    assert type(eout.grad_fn).__name__ == type(tout.grad_fn).__name__ == "SquarePlusBackward"
    g = rng.standard_normal((4, 5))
    eout.backward(ember.tensor(g))
    tout.backward(torch.tensor(g))
    for e, t in ((eout, tout), (ex.grad, tx.grad), (ew.grad, tw.grad), (eb.grad, tb.grad)):
        assert_close(e, t, 1e-12, 1e-12)


@pytest.mark.parametrize("name", ["mlp", "cnn", "transformer", "lstm", "gru_packed"])
def test_final_state_dict_saved_by_ember_loads_in_torch(name, tmp_path):
    """``ember.save`` of the trained model (and optimizer) loads in PyTorch with ``weights_only=True``."""
    if not hasattr(ember, "save"):
        pytest.skip("ember.save is not there yet")
    recipe = M.RECIPES[name]
    tol = F32_BY_RECIPE.get(name, F32)
    tmodel, emodel, topt, eopt, _ = run_lockstep(recipe, 3, tol=tol)
    gauge = getattr(recipe, "gauge", {})
    path = os.fspath(tmp_path / "model.pt")
    ember.save(emodel.state_dict(), path)
    loaded = torch.load(path, weights_only=True)
    esd, tsd = emodel.state_dict(), tmodel.state_dict()
    assert list(loaded.keys()) == list(tsd.keys())
    for k, v in loaded.items():
        assert isinstance(v, torch.Tensor) and v.dtype == tsd[k].dtype and v.shape == tsd[k].shape, k
        np.testing.assert_array_equal(v.numpy(), to_np(esd[k]), err_msg=k)   # bit for bit what Ember had
        _close(v, tsd[k], tol["rtol"], tol["atol"], k, gauge.get(k))      # and what torch trained
    # torch can resume from Ember's checkpoint: a fresh torch model loads it strictly
    torch.manual_seed(123)
    fresh = recipe.build(torch)
    fresh.load_state_dict(loaded)
    opt_path = os.fspath(tmp_path / "optim.pt")
    ember.save(eopt.state_dict(), opt_path)
    topt_loaded = torch.load(opt_path, weights_only=True)
    assert_optimizer_state_dicts_close(topt_loaded, topt.state_dict(), tol["rtol"], tol["atol"],
                                       gauge_indices(recipe, tmodel))
    fresh_opt, _ = recipe.optim(torch, fresh)
    fresh_opt.load_state_dict(topt_loaded)
    # ... and training resumed in torch from Ember's checkpoint continues torch's own run
    batch = _float_batches(recipe.batches(np.random.default_rng(42), 1), np.float32)[0]
    fresh.train(tmodel.training)
    lr = recipe.step(torch, fresh, fresh_opt, None, batch)
    lt = recipe.step(torch, tmodel, topt, None, batch)
    np.testing.assert_allclose(float(lr.detach()), float(lt.detach()), rtol=tol["loss_rtol"])
    assert_models_close(fresh, tmodel, tol["rtol"], tol["atol"], gauge)


@pytest.mark.parametrize("name", ["mlp", "cnn", "lstm", "gru_packed"])
def test_torch_checkpoint_resumes_in_ember(name, tmp_path):
    """The other direction: torch trains a few steps and ``torch.save``s model, optimizer and scheduler;
    Ember ``ember.load``s the file into a fresh model/optimizer/scheduler and the two runs continue in
    lockstep with the same losses and the same final state."""
    if not hasattr(ember, "load"):
        pytest.skip("ember.load is not there yet")
    recipe, tol = M.RECIPES[name], F32_BY_RECIPE.get(name, F32)
    torch.manual_seed(0)
    tmodel = recipe.build(torch)
    topt, tsched = recipe.optim(torch, tmodel)
    batches = recipe.batches(np.random.default_rng(8), 6)
    for batch in batches[:3]:
        recipe.step(torch, tmodel, topt, tsched, batch)
    path = os.fspath(tmp_path / "ckpt.pt")
    torch.save({"model": tmodel.state_dict(), "optim": topt.state_dict(),
                "sched": tsched.state_dict() if tsched is not None else None, "step": 3}, path)
    ckpt = ember.load(path)
    assert ckpt["step"] == 3
    ember.manual_seed(0)
    emodel = recipe.build(ember)
    emodel.load_state_dict(ckpt["model"])
    eopt, esched = recipe.optim(ember, emodel)
    eopt.load_state_dict(ckpt["optim"])
    if esched is not None:
        esched.load_state_dict(ckpt["sched"])
        assert esched.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=1e-12)
    for i, batch in enumerate(batches[3:]):
        tl = recipe.step(torch, tmodel, topt, tsched, batch)
        el = recipe.step(ember, emodel, eopt, esched, batch)
        np.testing.assert_allclose(float(el.detach()), float(tl.detach()), rtol=tol["loss_rtol"],
                                   err_msg=f"resumed step {i}")
    assert_models_close(emodel, tmodel, tol["rtol"], tol["atol"], getattr(recipe, "gauge", None))
    assert_optimizers_close(eopt, topt, tol["rtol"], tol["atol"], gauge_indices(recipe, tmodel))


def test_keys_mismatch_is_reported_like_torch():
    """A checkpoint from a different model fails load_state_dict with RuntimeError in both, naming the keys."""
    torch.manual_seed(0)
    tsd = M.MLP.build(torch).state_dict()
    bad = {k.replace("0.", "first."): v for k, v in tsd.items()}
    with pytest.raises(RuntimeError, match="first.weight"):
        M.MLP.build(torch).load_state_dict(bad)
    with pytest.raises(RuntimeError, match="first.weight"):
        M.MLP.build(ember).load_state_dict({k: ember.tensor(v.numpy()) for k, v in bad.items()})


# ---------------------------------------------------------------------------------------------- a literal script

TRAINING_SCRIPT = '''
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def build():
    return nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 16), nn.GELU(), nn.LayerNorm(16),
                         nn.Linear(16, 3))


def train(init_path, out_path, X, Y, X_val, Y_val, epochs=3):
    model = build()
    model.load_state_dict(torch.load(init_path, weights_only=True))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=2 * epochs)
    loader = DataLoader(TensorDataset(torch.from_numpy(X), torch.from_numpy(Y)), batch_size=16, shuffle=False)
    history = []
    for epoch in range(epochs):
        model.train()
        for xb, yb in loader:
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            history.append(loss.item())
        sched.step()
        model.eval()
        with torch.no_grad():
            logits = model(torch.from_numpy(X_val))
            acc = (logits.argmax(dim=1) == torch.from_numpy(Y_val)).float().mean().item()
            val_loss = F.cross_entropy(logits, torch.from_numpy(Y_val), reduction="sum").item()
        history.append((acc, val_loss, sched.get_last_lr()[0]))
    torch.save({"model": model.state_dict(), "optim": opt.state_dict(), "epoch": epoch}, out_path)
    return history
'''


def _load_script(use_ember, src=TRAINING_SCRIPT):
    """The script as written (torch) or with its imports switched to Ember, nothing else changed."""
    if use_ember:
        src = (src.replace("import torch\n", "import ember as torch\n")
               .replace("import torch.nn as nn", "import ember.nn as nn")
               .replace("import torch.nn.functional as F", "import ember.nn.functional as F")
               .replace("from torch.utils.data import", "from ember.utils.data import"))
        assert "import torch" not in src.replace("import ember as torch", "") and "from torch" not in src
    namespace = {}
    exec(compile(src, f"<training script ({'ember' if use_ember else 'torch'})>", "exec"), namespace)
    return namespace


def test_unchanged_training_script_gives_torch_numbers(tmp_path):
    """A plain PyTorch training script (DataLoader, Adam, CosineAnnealingLR, train/eval, no_grad metrics,
    torch.load of torch's initial checkpoint, torch.save of model + optimizer) run with ``import ember as
    torch``: every loss, metric and lr is torch's, and torch loads Ember's final checkpoint, whose weights
    and Adam state equal torch's run at the usual float32 rtol 1e-5 / atol 1e-6 (9 steps)."""
    if not hasattr(ember, "save"):
        pytest.skip("ember.save is not there yet")
    script_t, script_e = _load_script(False), _load_script(True)
    assert script_e["torch"] is ember and script_e["nn"] is ember.nn and script_t["torch"] is torch
    rng = np.random.default_rng(11)
    X = rng.standard_normal((40, 8)).astype(np.float32)           # 40 = 2 full batches + one of 8
    Y = rng.integers(0, 3, 40)
    X_val, Y_val = rng.standard_normal((24, 8)).astype(np.float32), rng.integers(0, 3, 24)
    torch.manual_seed(0)
    init = os.fspath(tmp_path / "init.pt")
    torch.save(script_t["build"]().state_dict(), init)
    out_t, out_e = os.fspath(tmp_path / "torch.pt"), os.fspath(tmp_path / "ember.pt")
    hist_t = script_t["train"](init, out_t, X, Y, X_val, Y_val)
    hist_e = script_e["train"](init, out_e, X, Y, X_val, Y_val)
    assert len(hist_e) == len(hist_t) == 3 * 4
    for i, (e, t) in enumerate(zip(hist_e, hist_t)):
        if isinstance(t, tuple):
            acc_e, val_e, lr_e = e
            acc_t, val_t, lr_t = t
            assert acc_e == acc_t, f"epoch metric {i}: accuracy {acc_e} != {acc_t}"
            assert val_e == pytest.approx(val_t, rel=1e-5), f"epoch metric {i}: validation loss"
            assert lr_e == pytest.approx(lr_t, rel=1e-12), f"epoch metric {i}: lr"
        else:
            assert type(e) is float and e == pytest.approx(t, rel=1e-5), f"step {i}: loss {e} != {t}"
    ckpt_t = torch.load(out_t, weights_only=True)
    ckpt_e = torch.load(out_e, weights_only=True)
    assert list(ckpt_e) == list(ckpt_t) and ckpt_e["epoch"] == ckpt_t["epoch"] == 2
    _assert_same_value(ckpt_e["model"], ckpt_t["model"], F32["rtol"], F32["atol"], "model")
    assert_optimizer_state_dicts_close(ckpt_e["optim"], ckpt_t["optim"], F32["rtol"], F32["atol"])


# ---------------------------------------------------------------------------------------------- variants

@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")
@pytest.mark.parametrize("name", list(M.VARIANTS))
def test_variant_training_run_matches_torch_float64(name):
    """Layers, losses, optimizers and schedulers beyond the main recipes, 5 training steps each in float64
    (to 1e-9: any formula difference shows, rounding cannot): losses per step, then every parameter,
    gradient, buffer and the optimizer state."""
    build, make_opt, data, loss_fn = M.VARIANTS[name]
    torch.manual_seed(0)
    tmodel, emodel = build(torch), build(ember)
    copy_torch_state_into(tmodel, emodel)
    tmodel, emodel = tmodel.double(), emodel.double()
    topt, tsched = make_opt(torch, tmodel)
    eopt, esched = make_opt(ember, emodel)
    rng = np.random.default_rng(1)
    for i in range(5):
        arrays = [a.astype(np.float64) if a.dtype.kind == "f" else a for a in data(rng)]
        losses = []
        for T, model, opt, sched in ((torch, tmodel, topt, tsched), (ember, emodel, eopt, esched)):
            opt.zero_grad()
            loss = loss_fn(T, model, *[T.tensor(a.copy()) for a in arrays])
            loss.backward()
            opt.step()
            if sched is not None:
                sched.step(loss.item()) if type(sched).__name__ == "ReduceLROnPlateau" else sched.step()
            losses.append(loss.item())
        np.testing.assert_allclose(losses[1], losses[0], rtol=F64["loss_rtol"], err_msg=f"loss at step {i}")
    assert_models_close(emodel, tmodel, F64["rtol"], F64["atol"])
    assert_optimizers_close(eopt, topt, F64["rtol"], F64["atol"])
    if tsched is not None:
        assert esched.state_dict().keys() == tsched.state_dict().keys()
        assert [g["lr"] for g in eopt.param_groups] == pytest.approx([g["lr"] for g in topt.param_groups],
                                                                     rel=1e-12)


FINETUNE_SCRIPT = '''
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(nn.Linear(4 * 3 * 3, 10), nn.ReLU(), nn.Linear(10, 3))

    def forward(self, x):
        x = self.features(x)
        x = x.view(x.size(0), -1)
        return self.classifier(x)


def finetune(state, X, Y, epochs=2):
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.manual_seed(0)
    model = Net().to(device)
    model.load_state_dict(state)
    for p in model.features.parameters():
        p.requires_grad_(False)
    acts = []
    handle = model.classifier[0].register_forward_hook(lambda m, inp, out: acts.append(out.detach().sum().item()))
    opt = torch.optim.SGD(filter(lambda p: p.requires_grad, model.parameters()), lr=0.1, momentum=0.9)
    log = []
    for epoch in range(epochs):
        for phase in ("train", "val"):
            model.train(phase == "train")
            correct, total, running = 0, 0, 0.0
            for i in range(0, len(X), 4):
                xb = torch.from_numpy(X[i:i + 4]).to(device)
                yb = torch.from_numpy(Y[i:i + 4]).to(device)
                with torch.set_grad_enabled(phase == "train"):
                    out = model(xb)
                    loss = F.mse_loss(out.softmax(dim=-1), F.one_hot(yb, num_classes=3).float()) \\
                        + F.cross_entropy(out, yb)
                    if phase == "train":
                        opt.zero_grad()
                        loss.backward()
                        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                        log.append(norm.item())
                        opt.step()
                running += loss.item() * xb.size(0)
                correct += (out.argmax(1) == yb).sum().item()
                total += yb.numel()
            log.append((phase, running / total, correct / total))
    handle.remove()
    with torch.inference_mode():
        probs = torch.stack([model(torch.from_numpy(X[:2]).to(device)).softmax(-1),
                             model(torch.from_numpy(X[2:4]).to(device)).softmax(-1)])
    frozen = all(p.grad is None for p in model.features.parameters())
    return log, acts, probs.cpu().numpy(), frozen, {k: v.cpu().numpy() for k, v in model.state_dict().items()}
'''


def test_unchanged_finetuning_script_gives_torch_numbers():
    """Common script idioms with ``import ember as torch``: device selection and ``.to(device)``, frozen
    layers (``requires_grad_(False)`` + ``filter`` into SGD), a forward hook, ``set_grad_enabled`` train/val
    phases, ``view(x.size(0), -1)``, ``one_hot``, ``clip_grad_norm_``'s returned norm, running metrics via
    ``.item()``, ``inference_mode``, ``stack``.  Every logged number equals torch's; SGD, so rtol 1e-5."""
    script_t, script_e = _load_script(False, FINETUNE_SCRIPT), _load_script(True, FINETUNE_SCRIPT)
    assert script_e["torch"] is ember
    rng = np.random.default_rng(0)
    X = rng.standard_normal((12, 1, 8, 8)).astype(np.float32)
    Y = rng.integers(0, 3, 12)
    torch.manual_seed(0)
    state = script_t["Net"]().state_dict()
    log_t, acts_t, probs_t, frozen_t, final_t = script_t["finetune"](state, X, Y)
    log_e, acts_e, probs_e, frozen_e, final_e = script_e["finetune"](
        {k: ember.tensor(v.numpy()) for k, v in state.items()}, X, Y)
    assert len(log_e) == len(log_t) == 2 * (3 + 2)
    for i, (e, t) in enumerate(zip(log_e, log_t)):
        if isinstance(t, tuple):
            assert e[0] == t[0] and e[2] == t[2], f"log {i}: {e} != {t}"      # phase, accuracy
            assert e[1] == pytest.approx(t[1], rel=1e-5), f"log {i}: mean loss {e[1]} != {t[1]}"
        else:
            assert e == pytest.approx(t, rel=1e-5), f"log {i}: grad norm {e} != {t}"
    assert len(acts_e) == len(acts_t) == 2 * 6     # the hook ran on every batch of both phases, then was removed
    np.testing.assert_allclose(acts_e, acts_t, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(probs_e, probs_t, rtol=1e-5, atol=1e-6)
    assert frozen_t and frozen_e
    assert list(final_e) == list(final_t)
    for k in final_t:
        np.testing.assert_allclose(final_e[k], final_t[k], rtol=1e-5, atol=1e-6, err_msg=k)
        if k.startswith("features."):                    # frozen: not a bit changed
            np.testing.assert_array_equal(final_e[k], state[k].numpy(), err_msg=k)


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_full_batch_training_float64(line_search_fn, tmp_path):
    """LBFGS with a closure, float64: every step's loss, the weights and the whole optimizer state agree
    (``al``/``ro``/``H_diag`` are 0-d tensors as in torch: NumPy float64 scalars, a float subclass, used to
    stay unboxed there, so torch could not load such a checkpoint with ``weights_only=True``); Ember's
    checkpoint of it resumes in torch."""
    torch.manual_seed(0)
    tmodel, emodel = M._mlp(torch).double(), M._mlp(ember).double()
    copy_torch_state_into(tmodel, emodel)
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((8, 6)), rng.integers(0, 4, 8)
    runs = []
    for T, model in ((torch, tmodel), (ember, emodel)):
        opt = T.optim.LBFGS(model.parameters(), lr=0.5, max_iter=5, history_size=3, line_search_fn=line_search_fn)
        X, Y = T.tensor(x), T.tensor(y)

        def closure(opt=opt, model=model, T=T, X=X, Y=Y):
            opt.zero_grad()
            loss = T.nn.functional.cross_entropy(model(X), Y)
            loss.backward()
            return loss

        runs.append((opt, closure, [opt.step(closure).item() for _ in range(3)]))
    (topt, tclosure, tlosses), (eopt, _, elosses) = runs
    np.testing.assert_allclose(elosses, tlosses, rtol=F64["loss_rtol"])
    assert_models_close(emodel, tmodel, F64["rtol"], F64["atol"])
    assert_optimizers_close(eopt, topt, F64["rtol"], F64["atol"])
    path = os.fspath(tmp_path / "lbfgs.pt")
    ember.save(eopt.state_dict(), path)
    loaded = torch.load(path, weights_only=True)
    assert_optimizer_state_dicts_close(loaded, topt.state_dict(), F64["rtol"], F64["atol"])
    topt.load_state_dict(loaded)
    assert np.isfinite(topt.step(tclosure).item())
