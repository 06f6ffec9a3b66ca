"""Ingest: read preference datasets into one canonical pair schema.

`valind.ingest.stage.run(ctx)` writes `RUN_DIR/ingest/pairs.parquet`;
`valind.ingest.stage.ingest(sources, path)` does the same for any list of
`SourceSpec`s; `adapters.ADAPTERS` holds one adapter per source kind.
"""

from .schema import PAIRS_FILE, Pair, content_id, pair_schema, prompt_text

__all__ = ["PAIRS_FILE", "Pair", "content_id", "pair_schema", "prompt_text"]
