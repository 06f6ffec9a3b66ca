"""Per-behaviour logistic heads over the feature blocks: fitting, prediction, the shipped file.

Fitting (scikit-learn's LogisticRegression, L2, lbfgs, deterministic): each response counts as a
positive with weight p and a negative with weight 1 - p, where p is the share of the two outside
annotators who marked the behaviour (so a disputed label counts half); positives and negatives are
then re-weighted to equal total weight. Features are standardised on the training rows and the
`rules` block is multiplied by `rule_weight` after standardising (a weaker penalty on the few
cue counts than on the 384 embedding dimensions). A behaviour with fewer than `min_positives`
agreed positives in the training rows gets no head; the judge then falls back to its rule.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...errors import ConfigError
from .definitions import NAMES
from .features import EMBED_DIM

WIDTHS = {"emb": EMBED_DIM, "def": len(NAMES), "def_self": len(NAMES), "rules": len(NAMES)}


@dataclass
class Heads:
    """Standardisation and one logistic head per behaviour (coef row of zeros where untrained)."""

    blocks: tuple[str, ...]
    mean: np.ndarray  # (d,)
    scale: np.ndarray  # (d,) divide by this after centring (std / rule_weight for the rules block)
    coef: np.ndarray  # (14, d)
    intercept: np.ndarray  # (14,)
    trained: np.ndarray  # (14,) bool
    meta: dict

    def matrix(self, blocks: dict[str, np.ndarray]) -> np.ndarray:
        missing = [b for b in self.blocks if b not in blocks]
        if missing:
            raise ValueError(f"feature blocks missing: {missing}")
        return np.hstack([blocks[b] for b in self.blocks])

    def predict_proba(self, blocks: dict[str, np.ndarray]) -> np.ndarray:
        """(n, 14) probabilities; NaN in the columns of untrained behaviours."""
        x = (self.matrix(blocks) - self.mean) / self.scale
        p = 1.0 / (1.0 + np.exp(-(x @ self.coef.T + self.intercept)))
        p[:, ~self.trained] = np.nan
        return p

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """Arrays to store under `prefix/` in an .npz (see save_heads)."""
        return {f"{prefix}/mean": self.mean, f"{prefix}/scale": self.scale, f"{prefix}/coef": self.coef,
                f"{prefix}/intercept": self.intercept, f"{prefix}/trained": self.trained,
                f"{prefix}/meta": np.array(json.dumps({"blocks": list(self.blocks), **self.meta}, sort_keys=True))}


def fit_heads(blocks: dict[str, np.ndarray], names: tuple[str, ...], soft: np.ndarray, agreed_pos: np.ndarray,
              *, C: float = 0.05, rule_weight: float = 3.0, min_positives: int = 5, meta: dict | None = None) -> Heads:
    """Fit one head per behaviour on rows x (blocks), soft labels (n, 14), agreed positives (14,)."""
    from sklearn.linear_model import LogisticRegression

    x = np.hstack([blocks[b] for b in names])
    mean, std = x.mean(axis=0), x.std(axis=0)
    std[std < 1e-8] = 1.0
    scale = std.copy()
    offset = 0
    for b in names:
        if b == "rules":
            scale[offset:offset + WIDTHS[b]] /= rule_weight
        offset += WIDTHS[b]
    xs = (x - mean) / scale
    n, k = x.shape[0], len(NAMES)
    coef, intercept, trained = np.zeros((k, x.shape[1])), np.zeros(k), np.zeros(k, dtype=bool)
    for j in range(k):
        if agreed_pos[j] < min_positives or soft[:, j].min() == soft[:, j].max():
            continue
        y = np.r_[np.ones(n), np.zeros(n)]
        w = np.r_[soft[:, j], 1.0 - soft[:, j]]
        keep = w > 0
        y, w, xx = y[keep], w[keep], np.vstack([xs, xs])[keep]
        pos, neg = w[y == 1].sum(), w[y == 0].sum()
        w = w * np.where(y == 1, (pos + neg) / (2 * pos), (pos + neg) / (2 * neg))
        clf = LogisticRegression(C=C, max_iter=5000).fit(xx, y, sample_weight=w)
        coef[j], intercept[j], trained[j] = clf.coef_[0], clf.intercept_[0], True
    settings = {"C": C, "rule_weight": rule_weight, "min_positives": min_positives}
    return Heads(tuple(names), mean, scale, coef, intercept, trained, {**settings, **(meta or {})})


def save_heads(path: str | Path, heads: dict[str, Heads]) -> None:
    """Write several named Heads into one .npz (plain arrays, no pickles)."""
    arrays = {}
    for name, h in heads.items():
        arrays.update(h.arrays(name))
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        np.savez_compressed(fh, **arrays)


def load_heads(path: str | Path) -> dict[str, Heads]:
    """{name: Heads} from a file written by save_heads."""
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: cannot read anthropomorphism heads ({exc})") from None
    out = {}
    for name in sorted({k.split("/")[0] for k in data.files}):
        try:
            meta = json.loads(str(data[f"{name}/meta"]))
            blocks = tuple(meta.pop("blocks"))
            out[name] = Heads(blocks, data[f"{name}/mean"], data[f"{name}/scale"], data[f"{name}/coef"],
                              data[f"{name}/intercept"], data[f"{name}/trained"].astype(bool), meta)
        except KeyError as exc:
            raise ConfigError(f"{path}: heads '{name}' lack array {exc}") from None
        width = sum(WIDTHS[b] for b in blocks)
        if out[name].coef.shape != (len(NAMES), width):
            raise ConfigError(f"{path}: heads '{name}' have shape {out[name].coef.shape}, expected {(len(NAMES), width)}")
    return out
