"""The Ray executor on a local Ray instance: a 2 x 2 sweep matches the sequential run,
failures are retried then reported, finished jobs never rerun, and a Ray run writes the
same run folder as a local run."""

from __future__ import annotations

import json
import logging
import shutil
from argparse import Namespace
from pathlib import Path

import pandas as pd
import pytest
import ray  # a required component: installed by scripts/setup.sh, never skipped
import yaml

from valind.config import ModelSpec, StudyConfig, TrainingSpec
from valind.context import RunContext
from valind.sweep import ray_executor
from valind.train.stage import job_is_done, plan_jobs, run_job

from tests.conftest import write_curated

def study(model_dir: Path, values: list[str], **sweep) -> StudyConfig:
    return StudyConfig(
        name="raytest", models=[ModelSpec(name=str(model_dir), label="tiny")], values=values,
        sources=[{"kind": "generic", "path": "unused.jsonl"}],
        training=TrainingSpec(max_steps=3, learning_rate=5e-3, batch_size=4, max_length=64, seeds=[0, 1]),
        sweep=sweep)


@pytest.fixture(scope="module")
def local_ray():
    ray_executor.init_ray(None)
    yield
    ray.shutdown()


def adapter_tensors(job_dir: str) -> dict:
    from safetensors.torch import load_file

    return load_file(str(Path(job_dir) / "adapter" / "adapter_model.safetensors"))


def test_sweep_on_ray_matches_sequential_and_rerun_runs_nothing(tmp_path, tiny_model_dir, local_ray):
    cfg = study(tiny_model_dir, ["empathy"], **{"training.beta": [0.1, 0.5]})
    ray_dir, seq_dir = tmp_path / "ray", tmp_path / "seq"
    write_curated(ray_dir, {"empathy": 16})
    shutil.copytree(ray_dir, seq_dir)

    jobs = plan_jobs(RunContext(config=cfg, run_dir=ray_dir))
    assert sorted(j.job_id for j in jobs) == [f"tiny/empathy/beta={b}/seed{s}" for b in ("0.1", "0.5") for s in (0, 1)]
    outcomes = ray_executor.run_training_jobs(jobs, max_retries=0)
    assert [o.ok for o in outcomes] == [True] * 4 and all(o.attempts == 1 for o in outcomes)

    seq_jobs = plan_jobs(RunContext(config=cfg, run_dir=seq_dir))
    for job in seq_jobs:
        run_job(job)

    for rj, sj in zip(jobs, seq_jobs):
        assert rj.job_id == sj.job_id and rj.job_hash == sj.job_hash
        assert job_is_done(rj)
        manifest = json.loads((Path(rj.out_dir) / "manifest.json").read_text())
        assert manifest["training"]["beta"] == float(rj.point.split("=")[1])  # the sweep value reached the job
        rm = json.loads((Path(rj.out_dir) / "metrics.json").read_text())
        sm = json.loads((Path(sj.out_dir) / "metrics.json").read_text())
        r_losses = [h["loss"] for h in rm["log_history"] if "loss" in h]
        s_losses = [h["loss"] for h in sm["log_history"] if "loss" in h]
        assert r_losses == pytest.approx(s_losses, rel=1e-5, abs=1e-6)
        ra, sa = adapter_tensors(rj.out_dir), adapter_tensors(sj.out_dir)
        assert ra.keys() == sa.keys()
        for name in ra:
            assert ra[name].float().sub(sa[name].float()).abs().max().item() < 1e-5, name
        assert rm["lora_tensors_changed"] > 0

    # beta changes training: the two sweep points give different adapters for the same seed
    a, b = adapter_tensors(jobs[0].out_dir), adapter_tensors(jobs[2].out_dir)
    assert jobs[0].seed == jobs[2].seed and jobs[0].point != jobs[2].point
    assert any(not a[n].equal(b[n]) for n in a if "lora_B" in n)

    before = {j.job_id: (Path(j.out_dir) / "manifest.json").stat().st_mtime_ns for j in jobs}
    assert ray_executor.run_training_jobs(plan_jobs(RunContext(config=cfg, run_dir=ray_dir))) == []
    assert before == {j.job_id: (Path(j.out_dir) / "manifest.json").stat().st_mtime_ns for j in jobs}


def test_failed_job_is_retried_then_reported_and_rerun_trains_only_it(tmp_path, tiny_model_dir, local_ray,
                                                                       monkeypatch, capsys, caplog):
    caplog.set_level(logging.INFO, logger="valind")
    run_dir = tmp_path / "run"
    write_curated(run_dir, {"empathy": 12, "humor": 12})
    (run_dir / "curate" / "subsets" / "humor" / "train.jsonl").write_text("")  # humor's jobs fail on every attempt
    cfg = study(tiny_model_dir, ["empathy", "humor"]).model_dump(mode="json")
    cfg["training"]["seeds"] = [0]
    cfg["evaluation"] = {"suites": [{"name": "value_prompts", "limit": 3}]}
    cfg["generation"] = {"max_new_tokens": 6, "batch_size": 4}
    study_file = tmp_path / "study.yaml"
    study_file.write_text(yaml.safe_dump(cfg))

    ran = []
    from valind import pipeline

    real_run_stage = pipeline.run_stage  # the train stage runs for real: it lists the adapters generate reads
    monkeypatch.setattr("valind.pipeline.run_stage",
                        lambda ctx, name: ran.append(name) or (real_run_stage(ctx, name) if name == "train" else {}))
    args = Namespace(study=str(study_file), out=str(run_dir), force=False, skip_bad_rows=False, no_progress=True,
                     ray_address=None, max_retries=2)
    assert ray_executor.main(args) == 1
    out = capsys.readouterr().out
    assert "1 training job(s) failed" in out and "tiny/humor/seed0" in out and "empty training subset" in out
    failed = json.loads((run_dir / "train" / "failed_jobs.json").read_text())
    assert [(f["job_id"], f["attempts"], f["ok"]) for f in failed] == [("tiny/humor/seed0", 3, False)]
    assert all("empty training subset" in e for e in failed[0]["errors"])
    assert ran == ["ingest", "extract", "curate"]  # the pipeline stopped before the later stages

    empathy = next(j for j in plan_jobs(RunContext(config=StudyConfig(**cfg), run_dir=run_dir)) if j.value == "empathy")
    assert job_is_done(empathy)
    stamp = (Path(empathy.out_dir) / "manifest.json").stat().st_mtime_ns

    write_curated(run_dir, {"empathy": 12, "humor": 12})  # repair humor's data (empathy's bytes are unchanged)
    ran.clear()
    caplog.clear()
    assert ray_executor.main(args) == 0
    assert "[ray] 2 training jobs, 1 already done, 1 to run" in caplog.text
    assert (Path(empathy.out_dir) / "manifest.json").stat().st_mtime_ns == stamp  # not retrained
    assert not (run_dir / "train" / "failed_jobs.json").exists()
    assert ran == ["ingest", "extract", "curate", "train", "generate", "evaluate", "validation", "report"]
    # per-variant generation ran as Ray tasks into the run directory: the base model and both adapters
    for rel in ("tiny/base/seed0", "tiny/empathy/seed0", "tiny/humor/seed0"):
        rows = [json.loads(line) for line in (run_dir / "generate" / rel / "value_prompts.jsonl").read_text().splitlines()]
        assert len(rows) == 3 and all(isinstance(r["response"], str) for r in rows)
        assert (run_dir / "generate" / rel / "value_prompts.key").exists()


def test_a_ray_run_writes_the_same_run_folder_as_a_local_run(tmp_path, tiny_model_dir, local_ray):
    """One orchestrator, two executors: with Ray the training jobs and the generation run as Ray tasks, and the
    run folder holds what a local run's holds, validation/ included; `valind verify` finds both intact."""
    from tests.conftest import DEMO_PAIRS
    from valind.config import parse_study
    from valind.pipeline import run_study
    from valind.verify import verify_run

    cfg = parse_study({
        "name": "same-folder", "models": [{"name": str(tiny_model_dir), "label": "tiny"}], "values": ["empathy"],
        "sources": [{"kind": "generic", "path": DEMO_PAIRS, "label": "demo",
                     "columns": {"id": "id", "prompt": "prompt", "chosen": "chosen", "rejected": "rejected"}}],
        "extractor": {"name": "lexicon", "options": {"context": False}},  # no refusal judge: quick to validate
        "curation": {"min_subset_size": 5, "heldout_fraction": 0.1, "control": False},
        "training": {"max_steps": 2, "batch_size": 4, "max_length": 64, "seeds": [0], "reward_check_pairs": 4},
        "generation": {"max_new_tokens": 4, "batch_size": 4},
        "evaluation": {"suites": [{"name": "harmful_requests", "judge": "prefix", "limit": 2}]}})
    local = run_study(cfg, tmp_path / "local", progress=False)
    on_ray = run_study(cfg, tmp_path / "ray", progress=False, executor=ray_executor.RayExecutor())

    def files(root: Path) -> list[str]:
        return sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                      if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts))

    assert files(local.run_dir) == files(on_ray.run_dir)
    assert {"validation/extractor.json", "validation/judges.json", "validation/manifest.json", "train/adapters.json",
            "generate/variants.json", "report/report.html"} <= set(files(on_ray.run_dir))
    for run in (local, on_ray):
        check = verify_run(run.run_dir)
        assert check.ok and check.adapters == 1, check.problems
    adapters = [json.loads((r.run_dir / "train" / "adapters.json").read_text()) for r in (local, on_ray)]
    assert [a["job_id"] for a in adapters[0]] == [a["job_id"] for a in adapters[1]] == ["tiny/empathy/seed0"]
    rows = [pd.read_parquet(r.run_dir / "evaluate" / "results.parquet")[["induced_value", "suite", "item_id", "metric"]]
            for r in (local, on_ray)]
    assert rows[0].equals(rows[1]) and set(rows[0]["induced_value"]) == {"base", "empathy"}
    validity = [json.loads((r.run_dir / "validation" / "judges.json").read_text())["judges"] for r in (local, on_ray)]
    assert validity[0] == validity[1] and "refusal:prefix" in validity[0]
