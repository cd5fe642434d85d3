"""Ember vs PyTorch, same workloads, one process, interleaved; prints medians as ratios.

    python bench/run.py [--quick] [--only NAME[,NAME]] [--markdown FILE]

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
    fe = case.build(ember)
    ft = case.build(torch)
    n = max(_calibrate(ft), _calibrate(fe)) if not getattr(case, "once", False) else 1
    te, tt = [], []
    for _ in range(repeats):  # interleaved: both see the same machine noise
        tt.append(_time_call(ft, n))
        te.append(_time_call(fe, n))
    me, mt = statistics.median(te), statistics.median(tt)
    return me, mt


def import_times(repeats: int):
    def one(mod):
        code = f"import time; t=time.perf_counter(); import {mod}; print(time.perf_counter()-t)"
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        return float(out.stdout.strip())
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
    args = ap.parse_args(argv)
    import numpy as np
    import torch
    torch.set_num_threads(os.cpu_count() or 1)
    repeats = 3 if args.quick else 7
    only = {s for s in args.only.split(",") if s}
    rows = []
    for case in cases.ALL:
        if only and case.name not in only:
            continue
        try:
            me, mt = measure(case, repeats)
        except Exception as e:  # a missing feature is reported, not fatal
            rows.append((case, None, None, f"error: {type(e).__name__}: {e}"))
            print(f"{case.name:32s} ERROR {type(e).__name__}: {e}", flush=True)
            continue
        note = ""
        if case.per is not None:
            note = f"{me / case.per * 1e6:.2f} vs {mt / case.per * 1e6:.2f} us/{case.unit}"
        rows.append((case, me, mt, note))
        print(f"{case.name:32s} ratio {me / mt:6.2f}  (target <= {case.target})  {note}", flush=True)
    if not only or "import" in only:
        me, mt = import_times(3 if args.quick else 5)
        rows.append((cases.Case("import", None, 0.1, "import ember vs import torch"), me, mt, ""))
        print(f"{'import':32s} ratio {me / mt:6.2f}  (target <= 0.1)", flush=True)
    lines = [f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
             f"NumPy {np.__version__}, PyTorch {torch.__version__}; median of {repeats} interleaved runs.", "",
             "| workload | Ember / PyTorch time | target | note |", "|---|---|---|---|"]
    for case, me, mt, note in rows:
        r = "n/a" if me is None else f"{me / mt:.2f}"
        lines.append(f"| {case.desc} | {r} | <= {case.target} | {note} |")
    table = "\n".join(lines)
    print()
    print(table)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(table + "\n")


if __name__ == "__main__":
    main()
