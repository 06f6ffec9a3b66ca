"""On-disk score cache keyed by extractor fingerprint and text, so reruns cost nothing.

SQLite (one file per run directory or user cache). Each entry stores its own
checksum; an entry that fails it (corruption) is ignored and recomputed.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import sqlite3
from pathlib import Path
from typing import Sequence

import numpy as np

log = logging.getLogger("valind")


def _key(fingerprint_hash: str, prompt: str | None, response: str) -> str:
    h = hashlib.sha256()
    h.update(fingerprint_hash.encode())
    h.update(b"\x00")
    h.update((prompt or "").encode("utf-8", "surrogatepass"))
    h.update(b"\x01")
    h.update(response.encode("utf-8", "surrogatepass"))
    return h.hexdigest()


class ScoreCache:
    def __init__(self, path: str | Path, fingerprint: str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fp = hashlib.sha256(fingerprint.encode()).hexdigest()
        self.corrupt_entries = 0
        try:
            self.db = self._open()
        except sqlite3.OperationalError:  # locked, read-only, no disk: not damage; the caller must see it
            raise
        except sqlite3.DatabaseError as exc:  # not a database any more: set it aside, start empty
            aside = self.path.with_name(self.path.name + ".corrupt")
            log.warning("%s: damaged score cache (%s); moved to %s, scores will be recomputed", self.path, exc, aside)
            for suffix in ("-wal", "-shm"):
                Path(str(self.path) + suffix).unlink(missing_ok=True)
            self.path.replace(aside)
            self.db = self._open()

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(str(self.path), timeout=60)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("CREATE TABLE IF NOT EXISTS scores (key TEXT PRIMARY KEY, payload TEXT, checksum TEXT)")
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def get_many(self, prompts: Sequence[str | None], responses: Sequence[str]) -> list[np.ndarray | None]:
        return [None if hit is None else hit[0] for hit in self.get_entries(prompts, responses)]

    def get_entries(self, prompts: Sequence[str | None], responses: Sequence[str]
                    ) -> list[tuple[np.ndarray, list[str] | None] | None]:
        """(scores, open-mode names or None) per item, None where not cached."""
        keys = [_key(self.fp, p, r) for p, r in zip(prompts, responses)]
        found: dict[str, tuple] = {}
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            q = f"SELECT key, payload, checksum FROM scores WHERE key IN ({','.join('?' * len(chunk))})"
            for key, payload, checksum in self.db.execute(q, chunk):
                if hashlib.sha256(payload.encode()).hexdigest() != checksum:
                    self.corrupt_entries += 1
                    continue
                try:
                    data = json.loads(payload)
                    names = data.get("open")
                    if names is not None and not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
                        raise ValueError("open names")
                    found[key] = (np.asarray(data["scores"], dtype=np.float64), names)
                except (ValueError, KeyError, TypeError, AttributeError):
                    self.corrupt_entries += 1
        return [found.get(k) for k in keys]

    def put_many(self, prompts: Sequence[str | None], responses: Sequence[str], scores: np.ndarray,
                 failures: Sequence[str | None] | None = None,
                 open_names: Sequence[list[str] | None] | None = None) -> None:
        rows = []
        for i, (p, r) in enumerate(zip(prompts, responses)):
            if failures and failures[i]:
                continue  # failures are never cached: a rerun retries them
            entry = {"scores": [float(x) for x in scores[i]]}
            if open_names is not None and open_names[i] is not None:
                entry["open"] = list(open_names[i])
            payload = json.dumps(entry)
            rows.append((_key(self.fp, p, r), payload, hashlib.sha256(payload.encode()).hexdigest()))
        try:
            with self.db:
                self.db.executemany("INSERT OR REPLACE INTO scores VALUES (?, ?, ?)", rows)
        except sqlite3.OperationalError as exc:  # a full disk, a read-only folder: name the file and why
            from ...artifacts import ArtifactWriteError

            code = errno.ENOSPC if getattr(exc, "sqlite_errorname", "") == "SQLITE_FULL" else errno.EIO
            raise ArtifactWriteError(code, f"could not write the score cache {self.path}: {exc}") from exc

    def close(self) -> None:
        self.db.close()


def cached_scores(extractor, prompts: Sequence[str | None], responses: Sequence[str], cache: ScoreCache | None,
                  with_open: bool = False):
    """Scores for all items, computing only those missing from the cache. Returns (scores, failures), and with
    `with_open` (an LLM extractor in open mode) also each item's listed names outside the defined values
    (`LLMExtractor.open_listed`; None for a failure): (scores, failures, open_names)."""
    n, k = len(responses), len(extractor.value_names)
    scores = np.zeros((n, k))
    failures: list[str | None] = [None] * n
    open_names: list[list[str] | None] = [None] * n
    hits = cache.get_entries(prompts, responses) if cache else [None] * n

    def usable(hit) -> bool:
        return hit is not None and hit[0].shape == (k,) and (not with_open or hit[1] is not None)
    todo = [i for i, h in enumerate(hits) if not usable(h)]
    for i, h in enumerate(hits):
        if usable(h):
            scores[i], open_names[i] = h[0], h[1]
    if todo:
        sub_p = [prompts[i] for i in todo]
        sub_r = [responses[i] for i in todo]
        sub = extractor.score_batch(sub_p, sub_r)
        sub_fail = list(extractor.failures()) or [None] * len(todo)
        sub_open = list(extractor.open_listed()) if with_open else [None] * len(todo)
        for j, i in enumerate(todo):
            scores[i] = sub[j]
            failures[i] = sub_fail[j] if j < len(sub_fail) else None
            open_names[i] = sub_open[j] if j < len(sub_open) else None
        if cache:
            cache.put_many(sub_p, sub_r, sub, sub_fail, sub_open if with_open else None)
    return (scores, failures, open_names) if with_open else (scores, failures)
