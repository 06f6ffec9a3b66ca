"""Open-ended values: names an LLM listed in its own words, normalised and mapped onto the taxonomy.

The study's extractor lists the values it sees, not only the 15 of valind's list (its empathy adapter
raised *understanding* and *clarity*). In open mode (`extractor.open_values`) the LLM extractor keeps
every listed name; this module says what each one is:

1. normalised (`parse.normalize_free`): Unicode NFKC, case-folded, separators and edge punctuation as for the
   15 (`parse.normalize_name`), a leading article or "being" dropped, and the last word made singular
   by simple rules ("boundaries" -> "boundary", "needs" -> "need"; words ending in ss/us/is/ics kept);
2. mapped to a defined value (the taxonomy's values that the run's value definitions hold, each with its
   Values-in-the-Wild category) when the normalised name is that value's name or a spelling variant
   (`parse.SYNONYMS` and the extractor's `synonyms` option: the explicit mapping table), or when its
   MiniLM embedding (the all-MiniLM-L6-v2 model the offline extractors use) has cosine similarity of at
   least `threshold` with the value's name;
3. otherwise kept as itself: a free value, reported under its own name.

MAP_THRESHOLD = 0.75 is sentence-transformers' own default for grouping texts as near-duplicates
(`sentence_transformers.util.community_detection(threshold=0.75)`), taken as it is: it was not tuned on
any labelled row or any run's output. A name below it stays free, so a wrong merge (which would move a
measured value) is less likely than a missed one (which only leaves a synonym listed on its own).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from .parse import normalize_name

MAP_THRESHOLD = 0.75
FREE_PREFIX = "expresses_free:"  # the metric of a free value in evaluate/results (1 = the extractor named it)


@dataclass(frozen=True)
class MappedName:
    """Where one normalised free name landed: a defined value (`value`), or itself (`value` None)."""

    name: str
    value: str | None
    how: str  # "name" (the value's name or a spelling variant), "embedding", or "kept"
    nearest: str  # the most similar defined value, whatever the similarity
    similarity: float  # cosine similarity with `nearest` (1.0 for a name match)


class ValueMapper:
    """Maps normalised free names onto the defined values (see the module docstring); memoised per name."""

    def __init__(self, value_names: Sequence[str], lookup: Mapping[str, str], threshold: float = MAP_THRESHOLD,
                 model_path: str | None = None):
        self.value_names = list(value_names)
        self.lookup = dict(lookup)
        self.threshold = float(threshold)
        self.model_path = model_path
        self._anchors: np.ndarray | None = None
        self._memo: dict[str, MappedName] = {}

    def _encode(self, texts: list[str]) -> np.ndarray:
        from ..sentences import load_sentence_model

        model = load_sentence_model(self.model_path)
        return np.asarray(model.encode(texts, normalize_embeddings=True, convert_to_numpy=True), dtype=np.float64)

    def known(self, normalised: str) -> str | None:
        """The defined value a normalised name spells (before and after the singular rule), else None."""
        return self.lookup.get(normalised) or self.lookup.get(normalize_name(normalised))

    def map(self, names: Sequence[str]) -> list[MappedName]:
        todo = [n for n in dict.fromkeys(names) if n not in self._memo]
        by_name = [n for n in todo if self.known(n)]
        for n in by_name:
            self._memo[n] = MappedName(n, self.known(n), "name", self.known(n), 1.0)
        rest = [n for n in todo if n not in self._memo]
        if rest:
            if self._anchors is None:
                self._anchors = self._encode(self.value_names)
            sims = self._encode(rest) @ self._anchors.T
            for n, row in zip(rest, sims):
                j = int(np.argmax(row))
                sim = float(row[j])
                hit = sim >= self.threshold
                self._memo[n] = MappedName(n, self.value_names[j] if hit else None, "embedding" if hit else "kept",
                                           self.value_names[j], round(sim, 4))
        return [self._memo[n] for n in names]

    def kept(self, names: Sequence[str]) -> list[str]:
        """The names of `names` that map to no defined value (the free values proper), in order."""
        return [m.name for m in self.map(list(names)) if m.value is None]
