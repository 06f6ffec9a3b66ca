"""`valind report RUN_DIR [-o FILE]`: the HTML report and Markdown summary of a run; several runs: report/merge.py."""

from __future__ import annotations

from pathlib import Path

from .build import build_report


def main(args) -> int:
    runs = args.run_dir if isinstance(args.run_dir, list) else [args.run_dir] if args.run_dir else []
    if len(runs) > 1:
        from .merge import main as merge_main

        return merge_main(args)
    run_dir = Path(runs[0] if runs else "runs/default")
    output = getattr(args, "output", None)
    ctx = None if output else _run_context(run_dir)
    if ctx is not None:  # the run's own report folder: rebuilt with its manifest, so `valind verify` still holds
        from ..locks import lock_run
        from ..stats import EffectOptions
        from .stage import build_and_record

        with lock_run(run_dir):
            out = build_and_record(ctx, EffectOptions())[0]
    else:
        out = build_report(run_dir, output)
    counts = out["counts"]
    print(f"report:  {out['html']}\nsummary: {out['summary']}\neffects: {out['effects']} "
          f"({counts['effects']} effects, {counts['significant']} significant; {counts['figures']} figures)")
    for note in out["skipped"]:
        print(f"  skipped: {note}")
    return 0


def _run_context(run_dir: Path):
    """The run's context from RUN_DIR/study.yaml, or None (no study.yaml, or one that no longer loads)."""
    from ..config import load_study
    from ..context import RunContext
    from ..errors import ConfigError

    if not (run_dir / "study.yaml").is_file():
        return None
    try:
        return RunContext(config=load_study(run_dir / "study.yaml"), run_dir=run_dir, progress=False)
    except ConfigError as exc:
        print(f"note: {exc}; the report is written without its manifest")
        return None
