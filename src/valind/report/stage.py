"""The pipeline's last stage: the report of the run (skipped when its inputs did not change)."""

from __future__ import annotations

from ..artifacts import hash_file, output_hash, write_manifest
from ..layout import MANIFEST
from ..context import RunContext
from ..stats import EffectOptions
from .build import build_report

OUTPUTS = ["report.html", "summary.md", "effects.csv", "effects.parquet", "README.md", "claims.csv", "figures"]
OPTIONAL = ["dose_response.csv", "open_values.csv", "model_interactions.csv"]  # a numeric sweep axis; open-ended
# extraction; several models
# Bump when the statistics or the report's content change, so finished reports are rebuilt.
REPORT_FORMAT = "4"  # 3: control contrasts and effects.parquet with its dataset card; 4: p-value floor fix


def report_inputs(ctx: RunContext) -> dict[str, str]:
    """Hashes of everything the report reads: the results table first, then whatever else the run holds."""
    run, folder = ctx.run_dir, ctx.folder
    inputs = {"evaluate/results.parquet": output_hash(folder.stage("evaluate"), folder.results.name)}
    for path in (folder.items, folder.curate_stats, folder.cooccurrence, folder.controls, folder.data_coinduction,
                 folder.prevalence, folder.manifest("ingest"), folder.study):
        if path.is_file():
            inputs[path.relative_to(run).as_posix()] = hash_file(path)
    for d, pattern in ((folder.train, "**/metrics.json"), (folder.validation, "*.json")):
        if d.is_dir():
            files = [f for f in sorted(d.glob(pattern)) if f.name != MANIFEST]  # the figures, not when recorded
            if files:
                inputs[d.name] = _hash_files(run, files)
    return inputs


def _hash_files(root, files) -> str:
    from ..artifacts import hash_text

    return hash_text(*[f"{f.relative_to(root)}:{hash_file(f)}" for f in files])


def _config_hash(ctx: RunContext, options: EffectOptions) -> str:
    return ctx.config.section_hash(*type(ctx.config).model_fields) + f"|report{REPORT_FORMAT}|" + \
        ",".join(f"{k}={v}" for k, v in sorted(options.as_dict().items()))


def run(ctx: RunContext, options: EffectOptions | None = None) -> dict:
    options = options or EffectOptions()
    fresh = ctx.fresh_manifest("report", _config_hash(ctx, options), report_inputs(ctx))
    if fresh is not None:
        return fresh
    return build_and_record(ctx, options)[1]


def build_and_record(ctx: RunContext, options: EffectOptions) -> tuple[dict, dict]:
    """Build the report into RUN_DIR/report and write its manifest (what `valind verify` checks);
    returns build_report's summary and the manifest."""
    config_hash, inputs = _config_hash(ctx, options), report_inputs(ctx)
    out = build_report(ctx.run_dir, options=options)
    ctx.info(f"report: {out['html']} and {out['summary']}")
    from ..export.cards import write_cards

    cards = write_cards(ctx.run_dir, ctx.config.redacted_dump())  # the adapters' model cards, now with the effects
    if cards:
        ctx.info(f"report: model cards of {len(cards)} adapters (train/*/*/seed*/adapter/README.md)")
    manifest = write_manifest(ctx.stage_dir("report"), stage="report", config_hash=config_hash, inputs=inputs,
                              outputs=OUTPUTS + [o for o in OPTIONAL if (ctx.folder.report / o).exists()],
                              counts=out["counts"], extra={"options": options.as_dict()})
    return out, manifest
