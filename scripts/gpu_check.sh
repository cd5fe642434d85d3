#!/usr/bin/env bash
# The GPU check: run on a machine with an NVIDIA GPU, CuPy and a CUDA build of PyTorch (the lent H100/H200
# machine has both for its python3), from the repository root:
#
#     OUT=gpu_out bash scripts/gpu_check.sh
#
# 1. what the machine has; 2. the GPU tests, then the whole suite (pytest-xdist where installed);
# 3. bench/gpu.py: training steps on the GPU against PyTorch CUDA. Budget: about 6 minutes on one H100.
# Nothing is installed: Ember runs from the checkout (PYTHONPATH).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-gpu_out}
PY=${PY:-python3}
mkdir -p "$OUT"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
status=0

{
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
  $PY - <<'PY'
import platform, numpy, cupy, torch
import ember
print("python", platform.python_version(), "numpy", numpy.__version__, "cupy", cupy.__version__,
      "torch", torch.__version__, "torch.cuda", torch.cuda.is_available())
print("ember.cuda.is_available():", ember.cuda.is_available(), ember.cuda.get_device_name())
PY
} > "$OUT/machine.txt" 2>&1
cat "$OUT/machine.txt"

# 2. tests: the real-GPU tests (every failure listed), then the whole suite in parallel
timeout 90 $PY -m pytest -q -p no:cacheprovider -rfE --tb=short tests/cuda > "$OUT/tests_gpu.txt" 2>&1 || status=1
tail -25 "$OUT/tests_gpu.txt"
XDIST=""
$PY -c "import xdist" 2>/dev/null && XDIST="-n 12"
timeout 130 $PY -m pytest -q -p no:cacheprovider $XDIST -rfE --tb=line tests --ignore=tests/distributed \
  > "$OUT/tests_all.txt" 2>&1 || status=1
tail -30 "$OUT/tests_all.txt"

# 3. benchmarks on the GPU: ratios Ember/PyTorch-CUDA
timeout 170 $PY bench/gpu.py --markdown "$OUT/bench_gpu.md" > "$OUT/bench_gpu.txt" 2>&1 || status=1
cat "$OUT/bench_gpu.txt"
exit $status
