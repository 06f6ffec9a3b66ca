"""Shared by the benchmarks: machine facts, timing, and writing a section of bench/RESULTS.md.

Each benchmark owns one section of RESULTS.md between `<!-- NAME:start -->` and
`<!-- NAME:end -->` markers and replaces only that section, so the file keeps
every benchmark's latest result.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
HEADER = """# Benchmark results

Each section is written by its script under `bench/` (see `bench/README.md`); a rerun replaces
its section. Ratios are measured within one run on one machine; absolute times on the shared
2-core development machine vary 3-10x between runs (the load average is given with each result).
"""


def machine() -> str:
    """One line: CPU, cores, memory, GPU (if any), load, date and commit."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(next(line.split()[1] for line in open("/proc/meminfo") if line.startswith("MemTotal")))
        mem = f", {kb / 2**20:.0f} GiB RAM"
    except (OSError, StopIteration):
        pass
    gpu = ""
    try:
        import torch
        if torch.cuda.is_available():
            gpu = f", GPU: {torch.cuda.get_device_name(0)} (torch {torch.__version__})"
        else:
            gpu = f", no GPU (torch {torch.__version__})"
    except ImportError:
        pass
    load = f", load average {os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else ""
    return (f"{cpu}, {os.cpu_count()} cores{mem}{gpu}{load}; "
            f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC; commit {commit()}")


def commit() -> str:
    try:
        root = Path(__file__).resolve().parents[1]
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                             timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return (sha or os.environ.get("VALIND_COMMIT", "unknown")) + ("+local changes" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return os.environ.get("VALIND_COMMIT", "unknown")


def write_section(name: str, markdown: str, path: Path | None = None) -> Path:
    """Replace (or append) the section `name` of RESULTS.md with `markdown`."""
    path = Path(path or os.environ.get("VALIND_BENCH_RESULTS", RESULTS))
    text = path.read_text(encoding="utf-8") if path.exists() else HEADER
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{markdown.strip()}\n{end}"
    if start in text and end in text:
        text = text[:text.index(start)] + block + text[text.index(end) + len(end):]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")
    return path


def table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)
