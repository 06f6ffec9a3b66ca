"""Evaluate stage: judge every generation, run direct suites (QA), write the tidy results table.

Outputs in RUN_DIR/evaluate/:
- results.parquet / results.csv: one row per measurement: study, model,
  induced_value ("base" for the base model), seed, suite, item_id, metric, value
- items.parquet: the generations with the judges' details, for reading samples
- value_matrix.csv / value_matrix.png: induced x expressed value, mean change
  in expression against the base model (the study's heatmap, as effects)
- summary.csv: mean of each metric per (model, induced value, suite)
- open_values.csv: with open-ended extraction, each free value per (model, suite): how often it was
  listed, its nearest defined value and similarity, and whether it was tested (listed at least
  extractor.open_values.min_count times); results carry `expresses_free:<name>` 0/1 rows for those
A response no judge (or, for value_prompts, the extractor) could judge has a `judge_unparsed` row
instead of outcome rows; the manifest counts them per suite (`counts.unjudged`).
Each (variant, suite) is a unit cached under units/, so a killed run resumes. The variants are the ones
the generate stage lists in generate/variants.json (valind.layout), never re-planned here.
"""

from __future__ import annotations

import json

import pandas as pd

from ..artifacts import (atomic_path, atomic_write_json, atomic_write_parquet, atomic_write_text, hash_file,
                         hash_text, read_jsonl, write_manifest)
from ..context import RunContext
from ..errors import StageError
from .suites import make_suite
from ..export.datacards import write_table
from ..instruments import instruments_version
from ..instruments.values.open import FREE_PREFIX
from ..layout import read_variants

RESULT_COLUMNS = ["study", "model", "induced_value", "seed", "suite", "item_id", "metric", "value"]
TABLES_FORMAT = "2"  # 2: results.parquet carries its dataset card


def _unit_rows(ctx: RunContext, variant, suite) -> tuple[list[dict], list[dict]]:
    """Metric rows and item rows for one (variant, suite), from cache when unchanged."""
    unit_dir = ctx.stage_dir("evaluate") / "units" / variant.rel_dir
    gen_file = ctx.folder.generations(variant.rel_dir, suite.name)
    # The judges' names and settings (in the suite spec), the extractor, and the instruments' code:
    # an edited judge never serves judgements cached by the old one.
    judge_cfg = json.dumps({"suite": suite.spec.model_dump(mode="json"),
                            "extractor": ctx.config.extractor.model_dump(mode="json"),
                            "instruments": instruments_version()}, sort_keys=True)
    if suite.needs_generation:
        if not gen_file.exists():
            raise StageError(f"{gen_file}: missing; run `valind generate` first")
        key = hash_text(hash_file(gen_file), judge_cfg)[:16]
    else:
        key = hash_text(variant.adapter_hash, variant.model_name, judge_cfg)[:16]
    cache = unit_dir / f"{suite.name}.{key}.json"
    if cache.exists() and not ctx.force:
        try:
            data = json.loads(cache.read_text(encoding="utf-8"))
            return data["metrics"], data["items"]
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError):
            ctx.info(f"[evaluate] {cache}: damaged unit cache; recomputing it")
    if suite.needs_generation:
        gens = read_jsonl(gen_file)
        metrics = suite.score(gens)
        details: dict[str, dict] = {}
        for m in metrics:
            if m.get("details"):
                details.setdefault(m["item_id"], {}).update(m["details"])
        if any("turn" in g for g in gens):  # a multi-turn suite: one item per conversation
            from ..generate.conversations import conversation_records

            gens = conversation_records(gens)
        items = [{"item_id": g["item_id"], "prompt": g["prompt"], "response": g["response"],
                  "details": json.dumps({**g.get("meta", {}), **details.get(g["item_id"], {})}, default=str)}
                 for g in gens]
    else:
        metrics = suite.run_direct(variant.model_name, variant.adapter)
        items = []
    metrics = [{"item_id": str(m["item_id"]), "metric": m["metric"], "value": float(m["value"])} for m in metrics]
    for old in unit_dir.glob(f"{suite.name}.*.json") if unit_dir.exists() else []:
        old.unlink()
    atomic_write_json(cache, {"metrics": metrics, "items": items})
    return metrics, items


def densify_free_values(results: pd.DataFrame, min_count: int) -> pd.DataFrame:
    """Free-value rows for every scored item: a suite scores `expresses_free:<name>` = 1 where the extractor
    named the value; here each (model, suite)'s free values listed at least `min_count` times (all variants
    together) get a 0 on every other item the extractor scored (one with `expresses:` rows), so they are
    paired outcomes like the defined values; rarer ones are dropped from the table (kept in items.parquet)."""
    free = results["metric"].str.startswith(FREE_PREFIX)
    if not free.any():
        return results
    keys = ["study", "model", "induced_value", "seed", "suite", "item_id"]
    rest, named = results[~free], results[free]
    scored = rest.loc[rest["metric"].str.startswith("expresses:"), keys].drop_duplicates()
    parts = [rest]
    for (model, suite), grp in named.groupby(["model", "suite"], sort=True):
        counts = grp.groupby("metric").size()
        keep = sorted(counts[counts >= min_count].index)
        if not keep:
            continue
        items = scored[(scored["model"] == model) & (scored["suite"] == suite)]
        grid = items.merge(pd.DataFrame({"metric": keep}), how="cross")
        hits = grp[grp["metric"].isin(keep)][keys + ["metric"]].drop_duplicates().assign(value=1.0)
        grid = grid.merge(hits, on=keys + ["metric"], how="left")
        parts.append(grid.assign(value=grid["value"].fillna(0.0))[RESULT_COLUMNS])
    return pd.concat(parts, ignore_index=True)


def open_values_table(results: pd.DataFrame, items: pd.DataFrame, min_count: int) -> pd.DataFrame:
    """Per (model, suite, free value): times listed, nearest defined value and similarity, tested or not."""
    named = results[results["metric"].str.startswith(FREE_PREFIX)]
    columns = ["model", "suite", "name", "listed", "tested", "nearest", "similarity"]
    if named.empty:
        return pd.DataFrame(columns=columns)
    nearest: dict[str, list] = {}
    for text in items["details"]:
        nearest.update(json.loads(text).get("free_nearest") or {})
    counts = named.groupby(["model", "suite", "metric"]).size().reset_index(name="listed")
    counts["name"] = counts["metric"].str.slice(len(FREE_PREFIX))
    counts["tested"] = counts["listed"] >= min_count
    counts["nearest"] = [nearest.get(n, ["", float("nan")])[0] for n in counts["name"]]
    counts["similarity"] = [nearest.get(n, ["", float("nan")])[1] for n in counts["name"]]
    return counts.sort_values(["model", "suite", "listed", "name"], ascending=[True, True, False, True])[columns]


def value_matrix(results: pd.DataFrame) -> pd.DataFrame:
    """Induced value x expressed value: mean expression under the adapter minus under the base model."""
    expr = results[results["metric"].str.startswith("expresses:")].copy()
    if expr.empty:
        return pd.DataFrame()
    expr["expressed"] = expr["metric"].str.slice(len("expresses:"))
    means = expr.groupby(["model", "induced_value", "expressed"])["value"].mean().reset_index()
    base = means[means["induced_value"] == "base"].set_index(["model", "expressed"])["value"]
    ind = means[means["induced_value"] != "base"].copy()
    if ind.empty:
        return pd.DataFrame()
    ind["effect"] = [v - base.get((m, e), float("nan")) for m, e, v in zip(ind["model"], ind["expressed"], ind["value"])]
    return ind.pivot_table(index=["model", "induced_value"], columns="expressed", values="effect")


def plot_value_matrix(matrix: pd.DataFrame, path) -> None:
    import matplotlib  # heavy, and only for the figure
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    labels = [f"{m}: {v}" if len(set(matrix.index.get_level_values(0))) > 1 else v for m, v in matrix.index]
    fig, ax = plt.subplots(figsize=(1 + 0.55 * matrix.shape[1], 1.5 + 0.5 * matrix.shape[0]))
    lim = max(0.05, float(np.nanmax(np.abs(matrix.values))))
    im = ax.imshow(matrix.values, cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto")
    ax.set_xticks(range(matrix.shape[1]), matrix.columns, rotation=60, ha="right")
    ax.set_yticks(range(matrix.shape[0]), labels)
    for i in range(matrix.shape[0]):
        for j in range(matrix.shape[1]):
            val = matrix.values[i, j]
            if not np.isnan(val):
                ax.text(j, i, f"{val:+.2f}", ha="center", va="center", fontsize=7)
    ax.set_xlabel("expressed value (share of generations, adapter minus base)")
    ax.set_ylabel("induced value")
    ax.set_title("Change in value expression against the base model")
    fig.colorbar(im, ax=ax, shrink=0.8)
    fig.tight_layout()
    with atomic_path(path) as tmp:  # a killed run never leaves a half-written figure
        fig.savefig(tmp, format="png", dpi=120)
    plt.close(fig)


def run(ctx: RunContext) -> dict:
    cfg = ctx.config
    stage_dir = ctx.stage_dir("evaluate")
    gen_manifest = ctx.folder.manifest("generate")
    if not gen_manifest.exists():
        raise StageError(f"{gen_manifest}: missing; run `valind generate` first")
    inputs = {"generate/manifest.json": hash_file(gen_manifest)}
    config_hash = hash_text(cfg.section_hash("evaluation", "extractor", "name"), instruments_version(),
                            f"tables{TABLES_FORMAT}")[:16]
    if (m := ctx.fresh_manifest("evaluate", config_hash, inputs)) is not None:
        return m
    suites = [make_suite(spec, ctx) for spec in cfg.evaluation.suites]
    all_variants = read_variants(ctx.folder)  # what the generate stage generated for
    # Suite by suite, so each suite's judge model (or the generation model) is loaded once for every variant.
    units = {}
    for si, s in enumerate(suites):
        for vi, v in enumerate(all_variants):
            ctx.info(f"[evaluate] {s.name} / {v.rel_dir}")
            units[vi, si] = _unit_rows(ctx, v, s)
    metric_rows, item_rows = [], []
    for vi, v in enumerate(all_variants):
        for si, s in enumerate(suites):
            metrics, items = units[vi, si]
            tag = {"study": cfg.name, "model": v.model_slug, "induced_value": v.induced_value, "seed": v.seed,
                   "suite": s.name}
            metric_rows += [{**tag, **m} for m in metrics]
            item_rows += [{**tag, **it} for it in items]
    results = pd.DataFrame(metric_rows, columns=RESULT_COLUMNS)
    items = pd.DataFrame(item_rows, columns=["study", "model", "induced_value", "seed", "suite", "item_id",
                                             "prompt", "response", "details"])
    open_spec = cfg.extractor.open_values
    free_table = open_values_table(results, items, open_spec.min_count) if open_spec else None
    if open_spec:
        results = densify_free_values(results, open_spec.min_count)
    results = results.sort_values(RESULT_COLUMNS[:7], kind="stable").reset_index(drop=True)
    write_table(stage_dir / "results.parquet", results, "results", cfg.name)  # with its dataset card (README.md)
    atomic_write_text(stage_dir / "results.csv", results.to_csv(index=False))
    atomic_write_parquet(stage_dir / "items.parquet", items)
    summary = results.groupby(["model", "induced_value", "seed", "suite", "metric"])["value"].agg(["mean", "count"])
    atomic_write_text(stage_dir / "summary.csv", summary.reset_index().to_csv(index=False))
    outputs = ["results.parquet", "README.md", "results.csv", "items.parquet", "summary.csv"]
    if free_table is not None:
        atomic_write_text(stage_dir / "open_values.csv", free_table.to_csv(index=False))
        outputs.append("open_values.csv")
    matrix = value_matrix(results)
    if not matrix.empty:
        atomic_write_text(stage_dir / "value_matrix.csv", matrix.to_csv())
        plot_value_matrix(matrix, stage_dir / "value_matrix.png")
        outputs += ["value_matrix.csv", "value_matrix.png"]
    # Responses a judge or the extractor could not judge: counted per suite, never read as a 0 (the effects
    # leave them out, since they have no outcome row).
    unparsed = results[results["metric"] == "judge_unparsed"]
    unjudged = {s.name: int((unparsed["suite"] == s.name).sum()) for s in suites}
    for (model, induced, seed, suite), grp in unparsed.groupby(["model", "induced_value", "seed", "suite"]):
        ctx.info(f"[evaluate] {model}/{induced}/seed{seed} on {suite}: {len(grp)} response(s) unjudged "
                 f"(judge_unparsed), left out of the effects")
    refusal = results[results["metric"] == "refused"]
    if not refusal.empty:
        for (model, induced, suite), grp in refusal.groupby(["model", "induced_value", "suite"]):
            ctx.info(f"[evaluate] refusal rate {model}/{induced} on {suite}: {grp['value'].mean():.2f}")
    return write_manifest(stage_dir, stage="evaluate", config_hash=config_hash, inputs=inputs, outputs=outputs,
                          counts={"rows": int(len(results)), "items": int(len(items)), "unjudged": unjudged})
