"""Values as data: the study's 15 values, loadable and extendable from YAML."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import ConfigError

Category = Literal["Practical", "Epistemic", "Social", "Protective", "Personal"]
Valence = Literal["positive", "neutral", "negative"]


class Value(BaseModel):
    """One value: what it means, where it sits in the taxonomy, and anchor sentences."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    definition: str = Field(min_length=10)
    category: Category
    valence: Valence
    exemplars: tuple[str, ...] = ()


def _parse_values_yaml(text: str, source: str) -> dict[str, Value]:
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}") from None
    entries = raw.get("values", raw) if isinstance(raw, dict) else None
    if not isinstance(entries, dict):
        raise ConfigError(f"{source}: expected a mapping 'values: {{name: {{definition, category, valence}}}}'")
    out: dict[str, Value] = {}
    for name, body in entries.items():
        if not isinstance(body, dict):
            raise ConfigError(f"{source}: values.{name}: expected a mapping with definition, category, valence")
        try:
            out[str(name)] = Value(name=str(name), **body)
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(p) for p in err["loc"])
            raise ConfigError(f"{source}: values.{name}.{loc}: {err['msg']}") from None
    return out


def builtin_values() -> dict[str, Value]:
    """The 15 values shipped with valind, in the study's order."""
    text = resources.files("valind").joinpath("data/values.yaml").read_text(encoding="utf-8")
    return _parse_values_yaml(text, "valind/data/values.yaml")


def load_values(extra_file: str | Path | None = None) -> dict[str, Value]:
    """Built-in values, with entries from `extra_file` added or replacing same-named ones."""
    values = builtin_values()
    if extra_file:
        path = Path(extra_file)
        if not path.exists():
            raise ConfigError(f"value_definitions: file not found: {path}")
        values.update(_parse_values_yaml(path.read_text(encoding="utf-8"), str(path)))
    return values


STUDY_VALUES = (
    "empathy", "creativity", "honesty", "curiosity", "fairness", "personalization",
    "legality", "engagement", "privacy", "open-mindedness", "humor", "justice",
    "discretion", "deception", "violence",
)
