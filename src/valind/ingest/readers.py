"""Read the rows of a source, local file or hub dataset, one dict at a time.

Every reader yields `(row, record)` with a 1-based row number: the line for
JSONL, the element for a JSON list, the data row (header not counted) for CSV,
Parquet and hub datasets. A row that cannot be parsed is yielded as an
`InputError` in place of the record, so the caller decides whether to stop or
to skip and count it; problems with the whole file (missing, empty, UTF-16,
corrupt gzip or Parquet) raise at once.

Text is decoded as UTF-8 with `surrogateescape`, so a stray non-UTF-8 byte
does not stop the reader: it surfaces as a lone surrogate, and the field check
in `adapters.text` reports the row and field that hold it.
"""

from __future__ import annotations

import csv
import gzip
import json
import sys
import zlib
from pathlib import Path
from typing import Any, Iterator

from ..artifacts import data_path
from ..config import SourceSpec
from ..errors import InputError

Row = tuple[int, "dict | InputError"]
_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_GZIP_ERRORS = (EOFError, gzip.BadGzipFile, zlib.error)

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # a 10 MB field is data, not an attack


def source_name(spec: SourceSpec) -> str:
    """What errors call the source: the file path, or the hub dataset name."""
    return spec.hub if spec.hub else str(data_path(spec.path))


def open_rows(spec: SourceSpec) -> tuple[str, Iterator[Row], int | None]:
    """(name for errors, row iterator, number of rows if known) for a source; honours `spec.limit`."""
    if spec.hub:
        name, rows, total = _hub_rows(spec)
    else:
        name, rows, total = _file_rows(data_path(spec.path))
    if spec.limit is not None:
        total = min(total, spec.limit) if total is not None else spec.limit
        rows = _take(rows, spec.limit)
    return name, _nonempty(name, rows), total


def _take(rows: Iterator[Row], n: int) -> Iterator[Row]:
    for i, item in enumerate(rows):
        if i >= n:
            return
        yield item


def _nonempty(name: str, rows: Iterator[Row]) -> Iterator[Row]:
    seen = False
    for item in rows:
        seen = True
        yield item
    if not seen:
        raise InputError(name, None, None, "file is empty (no data rows)")


# ---------------------------------------------------------------- local files
def _file_rows(path: Path) -> tuple[str, Iterator[Row], int | None]:
    name = str(path)
    if not path.is_file():
        raise InputError(name, None, None, "file not found" if not path.exists() else "not a regular file")
    gz = path.suffix == ".gz"
    fmt = (path.with_suffix("") if gz else path).suffix.lower()
    head = _head(path, gz, name)
    if head.startswith(_UTF16_BOMS):
        raise InputError(name, None, None, "file is UTF-16 encoded; valind reads UTF-8 (re-save the file as UTF-8)")
    if fmt in (".jsonl", ".ndjson"):
        return name, _jsonl_rows(path, gz, name), None
    if fmt == ".json":
        if head.removeprefix(_BOM).lstrip()[:1] == b"[":
            records = _json_list(path, gz, name)
            return name, iter(records), len(records)
        return name, _jsonl_rows(path, gz, name), None  # a .json file holding one object per line
    if fmt in (".csv", ".tsv"):
        return name, _csv_rows(path, gz, name, "\t" if fmt == ".tsv" else ","), None
    if fmt == ".parquet":
        return _parquet_rows(path, gz, name)
    raise InputError(name, None, None, f"unknown file type '{fmt or path.name}'; use .jsonl, .json, .csv, .tsv or .parquet (optionally .gz)")


def _open(path: Path, gz: bool):
    return gzip.open(path, "rb") if gz else open(path, "rb")


def _head(path: Path, gz: bool, name: str) -> bytes:
    try:
        with _open(path, gz) as fh:
            return fh.read(64)
    except _GZIP_ERRORS + (OSError,) as exc:
        raise InputError(name, None, None, f"not a readable gzip file ({exc})") from None


def _lines(path: Path, gz: bool, name: str) -> Iterator[bytes]:
    """Raw lines; a truncated or corrupt gzip stream is a file-level error."""
    with _open(path, gz) as fh:
        try:
            yield from fh
        except _GZIP_ERRORS as exc:
            raise InputError(name, None, None, f"gzip stream is truncated or corrupt ({exc})") from None


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def _jsonl_rows(path: Path, gz: bool, name: str) -> Iterator[Row]:
    for lineno, raw in enumerate(_lines(path, gz, name), 1):
        if lineno == 1:
            raw = raw.removeprefix(_BOM)
        if not raw.strip():
            continue
        yield lineno, _parse_object(raw, name, lineno)


def _parse_object(raw: bytes, name: str, row: int) -> "dict | InputError":
    if b"\x00" in raw:
        return InputError(name, row, None, "contains NUL bytes (binary data, or UTF-16 text?)")
    try:
        record = json.loads(_decode(raw))
    except json.JSONDecodeError as exc:
        return InputError(name, row, None, f"not valid JSON ({exc.msg} at column {exc.colno}); is the line truncated?")
    except RecursionError:
        return InputError(name, row, None, "JSON nested too deeply")
    if not isinstance(record, dict):
        return InputError(name, row, None, f"expected a JSON object, got {type(record).__name__}")
    return record


def _json_list(path: Path, gz: bool, name: str) -> list[Row]:
    """A JSON list file is parsed whole (use JSONL for data that does not fit in memory)."""
    data = b"".join(_lines(path, gz, name)).removeprefix(_BOM)
    if b"\x00" in data:
        line = data[:data.index(b"\x00")].count(b"\n") + 1
        raise InputError(name, None, None, f"contains NUL bytes (line {line}); binary data, or UTF-16 text?")
    try:
        records = json.loads(_decode(data))
    except json.JSONDecodeError as exc:
        raise InputError(name, None, None, f"not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}); "
                                           "is the file truncated?") from None
    except RecursionError:
        raise InputError(name, None, None, "JSON nested too deeply") from None
    if not isinstance(records, list):
        raise InputError(name, None, None, f"expected a JSON list of objects (or one object per line), got {type(records).__name__}")
    return [(i, rec if isinstance(rec, dict) else
             InputError(name, i, None, f"expected a JSON object, got {type(rec).__name__}"))
            for i, rec in enumerate(records, 1)]


def _csv_rows(path: Path, gz: bool, name: str, delimiter: str) -> Iterator[Row]:
    def text_lines() -> Iterator[str]:
        for i, raw in enumerate(_lines(path, gz, name)):
            yield _decode(raw.removeprefix(_BOM) if i == 0 else raw)

    reader = csv.reader(text_lines(), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        raise InputError(name, None, None, f"header is not valid CSV ({exc})") from None
    row = 0
    while True:
        row += 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield row, InputError(name, row, None, f"not valid CSV ({exc})")
            continue
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            yield row, InputError(name, row, None, f"has {len(values)} fields, the header has {len(header)}")
        else:
            yield row, dict(zip(header, values))


def _parquet_rows(path: Path, gz: bool, name: str) -> tuple[str, Iterator[Row], int]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        source = pa.BufferReader(gzip.decompress(path.read_bytes())) if gz else str(path)
        pf = pq.ParquetFile(source)
    except (pa.ArrowException, OSError, *_GZIP_ERRORS) as exc:
        raise InputError(name, None, None, f"not a readable Parquet file ({exc})") from None

    def rows() -> Iterator[Row]:
        row = 0
        try:
            for batch in pf.iter_batches(batch_size=1024):
                for record in batch.to_pylist():
                    row += 1
                    yield row, record
        except pa.ArrowException as exc:
            raise InputError(name, row + 1, None, f"Parquet data cannot be read ({exc})") from None

    return name, rows(), pf.metadata.num_rows


# ---------------------------------------------------------------- hub
def _hub_rows(spec: SourceSpec) -> tuple[str, Iterator[Row], int | None]:
    """Rows of `datasets.load_dataset(hub, hub_config, data_dir=..., split=...)`, read in batches."""
    import datasets

    name = spec.hub
    try:
        ds = datasets.load_dataset(spec.hub, spec.hub_config, data_dir=spec.data_dir, split=spec.split)
    except Exception as exc:  # network, missing dataset, bad config/split: all the user's to fix
        raise InputError(name, None, None, f"could not load from the hub (config={spec.hub_config!r}, "
                                           f"data_dir={spec.data_dir!r}, split={spec.split!r}): "
                                           f"{type(exc).__name__}: {exc}") from None

    def rows() -> Iterator[Row]:
        if isinstance(ds, datasets.Dataset):
            row = 0
            for batch in ds.iter(batch_size=1000):
                columns = list(batch)
                for values in zip(*(batch[c] for c in columns)):
                    row += 1
                    yield row, dict(zip(columns, values))
        else:
            for row, record in enumerate(ds, 1):
                yield row, dict(record)

    total = len(ds) if isinstance(ds, datasets.Dataset) else None
    return name, rows(), total


def describe(value: Any) -> str:
    """A short description of a wrong value for error messages (never the whole 10 MB)."""
    text = repr(value)
    return f"{type(value).__name__} {text[:60] + '...' if len(text) > 60 else text}"
