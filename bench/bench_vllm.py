"""vLLM against transformers: tokens/s of valind's two local engines, same model, prompts, dtype, greedy.

One run, one machine: valind's `vllm` backend (the CPU build scripts/setup.sh installs, or the GPU
build) and its `transformers` backend generate the same chat prompts (the package's value prompts and
harmful requests), greedy, `--new-tokens` each, in the same dtype. Reported: engine start (s),
generation time (s), generated tokens/s and the speed-up, plus how many answers start with the same
8 tokens. The CPU model and its bf16 units are named with the result (bf16 is slow on a CPU without
them: measure both with `--dtypes float32 bfloat16`). The issue's goal on the 2-core machine: >= 8x.

    python bench/bench_vllm.py [--prompts 32] [--new-tokens 32] [--batch-size 32] [--dtypes float32]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, table, write_section  # noqa: E402
from bench_generation import prompts  # noqa: E402


def cpu_units() -> str:
    """The CPU's matrix/vector units that matter for bf16, from /proc/cpuinfo and torch."""
    try:
        flags = next(line for line in open("/proc/cpuinfo") if line.startswith("flags")).split()
    except (OSError, StopIteration):
        flags = []
    have = [f for f in ("avx2", "avx512f", "avx512_bf16", "amx_bf16") if f in flags]
    import torch
    return f"{', '.join(have) or 'none of avx2/avx512f/avx512_bf16/amx_bf16'}; torch CPU capability " \
           f"{torch.backends.cpu.get_cpu_capability()}"


def run(backend_name: str, model: str, dtype: str, convs, settings, batch_size: int) -> dict:
    from valind.generate.backends.base import make_backend, release_engines

    t0 = time.perf_counter()
    backend = make_backend(backend_name, model, dtype=dtype, batch_size=batch_size)
    start = time.perf_counter() - t0
    backend.generate(convs[:2], settings)  # warm-up
    t0 = time.perf_counter()
    out = [c.text for c in backend.generate(convs, settings)]
    seconds = time.perf_counter() - t0
    release_engines()
    return {"start": start, "seconds": seconds, "texts": out}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="embedded:smollm2-135m-instruct")
    p.add_argument("--prompts", type=int, default=32)
    p.add_argument("--new-tokens", type=int, default=32)
    p.add_argument("--batch-size", type=int, default=32, help="transformers batch; vLLM max_num_seqs")
    p.add_argument("--dtypes", nargs="+", default=["float32"])
    p.add_argument("--section", default="bench_vllm", help="RESULTS.md section to write")
    args = p.parse_args()

    from transformers import AutoTokenizer

    from valind.generate.backends.base import SamplingSettings
    from valind.models import resolve_model_path

    model = resolve_model_path(args.model)
    tok = AutoTokenizer.from_pretrained(model)
    convs = prompts(args.prompts)
    settings = SamplingSettings(max_new_tokens=args.new_tokens, temperature=0.0)
    rows = []
    for dtype in args.dtypes:
        res = {name: run(name, model, dtype, convs, settings, args.batch_size) for name in ("vllm", "transformers")}
        speed = {}
        for name, r in res.items():
            tokens = sum(len(tok(t, add_special_tokens=False)["input_ids"]) for t in r["texts"])
            speed[name] = tokens / r["seconds"]
            r["tokens"] = tokens
        same = sum(tok(a, add_special_tokens=False)["input_ids"][:8] == tok(b, add_special_tokens=False)["input_ids"][:8]
                   for a, b in zip(res["vllm"]["texts"], res["transformers"]["texts"]))
        rows.append([dtype, f"{res['vllm']['start']:.0f} / {res['transformers']['start']:.0f}",
                     f"{res['vllm']['seconds']:.1f} / {res['transformers']['seconds']:.1f}",
                     f"{speed['vllm']:.0f} / {speed['transformers']:.0f}",
                     f"**{speed['vllm'] / speed['transformers']:.1f}x**", f"{same}/{len(convs)}"])
        print(rows[-1], flush=True)
    md = (f"## vLLM against transformers: generation tokens/s (goal: >= 8x)\n\n"
          f"`python bench/bench_vllm.py --prompts {args.prompts} --new-tokens {args.new_tokens} "
          f"--batch-size {args.batch_size} --dtypes {' '.join(args.dtypes)}`\n\nMachine: {machine()}\n\n"
          f"CPU units: {cpu_units()}\n\n"
          + table(["dtype", "engine start s (vLLM / transformers)", "generation s (vLLM / transformers)",
                   "tokens/s (vLLM / transformers)", "speed-up", "same first 8 tokens"], rows)
          + f"\n\n{args.model}, {len(convs)} chat prompts, greedy, up to {args.new_tokens} new tokens, through "
            "valind's `vllm` and `transformers` backends (vLLM: `max_num_seqs` = the batch; transformers: "
            "batches of that size); one timed run each after a 2-prompt warm-up. Tokens are the answers' "
            "tokens, counted with the model's tokenizer.")
    print(f"wrote {write_section(args.section, md)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
