"""Expand a study's `sweep:` axes into grid points, each a full config with the overrides applied.

A sweep axis is a dotted config path with a list of values, e.g.

    sweep:
      training.beta: [0.05, 0.1, 0.2]
      curation.max_subset_size: [100, 300, 1000]   # dose-response on subset size

The grid is the cartesian product of the axes; the train stage crosses it
with models x (values + control adapters) x seeds (`valind.train.stage.plan_jobs`). Each point has
a stable tag (`beta=0.05_max_subset_size=100`) used in job ids and paths; a
study without a sweep has one point with an empty tag, so its job ids and
paths are those of a plain run.

Training fields (`training.*`, nested ones such as `training.lora.r` too) act
on the job directly. `curation.max_subset_size` acts on the job's data: the
job trains on the first N pairs of the curated subset, whose order is
already a seeded shuffle, so smaller doses are nested in larger ones.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..artifacts import atomic_write_text, hash_text
from ..config import StudyConfig, _format_validation_error
from ..errors import ConfigError
from ..layout import RunFolder

DOSE_AXIS = "curation.max_subset_size"
NOT_AXES = {"training.seeds": "seeds are already a grid axis: list them in training.seeds",
            "training.accelerate_config": "the launcher is not a study parameter"}


@dataclass
class SweepPoint:
    """One grid point: the overrides, the config they give, and a tag naming them."""

    overrides: dict[str, Any] = field(default_factory=dict)
    config: StudyConfig | None = None
    tag: str = ""

    @property
    def max_subset_size(self) -> int | None:
        return self.overrides.get(DOSE_AXIS)


def _check_axis(path: str, values: list) -> None:
    allowed = "training.<field> (e.g. training.beta, training.epochs, training.learning_rate, training.lora.r) " \
              f"or {DOSE_AXIS}"
    if path in NOT_AXES:
        raise ConfigError(f"sweep.{path}: not a sweep axis; {NOT_AXES[path]}")
    if not (path.startswith("training.") or path == DOSE_AXIS):
        raise ConfigError(f"sweep.{path}: not a sweep axis; allowed: {allowed}")
    if not values:
        raise ConfigError(f"sweep.{path}: needs at least one value")
    if len({json.dumps(v, sort_keys=True) for v in values}) != len(values):
        raise ConfigError(f"sweep.{path}: repeated values {values}")


def _set_path(data: dict, path: str, value: Any) -> None:
    node = data
    parts = path.split(".")
    for i, part in enumerate(parts[:-1]):
        if not isinstance(node.get(part), dict):
            raise ConfigError(f"sweep.{path}: '{'.'.join(parts[:i + 1])}' is not a config section")
        node = node[part]
    if parts[-1] not in node:
        raise ConfigError(f"sweep.{path}: unknown field '{parts[-1]}'; allowed here: {', '.join(sorted(node))}")
    node[parts[-1]] = value


def _fmt(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "+".join(_fmt(v) for v in value)
    text = format(value, "g") if isinstance(value, float) else str(value)
    return "".join(c if c.isalnum() or c in "-.+" else "-" for c in text)


def _labels(paths: list[str]) -> dict[str, str]:
    """Short axis labels: the last path part, or the whole path where two axes share it."""
    leaves = [p.rsplit(".", 1)[-1] for p in paths]
    return {p: (leaf if leaves.count(leaf) == 1 else p) for p, leaf in zip(paths, leaves)}


def point_overrides(sweep: dict[str, list[Any]]) -> dict[str, dict[str, Any]]:
    """Each grid point's tag -> its overrides ({dotted path: value}), in a stable order (also read by the report)."""
    paths = sorted(sweep)
    for p in paths:
        _check_axis(p, sweep[p])
    labels = _labels(paths)
    out = {}
    for combo in itertools.product(*(sweep[p] for p in paths)):
        out["_".join(f"{labels[p]}={_fmt(v)}" for p, v in zip(paths, combo))] = dict(zip(paths, combo))
    return out


def sweep_points(config: StudyConfig) -> list[SweepPoint]:
    """Every grid point of the study's sweep, in a stable order; one untagged point when there is no sweep."""
    if not config.sweep:
        return [SweepPoint({}, config, "")]
    base = config.model_dump(mode="json")
    base["sweep"] = {}
    points = []
    for tag, overrides in point_overrides(config.sweep).items():
        data = json.loads(json.dumps(base))
        for p, v in overrides.items():
            _set_path(data, p, v)
        try:
            point_cfg = StudyConfig.model_validate(data)
        except ValidationError as exc:
            raise ConfigError(_format_validation_error(exc, f"sweep point {overrides}")) from None
        points.append(SweepPoint(overrides, point_cfg, tag))
    return points


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
    from ..train.induce import TrainJob

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
