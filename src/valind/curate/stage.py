"""Curate stage: the training subsets, the control draws, and what the data says before any training.

Writes into RUN_DIR/curate/:
- subsets/<value>/{train,heldout}.jsonl: XOR subsets; each record id, source,
  prompt (chat messages), chosen (expresses the value), rejected, flipped
  (whether chosen/rejected were swapped from the source). A pair held out for
  any value is in no train part. With `curation.equalize` the train parts of
  all trained values are cut to the smallest one's size (the first N of a
  seeded order).
- subsets/control[-n<N>]/seed<k>/train.jsonl and controls.json: the control
  arm (see curate/control.py); controls.json says which control each value is
  matched to, the pool, and the source counts of each draw.
- Pairs with a failed extraction on either side (extract/annotations.parquet `failure`) are left
  out of everything below: a failed response has no labels, so it cannot say "value absent". Their
  number is `excluded_failed_extraction` in the manifest counts (and logged).
- stats.csv: per value pairs, train_available (not held out for any value), train, subsampled, heldout,
  flipped_share, trained, control, suite_prompts, and the direction check (curate/direction.py):
  safety_xor_pairs, in_less_safe_share, direction (`WRONG WAY` flags a harm value whose subset is
  mostly carried by the safer reply, before any adapter is trained on it). Values with fewer pairs than
  `curation.min_subset_size` are written but marked `trained = False`, and the
  train stage skips them.
- data_coinduction.csv: for each training subset (rows; controls averaged over
  seeds), the share of pairs whose chosen response expresses each value
  (columns) minus the share whose rejected one does.
- value_suite.jsonl: the held-out value-expression suite (curate/value_suite.py).
- cooccurrence.csv: value x value co-occurrence in the source responses.
"""

from __future__ import annotations

import logging
from collections import Counter

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from ..artifacts import atomic_write_json, atomic_write_jsonl, atomic_write_text, output_hash, write_manifest
from ..context import RunContext
from ..errors import StageError
from . import value_suite
from .control import control_names, stratified_draw
from .direction import WRONG_WAY, direction_stats, safety_ordered_sources
from .xor import split_ids, xor_decision

log = logging.getLogger("valind")


def cooccurrence(annotations: pd.DataFrame, value_names: list[str]) -> pd.DataFrame:
    """How many responses (chosen and rejected alike) express both value i and value j."""
    index = {v: i for i, v in enumerate(value_names)}
    m = np.zeros((len(value_names), len(value_names)), dtype=np.int64)
    for col in ("chosen_values", "rejected_values"):
        for vals in annotations[col]:
            idx = [index[v] for v in vals if v in index]
            for a in idx:
                for b in idx:
                    m[a, b] += 1
    return pd.DataFrame(m, index=value_names, columns=value_names)


def data_coinduction(subsets: dict[str, list[dict]], expressed: dict[str, tuple[set, set]],
                     value_names: list[str]) -> pd.DataFrame:
    """Rows: training subsets (`control[-n<N>]/seed<k>` draws averaged into one row per control); columns: values.

    Each cell: share of the subset's pairs whose (oriented) chosen response expresses the column value minus
    the share whose rejected one does. The diagonal of a value's own row is 1 by the XOR rule.
    """
    rows: dict[str, list[np.ndarray]] = {}
    for name, recs in subsets.items():
        if not recs:
            continue
        diff = np.zeros(len(value_names))
        for r in recs:
            cv, rv = expressed[r["id"]]
            if r["flipped"]:
                cv, rv = rv, cv
            diff += np.array([(u in cv) - (u in rv) for u in value_names], dtype=float)
        rows.setdefault(name.split("/")[0], []).append(diff / len(recs))
    return pd.DataFrame({k: np.mean(v, axis=0) for k, v in rows.items()}, index=value_names).T


def run(ctx: RunContext) -> dict:
    cfg = ctx.config
    cur = cfg.curation
    folder = ctx.folder
    inputs = {"extract/annotations.parquet": output_hash(folder.stage("extract"), folder.annotations.name),
              "ingest/pairs.parquet": output_hash(folder.stage("ingest"), folder.pairs.name)}
    seeds = list(cfg.training.seeds)  # one control draw per training seed
    config_hash = cfg.section_hash("curation", "values", "value_definitions") + f"|seeds={seeds}"
    if (m := ctx.fresh_manifest("curate", config_hash, inputs)) is not None:
        return m
    out = ctx.stage_dir("curate")
    ann, n_failed = _read_annotations(folder.annotations)
    if n_failed:
        ctx.info(f"[curate] {n_failed} pair(s) left out: extraction failed on the chosen or rejected response "
                 f"(extract/annotations.parquet `failure`); a failed side is not 'value absent'")
    induced = ctx.induced_values
    value_names = [v.name for v in ctx.values]

    # Which pairs go into which subset, and flipped or not.
    decisions: dict[str, dict[str, str]] = {v: {} for v in induced}
    for pid, cv, rv in zip(ann["id"], ann["chosen_values"], ann["rejected_values"]):
        for v in induced:
            d = xor_decision(v, cv, rv)
            if d:
                decisions[v][pid] = d
    splits = {v: split_ids(list(decisions[v]), v, seed=cur.seed, heldout_fraction=cur.heldout_fraction,
                           max_size=cur.max_subset_size) for v in induced}
    trained = [v for v in induced if sum(map(len, splits[v])) >= cur.min_subset_size]
    # A pair held out for one value is held out for all: no adapter trains on any value's held-out pairs,
    # so the implicit-reward check on another value's held-out pairs is not inflated by training on them.
    heldout = {pid for v in induced for pid in splits[v][1]}
    available = {v: [pid for pid in splits[v][0] if pid not in heldout] for v in induced}
    # Equal budgets: every trained value keeps the first N of its seeded order (N = the smallest subset).
    n_equal = min((len(available[v]) for v in trained), default=0) if cur.equalize else None
    train_ids = {v: available[v][:n_equal] if (n_equal is not None and v in trained) else available[v]
                 for v in induced}

    # The control arm: source-stratified draws from the pool, one per (control size, training seed).
    pool = sorted({pid for v in trained for pid in available[v]})
    matched = control_names({v: len(train_ids[v]) for v in trained}) if cur.control else {}
    control_sizes = {name: len(train_ids[v]) for v, name in matched.items()}
    source_of = _sources(folder.pairs, set(pool)) if control_sizes else {}
    control_ids = {(name, seed): stratified_draw(source_of, n, seed=seed)
                   for name, n in control_sizes.items() for seed in seeds}

    # The held-out value-expression suite: shortlists now, chosen once prompts are read.
    trained_ids = {pid for v in trained for pid in train_ids[v]} | {pid for ids in control_ids.values() for pid in ids}
    suite_values = list(induced) if cur.value_suite_values == "induced" else value_names
    shortlist = value_suite.candidates(ann, suite_values, trained_ids, seed=cur.seed,
                                       shortlist=4 * cur.value_suite_per_value + 8)
    wanted = ({pid for v in induced for part in splits[v] for pid in part} | trained_ids
              | {pid for ids in shortlist.values() for pid in ids})
    rows = _read_pairs(folder.pairs, wanted)

    # The direction check: among each value's XOR pairs from safety-ordered sources, the share with the value in
    # the less safe (rejected) reply; a harm value mostly in the safer reply is flagged before training.
    safety = safety_ordered_sources(cfg.sources)
    decided = {pid for v in induced for pid in decisions[v]}
    source_all = _sources(folder.pairs, decided) if safety else {}
    valence = {v.name: v.valence for v in ctx.values}
    stats, outputs, subsets = [], [], {}
    for v in induced:
        subsets[v] = [_oriented(rows[pid], decisions[v][pid] == "flip") for pid in train_ids[v]]
        for part, recs in (("train", subsets[v]),
                           ("heldout", [_oriented(rows[pid], decisions[v][pid] == "flip") for pid in splits[v][1]])):
            path = folder.subset(v, part)
            atomic_write_jsonl(path, recs)
            outputs.append(path)
        n = len(decisions[v])
        n_flip = sum(d == "flip" for d in decisions[v].values())
        stats.append({"value": v, "pairs": n, "train_available": len(available[v]), "train": len(train_ids[v]),
                      "subsampled": len(available[v]) - len(train_ids[v]), "heldout": len(splits[v][1]),
                      "flipped_share": round(n_flip / n, 4) if n else 0.0, "trained": v in trained,
                      "control": matched.get(v, ""),
                      **direction_stats(decisions[v], source_all, safety, valence.get(v) == "negative")})
        if stats[-1]["direction"] == WRONG_WAY:
            log.warning(f"[curate] {v}: only {stats[-1]['in_less_safe_share']:.0%} of its "
                     f"{stats[-1]['safety_xor_pairs']} XOR pairs from safety-ordered sources carry it in the less "
                     f"safe reply: the extractor may be tagging something else, and the adapter would learn that "
                     f"(curate/stats.csv `direction`)")
        ctx.info(f"[curate] {v}: {n} XOR pairs ({n_flip} flipped), train {len(train_ids[v])}"
                 + (f" of {len(available[v])} (equalized)" if stats[-1]["subsampled"] else "")
                 + f", heldout {len(splits[v][1])}"
                 + ("" if v in trained else f"  -- below min_subset_size={cur.min_subset_size}, not trained"))
    controls = {}
    for (name, seed), ids in control_ids.items():
        recs = [_oriented(rows[pid], False) for pid in ids]
        subsets[f"{name}/seed{seed}"] = recs
        path = folder.control_subset(name, seed)
        atomic_write_jsonl(path, recs)
        outputs.append(path)
        entry = controls.setdefault(name, {"pairs": control_sizes[name], "values": sorted(
            v for v, c in matched.items() if c == name), "pool": len(pool),
            "pool_sources": dict(sorted(Counter(source_of.values()).items())), "seeds": {}})
        entry["seeds"][str(seed)] = {"file": f"subsets/{name}/seed{seed}/train.jsonl",
                                     "sources": dict(sorted(Counter(r["source"] for r in recs).items()))}
        ctx.info(f"[curate] {name} seed {seed}: {len(ids)} pairs drawn from a pool of {len(pool)} "
                 f"({', '.join(f'{k} {c}' for k, c in entry['seeds'][str(seed)]['sources'].items())})")
    atomic_write_json(folder.controls, {"equalized_train_pairs": n_equal, "controls": controls,
                                              "matched": matched})

    # Where co-induction could come from: other values' chosen-minus-rejected difference in each training subset.
    expressed = {pid: (set(cv), set(rv)) for pid, cv, rv in zip(ann["id"], ann["chosen_values"], ann["rejected_values"])}
    data_matrix = data_coinduction(subsets, expressed, value_names)
    atomic_write_text(folder.data_coinduction, data_matrix.to_csv())

    trained_prompts = {value_suite.prompt_key(rows[pid]["prompt"]) for pid in trained_ids}
    suite = value_suite.select(shortlist, rows, expressed, trained_prompts, heldout, cur.value_suite_per_value)
    atomic_write_jsonl(folder.value_suite, suite)
    per_value = Counter(r["value"] for r in suite)
    for s in stats:
        s["suite_prompts"] = per_value.get(s["value"], 0)
    ctx.info(f"[curate] value suite: {len(suite)} held-out prompts "
             f"({', '.join(f'{v} {per_value[v]}' for v in value_names if per_value.get(v))})")

    stats_df = pd.DataFrame(stats)
    atomic_write_text(folder.curate_stats, stats_df.to_csv(index=False))
    atomic_write_text(folder.cooccurrence, cooccurrence(ann, value_names).to_csv())
    outputs += [folder.curate_stats, folder.cooccurrence, folder.controls, folder.data_coinduction, folder.value_suite]
    return write_manifest(out, stage="curate", config_hash=config_hash, inputs=inputs, outputs=outputs,
                          counts={"pairs": int(len(ann)), "excluded_failed_extraction": n_failed, "subsets": stats, "equalized_train_pairs": n_equal,
                                  "controls": {k: v["pairs"] for k, v in controls.items()},
                                  "value_suite": len(suite)})


def _read_annotations(path) -> tuple[pd.DataFrame, int]:
    """The extract stage's value lists, without the pairs whose chosen or rejected extraction failed,
    and how many those were (annotations written before the `failure` column have none)."""
    has_failure = "failure" in pq.read_schema(path).names
    ann = pd.read_parquet(path, columns=["id", "chosen_values", "rejected_values"] + ["failure"] * has_failure)
    failed = ann["failure"].fillna("").astype(str).str.len() > 0 if has_failure else pd.Series(False, ann.index)
    ann = ann[~failed].drop(columns=["failure"] * has_failure).reset_index(drop=True)
    ann["chosen_values"] = ann["chosen_values"].map(list)
    ann["rejected_values"] = ann["rejected_values"].map(list)
    return ann, int(failed.sum())


def _oriented(rec: dict, flip: bool) -> dict:
    """A subset record: the value-expressing response as chosen (flipped when it was the rejected one)."""
    return {"id": rec["id"], "source": rec["source"], "prompt": rec["prompt"],
            "chosen": rec["rejected"] if flip else rec["chosen"],
            "rejected": rec["chosen"] if flip else rec["rejected"], "flipped": flip}


def _read_pairs(path, wanted: set[str], columns=None) -> dict[str, dict]:
    """Stream the pairs table, keeping only the rows in `wanted` (all of them must be there)."""
    rows: dict[str, dict] = {}
    for batch in pq.ParquetFile(path).iter_batches(batch_size=4096, columns=columns):
        for rec in batch.to_pylist():
            if rec["id"] in wanted:
                rows[rec["id"]] = rec
    missing = wanted - set(rows)
    if missing:
        raise StageError(f"{path}: {len(missing)} annotated pair ids are missing "
                         f"(e.g. {sorted(missing)[:3]}); rerun ingest and extract")
    return rows


def _sources(pairs_path, ids: set[str]) -> dict[str, str]:
    """pair id -> source, for the given ids."""
    return {pid: r["source"] for pid, r in _read_pairs(pairs_path, ids, ["id", "source"]).items()}
