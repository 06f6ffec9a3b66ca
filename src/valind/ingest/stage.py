"""The ingest stage: every configured source -> `RUN_DIR/ingest/pairs.parquet`, streamed.

Pairs are written in chunks with a ParquetWriter, and exact duplicates are
found by an 8-byte hash per pair, so memory stays small whatever the number
of pairs. Every row is accounted for in the manifest's counts: read, kept,
duplicates, identical_pair (chosen == rejected), no_pair (ties, lone
responses), bad_rows_skipped (with the first few reasons).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path
from typing import Iterator

from ..artifacts import atomic_path, data_path, hash_file, write_manifest
from ..config import SourceSpec
from ..context import RunContext
from ..errors import InputError
from .adapters import ADAPTERS
from .readers import open_rows
from .schema import PAIRS_FILE, Pair, pair_schema

MAX_EXAMPLES = 5
SKIP_HINT = "(to skip and count such rows: --skip-bad-rows, or skip_bad_rows: true in the study)"
CHUNK_ROWS = 2000
CHUNK_CHARS = 32_000_000  # flush early when rows are long, so a chunk stays a few tens of MB


def source_inputs(sources: list[SourceSpec]) -> dict[str, str]:
    """What the stage depends on: each file's content hash, or the hub dataset's name/config/split."""
    inputs = {}
    for spec in sources:
        if spec.hub:
            inputs[spec.hub] = f"hub:{spec.hub}/{spec.hub_config}/{spec.split}"
        else:
            path = data_path(spec.path)
            if not path.is_file():
                raise InputError(str(path), None, None, "file not found")
            inputs[spec.path] = hash_file(path)
    return inputs


def source_pairs(spec: SourceSpec, *, skip_bad_rows: bool, counts: Counter,
                 progress: bool = False) -> Iterator[tuple[int | None, str, Pair]]:
    """(row, source name, pair) for one source; bad rows raise, or are skipped and counted."""
    name, rows, total = open_rows(spec)
    adapter = ADAPTERS[spec.kind](spec, name)
    examples = counts.setdefault("bad_row_examples", [])
    for row, record in _progress(rows, total, spec, progress):
        counts["read"] += 1
        try:
            if isinstance(record, InputError):
                raise record
            produced = adapter.pairs(row, record)
        except InputError as exc:
            if not skip_bad_rows:
                raise InputError(exc.file, exc.row, exc.field, f"{exc.problem} {SKIP_HINT}") from None
            counts["bad_rows_skipped"] += 1
            if len(examples) < MAX_EXAMPLES:
                examples.append(str(exc))
            continue
        for pair in produced:
            yield row, name, pair
    for pair in adapter.finish():
        yield None, name, pair
    counts.update(adapter.counts)


def _progress(rows, total, spec, enabled):
    if not enabled:
        return rows
    from tqdm.auto import tqdm

    return tqdm(rows, total=total, desc=f"ingest {spec.source_label}", unit=" rows", mininterval=1.0)


def _pair_key(pair: Pair) -> int:
    """An 8-byte content hash (source excluded): equal pairs from any source are duplicates."""
    h = hashlib.blake2b(digest_size=8)
    for m in pair.prompt:
        h.update(m["role"].encode())
        h.update(b"\x1f")
        h.update(m["content"].encode("utf-8"))
        h.update(b"\x1e")
    for text in (pair.chosen, pair.rejected):
        h.update(b"\x1d")
        h.update(text.encode("utf-8"))
    return int.from_bytes(h.digest(), "big")


def ingest(sources: list[SourceSpec], out_path: str | Path, *, skip_bad_rows: bool = False,
           progress: bool = False) -> dict[str, dict]:
    """Stream every source into one Parquet file (atomically); return the counts per source label."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pair_schema()
    seen_pairs: set[int] = set()
    seen_ids: set[int] = set()
    all_counts: dict[str, dict] = {}
    with atomic_path(out_path) as tmp:
        with pq.ParquetWriter(tmp, schema) as writer:
            chunk: list[dict] = []
            chunk_chars = 0
            for spec in sources:
                counts: Counter = Counter()
                label = _unique_label(spec.source_label, all_counts)
                all_counts[label] = counts
                for row, name, pair in source_pairs(spec, skip_bad_rows=skip_bad_rows, counts=counts, progress=progress):
                    counts["pairs"] += 1
                    if pair.chosen == pair.rejected:
                        counts["identical_pair"] += 1
                        continue
                    key = _pair_key(pair)
                    if key in seen_pairs:
                        counts["duplicates"] += 1
                        continue
                    id_key = int.from_bytes(hashlib.blake2b(pair.id.encode("utf-8"), digest_size=8).digest(), "big")
                    if id_key in seen_ids:
                        exc = InputError(name, row, "id", f"duplicate id '{pair.id}' (an earlier pair with other content has it)")
                        if not skip_bad_rows:
                            raise InputError(exc.file, exc.row, exc.field, f"{exc.problem} {SKIP_HINT}")
                        counts["bad_rows_skipped"] += 1
                        if len(counts["bad_row_examples"]) < MAX_EXAMPLES:
                            counts["bad_row_examples"].append(str(exc))
                        continue
                    seen_pairs.add(key)
                    seen_ids.add(id_key)
                    counts["kept"] += 1
                    chunk.append(pair.as_row())
                    chunk_chars += len(pair.chosen) + len(pair.rejected) + sum(len(m["content"]) for m in pair.prompt)
                    if len(chunk) >= CHUNK_ROWS or chunk_chars >= CHUNK_CHARS:
                        writer.write_table(pa.Table.from_pylist(chunk, schema=schema))
                        chunk, chunk_chars = [], 0
                if not counts["kept"]:
                    raise InputError(spec.hub or str(data_path(spec.path)), None, None,
                                     f"no pairs kept from this source ({_summary(counts)})")
            if chunk:
                writer.write_table(pa.Table.from_pylist(chunk, schema=schema))
    return {label: _final_counts(c) for label, c in all_counts.items()}


def _unique_label(label: str, taken: dict) -> str:
    n, out = 1, label
    while out in taken:
        n += 1
        out = f"{label}#{n}"
    return out


def _final_counts(counts: Counter) -> dict:
    out = {k: counts.get(k, 0) for k in ("read", "pairs", "kept", "duplicates", "identical_pair", "no_pair",
                                         "bad_rows_skipped")}
    out.update({k: v for k, v in counts.items() if k not in out and k != "bad_row_examples"})
    out["bad_row_examples"] = list(counts.get("bad_row_examples", []))
    return out


def _summary(counts: Counter) -> str:
    parts = [f"{k} {v}" for k, v in _final_counts(counts).items() if k != "bad_row_examples" and v]
    text = ", ".join(parts) or "no rows"
    if counts.get("bad_row_examples"):
        text += "; first bad row: " + counts["bad_row_examples"][0]
    return text


def run(ctx: RunContext) -> dict:
    """Ingest every source of the study (skipped when the sources and their files did not change)."""
    config = ctx.config
    config_hash = config.section_hash("sources", "skip_bad_rows")
    inputs = source_inputs(config.sources)
    fresh = ctx.fresh_manifest("ingest", config_hash, inputs)
    if fresh is not None:
        return fresh
    stage_dir = ctx.stage_dir("ingest")
    counts = ingest(config.sources, stage_dir / PAIRS_FILE, skip_bad_rows=config.skip_bad_rows, progress=ctx.progress)
    for label, c in counts.items():
        ctx.info(f"[ingest] {label}: {c['kept']} pairs kept of {c['read']} rows read "
                 f"({c['duplicates']} duplicates, {c['identical_pair']} chosen==rejected, {c['no_pair']} without a pair, "
                 f"{c['bad_rows_skipped']} bad rows skipped)")
    return write_manifest(stage_dir, stage="ingest", config_hash=config_hash, inputs=inputs,
                          outputs=[PAIRS_FILE], counts=counts)
