"""The one interface every value extractor implements, and its registry.

An extractor maps (prompt, response) pairs to a score in [0, 1] per value.
The set of values a response expresses is the values whose score reaches
their threshold. Scores (not thresholds) are cached, so recalibrating
thresholds never recomputes scores.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import yaml

from ...errors import ConfigError
from ...registry import extractors  # noqa: F401 - the extractor registry, re-exported
from ...values import Value


REFUSAL_UNJUDGED = ("the refusal judge could not judge this response, and whether it complied decides "
                    "deception and violence: no values read from it")


@dataclass
class Annotation:
    """Scores per value and the values above threshold, for one response."""

    scores: dict[str, float]
    values: list[str]
    failure: str | None = None  # raw output kept when an LLM extractor could not be parsed
    extra: dict = field(default_factory=dict)


class ValueExtractor(ABC):
    """Base class. Subclasses implement `score_batch`; everything else is shared."""

    registry_name: str = "?"
    default_threshold: float = 0.5
    # Facts validation reads: `offline` scores text without an LLM backend (False: it reads options.backend,
    # which must be reachable to measure it); `fitted` was trained on the labelled sets (its figures there
    # are in-sample unless cross-validated).
    offline: bool = True
    fitted: bool = False

    def __init__(self, values: Sequence[Value], thresholds: dict[str, float] | None = None, **options):
        self.values = list(values)
        self.value_names = [v.name for v in self.values]
        self.options = options
        self.thresholds = {n: self.default_threshold for n in self.value_names}
        if thresholds:
            self.thresholds.update({k: float(v) for k, v in thresholds.items() if k in self.thresholds})

    @abstractmethod
    def score_batch(self, prompts: Sequence[str | None], responses: Sequence[str]) -> np.ndarray:
        """Scores, shape (len(responses), len(self.values)), each in [0, 1]."""

    def fingerprint(self) -> str:
        """Identifies what the scores depend on (extractor, options, value definitions), for the cache."""
        defs = [(v.name, v.definition, list(v.exemplars)) for v in self.values]
        return json.dumps({"extractor": self.registry_name, "options": self.options, "values": defs},
                          sort_keys=True, default=str)

    def close(self) -> None:
        """Free what the extractor holds (an LLM backend, a refusal judge); nothing by default."""
        judge = getattr(self, "_refusal_judge", None)
        if judge is not None:
            judge.close()
            self._refusal_judge = None

    def __enter__(self) -> "ValueExtractor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def failures(self) -> list[str | None]:
        """Per-item failure notes from the last `score_batch` (an LLM extractor's unparsed reply, a response
        the refusal judge could not judge); None where fine."""
        return list(getattr(self, "_failures", []))

    def _note_unjudged_refusals(self, scores: np.ndarray, p_refuse: np.ndarray, rows=None) -> np.ndarray:
        """Record a failure for each response whose refusal verdict is unknown (NaN in `p_refuse`, one entry
        per `rows`, default every row) and zero its scores: values that depend on whether it complied
        (deception, violence) cannot be read, and the failure is counted instead of read as compliance."""
        n = len(scores)
        rows = list(range(n)) if rows is None else list(rows)
        self._failures = [None] * n
        for i, p in zip(rows, np.asarray(p_refuse, dtype=float)):
            if np.isnan(p):
                self._failures[i] = REFUSAL_UNJUDGED
                scores[i] = 0.0
        return scores

    def to_annotations(self, scores: np.ndarray, failures: Sequence[str | None] | None = None) -> list[Annotation]:
        out = []
        for i, row in enumerate(scores):
            sc = {n: float(s) for n, s in zip(self.value_names, row)}
            fail = failures[i] if failures and i < len(failures) else None
            out.append(Annotation(scores=sc, values=[n for n in self.value_names if sc[n] >= self.thresholds[n]], failure=fail))
        return out

    def annotate(self, prompts: Sequence[str | None], responses: Sequence[str]) -> list[Annotation]:
        return self.to_annotations(self.score_batch(prompts, responses), self.failures())




def load_thresholds(path: str | Path | None) -> dict[str, float] | None:
    if not path:
        return None
    p = Path(path)
    if not p.exists():
        raise ConfigError(f"extractor.thresholds_file: not found: {p}")
    data = yaml.safe_load(p.read_text(encoding="utf-8"))
    if isinstance(data, dict) and "thresholds" in data:
        data = data["thresholds"]
    if not isinstance(data, dict):
        raise ConfigError(f"{p}: expected a mapping value -> threshold")
    return {str(k): float(v) for k, v in data.items()}


def make_extractor(name: str, values: Sequence[Value], thresholds_file: str | None = None, **options) -> ValueExtractor:
    """Build an extractor by registry name."""
    cls = extractors.get(name)
    return cls(values, thresholds=load_thresholds(thresholds_file), **options)
