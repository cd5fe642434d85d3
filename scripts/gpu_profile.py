"""Profile Ember's training steps on a GPU (cProfile, top functions by own time): where the host time goes.

    python scripts/gpu_profile.py [mlp_step|cnn_step|transformer_step] [steps]
"""
import cProfile
import os
import pstats
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench"))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import gpu  # noqa: E402

import ember  # noqa: E402


def main():
    name = sys.argv[1] if len(sys.argv) > 1 else "mlp_step"
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    build = {n: b for n, b, _, _ in gpu.CASES}[name]
    f = build(ember)
    for _ in range(3):
        f()
    ember.cuda.synchronize()
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(steps):
        f()
    ember.cuda.synchronize()
    prof.disable()
    pstats.Stats(prof).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
