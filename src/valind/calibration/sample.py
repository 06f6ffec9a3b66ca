"""An instrument measured on a seeded sample of the labelled rows: `--limit N` (and `--extractor-option`).

    valind extract validate --dataset SET|all --extractor NAME [--extractor-option KEY=VALUE ...] --limit N
                            [--markdown FILE] [--json FILE]
    valind judge validate --task refusal --judges NAMES [--judge-option KEY=VALUE ...] --limit N
                          [--markdown FILE] [--json FILE]

For an instrument that is slow where it runs (an LLM on a CPU): the same figures as the full commands
(calibration/values/figures.py: AP per value against each labelled set; instruments/refusal/
validate.py: agreement with XSTest's labels), on N rows of each set drawn with a fixed seed (the same
rows every time), with the instrument's options given on the command line. The output says n, the
sample and the options; an extraction or judgement that failed is counted, never read as an answer.
An extractor's figures go to its own block (`figures-SET-NAME`), so the offline extractors' published
tables stay as their command wrote them.

Kept outside `instruments/` on purpose: the instruments' version hash covers that folder, and this
module changes which rows are measured, not how.
"""

from __future__ import annotations

import shlex
from typing import Sequence

import numpy as np

from ..errors import ConfigError
from . import parse_options


def sample(n: int, limit: int | None, seed: int = 0) -> list[int]:
    """Row indices: all n, or a seeded sample of `limit` of them, in file order."""
    if not limit or limit >= n:
        return list(range(n))
    return sorted(int(i) for i in np.random.default_rng(seed).choice(n, limit, replace=False))


def _flags(pairs: Sequence[str], flag: str) -> str:
    return "".join(f" {flag} {shlex.quote(p)}" for p in pairs)


# ---------------------------------------------------------------- value extractors
def extractor_figures(datasets: Sequence[str], extractor: str, options: dict, limit: int | None) -> tuple[dict, dict]:
    """({set: {extractor: per-value figures}}, {set: rows measured}) on a seeded sample of each set."""
    from ..instruments.values import make_extractor
    from .values.figures import ap_per_value, measured_values, scores_via_cache
    from .values.labelled import load_dataset
    from ..score import user_cache_path
    from ..values import load_values

    values = list(load_values().values())
    names = [v.name for v in values]
    ex = make_extractor(extractor, values, **options)
    result, rows = {}, {}
    for d in datasets:
        ds = load_dataset(d, names)
        ds = ds.subset(sample(len(ds), limit))
        scores = scores_via_cache(ex, ds.prompts, ds.responses, user_cache_path())
        result[d] = {extractor: ap_per_value(ds.labels, scores, ds.value_names, measured_values(ds))}
        rows[d] = {"n": len(ds), "failed": int(np.isnan(scores).any(axis=1).sum())}
    return result, rows


def main_extract(args) -> int:
    """`valind extract validate --dataset ... --extractor NAME --extractor-option ... --limit N`."""
    from .values.figures import DATASETS, format_labelled, has_block, write_block

    if not args.extractor or args.extractor == "all":
        raise ConfigError("--extractor-option / --limit measure one extractor: name it with --extractor")
    if args.cv:
        raise ConfigError("--limit / --extractor-option: no --cv (cross-validation refits on whole sets)")
    pairs = list(getattr(args, "extractor_option", None) or [])
    options, limit = parse_options(pairs, "--extractor-option"), args.limit
    datasets = list(DATASETS) if args.dataset == "all" else [args.dataset]
    result, rows = extractor_figures(datasets, args.extractor, options, limit)
    from ..redact import redact_secrets

    head = (f"`{args.extractor}` extractor, options {redact_secrets(options)}; "
            + "; ".join(f"{d}: {r['n']} rows" + (f" (seeded sample of {limit})" if limit else "")
                        + f", {r['failed']} failed to extract (left out, counted)" for d, r in rows.items()))
    print(head)
    print(format_labelled(result))
    if getattr(args, "json_out", None):
        from ..artifacts import atomic_write_json

        atomic_write_json(args.json_out, {"figures": result, "rows": rows, "options": redact_secrets(options),
                                          "limit": limit})
    if getattr(args, "markdown", None):
        cmd = (f"valind extract validate --dataset {args.dataset} --extractor {args.extractor}"
               + _flags(pairs, "--extractor-option") + (f" --limit {limit}" if limit else ""))
        block = f"figures-{args.dataset}-{args.extractor}"  # no summary: a sample can miss a value's positives
        for doc in args.markdown:
            if not has_block(doc, block):
                raise ConfigError(f"{doc}: no '<!-- {block}:begin -->' block to write the figures into")
            write_block(doc, block, head + "\n\n" + format_labelled(result, markdown=True), cmd)
    return 0


# ---------------------------------------------------------------- refusal judges
def main_judge(args) -> int:
    """`valind judge validate --task refusal --judges NAMES --judge-option ... --limit N`."""
    from ..redact import redact_secrets
    from .refusal import labelled
    from .refusal.validate import DEFAULT_JUDGES, _judge_once, format_line, load_rows, markdown, write_markdown

    if getattr(args, "task", "all") != "refusal":
        raise ConfigError("--limit samples the refusal labels: use it with --task refusal")
    if getattr(args, "cv", False):
        raise ConfigError("--limit: no --cv (its folds are drawn over the whole labelled set)")
    judges = [j.strip() for j in (args.judges or "").split(",") if j.strip()] or list(DEFAULT_JUDGES)
    pairs = list(getattr(args, "judge_option", None) or [])
    options = parse_options(pairs, "--judge-option")
    rows, source = load_rows(getattr(args, "labels", None))
    keep = sample(len(rows), args.limit)
    if len(keep) < len(rows):
        source = f"{source}, a seeded sample of {len(keep)} of its {len(rows)} rows"
        rows = [rows[i] for i in keep]
    if options:
        source += f"; judge options {redact_secrets(options)}"
    gold = [r["label"] for r in rows]
    report: dict = {"_source": source, "_n": len(rows)}
    for name in judges:
        judge, pred, _ = _judge_once(name, rows, options, {})
        report[name] = {"all": labelled.figures(gold, pred), "fitted": hasattr(judge, "cv_predict"), "cv": {}}
        print(format_line(name, "in-sample" if report[name]["fitted"] else "all rows", report[name]["all"],
                          len(rows)), flush=True)
    if getattr(args, "json_out", None):
        from ..artifacts import atomic_write_json

        atomic_write_json(args.json_out, {"refusal": report})
    for target in getattr(args, "markdown", None) or []:
        command = (f"valind judge validate --task refusal --judges {','.join(judges)}"
                   + (f" --labels {args.labels}" if getattr(args, "labels", None) else "")
                   + _flags(pairs, "--judge-option") + f" --limit {args.limit}"
                   + "".join(f" --markdown {m}" for m in args.markdown))
        unparsed = "; ".join(f"`{j}` {report[j]['all']['unparsed']} of {len(rows)}" for j in judges)
        write_markdown(target, markdown(report, command) + f"\nAnswers no label could be read from (unparsed: "
                                                          f"never guessed, counted as disagreeing): {unparsed}.\n")
    return 0
