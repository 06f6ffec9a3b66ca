"""Contamination guard for the value extractors' hand-written files (issue 10, item 1).

A run of five or more words shared by a cue/exemplar/anchor file and a labelled row we measure on
means the cue may have been copied from that row. `shared_runs` lists such runs; the test suite
fails on any. Regex syntax in the lexicon is dropped by the tokeniser, so a pattern is read as
the words it spells.
"""

from __future__ import annotations

import re
from importlib import resources
from typing import Iterable, Sequence

RUN = 5
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
# The value extractors' hand-written files (definitions and exemplars, context anchors, lexicon).
GUARDED = ("data/values.yaml", "instruments/values/data/context.yaml", "instruments/values/data/lexicon.yaml")


def word_runs(text: str, n: int = RUN) -> set[tuple[str, ...]]:
    """All runs of n consecutive words (lower case, curly apostrophes straightened)."""
    words = _WORD.findall(text.lower().replace("\u2019", "'"))
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def GUARDED_FILES() -> list[tuple[str, str]]:
    """(name, text) of every guarded file shipped in the package."""
    root = resources.files("valind")
    return [(name, root.joinpath(name).read_text(encoding="utf-8")) for name in GUARDED]


def shared_runs(files: dict[str, str], rows: Iterable[tuple[str, Sequence[str]]],
                n: int = RUN) -> list[tuple[str, str, str]]:
    """(row id, file name, run) for every n-word run of a row's texts found in a file."""
    runs = {name: word_runs(text, n) for name, text in files.items()}
    hits = []
    for row_id, texts in rows:
        row_runs: list[tuple[str, ...]] = []
        for t in texts:  # runs never span two fields of a row
            row_runs.extend(sorted(word_runs(t, n)))
        for name, file_runs in runs.items():
            hits.extend((row_id, name, " ".join(r)) for r in row_runs if r in file_runs)
    return hits
