"""Faults other than a killed stage: a full disk, a kill in the middle of a file write, damaged caches.

A full disk is simulated by making the write inside `atomic_path` fail with
ENOSPC (and, for the SQLite score cache, by capping its page count, which is
SQLite's own "disk full"). The promise: the previous artifact is intact, no
temp file is left, and the error names the path and why.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from valind import artifacts
from valind.artifacts import (ArtifactWriteError, atomic_write_bytes, atomic_write_json,
                              atomic_write_jsonl, atomic_write_parquet, atomic_write_text)
from valind.cli import main as cli_main
from valind.config import parse_study
from valind.context import RunContext
from valind.errors import ValindError
from valind.evaluate.suites.base import SuiteItem
from valind.instruments.values.cache import ScoreCache, cached_scores
from valind.generate.backends.base import Completion, SamplingSettings
from valind.verify import verify_run
from tests.conftest import DEMO_PAIRS


def _enospc(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


WRITERS = {
    "bytes": lambda p: atomic_write_bytes(p, b"new"),
    "text": lambda p: atomic_write_text(p, "new"),
    "json": lambda p: atomic_write_json(p, {"new": 1}),
    "jsonl": lambda p: atomic_write_jsonl(p, [{"new": 1}]),
    "parquet": lambda p: atomic_write_parquet(p, pd.DataFrame({"new": [1]})),
}


@pytest.mark.parametrize("writer", list(WRITERS))
def test_full_disk_keeps_the_previous_artifact_and_names_the_path(writer, tmp_path, monkeypatch):
    target = tmp_path / "stage" / "artifact.out"
    target.parent.mkdir()
    target.write_bytes(b"previous artifact")
    monkeypatch.setattr(artifacts.os, "fsync", _enospc)  # the data hits the disk at fsync: ENOSPC there
    with pytest.raises(ArtifactWriteError) as info:
        WRITERS[writer](target)
    assert isinstance(info.value, OSError) and isinstance(info.value, ValindError)
    assert info.value.errno == errno.ENOSPC
    assert str(target) in str(info.value) and "No space left on device" in str(info.value)
    assert target.read_bytes() == b"previous artifact"
    assert sorted(p.name for p in target.parent.iterdir()) == ["artifact.out"]  # no temp file left


def test_full_disk_half_way_through_a_streamed_write(tmp_path):
    target = tmp_path / "rows.jsonl"
    atomic_write_jsonl(target, [{"row": 1}])

    def rows():
        yield {"row": 1}
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.raises(ArtifactWriteError, match="rows.jsonl: No space left on device"):
        atomic_write_jsonl(target, rows())
    assert target.read_text() == '{"row": 1}\n' and len(list(tmp_path.iterdir())) == 1


def test_no_room_for_even_the_temp_file(tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "mkstemp", _enospc)
    with pytest.raises(ArtifactWriteError, match=f"could not write {tmp_path / 'x.json'}: No space left"):
        atomic_write_json(tmp_path / "x.json", {})


def test_full_disk_during_a_stage_through_the_cli(tmp_path, monkeypatch, capsys):
    """`valind ingest --force` on a full disk: exit 2, one line naming the file, the earlier output intact."""
    import pyarrow.parquet as pq

    study = tmp_path / "study.yaml"
    study.write_text(json.dumps({"sources": [{"kind": "generic", "path": DEMO_PAIRS, "limit": 20}]}))
    run = tmp_path / "run"
    assert cli_main(["ingest", str(study), "--out", str(run), "--no-progress"]) == 0
    before = {p.name: p.read_bytes() for p in (run / "ingest").iterdir()}

    monkeypatch.setattr(pq.ParquetWriter, "write_table", _enospc)
    assert cli_main(["ingest", str(study), "--out", str(run), "--force", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert f"valind: error: [Errno 28] could not write {run / 'ingest' / 'pairs.parquet'}: No space left" in err
    assert "Traceback" not in err
    assert {p.name: p.read_bytes() for p in (run / "ingest").iterdir()} == before
    assert verify_run(run).ok


KILL_MID_WRITE = """
import sys, time
from pathlib import Path
from valind.artifacts import atomic_path
with atomic_path(sys.argv[1]) as tmp, open(tmp, "w") as fh:
    fh.write("half of the new ")
    fh.flush()
    Path(sys.argv[2]).touch()
    time.sleep(60)
    fh.write("artifact")
"""


def test_kill_during_a_write_leaves_the_previous_file(tmp_path):
    target, ready = tmp_path / "stage" / "results.csv", tmp_path / "ready"
    atomic_write_text(target, "previous\n")
    proc = subprocess.Popen([sys.executable, "-c", KILL_MID_WRITE, str(target), str(ready)])
    try:
        while not ready.exists():
            assert proc.poll() is None, "the writer ended early"
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    assert target.read_text() == "previous\n"
    leftovers = [p for p in target.parent.iterdir() if p != target]
    assert len(leftovers) == 1 and leftovers[0].name.startswith(".results.csv.")
    assert any(str(leftovers[0]) in line and "interrupted write" in line for line in verify_run(tmp_path).problems)


# ---------------------------------------------------------------- the score cache
class CountingExtractor:
    """Scores = (len(response), 1); remembers which responses it had to score."""

    value_names = ["a", "b"]

    def __init__(self):
        self.scored: list[str] = []

    def score_batch(self, prompts, responses):
        self.scored += list(responses)
        return np.array([[len(r), 1.0] for r in responses])

    def failures(self):
        return []


RESPONSES = ["one", "three", "fifteen"]


def _filled_cache(path: Path) -> ScoreCache:
    cache = ScoreCache(path, "fingerprint")
    cached_scores(CountingExtractor(), [None] * 3, RESPONSES, cache)
    return cache


@pytest.mark.parametrize("damage", ["payload edited", "checksum edited", "wrong shape with a valid checksum",
                                    "not JSON with a valid checksum"])
def test_a_damaged_cache_entry_is_recomputed_not_trusted(damage, tmp_path):
    import hashlib

    cache = _filled_cache(tmp_path / "cache.sqlite")
    key = cache.db.execute("SELECT key FROM scores ORDER BY rowid LIMIT 1 OFFSET 1").fetchone()[0]  # "three"
    payload = {"payload edited": '{"scores": [99.0, 99.0]}', "checksum edited": '{"scores": [5.0, 1.0]}',
               "wrong shape with a valid checksum": '{"scores": [99.0]}',
               "not JSON with a valid checksum": "{scores"}[damage]
    checksum = "0" * 64 if damage in ("payload edited", "checksum edited") else hashlib.sha256(payload.encode()).hexdigest()
    with cache.db:
        cache.db.execute("UPDATE scores SET payload = ?, checksum = ? WHERE key = ?", (payload, checksum, key))

    extractor = CountingExtractor()
    scores, _ = cached_scores(extractor, [None] * 3, RESPONSES, cache)
    assert extractor.scored == ["three"]  # only the damaged entry was recomputed
    assert scores.tolist() == [[3, 1], [5, 1], [7, 1]]
    again = CountingExtractor()
    cached_scores(again, [None] * 3, RESPONSES, cache)
    assert again.scored == []  # and the recomputed entry replaced the damaged one
    cache.close()


def test_a_cache_file_that_is_no_longer_a_database_is_set_aside(tmp_path, caplog):
    path = tmp_path / "cache.sqlite"
    _filled_cache(path).close()
    path.write_bytes(b"\x00garbage" * 512)
    extractor = CountingExtractor()
    cache = ScoreCache(path, "fingerprint")
    scores, _ = cached_scores(extractor, [None] * 3, RESPONSES, cache)
    assert extractor.scored == RESPONSES and scores[:, 0].tolist() == [3, 5, 7]
    assert (tmp_path / "cache.sqlite.corrupt").read_bytes().startswith(b"\x00garbage")
    assert "damaged score cache" in caplog.text
    cache.close()


def test_full_disk_in_the_score_cache_names_the_file(tmp_path):
    cache = _filled_cache(tmp_path / "cache.sqlite")
    pages = cache.db.execute("PRAGMA page_count").fetchone()[0]
    cache.db.execute(f"PRAGMA max_page_count = {pages}")  # SQLite's own "database or disk is full"
    many = [f"response {i} " * 40 for i in range(300)]
    with pytest.raises(ArtifactWriteError) as info:
        cached_scores(CountingExtractor(), [None] * len(many), many, cache)
    assert info.value.errno == errno.ENOSPC and str(tmp_path / "cache.sqlite") in str(info.value)
    again = CountingExtractor()
    cached_scores(again, [None] * 3, RESPONSES, cache)
    assert again.scored == []  # the entries written before are intact
    cache.close()


# ---------------------------------------------------------------- generation chunks and evaluation units
class FakeBackend:
    """Echoes the prompt; raises KeyboardInterrupt (a simulated kill) after `stop_after` calls."""

    def __init__(self, stop_after: int | None = None):
        self.calls: list[list[str]] = []
        self.stop_after = stop_after

    def generate(self, conversations, settings, adapter=None):
        if self.stop_after is not None and len(self.calls) >= self.stop_after:
            raise KeyboardInterrupt("simulated kill")
        self.calls.append([c[-1]["content"] for c in conversations])
        return [Completion(text=f"reply to {c[-1]['content']}") for c in conversations]


class _Suite:
    name = "value_prompts"


@pytest.fixture
def generation(tmp_path, monkeypatch):
    from valind.generate import stage as gen

    monkeypatch.setattr(gen, "CHUNK", 2)
    ctx = RunContext(config=parse_study({"sources": [{"kind": "hh_rlhf", "path": "x.jsonl"}]}), run_dir=tmp_path,
                     progress=False)
    items = [SuiteItem(id=f"q{i}", messages=[{"role": "user", "content": f"question {i}"}]) for i in range(7)]
    variant = gen.Variant("tiny", "tiny-model", "base", 0, None, "base")
    settings = SamplingSettings(max_new_tokens=4)
    key = gen.unit_key(variant, items, settings, "fake")
    return lambda backend: gen.generate_unit(ctx, backend, variant, _Suite(), items, settings, key)


def test_interrupted_generation_resumes_chunk_by_chunk(generation, tmp_path):
    with pytest.raises(KeyboardInterrupt):
        generation(FakeBackend(stop_after=2))
    parts = sorted((tmp_path / "generate" / "tiny" / "base" / "seed0" / ".value_prompts.parts").iterdir())
    assert len(parts) == 2
    resumed = FakeBackend()
    final = generation(resumed)
    assert resumed.calls == [["question 4", "question 5"], ["question 6"]]  # only the chunks not yet written
    rows = [json.loads(line) for line in final.read_text().splitlines()]
    assert [r["item_id"] for r in rows] == [f"q{i}" for i in range(7)]
    assert all(r["response"] == f"reply to question {r['item_id'][1:]}" for r in rows)
    assert not final.with_name(".value_prompts.parts").exists()


def test_chunks_left_by_a_kill_after_the_unit_finished_are_removed(generation, tmp_path):
    """A kill between a unit's key file and the removal of its chunks leaves them; the next call removes them."""
    final = generation(FakeBackend())
    parts = final.with_name(".value_prompts.parts")
    parts.mkdir()
    (parts / "part-0000-stale.jsonl").write_text("{}\n")
    assert any(str(parts) in p for p in verify_run(tmp_path).problems)
    unused = FakeBackend()
    assert generation(unused) == final and unused.calls == [] and not parts.exists()
    assert not any(".parts" in p for p in verify_run(tmp_path).problems)


def test_small_suites_share_backend_calls_and_resume_per_chunk(tmp_path, monkeypatch):
    """Chunks of several suites of one variant go to the backend together until a call holds CHUNK prompts;
    each suite's file holds its own rows, and a kill between calls keeps the chunks already written."""
    from valind.generate import stage as gen

    monkeypatch.setattr(gen, "CHUNK", 4)
    ctx = RunContext(config=parse_study({"sources": [{"kind": "hh_rlhf", "path": "x.jsonl"}]}), run_dir=tmp_path,
                     progress=False)
    variant = gen.Variant("tiny", "tiny-model", "base", 0, None, "base")
    settings = SamplingSettings(max_new_tokens=4)
    suites = {"a": 3, "b": 2, "c": 6}
    units = []
    for name, n in suites.items():
        items = [SuiteItem(id=f"{name}{i}", messages=[{"role": "user", "content": f"{name} {i}"}]) for i in range(n)]
        units.append((name, items, gen.unit_key(variant, items, settings, "fake")))

    with pytest.raises(KeyboardInterrupt):
        gen.generate_units(ctx, FakeBackend(stop_after=1), variant, units, settings)
    unit_dir = tmp_path / "generate" / variant.rel_dir
    assert (unit_dir / "a.key").exists() and (unit_dir / "b.key").exists() and not (unit_dir / "c.jsonl").exists()

    resumed = FakeBackend()
    finals = gen.generate_units(ctx, resumed, variant, units, settings)
    assert resumed.calls == [["c 0", "c 1", "c 2", "c 3"], ["c 4", "c 5"]]  # a and b are not asked again
    first = FakeBackend()
    gen.generate_units(ctx.__class__(config=ctx.config, run_dir=tmp_path / "fresh", progress=False), first, variant,
                       units, settings)
    assert first.calls[0] == ["a 0", "a 1", "a 2", "b 0", "b 1"]  # a (3) and b (2) share one call
    for final, (name, items, _) in zip(finals, units):
        rows = [json.loads(line) for line in final.read_text().splitlines()]
        assert [r["item_id"] for r in rows] == [it.id for it in items]
        assert all(r["response"] == f"reply to {r['item_id'][0]} {r['item_id'][1:]}" for r in rows)
        assert not final.with_name(f".{name}.parts").exists()


def test_a_damaged_generation_chunk_is_generated_again(generation, tmp_path, caplog):
    with pytest.raises(KeyboardInterrupt):
        generation(FakeBackend(stop_after=2))
    parts = sorted((tmp_path / "generate" / "tiny" / "base" / "seed0" / ".value_prompts.parts").iterdir())
    parts[0].write_bytes(b'{"item_id": "q0", "resp')  # damaged after the fact (disk, hand edit)
    resumed = FakeBackend()
    final = generation(resumed)
    assert resumed.calls[0] == ["question 0", "question 1"] and len(resumed.calls) == 3
    assert len(final.read_text().splitlines()) == 7 and "damaged chunk" in caplog.text


def test_a_damaged_evaluation_unit_cache_is_recomputed(tmp_path):
    from valind.evaluate import stage as ev
    from valind.generate.stage import Variant

    class CountingSuite:
        name, needs_generation, calls = "value_prompts", True, 0
        spec = type("Spec", (), {"model_dump": staticmethod(lambda mode="json": {"name": "value_prompts"})})()

        def score(self, rows):
            CountingSuite.calls += 1
            return [{"item_id": r["item_id"], "metric": "len", "value": len(r["response"])} for r in rows]

    ctx = RunContext(config=parse_study({"sources": [{"kind": "hh_rlhf", "path": "x.jsonl"}]}), run_dir=tmp_path,
                     progress=False)
    variant = Variant("tiny", "tiny-model", "base", 0, None, "base")
    gen_file = tmp_path / "generate" / variant.rel_dir / "value_prompts.jsonl"
    atomic_write_jsonl(gen_file, [{"item_id": "q1", "prompt": "p", "response": "four"}])
    first = ev._unit_rows(ctx, variant, CountingSuite())
    (unit,) = (tmp_path / "evaluate" / "units").rglob("*.json")
    unit.write_text('{"metrics": [')
    assert ev._unit_rows(ctx, variant, CountingSuite()) == first
    assert CountingSuite.calls == 2 and json.loads(unit.read_text())["metrics"][0]["value"] == 4.0
    assert ev._unit_rows(ctx, variant, CountingSuite()) == first and CountingSuite.calls == 2
