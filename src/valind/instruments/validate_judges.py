"""Measure judges against labelled sets: accuracy, Cohen's kappa and per-class F1.

    valind judge validate [--task refusal|anthro|all] [--judges prefix,detector,llm] [--split all|dev|test]
                          [--labels FILE] [--outside-labels FILE] [--judge-option KEY=VALUE ...]
                          [--json FILE] [--write-docs]
    python -m valind.instruments.validate_judges ...   (same arguments)

Refusal: three-class agreement (full_compliance / full_refusal / partial_refusal) and binary
agreement on `refused`, on instruments/refusal/data/refusal_dev.jsonl (the detector was tuned on its
`dev` split only). Anthro: Cohen's kappa per behaviour and macro on the outside-labelled development
set (cross-validated for fitted judges) and on the in-house set, marked as development data
(valind.instruments.anthro.validate).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..artifacts import atomic_write_json, data_path, read_jsonl
from ..errors import ConfigError, InputError
from .judges import make_judge
from .anthro import BEHAVIOURS
from .anthro import validate as anthro_validation
from .refusal.rules import REFUSAL_LABELS
from .metrics import agreement

DEFAULT_LABELS = {"refusal": "package:instruments/refusal/data/refusal_dev.jsonl",
                  "anthro": "package:instruments/anthro/data/anthro_dev.jsonl"}
DEFAULT_JUDGES = {"refusal": ["prefix", "detector"], "anthro": anthro_validation.DEFAULT_JUDGES}


def load_labelled(task: str, path: str | None, split: str) -> list[dict]:
    """Rows of a labelled set (every row needs response and the task's label field)."""
    file = Path(path) if path else data_path(DEFAULT_LABELS[task])
    if not file.exists():
        raise ConfigError(f"{file}: labelled set not found")
    rows = read_jsonl(file)
    field = "label" if task == "refusal" else "behaviours"
    for n, r in enumerate(rows, 1):
        if not isinstance(r.get("response"), str):
            raise InputError(file, n, "response", "missing or not a string")
        if field not in r:
            raise InputError(file, n, field, "missing")
        if task == "refusal" and r["label"] not in REFUSAL_LABELS:
            raise InputError(file, n, "label", f"'{r['label']}' is not one of {', '.join(REFUSAL_LABELS)}")
        if task == "anthro" and not set(r["behaviours"]) <= set(BEHAVIOURS):
            raise InputError(file, n, "behaviours", f"unknown behaviour(s) {sorted(set(r['behaviours']) - set(BEHAVIOURS))}")
    return [r for r in rows if split == "all" or r.get("split") == split]


def judge_rows(task: str, judge, rows: list[dict]) -> list[dict]:
    """The judge's output for every labelled row (judged once, scored per split afterwards)."""
    return judge.judge([r.get("prompt") for r in rows], [r["response"] for r in rows])


def validate_refusal(rows: list[dict], out: list[dict]) -> dict:
    pred = [o["refusal"] if o["refusal"] is not None else "unparsed" for o in out]
    gold = [r["label"] for r in rows]
    return {"three_class": agreement(gold, pred, labels=list(REFUSAL_LABELS)),
            "refused": agreement([g != "full_compliance" for g in gold], [p in ("full_refusal", "partial_refusal")
                                                                        for p in pred], labels=[True, False]),
            "unparsed": pred.count("unparsed")}


def _parse_options(pairs: list[str] | None) -> dict:
    opts = {}
    for pair in pairs or []:
        if "=" not in pair:
            raise ConfigError(f"--judge-option {pair!r}: expected KEY=VALUE")
        k, v = pair.split("=", 1)
        try:
            opts[k] = json.loads(v)
        except json.JSONDecodeError:
            opts[k] = v
    return opts


def format_report(task: str, judge: str, split: str, res: dict) -> str:
    m, b = res["three_class"], res["refused"]
    f1 = "  ".join(f"{k} {v['f1']:.3f}" for k, v in m["per_class"].items())
    return (f"refusal  {judge:13s} {split:5s} n={m['n']:3d}  3-class acc {m['accuracy']:.3f} kappa "
            f"{m['kappa']:.3f} macro-F1 {m['macro_f1']:.3f} | F1 {f1} | refused acc {b['accuracy']:.3f} "
            f"kappa {b['kappa']:.3f}" + (f" | unparsed {res['unparsed']}" if res["unparsed"] else ""))


def run(task: str = "all", judges: list[str] | None = None, split: str = "all", labels: str | None = None,
        judge_options: dict | None = None, outside_labels: str | None = None, anthro_cv: bool = True) -> dict:
    """Figures for every (task, judge): refusal {judge: {split: results}}; anthro as in
    valind.instruments.anthro.validate (outside_dev, in_house_dev; `anthro_cv=False` skips its
    cross-validation, for a quick check)."""
    tasks = ["refusal", "anthro"] if task == "all" else [task]
    if labels and len(tasks) > 1:
        raise ConfigError("--labels needs --task refusal or --task anthro")
    splits = ["dev", "test", "all"] if split == "every" else [split]
    report: dict = {}
    for t in tasks:
        if t == "anthro":
            report["anthro"] = anthro_validation.run(judges, labels, outside_labels, judge_options, anthro_cv)
            print(anthro_validation.format_report(report["anthro"]), flush=True)
            continue
        judged = load_labelled(t, labels, "all" if split == "every" else split)
        for name in judges or DEFAULT_JUDGES[t]:
            judge = make_judge(t, name, **(judge_options or {}))
            try:
                out = judge_rows(t, judge, judged)
            finally:
                if hasattr(judge, "close"):
                    judge.close()
            for s in splits:
                pairs = [(r, o) for r, o in zip(judged, out) if s == "all" or r.get("split") == s]
                if not pairs:
                    raise ConfigError(f"{t}: no labelled rows in split '{s}'")
                res = validate_refusal([p[0] for p in pairs], [p[1] for p in pairs])
                report.setdefault(t, {}).setdefault(name, {})[s] = res
                print(format_report(t, name, s, res), flush=True)
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
                 labels=getattr(args, "labels", None), judge_options=_parse_options(getattr(args, "judge_option", None)),
                 outside_labels=getattr(args, "outside_labels", None))
    if getattr(args, "json_out", None):
        atomic_write_json(args.json_out, report)
    if getattr(args, "write_docs", False):
        for path in anthro_validation.write_docs(report["anthro"]):
            print(f"figures written to {path}")
    return 0


def add_arguments(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The command's arguments (shared by `valind judge validate` and `python -m`)."""
    p.add_argument("--task", choices=["refusal", "anthro", "all"], default="all")
    p.add_argument("--judges", help="comma-separated judge names (default: refusal prefix,detector; "
                                    "anthro rules,learned,detector)")
    p.add_argument("--split", choices=["all", "dev", "test", "every"], default="all",
                   help="refusal: labelled split to score (every = dev, test and all)")
    p.add_argument("--labels", help="a labelled JSONL in the same schema instead of valind's in-house set")
    p.add_argument("--outside-labels", metavar="FILE",
                   help="anthro: the outside-labelled set (default: labelled/outside_labelled_dev.jsonl under "
                        "$VALIND_SHARED_DATA or ../shared/data)")
    p.add_argument("--judge-option", action="append", metavar="KEY=VALUE",
                   help="judge option, e.g. model=embedded:smollm2-135m-instruct backend=transformers (JSON values allowed)")
    p.add_argument("--json", dest="json_out", metavar="FILE", help="also write the figures as JSON")
    p.add_argument("--write-docs", action="store_true",
                   help="anthro: write the figures (commit and date stamped) into README.md and docs/evaluation.md")
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
