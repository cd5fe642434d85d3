"""nn.Module, Parameter and Buffer against PyTorch: registration, traversal, state_dict,
load_state_dict, modes, dtype moves, hooks, repr, copy and pickle.

Models are built twice from one recipe (``build(lib)`` with ``lib`` = torch or ember) and the
ember copy gets torch's weights through ``load_state_dict``, so values must agree exactly.
"""
from __future__ import annotations

import copy
import pickle
from collections import OrderedDict

import numpy as np
import pytest
import torch

import ember
from conftest import assert_close


def to_ember_sd(sd):
    out = OrderedDict((k, ember.tensor(v.detach().numpy().copy())) for k, v in sd.items())
    return out


def build(lib):
    """A nested model with a buffer, a non-persistent buffer, a plain tensor attribute, a tied
    weight and assignment order unlike state_dict order."""
    nn = lib.nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 3)
            self.register_buffer("scale", lib.ones(3) * 2)
            self.register_buffer("tmp", lib.zeros(2), persistent=False)
            self.alpha = nn.Parameter(lib.ones(1) * 0.5)  # param assigned after a child

        def forward(self, x):
            return self.fc(x) * self.scale * self.alpha

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.block = Block()
            self.head = nn.Linear(3, 2)
            self.plain = lib.ones(3)  # neither parameter nor buffer
            self.tied = nn.Linear(3, 2)
            self.tied.weight = self.head.weight
            self.register_buffer("steps", lib.tensor(0))
            self.w = nn.Parameter(lib.ones(2))

        def forward(self, x):
            h = self.block(x)
            return self.head(h) + self.tied(h) * self.w

    if lib is ember:  # module-level names, so that pickle can find the classes
        for cls in (Block, Net):
            cls.__qualname__ = cls.__name__ + "_ember"
            globals()[cls.__qualname__] = cls
    return Net()


@pytest.fixture
def nets():
    torch.manual_seed(0)
    t = build(torch)
    e = build(ember)
    e.load_state_dict(to_ember_sd(t.state_dict()))
    return e, t


# ---------------------------------------------------------------- Parameter / Buffer
def test_parameter_basics():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    pe, pt = ember.nn.Parameter(ember.tensor(a)), torch.nn.Parameter(torch.tensor(a))
    assert isinstance(pe, ember.Tensor) and isinstance(pe, ember.nn.Parameter)
    assert pe.requires_grad and pe.is_leaf and pe.grad_fn is None
    assert repr(pe) == repr(pt)
    assert repr(ember.nn.Parameter()) == repr(torch.nn.Parameter())
    assert repr(ember.nn.Parameter(ember.tensor(a), requires_grad=False)) == \
        repr(torch.nn.Parameter(torch.tensor(a), requires_grad=False))
    # shares memory with its data; ops give plain tensors
    src = ember.tensor(a.copy())
    p = ember.nn.Parameter(src)
    src.add_(1)
    assert p[0, 0].item() == 1.0
    assert type(p * 2) is ember.Tensor and type(p.detach()) is ember.Tensor and type(p.data) is ember.Tensor
    with pytest.raises(RuntimeError) as et:
        torch.nn.Parameter(torch.ones(2, dtype=torch.long))
    with pytest.raises(RuntimeError) as ee:
        ember.nn.Parameter(ember.ones(2, dtype=ember.int64))
    assert str(ee.value) == str(et.value)
    pi_e = ember.nn.Parameter(ember.ones(2, dtype=ember.int64), requires_grad=False)
    pi_t = torch.nn.Parameter(torch.ones(2, dtype=torch.long), requires_grad=False)
    assert repr(pi_e) == repr(pi_t)


def test_buffer_class():
    for lib in (ember, torch):
        x = lib.ones(2, requires_grad=True)
        b = lib.nn.Buffer(x)
        assert type(b) is lib.Tensor and isinstance(b, lib.nn.Buffer)
        assert b.requires_grad is True and b.persistent is True  # keeps its data's flag
        assert b.data_ptr() == x.data_ptr()
        assert not isinstance(lib.zeros(1), lib.nn.Buffer)
        assert not isinstance(lib.nn.Parameter(lib.zeros(1)), lib.nn.Buffer)
        assert lib.nn.Buffer(lib.zeros(1)).requires_grad is False


def test_buffer_vs_parameter_vs_plain_tensor():
    res = {}
    for lib in (ember, torch):
        m = lib.nn.Module()
        m.p = lib.nn.Parameter(lib.ones(2))
        m.register_buffer("b", lib.ones(3))
        m.nb = lib.nn.Buffer(lib.ones(1), persistent=False)
        m.t = lib.ones(4)
        m.register_buffer("none_buf", None)
        res[lib] = (list(dict(m.named_parameters())), list(dict(m.named_buffers())), list(m.state_dict()),
                    m.b.requires_grad, m.p.requires_grad, sorted(m._non_persistent_buffers_set),
                    "t" in m.__dict__, m.none_buf)
        # re-assigning a plain tensor to a buffer name keeps it a buffer
        m.b = lib.zeros(5)
        res[lib] += (list(m.state_dict()), tuple(m.b.shape))
    assert res[ember] == res[torch]


@pytest.mark.parametrize("action", [
    "assign_tensor_to_param", "buffer_over_param", "buffer_dot", "buffer_empty", "buffer_wrong_type",
    "param_wrong_type", "module_wrong_type", "missing_attr", "assign_module_over_child_none",
    "before_init", "nonleaf_param", "add_module_type", "get_submodule_missing", "get_submodule_not_module",
    "get_parameter_not_param", "get_buffer_not_buffer"])
def test_registration_errors(action):
    def run(lib):
        nn = lib.nn
        m = nn.Linear(2, 3)
        if action == "assign_tensor_to_param":
            m.weight = lib.zeros(3, 2)
        elif action == "buffer_over_param":
            m.register_buffer("weight", lib.zeros(2))
        elif action == "buffer_dot":
            m.register_buffer("a.b", lib.zeros(2))
        elif action == "buffer_empty":
            m.register_buffer("", lib.zeros(2))
        elif action == "buffer_wrong_type":
            m.register_buffer("x", 3)
        elif action == "param_wrong_type":
            m.register_parameter("x", lib.zeros(2))
        elif action == "module_wrong_type":
            s = nn.Sequential(nn.ReLU() if hasattr(nn, "ReLU") else nn.Identity())
            s[0] = None
            s._modules["0"] = None
            s.__setattr__("0", 5)
        elif action == "missing_attr":
            m.foo
        elif action == "assign_module_over_child_none":
            s = nn.Sequential(nn.Identity())
            setattr(s, "0", 7)
        elif action == "before_init":
            class Bad(nn.Module):
                def __init__(self):
                    self.w = nn.Parameter(lib.zeros(1))
            Bad()
        elif action == "nonleaf_param":
            p = nn.Parameter(lib.ones(2))
            m.register_parameter("x", p * 2)
        elif action == "add_module_type":
            m.add_module("x", 3)
        elif action == "get_submodule_missing":
            nn.Sequential(nn.Linear(1, 1)).get_submodule("0.nope")
        elif action == "get_submodule_not_module":
            nn.Sequential(nn.Linear(1, 1)).get_submodule("0.weight")
        elif action == "get_parameter_not_param":
            s = nn.Sequential(nn.Linear(1, 1))
            s[0].register_buffer("buf", lib.zeros(1))
            s.get_parameter("0.buf")
        elif action == "get_buffer_not_buffer":
            nn.Sequential(nn.Linear(1, 1)).get_buffer("0.weight")

    with pytest.raises(Exception) as et:
        run(torch)
    with pytest.raises(Exception) as ee:
        run(ember)
    assert type(ee.value) is type(et.value)
    assert str(ee.value) == str(et.value)


def test_get_submodule_parameter_buffer(nets):
    e, t = nets
    assert e.get_submodule("") is e
    assert e.get_submodule("block.fc") is e.block.fc
    assert e.get_parameter("block.fc.weight") is e.block.fc.weight
    assert e.get_parameter("w") is e.w
    assert e.get_buffer("block.scale") is e.block.scale
    assert_close(e.get_buffer("block.scale"), t.get_buffer("block.scale"))


def test_delattr_and_dir():
    for lib in (ember, torch):
        m = lib.nn.Linear(2, 2)
        m.register_buffer("b", lib.zeros(1), persistent=False)
        m.sub = lib.nn.Identity()
        d = dir(m)
        assert {"weight", "bias", "b", "sub", "forward", "state_dict"} <= set(d)
        del m.weight, m.b, m.sub
        assert list(m._parameters) == ["bias"] and not m._buffers and not m._modules
        assert "b" not in m._non_persistent_buffers_set
        m.x = 1
        del m.x
        assert not hasattr(m, "x")


# ---------------------------------------------------------------- traversal
def test_named_traversals_match(nets):
    e, t = nets

    def names(it):
        return [n for n, _ in it]
    for kw in ({}, {"prefix": "model"}, {"recurse": False}, {"remove_duplicate": False}):
        assert names(e.named_parameters(**kw)) == names(t.named_parameters(**kw))
        assert names(e.named_buffers(**kw)) == names(t.named_buffers(**kw))
    for kw in ({}, {"prefix": "m"}, {"remove_duplicate": False}):
        assert names(e.named_modules(**kw)) == names(t.named_modules(**kw))
    assert names(e.named_children()) == names(t.named_children())
    assert len(list(e.parameters())) == len(list(t.parameters()))
    assert len(list(e.buffers())) == len(list(t.buffers()))
    assert [type(m).__name__ for m in e.modules()] == [type(m).__name__ for m in t.modules()]
    assert [type(m).__name__ for m in e.children()] == [type(m).__name__ for m in t.children()]
    for (ne, pe), (nt, pt) in zip(e.named_parameters(), t.named_parameters()):
        assert_close(pe, pt)
    # a module reachable twice is listed once (unless asked otherwise)
    for lib in (ember, torch):
        lin = lib.nn.Linear(1, 1)
        s = lib.nn.Sequential(lin, lin)
        assert len(list(s.modules())) == 2 and len(list(s.named_modules(remove_duplicate=False))) == 3
        assert len(list(s.parameters())) == 2 and len(list(s.children())) == 1
        memo = set()
        assert [n for n, _ in s.named_modules(memo=memo)] == ["", "0"] and len(memo) == 2


def test_forward_and_backward_match(nets, rng):
    e, t = nets
    x = rng.standard_normal((5, 4)).astype(np.float32)
    xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ye, yt = e(xe), t(xt)
    assert_close(ye, yt)
    (ye * ye).sum().backward()
    (yt * yt).sum().backward()
    assert_close(xe.grad, xt.grad)
    for (ne, pe), (nt, pt) in zip(e.named_parameters(), t.named_parameters()):
        assert ne == nt
        assert_close(pe.grad, pt.grad, rtol=1e-5, atol=1e-5)


def test_forward_not_implemented():
    for lib in (ember, torch):
        with pytest.raises(NotImplementedError, match=r'Module \[Module\] is missing the required "forward"'):
            lib.nn.Module()(1)


def test_init_rejects_kwargs():
    for lib in (ember, torch):
        with pytest.raises(TypeError):
            lib.nn.Module(foo=1)


# ---------------------------------------------------------------- state_dict
def test_state_dict_order_sharing_and_metadata(nets):
    e, t = nets
    se, st = e.state_dict(), t.state_dict()
    assert type(se) is OrderedDict
    assert list(se) == list(st)
    assert se._metadata == st._metadata
    for k in st:
        assert_close(se[k], st[k])
        assert not se[k].requires_grad and se[k].grad_fn is None
    # tied weights: one parameter, two names, same memory
    assert se["head.weight"].data_ptr() == se["tied.weight"].data_ptr() == e.head.weight.data_ptr()
    # values share memory with the parameters
    se["block.fc.bias"].add_(1)
    assert_close(e.block.fc.bias, t.block.fc.bias + 1)
    kv = e.state_dict(keep_vars=True)
    assert kv["w"] is e.w and kv["block.scale"] is e.block.scale
    assert list(e.state_dict(prefix="pre.")) == list(t.state_dict(prefix="pre."))
    assert list(e.block.state_dict()) == list(t.block.state_dict())


def test_load_state_dict_roundtrip_and_results(nets, rng):
    e, t = nets
    x = rng.standard_normal((3, 4)).astype(np.float32)
    # ember -> torch round trip
    torch.manual_seed(1)
    t2 = build(torch)
    t2.load_state_dict({k: torch.tensor(v.numpy().copy()) for k, v in e.state_dict().items()})
    assert_close(e(ember.tensor(x)), t2(torch.tensor(x)))
    # result type and repr
    r = e.load_state_dict(e.state_dict())
    assert repr(r) == "<All keys matched successfully>" and r.missing_keys == [] and r.unexpected_keys == []
    sd_t = t.state_dict()
    del sd_t["block.fc.bias"]
    sd_t["block.other"] = torch.zeros(1)  # reported after the root's unexpected keys, as torch does
    sd_t["extra.thing"] = torch.zeros(1)
    sd_t["block.tmp"] = torch.zeros(2)  # a non-persistent buffer is not loadable
    sd_t["head.weight.deeper"] = torch.zeros(1)  # a dotted rest must go through a child
    sd_t["block"] = torch.zeros(1)  # a bare name must be a parameter or buffer
    sd_t["block.fc.zz"] = torch.zeros(1)
    sd_e = to_ember_sd(sd_t)
    rt = t.load_state_dict(sd_t, strict=False)
    re_ = e.load_state_dict(sd_e, strict=False)
    assert re_.missing_keys == rt.missing_keys and re_.unexpected_keys == rt.unexpected_keys
    assert repr(re_) == repr(rt)
    assert isinstance(re_, tuple) and re_ == (rt.missing_keys, rt.unexpected_keys)


def test_load_state_dict_strict_errors_leave_module_unchanged(nets):
    e, t = nets
    before = {k: v.clone() for k, v in e.state_dict().items()}
    sd_t = OrderedDict((k, v + 1) for k, v in t.state_dict().items())
    del sd_t["block.fc.bias"], sd_t["steps"]
    sd_t["bogus"] = torch.zeros(1)
    sd_t["head.bias"] = torch.zeros(7)
    sd_e = to_ember_sd(sd_t)
    with pytest.raises(RuntimeError) as et:
        t.load_state_dict(sd_t)
    with pytest.raises(RuntimeError) as ee:
        e.load_state_dict(sd_e)
    assert str(ee.value) == str(et.value)
    for k, v in e.state_dict().items():
        assert ember.equal(v, before[k]), k
    # a shape mismatch raises even when not strict, naming every bad key
    sd_t = OrderedDict((k, v) for k, v in t.state_dict().items())
    sd_t["head.bias"] = torch.zeros(7)
    sd_t["block.fc.weight"] = torch.zeros(4, 4)
    with pytest.raises(RuntimeError) as et:
        t.load_state_dict(sd_t, strict=False)
    with pytest.raises(RuntimeError) as ee:
        e.load_state_dict(to_ember_sd(sd_t), strict=False)
    assert str(ee.value) == str(et.value)
    for k, v in e.state_dict().items():
        assert ember.equal(v, before[k]), k


def test_load_state_dict_dtype_cast_and_assign():
    for lib in (ember, torch):
        m = lib.nn.Linear(2, 2)
        w = m.weight
        m.load_state_dict({"weight": lib.ones(2, 2, dtype=lib.float64), "bias": lib.zeros(2)})
        assert m.weight is w and m.weight.dtype == lib.float32 and m.weight.sum().item() == 4.0
        new_w = lib.full((2, 2), 3.0)
        m.load_state_dict({"weight": new_w, "bias": lib.zeros(2)}, assign=True)
        assert m.weight is not w and isinstance(m.weight, lib.nn.Parameter) and m.weight.requires_grad
        assert m.weight.data_ptr() == new_w.data_ptr()
        with pytest.raises(TypeError):
            m.load_state_dict([1, 2])


def test_state_dict_and_load_hooks():
    logs = {}
    for lib in (ember, torch):
        log = logs[lib] = []
        m = lib.nn.Sequential(lib.nn.Linear(2, 2))
        h1 = m[0].register_state_dict_pre_hook(lambda mod, prefix, keep_vars: log.append(("pre", prefix, keep_vars)))

        def post(mod, sd, prefix, meta):
            log.append(("post", prefix, sorted(sd), dict(meta)))
            sd[prefix + "added"] = lib.zeros(1)
        h2 = m[0]._register_state_dict_hook(post)
        sd = m.state_dict()
        log.append(sorted(sd))
        h1.remove()
        h2.remove()
        sd = m.state_dict()
        log.append(sorted(sd))

        def load_pre(sd, prefix, meta, strict, missing, unexpected, errors):
            log.append(("lpre", prefix, sorted(sd)))
            sd.pop(prefix + "added", None)

        def load_post(mod, keys):
            log.append(("lpost", list(keys.missing_keys), list(keys.unexpected_keys)))
            keys.missing_keys.clear()
        m[0]._register_load_state_dict_pre_hook(load_pre)
        m.register_load_state_dict_post_hook(load_post)
        sd["0.added"] = lib.zeros(1)
        del sd["0.bias"]
        r = m.load_state_dict(sd)  # the post hook clears the missing key, so strict passes
        log.append((r.missing_keys, r.unexpected_keys))
    assert logs[ember] == logs[torch]


# ---------------------------------------------------------------- modes, apply, grads, dtype
def test_train_eval_apply(nets):
    e, t = nets
    e.eval()
    t.eval()
    assert [m.training for m in e.modules()] == [m.training for m in t.modules()] == [False] * 5
    assert e.train() is e and all(m.training for m in e.modules())
    for lib, net in ((ember, e), (torch, t)):
        with pytest.raises(ValueError, match="training mode is expected to be boolean"):
            net.train("yes")
    seen_e, seen_t = [], []
    assert e.apply(lambda m: seen_e.append(type(m).__name__)) is e
    t.apply(lambda m: seen_t.append(type(m).__name__))
    assert seen_e == seen_t


def test_zero_grad_and_requires_grad(nets, rng):
    e, t = nets
    x = ember.tensor(rng.standard_normal((2, 4)).astype(np.float32))
    e(x).sum().backward()
    assert all(p.grad is not None for p in e.parameters())
    e.zero_grad(set_to_none=False)
    assert all(p.grad is not None and float(p.grad.abs().sum()) == 0.0 for p in e.parameters())
    e.zero_grad()
    assert all(p.grad is None for p in e.parameters())
    assert e.requires_grad_(False) is e and not any(p.requires_grad for p in e.parameters())
    e.requires_grad_()
    assert all(p.requires_grad for p in e.parameters())


def test_to_dtype_keeps_parameter_identity(nets):
    e, t = nets
    ids = [id(p) for p in e.parameters()]
    e.block.fc.weight.grad = ember.ones(3, 4)
    assert e.to(ember.float64) is e
    t.to(torch.float64)
    assert [id(p) for p in e.parameters()] == ids
    assert [str(v.dtype) for v in e.state_dict().values()] == [str(v.dtype) for v in t.state_dict().values()]
    assert e.block.fc.weight.grad.dtype == ember.float64
    assert e.steps.dtype == ember.int64  # integer buffers keep their dtype
    e.float()
    t.float()
    assert [str(v.dtype) for v in e.state_dict().values()] == [str(v.dtype) for v in t.state_dict().values()]
    assert e.to(ember.tensor([1.0], dtype=ember.float64)).w.dtype == ember.float64
    assert e.double().w.dtype == ember.float64 and e.half().w.dtype == ember.float16
    assert e.to("cpu") is e and e.cpu() is e
    e.type(ember.float32)
    assert e.steps.dtype == ember.float32  # type() casts everything, as in torch
    for lib, net in ((ember, e), (torch, t)):
        with pytest.raises(TypeError, match="nn.Module.to only accepts floating point or complex dtypes"):
            net.to(lib.int64)


# ---------------------------------------------------------------- hooks
def test_forward_hooks(rng):
    x = rng.standard_normal((2, 3)).astype(np.float32)
    out = {}
    for lib in (ember, torch):
        log = []
        m = lib.nn.Linear(3, 3)
        with lib.no_grad():
            m.weight.copy_(lib.tensor(np.eye(3, dtype=np.float32)))
            m.bias.zero_()
        h1 = m.register_forward_pre_hook(lambda mod, args: (args[0] * 2,))
        h2 = m.register_forward_pre_hook(lambda mod, args: log.append("first"), prepend=True)
        h3 = m.register_forward_hook(lambda mod, args, o: o + 1)
        h4 = m.register_forward_hook(lambda mod, args, kwargs, o: (log.append(sorted(kwargs)), o * 10)[1],
                                     with_kwargs=True)
        h5 = m.register_forward_pre_hook(lambda mod, args, kwargs: ((args[0] - 1,), kwargs), with_kwargs=True)
        y1 = m(lib.tensor(x))
        for h in (h1, h2, h3, h4, h5):
            h.remove()
        y2 = m(lib.tensor(x))
        with m.register_forward_hook(lambda mod, args, o: o * 0):
            y3 = m(lib.tensor(x))
        y4 = m(lib.tensor(x))
        out[lib] = (y1, y2, y3, y4, log)
    for a, b in zip(out[ember][:4], out[torch][:4]):
        assert_close(a, b)
    assert out[ember][4] == out[torch][4]


def test_forward_hook_always_call():
    logs = {}
    for lib in (ember, torch):
        log = logs[lib] = []

        class Boom(lib.nn.Module):
            def forward(self, x):
                raise ValueError("boom")
        m = Boom()
        m.register_forward_hook(lambda mod, args, o: log.append(("always", o)), always_call=True)
        m.register_forward_hook(lambda mod, args, o: log.append("normal"))
        with pytest.raises(ValueError):
            m(1)
    assert logs[ember] == logs[torch] == [("always", None)]


def test_full_backward_hooks(rng):
    x = rng.standard_normal((4, 3)).astype(np.float32)
    res = {}
    for lib in (ember, torch):
        m = lib.nn.Sequential(lib.nn.Linear(3, 5), lib.nn.Linear(5, 2))
        with lib.no_grad():
            m[0].weight.copy_(lib.tensor(np.linspace(-1, 1, 15, dtype=np.float32).reshape(5, 3)))
            m[1].weight.copy_(lib.tensor(np.linspace(-1, 1, 10, dtype=np.float32).reshape(2, 5)))
            m[0].bias.fill_(0.1)
            m[1].bias.fill_(-0.2)
        seen = []
        m[1].register_full_backward_hook(lambda mod, gi, go: seen.append((gi, go)))
        m[1].register_full_backward_pre_hook(lambda mod, go: (go[0] * 3,))
        m[0].register_full_backward_hook(lambda mod, gi, go: seen.append((gi, go)) or (gi[0] * 0.5,))
        xt = lib.tensor(x, requires_grad=True)
        y = m(xt)
        (y * y).sum().backward()
        res[lib] = (seen, xt.grad, m[0].weight.grad, m[1].weight.grad)
    se, st = res[ember], res[torch]
    assert len(se[0]) == len(st[0]) == 2
    for (gie, goe), (git, got) in zip(se[0], st[0]):
        assert len(gie) == len(git) and len(goe) == len(got)
        assert_close(list(gie), list(git))
        assert_close(list(goe), list(got))
    for a, b in zip(se[1:], st[1:]):
        assert_close(a, b, rtol=1e-5, atol=1e-5)


def test_full_backward_hook_no_input_grad(rng):
    res = {}
    for lib in (ember, torch):
        m = lib.nn.Linear(2, 2)
        seen = []
        m.register_full_backward_hook(lambda mod, gi, go: seen.append((gi, [tuple(g.shape) for g in go])))
        with pytest.warns(UserWarning):
            m(lib.ones(3, 2)).sum().backward()
        res[lib] = seen
    assert res[ember] == res[torch] == [((None,), [(3, 2)])]


# ---------------------------------------------------------------- repr, copy, pickle
def test_repr_matches(nets):
    e, t = nets
    assert repr(e) == repr(t)
    for lib in (ember, torch):
        class WithExtra(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = lib.nn.Linear(2, 3, bias=False)

            def extra_repr(self):
                return "k=1\nmode='x'"
        res = repr(lib.nn.Sequential(OrderedDict(a=WithExtra(), b=lib.nn.Identity(),
                                                 c=lib.nn.Sequential(lib.nn.Flatten(), lib.nn.Linear(1, 1)))))
        if lib is ember:
            first = res
    assert first == res


def test_deepcopy_and_pickle_are_independent(nets, rng):
    e, _ = nets
    x = ember.tensor(rng.standard_normal((2, 4)).astype(np.float32))
    y = e(x)
    for clone in (copy.deepcopy(e), pickle.loads(pickle.dumps(e))):
        assert type(clone.w) is ember.nn.Parameter and clone.w.requires_grad
        assert list(clone.state_dict()) == list(e.state_dict())
        assert clone.head.weight is clone.tied.weight  # tying survives
        assert clone.w is not e.w and clone.w.data_ptr() != e.w.data_ptr()
        assert_close(clone(x), y)
        with ember.no_grad():
            clone.w.add_(1)
        assert_close(e(x), y)
        assert not ember.equal(clone(x), y)
        assert clone.plain is not e.plain and clone.block.tmp.shape == (2,)
        assert clone.block._non_persistent_buffers_set == {"tmp"}


def test_load_from_state_dict_direct_call():
    # subclasses call _load_from_state_dict with plain lists: it copies at once and scans for extras
    res = {}
    for lib in (ember, torch):
        m = lib.nn.Linear(2, 1)
        m.register_buffer("nb", lib.zeros(1), persistent=False)
        sd = OrderedDict(weight=lib.ones(1, 2), z=lib.zeros(1), nb=lib.zeros(1))
        sd["x.y"] = lib.zeros(1)
        missing, unexpected, errors = [], [], []
        m._load_from_state_dict(sd, "", {}, True, missing, unexpected, errors)
        res[lib] = (missing, unexpected, errors, m.weight.tolist())
    assert res[ember] == res[torch] == (["bias"], ["z", "nb", "x.y"], [], [[1.0, 1.0]])


# ---------------------------------------------------------------- small behaviours, one script each
def _seq_set_bad(lib):
    s = lib.nn.Sequential(lib.nn.Identity())
    s[0] = 3


def _buf_over_plain(lib):
    m = lib.nn.Module()
    m.foo = 1
    m.foo = lib.nn.Buffer(lib.ones(1))


def _sd_destination(lib):
    d = {}
    r = lib.nn.Linear(1, 1).state_dict(destination=d, prefix="a.")
    return r is d, list(d)


def _param_set_none(lib):
    m = lib.nn.Linear(1, 1)
    m.bias = None
    return list(m.state_dict()), [n for n, _ in m.named_parameters()], repr(m)


def _child_set_none(lib):
    s = lib.nn.Sequential(lib.nn.Linear(1, 1), lib.nn.Identity())
    setattr(s, "0", None)
    return repr(s), list(s.state_dict()), len(list(s.children()))


def _register_param_over_attr(lib):
    m = lib.nn.Linear(1, 1)
    m.x = 5
    m.register_parameter("x", None)


def _add_module_dot(lib):
    lib.nn.Module().add_module("a.b", lib.nn.Identity())


def _extra_state(lib):
    class M(lib.nn.Module):
        def get_extra_state(self):
            return {"k": 1}

        def set_extra_state(self, s):
            self.got = s
    sd = M().state_dict()
    m2 = M()
    m2.load_state_dict(sd)
    missing = M().load_state_dict({}, strict=False).missing_keys
    return list(sd), m2.got, missing


def _zero_grad_keep(lib):
    m = lib.nn.Linear(1, 1)
    m(lib.ones(1, 1)).sum().backward()
    m.zero_grad(set_to_none=False)
    return m.weight.grad.tolist(), m.weight.grad.requires_grad


@pytest.mark.parametrize("script", [_seq_set_bad, _buf_over_plain, _sd_destination, _param_set_none,
                                    _child_set_none, _register_param_over_attr, _add_module_dot, _extra_state,
                                    _zero_grad_keep])
def test_small_behaviours_match(script):
    out = []
    for lib in (torch, ember):
        try:
            r = script(lib)
        except Exception as err:  # the same exception class and message is the expected outcome
            r = (type(err).__name__, str(err).replace("ember.", "torch."))
        out.append(r)
    assert out[1] == out[0]
