"""The ingest stage: Parquet output, manifest counts, skipping when fresh, atomic failure, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from valind.artifacts import hash_file, read_manifest
from valind.cli import main as cli_main
from valind.config import parse_study
from valind.context import RunContext
from valind.errors import InputError
from valind.ingest import stage
from valind.ingest.schema import pair_schema

ROWS = [{"prompt": f"question {i}", "chosen": f"good {i}", "rejected": f"bad {i}"} for i in range(10)]
BAD = {"prompt": "question x", "chosen": 3, "rejected": "bad x"}


def write_jsonl(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def make_ctx(tmp_path: Path, data: Path, **study) -> RunContext:
    config = parse_study({"sources": [{"kind": "generic", "path": str(data), "label": "demo"}], **study},
                         base_dir=tmp_path)
    return RunContext(config=config, run_dir=tmp_path / "run", progress=False)


def test_writes_pairs_and_skips_when_fresh(tmp_path):
    data = write_jsonl(tmp_path / "pairs.jsonl", ROWS)
    first = stage.run(make_ctx(tmp_path, data))
    out = tmp_path / "run" / "ingest" / "pairs.parquet"
    table = pq.read_table(out)
    assert table.schema.equals(pair_schema()) and table.num_rows == 10
    assert table.column("source").to_pylist() == ["demo"] * 10
    assert first["counts"]["demo"]["kept"] == 10 and not first.get("_skipped")
    assert first["inputs"] == {str(data): hash_file(data)}
    digest = hash_file(out)

    second = stage.run(make_ctx(tmp_path, data))
    assert second.get("_skipped") is True and hash_file(out) == digest

    write_jsonl(data, ROWS[:5])  # the input changed: ingest again
    third = stage.run(make_ctx(tmp_path, data))
    assert not third.get("_skipped") and pq.read_table(out).num_rows == 5


def test_config_change_reruns(tmp_path):
    data = write_jsonl(tmp_path / "pairs.jsonl", ROWS)
    stage.run(make_ctx(tmp_path, data))
    again = stage.run(make_ctx(tmp_path, data, skip_bad_rows=True))
    assert not again.get("_skipped")


def test_skip_bad_rows_counts_land_in_the_manifest(tmp_path):
    data = write_jsonl(tmp_path / "pairs.jsonl", ROWS[:3] + [BAD] + ROWS[3:] + [ROWS[0]])
    stage.run(make_ctx(tmp_path, data, skip_bad_rows=True))
    counts = read_manifest(tmp_path / "run" / "ingest")["counts"]["demo"]
    assert (counts["read"], counts["kept"], counts["duplicates"], counts["bad_rows_skipped"]) == (12, 10, 1, 1)
    assert counts["bad_row_examples"] == [f"{data}, row 4, field 'chosen': expected text, got int 3"]


def test_a_failed_run_keeps_the_previous_artifact(tmp_path):
    data = write_jsonl(tmp_path / "pairs.jsonl", ROWS)
    stage.run(make_ctx(tmp_path, data))
    out_dir = tmp_path / "run" / "ingest"
    before = hash_file(out_dir / "pairs.parquet")
    write_jsonl(data, ROWS + [BAD])
    with pytest.raises(InputError):
        stage.run(make_ctx(tmp_path, data))
    assert hash_file(out_dir / "pairs.parquet") == before
    assert sorted(p.name for p in out_dir.iterdir()) == ["manifest.json", "pairs.parquet"]  # no temp file left


def test_chunked_output_is_deterministic_and_complete(tmp_path, monkeypatch):
    rows = [{"prompt": f"q{i}", "chosen": f"c{i}", "rejected": f"r{i}"} for i in range(25)]
    data = write_jsonl(tmp_path / "pairs.jsonl", rows)
    monkeypatch.setattr(stage, "CHUNK_ROWS", 4)
    stage.run(make_ctx(tmp_path, data))
    out = tmp_path / "run" / "ingest" / "pairs.parquet"
    assert pq.ParquetFile(out).num_row_groups == 7
    assert pq.read_table(out).column("chosen").to_pylist() == [f"c{i}" for i in range(25)]
    digest = hash_file(out)
    ctx = make_ctx(tmp_path, data)
    ctx.force = True
    stage.run(ctx)
    assert hash_file(out) == digest  # same input, same bytes


def test_cli_reports_bad_row_without_traceback_and_skips_on_request(tmp_path, capsys):
    data = write_jsonl(tmp_path / "pairs.jsonl", ROWS + [BAD])
    study = tmp_path / "study.yaml"
    study.write_text(yaml.safe_dump({"sources": [{"kind": "generic", "path": "pairs.jsonl", "label": "demo"}]}))
    run_dir = tmp_path / "run"
    assert cli_main(["ingest", str(study), "--out", str(run_dir), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert f"{data}, row 11, field 'chosen': expected text, got int 3" in err and "Traceback" not in err
    assert "--skip-bad-rows" in err  # the message says how to skip instead

    assert cli_main(["ingest", str(study), "--out", str(run_dir), "--no-progress", "--skip-bad-rows"]) == 0
    counts = read_manifest(run_dir / "ingest")["counts"]["demo"]
    assert counts["bad_rows_skipped"] == 1 and counts["kept"] == 10
