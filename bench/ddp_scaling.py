"""Data-parallel scaling: samples per second of the demo model trained with DistributedDataParallel on
1 and 2 ranks (MPI on this machine), each rank on one BLAS thread.

    python bench/ddp_scaling.py [--epochs N] [--markdown FILE]
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def rate(nproc: int, epochs: int) -> float:
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-m", "ember.distributed.run", "--nproc", str(nproc),
                          os.path.join(ROOT, "examples", "ddp_digits.py"), "--epochs", str(epochs)],
                         capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    m = re.search(r"([\d.]+) samples/s", out.stdout)
    return float(m.group(1))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--markdown", default="")
    args = ap.parse_args(argv)
    rows = []
    base = None
    for n in (1, 2):
        r = rate(n, args.epochs)
        base = base or r
        rows.append(f"| {n} | {r:.0f} | {r / base:.2f}x |")
        print(f"{n} rank(s): {r:.0f} samples/s ({r / base:.2f}x)", flush=True)
    table = "\n".join([f"DDP digits CNN, batch 32 per rank, {args.epochs} epochs, {os.cpu_count()} cores, MPI (MPICH):",
                       "", "| ranks | samples/s | speed-up |", "|---|---|---|", *rows])
    print("\n" + table)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(table + "\n")


if __name__ == "__main__":
    main()
