"""DPO step time in bf16 over fp32, same job, same data, rounds interleaved, CPU named (goal: >= 2x on a CPU
with bf16 matrix units, AMX or AVX512-BF16).

Both sides are `valind.train.induce.train_adapter` with `training.precision` forced (`fp32`, `bf16`); seconds
per optimizer step come from TRL's own train_runtime. The section also says what `precision: auto` picks on
this machine, and the last losses (bf16 must follow fp32 closely). On a CPU without bf16 units bf16 is
emulated, so expect it slower there: `auto` then keeps fp32.

    python bench/bench_precision.py [--model smollm2|tiny|PATH] [--steps 6] [--rounds 2]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, table, write_section  # noqa: E402
from bench_dpo import make_pairs  # noqa: E402
from bench_generation import model_path  # noqa: E402


def run(model: str, train_file: Path, args, work: Path, precision: str) -> dict:
    from valind.config import ModelSpec, TrainingSpec
    from valind.train.induce import TrainJob, train_adapter

    training = TrainingSpec(max_steps=args.steps, batch_size=args.batch_size, max_length=args.max_length,
                            learning_rate=5e-4, beta=0.1, precompute_ref_logprobs=False, reward_check_pairs=0,
                            precision=precision)
    job = TrainJob(model=ModelSpec(name=model), value="empathy", seed=0, train_file=str(train_file),
                   training=training, out_dir=str(work))
    t0 = time.perf_counter()
    m = train_adapter(job, work)
    runtime = next(h["train_runtime"] for h in m["log_history"] if "train_runtime" in h)
    return {"step": runtime / m["steps"], "wall": time.perf_counter() - t0, "loss": m["last_loss"]}


def main() -> None:
    from valind.precision import describe

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="smollm2")
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--pairs", type=int, default=64)
    ap.add_argument("--batch-size", type=int, default=4)
    ap.add_argument("--max-length", type=int, default=128)
    args = ap.parse_args()
    times: dict[str, list[dict]] = {"fp32": [], "bf16": []}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model = model_path(args.model, tmp)
        data = make_pairs(args.pairs, tmp / "pairs.jsonl")
        for r in range(args.rounds):
            for precision in ("fp32", "bf16") if r % 2 == 0 else ("bf16", "fp32"):
                out = run(model, data, args, tmp / f"{precision}{r}", precision)
                times[precision].append(out)
                print(f"round {r} {precision}: {out['step']:.2f} s/step, loss {out['loss']:.4f}", flush=True)
    med = {p: statistics.median(x["step"] for x in v) for p, v in times.items()}
    rows = [[p, f"{med[p] * 1000:.0f}", f"{med['fp32'] / med[p]:.2f}x", f"{times[p][-1]['loss']:.4f}"]
            for p in ("fp32", "bf16")]
    md = (f"## DPO step time, bf16 over fp32, model `{args.model}` (goal: >= 2x with bf16 matrix units)\n\n"
          f"`python bench/bench_precision.py --model {args.model} --steps {args.steps} --rounds {args.rounds} "
          f"--batch-size {args.batch_size} --max-length {args.max_length}`\n\n"
          f"Machine: {machine()}\n\nThis machine: {describe('cpu')}\n\n"
          + table(["precision", "ms per step (median)", "speed-up over fp32", "last loss"], rows)
          + "\n\nSame job, pairs, LoRA, seed and steps; rounds interleaved; per-step time is TRL's train_runtime / "
            "steps. bf16 is autocast over fp32 weights (valind.precision). Where the CPU has no bf16 units (no "
            "`amx_bf16` / `avx512_bf16` flag) bf16 is emulated and `precision: auto` keeps fp32.")
    path = write_section(f"bench_precision_{args.model}", md)
    print(md, f"\nwritten to {path}", sep="\n")


if __name__ == "__main__":
    main()
