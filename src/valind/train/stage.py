"""Train stage: one adapter per (model, value, seed) into RUN_DIR/train/<model>/<value>/seed<k>/.

The control adapters are jobs like the others (`<value>` = `control`, on the
seed's control draw; see curate/control.py). Each finished adapter directory
holds `adapter/` (PEFT safetensors), `metrics.json` (losses, reward margins,
accuracies: TRL's log history; `heldout_rewards`: the implicit-reward check on
every value's held-out pairs) and `manifest.json` (job hash, data hash,
library versions). A job is trained in a
`.partial` directory and renamed into place when done, so a killed run
resumes with the adapters that finished and trains only the rest.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd

from ..artifacts import atomic_write_json, read_manifest, write_manifest
from ..context import RunContext
from ..errors import StageError
from ..export.cards import adapter_files, write_cards
from ..layout import Adapter, adapters_json
from ..locks import lock_job
from .induce import TrainJob, check_adapter, check_trl_overrides, reward_check_key, train_adapter
from .jobs import build_jobs
from .tracking import check_trackers


def plan_jobs(ctx: RunContext) -> list[TrainJob]:
    """Every (sweep point, model, value, seed) job whose value has a large enough subset."""
    stats_path = ctx.folder.curate_stats
    if not stats_path.exists():
        raise StageError(f"{stats_path}: missing; run `valind curate` first")
    stats = pd.read_csv(stats_path)
    trainable = [v for v, ok in zip(stats["value"], stats["trained"]) if bool(ok) and v in ctx.induced_values]
    jobs = build_jobs(ctx, trainable)  # crosses models x values x seeds with the study's `sweep:` axes
    check_training_options(j.training for j in jobs)
    study = ctx.config.redacted_dump()  # attached to tracked runs (training.report_to)
    for job in jobs:
        job.study = study
    return jobs


def check_training_options(specs) -> None:
    """A ConfigError for a `training.trl_overrides` key the installed TRL does not have (or that valind sets),
    checked where training is planned rather than when the config loads, so loading a study never imports TRL."""
    seen = set()
    for t in specs:
        key = (t.method, json.dumps(t.trl_overrides, sort_keys=True, default=str))
        if t.trl_overrides and key not in seen:
            seen.add(key)
            check_trl_overrides(t.method, t.trl_overrides, "study config")


def job_is_done(job: TrainJob) -> bool:
    m = read_manifest(job.out_dir)
    return bool(m) and m.get("job_hash") == job.job_hash and (Path(job.out_dir) / "adapter").is_dir()


def run_job(job: TrainJob, accelerate_config: str | None = None) -> dict:
    """Train one job into `<out_dir>.partial`, then atomically rename it to `out_dir`, holding the job's
    lock throughout: a second process asked to train the same job (a resubmitted Slurm task) stops at once."""
    with lock_job(job.out_dir):
        return _run_job(job, accelerate_config)


def accelerate_arguments(config_file: str, job_file: str | Path, work_dir: str | Path) -> list[str]:
    """The arguments valind gives `accelerate launch` for one job (checked against accelerate's parser in tests)."""
    return ["--config_file", str(config_file), "-m", "valind.train.worker", str(job_file), str(work_dir)]


def _run_job(job: TrainJob, accelerate_config: str | None) -> dict:
    out = Path(job.out_dir)
    work = out.with_name(out.name + ".partial")
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    if accelerate_config:
        (work / "job.json").write_text(job.to_json())
        subprocess.run([sys.executable, "-m", "accelerate.commands.launch",
                        *accelerate_arguments(accelerate_config, work / "job.json", work)], check=True)
        metrics = json.loads((work / "metrics.json").read_text())
    else:
        metrics = train_adapter(job, work)
        atomic_write_json(work / "metrics.json", metrics)
    shutil.rmtree(work / "trainer", ignore_errors=True)
    _write_job_manifest(work, job)
    if out.exists():
        shutil.rmtree(out)
    work.rename(out)
    return metrics


def _refresh_reward_check(ctx: RunContext, job: TrainJob) -> None:
    """Run the implicit-reward check on a finished adapter whose check is missing or stale (new held-out data)."""
    if job.training.method != "dpo" or job.training.reward_check_pairs == 0 or not job.heldout_files:
        return
    path = Path(job.out_dir) / "metrics.json"
    metrics = json.loads(path.read_text())
    if (metrics.get("heldout_rewards") or {}).get("key") == reward_check_key(job):
        return
    ctx.info(f"[train] {job.job_id}: implicit-reward check on {len(job.heldout_files)} held-out sets")
    metrics["heldout_rewards"] = check_adapter(job, Path(job.out_dir).with_name(Path(job.out_dir).name + ".check"))
    shutil.rmtree(Path(job.out_dir).with_name(Path(job.out_dir).name + ".check"), ignore_errors=True)
    atomic_write_json(path, metrics)
    _write_job_manifest(Path(job.out_dir), job)


def _write_job_manifest(out: Path, job: TrainJob) -> None:
    # the adapter's files; its model card (README.md) is rewritten later
    write_manifest(out, stage="train-job", config_hash=job.job_hash, inputs={"train_file": job.data_hash},
                   outputs=[*adapter_files(out / "adapter"), out / "metrics.json"], extra={"job_id": job.job_id, "job_hash": job.job_hash,
                                                                  "training": job.training.model_dump(mode="json")})


def finished_adapter(ctx: RunContext, job: TrainJob) -> Adapter:
    """A trained job as the train stage hands it to generate (train/adapters.json)."""
    m = read_manifest(job.out_dir) or {}
    weights = m.get("outputs", {}).get("adapter/adapter_model.safetensors") or m.get("outputs", {}).get("adapter")
    return Adapter(job_id=job.job_id, model=job.model.name, model_slug=job.model.slug, value=job.value,
                   point=job.point, seed=job.seed, dir=Path(job.out_dir).relative_to(ctx.run_dir).as_posix(),
                   weights_hash=weights or m.get("job_hash", ""))


def run(ctx: RunContext) -> dict:
    jobs = plan_jobs(ctx)
    stage_dir = ctx.stage_dir("train")
    config_hash = ctx.config.section_hash("models", "training")
    inputs = {j.job_id: j.job_hash for j in jobs}
    if (m := ctx.fresh_manifest("train", config_hash, inputs)) is not None and all(job_is_done(j) for j in jobs) \
            and ctx.folder.adapters.exists():
        return m
    todo = [j for j in jobs if ctx.force or not job_is_done(j)]
    if todo:
        check_trackers(ctx.config.training.report_to)
    ctx.info(f"[train] {len(jobs)} adapters planned, {len(jobs) - len(todo)} already trained, {len(todo)} to train")
    for k, job in enumerate(todo, 1):
        ctx.info(f"[train] ({k}/{len(todo)}) {job.job_id}: {job.training.method} on "
                 f"{sum(1 for _ in open(job.train_file))} pairs")
        metrics = run_job(job, ctx.config.training.accelerate_config)
        ctx.info(f"[train] {job.job_id}: loss {metrics['first_loss']:.4f} -> {metrics['last_loss']:.4f} "
                 f"in {metrics['steps']} steps")
    for job in jobs:
        _refresh_reward_check(ctx, job)
    summary = []
    for j in jobs:
        mt = json.loads((Path(j.out_dir) / "metrics.json").read_text())
        summary.append({k: mt[k] for k in ("job_id", "value", "seed", "model", "steps", "first_loss", "last_loss",
                                           "train_loss", "lora_tensors_changed")})
    atomic_write_json(stage_dir / "summary.json", summary)
    atomic_write_json(ctx.folder.adapters, adapters_json([finished_adapter(ctx, j) for j in jobs]))  # for generate
    write_cards(ctx.run_dir, ctx.config.redacted_dump())  # each adapter's model card; the report stage adds the effects
    outputs = [Path(j.out_dir) / "manifest.json" for j in jobs] + [stage_dir / "summary.json", ctx.folder.adapters]
    return write_manifest(stage_dir, stage="train", config_hash=config_hash, inputs=inputs, outputs=outputs,
                          counts={"adapters": len(jobs), "trained_now": len(todo)})
