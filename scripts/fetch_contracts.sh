#!/usr/bin/env bash
# Fetch what the contract tests read (once; cached in .cache/contracts/):
#   the vLLM wheel pinned in pyproject.toml's `vllm` extra, downloaded without its dependencies and
#   never installed: tests/generate/conftest.py reads its Python sources (vLLM needs CUDA and its own torch).
# An install or download failure stops here with its reason.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
DIR=${VALIND_CONTRACTS_DIR:-.cache/contracts}
mkdir -p "$DIR"
VLLM=$("$PY" -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["vllm"][0])')
VERSION=${VLLM#vllm==}
if ! ls "$DIR"/vllm-"$VERSION"-*.whl >/dev/null 2>&1; then
  echo "contracts: downloading $VLLM (wheel only, not installed)" >&2
  "$PY" -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: -d "$DIR" "$VLLM" 2>&1 \
    | { grep -v "^WARNING: Location '.*' is ignored" || true; } \
    || { echo "contracts: FAILED: pip download $VLLM" >&2; exit 1; }
fi
