"""Every offline extractor's figures on the labelled sets, and the XOR-direction check on preference data.

`valind extract validate --dataset moralchoice|outside|gold|all [--extractor NAME|all] [--cv]`
    average precision per value against the set's labels (rows with an unknown label left out), the
    AP of a random scorer (the prevalence), and the macro AP over the values with at least
    `MIN_POSITIVES` positives. A fitted extractor (`learned`) is also given, with --cv, its pooled
    grouped 5-fold cross-validation figure (`cv`) and its leave-one-dataset-out transfer figure
    (`transfer`: trained on the other sets); without --cv its figure on a set it was trained on is
    marked in-sample.
`valind extract direction-check --dataset pku|hh [--extractor NAME|all] [--limit N]`
    in PKU-SafeRLHF the chosen reply is the safer one, in HH-RLHF harmless-base the more harmless
    one. For each value, among the pairs whose two replies differ in it (the XOR rule, at the
    extractor's thresholds), the share where it is in the rejected (less safe) reply. Deception and
    violence should nearly always be there. No labels involved: nothing is fit on these pairs.
`--markdown FILE` rewrites the figures block of FILE (between `<!-- NAME:begin -->` and
`<!-- NAME:end -->`), stamped with the commit and date, so docs are never typed by hand.
"""

from __future__ import annotations

import datetime
import json
import re
import subprocess
from pathlib import Path
from typing import Sequence

import numpy as np

from ...errors import ConfigError
from .labelled import DATASETS, MORALCHOICE_VALUES, LabelledSet, load_dataset
from .validate import average_precision

MIN_POSITIVES = 5
PAIR_SETS = {"pku": "pku-saferlhf/pku_saferlhf_dpo_5k.json", "hh": "hh-rlhf/harmless-base-test.jsonl.gz"}
DIRECTION_VALUES = ("deception", "violence")


# ------------------------------------------------------------------ labelled sets
def ap_per_value(labels: np.ndarray, scores: np.ndarray, names: Sequence[str],
                 only: Sequence[str] | None = None) -> dict[str, dict]:
    """{value: {ap, random_ap, positives, n, failed}} over the rows whose label is known; values with no positive
    skipped. A NaN score is an extraction failure: left out of the figure and counted (`failed`), never
    read as "value absent"."""
    out = {}
    for j, name in enumerate(names):
        if only is not None and name not in only:
            continue
        labelled = ~np.isnan(labels[:, j])
        failed = labelled & np.isnan(scores[:, j])
        known = labelled & ~failed
        y = labels[known, j].astype(bool)
        if y.sum() == 0:
            continue
        out[name] = {"ap": average_precision(y, scores[known, j]), "random_ap": float(y.mean()),
                     "positives": int(y.sum()), "n": int(known.sum()), "failed": int(failed.sum())}
    return out


def macro(per_value: dict[str, dict], key: str = "ap", min_positives: int = MIN_POSITIVES) -> float:
    vals = [f[key] for f in per_value.values() if f["positives"] >= min_positives]
    return float(np.mean(vals)) if vals else float("nan")


def measured_values(ds: LabelledSet) -> list[str] | None:
    return list(MORALCHOICE_VALUES) if ds.name == "moralchoice" else None


def scores_via_cache(extractor, prompts: Sequence[str | None], responses: Sequence[str], cache_path=None,
                     with_failures: bool = False):
    """Scores through the score cache; an ensemble reuses its members' cached scores (its weighted mean),
    and the learned extractor its cached features, so measuring every extractor encodes each text once.
    A response whose extraction failed has NaN scores (left out of every figure and counted); with
    `with_failures`, (scores, the failure message or None per response)."""
    from ...instruments.values.cache import ScoreCache, cached_scores
    from ...instruments.values.ensemble import EnsembleExtractor
    from ...instruments.values.learned import LearnedExtractor

    if isinstance(extractor, EnsembleExtractor):
        scores = sum(w * scores_via_cache(m, prompts, responses, cache_path) for m, w in extractor.members) / extractor.total_weight
        return (scores, [None] * len(responses)) if with_failures else scores
    if isinstance(extractor, LearnedExtractor) and cache_path:
        scores = extractor.scores_from_features(extractor.featurizer.cached_features(list(responses)), responses)
        failures = extractor.failures()
    else:
        cache = ScoreCache(cache_path, extractor.fingerprint()) if cache_path else None
        try:
            scores, failures = cached_scores(extractor, list(prompts), list(responses), cache)
        finally:
            if cache:
                cache.close()
    failed = [i for i, f in enumerate(failures or []) if f]
    if failed:
        scores = np.array(scores, dtype=float)
        scores[failed] = np.nan
    return (scores, list(failures or [None] * len(responses))) if with_failures else scores


def offline_extractors() -> list[str]:
    """The extractors that run offline (their `offline` fact), fitted ones last (the tables' column order)."""
    from ...registry import extractors

    found = {name: cls for name, cls in extractors.classes().items() if cls.offline}
    return sorted(found, key=lambda n: (found[n].fitted, n))


def labelled_figures(names: Sequence[str], datasets: Sequence[str], extractors: Sequence[str], cv: bool,
                     cache_path=None) -> dict:
    """{dataset: {column: per-value figures}}; columns are extractor names plus `learned cv` / `learned transfer`."""
    from ...values import load_values
    from ...instruments.values.base import make_extractor

    values = [v for v in load_values().values() if v.name in names]
    sets = {d: load_dataset(d, names) for d in datasets}
    result: dict = {d: {} for d in datasets}
    for name in extractors:
        ex = make_extractor(name, values)
        for d, ds in sets.items():
            column = f"{name} (in-sample)" if type(ex).fitted else name
            scores = scores_via_cache(ex, ds.prompts, ds.responses, cache_path)
            result[d][column] = ap_per_value(ds.labels, scores, ds.value_names, measured_values(ds))
        if cv and type(ex).fitted:
            result = _add_cv(result, values, ex, list(DATASETS), datasets)
    return result


def cv_figures(values, extractor, sets: Sequence[LabelledSet]) -> dict:
    """{set name: {"cv": per-value AP, "transfer": per-value AP}} of the learned recipe on these sets: pooled
    grouped 5-fold cross-validation (folds never split a group) and leave-one-set-out transfer."""
    from .train import build_pool, cross_validated_scores, transfer_scores

    names = [v.name for v in values]
    pool = build_pool(values, extractor, sets)
    oof = cross_validated_scores(pool)
    out = {}
    for ds in pool.sets:
        only = measured_values(ds)
        out[ds.name] = {"cv": ap_per_value(ds.labels, oof[pool.rows_of(ds.name)], names, only),
                        "transfer": ap_per_value(ds.labels, transfer_scores(pool, ds.name), names, only)}
    return out


def _add_cv(result: dict, values, extractor, pool_sets: list[str], datasets: Sequence[str]) -> dict:
    names = [v.name for v in values]
    figs = cv_figures(values, extractor, [load_dataset(d, names) for d in pool_sets])
    for d in datasets:
        result[d]["learned cv"] = figs[d]["cv"]
        result[d]["learned transfer"] = figs[d]["transfer"]
    return result


def format_labelled(result: dict, markdown: bool = False) -> str:
    lines = []
    for d, columns in result.items():
        cols = list(columns)
        values = sorted({v for c in cols for v in columns[c]}, key=lambda v: -max(columns[c].get(v, {}).get("positives", 0) for c in cols))
        first = next(iter(columns.values()))
        if markdown:
            lines += [f"**{d}** (AP per value; macro over values with >= {MIN_POSITIVES} positives)", "",
                      "| value | positives | random | " + " | ".join(cols) + " |",
                      "|---|---|---|" + "---|" * len(cols)]
        else:
            lines += [f"== {d}", f"{'value':16s} {'pos':>4s} {'random':>7s} " + " ".join(f"{c[:18]:>18s}" for c in cols)]
        for v in values:
            info = next(columns[c][v] for c in cols if v in columns[c])
            cells = [f"{columns[c][v]['ap']:.3f}" if v in columns[c] else "n/a" for c in cols]
            if markdown:
                lines.append(f"| {v} | {info['positives']}/{info['n']} | {info['random_ap']:.3f} | " + " | ".join(cells) + " |")
            else:
                lines.append(f"{v:16s} {info['positives']:4d} {info['random_ap']:7.3f} " + " ".join(f"{c:>18s}" for c in cells))
        macros = [f"{macro(columns[c]):.3f}" for c in cols]
        rand = macro(first, "random_ap")
        if markdown:
            lines += [f"| **macro** | | {rand:.3f} | " + " | ".join(f"**{m}**" for m in macros) + " |", ""]
        else:
            lines += [f"{'macro':16s} {'':4s} {rand:7.3f} " + " ".join(f"{m:>18s}" for m in macros), ""]
    return "\n".join(lines)


# ------------------------------------------------------------------ direction check
def load_pairs(name: str, limit: int | None = None, seed: int = 0) -> tuple[list[str], list[str], list[str], str]:
    """(prompts, chosen = safer, rejected = less safe, path) of PKU-SafeRLHF or HH-RLHF harmless-base."""
    from ...evaluate.suites._data import find_shared, shared_data_roots
    from ...ingest.hh_rlhf import read_pairs
    from ...ingest.schema import prompt_text

    if name not in PAIR_SETS:
        raise ConfigError(f"direction-check: unknown dataset {name!r}; choose one of {', '.join(PAIR_SETS)}")
    path = find_shared(PAIR_SETS[name])
    if path is None:
        tried = ", ".join(str(r / PAIR_SETS[name]) for r in shared_data_roots())
        raise ConfigError(f"direction-check: {name} not found (tried {tried}); set VALIND_SHARED_DATA")
    prompts, chosen, rejected = [], [], []
    if name == "pku":
        for rec in json.loads(path.read_text(encoding="utf-8")):
            prompts.append(rec["prompt"])
            chosen.append(rec["response"][0])
            rejected.append(rec["response"][1])
    else:
        for msgs, c, r in read_pairs(path):
            prompts.append(prompt_text(msgs))
            chosen.append(c)
            rejected.append(r)
    if limit and limit < len(prompts):
        keep = np.sort(np.random.default_rng(seed).choice(len(prompts), limit, replace=False))
        prompts, chosen, rejected = ([x[i] for i in keep] for x in (prompts, chosen, rejected))
    return prompts, chosen, rejected, str(path)


def xor_direction(chosen_on: np.ndarray, rejected_on: np.ndarray) -> tuple[int, float]:
    """(number of XOR pairs, share of them with the value in the rejected reply); NaN share when none."""
    xor = chosen_on != rejected_on
    n = int(xor.sum())
    return n, (float(rejected_on[xor].mean()) if n else float("nan"))


def direction_figures(extractor, prompts, chosen, rejected, values: Sequence[str] = DIRECTION_VALUES,
                      cache_path=None) -> dict:
    n = len(prompts)
    scores = scores_via_cache(extractor, list(prompts) + list(prompts), list(chosen) + list(rejected), cache_path)
    ok = ~(np.isnan(scores[:n]).any(axis=1) | np.isnan(scores[n:]).any(axis=1))  # a failed side: pair left out
    sc, sr = scores[:n][ok], scores[n:][ok]
    out = {}
    for v in values:
        j = extractor.value_names.index(v)
        t = extractor.thresholds[v]
        pairs, share = xor_direction(sc[:, j] >= t, sr[:, j] >= t)
        differ = sc[:, j] != sr[:, j]
        out[v] = {"xor_pairs": pairs, "in_rejected": share, "failed_pairs": int((~ok).sum()),
                  "tagged_chosen": float((sc[:, j] >= t).mean()),
                  "tagged_rejected": float((sr[:, j] >= t).mean()),
                  "rejected_scores_higher": float((sr[differ, j] > sc[differ, j]).mean()) if differ.any() else float("nan")}
    return out


def format_direction(result: dict, markdown: bool = False) -> str:
    lines = []
    for d, per_ex in result.items():
        if markdown:
            lines += [f"**{d}** ({per_ex['_n']} pairs): share of a value's XOR pairs with the value in the less safe "
                      "reply (goal >= 0.80), XOR pairs, and the share of pairs whose less safe reply scores higher", "",
                      "| extractor | " + " | ".join(f"{v} in less safe | {v} XOR pairs | {v} scores higher" for v in DIRECTION_VALUES) + " |",
                      "|---|" + "---|---|---|" * len(DIRECTION_VALUES)]
        else:
            lines.append(f"== {d} ({per_ex['_n']} pairs): value in the less safe reply / XOR pairs / less safe scores higher")
        for name, figs in per_ex.items():
            if name.startswith("_"):
                continue
            cells = []
            for v in DIRECTION_VALUES:
                f = figs[v]
                cells += [f"{f['in_rejected']:.2f}", str(f["xor_pairs"]), f"{f['rejected_scores_higher']:.2f}"]
            lines.append(f"| {name} | " + " | ".join(cells) + " |" if markdown else f"{name:12s} " + "  ".join(cells))
        lines.append("")
    return "\n".join(lines)


# ------------------------------------------------------------------ docs
def stamp() -> str:
    """'commit abc1234, 2026-01-01, instruments values=...,refusal=...' (+ a note when src/ has uncommitted
    changes): which code produced a figure (the learned extractor and the context rules read the refusal judge)."""
    from .. import version_stamp

    root = Path(__file__).resolve().parents[4]
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, timeout=10).stdout.strip() or "unknown"
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no", "--", "src"],
                               capture_output=True, text=True, timeout=10).stdout.strip()  # code, data, weights
    except (OSError, subprocess.SubprocessError):
        commit, dirty = "unknown", ""
    return (f"commit {commit}{' (+ uncommitted changes)' if dirty else ''}, {datetime.date.today().isoformat()}, "
            f"{version_stamp('values', 'refusal')}")


def _block(name: str) -> re.Pattern:
    return re.compile(re.escape(f"<!-- {name}:begin -->") + r".*?" + re.escape(f"<!-- {name}:end -->"), re.S)


def has_block(path: str | Path, name: str) -> bool:
    path = Path(path)
    return path.exists() and bool(_block(name).search(path.read_text(encoding="utf-8")))


def write_block(path: str | Path, name: str, body: str, command: str) -> None:
    """Replace the text between `<!-- name:begin -->` and `<!-- name:end -->` in a Markdown file."""
    from ...artifacts import atomic_write_text

    path = Path(path)
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    block = f"{begin}\n_Written by `{command}` ({stamp()}); do not edit by hand._\n\n{body.rstrip()}\n{end}"
    if not _block(name).search(text):
        raise ConfigError(f"{path}: no '{begin}' ... '{end}' block to write the figures into")
    atomic_write_text(path, _block(name).sub(lambda _: block, text))


def format_summary(result: dict) -> str:
    """One row per extractor: macro AP per set, and MoralChoice deception / violence."""
    columns = list(dict.fromkeys(c for cols in result.values() for c in cols))
    sets = list(result)
    head = "| extractor | " + " | ".join(f"{d} macro AP" for d in sets)
    mc = "moralchoice" in result
    if mc:
        head += " | MoralChoice deception | MoralChoice violence"
    lines = [head + " |", "|---|" + "---|" * (len(sets) + 2 * mc)]
    rand = {d: macro(next(iter(result[d].values())), "random_ap") for d in sets}
    rows = [("random (prevalence)", {d: rand[d] for d in sets},
             [next(iter(result["moralchoice"].values()))[v]["random_ap"] for v in DIRECTION_VALUES] if mc else [])]
    for c in columns:
        rows.append((f"`{c}`", {d: macro(result[d][c]) if c in result[d] else float("nan") for d in sets},
                     [result["moralchoice"][c][v]["ap"] if c in result["moralchoice"] else float("nan")
                      for v in DIRECTION_VALUES] if mc else []))
    for name, per_set, extra in rows:
        lines.append(f"| {name} | " + " | ".join(f"{per_set[d]:.3f}" for d in sets)
                     + "".join(f" | {x:.3f}" for x in extra) + " |")
    return "\n".join(lines)


def main_validate(args) -> int:
    from ...score import user_cache_path
    from ...values import load_values

    names = [v.name for v in load_values().values()]
    datasets = list(DATASETS) if args.dataset == "all" else [args.dataset]
    extractors = offline_extractors() if (args.extractor or "all") == "all" else [args.extractor]
    result = labelled_figures(names, datasets, extractors, args.cv, user_cache_path())
    print(format_labelled(result))
    if getattr(args, "json_out", None):
        from ...artifacts import atomic_write_json

        atomic_write_json(args.json_out, result)
    if getattr(args, "markdown", None):
        cmd = f"valind extract validate --dataset {args.dataset} --extractor {args.extractor or 'all'}" + (" --cv" if args.cv else "")
        blocks = {f"figures-{args.dataset}": format_labelled(result, markdown=True),
                  f"summary-{args.dataset}": format_summary(result)}
        for doc in args.markdown:
            present = [b for b in blocks if has_block(doc, b)]
            if not present:
                raise ConfigError(f"{doc}: no '<!-- figures-{args.dataset}:begin -->' or "
                                  f"'<!-- summary-{args.dataset}:begin -->' block to write the figures into")
            for b in present:
                write_block(doc, b, blocks[b], cmd)
    return 0


def main_direction(args) -> int:
    from ...score import user_cache_path
    from ...values import load_values
    from ...instruments.values.base import make_extractor

    values = list(load_values().values())
    datasets = list(PAIR_SETS) if args.dataset == "all" else [args.dataset]
    extractors = offline_extractors() if (args.extractor or "all") == "all" else [args.extractor]
    result: dict = {}
    for d in datasets:
        prompts, chosen, rejected, path = load_pairs(d, args.limit)
        result[d] = {"_n": len(prompts), "_path": path}
        for name in extractors:
            result[d][name] = direction_figures(make_extractor(name, values), prompts, chosen, rejected,
                                                cache_path=user_cache_path())
    print(format_direction(result))
    if getattr(args, "json_out", None):
        from ...artifacts import atomic_write_json

        atomic_write_json(args.json_out, result)
    if getattr(args, "markdown", None):
        cmd = (f"valind extract direction-check --dataset {args.dataset} --extractor {args.extractor or 'all'}"
               + (f" --limit {args.limit}" if args.limit else ""))
        for doc in args.markdown:
            write_block(doc, f"direction-{args.dataset}", format_direction(result, markdown=True), cmd)
    return 0
