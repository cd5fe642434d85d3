"""dtypes, default dtype, inference and PyTorch's type promotion, each against torch."""
import numpy as np
import pytest
import torch

import ember

NAMES = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"]


def _same(e_dtype, t_dtype):
    assert repr(e_dtype) == repr(t_dtype)


@pytest.mark.parametrize("name", NAMES)
def test_dtype_objects(name):
    e, t = getattr(ember, name), getattr(torch, name)
    _same(e, t)
    assert e.is_floating_point == t.is_floating_point
    assert e.is_signed == t.is_signed
    assert e.itemsize == t.itemsize
    assert ember.zeros(2, dtype=e).dtype is e
    _same(ember.zeros(2, dtype=e).dtype, torch.zeros(2, dtype=t).dtype)


def test_aliases():
    for a in ("float", "double", "half", "long", "int", "short"):
        _same(getattr(ember, a), getattr(torch, a))


@pytest.mark.parametrize("data", [[1, 2], [1.0, 2], [True, False], [True, 2], 3, 3.5, True, [],
                                  [[1, 2], [3, 4]], np.array([1, 2], np.int32), np.array([1.0]),
                                  np.float64(2.5), np.array([1, 2], np.uint8), [1 + 2j]])
def test_tensor_inference(data):
    e, t = ember.tensor(data), torch.tensor(data)
    _same(e.dtype, t.dtype)
    assert tuple(e.shape) == tuple(t.shape)
    assert e.tolist() == t.tolist()


def test_default_dtype_roundtrip():
    assert ember.get_default_dtype() is ember.float32
    _same(ember.get_default_dtype(), torch.get_default_dtype())
    try:
        ember.set_default_dtype(ember.float64)
        torch.set_default_dtype(torch.float64)
        for f in (lambda m: m.tensor([1.5]), lambda m: m.zeros(2), lambda m: m.arange(0.0, 2),
                  lambda m: m.tensor([1, 2]) / 2, lambda m: m.tensor([1]) * 2.5, lambda m: m.linspace(0, 1, 3)):
            _same(f(ember).dtype, f(torch).dtype)
        assert repr(ember.tensor([1.5])) == repr(torch.tensor([1.5]))
    finally:
        ember.set_default_dtype(ember.float32)
        torch.set_default_dtype(torch.float32)
    with pytest.raises(TypeError):
        ember.set_default_dtype(ember.int64)
    with pytest.raises(TypeError):
        torch.set_default_dtype(torch.int64)


@pytest.mark.parametrize("a", NAMES)
def test_promote_types_table(a):
    for b in NAMES:
        _same(ember.promote_types(getattr(ember, a), getattr(ember, b)),
              torch.promote_types(getattr(torch, a), getattr(torch, b)))


def _operand(m, spec):
    kind, val = spec
    if kind == "t":  # 1-d tensor
        return m.tensor([val[0]], dtype=getattr(m, val[1]))
    if kind == "z":  # 0-d tensor
        return m.tensor(val[0], dtype=getattr(m, val[1]))
    return val  # Python scalar


SPECS = [("t", (1, "int32")), ("t", (1, "uint8")), ("t", (1, "int8")), ("t", (1.0, "float16")),
         ("t", (1.0, "float32")), ("t", (1.0, "float64")), ("t", (True, "bool")), ("z", (1, "int64")),
         ("z", (1, "int8")), ("z", (1.0, "float64")), ("z", (True, "bool")), ("s", 2), ("s", 2.5), ("s", True)]


@pytest.mark.parametrize("i", range(len(SPECS)))
def test_result_type(i):
    for j in range(len(SPECS)):
        a, b = SPECS[i], SPECS[j]
        if a[0] == "s" and b[0] == "s":
            continue  # torch.result_type needs one tensor
        _same(ember.result_type(_operand(ember, a), _operand(ember, b)),
              torch.result_type(_operand(torch, a), _operand(torch, b)))


@pytest.mark.parametrize("op", ["add", "mul", "truediv", "sub"])
def test_promotion_in_arithmetic(op):
    import operator
    f = getattr(operator, op)
    cases = [(np.array([1, 2], np.int32), 2), (np.array([1, 2], np.int64), np.array([3, 4], np.int64)),
             (np.array([1, 2], np.int32), 2.5), (np.array([1, 2], np.uint8), np.array([1, 2], np.int8)),
             (np.array([1.0], np.float16), np.array([2.0], np.float32)), (np.array([True]), 1)]
    for x, y in cases:
        ex = ember.tensor(x)
        tx = torch.tensor(x)
        ey = ember.tensor(y) if isinstance(y, np.ndarray) else y
        ty = torch.tensor(y) if isinstance(y, np.ndarray) else y
        if op == "sub" and x.dtype == bool:
            continue
        _same(f(ex, ey).dtype, f(tx, ty).dtype)
        np.testing.assert_allclose(f(ex, ey).numpy().astype(float), f(tx, ty).numpy().astype(float))
