"""`valind report RUN_DIR [-o FILE]`: write the HTML report and the Markdown summary of a run."""

from __future__ import annotations

from pathlib import Path

from .build import build_report


def main(args) -> int:
    run_dir = Path(args.run_dir or "runs/default")
    out = build_report(run_dir, getattr(args, "output", None))
    counts = out["counts"]
    print(f"report:  {out['html']}\nsummary: {out['summary']}\neffects: {out['effects']} "
          f"({counts['effects']} effects, {counts['significant']} significant; {counts['figures']} figures)")
    for note in out["skipped"]:
        print(f"  skipped: {note}")
    return 0
