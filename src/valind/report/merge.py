"""`valind report RUN_A RUN_B ... -o DIR`: one report from several runs of the same study design.

A study split over machines (one model per cluster job) gives one run directory per part. They merge
when their designs agree on what the comparison rests on: the induced values, the suites (name,
limit, data file, options), the judges (each suite's judge and the value extractor) and the seeds.
Otherwise the merge is refused with every difference named. The runs must hold different models, so
no (model, adapter, item) is measured twice.

DIR becomes a run directory holding what the report reads: the concatenated results and items, each
run's training metrics (train/<model>/...), the data-side files of the first run (curate/, extract/,
ingest/, validation/: the same data by design; a difference is noted), a study.yaml with every model,
and merged.json naming the runs. The report is then built there as for any run.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import yaml

from ..artifacts import atomic_write_json, atomic_write_parquet, atomic_write_text, hash_file, read_manifest
from ..errors import ConfigError, StageError
from ..layout import RunFolder

MERGED = "merged.json"
# Data-side files taken from the first run; they are the same when the runs share the data design.
SHARED_FILES = ("curate/stats.csv", "curate/cooccurrence.csv", "curate/controls.json", "curate/data_coinduction.csv",
                "extract/prevalence.csv", "ingest/manifest.json")


def _study(run_dir: Path) -> dict:
    path = RunFolder(run_dir).study
    if not path.exists():
        raise StageError(f"{path}: missing; a merged report needs each run's study config (written by `valind run`)")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise StageError(f"{path}: not a study config (a YAML mapping)")
    return data


def design(study: dict) -> dict[str, object]:
    """The parts of a study that must agree for runs to share one report."""
    suites = (study.get("evaluation") or {}).get("suites") or []
    extractor = study.get("extractor") or {}
    return {
        "values": sorted(study.get("values") or []) or "all defined values",
        "suites": [{k: s.get(k) for k in ("name", "limit", "path", "options")} for s in suites],
        "judges": {"extractor": {k: extractor.get(k) for k in ("name", "options", "thresholds_file")},
                   **{s.get("name"): s.get("judge") or "(the suite's default)" for s in suites}},
        "seeds": sorted((study.get("training") or {}).get("seeds") or [0]),
    }


def _show(x) -> str:
    return json.dumps(x, sort_keys=True) if not isinstance(x, str) else x


def check_designs(runs: list[Path], studies: list[dict], results: list[pd.DataFrame]) -> None:
    """Raise ConfigError naming every difference in values, suites, judges or seeds, and any shared model."""
    first = design(studies[0])
    problems = []
    for run, study in zip(runs[1:], studies[1:]):
        other = design(study)
        for key in first:
            if other[key] != first[key]:
                problems.append(f"  {key}: {runs[0]} has {_show(first[key])}; {run} has {_show(other[key])}")
    seen: dict[str, Path] = {}
    for run, res in zip(runs, results):
        for model in sorted(set(res["model"].astype(str))):
            if model in seen:
                problems.append(f"  models: {model!r} is in both {seen[model]} and {run}; merge runs of different "
                                f"models (give each machine's model its own label)")
            seen[model] = run
    if problems:
        raise ConfigError("cannot merge these runs into one report: their study designs differ\n" + "\n".join(problems))


def merge_runs(runs: list[str | Path], out_dir: str | Path) -> Path:
    """Build the merged run directory `out_dir` (see the module docstring); return it."""
    runs = [Path(r) for r in runs]
    out = Path(out_dir)
    if len(set(r.resolve() for r in runs)) != len(runs):
        raise ConfigError("the same run directory is given twice")
    if any(out.resolve() == r.resolve() for r in runs):
        raise ConfigError(f"-o {out}: give a new folder for the merged report, not one of the runs")
    results, items = [], []
    for r in runs:
        path = RunFolder(r).results
        if not path.exists():
            raise StageError(f"{path}: missing; run `valind evaluate` (or `valind run`) in {r} first")
        results.append(pd.read_parquet(path))
        items_path = RunFolder(r).items
        items.append(pd.read_parquet(items_path) if items_path.exists() else None)
    studies = [_study(r) for r in runs]
    check_designs(runs, studies, results)

    names = list(dict.fromkeys(str(s.get("name") or r.name) for s, r in zip(studies, runs)))
    name = names[0] if len(names) == 1 else " + ".join(names)
    merged_study = dict(studies[0], name=name,
                        models=[m for s in studies for m in (s.get("models") or [])])
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(RunFolder(out).study, yaml.safe_dump(merged_study, sort_keys=False))
    table = pd.concat(results, ignore_index=True).assign(study=name)
    atomic_write_parquet(RunFolder(out).results, table)
    if all(i is not None for i in items):
        atomic_write_parquet(RunFolder(out).items, pd.concat(items, ignore_index=True).assign(study=name))

    train = RunFolder(out).train
    if train.exists():
        shutil.rmtree(train)
    for r in runs:
        for metrics in sorted(RunFolder(r).train.glob("**/seed*/metrics.json")):
            dst = train / metrics.relative_to(RunFolder(r).train)
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(metrics, dst)
    notes = []
    for rel in SHARED_FILES:
        present = [r for r in runs if (r / rel).is_file()]
        if not present:
            continue
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(present[0] / rel, out / rel)
        differ = [str(r) for r in present[1:] if hash_file(r / rel) != hash_file(present[0] / rel)]
        if differ and rel != "ingest/manifest.json":  # the ingest manifest holds timestamps
            notes.append(f"{rel} differs in {', '.join(differ)}; the report shows {present[0]}'s")
    if RunFolder(runs[0]).validation.is_dir():
        shutil.copytree(RunFolder(runs[0]).validation, RunFolder(out).validation, dirs_exist_ok=True)
    synthetic = any((read_manifest(RunFolder(r).stage("evaluate")) or {}).get("synthetic") for r in runs)
    atomic_write_json(out / MERGED, {"name": name, "notes": notes, "synthetic": synthetic, "runs": [
        {"run_dir": str(r.resolve()), "study": str(s.get("name")), "models": sorted(set(res["model"].astype(str))),
         "rows": int(len(res)), "results_sha256": hash_file(RunFolder(r).results)}
        for r, s, res in zip(runs, studies, results)]})
    return out


def main(args) -> int:
    """`valind report RUN_A RUN_B ... -o DIR`."""
    from .build import build_report

    if not args.output:
        raise ConfigError("several runs: give -o DIR, the folder for the merged report")
    out = merge_runs(args.run_dir, args.output)
    merged = json.loads((out / MERGED).read_text())
    report = build_report(out)
    print(f"merged {len(args.run_dir)} runs ({', '.join(m for r in merged['runs'] for m in r['models'])}) into {out}\n"
          f"report:  {report['html']}\nsummary: {report['summary']}\neffects: {report['effects']} "
          f"({report['counts']['effects']} effects, {report['counts']['significant']} significant)")
    for note in merged["notes"]:
        print(f"  note: {note}")
    return 0
