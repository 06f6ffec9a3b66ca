"""Distributed training: `accelerate launch` with 2 CPU processes (gloo) trains the tiny model."""

from __future__ import annotations

import json
from pathlib import Path

from valind.config import ModelSpec, TrainingSpec
from valind.train.induce import TrainJob
from valind.train.stage import job_is_done, run_job

DDP_CONFIG = Path(__file__).resolve().parents[2] / "configs" / "accelerate" / "ddp_cpu_2proc.yaml"


def test_ddp_two_cpu_processes_train_an_adapter(tmp_path, tiny_model_dir):
    from safetensors.torch import load_file

    words = ["kind", "sad", "joke", "honest", "care", "laugh", "warm", "true"]
    recs = [{"id": str(i), "prompt": [{"role": "user", "content": f"{words[i % 8]} {words[(i * 3) % 8]}?"}],
             "chosen": f"{words[(i + 1) % 8]} " * 4, "rejected": f"{words[(i + 5) % 8]} " * 3} for i in range(16)]
    train = tmp_path / "train.jsonl"
    train.write_text("".join(json.dumps(r) + "\n" for r in recs))
    job = TrainJob(model=ModelSpec(name=str(tiny_model_dir)), value="empathy", seed=0, train_file=str(train),
                   training=TrainingSpec(max_steps=3, learning_rate=5e-3, batch_size=2, max_length=64),
                   out_dir=str(tmp_path / "out" / "seed0"), ref_cache_dir=str(tmp_path / "ref"))

    metrics = run_job(job, str(DDP_CONFIG))  # accelerate launch ... -m valind.train.worker JOB.json WORK_DIR

    assert metrics["world_size"] == 2 and "MULTI_CPU" in metrics["distributed"]
    assert metrics["steps"] == 3
    epochs = [h["epoch"] for h in metrics["log_history"] if "loss" in h]
    assert epochs[0] == 2 * 2 / 16  # one step consumed a batch of 2 on each of the 2 processes
    assert job_is_done(job)
    weights = load_file(str(Path(job.out_dir) / "adapter" / "adapter_model.safetensors"))
    lora_b = [t for name, t in weights.items() if "lora_B" in name]
    assert lora_b and all(t.abs().sum() > 0 for t in lora_b)  # PEFT starts lora_B at zero: training moved it
