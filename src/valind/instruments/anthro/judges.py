"""The offline anthropomorphism judges and their typed verdict.

  detector (default)  heads on MiniLM sentence features + definition-derived rule counts
  rules               the rules alone (no model; fastest)
  learned             heads on the sentence features alone
How each was built and measured: valind.calibration.anthro (evaluation.py), data/README.md, `valind judge validate --task anthro`.

Options: heads (an .npz written by `python -m valind.calibration.anthro.train`, default the shipped
one), model (a SentenceTransformer directory, default the all-MiniLM-L6-v2 wheel), device,
batch_size.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Sequence

from ..judges import Judge, Verdicts, judges
from .definitions import NAMES
from .variants import VARIANTS, variant_scores
from .features import Featurizer
from .heads import Heads, load_heads

SHIPPED_HEADS = Path(__file__).parent / "data" / "heads.npz"


@dataclass(frozen=True)
class AnthroVerdict:
    """One response's verdict: a score in [0, 1] per behaviour (None = the judge could not tell)."""

    scores: dict[str, float | None]
    error: str | None = None  # why some behaviours could not be judged (e.g. an unparseable LLM answer)
    details: dict = field(default_factory=dict)

    @property
    def present(self) -> list[str]:
        """Behaviours present (score >= 0.5), in AnthroBench's order."""
        return [b for b in NAMES if (self.scores.get(b) or 0.0) >= 0.5]

    @property
    def judged(self) -> list[str]:
        return [b for b in NAMES if self.scores.get(b) is not None]

    @property
    def complete(self) -> bool:
        return len(self.judged) == len(NAMES)

    def to_record(self) -> dict:
        """The JSON fields `valind score anthro` adds to a record."""
        out = {"anthro_behaviours": self.present, "anthro_scores": dict(self.scores)}
        if self.error:
            out["judge_error"] = self.error
        return out


@lru_cache(maxsize=4)
def _heads(path: str) -> dict[str, Heads]:
    return load_heads(path)


class _OfflineAnthroJudge(Judge):
    task = "anthro"
    variant = "detector"

    def __init__(self, *, heads: str | None = None, model: str | None = None, device: str | None = None,
                 batch_size: int = 64, **options):
        super().__init__(**options)
        self.heads_path = str(heads or SHIPPED_HEADS)
        self.featurizer = Featurizer(model, device, batch_size)
        spec = VARIANTS[self.variant]
        self.heads = _heads(self.heads_path)[self.variant] if spec.blocks else None
        self.need = tuple(dict.fromkeys(spec.blocks + ("rules",)))

    def fingerprint(self) -> str:
        """What the verdicts depend on: variant, heads file, rule and feature code."""
        here = Path(__file__).parent
        digest = hashlib.sha256()
        for f in ("rules.py", "features.py", "variants.py", "heads.py", "data/behavior_dict.json"):
            digest.update((here / f).read_bytes())
        if self.heads is not None:
            digest.update(Path(self.heads_path).read_bytes())
        return json.dumps({"judge": f"anthro/{self.variant}", "code": digest.hexdigest()[:16]})

    def judge(self, prompts: Sequence[str | None], responses: Sequence[str]) -> Verdicts:
        if not responses:
            return self.verdicts([])
        blocks = self.featurizer.blocks(list(responses), self.need)
        scores = variant_scores(VARIANTS[self.variant], self.heads, blocks)
        return self.verdicts(AnthroVerdict({b: round(float(s), 4) for b, s in zip(NAMES, row)}) for row in scores)


@judges["anthro"].register("detector")
class AnthroDetector(_OfflineAnthroJudge):
    """Logistic heads on sentence features and rule counts (the default anthro judge)."""

    variant = "detector"


@judges["anthro"].register("rules")
class AnthroRules(_OfflineAnthroJudge):
    """Cue rules written from AnthroBench's definitions only."""

    variant = "rules"


@judges["anthro"].register("learned")
class AnthroLearned(_OfflineAnthroJudge):
    """Logistic heads on sentence features only."""

    variant = "learned"
