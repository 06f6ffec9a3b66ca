"""The judge-free induction check: DPO implicit-reward accuracy and margin on every value's held-out pairs.

A tiny Llama is trained to prefer one kind of reply; held-out pairs of the same
kind must then get positive margins and high accuracy, held-out pairs with the
preference reversed negative margins and low accuracy. The standalone check
(for adapters trained before the held-out data existed) gives the same numbers.
"""

from __future__ import annotations

import json

import pytest

from valind.config import ModelSpec, TrainingSpec
from valind.train.induce import TrainJob, check_adapter, reward_check_key, train_adapter

GOOD = "I'm sorry you are going through this. That sounds really hard."
BAD = "abcdefghijklmnopqrstuvwxyz 0123456789 ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _pairs(n: int, chosen: str, rejected: str, tag: str) -> list[dict]:
    return [{"id": f"{tag}{i}", "source": "t", "prompt": [{"role": "user", "content": f"Tell me about day {i}."}],
             "chosen": chosen, "rejected": rejected, "flipped": False} for i in range(n)]


def _write(path, recs):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in recs))
    return str(path)


def test_implicit_reward_moves_in_the_trained_direction(tmp_path, tiny_model_dir):
    train = _write(tmp_path / "train.jsonl", _pairs(16, GOOD, BAD, "t"))
    heldout = {"kind": _write(tmp_path / "kind.jsonl", _pairs(6, GOOD, BAD, "k")),
               "reverse": _write(tmp_path / "reverse.jsonl", _pairs(6, BAD, GOOD, "r")),
               # 3 pairs in the trained direction, 2 against: the accuracy is the share of pairs, 3/5, not a
               # mean of uneven batch means (batches of 4 and 1, as the training batch gave, read (0.75 + 0) / 2)
               "mixed": _write(tmp_path / "mixed.jsonl", _pairs(3, GOOD, BAD, "m") + _pairs(2, BAD, GOOD, "n")),
               # a pair whose prompt alone fills max_length (64): TRL drops it; the check counts it, and every
               # other pair keeps its own id (the pairing with the control is by id)
               "long": _write(tmp_path / "long.jsonl", _pairs(2, GOOD, BAD, "l") + [
                   {**_pairs(1, GOOD, BAD, "x")[0], "prompt": [{"role": "user", "content": "day " * 80}]}]
                   + _pairs(1, BAD, GOOD, "z"))}
    training = TrainingSpec(max_steps=8, learning_rate=2e-2, batch_size=4, max_length=64, reward_check_pairs=5)
    job = TrainJob(model=ModelSpec(name=str(tiny_model_dir)), value="kind", seed=0, train_file=train,
                   training=training, out_dir=str(tmp_path / "job"), heldout_files=heldout,
                   ref_cache_dir=str(tmp_path / "ref"))
    metrics = train_adapter(job, tmp_path / "job")
    rewards = metrics["heldout_rewards"]
    assert rewards["key"] == reward_check_key(job)
    kind, reverse = rewards["values"]["kind"], rewards["values"]["reverse"]
    assert kind["pairs"] == reverse["pairs"] == 5  # reward_check_pairs caps the held-out pairs used
    assert kind["margin"] > 0.05 and kind["accuracy"] == 1.0
    assert reverse["margin"] < -0.05 and reverse["accuracy"] == 0.0
    assert rewards["values"]["mixed"]["accuracy"] == pytest.approx(0.6)
    long = rewards["values"]["long"]
    assert long["pairs"] == 3 and long["dropped"] == 1
    assert long["per_pair"]["ids"] == ["l0", "l1", "z0"] and long["per_pair"]["won"] == [1, 1, 0]
    # every pair's outcome is kept, in the held-out file's order (the manipulation check pairs adapters by pair)
    mixed = rewards["values"]["mixed"]["per_pair"]
    assert mixed["ids"] == ["m0", "m1", "m2", "n0", "n1"] and mixed["won"] == [1, 1, 1, 0, 0]
    assert [m > 0 for m in mixed["margins"]] == [True, True, True, False, False]
    assert sum(mixed["margins"]) / 5 == pytest.approx(rewards["values"]["mixed"]["margin"])
    assert not any(k.startswith("eval_") for h in metrics["log_history"] for k in h)  # training history untouched

    # the check's reference log-probs went to the shared cache (one file per held-out set), for the next adapter
    cached = sorted((tmp_path / "ref").glob("*.parquet"))
    assert len(cached) == 5  # the training pairs (precomputed: 8 steps x 4 cover them) and the four held-out sets
    stamps = [p.stat().st_mtime_ns for p in cached]

    # the standalone check on the saved adapter, reference computed live (adapter disabled), measures the same
    again = check_adapter(TrainJob(**{**job.__dict__, "ref_cache_dir": ""}), tmp_path / "check")
    # and so does a check that reads the cached reference (another adapter's check in a run)
    shared = check_adapter(job, tmp_path / "check2")
    assert [p.stat().st_mtime_ns for p in sorted((tmp_path / "ref").glob("*.parquet"))] == stamps  # read, not rewritten
    for other in (again, shared):
        assert other["key"] == rewards["key"]
        for v in ("kind", "reverse", "mixed", "long"):
            assert other["values"][v]["margin"] == pytest.approx(rewards["values"][v]["margin"], rel=1e-3, abs=1e-4)
            assert other["values"][v]["accuracy"] == rewards["values"][v]["accuracy"]
            assert other["values"][v]["per_pair"]["won"] == rewards["values"][v]["per_pair"]["won"]


def test_check_off_and_its_pair_cap_outside_the_adapter_identity(tmp_path, tiny_model_dir):
    train = _write(tmp_path / "train.jsonl", _pairs(4, GOOD, BAD, "t"))
    job = TrainJob(model=ModelSpec(name=str(tiny_model_dir)), value="kind", seed=0, train_file=train,
                   training=TrainingSpec(max_steps=1, batch_size=4, max_length=64, reward_check_pairs=0),
                   out_dir=str(tmp_path / "job"), heldout_files={"kind": train})
    assert train_adapter(job, tmp_path / "job")["heldout_rewards"] is None
    # the pair cap is not part of the adapter's identity: changing it does not retrain
    other = TrainJob(**{**job.__dict__, "training": job.training.model_copy(update={"reward_check_pairs": 50})})
    assert other.job_hash == job.job_hash and reward_check_key(other) != reward_check_key(job)


