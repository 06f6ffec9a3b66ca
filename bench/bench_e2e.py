"""The embedded default study end to end, stage by stage: wall time per stage and peak memory.

Runs `valind run --out RUN_DIR` (SmolLM2-135M-Instruct, the demo pairs, three values) in a
child process with a fresh run directory, reads each stage's time from valind's log
("[stage] done in Xs"), and the child's peak RSS from the OS.

    python bench/bench_e2e.py [--out /tmp/valind-e2e] [--keep]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, table, write_section  # noqa: E402

STAGE_LINE = re.compile(r"\[(\w+)\] (?:done in ([\d.]+)s|skipped)")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="/tmp/valind-e2e")
    p.add_argument("--keep", action="store_true", help="keep the run directory (default: start from an empty one)")
    p.add_argument("--study", default=None, help="study YAML (default: the embedded default)")
    args = p.parse_args()
    if not args.keep:
        shutil.rmtree(args.out, ignore_errors=True)
    cmd = [sys.executable, "-m", "valind.cli", "run", *([args.study] if args.study else []), "--out", args.out,
           "--no-progress"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    Path(args.out).mkdir(parents=True, exist_ok=True)
    (Path(args.out) / "bench_e2e.log").write_text(proc.stderr)
    if proc.returncode != 0:
        print(proc.stderr[-4000:], file=sys.stderr)
        return 1
    rows, total = [], 0.0
    for stage, secs in STAGE_LINE.findall(proc.stderr):
        rows.append([stage, f"{float(secs):.1f}" if secs else "skipped"])
        total += float(secs or 0)
    rows.append(["**all stages**", f"**{total:.1f}**"])
    rows.append(["whole command (imports included)", f"{wall:.1f}"])
    md = (f"## The embedded default study end to end\n\n`python bench/bench_e2e.py` (runs `valind run --out "
          f"{args.out}` from an empty run directory)\n\nMachine: {machine()}\n\n"
          + table(["stage", "wall time (s)"], rows)
          + f"\n\nPeak memory (max RSS of the `valind run` process): **{peak_mb:,.0f} MB**. "
            "The first run on a machine also converts the embedded GGUF checkpoint once (cached in ~/.cache/valind).")
    print(md)
    print(f"wrote {write_section('bench_e2e', md)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
