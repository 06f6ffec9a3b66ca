"""`valind extract validate GOLD.jsonl`: measure an extractor against human labels.

Reports, per value, average precision (AP, threshold-free, the study's
measure), precision/recall/F1 at the extractor's thresholds, the AP of a
random scorer (the value's prevalence), and macro averages over the values
that have positives. With `--calibrate FILE`, per-value thresholds are fitted
(best F1) on a seeded share of the gold rows and written to FILE (YAML, loaded
by `extractor.thresholds_file`), and every figure is reported on the other,
held-out rows.

Gold records: {"id", "prompt" (text or chat messages, optional), "response", "values": [names]}.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import yaml

from ...artifacts import atomic_write_json, atomic_write_text
from ...values import Value, load_values
from .labelled import DEFAULT_GOLD, gold_groups, load_gold  # noqa: F401  (re-exported: the stage, tests, bench)

DEFAULT_EXTRACTOR = "learned"  # the best offline extractor on labelled text nobody here wrote (docs/extraction.md)


# ------------------------------------------------------------------ metrics
def average_precision(labels: np.ndarray, scores: np.ndarray) -> float:
    """AP = sum over distinct thresholds of (recall gain) x precision, ties grouped (as scikit-learn).

    NaN when there is no positive label (AP is undefined).
    """
    labels = np.asarray(labels, dtype=bool)
    scores = np.asarray(scores, dtype=float)
    n_pos = labels.sum()
    if n_pos == 0:
        return float("nan")
    order = np.argsort(-scores, kind="mergesort")
    s, y = scores[order], labels[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]  # cut only between distinct scores
    tp = np.cumsum(y)[last_of_tie]
    predicted = last_of_tie + 1
    precision = tp / predicted
    recall_gain = np.diff(np.r_[0, tp]) / n_pos
    return float(np.sum(recall_gain * precision))


def precision_recall_f1(labels: np.ndarray, predicted: np.ndarray) -> tuple[float, float, float]:
    labels, predicted = np.asarray(labels, bool), np.asarray(predicted, bool)
    tp = float(np.sum(labels & predicted))
    p = tp / predicted.sum() if predicted.sum() else 0.0
    r = tp / labels.sum() if labels.sum() else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f1


def best_f1_threshold(labels: np.ndarray, scores: np.ndarray, fallback: float) -> float:
    """The threshold with the best F1 on these rows: halfway between the last score let in and the next below."""
    labels, scores = np.asarray(labels, bool), np.asarray(scores, float)
    if labels.sum() == 0:
        return fallback
    distinct = np.unique(scores)[::-1]
    best_f1, best_t = -1.0, fallback
    for i, t in enumerate(distinct):
        f1 = precision_recall_f1(labels, scores >= t)[2]
        if f1 > best_f1:
            below = distinct[i + 1] if i + 1 < len(distinct) else t
            best_f1, best_t = f1, float((t + below) / 2) if below < t else float(t)
    return best_t


@dataclass
class ValueFigures:
    value: str
    positives: int
    ap: float
    random_ap: float
    precision: float
    recall: float
    f1: float
    threshold: float


def evaluate_scores(scores: np.ndarray, labels: np.ndarray, names: Sequence[str],
                    thresholds: dict[str, float]) -> tuple[list[ValueFigures], dict]:
    """Per-value figures and macro averages (over values with at least one positive)."""
    rows = []
    for j, name in enumerate(names):
        y, s = labels[:, j], scores[:, j]
        t = thresholds[name]
        p, r, f1 = precision_recall_f1(y, s >= t)
        rows.append(ValueFigures(name, int(y.sum()), average_precision(y, s), float(y.mean()) if len(y) else 0.0,
                                 p, r, f1, t))
    scored = [row for row in rows if row.positives > 0]
    macro = {
        "ap": float(np.mean([row.ap for row in scored])) if scored else float("nan"),
        "random_ap": float(np.mean([row.random_ap for row in scored])) if scored else float("nan"),
        "f1": float(np.mean([row.f1 for row in scored])) if scored else float("nan"),
        "precision": float(np.mean([row.precision for row in scored])) if scored else float("nan"),
        "recall": float(np.mean([row.recall for row in scored])) if scored else float("nan"),
        "values_with_positives": len(scored),
    }
    return rows, macro


# ------------------------------------------------------------------ gold data
def label_matrix(records: list[dict], names: Sequence[str]) -> np.ndarray:
    index = {n: j for j, n in enumerate(names)}
    y = np.zeros((len(records), len(names)), dtype=bool)
    for i, rec in enumerate(records):
        for v in rec["values"]:
            y[i, index[v]] = True
    return y


def calibration_split(n: int, share: float, seed: int = 0,
                      groups: Sequence[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Seeded split of row indexes into (calibration, held-out). With `groups`, whole groups go to one side
    (groups in a seeded order until `share` of the rows is reached), so no group is on both."""
    rng = np.random.default_rng(seed)
    if groups is None:
        order = rng.permutation(n)
        cut = int(round(share * n))
        return np.sort(order[:cut]), np.sort(order[cut:])
    names = list(dict.fromkeys(groups))
    cal_groups: set[str] = set()
    taken = 0
    for g in (names[i] for i in rng.permutation(len(names))):
        if taken >= share * n:
            break
        cal_groups.add(g)
        taken += sum(1 for x in groups if x == g)
    cal = np.array([i for i in range(n) if groups[i] in cal_groups], dtype=int)
    return cal, np.array([i for i in range(n) if groups[i] not in cal_groups], dtype=int)


def in_sample_note(extractor_name: str, gold: str | Path) -> str | None:
    """Why an extractor's figure on this gold file is in-sample, or None: the learned heads were trained on it
    (its SHA-256 is in the weights' `trained_on`), or it is the in-house set, which the lexicon and embedding
    anchors' author also wrote (so the offline extractors built from them were tuned with it in view)."""
    import hashlib
    import json

    from ...artifacts import data_path

    path = data_path(str(gold))
    if not path.exists():
        return None
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if extractor_name == "learned":
        from ...instruments.values.learned import default_weights_file, load_heads

        trained = json.loads(load_heads(default_weights_file())["meta"].get("trained_on", "[]"))
        if any(digest in (t.get("sha256") or "").split("+") for t in trained):
            return ("IN-SAMPLE: the shipped learned heads were trained on these rows; cross-validated figures: "
                    "`valind extract validate --dataset all --cv`")
    if extractor_name in ("learned", "lexicon", "embedding", "ensemble"):
        if digest == hashlib.sha256(data_path(DEFAULT_GOLD).read_bytes()).hexdigest():
            return ("IN-SAMPLE: the in-house set was written by the author of the lexicon cues and embedding "
                    "anchors; figures on labels nobody here wrote: `valind extract validate --dataset all --cv`")
    return None


# ------------------------------------------------------------------ runner
def validate(extractor, records: list[dict], calibrate: str | Path | None = None, split: float = 0.5,
             seed: int = 0, cache=None, scored: tuple | None = None) -> dict:
    """Score the gold rows and compute the figures (on the held-out rows when calibrating); `scored`:
    (scores, failures) the caller already has for these rows (figures.scores_via_cache)."""
    from ...instruments.values.cache import cached_scores

    names = extractor.value_names
    prompts = [r["prompt"] for r in records]
    responses = [r["response"] for r in records]
    scores, failures = scored if scored is not None else cached_scores(extractor, prompts, responses, cache)
    labels = label_matrix(records, names)
    thresholds = dict(extractor.thresholds)
    # A failed extraction has no labels: its row is left out of every figure and counted, never "no values".
    failed = np.array([bool(f) for f in failures] if failures else [False] * len(records), dtype=bool)
    result: dict = {"extractor": extractor.registry_name, "n": int((~failed).sum()), "failures": int(failed.sum())}
    if failed.any():
        result["failure_examples"] = [{"id": records[i]["id"], "failure": failures[i]}
                                      for i in np.flatnonzero(failed)[:5]]
    rows_eval = np.flatnonzero(~failed)
    if calibrate:  # split by group: rows sharing a prompt or a response stay on one side
        groups = gold_groups(records)
        cal, held = calibration_split(len(records), split, seed, groups=groups)
        cal, rows_eval = cal[~failed[cal]], held[~failed[held]]
        thresholds = {n: best_f1_threshold(labels[cal, j], scores[cal, j], thresholds[n]) for j, n in enumerate(names)}
        write_thresholds(calibrate, thresholds, extractor.registry_name, len(cal), seed)
        result.update({"calibrated_on": int(len(cal)), "evaluated_on": int(len(rows_eval)), "seed": seed,
                       "split": "by group (records sharing a prompt or a response)",
                       "thresholds_file": str(calibrate)})
    per_value, macro = evaluate_scores(scores[rows_eval], labels[rows_eval], names, thresholds)
    result["per_value"] = [vars(r) for r in per_value]
    result["macro"] = macro
    return result


def write_thresholds(path: str | Path, thresholds: dict[str, float], extractor: str, n_rows: int, seed: int) -> None:
    body = {"extractor": extractor,
            "note": f"per-value thresholds with the best F1 on {n_rows} gold rows (whole groups, seed {seed}); "
                    "written by `valind extract validate --calibrate`",
            "thresholds": {k: round(float(v), 4) for k, v in thresholds.items()}}
    atomic_write_text(path, yaml.safe_dump(body, sort_keys=False))


def format_table(result: dict) -> str:
    head = f"{'value':16s} {'pos':>4s} {'AP':>6s} {'rand':>6s} {'P':>6s} {'R':>6s} {'F1':>6s} {'thr':>6s}"
    lines = [head, "-" * len(head)]
    for r in result["per_value"]:
        ap = "   n/a" if r["positives"] == 0 else f"{r['ap']:6.3f}"
        lines.append(f"{r['value']:16s} {r['positives']:4d} {ap} {r['random_ap']:6.3f} {r['precision']:6.3f} "
                     f"{r['recall']:6.3f} {r['f1']:6.3f} {r['threshold']:6.3f}")
    m = result["macro"]
    lines.append("-" * len(head))
    lines.append(f"{'macro':16s} {'':4s} {m['ap']:6.3f} {m['random_ap']:6.3f} {m['precision']:6.3f} "
                 f"{m['recall']:6.3f} {m['f1']:6.3f}")
    return "\n".join(lines)


def main(args) -> int:
    from ...instruments.values.base import make_extractor
    from ...instruments.values.cache import ScoreCache

    gold = getattr(args, "gold", None) or DEFAULT_GOLD
    values: list[Value] = list(load_values().values())
    records = load_gold(gold, [v.name for v in values])
    extractor = make_extractor(getattr(args, "extractor", None) or DEFAULT_EXTRACTOR, values)
    from ...score import user_cache_path

    cache = ScoreCache(user_cache_path(), extractor.fingerprint())
    try:
        result = validate(extractor, records, getattr(args, "calibrate", None), getattr(args, "split", 0.5), cache=cache)
    finally:
        cache.close()
    result["gold"] = str(gold)
    note = in_sample_note(result["extractor"], gold)
    result["in_sample"] = note is not None
    if note:
        result["in_sample_note"] = note
    where = (f"held-out {result['evaluated_on']} of {result['n']} rows (split by group); thresholds fitted on the "
             f"other {result['calibrated_on']} and written to {result['thresholds_file']}"
             if "calibrated_on" in result else f"all {result['n']} rows")
    print(f"extractor '{result['extractor']}' on {gold} ({where})")
    if note:
        print(note)
    if result["failures"]:
        print(f"{result['failures']} response(s) left out: extraction failed (counted, not read as 'no values')")
    print(format_table(result))
    if getattr(args, "json_out", None):
        atomic_write_json(args.json_out, result)
    return 0
