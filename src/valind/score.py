"""`valind score MEASURE INPUT.jsonl -o OUTPUT.jsonl`: tag or judge any JSONL of responses.

Each input record needs `response` (text) and may carry `prompt` (text or chat
messages), `id` and any other fields; every field is written back unchanged,
with the measure's fields added:
  values                      value_scores {value: score in [0, 1]} and values [names above threshold]
  refusal, anthro, sycophancy whatever the chosen judge returns per item
A malformed record stops the run with an error naming the file, row and field,
or, with --skip-bad-rows, is left out and counted. Records are read and
written in batches (streamed), and value scores go through the user's score
cache, so retagging the same texts costs nothing.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Iterator

from .artifacts import atomic_path
from .errors import InputError

JUDGED = ("refusal", "anthro", "sycophancy")


def user_cache_path() -> Path:
    """The score cache for commands outside a run: $VALIND_SCORE_CACHE/scores.sqlite or ~/.cache/valind/."""
    root = os.environ.get("VALIND_SCORE_CACHE") or Path.home() / ".cache" / "valind"
    return Path(root) / "scores.sqlite"


def read_records(path: str | Path, skip_bad_rows: bool = False, counts: dict | None = None) -> Iterator[tuple[dict, str | None]]:
    """Yield (record, prompt text) per valid line; bad lines raise InputError or are counted as skipped."""
    from .ingest.schema import prompt_text

    counts = counts if counts is not None else {}
    counts.setdefault("skipped", 0)
    path = Path(path)
    if not path.exists():
        raise InputError(str(path), None, None, "input file not found")
    seen_ids: dict[str, int] = {}
    n_lines = 0
    with open(path, "rb") as fh:
        for row, raw in enumerate(fh, 1):
            if row == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]  # a UTF-8 byte-order mark, as some editors write
            if not raw.strip():
                continue
            n_lines += 1
            try:
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise InputError(str(path), row, None, f"not UTF-8 text (byte {exc.start})") from None
                rec = _check_record(json.loads(line), path, row)
                if "id" in rec:
                    rid = str(rec["id"])
                    if rid in seen_ids:
                        raise InputError(str(path), row, "id", f"duplicate of row {seen_ids[rid]} ('{rid[:80]}')")
                    seen_ids[rid] = row
                prompt = rec.get("prompt")
                if isinstance(prompt, list):
                    try:
                        prompt = prompt_text(prompt)
                    except (KeyError, TypeError):
                        raise InputError(str(path), row, "prompt", "chat messages need 'role' and 'content'") from None
                yield rec, prompt
            except json.JSONDecodeError as exc:
                err = InputError(str(path), row, None, f"not valid JSON ({exc.msg} at column {exc.colno})")
                if not skip_bad_rows:
                    raise err from None
                counts["skipped"] += 1
            except InputError:
                if not skip_bad_rows:
                    raise
                counts["skipped"] += 1
    if n_lines == 0:
        raise InputError(str(path), None, None, "no records (the file is empty)")


def _check_record(rec, path: Path, row: int) -> dict:
    if not isinstance(rec, dict):
        raise InputError(str(path), row, None, f"expected a JSON object, got {type(rec).__name__}")
    if "response" not in rec:
        raise InputError(str(path), row, "response", "missing")
    if not isinstance(rec["response"], str):
        raise InputError(str(path), row, "response", f"expected a string, got {type(rec['response']).__name__}")
    prompt = rec.get("prompt")
    if prompt is not None and not isinstance(prompt, (str, list)):
        raise InputError(str(path), row, "prompt", f"expected text or chat messages, got {type(prompt).__name__}")
    return rec


def _batches(items: Iterator, size: int) -> Iterator[list]:
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _value_scorer(name: str | None):
    """A function batch -> added fields, for the `values` measure."""
    from .instruments.values.base import make_extractor
    from .instruments.values.cache import ScoreCache, cached_scores
    from .config import ExtractorSpec  # the default extractor is the config's (imported here: pydantic)
    from .values import load_values

    extractor = make_extractor(name or ExtractorSpec().name, list(load_values().values()))
    cache = ScoreCache(user_cache_path(), extractor.fingerprint())

    def score(prompts, responses):
        scores, failures = cached_scores(extractor, prompts, responses, cache)
        out = []
        for ann, fail in zip(extractor.to_annotations(scores, failures), failures):
            added = {"value_scores": {k: round(v, 6) for k, v in ann.scores.items()}, "values": ann.values}
            if fail:
                added["value_failure"] = fail
            out.append(added)
        return out

    return score, cache.close


def _judge_scorer(task: str, name: str | None):
    from .instruments.judges import make_judge

    judge = make_judge(task, name)

    def score(prompts, responses):
        return judge.judge(prompts, responses).records()

    return score, judge.close


def main(args) -> int:
    measure = args.measure
    score, close = _value_scorer(args.extractor) if measure == "values" else _judge_scorer(measure, args.judge)
    counts = {"skipped": 0, "written": 0}
    records = read_records(args.input, bool(getattr(args, "skip_bad_rows", False)), counts)
    try:
        with atomic_path(args.output) as tmp, open(tmp, "w", encoding="utf-8") as out:
            for batch in _batches(records, max(1, int(getattr(args, "batch_size", 64) or 64))):
                added = score([p for _, p in batch], [rec["response"] for rec, _ in batch])
                for (rec, _), extra in zip(batch, added):
                    out.write(json.dumps({**rec, **extra}, ensure_ascii=False) + "\n")
                    counts["written"] += 1
    finally:
        close()
    skipped = f", {counts['skipped']} bad records skipped" if counts["skipped"] else ""
    print(f"valind score {measure}: {counts['written']} records written to {args.output}{skipped}", file=sys.stderr)
    return 0
