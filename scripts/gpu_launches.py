"""Device calls per training step of bench/gpu.py's workloads, counted on the CPU through the tests' CuPy
stand-in (no GPU needed). On a GPU each call (kernel launch, reduction, CuPy function) costs host time, and
a step that reads a device value on the host ("SYNC") waits for the device, so these counts are what a
GPU step's time is made of. Fused kernels run as C++ (g++) through the stand-in.

    python scripts/gpu_launches.py [mlp_step cnn_step transformer_step] [--top N]
"""
import argparse
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
for p in (ROOT, os.path.join(ROOT, "bench"), os.path.join(ROOT, "tests", "cuda")):
    sys.path.insert(0, p)

import fake_cupy  # noqa: E402
import gpu  # noqa: E402

import ember  # noqa: E402
import ember.backends  # noqa: E402


def count_step(name, warmup=2):
    """A Counter of the device calls one training step of workload ``name`` makes."""
    saved = ember.backends._cupy
    ember.backends._cupy = fake_cupy.make()
    try:
        step = {n: b for n, b, _, _ in gpu.CASES}[name](ember)
        for _ in range(warmup):
            step()
        fake_cupy.calls.clear()
        fake_cupy.counting[0] = True
        try:
            step()
        finally:
            fake_cupy.counting[0] = False
        return fake_cupy.calls.copy()
    finally:
        ember.backends._cupy = saved


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("cases", nargs="*", default=["mlp_step", "cnn_step", "transformer_step"])
    ap.add_argument("--top", type=int, default=12)
    args = ap.parse_args()
    for name in args.cases:
        c = count_step(name)
        syncs = sum(v for k, v in c.items() if k.startswith("SYNC"))
        print(f"{name}: {sum(c.values()) - syncs} device calls, {syncs} host syncs per step")
        for k, v in c.most_common(args.top):
            print(f"  {v:4d}  {k}")


if __name__ == "__main__":
    main()
