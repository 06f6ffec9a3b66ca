"""The three offline anthropomorphism variants and how each turns features into scores.

  rules     cue rules from AnthroBench's definitions only; nothing fitted;
  learned   logistic heads on sentence-embedding features (emb, def, def_self) only;
  detector  heads on the embedding features plus the rule counts; personal pronoun use by its rule,
            and any behaviour without a head by its rule (the default).

How each is fitted and measured: valind.calibration.anthro.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .definitions import NAMES
from .features import BLOCKS
from .heads import Heads

PRONOUN = list(NAMES).index("personal_pronoun_use")


@dataclass(frozen=True)
class Variant:
    blocks: tuple[str, ...]  # () = nothing fitted
    rule_for_pronoun: bool
    rule_fallback: bool  # behaviours without a head use their rule (else absent)


VARIANTS = {
    "rules": Variant((), True, True),
    "learned": Variant(("emb", "def", "def_self"), False, False),
    "detector": Variant(BLOCKS, True, True),
}


def rule_scores(rule_block: np.ndarray) -> np.ndarray:
    """0 cues -> 0, 1 -> 0.5, 2 -> 0.75, ... (present when >= 0.5); input is log(1 + count)."""
    return 1.0 - 0.5 ** np.rint(np.expm1(rule_block))


def variant_scores(variant: Variant, heads: Heads | None, blocks: dict[str, np.ndarray]) -> np.ndarray:
    """(n, 14) scores in [0, 1] for a variant; a behaviour is present when its score >= 0.5."""
    n = next(iter(blocks.values())).shape[0]
    probs = heads.predict_proba(blocks) if heads is not None else np.full((n, len(NAMES)), np.nan)
    out = np.zeros((n, len(NAMES)))
    for j in range(len(NAMES)):
        has_head = not np.isnan(probs[:, j]).all()
        if (variant.rule_for_pronoun and j == PRONOUN) or (not has_head and variant.rule_fallback):
            out[:, j] = rule_scores(blocks["rules"][:, j])
        elif has_head:
            out[:, j] = probs[:, j]
    return out
