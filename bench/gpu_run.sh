#!/usr/bin/env bash
# The GPU figures, as one script for a lent GPU machine (see bench/README.md). Needs, beside the
# repo: .whl/ (trl, datasets, transformers, peft, pydantic wheels for that machine's Python) and
# bench/assets/smollm2-135m/ (SmolLM2's config and tokenizer). Results go to $OUT/RESULTS_gpu.md.
set -uo pipefail
OUT=${OUT:-/tmp/gpu-out}; mkdir -p "$OUT"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
if python3 -c "import pyarrow,sys; sys.exit(int(pyarrow.__version__.split('.')[0]) >= 24)"; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/alt/*.whl
fi
export PYTHONPATH=/tmp/site:$PWD/src HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false PYTHONUNBUFFERED=1
export VALIND_BENCH_RESULTS=$OUT/RESULTS_gpu.md VALIND_CACHE=/tmp/valind-cache
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
python3 -c "import torch, transformers, trl, peft, datasets, pyarrow; print(torch.__version__, transformers.__version__, trl.__version__, peft.__version__, datasets.__version__, pyarrow.__version__)"
python3 bench/bench_generation.py --models tiny smollm2-arch llama-1b-arch --prompts 48 --new-tokens 64 --batch-size 48 --repeats 2 --section bench_generation_gpu
python3 bench/bench_dpo.py --model smollm2-arch --steps 30 --rounds 2 --batch-size 8 --max-length 256 --section bench_dpo_gpu_smollm2
python3 bench/bench_dpo.py --model llama-1b-arch --steps 20 --rounds 2 --batch-size 8 --max-length 256 --section bench_dpo_gpu_llama1b
cat "$OUT/RESULTS_gpu.md"
