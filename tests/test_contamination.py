"""Contamination guard: no rule, cue, exemplar or anchor file of the value extractors may contain a run
of five or more words from a row of a labelled set we measure on (issue 10, item 1).

A five-word run shared with an evaluation row means the rule may have been written from that row,
and a figure on that row would then measure memory, not the instrument. Common phrases collide too
("I'm here to help you"): reword the cue, since the held-back halves may hold the same phrase.
"""

from __future__ import annotations

import csv
import json
import re
from importlib import resources

import pytest

from valind.instruments.values.contamination import GUARDED_FILES, shared_runs, word_runs

from conftest import SHARED_DATA

SHARED = SHARED_DATA / "labelled"


def _gold_rows():
    text = resources.files("valind").joinpath("instruments/values/data/values_dev.jsonl").read_text(encoding="utf-8")
    for line in text.splitlines():
        rec = json.loads(line)
        yield f"values_dev.jsonl:{rec['id']}", [rec.get("prompt") or "", rec["response"]]


def _moralchoice_rows():
    with open(SHARED / "moralchoice_dev.csv", encoding="utf-8", newline="") as fh:
        for rec in csv.DictReader(fh):
            yield f"moralchoice_dev.csv:{rec['scenario_id']}", [rec["context"], rec["action1"], rec["action2"]]


def _outside_rows():
    with open(SHARED / "outside_labelled_dev.jsonl", encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            yield f"outside_labelled_dev.jsonl:{rec['id']}", [rec["prompt"], rec["response"]]


def test_word_runs_by_hand():
    assert word_runs("I'm so sorry, you're not alone.", 5) == {("i'm", "so", "sorry", "you're", "not"),
                                                                  ("so", "sorry", "you're", "not", "alone")}
    assert word_runs("four words only here", 5) == set()
    assert word_runs("It’s OK to Feel lost now", 5) == word_runs("it's ok to feel lost now", 5)  # case, curly quote
    cue = {"cue.yaml": "- \"I'm here to help you think\"\n- \"(?:I'm|I am) glad you came back\"\n"}
    row = ("row 7", ["Well, I'm here to help you think it over.", "I am glad you came back today."])
    # the regex alternation reads as "i'm i am glad you came back": "i am glad you came" is a run of it
    assert shared_runs(cue, [row]) == [("row 7", "cue.yaml", "here to help you think"),
                                       ("row 7", "cue.yaml", "i'm here to help you"),
                                       ("row 7", "cue.yaml", "am glad you came back"),
                                       ("row 7", "cue.yaml", "i am glad you came")]


def test_guard_catches_a_planted_copy():
    texts = {name: text for name, text in GUARDED_FILES()}
    row = ("planted", ["The new shipment of lanterns arrived broken on Tuesday morning."])
    assert shared_runs(texts, [row]) == []
    texts["planted.yaml"] = "exemplars:\n  - \"lanterns arrived broken on Tuesday\"\n"
    assert shared_runs(texts, [row]) == [("planted", "planted.yaml", "lanterns arrived broken on tuesday")]


@pytest.mark.parametrize("rows", [
    _gold_rows,
    pytest.param(_moralchoice_rows, marks=pytest.mark.skipif(not (SHARED / "moralchoice_dev.csv").exists(),
                                                              reason="../shared/data/labelled/ not present")),
    pytest.param(_outside_rows, marks=pytest.mark.skipif(not (SHARED / "outside_labelled_dev.jsonl").exists(),
                                                          reason="../shared/data/labelled/ not present")),
])
def test_no_five_word_run_of_a_labelled_row_in_a_cue_file(rows):
    texts = dict(GUARDED_FILES())
    assert len(texts) >= 3
    hits = shared_runs(texts, list(rows()))
    assert not hits, "cue/exemplar files share five-word runs with labelled rows:\n" + "\n".join(
        f"  {row} <-> {name}: '{run}'" for row, name, run in hits[:40])
