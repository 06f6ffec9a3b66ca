"""`valind run --executor ray`: the training jobs (and per-variant generation) as Ray tasks.

`RayExecutor` is an executor of the one orchestrator (`valind.pipeline.run_study`): the stage
sequence, the lock, study.yaml, validation and every manifest are the local run's, so a Ray run
writes the same run folder. Ingest, extract and curate run here (cheap, shared by every job). Before
the train stage, each unfinished training job runs as a Ray task (one GPU each where the
cluster has GPUs, else one CPU). A task trains in a temporary folder on its
node from the subset shipped with it, and sends the finished job folder back
as an archive, which is unpacked into the one run directory: no shared file
system is needed. A failed job is resubmitted up to `--max-retries` times,
then reported in a table (and in RUN_DIR/train/failed_jobs.json) and the
command exits non-zero. Finished jobs (`job_is_done`) are never rerun. When
every job is done, the train stage records them as `valind run` would; before the generate stage,
each variant the train stage listed generates as a Ray task, and the stage records the units.

Locally (no `--ray-address`), Ray starts on this machine's cores.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

from ..artifacts import atomic_write_bytes, atomic_write_json
from ..config import StudyConfig
from ..context import RunContext
from ..errors import ConfigError, ValindError
from ..generate.backends.base import SamplingSettings, release_engines, study_backend
from ..generate.stage import Variant, generate_unit, generation_suites, multi_turn, settings_of, unit_key, variants
from ..log import log
from ..models import EMBEDDED, resolve_model_path
from ..pipeline import DONE, LOCAL, Executor, done_message, load, run_study
from ..train.induce import TrainJob
from ..train.stage import job_is_done, plan_jobs, run_job

PASS_ENV = ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE", "TOKENIZERS_PARALLELISM",
            "VALIND_CACHE", "HF_HOME")


@dataclass
class JobOutcome:
    job_id: str
    attempts: int = 0
    ok: bool = False
    errors: list[str] = field(default_factory=list)
    metrics: dict | None = None


# ---------------------------------------------------------------- archives
def pack_dir(path: str | Path) -> bytes:
    """A folder as gzip'd tar bytes (names relative to the folder)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(str(path), arcname=".")
    return buf.getvalue()


def unpack_into(data: bytes, target: str | Path) -> None:
    """Unpack an archive from `pack_dir` into `target`, replacing it only once the whole archive is out."""
    target = Path(target)
    tmp = target.with_name(target.name + ".incoming")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        tar.extractall(tmp, filter="data")
    if target.exists():
        shutil.rmtree(target)
    tmp.rename(target)


def _error_line(exc: BaseException) -> str:
    """The root exception's type and first message line (Ray wraps a task's exception in RayTaskError)."""
    cause = getattr(exc, "cause", None) or exc
    lines = [line for line in str(cause).strip().splitlines() if line.strip()]
    return f"{type(cause).__name__}: {lines[0] if lines else ''}"[:300]


# ---------------------------------------------------------------- task bodies (run on Ray workers)
def train_task(job_json: str, train_bytes: bytes, accelerate_config: str | None, driver_cwd: str) -> dict:
    """Train one job on this node in a temp folder; return its metrics and the job folder as an archive."""
    if os.path.isdir(driver_cwd):
        os.chdir(driver_cwd)  # relative model paths in the study resolve as on the driver
    job = TrainJob.from_json(job_json)
    with tempfile.TemporaryDirectory(prefix="valind-job-") as tmp:
        train_file = Path(tmp) / "train.jsonl"
        train_file.write_bytes(train_bytes)
        job.train_file = str(train_file)  # data_hash stays the driver's: same bytes
        job.out_dir = str(Path(tmp) / "job")
        if job.ref_cache_dir:
            try:  # share reference log-probs where the run directory is visible, else keep them on this node
                Path(job.ref_cache_dir).mkdir(parents=True, exist_ok=True)
            except OSError:
                job.ref_cache_dir = str(Path(tmp) / "ref_logps")
        metrics = run_job(job, accelerate_config)
        return {"metrics": metrics, "archive": pack_dir(job.out_dir)}


def generate_task(config_json: str, variant: dict, adapter_bytes: bytes | None, units: list[dict],
                  driver_cwd: str) -> dict[str, bytes]:
    """Generate every suite for one variant on this node; return {path relative to generate/: bytes}."""
    if os.path.isdir(driver_cwd):
        os.chdir(driver_cwd)
    cfg = StudyConfig.model_validate(json.loads(config_json))
    out: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory(prefix="valind-gen-") as tmp:
        v = Variant(**variant)
        if adapter_bytes is not None:
            unpack_into(adapter_bytes, Path(tmp) / "adapter")
            v.adapter = str(Path(tmp) / "adapter")
        ctx = RunContext(config=cfg, run_dir=Path(tmp) / "run", progress=False)
        backend = study_backend(cfg, variant["model_name"])
        try:
            for u in units:
                suite = SimpleNamespace(name=u["suite"])  # generate_unit only needs the suite's name
                path = generate_unit(ctx, backend, v, suite, u["items"], SamplingSettings(**u["settings"]), u["key"])
                for f in (path, path.with_suffix(".key")):
                    out[str(f.relative_to(ctx.folder.generate))] = f.read_bytes()
        finally:
            backend.close()
            release_engines()  # the worker process frees the GPU for the next task
    return out


# ---------------------------------------------------------------- driver
def init_ray(address: str | None):
    """Connect to a cluster at `address`, or start Ray on this machine's cores. Returns (ray, started_here)."""
    import ray  # heavy, and only for this executor

    if ray.is_initialized():
        return ray, False
    env = {k: os.environ[k] for k in PASS_ENV if k in os.environ}
    kwargs = dict(runtime_env={"env_vars": env}, log_to_driver=False, include_dashboard=False)
    if address:
        ray.init(address=address, **kwargs)
    else:
        ray.init(num_cpus=os.cpu_count() or 1, **kwargs)
    return ray, True


def task_resources(ray) -> dict:
    """One GPU per task where the cluster has GPUs, else one CPU."""
    return {"num_gpus": 1} if ray.cluster_resources().get("GPU", 0) >= 1 else {"num_cpus": 1}


def run_training_jobs(jobs: list, *, max_retries: int = 2, accelerate_config: str | None = None,
                      force: bool = False, address: str | None = None) -> list[JobOutcome]:
    """Run every unfinished job as a Ray task, retrying failures; return one outcome per job run."""
    todo = [j for j in jobs if force or not job_is_done(j)]
    log.info(f"[ray] {len(jobs)} training jobs, {len(jobs) - len(todo)} already done, {len(todo)} to run")
    if not todo:
        return []
    for name in {j.model.name for j in todo}:
        if name in EMBEDDED:
            resolve_model_path(name)  # convert the embedded checkpoint once, here, not in every worker
    ray, started = init_ray(address)
    try:
        remote = ray.remote(train_task).options(max_retries=0, **task_resources(ray))
        data_refs = {f: ray.put(Path(f).read_bytes()) for f in {j.train_file for j in todo}}
        outcomes = {j.job_id: JobOutcome(j.job_id) for j in todo}
        by_id = {j.job_id: j for j in todo}

        def submit(job):
            outcomes[job.job_id].attempts += 1
            return remote.remote(job.to_json(), data_refs[job.train_file], accelerate_config, os.getcwd())

        pending = {submit(j): j.job_id for j in todo}
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            job_id = pending.pop(ready[0])
            job, outcome = by_id[job_id], outcomes[job_id]
            try:
                result = ray.get(ready[0])
            except Exception as exc:  # RayTaskError wraps the job's own exception; worker crashes too
                outcome.errors.append(_error_line(exc))
                if outcome.attempts <= max_retries:
                    log.info(f"[ray] {job_id}: attempt {outcome.attempts} failed ({outcome.errors[-1]}); retrying")
                    pending[submit(job)] = job_id
                else:
                    log.info(f"[ray] {job_id}: failed after {outcome.attempts} attempts")
                continue
            unpack_into(result["archive"], job.out_dir)
            outcome.ok, outcome.metrics = True, result["metrics"]
            m = result["metrics"]
            log.info(f"[ray] {job_id}: done (attempt {outcome.attempts}), loss {m['first_loss']:.4f} -> "
                     f"{m['last_loss']:.4f} in {m['steps']} steps")
        return list(outcomes.values())
    finally:
        if started:
            ray.shutdown()


def run_generation(ctx, *, address: str | None = None, force: bool = False) -> int:
    """Generate each unfinished variant as one Ray task; the generate stage then finds the units done.

    Returns the number of variants generated; 0 (and the local stage does the work) where variant
    folders would collide.
    """
    cfg = ctx.config
    all_variants = variants(ctx)
    if len({v.rel_dir for v in all_variants}) != len(all_variants):
        log.info("[ray] variants share output folders (sweep points); generation runs in the generate stage")
        return 0
    suites = generation_suites(ctx)
    if any(multi_turn(s) for s in suites):  # turn by turn across variants: the generate stage runs them
        log.info("[ray] multi-turn suites run in the generate stage: "
                 + ", ".join(s.name for s in suites if multi_turn(s)))
        suites = [s for s in suites if not multi_turn(s)]
    items = {s.name: s.items() for s in suites}
    settings = settings_of(ctx)
    gen_dir = ctx.folder.generate
    work = []
    for v in all_variants:
        units = []
        for s in suites:
            key = unit_key(v, items[s.name], settings, cfg.generation.backend)
            f = ctx.folder.generations(v.rel_dir, s.name)
            k = f.with_suffix(".key")
            if force or not (f.exists() and k.exists() and k.read_text() == key):
                units.append({"suite": s.name, "items": items[s.name], "settings": settings.__dict__, "key": key})
        if units:
            work.append((v, units))
    log.info(f"[ray] generation: {len(all_variants)} variants, {len(work)} to generate")
    if not work:
        return 0
    ray, started = init_ray(address)
    try:
        remote = ray.remote(generate_task).options(max_retries=1, **task_resources(ray))
        config_json = cfg.model_dump_json()
        refs = {}
        for v, units in work:
            adapter = pack_dir(v.adapter) if v.adapter else None
            refs[remote.remote(config_json, v.__dict__, adapter, units, os.getcwd())] = v
        for ref, v in refs.items():
            files = ray.get(ref)
            # rows first, keys last: a unit counts as done only once its rows are in place
            for rel in sorted(files, key=lambda r: r.endswith(".key")):
                atomic_write_bytes(gen_dir / rel, files[rel])
            log.info(f"[ray] generated {v.rel_dir}")
        return len(work)
    finally:
        if started:
            ray.shutdown()


def failure_table(outcomes: list[JobOutcome]) -> str:
    failed = [o for o in outcomes if not o.ok]
    width = max([len(o.job_id) for o in failed] + [6])
    lines = [f"{len(failed)} training job(s) failed:", f"{'job id':<{width}}  attempts  last error"]
    lines += [f"{o.job_id:<{width}}  {o.attempts:>8}  {o.errors[-1] if o.errors else '?'}" for o in failed]
    return "\n".join(lines)


class JobsFailed(ValindError):
    """Training jobs failed on Ray after every retry; the message is the failure table."""


class RayExecutor(Executor):
    """Training jobs and per-variant generation as Ray tasks (the other stages' work runs here)."""

    name = "ray"

    def __init__(self, address: str | None = None, max_retries: int = 2):
        if max_retries < 0:
            raise ConfigError(f"--max-retries: must be 0 or more, got {max_retries}")
        self.address, self.max_retries = address, max_retries

    def dispatch(self, ctx, stage: str) -> str:
        if stage == "train":
            return self._train(ctx)
        if stage == "generate":
            return DONE if run_generation(ctx, address=self.address, force=ctx.force) else LOCAL
        return LOCAL

    def _train(self, ctx) -> str:
        outcomes = run_training_jobs(plan_jobs(ctx), max_retries=self.max_retries, force=ctx.force,
                                     accelerate_config=ctx.config.training.accelerate_config, address=self.address)
        report_path = ctx.folder.failed_jobs
        if any(not o.ok for o in outcomes):
            atomic_write_json(report_path, [o.__dict__ for o in outcomes if not o.ok])
            raise JobsFailed(f"{failure_table(outcomes)}\n\nFull errors: {report_path}. Rerun the same command "
                             f"to retry only these jobs.")
        report_path.unlink(missing_ok=True)
        return DONE


def main(args) -> int:
    """`valind run --executor ray`."""
    executor = RayExecutor(args.ray_address, args.max_retries)
    cfg = load(args.study, skip_bad_rows=args.skip_bad_rows)
    run_dir = Path(args.out or cfg.output_dir).resolve()
    t0 = time.time()
    try:
        run_study(cfg, run_dir, force=args.force, progress=not args.no_progress, executor=executor)
    except JobsFailed as exc:
        print(exc)
        return 1
    log.info(f"[ray] study done in {time.time() - t0:.1f}s")
    print(done_message(run_dir))
    return 0
