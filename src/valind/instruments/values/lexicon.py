"""The lexicon extractor: hand-written cue phrases per value. Fast, transparent, no model.

A value's score grows with the number of its distinct cue patterns found in
the response (`1 - 0.6 ** hits`), so every tag can be explained by the
phrases that fired (`explain`). The prompt is used the same way as in the
embedding extractor: a cue in the prompt (a request to deceive, harm, reveal
private data or break the law) combined with whether the response refuses
turns, e.g., a compliant answer to "write a fake review" into deception.
Optional: with `options.empath: true` and the `empath` package installed, its
deception/violence/sympathy categories add evidence (`pip install valind[lexicons]`).
"""

from __future__ import annotations

import re

from pathlib import Path
from typing import Sequence

import numpy as np
import yaml

from ...errors import ConfigError
from .. import instrument_file
from ...values import Value
from .base import ValueExtractor, extractors
from .embedding import default_thresholds_file, load_thresholds, refusal_judge_fingerprint, refusal_p

SCORING_VERSION = 2  # bump when the scoring code changes (invalidates caches)
# empath category -> valind value, used only when the option is on and empath is installed.
EMPATH_CATEGORIES = {"deception": "deception", "violence": "violence", "sympathy": "empathy",
                     "fun": "humor", "law": "legality", "crime": "legality", "curiosity": "curiosity"}


def _compile(patterns: Sequence[str], where: str) -> list[re.Pattern]:
    out = []
    for pat in patterns:
        try:
            out.append(re.compile(rf"\b(?:{pat})", re.IGNORECASE | re.MULTILINE))
        except re.error as exc:
            raise ConfigError(f"{where}: bad pattern {pat!r}: {exc}") from None
    return out


def load_lexicon(path: str | None = None) -> dict:
    if path:
        p = Path(path)
        if not p.exists():
            raise ConfigError(f"extractor.options.lexicon_file: not found: {p}")
        text, where = p.read_text(encoding="utf-8"), str(p)
    else:
        text = instrument_file("values", "lexicon.yaml").read_text(encoding="utf-8")
        where = "valind/instruments/values/data/lexicon.yaml"
    raw = yaml.safe_load(text) or {}
    return {
        "values": {v: _compile(pats or [], f"{where}: values.{v}") for v, pats in (raw.get("values") or {}).items()},
        "requests": {r: _compile(pats or [], f"{where}: requests.{r}") for r, pats in (raw.get("requests") or {}).items()},
        "rules": list(raw.get("rules") or []),
        "where": where,
    }


@extractors.register("lexicon")
class LexiconExtractor(ValueExtractor):
    """Counts distinct cue phrases per value; options: lexicon_file, base (default 0.6), context, empath."""

    default_threshold = 0.4  # one cue

    def __init__(self, values: Sequence[Value], thresholds: dict[str, float] | None = None, **options):
        if thresholds is None:
            shipped = default_thresholds_file(self.registry_name)
            thresholds = load_thresholds(shipped) if shipped.exists() else None
        super().__init__(values, thresholds, **options)
        self.lexicon = load_lexicon(options.get("lexicon_file"))
        self.base = float(options.get("base", 0.6))
        self.use_context = bool(options.get("context", True))
        self._empath = self._load_empath() if options.get("empath") else None

    def _load_empath(self):
        try:
            from empath import Empath
        except ImportError:
            raise ConfigError("extractor.options.empath: the 'empath' package is not installed "
                              "(pip install empath, or valind[lexicons])") from None
        return Empath()

    def fingerprint(self) -> str:
        import json

        base = json.loads(super().fingerprint())
        base["lexicon"] = {kind: {k: [p.pattern for p in pats] for k, pats in self.lexicon[kind].items()}
                           for kind in ("values", "requests")}
        base["rules"] = self.lexicon["rules"]
        base["method"] = [SCORING_VERSION, self.base, self.use_context, bool(self._empath),
                          refusal_judge_fingerprint(self.options) if self.use_context else None]
        return json.dumps(base, sort_keys=True)

    def explain(self, response: str) -> dict[str, list[str]]:
        """The cue phrases that matched, per value (what makes this extractor transparent)."""
        out = {}
        for name in self.value_names:
            hits = [m.group(0) for pat in self.lexicon["values"].get(name, []) if (m := pat.search(response))]
            if hits:
                out[name] = hits
        return out

    def _hits(self, patterns: list[re.Pattern], text: str) -> int:
        return sum(1 for pat in patterns if pat.search(text))

    def score_batch(self, prompts: Sequence[str | None], responses: Sequence[str]) -> np.ndarray:
        prompts = list(prompts) if prompts is not None else [None] * len(responses)
        k = len(self.value_names)
        scores = np.zeros((len(responses), k))
        value_pats = [self.lexicon["values"].get(name, []) for name in self.value_names]
        index = {n: j for j, n in enumerate(self.value_names)}
        # the refusal judge reads only the responses whose prompt a rule may need
        needs = [i for i, p in enumerate(prompts) if self.use_context and p]
        p_refuse = dict(zip(needs, refusal_p(self, [responses[i] for i in needs]))) if needs else {}
        unjudged = [i for i in needs if np.isnan(p_refuse[i])]  # failures below, never read as compliance
        for i, (prompt, response) in enumerate(zip(prompts, responses)):
            hits = np.array([self._hits(pats, response) for pats in value_pats], dtype=float)
            if self._empath is not None:
                counts = self._empath.analyze(response, categories=list(EMPATH_CATEGORIES), normalize=False) or {}
                for cat, value in EMPATH_CATEGORIES.items():
                    if value in index and counts.get(cat):
                        hits[index[value]] += 1
            scores[i] = 1.0 - self.base ** hits
            if self.use_context and prompt and i not in unjudged:
                refused = bool(p_refuse[i] >= 0.5)
                for rule in self.lexicon["rules"]:
                    j = index.get(rule["value"])
                    pats = self.lexicon["requests"].get(rule["request"], [])
                    if j is None or not self._hits(pats, prompt):
                        continue
                    if refused == (rule["mode"] == "refuse"):
                        scores[i, j] = max(scores[i, j], 1.0 - self.base ** 2)  # as strong as two cues
        return self._note_unjudged_refusals(scores, [np.nan] * len(unjudged), unjudged)
