"""The seed note (``shared/seed/000_dfeb8a243359d92d.txt``), top to bottom: every claim and every
snippet, run on PyTorch and on Ember, must observe the same thing.

Each test names the section of the note it checks. Snippets are run through ``both(fn)``, which
calls ``fn(lib)`` with ``lib`` = torch and then ember and returns what each printed and returned.
"""
from __future__ import annotations

import contextlib
import io
from collections import OrderedDict

import numpy as np
import pytest
import torch

import ember
from conftest import assert_close


def run(fn, lib):
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        result = fn(lib)
    return buf.getvalue(), result


def both(fn):
    """(torch's (stdout, result), ember's (stdout, result))."""
    torch.manual_seed(0)
    ember.manual_seed(0)
    return run(fn, torch), run(fn, ember)


def sync(dst, src):
    """Give the ember module ``dst`` the torch module ``src``'s state."""
    dst.load_state_dict({k: ember.tensor(v.detach().numpy().copy()) for k, v in src.state_dict().items()})


def make_models(factory):
    torch.manual_seed(0)
    t = factory(torch)
    e = factory(ember)
    sync(e, t)
    return t, e


# ============================================================ torch.nn / Buffer and Parameter
def buffer_model(lib):
    nn = lib.nn

    class MyModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(3, 2)
            self.register_buffer("my_buffer", lib.tensor([1.0, 2.0, 3.0]))  # a buffer
            self.param = nn.Parameter(lib.tensor([0.5, -0.5]))                # a Parameter
            self.plain = lib.tensor([7.0, 8.0])                               # a plain Tensor attribute

        def forward(self, x):
            return self.linear(x * self.my_buffer) * self.param + self.plain.sum()

    return MyModel()


def test_buffer_is_a_tensor_saved_but_not_optimised():
    # "buffer ... 不会被 optimizer 更新，但仍然会随模型保存和加载 ... 它是Tensor的子类"
    def snippet(lib):
        model = buffer_model(lib)
        before = model.my_buffer.clone()
        opt = lib.optim.SGD(model.parameters(), lr=0.1)
        x = lib.tensor([[1.0, -1.0, 2.0]])
        model(x).sum().backward()
        opt.step()
        sd = model.state_dict()
        return (isinstance(model.my_buffer, lib.Tensor), lib.equal(model.my_buffer, before),
                "my_buffer" in sd, sd["my_buffer"].tolist(), any(p is model.my_buffer for p in model.parameters()),
                isinstance(lib.nn.Buffer(lib.ones(1)), lib.Tensor))
    (_, rt), (_, re) = both(snippet)
    assert rt == re == (True, True, True, [1.0, 2.0, 3.0], False, True)


def test_plain_tensor_attribute_is_not_buffer_nor_in_graph():
    # "普通 Tensor 直接赋值为 Module 的属性时，不会被加入 buffer 列表，亦不会进入计算图"
    def snippet(lib):
        model = buffer_model(lib)
        out = model(lib.ones(1, 3))
        out.sum().backward()
        return ([n for n, _ in model.named_buffers()], "plain" in model.state_dict(),
                [n for n, _ in model.named_parameters()], model.plain.requires_grad, model.plain.grad)
    (_, rt), (_, re) = both(snippet)
    assert rt == re == (["my_buffer"], False, ["param", "linear.weight", "linear.bias"], False, None)


def test_parameter_vs_plain_tensor_vs_buffer_table():
    # the three-way comparison: is it a model parameter / does it get a gradient / is it in state_dict
    def snippet(lib):
        model = buffer_model(lib)
        model(lib.ones(2, 3)).sum().backward()
        params = {id(p) for p in model.parameters()}
        sd = model.state_dict()
        rows = {}
        for name in ("param", "plain", "my_buffer"):
            t = getattr(model, name)
            rows[name] = (id(t) in params, t.grad is not None, name in sd)
        return rows
    (_, rt), (_, re) = both(snippet)
    assert rt == re == {"param": (True, True, True), "plain": (False, False, False),
                        "my_buffer": (False, False, True)}


def test_register_buffer_usage():
    # register_buffer(name, tensor) inside __init__ (inherited from nn.Module), then the four checks
    def snippet(lib):
        model = buffer_model(lib)
        print(model.my_buffer.requires_grad)                     # 验证是否会计算梯度
        print(list(model.state_dict().keys()))                   # 验证是否会被模型存储
        print(model.my_buffer.device, repr(model.my_buffer.device))  # 查看其所在的设备
        for name, buf in model.named_buffers():                  # 访问模块中所有 buffer
            print(name, buf.shape)
        return lib.nn.Module.register_buffer is type(model).register_buffer
    (ot, rt), (oe, re) = both(snippet)
    assert oe == ot
    assert "False\n['param', 'my_buffer', 'linear.weight', 'linear.bias']\n" in ot
    assert rt is re is True


def test_register_buffer_from_outside_the_class():
    # "注册不参与优化的 Tensor （居然可以直接在外面实现）"
    def snippet(lib):
        model = lib.nn.Linear(2, 2)
        model.register_buffer("running", lib.zeros(2))
        opt = lib.optim.SGD(model.parameters(), lr=1.0)
        model(lib.ones(1, 2)).sum().backward()
        opt.step()
        return list(model.state_dict()), model.running.tolist(), len(list(model.parameters()))
    (_, rt), (_, re) = both(snippet)
    assert rt == re == (["weight", "bias", "running"], [0.0, 0.0], 2)


def test_parameter_auto_registration_and_optimiser():
    # Parameter: a Tensor subclass, auto-registered when assigned in __init__, appears in parameters(),
    # so the optimizer updates it; a plain Tensor attribute does not
    def snippet(lib):
        nn = lib.nn

        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.w = nn.Parameter(lib.tensor([1.0, 2.0]))
                self.t = lib.tensor([1.0, 2.0], requires_grad=True)

            def forward(self):
                return (self.w * self.t).sum()
        m = M()
        opt = lib.optim.SGD(m.parameters(), lr=0.5)
        m().backward()
        opt.step()
        return (issubclass(nn.Parameter, lib.Tensor), isinstance(m.w, lib.Tensor), m.w.requires_grad,
                [n for n, _ in m.named_parameters()], m.w.tolist(), m.t.tolist(), m.t.grad.tolist())
    (_, rt), (_, re) = both(snippet)
    assert rt == re == (True, True, True, ["w"], [0.5, 1.0], [1.0, 2.0], [1.0, 2.0])


def test_parameter_not_assigned_is_not_found():
    # "前提是需要将它赋值给 nn.Module 的属性，否则将不会被 parameters() 识别，也不会被优化器更新"
    def snippet(lib):
        nn = lib.nn

        class M(nn.Module):
            def __init__(self):
                super().__init__()
                local = nn.Parameter(lib.ones(2))  # created but never assigned to self
                self.lin = nn.Linear(2, 1)
                self.n_local = local.numel()
        return len(list(M().parameters()))
    (_, rt), (_, re) = both(snippet)
    assert rt == re == 2


def test_parameter_outside_model():
    # "在模型外部定义可学习参数": a Parameter outside any Module, trained by passing it to the optimizer
    def snippet(lib):
        w = lib.nn.Parameter(lib.tensor([2.0, -1.0]))
        opt = lib.optim.SGD([w], lr=0.1)
        for _ in range(3):
            opt.zero_grad()
            loss = ((w - 1.0) ** 2).sum()
            loss.backward()
            opt.step()
        return w.tolist(), w.requires_grad, w.is_leaf
    (_, rt), (_, re) = both(snippet)
    np.testing.assert_allclose(re[0], rt[0], rtol=1e-6)
    assert re[1:] == rt[1:] == (True, True)


def test_print_model_parameters():
    # "for param in model.parameters(): print(param)" prints each Parameter the same way
    t, e = make_models(buffer_model)
    outs = []
    for model in (t, e):
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            for param in model.parameters():
                print(param)
        outs.append(buf.getvalue())
    assert outs[0] == outs[1]
    assert outs[0].startswith("Parameter containing:\ntensor([ 0.5000, -0.5000], requires_grad=True)\n")
    assert type(e.parameters()).__name__ == type(t.parameters()).__name__ == "generator"


# ============================================================ Containers / Module
def net_factory(lib):
    nn = lib.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv_like = nn.Linear(8, 6)
            self.block = nn.Sequential(nn.Linear(6, 4), nn.ReLU(), nn.Dropout(0.5), nn.BatchNorm1d(4))
            self.head = nn.Linear(4, 2)

        def forward(self, x):
            return self.head(self.block(self.conv_like(x)))
    return Net()


def test_module_children_parameters_and_printing():
    # children() / named_children() / named_parameters() / modules() / named_modules(): recursion
    t, e = make_models(net_factory)
    outs = []
    for model in (t, e):
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            print(list(model.children()))
            for name, child in model.named_children():
                print(name, type(child).__name__)
            for name, param in model.named_parameters():
                print(name, param.shape)
            print(len(list(model.modules())), [n for n, _ in model.named_modules()])
            print(model)
        outs.append(buf.getvalue())
    assert outs[0] == outs[1]
    assert "block.3.weight torch.Size([4])" in outs[0]


def test_module_forward_state_dict_load_state_dict(rng):
    # forward defines the data flow; state_dict()/load_state_dict() save and restore recursively
    t, e = make_models(net_factory)
    x = rng.standard_normal((5, 8)).astype(np.float32)
    t.eval()
    e.eval()
    assert_close(e(ember.tensor(x)), t(torch.tensor(x)))
    assert list(e.state_dict()) == list(t.state_dict())
    assert "block.3.running_mean" in e.state_dict() and "block.3.num_batches_tracked" in e.state_dict()
    fresh = net_factory(ember)
    assert fresh.load_state_dict(e.state_dict()).missing_keys == []
    fresh.eval()
    assert_close(fresh(ember.tensor(x)), t(torch.tensor(x)))


def test_train_eval_turns_off_dropout_and_batchnorm_updates(rng):
    # "eval() 设定评估模式，会关闭 Dropout 及 BatchNorm 统计更新"; train(mode=True) sets training mode
    t, e = make_models(net_factory)
    x = rng.standard_normal((32, 8)).astype(np.float32)
    for model, lib in ((t, torch), (e, ember)):
        assert model.train() is model and all(m.training for m in model.modules())
        model.eval()
        assert not any(m.training for m in model.modules())
        stats = model.block[3].running_mean.clone()
        y1, y2 = model(lib.tensor(x)), model(lib.tensor(x))
        assert lib.equal(y1, y2)  # no dropout: deterministic
        assert lib.equal(model.block[3].running_mean, stats)  # no statistics update
        model.train(mode=True)
        model.block[2].eval()  # dropout masks differ between libraries; keep the statistics comparable
        model(lib.tensor(x))
        assert not lib.equal(model.block[3].running_mean, stats)
        assert int(model.block[3].num_batches_tracked) == 1
    assert_close(e.block[3].running_mean, t.block[3].running_mean)
    assert_close(e.block[3].running_var, t.block[3].running_var)


def test_apply_for_initialisation_and_zero_grad(rng):
    # apply(fn) visits every submodule (used for initialisation); zero_grad() clears gradients
    outs = {}
    for lib in (torch, ember):
        model = net_factory(lib)
        visited = []

        def init(m):
            visited.append(type(m).__name__)
            if isinstance(m, lib.nn.Linear):
                with lib.no_grad():
                    m.weight.fill_(0.01)
                    m.bias.zero_()
        model.apply(init)
        x = lib.tensor(rng.standard_normal((4, 8)).astype(np.float32))
        model(x).sum().backward()
        had = all(p.grad is not None for p in model.parameters())
        model.zero_grad()
        outs[lib] = (visited, had, [p.grad for p in model.parameters()], model.conv_like.weight.sum().item())
    assert outs[ember][:3] == outs[torch][:3]
    assert outs[ember][3] == pytest.approx(outs[torch][3])


def test_module_method_table_exists():
    # the table of common Module methods: every one is there and callable the same way
    names = ["parameters", "named_parameters", "children", "named_children", "modules", "named_modules",
             "state_dict", "load_state_dict", "register_buffer", "train", "eval", "apply", "zero_grad"]
    for n in names:
        assert callable(getattr(ember.nn.Module, n)) and callable(getattr(torch.nn.Module, n))


# ============================================================ Sequential
def seed_sequential(lib):
    nn = lib.nn
    return nn.Sequential(
        nn.Linear(20, 10),
        nn.ReLU(),
        nn.Sequential(
            nn.Linear(10, 5),
            nn.ReLU()
        ),
        nn.Linear(5, 1)
    )


def test_sequential_snippet(rng):
    t, e = make_models(seed_sequential)
    # input = torch.Tensor(5, 20): an uninitialised float tensor of that shape
    for lib, model in ((torch, t), (ember, e)):
        input = lib.Tensor(5, 20)
        assert tuple(input.shape) == (5, 20) and input.dtype == lib.float32
        assert tuple(model(input).shape) == (5, 1)
    x = rng.standard_normal((5, 20)).astype(np.float32)
    te, tt = ember.Tensor(x), torch.Tensor(x)
    assert_close(e(te), t(tt))
    assert repr(e) == repr(t)


def test_sequential_custom_names_and_nesting(rng):
    # "可以自定义层名称与嵌套"
    def factory(lib):
        nn = lib.nn
        return nn.Sequential(OrderedDict([
            ("fc1", nn.Linear(4, 3)),
            ("act", nn.ReLU()),
            ("inner", nn.Sequential(OrderedDict([("fc2", nn.Linear(3, 2))]))),
        ]))
    t, e = make_models(factory)
    assert list(e.state_dict()) == list(t.state_dict()) == ["fc1.weight", "fc1.bias", "inner.fc2.weight",
                                                            "inner.fc2.bias"]
    assert repr(e) == repr(t) and repr(e.inner.fc2) == repr(t.inner.fc2)
    x = rng.standard_normal((2, 4)).astype(np.float32)
    assert_close(e(ember.tensor(x)), t(torch.tensor(x)))


def test_sequential_cannot_take_multiple_inputs():
    # "nn.Sequential 不能直接用于处理多个输入"
    for lib in (torch, ember):
        model = seed_sequential(lib)
        with pytest.raises(TypeError):
            model(lib.ones(1, 20), lib.ones(1, 20))


def test_skip_connections_need_custom_forward(rng):
    # residual connections need a hand-written forward(); it composes Sequential blocks
    def factory(lib):
        nn = lib.nn

        class Residual(nn.Module):
            def __init__(self):
                super().__init__()
                self.body = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 4))

            def forward(self, x):
                return x + self.body(x) if x.sum() > -1e9 else x
        return Residual()
    t, e = make_models(factory)
    x = rng.standard_normal((3, 4)).astype(np.float32)
    xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ye, yt = e(xe), t(xt)
    assert_close(ye, yt)
    ye.sum().backward()
    yt.sum().backward()
    assert_close(xe.grad, xt.grad)


# ============================================================ ModuleList
def test_modulelist_snippets(rng):
    def snippet(lib):
        nn = lib.nn
        layers = nn.ModuleList([nn.Linear(10, 20)])
        layers.append(nn.Linear(20, 5))                  # 追加一个 nn.Module
        layers.extend([nn.Linear(5, 3), nn.Sigmoid()])   # 扩展多个 nn.Module
        layers.insert(1, nn.BatchNorm1d(20))             # 在索引 1 插入 BatchNorm 层
        print(layers)
        print(layers[1], len(layers), [type(m).__name__ for m in layers])

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.layers = layers

            def forward(self, x):
                for layer in self.layers:
                    x = layer(x)
                return x
        net = Net()
        print([n for n, _ in net.named_parameters()])
        return net
    (ot, t), (oe, e) = both(snippet)
    assert oe == ot
    assert "(1): BatchNorm1d(20, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)" in ot
    # registered, so the optimizer sees and updates them
    sync(e, t)
    x = rng.standard_normal((4, 10)).astype(np.float32)
    results = []
    for lib, net in ((torch, t), (ember, e)):
        opt = lib.optim.SGD(net.parameters(), lr=0.1)
        out = net(lib.tensor(x))
        out.sum().backward()
        opt.step()
        results.append((out, net.layers[0].weight, net.layers[1].running_mean))
    for a, b in zip(results[1], results[0]):
        assert_close(a, b, rtol=1e-5, atol=1e-5)


# ============================================================ ModuleDict
def test_moduledict_methods():
    def snippet(lib):
        nn = lib.nn
        d = nn.ModuleDict({"conv": nn.Linear(2, 2), "act": nn.ReLU()})
        print(list(d.keys()), [type(v).__name__ for v in d.values()], [k for k, _ in d.items()])
        d.update(nn.ModuleDict({"pool": nn.Identity()}))   # merge another ModuleDict
        d.update({"act": nn.Sigmoid(), "out": nn.Linear(2, 1)})  # or a dict
        print(d)
        popped = d.pop("conv")
        print(popped, list(d))
        d.clear()
        print(len(d), d)
    (ot, _), (oe, _) = both(snippet)
    assert oe == ot
    assert "(act): Sigmoid()" in ot


# ============================================================ 计算图 (computational graph)
def test_requires_grad_snippet():
    # x requires grad, y does not, 4 is a constant: z = x * y * 4, dz/dx = 2.0 * 4 = 8.0
    def snippet(lib):
        x = lib.tensor([3.0], requires_grad=True)
        y = lib.tensor([2.0], requires_grad=False)
        z = x * y * 4
        z.backward()
        return x.grad.tolist(), y.grad, z.requires_grad, y.requires_grad, z.grad_fn.name(), x.grad_fn, y.grad_fn
    (_, rt), (_, re) = both(snippet)
    assert rt == re == ([8.0], None, True, False, "MulBackward0", None, None)


def test_backward_of_non_scalar_needs_gradient():
    # "backward() 计算梯度，非标量需提供 gradient 参数"
    msgs = []
    for lib in (torch, ember):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3
        with pytest.raises(RuntimeError) as err:
            y.backward()
        msgs.append(str(err.value))
        y.backward(gradient=lib.tensor([1.0, 0.5]))
        assert x.grad.tolist() == [3.0, 1.5]
    assert msgs[0] == msgs[1]


def test_grad_accumulates_until_zeroed():
    # "grad 会累积，需要 zero_grad() 清除"
    def snippet(lib):
        model = lib.nn.Linear(1, 1)
        with lib.no_grad():
            model.weight.fill_(1.0)
            model.bias.fill_(0.0)
        opt = lib.optim.SGD(model.parameters(), lr=0.1)
        x = lib.tensor([[2.0]])
        model(x).sum().backward()
        g1 = model.weight.grad.item()
        model(x).sum().backward()
        g2 = model.weight.grad.item()
        opt.zero_grad()
        return g1, g2, model.weight.grad
    (_, rt), (_, re) = both(snippet)
    assert rt == re == (2.0, 4.0, None)


def test_detach_and_no_grad():
    # "detach() 获取无梯度张量，torch.no_grad() 关闭梯度计算"
    def snippet(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        d = x.detach()
        with lib.no_grad():
            y = x * 2
        return d.requires_grad, d.grad_fn, y.requires_grad, y.grad_fn, d.data_ptr() == x.data_ptr()
    (_, rt), (_, re) = both(snippet)
    assert rt == re == (False, None, False, None, True)


def test_optimizer_step_uses_grad():
    # "grad 在优化器 (optimizer.step()) 中用于更新参数"
    def snippet(lib):
        w = lib.nn.Parameter(lib.tensor([1.0, -2.0]))
        opt = lib.optim.SGD([w], lr=0.25)
        w.grad = lib.tensor([4.0, 8.0])
        opt.step()
        return w.tolist()
    (_, rt), (_, re) = both(snippet)
    assert rt == re == [0.0, -4.0]


def test_grad_fn_of_leaf_and_non_leaf():
    # non-leaf grad_fn points at the backward op; a leaf's grad_fn is None
    def snippet(lib):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = lib.tensor([[1.0], [2.0]], requires_grad=True)
        outs = [a + 1, a * 2, a / 2, a @ a, (a * 2).sum(), b.mm(b.t()), a.exp(), a.relu()]
        return [o.grad_fn.name() for o in outs], a.grad_fn, a.is_leaf, outs[1].is_leaf
    (_, rt), (_, re) = both(snippet)
    assert rt == re


def test_retain_grad_snippet():
    # non-leaf gradients are freed after backward unless retain_grad() is called
    def snippet(lib):
        x = lib.tensor([3.0], requires_grad=True)
        y = x * 2  # y 是非叶子节点
        y.retain_grad()  # 显式要求 PyTorch 保留 y 的梯度
        y.backward()
        print(y.grad)  # 输出 1.0
        print(x.grad)  # 输出 2.0
        x2 = lib.tensor([3.0], requires_grad=True)
        y2 = x2 * 2
        y2.backward()
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            freed = y2.grad
        return freed, x2.grad.tolist(), y.is_leaf, x.is_leaf
    (ot, rt), (oe, re) = both(snippet)
    assert oe == ot == "tensor([1.])\ntensor([2.])\n"
    assert rt == re == (None, [2.0], False, True)


def test_leaf_definition():
    # leaf: requires_grad=True and not computed (model parameters); non-leaf: computed from others
    def snippet(lib):
        model = lib.nn.Linear(2, 1)
        x = lib.ones(1, 2)
        out = model(x)
        c = lib.ones(2)  # not requiring grad: a leaf by convention too
        return ([p.is_leaf for p in model.parameters()], out.is_leaf, x.is_leaf, c.is_leaf,
                (c * 2).is_leaf, (c * 2).requires_grad)
    (_, rt), (_, re) = both(snippet)
    assert rt == re == ([True, True], False, True, True, True, False)


def test_gradient_accumulation_strategy(rng):
    # leaves accumulate across backward calls: gradient accumulation over mini-batches equals one big batch
    x = rng.standard_normal((8, 3)).astype(np.float32)
    results = []
    for lib in (torch, ember):
        model = lib.nn.Linear(3, 1)
        with lib.no_grad():
            model.weight.copy_(lib.tensor([[0.1, -0.2, 0.3]]))
            model.bias.fill_(0.05)
        opt = lib.optim.SGD(model.parameters(), lr=0.1)
        opt.zero_grad()
        for chunk in np.split(x, 4):
            (model(lib.tensor(chunk)) ** 2).sum().backward()  # 小批量梯度累计，多步反向传播
        acc = model.weight.grad.clone()
        opt.zero_grad()
        (model(lib.tensor(x)) ** 2).sum().backward()
        results.append((acc, model.weight.grad))
    assert_close(results[1][0], results[1][1], rtol=1e-5, atol=1e-6)
    assert_close(results[1][0], results[0][0], rtol=1e-5, atol=1e-6)
