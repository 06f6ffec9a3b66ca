#!/usr/bin/env python
"""Time the embedded default run stage by stage and write the figures into the README.

    python scripts/time_default.py [--out runs/default-timing] [--readme README.md]

Runs `/usr/bin/time -v valind run --out OUT` (a fresh folder: nothing cached in the run; the model
conversion under ~/.cache/valind is done once by set-up and is not counted), reads each stage's
`done in` line and the peak resident memory, and replaces the block between
`<!-- default-timings:start -->` and `<!-- default-timings:end -->` in the README. Run it on an idle
machine: the load average before and after is written beside the figures.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from collect_replication import STAGES, peak_memory_gb, stage_times  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=Path("runs/default-timing"))
    ap.add_argument("--readme", type=Path, default=ROOT / "README.md")
    args = ap.parse_args()
    if args.out.exists():
        shutil.rmtree(args.out)
    valind = Path(sys.executable).parent / "valind"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "TOKENIZERS_PARALLELISM": "false"}
    load_before = os.getloadavg()[0]
    proc = subprocess.run(["/usr/bin/time", "-v", str(valind), "run", "--out", str(args.out), "--no-progress"],
                          capture_output=True, text=True, env=env)
    log = proc.stdout + proc.stderr
    (args.out / "timing.log").write_text(log, encoding="utf-8")
    if proc.returncode != 0:
        print(log[-3000:], file=sys.stderr)
        raise SystemExit(f"the default run failed (exit {proc.returncode}); log in {args.out / 'timing.log'}")
    times = stage_times(log)
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([0-9:.]+)", log)
    peak = peak_memory_gb(log)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=ROOT).stdout.strip()
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    rows = [f"| {s} | {times[s]:.0f} |" for s in STAGES if s in times]
    block = [f"`python scripts/time_default.py` ({when}, commit {commit}, {os.cpu_count()} CPU cores, load average "
             f"{load_before:.1f} before and {os.getloadavg()[0]:.1f} after; the model conversion of set-up not "
             f"counted):", "", "| stage | seconds |", "|---|---:|", *rows,
             f"| **all** (wall clock) | **{wall.group(1) if wall else '?'}** |", "",
             f"Peak memory (maximum resident set size): {peak:.1f} GB."]
    text = args.readme.read_text(encoding="utf-8")
    start, end = "<!-- default-timings:start -->", "<!-- default-timings:end -->"
    if start not in text or end not in text:
        raise SystemExit(f"{args.readme}: no {start} ... {end} block")
    head, rest = text.split(start, 1)
    args.readme.write_text(head + start + "\n" + "\n".join(block) + "\n" + end + rest.split(end, 1)[1],
                           encoding="utf-8")
    print("\n".join(block))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
