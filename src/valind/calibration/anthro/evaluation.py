"""The outside-labelled set, and how the three offline variants (valind.instruments.anthro.variants:
rules, learned, detector; each a registered judge) are fitted and measured on it.

Metric (as the issue reports it): per behaviour, Cohen's kappa against the label on the rows where
both outside annotators agree; macro kappa over the behaviours with at least 5 agreed positives.
Fitted variants are measured by grouped cross-validation (groups = source and prompt; 5 folds, 3
seeded fold assignments, figures averaged) and leave-one-source-out (train on HH-RLHF replies, test
on SmolLM2 replies, and the reverse).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...errors import ConfigError, InputError
from ...instruments.anthro.definitions import NAMES
from ...instruments.anthro.features import Featurizer
from ...instruments.anthro.heads import Heads, fit_heads
from ...instruments.anthro.variants import VARIANTS, variant_scores

OUTSIDE_DEV = "labelled/outside_labelled_dev.jsonl"
OUTSIDE_MORE = ("labelled/outside_labelled_dev_2.jsonl",)  # read with it when present (same schema and rules)
MIN_REPORTED_POSITIVES = 5
FIT_SETTINGS = {"C": 0.05, "rule_weight": 3.0, "min_positives": 5}
CV_FOLDS, CV_SEEDS = 5, (0, 1, 2)


# ------------------------------------------------------------------------------------ labelled data
@dataclass
class OutsideSet:
    """The outside-labelled responses with both annotators' anthro labels."""

    path: Path
    rows: list[dict]
    a: np.ndarray  # (n, 14) 0/1
    b: np.ndarray
    more: tuple[Path, ...] = ()  # further files read with `path` (their rows follow its rows)

    @property
    def agreed(self) -> np.ndarray:
        return self.a == self.b

    @property
    def soft(self) -> np.ndarray:
        return (self.a + self.b) / 2.0

    @property
    def groups(self) -> np.ndarray:
        return np.array([f"{r['source']}\x00{r['prompt']}" for r in self.rows])

    @property
    def sources(self) -> np.ndarray:
        """The source family of each row (the text before the first '-': hh, smollm2, pku), for leave-one-out."""
        return np.array([r["source"].split("-")[0] for r in self.rows])

    def sha256(self) -> str:
        return "+".join(hashlib.sha256(p.read_bytes()).hexdigest() for p in (self.path, *self.more))


def find_outside_set() -> Path | None:
    from ...evaluate.suites._data import find_shared

    return find_shared(OUTSIDE_DEV)


def load_outside_set(path: str | Path | None = None) -> OutsideSet:
    """Rows of outside_labelled_dev.jsonl, and of outside_labelled_dev_2.jsonl where present (unless a path is
    given); errors name the file, row and field."""
    from ...evaluate.suites._data import find_shared

    if path:
        return _load_outside_file(Path(path))
    first = _load_outside_file(find_outside_set())
    more = [_load_outside_file(f) for m in OUTSIDE_MORE if (f := find_shared(m)) is not None]
    if not more:
        return first
    return OutsideSet(first.path, first.rows + [r for s in more for r in s.rows],
                      np.vstack([first.a, *[s.a for s in more]]), np.vstack([first.b, *[s.b for s in more]]),
                      tuple(s.path for s in more))


def _load_outside_file(file: Path | None) -> OutsideSet:
    from ...artifacts import read_jsonl

    path = file
    if file is None or not file.exists():
        raise ConfigError(f"{path or '../shared/data/' + OUTSIDE_DEV}: outside-labelled set not found "
                          "(set VALIND_SHARED_DATA or pass its path)")
    rows = read_jsonl(file)
    labels = {"anthro_a": [], "anthro_b": []}
    for n, r in enumerate(rows, 1):
        for field in ("response", "prompt", "source"):
            if not isinstance(r.get(field), str):
                raise InputError(file, n, field, "missing or not a string")
        for field, out in labels.items():
            got = r.get(field)
            if not isinstance(got, dict):
                raise InputError(file, n, field, "missing or not an object of behaviour -> 0/1")
            missing = [name for name in NAMES.values() if name not in got]
            if missing:
                raise InputError(file, n, field, f"behaviour(s) missing: {', '.join(missing)}")
            bad = [name for name in NAMES.values() if got[name] not in (0, 1)]
            if bad:
                raise InputError(file, n, field, f"labels must be 0 or 1 (got {got[bad[0]]!r} for '{bad[0]}')")
            out.append([got[name] for name in NAMES.values()])
    if not rows:
        raise ConfigError(f"{file}: no rows")
    return OutsideSet(file, rows, np.array(labels["anthro_a"]), np.array(labels["anthro_b"]))


# ------------------------------------------------------------------------------------ metric
def kappa_figures(pred: np.ndarray, data: OutsideSet, rows: np.ndarray | None = None) -> dict:
    """Per behaviour kappa on agreed rows (and positives), macro over those with >= 5 agreed positives.
    A NaN prediction (the judge could not judge that behaviour) leaves the row out of that behaviour's
    figure and is counted in `unjudged`; it is never read as "absent"."""
    from ...instruments.metrics import agreement

    mask = np.ones(len(data.rows), dtype=bool) if rows is None else rows
    pred = np.asarray(pred, dtype=float)
    per = {}
    for j, key in enumerate(NAMES):
        unjudged = mask & data.agreed[:, j] & np.isnan(pred[:, j])
        keep = mask & data.agreed[:, j] & ~unjudged
        gold, got = data.a[keep, j].astype(bool), pred[keep, j].astype(bool)
        m = agreement(list(gold), list(got), labels=[True, False]) if keep.any() else None
        per[key] = {"kappa": m["kappa"] if m else 0.0, "positives": int(gold.sum()), "n": int(keep.sum()),
                    "f1": m["per_class"]["True"]["f1"] if m else 0.0, "unjudged": int(unjudged.sum())}
    return _with_macro(per)


def _with_macro(per: dict) -> dict:
    counted = [k for k, v in per.items() if v["positives"] >= MIN_REPORTED_POSITIVES]
    macro = float(np.mean([per[k]["kappa"] for k in counted])) if counted else float("nan")
    return {"per_behaviour": per, "macro_kappa": macro, "behaviours_counted": counted}


def _mean_figures(runs: list[dict]) -> dict:
    per = {k: {"kappa": float(np.mean([r["per_behaviour"][k]["kappa"] for r in runs])),
               "f1": float(np.mean([r["per_behaviour"][k]["f1"] for r in runs])),
               "positives": runs[0]["per_behaviour"][k]["positives"], "n": runs[0]["per_behaviour"][k]["n"]}
           for k in NAMES}
    return _with_macro(per)


# ------------------------------------------------------------------------------------ fitting and CV
def fit_variant(name: str, data: OutsideSet, blocks: dict[str, np.ndarray], rows: np.ndarray | None = None) -> Heads | None:
    """The heads of a fitted variant trained on `rows` of the outside set (None for `rules`)."""
    variant = VARIANTS[name]
    if not variant.blocks:
        return None
    idx = np.arange(len(data.rows)) if rows is None else np.flatnonzero(rows)
    agreed_pos = ((data.a == 1) & data.agreed)[idx].sum(axis=0)
    return fit_heads({b: blocks[b][idx] for b in variant.blocks}, variant.blocks, data.soft[idx], agreed_pos,
                     meta={"variant": name}, **FIT_SETTINGS)


def fold_assignment(groups: np.ndarray, seed: int, folds: int = CV_FOLDS) -> np.ndarray:
    """Fold of each row: whole groups are assigned, by a seeded permutation of the distinct groups."""
    distinct = np.unique(groups)
    perm = np.random.RandomState(seed).permutation(len(distinct))
    fold_of = {g: perm[i] % folds for i, g in enumerate(distinct)}
    return np.array([fold_of[g] for g in groups])


def _predict(name: str, heads: Heads | None, blocks: dict[str, np.ndarray], rows: np.ndarray) -> np.ndarray:
    return variant_scores(VARIANTS[name], heads, {k: v[rows] for k, v in blocks.items()}) >= 0.5


def measure(name: str, data: OutsideSet, blocks: dict[str, np.ndarray]) -> dict:
    """Figures of a variant on the outside set: grouped CV and leave-one-source-out for fitted variants,
    the direct figure for `rules` (nothing is fitted, so it is its own held-out figure)."""
    n = len(data.rows)
    if not VARIANTS[name].blocks:
        pred = _predict(name, None, blocks, np.ones(n, dtype=bool))
        direct = kappa_figures(pred, data)
        out = {"kind": "direct (nothing fitted)", "cv": direct}
    else:
        runs = []
        for seed in CV_SEEDS:
            fold = fold_assignment(data.groups, seed)
            pred = np.zeros((n, len(NAMES)), dtype=bool)
            for f in range(CV_FOLDS):
                heads = fit_variant(name, data, blocks, fold != f)
                pred[fold == f] = _predict(name, heads, blocks, fold == f)
            runs.append(kappa_figures(pred, data))
        out = {"kind": f"grouped {CV_FOLDS}-fold CV x {len(CV_SEEDS)} seeds", "cv": _mean_figures(runs)}
    loso = {}
    for train_src in np.unique(data.sources):
        for test_src in np.unique(data.sources):
            if train_src == test_src:
                continue
            train, test = data.sources == train_src, data.sources == test_src
            heads = fit_variant(name, data, blocks, train)
            pred = np.zeros((n, len(NAMES)), dtype=bool)
            pred[test] = _predict(name, heads, blocks, test)
            loso[f"{train_src} -> {test_src}"] = kappa_figures(pred, data, test)
    out["leave_one_source_out"] = loso
    return out


def outside_blocks(data: OutsideSet, featurizer: Featurizer | None = None) -> dict[str, np.ndarray]:
    return (featurizer or Featurizer()).blocks([r["response"] for r in data.rows])


def training_meta(data: OutsideSet) -> dict:
    import sklearn

    return {"data": "+".join(p.name for p in (data.path, *data.more)), "data_sha256": data.sha256(), "rows": len(data.rows),
            "sklearn": sklearn.__version__, "settings": json.dumps(FIT_SETTINGS, sort_keys=True)}
