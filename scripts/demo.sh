#!/usr/bin/env bash
# Set up (if needed) and run the embedded default study offline; outputs in runs/default/.
set -euo pipefail
cd "$(dirname "$0")/.."
# The default generates with transformers (generation.backend: transformers), so the demo's set-up leaves
# vLLM's CPU build out (about 2 minutes of installing), and the test, ray and inspect extras (pytest, Ray,
# Inspect AI: about a minute); `VALIND_VLLM=1 VALIND_EXTRAS=test,ray,inspect bash scripts/demo.sh` or
# scripts/test.sh installs them.
VALIND_VLLM=${VALIND_VLLM:-0} VALIND_EXTRAS=${VALIND_EXTRAS-} bash scripts/setup.sh
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
exec .venv/bin/valind run "$@"
