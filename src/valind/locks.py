"""Locks that keep two processes from writing one run folder, or training one job, at the same time.

`lock_run(RUN_DIR)` is held by every command that writes a run (`valind run`, each stage command,
the Ray driver, `valind export slurm` while it prepares the data); `lock_job(OUT_DIR)` by whatever
trains one adapter (the train stage, one per job, and each Slurm array task), so two array tasks for
the same job never train into the same folder while different jobs train side by side.

The lock itself is filelock's `SoftFileLock`: a marker file created exclusively, holding the owner's
pid, host and process start token; a marker whose process died on this host is taken over (the
start token tells a reused pid apart). Beside it valind writes who holds it in words (pid, host,
start time, command), so a second writer stops at once with a message naming the holder. A marker
left on another host cannot be proven dead from here: the message says which file to delete.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import sys
from contextlib import contextmanager
from pathlib import Path

from filelock import SoftFileLock, Timeout

from .errors import ValindError
from .layout import LOCK as RUN_LOCK


class LockedError(ValindError):
    """Another process holds the lock; the message names it."""


def _holder(lock_file: Path, marker_pid: int | None) -> str:
    info = {}
    try:
        info = json.loads(lock_file.with_name(lock_file.name + ".json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    if info and (marker_pid is None or info.get("pid") == marker_pid):
        return (f"pid {info.get('pid')} on host {info.get('host')}, started {info.get('started')} "
                f"({info.get('command', '?')})")
    return f"pid {marker_pid if marker_pid is not None else '?'} (starting up)"


@contextmanager
def _hold(lock_file: Path, what: str):
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    lock = SoftFileLock(str(lock_file))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise LockedError(
            f"{what} is being written by another process: {_holder(lock_file, lock.pid)}. Wait for it to "
            f"finish; if that process is gone (another host's crash cannot be detected from here), delete "
            f"{lock_file}") from None
    info_file = lock_file.with_name(lock_file.name + ".json")
    try:
        info = {"pid": os.getpid(), "host": socket.gethostname(),
                "started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])[:300]}
        info_file.write_text(json.dumps(info), encoding="utf-8")
        yield info
    finally:
        info_file.unlink(missing_ok=True)
        lock.release()


def lock_run(run_dir: str | Path):
    """Hold RUN_DIR/.valind.lock for as long as the `with` block writes the run."""
    run_dir = Path(run_dir)
    return _hold(run_dir / RUN_LOCK, f"run folder {run_dir}")


def lock_job(out_dir: str | Path):
    """Hold `<job folder>.lock` (beside it: the folder itself is renamed into place when the job ends)."""
    out_dir = Path(out_dir)
    return _hold(out_dir.with_name(out_dir.name + ".lock"), f"training job folder {out_dir}")
