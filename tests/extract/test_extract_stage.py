"""The extract stage on a small pairs.parquet written here: outputs, report, cache reuse, resume after a kill."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from valind.artifacts import atomic_write_parquet, read_manifest, write_manifest
from valind.config import parse_study
from valind.context import RunContext
from valind.extract import stage
from valind.instruments.values.base import ValueExtractor, extractors

CALLS: list[int] = []  # responses per score_batch call of the fake extractor
KILL_AFTER: list[int] = []  # raise once this many calls were made (simulates a killed run)


@extractors.register("test-keyword")
class KeywordExtractor(ValueExtractor):
    """Fast stand-in: a value scores 1 when its name occurs in the response, else 0."""

    def score_batch(self, prompts, responses):
        if KILL_AFTER and len(CALLS) >= KILL_AFTER[0]:
            raise KeyboardInterrupt("killed")
        CALLS.append(len(responses))
        return np.array([[1.0 if v in r.lower() else 0.0 for v in self.value_names] for r in responses])


def _pairs(n: int) -> pd.DataFrame:
    rows = []
    for i in range(n):
        chosen = "I'm sorry, that sounds hard; empathy matters." if i % 2 == 0 else f"Here is a joke {i}: humor time."
        rows.append({"id": f"p{i}", "source": "test", "prompt": [{"role": "user", "content": f"question {i}"}],
                     "chosen": chosen, "rejected": f"Plain answer number {i}."})
    return pd.DataFrame(rows)


def _ctx(tmp_path, n=10, name="test-keyword", batch_size=4, **extra) -> RunContext:
    cfg = parse_study({"sources": [{"kind": "generic", "path": "x.jsonl"}],
                       "extractor": {"name": name, "batch_size": batch_size, **extra}}, base_dir=tmp_path)
    run_dir = tmp_path / "run"
    ingest = run_dir / "ingest"
    atomic_write_parquet(ingest / "pairs.parquet", _pairs(n))
    write_manifest(ingest, stage="ingest", config_hash="x", inputs={}, outputs=["pairs.parquet"])
    return RunContext(config=cfg, run_dir=run_dir, progress=False)


@pytest.fixture(autouse=True)
def _reset():
    CALLS.clear()
    KILL_AFTER.clear()


def test_stage_writes_annotations_report_and_manifest(tmp_path):
    ctx = _ctx(tmp_path, n=10)
    manifest = stage.run(ctx)
    out = ctx.run_dir / "extract"
    table = pd.read_parquet(out / "annotations.parquet")
    names = json.loads((out / "value_names.json").read_text())
    assert list(table.columns) == ["id", "chosen_values", "rejected_values", "chosen_scores", "rejected_scores", "failure"]
    assert len(table) == 10 and len(names) == 15
    row0, row1 = table.iloc[0], table.iloc[1]
    assert list(row0.chosen_values) == ["empathy"] and list(row1.chosen_values) == ["humor"]
    assert list(row0.rejected_values) == [] and len(row0.chosen_scores) == 15
    assert row0.chosen_scores[names.index("empathy")] == 1.0
    assert manifest["counts"]["responses_scored"] == 20 and manifest["counts"]["cache_hits"] == 0
    assert manifest["counts"]["per_value"]["empathy"] == {"chosen": 5, "rejected": 0}
    assert CALLS == [8, 8, 4]  # batches of 4 pairs = 8 responses
    prev = pd.read_csv(out / "prevalence.csv").set_index("value")
    assert prev.loc["empathy", "chosen_share"] == 0.5 and prev.loc["empathy", "rejected_share"] == 0.0
    co = pd.read_csv(out / "cooccurrence.csv", index_col="value")
    assert co.loc["humor", "humor"] == 5 and co.loc["humor", "empathy"] == 0
    assert (out / "cooccurrence.png").read_bytes()[:4] == b"\x89PNG"


def test_stage_skips_when_fresh_and_reuses_cache_when_not(tmp_path):
    ctx = _ctx(tmp_path, n=6)
    stage.run(ctx)
    assert stage.run(ctx).get("_skipped") is True
    CALLS.clear()
    ctx.force = True
    manifest = stage.run(ctx)
    assert not manifest.get("_skipped") and CALLS == []  # every score came from cache.sqlite
    assert manifest["counts"]["cache_hits"] == 12 and manifest["counts"]["responses_scored"] == 0


def test_killed_run_resumes_without_rescoring(tmp_path):
    ctx = _ctx(tmp_path, n=10, batch_size=2)
    KILL_AFTER.append(3)
    with pytest.raises(KeyboardInterrupt):
        stage.run(ctx)
    assert CALLS == [4, 4, 4] and read_manifest(ctx.run_dir / "extract") is None
    KILL_AFTER.clear()
    CALLS.clear()
    manifest = stage.run(ctx)
    assert CALLS == [4, 4]  # only the two batches never scored
    assert manifest["counts"]["cache_hits"] == 12 and manifest["counts"]["responses_scored"] == 8


def test_stage_with_embedding_extractor(tmp_path):
    ctx = _ctx(tmp_path, n=4, name="embedding", batch_size=8)
    stage.run(ctx)
    table = pd.read_parquet(ctx.run_dir / "extract" / "annotations.parquet")
    scores = np.array(table.chosen_scores.tolist() + table.rejected_scores.tolist())
    assert scores.shape == (8, 15) and scores.min() >= 0 and scores.max() <= 1
    assert table.failure.isna().all()
