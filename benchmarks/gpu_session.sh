#!/usr/bin/env bash
# One lent-GPU session in one command: build nasfast._C with CUDA for sm_90, run the CUDA tests
# (also under compute-sanitizer), then benchmarks/gpu_darts_edge.py, then a one-epoch DARTS search
# on the GPU (end to end through the CLI). Logs and the JSON report go
# to $OUT (the device tool's return folder; ./gpu_out when unset).
#   STAGES="build test sanitize bench" benchmarks/gpu_session.sh
# Wheels the image lacks (moocore, expecttest, pymoo and its small dependencies) travel in .whl/:
# run benchmarks/gpu_wheels.sh here first, then call the device tool with carry [".whl"].
set -u
OUT=${OUT:-gpu_out}
mkdir -p "$OUT"
STAGES=${STAGES:-"build test sanitize bench search"}
export PYTHONUNBUFFERED=1
PY=${PY:-python3}

nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.mem --format=csv
if ls .whl/*.whl >/dev/null 2>&1; then
  $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site:$PWD
else
  export PYTHONPATH=$PWD
fi
$PY -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.get_device_name())"

stage() { [[ " $STAGES " == *" $1 "* ]]; }

if stage build; then
  start=$(date +%s)
  TORCH_CUDA_ARCH_LIST=9.0 NASFAST_CUDA=1 MAX_JOBS=$(nproc) \
    timeout ${BUILD_TIMEOUT:-300} $PY setup.py -q build_ext --inplace >"$OUT/build.log" 2>&1
  rc=$?
  echo "build rc=$rc in $(($(date +%s) - start)) s"
  if [ $rc -ne 0 ]; then
    grep -n -B2 -A8 "error" "$OUT/build.log" | head -120
    exit 1
  fi
  $PY -c "import nasfast; print(nasfast.build_info())"
fi

if stage test; then
  timeout ${TEST_TIMEOUT:-150} $PY -m pytest -v -p no:cacheprovider -k cuda -rs \
    tests/test_darts_edge.py tests/test_mixed_op.py tests/test_pareto.py \
    tests/test_row_gather.py tests/test_nb201_supernet.py 2>&1 | tee "$OUT/pytest_cuda.log" | tail -60
fi

if stage sanitize; then
  timeout ${SAN_TIMEOUT:-120} compute-sanitizer --tool memcheck --error-exitcode 9 \
    $PY -m pytest -q -p no:cacheprovider -x -k "cuda and not opcheck" \
    tests/test_darts_edge.py tests/test_mixed_op.py tests/test_row_gather.py \
    tests/test_pareto.py >"$OUT/sanitizer.log" 2>&1
  echo "compute-sanitizer memcheck rc=$?"
  grep -E "ERROR SUMMARY|Invalid|passed|failed" "$OUT/sanitizer.log" | head -20
fi

if stage bench; then
  timeout "${BENCH_TIMEOUT:-300}" $PY benchmarks/gpu_darts_edge.py --json "$OUT/gpu_darts_edge.json" \
    ${BENCH_ARGS:---graph} 2>&1 | tee "$OUT/bench.log" | tail -40
fi

if stage search; then
  timeout "${SEARCH_TIMEOUT:-150}" $PY -m nasfast search darts --device cuda --epochs 1 \
    --train-images 960 --batch-size 32 --channels 4 --layers 3 --order first --no-progress \
    --out "$OUT/search_darts" 2>&1 | tee "$OUT/search.log" | tail -15
fi
