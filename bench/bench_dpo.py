"""valind's DPO stage against a plain TRL script with the same config and data (goal: within 5% per step).

Both sides train LoRA DPO on the same pairs with the same DPOConfig values. "valind"
is `valind.train.induce.train_adapter` (what `valind train` runs per job); "plain TRL" is
the dozen lines a user would write with DPOTrainer. Seconds per optimizer step come from
the trainer's own train_runtime (the training loop only); whole-call wall time is shown
too. valind runs twice: with its default (reference log-probs precomputed once, so each
step skips the reference forward) and with the reference computed live at each step as
plain TRL does, which is the like-for-like comparison. Rounds are interleaved.

    python bench/bench_dpo.py [--model tiny|smollm2|smollm2-arch|PATH] [--steps 20] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, table, write_section  # noqa: E402
from bench_generation import model_path  # noqa: E402

WORDS = ("kind sad happy joke fun honest true care help sorry laugh feel friend warm listen hope "
         "understand worry calm share thanks plan idea story").split()


def make_pairs(n: int, path: Path) -> Path:
    rng = random.Random(0)
    recs = [{"id": str(i), "prompt": [{"role": "user", "content": " ".join(rng.choices(WORDS, k=rng.randint(6, 14)))}],
             "chosen": " ".join(rng.choices(WORDS, k=rng.randint(12, 30))),
             "rejected": " ".join(rng.choices(WORDS, k=rng.randint(10, 28)))} for i in range(n)]
    path.write_text("".join(json.dumps(r) + "\n" for r in recs))
    return path


def training_spec(args, precompute: bool):
    from valind.config import TrainingSpec

    return TrainingSpec(max_steps=args.steps, batch_size=args.batch_size, max_length=args.max_length,
                        learning_rate=5e-4, beta=0.1, precompute_ref_logprobs=precompute)


def run_valind(model: str, train_file: Path, args, work: Path, precompute: bool) -> dict:
    from valind.config import ModelSpec
    from valind.train.induce import TrainJob, train_adapter

    job = TrainJob(model=ModelSpec(name=model), value="empathy", seed=0, train_file=str(train_file),
                   training=training_spec(args, precompute), out_dir=str(work))
    t0 = time.perf_counter()
    m = train_adapter(job, work)
    wall = time.perf_counter() - t0
    runtime = next(h["train_runtime"] for h in m["log_history"] if "train_runtime" in h)
    return {"step": runtime / m["steps"], "wall": wall, "loss": m["last_loss"]}


def run_plain_trl(model: str, train_file: Path, args, work: Path) -> dict:
    """What a user would write with TRL directly: same data, same DPOConfig values, same LoRA."""
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import DPOConfig, DPOTrainer

    from valind.models import resolve_model_path

    t0 = time.perf_counter()
    path = resolve_model_path(model)
    cuda = torch.cuda.is_available()
    tok = AutoTokenizer.from_pretrained(path)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    lm = AutoModelForCausalLM.from_pretrained(path, dtype=torch.bfloat16 if cuda else torch.float32)
    rows = [json.loads(line) for line in open(train_file)]
    data = Dataset.from_list([{"prompt": r["prompt"], "chosen": [{"role": "assistant", "content": r["chosen"]}],
                               "rejected": [{"role": "assistant", "content": r["rejected"]}]} for r in rows])
    t = training_spec(args, False)
    config = DPOConfig(output_dir=str(work), per_device_train_batch_size=t.batch_size, learning_rate=t.learning_rate,
                       max_steps=t.max_steps, max_length=t.max_length, beta=t.beta, logging_steps=1, seed=0,
                       save_strategy="no", report_to=[], use_cpu=not cuda, bf16=cuda, gradient_checkpointing=False,
                       disable_tqdm=True)
    lora = LoraConfig(r=t.lora.r, lora_alpha=t.lora.alpha, lora_dropout=t.lora.dropout,
                      target_modules=t.lora.target_modules, task_type="CAUSAL_LM")
    trainer = DPOTrainer(model=lm, args=config, train_dataset=data, processing_class=tok, peft_config=lora)
    result = trainer.train()
    wall = time.perf_counter() - t0
    return {"step": result.metrics["train_runtime"] / trainer.state.global_step, "wall": wall,
            "loss": [h["loss"] for h in trainer.state.log_history if "loss" in h][-1]}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="tiny")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--pairs", type=int, default=64)
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--max-length", type=int, default=128)
    p.add_argument("--section", default=None, help="RESULTS.md section (default: bench_dpo_<model>)")
    args = p.parse_args()
    results: dict[str, list[dict]] = {"plain TRL": [], "valind (live reference)": [], "valind (default: precomputed reference)": []}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model = model_path(args.model, tmp)
        data = make_pairs(args.pairs, tmp / "pairs.jsonl")
        run_plain_trl(model, data, argparse.Namespace(**{**vars(args), "steps": 2}), tmp / "warm")  # warm caches
        for r in range(args.rounds):
            results["plain TRL"].append(run_plain_trl(model, data, args, tmp / f"trl{r}"))
            results["valind (live reference)"].append(run_valind(model, data, args, tmp / f"live{r}", False))
            results["valind (default: precomputed reference)"].append(run_valind(model, data, args, tmp / f"pre{r}", True))
            print({k: v[-1] for k, v in results.items()}, flush=True)
    base = statistics.median(x["step"] for x in results["plain TRL"])
    rows = []
    for name, runs in results.items():
        step = statistics.median(x["step"] for x in runs)
        wall = statistics.median(x["wall"] for x in runs)
        rows.append([name, f"{step * 1000:.0f}", f"{step / base:.3f}", f"{wall:.1f}", f"{runs[-1]['loss']:.4f}"])
    md = (f"## DPO stage vs plain TRL, model `{args.model}` (goal: within 5% per step)\n\n"
          f"`python bench/bench_dpo.py --model {args.model} --steps {args.steps} --rounds {args.rounds} "
          f"--pairs {args.pairs} --batch-size {args.batch_size} --max-length {args.max_length}`\n\n"
          f"Machine: {machine()}\n\n"
          + table(["trainer", "ms per step (median)", "ratio to plain TRL", "whole call (s)", "last loss"], rows)
          + "\n\nSame pairs, LoRA (r 4, alpha 16, q/k/v/o), beta, learning rate, batch, max length and seed on "
            "every side. Per-step time is TRL's own train_runtime / steps (the loop only: model loading, "
            "tokenising and the precompute pass are in the whole-call column).")
    print(f"wrote {write_section(args.section or f'bench_dpo_{args.model}', md)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
