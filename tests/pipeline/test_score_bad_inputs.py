"""`valind score` on bad input: each case is one clear error naming file, row and field (exit 2, no
traceback, no output file), or with --skip-bad-rows a counted skip; never a silent drop.

Three cases (empty file, byte-order mark, duplicate ids) were found wrong in
`valind score` by these tests and fixed in src/valind/score.py.
"""

from __future__ import annotations

import json

import pytest

from valind.cli import main as cli_main
from valind.score import read_records

GOOD = {"id": "g1", "prompt": "How do I bake bread?", "response": "Mix flour, water, yeast and salt."}


def _line(obj) -> bytes:
    return (json.dumps(obj) + "\n").encode()


# case -> (the bad line, what the error says after "FILE, row 2"); each file is one good line, then the bad one
ERRORS = {
    "wrong encoding": ('{"id": "x", "response": "caf\xe9"}\n'.encode("latin-1"), ": not UTF-8 text"),
    "raw NUL byte": (b'{"id": "x", "response": "a\x00b"}\n', ": not valid JSON"),
    "NUL between fields": (b'{"id": "x",\x00 "response": "b"}\n', ": not valid JSON"),
    "response is a number": (_line({"id": "x", "response": 5}), ", field 'response': expected a string, got int"),
    "response is null": (_line({"id": "x", "response": None}), ", field 'response': expected a string"),
    "prompt is a number": (_line({"id": "x", "prompt": 3.5, "response": "r"}),
                           ", field 'prompt': expected text or chat messages, got float"),
    "prompt messages without content": (_line({"id": "x", "prompt": [{"role": "user"}], "response": "r"}),
                                        ", field 'prompt': chat messages need 'role' and 'content'"),
    "record is a list": (_line(["a", "b"]), ": expected a JSON object, got list"),
    "missing response": (_line({"id": "x", "text": "r"}), ", field 'response': missing"),
    "truncated last line": (b'{"id": "x", "response": "cut he', ": not valid JSON"),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_bad_input_is_a_clear_error(case, tmp_path, capsys):
    bad, words = ERRORS[case]
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_bytes(_line(GOOD) + bad)
    assert cli_main(["score", "refusal", str(src), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"valind: error: {src}, row 2{words}" in err, err
    assert "Traceback" not in err
    assert not out.exists()  # nothing half-written


def test_skip_bad_rows_counts_every_skip(tmp_path, capsys):
    """Every bad line of the matrix in one file: the good rows come through and each skip is counted."""
    bad = [line if line.endswith(b"\n") else line + b"\n" for line, _ in ERRORS.values()]
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_bytes(_line({**GOOD, "id": "first"}) + b"".join(bad) + _line({**GOOD, "id": "last"}))
    assert cli_main(["score", "refusal", str(src), "-o", str(out), "--skip-bad-rows"]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["first", "last"] and all("refused" in r for r in rows)
    assert f"2 records written to {out}, {len(ERRORS)} bad records skipped" in capsys.readouterr().err


def test_a_10_mb_row_is_read_whole(tmp_path):
    """A long row is neither truncated nor an error (the reader streams lines; the judge sees it all)."""
    response = ("A sentence about bread. " * 420_000)[:10_000_000]
    src = tmp_path / "big.jsonl"
    src.write_bytes(_line(GOOD) + _line({"id": "big", "response": response}) + _line({**GOOD, "id": "g2"}))
    records = list(read_records(src))
    assert [r["id"] for r, _ in records] == ["g1", "big", "g2"]
    assert len(records[1][0]["response"]) == 10_000_000


def test_escaped_nul_and_unicode_are_kept(tmp_path):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_bytes(_line({"id": "n", "response": "a\u0000b \u00e9\u4e2d \U0001f600", "extra": {"k": [1]}}))
    assert cli_main(["score", "refusal", str(src), "-o", str(out)]) == 0
    (row,) = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert row["response"] == "a\u0000b \u00e9\u4e2d \U0001f600" and row["extra"] == {"k": [1]}


def test_missing_input_file(tmp_path, capsys):
    assert cli_main(["score", "refusal", str(tmp_path / "nope.jsonl"), "-o", str(tmp_path / "o.jsonl")]) == 2
    assert f"{tmp_path / 'nope.jsonl'}: input file not found" in capsys.readouterr().err


# ---------------------------------------------------------------- found wrong by these tests, since fixed
def test_empty_file_is_an_error(tmp_path, capsys):
    src, out = tmp_path / "empty.jsonl", tmp_path / "out.jsonl"
    src.write_bytes(b"")
    assert cli_main(["score", "refusal", str(src), "-o", str(out)]) == 2
    assert f"{src}: no records" in capsys.readouterr().err


def test_byte_order_mark_is_accepted(tmp_path):
    src, out = tmp_path / "bom.jsonl", tmp_path / "out.jsonl"
    src.write_bytes(b"\xef\xbb\xbf" + _line(GOOD))
    assert cli_main(["score", "refusal", str(src), "-o", str(out)]) == 0
    assert json.loads(out.read_text())["id"] == "g1"


def test_duplicate_ids_are_named(tmp_path, capsys):
    src, out = tmp_path / "dup.jsonl", tmp_path / "out.jsonl"
    src.write_bytes(_line(GOOD) + _line({**GOOD, "response": "other"}))
    assert cli_main(["score", "refusal", str(src), "-o", str(out)]) == 2
    assert f"{src}, row 2, field 'id': duplicate" in capsys.readouterr().err


def test_bom_today_is_at_least_a_clear_error(tmp_path, capsys):
    """Until the BOM is accepted, it must still be a one-line error naming file and row."""
    src, out = tmp_path / "bom.jsonl", tmp_path / "out.jsonl"
    src.write_bytes(b"\xef\xbb\xbf" + _line(GOOD))
    status = cli_main(["score", "refusal", str(src), "-o", str(out)])
    err = capsys.readouterr().err
    assert status == 0 or (status == 2 and f"{src}, row 1: not valid JSON" in err and "Traceback" not in err)
