"""`valind plan STUDY.yaml`: the job grid with an estimated cost per job and in total.

Cost model (stated in the output):
- training tokens = pairs x epochs x tokens per pair (prompt+chosen and
  prompt+rejected, each cut at max_length); with `max_steps`, steps x batch x
  tokens per pair. Pairs and tokens per pair come from the curated subsets when
  `valind curate` has run, else from stated assumptions.
- training FLOPs = 6 x params x tokens (forward and backward; an upper bound
  for LoRA, which skips the frozen weights' gradients), plus 2 x params x tokens
  for the DPO reference pass (once per job when precomputed, else every epoch).
- generation FLOPs = 2 x params x (prompt + new tokens), per variant and suite.
- GPU-hours = FLOPs / (utilisation x 989 TFLOP/s, an H100 SXM's dense bf16 peak).
Parameter counts come from the model config alone (a meta-device model, no weights).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

H100_BF16_PEAK_FLOPS = 989e12
ASSUMED_PAIRS = 1000
ASSUMED_PROMPTS = 100
ASSUMED_PROMPT_TOKENS = 64
CHARS_PER_TOKEN = 4.0


@dataclass
class ModelSize:
    params: float  # NaN when unknown
    source: str


def model_params(name: str) -> ModelSize:
    """Parameter count from the model's config (no weights are read); a stated fallback when it is not at hand."""
    from ..models import EMBEDDED, cache_dir

    config = None
    try:
        from transformers import AutoConfig

        if name in EMBEDDED:
            local = cache_dir() / "models" / name.split(":", 1)[1]
            if (local / "config.json").exists():
                config = AutoConfig.from_pretrained(local)
            else:
                from ..models import resolve_model_path  # converts the embedded GGUF once (cached)

                config = AutoConfig.from_pretrained(resolve_model_path(name))
        elif Path(name).expanduser().exists():
            config = AutoConfig.from_pretrained(Path(name).expanduser())
        else:
            config = _hub_config(name)
    except Exception as exc:  # offline without a cached config: fall back to the size in the name
        m = re.search(r"(\d+(?:\.\d+)?)\s*([bBmM])\b", name.replace("-", " ").replace("_", " "))
        if m:
            scale = 1e9 if m.group(2).lower() == "b" else 1e6
            return ModelSize(float(m.group(1)) * scale, f"from the name '{name}' (config unavailable: {type(exc).__name__})")
        return ModelSize(math.nan, f"unknown (config unavailable offline: {type(exc).__name__})")
    import torch
    from transformers import AutoModelForCausalLM

    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config)
    return ModelSize(float(sum(p.numel() for p in model.parameters())), "model config")


def _hub_config(name: str):
    """A hub model's config from the local HF cache; from the hub only when online mode is allowed."""
    import os

    from transformers import AutoConfig

    try:
        return AutoConfig.from_pretrained(name, local_files_only=True)
    except OSError:
        if os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false"):
            raise
        return AutoConfig.from_pretrained(name)


def _token_counter(name: str):
    """A function text -> token count: the model's tokenizer when it is on disk, else chars/4."""
    try:
        from transformers import AutoTokenizer

        from ..models import EMBEDDED, resolve_model_path

        local = name in EMBEDDED or Path(name).expanduser().exists()
        tok = AutoTokenizer.from_pretrained(resolve_model_path(name) if local else name, local_files_only=True)
        return (lambda text: len(tok(text, add_special_tokens=False)["input_ids"])), "tokenizer"
    except Exception:
        return (lambda text: len(text) / CHARS_PER_TOKEN), f"~{CHARS_PER_TOKEN:g} characters per token"


def subset_tokens(train_file: str, count, max_length: int) -> tuple[int, float]:
    """(pairs, mean tokens per pair) of a curated subset: prompt+chosen and prompt+rejected, each cut at max_length."""
    pairs, total = 0, 0.0
    with open(train_file, encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            r = json.loads(line)
            prompt = count("\n".join(m["content"] for m in r["prompt"]))
            total += min(prompt + count(r["chosen"]), max_length) + min(prompt + count(r["rejected"]), max_length)
            pairs += 1
    return pairs, (total / pairs if pairs else 0.0)


def gpu_hours(flops: float, utilisation: float) -> float:
    return flops / (utilisation * H100_BF16_PEAK_FLOPS) / 3600


def estimate(ctx, utilisation: float) -> dict:
    """Rows for every training job and generation unit, totals, and the assumptions used."""
    from ..train.stage import plan_jobs
    from .grid import build_jobs, sweep_points

    cfg = ctx.config
    notes: list[str] = []
    curated = (ctx.run_dir / "curate" / "stats.csv").exists()
    jobs = plan_jobs(ctx) if curated else build_jobs(ctx, ctx.induced_values)
    if not curated:
        notes.append(f"not curated yet ({ctx.run_dir / 'curate'} missing): every induced value is assumed trainable "
                     f"with {ASSUMED_PAIRS} pairs (or curation.max_subset_size) of max_length tokens each")
    sizes = {m.name: model_params(m.name) for m in cfg.models}
    counters = {m.name: _token_counter(m.name) for m in cfg.models}
    for name, s in sizes.items():
        notes.append(f"{name}: {s.params / 1e6:,.1f}M parameters ({s.source})")
    for name, (_, how) in counters.items():
        if how != "tokenizer":
            notes.append(f"{name}: tokens counted at {how} (tokenizer not on disk)")
    points = {p.tag: p for p in sweep_points(cfg)}
    token_cache: dict[tuple[str, str, int], tuple[int, float]] = {}
    rows = []
    for job in jobs:
        t = job.training
        if Path(job.train_file).exists():
            key = (job.model.name, job.train_file, t.max_length)
            if key not in token_cache:
                token_cache[key] = subset_tokens(job.train_file, counters[job.model.name][0], t.max_length)
            pairs, per_pair = token_cache[key]
        else:
            pairs = points[job.point].max_subset_size or cfg.curation.max_subset_size or ASSUMED_PAIRS
            per_pair = float(t.max_length)
        per_pair = per_pair if t.method == "dpo" else per_pair / 2  # SFT: prompt+chosen only
        seen = t.max_steps * t.batch_size * t.gradient_accumulation_steps if t.max_steps else pairs * t.epochs
        tokens = seen * per_pair
        # DPO reference forward: once over the subset when precomputed, else on every pair seen
        ref_tokens = 0.0 if t.method != "dpo" else (pairs if t.precompute_ref_logprobs else seen) * per_pair
        params = sizes[job.model.name].params
        flops = 6 * params * tokens + 2 * params * ref_tokens
        rows.append({"kind": "train", "job_id": job.job_id, "job_hash": job.job_hash, "pairs": pairs,
                     "tokens": tokens, "flops": flops, "gpu_hours": gpu_hours(flops, utilisation)})
    rows += _generation_rows(ctx, jobs, sizes, counters, utilisation, notes)
    total = {k: sum(r[k] for r in rows) for k in ("tokens", "flops", "gpu_hours")}
    train_total = {k: sum(r[k] for r in rows if r["kind"] == "train") for k in ("tokens", "flops", "gpu_hours")}
    return {"rows": rows, "total": total, "train_total": train_total, "notes": notes, "utilisation": utilisation,
            "suites": [s.name for s in cfg.evaluation.suites]}


def _generation_rows(ctx, jobs, sizes, counters, utilisation, notes) -> list[dict]:
    """One row per variant (the base model of each study model, then every adapter), its suites summed."""
    from ..evaluate.suites import make_suite

    cfg = ctx.config
    new_tokens = cfg.generation.max_new_tokens
    prompt_stats: dict[tuple[str, str], tuple[int, float]] = {}
    for spec in cfg.evaluation.suites:
        try:
            suite = make_suite(spec, ctx)
            if not suite.needs_generation:
                continue
            items = suite.items()
            texts = [" ".join(m["content"] for m in it.messages) for it in items]
        except Exception as exc:
            n = spec.limit or ASSUMED_PROMPTS
            notes.append(f"suite {spec.name}: prompts unavailable ({type(exc).__name__}); assumed {n} prompts "
                         f"of {ASSUMED_PROMPT_TOKENS} tokens")
            texts = None
        for m in cfg.models:
            if texts is None:
                prompt_stats[(m.name, spec.name)] = (spec.limit or ASSUMED_PROMPTS, float(ASSUMED_PROMPT_TOKENS))
            else:
                count = counters[m.name][0]
                prompt_stats[(m.name, spec.name)] = (len(texts), sum(count(t) for t in texts) / max(len(texts), 1))
    variants = [(m.name, f"{m.slug}/base") for m in cfg.models] + [(j.model.name, j.job_id) for j in jobs]
    rows = []
    for model_name, variant in variants:
        stats = [v for (name, _), v in prompt_stats.items() if name == model_name]
        n = sum(k for k, _ in stats)
        tokens = sum(k * (prompt_tokens + new_tokens) for k, prompt_tokens in stats)
        flops = 2 * sizes[model_name].params * tokens
        rows.append({"kind": "generate", "job_id": variant, "job_hash": "", "pairs": n,
                     "tokens": tokens, "flops": flops, "gpu_hours": gpu_hours(flops, utilisation)})
    return rows


def _fmt_num(x: float) -> str:
    if isinstance(x, float) and math.isnan(x):
        return "?"
    for unit, scale in (("E", 1e18), ("P", 1e15), ("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= scale:
            return f"{x / scale:.2f}{unit}"
    return f"{x:.0f}"


def _fmt_hours(h: float) -> str:
    return "?" if math.isnan(h) else f"{h:.3f}" if h >= 0.01 else f"{h:.1e}"


def format_plan(est: dict) -> str:
    lines = []
    train = [r for r in est["rows"] if r["kind"] == "train"]
    gen = [r for r in est["rows"] if r["kind"] == "generate"]
    width = max([len(r["job_id"]) for r in est["rows"]] + [10])
    head = f"{'#':>4}  {'job id':<{width}}  {'job hash':<16}  {'pairs':>7}  {'tokens':>8}  {'FLOPs':>8}  {'GPU-h':>8}"
    lines += [f"Training jobs ({len(train)}):", head]
    for k, r in enumerate(train):
        lines.append(f"{k:>4}  {r['job_id']:<{width}}  {r['job_hash']:<16}  {r['pairs']:>7}  {_fmt_num(r['tokens']):>8}  "
                     f"{_fmt_num(r['flops']):>8}  {_fmt_hours(r['gpu_hours']):>8}")
    suites = ", ".join(est.get("suites", []))
    lines += ["", f"Generation ({len(gen)} variants: each base model and every adapter, over {suites}):",
              f"{'#':>4}  {'variant':<{width}}  {'':<16}  {'prompts':>7}  {'tokens':>8}  {'FLOPs':>8}  {'GPU-h':>8}"]
    for k, r in enumerate(gen):
        lines.append(f"{k:>4}  {r['job_id']:<{width}}  {'':<16}  {r['pairs']:>7}  {_fmt_num(r['tokens']):>8}  "
                     f"{_fmt_num(r['flops']):>8}  {_fmt_hours(r['gpu_hours']):>8}")
    tt, t = est["train_total"], est["total"]
    lines += ["", f"Total training:   {_fmt_num(tt['tokens'])} tokens, {_fmt_num(tt['flops'])}FLOP, "
                  f"{_fmt_hours(tt['gpu_hours'])} GPU-hours",
              f"Total with generation: {_fmt_num(t['tokens'])} tokens, {_fmt_num(t['flops'])}FLOP, "
              f"{_fmt_hours(t['gpu_hours'])} GPU-hours",
              f"GPU-hours at {est['utilisation']:.0%} utilisation of an H100's dense bf16 peak "
              f"({H100_BF16_PEAK_FLOPS / 1e12:.0f} TFLOP/s); training FLOPs = 6 x params x tokens "
              "(+ 2 x params x tokens for the DPO reference pass), generation = 2 x params x tokens.",
              "Not counted: the QA suites (lm-eval), extraction and judging."]
    lines += [f"Note: {n}" for n in est["notes"]]
    return "\n".join(lines)


def main(args) -> int:
    from ..config import load_study
    from ..context import RunContext
    from ..errors import ConfigError

    if not 0 < args.utilisation <= 1:
        raise ConfigError(f"--utilisation: must be in (0, 1], got {args.utilisation}")
    cfg = load_study(args.study)
    ctx = RunContext(config=cfg, run_dir=Path(getattr(args, "out", None) or cfg.output_dir))
    print(format_plan(estimate(ctx, args.utilisation)))
    return 0
