"""Artifacts on disk: atomic writes, content hashes, manifests, and stage freshness.

Every stage writes into `RUN_DIR/<stage>/` and finishes by writing
`manifest.json`: the hashes of its inputs and outputs, the config sections it
depends on, library versions and counts. A stage is *fresh* (skipped on
rerun) when its manifest exists, its recorded inputs and config still match,
and its outputs still hash to what was recorded.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import os
import tempfile
from importlib import metadata, resources
from pathlib import Path
from typing import Any, Iterable, Iterator

from .errors import InputError, StageError, ValindError
from .layout import MANIFEST

_LIBS = ("valind", "torch", "transformers", "trl", "peft", "datasets", "accelerate",
         "sentence-transformers", "lm_eval", "pydantic", "pyarrow")


class ArtifactWriteError(OSError, ValindError):
    """An artifact could not be written (a full disk, no permission); names the path and why.

    An OSError (callers catching those still do) and a ValindError (the CLI prints it without a traceback).
    """


def data_path(path: str) -> Path:
    """Resolve `package:REL` to a file valind ships; other paths pass through.

    REL is relative to valind/data (`package:suites/value_prompts.jsonl`), or, when it starts with
    `instruments/`, to the package itself (`package:instruments/refusal/data/refusal_dev.jsonl`).
    """
    if path.startswith("package:"):
        rel = path[len("package:"):]
        base = resources.files("valind")
        return Path(str(base.joinpath(rel) if rel.startswith("instruments/") else base.joinpath("data", rel)))
    return Path(path)


# ---------------------------------------------------------------- atomic writes
def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temp path beside `path`; on success fsync and rename it into place.

    On any error (a full disk included) the temp file is removed and the
    previous artifact at `path` is left untouched; the error names the path.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise ArtifactWriteError(exc.errno, f"could not write {path}: {exc.strerror or exc}") from exc
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; artifacts get the usual permissions
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_path, path)
    except ArtifactWriteError:
        tmp_path.unlink(missing_ok=True)
        raise
    except OSError as exc:
        tmp_path.unlink(missing_ok=True)
        raise ArtifactWriteError(exc.errno, f"could not write {path}: {exc.strerror or exc}") from exc
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


def atomic_write_jsonl(path: str | Path, records: Iterable[dict]) -> int:
    n = 0
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False, default=str) + "\n")
            n += 1
    return n


def atomic_write_parquet(path: str | Path, df) -> None:
    """Write a pandas DataFrame to Parquet atomically (deterministic bytes for equal frames)."""
    with atomic_path(path) as tmp:
        df.to_parquet(tmp, index=False)


def iter_jsonl_records(path: str | Path) -> Iterator[tuple[int, dict]]:
    """(1-based row, object) for each non-blank line of a JSONL file (a BOM is accepted).

    A line that is not JSON, or not a JSON object, raises InputError naming the file and row.
    """
    with open(path, encoding="utf-8-sig") as fh:
        for row, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(str(path), row, None, f"not valid JSON ({exc.msg})") from None
            if not isinstance(rec, dict):
                raise InputError(str(path), row, None, f"expected a JSON object, got {type(rec).__name__}")
            yield row, rec


def read_jsonl(path: str | Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


# ---------------------------------------------------------------- hashing
def hash_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def hash_text(*parts: str) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()


def hash_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def hash_path(path: str | Path) -> str:
    """Hash a file, or a directory as the sorted (relative name, file hash) list."""
    path = Path(path)
    if path.is_file():
        return hash_file(path)
    h = hashlib.sha256()
    for f in sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")):
        h.update(str(f.relative_to(path)).encode())
        h.update(hash_file(f).encode())
    return h.hexdigest()


def library_versions() -> dict[str, str]:
    out = {}
    for lib in _LIBS:
        try:
            out[lib] = metadata.version(lib)
        except metadata.PackageNotFoundError:
            pass
    return out


# ---------------------------------------------------------------- manifests
def write_manifest(stage_dir: str | Path, *, stage: str, config_hash: str, inputs: dict[str, str],
                   outputs: Iterable[str | Path], counts: dict | None = None, extra: dict | None = None) -> dict:
    """Record a finished stage. `outputs` are paths inside stage_dir: relative to it, absolute, or
    relative to the working directory like stage_dir itself (`runs/x/generate/a.jsonl` for stage_dir
    `runs/x/generate`). Keys are always relative to stage_dir; a missing output is an error, never
    recorded as the hash of nothing."""
    stage_dir = Path(stage_dir)
    out_hashes = {}
    for o in outputs:
        out_hashes[_key_in_stage(stage_dir, Path(o))] = hash_path(_inside_stage(stage_dir, Path(o)))
    manifest = {
        "stage": stage,
        "config_hash": config_hash,
        "inputs": inputs,
        "outputs": out_hashes,
        "counts": counts or {},
        "versions": library_versions(),
        "finished_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        **(extra or {}),
    }
    atomic_write_json(stage_dir / MANIFEST, manifest)
    return manifest


def _inside_stage(stage_dir: Path, path: Path) -> Path:
    """The real location of a stage output given as any of the forms `write_manifest` accepts."""
    if path.is_absolute():
        full = path
    elif not stage_dir.is_absolute() and path.is_relative_to(stage_dir):
        full = path  # relative to the working directory, as stage_dir is
    else:
        full = stage_dir / path
    if not full.exists():
        raise StageError(f"{full}: a stage output to record in {stage_dir / MANIFEST} does not exist")
    return full


def _key_in_stage(stage_dir: Path, path: Path) -> str:
    full = _inside_stage(stage_dir, path).resolve()
    try:
        return full.relative_to(stage_dir.resolve()).as_posix()
    except ValueError:
        raise StageError(f"{path}: a stage output must lie inside its stage folder {stage_dir}") from None


def read_manifest(stage_dir: str | Path) -> dict | None:
    p = Path(stage_dir) / MANIFEST
    if not p.exists():
        return None
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


def manifest_problems(stage_dir: str | Path, manifest: dict | None = None) -> list[str]:
    """Outputs that are missing or whose content changed since the manifest was written."""
    stage_dir = Path(stage_dir)
    manifest = manifest if manifest is not None else read_manifest(stage_dir)
    if manifest is None:
        return [f"{stage_dir / MANIFEST}: missing or unreadable"]
    problems = []
    for rel, digest in manifest.get("outputs", {}).items():
        p = stage_dir / rel
        if not p.exists():
            problems.append(f"{p}: missing")
        elif hash_path(p) != digest:
            problems.append(f"{p}: changed since it was written (hash mismatch)")
    return problems


def is_fresh(stage_dir: str | Path, config_hash: str, inputs: dict[str, str]) -> bool:
    """True when the stage finished with this config and these inputs, and its outputs are intact."""
    m = read_manifest(stage_dir)
    if m is None or m.get("config_hash") != config_hash or m.get("inputs") != inputs:
        return False
    return not manifest_problems(stage_dir, m)


def output_hash(stage_dir: str | Path, name: str) -> str:
    """Hash of an output recorded in a finished stage's manifest (used as the next stage's input)."""
    m = read_manifest(stage_dir)
    if m is None or name not in m.get("outputs", {}):
        raise StageError(f"{Path(stage_dir) / name}: missing; run the earlier stage first")
    return m["outputs"][name]
