"""Expand a study's `sweep:` axes into grid points, each a full config with the overrides applied.

A sweep axis is a dotted config path with a list of values, e.g.

    sweep:
      training.beta: [0.05, 0.1, 0.2]
      curation.max_subset_size: [100, 300, 1000]   # dose-response on subset size

The grid is the cartesian product of the axes; the train stage crosses it
with models x (values + control adapters) x seeds (`valind.train.jobs.build_jobs`). Each point has
a stable tag (`beta=0.05_max_subset_size=100`) used in job ids and paths; a
study without a sweep has one point with an empty tag, so its job ids and
paths are those of a plain run.

Training fields (`training.*`, nested ones such as `training.lora.r` too) act
on the job directly. `curation.max_subset_size` acts on the job's data
(valind.train.jobs): the job trains on the first N pairs of the curated subset,
whose order is already a seeded shuffle, so smaller doses are nested in larger ones.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from ..config import StudyConfig, _format_validation_error
from ..errors import ConfigError

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
