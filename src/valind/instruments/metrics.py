"""Agreement between a judge and human labels: accuracy, Cohen's kappa, per-class F1 (scikit-learn)."""

from __future__ import annotations

from typing import Sequence


def agreement(gold: Sequence, pred: Sequence, labels: Sequence | None = None) -> dict:
    """Accuracy, Cohen's kappa, macro F1 and per-class precision/recall/F1/support of `pred` against `gold`.

    `labels` fixes the classes reported (default: every class seen in gold or pred), so a judge
    that never predicts a class still gets a row for it (F1 0).
    """
    from sklearn.metrics import accuracy_score, cohen_kappa_score, precision_recall_fscore_support

    if len(gold) != len(pred):
        raise ValueError(f"gold has {len(gold)} labels, pred {len(pred)}")
    if not gold:
        raise ValueError("no labels to compare")
    labels = list(labels) if labels is not None else sorted(set(gold) | set(pred), key=str)
    p, r, f, s = precision_recall_fscore_support(gold, pred, labels=labels, zero_division=0)
    per_class = {str(lab): {"precision": float(pi), "recall": float(ri), "f1": float(fi), "support": int(si)}
                 for lab, pi, ri, fi, si in zip(labels, p, r, f, s)}
    # Kappa is undefined (nan) when both raters use one class; report 0 agreement beyond chance then.
    if len(set(gold) | set(pred)) < 2:
        kappa = 0.0
    else:
        kappa = float(cohen_kappa_score(gold, pred, labels=labels))
    return {
        "n": len(gold),
        "accuracy": float(accuracy_score(gold, pred)),
        "kappa": kappa,
        "macro_f1": float(sum(v["f1"] for v in per_class.values()) / len(per_class)),
        "per_class": per_class,
    }
