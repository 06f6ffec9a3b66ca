#!/usr/bin/env bash
# The GPU check, for a lent GPU machine: the paper pipeline (configs/paper_llama8b.yaml) end to end on a
# random-weight model of Llama-3.1-8B's shape, on the transformers backend, with its figures (time and peak GPU
# memory per stage beside `valind plan`'s estimate). Prepare here first with `bash bench/gpu_prepare.sh`, then
# run there with .gpu carried. SHAPE=llama-8b (default) or tiny; STEPS, ITEMS as bench/gpu_paper_run.py.
# Results: $OUT/RESULTS_gpu.md (copy its section into bench/RESULTS.md).
set -uo pipefail
OUT=${OUT:-/tmp/gpu-out}; mkdir -p "$OUT"
if [ -d .gpu/whl ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .gpu/whl/*.whl \
    || { echo "gpu_run: FAILED: installing the carried wheels" >&2; exit 1; }
  if python3 -c "import pyarrow,sys; sys.exit(int(pyarrow.__version__.split('.')[0]) >= 24)"; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .gpu/whl/alt/*.whl
  fi
  export PYTHONPATH=/tmp/site:$PWD/src
else
  export PYTHONPATH=$PWD/src${PYTHONPATH:+:$PYTHONPATH}
fi
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false PYTHONUNBUFFERED=1
export VALIND_BENCH_RESULTS=$OUT/RESULTS_gpu.md VALIND_CACHE=/tmp/valind-cache
SHARED=${SHARED:-$PWD/.gpu/shared/data}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>/dev/null || echo "no nvidia-smi: a CPU dry run"
python3 -c "import torch, transformers, trl, peft, datasets, lm_eval; print(torch.__version__, transformers.__version__, trl.__version__, peft.__version__, datasets.__version__, lm_eval.__version__)" \
  || { echo "gpu_run: FAILED: a required package does not import" >&2; exit 1; }
python3 bench/gpu_paper_run.py --shape "${SHAPE:-llama-8b}" --steps "${STEPS:-10}" --items "${ITEMS:-16}" \
  --shared "$SHARED" --work /tmp/valind-gpu-check 2>&1 | tee "$OUT/gpu_run.log"
status=${PIPESTATUS[0]}
cat "$VALIND_BENCH_RESULTS" 2>/dev/null
exit "$status"
