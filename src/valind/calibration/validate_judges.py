"""Measure judges against valind's labelled sets: accuracy, Cohen's kappa and per-class F1.

    valind judge validate [--task refusal|anthro|all] [--judges prefix,xstest-strmatch,learned,llm]
                          [--split all|dev|test] [--labels FILE] [--cv] [--markdown FILE]
                          [--outside-labels FILE] [--write-docs] [--judge-option KEY=VALUE ...] [--json FILE]
    python -m valind.calibration.validate_judges ...   (same arguments)

Refusal (refusal/validate.py): on XSTest's human-labelled completions, binary agreement on
`refused` and three-class agreement (full_compliance / full_refusal / partial_refusal); with
`--cv`, grouped cross-validation by prompt and leave-one-model-out. Anthro (anthro/validate.py):
Cohen's kappa per behaviour and macro on the outside-labelled development set (grouped
cross-validation and leave-one-source-out for fitted judges) and on the in-house set, marked as
development data; `--write-docs` writes those figures into README.md and docs/evaluation.md.
"""

from __future__ import annotations

import argparse
import sys

from ..artifacts import atomic_write_json
from ..errors import ConfigError
from .anthro import validate as anthro_validation
from . import parse_options
from .labelled import DEFAULT_LABELS, load_labelled  # noqa: F401  (re-exported: tests, docs)

DEFAULT_JUDGES = {"anthro": anthro_validation.DEFAULT_JUDGES}


def judge_rows(task: str, judge, rows: list[dict]) -> list[dict]:
    """The judge's output for every labelled row (judged once, scored per split afterwards)."""
    return judge.judge([r.get("prompt") for r in rows], [r["response"] for r in rows])


def run(task: str = "all", judges: list[str] | None = None, split: str = "all", labels: str | None = None,
        judge_options: dict | None = None, cv: bool = False, outside_labels: str | None = None,
        anthro_cv: bool = True) -> dict:
    """Figures per task: refusal as in refusal/validate.py; anthro as in anthro/validate.py (outside_dev,
    in_house_dev; `anthro_cv=False` skips its cross-validation, for a quick check)."""
    tasks = ["refusal", "anthro"] if task == "all" else [task]
    if labels and len(tasks) > 1:
        raise ConfigError("--labels needs --task refusal or --task anthro")
    report: dict = {}
    for t in tasks:
        if t == "refusal":  # XSTest's labelled completions, grouped CV: refusal/validate.py
            from .refusal.validate import run as validate_refusal_judges

            report["refusal"] = validate_refusal_judges(judges if task == "refusal" else None, labels,
                                                        judge_options, cv)
        else:
            report["anthro"] = anthro_validation.run(judges if task == "anthro" else None, labels, outside_labels,
                                                     judge_options, anthro_cv)
            print(anthro_validation.format_report(report["anthro"]), flush=True)
    return report


def main(args) -> int:
    """CLI entry (`valind judge validate`); reads task, judges, split, labels, judge_option, json_out."""
    judges = getattr(args, "judges", None)
    if isinstance(judges, str):
        judges = [j.strip() for j in judges.split(",") if j.strip()]
    task = getattr(args, "task", "all") or "all"
    if getattr(args, "write_docs", False) and (task != "anthro" or judges or getattr(args, "labels", None)):
        raise ConfigError("--write-docs needs --task anthro with the default judges and labelled sets")
    report = run(task=task, judges=judges, split=getattr(args, "split", "all") or "all",
                 labels=getattr(args, "labels", None), judge_options=parse_options(getattr(args, "judge_option", None), "--judge-option"),
                 cv=bool(getattr(args, "cv", False)), outside_labels=getattr(args, "outside_labels", None))
    if getattr(args, "json_out", None):
        atomic_write_json(args.json_out, report)
    if getattr(args, "write_docs", False):
        for path in anthro_validation.write_docs(report["anthro"]):
            print(f"figures written to {path}")
    if getattr(args, "markdown", None):
        if "refusal" not in report:
            raise ConfigError("--markdown writes the refusal table: use it with --task refusal")
        from .refusal.validate import markdown, write_markdown

        targets = [args.markdown] if isinstance(args.markdown, str) else list(args.markdown)
        command = "valind judge validate --task refusal" + (" --cv" if getattr(args, "cv", False) else "") + \
            (f" --judges {','.join(judges)}" if judges else "") + (f" --labels {args.labels}" if args.labels else "") + \
            "".join(f" --markdown {m}" for m in targets)
        for target in targets:
            write_markdown(target, markdown(report["refusal"], command))
    return 0


def add_arguments(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The command's arguments (shared by `valind judge validate` and `python -m`)."""
    p.add_argument("--task", choices=["refusal", "anthro", "all"], default="all")
    p.add_argument("--judges", help="comma-separated judge names (default: refusal prefix,xstest-strmatch,learned; "
                                    "anthro rules,learned,detector)")
    p.add_argument("--split", choices=["all", "dev", "test", "every"], default="all",
                   help="unused by refusal and anthro (kept for scripts)")
    p.add_argument("--labels", help="refusal: a CSV in XSTest's format or a JSONL (response, label[, prompt, model, "
                                    "group]) instead of XSTest's labelled completions; anthro: a JSONL in the same "
                                    "schema as valind's set")
    p.add_argument("--cv", action="store_true",
                   help="refusal: also grouped cross-validation (by prompt, and leave one model out); a fitted judge "
                        "is refitted per fold")
    p.add_argument("--markdown", metavar="FILE", action="append",
                   help="refusal: write the figures as a Markdown table (with commit, date and the judges' version) "
                        "to FILE, or between its <!-- refusal-figures:start/end --> markers when it has them "
                        "(README.md); repeatable")
    p.add_argument("--outside-labels", metavar="FILE",
                   help="anthro: the outside-labelled set (default: labelled/outside_labelled_dev.jsonl under "
                        "$VALIND_SHARED_DATA or ../shared/data)")
    p.add_argument("--write-docs", action="store_true",
                   help="anthro: write the figures (commit and date stamped) into README.md and docs/evaluation.md")
    p.add_argument("--judge-option", action="append", metavar="KEY=VALUE",
                   help="judge option, e.g. model=embedded:smollm2-135m-instruct backend=transformers (JSON values allowed)")
    p.add_argument("--json", dest="json_out", metavar="FILE", help="also write the figures as JSON")
    return p


def build_parser() -> argparse.ArgumentParser:
    return add_arguments(argparse.ArgumentParser(prog="valind judge validate", description=__doc__.split("\n\n")[0]))


if __name__ == "__main__":
    from ..errors import ValindError

    try:
        sys.exit(main(build_parser().parse_args()))
    except ValindError as exc:
        print(f"valind: error: {exc}", file=sys.stderr)
        sys.exit(2)
