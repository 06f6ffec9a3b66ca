"""Runs the stages in order. Each stage skips itself when its manifest says it is fresh."""

from __future__ import annotations

import importlib
import time
from pathlib import Path

from .artifacts import atomic_write_text
from .config import StudyConfig
from .context import RunContext, log

STAGES = ["ingest", "extract", "curate", "train", "generate", "evaluate", "report"]


def stage_module(name: str):
    return importlib.import_module(f"valind.{name}.stage")


def run_stage(ctx: RunContext, name: str) -> dict:
    """Run one stage (or skip it when fresh). Returns its manifest."""
    from .generate.backends.base import release_engines

    t0 = time.time()
    log.info(f"[{name}] start")
    try:
        manifest = stage_module(name).run(ctx)
    finally:
        release_engines()  # no model stays in memory past its stage (training next may need every GPU)
    state = "skipped (up to date)" if manifest.get("_skipped") else f"done in {time.time() - t0:.1f}s"
    log.info(f"[{name}] {state} -> {ctx.run_dir / name}")
    return manifest


def run_study(config: StudyConfig, run_dir: str | Path | None = None, *, force: bool = False,
              stages: list[str] | None = None, progress: bool = True) -> RunContext:
    from .locks import lock_run

    ctx = RunContext(config=config, run_dir=Path(run_dir or config.output_dir), force=force, progress=progress)
    ctx.run_dir.mkdir(parents=True, exist_ok=True)
    with lock_run(ctx.run_dir):  # a second writer of this folder stops at once, naming this process
        atomic_write_text(ctx.run_dir / "study.yaml", _dump_config(config))
        for name in stages or STAGES:
            if name == "report":
                from .validation import write_validation

                t0 = time.time()
                write_validation(ctx)  # the instruments' agreement with labels, shown in the report
                log.info(f"[validation] done in {time.time() - t0:.1f}s -> {ctx.run_dir / 'validation'}")
            run_stage(ctx, name)
    return ctx


def _dump_config(config: StudyConfig) -> str:
    """The study as YAML for RUN_DIR/study.yaml, with secrets redacted (API keys, URL credentials)."""
    import yaml
    return yaml.safe_dump(config.redacted_dump(), sort_keys=False)
