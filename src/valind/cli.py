"""The `valind` command: one subcommand per pipeline stage, `run` for all of them, and tools.

Errors meant for the user (bad config, malformed rows) print one clear
message and exit 2, without a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from .errors import ConfigError, ValindError

STAGE_HELP = {
    "ingest": "read the preference sources into one canonical pair table (ingest/pairs.parquet)",
    "extract": "tag the values expressed by every chosen and rejected response (extract/annotations.parquet); "
               "`valind extract validate --dataset moralchoice|outside|gold|all [--cv]` measures the offline "
               "extractors against labels; `valind extract direction-check --dataset pku|hh` checks that "
               "deception/violence sit in the less safe reply; `valind extract train` refits the learned "
               "extractor's heads",
    "curate": "build one subset per value by the XOR rule, flipped so the value is always chosen, equal in size; "
              "draw the control subsets and the held-out value suite (curate/)",
    "train": "induce each value: one LoRA adapter per (model, value, seed) with DPO or SFT, and the control "
             "adapters; then the implicit-reward check on held-out pairs (train/)",
    "generate": "generate responses for every evaluation suite, base model and every adapter (generate/)",
    "evaluate": "judge the generations and run QA; one tidy per-item results table (evaluate/results.parquet)",
    "validation": "measure the study's extractor and judges on the labelled data (validation/extractor.json, "
                  "judges.json); copied from this machine's cache when the same instruments were measured before",
}

EPILOG = """examples:
  valind run                         # the embedded default study, offline (SmolLM2-135M, demo data)
  valind run configs/offline_shared_data.yaml --out runs/offline
  valind report runs/default -o report.html
  valind report runs/llama runs/qwen -o runs/merged   # one report from runs of the same design
  valind export inspect runs/default     # Inspect AI logs of every (model, adapter, suite)
  valind export hub runs/default --repo-prefix ORG/NAME --dry-run
  valind score values generations.jsonl -o tagged.jsonl
  valind score refusal generations.jsonl -o judged.jsonl
  valind extract validate --dataset all --cv   # every offline extractor on the labelled sets
  valind extract direction-check --dataset pku
  valind judge validate --task refusal --cv
Every stage writes RUN_DIR/<stage>/ with a manifest.json; rerunning skips finished work."""


def _add_study_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("study", nargs="?", help="study YAML (default: the embedded offline default study)")
    p.add_argument("--out", help="run directory (default: the config's output_dir)")
    p.add_argument("--force", action="store_true", help="rerun even if the stage's outputs are up to date")
    p.add_argument("--skip-bad-rows", action="store_true", help="skip and count malformed input rows instead of stopping")
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="valind", description="valind, the value-induction lab: induce values in LLMs and measure what else changes.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("run", help="run every stage in order (ingest -> validation -> report)",
                       description="Run the whole study. With no STUDY, runs the embedded offline default.")
    _add_study_args(p)
    p.add_argument("--executor", choices=["local", "ray"], default="local",
                   help="local: one process; ray: dispatch training/generation jobs to a Ray cluster")
    p.add_argument("--ray-address", default=None, help="Ray cluster address (default: start Ray on this machine)")
    p.add_argument("--max-retries", type=int, default=2, help="ray: retries per failed job before it is reported")

    for name, help_ in STAGE_HELP.items():
        p = sub.add_parser(name, help=help_.split(";")[0], description=help_)
        _add_study_args(p)
        if name == "extract":
            p.add_argument("gold", nargs="?", help=argparse.SUPPRESS)
            p.add_argument("--extractor", help="validate: extractor to measure (default: the offline default)")
            p.add_argument("--calibrate", metavar="FILE", help="validate: fit per-value thresholds on a split and write them to FILE")
            p.add_argument("--split", type=float, default=0.5, help="validate: share of gold rows used to calibrate")
            p.add_argument("--json", dest="json_out", metavar="FILE", help="validate: also write the figures as JSON")
            p.add_argument("--dataset", help="validate: a labelled set (moralchoice, outside, gold, all); "
                                             "direction-check: pku, hh or all")
            p.add_argument("--cv", action="store_true",
                           help="validate --dataset: also the learned extractor's grouped cross-validation and "
                                "leave-one-dataset-out figures")
            p.add_argument("--markdown", metavar="FILE", action="append",
                           help="validate --dataset / direction-check: rewrite the figures blocks of this Markdown "
                                "file (repeatable)")
            p.add_argument("--limit", type=int, help="direction-check: a seeded sample of this many pairs; "
                                                     "validate --dataset: of this many rows of each set")
            p.add_argument("--extractor-option", action="append", metavar="KEY=VALUE",
                           help="validate --dataset --extractor NAME: extractor option (JSON values allowed; "
                                "valind.calibration.sample), e.g. backend=vllm "
                                "'backend_options={\"dtype\": \"float32\"}' for the llm extractor on vLLM")
            p.add_argument("--weights-out", metavar="FILE",
                           help="train: where to write the heads (default: the shipped weights file)")

    p = sub.add_parser("report", help="write the HTML report and Markdown summary of a run (or of several runs)",
                       description="Write one self-contained HTML report (and a Markdown summary) for a run directory: effects against the control adapter and the base model. "
                                   "With several runs of the same study design (e.g. one model per machine), merge "
                                   "them into one report in -o DIR; runs whose values, suites, judges or seeds "
                                   "differ are refused, with each difference named.")
    p.add_argument("run_dir", nargs="*", help="run directory (default: runs/default), or several to merge")
    p.add_argument("-o", "--output", help="one run: the HTML file (default: RUN_DIR/report/report.html); "
                                          "several runs: the folder for the merged report (required)")

    p = sub.add_parser("score", help="tag or judge any JSONL of responses (values, refusal, anthro, sycophancy)",
                       description="Read records with `response` (optionally `prompt`, `id`) and write them back with the "
                                   "measure's fields added, every input field kept.")
    p.add_argument("measure", choices=["values", "refusal", "anthro", "sycophancy"])
    p.add_argument("input", help="input JSONL")
    p.add_argument("-o", "--output", required=True, help="output JSONL")
    p.add_argument("--extractor", help="values: extractor name (default: best offline)")
    p.add_argument("--judge", help="refusal/anthro/sycophancy: judge name (default: best offline)")
    p.add_argument("--skip-bad-rows", action="store_true", help="skip and count malformed records instead of stopping")
    p.add_argument("--batch-size", type=int, default=64)

    p = sub.add_parser("judge", help="measure the judges against labelled data (`valind judge validate`)",
                       description="valind judge validate: agreement of each judge with human labels (refusal: "
                                   "XSTest's labelled completions, with --cv grouped cross-validation).")
    p.add_argument("action", choices=["validate"])
    from .calibration.validate_judges import add_arguments as add_judge_validate_arguments

    add_judge_validate_arguments(p)
    p.add_argument("--limit", type=int, help="refusal: a seeded sample of this many labelled rows (an LLM judge on a "
                                              "CPU; valind.calibration.sample); the figures say so")

    p = sub.add_parser("verify", help="check every artifact of a run against its manifest")
    p.add_argument("run_dir")

    p = sub.add_parser("plan", help="print what a study will cost and what it can detect (power), before running",
                       description="Every stage of a study (extraction, training per job, generation, LLM judging, "
                                   "QA) with calls, tokens, FLOPs, GPU-hours and GPU memory per GPU, beside the "
                                   "published study's grid. Training activations: 34 x hidden bytes per token and "
                                   "layer (2 with gradient checkpointing) plus fp32 logits; inference: weights over "
                                   "tensor_parallel_size plus the KV cache of one full batch. Estimates, stated. "
                                   "Then power: for the configured held-out pairs, prompts and items, the smallest "
                                   "effect each primary measure detects with 80%% power at its family's threshold "
                                   "(exact tests; the manipulation check is its own confirmatory family), with a "
                                   "WARNING where the check cannot see a held-out implicit-reward accuracy of 0.70 "
                                   "or +15 points of own-value expression.")
    p.add_argument("study", nargs="*", help="study config(s); several are planned one after another and their "
                                            "totals set side by side (e.g. configs/paper_llama8b.yaml "
                                            "configs/paper_plus.yaml); none: the embedded default")
    p.add_argument("--utilisation", type=float, default=0.4, help="assumed GPU utilisation (MFU) for the GPU-hour estimate")
    p.add_argument("--out", help="run directory whose curated subsets to measure (default: the config's output_dir)")
    p.add_argument("--summary", action="store_true", help="only the cost per stage and the comparison with the study")

    p = sub.add_parser("export", help="export a study or a run: Slurm job array, hub upload, Inspect AI logs",
                       description="Export a study for a cluster scheduler (slurm), or a finished run for other "
                                   "tools: its adapters with model cards to the Hugging Face hub (hub), its "
                                   "generations and scores as Inspect AI evaluation logs (inspect).")
    targets = p.add_subparsers(dest="target", metavar="TARGET", required=True)
    e = targets.add_parser("slurm", help="a Slurm job array that trains every adapter of a study",
                           description="Prepare the data (ingest, extract, curate) here and write a job-array script.")
    e.add_argument("study")
    e.add_argument("-o", "--output", help="script path (default: RUN_DIR/slurm/array.sh)")
    e.add_argument("--out", help="run directory")
    e = targets.add_parser("hub", help="upload every adapter of a run, with its model card, to the Hugging Face hub",
                           description="One hub model repo per adapter (ORG/NAME-<model>-<value>-seed<k>): the PEFT "
                                       "adapter and its model card (README.md). The token is read from HF_TOKEN and "
                                       "never written. --dry-run lists what would be uploaded and uploads nothing.")
    e.add_argument("run_dir")
    e.add_argument("--repo-prefix", required=True, metavar="ORG/NAME", help="hub namespace and name prefix")
    e.add_argument("--dry-run", action="store_true", help="list the repos and files; upload nothing")
    e.add_argument("--private", action="store_true", help="create the repos as private")
    e = targets.add_parser("inspect", help="write each (model, adapter, suite) as an Inspect AI evaluation log",
                           description="Write one Inspect AI log (.eval) per (model, adapter, seed, suite) with the "
                                       "generations and valind's scores; open them with `inspect view --log-dir DIR`.")
    e.add_argument("run_dir")
    e.add_argument("-o", "--output", metavar="DIR", help="folder for the logs (default: RUN_DIR/export/inspect)")

    sub.add_parser("values", help="list the value definitions")
    return parser


def _load(args):
    from .pipeline import load

    return load(getattr(args, "study", None), skip_bad_rows=getattr(args, "skip_bad_rows", False))


def _call(target: str, args) -> int:
    """Call `module:function(args)` lazily, so heavy imports happen only for the chosen command."""
    mod, fn = target.split(":")
    return getattr(importlib.import_module(mod), fn)(args) or 0


def main(argv: list[str] | None = None) -> int:
    from .log import setup_logging

    args = build_parser().parse_args(argv)
    setup_logging(args.verbose)
    try:
        return _dispatch(args)
    except ValindError as exc:
        print(f"valind: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("valind: interrupted; rerun the same command to resume", file=sys.stderr)
        return 130


def _dispatch(args) -> int:
    from .pipeline import STAGES, done_message, run_stage, run_study

    cmd = args.command
    if cmd == "extract" and args.study == "validate":
        if args.dataset and (args.limit or args.extractor_option):
            return _call("valind.calibration.sample:main_extract", args)
        if args.dataset:
            return _call("valind.calibration.values.figures:main_validate", args)
        return _call("valind.calibration.values.validate:main", args)
    if cmd == "extract" and args.study == "direction-check":
        if not args.dataset:
            raise ConfigError("valind extract direction-check: give --dataset pku, hh or all")
        return _call("valind.calibration.values.figures:main_direction", args)
    if cmd == "extract" and args.study == "train":
        return _call("valind.calibration.values.train:main", args)
    if cmd == "run":
        if args.executor == "ray":
            return _call("valind.sweep.ray_executor:main", args)
        ctx = run_study(_load(args), args.out, force=args.force, progress=not args.no_progress)
        print(done_message(ctx.run_dir))
        return 0
    if cmd in STAGES and cmd != "report":
        from .context import RunContext

        cfg = _load(args)
        from .locks import lock_run

        ctx = RunContext(config=cfg, run_dir=Path(args.out or cfg.output_dir), force=args.force,
                         progress=not args.no_progress)
        with lock_run(ctx.run_dir):
            run_stage(ctx, cmd)
        return 0
    if cmd == "report":
        return _call("valind.report.cli:main", args)
    if cmd == "score":
        return _call("valind.score:main", args)
    if cmd == "judge" and args.limit:
        return _call("valind.calibration.sample:main_judge", args)
    if cmd == "judge":
        return _call("valind.calibration.validate_judges:main", args)
    if cmd == "verify":
        return _call("valind.verify:main", args)
    if cmd == "plan":
        return _call("valind.sweep.plan:main", args)
    if cmd == "export":
        return _call({"slurm": "valind.sweep.slurm:main", "hub": "valind.export.hub:main",
                      "inspect": "valind.export.inspect_logs:main"}[args.target], args)
    if cmd == "values":
        from .values import load_values
        for v in load_values().values():
            print(f"{v.name:16s} {v.category:10s} {v.valence:8s} {v.definition}")
        return 0
    raise AssertionError(cmd)


if __name__ == "__main__":
    sys.exit(main())
