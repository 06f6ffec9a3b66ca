"""Measure judges against valind's labelled sets: accuracy, Cohen's kappa and per-class F1.

    valind judge validate [--task refusal|anthro|all] [--judges prefix,xstest-strmatch,learned,llm]
                          [--split all|dev|test] [--labels FILE] [--cv] [--markdown FILE]
                          [--judge-option KEY=VALUE ...] [--json FILE]
    python -m valind.instruments.validate_judges ...   (same arguments)

Refusal (refusal/validate.py): on XSTest's human-labelled completions, binary agreement on
`refused` and three-class agreement (full_compliance / full_refusal / partial_refusal); with
`--cv`, grouped cross-validation by prompt and leave-one-model-out. Anthro: per behaviour (present / absent), their macro average, and the
share of responses whose whole behaviour set matches. Labelled sets and guidelines:
valind/instruments/<measure>/data/. The anthro detector was tuned on the `dev` split only.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..artifacts import atomic_write_json, data_path, read_jsonl
from ..errors import ConfigError, InputError
from .judges import make_judge
from .anthro.rules import BEHAVIOURS
from .refusal.rules import REFUSAL_LABELS
from .metrics import agreement

DEFAULT_LABELS = {"refusal": "package:instruments/refusal/data/refusal_dev.jsonl",
                  "anthro": "package:instruments/anthro/data/anthro_dev.jsonl"}
DEFAULT_JUDGES = {"anthro": ["detector"]}


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


def validate_anthro(rows: list[dict], out: list[dict]) -> dict:
    per = {}
    for b in BEHAVIOURS:
        per[b] = agreement([b in r["behaviours"] for r in rows], [b in o["anthro_behaviours"] for o in out],
                           labels=[True, False])
    return {"per_behaviour": per,
            "macro": {k: sum(m[k] for m in per.values()) / len(per) for k in ("accuracy", "kappa")}
            | {"f1_present": sum(m["per_class"]["True"]["f1"] for m in per.values()) / len(per)},
            "exact_set_match": sum(set(r["behaviours"]) == set(o["anthro_behaviours"]) for r, o in zip(rows, out))
            / len(rows),
            "unparsed": sum(1 for o in out if o.get("judge_error"))}


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
    """The anthro figures as text (refusal lines: refusal/validate.py)."""
    lines = []
    mac = res["macro"]
    lines.append(f"anthro   {judge:13s} {split:5s} macro acc {mac['accuracy']:.3f} kappa {mac['kappa']:.3f} "
                 f"F1(present) {mac['f1_present']:.3f} | exact set match {res['exact_set_match']:.3f}")
    for b, m in res["per_behaviour"].items():
        lines.append(f"    {b:30s} acc {m['accuracy']:.3f} kappa {m['kappa']:.3f} F1 {m['per_class']['True']['f1']:.3f}"
                     f" (positives {m['per_class']['True']['support']})")
    return "\n".join(lines)


def run(task: str = "all", judges: list[str] | None = None, split: str = "all", labels: str | None = None,
        judge_options: dict | None = None, cv: bool = False) -> dict:
    """Figures for every (task, judge); {task: {judge: {split: results}}}."""
    tasks = ["refusal", "anthro"] if task == "all" else [task]
    if labels and len(tasks) > 1:
        raise ConfigError("--labels needs --task refusal or --task anthro")
    splits = ["dev", "test", "all"] if split == "every" else [split]
    report: dict = {}
    for t in tasks:
        if t == "refusal":  # XSTest's labelled completions, grouped CV: refusal/validate.py
            from .refusal.validate import run as validate_refusal_judges

            report["refusal"] = validate_refusal_judges(judges if task == "refusal" else None, labels,
                                                        judge_options, cv)
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
                sub_rows, sub_out = [p[0] for p in pairs], [p[1] for p in pairs]
                res = validate_refusal(sub_rows, sub_out) if t == "refusal" else validate_anthro(sub_rows, sub_out)
                report.setdefault(t, {}).setdefault(name, {})[s] = res
                print(format_report(t, name, s, res), flush=True)
    return report


def main(args) -> int:
    """CLI entry (`valind judge validate`); reads task, judges, split, labels, judge_option, json_out."""
    judges = getattr(args, "judges", None)
    if isinstance(judges, str):
        judges = [j.strip() for j in judges.split(",") if j.strip()]
    task = getattr(args, "task", "all") or "all"
    report = run(task=task, judges=judges, split=getattr(args, "split", "all") or "all",
                 labels=getattr(args, "labels", None), judge_options=_parse_options(getattr(args, "judge_option", None)),
                 cv=bool(getattr(args, "cv", False)))
    if getattr(args, "json_out", None):
        atomic_write_json(args.json_out, report)
    if getattr(args, "markdown", None):
        if "refusal" not in report:
            raise ConfigError("--markdown writes the refusal table: use it with --task refusal")
        from ..artifacts import atomic_write_text
        from .refusal.validate import markdown

        command = "valind judge validate --task refusal" + (" --cv" if getattr(args, "cv", False) else "") + \
            (f" --judges {','.join(judges)}" if judges else "") + (f" --labels {args.labels}" if args.labels else "") + \
            f" --markdown {args.markdown}"
        atomic_write_text(args.markdown, markdown(report["refusal"], command))
    return 0


def add_arguments(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The command's arguments (shared by `valind judge validate` and `python -m`)."""
    p.add_argument("--task", choices=["refusal", "anthro", "all"], default="all")
    p.add_argument("--judges", help="comma-separated judge names (default: refusal prefix,xstest-strmatch,learned; "
                                    "anthro detector)")
    p.add_argument("--split", choices=["all", "dev", "test", "every"], default="all",
                   help="anthro: labelled split to score (every = dev, test and all)")
    p.add_argument("--labels", help="refusal: a CSV in XSTest's format or a JSONL (response, label[, prompt, model, "
                                    "group]) instead of XSTest's labelled completions; anthro: a JSONL in the same "
                                    "schema as valind's set")
    p.add_argument("--cv", action="store_true",
                   help="refusal: also grouped cross-validation (by prompt, and leave one model out); a fitted judge "
                        "is refitted per fold")
    p.add_argument("--markdown", metavar="FILE", help="refusal: write the figures as a Markdown table (with commit "
                                                      "and date) for the docs")
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
