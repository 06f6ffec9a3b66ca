"""Study config and value definitions: validation errors name the field path and what is allowed."""

from __future__ import annotations

import pytest
import yaml

from valind.config import load_study, parse_study
from valind.errors import ConfigError
from valind.values import STUDY_VALUES, load_values

MINIMAL = {"sources": [{"kind": "generic", "path": "pairs.jsonl", "columns": {"chosen": "c", "rejected": "r"}}]}


def test_embedded_default_is_valid_and_offline():
    cfg = load_study()
    assert cfg.models[0].name == "embedded:smollm2-135m-instruct"
    assert cfg.sources[0].path.startswith("package:")
    assert 2 <= len(cfg.values) <= 3


def test_unknown_field_names_path_and_allowed_fields():
    data = {**MINIMAL, "training": {"lora": {"rank": 8}}}
    with pytest.raises(ConfigError) as exc:
        parse_study(data, "study.yaml")
    msg = str(exc.value)
    assert "study.yaml" in msg and "training.lora.rank" in msg
    assert "allowed here" in msg and "alpha" in msg and "r," in msg


def test_wrong_literal_lists_allowed_values():
    with pytest.raises(ConfigError) as exc:
        parse_study({**MINIMAL, "training": {"method": "ppo"}}, "s.yaml")
    assert "training.method" in str(exc.value) and "'dpo'" in str(exc.value) and "'sft'" in str(exc.value)


def test_wrong_type_shows_the_bad_input():
    with pytest.raises(ConfigError) as exc:
        parse_study({**MINIMAL, "training": {"epochs": "five"}}, "s.yaml")
    assert "training.epochs" in str(exc.value) and "'five'" in str(exc.value)


def test_source_needs_exactly_one_location():
    with pytest.raises(ConfigError) as exc:
        parse_study({"sources": [{"kind": "hh_rlhf"}]}, "s.yaml")
    assert "sources.0" in str(exc.value) and "path" in str(exc.value)


def test_missing_sources_is_named():
    with pytest.raises(ConfigError) as exc:
        parse_study({}, "s.yaml")
    assert "sources: field required" in str(exc.value)


def test_relative_paths_resolve_against_the_config_file(tmp_path):
    (tmp_path / "sub").mkdir()
    f = tmp_path / "sub" / "study.yaml"
    f.write_text(yaml.safe_dump(MINIMAL))
    cfg = load_study(f)
    assert cfg.sources[0].path == str((tmp_path / "sub" / "pairs.jsonl").resolve())


def test_config_file_errors(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_study(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("sources: [unclosed")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_study(bad)
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_study(latin)


def test_unknown_induced_value_lists_known():
    cfg = parse_study({**MINIMAL, "values": ["empathy", "kindness"]})
    with pytest.raises(ConfigError) as exc:
        cfg.resolve_value_names(load_values())
    assert "kindness" in str(exc.value) and "empathy" in str(exc.value)


def test_fifteen_study_values_with_taxonomy():
    values = load_values()
    assert set(STUDY_VALUES) <= set(values)
    assert {values[v].valence for v in ("deception", "violence")} == {"negative"}
    assert all(values[v].category in {"Practical", "Epistemic", "Social", "Protective", "Personal"} for v in values)


def test_user_values_add_and_replace(tmp_path):
    f = tmp_path / "vals.yaml"
    f.write_text(yaml.safe_dump({"values": {
        "kindness": {"definition": "The response is kind and gentle to the user.", "category": "Social",
                     "valence": "positive", "exemplars": ["That was kind of you."]},
        "humor": {"definition": "Only dad jokes count as humour here.", "category": "Personal", "valence": "neutral"},
    }}))
    values = load_values(f)
    assert "kindness" in values and values["humor"].valence == "neutral" and len(values) == 16


def test_bad_value_file_names_the_field(tmp_path):
    f = tmp_path / "vals.yaml"
    f.write_text(yaml.safe_dump({"values": {"kindness": {"definition": "Kind and gentle replies.",
                                                        "category": "Nice", "valence": "positive"}}}))
    with pytest.raises(ConfigError) as exc:
        load_values(f)
    assert "values.kindness.category" in str(exc.value)
