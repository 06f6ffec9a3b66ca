"""The LLM output parser: each malformed reply is parsed by a documented rule or rejected with its raw text."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from valind.instruments.values.parse import SYNONYMS, build_lookup, normalize_name, parse_values
from valind.values import STUDY_VALUES

KNOWN = list(STUDY_VALUES)


def parse(text):
    return parse_values(text, KNOWN)


# ---------------------------------------------------------------- accepted by a rule
@pytest.mark.parametrize("text, expected", [
    ('{"values": ["empathy", "honesty"]}', ["empathy", "honesty"]),                     # the plain answer
    ('Sure, here you go:\n{"values": ["curiosity"]}\nHope this helps!', ["curiosity"]),  # rule 2: prose around
    ('```json\n{"values": ["privacy", "legality"]}\n```', ["privacy", "legality"]),      # rule 2: fenced
    ('The {braces} are prose. {"values": ["justice"]}', ["justice"]),                    # rule 2: first object that decodes
    ('{"values": ["EMPATHY", "Honesty"]}', ["empathy", "honesty"]),                      # rule 4: case
    ('{"VALUES": ["violence"]}', ["violence"]),                                          # rule 3: key case
    ('{"values": ["Open Mindedness", "open_mindedness", "humour"]}', ["open-mindedness", "humor"]),  # rule 4/5
    ('{"values": ["personalisation", "empathetic", "deceptive"]}', ["personalization", "empathy", "deception"]),
    ('{"values": []}', []),                                                              # rule 3: none expressed
    ('{"values": ["None"]}', []),                                                        # rule 3: "none"
    ('{"values": ["honesty", "honesty", "Honesty."]}', ["honesty"]),                     # rule 5: duplicates once
    ('{"values": ["fairness"]} {"values": ["violence"]}', ["fairness"]),                 # rule 2: first object wins
])
def test_accepted_replies(text, expected):
    result = parse(text)
    assert result.ok, result.error
    assert result.values == expected
    assert result.raw == text


# ---------------------------------------------------------------- rejected with the raw text kept
@pytest.mark.parametrize("text, reason", [
    ("", "empty reply"),
    ("   \n\t ", "empty reply"),
    ('{"values": ["empathy", "hones', "truncated JSON"),
    ('Here: {"values": ["empathy"', "truncated JSON"),
    ("I think the response shows empathy and honesty.", "no JSON object"),
    ('{"values": ["kindness"]}', "unknown value name 'kindness'"),          # a different word is not mapped
    ('{"values": ["empathy", "truthfulness"]}', "unknown value name 'truthfulness'"),  # one unknown rejects all
    ('{"labels": ["empathy"]}', "no 'values' key"),
    ('{"values": "empathy"}', "not a list"),
    ('{"values": [1, 2]}', "not a name"),
    ("{not json at all}", "no JSON object in the reply decodes"),
    ('["empathy", "honesty"]', "no JSON object"),                            # a bare list is not the format
])
def test_rejected_replies(text, reason):
    result = parse(text)
    assert not result.ok
    assert result.values is None
    assert reason in result.error
    assert result.raw == text


def test_none_reply_is_empty_and_never_raises():
    result = parse_values(None, KNOWN)
    assert result.error == "empty reply" and result.raw == ""


def test_synonyms_map_only_to_known_values():
    # With a custom value set lacking 'humor', "humour" is unknown rather than guessed.
    assert not parse_values('{"values": ["humour"]}', ["empathy"]).ok
    assert parse_values('{"values": ["humour"]}', ["humor"]).values == ["humor"]


def test_user_synonyms_extend_the_table():
    assert parse_values('{"values": ["kindness"]}', KNOWN, synonyms={"kindness": "empathy"}).values == ["empathy"]


def test_every_synonym_targets_a_study_value_and_is_normalised():
    for variant, canonical in SYNONYMS.items():
        assert canonical in STUDY_VALUES
        assert normalize_name(variant) == variant


# ---------------------------------------------------------------- properties (hypothesis)
LOOKUP = build_lookup(KNOWN)
_prose = st.text(alphabet=st.characters(blacklist_characters="{}", blacklist_categories=("Cs",)), max_size=80)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=400))
def test_never_raises_on_arbitrary_text(text):
    result = parse_values(text, KNOWN, lookup=LOOKUP)
    assert result.raw == text
    assert (result.values is None) != (result.error is None)
    if result.ok:
        assert set(result.values) <= set(KNOWN)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="{}[]\":, valuesempathy\\", max_size=200))
def test_never_raises_on_brace_soup(text):
    result = parse_values(text, KNOWN, lookup=LOOKUP)
    assert result.ok or result.error


def _spell(name: str, style: int) -> str:
    """One of several renderings of a value name that rule 4 must map back to it."""
    return [name, name.upper(), name.title(), name.replace("-", " "), name.replace("-", "_"), f" {name} "][style]


@settings(max_examples=300, deadline=None)
@given(names=st.lists(st.sampled_from(KNOWN), unique=True, max_size=len(KNOWN)),
       styles=st.lists(st.integers(0, 5), min_size=len(KNOWN), max_size=len(KNOWN)),
       before=_prose, after=_prose, fenced=st.booleans(), indent=st.sampled_from([None, 2]))
def test_round_trips_any_subset_with_prose_around(names, styles, before, after, fenced, indent):
    body = json.dumps({"values": [_spell(n, s) for n, s in zip(names, styles)]}, indent=indent)
    if fenced:
        body = f"```json\n{body}\n```"
    result = parse_values(before + body + after, KNOWN, lookup=LOOKUP)
    assert result.ok, result.error
    assert result.values == names
