"""The paper pipeline end to end on a random-weight model of the paper's shape, stage by stage, with figures.

No real checkpoint can travel to a lent GPU machine, so the model is Llama-3.1-8B's shape (from
valind's table, `valind/data/model_shapes.yaml`) with random weights and SmolLM2's tokenizer: the
same FLOPs and memory per token as the real model, text that means nothing. The study is
configs/paper_llama8b.yaml with what cannot travel replaced and the budgets cut to minutes:

- data: valind's demo preference pairs; AdvBench and XSTest from `--shared` (a copy of the few
  ../shared/data files the run reads), AnthroBench and the other suites from the package;
- extraction: the `lexicon` extractor (a random model lists no values, so nothing would be
  curated and trained); the LLM path is exercised by the judges, on the same random model;
- training: DPO + LoRA as the paper (rank 4, alpha 16, all linear layers, gradient checkpointing),
  3 values, one seed, `--steps` optimizer steps; generation on the transformers backend;
- evaluation: every suite of the paper config, limited to `--items` items (value prompts: the shipped ones,
  since the few pairs read leave too few held-out prompts), LLM judges (refusal,
  anthropomorphism, sycophancy) on the random model, QA through lm-eval on two MMLU subjects.

For each stage: wall time, peak GPU memory (torch's allocator), and the engines opened; beside
them `valind plan`'s memory estimate for the same study. Written to the `gpu_paper_pipeline`
section of RESULTS.md ($VALIND_BENCH_RESULTS). `--shape tiny` runs the same on a CPU in minutes
(the dry run that proves the script end to end).

    python bench/gpu_paper_run.py --shape llama-8b --steps 10 --items 16

`--engine vllm` runs the paper config's own engine path instead (issue 20): the LLM extractor, the
generation (every adapter a LoRA request on one engine) and the LLM judges on vLLM with the paper's
options, only names and sizes changed (model, tensor_parallel_size 1, pairs, items, steps, new
tokens; `--dtype` if given; the simulated user of the multi-turn AnthroBench suite is the local model with the
instrument's engine options); the extractor lists values in its own words as the paper config asks
(`open_values`), and AnthroBench runs over the config's turns; no transformers backend is used on the way (lm-eval's QA loads its own
model, as in the paper config). With `--shape smollm2` the model is the real embedded SmolLM2, so the
extractor lists real values; on a CPU this is the dry run of the GPU check (vLLM's CPU build):

    python bench/gpu_paper_run.py --engine vllm --shape smollm2 --pairs 40 --items 3 --steps 2 --dtype float32
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, write_section  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SHAPES = {"llama-8b": "meta-llama/Llama-3.1-8B-Instruct", "llama-70b": "meta-llama/Llama-3.3-70B-Instruct"}
REAL = {"smollm2": "embedded:smollm2-135m-instruct"}  # real local checkpoints (real text: the LLM extractor lists values)
STAGES = ["ingest", "extract", "curate", "train", "generate", "evaluate", "report"]
PLAN_STAGES = {"extract": ("extract",), "train": ("train",), "generate": ("generate",), "evaluate": ("judge", "qa")}


def build_model(shape: str, out: Path) -> str:
    """A random-weight model of the shape, saved in bf16 with SmolLM2's tokenizer (or the tiny test Llama)."""
    if shape == "tiny":
        from valind.testing import build_tiny_llama

        return str(build_tiny_llama(out))
    if shape in REAL:
        from valind.models import resolve_model_path

        return resolve_model_path(REAL[shape])
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from valind.sweep.plan import _shape_config

    assets = REPO / ".gpu" / "assets" / "smollm2-135m"  # where bench/gpu_prepare.sh puts SmolLM2's tokenizer
    if not (assets / "tokenizer.json").exists():
        from valind.models import resolve_model_path

        assets = Path(resolve_model_path("embedded:smollm2-135m-instruct"))
    config = _shape_config(SHAPES[shape])
    config.max_position_embeddings = 8192
    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.manual_seed(0)
    with torch.device(device):
        model = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
    model.generation_config.eos_token_id = None  # random weights: every generation runs its full length
    model.save_pretrained(out)
    AutoTokenizer.from_pretrained(assets).save_pretrained(out)
    del model
    return str(out)


def on_one_device(options: dict, model: str, dtype: str | None) -> dict:
    """The paper's engine options for the instrument model, with its name, one device and (if given) a dtype."""
    engine = {**options.get("backend_options", {}), "tensor_parallel_size": 1, **({"dtype": dtype} if dtype else {})}
    return {**options, "model": model, "backend_options": engine}


def study(model: str, shared: Path | None, steps: int, items: int, run_dir: Path, engine: str = "transformers",
          pairs: int | None = None, dtype: str | None = None) -> dict:
    """configs/paper_llama8b.yaml, with what cannot travel replaced and budgets cut (see the module docstring)."""
    data = yaml.safe_load((REPO / "configs" / "paper_llama8b.yaml").read_text())
    judge = {"model": model, "backend": "transformers", "max_new_tokens": 8}
    if engine == "vllm":  # the paper's judge options (vLLM, its engine options), only the model and sizes changed
        paper_judge = next(s["options"]["judge_options"] for s in data["evaluation"]["suites"]
                           if "judge_options" in (s.get("options") or {}))
        judge = {**on_one_device(paper_judge, model, dtype), "max_new_tokens": 8}
    suites = []
    for s in data["evaluation"]["suites"]:
        s = {**s, "limit": items}
        options = {k: v for k, v in (s.get("options") or {}).items() if k != "hub"}
        if "judge_options" in options:
            options["judge_options"] = judge
        if "user" in options:  # multi-turn AnthroBench: the simulated user is the instrument model, here the local one
            user = options["user"]
            options["user"] = ({"model": model, "backend": "vllm",
                                "options": on_one_device({"backend_options": user.get("options", {})}, model, dtype)["backend_options"]}
                               if engine == "vllm" else {"model": model, "backend": "transformers"})
        if s["name"] in ("advbench", "xstest"):
            if shared is None:
                continue
            s["path"] = str(shared / {"advbench": "advbench/harmful_behaviors.csv",
                                      "xstest": "xstest/xstest_prompts.csv"}[s["name"]])
        if s["name"] == "value_prompts":  # a few dozen pairs leave too few held-out prompts: the shipped ones
            options.pop("source", None)
        if s["name"] == "qa":
            options.update(tasks=["mmlu"], mmlu_subjects=["high_school_geography", "marketing"], batch_size=8)
            if shared is None:
                continue
        s["options"] = options
        suites.append(s)
    data.update(
        name="gpu-check", values=["empathy", "honesty", "legality"], output_dir=str(run_dir),
        models=[{"name": model, "label": "random-llama", "dtype": "bfloat16"}],
        sources=[{"kind": "hh_rlhf", "path": "package:embedded/hh-rlhf/harmless-base-subset.jsonl.gz",
                  "label": "hh-harmless", **({"limit": pairs} if pairs else {})}],
        extractor={"name": "lexicon"}, curation={"min_subset_size": 20, "heldout_fraction": 0.1},
        evaluation={"suites": suites})
    data["training"].update(max_steps=steps, seeds=[0], max_length=512, logging_steps=1)
    data["training"].pop("accelerate_config")  # one GPU
    data["generation"] = {"backend": "transformers", "max_new_tokens": 64, "batch_size": 64}
    if engine == "vllm":
        paper = yaml.safe_load((REPO / "configs" / "paper_llama8b.yaml").read_text())
        data["models"] = [{"name": model, "label": "smollm2" if "smollm2" in model else "random-llama",
                           "dtype": dtype or "bfloat16"}]
        data["extractor"] = {**paper["extractor"], "options": on_one_device(paper["extractor"]["options"], model, dtype)}
        data["generation"] = {**paper["generation"], "max_new_tokens": 64}  # vLLM, max_lora_rank 8, max_loras 4
        data["curation"] = {**data["curation"], "min_subset_size": 2}  # a few pairs: every listed value trains
        data["training"]["trl_overrides"] = {}  # gradient checkpointing is for 80 GB cards; off on a CPU
    return data


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shape", choices=["tiny", *SHAPES, *REAL], default="llama-8b")
    ap.add_argument("--steps", type=int, default=10, help="DPO optimizer steps per adapter")
    ap.add_argument("--items", type=int, default=16, help="items per evaluation suite")
    ap.add_argument("--shared", help="folder holding advbench/, xstest/ and mmlu/ as in ../shared/data")
    ap.add_argument("--work", default="/tmp/valind-gpu-check")
    ap.add_argument("--engine", choices=["transformers", "vllm"], default="transformers",
                    help="vllm: the paper config's LLM extractor, generation and judges on vLLM (see above)")
    ap.add_argument("--pairs", type=int, help="preference pairs read (default: all 240 of the embedded subset)")
    ap.add_argument("--dtype", help="the models' dtype (default: the paper's bfloat16)")
    args = ap.parse_args()

    import torch

    from valind.config import parse_study
    from valind.context import RunContext
    from valind.log import setup_logging
    from valind.generate.backends.base import ENGINES
    from valind.pipeline import run_stage
    from valind.sweep.plan import estimate

    setup_logging()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    cuda = torch.cuda.is_available()
    t0 = time.time()
    model = build_model(args.shape, work / f"model-{args.shape}")
    build_s = time.time() - t0
    shared = Path(args.shared) if args.shared else None
    cfg = parse_study(study(model, shared, args.steps, args.items, work / "run", args.engine, args.pairs, args.dtype),
                      "gpu check", REPO / "configs")
    ctx = RunContext(config=cfg, run_dir=work / "run", force=True, progress=False)
    plan = {s.stage: s for s in estimate(ctx, 0.4)["stages"]}
    rows = []
    kinds: list[tuple[str, str]] = []  # (stage, backend) of every engine opened: proof of the path taken
    ledger_opened = ENGINES.opened

    def opened(engine):
        kinds.append((current[0], engine.registry_name))
        ledger_opened(engine)

    current = [None]
    ENGINES.opened = opened
    for stage in STAGES:
        current[0] = stage
        if cuda:
            torch.cuda.reset_peak_memory_stats()
        before, t = ENGINES.opened_total, time.time()
        manifest = run_stage(ctx, stage)
        rows.append({"stage": stage, "seconds": time.time() - t,
                     "peak_gb": torch.cuda.max_memory_allocated() / 1e9 if cuda else float("nan"),
                     "engines": ENGINES.opened_total - before, "counts": manifest.get("counts", {}),
                     "plan_gb": max((plan[s].memory_gb for s in PLAN_STAGES.get(stage, ()) if s in plan),
                                    default=float("nan"))})
    total = time.time() - t0
    train = json.loads((ctx.run_dir / "train" / "summary.json").read_text())
    device = torch.cuda.get_device_name(0) if cuda else "CPU"
    lines = [f"`python bench/gpu_paper_run.py --shape {args.shape} --steps {args.steps} --items {args.items}"
             + (" --shared SHARED" if shared else "") + (f" --engine {args.engine}" if args.engine != "transformers" else "")
             + (f" --pairs {args.pairs}" if args.pairs else "") + (f" --dtype {args.dtype}" if args.dtype else "") + "`",
             "", f"Machine: {machine()}", "",
             f"configs/paper_llama8b.yaml on {'the real' if args.shape in REAL else 'a random-weight'} {args.shape} "
             f"model ({device}), {args.engine} engine: "
             f"model built in {build_s:.0f} s; whole run {total:.0f} s; at most {ENGINES.max_alive} engine alive at "
             "once.", "",
             "| stage | seconds | peak GPU memory (GB) | `valind plan` estimate (GB) | engines opened |",
             "|---|---|---|---|---|"]
    for r in rows:
        gb = [("-" if x != x else f"{x:.1f}") for x in (r["peak_gb"], r["plan_gb"])]  # NaN: not measured here
        lines.append(f"| {r['stage']} | {r['seconds']:.1f} | {gb[0]} | {gb[1]} | {r['engines']} |")
    lines += ["", "DPO per adapter at the paper's learning rate (loss first -> last, steps, LoRA tensors changed): "
              + "; ".join(f"{m['value']} {m['first_loss']:.4f} -> {m['last_loss']:.4f} ({m['steps']}, "
                          f"{m['lora_tensors_changed']})" for m in train)]
    lines += ["", "Engines opened (stage: backend): " + ", ".join(f"{st}: {b}" for st, b in kinds)]
    fallback = [st for st, b in kinds if b != args.engine]
    if fallback:
        lines += ["", f"**FAILED**: {args.engine} was asked for, but stage(s) {', '.join(fallback)} opened another engine"]
    title = ("the paper pipeline on a random-weight model" if args.engine == "transformers"
             else f"the paper config's vLLM path, shrunk ({args.shape})")
    text = f"## GPU check: {title}\n\n" + "\n".join(lines)
    print(text)
    section = "gpu_paper_pipeline" if cuda else "gpu_paper_pipeline_cpu_dry_run"
    write_section(section if args.engine == "transformers" else f"{section}_vllm", text)
    return 1 if fallback else 0


if __name__ == "__main__":
    sys.exit(main())
