"""DataLoader, default_collate and default_convert against torch.utils.data.

Batches are compared as trees: containers by type name and structure, tensors by dtype, shape and
values (converted through NumPy). Worker tests use tiny datasets, num_workers=2 and timeouts.
"""
import collections
import os
import random
import time
import warnings

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import ember
import ember.utils.data as eud
from conftest import raises_like

Point = collections.namedtuple("Point", "x y")


def tree(obj):
    """A comparable form of a batch: tensors -> ('T', dtype, array); containers keep their type name."""
    if isinstance(obj, (torch.Tensor, ember.Tensor)):
        arr = obj.detach().numpy() if isinstance(obj, torch.Tensor) else obj.detach()._cpu_array()
        return ("T", str(obj.dtype).split(".")[-1], arr.shape, arr.tolist())
    if isinstance(obj, dict):
        return (type(obj).__name__, {k: tree(v) for k, v in obj.items()})
    if isinstance(obj, (list, tuple)):
        return (type(obj).__name__, [tree(v) for v in obj])
    if isinstance(obj, np.ndarray):
        return ("ndarray", obj.dtype.str, obj.tolist())
    return obj


def assert_same(e, t):
    assert tree(e) == tree(t)


def datasets(rng, n=10):
    x = rng.standard_normal((n, 2, 3)).astype(np.float32)
    y = rng.integers(0, 5, n)
    return (eud.TensorDataset(ember.tensor(x), ember.tensor(y)),
            tud.TensorDataset(torch.tensor(x), torch.tensor(y)))


# --------------------------------------------------------------------------- default_collate
def _samples():
    return {
        "tensors": [np.arange(6, dtype=np.float32).reshape(2, 3) + i for i in range(3)],
        "tuple": [(np.float32(i) * np.ones(2, np.float32), i) for i in range(3)],
        "floats": [0.5, 1.5, -2.0],
        "ints": [1, 2, 3],
        "bools": [True, False, True],
        "mixed_int_float": [1, 2.5],
        "strings": ["a", "bb", "c"],
        "bytes": [b"a", b"b"],
        "np_arrays": [np.arange(4, dtype=np.int32) * i for i in range(3)],
        "np_f64": [np.ones((2, 2)) * i for i in range(2)],
        "np_scalars_f32": [np.float32(1.5), np.float32(2.5)],
        "np_scalars_i32": [np.int32(1), np.int32(-2)],
        "np_scalars_bool": [np.bool_(True), np.bool_(False)],
        "np_0d": [np.array(1.0), np.array(2.0)],
        "dicts": [{"x": i * 1.0, "y": [i, i + 1], "name": str(i)} for i in range(3)],
        "namedtuples": [Point(i, float(i)) for i in range(3)],
        "nested_lists": [[[i, i], (i * 1.0, "s")] for i in range(2)],
    }


@pytest.mark.parametrize("name", list(_samples()))
def test_default_collate_matches_torch(name):
    batch = _samples()[name]
    out_e = eud.default_collate(batch)
    out_t = tud.default_collate(batch)
    assert_same(out_e, out_t)


def test_default_collate_tensors():
    arrs = [np.arange(6, dtype=np.float32).reshape(2, 3) * i for i in range(3)]
    assert_same(eud.default_collate([ember.tensor(a) for a in arrs]),
                tud.default_collate([torch.tensor(a) for a in arrs]))
    assert_same(eud.default_collate([(ember.tensor(a), {"k": ember.tensor(a[0])}) for a in arrs]),
                tud.default_collate([(torch.tensor(a), {"k": torch.tensor(a[0])}) for a in arrs]))


def test_default_collate_tensor_dtypes_and_grad():
    pairs = [(np.float32, np.float64), (np.int32, np.float32), (np.int64, np.int64), (np.bool_, np.bool_)]
    for d0, d1 in pairs:
        a, b = np.ones(3, dtype=d0), np.zeros(3, dtype=d1)
        assert_same(eud.default_collate([ember.tensor(a), ember.tensor(b)]),
                    tud.default_collate([torch.tensor(a), torch.tensor(b)]))
    x = np.arange(4, dtype=np.float32)
    ea, ta = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    eb, tb = eud.default_collate([ea, ea * 2]), tud.default_collate([ta, ta * 2])
    assert_same(eb, tb)
    (eb ** 2).sum().backward()
    (tb ** 2).sum().backward()
    np.testing.assert_allclose(ea.grad.numpy(), ta.grad.numpy(), rtol=1e-6)


def test_default_collate_keeps_mapping_and_sequence_types():
    od = [collections.OrderedDict(a=i, b=2.0 * i) for i in range(2)]
    e, t = eud.default_collate(od), tud.default_collate(od)
    assert type(e) is type(t) is collections.OrderedDict
    assert_same(dict(e), dict(t))
    nt = eud.default_collate([Point(np.ones(2), 1), Point(np.zeros(2), 2)])
    assert type(nt) is Point and nt.x.dtype == ember.float64 and nt.y.tolist() == [1, 2]


@pytest.mark.parametrize("batch", [
    [[1, 2], [3]],                                      # ragged sequences
    [object(), object()],                               # unsupported type
    [np.array(["a", "b"]), np.array(["c", "d"])],       # string arrays
    [np.ones(2), np.ones(3)],                           # ragged arrays
])
def test_default_collate_errors(batch):
    raises_like(lambda: eud.default_collate(batch), lambda: tud.default_collate(batch), same_message=False)


def test_default_collate_ragged_tensors_message():
    raises_like(lambda: eud.default_collate([ember.ones(2), ember.ones(3)]),
                lambda: tud.default_collate([torch.ones(2), torch.ones(3)]))


@pytest.mark.parametrize("data", [
    np.arange(3, dtype=np.int16), np.float32(2.5), np.array(["a"]), (np.ones(2), 3), [np.zeros(1), "s"],
    {"a": np.ones(2), "b": (1, 2)}, Point(np.ones(1), 2.0), 7, "text",
])
def test_default_convert_matches_torch(data):
    assert_same(eud.default_convert(data), tud.default_convert(data))


def test_default_convert_shares_memory():
    a = np.ones(3)
    out = eud.default_convert(a)
    a[0] = 5
    assert out[0].item() == 5.0


# --------------------------------------------------------------------------- map-style loading
@pytest.mark.parametrize("bs, drop_last", [(1, False), (3, False), (3, True), (10, False), (12, True)])
def test_tensor_dataset_batches(rng, bs, drop_last):
    eds, tds = datasets(rng)
    e = eud.DataLoader(eds, batch_size=bs, drop_last=drop_last)
    t = tud.DataLoader(tds, batch_size=bs, drop_last=drop_last)
    assert len(e) == len(t)
    eb, tb = list(e), list(t)
    assert len(eb) == len(tb)
    for a, b in zip(eb, tb):
        assert_same(a, b)


def test_batch_is_a_copy(rng):
    eds, _ = datasets(rng)
    x, _ = next(iter(eud.DataLoader(eds, batch_size=4)))
    x.mul_(0)
    assert eds.tensors[0].abs().sum().item() > 0


def test_subset_of_tensor_dataset(rng):
    eds, tds = datasets(rng)
    idx = [9, 1, 1, 4, 0, 7, 3]
    e = eud.DataLoader(eud.Subset(eud.Subset(eds, list(range(10))), idx), batch_size=3)
    t = tud.DataLoader(tud.Subset(tud.Subset(tds, list(range(10))), idx), batch_size=3)
    for a, b in zip(list(e), list(t)):
        assert_same(a, b)
    assert len(list(e)) == len(t) == 3


def test_python_list_and_dict_datasets():
    data = [{"x": np.full(2, i, np.float32), "label": i, "id": f"s{i}"} for i in range(5)]
    for a, b in zip(eud.DataLoader(data, batch_size=2), tud.DataLoader(data, batch_size=2)):
        assert_same(a, b)


def test_custom_collate_fn_gets_list_of_samples(rng):
    eds, tds = datasets(rng)
    seen = {}

    def collate(name):
        def fn(batch):
            seen[name] = batch
            return len(batch)
        return fn

    assert list(eud.DataLoader(eds, batch_size=4, collate_fn=collate("e"))) == [4, 4, 2]
    assert list(tud.DataLoader(tds, batch_size=4, collate_fn=collate("t"))) == [4, 4, 2]
    assert type(seen["e"]) is type(seen["t"]) is list
    assert_same(seen["e"], seen["t"])


def test_dataset_subclass_getitem_is_honoured(rng):
    class EDs(eud.TensorDataset):
        def __getitem__(self, i):
            x, y = super().__getitem__(i)
            return x * 2, y

    class TDs(tud.TensorDataset):
        def __getitem__(self, i):
            x, y = super().__getitem__(i)
            return x * 2, y

    eds, tds = datasets(rng)
    e = list(eud.DataLoader(EDs(*eds.tensors), batch_size=4))
    t = list(tud.DataLoader(TDs(*tds.tensors), batch_size=4))
    for a, b in zip(e, t):
        assert_same(a, b)


def test_getitems_is_used():
    class Batched(eud.Dataset):
        calls = 0

        def __len__(self):
            return 6

        def __getitem__(self, i):
            raise AssertionError("per-item path taken")

        def __getitems__(self, idx):
            Batched.calls += 1
            return [float(i) for i in idx]

    out = [b.tolist() for b in eud.DataLoader(Batched(), batch_size=4)]
    assert out == [[0.0, 1.0, 2.0, 3.0], [4.0, 5.0]] and Batched.calls == 2


def test_no_batching(rng):
    eds, tds = datasets(rng, 4)
    e, t = list(eud.DataLoader(eds, batch_size=None)), list(tud.DataLoader(tds, batch_size=None))
    assert len(e) == len(t) == 4
    for a, b in zip(e, t):
        assert_same(a, b)
    assert_same(list(eud.DataLoader([np.ones(2), np.zeros(2)], batch_size=None)),
                list(tud.DataLoader([np.ones(2), np.zeros(2)], batch_size=None)))


def test_batch_sampler_option(rng):
    eds, tds = datasets(rng)
    bs = [[3, 1], [0], [9, 8, 7]]
    e = eud.DataLoader(eds, batch_sampler=bs)
    t = tud.DataLoader(tds, batch_sampler=bs)
    assert len(e) == len(t) == 3
    for a, b in zip(e, t):
        assert_same(a, b)


def test_sampler_option(rng):
    eds, tds = datasets(rng)
    order = [5, 2, 8, 0]
    for a, b in zip(eud.DataLoader(eds, sampler=order, batch_size=3), tud.DataLoader(tds, sampler=order, batch_size=3)):
        assert_same(a, b)


def test_shuffle_reproducible_and_complete():
    e1 = list(eud.DataLoader(eud.TensorDataset(ember.arange(20)), batch_size=6, shuffle=True,
                             generator=ember.Generator().manual_seed(0)))
    e2 = list(eud.DataLoader(eud.TensorDataset(ember.arange(20)), batch_size=6, shuffle=True,
                             generator=ember.Generator().manual_seed(0)))
    got = [v for (b,) in e1 for v in b.tolist()]
    assert got == [v for (b,) in e2 for v in b.tolist()]
    assert sorted(got) == list(range(20)) and got != list(range(20))
    assert [len(b) for (b,) in e1] == [6, 6, 6, 2]
    # global seed drives shuffling when no generator is given
    ember.manual_seed(3)
    a = [b.tolist() for (b,) in eud.DataLoader(eud.TensorDataset(ember.arange(8)), batch_size=8, shuffle=True)]
    ember.manual_seed(3)
    b = [b.tolist() for (b,) in eud.DataLoader(eud.TensorDataset(ember.arange(8)), batch_size=8, shuffle=True)]
    assert a == b


def test_epochs_reshuffle():
    loader = eud.DataLoader(list(range(30)), batch_size=30, shuffle=True, generator=ember.Generator().manual_seed(1))
    a, b = next(iter(loader)).tolist(), next(iter(loader)).tolist()
    assert sorted(a) == sorted(b) == list(range(30)) and a != b


def test_requires_grad_dataset_keeps_graph():
    w = ember.ones(4, 2, requires_grad=True)
    tw = torch.ones(4, 2, requires_grad=True)
    (xe,) = next(iter(eud.DataLoader(eud.TensorDataset(w), batch_size=3)))
    (xt,) = next(iter(tud.DataLoader(tud.TensorDataset(tw), batch_size=3)))
    (xe * 3).sum().backward()
    (xt * 3).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy())


# --------------------------------------------------------------------------- options and errors
@pytest.mark.parametrize("kwargs", [
    dict(batch_sampler=[[0]], batch_size=2), dict(batch_sampler=[[0]], shuffle=True),
    dict(batch_sampler=[[0]], sampler=[0]), dict(batch_sampler=[[0]], drop_last=True),
    dict(sampler=[0, 1], shuffle=True), dict(batch_size=None, drop_last=True), dict(num_workers=-1),
    dict(timeout=-1), dict(prefetch_factor=2), dict(persistent_workers=True),
    dict(num_workers=2, prefetch_factor=-1), dict(multiprocessing_context="fork"),
    dict(num_workers=1, multiprocessing_context="nope"), dict(num_workers=1, multiprocessing_context=3),
    dict(batch_size=0), dict(batch_size=2, drop_last=1),
])
def test_option_errors(kwargs):
    raises_like(lambda: eud.DataLoader(list(range(4)), **kwargs), lambda: tud.DataLoader(list(range(4)), **kwargs))


def test_setattr_after_init():
    e, t = eud.DataLoader(list(range(4))), tud.DataLoader(list(range(4)))
    for attr in ("batch_size", "sampler", "drop_last", "dataset", "batch_sampler", "persistent_workers"):
        raises_like(lambda: setattr(e, attr, None), lambda: setattr(t, attr, None))
    e.num_workers = 0  # other attributes stay settable
    e.collate_fn = lambda b: b
    assert next(iter(e)) == [0]


def test_timeout_without_workers_raises_like_torch():
    raises_like(lambda: iter(eud.DataLoader(list(range(3)), timeout=1)),
                lambda: iter(tud.DataLoader(list(range(3)), timeout=1)), same_message=False)


def test_pin_memory_accepted(rng):
    eds, tds = datasets(rng)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns that there is no accelerator
        t = list(tud.DataLoader(tds, batch_size=5, pin_memory=True))
    for a, b in zip(eud.DataLoader(eds, batch_size=5, pin_memory=True), t):
        assert_same(a, b)


def test_iterator_len(rng):
    eds, _ = datasets(rng)
    it = iter(eud.DataLoader(eds, batch_size=4))
    assert len(it) == 3
    next(it)
    assert len(it) == 3


# --------------------------------------------------------------------------- iterable datasets
def _iterable_pair(n, with_len=True, split=False):
    """An Ember and a Torch IterableDataset over range(n); ``split`` shards by worker."""
    def make(base, info_fn):
        class R(base):
            def __iter__(self):
                info = info_fn()
                if split and info is not None:
                    return iter(range(info.id, n, info.num_workers))
                return iter(range(n))

        if with_len:
            R.__len__ = lambda self: n
        return R()

    return make(eud.IterableDataset, eud.get_worker_info), make(tud.IterableDataset, tud.get_worker_info)


@pytest.mark.parametrize("bs, drop_last", [(None, False), (1, False), (3, False), (3, True), (7, True)])
def test_iterable_dataset_batches_and_len(bs, drop_last):
    e, t = _iterable_pair(7)
    el = eud.DataLoader(e, batch_size=bs, drop_last=drop_last)
    tl = tud.DataLoader(t, batch_size=bs, drop_last=drop_last)
    assert len(el) == len(tl)
    assert_same(list(el), list(tl))


def test_iterable_dataset_options():
    e, t = _iterable_pair(4)
    for kw in (dict(shuffle=True), dict(sampler=[0]), dict(batch_sampler=[[0]])):
        raises_like(lambda: eud.DataLoader(e, **kw), lambda: tud.DataLoader(t, **kw), same_message=False)
    assert len(list(eud.DataLoader(e, shuffle=False))) == 4


def test_iterable_without_len():
    e, t = _iterable_pair(5, with_len=False)
    raises_like(lambda: len(eud.DataLoader(e)), lambda: len(tud.DataLoader(t)), same_message=False)
    assert_same(list(eud.DataLoader(e, batch_size=2)), list(tud.DataLoader(t, batch_size=2)))


def test_iterable_len_warning():
    class Liar(eud.IterableDataset):
        def __iter__(self):
            return iter(range(5))

        def __len__(self):
            return 2

    loader = eud.DataLoader(Liar(), batch_size=None)
    assert len(loader) == 2
    with pytest.warns(UserWarning, match="was reported to be 2"):
        assert len(list(loader)) == 5


# --------------------------------------------------------------------------- worker processes
class _Squares(eud.Dataset):
    def __init__(self, n, fail_at=None, sleep=0.0, exit_at=None):
        self.n, self.fail_at, self.sleep, self.exit_at = n, fail_at, sleep, exit_at

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if i == self.fail_at:
            raise ValueError(f"bad sample {i}")
        if i == self.exit_at:
            os._exit(3)
        if self.sleep:
            time.sleep(self.sleep)
        info = eud.get_worker_info()
        return {"i": i, "sq": np.float32(i * i), "wid": -1 if info is None else info.id}


def test_workers_preserve_order_and_values(rng):
    eds, tds = datasets(rng, 23)
    single = list(tud.DataLoader(tds, batch_size=4))
    multi = list(eud.DataLoader(eds, batch_size=4, num_workers=2, timeout=20))
    assert len(multi) == len(single) == 6
    for a, b in zip(multi, single):
        assert_same(a, b)


def test_workers_round_robin_and_worker_info():
    out = list(eud.DataLoader(_Squares(10), batch_size=3, num_workers=2, timeout=20))
    assert [b["i"].tolist() for b in out] == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    assert [b["wid"].tolist()[0] for b in out] == [0, 1, 0, 1]
    assert out[1]["sq"].dtype == ember.float32 and out[1]["sq"].tolist() == [9.0, 16.0, 25.0]
    assert eud.get_worker_info() is None


def test_worker_init_fn_and_seeds():
    def init(worker_id):
        info = eud.get_worker_info()
        assert info.id == worker_id and info.num_workers == 2
        info.dataset.offset = 100 * (worker_id + 1)

    class Seeds(eud.Dataset):
        offset = 0

        def __len__(self):
            return 4

        def __getitem__(self, i):
            info = eud.get_worker_info()
            return [self.offset, info.seed, random.random(), float(np.random.rand()), ember.rand(1).item()]

    def run(seed):
        loader = eud.DataLoader(Seeds(), batch_size=None, num_workers=2, worker_init_fn=init, timeout=20,
                                generator=ember.Generator().manual_seed(seed))
        return [b.tolist() if isinstance(b, ember.Tensor) else [float(v) for v in b] for b in loader]

    a, b, c = run(0), run(0), run(1)
    assert a == b and a != c
    assert [r[0] for r in a] == [100, 200, 100, 200]
    assert a[1][1] == a[0][1] + 1  # seed = base_seed + worker_id
    assert a[0][2:] != a[1][2:]  # workers' random streams differ


def test_worker_exception_reraised_with_traceback():
    loader = eud.DataLoader(_Squares(8, fail_at=5), batch_size=2, num_workers=2, timeout=20)
    with pytest.raises(ValueError) as ei:
        list(loader)
    msg = str(ei.value)
    assert "Caught ValueError in DataLoader worker process 0" in msg
    assert "Traceback (most recent call last)" in msg and "bad sample 5" in msg
    assert 'raise ValueError(f"bad sample {i}")' in msg


def test_worker_keyerror_and_custom_exception():
    class Missing(eud.Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return {}["absent"]

    with pytest.raises(KeyError, match="Caught KeyError in DataLoader worker process"):
        list(eud.DataLoader(Missing(), num_workers=1, timeout=20))


def test_worker_timeout():
    loader = eud.DataLoader(_Squares(4, sleep=3.0), batch_size=2, num_workers=1, timeout=0.3)
    t0 = time.perf_counter()
    with pytest.raises(RuntimeError, match="DataLoader timed out after 0.3 seconds"):
        list(loader)
    assert time.perf_counter() - t0 < 2.9  # did not wait for the 3 s sample


def test_worker_death_detected():
    loader = eud.DataLoader(_Squares(4, exit_at=1), batch_size=None, num_workers=1)
    with pytest.raises(RuntimeError, match="exited unexpectedly"):
        list(loader)


def test_persistent_workers_keep_processes():
    class Pid(eud.Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return [i, os.getpid()]

    loader = eud.DataLoader(Pid(), batch_size=2, num_workers=2, persistent_workers=True, timeout=20)
    e1, e2 = list(loader), list(loader)
    assert [b[0].tolist() for b in e1] == [b[0].tolist() for b in e2] == [[0, 1], [2, 3]]
    assert [b[1].tolist() for b in e1] == [b[1].tolist() for b in e2]
    # an epoch abandoned half-way does not leak batches into the next one
    it = iter(loader)
    next(it)
    assert [b[0].tolist() for b in loader] == [[0, 1], [2, 3]]
    pids = {b[1].tolist()[0] for b in e1}
    assert os.getpid() not in pids and len(pids) == 2


@pytest.mark.parametrize("prefetch_factor", [1, 3])
def test_prefetch_factor(prefetch_factor):
    out = list(eud.DataLoader(_Squares(9), batch_size=2, num_workers=2, prefetch_factor=prefetch_factor,
                              timeout=20))
    assert [b["i"].tolist() for b in out] == [[0, 1], [2, 3], [4, 5], [6, 7], [8]]


@pytest.mark.parametrize("bs, drop_last", [(None, False), (2, False), (2, True)])
def test_iterable_dataset_split_across_workers(bs, drop_last):
    e, t = _iterable_pair(9, split=True)
    el = list(eud.DataLoader(e, batch_size=bs, drop_last=drop_last, num_workers=2, timeout=20))
    tl = list(tud.DataLoader(t, batch_size=bs, drop_last=drop_last, num_workers=2, timeout=20))
    assert_same(el, tl)


def test_iterable_duplicated_without_split():
    e, t = _iterable_pair(3)
    el = sorted(int(v) for v in eud.DataLoader(e, batch_size=None, num_workers=2, timeout=20))
    assert el == [0, 0, 1, 1, 2, 2]


def test_iterable_persistent_workers_restart_stream():
    e, _ = _iterable_pair(5, split=True)
    loader = eud.DataLoader(e, batch_size=2, num_workers=2, persistent_workers=True, timeout=20)
    a = [b.tolist() for b in loader]
    b = [b.tolist() for b in loader]
    assert a == b and sorted(v for x in a for v in x) == list(range(5))
