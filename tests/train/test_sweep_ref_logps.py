"""DPO reference log-probs: computed once per (model, subset), reused across seeds and sweep points,
with the same losses as computing them live at every step."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from valind.config import ModelSpec, TrainingSpec
from valind.train.induce import TrainJob, train_adapter

from tests.conftest import write_curated


def losses(metrics: dict) -> list[float]:
    return [h["loss"] for h in metrics["log_history"] if "loss" in h]


def make_job(tmp_path, model_dir, name, *, seed=0, beta=0.1, precompute=True):
    training = TrainingSpec(max_steps=4, learning_rate=5e-3, batch_size=4, max_length=64, beta=beta,
                            precompute_ref_logprobs=precompute)
    return TrainJob(model=ModelSpec(name=str(model_dir)), value="empathy", seed=seed,
                    train_file=str(tmp_path / "curate" / "subsets" / "empathy" / "train.jsonl"), training=training,
                    out_dir=str(tmp_path / name), ref_cache_dir=str(tmp_path / "ref_cache"))


def test_reference_logps_are_reused_with_equal_losses(tmp_path, tiny_model_dir):
    write_curated(tmp_path, {"empathy": 12})
    cache = tmp_path / "ref_cache"

    live = train_adapter(make_job(tmp_path, tiny_model_dir, "live", precompute=False), tmp_path / "live")
    assert not cache.exists()  # without precompute nothing is cached
    first = train_adapter(make_job(tmp_path, tiny_model_dir, "first"), tmp_path / "first")
    files = list(cache.glob("*.parquet"))
    assert len(files) == 1 and len(pd.read_parquet(files[0])) == 12
    stamp = files[0].stat().st_mtime_ns
    reused = train_adapter(make_job(tmp_path, tiny_model_dir, "reused"), tmp_path / "reused")

    assert losses(first) == losses(reused)  # read back from the cache: bit-identical
    assert losses(live) == pytest.approx(losses(first), rel=1e-5, abs=1e-6)  # same as the live reference
    assert losses(first)[-1] < losses(first)[0]

    # another seed and another beta on the same (model, subset) reuse the same file instead of recomputing
    train_adapter(make_job(tmp_path, tiny_model_dir, "s1", seed=1, beta=0.3), tmp_path / "s1")
    assert list(cache.glob("*.parquet")) == files and files[0].stat().st_mtime_ns == stamp

    # the cached values are what training reads: shifting them changes the loss
    table = pd.read_parquet(files[0])
    table["ref_chosen_logps"] += 5.0
    table.to_parquet(files[0], index=False)
    shifted = train_adapter(make_job(tmp_path, tiny_model_dir, "shifted"), tmp_path / "shifted")
    assert losses(shifted)[0] != pytest.approx(losses(first)[0], abs=1e-3)


def test_other_data_gets_its_own_reference(tmp_path, tiny_model_dir):
    write_curated(tmp_path, {"empathy": 8})
    train_adapter(make_job(tmp_path, tiny_model_dir, "a"), tmp_path / "a")
    path = tmp_path / "curate" / "subsets" / "empathy" / "train.jsonl"
    recs = [json.loads(line) for line in path.read_text().splitlines()]
    recs[0]["chosen"] = "a different chosen response"
    path.write_text("".join(json.dumps(r) + "\n" for r in recs))
    train_adapter(make_job(tmp_path, tiny_model_dir, "b"), tmp_path / "b")
    assert len(list((tmp_path / "ref_cache").glob("*.parquet"))) == 2


def test_damaged_reference_cache_file_is_recomputed(tmp_path):
    """A truncated cache file is detected and recomputed, not trusted (and not a pyarrow traceback)."""
    import pandas as pd

    from valind.train.ref_logps import SharedRefDPOTrainer

    good = tmp_path / "good.parquet"
    pd.DataFrame({"ref_chosen_logps": [-1.0, -2.0], "ref_rejected_logps": [-3.0, -4.0]}).to_parquet(good)
    assert len(SharedRefDPOTrainer._read_cached(good, 2)) == 2
    assert SharedRefDPOTrainer._read_cached(good, 3) is None  # other pairs: recompute
    damaged = tmp_path / "damaged.parquet"
    damaged.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    assert SharedRefDPOTrainer._read_cached(damaged, 2) is None
    assert SharedRefDPOTrainer._read_cached(tmp_path / "missing.parquet", 2) is None
