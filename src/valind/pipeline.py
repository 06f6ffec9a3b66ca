"""The one orchestrator: runs the stages in order, with an executor deciding where a stage's units run.

`run_study` owns what every way of running a study shares: the run folder's lock, RUN_DIR/study.yaml,
the stage sequence (valind.layout.STAGES, validation included) and each stage's manifest (written by
the stage itself, which skips itself when its manifest says it is fresh). An executor only moves work:
before a stage runs, `Executor.dispatch` may run that stage's units elsewhere (the Ray executor trains
the jobs and generates the variants as Ray tasks; the Slurm executor writes a job array for the
training jobs). The stage then runs here as always, finds those units done and records them, so every
executor leaves the same run folder.
"""

from __future__ import annotations

import importlib
import time
from pathlib import Path

import yaml

from .artifacts import atomic_write_text
from .config import StudyConfig, load_study
from .context import RunContext
from .generate.backends.base import release_engines
from .layout import STAGES, RunFolder
from .locks import lock_run
from .log import log

STAGES = list(STAGES)
STAGE_MODULES = {"validation": "valind.calibration.stage"}  # the others: valind.<stage>.stage

# What `Executor.dispatch` reports for a stage.
LOCAL = "local"  # nothing dispatched: the stage does its own work here
DONE = "done"  # the stage's units ran elsewhere and are finished: the stage records them (without --force)
DEFERRED = "deferred"  # the units will run elsewhere later (a job array): the study stops before this stage


class Executor:
    """Where a stage's units run. This base class is the local executor: every unit runs in this process,
    inside its stage. Subclasses override `dispatch` (and `__enter__`/`__exit__` to start and stop a cluster)."""

    name = "local"

    def dispatch(self, ctx: RunContext, stage: str) -> str:
        """Run the units of `stage` before the stage itself runs; LOCAL, DONE or DEFERRED."""
        return LOCAL

    def __enter__(self) -> "Executor":
        return self

    def __exit__(self, *exc) -> None:
        return None


LocalExecutor = Executor


def stage_module(name: str):
    return importlib.import_module(STAGE_MODULES.get(name, f"valind.{name}.stage"))


def run_stage(ctx: RunContext, name: str) -> dict:
    """Run one stage (or skip it when fresh). Returns its manifest."""
    t0 = time.time()
    log.info(f"[{name}] start")
    try:
        manifest = stage_module(name).run(ctx)
    finally:
        release_engines()  # no model stays in memory past its stage (training next may need every GPU)
    state = "skipped (up to date)" if manifest.get("_skipped") else f"done in {time.time() - t0:.1f}s"
    log.info(f"[{name}] {state} -> {ctx.folder.stage(name)}")
    return manifest


def run_study(config: StudyConfig, run_dir: str | Path | None = None, *, force: bool = False,
              stages: list[str] | None = None, progress: bool = True, executor: Executor | None = None) -> RunContext:
    """Run `stages` (default: all of them) into `run_dir`, their units wherever `executor` sends them.

    Returns the run's context; `ctx.deferred` names the stage the study stopped before (its units run
    elsewhere later; rerunning the same command afterwards continues from there), else None."""
    executor = executor or Executor()
    ctx = RunContext(config=config, run_dir=Path(run_dir or config.output_dir), force=force, progress=progress)
    unknown = [s for s in stages or () if s not in STAGES]
    if unknown:
        raise ValueError(f"unknown stage(s) {unknown}; stages: {', '.join(STAGES)}")
    ctx.run_dir.mkdir(parents=True, exist_ok=True)
    with lock_run(ctx.run_dir), executor:  # a second writer of this folder stops at once, naming this process
        atomic_write_text(ctx.folder.study, study_yaml(config))
        for name in stages or STAGES:
            ctx.force = force
            outcome = executor.dispatch(ctx, name)
            if outcome == DEFERRED:
                ctx.deferred = name
                log.info(f"[{name}] dispatched by the {executor.name} executor; the study continues when "
                         f"its units are done and the command is run again")
                break
            ctx.force = force and outcome != DONE  # units just run elsewhere are fresh: never redo them here
            run_stage(ctx, name)
        ctx.force = force
    return ctx


def load(study: str | Path | None, *, skip_bad_rows: bool = False) -> StudyConfig:
    """The study a command runs: the YAML at `study` (None: the embedded default), with --skip-bad-rows."""
    cfg = load_study(study)
    if skip_bad_rows:
        cfg.skip_bad_rows = True
    return cfg


def done_message(run_dir: str | Path) -> str:
    """What `valind run` prints at the end: where the results and the report are."""
    folder = RunFolder(Path(run_dir))
    return (f"\nDone. Outputs in {folder.root}/\n  results: {folder.results}\n"
            f"  report:  {folder.report / 'report.html'}")


def study_yaml(config: StudyConfig) -> str:
    """The study as YAML for RUN_DIR/study.yaml, with secrets redacted (API keys, URL credentials)."""
    return yaml.safe_dump(config.redacted_dump(), sort_keys=False)
