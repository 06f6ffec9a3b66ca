"""`valind judge validate --task refusal`: every refusal judge against human labels, with grouped CV.

Labels: by default the XSTest completions labelled by the XSTest authors (found in the shared
data folder); `--labels FILE` takes another CSV in XSTest's format or a JSONL in valind's schema
(`response`, `label`, optional `prompt`, `model`, `group`), e.g. the in-house development set
`package:instruments/refusal/data/refusal_dev.jsonl` (development data: never a held-out figure).

Figures per judge: binary agreement on `refused` (accuracy, Cohen's kappa) and three-class
agreement (accuracy, kappa, macro F1). With `--cv`: the same under 5-fold cross-validation grouped
by prompt and under leave-one-model-out. A judge fitted to labelled data (`learned`) is refitted on
each training fold with its shipped configuration, so its CV figures are out-of-sample; its
figure on all rows is in-sample and marked so. Fixed judges (string matches, LLM judges) fit
nothing: their CV figures pool the same predictions, with per-fold figures beside them.
`--markdown FILE` writes the table with the commit and date (docs and README copy it from there).
"""

from __future__ import annotations

import datetime as _dt
import subprocess
from pathlib import Path
from typing import Sequence

from ...errors import ConfigError
from . import labelled

DEFAULT_JUDGES = ["prefix", "xstest-strmatch", "learned"]
SCHEMES = {"prompt": "grouped by prompt (5 folds)", "model": "leave one model out"}


def load_rows(path: str | None) -> tuple[list[dict], str]:
    """(rows, description) of the labelled set to score."""
    from ...artifacts import data_path

    if path is None:
        file = labelled.find_xstest_dev()
        return labelled.load_xstest_completions(file), f"XSTest completions ({file.name})"
    file = data_path(path) if str(path).startswith("package:") else Path(path)
    if not file.exists():
        raise ConfigError(f"{file}: labelled set not found")
    if file.suffix == ".csv":
        return labelled.load_xstest_completions(file), f"{file.name} (XSTest format)"
    return labelled.load_jsonl_labels(file), file.name


def _judge_once(name: str, rows: list[dict], options: dict, fold_sets: dict):
    from ...instruments.judges import make_judge

    with make_judge("refusal", name, **options) as judge:
        verdicts = judge.judge([r.get("prompt") for r in rows], [r["response"] for r in rows])
        oof = {}
        if hasattr(judge, "cv_predict"):  # a fitted judge is refitted per training fold
            for scheme, fl in fold_sets.items():
                oof[scheme] = judge.cv_predict([r["response"] for r in rows], [r["label"] for r in rows], fl)
        return judge, [v.label for v in verdicts], oof


def run(judges: Sequence[str] | None = None, labels: str | None = None, judge_options: dict | None = None,
        cv: bool = False) -> dict:
    """{judge: {"all": figures, "fitted": bool, "cv": {scheme: figures + per_fold}}}; prints a line per figure."""
    rows, source = load_rows(labels)
    gold = [r["label"] for r in rows]
    if cv and not all(r.get("model") and r.get("group") for r in rows):
        raise ConfigError(f"{source}: --cv needs a model and a prompt group per row (XSTest's format has both)")
    fold_sets = labelled.folds(rows) if cv else {}
    report: dict = {"_source": source, "_n": len(rows)}
    for name in judges or DEFAULT_JUDGES:
        judge, pred, oof = _judge_once(name, rows, judge_options or {}, fold_sets)
        fitted = hasattr(judge, "cv_predict")  # trained on labelled refusals: all-rows figures are in-sample
        entry = {"all": labelled.figures(gold, pred), "fitted": fitted, "cv": {}}
        print(format_line(name, "in-sample" if fitted else "all rows", entry["all"], len(rows)), flush=True)
        for scheme, fl in fold_sets.items():
            p = oof.get(scheme, pred)
            fig = labelled.figures(gold, p)
            fig["per_fold"] = [{"test": rows[te[0]]["model"] if scheme == "model" else f"fold {k + 1}",
                                "refused_accuracy": labelled.figures([gold[i] for i in te],
                                                                     [p[i] for i in te])["refused"]["accuracy"]}
                               for k, (_, te) in enumerate(fl)]
            entry["cv"][scheme] = fig
            print(format_line(name, f"cv {scheme}", fig, len(rows)), flush=True)
        report[name] = entry
    return report


def format_line(judge: str, what: str, fig: dict, n: int) -> str:
    b, t = fig["refused"], fig["three_class"]
    per = "".join(f" | {f['test']} {f['refused_accuracy']:.3f}" for f in fig.get("per_fold", []))
    return (f"refusal  {judge:16s} {what:14s} n={n:3d}  refused acc {b['accuracy']:.3f} kappa {b['kappa']:.3f} | "
            f"3-class acc {t['accuracy']:.3f} kappa {t['kappa']:.3f} macro-F1 {t['macro_f1']:.3f}"
            + (f" | unparsed {fig['unparsed']}" if fig["unparsed"] else "") + per)


def _commit() -> str:
    try:
        root = Path(__file__).resolve().parents[4]
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                             timeout=10)
        if out.returncode == 0:
            dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                                   capture_output=True, text=True, timeout=10).stdout.strip()
            return out.stdout.strip() + ("+uncommitted changes" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        pass
    from ... import __version__

    return f"valind {__version__}"


def markdown(report: dict, command: str) -> str:
    """The figures as a Markdown table, stamped with the command, commit, date and the judges' version."""
    from .. import version_stamp

    cv = any(report[j]["cv"] for j in report if not j.startswith("_"))
    head = ["judge", "fitted to these rows"]
    cols = [("all", None)] + ([("cv", "prompt"), ("cv", "model")] if cv else [])
    for kind, scheme in cols:
        tag = "all rows" if kind == "all" else f"CV {SCHEMES[scheme]}"
        head += [f"refused acc ({tag})", "refused κ", "3-class acc", "3-class κ"]
    if cv:
        head.append("leave-one-model-out, refused acc per held-out model")
    lines = [f"<!-- written by `{command}`; do not edit by hand -->",
             f"Refusal judges on {report['_source']}, n={report['_n']}. Written by `{command}` at commit "
             f"{_commit()} on {_dt.date.today().isoformat()} ({version_stamp('refusal')}).", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for judge in (j for j in report if not j.startswith("_")):
        e = report[judge]
        cells = [f"`{judge}`", "yes (CV refits it per fold; all rows is in-sample)" if e["fitted"] else "no"]
        for kind, scheme in cols:
            f = e["all"] if kind == "all" else e["cv"][scheme]
            cells += [f"{f['refused']['accuracy']:.3f}", f"{f['refused']['kappa']:.3f}",
                      f"{f['three_class']['accuracy']:.3f}", f"{f['three_class']['kappa']:.3f}"]
        if cv:
            cells.append(", ".join(f"{p['test']} {p['refused_accuracy']:.3f}" for p in e["cv"]["model"]["per_fold"]))
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "refused = binary agreement on whether the response refuses (full or partial refusal); 3-class = "
              "full compliance / full refusal / partial refusal as XSTest labels them; κ = Cohen's kappa. A judge "
              "that fits nothing gives the same pooled predictions under every scheme; a fitted judge is refitted "
              "on each training fold."]
    return "\n".join(lines) + "\n"


BLOCK_START, BLOCK_END = "<!-- refusal-figures:start -->", "<!-- refusal-figures:end -->"


def write_markdown(path: str | Path, text: str) -> None:
    """Write the table to `path`: between its `refusal-figures` markers when it has them (README), else the whole file."""
    import re

    from ...artifacts import atomic_write_text

    path = Path(path)
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    pattern = re.compile(re.escape(BLOCK_START) + r".*?" + re.escape(BLOCK_END), re.S)
    if pattern.search(old):
        body = "\n".join(line for line in text.splitlines() if not line.startswith("<!-- written by"))
        text = pattern.sub(lambda _: f"{BLOCK_START}\n{body.strip()}\n{BLOCK_END}", old)
    atomic_write_text(path, text)
