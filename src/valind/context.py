"""What every stage receives: the validated config, the run directory, the values, and logging."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .artifacts import is_fresh, read_manifest
from .config import StudyConfig
from .layout import RunFolder
from .log import log
from .values import Value, load_values


@dataclass
class RunContext:
    config: StudyConfig
    run_dir: Path
    force: bool = False
    progress: bool = True
    all_values: dict[str, Value] = field(default_factory=dict)
    deferred: str | None = None  # the stage a study stopped before, its units running elsewhere (pipeline.run_study)

    def __post_init__(self) -> None:
        self.run_dir = Path(self.run_dir)
        if not self.all_values:
            self.all_values = load_values(self.config.value_definitions)

    @property
    def values(self) -> list[Value]:
        """Every defined value (extraction tags all of them)."""
        return list(self.all_values.values())

    @property
    def induced_values(self) -> list[str]:
        """The values the study induces (trains adapters for)."""
        return self.config.resolve_value_names(self.all_values)

    @property
    def folder(self) -> RunFolder:
        """The run folder's paths (valind.layout: the contract between the stages)."""
        return RunFolder(self.run_dir)

    def stage_dir(self, stage: str) -> Path:
        """RUN_DIR/<stage>/, created."""
        d = self.folder.stage(stage)
        d.mkdir(parents=True, exist_ok=True)
        return d

    def info(self, msg: str) -> None:
        log.info(msg)

    def fresh_manifest(self, stage: str, config_hash: str, inputs: dict[str, str]) -> dict | None:
        """The stage's manifest if it already finished with this config and these inputs (and not --force)."""
        d = self.stage_dir(stage)
        if not self.force and is_fresh(d, config_hash, inputs):
            m = read_manifest(d) or {}
            m["_skipped"] = True
            return m
        return None
