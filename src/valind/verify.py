"""`valind verify RUN_DIR`: check every artifact of a run against the manifest that recorded it.

What counts as a problem (each printed as `PATH: what is wrong`):
  * a stage folder without `manifest.json` (the stage never finished), or a
    manifest that is not readable JSON;
  * an output a manifest lists that is missing, or whose content hash no
    longer matches (stage manifests and each trained adapter's manifest);
  * an input a manifest recorded that changed since (the stage is stale);
  * leftovers of interrupted writes: `.NAME.XXXX.tmp` files from the atomic
    writers, `*.partial` adapter folders, `.SUITE.parts` generation chunks.
Exit status 0 when the run is intact, 1 otherwise.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .artifacts import MANIFEST, data_path, hash_path
from .layout import STAGES, RunFolder


@dataclass
class Verification:
    """What `verify_run` found: problems (one line each) and what it checked."""

    problems: list[str] = field(default_factory=list)
    manifests: int = 0
    outputs: int = 0
    adapters: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def _load_manifest(path: Path) -> tuple[dict | None, str | None]:
    """(manifest, None) or (None, why it cannot be used)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, "missing"
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, f"unreadable ({type(exc).__name__}); the manifest was damaged after it was written"
    if not isinstance(data, dict) or not isinstance(data.get("outputs", {}), dict):
        return None, "not a valind manifest (no 'outputs' mapping)"
    return data, None


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except ValueError:
        return False


def _check_manifest(manifest_path: Path, run_dir: Path, result: Verification) -> None:
    """Every output of one manifest still hashes to what was recorded; recorded inputs unchanged."""
    folder = manifest_path.parent
    manifest, why = _load_manifest(manifest_path)
    if manifest is None:
        result.problems.append(f"{manifest_path}: {why}")
        return
    result.manifests += 1
    for rel, digest in sorted(manifest.get("outputs", {}).items()):
        path = folder / rel
        result.outputs += 1
        if not _inside(path, run_dir):
            result.problems.append(f"{manifest_path}: lists an output outside the run directory: {rel}")
        elif not path.exists():
            result.problems.append(f"{path}: missing (listed in {manifest_path})")
        elif hash_path(path) != digest:
            result.problems.append(f"{path}: changed since it was written (hash mismatch with {manifest_path})")
    stage = manifest.get("stage", folder.name)
    for key, digest in sorted((manifest.get("inputs") or {}).items()):
        source = _input_path(key, run_dir)
        if source is None or not isinstance(digest, str):
            continue  # job ids, unit keys, hub datasets: not files
        if not source.is_file():
            if _inside(source, run_dir):
                result.problems.append(f"{source}: missing; {stage} was built from it (listed in {manifest_path})")
            continue  # a source file elsewhere may have moved; the run itself is unaffected
        if hash_path(source) != digest:
            result.problems.append(f"{source}: changed after {stage} used it; {folder} is stale "
                                   f"(rerun `valind {stage}`)")


def _input_path(key: str, run_dir: Path) -> Path | None:
    """The file a manifest input key names (a file in the run dir, a source file), or None."""
    if key.startswith("package:"):
        return data_path(key)
    if Path(key).is_absolute():
        return Path(key)
    inside = run_dir / key
    return inside if ".." not in Path(key).parts and inside.is_file() else None


def _leftovers(run_dir: Path) -> list[str]:
    """Temp files and partial folders an interrupted write left behind."""
    out = []
    for path in sorted(run_dir.rglob("*")):
        name = path.name
        if path.is_file() and name.startswith(".") and name.endswith(".tmp"):
            out.append(f"{path}: temporary file left by an interrupted write (safe to delete)")
        elif path.is_dir() and name.endswith(".partial"):
            out.append(f"{path}: unfinished adapter (training was interrupted; rerun `valind train`)")
        elif path.is_dir() and name.startswith(".") and name.endswith(".parts"):
            out.append(f"{path}: unfinished generation chunks (rerun `valind generate` to resume)")
    return out


def verify_run(run_dir: str | Path) -> Verification:
    """Check every stage's and every adapter's manifest under `run_dir` against the files."""
    run_dir = Path(run_dir)
    result = Verification()
    stage_dirs = [run_dir / s for s in STAGES if (run_dir / s).is_dir()]
    stage_dirs += [d for d in sorted(run_dir.iterdir()) if d.is_dir() and d.name not in STAGES
                   and (d / MANIFEST).exists()]
    for d in stage_dirs:
        if not (d / MANIFEST).exists():
            result.problems.append(f"{d / MANIFEST}: missing; the {d.name} stage did not finish "
                                   f"(rerun `valind {d.name}`)")
            continue
        _check_manifest(d / MANIFEST, run_dir, result)
    train = RunFolder(run_dir).train
    if train.is_dir():
        for m in sorted(train.rglob(MANIFEST)):
            if m.parent == train or any(p.endswith(".partial") for p in m.relative_to(train).parts):
                continue  # the stage manifest (checked above); unfinished adapters are reported as leftovers
            result.adapters += 1
            _check_manifest(m, run_dir, result)
    result.problems += _leftovers(run_dir)
    return result


def main(args) -> int:
    run_dir = Path(args.run_dir)
    if not run_dir.is_dir():
        print(f"valind verify: {run_dir}: not a run directory", file=sys.stderr)
        return 2
    result = verify_run(run_dir)
    for line in result.problems:
        print(line)
    if result.ok:
        print(f"verify: {run_dir} is intact: {result.manifests} manifests ({result.adapters} adapters), "
              f"{result.outputs} artifacts match their recorded hashes", file=sys.stderr)
        return 0
    print(f"verify: {len(result.problems)} problem(s) in {run_dir}", file=sys.stderr)
    return 1
