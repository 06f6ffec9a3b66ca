"""The ensemble extractor: a weighted mean of other extractors' scores.

Options:
  members: {extractor name: weight}, default {embedding: 0.5, lexicon: 0.5}
  member_options: {extractor name: {its options}}
The members complement each other: the embedding extractor generalises over
wording, the lexicon catches speech acts that embeddings blur ("I don't know",
a pun's question-and-answer shape).
"""

from __future__ import annotations

import json
from typing import Sequence

import numpy as np

from ...errors import ConfigError
from ...values import Value
from .base import ValueExtractor, extractors
from .embedding import default_thresholds_file, load_thresholds

DEFAULT_MEMBERS = {"embedding": 0.5, "lexicon": 0.5}  # weights chosen on the gold dev half


@extractors.register("ensemble")
class EnsembleExtractor(ValueExtractor):
    def __init__(self, values: Sequence[Value], thresholds: dict[str, float] | None = None, **options):
        if thresholds is None:
            shipped = default_thresholds_file(self.registry_name)
            thresholds = load_thresholds(shipped) if shipped.exists() else None
        super().__init__(values, thresholds, **options)
        members = options.get("members") or DEFAULT_MEMBERS
        if not isinstance(members, dict) or not members:
            raise ConfigError("extractor.options.members: expected a mapping {extractor name: weight}")
        if "ensemble" in members:
            raise ConfigError("extractor.options.members: an ensemble cannot contain itself")
        weights = {str(k): float(v) for k, v in members.items()}
        if any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
            raise ConfigError("extractor.options.members: weights must be >= 0 with a positive sum")
        member_options = options.get("member_options") or {}
        self.members = [(extractors.get(name)(values, None, **member_options.get(name, {})), w)
                        for name, w in weights.items()]
        self.total_weight = sum(weights.values())
        self._failures: list[str | None] = []

    def close(self) -> None:
        for member, _ in self.members:
            member.close()
        super().close()

    def fingerprint(self) -> str:
        return json.dumps({"extractor": "ensemble",
                           "members": [[json.loads(m.fingerprint()), w] for m, w in self.members]}, sort_keys=True)

    def score_batch(self, prompts: Sequence[str | None], responses: Sequence[str]) -> np.ndarray:
        total = np.zeros((len(responses), len(self.value_names)))
        failures: list[str | None] = [None] * len(responses)
        for member, weight in self.members:
            total += weight * member.score_batch(prompts, responses)
            for i, fail in enumerate(member.failures() or []):
                if fail:
                    failures[i] = f"{member.registry_name}: {fail}" if not failures[i] else f"{failures[i]}; {fail}"
        self._failures = failures
        return total / self.total_weight

    def failures(self) -> list[str | None]:
        return self._failures
