"""DPO reference log-probabilities computed once per (model, subset) and reused across jobs.

The DPO loss compares the policy with a frozen reference (with LoRA, the base
model with the adapter off). TRL's `precompute_ref_log_probs=True` computes the
reference log-probs once per job, before training, instead of once per step
and epoch. `SharedRefDPOTrainer` also stores them on disk, keyed by the base
model and the tokenized pairs, so every other job on the same (model, subset)
-- other seeds, betas, learning rates, epochs -- loads them instead of
recomputing them. TRL's collator and loss read the `ref_chosen_logps` and
`ref_rejected_logps` columns (trl/trainer/dpo_trainer.py, TRL 1.16).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from trl import DPOTrainer


def tokens_digest(dataset, columns=("prompt_ids", "chosen_ids", "rejected_ids")) -> str:
    """Content hash of the tokenized pairs: it covers the data, the tokenizer and the chat template."""
    h = hashlib.sha256()
    for batch in dataset.select_columns(list(columns)).iter(batch_size=1024):
        h.update(json.dumps(batch, sort_keys=True).encode())
    return h.hexdigest()


class SharedRefDPOTrainer(DPOTrainer):
    """A DPOTrainer whose precomputed reference log-probs are cached in `ref_cache_dir` and reused.

    `model_identity` names the reference model (base weights, revision, dtype);
    the cache key adds the tokenized pairs and the settings that change the
    reference log-probs (max_length, truncation, LD-DPO alpha, precision).
    """

    def __init__(self, *args, ref_cache_dir: str | Path | None = None, model_identity: str = "", **kwargs):
        self.ref_cache_dir = Path(ref_cache_dir) if ref_cache_dir else None
        self.model_identity = model_identity
        self.ref_cache_hits: list[str] = []
        super().__init__(*args, **kwargs)

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        """TRL averages its per-batch metrics here; an evaluation's series is kept first (`eval_series`), so the
        implicit-reward check can read each held-out pair's outcome (train/induce.heldout_rewards)."""
        if not self.model.training:
            self.eval_series = {k: list(v) for k, v in self._metrics["eval"].items()}
        super().log(logs, start_time)

    def _ref_cache_key(self, dataset, name: str) -> str:
        a = self.args
        settings = {"model": self.model_identity, "split": name, "max_length": a.max_length,
                    "truncation_mode": a.truncation_mode, "ld_alpha": self.ld_alpha, "bf16": a.bf16,
                    "fp16": a.fp16, "device": self.accelerator.device.type, "tokens": tokens_digest(dataset)}
        return hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()[:24]

    def _precompute_ref_logps(self, dataset, name: str, batch_size: int):
        if self.ref_cache_dir is None:
            return super()._precompute_ref_logps(dataset, name, batch_size)
        from ..artifacts import atomic_write_parquet

        path = self.ref_cache_dir / f"{self._ref_cache_key(dataset, name)}.parquet"
        table = self._read_cached(path, len(dataset))
        if table is not None:
            self.ref_cache_hits.append(str(path))
        else:
            table = self._compute_ref_table(dataset, batch_size)
            if self.accelerator.is_main_process:
                atomic_write_parquet(path, table)
        dataset = dataset.add_column("ref_chosen_logps", table["ref_chosen_logps"].tolist())
        return dataset.add_column("ref_rejected_logps", table["ref_rejected_logps"].tolist())

    @staticmethod
    def _read_cached(path: Path, n_pairs: int):
        """The cached table, or None when absent or damaged (a damaged file is recomputed, never trusted)."""
        import pandas as pd

        if not path.exists():
            return None
        try:
            table = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises several types for a damaged file
            from ..log import log
            log.warning(f"{path}: unreadable reference log-probs ({type(exc).__name__}); recomputing")
            return None
        if len(table) != n_pairs or not {"ref_chosen_logps", "ref_rejected_logps"} <= set(table.columns) \
                or table[["ref_chosen_logps", "ref_rejected_logps"]].isna().any().any():
            from ..log import log
            log.warning(f"{path}: reference log-probs do not match the {n_pairs} pairs; recomputing")
            return None
        return table

    def _compute_ref_table(self, dataset, batch_size: int):
        """The same reference pass as TRL's, gathered across processes, kept in memory (no temp cache files)."""
        import pandas as pd
        import torch
        from torch.utils.data import DataLoader

        loader = self.accelerator.prepare(DataLoader(dataset, batch_size=batch_size, collate_fn=self.data_collator,
                                                     num_workers=self.args.dataloader_num_workers, shuffle=False))
        if self.ref_model is None and self.is_deepspeed_enabled:
            from trl.models import prepare_deepspeed

            if self._precompute_engine is None:
                self._precompute_engine = prepare_deepspeed(self.model, self.accelerator)
            model = self._precompute_engine
        else:
            model = self.ref_model or self.model
        chosen, rejected = [], []
        for batch in loader:
            c, r = self.accelerator.gather_for_metrics(self.compute_ref_log_probs(model, batch))
            chosen.append(c.float().cpu())
            rejected.append(r.float().cpu())
        return pd.DataFrame({"ref_chosen_logps": torch.cat(chosen).numpy(),
                             "ref_rejected_logps": torch.cat(rejected).numpy()})
