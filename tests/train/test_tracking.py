"""Experiment tracking through TRL's report_to: one run per adapter, named by its id, the study config attached.

TensorBoard is a dependency: its test reads the event files back. W&B (offline mode) and MLflow (a local
file store) are optional extras: their tests run where they are installed and read the runs back with
the libraries' own readers; nothing reaches the network.
"""

from __future__ import annotations

import importlib.util
import json

import pytest

from valind.config import ModelSpec, TrainingSpec, parse_study
from valind.errors import ConfigError
from valind.train.induce import TrainJob, train_adapter
from valind.train.tracking import check_trackers

from tests.conftest import write_curated

STUDY = {"name": "tracked-study", "sources": [{"kind": "generic", "path": "x.jsonl"}], "values": ["empathy"]}


def make_job(tmp_path, model_dir, report_to, *, seed=0):
    training = TrainingSpec(max_steps=3, learning_rate=5e-3, batch_size=4, max_length=64, report_to=report_to)
    return TrainJob(model=ModelSpec(name=str(model_dir), label="tiny"), value="empathy", seed=seed,
                    train_file=str(tmp_path / "curate" / "subsets" / "empathy" / "train.jsonl"), training=training,
                    out_dir=str(tmp_path / f"seed{seed}"), study=dict(STUDY, training={"report_to": report_to}))


def logged_losses(metrics: dict) -> list[float]:
    return [h["loss"] for h in metrics["log_history"] if "loss" in h]


def test_report_to_accepts_one_name_or_none_and_rejects_unknown_trackers():
    assert TrainingSpec(report_to="tensorboard").report_to == ["tensorboard"]
    assert TrainingSpec(report_to="none").report_to == []
    assert TrainingSpec().report_to == []
    with pytest.raises(ConfigError, match=r"training\.report_to\.0: Input should be 'tensorboard', 'wandb' or 'mlflow'"):
        parse_study({**STUDY, "training": {"report_to": ["comet"]}})


def test_a_tracker_that_is_not_installed_is_named_before_training(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "wandb" else real(name, *a))
    with pytest.raises(ConfigError, match=r"report_to: wandb is not installed; pip install wandb"):
        check_trackers(["tensorboard", "wandb"])


def test_tensorboard_events_hold_the_dpo_loss_and_the_study_config(tmp_path, tiny_model_dir):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    write_curated(tmp_path, {"empathy": 12})
    job = make_job(tmp_path, tiny_model_dir, ["tensorboard"])
    metrics = train_adapter(job, tmp_path / "work")

    event_files = list((tmp_path / "work" / "tensorboard").glob("events.out.tfevents.*"))
    assert len(event_files) == 1
    acc = EventAccumulator(str(event_files[0].parent), size_guidance={"scalars": 0, "tensors": 0})
    acc.Reload()
    loss = acc.Scalars("train/loss")
    assert [e.step for e in loss] == [1, 2, 3]
    assert [e.value for e in loss] == pytest.approx(logged_losses(metrics))  # the DPO loss TRL logged
    assert "train/rewards/margins" in acc.Tags()["scalars"]
    texts = {tag: acc.Tensors(tag)[0].tensor_proto.string_val[0].decode() for tag in acc.Tags()["tensors"]}
    assert "name: tracked-study" in texts["valind/study_config/text_summary"]
    assert json.loads(texts["valind/job/text_summary"])["job_id"] == "tiny/empathy/seed0"
    assert not (tmp_path / "work" / "trainer" / "runs").exists()  # not in the scratch folder deleted after training


def test_no_tracker_by_default_writes_no_events(tmp_path, tiny_model_dir):
    write_curated(tmp_path, {"empathy": 8})
    train_adapter(make_job(tmp_path, tiny_model_dir, []), tmp_path / "work")
    assert not list(tmp_path.rglob("events.out.tfevents.*"))


@pytest.mark.skipif(importlib.util.find_spec("wandb") is None, reason="wandb is an optional extra (valind[tracking])")
def test_wandb_offline_one_run_per_adapter_named_by_its_id(tmp_path, tiny_model_dir, monkeypatch):
    """wandb 0.31 has no Python reader for its offline run files, so the live run is read just before it closes."""
    import wandb

    from valind.train import tracking

    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path))
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.delenv("WANDB_PROJECT", raising=False)
    seen = []
    real_finish = tracking.finish

    def finish_and_record(trainer, job):
        run = wandb.run
        seen.append({"name": run.name, "project": run.project, "offline": run.offline, "dir": run.dir,
                     "loss": run.summary["train/loss"], "valind": dict(run.config["valind"])})
        real_finish(trainer, job)
        assert wandb.run is None  # closed, so the next adapter gets its own run

    monkeypatch.setattr(tracking, "finish", finish_and_record)
    write_curated(tmp_path, {"empathy": 12})
    losses = {}
    for seed in (0, 1):
        metrics = train_adapter(make_job(tmp_path, tiny_model_dir, ["wandb"], seed=seed), tmp_path / f"work{seed}")
        losses[f"tiny/empathy/seed{seed}"] = logged_losses(metrics)

    assert [s["name"] for s in seen] == list(losses)  # one run per adapter, named by its id
    for s in seen:
        assert s["offline"] and s["project"] == "tracked-study"  # WANDB_PROJECT defaults to the study name
        assert s["loss"] == pytest.approx(losses[s["name"]][-1])  # the last DPO loss TRL logged
        assert s["valind"]["study"]["name"] == "tracked-study" and s["valind"]["job_id"] == s["name"]
    assert len(list(tmp_path.glob("wandb/offline-run-*/run-*.wandb"))) == 2  # both runs on disk, ready for `wandb sync`


@pytest.mark.skipif(importlib.util.find_spec("mlflow") is None, reason="mlflow is an optional extra (valind[tracking])")
def test_mlflow_local_store_one_run_per_adapter_with_the_study_config(tmp_path, tiny_model_dir, monkeypatch):
    import mlflow

    uri = (tmp_path / "mlruns").as_uri()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # a local store, no server (skinny has no sqlite backend)
    monkeypatch.delenv("MLFLOW_EXPERIMENT_NAME", raising=False)
    write_curated(tmp_path, {"empathy": 12})
    metrics = train_adapter(make_job(tmp_path, tiny_model_dir, ["mlflow"]), tmp_path / "work")

    client = mlflow.MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("tracked-study")  # MLFLOW_EXPERIMENT_NAME defaults to the study
    runs = client.search_runs([experiment.experiment_id])
    assert [r.info.run_name for r in runs] == ["tiny/empathy/seed0"]
    run = runs[0]
    assert run.info.status == "FINISHED"
    history = client.get_metric_history(run.info.run_id, "loss")
    assert [m.value for m in sorted(history, key=lambda m: m.step)] == pytest.approx(logged_losses(metrics))
    assert run.data.tags["valind.job_id"] == "tiny/empathy/seed0"
    study = mlflow.artifacts.load_dict(f"{run.info.artifact_uri}/valind/study.json")
    assert study["name"] == "tracked-study"
