"""The small namespaces training scripts touch: compile, testing, random, backends flags, jit."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.backends.cuda
import torch.backends.cudnn
import torch.backends.mps

import ember
import ember.backends.cuda
import ember.backends.cudnn
import ember.testing
from tests.conftest import assert_close


# --------------------------------------------------------------------------- compile
def test_compile_returns_the_model_and_runs_eagerly():
    m = ember.nn.Linear(3, 2)
    assert ember.compile(m) is m
    assert ember.compile(m, fullgraph=True, dynamic=False, backend="eager", mode="max-autotune") is m

    @ember.compile
    def f(x):
        return x * 2

    @ember.compile(mode="reduce-overhead")
    def g(x):
        return x + 1

    x = ember.tensor([1.0, 2.0])
    assert f(x).tolist() == [2.0, 4.0] and g(x).tolist() == [2.0, 3.0]
    assert ember.compiler.is_compiling() is False and ember.compiler.disable(f) is f


def test_compile_rejects_what_torch_rejects():
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match="Either mode or options"):
            lib.compile(lambda x: x, mode="default", options={})
        with pytest.raises(RuntimeError, match="Unrecognized mode"):
            lib.compile(lambda x: x, mode="fastest")


# --------------------------------------------------------------------------- testing.assert_close
def _message(lib, a, e, **kw):
    try:
        lib.testing.assert_close(a, e, **kw)
    except (AssertionError, TypeError, ValueError) as err:
        return type(err).__name__, str(err).replace("ember._tensor.Tensor", "torch.Tensor")
    return None


CASES = [
    ([1.0, 2.0, 3.0], [1.0, 2.5, 3.0], {}),
    ([[1.0, 2.0], [3.0, 4.0]], [[1.0, 2.5], [0.0, 4.0]], {}),
    ([0.0, 1.0], [0.0, 2.0], {}),
    ([1, 2], [1, 3], {}),
    ([True, False], [True, True], {}),
    (3.0, 1.0, {}),
    (3, 1, {}),
    ([1.0, 2.0], [1.0, 2.0 + 1e-6], {}),  # within float32's default tolerance
    ([1.0, 2.0], [1.0, 2.0 + 3e-5], {}),  # beyond it
    ([1.0, 2.0], [1.1, 2.0], {"rtol": 0.2, "atol": 0.0}),
    ([1.0, 2.0], [1.5, 2.0], {"rtol": 0.1, "atol": 0.1}),
    ([float("nan"), 1.0], [float("nan"), 1.0], {}),
    ([float("nan"), 1.0], [float("nan"), 1.0], {"equal_nan": True}),
    ([float("inf"), 1.0], [float("inf"), 1.0], {}),
    ([float("inf"), 1.0], [-float("inf"), 1.0], {}),
    ([1.0, 2.0], [1.0, 3.0], {"msg": "custom"}),
    ([1.0, 2.0], [1.0, 3.0], {"rtol": 1e-3}),
]


@pytest.mark.parametrize("a, e, kw", CASES)
def test_assert_close_tensors_like_torch(a, e, kw):
    assert _message(ember, ember.tensor(a), ember.tensor(e), **kw) == \
        _message(torch, torch.tensor(a), torch.tensor(e), **kw)


@pytest.mark.parametrize("a, e", [(1.0, 2.0), (1, 2), (1.0, 1.0 + 1e-9), (2 + 1j, 2 + 1.5j), ([1.0, 2.0], [1.0]),
                                  ({"a": 1.0}, {"b": 1.0}), ([1.0, [2.0, 3.0]], [1.0, [2.0, 3.5]])])
def test_assert_close_numbers_and_containers_like_torch(a, e):
    assert _message(ember, a, e) == _message(torch, a, e)


def test_assert_close_attributes_and_items_like_torch():
    for mk in (lambda lib: (lib.zeros(2), lib.zeros(3)),
               lambda lib: (lib.zeros(2), lib.zeros(2, dtype=lib.float64)),
               lambda lib: (lib.zeros(2), 0.0),
               lambda lib: ({"w": [lib.ones(2), lib.ones(3)]}, {"w": [lib.ones(2), lib.full((3,), 2.0)]}),
               lambda lib: ([lib.ones(2, dtype=lib.float16)], [lib.ones(2, dtype=lib.float16) * 1.002])):
        assert _message(ember, *mk(ember)) == _message(torch, *mk(torch))
    # check_dtype=False compares in the promoted dtype
    assert _message(ember, ember.ones(2), ember.ones(2, dtype=ember.float64), check_dtype=False) is None
    assert _message(ember, ember.ones(2), ember.ones(2), msg=lambda m: "never") is None
    _, text = _message(ember, ember.ones(2), ember.zeros(2), msg=lambda m: "prefix: " + m.splitlines()[0])
    assert text == "prefix: Tensor-likes are not close!"


def test_make_tensor():
    ember.manual_seed(3)
    a = ember.testing.make_tensor(4, 5, dtype=ember.float32, device="cpu", low=-2, high=3)
    ember.manual_seed(3)
    b = ember.testing.make_tensor((4, 5), dtype=ember.float32, device="cpu", low=-2, high=3)
    assert a.shape == (4, 5) and a.dtype == ember.float32 and np.array_equal(a.numpy(), b.numpy())
    assert a.min().item() >= -2 and a.max().item() < 3
    i = ember.testing.make_tensor(200, dtype=ember.int64, device="cpu", exclude_zero=True)
    assert i.dtype == ember.int64 and (i != 0).all() and i.min().item() >= -9 and i.max().item() <= 9
    u = ember.testing.make_tensor(50, dtype=ember.uint8, device="cpu")
    assert u.min().item() >= 0
    g = ember.testing.make_tensor(3, dtype=ember.float64, device="cpu", requires_grad=True)
    assert g.requires_grad and g.is_leaf
    for lib in (ember, torch):
        with pytest.raises(ValueError):
            lib.testing.make_tensor(3, dtype=lib.float32, device="cpu", low=2, high=1)


# --------------------------------------------------------------------------- random
def test_random_fork_rng_restores_state():
    ember.random.manual_seed(5)
    assert ember.random.initial_seed() == 5
    with ember.random.fork_rng():
        inside = ember.rand(4)
    after = ember.rand(4)
    ember.manual_seed(5)
    np.testing.assert_array_equal(after.numpy(), ember.rand(4).numpy())
    np.testing.assert_array_equal(inside.numpy(), after.numpy())
    ember.manual_seed(5)
    with pytest.raises(KeyError):
        with ember.random.fork_rng():
            ember.rand(3)
            raise KeyError
    np.testing.assert_array_equal(ember.rand(4).numpy(), after.numpy())
    state = ember.random.get_rng_state()
    x = ember.rand(2)
    ember.random.set_rng_state(state)
    np.testing.assert_array_equal(ember.rand(2).numpy(), x.numpy())
    with ember.random.fork_rng(enabled=False):
        ember.rand(1)
    assert not np.array_equal(ember.rand(2).numpy(), x.numpy())
    s = ember.random.seed()
    assert ember.random.initial_seed() == s


# --------------------------------------------------------------------------- backends
def test_backends_flags_like_torch_cpu():
    for e, t in ((ember.backends.cudnn, torch.backends.cudnn), ):
        assert e.is_available() == t.is_available() is False
        assert e.version() is None and t.version() is None
        for name in ("enabled", "benchmark", "deterministic", "allow_tf32"):
            assert getattr(e, name) == getattr(t, name), name
    assert ember.backends.cuda.matmul.allow_tf32 == torch.backends.cuda.matmul.allow_tf32
    assert ember.backends.mps.is_available() is False
    assert ember.backends.openmp.is_available() in (True, False)
    assert ember.backends.mkl.is_available() in (True, False)
    ember.backends.cudnn.benchmark = True
    ember.backends.cudnn.deterministic = True
    ember.backends.cuda.matmul.allow_tf32 = True
    try:
        assert ember.backends.cudnn.benchmark and ember.backends.cuda.matmul.allow_tf32
        with ember.backends.cudnn.flags(enabled=False):
            assert ember.backends.cudnn.enabled is False
        assert ember.backends.cudnn.enabled is True
        # the flags change nothing: results equal the default's
        a = ember.tensor(np.arange(6.0, dtype=np.float32).reshape(2, 3))
        assert_close(a @ a.T, torch.tensor(a.numpy()) @ torch.tensor(a.numpy()).T)
    finally:
        ember.backends.cudnn.benchmark = False
        ember.backends.cudnn.deterministic = False
        ember.backends.cuda.matmul.allow_tf32 = False
    # the array-namespace API of ember.backends is still there
    assert ember.backends.namespace_of(np.zeros(1)) is np


# --------------------------------------------------------------------------- jit
def test_jit_stand_ins():
    m = ember.nn.Linear(2, 2)
    assert ember.jit.script(m) is m and ember.jit.trace(m, ember.zeros(1, 2)) is m
    assert ember.jit.is_scripting() is False and ember.jit.is_tracing() is False

    @ember.jit.ignore
    def f(x):
        return x + 1

    @ember.jit.ignore(drop=True)
    def g(x):
        return x + 2

    @ember.jit.unused
    def h(x):
        return x + 3

    assert (f(1), g(1), h(1), ember.jit.export(f)(0)) == (2, 3, 4, 1)
    assert ember.jit.annotate(list, [1]) == [1] and ember.jit.fork(f, 4).wait() == 5
    assert ember.jit.wait(ember.jit.fork(g, 0)) == 2
    for fn in (lambda: ember.jit.save(m, "x.pt"), lambda: ember.jit.load("x.pt")):
        with pytest.raises(NotImplementedError, match="state_dict"):
            fn()
    assert torch.jit.is_scripting() is False  # the oracle agrees on the eager answers
