"""Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict against PyTorch.

Each scenario runs the same script on ``torch`` and on ``ember`` and compares what it observes
(names, lengths, reprs, errors, forward values).
"""
from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest
import torch

import ember
from conftest import assert_close


def names(m):
    return [n for n, _ in m.named_parameters()]


def same_script(fn):
    """Run ``fn(lib)`` on both libraries; the observations must be equal."""
    a, b = fn(ember), fn(torch)
    assert a == b, f"ember {a!r}\n torch {b!r}"
    return a


def errors_match(fn, same_message=True):
    with pytest.raises(Exception) as et:
        fn(torch)
    with pytest.raises(Exception) as ee:
        fn(ember)
    assert type(ee.value) is type(et.value), (ee.value, et.value)
    if same_message:  # class paths differ only by the package name
        assert str(ee.value).replace("ember.", "torch.") == str(et.value)


# ---------------------------------------------------------------- Sequential
def test_sequential_forward_matches(rng):
    x = rng.standard_normal((5, 20)).astype(np.float32)
    torch.manual_seed(0)
    t = torch.nn.Sequential(torch.nn.Linear(20, 10), torch.nn.Sequential(torch.nn.Linear(10, 5)),
                            torch.nn.Linear(5, 1))
    e = ember.nn.Sequential(ember.nn.Linear(20, 10), ember.nn.Sequential(ember.nn.Linear(10, 5)),
                            ember.nn.Linear(5, 1))
    e.load_state_dict({k: ember.tensor(v.numpy()) for k, v in t.state_dict().items()})
    xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ye, yt = e(xe), t(xt)
    assert_close(ye, yt)
    ye.sum().backward()
    yt.sum().backward()
    assert_close(xe.grad, xt.grad)
    for pe, pt in zip(e.parameters(), t.parameters()):
        assert_close(pe.grad, pt.grad)
    assert repr(e) == repr(t)


def test_sequential_indexing_and_editing():
    def script(lib):
        nn = lib.nn
        obs = []
        s = nn.Sequential(nn.Linear(1, 2), nn.Linear(2, 3), nn.Linear(3, 4), nn.Identity())
        obs.append((len(s), repr(s[1]), repr(s[-1]), type(s[1:3]).__name__, len(s[1:3]), repr(s[::2])))
        assert s[1:3][0] is s[1]
        s[0] = nn.Linear(1, 5)
        obs.append(repr(s))
        del s[1]
        obs.append((repr(s), names(s)))
        del s[0:2]
        obs.append((repr(s), names(s)))
        s.append(nn.Linear(7, 7))
        s.insert(0, nn.Linear(8, 8))
        s.insert(-1, nn.Identity())
        s.extend([nn.Linear(9, 9)])
        obs.append((repr(s), names(s)))
        popped = s.pop(1)
        obs.append((repr(popped), repr(s)))
        s2 = s + nn.Sequential(nn.Linear(2, 2))
        obs.append((repr(s2), len(s)))
        s += nn.Sequential(nn.Linear(3, 3))
        obs.append(repr(s))
        obs.append(repr(nn.Sequential(nn.Identity(), nn.Linear(1, 1)) * 2))
        obs.append([type(m).__name__ for m in s])
        od = nn.Sequential(OrderedDict([("enc", nn.Linear(2, 3)), ("dec", nn.Linear(3, 2))]))
        obs.append((repr(od), names(od), repr(od[1]), repr(od.dec)))
        obs.append("0" in dir(s))
        return obs
    same_script(script)


@pytest.mark.parametrize("case", ["index", "neg_index", "insert_range", "insert_type", "add_type", "setitem",
                                  "pop_empty", "mul_zero"])
def test_sequential_errors(case):
    def run(lib):
        s = lib.nn.Sequential(lib.nn.Identity(), lib.nn.Identity())
        if case == "index":
            s[2]
        elif case == "neg_index":
            s[-3]
        elif case == "insert_range":
            s.insert(5, lib.nn.Identity())
        elif case == "insert_type":
            s.insert(0, 3)
        elif case == "add_type":
            s + [lib.nn.Identity()]
        elif case == "setitem":
            s[5] = lib.nn.Identity()
        elif case == "pop_empty":
            lib.nn.Sequential().pop(0)
        elif case == "mul_zero":
            s * 0
    errors_match(run)


# ---------------------------------------------------------------- ModuleList
def test_modulelist_ops():
    def script(lib):
        nn = lib.nn
        obs = []
        layers = nn.ModuleList([nn.Linear(10, 20)])
        layers.append(nn.Linear(20, 5))
        layers.extend([nn.Linear(5, 3), nn.Identity()])
        layers.insert(1, nn.Linear(20, 20))
        obs.append((repr(layers), names(layers), len(layers)))
        obs.append((repr(layers[1]), repr(layers[-1]), type(layers[1:3]).__name__, repr(layers[1:3])))
        assert layers[1:3][0] is layers[1]
        layers[0] = nn.Linear(1, 1)
        popped = layers.pop(2)
        obs.append((repr(popped), repr(layers), names(layers)))
        del layers[:2]
        obs.append((repr(layers), names(layers)))
        layers += [nn.Linear(4, 4), nn.Linear(4, 4), nn.Linear(4, 4)]
        obs.append(repr(layers))
        both = layers + nn.ModuleList([nn.Identity()])
        obs.append((type(both).__name__, repr(both)))
        obs.append([type(m).__name__ for m in layers])
        obs.append(repr(nn.ModuleList()))
        # registered: parameters are visible to an owning module
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
        net = Net()
        obs.append((names(net), list(net.state_dict()), repr(net)))
        return obs
    same_script(script)


@pytest.mark.parametrize("case", ["append_type", "extend_type", "index", "call"])
def test_modulelist_errors(case):
    def run(lib):
        ml = lib.nn.ModuleList([lib.nn.Identity()])
        if case == "append_type":
            ml.append(lib.ones(2))
        elif case == "extend_type":
            ml.extend(5)
        elif case == "index":
            ml[3]
        elif case == "call":
            ml(1)
    errors_match(run)


# ---------------------------------------------------------------- ModuleDict
def test_moduledict_ops():
    def script(lib):
        nn = lib.nn
        obs = []
        d = nn.ModuleDict({"zeta": nn.Linear(1, 2), "alpha": nn.Identity()})
        obs.append((list(d), list(d.keys()), repr(d), len(d), "zeta" in d, "nope" in d))
        d["mid"] = nn.Linear(3, 3)
        d.update([("beta", nn.Linear(4, 4)), ("zeta", nn.Linear(5, 5))])
        d.update(nn.ModuleDict(OrderedDict(gamma=nn.Identity())))
        d.update({"delta": nn.Linear(6, 6)})
        obs.append((repr(d), names(d), [type(v).__name__ for v in d.values()], [k for k, _ in d.items()]))
        popped = d.pop("mid")
        obs.append((repr(popped), list(d)))
        del d["alpha"]
        obs.append(list(d))
        d.clear()
        obs.append((len(d), repr(d)))
        return obs
    same_script(script)


@pytest.mark.parametrize("case", ["update_type", "update_pair_len", "update_elem", "missing_key", "module_type"])
def test_moduledict_errors(case):
    def run(lib):
        d = lib.nn.ModuleDict()
        if case == "update_type":
            d.update(5)
        elif case == "update_pair_len":
            d.update([("a", lib.nn.Identity(), 3)])
        elif case == "update_elem":
            d.update([5])
        elif case == "missing_key":
            d["x"]
        elif case == "module_type":
            d["x"] = 5
    errors_match(run)


# ---------------------------------------------------------------- ParameterList / ParameterDict
def test_parameterlist():
    def script(lib):
        nn = lib.nn
        obs = []
        pl = nn.ParameterList([nn.Parameter(lib.ones(2, 3)), lib.zeros(2)])
        pl.append(lib.ones(1, dtype=lib.float64))
        pl.extend([nn.Parameter(lib.ones(4))])
        pl += [lib.zeros(5)]
        obs.append((repr(pl), len(pl), names(pl), [type(p).__name__ for p in pl], [tuple(p.shape) for p in pl]))
        sl = pl[1:4:2]
        obs.append((type(sl).__name__, len(sl), repr(sl)))
        assert sl[0] is pl[1]
        pl[0] = lib.full((2,), 3.0)
        obs.append((type(pl[0]).__name__, pl[0].requires_grad, repr(pl)))

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.ps = nn.ParameterList([nn.Parameter(lib.ones(2)) for _ in range(2)])
        obs.append((names(Net()), repr(Net())))
        return obs
    same_script(script)


def test_parameterdict():
    def script(lib):
        nn = lib.nn
        obs = []
        pd = nn.ParameterDict({"b": lib.zeros(2, dtype=lib.float64), "a": nn.Parameter(lib.ones(2, 3))})
        obs.append((list(pd), repr(pd), len(pd), "a" in pd))  # a plain dict gets sorted
        pd["z"] = lib.ones(1)
        pd.update([("c", lib.ones(3)), ("a", lib.zeros(1))])
        pd.update(OrderedDict(y=lib.ones(2), x=lib.ones(2)))
        obs.append((list(pd), repr(pd), names(pd), [type(v).__name__ for v in pd.values()],
                    [k for k, _ in pd.items()], list(pd.keys())))
        v = pd.pop("z")
        obs.append((tuple(v.shape), list(pd), pd.get("nope") is None, tuple(pd.get("c").shape)))
        pd.setdefault("new", lib.ones(7))
        obs.append((list(pd), tuple(pd["new"].shape)))
        k, _ = pd.popitem()
        obs.append((k, list(pd)))
        merged = pd | nn.ParameterDict(OrderedDict(q=lib.ones(1)))
        obs.append((type(merged).__name__, list(merged)))
        cp = pd.copy()
        obs.append(list(cp))
        del pd["a"]
        pd.clear()
        obs.append((len(pd), repr(pd)))
        return obs
    same_script(script)


@pytest.mark.parametrize("case", ["pl_call", "pd_call", "pd_key_type", "pl_extend_tensor", "pd_update_type"])
def test_parameter_container_errors(case):
    def run(lib):
        if case == "pl_call":
            lib.nn.ParameterList()(1)
        elif case == "pd_call":
            lib.nn.ParameterDict()(1)
        elif case == "pd_key_type":
            lib.nn.ParameterDict()[3]
        elif case == "pl_extend_tensor":
            lib.nn.ParameterList().extend(lib.ones(2))
        elif case == "pd_update_type":
            lib.nn.ParameterDict().update(3)
    # torch's message misspells "ParametersDict"; ember names the class correctly
    errors_match(run, same_message=case != "pd_update_type")


def test_containers_state_dict_interchange(rng):
    torch.manual_seed(0)

    def build(lib):
        nn = lib.nn
        m = nn.Module()
        m.seq = nn.Sequential(nn.Linear(3, 4), nn.Identity(), nn.Linear(4, 2))
        m.lst = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2)])
        m.dct = nn.ModuleDict({"p": nn.Linear(2, 1)})
        m.pl = nn.ParameterList([lib.ones(2)])
        m.pd = nn.ParameterDict({"k": lib.ones(3)})
        return m
    t, e = build(torch), build(ember)
    assert list(e.state_dict()) == list(t.state_dict())
    e.load_state_dict({k: ember.tensor(v.numpy()) for k, v in t.state_dict().items()})
    x = rng.standard_normal((2, 3)).astype(np.float32)

    def run(m, lib):
        h = m.seq(lib.tensor(x))
        for layer in m.lst:
            h = layer(h)
        return m.dct["p"](h) * m.pl[0].sum() + m.pd["k"].sum()
    assert_close(run(e, ember), run(t, torch))
