"""Two fresh runs of the same study and seed on CPU give byte-identical artifacts.

The first run is the in-process reference shared with tests/pipeline/test_kill_resume.py;
the second runs every stage in a new Python process with another hash seed
(set and dict orders, process-level state), as a user rerunning the study would.
Where GPU nondeterminism can enter is written down in docs/robustness.md.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd
from safetensors.torch import load_file

from tests.pipeline.conftest import ADAPTERS, STAGES, reference_run

SECOND_RUN = "import sys; from valind.cli import main\n" \
             "for stage in sys.argv[3:]:\n" \
             "    assert main([stage, sys.argv[1], '--out', sys.argv[2], '--no-progress']) == 0, stage\n"


def test_two_fresh_runs_are_identical(tmp_path_factory, tiny_model_dir, tmp_path):
    study, first = reference_run(tmp_path_factory, tiny_model_dir)
    second = tmp_path / "second"
    proc = subprocess.run([sys.executable, "-c", SECOND_RUN, str(study), str(second), *STAGES],
                          env={**os.environ, "PYTHONHASHSEED": "987"}, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]

    def same_bytes(rel: str) -> None:
        a, b = first / rel, second / rel
        assert a.read_bytes() == b.read_bytes(), f"{rel} differs between two fresh runs"

    # Data stages: byte-identical subsets (the brief's promise), and everything they came from.
    same_bytes("ingest/pairs.parquet")
    same_bytes("extract/annotations.parquet")
    subsets = sorted(p.relative_to(first) for p in (first / "curate" / "subsets").rglob("*.jsonl"))
    assert len(subsets) == 5  # 2 values x train/heldout, and the control's draw
    for rel in subsets:
        same_bytes(str(rel))
    for name in ("stats.csv", "controls.json", "data_coinduction.csv", "value_suite.jsonl"):
        same_bytes(f"curate/{name}")

    # Training: identical LoRA weights (safetensors bytes and tensors).
    for a in ADAPTERS:
        same_bytes(f"train/{a}/adapter/adapter_model.safetensors")
        w1 = load_file(first / "train" / a / "adapter" / "adapter_model.safetensors")
        w2 = load_file(second / "train" / a / "adapter" / "adapter_model.safetensors")
        assert all(w1[k].equal(w2[k]) for k in w1)

    # Generations and metrics.
    for rel in sorted(p.relative_to(first) for p in (first / "generate").rglob("*.jsonl")):
        same_bytes(str(rel))
    same_bytes("evaluate/results.parquet")
    r1, r2 = pd.read_parquet(first / "evaluate" / "results.parquet"), pd.read_parquet(second / "evaluate" / "results.parquet")
    assert len(r1) > 0 and set(r1["induced_value"]) == {"base", "empathy", "humor", "control"}
    pd.testing.assert_frame_equal(r1, r2, check_exact=True)
