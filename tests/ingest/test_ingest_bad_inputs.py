"""The bad-input matrix: every malformed input gives an error naming file, row and field, or a counted skip."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pytest

from valind.config import SourceSpec
from valind.errors import ConfigError, InputError
from valind.ingest.stage import ingest


def good(i: int) -> dict:
    return {"prompt": f"question {i}", "chosen": f"good answer {i}", "rejected": f"bad answer {i}"}


def jsonl(*records) -> bytes:
    """Records as JSONL; a bytes record is written as the raw line."""
    return b"".join((r if isinstance(r, bytes) else json.dumps(r).encode()) + b"\n" for r in records)


def csv_bytes(header: str, *lines: str, encoding: str = "utf-8") -> bytes:
    return ("\n".join([header, *lines]) + "\n").encode(encoding)


def hh(human: str, chosen: str, rejected: str) -> dict:
    return {"chosen": f"\n\nHuman: {human}\n\nAssistant: {chosen}", "rejected": f"\n\nHuman: {human}\n\nAssistant: {rejected}"}


PKU_HUB = {"prompt": "q", "response_0": "a", "response_1": "b", "safer_response_id": 0, "better_response_id": 1}
UF_COMPLETION = {"model": "m", "response": "r", "overall_score": 5.0, "fine-grained_score": 4.0,
                 "annotations": {"helpfulness": {"Rating": "4", "Rationale": "ok"}}}


def uf(score) -> dict:
    return {"instruction": "Say hi.", "completions": [dict(UF_COMPLETION, response="hello there"),
                                                      dict(UF_COMPLETION, response="hi", overall_score=score)]}


# (case id, kind, file name, content, spec options, row, field, message fragment)
ROW_CASES = [
    ("not-utf8-jsonl", "generic", "d.jsonl", jsonl(good(1), b'{"prompt": "caf\xe9", "chosen": "x", "rejected": "y"}'),
     {}, 2, "prompt", "not UTF-8 text (byte 0xe9"),
    ("not-utf8-csv", "generic", "d.csv", csv_bytes("prompt,chosen,rejected", "q1,a1,b1", "q2,caf\xe9,b2", encoding="latin-1"),
     {}, 2, "chosen", "not UTF-8 text (byte 0xe9"),
    ("nul-raw-jsonl", "generic", "d.jsonl", jsonl(good(1), b'{"prompt": "a\x00b", "chosen": "x", "rejected": "y"}'),
     {}, 2, None, "NUL bytes"),
    ("nul-escaped-json", "generic", "d.jsonl", jsonl(good(1), {"prompt": "q", "chosen": "a\x00b", "rejected": "y"}),
     {}, 2, "chosen", "NUL byte"),
    ("nul-csv", "generic", "d.csv", csv_bytes("prompt,chosen,rejected", "q1,a1,b1", "q2,a\x002,b2"),
     {}, 2, "chosen", "NUL byte"),
    ("number-for-text", "generic", "d.jsonl", jsonl(good(1), {"prompt": "q", "chosen": 42, "rejected": "y"}),
     {}, 2, "chosen", "expected text, got int 42"),
    ("dict-for-prompt", "generic", "d.jsonl", jsonl(good(1), {"prompt": {"text": "q"}, "chosen": "x", "rejected": "y"}),
     {}, 2, "prompt", "expected text or a list of chat messages, got dict"),
    ("bad-role", "generic", "d.jsonl", jsonl(good(1), {"prompt": [{"role": "human", "content": "q"}], "chosen": "x", "rejected": "y"}),
     {}, 2, "prompt[0].role", "unknown role 'human'"),
    ("missing-column", "generic", "d.jsonl", jsonl({"prompt": "q", "chosen": "x", "reject": "y"}, good(2)),
     {}, 1, "rejected", "column 'rejected' not found; columns present: prompt, chosen, reject"),
    ("wrong-column-mapping", "generic", "d.csv", csv_bytes("prompt,chosen,rejected", "q1,a1,b1"),
     {"columns": {"chosen": "answer_good"}}, 1, "answer_good",
     "column 'answer_good' (mapped to chosen) not found; columns present: prompt, chosen, rejected"),
    ("duplicate-id", "generic", "d.jsonl", jsonl(dict(good(1), id="7"), dict(good(2), id="7")),
     {"columns": {"id": "id"}}, 2, "id", "duplicate id 'generic:7'"),
    ("truncated-json-line", "generic", "d.jsonl", jsonl(good(1), good(2), json.dumps(good(3)).encode()[:25]),
     {}, 3, None, "not valid JSON"),
    ("json-lines-non-object", "generic", "d.json", jsonl(good(1), "just text"),
     {}, 2, None, "expected a JSON object, got str"),
    ("json-list-non-object", "generic", "d.json", json.dumps([good(1), "just text"]).encode(),
     {}, 2, None, "expected a JSON object, got str"),
    ("csv-field-count", "generic", "d.csv", csv_bytes("prompt,chosen,rejected", "q1,a1,b1", "q2,a2"),
     {}, 2, None, "has 2 fields, the header has 3"),
    ("prompt-no-user-turn", "generic", "d.jsonl",
     jsonl(good(1), {"prompt": [{"role": "system", "content": "Be nice."}], "chosen": "x", "rejected": "y"}),
     {}, 2, "prompt", "prompt has no user turn"),
    ("prompt-ends-with-assistant", "generic", "d.jsonl",
     jsonl(good(1), {"prompt": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}], "chosen": "x", "rejected": "y"}),
     {}, 2, "prompt", "its last turn must be the user's"),
    ("empty-response", "generic", "d.jsonl", jsonl(good(1), {"prompt": "q", "chosen": "   ", "rejected": "y"}),
     {}, 2, "chosen", "is empty"),
    ("hh-empty-final-turn", "hh_rlhf", "d.jsonl", jsonl(hh("hi", "hello", "yo"), hh("hey", "", "what?")),
     {}, 2, "chosen", "the final assistant turn is empty"),
    ("hh-no-human-turn", "hh_rlhf", "d.jsonl",
     jsonl(hh("hi", "hello", "yo"), {"chosen": "\n\nAssistant: a", "rejected": "\n\nAssistant: b"}),
     {}, 2, "chosen", "does not start with a 'Human:' turn"),
    ("hh-different-prompts", "hh_rlhf", "d.jsonl",
     jsonl(hh("hi", "hello", "yo"), {"chosen": "\n\nHuman: a\n\nAssistant: b", "rejected": "\n\nHuman: c\n\nAssistant: d"}),
     {}, 2, "rejected", "shares no prompt with the chosen one"),
    ("hh-missing-rejected", "hh_rlhf", "d.jsonl", jsonl(hh("hi", "hello", "yo"), {"chosen": "\n\nHuman: a\n\nAssistant: b"}),
     {}, 2, "rejected", "column 'rejected' not found; columns present: chosen"),
    ("pku-response-not-a-pair", "pku_saferlhf", "d.json", json.dumps([{"prompt": "q", "response": ["a", "b"]},
                                                                       {"prompt": "q", "response": "only one"}]).encode(),
     {}, 2, "response", "expected a list [preferred, other] of two texts"),
    ("pku-bad-preference-id", "pku_saferlhf", "d.jsonl", jsonl(PKU_HUB, dict(PKU_HUB, prompt="q2", safer_response_id=2)),
     {}, 2, "safer_response_id", "expected 0 or 1, got int 2"),
    ("uf-score-not-a-number", "ultrafeedback", "d.jsonl", jsonl(uf(3.0), uf("high")),
     {}, 2, "completions[1].overall_score", "expected a number, got str 'high'"),
    ("uf-score-missing", "ultrafeedback", "d.jsonl",
     jsonl(uf(3.0), {"instruction": "Say hi.", "completions": [{"model": "m", "response": "yo"}, {"model": "n", "response": "hey"}]}),
     {}, 2, "completions[0].overall_score", "not found; fields present: model, response"),
    ("helpsteer-rating-not-a-number", "helpsteer2", "d.jsonl",
     jsonl({"prompt": "p", "response": "a", "helpfulness": 3}, {"prompt": "p", "response": "b", "helpfulness": 1},
           {"prompt": "p", "response": "c", "helpfulness": "lots"}),
     {}, 3, "helpfulness", "expected a number, got str 'lots'"),
]


def write(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


@pytest.mark.parametrize("case", ROW_CASES, ids=[c[0] for c in ROW_CASES])
def test_bad_row_is_named(tmp_path, case):
    _id, kind, name, content, options, row, field, fragment = case
    path = write(tmp_path, name, content)
    with pytest.raises(InputError) as exc:
        ingest([SourceSpec(kind=kind, path=str(path), **options)], tmp_path / "out.parquet")
    err = exc.value
    assert (err.file, err.row, err.field) == (str(path), row, field)
    assert fragment in str(err)
    assert str(err).startswith(f"{path}, row {row}")
    assert not (tmp_path / "out.parquet").exists()  # nothing half-written


SKIPPABLE = [c for c in ROW_CASES if c[0] != "wrong-column-mapping"]  # a wrong mapping spoils every row: see below


@pytest.mark.parametrize("case", SKIPPABLE, ids=[c[0] for c in SKIPPABLE])
def test_bad_row_is_skipped_and_counted(tmp_path, case):
    _id, kind, name, content, options, row, field, fragment = case
    path = write(tmp_path, name, content)
    counts = ingest([SourceSpec(kind=kind, path=str(path), **options)], tmp_path / "out.parquet", skip_bad_rows=True)
    (c,) = counts.values()
    assert c["bad_rows_skipped"] == 1 and c["kept"] >= 1
    assert fragment in c["bad_row_examples"][0] and f"row {row}" in c["bad_row_examples"][0]


# ---------------------------------------------------------------- whole-file problems (never skippable)
FILE_CASES = [
    ("empty-jsonl", "d.jsonl", b"", "file is empty"),
    ("blank-json", "d.json", b"  \n\n", "file is empty"),
    ("empty-json-list", "d.json", b"[]", "file is empty"),
    ("header-only-csv", "d.csv", b"prompt,chosen,rejected\n", "file is empty"),
    ("utf16", "d.jsonl", json.dumps(good(1)).encode("utf-16"), "UTF-16"),
    ("truncated-json-list", "d.json", json.dumps([good(1), good(2)]).encode()[:-20], "not valid JSON"),
    ("json-list-unclosed", "d.json", b'\n  [1, 2', "not valid JSON"),
    ("truncated-gzip", "d.jsonl.gz", gzip.compress(jsonl(*[good(i) for i in range(200)]))[:300], "gzip stream is truncated"),
    ("not-gzip", "d.jsonl.gz", b"plain text, not gzip", "not a readable gzip file"),
    ("corrupt-parquet", "d.parquet", b"PAR1 this is not parquet", "not a readable Parquet file"),
    ("unknown-type", "d.txt", b"hello", "unknown file type '.txt'"),
]


@pytest.mark.parametrize("case", FILE_CASES, ids=[c[0] for c in FILE_CASES])
def test_bad_file_is_named(tmp_path, case):
    _id, name, content, fragment = case
    path = write(tmp_path, name, content)
    for skip in (False, True):
        with pytest.raises(InputError) as exc:
            ingest([SourceSpec(kind="generic", path=str(path))], tmp_path / "out.parquet", skip_bad_rows=skip)
        assert exc.value.file == str(path) and exc.value.row is None and fragment in str(exc.value)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        ingest([SourceSpec(kind="generic", path=str(tmp_path / "nope.jsonl"))], tmp_path / "out.parquet")


def test_every_row_bad_is_an_error_even_when_skipping(tmp_path):
    path = write(tmp_path, "d.jsonl", jsonl({"q": "a"}, {"q": "b"}))
    with pytest.raises(InputError) as exc:
        ingest([SourceSpec(kind="generic", path=str(path))], tmp_path / "out.parquet", skip_bad_rows=True)
    assert "no pairs kept" in str(exc.value) and "bad_rows_skipped 2" in str(exc.value)
    assert "row 1, field 'chosen': column 'chosen' not found; columns present: q" in str(exc.value)


def test_unknown_generic_column_key_is_a_config_error(tmp_path):
    path = write(tmp_path, "d.jsonl", jsonl(good(1)))
    with pytest.raises(ConfigError, match="unknown field.*'answer'.*allowed: prompt, chosen, rejected, id"):
        ingest([SourceSpec(kind="generic", path=str(path), columns={"answer": "x"})], tmp_path / "out.parquet")


# ---------------------------------------------------------------- accepted oddities
def _kept(tmp_path, name, content, **options):
    import pyarrow.parquet as pq

    path = write(tmp_path, name, content)
    counts = ingest([SourceSpec(kind="generic", path=str(path), **options)], tmp_path / "out.parquet")
    return next(iter(counts.values())), pq.read_table(tmp_path / "out.parquet").to_pylist()


@pytest.mark.parametrize("name, content", [
    ("bom.jsonl", b"\xef\xbb\xbf" + jsonl(good(1), good(2))),
    ("bom.json", b"\xef\xbb\xbf" + json.dumps([good(1), good(2)]).encode()),
    ("bom.csv", b"\xef\xbb\xbf" + csv_bytes("prompt,chosen,rejected", "question 1,good answer 1,bad answer 1",
                                              "question 2,good answer 2,bad answer 2")),
])
def test_utf8_bom_is_accepted(tmp_path, name, content):
    counts, rows = _kept(tmp_path, name, content)
    assert counts["kept"] == 2 and rows[0]["prompt"] == [{"role": "user", "content": "question 1"}]


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_ten_megabyte_row_is_accepted(tmp_path, fmt):
    big = "word " * 2_000_000  # 10 MB
    if fmt == "jsonl":
        content = jsonl(good(1), {"prompt": "long one", "chosen": big, "rejected": "short"})
    else:
        buf = io.StringIO()
        import csv
        csv.writer(buf).writerows([["prompt", "chosen", "rejected"], ["long one", big, "short"]])
        content = buf.getvalue().encode()
    counts, rows = _kept(tmp_path, f"d.{fmt}", content)
    assert len(rows[-1]["chosen"]) == len(big.strip())


def test_chosen_equal_rejected_and_duplicates_are_counted(tmp_path):
    same = {"prompt": "q", "chosen": "same", "rejected": "same"}
    counts, rows = _kept(tmp_path, "d.jsonl", jsonl(good(1), same, good(1), good(2), dict(good(2), chosen=" good answer 2 ")))
    assert (counts["read"], counts["kept"], counts["identical_pair"], counts["duplicates"]) == (5, 2, 1, 2)
    assert [r["prompt"][0]["content"] for r in rows] == ["question 1", "question 2"]


def test_duplicates_across_sources_are_counted_in_the_later_source(tmp_path):
    a = write(tmp_path, "a.jsonl", jsonl(good(1), good(2)))
    b = write(tmp_path, "b.jsonl", jsonl(good(2), good(3)))
    counts = ingest([SourceSpec(kind="generic", path=str(a), label="a"), SourceSpec(kind="generic", path=str(b), label="b")],
                    tmp_path / "out.parquet")
    assert (counts["a"]["kept"], counts["b"]["kept"], counts["b"]["duplicates"]) == (2, 1, 1)
