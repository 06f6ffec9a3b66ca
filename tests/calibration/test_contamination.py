"""Contamination guard: no rule, cue, exemplar, anchor, lexicon or prompt file of any instrument (values,
refusal, anthropomorphism, sycophancy) may contain a run of five or more words from a row of a labelled
set we measure on: every row of ../shared/data/labelled/*.{csv,jsonl} and the in-house value set
(issue 10, item 1; what is guarded and what is exempt: valind/calibration/contamination.py).

A five-word run shared with an evaluation row means the rule may have been written from that row,
and a figure on that row would then measure memory, not the instrument. Common phrases collide too
("I'm here to help you"): reword the cue, since the held-back halves may hold the same phrase.
"""

from __future__ import annotations

import json
from importlib import resources

import pytest

from valind.calibration.contamination import guarded_files, labelled_rows, shared_runs, word_runs

from tests.conftest import SHARED_DATA

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


# ------------------------------------------------------------------ in-house training files, near copies
def test_near_copy_is_caught_where_no_five_word_run_survives():
    from valind.calibration.contamination import near_copies

    row = ("row 3", ["The committee postponed the annual budget vote until the spring session ended."])
    copy = ("dev.jsonl:9", ["the Committee delayed the annual budget vote till the spring session ended!"])
    assert shared_runs({"dev.jsonl:9": copy[1][0]}, [row]) == []  # every five-word run broken by an edit
    assert [h[:2] for h in near_copies([copy], [row])] == [("row 3", "dev.jsonl:9")]
    other = ("dev.jsonl:10", ["An annual vote on the budget is held by the committee in the spring."])
    assert near_copies([other], [row]) == []


def test_the_in_house_dev_files_are_read_by_the_guard():
    from valind.calibration.contamination import dev_rows

    files = {r.split(":")[0] for r, _ in dev_rows()}
    assert files == {"values/values_dev.jsonl", "refusal/refusal_dev.jsonl", "anthro/anthro_dev.jsonl"}


@pytest.mark.skipif(not SHARED.is_dir(), reason=f"{SHARED} not present: the shared labelled sets are not here")
def test_no_in_house_training_row_or_rule_line_is_a_near_copy_of_a_labelled_row():
    """The in-house *_dev sets train the learned instruments (refusal, values, anthropomorphism): a row that is
    a near copy of a labelled row we measure on (normalised text) would put that row in every training fold.
    Rule files are checked line by line the same way. Five-word runs are not required of the dev rows: they
    are natural text and share common phrases ("is there anything else I can help")."""
    from valind.calibration.contamination import dev_rows, near_copies, rule_lines

    rows = labelled_rows(SHARED)
    assert {r.split(":")[0] for r, _ in rows} >= {"outside_labelled_dev.jsonl", "outside_labelled_dev_2.jsonl"}
    hits = near_copies(dev_rows(), rows) + near_copies(rule_lines(guarded_files()), rows)
    assert not hits, "near copies of labelled rows (reword or remove the in-house row):\n" + "\n".join(
        f"  {row} <-> {item} (overlap {o})" for row, item, o in hits[:40])
