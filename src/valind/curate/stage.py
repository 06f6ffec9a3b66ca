"""Curate stage: write RUN_DIR/curate/subsets/<value>/{train,heldout}.jsonl, stats.csv, cooccurrence.csv.

Each subset record: id, prompt (chat messages), chosen (expresses the value),
rejected, flipped (whether chosen/rejected were swapped from the source).
Values with fewer pairs than `curation.min_subset_size` are written but marked
`trained = False` in stats.csv, and the train stage skips them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from ..artifacts import atomic_write_jsonl, atomic_write_text, output_hash, write_manifest
from ..context import RunContext
from ..errors import StageError
from .xor import split_ids, xor_decision


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


def run(ctx: RunContext) -> dict:
    cfg = ctx.config
    extract_dir, ingest_dir = ctx.run_dir / "extract", ctx.run_dir / "ingest"
    inputs = {"extract/annotations.parquet": output_hash(extract_dir, "annotations.parquet"),
              "ingest/pairs.parquet": output_hash(ingest_dir, "pairs.parquet")}
    config_hash = cfg.section_hash("curation", "values", "value_definitions")
    if (m := ctx.fresh_manifest("curate", config_hash, inputs)) is not None:
        return m
    out = ctx.stage_dir("curate")
    ann = pd.read_parquet(extract_dir / "annotations.parquet", columns=["id", "chosen_values", "rejected_values"])
    ann["chosen_values"] = ann["chosen_values"].map(list)
    ann["rejected_values"] = ann["rejected_values"].map(list)
    induced = ctx.induced_values

    # Which pairs go into which subset, and flipped or not.
    decisions: dict[str, dict[str, str]] = {v: {} for v in induced}
    for pid, cv, rv in zip(ann["id"], ann["chosen_values"], ann["rejected_values"]):
        for v in induced:
            d = xor_decision(v, cv, rv)
            if d:
                decisions[v][pid] = d
    splits = {v: split_ids(list(decisions[v]), v, seed=cfg.curation.seed,
                           heldout_fraction=cfg.curation.heldout_fraction,
                           max_size=cfg.curation.max_subset_size) for v in induced}
    wanted = {pid for v in induced for part in splits[v] for pid in part}

    # Stream the pairs table, keeping only rows some subset needs.
    rows: dict[str, dict] = {}
    pf = pq.ParquetFile(ingest_dir / "pairs.parquet")
    for batch in pf.iter_batches(batch_size=4096):
        for rec in batch.to_pylist():
            if rec["id"] in wanted:
                rows[rec["id"]] = rec
    missing = wanted - set(rows)
    if missing:
        raise StageError(f"{ingest_dir / 'pairs.parquet'}: {len(missing)} annotated pair ids are missing "
                         f"(e.g. {sorted(missing)[:3]}); rerun ingest and extract")

    stats, outputs = [], []
    for v in induced:
        train_ids, held_ids = splits[v]
        for part, ids in (("train", train_ids), ("heldout", held_ids)):
            recs = []
            for pid in ids:
                r = rows[pid]
                flip = decisions[v][pid] == "flip"
                recs.append({"id": pid, "source": r["source"], "prompt": r["prompt"],
                             "chosen": r["rejected"] if flip else r["chosen"],
                             "rejected": r["chosen"] if flip else r["rejected"], "flipped": flip})
            path = out / "subsets" / v / f"{part}.jsonl"
            atomic_write_jsonl(path, recs)
            outputs.append(path)
        n = len(decisions[v])
        n_flip = sum(d == "flip" for d in decisions[v].values())
        stats.append({"value": v, "pairs": n, "train": len(train_ids), "heldout": len(held_ids),
                      "flipped_share": round(n_flip / n, 4) if n else 0.0,
                      "trained": len(train_ids) + len(held_ids) >= cfg.curation.min_subset_size})
        ctx.info(f"[curate] {v}: {n} XOR pairs ({n_flip} flipped), train {len(train_ids)}, heldout {len(held_ids)}"
                 + ("" if stats[-1]["trained"] else f"  -- below min_subset_size={cfg.curation.min_subset_size}, not trained"))
    stats_df = pd.DataFrame(stats)
    atomic_write_text(out / "stats.csv", stats_df.to_csv(index=False))
    value_names = [v.name for v in ctx.values]
    atomic_write_text(out / "cooccurrence.csv", cooccurrence(ann, value_names).to_csv())
    outputs += [out / "stats.csv", out / "cooccurrence.csv"]
    return write_manifest(out, stage="curate", config_hash=config_hash, inputs=inputs, outputs=outputs,
                          counts={"pairs": int(len(ann)), "subsets": stats})
