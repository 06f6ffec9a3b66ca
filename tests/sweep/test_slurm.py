"""`valind export slurm`: a job-array script indexed into the job manifest; each task trains its job."""

from __future__ import annotations

import json
import os
import re
import subprocess
from argparse import Namespace

import yaml

from valind.config import StudyConfig
from valind.context import RunContext
from valind.sweep import slurm
from valind.train.stage import job_is_done, plan_jobs

from tests.conftest import sweep_config, write_curated


def test_slurm_script_indexes_every_job_and_a_task_trains_its_job(tmp_path, tiny_model_dir, monkeypatch, capsys):
    run_dir = tmp_path / "run"
    write_curated(run_dir, {"empathy": 8, "humor": 8})
    cfg = sweep_config(tiny_model_dir, {"training.beta": [0.1, 0.3]}).model_dump(mode="json")
    cfg["training"].update(max_steps=2, batch_size=4, learning_rate=5e-3)
    study = tmp_path / "study.yaml"
    study.write_text(yaml.safe_dump(cfg))
    monkeypatch.setattr("valind.pipeline.run_stage", lambda ctx, name: {})  # curate outputs are already there

    script = tmp_path / "array.sh"
    assert slurm.main(Namespace(study=str(study), output=str(script), out=str(run_dir), skip_bad_rows=False)) == 0
    text = script.read_text()
    jobs = plan_jobs(RunContext(config=StudyConfig(**cfg), run_dir=run_dir))
    assert len(jobs) == 8
    assert re.search(r"^#SBATCH --array=0-7$", text, re.M) and "#SBATCH --gres=gpu:1" in text
    manifest = json.loads((run_dir / "slurm" / "jobs.json").read_text())
    assert [e["index"] for e in manifest["jobs"]] == list(range(8))
    assert [(e["job_id"], e["job_hash"]) for e in manifest["jobs"]] == [(j.job_id, j.job_hash) for j in jobs]
    assert str(run_dir / "slurm" / "jobs.json") in text

    # run array task 5 as Slurm would: the script, with SLURM_ARRAY_TASK_ID set
    env = dict(os.environ, SLURM_ARRAY_TASK_ID="5", HF_HUB_OFFLINE="1")
    proc = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert f"{jobs[5].job_id}: done" in proc.stdout
    assert job_is_done(jobs[5]) and not any(job_is_done(j) for k, j in enumerate(jobs) if k != 5)
    metrics = json.loads(open(os.path.join(jobs[5].out_dir, "metrics.json")).read())
    assert metrics["steps"] == 2 and metrics["lora_tensors_changed"] > 0

    # a resubmitted task skips its finished job; an index past the end is an error
    assert slurm.run_task(run_dir / "slurm" / "jobs.json", 5) == 0
    assert "already trained" in capsys.readouterr().out
    assert slurm.run_task(run_dir / "slurm" / "jobs.json", 8) == 2
