"""Contamination guard for every instrument's hand-written files (issue 10, item 1).

A run of five or more words shared by a rule, cue, exemplar, anchor, lexicon or prompt file and a
labelled row we measure on means the rule may have been copied from that row, and a figure on
that row would measure memory, not the instrument. `shared_runs` lists such runs; the test suite
fails on any. Regex syntax is dropped by the tokeniser (escapes like \\b, brackets, bars), so a
pattern is read as the words it spells.

Guarded (`guarded_files`): the value definitions and exemplars (data/values.yaml), every text file
under instruments/*/data/ except the labelled development sets themselves, their READMEs and
labelling guidelines, and every module of the instruments (rules and cues live in code too).
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
    from .llm_judges import REFUSAL_RUBRIC
    from .refusal.rules import CLASSIC_PREFIXES, XSTEST_REFUSAL_STARTS

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
