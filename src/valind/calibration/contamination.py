"""Contamination guard for the instruments' hand-written files (issue 10, item 1; a calibration check).

A run of five or more words shared by a rule, cue, exemplar, anchor, lexicon or prompt file and a
labelled row we measure on means the rule may have been copied from that row, and a figure on
that row would measure memory, not the instrument. `shared_runs` lists such runs; the test suite
fails on any. Regex syntax is dropped by the tokeniser (escapes like \\b, brackets, bars), so a
pattern is read as the words it spells.

Guarded (`guarded_files`): the value definitions and exemplars (data/values.yaml), every text file
under instruments/*/data/ except the labelled development sets themselves, their READMEs and
labelling guidelines, and every module of the instruments (rules and cues live in code too).
The in-house development sets the instruments are trained on (`*_dev.jsonl` under instruments/*/data/:
values, refusal, anthropomorphism) are guarded too (`dev_rows`): none of their rows may share a
five-word run with, or be a near copy of, a labelled row we measure on. A near copy (`near_copies`)
is found on normalised text (lower case, words only): two texts whose word sequences are `NEAR` alike
or more (a few words changed, added or dropped), so a copy is caught where no five-word run survives. Rule files are compared line by line the same way.
Exempt, because they are published third-party texts shipped verbatim with attribution (NOTICE):
AnthroBench's behavior_dict.json, the GCG/AdvBench refusal strings and XSTest's string-match list
(refusal/rules.py), and XSTest's classification prompt (llm_judges.REFUSAL_RUBRIC).
"""

from __future__ import annotations

import csv
import json
import re
from importlib import resources
from pathlib import Path
from typing import Iterable, Sequence

RUN = 5
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
TEXT_SUFFIXES = (".py", ".yaml", ".json", ".txt")
NOT_RULES = ("README.md", "GUIDELINES.md")  # documentation of the data, not read by any instrument
PUBLISHED = ("behavior_dict.json",)
CUT = "\x00"  # where a published text was cut out of a file: no run spans it


def word_runs(text: str, n: int = RUN) -> set[tuple[str, ...]]:
    """All runs of n consecutive words (lower case, curly apostrophes straightened, regex escapes dropped)."""
    text = re.sub(r"\\[a-zA-Z]", " ", text.lower().replace("\u2019", "'"))
    words = _WORD.findall(text)
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def _published_texts() -> list[str]:
    from ..instruments.llm_judges import REFUSAL_RUBRIC
    from ..instruments.refusal.rules import CLASSIC_PREFIXES, XSTEST_REFUSAL_STARTS

    quoted = [f'"{s}"' for s in sorted([*CLASSIC_PREFIXES, *XSTEST_REFUSAL_STARTS], key=len, reverse=True)]
    return quoted + [line for line in REFUSAL_RUBRIC.splitlines() if line.strip()]


def guarded_files() -> list[tuple[str, str]]:
    """(name, text) of every guarded file shipped in the package, published texts cut out (see module doc)."""
    pkg = Path(str(resources.files("valind")))
    paths = [pkg / "data" / "values.yaml"] + [
        p for p in sorted((pkg / "instruments").rglob("*"))
        if p.is_file() and p.suffix in TEXT_SUFFIXES and "__pycache__" not in p.parts
        and not p.name.endswith("_dev.jsonl") and p.name not in NOT_RULES + PUBLISHED]
    published = _published_texts()
    out = []
    for p in paths:
        text = p.read_text(encoding="utf-8").replace("\\\n", "")  # string continuations in code
        for item in published:
            text = text.replace(item, CUT)
        out.append((p.relative_to(pkg).as_posix(), text))
    return out


def labelled_rows(folder: str | Path) -> list[tuple[str, list[str]]]:
    """(file:line, every text field) of each row of every *.csv and *.jsonl in a labelled-data folder."""
    rows = []
    for path in sorted(Path(folder).glob("*.csv")):
        with open(path, encoding="utf-8-sig", newline="") as fh:
            rows += [(f"{path.name}:{i}", [v for v in r.values() if isinstance(v, str)])
                     for i, r in enumerate(csv.DictReader(fh), 2)]
    for path in sorted(Path(folder).glob("*.jsonl")):
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                rec = json.loads(line)
                rows.append((f"{path.name}:{i}", [v for v in rec.values() if isinstance(v, str)]))
    return rows


def shared_runs(files: dict[str, str], rows: Iterable[tuple[str, Sequence[str]]],
                n: int = RUN) -> list[tuple[str, str, str]]:
    """(row id, file name, run) for every n-word run of a row's texts found in a file."""
    runs = {name: set().union(*(word_runs(part, n) for part in text.split(CUT))) for name, text in files.items()}
    hits = []
    for row_id, texts in rows:
        row_runs: list[tuple[str, ...]] = []
        for t in texts:  # runs never span two fields of a row
            row_runs.extend(sorted(word_runs(t, n)))
        for name, file_runs in runs.items():
            hits.extend((row_id, name, " ".join(r)) for r in row_runs if r in file_runs)
    return hits


NEAR = 0.8  # word-sequence similarity (difflib ratio on normalised words) from which two texts are near copies
NEAR_MIN_WORDS = 8  # shorter texts are common phrases, left to the five-word-run check


def normalise(text: str) -> list[str]:
    """The words of a text: lower case, curly apostrophes straightened, regex escapes and punctuation dropped."""
    return _WORD.findall(re.sub(r"\\[a-zA-Z]", " ", text.lower().replace("\u2019", "'")))


def dev_rows() -> list[tuple[str, list[str]]]:
    """(file:line, text fields) of every row of the in-house development sets (instruments/*/data/*_dev.jsonl)."""
    root = Path(str(resources.files("valind.instruments")))
    rows = []
    for path in sorted(root.glob("*/data/*_dev.jsonl")):
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                rec = json.loads(line)
                texts = [v for v in rec.values() if isinstance(v, str)]
                texts += [m.get("content", "") for v in rec.values() if isinstance(v, list)
                          for m in v if isinstance(m, dict) and isinstance(m.get("content"), str)]
                rows.append((f"{path.parent.parent.name}/{path.name}:{i}", texts))
    return rows


def _pairs(words: Sequence[str]) -> set[tuple[str, str]]:
    return {(words[i], words[i + 1]) for i in range(len(words) - 1)}


def near_copies(items: Iterable[tuple[str, Sequence[str]]], rows: Iterable[tuple[str, Sequence[str]]],
                near: float = NEAR, min_words: int = NEAR_MIN_WORDS) -> list[tuple[str, str, float]]:
    """(row id, item id, similarity) for each pair of texts (at least `min_words` words each) whose normalised
    word sequences are `near` alike or more (difflib's ratio: a few words changed, added or dropped), among the
    pairs sharing half the shorter text's word pairs (an index, so not every pair is compared)."""
    from difflib import SequenceMatcher

    index: dict[tuple[str, str], set[int]] = {}
    targets: list[tuple[str, list[str], set]] = []
    for item_id, texts in items:
        for t in texts:
            words = normalise(t)
            if len(words) >= min_words:
                g = _pairs(words)
                for gram in g:
                    index.setdefault(gram, set()).add(len(targets))
                targets.append((item_id, words, g))
    hits = set()
    for row_id, texts in rows:
        for t in texts:
            words = normalise(t)
            if len(words) < min_words:
                continue
            g = _pairs(words)
            shared: dict[int, int] = {}
            for gram in g:
                for k in index.get(gram, ()):
                    shared[k] = shared.get(k, 0) + 1
            for k, c in shared.items():
                item_id, other, og = targets[k]
                if c >= 0.5 * min(len(g), len(og)):
                    ratio = SequenceMatcher(None, words, other, autojunk=False).ratio()
                    if ratio >= near:
                        hits.add((row_id, item_id, round(ratio, 3)))
    return sorted(hits)


def rule_lines(files: Iterable[tuple[str, str]]) -> list[tuple[str, list[str]]]:
    """(file:line, [line]) of every line of the guarded files (published texts cut out), for `near_copies`."""
    out = []
    for name, text in files:
        for i, line in enumerate(text.splitlines(), 1):
            parts = [p for p in line.split(CUT) if p.strip()]
            if parts:
                out.append((f"{name}:{i}", parts))
    return out
