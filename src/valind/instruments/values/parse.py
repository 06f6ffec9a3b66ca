"""Strict parsing of an LLM's value listing: `{"values": ["empathy", "honesty"]}`.

The rules (documented in docs/backends.md; each is tested in tests/test_parse.py):

1. An empty or whitespace-only reply is rejected ("empty reply").
2. The answer is the FIRST JSON object in the reply: the first `{` at which a
   complete JSON object decodes (`json.JSONDecoder.raw_decode`). Prose before
   or after it, and a ```json fence around it, are ignored. If no object
   decodes, the reply is rejected as "truncated JSON" (a `{` whose braces never
   close) or "no JSON object".
3. That object must have a key `values` (matched case-insensitively) holding a
   list of strings; anything else is rejected. An empty list means "no value
   expressed"; so does the single string "none".
4. Each name is normalised (Unicode NFKC, case-folded, runs of spaces, `_` and
   dashes made one space, surrounding quotes and punctuation dropped) and then
   matched against the known value names (normalised the same way) or a
   spelling variant in `SYNONYMS` (British spellings, adjective forms of the
   same word, e.g. "humour", "open minded", "empathetic"). A different word
   with a similar meaning (e.g. "kindness", "truthfulness") is NOT mapped:
   that would be a guess.
5. One unknown name rejects the whole reply (the caller retries); nothing is
   ever guessed. Duplicates are kept once, in the order first listed.
6. Open mode (`open_ended=True`, the LLM extractor's `open_values`): a name that
   is not a known value is not an error but a free value, normalised by
   `normalize_free` (see valind.instruments.values.open) (which may also reveal a
   known value: "being honest" -> honesty) and kept in `free`; a name that
   cannot be one (a sentence of more than 4 words, digits or symbols) still
   rejects the reply.

`parse_values` never raises: it returns a `ParseResult` holding either the
canonical value names or the reason for rejection, and always the raw text.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Iterable, Mapping

# Spelling variants and adjective forms -> canonical value name (keys are already normalised).
SYNONYMS: dict[str, str] = {
    "empathetic": "empathy", "empathic": "empathy",
    "creative": "creativity",
    "honest": "honesty",
    "curious": "curiosity",
    "fair": "fairness",
    "personalisation": "personalization", "personalised": "personalization", "personalized": "personalization",
    "legal": "legality",
    "engaging": "engagement",
    "private": "privacy",
    "open minded": "open-mindedness", "openminded": "open-mindedness", "openmindedness": "open-mindedness",
    "open mindness": "open-mindedness",
    "humour": "humor", "humorous": "humor", "humourous": "humor",
    "discreet": "discretion", "discreetness": "discretion",
    "deceptive": "deception",
    "violent": "violence",
}

_SEPARATORS = re.compile(r"[\s_\-\u2010\u2011\u2012\u2013\u2014\u2212]+")
_EDGE_PUNCT = " .,:;!?'\"`*()[]"
_MAX_OBJECT_STARTS = 256  # at most this many `{` positions are tried (bounded work on any input)


def normalize_name(name: str) -> str:
    """Case-folded, separator-collapsed form used to compare value names."""
    s = unicodedata.normalize("NFKC", name).casefold()
    s = _SEPARATORS.sub(" ", s).strip(_EDGE_PUNCT)
    return _SEPARATORS.sub(" ", s).strip()


# ---------------------------------------------------------------- open mode: free names
MAX_WORDS = 4  # a value is named in a few words; a longer item is a sentence, not a name
MAX_CHARS = 40
_LEADING = ("the ", "a ", "an ", "being ", "be ")
_NAME_CHARS = re.compile(r"[^\W\d_](?:[^\W\d_]|[ '\-])*")  # letters, spaces, apostrophes, hyphens


def _singular(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is", "ics")):
        return word[:-1]
    return word


def normalize_free(name: str) -> str:
    """The normalised form of a freely listed value name (rules: valind.instruments.values.open)."""
    s = normalize_name(name)
    for lead in _LEADING:
        if s.startswith(lead) and len(s) > len(lead):
            s = s[len(lead):]
    words = s.split(" ")
    words[-1] = _singular(words[-1])
    return " ".join(words)


def free_name_problem(normalised: str) -> str | None:
    """Why a normalised name cannot be a value name (None when it can)."""
    if not normalised:
        return "an empty value name"
    if len(normalised) > MAX_CHARS or len(normalised.split(" ")) > MAX_WORDS:
        return f"not a value name (over {MAX_WORDS} words or {MAX_CHARS} characters): {normalised!r:.60}"
    if not _NAME_CHARS.fullmatch(normalised):
        return f"not a value name (only letters, spaces, hyphens): {normalised!r:.60}"
    return None


@dataclass
class ParseResult:
    raw: str
    values: list[str] | None = None  # canonical names when parsed
    error: str | None = None  # why the reply was rejected
    free: list[str] | None = None  # open mode: normalised names outside the known values

    @property
    def ok(self) -> bool:
        return self.error is None


def build_lookup(known: Iterable[str], synonyms: Mapping[str, str] | None = None) -> dict[str, str]:
    """Normalised name or variant -> canonical name, for the known values only."""
    known = list(known)
    lookup = {normalize_name(n): n for n in known}
    table = dict(SYNONYMS)
    table.update({normalize_name(k): v for k, v in (synonyms or {}).items()})
    for variant, canonical in table.items():
        if canonical in known:
            lookup.setdefault(normalize_name(variant), canonical)
    return lookup


def _braces_close(text: str, start: int) -> bool:
    """Whether the braces opened at `start` are balanced before the text ends (JSON strings respected)."""
    depth, in_string, escaped = 0, False, False
    for ch in text[start:]:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return True
    return False


def first_json_object(text: str) -> tuple[dict | None, str | None]:
    """The first JSON object that decodes in `text`, or None and the reason."""
    decoder = json.JSONDecoder()
    starts = [m.start() for m in re.finditer(r"\{", text)][:_MAX_OBJECT_STARTS]
    for i in starts:
        try:
            obj, _ = decoder.raw_decode(text, i)
        except (json.JSONDecodeError, RecursionError):
            continue
        if isinstance(obj, dict):
            return obj, None
    if not starts:
        return None, "no JSON object in the reply"
    if not _braces_close(text, starts[0]):
        return None, "truncated JSON (a '{' is never closed)"
    return None, "no JSON object in the reply decodes"


def parse_values(text: str | None, known: Iterable[str], synonyms: Mapping[str, str] | None = None,
                 lookup: Mapping[str, str] | None = None, open_ended: bool = False) -> ParseResult:
    """Parse a value listing by the rules in the module docstring. Never raises."""

    raw = "" if text is None else str(text)
    if not raw.strip():
        return ParseResult(raw, error="empty reply")
    lookup = lookup if lookup is not None else build_lookup(known, synonyms)
    obj, why = first_json_object(raw)
    if obj is None:
        return ParseResult(raw, error=why)
    keys = [k for k in obj if isinstance(k, str) and k.strip().casefold() == "values"]
    if not keys:
        return ParseResult(raw, error="JSON object has no 'values' key")
    listed = obj[keys[0]]
    if not isinstance(listed, list):
        return ParseResult(raw, error=f"'values' is a {type(listed).__name__}, not a list of names")
    if len(listed) == 1 and isinstance(listed[0], str) and normalize_name(listed[0]) == "none":
        return ParseResult(raw, values=[], free=[] if open_ended else None)
    out: list[str] = []
    free: list[str] = []
    for item in listed:
        if not isinstance(item, str):
            return ParseResult(raw, error=f"'values' holds a {type(item).__name__}, not a name: {item!r:.60}")
        canonical = lookup.get(normalize_name(item))
        if canonical is None and open_ended:
            name = normalize_free(item)
            canonical = lookup.get(name)
            if canonical is None:
                problem = free_name_problem(name)
                if problem:
                    return ParseResult(raw, error=problem)
                if name not in free:
                    free.append(name)
                continue
        if canonical is None:
            return ParseResult(raw, error=f"unknown value name {item!r:.80}")
        if canonical not in out:
            out.append(canonical)
    return ParseResult(raw, values=out, free=free if open_ended else None)
