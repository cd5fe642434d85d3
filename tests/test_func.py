"""ember.func against torch.func: the same function, built in both libraries from the same NumPy
arrays, gives the same gradients, Jacobian-vector products, Jacobians, Hessians and vmap results."""
import numpy as np
import pytest
import torch
import torch.func as tfunc

import ember
import ember.func as efunc
from conftest import assert_close

RNG = np.random.default_rng(0)


def arr(*shape, dtype=np.float32):
    return RNG.standard_normal(shape).astype(dtype)


def both(a):
    return ember.tensor(a.copy()), torch.tensor(a.copy())


# functions written once, run with either library as L
def f_scalar(L, x):
    return (L.sin(x) * x + x ** 2).sum()


def f_vec(L, x):
    return L.tanh(x) * x.exp()


def f_two(L, x, y):
    return (x @ y).relu() + x.sum()


def f_mlp(L, w, x):
    return L.nn.functional.softmax(L.tanh(x @ w), dim=-1)


# --------------------------------------------------------------------------- grad, grad_and_value
def test_grad_matches_torch():
    a = arr(5)
    xe, xt = both(a)
    assert_close(efunc.grad(lambda x: f_scalar(ember, x))(xe), tfunc.grad(lambda x: f_scalar(torch, x))(xt))


def test_grad_result_is_plain_tensor_at_top_level():
    xe, _ = both(arr(4))
    g = efunc.grad(lambda x: (x ** 3).sum())(xe)
    assert not g.requires_grad and g.grad_fn is None


def test_grad_argnums_tuple_and_kwargs():
    a, b = arr(3, 4), arr(4, 2)
    (xe, xt), (ye, yt) = both(a), both(b)
    ge = efunc.grad(lambda x, y, scale=1.0: f_two(ember, x, y).sum() * scale, argnums=(0, 1))(xe, ye, scale=2.0)
    gt = tfunc.grad(lambda x, y, scale=1.0: f_two(torch, x, y).sum() * scale, argnums=(0, 1))(xt, yt, scale=2.0)
    assert isinstance(ge, tuple) and len(ge) == 2
    assert_close(ge, gt)
    assert_close(efunc.grad(lambda x, y: f_two(ember, x, y).sum(), argnums=-1)(xe, ye),
                 tfunc.grad(lambda x, y: f_two(torch, x, y).sum(), argnums=-1)(xt, yt))


def test_grad_pytree_input_and_aux():
    a, b = arr(3), arr(3)
    (xe, xt), (ye, yt) = both(a), both(b)

    def f(L, d):
        out = (d["x"] * d["y"].sin()).sum()
        return out, {"double": out * 2}

    ge, aux_e = efunc.grad(lambda d: f(ember, d), has_aux=True)({"x": xe, "y": ye})
    gt, aux_t = tfunc.grad(lambda d: f(torch, d), has_aux=True)({"x": xt, "y": yt})
    assert set(ge) == {"x", "y"}
    assert_close(ge["x"], gt["x"])
    assert_close(ge["y"], gt["y"])
    assert_close(aux_e["double"], aux_t["double"])
    assert not aux_e["double"].requires_grad
    with pytest.raises(RuntimeError, match="Expected tensors, got unsupported type"):
        efunc.grad(lambda x: (x.sum(), 3), has_aux=True)(xe)


def test_grad_and_value():
    xe, xt = both(arr(4))
    (ge, ve) = efunc.grad_and_value(lambda x: f_scalar(ember, x))(xe)
    (gt, vt) = tfunc.grad_and_value(lambda x: f_scalar(torch, x))(xt)
    assert_close(ge, gt)
    assert_close(ve, vt)
    assert not ve.requires_grad


def test_grad_of_unused_or_constant_output_is_zero():
    xe, xt = both(arr(3))
    assert_close(efunc.grad(lambda x: x.sum() * 0 + 1.0)(xe), tfunc.grad(lambda x: x.sum() * 0 + 1.0)(xt))
    assert_close(efunc.grad(lambda x, y: (y * 2).sum())(xe, xe), tfunc.grad(lambda x, y: (y * 2).sum())(xt, xt))
    assert_close(efunc.grad(lambda x: ember.tensor(1.0))(xe), tfunc.grad(lambda x: torch.tensor(1.0))(xt))


def test_nested_grad_second_and_third_derivative():
    xe, xt = both(arr(4))
    assert_close(efunc.grad(lambda x: efunc.grad(lambda y: (y.sin() * y).sum())(x).sum())(xe),
                 tfunc.grad(lambda x: tfunc.grad(lambda y: (y.sin() * y).sum())(x).sum())(xt))
    # a scalar function: grad(grad(grad(f)))
    s = np.float32(0.7)
    se, st = both(np.array(s))
    ge = efunc.grad(efunc.grad(efunc.grad(lambda x: x.sin() * x ** 3)))(se)
    gt = tfunc.grad(tfunc.grad(tfunc.grad(lambda x: x.sin() * x ** 3)))(st)
    assert_close(ge, gt, rtol=1e-5, atol=1e-5)


def test_nested_grad_closing_over_outer_input():
    # d/dx [ d/dy (x*y)^2 at y=c ] = d/dx [2 x^2 c] = 4 x c: the inner result must stay tied to x
    a, c = arr(3), arr(3)
    (xe, xt), (ce, ct) = both(a), both(c)
    ge = efunc.grad(lambda x: efunc.grad(lambda y: ((x * y) ** 2).sum())(ce).sum())(xe)
    gt = tfunc.grad(lambda x: tfunc.grad(lambda y: ((x * y) ** 2).sum())(ct).sum())(xt)
    assert_close(ge, gt)


def test_grad_composes_with_backward():
    # a closed-over parameter: grad's result is differentiable in it (grad-penalty style)
    a, w = arr(4), arr(4)
    xe, xt = both(a)
    we, wt = ember.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    ge = efunc.grad(lambda x: (we * x.sin()).sum())(xe)
    gt = tfunc.grad(lambda x: (wt * x.sin()).sum())(xt)
    assert ge.requires_grad
    (ge ** 2).sum().backward()
    (gt ** 2).sum().backward()
    assert_close(we.grad, wt.grad)


def test_grad_errors_match_torch():
    xe, xt = both(arr(3))
    cases = [
        (lambda m: m.grad(lambda x: x * 2)(xe if m is efunc else xt)),
        (lambda m: m.grad(lambda x: x.sum(), argnums=1)(xe if m is efunc else xt)),
        (lambda m: m.grad(lambda x: x.sum(), argnums=(0, 0))(xe if m is efunc else xt)),
        (lambda m: m.grad(lambda x: x.sum(), argnums=1.0)(xe if m is efunc else xt)),
        (lambda m: m.grad(lambda x: (x.sum(), 1))(xe if m is efunc else xt)),
        (lambda m: m.grad(lambda x: x.sum(), has_aux=True)(xe if m is efunc else xt)),
        (lambda m: m.grad(lambda x: x.sum())(3.0)),
        (lambda m: m.grad(lambda x: x.sum())((xe if m is efunc else xt).long())),
    ]
    for case in cases:
        with pytest.raises(Exception) as te:
            case(tfunc)
        with pytest.raises(te.type) as ee:
            case(efunc)
        assert str(ee.value).split(":")[0] == str(te.value).split(":")[0]


# --------------------------------------------------------------------------- vjp
def test_vjp_tuple_output_and_repeated_calls():
    a, b = arr(3, 4), arr(4, 2)
    (xe, xt), (ye, yt) = both(a), both(b)
    oe, fe = efunc.vjp(lambda x, y: (f_two(ember, x, y), x.sin()), xe, ye)
    ot, ft = tfunc.vjp(lambda x, y: (f_two(torch, x, y), x.sin()), xt, yt)
    assert_close(oe, ot)
    for _ in range(2):
        c1, c2 = arr(3, 2), arr(3, 4)
        ge = fe((ember.tensor(c1), ember.tensor(c2)))
        gt = ft((torch.tensor(c1), torch.tensor(c2)))
        assert isinstance(ge, tuple) and len(ge) == 2
        assert_close(ge, gt)
    assert not oe[0].requires_grad


def test_vjp_has_aux_and_structure_error():
    xe, xt = both(arr(3))
    oe, fe, aux_e = efunc.vjp(lambda x: (x.exp(), x.cos()), xe, has_aux=True)
    ot, ft, aux_t = tfunc.vjp(lambda x: (x.exp(), x.cos()), xt, has_aux=True)
    assert_close(fe(ember.ones(3)), ft(torch.ones(3)))
    assert_close(aux_e, aux_t)
    _, fe2 = efunc.vjp(lambda x: (x * 2, x), xe)
    with pytest.raises(RuntimeError, match="pytree structure of cotangents"):
        fe2(ember.ones(3))
    with pytest.raises(RuntimeError, match="return only tensors"):
        efunc.vjp(lambda x: 2, xe)
    with pytest.raises(ValueError, match="must be Tensor"):
        efunc.vjp(lambda x: x, 3.0)


# --------------------------------------------------------------------------- jvp, linearize
@pytest.mark.parametrize("name", ["vec", "mlp"])
def test_jvp_matches_torch(name):
    if name == "vec":
        prim, tang = (arr(5),), (arr(5),)
        fn = f_vec
    else:
        prim, tang = (arr(3, 4), arr(2, 3)), (arr(3, 4), arr(2, 3))
        fn = f_mlp
    pe = tuple(ember.tensor(p) for p in prim)
    pt = tuple(torch.tensor(p) for p in prim)
    te = tuple(ember.tensor(t) for t in tang)
    tt = tuple(torch.tensor(t) for t in tang)
    oe, je = efunc.jvp(lambda *a: fn(ember, *a), pe, te)
    ot, jt = tfunc.jvp(lambda *a: fn(torch, *a), pt, tt)
    assert_close(oe, ot)
    assert_close(je, jt)
    assert not je.requires_grad and not oe.requires_grad


def test_jvp_has_aux_multiple_outputs_and_independent_output():
    a, v = arr(4), arr(4)
    (xe, xt), (ve, vt) = both(a), both(v)
    re = efunc.jvp(lambda x: ((x.sin(), ember.ones(2)), x.sum()), (xe,), (ve,), has_aux=True)
    rt = tfunc.jvp(lambda x: ((x.sin(), torch.ones(2)), x.sum()), (xt,), (vt,), has_aux=True)
    assert_close(re, rt)


def test_jvp_errors():
    xe, _ = both(arr(3))
    with pytest.raises(RuntimeError, match="Expected primals to be a tuple"):
        efunc.jvp(lambda x: x, xe, xe)
    with pytest.raises(RuntimeError, match="same python structure"):
        efunc.jvp(lambda x: x, (xe,), [xe])
    with pytest.raises(RuntimeError, match="different size"):
        efunc.jvp(lambda x: x, (xe,), (xe[:2],))
    with pytest.raises(RuntimeError, match="return only tensors"):
        efunc.jvp(lambda x: 2, (xe,), (xe,))


def test_linearize_matches_jvp():
    a = arr(4)
    xe, xt = both(a)
    oe, fe = efunc.linearize(lambda x: f_vec(ember, x), xe)
    ot, ft = tfunc.linearize(lambda x: f_vec(torch, x), xt)
    assert_close(oe, ot)
    for _ in range(2):
        v = arr(4)
        assert_close(fe(ember.tensor(v)), ft(torch.tensor(v)))


def test_forward_over_reverse_hvp():
    a, v = arr(4), arr(4)
    (xe, xt), (ve, vt) = both(a), both(v)
    _, he = efunc.jvp(efunc.grad(lambda x: f_scalar(ember, x)), (xe,), (ve,))
    _, ht = tfunc.jvp(tfunc.grad(lambda x: f_scalar(torch, x)), (xt,), (vt,))
    assert_close(he, ht, rtol=1e-5, atol=1e-5)


# --------------------------------------------------------------------------- Jacobians, Hessian
@pytest.mark.parametrize("jac", ["jacrev", "jacfwd"])
def test_jacobians_match_torch(jac):
    a, b = arr(3, 4), arr(2, 3)
    (we, wt), (xe, xt) = both(a), both(b)
    je = getattr(efunc, jac)(lambda w, x: f_mlp(ember, w, x), argnums=(0, 1))(we, xe)
    jt = getattr(tfunc, jac)(lambda w, x: f_mlp(torch, w, x), argnums=(0, 1))(wt, xt)
    assert je[0].shape == (2, 4, 3, 4) and je[1].shape == (2, 4, 2, 3)
    assert_close(je, jt, rtol=1e-5, atol=1e-6)
    # one argnum, pytree output, has_aux
    je = getattr(efunc, jac)(lambda x: ({"a": x.sin(), "b": x.sum()}, x * 2), has_aux=True)(xe)
    jt = getattr(tfunc, jac)(lambda x: ({"a": x.sin(), "b": x.sum()}, x * 2), has_aux=True)(xt)
    assert_close(je[0]["a"], jt[0]["a"])
    assert_close(je[0]["b"], jt[0]["b"])
    assert_close(je[1], jt[1])


def test_jacobians_of_nn_layer():
    lin_e = ember.nn.Linear(4, 3)
    lin_t = torch.nn.Linear(4, 3)
    with torch.no_grad():
        lin_t.weight.copy_(torch.tensor(lin_e.weight.detach().numpy()))
        lin_t.bias.copy_(torch.tensor(lin_e.bias.detach().numpy()))
    xe, xt = both(arr(2, 4))
    for jac in ("jacrev", "jacfwd"):
        assert_close(getattr(efunc, jac)(lambda x: ember.nn.functional.layer_norm(lin_e(x), (3,)))(xe),
                     getattr(tfunc, jac)(lambda x: torch.nn.functional.layer_norm(lin_t(x), (3,)))(xt),
                     rtol=1e-4, atol=1e-5)  # layer_norm's variance: float32 rounding differs in the last bits


def test_hessian_matches_torch():
    a, b = arr(3), arr(3)
    (xe, xt), (ye, yt) = both(a), both(b)
    he = efunc.hessian(lambda x, y: (x.sin() * y.exp() * x).sum(), argnums=(0, 1))(xe, ye)
    ht = tfunc.hessian(lambda x, y: (x.sin() * y.exp() * x).sum(), argnums=(0, 1))(xt, yt)
    assert_close(he, ht, rtol=1e-5, atol=1e-5)
    assert not he[0][0].requires_grad


def test_jacobian_gradcheck_float64():
    # jacrev's entries are differentiable: gradcheck them through an outer function
    a = RNG.standard_normal(3)
    x = ember.tensor(a, requires_grad=True)
    assert ember.autograd.gradcheck(lambda x: efunc.jacrev(lambda y: y.sin() * y.sum())(x), (x,))
    assert ember.autograd.gradcheck(lambda x: efunc.jacfwd(lambda y: y.exp() * y.sum())(x), (x,))


def test_autograd_functional_forward_mode_jacobian():
    import ember.autograd.functional as EF
    import torch.autograd.functional as TF
    a, b = arr(3), arr(3)
    (xe, xt), (ye, yt) = both(a), both(b)
    je = EF.jacobian(lambda x, y: (x.sin(), x * y), (xe, ye), strategy="forward-mode", vectorize=True)
    jt = TF.jacobian(lambda x, y: (x.sin(), x * y), (xt, yt), strategy="forward-mode", vectorize=True)
    assert_close(je, jt)
    assert_close(EF.jacobian(lambda x: x.exp(), xe, strategy="forward-mode", vectorize=True),
                 TF.jacobian(lambda x: x.exp(), xt, strategy="forward-mode", vectorize=True))
    assert_close(EF.hessian(lambda x: (x.sin() * x).sum(), xe, outer_jacobian_strategy="forward-mode",
                            vectorize=True),
                 TF.hessian(lambda x: (x.sin() * x).sum(), xt, outer_jacobian_strategy="forward-mode",
                            vectorize=True).detach())
    for kw, exc in ((dict(strategy="forward-mode"), NotImplementedError),
                    (dict(strategy="forward-mode", vectorize=True, strict=True), RuntimeError),
                    (dict(strategy="forward-mode", vectorize=True, create_graph=True), NotImplementedError),
                    (dict(vectorize=True, strict=True), RuntimeError)):
        with pytest.raises(exc):
            TF.jacobian(lambda x: x.sin(), xt, **kw)
        with pytest.raises(exc):
            EF.jacobian(lambda x: x.sin(), xe, **kw)


# --------------------------------------------------------------------------- vmap
def test_vmap_in_dims_out_dims():
    a, b = arr(3, 5), arr(5, 3)
    (xe, xt), (ye, yt) = both(a), both(b)
    assert_close(efunc.vmap(lambda x, y: (x * y).sum(), in_dims=(0, 1))(xe, ye),
                 tfunc.vmap(lambda x, y: (x * y).sum(), in_dims=(0, 1))(xt, yt))
    assert_close(efunc.vmap(lambda x, y: x @ y, in_dims=(0, None), out_dims=1)(xe, ye),
                 tfunc.vmap(lambda x, y: x @ y, in_dims=(0, None), out_dims=1)(xt, yt))
    assert_close(efunc.vmap(lambda x: (x, x.sum()), in_dims=-1, out_dims=(-1, 0))(xe),
                 tfunc.vmap(lambda x: (x, x.sum()), in_dims=-1, out_dims=(-1, 0))(xt))
    assert_close(efunc.vmap(lambda d: d["a"] * 2)({"a": xe}), tfunc.vmap(lambda d: d["a"] * 2)({"a": xt}))
    assert_close(efunc.vmap(lambda x: (x, ember.ones(2)), out_dims=(0, None))(xe),
                 tfunc.vmap(lambda x: (x, torch.ones(2)), out_dims=(0, None))(xt))
    assert_close(efunc.vmap(lambda x: x * 2)(ember.zeros(0, 3)), tfunc.vmap(lambda x: x * 2)(torch.zeros(0, 3)))


def test_nested_vmap_and_per_sample_grads():
    a, b = arr(2, 3, 4), arr(4)
    (xe, xt), (we, wt) = both(a), both(b)
    assert_close(efunc.vmap(efunc.vmap(lambda x, w: (x * w).tanh().sum(), in_dims=(0, None)),
                            in_dims=(0, None))(xe, we),
                 tfunc.vmap(tfunc.vmap(lambda x, w: (x * w).tanh().sum(), in_dims=(0, None)),
                            in_dims=(0, None))(xt, wt))
    # per-sample gradients, the classic vmap(grad(loss)) with in_dims=(None, 0)
    ge = efunc.vmap(efunc.grad(lambda w, x: (x @ w).sin().sum()), in_dims=(None, 0))(we, xe)
    gt = tfunc.vmap(tfunc.grad(lambda w, x: (x @ w).sin().sum()), in_dims=(None, 0))(wt, xt)
    assert_close(ge, gt)


def test_vmap_is_differentiable():
    a = arr(3, 4)
    xe = ember.tensor(a, requires_grad=True)
    xt = torch.tensor(a, requires_grad=True)
    efunc.vmap(lambda x: x.softmax(0) * x)(xe).sum().backward()
    tfunc.vmap(lambda x: x.softmax(0) * x)(xt).sum().backward()
    assert_close(xe.grad, xt.grad)


def test_vmap_errors_match_torch():
    x2e, x2t = both(arr(2, 3))
    x4e, x4t = both(arr(4, 3))
    cases = [
        lambda m, L, a, b: m.vmap(lambda x, y: x * y)(a, b),
        lambda m, L, a, b: m.vmap(lambda x: x, in_dims=None)(a),
        lambda m, L, a, b: m.vmap(lambda x: x, in_dims=(None,))(a),
        lambda m, L, a, b: m.vmap(lambda x: x, in_dims=2)(a),
        lambda m, L, a, b: m.vmap(lambda x: x, in_dims=(0, 0))(a),
        lambda m, L, a, b: m.vmap(lambda x: 2)(a),
        lambda m, L, a, b: m.vmap(lambda x: x.sum(), out_dims=1)(a),
        lambda m, L, a, b: m.vmap(lambda x: L.rand(2))(a),
        lambda m, L, a, b: m.vmap(lambda x: x, randomness="foo")(a),
        lambda m, L, a, b: m.vmap(lambda x: x)(L.tensor(1.0)),
        lambda m, L, a, b: m.vmap(lambda x: x)(1.0),
    ]
    for case in cases:
        with pytest.raises(Exception) as te:
            case(tfunc, torch, x2t, x4t)
        with pytest.raises(te.type) as ee:
            case(efunc, ember, x2e, x4e)
        assert str(ee.value)[:30] == str(te.value)[:30], (str(ee.value), str(te.value))


def test_vmap_randomness_modes():
    xe = ember.zeros(3, 2)
    ember.manual_seed(0)
    same = efunc.vmap(lambda x: x + ember.rand(2), randomness="same")(xe)
    assert_close(same[0], same[1])
    assert_close(same[0], same[2])
    diff = efunc.vmap(lambda x: x + ember.rand(2), randomness="different")(xe)
    assert not np.allclose(diff[0].numpy(), diff[1].numpy())


# --------------------------------------------------------------------------- functional_call
def _twin(module_e, module_t):
    """Copy ember module state into the torch twin (same names, same arrays)."""
    sd = {k: torch.tensor(v.detach().numpy().copy()) for k, v in module_e.state_dict().items()}
    module_t.load_state_dict(sd)


def test_functional_call_linear_and_sequential_with_grads():
    me = ember.nn.Sequential(ember.nn.Linear(4, 5), ember.nn.Tanh(), ember.nn.Linear(5, 2))
    mt = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2))
    _twin(me, mt)
    new = {k: arr(*v.shape) for k, v in me.state_dict().items()}
    pe = {k: ember.tensor(v, requires_grad=True) for k, v in new.items()}
    pt = {k: torch.tensor(v, requires_grad=True) for k, v in new.items()}
    xe, xt = both(arr(3, 4))
    oe = efunc.functional_call(me, pe, (xe,))
    ot = tfunc.functional_call(mt, pt, (xt,))
    assert_close(oe, ot)
    oe.square().sum().backward()
    ot.square().sum().backward()
    for k in new:
        assert_close(pe[k].grad, pt[k].grad)
    # the module's own parameters are back, untouched and without grads
    assert_close(me(xe), mt(xt))
    assert all(p.grad is None for p in me.parameters())
    # a single tensor arg, kwargs, a tuple of dicts
    assert_close(efunc.functional_call(me, ({"0.weight": pe["0.weight"]}, {"2.bias": pe["2.bias"]}), xe),
                 tfunc.functional_call(mt, ({"0.weight": pt["0.weight"]}, {"2.bias": pt["2.bias"]}), xt))


def test_functional_call_batchnorm_buffers():
    me, mt = ember.nn.BatchNorm1d(3), torch.nn.BatchNorm1d(3)
    _twin(me, mt)
    a = arr(6, 3)
    xe, xt = both(a)
    be = {"running_mean": ember.zeros(3), "running_var": ember.ones(3),
          "num_batches_tracked": ember.tensor(0)}
    bt = {"running_mean": torch.zeros(3), "running_var": torch.ones(3),
          "num_batches_tracked": torch.tensor(0)}
    assert_close(efunc.functional_call(me, be, xe), tfunc.functional_call(mt, bt, xt))
    for k in be:  # the given buffers were updated in place, the module's own were not
        assert_close(be[k], bt[k])
        assert_close(me.state_dict()[k], mt.state_dict()[k])
    assert int(me.num_batches_tracked) == 0
    me.eval()
    mt.eval()
    assert_close(efunc.functional_call(me, be, xe), tfunc.functional_call(mt, bt, xt))


def test_functional_call_restores_on_error_and_validates_first():
    me = ember.nn.Linear(3, 2)
    w = me.weight
    with pytest.raises(RuntimeError):
        efunc.functional_call(me, {"weight": ember.ones(4, 5)}, ember.ones(3))
    assert me.weight is w
    with pytest.raises(AttributeError):
        efunc.functional_call(me, {"weight": ember.ones(2, 3), "bar.baz": ember.ones(1)}, ember.ones(3))
    assert me.weight is w
    with pytest.raises(TypeError):
        efunc.functional_call(me, {"weight": 3}, ember.ones(3))
    with pytest.raises(ValueError, match="appeared in multiple dictionaries"):
        efunc.functional_call(me, ({"weight": ember.ones(2, 3)}, {"weight": ember.ones(2, 3)}), ember.ones(3))


def test_functional_call_strict_and_tied_weights():
    class Tied:
        @staticmethod
        def build(L):
            class T(L.nn.Module):
                def __init__(self):
                    super().__init__()
                    self.a = L.nn.Linear(3, 3)
                    self.b = L.nn.Linear(3, 3)
                    self.b.weight = self.a.weight

                def forward(self, x):
                    return self.b(self.a(x))
            return T()

    te, tt = Tied.build(ember), Tied.build(torch)
    _twin(te, tt)
    xe, xt = both(arr(3))
    w = arr(3, 3)
    assert_close(efunc.functional_call(te, {"a.weight": ember.tensor(w)}, xe),
                 tfunc.functional_call(tt, {"a.weight": torch.tensor(w)}, xt))
    assert_close(efunc.functional_call(te, {"a.weight": ember.tensor(w)}, xe, tie_weights=False),
                 tfunc.functional_call(tt, {"a.weight": torch.tensor(w)}, xt, tie_weights=False))
    cases = [
        (dict(d={"a.weight": 1, "b.weight": 0}), {}),
        (dict(d={"a.weight": 1}), dict(strict=True)),
        (dict(d={"a.weight": 1, "a.bias": 1, "b.bias": 1}), dict(strict=True, tie_weights=False)),
        (dict(d={"a.weight": 1, "a.bias": 1, "b.bias": 1, "zzz": 1, "foo": 1}), dict(strict=True)),
    ]
    for spec, kw in cases:
        de = {k: ember.ones(3, 3) * v if "weight" in k else ember.ones(3) for k, v in spec["d"].items()}
        dt = {k: torch.ones(3, 3) * v if "weight" in k else torch.ones(3) for k, v in spec["d"].items()}
        with pytest.raises(Exception) as t_err:
            tfunc.functional_call(tt, dt, xt, **kw)
        with pytest.raises(t_err.type) as e_err:
            efunc.functional_call(te, de, xe, **kw)
        assert str(e_err.value).replace("T:", "") == str(t_err.value).replace("T:", "")


def test_stack_module_state_and_ensemble_vmap():
    models_e = [ember.nn.Linear(3, 2) for _ in range(4)]
    models_t = [torch.nn.Linear(3, 2) for _ in range(4)]
    for a, b in zip(models_e, models_t):
        _twin(a, b)
    pe, be = efunc.stack_module_state(models_e)
    pt, bt = tfunc.stack_module_state(models_t)
    assert list(pe) == list(pt) and be == {} and bt == {}
    for k in pe:
        assert_close(pe[k], pt[k])
        assert pe[k].requires_grad and pe[k].is_leaf
    xe, xt = both(arr(5, 3))
    base_e, base_t = models_e[0], models_t[0]
    oe = efunc.vmap(lambda p, x: efunc.functional_call(base_e, p, (x,)), in_dims=(0, None))(pe, xe)
    ot = tfunc.vmap(lambda p, x: tfunc.functional_call(base_t, p, (x,)),
                    in_dims=(0, None))(pt, xt)
    assert_close(oe, ot)
    oe.sum().backward()
    ot.sum().backward()
    assert_close(pe["weight"].grad, pt["weight"].grad)
    for models, mod in ((models_e, efunc), (models_t, tfunc)):
        with pytest.raises(RuntimeError, match="at least one model"):
            mod.stack_module_state([])
    models_e[1].eval()
    with pytest.raises(RuntimeError, match="training/eval mode"):
        efunc.stack_module_state(models_e)
    models_e[1].train()
    models_e[1].bias.requires_grad_(False)
    with pytest.raises(RuntimeError, match="same .requires_grad"):
        efunc.stack_module_state(models_e)


def test_replace_all_batch_norm_modules_and_functionalize():
    me = ember.nn.Sequential(ember.nn.Linear(3, 3), ember.nn.BatchNorm1d(3))
    mt = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.BatchNorm1d(3))
    _twin(me, mt)
    assert efunc.replace_all_batch_norm_modules_(me) is me
    tfunc.replace_all_batch_norm_modules_(mt)
    assert me[1].running_mean is None and not me[1].track_running_stats
    assert list(me.state_dict()) == list(mt.state_dict())
    xe, xt = both(arr(4, 3))
    me.eval()
    mt.eval()
    assert_close(me(xe), mt(xt), rtol=1e-5, atol=1e-5)
    assert_close(efunc.functionalize(lambda x: x.add_(1) * 2)(ember.ones(2)),
                 tfunc.functionalize(lambda x: x.add_(1) * 2)(torch.ones(2)))
    with pytest.raises(RuntimeError, match="invalid argument for remove"):
        efunc.functionalize(lambda x: x, remove="x")


def test_transforms_ignore_outer_no_grad():
    # function transforms run their own autograd, as PyTorch's do under an outer no_grad
    xe, xt = both(arr(3))
    with ember.no_grad():
        ge = efunc.grad(lambda x: (x ** 3).sum())(xe)
        _, je = efunc.jvp(lambda x: x.sin(), (xe,), (ember.ones(3),))
    with torch.no_grad():
        gt = tfunc.grad(lambda x: (x ** 3).sum())(xt)
        _, jt = tfunc.jvp(lambda x: x.sin(), (xt,), (torch.ones(3),))
    assert_close(ge, gt)
    assert_close(je, jt)
    assert not ge.requires_grad
