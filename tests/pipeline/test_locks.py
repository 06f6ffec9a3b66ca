"""Run-folder and job locks, with real processes: a second writer stops at once naming the holder,
a lock left by a process killed on this host is taken over, and two Slurm array tasks for the same
job never train into the same folder."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from valind.locks import RUN_LOCK, LockedError, lock_run
from tests.conftest import DEMO_PAIRS

REPO = Path(__file__).resolve().parents[2]
ENV = dict(os.environ, PYTHONPATH=str(REPO / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""),
           HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
HOLD = """
import sys, time
from valind.locks import lock_job, lock_run
with (lock_run if sys.argv[1] == "run" else lock_job)(sys.argv[2]):
    print("held", flush=True)
    time.sleep(120)
"""


def holder(kind: str, path: Path) -> subprocess.Popen:
    """A process that takes the lock and keeps it until it is killed."""
    proc = subprocess.Popen([sys.executable, "-c", HOLD, kind, str(path)], env=ENV, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def demo_study(tmp_path: Path) -> Path:
    study = tmp_path / "study.yaml"
    study.write_text(yaml.safe_dump({
        "name": "locks", "sources": [{"kind": "generic", "path": DEMO_PAIRS, "limit": 5,
                                      "columns": {"id": "id", "prompt": "prompt", "chosen": "chosen",
                                                  "rejected": "rejected"}}]}))
    return study


def test_a_second_writer_stops_naming_the_holder_and_a_dead_holders_lock_is_taken_over(tmp_path):
    run_dir, study = tmp_path / "run", demo_study(tmp_path)
    first = holder("run", run_dir)
    try:
        t0 = time.monotonic()
        second = subprocess.run([sys.executable, "-m", "valind.cli", "ingest", str(study), "--out", str(run_dir)],
                                env=ENV, capture_output=True, text=True, timeout=300)
        assert second.returncode == 2, second.stderr[-2000:]
        message = second.stderr
        assert f"pid {first.pid} on host {socket.gethostname()}, started 20" in message
        assert f"run folder {run_dir} is being written by another process" in message
        assert not (run_dir / "ingest").exists()  # it stopped before writing anything
        assert time.monotonic() - t0 < 120  # at once, not after the holder's sleep
    finally:
        first.send_signal(signal.SIGKILL)  # dies holding the lock: the marker stays behind
        first.wait()
    assert (run_dir / RUN_LOCK).exists()
    third = subprocess.run([sys.executable, "-m", "valind.cli", "ingest", str(study), "--out", str(run_dir)],
                           env=ENV, capture_output=True, text=True, timeout=300)
    assert third.returncode == 0, third.stderr[-2000:]
    assert (run_dir / "ingest" / "pairs.parquet").exists() and not (run_dir / RUN_LOCK).exists()


def test_in_process_a_held_run_lock_is_refused_and_released_after(tmp_path):
    with lock_run(tmp_path) as info:
        assert info["pid"] == os.getpid()
        with pytest.raises(LockedError, match=rf"pid {os.getpid()} on host"):
            with lock_run(tmp_path):
                pass
    with lock_run(tmp_path):  # released: free again
        pass


def test_two_array_tasks_for_one_job_never_train_into_one_folder(tmp_path, tiny_model_dir, monkeypatch):
    from argparse import Namespace

    from valind.sweep import slurm
    from valind.train.stage import job_is_done

    from tests.conftest import sweep_config, write_curated

    run_dir = tmp_path / "run"
    write_curated(run_dir, {"empathy": 8})
    cfg = sweep_config(tiny_model_dir, {}).model_dump(mode="json")
    cfg["values"] = ["empathy"]
    cfg["training"].update(max_steps=2, batch_size=4, seeds=[0])
    study = tmp_path / "study.yaml"
    study.write_text(yaml.safe_dump(cfg))
    monkeypatch.setattr("valind.pipeline.run_stage", lambda ctx, name: {})  # curate outputs are already there
    assert slurm.main(Namespace(study=str(study), output=None, out=str(run_dir), skip_bad_rows=False)) == 0
    manifest = run_dir / "slurm" / "jobs.json"
    import json

    (entry,) = json.loads(manifest.read_text())["jobs"]
    first = holder("job", Path(entry["out_dir"]))  # task 0 is training (it holds the job's lock)
    try:
        twin = subprocess.run([sys.executable, "-m", "valind.sweep.slurm", str(manifest), "0"], env=ENV,
                              capture_output=True, text=True, timeout=300)
        assert twin.returncode == 3, twin.stderr[-2000:]
        assert f"training job folder {entry['out_dir']} is being written by another process: pid {first.pid}" \
            in twin.stderr
        assert not Path(entry["out_dir"] + ".partial").exists()  # the twin never touched the job's folders
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    again = subprocess.run([sys.executable, "-m", "valind.sweep.slurm", str(manifest), "0"], env=ENV,
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]
    from valind.train.induce import TrainJob

    assert job_is_done(TrainJob.from_json(Path(entry["job_file"]).read_text()))
