"""The public namespaces hold PyTorch's API and nothing else: no helper modules (np, math ...), no
Function classes or private helpers of the ops modules leaking in through star imports."""
from __future__ import annotations

import types

import pytest
import torch

import ember
import ember.nn
import ember.nn.functional
import ember.optim

# Ember-only public names, each with the reason it exists. Keep this list short: a name that
# PyTorch has elsewhere belongs where PyTorch has it.
ALLOWED_EXTRAS = {
    "ember": set(),
    "ember.nn": set(),
    "ember.nn.functional": set(),
    # PyTorch keeps these two in torch.optim.optimizer only; Ember re-exports them one level up as well
    "ember.optim": {"register_optimizer_step_pre_hook", "register_optimizer_step_post_hook"},
}

NAMESPACES = [(ember, torch), (ember.nn, torch.nn), (ember.nn.functional, torch.nn.functional),
              (ember.optim, torch.optim)]


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
    leaked = sorted(n for n in dir(ns) if isinstance(getattr(ns, n), types.ModuleType)
                    and not _own_submodule(ns, getattr(ns, n)))
    assert leaked == [], f"{ns.__name__} exposes modules that are not its own: {leaked}"


def test_no_function_classes_or_helpers_at_top_level():
    # what the ops modules' star imports used to leak: autograd Functions, helpers, the modules' imports
    for name in ("np", "math", "B", "D", "Function", "Mul", "Add", "ToCopy", "sum_to", "to_dtype", "namespace_of",
                 "inplace", "state", "writeable", "annotations"):
        assert not hasattr(ember, name), name


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
