"""The train stage's jobs: one per (sweep point, model, value or control, seed), from what curate wrote.

Reads curate/stats.csv's trained values (through `plan_jobs` in stage.py), the subsets, controls.json and
the held-out files (valind.layout); crosses them with the study's sweep points (valind.sweep.grid).
"""

from __future__ import annotations

import json
from pathlib import Path

from ..artifacts import atomic_write_text, hash_text
from ..layout import RunFolder
from ..sweep.grid import sweep_points
from .induce import TrainJob


def dose_lines(train_file: str | Path, n: int) -> list[str]:
    """The first n records of a curated subset (its order is already a seeded shuffle)."""
    with open(train_file, encoding="utf-8") as fh:
        lines = [line for line in fh if line.strip()]
    return lines[:n]


def dose_train_file(run_dir: Path, subset: str, train_file: str | Path, n: int) -> str:
    """Write (once) the subset capped at n pairs under RUN_DIR/sweep/subsets/<subset>/ and return its path.

    `subset` is the value, or `control/seed<k>` for a control draw."""
    text = "".join(dose_lines(train_file, n))
    digest = hash_text(text)
    path = RunFolder(run_dir).dose_subset(subset, n)
    if not path.exists() or hash_text(path.read_text(encoding="utf-8")) != digest:
        atomic_write_text(path, text)
    return str(path)


def control_subsets(ctx) -> dict[str, dict[int, Path]]:
    """Control name -> {seed: train file}, from curate/controls.json; before curation (for `valind plan`), the
    planned `control`; none for a curate stage that wrote no controls.json."""
    if not ctx.config.curation.control:
        return {}
    folder = RunFolder(ctx.run_dir)
    path = folder.controls
    if not path.exists():
        if folder.curate_stats.exists():
            return {}
        return {"control": {s: folder.control_subset("control", s) for s in ctx.config.training.seeds}}
    controls = json.loads(path.read_text(encoding="utf-8")).get("controls", {})
    return {name: {int(seed): folder.stage("curate") / e["file"] for seed, e in entry["seeds"].items()}
            for name, entry in controls.items()}


def heldout_files(ctx) -> dict[str, str]:
    """value -> its curated held-out pairs, for the implicit-reward check (values with any held-out pairs)."""
    out = {}
    for value in ctx.induced_values:
        path = RunFolder(ctx.run_dir).subset(value, "heldout")
        if path.exists() and path.stat().st_size > 0:
            out[value] = str(path)
    return out


def build_jobs(ctx, values: list[str]) -> list:
    """One TrainJob per (sweep point, model, value, seed), with the point's overrides applied, then the controls.

    Without a sweep the ids and paths are a plain run's: `<model>/<value>/seed<k>`
    under RUN_DIR/train/. With one, the point's tag sits before the seed.
    A dose (curation.max_subset_size) subset is written when the curated one exists.
    Control adapters (`control`, or `control-n<N>` per size) are jobs like any
    other, one per (point, model, seed), each on its seed's control draw.
    """
    run_dir, folder = Path(ctx.run_dir), RunFolder(ctx.run_dir)
    controls = control_subsets(ctx) if values else {}
    heldout = heldout_files(ctx)
    jobs = []
    for point in sweep_points(ctx.config):
        for model in ctx.config.models:
            units = [(value, {s: folder.subset(value) for s in point.config.training.seeds}) for value in values]
            units += [(name, files) for name, files in controls.items()]
            for value, files in units:
                for seed in point.config.training.seeds:
                    train_file = files.get(seed, "")
                    if point.max_subset_size is not None and train_file and Path(train_file).exists():
                        subset = value if value in values else f"{value}/seed{seed}"
                        train_file = dose_train_file(run_dir, subset, train_file, point.max_subset_size)
                    jobs.append(TrainJob(
                        model=model, value=value, seed=seed, train_file=str(train_file),
                        training=point.config.training, out_dir=str(folder.job_dir(model.slug, value, seed, point.tag)),
                        point=point.tag, ref_cache_dir=str(folder.ref_cache), heldout_files=heldout))
    return jobs
