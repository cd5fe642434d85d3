"""ember.autograd.forward_ad against torch.autograd.forward_ad: the same computation on dual tensors,
built from the same NumPy arrays, gives the same primals and tangents."""
import numpy as np
import pytest
import torch
import torch.autograd.forward_ad as tfw

import ember
import ember.autograd.forward_ad as efw
from conftest import assert_close

RNG = np.random.default_rng(1)


def arr(*shape, dtype=np.float32):
    return RNG.standard_normal(shape).astype(dtype)


def run(L, fw, fn, primals, tangents):
    """``fn(L, *duals)`` inside a dual level: (primal, tangent) of each output."""
    with fw.dual_level():
        duals = [fw.make_dual(L.tensor(p.copy()), L.tensor(t.copy())) for p, t in zip(primals, tangents)]
        out = fn(L, *duals)
        outs = out if isinstance(out, tuple) else (out,)
        return [tuple(fw.unpack_dual(o)) for o in outs]


CASES = {
    "elementwise": (lambda L, x: (x.sin() * x.exp() + x ** 2 / (1 + x.abs())).tanh(), [(3, 4)]),
    "binary_broadcast": (lambda L, x, y: x * y - x / (y ** 2 + 1), [(3, 4), (4,)]),
    "matmul": (lambda L, x, y: x @ y, [(3, 4), (4, 2)]),
    "reductions": (lambda L, x: (x.sum(0), x.mean(), x.amax(1), L.logsumexp(x, 1), x.norm()), [(3, 4)]),
    "shape_ops": (lambda L, x: (x.t().reshape(2, 6)[:, 1:4], L.cat([x, x * 2], 0), x.unsqueeze(0).expand(2, 3, 4)),
                  [(3, 4)]),
    "softmax_logsoftmax": (lambda L, x: (L.softmax(x, -1), L.log_softmax(x, 0)), [(3, 4)]),
    "linear": (lambda L, x, w, b: L.nn.functional.linear(x, w, b), [(5, 4), (3, 4), (3,)]),
    "layer_norm": (lambda L, x, w: L.nn.functional.layer_norm(x, (4,), w), [(3, 4), (4,)]),
    "conv2d": (lambda L, x, w: L.nn.functional.conv2d(x, w, padding=1), [(1, 2, 5, 5), (3, 2, 3, 3)]),
    "mse_gelu": (lambda L, x, y: L.nn.functional.mse_loss(L.nn.functional.gelu(x), y), [(4, 3), (4, 3)]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_tangents_match_torch(name):
    fn, shapes = CASES[name]
    primals = [arr(*s) for s in shapes]
    tangents = [arr(*s) for s in shapes]
    re = run(ember, efw, fn, primals, tangents)
    rt = run(torch, tfw, fn, primals, tangents)
    assert len(re) == len(rt)
    for (pe, te), (pt, tt) in zip(re, rt):
        assert_close(pe, pt)
        assert_close(te, tt, rtol=1e-5, atol=1e-5)
        assert not te.requires_grad


def test_tangent_in_float64_is_exact_jvp():
    # J v in float64 against torch.func.jvp
    a, v = RNG.standard_normal((2, 3)), RNG.standard_normal((2, 3))
    with efw.dual_level():
        d = efw.make_dual(ember.tensor(a), ember.tensor(v))
        te = efw.unpack_dual((d.sin() @ d.t()).exp()).tangent
    _, tt = torch.func.jvp(lambda x: (x.sin() @ x.t()).exp(), (torch.tensor(a),), (torch.tensor(v),))
    assert_close(te, tt, rtol=1e-12, atol=1e-12)


def test_unpack_dual_of_make_dual_and_plain_tensors():
    x, t = ember.tensor(arr(3)), ember.tensor(arr(3))
    with efw.dual_level() as level:
        assert level == 0
        d = efw.make_dual(x, t)
        u = efw.unpack_dual(d)
        assert isinstance(u, efw.UnpackedDualTensor) and u._fields == ("primal", "tangent")
        assert u.tangent is t
        assert_close(u.primal, x)
        assert not u.primal.requires_grad
        # a tensor unrelated to any dual, a non-differentiable result, a primal: no tangent
        assert efw.unpack_dual(x).tangent is None
        assert efw.unpack_dual((d > 0).float()).tangent is None
        assert efw.unpack_dual(u.primal * 2).tangent is None
        y = d * 3
    assert efw.unpack_dual(y).tangent is None  # outside the level
    assert efw.unpack_dual(y).primal is y


def test_tangent_independent_path_is_zero_like_torch():
    a, v = arr(3), arr(3)
    for L, fw in ((ember, efw), (torch, tfw)):
        with fw.dual_level():
            d = fw.make_dual(L.tensor(a), L.tensor(v))
            t = fw.unpack_dual(d * 0).tangent
            assert t is not None and float(t.abs().sum()) == 0.0


def test_errors_match_torch():
    def cases(L, fw):
        x = L.tensor(arr(3))
        yield lambda: fw.make_dual(x, L.tensor(arr(3)))  # no level
        yield lambda: fw.exit_dual_level()

    def in_level(L, fw):
        x = L.tensor(arr(3))
        yield lambda: fw.make_dual(x, L.tensor(arr(4)))
        yield lambda: fw.make_dual(x.long(), x.long())
        yield lambda: fw.enter_dual_level()
        yield lambda: fw.exit_dual_level(level=3)

    for ce, ct in zip(cases(ember, efw), cases(torch, tfw)):
        with pytest.raises(Exception) as te:
            ct()
        with pytest.raises(te.type) as ee:
            ce()
        assert str(ee.value) == str(te.value)
    with efw.dual_level(), tfw.dual_level():
        for ce, ct in zip(in_level(ember, efw), in_level(torch, tfw)):
            with pytest.raises(Exception) as te:
                ct()
            with pytest.raises(te.type) as ee:
                ce()
            assert str(ee.value) == str(te.value)
        de = efw.make_dual(ember.ones(2), ember.ones(2))
        dt = tfw.make_dual(torch.ones(2), torch.ones(2))
        with pytest.raises(RuntimeError) as te:
            tfw.make_dual(dt, torch.ones(2))
        with pytest.raises(RuntimeError) as ee:
            efw.make_dual(de, ember.ones(2))
        assert str(ee.value) == str(te.value)


def test_module_parameters_as_duals():
    # the forward-AD recipe from PyTorch's tutorial: duals swapped in with functional_call
    me, mt = ember.nn.Linear(4, 3), torch.nn.Linear(4, 3)
    mt.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in me.state_dict().items()})
    tang = {k: arr(*v.shape) for k, v in me.state_dict().items()}
    x = arr(2, 4)
    with efw.dual_level():
        pe = {k: efw.make_dual(v.detach(), ember.tensor(tang[k])) for k, v in me.named_parameters()}
        oe = efw.unpack_dual(ember.func.functional_call(me, pe, ember.tensor(x)).tanh())
    with tfw.dual_level():
        pt = {k: tfw.make_dual(v.detach(), torch.tensor(tang[k])) for k, v in mt.named_parameters()}
        ot = tfw.unpack_dual(torch.func.functional_call(mt, pt, torch.tensor(x)).tanh())
    assert_close(oe.primal, ot.primal)
    assert_close(oe.tangent, ot.tangent)


def test_forward_over_reverse_hessian_vector_product():
    a, v = arr(4).astype(np.float64), arr(4).astype(np.float64)
    res = []
    for L, fw in ((ember, efw), (torch, tfw)):
        x = L.tensor(a, requires_grad=True)
        with fw.dual_level():
            d = fw.make_dual(x, L.tensor(v))
            y = (d.sin() * d ** 2).sum()
            (g,) = L.autograd.grad(y, d, create_graph=True)
            res.append(fw.unpack_dual(g).tangent)
    assert_close(res[0], res[1], rtol=1e-12, atol=1e-12)


def test_backward_through_tangent_and_primal():
    # reverse over forward: the tangent depends on a parameter that requires grad
    a, v, w = arr(3), arr(3), arr(3)
    grads = []
    for L, fw in ((ember, efw), (torch, tfw)):
        wl = L.tensor(w, requires_grad=True)
        with fw.dual_level():
            d = fw.make_dual(L.tensor(a), L.tensor(v))
            p, t = fw.unpack_dual((d * wl).sin())
            (t.sum() + p.sum()).backward()
        grads.append(wl.grad)
    assert_close(grads[0], grads[1])


def test_in_place_update_refreshes_tangent():
    a, v = arr(3), arr(3)
    res = []
    for L, fw in ((ember, efw), (torch, tfw)):
        with fw.dual_level():
            d = fw.make_dual(L.tensor(a), L.tensor(v))
            y = d * 2
            first = fw.unpack_dual(y).tangent.clone()
            y.mul_(d)
            res.append((first, fw.unpack_dual(y).tangent))
    assert_close(res[0], res[1])


def test_dual_level_as_decorator():
    @efw.dual_level()
    def f(x, t):
        return efw.unpack_dual(efw.make_dual(x, t).exp()).tangent

    x, t = arr(3), arr(3)
    assert_close(f(ember.tensor(x), ember.tensor(t)), torch.tensor(np.exp(x) * t))
    assert efw.enter_dual_level() == 0  # the decorator closed its level
    efw.exit_dual_level()
