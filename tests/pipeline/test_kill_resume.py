"""SIGKILL during extraction, training, generation and evaluation, then the same command again.

Each test copies the finished upstream stages of one uninterrupted reference
run, starts `valind <stage> STUDY --out DIR` in a subprocess, waits until the
stage has left partial work on disk (score-cache rows, a finished adapter, a
finished generation unit, an evaluation unit cache), kills it with SIGKILL,
reruns the same command, and compares the final artifacts with the
reference's: byte-identical where the computation is deterministic on CPU.
The subprocess is slowed down a little (a sleep before each unit of work: a
score batch, an adapter, a generation or evaluation unit) so the kill lands
mid-stage even on a loaded machine; the work itself is unchanged.

`reference_run` (tests/pipeline/conftest.py) is shared with tests/pipeline/test_determinism.py (built once per
session).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import pandas as pd
import pytest
from safetensors.torch import load_file

from valind.cli import main as cli_main
from valind.verify import verify_run
from tests.pipeline.conftest import ADAPTERS, VALUES, reference_run

# The subprocess: optionally slow one function down, then run the CLI like a user would.
DRIVER = """
import importlib, sys, time
target, delay, argv = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
if target:
    module, name = target.split(":")
    module = importlib.import_module(module)
    real = getattr(module, name)
    def slowed(*args, **kwargs):
        time.sleep(delay)
        return real(*args, **kwargs)
    setattr(module, name, slowed)
from valind.cli import main
sys.exit(main(argv))
"""


def kill_when(argv: list[str], ready: Callable[[], bool], log_file: Path, slow: str = "", delay: float = 0.0,
              timeout: float = 300) -> int:
    """Start `valind ARGV` in a subprocess, SIGKILL it as soon as `ready()`; return its exit status."""
    with open(log_file, "w") as log:
        proc = subprocess.Popen([sys.executable, "-c", DRIVER, slow, str(delay), *argv], stdout=log,
                                stderr=subprocess.STDOUT, env={**os.environ, "PYTHONHASHSEED": "123"})
        deadline = time.monotonic() + timeout  # a safety net against a hung child, not a timing assertion
        try:
            while not ready():
                if proc.poll() is not None:
                    pytest.fail(f"the stage ended (status {proc.returncode}) before the kill point:\n"
                                + log_file.read_text()[-3000:])
                if time.monotonic() > deadline:
                    pytest.fail("the kill point was never reached:\n" + log_file.read_text()[-3000:])
                time.sleep(0.02)
            os.kill(proc.pid, signal.SIGKILL)
        finally:
            if proc.poll() is None:  # a failed wait above: never leave the child running
                proc.kill()
            proc.wait()
    return proc.returncode


def copy_stages(src: Path, dst: Path, stages: list[str]) -> None:
    for stage in stages:
        shutil.copytree(src / stage, dst / stage)


def stage_cmd(stage: str, study: Path, run_dir: Path) -> list[str]:
    return [stage, str(study), "--out", str(run_dir), "--no-progress"]


def manifest(run_dir: Path, stage: str) -> dict:
    return json.loads((run_dir / stage / "manifest.json").read_text())


@pytest.fixture(scope="module")
def reference(tmp_path_factory, tiny_model_dir):
    return reference_run(tmp_path_factory, tiny_model_dir)


def test_reference_run_is_intact_and_has_work_to_interrupt(reference):
    study, ref = reference
    assert verify_run(ref).ok, verify_run(ref).problems
    stats = pd.read_csv(ref / "curate" / "stats.csv").set_index("value")
    assert all(stats.loc[v, "trained"] and stats.loc[v, "train"] >= 2 for v in VALUES)
    assert all((ref / "train" / a / "adapter" / "adapter_model.safetensors").exists() for a in ADAPTERS)


def test_kill_during_extraction_resumes_from_the_score_cache(reference, tmp_path):
    study, ref = reference
    run_dir = tmp_path / "run"
    copy_stages(ref, run_dir, ["ingest"])
    cache = run_dir / "extract" / "cache.sqlite"

    def some_scores_cached() -> bool:
        if not cache.exists():
            return False
        try:
            with sqlite3.connect(f"file:{cache}?mode=ro", uri=True, timeout=1) as db:
                return db.execute("SELECT count(*) FROM scores").fetchone()[0] > 0
        except sqlite3.Error:
            return False

    status = kill_when(stage_cmd("extract", study, run_dir), some_scores_cached, tmp_path / "killed.log",
                       slow="valind.extract.stage:cached_scores", delay=0.3)
    assert status == -signal.SIGKILL
    assert not (run_dir / "extract" / "manifest.json").exists()
    assert any("extract/manifest.json: missing" in p for p in verify_run(run_dir).problems)
    with sqlite3.connect(cache) as db:
        cached_before = db.execute("SELECT count(*) FROM scores").fetchone()[0]

    assert cli_main(stage_cmd("extract", study, run_dir)) == 0
    counts = manifest(run_dir, "extract")["counts"]
    assert counts["cache_hits"] >= cached_before > 0  # the killed run's scores were reused
    assert counts["responses_scored"] == counts["responses"] - counts["cache_hits"]
    for name in ("annotations.parquet", "value_names.json", "prevalence.csv", "cooccurrence.csv"):
        assert (run_dir / "extract" / name).read_bytes() == (ref / "extract" / name).read_bytes(), name
    assert verify_run(run_dir).ok, verify_run(run_dir).problems


def test_kill_during_training_keeps_finished_adapters_and_trains_the_rest(reference, tmp_path):
    study, ref = reference
    run_dir = tmp_path / "run"
    copy_stages(ref, run_dir, ["ingest", "extract", "curate"])
    finished = lambda: [a for a in ADAPTERS if (run_dir / "train" / a / "manifest.json").exists()]  # noqa: E731

    status = kill_when(stage_cmd("train", study, run_dir), lambda: bool(finished()), tmp_path / "killed.log",
                       slow="valind.train.stage:train_adapter", delay=1.0)
    assert status == -signal.SIGKILL
    done = finished()
    assert len(done) == 1 and not (run_dir / "train" / "manifest.json").exists()
    first = run_dir / "train" / done[0] / "metrics.json"
    stamp = (first.stat().st_ino, first.stat().st_mtime_ns)
    assert not verify_run(run_dir).ok

    assert cli_main(stage_cmd("train", study, run_dir)) == 0
    m = manifest(run_dir, "train")
    assert m["counts"] == {"adapters": 3, "trained_now": 2}
    assert (first.stat().st_ino, first.stat().st_mtime_ns) == stamp  # the finished adapter was not retrained
    assert not list((run_dir / "train").rglob("*.partial"))
    for a in ADAPTERS:
        got = load_file(run_dir / "train" / a / "adapter" / "adapter_model.safetensors")
        want = load_file(ref / "train" / a / "adapter" / "adapter_model.safetensors")
        assert got.keys() == want.keys() and all(got[k].equal(want[k]) for k in want), f"{a}: weights differ"
        losses = [json.loads((d / "train" / a / "metrics.json").read_text())["log_history"] for d in (run_dir, ref)]
        assert [h.get("loss") for h in losses[0]] == [h.get("loss") for h in losses[1]]
    assert verify_run(run_dir).ok, verify_run(run_dir).problems


def test_kill_during_generation_keeps_finished_units(reference, tmp_path):
    study, ref = reference
    run_dir = tmp_path / "run"
    copy_stages(ref, run_dir, ["ingest", "extract", "curate", "train"])
    units = sorted(p.relative_to(ref / "generate") for p in (ref / "generate").rglob("*.jsonl"))
    assert len(units) == 4  # base + 2 value adapters + the control
    # a unit is finished once its key file is written (after its rows)
    done = lambda: [u for u in units if (run_dir / "generate" / u).with_suffix(".key").exists()]  # noqa: E731

    status = kill_when(stage_cmd("generate", study, run_dir), lambda: bool(done()), tmp_path / "killed.log",
                       slow="valind.generate.stage:generate_units", delay=1.0)
    assert status == -signal.SIGKILL
    n_done = len(done())
    assert 1 <= n_done < len(units) and not (run_dir / "generate" / "manifest.json").exists()

    assert cli_main(stage_cmd("generate", study, run_dir)) == 0
    assert manifest(run_dir, "generate")["counts"]["generated_now"] <= len(units) - n_done
    for u in units:
        assert (run_dir / "generate" / u).read_bytes() == (ref / "generate" / u).read_bytes(), str(u)
    assert verify_run(run_dir).ok, verify_run(run_dir).problems


def test_kill_during_evaluation_resumes_from_unit_caches(reference, tmp_path):
    study, ref = reference
    run_dir = tmp_path / "run"
    copy_stages(ref, run_dir, ["ingest", "extract", "curate", "train", "generate"])
    unit_files = lambda: list((run_dir / "evaluate" / "units").rglob("*.json"))  # noqa: E731

    status = kill_when(stage_cmd("evaluate", study, run_dir), lambda: bool(unit_files()), tmp_path / "killed.log",
                       slow="valind.evaluate.stage:_unit_rows", delay=1.0)
    assert status == -signal.SIGKILL
    assert not (run_dir / "evaluate" / "manifest.json").exists()
    kept = {p: p.stat().st_mtime_ns for p in unit_files()}

    assert cli_main(stage_cmd("evaluate", study, run_dir)) == 0
    assert all(p.stat().st_mtime_ns == t for p, t in kept.items())  # finished units were reused, not redone
    for name in ("results.parquet", "items.parquet", "results.csv", "summary.csv"):
        assert (run_dir / "evaluate" / name).read_bytes() == (ref / "evaluate" / name).read_bytes(), name
    assert verify_run(run_dir).ok, verify_run(run_dir).problems
