#!/usr/bin/env bash
# The GPU check: run on a machine with an NVIDIA GPU, CuPy and a CUDA build of PyTorch (the lent H100/H200
# machine has both for its python3), from the repository root:
#
#     bash scripts/gpu_check.sh            # results under $OUT (default ./gpu_out)
#
# 1. what the machine has; 2. the test suite with the GPU tests enabled; 3. bench/ on the GPU against PyTorch
# CUDA. Budget: under 8 minutes on one H100. Nothing is installed: Ember runs from the checkout (PYTHONPATH).
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
import numpy, cupy, torch
import ember
print("numpy", numpy.__version__, "cupy", cupy.__version__, "torch", torch.__version__,
      "torch.cuda", torch.cuda.is_available())
print("ember.cuda.is_available():", ember.cuda.is_available(), ember.cuda.get_device_name())
PY
} 2>&1 | tee "$OUT/machine.txt"

# 2. tests: the GPU tests first (fail fast), then the whole suite in parallel (pytest-xdist is on that image)
timeout 120 $PY -m pytest -q -p no:cacheprovider tests/cuda 2>&1 | tee "$OUT/tests_gpu.txt" || status=1
XDIST=""
$PY -c "import xdist" 2>/dev/null && XDIST="-n 8"
timeout 300 $PY -m pytest -q -p no:cacheprovider $XDIST tests -x --deselect tests/distributed 2>&1 \
  | tail -40 | tee "$OUT/tests_all.txt" || status=1

# 3. benchmarks on the GPU: ratios Ember/PyTorch-CUDA for the MLP, CNN and Transformer training steps
timeout 150 $PY bench/run.py --device cuda --quick --only mlp_step,cnn_step,transformer_step,matmul_1024 \
  --markdown "$OUT/bench_gpu.md" 2>&1 | tee "$OUT/bench_gpu.txt" || status=1
exit $status
