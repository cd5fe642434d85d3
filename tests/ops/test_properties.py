"""Hypothesis property tests against PyTorch: broadcasting of binary ops, reductions over random
dims/keepdim, indexing with random slices, integer arrays and masks."""
import operator

import numpy as np
import torch
from hypothesis import given, settings, strategies as st

import ember
from opcheck import check

SETTINGS = settings(max_examples=30, deadline=None)


@st.composite
def broadcastable_pair(draw):
    nd = draw(st.integers(0, 4))
    base = draw(st.lists(st.integers(1, 4), min_size=nd, max_size=nd))
    def variant():
        drop = draw(st.integers(0, nd))
        dims = [1 if draw(st.booleans()) else s for s in base[drop:]]
        return tuple(dims)
    return variant(), variant()


def _arr(shape, seed, lo=-2.0, hi=2.0):
    return np.random.default_rng(seed).uniform(lo, hi, shape).astype(np.float32)


@SETTINGS
@given(broadcastable_pair(), st.sampled_from([operator.add, operator.sub, operator.mul, operator.truediv,
                                             ember.maximum, operator.lt]), st.integers(0, 2 ** 16))
def test_binary_broadcasting(shapes, op, seed):
    sa, sb = shapes
    a, b = _arr(sa, seed), _arr(sb, seed + 1, 0.5, 2.0)
    top = torch.maximum if op is ember.maximum else op
    check(op, top, a, b, rtol=1e-5, atol=1e-5)


@SETTINGS
@given(st.lists(st.integers(1, 4), min_size=1, max_size=4), st.data(),
       st.sampled_from(["sum", "mean", "amax", "amin", "prod", "logsumexp", "var", "std", "norm"]),
       st.booleans(), st.integers(0, 2 ** 16))
def test_reductions_random_dims(shape, data, name, keepdim, seed):
    nd = len(shape)
    dims = data.draw(st.lists(st.integers(-nd, nd - 1), min_size=1, max_size=nd, unique_by=lambda d: d % nd))
    dim = tuple(dims) if len(dims) > 1 else dims[0]
    a = _arr(tuple(shape), seed, 0.5, 1.5)
    if name in ("var", "std"):
        n = int(np.prod([shape[d] for d in dims]))
        if n < 2:
            return  # torch warns and returns nan/inf for dof <= 0
    if name == "prod" and isinstance(dim, tuple):
        dim = dims[0]
    check(lambda x: getattr(ember, name)(x, dim=dim, keepdim=keepdim),
          lambda x: getattr(torch, name)(x, dim=dim, keepdim=keepdim), a, rtol=1e-4, atol=1e-5)


@st.composite
def index_case(draw):
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=1, max_size=3)))
    kind = draw(st.sampled_from(["slices", "int_array", "mask", "mixed"]))
    idx = []
    if kind == "slices":
        for s in shape:
            start = draw(st.integers(-s, s))
            stop = draw(st.one_of(st.none(), st.integers(-s, s)))
            step = draw(st.integers(1, 3))
            idx.append(slice(start, stop, step) if draw(st.booleans()) else draw(st.integers(-s, s - 1)))
        return shape, ("basic", tuple(idx))
    if kind == "int_array":
        n = draw(st.integers(1, 4))
        arr = draw(st.lists(st.integers(-shape[0], shape[0] - 1), min_size=n, max_size=n))
        return shape, ("array", np.array(arr))
    if kind == "mask":
        m = draw(st.lists(st.booleans(), min_size=int(np.prod(shape)), max_size=int(np.prod(shape))))
        return shape, ("mask", np.array(m).reshape(shape))
    arr = draw(st.lists(st.integers(0, shape[0] - 1), min_size=1, max_size=3))
    return shape, ("mixed", np.array(arr))


def _build(lib, kind, idx):
    if kind == "basic":
        return idx
    if kind == "mixed":
        return (lib.tensor(idx), Ellipsis, slice(None, None, 2))
    return lib.tensor(idx)


@SETTINGS
@given(index_case(), st.integers(0, 2 ** 16))
def test_getitem_random(case, seed):
    shape, (kind, idx) = case
    a = _arr(shape, seed)
    check(lambda x: x[_build(ember, kind, idx)], lambda x: x[_build(torch, kind, idx)], a)


@SETTINGS
@given(index_case(), st.integers(0, 2 ** 16))
def test_setitem_random(case, seed):
    shape, (kind, idx) = case
    a = _arr(shape, seed)

    def run(lib, x):
        z = x * 1
        z[_build(lib, kind, idx)] = 0.5
        return z * z

    check(lambda x: run(ember, x), lambda x: run(torch, x), a)


@SETTINGS
@given(st.lists(st.sampled_from(["int", "none", "full", "part", "bounded_full", "ellipsis"]), min_size=1,
                max_size=3), st.booleans())
def test_basic_index_grad_fn_names(parts, bare):
    shape = (4, 5, 3)
    idx, used, ell = [], 0, False
    for p in parts:
        if p == "ellipsis":
            if ell:
                continue
            ell = True
            idx.append(Ellipsis)
        elif p == "none":
            idx.append(None)
        elif used < 3:
            size = shape[used]
            idx.append({"int": 1, "full": slice(None), "part": slice(1, None, 2),
                        "bounded_full": slice(0, size)}[p])
            used += 1
    index = idx[0] if bare and len(idx) == 1 else tuple(idx)
    a = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    check(lambda x: x[index], lambda x: x[index], a)
