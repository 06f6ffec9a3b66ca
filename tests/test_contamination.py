"""Contamination guard: no rule, cue, exemplar, anchor, lexicon or prompt file of any instrument (values,
refusal, anthropomorphism, sycophancy) may contain a run of five or more words from a row of a labelled
set we measure on: every row of ../shared/data/labelled/*.{csv,jsonl} and the in-house value set
(issue 10, item 1; what is guarded and what is exempt: valind/instruments/contamination.py).

A five-word run shared with an evaluation row means the rule may have been written from that row,
and a figure on that row would then measure memory, not the instrument. Common phrases collide too
("I'm here to help you"): reword the cue, since the held-back halves may hold the same phrase.
"""

from __future__ import annotations

import json
from importlib import resources

import pytest

from valind.instruments.contamination import guarded_files, labelled_rows, shared_runs, word_runs

from conftest import SHARED_DATA

SHARED = SHARED_DATA / "labelled"


def _gold_rows():
    text = resources.files("valind").joinpath("instruments/values/data/values_dev.jsonl").read_text(encoding="utf-8")
    for line in text.splitlines():
        rec = json.loads(line)
        yield f"values_dev.jsonl:{rec['id']}", [rec.get("prompt") or "", rec["response"]]


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
    texts = dict(guarded_files())
    row = ("planted", ["The new shipment of lanterns arrived broken on Tuesday morning."])
    assert shared_runs(texts, [row]) == []
    texts["planted.yaml"] = "exemplars:\n  - \"lanterns arrived broken on Tuesday\"\n"
    assert shared_runs(texts, [row]) == [("planted", "planted.yaml", "lanterns arrived broken on tuesday")]


def test_every_instruments_rule_file_is_guarded_and_published_texts_are_cut_out():
    texts = dict(guarded_files())
    for name in ("data/values.yaml", "instruments/values/data/lexicon.yaml", "instruments/values/data/context.yaml",
                 "instruments/values/data/prompts/value_extraction.txt", "instruments/refusal/rules.py",
                 "instruments/anthro/rules.py", "instruments/sycophancy/rules.py", "instruments/llm_judges.py"):
        assert name in texts, name
    assert not any(n.endswith(("_dev.jsonl", "behavior_dict.json")) for n in texts)
    assert "I can't assist" not in texts["instruments/refusal/rules.py"]  # GCG's published string, exempt
    assert "smashing a pi" not in texts["instruments/llm_judges.py"]  # XSTest's published rubric, exempt


def test_no_five_word_run_of_the_in_house_value_set_in_a_value_extractor_file():
    # the in-house set is development data, checked against the value extractor's data files as before;
    # the other instruments are guarded against the shared labelled rows below
    files = {n: t for n, t in guarded_files() if n == "data/values.yaml" or n.startswith("instruments/values/data/")}
    hits = shared_runs(files, list(_gold_rows()))
    assert not hits, _explain(hits)


@pytest.mark.skipif(not SHARED.is_dir(), reason=f"{SHARED} not present: the shared labelled sets are not here")
def test_no_five_word_run_of_a_shared_labelled_row_in_a_rule_file():
    rows = labelled_rows(SHARED)
    assert {r.split(":")[0] for r, _ in rows} >= {"xstest_completions_dev.csv", "moralchoice_dev.csv",
                                                  "outside_labelled_dev.jsonl"}
    hits = shared_runs(dict(guarded_files()), rows)
    assert not hits, _explain(hits)


def _explain(hits) -> str:
    return "rule files share five-word runs with labelled rows (remove the phrase; never tune to the row):\n" + \
        "\n".join(f"  {row} <-> {name}: '{run}'" for row, name, run in hits[:40])
