"""bench/gpu_run.sh's vLLM check says plainly when the pinned vLLM is not on the machine (as on a lent GPU machine:
no network, and the GPU wheel cannot be carried), and runs nothing: BLOCKED, exit 3, not a failure."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def test_gpu_run_with_vllm_missing_says_blocked_and_runs_nothing(tmp_path):
    if (REPO / ".gpu" / "whl").exists():  # gpu_prepare.sh ran here: the script would install those wheels first
        pytest.skip(".gpu/whl present (bench/gpu_prepare.sh's output); this test runs without it, as CI does")
    hidden = tmp_path / "site" / "vllm"
    hidden.mkdir(parents=True)
    (hidden / "__init__.py").write_text("raise ImportError('vllm hidden for this test')\n")
    out = tmp_path / "out"
    env = {**os.environ, "PYTHON": sys.executable, "ENGINE": "vllm", "OUT": str(out), "WORK": str(tmp_path / "work"),
           "PYTHONPATH": str(tmp_path / "site")}
    done = subprocess.run(["bash", "bench/gpu_run.sh"], cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "gpu_run: BLOCKED: the vLLM check needs vllm==0.32.0" in done.stderr
    assert "this machine has no vllm" in done.stderr and "Nothing was run." in done.stderr
    assert "BLOCKED" in (out / "gpu_run.log").read_text()
    assert not (tmp_path / "work").exists() and not (out / "RESULTS_gpu.md").exists()
