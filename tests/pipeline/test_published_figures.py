"""Published figures stay true (issue 21, item 5): every figure block in README.md and docs/ that a valind
command writes carries the version of the instruments it measured (`instruments values=...,refusal=...`),
and that version is the installed one. Edit an instrument (code, rules, weights, labelled dev data) or the
calibration code that measures it (valind.calibration) and this fails until the blocks are written again by
their commands (named in each block).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from valind.calibration import figure_version, stale_stamps, version_stamp

REPO = Path(__file__).resolve().parents[2]
# (file, block markers, the measures the figures depend on, the command that writes it)
BLOCKS = [
    ("docs/extraction.md", ("<!-- figures-all:begin -->", "<!-- figures-all:end -->"), ("values", "refusal"),
     "valind extract validate --dataset all --cv --markdown docs/extraction.md"),
    ("docs/extraction.md", ("<!-- direction-all:begin -->", "<!-- direction-all:end -->"), ("values", "refusal"),
     "valind extract direction-check --dataset all --extractor learned --limit 1500 --markdown docs/extraction.md"),
    ("README.md", ("<!-- summary-all:begin -->", "<!-- summary-all:end -->"), ("values", "refusal"),
     "valind extract validate --dataset all --cv --markdown README.md"),
    ("docs/refusal_figures.md", None, ("refusal",),
     "valind judge validate --task refusal --cv --markdown docs/refusal_figures.md --markdown README.md"),
    ("README.md", ("<!-- refusal-figures:start -->", "<!-- refusal-figures:end -->"), ("refusal",),
     "valind judge validate --task refusal --cv --markdown docs/refusal_figures.md --markdown README.md"),
    ("README.md", ("<!-- figures:anthro -->", "<!-- /figures:anthro -->"), ("anthro",),
     "valind judge validate --task anthro --write-docs"),
    ("docs/evaluation.md", ("<!-- figures:anthro -->", "<!-- /figures:anthro -->"), ("anthro",),
     "valind judge validate --task anthro --write-docs"),
    # the LLM instruments with SmolLM2 on vLLM (minutes on a CPU: the commands take a seeded sample, --limit)
    ("docs/llm_instruments.md", ("<!-- figures-all-llm:begin -->", "<!-- figures-all-llm:end -->"), ("values",),
     "the `valind extract validate --dataset all --extractor llm ...` command named in the block"),
    ("docs/llm_instruments.md", ("<!-- refusal-figures:start -->", "<!-- refusal-figures:end -->"), ("refusal",),
     "the `valind judge validate --task refusal --judges llm ...` command named in the block"),
]


def _block(file: str, markers) -> str:
    text = (REPO / file).read_text(encoding="utf-8")
    if markers is None:
        return text
    begin, end = markers
    assert begin in text and end in text, f"{file}: the figure block {begin} ... {end} is missing"
    return text[text.index(begin):text.index(end)]


@pytest.mark.parametrize("file,markers,measures,command", BLOCKS, ids=[f"{b[0]}:{(b[1] or ['whole'])[0]}" for b in BLOCKS])
def test_every_figure_block_was_written_by_the_installed_instruments(file, markers, measures, command):
    block = _block(file, markers)
    assert "Not yet written" not in block, f"{file}: block never written; run `{command}`"
    stamps = re.findall(r"instruments ((?:[a-z]+=[0-9a-f]{16},?)+)", block)
    assert stamps, f"{file}: block has no instruments version stamp (written before stamps); run `{command}`"
    assert {m.split("=")[0] for s in stamps for m in s.split(",")} >= set(measures), file
    stale = stale_stamps(block)
    assert not stale, f"{file}: figures from older instruments ({'; '.join(stale)}); run `{command}`"


def test_a_stamp_from_another_version_is_stale():
    now = version_stamp("values", "refusal")
    assert stale_stamps(f"figures ({now})") == []
    old = now.replace(figure_version("values"), "0" * 16)
    assert stale_stamps(f"figures ({old})") == [f"values: stamped {'0' * 16}, now {figure_version('values')}"]
