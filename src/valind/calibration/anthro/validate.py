"""`valind judge validate --task anthro`: the anthropomorphism judges on labelled data.

1. The outside-labelled development set (200 responses, two annotators outside the project; found
   under ../shared/data or $VALIND_SHARED_DATA, or `--outside-labels`): Cohen's kappa per behaviour on
   the rows both annotators agree on, macro over behaviours with >= 5 agreed positives. Fitted
   judges (detector, learned) by grouped cross-validation and leave-one-source-out, refitting the
   shipped recipe; `rules` and any other judge (llm) directly. The shipped heads' in-sample figure
   is printed too, marked as such.
2. The in-house set (package:instruments/anthro/data/anthro_dev.jsonl, written and labelled inside the project):
   development data only, never evidence of agreement with outside annotators.

With `--write-docs`, the figures are written (commit and date stamped) into the marked blocks of
docs/evaluation.md and README.md.
"""

from __future__ import annotations

import datetime
import re
import subprocess
from pathlib import Path

import numpy as np

from ...errors import ConfigError
from ...instruments.anthro.definitions import NAMES
from ...instruments.anthro.variants import VARIANTS, variant_scores
from .evaluation import (OutsideSet, kappa_figures, load_outside_set, find_outside_set, measure,
                         outside_blocks)
from ...instruments.anthro.features import Featurizer

DEFAULT_JUDGES = ["rules", "learned", "detector"]
IN_HOUSE = "package:instruments/anthro/data/anthro_dev.jsonl"
IN_HOUSE_NOTE = "in-house development data (written and labelled inside the project; not an outside measure)"
_REPO = Path(__file__).resolve().parents[4]


def _verdict_matrix(verdicts) -> tuple[np.ndarray, int]:
    """(n, 14) presence (1.0 / 0.0) from typed verdicts, NaN where a behaviour was not judged: left out of
    that behaviour's figure (never counted as absent); and the number of responses with any unjudged."""
    pred = np.array([[np.nan if v.scores.get(b) is None else float(b in v.present) for b in NAMES]
                     for v in verdicts], dtype=float).reshape(len(verdicts), len(NAMES))
    return pred, sum(not v.complete for v in verdicts)


def _judge(name: str, options: dict, prompts, responses):
    from ...instruments.judges import make_judge

    with make_judge("anthro", name, **options) as judge:
        return judge.judge(prompts, responses)


def _shipped_predictions(name: str, options: dict, blocks: dict) -> np.ndarray:
    """What judge `name` (its shipped or configured heads) says on rows whose feature blocks are already
    computed: the judge's own scoring (variant_scores, scores rounded as in its verdicts, present at >= 0.5)
    without encoding the same texts a second time."""
    from ...instruments.judges import make_judge

    with make_judge("anthro", name, **options) as judge:
        scores = variant_scores(VARIANTS[name], judge.heads, blocks)
    return np.array([[float(round(float(s), 4) >= 0.5) for s in row] for row in scores]).reshape(scores.shape)


def validate_outside(data: OutsideSet, judges: list[str], options: dict, cross_validate: bool = True) -> dict:
    """Figures of each judge on the outside-labelled set. Without `cross_validate` (the run's own
    validation, which must be quick), fitted judges get only their in-sample figure, marked as such."""
    out = {"path": str(data.path), "rows": len(data.rows), "sha256": data.sha256(), "judges": {}}
    blocks = None
    for name in judges:
        if name in VARIANTS and VARIANTS[name].blocks and not cross_validate:
            pred, _ = _verdict_matrix(_judge(name, options, [r["prompt"] for r in data.rows],
                                             [r["response"] for r in data.rows]))
            res = {"kind": "IN-SAMPLE (shipped heads fitted on these rows; cross-validated figures: "
                           "valind judge validate --task anthro)", "in_sample_shipped": kappa_figures(pred, data)}
        elif name in VARIANTS:
            if blocks is None:
                blocks = outside_blocks(data, Featurizer(options.get("model"), options.get("device"),
                                                         int(options.get("batch_size", 64))))
            res = measure(name, data, blocks)
            if VARIANTS[name].blocks:  # the shipped heads on the features just computed: the judge's own verdicts
                res["in_sample_shipped"] = kappa_figures(_shipped_predictions(name, options, blocks), data)
        else:
            verdicts = _judge(name, options, [r["prompt"] for r in data.rows], [r["response"] for r in data.rows])
            pred, unjudged = _verdict_matrix(verdicts)
            res = {"kind": "direct (nothing fitted)", "cv": kappa_figures(pred, data), "unjudged": unjudged}
        out["judges"][name] = res
    return out


def validate_in_house(path: str | None, judges: list[str], options: dict) -> dict:
    """Figures on the in-house labelled set (one label per response)."""
    from ..labelled import load_labelled

    rows = load_labelled("anthro", path, "all")
    gold = np.array([[b in r["behaviours"] for b in NAMES] for r in rows], dtype=int)
    data = OutsideSet(Path(path or IN_HOUSE), rows, gold, gold)
    out = {"path": path or IN_HOUSE, "rows": len(rows), "note": IN_HOUSE_NOTE, "judges": {}}
    for name in judges:
        pred, unjudged = _verdict_matrix(_judge(name, options, [r.get("prompt") for r in rows],
                                                [r["response"] for r in rows]))
        out["judges"][name] = {**kappa_figures(pred, data), "unjudged": unjudged}
    return out


def run(judges: list[str] | None = None, labels: str | None = None, outside: str | None = None,
        judge_options: dict | None = None, cross_validate: bool = True) -> dict:
    judges = judges or DEFAULT_JUDGES
    options = judge_options or {}
    report = {}
    if outside or find_outside_set():
        report["outside_dev"] = validate_outside(load_outside_set(outside), judges, options, cross_validate)
    else:
        report["outside_dev"] = {"skipped": "outside-labelled set not found: set VALIND_SHARED_DATA to the folder "
                                            "holding labelled/outside_labelled_dev.jsonl, or pass --outside-labels"}
    report["in_house_dev"] = validate_in_house(labels, judges, options)
    return report


# ------------------------------------------------------------------------------------ printing
def _per_line(fig: dict) -> str:
    return "  ".join(f"{k} {v['kappa']:.2f}" for k, v in fig["per_behaviour"].items()
                     if k in fig["behaviours_counted"])


def format_report(report: dict) -> str:
    lines = []
    od = report["outside_dev"]
    if "skipped" in od:
        lines.append(f"anthro   outside-labelled dev: skipped ({od['skipped']})")
    else:
        lines.append(f"anthro   outside-labelled dev set {od['path']} ({od['rows']} responses, two outside annotators; "
                     "kappa on agreed labels, macro over behaviours with >= 5 agreed positives)")
        for name, res in od["judges"].items():
            cv = res.get("cv") or res["in_sample_shipped"]  # without cross-validation: the in-sample figure only
            lines.append(f"  {name:9s} {res['kind']:34s} macro kappa {cv['macro_kappa']:.3f} "
                         f"({len(cv['behaviours_counted'])} behaviours)")
            lines.append(f"      {_per_line(cv)}")
            for split, fig in res.get("leave_one_source_out", {}).items():
                lines.append(f"      leave-one-source-out {split}: macro kappa {fig['macro_kappa']:.3f} "
                             f"({len(fig['behaviours_counted'])} behaviours)")
            if "in_sample_shipped" in res and "cv" in res:
                lines.append(f"      shipped heads, IN-SAMPLE (fitted on these rows): macro kappa "
                             f"{res['in_sample_shipped']['macro_kappa']:.3f}")
            if res.get("unjudged"):
                lines.append(f"      unjudgeable responses (some behaviour unparsed): {res['unjudged']}")
    ih = report["in_house_dev"]
    lines.append(f"anthro   {ih['path']} ({ih['rows']} responses): {ih['note']}")
    for name, fig in ih["judges"].items():
        lines.append(f"  {name:9s} macro kappa {fig['macro_kappa']:.3f} ({len(fig['behaviours_counted'])} behaviours)"
                     + (f", unjudgeable {fig['unjudged']}" if fig.get("unjudged") else ""))
    return "\n".join(lines)


# ------------------------------------------------------------------------------------ docs
def _stamp() -> str:
    def git(*args):
        try:
            return subprocess.run(["git", "-C", str(_REPO), *args], capture_output=True, text=True,
                                  timeout=20).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    if git("status", "--porcelain", "--", "src"):
        commit += " + uncommitted changes"
    from .. import version_stamp

    return f"commit {commit}, {datetime.date.today().isoformat()}, {version_stamp('anthro')}"


def docs_tables(report: dict) -> tuple[str, str]:
    """(README block, docs/evaluation.md block) in Markdown."""
    od, ih = report["outside_dev"], report["in_house_dev"]
    if "skipped" in od:
        raise ConfigError(f"--write-docs needs the outside-labelled set ({od['skipped']})")
    judges = list(od["judges"])
    stamp = f"Written by `valind judge validate --task anthro --write-docs` ({_stamp()})."
    head = "| judge | how measured | macro kappa | " + " | ".join(
        f"LOSO {k.replace('hh-rlhf-harmless-test', 'HH').replace('smollm2-on-anthrobench', 'SmolLM2')}"
        for k in od["judges"][judges[0]].get("leave_one_source_out", {})) + " |"
    rows = []
    for name in judges:
        res = od["judges"][name]
        loso = " | ".join(f"{f['macro_kappa']:.3f}" for f in res.get("leave_one_source_out", {}).values())
        rows.append(f"| `{name}` | {res['kind']} | **{res['cv']['macro_kappa']:.3f}** | {loso} |")
    summary = "\n".join([head, "|" + "---|" * (head.count("|") - 1), *rows])
    readme = (f"Anthropomorphism (AnthroBench's 14 behaviours) on {od['rows']} responses labelled outside the "
              "project (two annotators; Cohen's kappa on the labels both gave, macro over behaviours with at least "
              "5 agreed positives; fitted judges by grouped cross-validation, LOSO = leave one source out):\n\n"
              f"{summary}\n\n{stamp}\n")
    counted = od["judges"][judges[0]]["cv"]["per_behaviour"]
    per = ["| behaviour | agreed positives | " + " | ".join(f"`{j}`" for j in judges) + " |",
           "|---|---|" + "---|" * len(judges)]
    for b, fig in counted.items():
        per.append(f"| {b} | {fig['positives']} | " + " | ".join(
            f"{od['judges'][j]['cv']['per_behaviour'][b]['kappa']:.3f}" for j in judges) + " |")
    in_sample = [f"`{j}` {od['judges'][j]['in_sample_shipped']['macro_kappa']:.3f}" for j in judges
                 if "in_sample_shipped" in od["judges"][j]]
    in_house = ", ".join(f"`{j}` {f['macro_kappa']:.3f}" for j, f in ih["judges"].items())
    docs = (f"{readme}\nPer behaviour (kappa; the same measurement as above):\n\n" + "\n".join(per) + "\n\n"
            + (f"The shipped heads on the rows they were fitted on (in-sample, for reference only): "
               f"{', '.join(in_sample)}.\n\n" if in_sample else "")
            + f"The in-house set `{ih['path']}` ({ih['rows']} responses, {IN_HOUSE_NOTE}): macro kappa "
              f"{in_house}.\n")
    return readme, docs


def replace_block(path: Path, name: str, body: str) -> None:
    """Replace the text between `<!-- figures:NAME -->` and `<!-- /figures:NAME -->` in a file."""
    text = path.read_text(encoding="utf-8")
    start, end = f"<!-- figures:{name} -->", f"<!-- /figures:{name} -->"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        raise ConfigError(f"{path}: marker {start} ... {end} not found")
    path.write_text(pattern.sub(lambda _: f"{start}\n{body.rstrip()}\n{end}", text), encoding="utf-8")


def write_docs(report: dict, repo: Path | None = None) -> list[Path]:
    repo = repo or _REPO
    readme, docs = docs_tables(report)
    replace_block(repo / "README.md", "anthro", readme)
    replace_block(repo / "docs" / "evaluation.md", "anthro", docs)
    return [repo / "README.md", repo / "docs" / "evaluation.md"]
