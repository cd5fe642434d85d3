"""ember.profiler against torch.profiler: op names and counts, record_function nesting, schedule steps,
chrome trace JSON. Timings differ by nature; the tests compare what is recorded, not how long it took."""
import json

import numpy as np
import pytest
import torch

import ember
from ember.autograd.function import Function


def _model(lib, rng):
    m = lib.nn.Sequential(lib.nn.Linear(4, 3), lib.nn.ReLU(), lib.nn.Linear(3, 2))
    with lib.no_grad():
        for p, v in zip(m.parameters(), [rng.standard_normal(tuple(p.shape)).astype(np.float32)
                                          for p in m.parameters()]):
            p.copy_(lib.tensor(v))
    return m


def _counts(lib):
    rng = np.random.default_rng(0)
    m = _model(lib, rng)
    x = lib.tensor(rng.standard_normal((5, 4)).astype(np.float32))
    with lib.profiler.profile(activities=[lib.profiler.ProfilerActivity.CPU], record_shapes=True) as prof:
        with lib.profiler.record_function("forward_pass"):
            y = (m(x) * 2).sum()
        y.backward()
    return {e.key: e.count for e in prof.key_averages()}, prof


def test_op_names_and_counts_match_torch():
    ours, _ = _counts(ember)
    theirs, _ = _counts(torch)
    # aten::mul and aten::sum also run inside torch's backward formulas; Ember's backward is on arrays
    shared = ["forward_pass", "aten::addmm", "aten::relu", "AddmmBackward0",
              "ReluBackward0", "MulBackward0", "SumBackward0", "torch::autograd::AccumulateGrad",
              "autograd::engine::evaluate_function: AddmmBackward0",
              "autograd::engine::evaluate_function: torch::autograd::AccumulateGrad"]
    for name in shared:
        assert ours.get(name) == theirs.get(name), (name, ours.get(name), theirs.get(name))


def test_table_layout_matches_torch():
    _, ours = _counts(ember)
    _, theirs = _counts(torch)
    for kw in ({"sort_by": "cpu_time_total", "row_limit": 5}, {"sort_by": "self_cpu_time_total"}):
        a = ours.key_averages().table(**kw).splitlines()
        b = theirs.key_averages().table(**kw).splitlines()
        assert a[1] == b[1] and a[0] == b[0]  # header row and rule: same columns, same widths
        assert a[-1].startswith("Self CPU time total: ")
        assert len(a) == len(b) or "row_limit" not in kw
    a = ours.key_averages(group_by_input_shape=True).table(row_limit=3).splitlines()
    b = theirs.key_averages(group_by_input_shape=True).table(row_limit=3).splitlines()
    assert a[1].split() == b[1].split()  # "Input Shapes" column present
    rows = {r.split()[0]: r for r in a[3:-2]}
    assert "[[5, 3]]" in ours.key_averages(group_by_input_shape=True).table() or rows


def test_input_shapes_recorded_like_torch():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((2, 3)).astype(np.float32)
    b = rng.standard_normal((3, 4)).astype(np.float32)
    got = {}
    for lib in (ember, torch):
        ta, tb = lib.tensor(a), lib.tensor(b)
        with lib.profiler.profile(record_shapes=True) as prof:
            lib.mm(ta, tb)
            ta * 3.0
        got[lib] = {e.key: e.input_shapes for e in prof.key_averages(group_by_input_shape=True)}
    for name in ("aten::mm", "aten::mul"):
        assert got[ember][name] == got[torch][name]


def test_record_function_nesting_and_decorator():
    @ember.profiler.record_function("decorated")
    def f(t):
        return t * 2

    x = ember.ones(3, requires_grad=True)
    with ember.profiler.profile() as prof:
        with ember.profiler.record_function("outer"):
            with ember.autograd.profiler.record_function("inner"):
                y = f(x)
    evs = prof.events()
    by = {e.name: e for e in evs}
    assert by["inner"].cpu_parent is by["outer"]
    assert by["decorated"].cpu_parent is by["inner"]
    assert by["aten::mul"].cpu_parent is by["decorated"]
    assert by["outer"].cpu_time_total >= by["inner"].cpu_time_total >= by["aten::mul"].cpu_time_total
    s = by["outer"]
    assert abs(s.self_cpu_time_total - (s.cpu_time_total - by["inner"].cpu_time_total)) < 1e-6
    assert y.grad_fn.name() == "MulBackward0"


def test_nothing_recorded_outside_and_apply_restored():
    before = Function.__dict__["apply"]
    with ember.profiler.record_function("ignored"):
        ember.ones(2) * 2
    with ember.profiler.profile() as prof:
        ember.ones(2) + 1
    assert Function.__dict__["apply"] is before
    assert ember.autograd.grad_mode.state.trace is None
    assert [e.name for e in prof.events()] == ["aten::add"]


def test_custom_function_named_by_class_like_torch():
    class Twice(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    class TTwice(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    for lib, fn in ((ember, Twice), (torch, TTwice)):
        x = lib.ones(3, requires_grad=True)
        with lib.profiler.profile() as prof:
            fn.apply(x).sum().backward()
        names = {e.key for e in prof.key_averages()}
        assert fn.__name__ in names and "TwiceBackward" in names or "TTwiceBackward" in names


@pytest.mark.parametrize("kw", [dict(wait=1, warmup=1, active=2, repeat=2), dict(wait=0, warmup=1, active=1),
                                dict(wait=2, warmup=0, active=3, repeat=1, skip_first=1),
                                dict(wait=3, warmup=1, active=2, repeat=0, skip_first=2, skip_first_wait=1)])
def test_schedule_and_steps_match_torch(kw):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = torch.profiler.schedule(**kw)
    ours = ember.profiler.schedule(**kw)
    assert [ours(i).name for i in range(20)] == [ref(i).name for i in range(20)]

    def run(lib, sched):
        windows = []

        def ready(p):
            windows.append(sorted((e.key, e.count) for e in p.key_averages() if e.key.startswith(("ProfilerStep", "s"))))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with lib.profiler.profile(schedule=sched, on_trace_ready=ready) as p:
                for i in range(9):
                    with lib.profiler.record_function(f"s{i}"):
                        lib.ones(2) * 2
                    p.step()
        return windows
    assert run(ember, ours) == run(torch, ref)


def test_schedule_rejects_bad_arguments():
    with pytest.raises(AssertionError):
        ember.profiler.schedule(wait=0, warmup=0, active=0)


def test_chrome_trace_is_valid_json(tmp_path):
    x = ember.ones(2, 3, requires_grad=True)
    with ember.profiler.profile(record_shapes=True, with_stack=True, profile_memory=True) as prof:
        with ember.profiler.record_function("block"):
            (x * x).sum().backward()
    path = tmp_path / "trace.json"
    prof.export_chrome_trace(str(path))
    data = json.loads(path.read_text())
    names = [e["name"] for e in data["traceEvents"]]
    assert {"block", "aten::mul", "aten::sum", "MulBackward0"} <= set(names)
    assert all(e["ph"] == "X" and e["dur"] >= 0 for e in data["traceEvents"])
    mul = next(e for e in data["traceEvents"] if e["name"] == "aten::mul")
    assert mul["args"]["Input Dims"] == [[2, 3], [2, 3]]
    table = prof.key_averages().table(sort_by="self_cpu_memory_usage")
    assert "CPU Mem" in table and "24 b" in table  # (2, 3) float32 output


def test_legacy_autograd_profiler():
    x = ember.ones(3, requires_grad=True)
    with ember.autograd.profiler.profile(record_shapes=True) as prof:
        (x + 1).sum()
    assert {e.key for e in prof.key_averages()} == {"aten::add", "aten::sum"}
    assert "aten::add" in prof.table()


def test_nested_profilers_raise():
    with ember.profiler.profile():
        with pytest.raises(RuntimeError):
            with ember.profiler.profile():
                pass
