"""Where benchmark suites find their data: a user file, `../shared/data` beside the repo, or the hub.

Order: the suite's `path:` if given; otherwise `<data_dir>/<rel>` when the suite has `options: {data_dir: DIR}`
(a folder in the same layout as ../shared/data; `package:embedded` is the small real subsets valind ships),
else `$VALIND_SHARED_DATA/<rel>` or `<repo>/../shared/data/<rel>` (then `./../shared/data/<rel>` from the
current directory); with `options: {hub: true}`, the Hugging Face hub through `datasets.load_dataset`.
When none is reachable, a ConfigError says what to do.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

from ...artifacts import data_path
from ...errors import ConfigError, InputError

_REPO = Path(__file__).resolve().parents[4]  # src/valind/evaluate/suites/_data.py -> repo root


def shared_data_roots(data_dir: str | None = None) -> list[Path]:
    """Candidate shared-data folders, in the order they are tried: only `data_dir` when one is given."""
    if data_dir:
        return [data_path(data_dir).expanduser()]
    roots = []
    if os.environ.get("VALIND_SHARED_DATA"):
        roots.append(Path(os.environ["VALIND_SHARED_DATA"]).expanduser())
    roots += [_REPO.parent / "shared" / "data", Path.cwd().parent / "shared" / "data"]
    return roots


def find_shared(rel: str, data_dir: str | None = None) -> Path | None:
    """The first existing `<root>/<rel>` among the shared-data roots (or in `data_dir`), or None."""
    for root in shared_data_roots(data_dir):
        if (root / rel).exists():
            return root / rel
    return None


def read_table(path: Path) -> list[dict]:
    """Rows of a CSV or JSONL file as dicts."""
    if not path.exists():
        raise ConfigError(f"{path}: data file not found")
    if path.suffix == ".csv":
        with open(path, encoding="utf-8-sig", newline="") as fh:
            return list(csv.DictReader(fh))
    rows = []
    with open(path, encoding="utf-8-sig") as fh:
        for n, line in enumerate(fh, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise InputError(path, n, None, f"not valid JSON ({exc.msg})") from None
    return rows


def load_suite_rows(suite: str, spec, rel: str, hub_name: str | None, *, hub_config: str | None = None,
                    hub_split: str = "train") -> tuple[list[dict], str]:
    """Rows of a benchmark and where they came from ("hub:<name>" or the file path).

    `hub_name` is None for benchmarks with no hub copy (then `hub: true` needs `hub_name`)."""
    options = spec.options or {}
    if options.get("hub"):
        name = options.get("hub_name", hub_name)
        if not name:
            raise ConfigError(f"suite {suite}: this benchmark has no Hugging Face hub copy; give `path:` or "
                              f"`options: {{hub_name: ...}}`")
        try:
            from datasets import load_dataset

            ds = load_dataset(name, options.get("hub_config", hub_config), split=options.get("hub_split", hub_split))
        except Exception as exc:  # datasets raises many kinds when offline or the name is wrong
            raise ConfigError(f"suite {suite}: could not load '{name}' from the Hugging Face hub "
                              f"({type(exc).__name__}: {str(exc)[:200]}); set `hub: false` to read "
                              f"../shared/data/{rel} or give `path:`") from None
        return [dict(r) for r in ds], f"hub:{name}"
    data_dir = options.get("data_dir")
    path = data_path(spec.path) if spec.path else find_shared(rel, data_dir)
    if path is None or not path.exists():
        tried = [str(spec.path)] if spec.path else [str(r / rel) for r in shared_data_roots(data_dir)]
        hub_hint = f", or set `options: {{hub: true}}` to load {hub_name} from the Hugging Face hub" if hub_name else ""
        raise ConfigError(f"suite {suite}: data not found (tried {', '.join(tried)}). Set VALIND_SHARED_DATA to the "
                          f"folder holding {rel}, or give the suite a `path:`{hub_hint}.")
    return read_table(path), str(path)


def pick(row: dict, *names: str, source: str = "?", row_no: int | None = None) -> str:
    """The first non-empty column among `names`; an InputError naming the columns when none is present."""
    for n in names:
        v = row.get(n)
        if v is not None and str(v).strip():
            return str(v)
    raise InputError(source, row_no, "/".join(names), "missing or empty")


def limit_rows(rows: list, spec) -> list:
    """Apply the suite's limit: the first N rows, or a seeded sample with `options: {sample_seed: S}`."""
    seed = (spec.options or {}).get("sample_seed")
    if seed is not None and spec.limit and spec.limit < len(rows):
        import random

        idx = sorted(random.Random(seed).sample(range(len(rows)), spec.limit))
        return [rows[i] for i in idx]
    return rows[: spec.limit] if spec.limit else rows
