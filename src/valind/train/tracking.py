"""Experiment tracking through TRL's `report_to`: one tracked run per adapter, named by its job id.

`training.report_to` lists the trackers (tensorboard, wandb, mlflow); the
trainer's own integration callbacks do the logging. valind adds three things:

* TensorBoard events go to the adapter's folder (`train/<model>/<value>/seed<k>/tensorboard/`),
  not to the trainer's scratch folder that is deleted after training;
* every run gets the study config (secrets redacted) and the job's identity attached:
  TensorBoard text `valind/study_config`, W&B config key `valind`, MLflow artifact
  `valind/study.json` and tags `valind.*`;
* a W&B run is finished when its adapter is done, so the next adapter starts its own run.

W&B and MLflow read their usual environment (WANDB_MODE, WANDB_API_KEY, MLFLOW_TRACKING_URI, ...);
the project (WANDB_PROJECT) and experiment (MLFLOW_EXPERIMENT_NAME) default to the study name.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os

import yaml

from ..errors import ConfigError

TRACKERS = ("tensorboard", "wandb", "mlflow")
_PACKAGES = {"tensorboard": ("tensorboard", "tensorboard"), "wandb": ("wandb", "wandb"),
             "mlflow": ("mlflow", "mlflow-skinny (or mlflow)")}


def check_trackers(names: list[str]) -> None:
    """A clear error before any training when a configured tracker's library is not installed."""
    for name in names:
        module, package = _PACKAGES[name]
        if importlib.util.find_spec(module) is None:
            raise ConfigError(f"training.report_to: {name} is not installed; pip install {package} "
                              f"(or pip install 'valind[tracking]'), or remove it from report_to")


@contextlib.contextmanager
def tracking_env(job):
    """W&B project and MLflow experiment default to the study name while the job trains (user settings win)."""
    study = str((job.study or {}).get("name") or "valind")
    wanted = {"wandb": {"WANDB_PROJECT": study}, "mlflow": {"MLFLOW_EXPERIMENT_NAME": study}}
    set_here = []
    for tracker in job.training.report_to:
        for key, value in wanted.get(tracker, {}).items():
            if key not in os.environ:
                os.environ[key] = value
                set_here.append(key)
    try:
        yield
    finally:
        for key in set_here:
            os.environ.pop(key, None)


def job_identity(job) -> dict:
    return {"job_id": job.job_id, "job_hash": job.job_hash, "model": job.model.name, "value": job.value,
            "seed": job.seed, "point": job.point}


def attach(trainer, job, work_dir) -> None:
    """Point TensorBoard at `work_dir/tensorboard` and attach the study config to each tracker's run."""
    from transformers import TrainerCallback
    from transformers.integrations import MLflowCallback, TensorBoardCallback, WandbCallback

    if not job.training.report_to:
        return
    for cb in trainer.callback_handler.callbacks:
        if isinstance(cb, TensorBoardCallback):
            cb.logging_dir = str(work_dir / "tensorboard")
    study, identity = job.study or {}, job_identity(job)

    class AttachStudy(TrainerCallback):
        """Runs after the integrations' on_train_begin, when their runs exist."""

        def on_train_begin(self, args, state, control, **kwargs):
            if not state.is_world_process_zero:
                return
            for cb in trainer.callback_handler.callbacks:
                if isinstance(cb, TensorBoardCallback) and cb.tb_writer is not None:
                    cb.tb_writer.add_text("valind/study_config", "```yaml\n" + yaml.safe_dump(study, sort_keys=False)
                                          + "```")
                    cb.tb_writer.add_text("valind/job", json.dumps(identity))
                elif isinstance(cb, WandbCallback) and cb._wandb is not None and cb._wandb.run is not None:
                    cb._wandb.run.config.update({"valind": {"study": study, **identity}}, allow_val_change=True)
                elif isinstance(cb, MLflowCallback) and cb._initialized and cb._ml_flow.active_run() is not None:
                    cb._ml_flow.log_dict(study, "valind/study.json")
                    cb._ml_flow.set_tags({f"valind.{k}": str(v) for k, v in identity.items()})

    trainer.add_callback(AttachStudy())


def finish(trainer, job) -> None:
    """Close this adapter's runs and stop reporting, so later evaluation passes do not log into closed runs."""
    from transformers.integrations import MLflowCallback, TensorBoardCallback, WandbCallback

    if not job.training.report_to:
        return
    for cb in list(trainer.callback_handler.callbacks):
        if isinstance(cb, WandbCallback) and cb._wandb is not None and cb._wandb.run is not None \
                and trainer.is_world_process_zero():
            cb._wandb.finish()
        if isinstance(cb, MLflowCallback) and cb._initialized and cb._auto_end_run and cb._ml_flow.active_run():
            cb._ml_flow.end_run()
        if isinstance(cb, (TensorBoardCallback, WandbCallback, MLflowCallback)):
            trainer.remove_callback(cb)
