"""Ingest + extract + curate over 1k, 10k and 100k synthetic pairs: time and peak memory per size.

Each size runs in its own process (so peak RSS is that size's alone) on a generic JSONL
source of distinct synthetic pairs, with the default offline extractor (MiniLM). The
goal is linear growth: time per pair and the memory above the process's baseline
should stay flat as the size grows (issue 6 item 5: a million pairs in 4 GB).

    python bench/bench_pipeline_scale.py [--sizes 1000 10000 100000] [--extractor embedding]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, table, write_section  # noqa: E402

STAGES = ["ingest", "extract", "curate"]
OPENERS = ["I understand how you feel.", "Here is a joke for you.", "To be honest, I am not sure.",
           "I cannot help with that.", "That is a great question!", "Let me explain step by step.",
           "I'm so sorry to hear that.", "Tell me more about your plans.", "It is against the law.",
           "Keep this between us."]
WORDS = ("time people way day thing life world hand part child eye place work week case point number group problem "
         "fact plan idea story friend family money house water book word business issue side kind head service").split()


def write_pairs(path: Path, n: int) -> None:
    rng = random.Random(n)
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n):
            def response():
                return f"{rng.choice(OPENERS)} {' '.join(rng.choices(WORDS, k=rng.randint(8, 24)))}. {i}"
            fh.write(json.dumps({"id": f"p{i}", "prompt": f"Question {i}: {' '.join(rng.choices(WORDS, k=8))}?",
                                 "chosen": response(), "rejected": response()}) + "\n")


def child(run_dir: str, pairs: str, extractor: str) -> None:
    """Runs in a fresh process: the three stages, timed; prints one JSON line."""
    from valind.config import parse_study
    from valind.context import RunContext
    from valind.pipeline import run_stage

    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    cfg = parse_study({"name": "scale", "values": ["empathy", "humor", "honesty"],
                       "sources": [{"kind": "generic", "path": pairs,
                                    "columns": {"id": "id", "prompt": "prompt", "chosen": "chosen", "rejected": "rejected"}}],
                       "extractor": {"name": extractor}, "curation": {"min_subset_size": 1}}, "bench")
    ctx = RunContext(config=cfg, run_dir=Path(run_dir), progress=False)
    times = {}
    for stage in STAGES:
        t0 = time.perf_counter()
        run_stage(ctx, stage)
        times[stage] = time.perf_counter() - t0
    print(json.dumps({"times": times, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "import_rss_mb": base_rss / 1024}))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    p.add_argument("--extractor", default="embedding")
    p.add_argument("--section", default=None, help="RESULTS.md section (default: bench_pipeline_scale_<extractor>)")
    p.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(*args.child)
        return 0
    rows = []
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            pairs = Path(tmp) / "pairs.jsonl"
            write_pairs(pairs, n)
            proc = subprocess.run([sys.executable, __file__, "--child", str(Path(tmp) / "run"), str(pairs), args.extractor],
                                  capture_output=True, text=True,
                                  env={**os.environ, "VALIND_SCORE_CACHE": str(Path(tmp) / "cache")})
            if proc.returncode != 0:
                print(proc.stderr[-3000:], file=sys.stderr)
                return 1
            r = json.loads(proc.stdout.strip().splitlines()[-1])
        total = sum(r["times"].values())
        rows.append([f"{n:,}", *(f"{r['times'][s]:.1f}" for s in STAGES), f"{total:.1f}", f"{total / n * 1000:.2f}",
                     f"{r['peak_rss_mb']:.0f}"])
        print(rows[-1], flush=True)
    md = (f"## Ingest + extract + curate at scale, `{args.extractor}` extractor (goal: linear growth)\n\n"
          f"`python bench/bench_pipeline_scale.py --sizes {' '.join(map(str, args.sizes))} --extractor {args.extractor}`\n\n"
          f"Machine: {machine()}\n\n"
          + table(["pairs", "ingest (s)", "extract (s)", "curate (s)", "total (s)", "ms per pair", "peak RSS (MB)"], rows)
          + "\n\nSynthetic distinct pairs (generic JSONL), 3 induced values, a fresh process and empty score cache per "
            "size; peak RSS is the whole process's (Python, torch and MiniLM included).")
    print(f"wrote {write_section(args.section or f'bench_pipeline_scale_{args.extractor}', md)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
