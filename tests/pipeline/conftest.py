"""Helpers of the whole-run tests: the tiny study and its uninterrupted reference run, built once per session and
shared by tests/pipeline/test_kill_resume.py and tests/pipeline/test_determinism.py."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from tests.conftest import DEMO_PAIRS

VALUES = ["empathy", "humor"]
STAGES = ["ingest", "extract", "curate", "train", "generate", "evaluate"]
ADAPTERS = [f"tiny/{v}/seed0" for v in [*VALUES, "control"]]  # the value adapters and the control


def study_data(model_dir: Path) -> dict:
    """A tiny study: 30 demo pairs, two values, two DPO steps, three harmful requests (judged without a model)."""
    return {
        "name": "robust",
        "models": [{"name": str(model_dir), "label": "tiny"}],
        "values": VALUES,
        "sources": [{"kind": "generic", "path": DEMO_PAIRS, "label": "demo", "limit": 30,
                     "columns": {"id": "id", "prompt": "prompt", "chosen": "chosen", "rejected": "rejected"}}],
        "extractor": {"name": "embedding", "batch_size": 4},
        "curation": {"min_subset_size": 2, "heldout_fraction": 0.2, "seed": 0},
        "training": {"method": "dpo", "max_steps": 2, "batch_size": 2, "learning_rate": 0.01, "max_length": 64,
                     "seeds": [0]},
        "generation": {"max_new_tokens": 4, "batch_size": 4},
        "evaluation": {"suites": [{"name": "harmful_requests", "limit": 3}]},
    }


def write_study(folder: Path, model_dir: Path, **over) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "study.yaml"
    path.write_text(yaml.safe_dump({**study_data(model_dir), **over}, sort_keys=False), encoding="utf-8")
    return path


def reference_run(tmp_path_factory, model_dir: Path) -> tuple[Path, Path]:
    """(study.yaml, run dir) of one uninterrupted in-process run of every stage but the report; built once."""
    root = tmp_path_factory.getbasetemp() / "robustness-reference"
    study, run_dir = root / "study.yaml", root / "run"
    if not (root / "DONE").exists():
        from valind.cli import main as cli_main

        shutil.rmtree(root, ignore_errors=True)
        write_study(root, model_dir)
        for stage in STAGES:
            assert cli_main([stage, str(study), "--out", str(run_dir), "--no-progress"]) == 0
        (root / "DONE").write_text("ok")
    return study, run_dir
