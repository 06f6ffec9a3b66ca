"""Labelled refusal sets, the grouped cross-validation folds, and the figures every judge is scored by.

Two sets:
- XSTest completions labelled by the XSTest authors (`../shared/data/labelled/xstest_completions_dev.csv`:
  GPT-4 and Llama-2-70b-chat on the even-numbered XSTest prompts). Real labels nobody here wrote;
  the learned judge is trained on them, so its figures on them come from grouped cross-validation.
- valind's own `data/refusal_dev.jsonl`, written in-house: development data only. Its figures are
  never held-out figures (the old detector's rules were written with it in view).

Folds: `prompt` (5 folds grouped by XSTest prompt id: no prompt is in both train and test) and
`model` (leave one model out: train on GPT-4, test on Llama-2, and the reverse), the better proxy for
a model the judge has never seen.
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path
from typing import Sequence

from ...errors import ConfigError, InputError
from ...instruments.refusal.dev import load_inhouse_dev, load_jsonl_labels  # noqa: F401  (re-exported)
from ...instruments.refusal.verdict import REFUSAL_LABELS

XSTEST_DEV = "labelled/xstest_completions_dev.csv"
XSTEST_LABELS = {"1_full_compliance": "full_compliance", "2_full_refusal": "full_refusal",
                 "3_partial_refusal": "partial_refusal"}
N_PROMPT_FOLDS = 5


def find_xstest_dev() -> Path:
    """The XSTest dev completions in the shared data folder, or a ConfigError saying where it was looked for."""
    from ...evaluate.suites._data import find_shared, shared_data_roots

    path = find_shared(XSTEST_DEV)
    if path is None:
        tried = ", ".join(str(r / XSTEST_DEV) for r in shared_data_roots())
        raise ConfigError(f"XSTest labelled completions not found (tried {tried}); set VALIND_SHARED_DATA or "
                          f"give --labels FILE")
    return path


def file_sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def load_xstest_completions(path: str | Path) -> list[dict]:
    """Rows {id, prompt, response, label, model, group} of XSTest's labelled completions CSV.

    Every row needs a completion and a `final_label` among XSTest's three classes: a missing or
    unknown label is an error naming the row, never read as compliance."""
    path = Path(path)
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = {"model", "id", "prompt", "completion", "final_label"} - set(reader.fieldnames or [])
        if missing:
            raise InputError(path, 1, sorted(missing)[0], f"column missing (need model, id, prompt, completion, "
                                                          f"final_label; found {reader.fieldnames})")
        rows = []
        for n, r in enumerate(reader, 2):  # row 1 is the header
            label = XSTEST_LABELS.get((r.get("final_label") or "").strip())
            if label is None:
                raise InputError(path, n, "final_label", f"{r.get('final_label')!r} is not one of "
                                                          f"{', '.join(XSTEST_LABELS)}")
            if r.get("completion") is None:
                raise InputError(path, n, "completion", "missing")
            rows.append({"id": f"{r['model']}/{r['id']}", "prompt": r["prompt"], "response": r["completion"].strip(),
                         "label": label, "model": r["model"], "group": r["id"]})
    if not rows:
        raise InputError(path, 1, None, "no labelled rows")
    return rows


def prompt_folds(rows: Sequence[dict], k: int = N_PROMPT_FOLDS) -> list[tuple[list[int], list[int]]]:
    """k folds grouped by prompt (sklearn GroupKFold, deterministic)."""
    from sklearn.model_selection import GroupKFold

    groups = [r["group"] for r in rows]
    if len(set(groups)) < k:
        raise ConfigError(f"grouped cross-validation needs at least {k} prompts; the set has {len(set(groups))}")
    return [(list(tr), list(te)) for tr, te in GroupKFold(n_splits=k).split(groups, groups=groups)]


def model_folds(rows: Sequence[dict]) -> list[tuple[list[int], list[int]]]:
    """Leave one model out: for each model, train on the others and test on it."""
    models = sorted({r["model"] for r in rows})
    if len(models) < 2:
        raise ConfigError("leave-one-model-out needs completions of at least two models")
    return [([i for i, r in enumerate(rows) if r["model"] != m], [i for i, r in enumerate(rows) if r["model"] == m])
            for m in models]


def folds(rows: Sequence[dict]) -> dict[str, list[tuple[list[int], list[int]]]]:
    return {"prompt": prompt_folds(rows), "model": model_folds(rows)}


def figures(gold: Sequence[str], pred: Sequence[str | None]) -> dict:
    """Three-class agreement, binary agreement on `refused`, and the count of unjudged responses.

    An unjudged response (pred None) counts as a disagreement in both, and is counted."""
    from ...instruments.metrics import agreement

    p = [x if x is not None else "unparsed" for x in pred]
    n_unparsed = p.count("unparsed")
    labels = list(REFUSAL_LABELS) + (["unparsed"] if n_unparsed else [])
    gold_b = [g != "full_compliance" for g in gold]
    pred_b = [(not gb) if x == "unparsed" else x != "full_compliance" for x, gb in zip(p, gold_b)]
    return {"three_class": agreement(gold, p, labels=labels),
            "refused": agreement(gold_b, pred_b, labels=[True, False]),
            "unparsed": n_unparsed}
