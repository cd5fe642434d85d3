"""``python -m ember.distributed.run --nproc N train.py [args...]``: start N local ranks through MPI.

Equivalent to ``mpiexec -n N python train.py args...`` with the MPI launcher that came with the
MPICH wheel (found next to this Python, or on PATH). ``-m module`` runs a module instead of a script.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys


def find_mpiexec() -> str:
    here = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    if os.path.exists(here):
        return here
    found = shutil.which("mpiexec") or shutil.which("mpirun")
    if not found:
        sys.exit("ember.distributed.run: no mpiexec found; install the MPI extra: pip install 'ember-autograd[mpi]'")
    return found


def command(nproc: int, target: list[str]) -> list[str]:
    mpiexec = find_mpiexec()
    return [mpiexec, "-n", str(nproc), sys.executable, *target]


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m ember.distributed.run", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nproc", "--nproc-per-node", "--nproc_per_node", dest="nproc", type=int, default=1)
    ap.add_argument("-m", dest="module", default=None, help="run a module instead of a script")
    ap.add_argument("script", nargs="?", help="the training script")
    ap.add_argument("args", nargs=argparse.REMAINDER)
    a = ap.parse_args(argv)
    if a.module:
        target = ["-m", a.module] + ([a.script] if a.script else []) + a.args
    elif a.script:
        target = [a.script] + a.args
    else:
        ap.error("a script (or -m module) is required")
    cmd = command(a.nproc, target)
    os.execv(cmd[0], cmd)


if __name__ == "__main__":
    main()
