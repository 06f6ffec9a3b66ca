"""Batched generation against one prompt at a time: same model, prompts and new tokens (goal: >= 4x).

Uses valind's transformers backend both ways (batch_size=B vs batch_size=1), greedy,
on the package's value prompts, and reports the speed-up and how many outputs are
identical. Models: `tiny` (the 2-layer test Llama), `smollm2` (the embedded
SmolLM2-135M-Instruct), `smollm2-arch` (SmolLM2's architecture with random weights:
for GPU machines where the embedded checkpoint is not at hand), or a local path.

    python bench/bench_generation.py [--models tiny smollm2] [--prompts 32] [--new-tokens 32] [--batch-size 16]
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, table, write_section  # noqa: E402


def model_path(name: str, tmp: Path) -> str:
    if name == "tiny":
        from valind.testing import build_tiny_llama
        return str(build_tiny_llama(tmp / "tiny"))
    if name == "smollm2":
        return "embedded:smollm2-135m-instruct"
    if name == "smollm2-arch":
        return str(random_smollm2(tmp / "smollm2-arch"))
    if name == "llama-1b-arch":
        return str(random_smollm2(tmp / "llama-1b-arch", LLAMA_1B))
    return name


# Llama-3.2-1B's shape (1.24B parameters), for GPU figures; random weights, SmolLM2's tokenizer
LLAMA_1B = dict(hidden_size=2048, intermediate_size=8192, num_hidden_layers=16, num_attention_heads=32,
                num_key_value_heads=8, vocab_size=128256, max_position_embeddings=8192, tie_word_embeddings=True,
                rope_theta=500000.0)


def random_smollm2(out: Path, overrides: dict | None = None) -> Path:
    """SmolLM2-135M's architecture (or `overrides` of it) and tokenizer with random weights (same FLOPs per token)."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    src = Path(__file__).resolve().parent / "assets" / "smollm2-135m"  # config + tokenizer, where they were copied
    if not (src / "config.json").exists():
        from valind.models import resolve_model_path
        src = Path(resolve_model_path("embedded:smollm2-135m-instruct"))
    config = AutoConfig.from_pretrained(src, **(overrides or {}))
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config)
    model.generation_config.eos_token_id = None  # random weights: generate the full length, as a trained model may
    model.save_pretrained(out)
    tok = AutoTokenizer.from_pretrained(src)
    tok.save_pretrained(out)
    return out


def prompts(n: int) -> list[list[dict]]:
    from valind.artifacts import data_path
    from valind.evaluate.suites.builtin import load_prompt_file

    items = load_prompt_file(data_path("package:suites/value_prompts.jsonl"), None)
    items += load_prompt_file(data_path("package:suites/harmful_requests.jsonl"), None)
    return [it.messages for it in items[:n]]


def run_once(backend, convs, settings) -> tuple[float, list[str]]:
    t0 = time.perf_counter()
    out = backend.generate(convs, settings)
    return time.perf_counter() - t0, [c.text for c in out]


def bench_model(name: str, args, tmp: Path) -> list:
    from valind.generate.backends import make_backend
    from valind.generate.backends.base import SamplingSettings

    path = model_path(name, tmp)
    convs = prompts(args.prompts)
    settings = SamplingSettings(max_new_tokens=args.new_tokens, temperature=0.0)
    backend = make_backend("transformers", path, batch_size=args.batch_size, device=args.device)
    run_once(backend, convs[:2], settings)  # warm-up
    batched_times, single_times = [], []
    for _ in range(args.repeats):  # interleaved, so drifting load hits both alike
        backend.batch_size = args.batch_size
        t, batched = run_once(backend, convs, settings)
        batched_times.append(t)
        backend.batch_size = 1
        t, single = run_once(backend, convs, settings)
        single_times.append(t)
    tok = backend.tokenizer
    new_tokens = sum(len(tok(t, add_special_tokens=False)["input_ids"]) for t in single)
    same = sum(a == b for a, b in zip(batched, single))
    b, s = min(batched_times), min(single_times)
    device = next(backend.base.parameters()).device
    backend.close()
    del backend
    gc.collect()
    return [name, str(device), len(convs), args.new_tokens, args.batch_size, f"{s:.2f}", f"{b:.2f}",
            f"**{s / b:.1f}x**", f"{new_tokens / s:.0f} / {new_tokens / b:.0f}", f"{same}/{len(convs)}"]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", nargs="+", default=["tiny", "smollm2"])
    p.add_argument("--prompts", type=int, default=32)
    p.add_argument("--new-tokens", type=int, default=32)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--repeats", type=int, default=2, help="timed rounds per mode; the best is reported")
    p.add_argument("--device", default=None, help="cuda or cpu (default: cuda when available)")
    p.add_argument("--section", default="bench_generation", help="RESULTS.md section to write")
    args = p.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models:
            rows.append(bench_model(name, args, Path(tmp)))
            print(rows[-1], flush=True)
    md = (f"## Batched generation vs one prompt at a time (goal: >= 4x)\n\n"
          f"`python bench/bench_generation.py --models {' '.join(args.models)} --prompts {args.prompts} "
          f"--new-tokens {args.new_tokens} --batch-size {args.batch_size}`\n\nMachine: {machine()}\n\n"
          + table(["model", "device", "prompts", "max new tokens", "batch", "one at a time (s)", "batched (s)",
                   "speed-up", "tokens/s (one / batched)", "identical outputs"], rows)
          + "\n\nGreedy decoding through valind's transformers backend (prompts sorted by length, left-padded, "
            "packed under a token budget); the best of the timed rounds per mode. Outputs can differ where "
            "padding changes floating-point rounding.")
    print(f"wrote {write_section(args.section, md)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
