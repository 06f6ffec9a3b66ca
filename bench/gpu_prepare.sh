#!/usr/bin/env bash
# Run HERE (with PyPI) before a GPU session: puts into .gpu/ (git-ignored, under the 64 MiB a device call carries)
# what bench/gpu_run.sh needs on a lent GPU machine that has no network:
#   .gpu/whl/        wheels for the machine's Python 3.12 that its image lacks (trl, datasets, lm-eval and their
#                    needs, pydantic, filelock, peft); .gpu/whl/alt/ an older datasets for a pyarrow below 24
#   .gpu/assets/smollm2-135m/  SmolLM2's tokenizer (the random-weight model's tokenizer)
#   .gpu/shared/data/          the few ../shared/data files the run reads (AdvBench, XSTest, two MMLU subjects)
# Then: run(command="bash bench/gpu_run.sh", carry=[".gpu"]).
# vLLM is not carried: the `vllm` extra's GPU wheel (vllm 0.32.0: 326,518,482 bytes, measured with pip download)
# is over the 64 MiB a device call takes, and it requires torch==2.13.0 where the image has torch 2.11.0. So
# `ENGINE=vllm bash bench/gpu_run.sh` says BLOCKED on a lent machine unless its image ships that vLLM.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
SHARED=${VALIND_SHARED_DATA:-../shared/data}
rm -rf .gpu && mkdir -p .gpu/whl/alt .gpu/assets .gpu/shared/data/mmlu/dev .gpu/shared/data/mmlu/test
PLATFORM=(--python-version 3.12 --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64
          --platform manylinux2014_x86_64 --platform any)
"$PY" -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: "${PLATFORM[@]}" -d .gpu/whl \
  trl==1.16.0 datasets==5.2.0 lm-eval==0.4.13 evaluate==0.4.6 pytablewriter==1.2.1 DataProperty mbstrdecoder \
  pathvalidate tabledata tcolorpy typepy chardet nltk more-itertools "dill<0.4.2" "multiprocess<0.70.20" \
  pydantic==2.14.4 pydantic-core==2.50.5 annotated-types typing-inspection filelock==4.3.1 peft==0.21.0
"$PY" -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: "${PLATFORM[@]}" -d .gpu/whl/alt \
  "datasets>=4.7,<5"
"$PY" -m pip wheel -q --disable-pip-version-check --no-deps -w .gpu/whl sqlitedict rouge-score word2number  # sdists only
"$PY" - <<'PYEOF'
from pathlib import Path
from transformers import AutoTokenizer
from valind.models import resolve_model_path
AutoTokenizer.from_pretrained(resolve_model_path("embedded:smollm2-135m-instruct")).save_pretrained(".gpu/assets/smollm2-135m")
PYEOF
mkdir -p .gpu/shared/data/advbench .gpu/shared/data/xstest
cp "$SHARED/advbench/harmful_behaviors.csv" .gpu/shared/data/advbench/
cp "$SHARED/xstest/xstest_prompts.csv" .gpu/shared/data/xstest/
for s in high_school_geography marketing; do
  cp "$SHARED/mmlu/dev/${s}_dev.csv" .gpu/shared/data/mmlu/dev/
  cp "$SHARED/mmlu/test/${s}_test.csv" .gpu/shared/data/mmlu/test/
done
du -sh .gpu
