#!/usr/bin/env bash
# The GPU check, for a lent GPU machine: the paper pipeline (configs/paper_llama8b.yaml) end to end with its
# figures (time and peak GPU memory per stage beside `valind plan`'s estimate). Prepare here first with
# `bash bench/gpu_prepare.sh`, then run there with .gpu carried. Results: $OUT/RESULTS_gpu.md (copy its section
# into bench/RESULTS.md).
#   ENGINE=transformers (default): a random-weight model of Llama-3.1-8B's shape (SHAPE=llama-8b, or tiny) on the
#     transformers backend.
#   ENGINE=vllm: the paper config's own engine path, shrunk (bench/gpu_paper_run.py --engine vllm): the LLM
#     extractor, generation (every adapter a LoRA request) and the LLM judges on vLLM at the version the `vllm`
#     extra pins, SHAPE=smollm2 (the real SmolLM2, so the extractor lists values). The script first checks that
#     this vLLM imports and says plainly when it is not there: its GPU wheel cannot be carried to a lent machine
#     (see gpu_prepare.sh), so on one without it this check is BLOCKED (exit 3), not failed.
# STEPS, ITEMS, PAIRS, DTYPE as bench/gpu_paper_run.py. The CPU dry run of the same script, here:
#   PYTHON=.venv/bin/python ENGINE=vllm SHAPE=smollm2 PAIRS=40 ITEMS=3 STEPS=2 DTYPE=float32 SHARED=../shared/data \
#     bash bench/gpu_run.sh
set -uo pipefail
OUT=${OUT:-/tmp/gpu-out}; mkdir -p "$OUT"
PY=${PYTHON:-python3}
ENGINE=${ENGINE:-transformers}
if [ -d .gpu/whl ]; then
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .gpu/whl/*.whl \
    || { echo "gpu_run: FAILED: installing the carried wheels" >&2; exit 1; }
  if "$PY" -c "import pyarrow,sys; sys.exit(int(pyarrow.__version__.split('.')[0]) >= 24)"; then
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .gpu/whl/alt/*.whl
  fi
  export PYTHONPATH=/tmp/site:$PWD/src
else
  export PYTHONPATH=$PWD/src${PYTHONPATH:+:$PYTHONPATH}
fi
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false PYTHONUNBUFFERED=1
export VALIND_BENCH_RESULTS=$OUT/RESULTS_gpu.md VALIND_CACHE=${VALIND_CACHE:-/tmp/valind-cache}
SHARED=${SHARED:-$PWD/.gpu/shared/data}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>/dev/null || echo "no nvidia-smi: a CPU dry run"
"$PY" -c "import torch, transformers, trl, peft, datasets, lm_eval; print(torch.__version__, transformers.__version__, trl.__version__, peft.__version__, datasets.__version__, lm_eval.__version__)" \
  || { echo "gpu_run: FAILED: a required package does not import" >&2; exit 1; }
ARGS=(--steps "${STEPS:-10}" --items "${ITEMS:-16}" --shared "$SHARED" --work "${WORK:-/tmp/valind-gpu-check}")
if [ "$ENGINE" = vllm ]; then
  PIN=$("$PY" -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["vllm"][0].split("==")[1])')
  HAVE=$("$PY" -c "import vllm; print(vllm.__version__)" 2>/dev/null | tail -1)
  if [ "$HAVE" != "$PIN" ]; then
    echo "gpu_run: BLOCKED: the vLLM check needs vllm==$PIN (the version the vllm extra pins and CI executes);" \
         "this machine has ${HAVE:-no vllm} (and torch $("$PY" -c 'import torch; print(torch.__version__)')). A lent" \
         "GPU machine has no network, and vllm $PIN's GPU wheel (about 311 MiB, requiring torch==2.13.0) cannot be" \
         "carried under the 64 MiB a device call takes. Nothing was run." | tee "$OUT/gpu_run.log" >&2
    exit 3
  fi
  ARGS+=(--engine vllm --shape "${SHAPE:-smollm2}" ${PAIRS:+--pairs "$PAIRS"} ${DTYPE:+--dtype "$DTYPE"})
else
  ARGS+=(--shape "${SHAPE:-llama-8b}")
fi
"$PY" bench/gpu_paper_run.py "${ARGS[@]}" 2>&1 | tee "$OUT/gpu_run.log"
status=${PIPESTATUS[0]}
cat "$VALIND_BENCH_RESULTS" 2>/dev/null
exit "$status"
