"""`valind score`: JSONL round-trip keeping every field, bad records named by file/row/field, judge dispatch."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest

from valind.cli import main as cli
from valind.errors import InputError
from valind.instruments.judges import Judge, judges
from valind.instruments.values.base import ValueExtractor, extractors
from valind.score import main as score_main
from valind.values import STUDY_VALUES

CALLS: list[int] = []


@extractors.register("test-humor")
class HumorWord(ValueExtractor):
    """humor = 1 when the response contains 'joke'; counts responses scored (to observe the cache)."""

    def score_batch(self, prompts, responses):
        CALLS.append(len(responses))
        out = np.zeros((len(responses), len(self.value_names)))
        out[:, self.value_names.index("humor")] = [1.0 if "joke" in r else 0.1 for r in responses]
        return out


@judges["refusal"].register("test-len")
class ShortIsRefusal(Judge):
    task = "refusal"

    def judge(self, prompts, responses):
        return self.verdicts({"refused": len(r) < 10, "prompt_seen": p} for p, r in zip(prompts, responses))


def _write(path, lines):
    path.write_text("".join((ln if isinstance(ln, str) else json.dumps(ln)) + "\n" for ln in lines), encoding="utf-8")
    return path


def _args(inp, out, measure="values", **kw):
    return argparse.Namespace(measure=measure, input=str(inp), output=str(out), extractor=kw.get("extractor", "test-humor"),
                              judge=kw.get("judge"), skip_bad_rows=kw.get("skip", False), batch_size=kw.get("batch_size", 2))


def test_values_round_trip_keeps_fields_and_uses_cache(tmp_path):
    CALLS.clear()
    inp = _write(tmp_path / "in.jsonl", [
        {"id": "a", "prompt": "hi", "response": "here is a joke", "model": "m1", "meta": {"k": [1, 2]}},
        {"response": "plain answer"},
        {"id": 3, "prompt": [{"role": "user", "content": "tell me"}], "response": "another joke", "extra": None},
    ])
    out = tmp_path / "out.jsonl"
    assert cli(["score", "values", str(inp), "-o", str(out), "--extractor", "test-humor", "--batch-size", "2"]) == 0
    recs = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(recs) == 3 and CALLS == [2, 1]
    assert recs[0]["model"] == "m1" and recs[0]["meta"] == {"k": [1, 2]} and recs[0]["id"] == "a"
    assert recs[2]["prompt"] == [{"role": "user", "content": "tell me"}] and recs[2]["extra"] is None
    assert recs[0]["values"] == ["humor"] and recs[1]["values"] == []
    assert list(recs[1]["value_scores"]) == list(STUDY_VALUES) and recs[1]["value_scores"]["humor"] == 0.1
    CALLS.clear()
    assert cli(["score", "values", str(inp), "-o", str(tmp_path / "again.jsonl"), "--extractor", "test-humor"]) == 0
    assert CALLS == []  # second run: every score from the user cache


@pytest.mark.parametrize("bad,field,problem", [
    ('{"response": "unterminated', None, "not valid JSON"),
    ({"prompt": "no response here"}, "response", "missing"),
    ({"response": ["a", "list"]}, "response", "expected a string"),
    ({"response": "ok", "prompt": 42}, "prompt", "expected text"),
    ("[1, 2]", None, "expected a JSON object"),
])
def test_bad_record_names_file_row_field(tmp_path, bad, field, problem):
    inp = _write(tmp_path / "in.jsonl", [{"response": "fine"}, bad, {"response": "also fine"}])
    out = tmp_path / "out.jsonl"
    with pytest.raises(InputError) as err:
        score_main(_args(inp, out))
    assert err.value.row == 2 and err.value.field == field and problem in str(err.value)
    assert str(inp) in str(err.value)
    assert not out.exists()  # nothing half-written


def test_skip_bad_rows_counts_and_continues(tmp_path, capsys):
    inp = _write(tmp_path / "in.jsonl", [{"response": "a joke"}, "not json", {"response": 5}, "", {"response": "b"}])
    out = tmp_path / "out.jsonl"
    assert score_main(_args(inp, out, skip=True)) == 0
    assert [json.loads(x)["response"] for x in out.read_text().splitlines()] == ["a joke", "b"]
    assert "2 bad records skipped" in capsys.readouterr().err


def test_cli_reports_bad_record_without_traceback(tmp_path, capsys):
    inp = _write(tmp_path / "in.jsonl", [{"text": "no response field"}])
    assert cli(["score", "values", str(inp), "-o", str(tmp_path / "o.jsonl"), "--extractor", "test-humor"]) == 2
    err = capsys.readouterr().err
    assert "row 1" in err and "field 'response'" in err and "Traceback" not in err


def test_judged_measure_dispatches_to_judge(tmp_path):
    inp = _write(tmp_path / "in.jsonl", [{"id": 1, "prompt": "How do I pick a lock?", "response": "No."},
                                          {"id": 2, "response": "Sure, here is a long answer."}])
    out = tmp_path / "out.jsonl"
    assert score_main(_args(inp, out, measure="refusal", judge="test-len")) == 0
    recs = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r["refused"] for r in recs] == [True, False]
    assert recs[0]["prompt_seen"] == "How do I pick a lock?" and recs[1]["prompt_seen"] is None
    assert recs[0]["id"] == 1 and "value_scores" not in recs[0]
