"""The public namespaces hold PyTorch's API and nothing else: no helper modules (np, math ...), no
Function classes or private helpers of the ops modules leaking in through star imports."""
from __future__ import annotations

import types

import numpy as np
import pytest
import torch

import torch.autograd.forward_ad
import torch.autograd.functional
import torch.distributions
import torch.fft
import torch.func
import torch.special
import torch.distributed
import torch.nn.init
import torch.nn.utils
import torch.optim.lr_scheduler
import torch.utils.data
import torch.utils.checkpoint
import torch.backends.cudnn
import torch.backends.cuda
import torch.backends.mps
import torch.backends.mkl
import torch.backends.openmp
import torch.testing
import torch.random
import torch.jit
import torch.compiler

import ember
import ember.autograd.functional
import ember.autograd.forward_ad
import ember.distributions
import ember.fft
import ember.func
import ember.special
import ember.cuda
import ember.distributed
import ember.linalg
import ember.nn
import ember.nn.functional
import ember.nn.init
import ember.nn.utils
import ember.optim
import ember.optim.lr_scheduler
import ember.utils
import ember.utils.data
import ember.utils.checkpoint
import ember.backends.cudnn
import ember.backends.cuda
import ember.backends.mps
import ember.backends.mkl
import ember.backends.openmp
import ember.testing
import ember.random
import ember.jit
import ember.compiler

# Ember-only public names, each with the reason it exists. Keep this list short: a name that
# PyTorch has elsewhere belongs where PyTorch has it.
ALLOWED_EXTRAS = {
    "ember": set(),
    "ember.nn": set(),
    "ember.nn.functional": set(),
    # PyTorch keeps these two in torch.optim.optimizer only; Ember re-exports them one level up as well
    "ember.optim": {"register_optimizer_step_pre_hook", "register_optimizer_step_post_hook"},
    "ember.linalg": set(),
    "ember.distributed": set(),
    # host<->device copy counters: the tests count synchronisations with them; PyTorch has no such counter
    "ember.cuda": {"transfer_counts", "reset_transfer_counts"},
    # the step-by-step recorder of the backward pass (README: "Pictures, summaries")
    "ember.autograd": {"trace"},
    "ember.autograd.functional": set(),
    "ember.utils": {"summary"},  # the model summary table, torchinfo-style
    "ember.utils.data": set(),
    "ember.nn.init": set(),
    "ember.nn.utils": set(),
    "ember.optim.lr_scheduler": set(),
    "ember.fft": set(),
    "ember.special": set(),
    "ember.distributions": set(),
    "ember.func": set(),
    "ember.autograd.forward_ad": set(),
    "ember.utils.checkpoint": set(),
    "ember.backends.cudnn": set(),
    "ember.backends.cuda": set(),
    "ember.backends.mps": set(),
    "ember.backends.mkl": set(),
    "ember.backends.openmp": set(),
    "ember.testing": set(),
    "ember.random": set(),
    "ember.jit": set(),
    "ember.compiler": set(),
    "ember.profiler": set(),
}

NAMESPACES = [(ember, torch), (ember.nn, torch.nn), (ember.nn.functional, torch.nn.functional),
              (ember.optim, torch.optim), (ember.linalg, torch.linalg), (ember.distributed, torch.distributed),
              (ember.cuda, torch.cuda), (ember.autograd, torch.autograd),
              (ember.autograd.functional, torch.autograd.functional), (ember.utils, torch.utils),
              (ember.utils.data, torch.utils.data), (ember.nn.init, torch.nn.init), (ember.nn.utils, torch.nn.utils),
              (ember.optim.lr_scheduler, torch.optim.lr_scheduler), (ember.fft, torch.fft),
              (ember.special, torch.special), (ember.distributions, torch.distributions), (ember.func, torch.func),
              (ember.autograd.forward_ad, torch.autograd.forward_ad),
              (ember.utils.checkpoint, torch.utils.checkpoint), (ember.backends.cudnn, torch.backends.cudnn),
              (ember.backends.cuda, torch.backends.cuda), (ember.backends.mps, torch.backends.mps),
              (ember.backends.mkl, torch.backends.mkl), (ember.backends.openmp, torch.backends.openmp),
              (ember.testing, torch.testing), (ember.random, torch.random), (ember.jit, torch.jit),
              (ember.compiler, torch.compiler), (ember.profiler, torch.profiler)]
# the plain modules among them name their API in __all__, so ``from ember.linalg import *`` is that API too
# (ember.utils and ember.nn.utils are packages that import their API from submodules, as torch's do)
WITH_ALL = [e for e, _ in NAMESPACES[4:] if e not in (ember.utils, ember.nn.utils)]


def _own_submodule(ns, value):
    """A subpackage/submodule of ``ns`` itself (``ember.linalg``, ``ember.nn.functional.conv``): the package
    layout, which Python puts in the parent's namespace on import; not a leak."""
    return isinstance(value, types.ModuleType) and value.__name__.startswith(ns.__name__ + ".")


def _public(ns):
    return [n for n in dir(ns) if not n.startswith("_") and not _own_submodule(ns, getattr(ns, n))]


@pytest.mark.parametrize("ns, ref", NAMESPACES, ids=[e.__name__ for e, _ in NAMESPACES])
def test_public_names_are_pytorchs(ns, ref):
    extra = sorted(n for n in _public(ns) if not hasattr(ref, n) and n not in ALLOWED_EXTRAS[ns.__name__])
    assert extra == [], f"{ns.__name__} exposes names {ref.__name__} does not have: {extra}"


@pytest.mark.parametrize("ns, ref", NAMESPACES, ids=[e.__name__ for e, _ in NAMESPACES])
def test_no_foreign_modules(ns, ref):
    # private aliases (``import numpy as _np``) are how a module keeps its helpers out of its namespace
    leaked = sorted(n for n in dir(ns) if not n.startswith("_") and isinstance(getattr(ns, n), types.ModuleType)
                    and not _own_submodule(ns, getattr(ns, n)))
    assert leaked == [], f"{ns.__name__} exposes modules that are not its own: {leaked}"


def test_no_function_classes_or_helpers_at_top_level():
    # what the ops modules' star imports used to leak: autograd Functions, helpers, the modules' imports
    for name in ("np", "math", "B", "D", "Function", "Mul", "Add", "ToCopy", "sum_to", "to_dtype", "namespace_of",
                 "inplace", "state", "writeable", "annotations"):
        assert not hasattr(ember, name), name


# what modules' own imports used to leak into the namespaces above (helper modules, typing names, the
# ``from __future__ import annotations`` flag, autograd Functions and op helpers)
HELPERS = ("np", "math", "os", "sys", "time", "traceback", "warnings", "types", "Enum", "Callable", "Iterable", "B",
           "D", "Function", "namespace_of", "sample_like", "annotations", "Cholesky", "Det", "Eigh", "Inv",
           "MatrixExp", "VectorNorm")


@pytest.mark.parametrize("ns", WITH_ALL, ids=[e.__name__ for e in WITH_ALL])
def test_all_is_the_public_namespace(ns):
    assert len(set(ns.__all__)) == len(ns.__all__), f"{ns.__name__}.__all__ repeats a name"
    missing = sorted(n for n in ns.__all__ if not hasattr(ns, n))
    assert missing == [], f"{ns.__name__}.__all__ names what the module lacks: {missing}"
    # Tensor and Optimizer: the public classes a module checks against at run time (torch's module holds them too)
    unlisted = sorted(set(_public(ns)) - set(ns.__all__) - {"Tensor", "Optimizer"})
    assert unlisted == [], f"{ns.__name__}: public names missing from __all__: {unlisted}"
    star = {}
    exec(f"from {ns.__name__} import *", star)  # noqa: S102
    assert set(star) - {"__builtins__"} == set(ns.__all__)


@pytest.mark.parametrize("ns", WITH_ALL, ids=[e.__name__ for e in WITH_ALL])
def test_no_helper_leaks(ns):
    public = set(dir(ns))
    leaked = sorted(n for n in HELPERS if n in public and not (ns is ember.autograd and n == "Function"))
    assert leaked == [], f"{ns.__name__} exposes helpers: {leaked}"


def test_linalg_is_torch_linalg_and_logdet_stays_top_level():
    # torch.linalg has no logdet, so ember.linalg has none either; ember.logdet and Tensor.logdet keep working
    assert not hasattr(torch.linalg, "logdet") and not hasattr(ember.linalg, "logdet")
    a = np.array([[2.0, 0.5, 0.1], [0.5, 3.0, 0.2], [0.1, 0.2, 1.5]], dtype=np.float64)
    e, t = ember.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    for fe, ft in ((ember.logdet, torch.logdet), (lambda x: x.logdet(), lambda x: x.logdet()),
                   (lambda x: ember.linalg.det(x).log(), lambda x: torch.linalg.det(x).log())):
        e.grad, t.grad = None, None
        ye, yt = fe(e), ft(t)
        ye.backward()
        yt.backward()
        np.testing.assert_allclose(ye.item(), yt.item(), rtol=1e-12)
        np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_moved_names_reachable_where_pytorch_has_them():
    # names dropped from ember.autograd live where torch keeps them
    for mod, ref, name in ((ember.autograd.function, torch.autograd.function, "FunctionCtx"),
                           (ember.autograd.function, torch.autograd.function, "once_differentiable"),
                           (ember.autograd.graph, torch.autograd.graph, "Node"),
                           (ember, torch, "is_grad_enabled"), (ember, torch, "is_anomaly_enabled")):
        assert hasattr(ref, name) and hasattr(mod, name), f"{mod.__name__}.{name}"


def test_allow_list_is_not_stale():
    for ns, ref in NAMESPACES:
        for n in ALLOWED_EXTRAS[ns.__name__]:
            assert hasattr(ns, n) and not hasattr(ref, n), f"{ns.__name__}.{n}: drop it from ALLOWED_EXTRAS"


@pytest.mark.parametrize("name", ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32",
                                  "float64", "complex64", "complex128", "float", "double", "half", "long", "int",
                                  "short", "cfloat", "cdouble"])
def test_dtype_names_as_pytorch_has_them(name):
    # ``ember.float`` is the dtype float32 (not Python's float), as ``torch.float`` is
    assert str(getattr(ember, name)) == str(getattr(torch, name))


def test_core_api_present():
    # a sample across the ops modules that the star imports bring in, compared with torch's objects' names
    for name in ("add", "sub", "mul", "div", "pow", "clamp", "where", "maximum", "exp", "log", "sqrt", "round",
                 "arcsin", "xlogy", "eq", "isclose", "logical_and", "bitwise_not", "sum", "cat", "matmul", "tensor"):
        assert callable(getattr(ember, name)) and callable(getattr(torch, name)), name
    a = ember.tensor([0.4, 2.5])
    assert ember.round(a, decimals=0).tolist() == torch.round(torch.tensor([0.4, 2.5]), decimals=0).tolist()
