"""`valind extract train`: fit the `learned` extractor's heads on real labels, deterministically.

Training pool (every row whose label for a value is known):
  * MoralChoice dev (CC-BY-4.0): deception and violence. Its legality label (the action does not
    break the law) is not the value "attends to the law", so it is not trained on (it is still measured).
  * the outside-labelled dev set: every value both annotators agree on.
  * the in-house development set (`gold`): every value.
  * each value's exemplar sentences in the values YAML: positive for their value, negative for the
    others, weight `EXEMPLAR_WEIGHT` (they carry the definition when real positives are few).
One L2-regularised logistic regression per value (scikit-learn, lbfgs, balanced classes, C=`C`).
Scores are then zeroed for deception and violence where the refusal judge says the response refused
(as the extractor does), so the cross-validation figures and thresholds are those of the extractor.
Thresholds: per value, the best F1 on the out-of-fold scores of grouped 5-fold cross-validation.
The file records the data it was fit on (paths, row counts, SHA-256) and the cross-validation figures.

The same functions give `valind extract validate --cv`: pooled grouped cross-validation (folds never
split a group: a MoralChoice scenario, an outside prompt, a gold prompt/response cluster) and
leave-one-dataset-out transfer (train on the other sets, score this one).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Sequence

import numpy as np

from ...values import Value
from .labelled import DATASETS, LabelledSet, concat, load_dataset

C = 1.0
EXEMPLAR_WEIGHT = 3.0
FOLDS = 5
SEED = 0
NOT_TRAINED = {"moralchoice": ("legality",)}  # labels measured but not trained on (see module doc)


def training_labels(ds: LabelledSet) -> np.ndarray:
    """The labels a set contributes to training (those in NOT_TRAINED become unknown)."""
    y = ds.labels.copy()
    for v in NOT_TRAINED.get(ds.name, ()):
        if v in ds.value_names:
            y[:, ds.value_names.index(v)] = np.nan
    return y


def exemplar_set(values: Sequence[Value]) -> LabelledSet:
    names = [v.name for v in values]
    rows = [(v.name, t) for v in values for t in v.exemplars]
    labels = np.array([[float(n == owner) for n in names] for owner, _ in rows]).reshape(len(rows), len(names))
    return LabelledSet("exemplars", "values YAML", [f"{o}:{i}" for i, (o, _) in enumerate(rows)],
                       [o for o, _ in rows], [None] * len(rows), [t for _, t in rows], labels, names)


def fit_heads(X: np.ndarray, Y: np.ndarray, weights: np.ndarray, c: float = C) -> tuple[np.ndarray, np.ndarray]:
    """One logistic head per column of Y (NaN = unknown, left out). A value with fewer than two known
    positives or negatives gets a constant head at its prevalence."""
    from sklearn.linear_model import LogisticRegression

    k, d = Y.shape[1], X.shape[1]
    coef, intercept = np.zeros((k, d)), np.zeros(k)
    for j in range(k):
        known = ~np.isnan(Y[:, j])
        y = Y[known, j]
        pos = int(y.sum())
        if pos < 2 or len(y) - pos < 2:
            p = min(max((pos + 0.5) / (len(y) + 1.0), 1e-3), 1 - 1e-3)
            intercept[j] = np.log(p / (1 - p))
            continue
        model = LogisticRegression(C=c, max_iter=5000, class_weight="balanced")
        model.fit(X[known], y.astype(int), sample_weight=weights[known])
        coef[j], intercept[j] = model.coef_[0], model.intercept_[0]
    return coef, intercept


def group_folds(groups: Sequence[str], k: int = FOLDS, seed: int = SEED) -> list[tuple[np.ndarray, np.ndarray]]:
    """Grouped k-fold (train rows, test rows): a group's rows all fall in one test fold."""
    from sklearn.model_selection import GroupKFold

    idx = np.arange(len(groups))
    return [(tr, te) for tr, te in GroupKFold(k, shuffle=True, random_state=seed).split(idx, groups=list(groups))]


class Pool:
    """The pooled training rows: features, training labels, weights, groups and which set each row is from."""

    def __init__(self, sets: Sequence[LabelledSet], exemplars: LabelledSet, features: dict[str, np.ndarray]):
        self.sets = list(sets)
        self.exemplars = exemplars
        parts = self.sets + [exemplars]
        self.X = np.vstack([features[s.name] for s in parts])
        self.Y = np.vstack([training_labels(s) for s in parts])
        self.weights = np.concatenate([np.full(len(s), EXEMPLAR_WEIGHT if s is exemplars else 1.0) for s in parts])
        self.groups = [f"{s.name}:{g}" for s in parts for g in s.groups]
        self.origin = np.concatenate([np.full(len(s), s.name, dtype=object) for s in parts])
        self.responses = [r for s in parts for r in s.responses]
        self.names = exemplars.value_names
        self._refusals: np.ndarray | None = None

    @property
    def refusals(self) -> np.ndarray:
        """1.0 where the default refusal judge says the row's response refused (computed once)."""
        from ...instruments.values.learned import refused

        if self._refusals is None:
            self._refusals = refused(self.responses)
        return self._refusals

    def rows_of(self, name: str) -> np.ndarray:
        return np.flatnonzero(self.origin == name)


def cross_validated_scores(pool: Pool, refusal_discount: bool = True, k: int = FOLDS,
                           seed: int = SEED) -> np.ndarray:
    """Out-of-fold scores of every labelled row (exemplar rows are always in training)."""
    from ...instruments.values.learned import head_scores

    labelled = np.flatnonzero(pool.origin != "exemplars")
    exemplars = pool.rows_of("exemplars")
    scores = np.full((len(pool.origin), len(pool.names)), np.nan)
    for tr, te in group_folds([pool.groups[i] for i in labelled], k, seed):
        train = np.r_[labelled[tr], exemplars]
        test = labelled[te]
        coef, icpt = fit_heads(pool.X[train], pool.Y[train], pool.weights[train])
        scores[test] = head_scores(pool.X[test], coef, icpt, pool.names,
                                   pool.refusals[test] if refusal_discount else None)
    return scores


def transfer_scores(pool: Pool, target: str, refusal_discount: bool = True) -> np.ndarray:
    """Scores of `target`'s rows from heads trained on every other set (and the exemplars)."""
    from ...instruments.values.learned import head_scores

    test = pool.rows_of(target)
    train = np.flatnonzero(pool.origin != target)
    coef, icpt = fit_heads(pool.X[train], pool.Y[train], pool.weights[train])
    return head_scores(pool.X[test], coef, icpt, pool.names, pool.refusals[test] if refusal_discount else None)


def thresholds_from_cv(pool: Pool, oof: np.ndarray) -> np.ndarray:
    from .validate import best_f1_threshold

    out = np.full(len(pool.names), 0.5)
    labelled = np.flatnonzero(pool.origin != "exemplars")
    for j in range(len(pool.names)):
        y = pool.Y[labelled, j]
        known = ~np.isnan(y) & ~np.isnan(oof[labelled, j])  # NaN score: the refusal judge could not judge it
        out[j] = best_f1_threshold(y[known].astype(bool), oof[labelled[known], j], 0.5)
    return out


def sha256_of(path: str) -> str:
    """SHA-256 of a file; of several joined by '+' (a set read from more than one file), theirs joined by '+'."""
    return "+".join(hashlib.sha256(Path(p).read_bytes()).hexdigest() for p in str(path).split("+"))


def build_pool(values: Sequence[Value], extractor, sets: Sequence[LabelledSet] | None = None) -> Pool:
    """Load the labelled sets (all of them by default) and compute every row's features once."""
    names = [v.name for v in values]
    sets = list(sets) if sets is not None else [load_dataset(n, names) for n in DATASETS]
    exemplars = exemplar_set(values)
    featurizer = getattr(extractor, "featurizer", extractor)
    feats = {s.name: featurizer.cached_features(s.responses) for s in [*sets, exemplars]}
    return Pool(sets, exemplars, feats)


def train(values: Sequence[Value], out: str | Path, extractor=None, sets: Sequence[LabelledSet] | None = None) -> dict:
    """Fit the heads on the whole pool, thresholds from grouped CV; write a safetensors file. Returns its metadata."""
    from safetensors.numpy import save_file

    from ...artifacts import atomic_path
    from ...instruments.values.learned import FEATURES, feature_extractor, refusal_judge_version

    extractor = extractor or feature_extractor()
    pool = build_pool(values, extractor, sets)
    oof = cross_validated_scores(pool)
    thresholds = thresholds_from_cv(pool, oof)
    coef, icpt = fit_heads(pool.X, pool.Y, pool.weights)
    trained_on = [{"name": s.name, "path": "+".join(Path(p).name for p in s.path.split("+")), "rows": len(s),
                   "sha256": sha256_of(s.path) if all(Path(p).exists() for p in s.path.split("+")) else None,
                   "known_labels": {v: int((~np.isnan(training_labels(s)[:, j])).sum()) for j, v in enumerate(s.value_names)}}
                  for s in pool.sets]
    meta = {"value_names": json.dumps(pool.names), "features": FEATURES, "model": "sentence-transformers/all-MiniLM-L6-v2",
            "C": str(C), "exemplar_weight": str(EXEMPLAR_WEIGHT), "folds": str(FOLDS), "seed": str(SEED),
            "trained_on": json.dumps(trained_on), "exemplar_rows": str(len(pool.exemplars)),
            "not_trained": json.dumps(NOT_TRAINED), "refusal_judge": json.dumps(refusal_judge_version()),
            "command": "valind extract train"}
    with atomic_path(out) as tmp:
        save_file({"coef": coef.astype(np.float32), "intercept": icpt.astype(np.float32),
                   "threshold": thresholds.astype(np.float32)}, str(tmp), metadata=meta)
    return meta


def main(args) -> int:
    from ...values import load_values
    from ...instruments.values.learned import default_weights_file

    out = getattr(args, "weights_out", None) or default_weights_file()
    values = list(load_values().values())
    meta = train(values, out)
    for entry in json.loads(meta["trained_on"]):
        print(f"  {entry['name']:12s} {entry['rows']:5d} rows  {entry['path']}")
    print(f"wrote {out} ({len(values)} heads, {meta['exemplar_rows']} exemplar rows)")
    return 0
