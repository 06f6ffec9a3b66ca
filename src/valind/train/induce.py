"""Train one adapter with TRL: DPO (the study's method) or SFT on the value-expressing responses.

`train_adapter` is the single unit of training work. It is called in-process by
the train stage, by Ray workers, and under `accelerate launch` by
`python -m valind.train.worker JOB.json` (DDP / DeepSpeed / FSDP).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..artifacts import hash_file, hash_text, read_jsonl
from ..config import ModelSpec, TrainingSpec
from ..ingest.schema import last_turns
from . import tracking


@dataclass
class TrainJob:
    """Everything one adapter depends on. `job_hash` decides whether a finished adapter is reusable."""

    model: ModelSpec
    value: str
    seed: int
    train_file: str
    training: TrainingSpec
    out_dir: str
    data_hash: str = ""
    point: str = ""  # sweep point tag (e.g. "beta=0.05"); empty when the study has no sweep
    ref_cache_dir: str = ""  # where DPO reference log-probs are shared across jobs; empty = not shared
    heldout_files: dict = field(default_factory=dict)  # value -> held-out pairs for the implicit-reward check
    study: dict = field(default_factory=dict)  # the study config (secrets redacted), attached to tracked runs

    def __post_init__(self):
        if not self.data_hash and Path(self.train_file).exists():
            self.data_hash = hash_file(self.train_file)

    @property
    def job_id(self) -> str:
        point = f"/{self.point}" if self.point else ""
        return f"{self.model.slug}/{self.value}{point}/seed{self.seed}"

    @property
    def job_hash(self) -> str:
        t = self.training.model_dump(mode="json")
        t.pop("seeds", None)
        t.pop("accelerate_config", None)
        t.pop("precompute_ref_logprobs", None)  # a speed knob: the same losses either way
        t.pop("reward_check_pairs", None)  # measured after training; the adapter is the same
        t.pop("report_to", None)  # where the logs go, not what is trained
        from ..precision import resolve_precision

        t["precision"] = resolve_precision(t.get("precision", "auto"))  # what `auto` means on this machine
        return hash_text(json.dumps({"model": self.model.model_dump(mode="json"), "training": t, "seed": self.seed,
                                     "data": self.data_hash, "value": self.value}, sort_keys=True))[:16]

    def to_json(self) -> str:
        d = asdict(self)
        d["model"] = self.model.model_dump(mode="json")
        d["training"] = self.training.model_dump(mode="json")
        return json.dumps(d)

    @classmethod
    def from_json(cls, text: str) -> "TrainJob":
        d = json.loads(text)
        d["model"] = ModelSpec(**d["model"])
        d["training"] = TrainingSpec(**d["training"])
        return cls(**d)


def build_dataset(records: list[dict], method: str, prompt_turns: int | None = None):
    """Conversational TRL datasets: DPO prompt/chosen/rejected, or SFT prompt/completion; with
    `prompt_turns`, each prompt keeps only its last turns (training.prompt_turns)."""
    from datasets import Dataset

    def msgs(prompt):
        return [{"role": m["role"], "content": m["content"]} for m in last_turns(prompt, prompt_turns)]

    if method == "dpo":
        rows = [{"prompt": msgs(r["prompt"]), "chosen": [{"role": "assistant", "content": r["chosen"]}],
                 "rejected": [{"role": "assistant", "content": r["rejected"]}]} for r in records]
    else:
        rows = [{"prompt": msgs(r["prompt"]), "completion": [{"role": "assistant", "content": r["chosen"]}]}
                for r in records]
    return Dataset.from_list(rows)


def use_precomputed_reference(t: TrainingSpec, n_examples: int) -> bool:
    """Precompute reference log-probs only when training visits every pair at least once.

    Precomputing costs one reference forward pass per pair in the subset; with a
    `max_steps` budget that covers only part of the subset, computing the
    reference live for the pairs actually seen is cheaper.
    """
    if not t.precompute_ref_logprobs:
        return False
    if t.max_steps is None:
        return True
    return t.max_steps * t.batch_size * t.gradient_accumulation_steps >= n_examples


# TRL options valind sets from a study config field: `training.trl_overrides` may not set them (the config would lie).
OWNED_TRL_OPTIONS = {
    "output_dir": "the run directory", "per_device_train_batch_size": "training.batch_size",
    "gradient_accumulation_steps": "training.gradient_accumulation_steps", "learning_rate": "training.learning_rate",
    "num_train_epochs": "training.epochs", "max_steps": "training.max_steps", "logging_steps": "training.logging_steps",
    "seed": "training.seeds", "data_seed": "training.seeds", "max_length": "training.max_length",
    "beta": "training.beta", "precompute_ref_log_probs": "training.precompute_ref_logprobs",
    "report_to": "training.report_to", "run_name": "the adapter's job id (tracked runs are named by it)",
}


def check_trl_overrides(method: str, overrides: dict, source: str = "<config>") -> None:
    """A ConfigError naming the first key of `training.trl_overrides` that the installed TRL config class
    (DPOConfig or SFTConfig) does not have, or that valind sets from another config field."""
    import dataclasses
    import difflib

    import trl
    from trl import DPOConfig, SFTConfig

    from ..errors import ConfigError

    cls = DPOConfig if method == "dpo" else SFTConfig
    known = {f.name for f in dataclasses.fields(cls) if f.init}
    for key in overrides:
        where = f"{source}: training.trl_overrides.{key}"
        if key in OWNED_TRL_OPTIONS:
            raise ConfigError(f"{where}: valind sets this from {OWNED_TRL_OPTIONS[key]}; set that instead")
        if key not in known:
            close = difflib.get_close_matches(key, sorted(known), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise ConfigError(f"{where}: not a field of {cls.__name__} in the installed TRL {trl.__version__}{hint}")


def trl_args(job: TrainJob, output_dir: str, n_examples: int):
    """The TRL config for a job: every knob from the study config, CPU-safe defaults, then `trl_overrides`."""
    import torch
    from trl import DPOConfig, SFTConfig

    from ..precision import resolve_precision

    t = job.training
    cuda = torch.cuda.is_available()
    common = dict(
        output_dir=output_dir, per_device_train_batch_size=t.batch_size,
        gradient_accumulation_steps=t.gradient_accumulation_steps, learning_rate=t.learning_rate,
        num_train_epochs=t.epochs, max_steps=t.max_steps or -1, logging_steps=t.logging_steps,
        save_strategy="no", report_to=list(t.report_to), run_name=job.job_id, seed=job.seed, data_seed=job.seed,
        use_cpu=not cuda,
        bf16=resolve_precision(t.precision) == "bf16", gradient_checkpointing=False, max_length=t.max_length,
        disable_tqdm=True, dataloader_num_workers=0,
    )
    check_trl_overrides(t.method, t.trl_overrides, f"job {job.job_id}")
    common.update(t.trl_overrides)
    if t.method == "dpo":
        return DPOConfig(beta=t.beta, precompute_ref_log_probs=use_precomputed_reference(t, n_examples), **common)
    return SFTConfig(**common)


def lora_config(job: TrainJob):
    from peft import LoraConfig

    lc = job.training.lora
    return LoraConfig(r=lc.r, lora_alpha=lc.alpha, lora_dropout=lc.dropout, target_modules=lc.target_modules,
                      task_type="CAUSAL_LM")


def _LogProgress(job_id: str):
    """A TrainerCallback that reports each logged step through valind's logger (training progress)."""
    from transformers import TrainerCallback

    from ..log import log

    class LogProgress(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and "loss" in logs and state.is_world_process_zero:
                extra = "".join(f", {k.split('/')[-1]} {logs[k]:.3f}" for k in ("rewards/margins", "rewards/accuracies")
                                if k in logs)
                log.info(f"[train] {job_id}: step {state.global_step}/{state.max_steps} loss {logs['loss']:.4f}{extra}")

    return LogProgress()


def _load_base(job: TrainJob):
    import torch
    from transformers import AutoModelForCausalLM

    from ..models import _dtype, load_tokenizer, resolve_model_path
    from ..precision import resolve_precision

    torch.manual_seed(job.seed)
    tokenizer = load_tokenizer(job.model.name, trust_remote_code=job.model.trust_remote_code,
                               revision=job.model.revision, chat_template=job.model.chat_template,
                               need_chat_template=True)
    # Weights: the model's dtype when set; with `auto`, bf16 on CUDA with bf16 training, else fp32 (on a CPU,
    # training.precision bf16 autocasts over fp32 weights, which follows the fp32 loss closely).
    if job.model.dtype != "auto":
        dtype = _dtype(job.model.dtype)
    else:
        bf16 = resolve_precision(job.training.precision) == "bf16" and torch.cuda.is_available()
        dtype = torch.bfloat16 if bf16 else torch.float32
    model = AutoModelForCausalLM.from_pretrained(
        resolve_model_path(job.model.name), dtype=dtype, use_safetensors=True,
        trust_remote_code=job.model.trust_remote_code, revision=job.model.revision)
    return model, tokenizer


def _make_trainer(job: TrainJob, work_dir: Path, model, tokenizer, records: list[dict], *, peft: bool = True):
    """The TRL trainer for a job (`peft=False` when `model` already carries the trained adapter)."""
    from trl import DPOTrainer, SFTTrainer

    dataset = build_dataset(records, job.training.method, job.training.prompt_turns)
    args = trl_args(job, str(work_dir / "trainer"), len(records))
    if not peft:
        args.precompute_ref_log_probs = False  # no training pass here: the reference comes from disabling the adapter
    trainer_cls, extra = (DPOTrainer if job.training.method == "dpo" else SFTTrainer), {}
    if job.training.method == "dpo":
        # reference log-probs shared across seeds, sweep points and (for the held-out reward check) adapters
        from .ref_logps import SharedRefDPOTrainer

        trainer_cls = SharedRefDPOTrainer
        extra = dict(ref_cache_dir=job.ref_cache_dir or None, model_identity=json.dumps(
            job.model.model_dump(mode="json", include={"name", "revision", "dtype"}), sort_keys=True))
    if peft:
        extra["peft_config"] = lora_config(job)
    trainer = trainer_cls(model=model, args=args, train_dataset=dataset, processing_class=tokenizer, **extra)
    if not peft and "ref" in getattr(trainer.model, "peft_config", {}):
        trainer.model.delete_adapter("ref")  # TRL copies a loaded adapter as the reference; ours is the base model
    return trainer


def reward_check_key(job: TrainJob) -> str:
    """What the implicit-reward check depends on besides the adapter: the held-out files, the pair cap, beta."""
    files = {v: hash_file(f) for v, f in sorted(job.heldout_files.items()) if Path(f).exists()}
    return hash_text(json.dumps({"files": files, "pairs": job.training.reward_check_pairs,
                                 "beta": job.training.beta, "per_pair": True}, sort_keys=True))[:16]


def kept_pairs(trainer, dataset, name: str) -> list[int]:
    """Indices of the pairs TRL keeps when it prepares `dataset` for evaluation, in order: with keep_start
    truncation it drops a pair whose prompt alone fills max_length. The check counts those (`dropped`) and
    pairs every kept pair's outcome with its id, so adapters are compared on the same pairs."""
    indexed = dataset.add_column("valind_pair_index", list(range(len(dataset))))
    prepared = trainer._prepare_dataset(indexed, trainer.processing_class, trainer.args, name)
    return [int(i) for i in prepared["valind_pair_index"]]


def heldout_rewards(trainer, job: TrainJob) -> dict | None:
    """DPO implicit-reward accuracy and margin of the trained policy on every value's held-out pairs, per pair.

    The implicit reward of a response is beta * (log pi(y|x) - log pi_ref(y|x)); a pair is won when the chosen
    (value-expressing) response gets the higher reward; `margin` is the difference. TRL's own eval metrics
    (`rewards/accuracies`, `rewards/margins`) are read one pair at a time (eval batches of 1), so every pair's
    outcome is kept (`per_pair`: ids, won, margins) for the manipulation check, which compares an adapter with
    the control on the same pairs; `accuracy` is the share of pairs won. No generation, no judge. None for SFT
    or when the check is off.
    """
    n = job.training.reward_check_pairs
    if job.training.method != "dpo" or n == 0 or not job.heldout_files:
        return None
    # The reference (the base model: the adapter disabled) scores the same held-out pairs for every adapter, so
    # with a shared cache its log-probs are computed by the first adapter's check and read by the others
    # (SharedRefDPOTrainer, keyed by the base model and the tokenized pairs); TRL's evaluate reads them from the batch.
    live_reference = trainer.precompute_ref_logps
    trainer.precompute_ref_logps = bool(getattr(trainer, "ref_cache_dir", None)) or live_reference
    trainer.args.per_device_eval_batch_size = 1  # one pair per eval batch: TRL's per-batch metrics are per pair
    out = {}
    try:
        for value, path in sorted(job.heldout_files.items()):
            records = read_jsonl(path)[:n]
            if not records:
                continue
            dataset = build_dataset(records, "dpo", job.training.prompt_turns)
            kept = kept_pairs(trainer, dataset, f"heldout_{value}")
            if not kept:
                out[value] = {"accuracy": float("nan"), "margin": float("nan"), "pairs": 0, "dropped": len(records)}
                continue
            trainer.evaluate(eval_dataset=dataset, metric_key_prefix=f"heldout_{value}")
            logged = trainer.state.log_history[-1]
            series = getattr(trainer, "eval_series", {})
            won, margins = series.get("rewards/accuracies", []), series.get("rewards/margins", [])
            if f"heldout_{value}_loss" not in logged or len(won) != len(kept) or len(margins) != len(kept):
                raise RuntimeError(f"{job.job_id}: TRL did not log per-pair reward metrics for the held-out pairs "
                                   f"of {value} ({len(won)} of {len(kept)})")
            out[value] = {"accuracy": float(sum(won) / len(won)), "margin": float(sum(margins) / len(margins)),
                          "pairs": len(kept), "dropped": len(records) - len(kept),
                          "per_pair": {"ids": [str(records[i].get("id", i)) for i in kept],
                                       "won": [int(w > 0.5) for w in won], "margins": [float(m) for m in margins]}}
            trainer.state.log_history.pop()  # keep the training history free of the check
    finally:
        trainer.precompute_ref_logps = live_reference
    return {"key": reward_check_key(job), "values": out}


def train_adapter(job: TrainJob, work_dir: str | Path) -> dict | None:
    """Train and save the adapter into `work_dir/adapter`; return metrics (None on non-main ranks).

    After training, the implicit-reward check runs on every value's held-out pairs (`heldout_rewards`).
    """
    import torch

    work_dir = Path(work_dir)
    records = read_jsonl(job.train_file)
    if not records:
        raise ValueError(f"{job.train_file}: empty training subset")
    model, tokenizer = _load_base(job)
    trainer = _make_trainer(job, work_dir, model, tokenizer, records)
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)  # raw dict prints; our logger reports steps instead
    trainer.add_callback(_LogProgress(job.job_id))
    tracking.attach(trainer, job, work_dir)
    lora_before = {n: p.detach().cpu().clone() for n, p in trainer.model.named_parameters() if "lora_" in n}
    with tracking.tracking_env(job):
        result = trainer.train()
    tracking.finish(trainer, job)
    trainer.save_model(str(work_dir / "adapter"))
    (work_dir / "adapter" / "training_args.bin").unlink(missing_ok=True)  # a pickle; we keep safetensors only
    history = [h for h in trainer.state.log_history]
    rewards = heldout_rewards(trainer, job)
    if not trainer.is_world_process_zero():
        return None
    changed = sum(int(not torch.equal(lora_before[n], p.detach().cpu().to(lora_before[n].dtype)))
                  for n, p in trainer.model.named_parameters() if n in lora_before)
    losses = [h["loss"] for h in history if "loss" in h]
    return {
        "job_id": job.job_id, "job_hash": job.job_hash, "value": job.value, "seed": job.seed,
        "model": job.model.name, "method": job.training.method, "n_train": len(records),
        "steps": trainer.state.global_step, "train_loss": result.training_loss,
        "first_loss": losses[0] if losses else math.nan, "last_loss": losses[-1] if losses else math.nan,
        "lora_tensors_changed": changed, "lora_tensors": len(lora_before),
        "world_size": trainer.accelerator.num_processes, "distributed": str(trainer.accelerator.distributed_type),
        "log_history": history, "heldout_rewards": rewards,
    }


def check_adapter(job: TrainJob, work_dir: str | Path) -> dict | None:
    """The implicit-reward check for an adapter trained earlier (loaded from `job.out_dir/adapter`)."""
    from peft import PeftModel

    if job.training.method != "dpo" or job.training.reward_check_pairs == 0 or not job.heldout_files:
        return None
    model, tokenizer = _load_base(job)
    model = PeftModel.from_pretrained(model, str(Path(job.out_dir) / "adapter"), is_trainable=False)
    trainer = _make_trainer(job, Path(work_dir), model, tokenizer, read_jsonl(job.train_file), peft=False)
    return heldout_rewards(trainer, job)
