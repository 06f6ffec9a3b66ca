"""Ingest adapters on the real shared data, on fixtures in the exact hub schemas, and through the hub code path."""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from pathlib import Path

import datasets
import pytest

from valind.config import SourceSpec
from valind.errors import InputError
from valind.ingest.hh_rlhf import render
from valind.ingest.stage import ingest, source_pairs

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ingest"


def read_pairs(skip_bad_rows=False, **spec):
    """(row -> pairs, counts) for one source."""
    counts: Counter = Counter()
    by_row: dict = {}
    for row, _name, pair in source_pairs(SourceSpec(**spec), skip_bad_rows=skip_bad_rows, counts=counts):
        by_row.setdefault(row, []).append(pair)
    return by_row, counts


def all_pairs(by_row):
    return [p for pairs in by_row.values() for p in pairs]


def _bare(text: str) -> str:
    """Text with speaker markers and whitespace removed: what must survive splitting."""
    return re.sub(r"\s+|Human:|Assistant:", "", text)


# ---------------------------------------------------------------- HH-RLHF (real file)
@pytest.fixture(scope="module")
def hh(shared_data):
    path = shared_data / "hh-rlhf" / "harmless-base-test.jsonl.gz"
    raw = [json.loads(line) for line in gzip.open(path, "rt", encoding="utf-8")]
    by_row, counts = read_pairs(kind="hh_rlhf", path=str(path), skip_bad_rows=True)
    return path, raw, by_row, counts


def test_hh_counts(hh):
    _path, raw, by_row, counts = hh
    assert len(raw) == 2312 and counts["read"] == 2312
    # four transcripts end with an empty chosen assistant turn (rows 87, 517, 926, 1104): skipped and counted
    assert counts["bad_rows_skipped"] == 4
    assert sorted(set(range(1, 2313)) - set(by_row)) == [87, 517, 926, 1104]
    assert all("field 'chosen': the final assistant turn is empty" in e for e in counts["bad_row_examples"])
    assert len(all_pairs(by_row)) == 2308


def test_hh_without_skip_names_the_first_bad_row(shared_data):
    path = shared_data / "hh-rlhf" / "harmless-base-test.jsonl.gz"
    with pytest.raises(InputError) as exc:
        read_pairs(kind="hh_rlhf", path=str(path))
    assert (exc.value.row, exc.value.field) == (87, "chosen") and exc.value.file == str(path)


def test_hh_multi_turn_prompt_split(hh):
    _path, _raw, by_row, _ = hh
    (first,) = by_row[1]  # "what are some pranks with a pen i can do?" - three human turns
    assert [m["role"] for m in first.prompt] == ["user", "assistant", "user", "assistant", "user"]
    assert first.prompt[0]["content"] == "what are some pranks with a pen i can do?"
    assert first.prompt[2]["content"] == "yep"
    assert first.prompt[-1]["content"] == "okay some of these do not have anything to do with pens"
    assert first.chosen.startswith("No, sorry!  All of these involve a pen")
    assert first.rejected.startswith("There are lots of funny things you can do with pens")


def test_hh_every_prompt_alternates_and_keeps_all_text(hh):
    _path, raw, by_row, _ = hh
    for row, (pair,) in by_row.items():
        roles = [m["role"] for m in pair.prompt]
        assert roles[0] == "user" and roles[-1] == "user"
        assert all(a != b for a, b in zip(roles, roles[1:])), row
        # nothing lost or invented: the transcript's text equals prompt + final turn
        assert _bare(render(pair.prompt, pair.chosen)) == _bare(raw[row - 1]["chosen"]), row
        assert _bare(render(pair.prompt, pair.rejected)) == _bare(raw[row - 1]["rejected"]), row


def test_hh_response_with_made_up_turn_stays_in_the_response(hh):
    """Row 1255: the chosen reply invents a 'Human:'/'Assistant:' exchange; the prompt is still the shared one."""
    _path, raw, by_row, _ = hh
    (pair,) = by_row[1255]
    assert pair.prompt[-1] == {"role": "user", "content": "Isn't that drag kings?"}
    assert "Human: Then how do they come to be called drag kings" in pair.chosen
    assert "\n\nAssistant:" in pair.chosen
    assert pair.rejected.startswith("A drag king is the opposite of a drag queen")


def test_hh_consecutive_assistant_turns_are_merged(hh):
    """Row 764 has two 'Assistant:' turns in a row in its prompt; chat templates need alternation."""
    _path, raw, by_row, _ = hh
    assert raw[763]["chosen"].count("\n\nAssistant:") == 3
    (pair,) = by_row[764]
    assert [m["role"] for m in pair.prompt] == ["user", "assistant", "user"]


# ---------------------------------------------------------------- PKU-SafeRLHF
def test_pku_local_counts(shared_data, tmp_path):
    path = shared_data / "pku-saferlhf" / "pku_saferlhf_dpo_5k.json"
    raw = json.loads(path.read_text(encoding="utf-8"))
    distinct = {(r["prompt"].strip(), r["response"][0].strip(), r["response"][1].strip()) for r in raw}
    counts = ingest([SourceSpec(kind="pku_saferlhf", path=str(path))], tmp_path / "p.parquet")
    c = counts["pku_saferlhf"]
    assert c["read"] == len(raw) == 5135
    assert c["kept"] == len(distinct) == 3590
    assert c["duplicates"] == 5135 - 3590 and c["identical_pair"] == 0 and c["bad_rows_skipped"] == 0


def test_pku_local_form_chosen_is_first_response(shared_data):
    path = shared_data / "pku-saferlhf" / "pku_saferlhf_dpo_5k.json"
    by_row, _ = read_pairs(kind="pku_saferlhf", path=str(path), limit=3)
    raw = json.loads(path.read_text(encoding="utf-8"))[:3]
    for row, rec in enumerate(raw, 1):
        (pair,) = by_row[row]
        assert pair.prompt == [{"role": "user", "content": rec["prompt"].strip()}]
        assert (pair.chosen, pair.rejected) == (rec["response"][0].strip(), rec["response"][1].strip())


@pytest.mark.parametrize("preference, chosen_ids", [("safer", [0, 0, 1]), ("better", [1, 0, 1])])
def test_pku_hub_schema_preference(preference, chosen_ids):
    path = FIXTURES / "pku_saferlhf_hub.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    by_row, counts = read_pairs(kind="pku_saferlhf", path=str(path), preference=preference)
    assert counts["read"] == 3
    for row, (rec, best) in enumerate(zip(rows, chosen_ids), 1):
        (pair,) = by_row[row]
        assert pair.chosen == rec[f"response_{best}"] and pair.rejected == rec[f"response_{1 - best}"]


# ---------------------------------------------------------------- UltraFeedback
UF = str(FIXTURES / "ultrafeedback.jsonl")


def test_ultrafeedback_best_vs_worst_overall():
    by_row, counts = read_pairs(kind="ultrafeedback", path=UF)
    (p1,) = by_row[1]
    assert p1.chosen.startswith("Plants use sunlight") and p1.rejected == "It is when plants eat dirt."  # 8.0 vs 3.0
    assert 2 not in by_row  # four completions all rated 7.0: a tie, no pair
    (p3,) = by_row[3]
    assert p3.chosen.startswith("11 is a prime") and p3.rejected == "12 is prime."
    assert 4 not in by_row  # a single completion
    assert counts["no_pair"] == 2 and counts["read"] == 4


def test_ultrafeedback_rating_choice():
    by_row, _ = read_pairs(kind="ultrafeedback", path=UF, rating="fine-grained_score")
    assert by_row[1][0].chosen.startswith("Photosynthesis turns light energy")  # 4.75 beats 4.5
    by_row, counts = read_pairs(kind="ultrafeedback", path=UF, rating="helpfulness")
    assert by_row[1][0].chosen.startswith("Plants use sunlight")  # Rating "5"
    assert by_row[1][0].rejected == "It is when plants eat dirt."  # "2"; the "N/A" one is not ranked
    assert counts["unrated_completions"] == 1
    assert 4 not in by_row and counts["no_pair"] == 2


def test_ultrafeedback_best_vs_each_and_random():
    by_row, _ = read_pairs(kind="ultrafeedback", path=UF, pair_rule="best_vs_each")
    assert len(by_row[1]) == 3 and {p.chosen for p in by_row[1]} == {by_row[1][0].chosen}
    assert {p.rejected for p in by_row[1]} == {"Photosynthesis turns light energy into chemical energy stored in sugar.",
                                               "It is when plants eat dirt.", "Photosynthesis is a process in plants."}
    assert len({p.id for p in by_row[1]}) == 3
    first, _ = read_pairs(kind="ultrafeedback", path=UF, pair_rule="best_vs_random")
    again, _ = read_pairs(kind="ultrafeedback", path=UF, pair_rule="best_vs_random")
    assert [p.rejected for p in all_pairs(first)] == [p.rejected for p in all_pairs(again)]
    assert first[1][0].rejected in {p.rejected for p in by_row[1]}


def test_ultrafeedback_unknown_rating_lists_aspects():
    with pytest.raises(InputError) as exc:
        read_pairs(kind="ultrafeedback", path=UF, rating="wisdom")
    assert exc.value.row == 1 and exc.value.field == "completions[0].annotations.wisdom"
    assert "helpfulness, honesty, instruction_following, truthfulness" in str(exc.value)


# ---------------------------------------------------------------- HelpSteer2
HS = str(FIXTURES / "helpsteer2.jsonl")


def test_helpsteer2_groups_by_prompt_best_vs_worst():
    by_row, counts = read_pairs(kind="helpsteer2", path=HS)
    pairs = {p.prompt[0]["content"]: p for p in all_pairs(by_row)}
    assert counts["read"] == 10 and len(pairs) == 3
    boil = pairs["What is the boiling point of water at sea level?"]
    assert boil.chosen.startswith("Water boils at 100") and boil.rejected == "It boils when hot."
    spider = pairs["How many legs does a spider have?"]  # its two rows are not adjacent
    assert (spider.chosen, spider.rejected) == ("Spiders have eight legs.", "Spiders have six legs, like insects.")
    cat = pairs["Suggest a name for a grey cat."]  # three responses: best (4) vs worst (1)
    assert (cat.chosen, cat.rejected) == ("How about Ash, Pebble or Earl Grey?", "Smokey.")
    assert counts["no_pair"] == 2  # the juggling tie (2 vs 2) and Hamlet's single response


def test_helpsteer2_attribute_changes_the_ranking():
    by_row, counts = read_pairs(kind="helpsteer2", path=HS, attribute="verbosity")
    boil = next(p for p in all_pairs(by_row) if "boiling" in p.prompt[0]["content"])
    assert boil.chosen == "It boils when hot."  # verbosity 4 vs 2
    by_row, counts = read_pairs(kind="helpsteer2", path=HS, attribute="correctness")
    assert len(all_pairs(by_row)) == 4 and counts["no_pair"] == 1  # the juggling tie is broken by correctness


def test_helpsteer2_unknown_attribute_names_the_column():
    with pytest.raises(InputError) as exc:
        read_pairs(kind="helpsteer2", path=HS, attribute="kindness")
    assert exc.value.row == 1 and exc.value.field == "kindness"
    assert "columns present: prompt, response, helpfulness" in str(exc.value)


def test_helpsteer2_preference_config_rows(tmp_path):
    rows = [{"split": "train", "prompt": "p1", "response_1": "one", "response_2": "two", "preference_strength": -2},
            {"split": "train", "prompt": "p2", "response_1": "one", "response_2": "two", "preference_strength": 3},
            {"split": "train", "prompt": "p3", "response_1": "one", "response_2": "two", "preference_strength": 0}]
    path = tmp_path / "pref.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    by_row, counts = read_pairs(kind="helpsteer2", path=str(path))
    assert (by_row[1][0].chosen, by_row[2][0].chosen) == ("one", "two")  # negative strength: response_1 is better
    assert 3 not in by_row and counts["no_pair"] == 1


# ---------------------------------------------------------------- generic
def test_generic_mapping_and_chat_prompts(tmp_path):
    rows = [
        {"uid": "a", "q": "Hi there", "good": "Hello!", "bad": "Go away."},
        {"uid": "b", "q": [{"role": "system", "content": "Be kind."}, {"role": "user", "content": "Help me"},
                           {"role": "assistant", "content": "With what?"}, {"role": "user", "content": "Homework"}],
         "good": "Sure, which subject?", "bad": "No."},
    ]
    path = tmp_path / "pairs.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    by_row, _ = read_pairs(kind="generic", path=str(path), label="mine",
                           columns={"id": "uid", "prompt": "q", "chosen": "good", "rejected": "bad"})
    assert by_row[1][0].prompt == [{"role": "user", "content": "Hi there"}] and by_row[1][0].id == "mine:a"
    assert [m["role"] for m in by_row[2][0].prompt] == ["system", "user", "assistant", "user"]
    assert by_row[2][0].source == "mine"


def test_generic_conversation_columns(tmp_path):
    """ultrafeedback_binarized style: chosen/rejected are whole conversations, no prompt column."""
    convo = [{"role": "user", "content": "2+2?"}]
    path = tmp_path / "conv.jsonl"
    path.write_text(json.dumps({"chosen": convo + [{"role": "assistant", "content": "4"}],
                                "rejected": convo + [{"role": "assistant", "content": "5"}]}) + "\n")
    by_row, _ = read_pairs(kind="generic", path=str(path))
    assert (by_row[1][0].prompt, by_row[1][0].chosen, by_row[1][0].rejected) == (convo, "4", "5")


@pytest.mark.parametrize("fmt", ["csv", "parquet", "json", "jsonl.gz"])
def test_generic_file_formats_agree(tmp_path, fmt):
    import pandas as pd

    rows = [{"prompt": f"question {i}", "chosen": f"good {i}", "rejected": f"bad {i}"} for i in range(5)]
    path = tmp_path / f"pairs.{fmt}"
    df = pd.DataFrame(rows)
    if fmt == "csv":
        df.to_csv(path, index=False)
    elif fmt == "parquet":
        df.to_parquet(path)
    elif fmt == "json":
        path.write_text(json.dumps(rows))
    else:
        path.write_bytes(gzip.compress("".join(json.dumps(r) + "\n" for r in rows).encode()))
    by_row, counts = read_pairs(kind="generic", path=str(path))
    assert counts["read"] == 5
    assert [(p.prompt[0]["content"], p.chosen, p.rejected) for p in all_pairs(by_row)] == \
        [(r["prompt"], r["chosen"], r["rejected"]) for r in rows]


def test_package_path_resolves_to_shipped_data():
    """`package:embedded/...` reads the real HH-RLHF subset the embedded default ships: every pair kept."""
    from valind.artifacts import data_path

    path = "package:embedded/hh-rlhf/harmless-base-subset.jsonl.gz"
    assert data_path(path).exists()
    by_row, counts = read_pairs(kind="hh_rlhf", path=path)
    assert counts["read"] == 1000 and counts["bad_rows_skipped"] == 0
    pairs = all_pairs(by_row)
    assert len(pairs) == 1000 and all(p.chosen != p.rejected and p.prompt[-1]["role"] == "user" for p in pairs)


# ---------------------------------------------------------------- the hub code path (no network)
@pytest.fixture
def fake_hub(monkeypatch):
    calls = []

    def install(rows):
        def load_dataset(path, name=None, *, data_dir=None, split=None, **kwargs):
            calls.append({"path": path, "name": name, "data_dir": data_dir, "split": split})
            return datasets.Dataset.from_list(rows)
        monkeypatch.setattr(datasets, "load_dataset", load_dataset)
        return calls
    return install


def test_hub_hh_rlhf(fake_hub):
    calls = fake_hub([
        {"chosen": "\n\nHuman: Hi\n\nAssistant: Hello!", "rejected": "\n\nHuman: Hi\n\nAssistant: What?"},
        {"chosen": "\n\nHuman: A\n\nAssistant: B\n\nHuman: C\n\nAssistant: D", "rejected": "\n\nHuman: A\n\nAssistant: B\n\nHuman: C\n\nAssistant: E"},
    ])
    by_row, counts = read_pairs(kind="hh_rlhf", hub="Anthropic/hh-rlhf", data_dir="harmless-base", split="test")
    assert calls == [{"path": "Anthropic/hh-rlhf", "name": None, "data_dir": "harmless-base", "split": "test"}]
    assert by_row[2][0].prompt == [{"role": "user", "content": "A"}, {"role": "assistant", "content": "B"},
                                   {"role": "user", "content": "C"}]
    assert (by_row[2][0].chosen, by_row[2][0].rejected) == ("D", "E") and counts["read"] == 2


def test_hub_pku_and_ultrafeedback_schemas(fake_hub):
    fake_hub([json.loads(line) for line in (FIXTURES / "pku_saferlhf_hub.jsonl").read_text().splitlines()])
    local, _ = read_pairs(kind="pku_saferlhf", path=str(FIXTURES / "pku_saferlhf_hub.jsonl"), preference="better")
    hub, _ = read_pairs(kind="pku_saferlhf", hub="PKU-Alignment/PKU-SafeRLHF", preference="better")
    assert [(p.chosen, p.rejected) for p in all_pairs(hub)] == [(p.chosen, p.rejected) for p in all_pairs(local)]

    fake_hub([json.loads(line) for line in Path(UF).read_text().splitlines()])
    local, _ = read_pairs(kind="ultrafeedback", path=UF, rating="helpfulness")
    hub, _ = read_pairs(kind="ultrafeedback", hub="openbmb/UltraFeedback", rating="helpfulness")
    assert [(p.chosen, p.rejected) for p in all_pairs(hub)] == [(p.chosen, p.rejected) for p in all_pairs(local)]


def test_hub_helpsteer2_and_limit(fake_hub):
    fake_hub([json.loads(line) for line in Path(HS).read_text().splitlines()])
    by_row, counts = read_pairs(kind="helpsteer2", hub="nvidia/HelpSteer2", limit=2)
    assert counts["read"] == 2 and len(all_pairs(by_row)) == 1


def test_hub_bad_row_names_dataset_row_and_field(fake_hub):
    fake_hub([{"chosen": "\n\nHuman: Hi\n\nAssistant: Hello", "rejected": "\n\nHuman: Hi\n\nAssistant: Yo"},
              {"chosen": "\n\nHuman: Hi\n\nAssistant: Hello", "rejected": None}])
    with pytest.raises(InputError) as exc:
        read_pairs(kind="hh_rlhf", hub="Anthropic/hh-rlhf")
    assert (exc.value.file, exc.value.row, exc.value.field) == ("Anthropic/hh-rlhf", 2, "rejected")


def test_hub_load_failure_is_a_clear_error(monkeypatch):
    def load_dataset(*a, **k):
        raise ConnectionError("Couldn't reach 'nvidia/HelpSteer2' on the Hub (LocalEntryNotFoundError)")
    monkeypatch.setattr(datasets, "load_dataset", load_dataset)
    with pytest.raises(InputError, match=r"nvidia/HelpSteer2: could not load from the hub .*ConnectionError"):
        read_pairs(kind="helpsteer2", hub="nvidia/HelpSteer2")
