"""Entry point for one training job in its own process: `python -m valind.train.worker JOB.json WORK_DIR`.

Used under `accelerate launch` (DDP, DeepSpeed, FSDP) and by external schedulers.
Only the main process writes metrics.json.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..artifacts import atomic_write_json
from .induce import TrainJob, train_adapter


def main(argv: list[str] | None = None) -> int:
    argv = argv if argv is not None else sys.argv[1:]
    if len(argv) != 2:
        print("usage: python -m valind.train.worker JOB.json WORK_DIR", file=sys.stderr)
        return 2
    job = TrainJob.from_json(Path(argv[0]).read_text())
    metrics = train_adapter(job, argv[1])
    if metrics is not None:
        atomic_write_json(Path(argv[1]) / "metrics.json", metrics)
    return 0


if __name__ == "__main__":
    sys.exit(main())
