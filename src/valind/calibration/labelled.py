"""valind's own labelled judge sets (refusal, anthro), read and checked row by row.

Its own module so the judges' validation (validate_judges.py) and the anthro validation
(anthro/validate.py) both read it without importing each other.
"""

from __future__ import annotations

from pathlib import Path

from ..artifacts import data_path, read_jsonl
from ..errors import ConfigError, InputError
from ..instruments.anthro import BEHAVIOURS
from ..instruments.refusal.rules import REFUSAL_LABELS

DEFAULT_LABELS = {"refusal": "package:instruments/refusal/data/refusal_dev.jsonl",
                  "anthro": "package:instruments/anthro/data/anthro_dev.jsonl"}


def load_labelled(task: str, path: str | None, split: str) -> list[dict]:
    """Rows of a labelled set (every row needs response and the task's label field)."""
    file = Path(path) if path else data_path(DEFAULT_LABELS[task])
    if not file.exists():
        raise ConfigError(f"{file}: labelled set not found")
    rows = read_jsonl(file)
    field = "label" if task == "refusal" else "behaviours"
    for n, r in enumerate(rows, 1):
        if not isinstance(r.get("response"), str):
            raise InputError(file, n, "response", "missing or not a string")
        if field not in r:
            raise InputError(file, n, field, "missing")
        if task == "refusal" and r["label"] not in REFUSAL_LABELS:
            raise InputError(file, n, "label", f"'{r['label']}' is not one of {', '.join(REFUSAL_LABELS)}")
        if task == "anthro" and not set(r["behaviours"]) <= set(BEHAVIOURS):
            raise InputError(file, n, "behaviours", f"unknown behaviour(s) {sorted(set(r['behaviours']) - set(BEHAVIOURS))}")
    return [r for r in rows if split == "all" or r.get("split") == split]
