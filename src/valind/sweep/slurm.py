"""`valind export slurm STUDY.yaml`: a Slurm job-array script indexed into a job manifest.

`SlurmArrayExecutor` is an executor of the one orchestrator (`valind.pipeline.run_study`): export
runs the cheap shared stages (ingest, extract, curate) here as `valind run` does, then, in place of
the train stage, writes one
JSON file per training job and a manifest (RUN_DIR/slurm/jobs.json: index,
job id, job hash, job file, output folder), and a script whose array task k runs

    python -m valind.sweep.slurm RUN_DIR/slurm/jobs.json k

which trains job k exactly as `valind train` would (into a `.partial` folder,
renamed when done; under `accelerate launch` when the study names an
accelerate config) and exits at once if job k is already finished. Once the
array is done, `valind run STUDY --out RUN_DIR` finds every adapter trained and
runs the remaining stages.
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

from ..artifacts import atomic_write_json, atomic_write_text
from ..locks import LockedError
from ..pipeline import DEFERRED, LOCAL, Executor, load, run_study
from ..train.induce import TrainJob
from ..train.stage import job_is_done, plan_jobs, run_job

SCRIPT = """#!/bin/bash
# valind job array for study '{study}': {n} training jobs, indexed into {manifest}.
# Submit:      sbatch {script}
# Afterwards:  sbatch --dependency=afterok:<ARRAY_JOB_ID> --wrap {finish}
# Task k trains job k of the manifest; finished jobs exit at once, so resubmitting is safe.
#SBATCH --job-name=valind-{study}
#SBATCH --array=0-{last}
#SBATCH --gres=gpu:1
#SBATCH --cpus-per-task=8
#SBATCH --mem=64G
#SBATCH --time=24:00:00
#SBATCH --output={logs}/%A_%a.out
set -euo pipefail
export HF_HUB_OFFLINE=${{HF_HUB_OFFLINE:-0}} TOKENIZERS_PARALLELISM=false
PYTHON=${{VALIND_PYTHON:-{python}}}
exec "$PYTHON" -m valind.sweep.slurm {manifest} "${{SLURM_ARRAY_TASK_ID:?run this under sbatch, or set SLURM_ARRAY_TASK_ID}}"
"""


def export(ctx, study_path: str | None, script_path: Path) -> tuple[Path, Path, int]:
    """Write the job files, the manifest and the array script; return (script, manifest, number of jobs)."""
    jobs = plan_jobs(ctx)
    slurm_dir = ctx.folder.slurm
    entries = []
    for k, job in enumerate(jobs):
        job_file = slurm_dir / "jobs" / f"{k:05d}.json"
        atomic_write_text(job_file, job.to_json() + "\n")
        entries.append({"index": k, "job_id": job.job_id, "job_hash": job.job_hash, "job_file": str(job_file),
                        "out_dir": job.out_dir})
    manifest = slurm_dir / "jobs.json"
    atomic_write_json(manifest, {"study": ctx.config.name, "run_dir": str(ctx.run_dir),
                                 "accelerate_config": ctx.config.training.accelerate_config, "jobs": entries})
    finish_cmd = ["valind", "run", *([study_path] if study_path else []), "--out", str(ctx.run_dir)]
    finish = shlex.quote(" ".join(shlex.quote(part) for part in finish_cmd))
    (slurm_dir / "logs").mkdir(parents=True, exist_ok=True)
    text = SCRIPT.format(study=ctx.config.name, n=len(jobs), manifest=shlex.quote(str(manifest)),
                         script=shlex.quote(str(script_path)), finish=finish, last=max(len(jobs) - 1, 0),
                         logs=shlex.quote(str(slurm_dir / "logs")), python=shlex.quote(sys.executable))
    atomic_write_text(script_path, text)
    script_path.chmod(0o755)
    return script_path, manifest, len(jobs)


def run_task(manifest: str | Path, index: int) -> int:
    """Array task `index`: train that job unless it is already done."""
    m = json.loads(Path(manifest).read_text())
    if not 0 <= index < len(m["jobs"]):
        print(f"valind: array index {index} out of range 0-{len(m['jobs']) - 1} in {manifest}", file=sys.stderr)
        return 2
    entry = m["jobs"][index]
    job = TrainJob.from_json(Path(entry["job_file"]).read_text())
    if job_is_done(job):
        print(f"{entry['job_id']}: already trained ({job.out_dir})")
        return 0
    print(f"{entry['job_id']}: training ({job.training.method}) into {job.out_dir}", flush=True)
    try:
        metrics = run_job(job, m.get("accelerate_config"))
    except LockedError as exc:  # the same job is training in another task (a resubmission): leave it be
        print(f"valind: {entry['job_id']}: {exc}", file=sys.stderr)
        return 3
    print(f"{entry['job_id']}: done, loss {metrics['first_loss']:.4f} -> {metrics['last_loss']:.4f} "
          f"in {metrics['steps']} steps")
    return 0


class SlurmArrayExecutor(Executor):
    """The training jobs as a Slurm job array: the train stage's units are written as array tasks and the
    study stops there; `valind run` afterwards finds every adapter trained and runs the remaining stages."""

    name = "slurm"

    def __init__(self, script_path: Path | None, study_path: str | None):
        self.script_path, self.study_path = script_path, study_path
        self.exported: tuple[Path, Path, int] | None = None

    def dispatch(self, ctx, stage: str) -> str:
        if stage != "train":
            return LOCAL
        self.exported = export(ctx, self.study_path, self.script_path or ctx.folder.slurm / "array.sh")
        return DEFERRED


def main(args) -> int:
    """`valind export slurm`: prepare the data here and write the array script."""
    cfg = load(args.study, skip_bad_rows=args.skip_bad_rows)
    run_dir = Path(args.out or cfg.output_dir).resolve()
    executor = SlurmArrayExecutor(Path(args.output).resolve() if args.output else None,
                                  str(Path(args.study).resolve()) if args.study else None)
    # the run lock is held while the data is prepared; array tasks take one lock per job (valind.locks.lock_job)
    run_study(cfg, run_dir, stages=["ingest", "extract", "curate", "train"], executor=executor)
    script, manifest, n = executor.exported
    print(f"Wrote {script} ({n} array tasks) and {manifest}.\n  submit:  sbatch {script}\n"
          f"  then:    valind run {args.study or ''} --out {run_dir}   (runs the stages after training)")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print("usage: python -m valind.sweep.slurm JOBS.json INDEX", file=sys.stderr)
        sys.exit(2)
    sys.exit(run_task(sys.argv[1], int(sys.argv[2])))
