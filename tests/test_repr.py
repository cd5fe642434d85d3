"""repr(tensor) is compared character for character with torch's."""
import numpy as np
import pytest
import torch

import ember

_R = np.random.default_rng(0)
_N45 = _R.standard_normal((4, 5)).astype(np.float32)
_N6030 = np.random.default_rng(1).standard_normal((60, 30)).astype(np.float32)
nan, inf = float("nan"), float("inf")

CASES = {
    "ints": lambda m: m.tensor([1, 2, 3]),
    "neg_ints": lambda m: m.tensor([-1, 200, 3]),
    "floats": lambda m: m.tensor([1.5, 2.25, -3.125]),
    "int_valued_floats": lambda m: m.tensor([1.0, 2.0, -3.0]),
    "int_valued_sci": lambda m: m.tensor([1.0, 1e8, -3.0]),
    "int_valued_big": lambda m: m.tensor([1.0, 2e8, -3.0]),
    "sci_small": lambda m: m.tensor([1e-5, 1.0]),
    "sci_ratio": lambda m: m.tensor([0.001, 2.5]),
    "fixed_ratio": lambda m: m.tensor([0.01, 20.5]),
    "sci_big": lambda m: m.tensor([1.5e9, 2.5]),
    "nan_inf": lambda m: m.tensor([nan, inf, -inf, 1.5]),
    "nan_inf_intvalued": lambda m: m.tensor([nan, inf, 1.0]),
    "only_nan": lambda m: m.tensor([nan]),
    "only_inf": lambda m: m.tensor([inf, -inf]),
    "zeros": lambda m: m.zeros(3),
    "neg_zero": lambda m: m.tensor([-0.0, 1.0]),
    "negative": lambda m: m.tensor([-1.5, -2.5]),
    "mixed_sign": lambda m: m.tensor([-1.5, 0.25, 100.125]),
    "precision": lambda m: m.tensor([1.23456789, 123.456789]),
    "large_fixed": lambda m: m.tensor([12345678.5, 1.5]),
    "big_int": lambda m: m.tensor([2 ** 40, -3]),
    "0d": lambda m: m.tensor(3.5),
    "0d_int": lambda m: m.tensor(7),
    "0d_bool": lambda m: m.tensor(True),
    "0d_f64": lambda m: m.tensor(3.5, dtype=m.float64),
    "0d_nan": lambda m: m.tensor(nan),
    "0d_sci": lambda m: m.tensor(1e-7),
    "empty": lambda m: m.tensor([]),
    "empty_2d": lambda m: m.zeros(0, 3),
    "empty_2d_int": lambda m: m.zeros(2, 0, dtype=m.int64),
    "empty_f64": lambda m: m.zeros(0, dtype=m.float64),
    "empty_3d": lambda m: m.zeros(2, 0, 3),
    "2d": lambda m: m.arange(6.0).reshape(2, 3) / 7,
    "3d": lambda m: m.arange(24).reshape(2, 3, 4),
    "3d_float": lambda m: m.arange(24.0).reshape(2, 3, 4) - 11.5,
    "4d": lambda m: m.arange(16).reshape(2, 2, 2, 2),
    "bool": lambda m: m.tensor([True, False]),
    "bool_2d": lambda m: m.tensor([[True, False], [False, True]]),
    "f64": lambda m: m.tensor([1.5, 2.0], dtype=m.float64),
    "f16": lambda m: m.tensor([1.5, 2.0], dtype=m.float16),
    "f16_sci": lambda m: m.tensor([1e-4, 100.0], dtype=m.float16),
    "i32": lambda m: m.tensor([1, 2], dtype=m.int32),
    "u8": lambda m: m.tensor([1, 2], dtype=m.uint8),
    "i8": lambda m: m.tensor([1, -2], dtype=m.int8),
    "i16": lambda m: m.tensor([1, -2], dtype=m.int16),
    "requires_grad": lambda m: m.tensor([1.0, 2.0], requires_grad=True),
    "requires_grad_f64": lambda m: m.tensor([1.0, 2.0], dtype=m.float64, requires_grad=True),
    "grad_fn_mul": lambda m: m.tensor([1.0, 2.0], requires_grad=True) * 2,
    "grad_fn_add": lambda m: m.tensor([1.0, 2.0], requires_grad=True) + 2,
    "grad_fn_sum": lambda m: (m.tensor([1.0, 2.0], requires_grad=True) * 2).sum(),
    "grad_fn_f64": lambda m: m.tensor([1.0, 2.0], dtype=m.float64, requires_grad=True) * 2,
    "summarised_1d": lambda m: m.arange(2000),
    "summarised_float": lambda m: m.arange(2000.0) / 3,
    "summarised_2d": lambda m: m.arange(40000.0).reshape(200, 200),
    "summarised_3d": lambda m: m.arange(3000).reshape(10, 10, 30),
    "ones_1000": lambda m: m.ones(1000),
    "ones_1001": lambda m: m.ones(1001),
    "summarised_mixed": lambda m: m.cat([m.tensor([1e-6]), m.ones(2000), m.tensor([5.5])]),
    "wrap_row": lambda m: m.arange(30.0) / 7,
    "wrap_row_int": lambda m: m.arange(100) * 1000,
    "wrap_row_2d": lambda m: (m.arange(60.0) / 7).reshape(2, 30),
    "wrap_row_grad_fn": lambda m: m.arange(30.0).requires_grad_() / 7,
    "wrap_sci": lambda m: m.arange(1, 30.0) ** 7,
    "suffix_wraps": lambda m: m.arange(12.0, dtype=m.float64) / 7 * 100,
    "two_suffixes_wrap": lambda m: (m.arange(8.0, dtype=m.float64) / 7 * 100).requires_grad_(),
    "shape_7x1x3": lambda m: m.ones(7, 1, 3),
    "random": lambda m: m.tensor(_N45),
    "random_sci": lambda m: m.tensor(_N45 * 1e-5),
    "random_summarised": lambda m: m.tensor(_N6030),
    "one_elem": lambda m: m.tensor([0.1]),
    "complex": lambda m: m.tensor([1 + 2j, -0.5j]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_repr_matches_torch(name):
    f = CASES[name]
    assert repr(f(ember)) == repr(f(torch))
    assert str(f(ember)) == str(f(torch))


@pytest.mark.parametrize("opts", [dict(precision=2), dict(sci_mode=True), dict(sci_mode=False),
                                  dict(linewidth=40), dict(threshold=10, edgeitems=2), dict(profile="short"),
                                  dict(profile="full")])
def test_printoptions(opts):
    data = [lambda m: m.tensor([1.2345, 2.0]), lambda m: m.tensor([1e-6, 2e5]), lambda m: m.arange(30.0) / 7,
            lambda m: m.arange(20).reshape(4, 5), lambda m: m.tensor([1.0, 2.0])]
    try:
        ember.set_printoptions(**opts)
        torch.set_printoptions(**opts)
        for f in data:
            assert repr(f(ember)) == repr(f(torch))
    finally:
        ember.set_printoptions(profile="default")
        torch.set_printoptions(profile="default")
