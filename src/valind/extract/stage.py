"""The extract stage: tag the values of every chosen and rejected response in ingest/pairs.parquet.

Reads   RUN_DIR/ingest/pairs.parquet
Writes  RUN_DIR/extract/annotations.parquet   id, chosen_values, rejected_values,
                                               chosen_scores, rejected_scores, failure
        RUN_DIR/extract/value_names.json       the order of the score lists
        RUN_DIR/extract/open_values.csv        open mode (extractor.open_values): every name listed outside the
                                               defined values, where it was mapped (or kept), and its counts;
                                               annotations.parquet then also has chosen_free_values,
                                               rejected_free_values (the names kept as free values)
        RUN_DIR/extract/prevalence.csv, cooccurrence.csv, cooccurrence.png (annotation report)
        RUN_DIR/extract/cache.sqlite           scores per (extractor, prompt, response)
Scoring goes batch by batch through the score cache, so a killed run resumes
where it stopped, and a rerun with a recalibrated threshold costs nothing.
"""

from __future__ import annotations

import json
from typing import Sequence

import numpy as np
import pandas as pd

from ..artifacts import (atomic_write_json, atomic_write_parquet, atomic_write_text, hash_text, output_hash,
                         write_manifest)
from ..context import RunContext
from ..ingest.schema import conversation_text, prompt_text
from ..instruments import instruments_version
from ..instruments.values.base import ValueExtractor, make_extractor
from ..instruments.values.cache import ScoreCache, cached_scores
from ..layout import RunFolder
from .annotation_report import write_annotation_report


class _CountingExtractor:
    """Passes calls through to an extractor and counts the responses it scored (and an LLM extractor's calls)."""

    def __init__(self, extractor: ValueExtractor):
        self.inner = extractor
        self.value_names = extractor.value_names
        self.scored = 0
        self.usage: dict[str, int] = {}

    def score_batch(self, prompts: Sequence[str | None], responses: Sequence[str]) -> np.ndarray:
        self.scored += len(responses)
        scores = self.inner.score_batch(prompts, responses)
        for key, n in getattr(self.inner, "usage", {}).items():
            self.usage[key] = self.usage.get(key, 0) + n
        return scores

    def failures(self):
        return self.inner.failures()

    def open_listed(self):
        return self.inner.open_listed()


def _join_failures(chosen: str | None, rejected: str | None) -> str | None:
    parts = [f"{name}: {f}" for name, f in (("chosen", chosen), ("rejected", rejected)) if f]
    return "; ".join(parts) or None


def annotate_pairs(pairs: pd.DataFrame, extractor: ValueExtractor, cache: ScoreCache | None,
                   batch_size: int, progress: bool = False, context: str = "last_turn",
                   context_chars: int = 4000) -> tuple[pd.DataFrame, dict]:
    """Score every pair's chosen and rejected response in batches of `batch_size` pairs, each with its
    prompt as context: the last user turn, or the whole conversation cut from the left to `context_chars`."""
    from tqdm.auto import tqdm

    counter = _CountingExtractor(extractor)
    n = len(pairs)
    if context == "conversation":
        prompts = [conversation_text(p, context_chars) for p in pairs["prompt"]]
    else:
        prompts = [prompt_text(p) for p in pairs["prompt"]]
    chosen, rejected = pairs["chosen"].tolist(), pairs["rejected"].tolist()
    k = len(extractor.value_names)
    chosen_scores, rejected_scores = np.zeros((n, k)), np.zeros((n, k))
    failures: list[str | None] = [None] * n
    open_ended = bool(getattr(extractor, "open_ended", False))
    chosen_open: list[list[str] | None] = [None] * n
    rejected_open: list[list[str] | None] = [None] * n
    bar = tqdm(total=n, desc="extract values", unit="pair", disable=not progress)
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        p = prompts[start:stop]
        got = cached_scores(counter, p + p, chosen[start:stop] + rejected[start:stop], cache, with_open=open_ended)
        scores, fails = got[0], got[1]
        m = stop - start
        if open_ended:
            chosen_open[start:stop], rejected_open[start:stop] = got[2][:m], got[2][m:]
        chosen_scores[start:stop], rejected_scores[start:stop] = scores[:m], scores[m:]
        for j in range(m):
            failures[start + j] = _join_failures(fails[j], fails[m + j])
        bar.update(m)
    bar.close()

    thresholds = np.array([extractor.thresholds[v] for v in extractor.value_names])
    chosen_on, rejected_on = chosen_scores >= thresholds, rejected_scores >= thresholds
    names = np.array(extractor.value_names, dtype=object)
    table = pd.DataFrame({
        "id": pairs["id"].astype(str).tolist(),
        "chosen_values": [list(names[row]) for row in chosen_on],
        "rejected_values": [list(names[row]) for row in rejected_on],
        "chosen_scores": [list(map(float, row)) for row in chosen_scores],
        "rejected_scores": [list(map(float, row)) for row in rejected_scores],
        "failure": failures,
    })
    if open_ended:  # names kept as free values (those mapped onto a defined value are in *_values already)
        table["chosen_free_values"] = [extractor.mapper.kept(x) if x else [] for x in chosen_open]
        table["rejected_free_values"] = [extractor.mapper.kept(x) if x else [] for x in rejected_open]
    # A failed response has no labels: its row keeps scores of zero and is counted, never guessed.
    counts = {
        "pairs": n,
        "responses": 2 * n,
        "responses_scored": counter.scored,
        "cache_hits": 2 * n - counter.scored,
        "failures": int(sum(f is not None for f in failures)),
        "per_value": {v: {"chosen": int(chosen_on[:, i].sum()), "rejected": int(rejected_on[:, i].sum())}
                      for i, v in enumerate(extractor.value_names)},
    }
    if counter.usage and n:  # an LLM extractor: what extraction at scale costs, per pair scored now
        pairs_scored = max(counter.scored / 2, 1)
        calls = counter.usage.get("listing_calls", 0) + counter.usage.get("yes_no_calls", 0)
        counts["llm"] = {**counter.usage, "calls_per_pair": calls / pairs_scored,
                         "prompt_tokens_per_pair_approx": counter.usage.get("prompt_chars", 0) / 4 / pairs_scored}
    extra = {"open_values": open_values_table(extractor.mapper, chosen_open, rejected_open)} if open_ended else {}
    if open_ended:
        counts["free_values"] = int(extra["open_values"]["kept"].sum()) if len(extra["open_values"]) else 0
    return table, {"counts": counts, "chosen_on": chosen_on, "rejected_on": rejected_on, **extra}


def open_values_table(mapper, chosen: list, rejected: list) -> pd.DataFrame:
    """Every name listed outside the defined values: where it was mapped, and how often chosen and rejected
    responses listed it (`xor_pairs`: pairs where exactly one side did, as the XOR rule counts)."""
    rows: dict[str, dict] = {}
    for c, r in zip(chosen, rejected):
        c, r = set(c or []), set(r or [])
        for name in c | r:
            row = rows.setdefault(name, {"chosen": 0, "rejected": 0, "xor_pairs": 0})
            row["chosen"] += name in c
            row["rejected"] += name in r
            row["xor_pairs"] += (name in c) != (name in r)
    columns = ["name", "mapped_to", "how", "kept", "nearest", "similarity", "chosen", "rejected", "xor_pairs"]
    if not rows:
        return pd.DataFrame(columns=columns)
    mapped = {m.name: m for m in mapper.map(sorted(rows))}
    out = pd.DataFrame([{"name": n, "mapped_to": mapped[n].value or "", "how": mapped[n].how,
                         "kept": mapped[n].value is None, "nearest": mapped[n].nearest,
                         "similarity": mapped[n].similarity, **rows[n]} for n in rows], columns=columns)
    return out.sort_values(["kept", "chosen", "name"], ascending=[False, False, True]).reset_index(drop=True)


def run(ctx: RunContext) -> dict:
    cfg = ctx.config
    folder = ctx.folder
    inputs = {"ingest/pairs.parquet": output_hash(folder.stage("ingest"), folder.pairs.name)}
    config_hash = hash_text(cfg.section_hash("extractor", "value_definitions"), instruments_version("values"))[:16]
    fresh = ctx.fresh_manifest("extract", config_hash, inputs)
    if fresh is not None:
        return fresh

    out = ctx.stage_dir("extract")
    pairs = pd.read_parquet(folder.pairs)
    spec = cfg.extractor
    extractor = make_extractor(spec.name, ctx.values, spec.thresholds_file, **spec.plugin_options())
    cache = ScoreCache(out / "cache.sqlite", extractor.fingerprint())
    try:
        ctx.info(f"[extract] scoring {len(pairs)} pairs with the '{spec.name}' extractor "
                 f"(batch {spec.batch_size}; cache {out / 'cache.sqlite'})")
        context = spec.context or ("conversation" if spec.name == "llm" else "last_turn")
        table, result = annotate_pairs(pairs, extractor, cache, spec.batch_size, ctx.progress, context,
                                       spec.context_chars)
    finally:
        cache.close()
        if hasattr(extractor, "close"):
            extractor.close()

    atomic_write_parquet(folder.annotations, table)
    atomic_write_json(out / "value_names.json", extractor.value_names)
    report = write_annotation_report(out, result["chosen_on"], result["rejected_on"], extractor.value_names)
    if "open_values" in result:
        atomic_write_text(out / "open_values.csv", result["open_values"].to_csv(index=False))
        report = [*report, "open_values.csv"]
    counts = result["counts"]
    ctx.info(f"[extract] {counts['responses_scored']} responses scored, {counts['cache_hits']} from cache, "
             f"{counts['failures']} failures")
    return write_manifest(out, stage="extract", config_hash=config_hash, inputs=inputs,
                          outputs=["annotations.parquet", "value_names.json", *report], counts=counts,
                          extra={"extractor": spec.name, "thresholds": extractor.thresholds})


def read_annotations(run_dir) -> tuple[pd.DataFrame, list[str]]:
    """The stage's annotations and the value order of its score lists (for later stages)."""
    folder = RunFolder(run_dir)
    return (pd.read_parquet(folder.annotations),
            json.loads((folder.stage("extract") / "value_names.json").read_text()))
