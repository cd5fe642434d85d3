"""ember.distributed over MPI: 2 ranks launched with mpiexec on this machine."""
import os
import subprocess
import sys
import time

import numpy as np
import pytest

pytest.importorskip("mpi4py")

import ember  # noqa: E402
from ember.distributed.run import find_mpiexec  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
WORKER = os.path.join(HERE, "mpi_worker.py")


def launch(scenario, out, n=2, timeout=90):
    cmd = [find_mpiexec(), "-n", str(n), sys.executable, WORKER, scenario, str(out)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def load(out, name, rank):
    return dict(np.load(os.path.join(out, f"{name}.{rank}.npz")))


def base(rank, shape=(3, 4)):
    return np.arange(np.prod(shape), dtype=np.float32).reshape(shape) + 10 * rank


def test_collectives_equal_numpy_reference(tmp_path):
    p = launch("collectives", tmp_path)
    assert p.returncode == 0, p.stderr
    r0, r1 = load(tmp_path, "collectives", 0), load(tmp_path, "collectives", 1)
    a, b = base(0) + 1, base(1) + 1
    ref = {"SUM": a + b, "AVG": (a + b) / 2, "MAX": np.maximum(a, b), "MIN": np.minimum(a, b), "PRODUCT": a * b}
    for op, v in ref.items():
        for r in (r0, r1):
            np.testing.assert_allclose(r["all_reduce_" + op], v, rtol=1e-6)
    for r in (r0, r1):
        np.testing.assert_allclose(r["all_reduce_async"], base(0) + base(1))
        np.testing.assert_allclose(r["broadcast"], base(1))
        np.testing.assert_allclose(r["all_gather"], np.stack([base(0), base(1)]))
        np.testing.assert_allclose(r["all_gather_into_tensor"], np.concatenate([base(0), base(1)]))
        np.testing.assert_allclose(r["group_all_reduce"], base(0) + base(1))
    np.testing.assert_allclose(r0["reduce"], base(0) + base(1))
    np.testing.assert_allclose(r1["reduce"], base(1))  # non-destination ranks keep their input
    full = base(0, (6, 4)) + base(1, (6, 4))
    np.testing.assert_allclose(r0["reduce_scatter_tensor"], full[:3])
    np.testing.assert_allclose(r1["reduce_scatter_tensor"], full[3:])
    np.testing.assert_allclose(r0["gather"], np.stack([base(0), base(1)]))
    np.testing.assert_allclose(r0["scatter"], base(0) * 2)
    np.testing.assert_allclose(r1["scatter"], base(1) * 2)
    np.testing.assert_allclose(r1["recv"], base(7))
    assert int(r1["recv_src"]) == 0


def _single_process(accumulate):
    import importlib.util
    spec = importlib.util.spec_from_file_location("mpi_worker", WORKER)
    w = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(w)
    m = w.model()
    opt = ember.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
    loss_fn = ember.nn.CrossEntropyLoss()
    xs, ys = w.data()
    for s in range(20):
        opt.zero_grad()
        loss_fn(m(ember.tensor(xs[s])), ember.tensor(ys[s])).backward()
        opt.step()
    return {k: v.numpy() for k, v in m.state_dict().items()}


@pytest.mark.parametrize("scenario", ["ddp", "ddp_accum"])
def test_ddp_two_ranks_equals_single_process_big_batch(tmp_path, scenario):
    p = launch(scenario, tmp_path)
    assert p.returncode == 0, p.stderr
    single = _single_process(scenario == "ddp_accum")
    r0, r1 = load(tmp_path, scenario, 0), load(tmp_path, scenario, 1)
    for k, v in single.items():
        np.testing.assert_allclose(r0[k], r1[k], rtol=0, atol=0)     # ranks stay identical
        np.testing.assert_allclose(r0[k], v, rtol=1e-5, atol=1e-6)   # and equal one batch of 64


def test_mismatched_shapes_detected_at_construction(tmp_path):
    p = launch("mismatch", tmp_path)
    assert p.returncode == 0, p.stderr
    for r in (0, 1):
        msg = open(os.path.join(tmp_path, f"mismatch.{r}.txt")).read()
        assert "shapes differ across ranks" in msg and "weight" in msg


def test_crashing_rank_ends_the_job_quickly_with_its_traceback(tmp_path):
    t0 = time.monotonic()
    p = launch("crash", tmp_path, timeout=60)
    assert time.monotonic() - t0 < 30
    assert p.returncode != 0
    assert "rank 1 fails on purpose" in p.stderr and "Traceback" in p.stderr


def test_distributed_sampler_partitions_and_pads(tmp_path):
    p = launch("sampler", tmp_path)
    assert p.returncode == 0, p.stderr
    a, b = load(tmp_path, "sampler", 0)["idx"], load(tmp_path, "sampler", 1)["idx"]
    assert len(a) == len(b) == 6
    assert set(a) | set(b) == set(range(11))


def test_sampler_matches_torch_partition_rule_without_shuffle():
    import torch.utils.data as tud
    from ember.utils.data import DistributedSampler
    for n, reps, drop in [(10, 3, False), (10, 3, True), (7, 2, False), (4, 4, True)]:
        for r in range(reps):
            ours = list(DistributedSampler(list(range(n)), reps, r, shuffle=False, drop_last=drop))
            theirs = list(tud.DistributedSampler(list(range(n)), reps, r, shuffle=False, drop_last=drop))
            assert ours == theirs, (n, reps, r, drop)


def test_launcher_builds_mpiexec_command():
    from ember.distributed import run
    cmd = run.command(3, ["train.py", "--lr", "0.1"])
    assert cmd[1:4] == ["-n", "3", sys.executable] and cmd[-3:] == ["train.py", "--lr", "0.1"]


def test_api_before_init():
    import ember.distributed as dist
    assert dist.is_available()
    assert not dist.is_initialized()
    with pytest.raises(RuntimeError, match="not been initialized"):
        dist.all_reduce(ember.ones(2))


def test_ddp_digits_example_two_ranks():
    script = os.path.join(os.path.dirname(os.path.dirname(HERE)), "examples", "ddp_digits.py")
    p = subprocess.run([sys.executable, "-m", "ember.distributed.run", "--nproc", "2", script, "--quick"],
                       capture_output=True, text=True, timeout=180)
    assert p.returncode == 0, p.stderr
    assert "2 rank(s): held-out accuracy" in p.stdout
