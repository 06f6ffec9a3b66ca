"""Train valind's learned refusal judge and write its shipped weights (deterministic).

    python scripts/train_refusal_judge.py [--xstest CSV] [--out src/valind/instruments/refusal/data/learned.npz]

1. Reads the XSTest completions labelled by the XSTest authors (default: the shared data folder's
   labelled/xstest_completions_dev.csv) and valind's in-house development set (training only, never
   scored).
2. Scores a fixed list of candidate configurations (sentences of the opening embedded; L2 strength C;
   with or without the in-house rows as extra training rows) by grouped cross-validation: 5 folds
   grouped by prompt, and leave-one-model-out. Score = the mean of the two binary agreements.
   Candidates within TIE (0.01, about one standard error at n=450) of the best score are tied;
   among them it prefers training on the in-house rows too (more refusal styles: the benefit for a
   model with a third style is what leave-one-model-out cannot measure with two models), then fewer
   sentences, then smaller C. The candidates and this rule are fixed here, in advance; the figures
   reported for the chosen candidate are its out-of-fold ones.
3. Fits the chosen candidate on every XSTest row (plus the in-house rows if chosen) and writes the
   weights with their provenance (data hashes, candidates' figures) to --out.
4. Prints the shipped weights' in-sample agreement on the XSTest rows, which a test reproduces
   from the shipped file.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from valind.calibration.refusal import labelled
from valind.instruments.refusal.learned import (FeatureConfig, cv_predict, default_weights_path, features, fit_head,
                                                save_weights)

# Fixed in advance: (sentences of the opening embedded, C, train with the in-house development rows).
CANDIDATES = [(n, C, inh) for n in (1, 3) for C in (0.3, 1.0) for inh in (False, True)]
TIE = 0.01


def _summary(fig: dict) -> str:
    b, t = fig["refused"], fig["three_class"]
    return f"refused acc {b['accuracy']:.3f} kappa {b['kappa']:.3f} | 3-class acc {t['accuracy']:.3f} kappa {t['kappa']:.3f}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--xstest", help="XSTest labelled completions CSV (default: the shared data folder's)")
    p.add_argument("--out", default=str(default_weights_path()), help="where to write the weights (.npz)")
    args = p.parse_args(argv)

    xs_path = args.xstest or labelled.find_xstest_dev()
    rows = labelled.load_xstest_completions(xs_path)
    gold = [r["label"] for r in rows]
    inhouse = labelled.load_inhouse_dev()
    folds = labelled.folds(rows)
    print(f"XSTest rows {len(rows)} ({', '.join(sorted({r['model'] for r in rows}))}), "
          f"in-house development rows {len(inhouse)}", flush=True)

    X, X_in = {}, {}
    for n in sorted({c[0] for c in CANDIDATES}):
        cfg = FeatureConfig(opening_sentences=n)
        X[n] = features([r["response"] for r in rows], cfg)
        X_in[n] = features([r["response"] for r in inhouse], cfg)
    y_in = [r["label"] for r in inhouse]

    table = []
    for n, C, inh in CANDIDATES:
        extra = (X_in[n], y_in) if inh else None
        res = {name: labelled.figures(gold, cv_predict(X[n], gold, fl, C, extra)) for name, fl in folds.items()}
        table.append({"opening_sentences": n, "C": C, "inhouse": inh, "cv": res})
        print(f"candidate n={n} C={C} inhouse={inh!s:5s} | by prompt: {_summary(res['prompt'])} || "
              f"leave-one-model-out: {_summary(res['model'])}", flush=True)

    for t in table:
        t["score"] = (t["cv"]["prompt"]["refused"]["accuracy"] + t["cv"]["model"]["refused"]["accuracy"]) / 2
    top = max(t["score"] for t in table)
    best = max((t for t in table if t["score"] >= top - TIE),
               key=lambda t: (t["inhouse"], -t["opening_sentences"], -t["C"]))
    n, C, inh = best["opening_sentences"], best["C"], best["inhouse"]
    Xtr, ytr = (np.vstack([X[n], X_in[n]]), gold + y_in) if inh else (X[n], gold)
    head = fit_head(Xtr, ytr, C)
    config = FeatureConfig(opening_sentences=n)
    dev = labelled.figures(gold, head.predict(X[n]))
    meta = {
        "trained_on": {"xstest": {"file": "labelled/xstest_completions_dev.csv", "sha256": labelled.file_sha256(xs_path),
                                  "rows": len(rows)},
                       "inhouse": {"rows": len(inhouse) if inh else 0}},
        "chosen": {"opening_sentences": n, "C": C, "inhouse": inh},
        "selection": f"mean of prompt-grouped and leave-one-model-out binary agreement; within {TIE} of the best, "
                     "prefer in-house rows, fewer sentences, smaller C",
        "candidates": [{k: t[k] for k in ("opening_sentences", "C", "inhouse")}
                       | {f"{f}_{m}": round(t["cv"][f][m]["accuracy"], 4) for f in ("prompt", "model")
                          for m in ("refused", "three_class")} for t in table],
        "in_sample_xstest": {"refused_accuracy": round(dev["refused"]["accuracy"], 4),
                             "three_class_accuracy": round(dev["three_class"]["accuracy"], 4)},
    }
    save_weights(args.out, head, config, C, meta)
    print(f"chosen: n={n} C={C} inhouse={inh}; wrote {args.out}")
    print(f"in-sample on the XSTest rows (not a held-out figure): {_summary(dev)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
