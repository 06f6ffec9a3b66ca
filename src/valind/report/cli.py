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
    out = build_report(run_dir, getattr(args, "output", None))
    counts = out["counts"]
    print(f"report:  {out['html']}\nsummary: {out['summary']}\neffects: {out['effects']} "
          f"({counts['effects']} effects, {counts['significant']} significant; {counts['figures']} figures)")
    for note in out["skipped"]:
        print(f"  skipped: {note}")
    return 0
