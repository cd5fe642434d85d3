"""Ember vs PyTorch, same workloads, one process, interleaved; prints medians as ratios.

    python bench/run.py [--quick] [--only NAME[,NAME]] [--markdown FILE] [--threads N]

Each case is written once against the shared API and called with ``T = torch`` and ``T = ember``.
A ratio below 1 means Ember is faster. The machine is shared and noisy: read ratios, not times.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time



def _threads_from_argv(argv):
    for i, a in enumerate(argv):
        if a == "--threads" and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith("--threads="):
            return a.split("=", 1)[1]
    return None


# Thread pools read these when NumPy/PyTorch load, so they are set before anything imports them.
# On a shared, oversubscribed machine, --threads 1 gives both libraries stable, comparable times
# (spin-waiting thread pools otherwise swing 10x with the load of other processes).
_THREADS = _threads_from_argv(sys.argv[1:])
if _THREADS:
    for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[_var] = _THREADS

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

import cases  # noqa: E402


def _time_call(fn, number):
    t0 = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - t0) / number


def _calibrate(fn, target=0.05):
    fn()
    n = 1
    while True:
        t = _time_call(fn, n)
        if t * n >= target or n >= 1 << 16:
            return n
        n *= 2


def measure(case, repeats: int):
    import ember
    import torch
    try:
        fe = case.build(ember)
        ft = case.build(torch)
        if case.number is None:
            n = max(_calibrate(ft), _calibrate(fe))
        else:
            n = case.number
            ft()  # warm-up (first-call caches, page cache)
            fe()
        te, tt = [], []
        for _ in range(repeats):  # interleaved: both see the same machine noise
            tt.append(_time_call(ft, n))
            te.append(_time_call(fe, n))
    finally:
        cases.cleanup()
    # the ratio is the median of the paired ratios: each pair ran back to back under the same load
    ratio = statistics.median(e / t for e, t in zip(te, tt))
    return statistics.median(te), statistics.median(tt), ratio


def import_times(repeats: int):
    # Both imports run with a warm bytecode cache, as they do for users. (This machine sets
    # PYTHONDONTWRITEBYTECODE, which would make every import of the editable Ember recompile its
    # sources, while PyTorch's wheel ships compiled.) The caches go to a temporary folder, not the repo.
    import tempfile
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = os.path.join(tempfile.gettempdir(), "ember_bench_pycache")

    def one(mod):
        code = f"import time; t=time.perf_counter(); import {mod}; print(time.perf_counter()-t)"
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
        return float(out.stdout.strip())
    one("torch")  # warm-up: fills the bytecode cache
    one("ember")
    te, tt = [], []
    for _ in range(repeats):
        tt.append(one("torch"))
        te.append(one("ember"))
    return statistics.median(te), statistics.median(tt)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer repeats")
    ap.add_argument("--only", default="", help="comma-separated case names")
    ap.add_argument("--markdown", default="", help="also write the table to this file")
    ap.add_argument("--threads", default=None, help="thread-pool size for both libraries (default: theirs)")
    args = ap.parse_args(argv)
    import numpy as np
    import torch
    # torch's default thread count is already the core count; calling set_num_threads() explicitly
    # makes its small ops ~10-50x slower on a loaded machine (a distorted baseline), so leave it alone.
    repeats = 3 if args.quick else 7
    only = {s for s in args.only.split(",") if s}
    rows = []
    for case in cases.ALL:
        if only and case.name not in only:
            continue
        try:
            me, mt, ratio = measure(case, repeats)
        except Exception as e:  # a missing feature is reported, not fatal
            rows.append((case, None, f"error: {type(e).__name__}: {e}"))
            print(f"{case.name:20s} ERROR {type(e).__name__}: {e}", flush=True)
            continue
        note = ""
        if case.per is not None:
            note = f"{me / case.per * 1e6:.2f} vs {mt / case.per * 1e6:.2f} us/{case.unit}"
        else:
            note = f"{me * 1e3:.1f} vs {mt * 1e3:.1f} ms"
        rows.append((case, ratio, note))
        print(f"{case.name:20s} ratio {ratio:6.2f}  (target <= {case.target})  {note}", flush=True)
    if not only or "import" in only:
        me, mt = import_times(3 if args.quick else 5)
        note = f"{me * 1e3:.0f} vs {mt * 1e3:.0f} ms"
        rows.append((cases.Case("import", None, 0.1, "import ember vs import torch"), me / mt, note))
        print(f"{'import':20s} ratio {me / mt:6.2f}  (target <= 0.1)  {note}", flush=True)
    lines = [f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
             f"NumPy {np.__version__}, PyTorch {torch.__version__} ({torch.get_num_threads()} threads); "
             f"ratio = median over {repeats} interleaved Ember/PyTorch pairs (lower is better; shared, noisy "
             f"machine).", "",
             "| workload | Ember / PyTorch time | target | Ember vs PyTorch |", "|---|---|---|---|"]
    for case, ratio, note in rows:
        r = "n/a" if ratio is None else f"{ratio:.2f}"
        ok = "" if ratio is None or ratio <= case.target else " (missed)"
        lines.append(f"| {case.desc} | {r}{ok} | <= {case.target} | {note} |")
    table = "\n".join(lines)
    print()
    print(table)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(table + "\n")


if __name__ == "__main__":
    main()
