#!/usr/bin/env python
"""Time the embedded default run stage by stage and write the figures into the README.

    python scripts/time_default.py [--out runs/default-timing] [--readme README.md]
    python scripts/time_default.py --fresh      # the README's first command on a fresh machine

Without `--fresh`: runs `/usr/bin/time -v valind run --out OUT` with this checkout's .venv (a fresh run
folder; the machine's caches as they are, so the model conversion of a first run is usually not counted)
and replaces the block between `<!-- default-timings:start -->` and `<!-- default-timings:end -->`.

With `--fresh`: clones this commit into a temporary folder and runs the README's command there,
`bash scripts/demo.sh`, under `/usr/bin/time -v` with an empty home folder (no pip cache, no valind,
Hugging Face or lm-eval caches: a new .venv, the model converted, the validation measured) and this
machine's pip configuration. Set-up is the time before the run's first log line; the rest is the run.
Replaces the block between `<!-- fresh-timings:start -->` and `<!-- fresh-timings:end -->`.

Run it on an idle machine: the load average before and after is written beside the figures.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from collect_replication import STAGES, cpu_name, peak_memory_gb, stage_times  # noqa: E402

OFFLINE = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "TOKENIZERS_PARALLELISM": "false"}
WALL = re.compile(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([0-9:.]+)")


def seconds(clock: str) -> float:
    """'1:02:03.4' or '8:54.20' -> seconds."""
    out = 0.0
    for part in clock.split(":"):
        out = out * 60 + float(part)
    return out


def mmss(secs: float) -> str:
    return f"{int(secs // 60)}:{secs % 60:05.2f}"


def run_timed(cmd: list[str], cwd: Path, env: dict, log_path: Path) -> tuple[str, float]:
    """Run under /usr/bin/time -v; the combined log and the start time (epoch seconds)."""
    t0 = time.time()
    proc = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True, env=env, cwd=cwd)
    log = proc.stdout + proc.stderr
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_path.write_text(log, encoding="utf-8")
    if proc.returncode != 0:
        print(log[-3000:], file=sys.stderr)
        raise SystemExit(f"`{' '.join(cmd)}` failed (exit {proc.returncode}); log in {log_path}")
    return log, t0


def first_log_time(log: str, t0: float) -> float:
    """Epoch seconds of the run's first `HH:MM:SS valind [stage]` line (the same UTC day as t0, or the next)."""
    found = re.search(r"^(\d\d):(\d\d):(\d\d) valind \[", log, re.M)
    if not found:
        raise SystemExit("no `HH:MM:SS valind [stage]` line in the log: cannot split set-up from the run")
    day = datetime.fromtimestamp(t0, timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
    h, m, s = (int(x) for x in found.groups())
    stamp = day + h * 3600 + m * 60 + s
    return stamp + 86400 if stamp < t0 - 1 else stamp


def stage_rows(log: str) -> list[str]:
    times = stage_times(log)
    return ["| stage | seconds |", "|---|---:|", *[f"| {s} | {times[s]:.0f} |" for s in STAGES if s in times]]


def write_block(readme: Path, tag: str, block: list[str]) -> None:
    text = readme.read_text(encoding="utf-8")
    start, end = f"<!-- {tag}:start -->", f"<!-- {tag}:end -->"
    if start not in text or end not in text:
        raise SystemExit(f"{readme}: no {start} ... {end} block")
    head, rest = text.split(start, 1)
    readme.write_text(head + start + "\n" + "\n".join(block) + "\n" + end + rest.split(end, 1)[1], encoding="utf-8")
    print("\n".join(block))


def stamp() -> tuple[str, str]:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=ROOT).stdout.strip()
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), commit



def time_run(out: Path, readme: Path) -> None:
    if out.exists():
        shutil.rmtree(out)
    valind = Path(sys.executable).parent / "valind"
    load_before = os.getloadavg()[0]
    log, _ = run_timed([str(valind), "run", "--out", str(out), "--no-progress"], ROOT, {**os.environ, **OFFLINE},
                       out / "timing.log")
    wall = WALL.search(log)
    when, commit = stamp()
    write_block(readme, "default-timings", [
        f"`python scripts/time_default.py` ({when}, commit {commit}, {cpu_name()}, {os.cpu_count()} CPU cores, "
        f"load average {load_before:.1f} before and {os.getloadavg()[0]:.1f} after; this machine's caches as they "
        f"were: converted model, lm-eval task files):", "", *stage_rows(log),
        f"| **all** (wall clock) | **{wall.group(1) if wall else '?'}** |", "",
        f"Peak memory (maximum resident set size): {peak_memory_gb(log):.1f} GB."])


def time_fresh(readme: Path, keep: bool) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="valind-fresh-"))
    try:
        clone = tmp / "valind"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        shared = ROOT.parent / "shared"
        if shared.is_dir():  # the labelled sets the validation stage measures on, as beside a CI clone
            (tmp / "shared").symlink_to(shared)
        home = tmp / "home"
        home.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VALIND_", "HF_", "VIRTUAL_ENV"))}
        pip_conf = Path.home() / ".config" / "pip" / "pip.conf"
        env.update(OFFLINE, HOME=str(home), PIP_NO_CACHE_DIR="1", XDG_CACHE_HOME=str(home / ".cache"),
                   **({"PIP_CONFIG_FILE": str(pip_conf)} if pip_conf.is_file() else {}))
        env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if ".venv" not in p)
        load_before = os.getloadavg()[0]
        log, t0 = run_timed(["bash", "scripts/demo.sh", "--no-progress"], clone, env, tmp / "demo.log")
        total = seconds(WALL.search(log).group(1))
        setup = first_log_time(log, t0) - t0
        when, commit = stamp()
        write_block(readme, "fresh-timings", [
            f"`python scripts/time_default.py --fresh` ({when}, commit {commit}, {cpu_name()}, {os.cpu_count()} "
            f"CPU cores, load average {load_before:.1f} before and {os.getloadavg()[0]:.1f} after): `bash "
            f"scripts/demo.sh` in a new clone with an empty home folder (pip from this machine's package index, "
            f"no caches):", "",
            "| part | minutes:seconds |", "|---|---:|",
            f"| set-up (`scripts/setup.sh`: .venv, torch, valind, the model wheel) | {mmss(setup)} |",
            f"| the run (`valind run`, first run: model conversion, validation measured) | {mmss(total - setup)} |",
            f"| **all** (wall clock) | **{mmss(total)}** |", "",
            "Stages of that run:", "", *stage_rows(log), "",
            f"Peak memory (maximum resident set size): {peak_memory_gb(log):.1f} GB."])
    finally:
        if keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=Path("runs/default-timing"))
    ap.add_argument("--readme", type=Path, default=ROOT / "README.md")
    ap.add_argument("--fresh", action="store_true", help="time `bash scripts/demo.sh` in a new clone, nothing cached")
    ap.add_argument("--keep", action="store_true", help="with --fresh: keep the temporary clone and its log")
    args = ap.parse_args()
    if args.fresh:
        time_fresh(args.readme.resolve(), args.keep)
    else:
        time_run(args.out, args.readme)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
