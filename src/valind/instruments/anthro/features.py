"""Features the anthropomorphism heads read from a response.

Blocks (one row per response):
  emb      element-wise max of the all-MiniLM-L6-v2 embeddings of its sentences (384): a behaviour
           is usually carried by one sentence, which a whole-response embedding dilutes;
  def      per behaviour, the best cosine between a sentence and AnthroBench's definition (14);
  def_self the same over first-person sentences only (14; 0 when there are none);
  rules    log(1 + cue count) of each behaviour from `rules.py` (14).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .definitions import NAMES, load_behaviours
from .rules import PRONOUN, normalize, rule_counts

BLOCKS = ("emb", "def", "def_self", "rules")
EMBED_DIM = 384


def rule_block(texts: Sequence[str]) -> np.ndarray:
    """log(1 + cue count) per behaviour, AnthroBench's order."""
    return np.log1p(np.array([list(rule_counts(t).values()) for t in texts], dtype=np.float64).reshape(-1, len(NAMES)))


class Featurizer:
    """Computes the feature blocks; the sentence model is loaded on first use."""

    def __init__(self, model: str | None = None, device: str | None = None, batch_size: int = 64):
        self.model_path, self.device, self.batch_size = model, device, batch_size
        self._model = None
        self._definitions: np.ndarray | None = None

    @property
    def model(self):
        if self._model is None:
            from ..sentences import load_sentence_model

            self._model = load_sentence_model(self.model_path, self.device)
        return self._model

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, EMBED_DIM), dtype=np.float32)
        return self.model.encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                                 convert_to_numpy=True, show_progress_bar=False)

    def definitions(self) -> np.ndarray:
        if self._definitions is None:
            self._definitions = self.encode([b.definition for b in load_behaviours().values()])
        return self._definitions

    def blocks(self, texts: Sequence[str], need: Sequence[str] = BLOCKS) -> dict[str, np.ndarray]:
        """{block: array (len(texts), width)} for the blocks in `need`."""
        from ..sentences import split_sentences

        out = {}
        if "rules" in need:
            out["rules"] = rule_block(texts)
        if not {"emb", "def", "def_self"} & set(need):
            return out
        sentences = [split_sentences(t) for t in texts]
        distinct = sorted({s for ss in sentences for s in ss})
        index = {s: i for i, s in enumerate(distinct)}
        vectors = self.encode(distinct)
        sims = vectors @ self.definitions().T if len(distinct) else np.zeros((0, len(NAMES)))
        emb = np.zeros((len(texts), EMBED_DIM))
        best, best_self = np.zeros((len(texts), len(NAMES))), np.zeros((len(texts), len(NAMES)))
        for n, ss in enumerate(sentences):
            if not ss:
                continue
            rows = [index[s] for s in ss]
            emb[n] = vectors[rows].max(axis=0)
            best[n] = sims[rows].max(axis=0)
            own = [index[s] for s in ss if PRONOUN.search(normalize(s))]
            if own:
                best_self[n] = sims[own].max(axis=0)
        out.update({"emb": emb, "def": best, "def_self": best_self})
        return {k: out[k] for k in need}
