#!/usr/bin/env bash
# Run the replication study (configs/replication_cpu.yaml, on ../shared/data) and collect its results into
# docs/replication/. Resumable: rerun after an interruption and finished stages and adapters are kept.
# About 90 minutes on 2 idle CPU cores.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
RUN=${RUN:-runs/replication-cpu}
LOG=${LOG:-$RUN.log}
mkdir -p "$(dirname "$LOG")"
/usr/bin/time -v .venv/bin/valind run configs/replication_cpu.yaml --out "$RUN" --no-progress 2>&1 | tee -a "$LOG"
.venv/bin/python scripts/collect_replication.py "$RUN" "$LOG" --out docs/replication
