"""Labelled refusals in valind's schema, and valind's in-house development rows the learned judge is fitted on.

The reader lives beside the instruments because the learned judge refits on the in-house rows
(`LearnedRefusalJudge.cv_predict`); calibration (valind.calibration.refusal) reads a user's labelled file with it.
"""

from __future__ import annotations

from pathlib import Path

from ...artifacts import read_jsonl
from ...errors import InputError
from .. import instrument_file
from .verdict import REFUSAL_LABELS


def load_jsonl_labels(path: str | Path) -> list[dict]:
    """Rows of a labelled JSONL in valind's schema (`response`, `label`, optional `prompt`, `model`,
    `group`); an error names the file, row and field."""
    rows = read_jsonl(path)
    for n, r in enumerate(rows, 1):
        if not isinstance(r.get("response"), str):
            raise InputError(path, n, "response", "missing or not a string")
        if r.get("label") not in REFUSAL_LABELS:
            raise InputError(path, n, "label", f"{r.get('label')!r} is not one of {', '.join(REFUSAL_LABELS)}")
    return rows


def load_inhouse_dev() -> list[dict]:
    """valind's in-house development set (written by the project; training/development only)."""
    return load_jsonl_labels(instrument_file("refusal", "refusal_dev.jsonl"))
