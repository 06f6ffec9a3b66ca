"""`valind plan STUDY.yaml`: what a study will cost, stage by stage, before it runs.

Every stage is counted: extraction (LLM calls over every chosen and rejected response), training
(one row per job), generation (per variant), judging (LLM judge calls per generated item) and QA
(lm-eval). For each: calls or items, tokens, FLOPs, GPU-hours and the GPU memory it needs, then the
grid is set beside the published study's. The cost model is stated in the output:

- tokens: measured with the model's tokenizer where it is on disk, else ~4 characters per token;
  training pairs are the curated subsets when `valind curate` has run, the XOR counts of the
  extracted annotations when only extraction has, else an upper bound: every source pair in every
  subset (capped by `curation.max_subset_size`), source sizes from the files or the hub datasets'
  cards; with `plan.subset_sizes: published`, the study's published subset sizes instead
  (PUBLISHED_SUBSET_PAIRS), after valind's held-out split and equal budgets. Where even that is
  unknown, the assumptions are printed.
- FLOPs: training 6 x params x tokens (forward and backward; an upper bound for LoRA) plus
  2 x params x tokens for the DPO reference pass (once per job when precomputed, else every epoch);
  inference (extraction, generation, judges, QA) 2 x params x tokens.
- GPU-hours = FLOPs / (utilisation x 989 TFLOP/s, an H100 SXM's dense bf16 peak).
- GPU memory per GPU: weights (2 bytes per parameter in bf16, split over tensor_parallel_size) plus,
  for inference, the KV cache of one full batch; for training, activations of one micro-batch
  (34 x hidden bytes per token and layer, 2 with gradient checkpointing; Korthikanti et al. 2022)
  and fp32 logits. An estimate to size machines, not a measurement.
Parameter counts come from the model config alone (a meta-device model, no weights); offline, for
the study's models, from valind's table of their shapes (`valind/data/model_shapes.yaml`).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..config import is_control
from ..registry import suites

H100_BF16_PEAK_FLOPS = 989e12
H100_MEMORY_GB = 80
ASSUMED_PAIRS = 1000
ASSUMED_PROMPTS = 100
ASSUMED_PROMPT_TOKENS = 64
ASSUMED_PAIR_TEXT_TOKENS = 400  # prompt + one response, when no pair has been read
CHARS_PER_TOKEN = 4.0
# Train-split sizes of the study's hub datasets as their dataset cards give them (pairs valind forms).
HUB_SOURCE_PAIRS = {"Anthropic/hh-rlhf": 160_800, "PKU-Alignment/PKU-SafeRLHF": 73_907,
                    "openbmb/UltraFeedback": 63_967, "nvidia/HelpSteer2": 10_162}
# Items of the benchmarks with no local copy, from their cards (used when a suite's data is on the hub).
HUB_SUITE_ITEMS = {"advbench": 520, "harmbench": 400, "strongreject": 313, "xstest": 450}
# LLM calls per generated item for each judged measure (values: one listing call, +15 yes/no with probabilities;
# anthro: 13 of the 14 behaviours, pronoun use is counted by a pattern).
JUDGE_CALLS = {"refusal": 1, "anthro": 13, "sycophancy": 3}
JUDGE_RUBRIC_TOKENS = 300         # a judge's rubric around the prompt and response (assumed)
EXTRACTION_PROMPT_TOKENS = 900    # the listing prompt: instructions and 15 value definitions (assumed)
# QA per item (lm-eval): requests x context tokens, + generated tokens (assumed: 5-shot MMLU and GSM8K).
QA_TOKENS = {"mmlu": (14_042, 4 * 700), "truthfulqa_mc1": (817, 5 * 400), "truthfulqa_mc2": (817, 8 * 400),
             "gsm8k": (1_319, 900 + 256), "arc_easy": (2_376, 4 * 120), "arc_challenge": (1_172, 4 * 120)}
# The published study (arXiv 2605.07925): 8 models x 15 values; 15 adapters took about 3 days on 8 H100s.
# Its subset sizes: only the largest (empathy, 66.5k pairs) and the smallest (violence, 637) were published;
# every other value's subset lies between them, so the largest bounds it.
PUBLISHED_SUBSET_PAIRS = {"empathy": 66_500, "violence": 637}
STUDY = {"models": 8, "values": 15, "gpus": 8, "days_per_15_adapters": 3}


@dataclass
class ModelSize:
    params: float  # NaN when unknown
    source: str
    config: object = None  # the transformers config, when known (layers, heads: for memory)


@dataclass
class StageRow:
    stage: str
    what: str
    calls: float
    tokens: float
    flops: float
    gpu_hours: float
    memory_gb: float  # per GPU; NaN when the model's shape is unknown
    model: str
    notes: list[str] = field(default_factory=list)


def _shape_config(name: str):
    """A transformers config from valind's table of the study's model shapes, or None."""
    import yaml
    from importlib import resources

    table = yaml.safe_load(resources.files("valind").joinpath("data", "model_shapes.yaml").read_text(encoding="utf-8"))
    shape = table.get(name)
    if shape and "same_as" in shape:
        shape = table[shape["same_as"]]
    if not shape:
        return None
    from transformers import AutoConfig

    shape = dict(shape)
    return AutoConfig.for_model(shape.pop("model_type"), **shape)


def model_params(name: str) -> ModelSize:
    """Parameter count from the model's config (no weights are read); a stated fallback when it is not at hand."""
    from ..models import EMBEDDED, cache_dir

    config, source = None, "model config"
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
    except Exception as exc:  # offline without a cached config: valind's shape table, else the size in the name
        config = _shape_config(name)
        source = "valind's table of the study's model shapes (config not on disk)"
        if config is None:
            m = re.search(r"(\d+(?:\.\d+)?)\s*([bBmM])\b", name.replace("-", " ").replace("_", " "))
            if m:
                scale = 1e9 if m.group(2).lower() == "b" else 1e6
                return ModelSize(float(m.group(1)) * scale, f"from the name '{name}' (config unavailable: "
                                                            f"{type(exc).__name__})")
            return ModelSize(math.nan, f"unknown (config unavailable offline: {type(exc).__name__})")
    import torch
    from transformers import AutoModelForCausalLM

    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config)
    return ModelSize(float(sum(p.numel() for p in model.parameters())), source, config)


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


# ---------------------------------------------------------------- memory
def _bytes_per_param(dtype: str | None) -> int:
    return 4 if dtype == "float32" else 2


def kv_bytes_per_token(config) -> float:
    """K and V for every layer, in 16-bit (NaN without a config)."""
    if config is None:
        return math.nan
    heads = getattr(config, "num_attention_heads", 1)
    kv = getattr(config, "num_key_value_heads", None) or heads
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // heads
    return 2 * config.num_hidden_layers * kv * head_dim * 2


def inference_memory_gb(size: ModelSize, dtype: str | None, sequences: int, tokens_each: float, tp: int = 1) -> float:
    weights = size.params * _bytes_per_param(dtype)
    kv = sequences * tokens_each * kv_bytes_per_token(size.config)
    return (weights + kv) / tp / 1e9


def training_memory_gb(size: ModelSize, dtype: str | None, micro_batch: int, max_length: int, method: str,
                       checkpointing: bool) -> float:
    cfg = size.config
    if cfg is None:
        return math.nan
    seqs = micro_batch * (2 if method == "dpo" else 1)  # DPO runs chosen and rejected together
    per_token_layer = (2 if checkpointing else 34) * cfg.hidden_size
    activations = seqs * max_length * cfg.num_hidden_layers * per_token_layer
    logits = seqs * max_length * cfg.vocab_size * 4
    return (size.params * _bytes_per_param(dtype) + activations + logits) / 1e9


# ---------------------------------------------------------------- source and subset sizes
def _source_pairs(spec, notes: list[str]) -> int | None:
    """Pairs a source gives: its limit, the rows of a local file, or the hub dataset's card size."""
    from ..artifacts import data_path

    n = None
    if spec.path:
        path = data_path(spec.path)
        if path.exists() and path.suffix in (".jsonl", ".csv") or str(path).endswith(".jsonl.gz"):
            import gzip

            opener = gzip.open if str(path).endswith(".gz") else open
            with opener(path, "rt", encoding="utf-8") as fh:
                n = sum(1 for line in fh if line.strip()) - (1 if path.suffix == ".csv" else 0)
        elif path.exists() and path.suffix == ".json":
            n = len(json.loads(path.read_text(encoding="utf-8")))
    elif spec.hub in HUB_SOURCE_PAIRS:
        n = HUB_SOURCE_PAIRS[spec.hub]
        notes.append(f"source {spec.source_label}: {n:,} pairs (the dataset card's train split)")
    if spec.limit:
        n = min(n, spec.limit) if n is not None else spec.limit
    return n


def published_train_pairs(values: list[str], curation, notes: list[str]) -> dict[str, int]:
    """Training pairs per induced value (and `control`) from the study's published subset sizes: each value's
    published size, or the largest published one where the study gave none; minus valind's held-out split
    (curate/xor.split_ids), capped by curation.max_subset_size; values below curation.min_subset_size are left
    out; with curation.equalize every value (and the control) gets the smallest; without it the control is
    bounded by the largest."""
    largest = max(PUBLISHED_SUBSET_PAIRS.values())
    out: dict[str, int] = {}
    for v in values:
        n = PUBLISHED_SUBSET_PAIRS.get(v, largest)
        if curation.max_subset_size:
            n = min(n, curation.max_subset_size)
        if n < curation.min_subset_size:
            continue
        held = int(round(n * curation.heldout_fraction))
        out[v] = n - (max(1, held) if curation.heldout_fraction > 0 and n >= 2 else held)
    if not out:
        return out
    smallest = min(out.values())
    if curation.equalize:
        out = {v: smallest for v in out}
    out["control"] = smallest if curation.equalize else max(out.values())
    known = ", ".join(f"{v} {n:,}" for v, n in PUBLISHED_SUBSET_PAIRS.items())
    notes.append(f"training pairs: the study's published subset sizes ({known} pairs; the other values' sizes "
                 f"were not published, each bounded by the largest, {largest:,}), less a held-out share of "
                 f"{curation.heldout_fraction:g}" + (f", equalized to {smallest:,}" if curation.equalize else "")
                 + " (plan.subset_sizes: published; curation not run yet)")
    return out


def _pairs_before_curation(ctx, notes: list[str]) -> tuple[dict[str, int] | None, int | None]:
    """(XOR subset size per value from the extracted annotations, or None; source pairs, or None)."""
    ann_file = ctx.folder.annotations
    if ann_file.exists():
        from ..extract.stage import read_annotations

        ann, _ = read_annotations(ctx.run_dir)
        sizes = {v: int(sum((v in list(c)) != (v in list(r)) for c, r in zip(ann["chosen_values"], ann["rejected_values"])))
                 for v in ctx.induced_values}
        notes.append("training pairs: the XOR subsets of the extracted annotations (curation not run yet)")
        return sizes, len(ann)
    pairs_file = ctx.folder.pairs
    if pairs_file.exists():
        import pyarrow.parquet as pq

        return None, pq.read_metadata(pairs_file).num_rows
    counts = [_source_pairs(s, notes) for s in ctx.config.sources]
    return None, (sum(counts) if all(c is not None for c in counts) else None)


# ---------------------------------------------------------------- the estimate
def estimate(ctx, utilisation: float) -> dict:
    """Rows for every training job and generation unit, a row per stage, totals, and the assumptions used."""
    from ..train.jobs import build_jobs
    from ..train.stage import plan_jobs
    from .grid import sweep_points

    cfg = ctx.config
    notes: list[str] = []
    curated = ctx.folder.curate_stats.exists()
    xor_sizes, source_pairs = (None, None) if curated else _pairs_before_curation(ctx, notes)
    published = None
    if not curated and xor_sizes is None and cfg.plan.subset_sizes == "published":
        published = published_train_pairs(ctx.induced_values, cfg.curation, notes)
    if curated:
        jobs = plan_jobs(ctx)
    else:
        values = [v for v in ctx.induced_values if (xor_sizes is None or xor_sizes[v] >= cfg.curation.min_subset_size)
                  and (published is None or v in published)]
        jobs = build_jobs(ctx, values)
        if xor_sizes is None and published is None:
            what = f"{source_pairs:,} source pairs" if source_pairs else f"{ASSUMED_PAIRS} pairs (source size unknown)"
            notes.append(f"not curated yet ({ctx.run_dir / 'curate'} missing): an upper bound, every induced value's "
                         f"subset holding all {what} (or curation.max_subset_size); the study's subsets held 637 "
                         f"(violence) to 66.5k (empathy) pairs")
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
            cap = points[job.point].max_subset_size or cfg.curation.max_subset_size
            if published is not None:
                pairs = published["control" if is_control(job.value) else job.value]
            elif xor_sizes is not None:
                pairs = xor_sizes[job.value]
            else:
                pairs = source_pairs or ASSUMED_PAIRS
            pairs = min(pairs, cap) if cap else pairs
            per_pair = 2.0 * t.max_length  # upper bound: prompt+chosen and prompt+rejected at max_length
        per_pair = per_pair if t.method == "dpo" else per_pair / 2  # SFT: prompt+chosen only
        seen = t.max_steps * t.batch_size * t.gradient_accumulation_steps if t.max_steps else pairs * t.epochs
        tokens = seen * per_pair
        # DPO reference forward: once over the subset when precomputed, else on every pair seen
        ref_tokens = 0.0 if t.method != "dpo" else (pairs if t.precompute_ref_logprobs else seen) * per_pair
        params = sizes[job.model.name].params
        flops = 6 * params * tokens + 2 * params * ref_tokens
        rows.append({"kind": "train", "job_id": job.job_id, "job_hash": job.job_hash, "pairs": pairs,
                     "tokens": tokens, "flops": flops, "gpu_hours": gpu_hours(flops, utilisation)})
    suite_items = _suite_items(ctx, counters, notes)
    if xor_sizes is None and published is not None:  # held-out pairs for the power rows: the published sizes
        largest = max(PUBLISHED_SUBSET_PAIRS.values())
        sizes_for_power = {v: PUBLISHED_SUBSET_PAIRS.get(v, largest) for v in ctx.induced_values}
    else:
        sizes_for_power = xor_sizes
    power = power_plan(ctx, suite_items, sizes_for_power, [j for j in jobs if not is_control(j.value)])
    rows += _generation_rows(ctx, jobs, sizes, suite_items, utilisation)
    stages = _stage_rows(ctx, jobs, rows, sizes, suite_items, source_pairs, utilisation, notes)
    total = {k: sum(r[k] for r in rows if r["kind"] in ("train", "generate")) for k in ("tokens", "flops", "gpu_hours")}
    for k in ("tokens", "flops", "gpu_hours"):
        total[k] += sum(getattr(s, k) for s in stages if s.stage in ("extract", "judge", "qa") and not math.isnan(getattr(s, k)))
    train_total = {k: sum(r[k] for r in rows if r["kind"] == "train") for k in ("tokens", "flops", "gpu_hours")}
    return {"rows": rows, "stages": stages, "total": total, "train_total": train_total, "notes": notes,
            "utilisation": utilisation, "suites": [s.name for s in cfg.evaluation.suites], "adapters": len(jobs),
            "models": len(cfg.models), "values": len(ctx.induced_values),
            "controls": len({j.value for j in jobs if is_control(j.value)}),
            "upper_bound": not curated and xor_sizes is None, "power": power,
            "published_sizes": published is not None}


EXPRESSION_BASE_RATE = 0.03  # own-value expression of a base model, assumed before a run (docs: power)
GOALS = {"accuracy": 0.70, "expression": 0.15}  # what a manipulation check must be able to see


def _heldout_pairs(ctx, value: str, xor_sizes: dict | None) -> tuple[int | None, str]:
    """Held-out pairs the reward check will use for a value: curated, estimated from the XOR subsets, or the cap."""
    import pandas as pd

    cap = ctx.config.training.reward_check_pairs
    stats = ctx.folder.curate_stats
    if stats.exists():
        df = pd.read_csv(stats).set_index("value")
        if value in df.index:
            return min(cap, int(df.loc[value, "heldout"])), "curated"
    if xor_sizes is not None and value in xor_sizes:
        n = xor_sizes[value]
        if ctx.config.curation.max_subset_size:
            n = min(n, ctx.config.curation.max_subset_size)
        return min(cap, int(n * ctx.config.curation.heldout_fraction)), "estimated from the XOR subset sizes"
    return cap, "at most: training.reward_check_pairs; the XOR subsets are unknown before extraction"


def power_plan(ctx, suite_items: dict, xor_sizes: dict | None, value_jobs: list) -> dict:
    """The smallest effect each primary measure can detect (80% power at its family's threshold), and warnings
    where the manipulation check cannot see a held-out accuracy of 0.70 or +15 points of own-value expression."""
    from ..stats import power as P

    cfg = ctx.config
    spec = cfg.analysis.manipulation_check
    values = sorted({j.value.split("@")[0] for j in value_jobs})
    outcomes = [o for o in spec.outcomes if cfg.curation.control or not o.endswith("_vs_control")]
    if cfg.training.method != "dpo" or cfg.training.reward_check_pairs == 0:
        outcomes = [o for o in outcomes if not o.startswith("reward")]
    m = max(1, len(values) * len(outcomes))
    alpha = spec.alpha / m  # Holm's first step: conservative for every effect of the family
    rows, warnings = [], []
    suite = suite_items.get("value_prompts")
    n_prompts = int(suite["n"]) if suite else 0
    for v in values:
        if any(o.startswith("reward") for o in outcomes):
            n, how = _heldout_pairs(ctx, v, xor_sizes)
            acc = P.detectable_accuracy(n, alpha) if n else None
            rows.append({"family": "confirmatory", "measure": f"{v}: held-out implicit-reward accuracy vs chance",
                         "units": n, "unit": f"held-out pairs ({how})", "threshold": alpha,
                         "detectable": "none at any accuracy" if n and acc is None else
                         (f"accuracy {acc:.2f}" if acc else "–")})
            if n is not None and (acc is None or acc > GOALS["accuracy"]):
                need = P.pairs_needed_for_accuracy(GOALS["accuracy"], alpha)
                warnings.append(f"{v}: the manipulation check cannot detect a held-out implicit-reward accuracy of "
                                f"{GOALS['accuracy']:.2f} with {n} held-out pairs at its threshold {alpha:.3g} "
                                f"(needs {need} pairs: more XOR pairs, curation.heldout_fraction or "
                                f"training.reward_check_pairs)")
        if "expression_vs_control" in outcomes:
            inc = P.detectable_increase(n_prompts, EXPRESSION_BASE_RATE, alpha) if n_prompts else None
            rows.append({"family": "confirmatory", "measure": f"{v}: own-value expression vs the control",
                         "units": n_prompts, "unit": "value-suite prompts", "threshold": alpha,
                         "detectable": f"+{inc * 100:.0f} points from {EXPRESSION_BASE_RATE:.0%}" if inc else "–"})
            if not suite or inc is None or inc > GOALS["expression"]:
                need = P.items_needed_for_increase(EXPRESSION_BASE_RATE, GOALS["expression"], alpha, limit=600)
                warnings.append(f"{v}: the manipulation check cannot detect +{GOALS['expression'] * 100:.0f} points of "
                                f"own-value expression (from {EXPRESSION_BASE_RATE:.0%}) with {n_prompts} prompts at its "
                                f"threshold {alpha:.3g} (needs about {need or 'more than 600'}: "
                                f"curation.value_suite_per_value, value_suite_values: induced, or the suite's limit)")
    # Exploratory families: every other primary measure, one real effect among about m_explore tests.
    adapters = max(1, len(value_jobs) + (1 if cfg.curation.control else 0))
    n_metrics = {"value_prompts": 15, "anthrobench": 15, "xstest": 2, "sycophancy": 4, "feedback_sycophancy": 3}
    m_explore = adapters * sum(n_metrics.get(name, 1) for name in suite_items)
    for name, item in suite_items.items():
        n = int(item["n"])
        inc = P.detectable_increase(n, 0.5, spec.alpha / m_explore) if n else None
        rows.append({"family": "exploratory", "measure": f"{name}: a rate vs the base model",
                     "units": n, "unit": "items", "threshold": spec.alpha / m_explore,
                     "detectable": f"+{inc * 100:.0f} points from 50%" if inc else "none (too few items)"})
    if len(cfg.training.seeds) == 2:
        warnings.append("2 seeds: the exploratory effects' seeds x items test then has about two thirds of the "
                        "item-level test's power and up to about 0.12 false positives when seeds differ "
                        "(bench/RESULTS.md, seed inference); train 1 seed (results for those adapters) or 3 or more")
    return {"rows": rows, "warnings": warnings, "family_size": m, "outcomes": outcomes,
            "correction": spec.correction, "exploratory_tests": m_explore}


def format_power(power: dict) -> str:
    """The power table and its warnings, for `valind plan`."""
    lines = ["", f"Power (80%, exact tests) -- the manipulation check is one confirmatory family of {power['family_size']} "
             f"tests ({', '.join(power['outcomes']) or 'none'}; {power['correction']}); the exploratory rows assume one "
             f"real effect among about {power['exploratory_tests']} tests (Benjamini-Hochberg) and a 50% base rate:",
             f"{'family':<13} {'measure':<58} {'units':>6}  {'threshold':>9}  smallest detectable effect"]
    for r in power["rows"]:
        units = "?" if r["units"] is None else str(r["units"])
        lines.append(f"{r['family']:<13} {r['measure'][:58]:<58} {units:>6}  {r['threshold']:>9.2g}  {r['detectable']}")
    lines += [f"WARNING: {w}" for w in power["warnings"]]
    return "\n".join(lines)


def _suite_items(ctx, counters, notes) -> dict[str, dict]:
    """Per generation suite: number of prompts and mean prompt tokens per study model."""
    from ..evaluate.suites import make_suite

    cfg = ctx.config
    out = {}
    for spec in cfg.evaluation.suites:
        try:
            suite = make_suite(spec, ctx)
            if not suite.needs_generation:
                continue
            texts = [" ".join(m["content"] for m in it.messages) for it in suite.items()]
        except Exception as exc:
            n = spec.limit or HUB_SUITE_ITEMS.get(spec.name, ASSUMED_PROMPTS)
            how = "the benchmark card's size" if spec.name in HUB_SUITE_ITEMS and not spec.limit else "assumed"
            if spec.name == "value_prompts" and (spec.options or {}).get("source") == "heldout":
                suite_values = ctx.induced_values if cfg.curation.value_suite_values == "induced" else ctx.values
                per_value = cfg.curation.value_suite_per_value * len(suite_values)  # the held-out suite, once curated
                n, how = min(spec.limit or per_value, per_value), "curation.value_suite_per_value x values"
            notes.append(f"suite {spec.name}: prompts not readable here ({type(exc).__name__}); {n} prompts ({how}) "
                         f"of {ASSUMED_PROMPT_TOKENS} tokens")
            out[spec.name] = {"spec": spec, "n": n, "tokens": {m.name: float(ASSUMED_PROMPT_TOKENS) for m in cfg.models}}
            continue
        out[spec.name] = {"spec": spec, "n": len(texts), "tokens": {
            m.name: sum(counters[m.name][0](t) for t in texts) / max(len(texts), 1) for m in cfg.models}}
    for name, s in out.items():  # multi-turn: every assistant turn is generated and judged, on a growing prompt
        conv = s["spec"].conversation
        if conv.turns > 1:
            grow = (conv.turns - 1) / 2 * (cfg.generation.max_new_tokens + conv.user.max_new_tokens)
            s["turns"] = conv.turns  # generated and judged responses per item (the item is the conversation)
            s["tokens"] = {m: t + grow for m, t in s["tokens"].items()}
            notes.append(f"suite {name}: {conv.turns} assistant turns per conversation, each generated and judged "
                         f"(prompt: the mean length over the turns); the user simulator's {conv.turns - 1} turns "
                         f"per conversation ({conv.user.model}) are not in the GPU-hours")
    return out


def _generation_rows(ctx, jobs, sizes, suite_items, utilisation) -> list[dict]:
    """One row per variant (the base model of each study model, then every adapter), its suites summed."""
    cfg = ctx.config
    new_tokens = cfg.generation.max_new_tokens
    variants = [(m.name, f"{m.slug}/base") for m in cfg.models] + [(j.model.name, j.job_id) for j in jobs]
    rows = []
    for model_name, variant in variants:
        n = sum(s["n"] * s.get("turns", 1) for s in suite_items.values())
        tokens = sum(s["n"] * s.get("turns", 1) * (s["tokens"][model_name] + new_tokens) for s in suite_items.values())
        flops = 2 * sizes[model_name].params * tokens
        rows.append({"kind": "generate", "job_id": variant, "job_hash": "", "pairs": n,
                     "tokens": tokens, "flops": flops, "gpu_hours": gpu_hours(flops, utilisation)})
    return rows


def _engine_options(options: dict) -> tuple[str | None, int]:
    opts = options or {}
    return opts.get("dtype"), int(opts.get("tensor_parallel_size", 1))


def _stage_rows(ctx, jobs, rows, sizes, suite_items, source_pairs, utilisation, notes) -> list[StageRow]:
    cfg = ctx.config
    out: list[StageRow] = []
    study_model = cfg.models[0]
    variants = len(cfg.models) + len(jobs)
    # extraction
    ex = cfg.extractor
    pairs = source_pairs or ASSUMED_PAIRS
    if ex.name == "llm":
        opts = ex.options
        model = opts.get("model", "embedded:smollm2-135m-instruct")
        size = model_params(model)
        dtype, tp = _engine_options(opts.get("backend_options"))
        per_response = 1 + (0 if opts.get("scoring", "auto") == "listing" else len(ctx.values))
        calls = 2 * pairs * per_response
        text = _pair_text_tokens(ctx)
        new = int(opts.get("max_new_tokens", 96))
        tokens = 2 * pairs * (EXTRACTION_PROMPT_TOKENS + text + new) + 2 * pairs * (per_response - 1) * (text + 120)
        flops = 2 * size.params * tokens
        mem = inference_memory_gb(size, dtype or "bfloat16", ex.batch_size, EXTRACTION_PROMPT_TOKENS + text + new, tp)
        what = f"{2 * pairs:,} responses, {per_response} call{'s' * (per_response > 1)} each"
        out.append(StageRow("extract", what, calls, tokens, flops, gpu_hours(flops, utilisation), mem, model,
                            [f"{model}: {size.params / 1e9:.1f}B parameters ({size.source})"]))
    else:
        out.append(StageRow("extract", f"{2 * pairs:,} responses on the CPU ({ex.name})", 2 * pairs, math.nan, 0.0, 0.0,
                            0.0, ex.name))
    # training
    train = [r for r in rows if r["kind"] == "train"]
    t = cfg.training
    size = sizes[study_model.name]
    ckpt = bool(t.trl_overrides.get("gradient_checkpointing", False))
    mem = training_memory_gb(size, study_model.dtype, t.batch_size, t.max_length, t.method, ckpt)
    out.append(StageRow("train", f"{len(train)} adapters, {sum(r['pairs'] for r in train):,} pairs x {t.epochs:g} epochs",
                        sum(r["pairs"] for r in train), sum(r["tokens"] for r in train),
                        sum(r["flops"] for r in train), sum(r["gpu_hours"] for r in train), mem, study_model.name))
    # generation
    gen = [r for r in rows if r["kind"] == "generate"]
    g = cfg.generation
    dtype, tp = _engine_options(g.options)
    mean_prompt = max([s["tokens"][study_model.name] for s in suite_items.values()] or [ASSUMED_PROMPT_TOKENS])
    mem = inference_memory_gb(size, dtype or study_model.dtype, g.batch_size, mean_prompt + g.max_new_tokens, tp)
    out.append(StageRow("generate", f"{variants} variants x {len(suite_items)} suites",
                        sum(r["pairs"] for r in gen), sum(r["tokens"] for r in gen), sum(r["flops"] for r in gen),
                        sum(r["gpu_hours"] for r in gen), mem, study_model.name))
    # judging: LLM judges (and the LLM extractor on value_prompts) over every variant's generations
    calls = tokens = flops = 0.0
    mem, models = 0.0, set()
    for name, s in suite_items.items():
        spec = s["spec"]
        if name == "value_prompts" and ex.name == "llm":
            opts, per_item = ex.options, 1 + (0 if ex.options.get("scoring", "auto") == "listing" else len(ctx.values))
            template = EXTRACTION_PROMPT_TOKENS
        elif spec.judge == "llm" and suites.get(name).task in JUDGE_CALLS:
            opts, per_item = (spec.options or {}).get("judge_options", {}), JUDGE_CALLS[suites.get(name).task]
            template = JUDGE_RUBRIC_TOKENS
        else:
            continue
        model = opts.get("model", "embedded:smollm2-135m-instruct")
        jsize = model_params(model)
        dtype, tp = _engine_options(opts.get("backend_options"))
        per_call = template + s["tokens"][study_model.name] + g.max_new_tokens + 16
        n = variants * s["n"] * s.get("turns", 1) * per_item
        calls += n
        tokens += n * per_call
        flops += 2 * jsize.params * n * per_call
        mem = max(mem, inference_memory_gb(jsize, dtype or "bfloat16", 256, per_call, tp))
        models.add(model)
    out.append(StageRow("judge", "LLM judges over every variant's generations" if calls else "offline judges (CPU)",
                        calls, tokens, flops, gpu_hours(flops, utilisation), mem, ", ".join(sorted(models)) or "-"))
    # QA through lm-eval
    qa = next((s for s in cfg.evaluation.suites if s.name == "qa"), None)
    if qa is not None:
        from ..evaluate.suites.qa import DEFAULT_TASKS

        tasks = (qa.options or {}).get("tasks") or DEFAULT_TASKS
        items = sum(min(QA_TOKENS[k][0], qa.limit or QA_TOKENS[k][0]) for k in tasks if k in QA_TOKENS)
        qtokens = variants * sum(min(QA_TOKENS[k][0], qa.limit or QA_TOKENS[k][0]) * QA_TOKENS[k][1]
                                 for k in tasks if k in QA_TOKENS)
        qflops = 2 * size.params * qtokens
        mem = size.params * _bytes_per_param(study_model.dtype) * 1.2 / 1e9
        out.append(StageRow("qa", f"{variants} variants x {len(tasks)} tasks ({items:,} items)", variants * items,
                            qtokens, qflops, gpu_hours(qflops, utilisation), mem, study_model.name))
    return out


def _pair_text_tokens(ctx) -> float:
    """Mean tokens of a prompt and one response over the ingested pairs (chars/4), else the assumption."""
    pairs_file = ctx.folder.pairs
    if not pairs_file.exists():
        return float(ASSUMED_PAIR_TEXT_TOKENS)
    import pandas as pd

    from ..ingest.schema import prompt_text

    pairs = pd.read_parquet(pairs_file).head(2000)
    chars = [len(prompt_text(p)) + (len(c) + len(r)) / 2 for p, c, r in zip(pairs["prompt"], pairs["chosen"],
                                                                            pairs["rejected"])]
    return sum(chars) / max(len(chars), 1) / CHARS_PER_TOKEN


# ---------------------------------------------------------------- output
def _fmt_num(x: float) -> str:
    if isinstance(x, float) and math.isnan(x):
        return "?"
    for unit, scale in (("E", 1e18), ("P", 1e15), ("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= scale:
            return f"{x / scale:.2f}{unit}"
    return f"{x:.0f}"


def _fmt_hours(h: float) -> str:
    return "?" if math.isnan(h) else f"{h:,.0f}" if h >= 100 else f"{h:.3f}" if h >= 0.01 else f"{h:.1e}"


def _fmt_gb(gb: float) -> str:
    if math.isnan(gb):
        return "?"
    flag = " (> 80 GB)" if gb > H100_MEMORY_GB else ""
    return f"{gb:,.1f} GB{flag}"


def format_summary(est: dict) -> str:
    """The stage table, totals and the comparison with the published study."""
    lines = [f"{'stage':<9} {'what':<52} {'calls/items':>12} {'tokens':>9} {'FLOPs':>9} {'GPU-h':>8}  GPU memory",]
    for s in est["stages"]:
        lines.append(f"{s.stage:<9} {s.what[:52]:<52} {_fmt_num(s.calls):>12} {_fmt_num(s.tokens):>9} "
                     f"{_fmt_num(s.flops):>9} {_fmt_hours(s.gpu_hours):>8}  {_fmt_gb(s.memory_gb)}")
    t = est["total"]
    lines.append(f"{'total':<9} {'':<52} {'':>12} {_fmt_num(t['tokens']):>9} {_fmt_num(t['flops']):>9} "
                 f"{_fmt_hours(t['gpu_hours']):>8}")
    study_h = STUDY["gpus"] * STUDY["days_per_15_adapters"] * 24
    per_adapter = study_h / STUDY["values"]
    train_h = est["train_total"]["gpu_hours"]
    bound = " (an upper bound until curation: see the notes)" if est.get("upper_bound") else ""
    lines += ["",
              f"This config: {est['models']} model(s) x {est['values']} values"
              + (f" (+ {est['controls']} control)" if est.get("controls") else "")
              + f" x seeds = {est['adapters']} adapters; "
              f"training {_fmt_hours(train_h)} GPU-h ({_fmt_hours(train_h / max(est['adapters'], 1))} per adapter), "
              f"all stages {_fmt_hours(t['gpu_hours'])} GPU-h = {t['gpu_hours'] / STUDY['gpus'] / 24:,.1f} days on "
              f"{STUDY['gpus']} H100s{bound}.",
              f"The published study: {STUDY['models']} models x {STUDY['values']} values = "
              f"{STUDY['models'] * STUDY['values']} adapters; 15 adapters took about {STUDY['days_per_15_adapters']} "
              f"days on {STUDY['gpus']} H100s ({study_h} GPU-h, ~{per_adapter:.0f} per adapter), so its grid about "
              f"{STUDY['models'] * study_h:,} GPU-h.",
              f"GPU-hours at {est['utilisation']:.0%} utilisation of an H100's dense bf16 peak "
              f"({H100_BF16_PEAK_FLOPS / 1e12:.0f} TFLOP/s); training FLOPs = 6 x params x tokens "
              "(+ 2 x params x tokens for the DPO reference pass), inference = 2 x params x tokens; "
              "GPU memory per GPU (weights, KV cache or activations; see `valind plan --help`)."]
    return "\n".join(lines)


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
    lines += ["", "Every stage:", format_summary(est)]
    lines += [f"Note: {n}" for n in est["notes"]]
    return "\n".join(lines)


def main(args) -> int:
    from ..config import load_study
    from ..context import RunContext
    from ..errors import ConfigError

    if not 0 < args.utilisation <= 1:
        raise ConfigError(f"--utilisation: must be in (0, 1], got {args.utilisation}")
    studies = args.study if isinstance(args.study, list) else [args.study]
    studies = studies or [None]
    if len(studies) > 1 and getattr(args, "out", None):
        raise ConfigError("--out: give one study with --out (each study reads its own output_dir otherwise)")
    totals = []
    for k, path in enumerate(studies):
        cfg = load_study(path)
        ctx = RunContext(config=cfg, run_dir=Path(getattr(args, "out", None) or cfg.output_dir))
        est = estimate(ctx, args.utilisation)
        if len(studies) > 1:
            print(("\n" if k else "") + f"=== {path or 'the embedded default study'} ({cfg.name})")
        if getattr(args, "summary", False):
            print(format_summary(est) + "".join(f"\nNote: {n}" for n in est["notes"]) + format_power(est["power"]))
        else:
            print(format_plan(est) + format_power(est["power"]))
        totals.append((path or "default", cfg.name, est))
    if len(totals) > 1:
        print("\n" + format_side_by_side(totals))
    return 0


def format_side_by_side(totals: list[tuple[str, str, dict]]) -> str:
    """One line per planned study: adapters, training and all-stage GPU-hours (the costs side by side)."""
    lines = ["Side by side:", f"{'study':<28} {'adapters':>8} {'training GPU-h':>15} {'all stages GPU-h':>17}  bound"]
    for _, name, est in totals:
        bound = ("published subset sizes" if est.get("published_sizes") else "every source pair per subset") \
            if est.get("upper_bound") else "measured subsets"
        lines.append(f"{name[:28]:<28} {est['adapters']:>8} {_fmt_hours(est['train_total']['gpu_hours']):>15} "
                     f"{_fmt_hours(est['total']['gpu_hours']):>17}  {bound}")
    return "\n".join(lines)
