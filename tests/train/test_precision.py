"""Precision that fits the hardware: what `auto` picks, and bf16 training that follows fp32 on the same data.

The bf16 run here is forced (`training.precision: bf16`), so it runs on any CPU (emulated where the CPU has
no bf16 units); the tolerance is stated with the test.
"""

from __future__ import annotations

import json
import math

import pytest

from valind.config import ModelSpec, TrainingSpec
from valind.precision import cpu_has_fast_bf16, resolve_precision
from valind.train.induce import TrainJob, train_adapter, trl_args

AMD_EPYC = "processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu sse sse2 avx avx2 fma f16c\n"
SAPPHIRE_RAPIDS = ("model name\t: Intel(R) Xeon(R) Platinum 8480+\n"
                   "flags\t\t: fpu sse avx2 avx512f avx512_bf16 amx_bf16 amx_tile amx_int8\n")
COOPER_LAKE = "model name\t: Intel(R) Xeon(R)\nflags\t\t: avx2 avx512f avx512_bf16\n"

# bf16 has an 8-bit mantissa: per-token log-probs move by ~1e-2 relative. Over 6 DPO steps the loss curve in
# bf16 stays within this of the fp32 curve, step by step (measured on the tiny Llama: at most 0.004).
LOSS_TOLERANCE = 0.05


def test_auto_picks_bf16_only_where_the_cpu_has_bf16_units(monkeypatch):
    monkeypatch.delenv("VALIND_CPU_BF16", raising=False)
    assert not cpu_has_fast_bf16(AMD_EPYC)
    assert cpu_has_fast_bf16(SAPPHIRE_RAPIDS) and cpu_has_fast_bf16(COOPER_LAKE)
    monkeypatch.setenv("VALIND_CPU_BF16", "1")
    assert resolve_precision("auto", "cpu") == "bf16" and resolve_precision("fp32", "cpu") == "fp32"
    monkeypatch.setenv("VALIND_CPU_BF16", "0")
    assert resolve_precision("auto", "cpu") == "fp32" and resolve_precision("bf16", "cpu") == "bf16"
    with pytest.raises(ValueError, match="precision 'fp16'"):
        resolve_precision("fp16")


def test_precision_reaches_trl_and_the_adapter_identity(tmp_path, tiny_model_dir, monkeypatch):
    def job(precision):
        return TrainJob(model=ModelSpec(name=str(tiny_model_dir)), value="v", seed=0, train_file="none",
                        training=TrainingSpec(precision=precision), out_dir=str(tmp_path))

    monkeypatch.setenv("VALIND_CPU_BF16", "0")
    assert trl_args(job("auto"), str(tmp_path / "a"), 4).bf16 is False
    assert trl_args(job("bf16"), str(tmp_path / "b"), 4).bf16 is True
    assert job("auto").job_hash == job("fp32").job_hash != job("bf16").job_hash  # auto hashes as what it picked
    monkeypatch.setenv("VALIND_CPU_BF16", "1")
    assert trl_args(job("auto"), str(tmp_path / "c"), 4).bf16 is True
    assert job("auto").job_hash == job("bf16").job_hash


def _pairs(n: int) -> list[dict]:
    good = "I'm sorry you are going through this. That sounds really hard."
    bad = "abcdefghijklmnopqrstuvwxyz 0123456789 ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return [{"id": f"p{i}", "source": "t", "prompt": [{"role": "user", "content": f"Tell me about day {i}."}],
             "chosen": good, "rejected": bad, "flipped": False} for i in range(n)]


def test_bf16_training_follows_the_fp32_loss_curve_and_its_adapter_generates(tmp_path, tiny_model_dir):
    from valind.generate.backends.base import SamplingSettings
    from valind.generate.backends.hf import TransformersBackend

    train = tmp_path / "train.jsonl"
    train.write_text("".join(json.dumps(r) + "\n" for r in _pairs(12)))
    curves, metrics = {}, {}
    for precision in ("fp32", "bf16"):
        training = TrainingSpec(max_steps=6, learning_rate=2e-2, batch_size=2, max_length=64, reward_check_pairs=0,
                                precompute_ref_logprobs=False, precision=precision)
        job = TrainJob(model=ModelSpec(name=str(tiny_model_dir)), value="kind", seed=0, train_file=str(train),
                       training=training, out_dir=str(tmp_path / precision))
        metrics[precision] = train_adapter(job, tmp_path / precision)
        curves[precision] = [h["loss"] for h in metrics[precision]["log_history"] if "loss" in h]
    assert len(curves["fp32"]) == len(curves["bf16"]) == 6
    assert all(math.isfinite(x) for x in curves["bf16"])
    gaps = [abs(a - b) for a, b in zip(curves["fp32"], curves["bf16"])]
    assert max(gaps) < LOSS_TOLERANCE, (curves, gaps)
    assert curves["bf16"][-1] < curves["bf16"][0] - 0.05  # bf16 training learned, not only stayed close
    assert metrics["bf16"]["lora_tensors_changed"] == metrics["bf16"]["lora_tensors"] > 0

    # The bf16-trained adapter loads (safetensors) on the base model and changes what it generates.
    backend = TransformersBackend(str(tiny_model_dir), batch_size=4, dtype="bfloat16")
    try:
        convs = [[{"role": "user", "content": f"Tell me about day {i}."}] for i in range(3)]
        settings = SamplingSettings(max_new_tokens=8)
        base = [c.text for c in backend.generate(convs, settings)]
        tuned = [c.text for c in backend.generate(convs, settings, adapter=str(tmp_path / "bf16" / "adapter"))]
    finally:
        backend.close()
    assert all(isinstance(t, str) for t in tuned) and tuned != base
