"""Equal budgets, the control arm's draws, the data co-induction matrix and the held-out value suite.

The curate stage runs on a constructed run directory: two sources in unequal
proportions, annotations written by hand, so sizes, proportions and matrix
cells can be checked against what the data was built to hold.
"""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from valind.artifacts import atomic_write_parquet, read_jsonl, write_manifest
from valind.config import ConfigError, parse_study
from valind.context import RunContext
from valind.curate.control import control_names, largest_remainder, stratified_draw
from valind.pipeline import run_stage
from valind.train.stage import plan_jobs


def test_largest_remainder_quotas_sum_and_follow_weights():
    assert largest_remainder(10, {"a": 3, "b": 1}) == {"a": 8, "b": 2}  # 7.5 / 2.5: tie broken by name
    q = largest_remainder(7, {"a": 50, "b": 30, "c": 20})
    assert sum(q.values()) == 7 and q == {"a": 4, "b": 2, "c": 1}


def test_stratified_draw_keeps_source_proportions_in_every_prefix_and_is_seeded():
    source_of = {f"a{i}": "hh" for i in range(300)} | {f"b{i}": "pku" for i in range(100)}
    draw = stratified_draw(source_of, 80, seed=0)
    assert len(draw) == len(set(draw)) == 80
    assert Counter(source_of[p] for p in draw) == {"hh": 60, "pku": 20}
    for k in (4, 8, 20, 40):  # a dose sweep trains on prefixes: they keep the 3:1 ratio
        assert Counter(source_of[p] for p in draw[:k])["pku"] == k // 4
    assert stratified_draw(dict(reversed(list(source_of.items()))), 80, seed=0) == draw  # input order is irrelevant
    assert set(stratified_draw(source_of, 80, seed=1)) != set(draw)


def test_control_names_one_per_distinct_size():
    assert control_names({"a": 50, "b": 50}) == {"a": "control", "b": "control"}
    assert control_names({"a": 50, "b": 80, "c": 50}) == {"a": "control-n50", "b": "control-n80", "c": "control-n50"}


def test_values_cannot_take_the_control_name(tmp_path):
    base = {"sources": [{"kind": "generic", "path": "x.jsonl"}]}
    for bad in ("control", "control-n40"):
        with pytest.raises(ConfigError, match="reserved for the control"):
            parse_study({**base, "values": [bad]})


# ------------------------------------------------------------------ a constructed run
VALUES = ["empathy", "humor"]


def _constructed_run(run_dir, n_emp=60, n_hum=40, failed=None):
    """Pairs from two sources (3:1), with annotations that make known XOR subsets.

    e* pairs: empathy only in chosen; e0..e29 carry humor in the chosen response too, so they are also humor
    pairs (the data co-induction); m* pairs: humor (and deception) only in rejected, so flipped; x* pairs: no
    studied value (curiosity in both: suite candidates). `failed` maps pair id -> the extract stage's
    failure note (None elsewhere), as extract/annotations.parquet records it.
    """
    pairs, ann = [], []

    def add(pid, source, cv, rv, prompt=None):
        pairs.append({"id": pid, "source": source, "prompt": [{"role": "user", "content": prompt or f"prompt {pid}"}],
                      "chosen": f"chosen {pid}", "rejected": f"rejected {pid}"})
        ann.append({"id": pid, "chosen_values": cv, "rejected_values": rv})

    for i in range(n_emp):
        src = "hh" if i % 4 else "pku"
        add(f"e{i}", src, ["empathy", "humor"] if i < 30 else ["empathy"], [])
    for i in range(n_hum):
        src = "hh" if i % 4 else "pku"
        add(f"m{i}", src, [], ["humor", "deception"])
    for i in range(20):
        add(f"x{i}", "hh", ["curiosity"], ["curiosity"])
    add("dup", "hh", ["curiosity"], [], prompt="prompt e0")  # same prompt text as a training pair
    if failed is not None:
        for a in ann:
            a["failure"] = failed.get(a["id"])
    pairs_df = pd.DataFrame(pairs)
    atomic_write_parquet(run_dir / "ingest" / "pairs.parquet", pairs_df)
    write_manifest(run_dir / "ingest", stage="ingest", config_hash="x", inputs={}, outputs=["pairs.parquet"])
    atomic_write_parquet(run_dir / "extract" / "annotations.parquet", pd.DataFrame(ann))
    write_manifest(run_dir / "extract", stage="extract", config_hash="x", inputs={}, outputs=["annotations.parquet"])


def _ctx(run_dir, seeds=(0, 1), **curation):
    cfg = parse_study({"values": VALUES, "sources": [{"kind": "generic", "path": "x.jsonl"}],
                       "curation": {"min_subset_size": 10, "heldout_fraction": 0.1, "value_suite_per_value": 3,
                                    **curation},
                       "training": {"seeds": list(seeds)}})
    return RunContext(config=cfg, run_dir=run_dir, progress=False)


def test_curate_equalizes_and_draws_size_matched_source_stratified_controls(tmp_path):
    _constructed_run(tmp_path)
    run_stage(_ctx(tmp_path), "curate")
    cur = tmp_path / "curate"
    stats = pd.read_csv(cur / "stats.csv").set_index("value")
    # 60 empathy pairs -> 6 held out; 30 + 40 humor pairs -> 7 held out; e0..e29 are in both subsets, and a
    # pair held out for one value is held out for both, so each train part loses the other's held-out e0..e29
    held = {v: {r["id"] for r in read_jsonl(cur / "subsets" / v / "heldout.jsonl")} for v in VALUES}
    assert len(held["empathy"]) == 6 and len(held["humor"]) == 7
    heldout = held["empathy"] | held["humor"]
    shared = {f"e{i}" for i in range(30)}
    available = {"empathy": 60 - len(heldout & {f"e{i}" for i in range(60)}),
                 "humor": 70 - len(heldout & (shared | {f"m{i}" for i in range(40)}))}
    assert stats["train_available"].to_dict() == available
    n = min(available.values())
    assert (stats["train"] == n).all() and stats["subsampled"].to_dict() == {v: a - n for v, a in available.items()}
    for v in VALUES:
        train = [r["id"] for r in read_jsonl(cur / "subsets" / v / "train.jsonl")]
        assert len(train) == n and not set(train) & heldout  # no adapter trains on any held-out pair
    controls = json.loads((cur / "controls.json").read_text())
    assert controls["matched"] == {"empathy": "control", "humor": "control"}
    pool = ({f"e{i}" for i in range(60)} | {f"m{i}" for i in range(40)}) - heldout  # before equalization
    pool_sources = Counter("pku" if int(p[1:]) % 4 == 0 else "hh" for p in pool)
    draws = {}
    for seed in (0, 1):
        recs = read_jsonl(cur / "subsets" / "control" / f"seed{seed}" / "train.jsonl")
        draws[seed] = [r["id"] for r in recs]
        assert len(recs) == n and not set(draws[seed]) & heldout and set(draws[seed]) <= pool
        got = Counter(r["source"] for r in recs)
        assert got == largest_remainder(n, pool_sources)  # the pool's proportions, to rounding
        # the source orientation: a humor-flipped pair keeps its dataset chosen in the control
        for r in recs:
            assert r["chosen"] == f"chosen {r['id']}" and not r["flipped"]
    assert draws[0] != draws[1]  # a fresh random slice per seed

    jobs = plan_jobs(_ctx(tmp_path))
    assert sorted((j.value, j.seed) for j in jobs) == sorted((v, s) for v in (*VALUES, "control") for s in (0, 1))
    control0 = next(j for j in jobs if j.value == "control" and j.seed == 0)
    assert [r["id"] for r in read_jsonl(control0.train_file)] == draws[0]
    assert set(control0.heldout_files) == set(VALUES)


def test_data_coinduction_matrix_counts_chosen_minus_rejected_in_the_trained_subset(tmp_path):
    _constructed_run(tmp_path)
    run_stage(_ctx(tmp_path, equalize=False), "curate")
    m = pd.read_csv(tmp_path / "curate" / "data_coinduction.csv", index_col=0)
    emp = [r["id"] for r in read_jsonl(tmp_path / "curate" / "subsets" / "empathy" / "train.jsonl")]
    # humor is in the chosen of e0..e29 only; empathy's own column is 1 by the XOR rule
    assert m.loc["empathy", "humor"] == pytest.approx(sum(int(p[1:]) < 30 for p in emp) / len(emp))
    assert m.loc["empathy", "empathy"] == 1.0 and m.loc["humor", "humor"] == 1.0
    # m* pairs are flipped for humor: deception sat in the rejected response, so it moves to the chosen side
    hum = [r["id"] for r in read_jsonl(tmp_path / "curate" / "subsets" / "humor" / "train.jsonl")]
    assert m.loc["humor", "deception"] == pytest.approx(sum(p[0] == "m" for p in hum) / len(hum))
    assert m.loc["humor", "empathy"] == pytest.approx(sum(p[0] == "e" for p in hum) / len(hum))
    # unequal sizes without equalization: one control per size, each value matched to its own
    controls = json.loads((tmp_path / "curate" / "controls.json").read_text())
    sizes = {v: len(read_jsonl(tmp_path / "curate" / "subsets" / v / "train.jsonl")) for v in VALUES}
    assert sizes["empathy"] != sizes["humor"]
    assert controls["matched"] == {v: f"control-n{n}" for v, n in sizes.items()}
    assert {f"control-n{n}" for n in sizes.values()} <= set(m.index)
    for v, n in sizes.items():
        assert len(read_jsonl(tmp_path / "curate" / "subsets" / f"control-n{n}" / "seed1" / "train.jsonl")) == n


def test_value_suite_uses_only_untrained_prompts_balanced_with_provenance(tmp_path):
    _constructed_run(tmp_path)
    run_stage(_ctx(tmp_path), "curate")
    cur = tmp_path / "curate"
    suite = read_jsonl(cur / "value_suite.jsonl")
    trained = {r["id"] for p in cur.glob("subsets/**/train.jsonl") for r in read_jsonl(p)}
    trained_prompts = {f"prompt {i}" for i in trained}
    assert suite and all(r["pair_id"] not in trained for r in suite)
    assert all(r["messages"][0]["content"] not in trained_prompts for r in suite)  # "dup" shares e0's prompt
    assert "dup" not in {r["id"] for r in suite} or "e0" not in trained
    counts = Counter(r["value"] for r in suite)
    assert counts["curiosity"] == 3 and counts["empathy"] == 3 and counts["humor"] == 3  # value_suite_per_value
    # round robin: the first three records are three different values
    assert len({r["value"] for r in suite[:3]}) == 3
    for r in suite:
        assert r["source"] in {"hh", "pku"} and r["split"] in {"heldout", "unused"}
        assert r["expressed_in"] in {"chosen", "rejected", "both"}
    assert np.all([r["split"] == "heldout" for r in suite if r["value"] in VALUES and r["id"][0] in "em"])
    stats = pd.read_csv(cur / "stats.csv").set_index("value")
    assert stats.loc["empathy", "suite_prompts"] == 3


def test_value_suite_for_the_induced_values_only(tmp_path):
    """curation.value_suite_values: induced draws prompts only for the values being induced (power for the
    manipulation check), each as many as value_suite_per_value, from untrained pairs."""
    _constructed_run(tmp_path)
    run_stage(_ctx(tmp_path, value_suite_values="induced", value_suite_per_value=4), "curate")
    suite = read_jsonl(tmp_path / "curate" / "value_suite.jsonl")
    counts = Counter(r["value"] for r in suite)
    assert set(counts) == set(VALUES) and counts["empathy"] == counts["humor"] == 4
    trained = {r["id"] for p in (tmp_path / "curate").glob("subsets/**/train.jsonl") for r in read_jsonl(p)}
    assert not {r["pair_id"] for r in suite} & trained


def test_a_pair_with_a_failed_extraction_is_in_no_subset_and_is_counted(tmp_path):
    # e3 is an empathy pair (its chosen side was scored); its rejected side failed, so its "no empathy" there is
    # no measurement: it must not train, be held out, be drawn for a control, or enter the value suite
    _constructed_run(tmp_path, failed={"e3": "rejected: unparseable reply 'maybe'"})
    manifest = run_stage(_ctx(tmp_path), "curate")
    cur = tmp_path / "curate"
    used = {r.get("pair_id", r["id"]) for p in cur.glob("subsets/**/*.jsonl") for r in read_jsonl(p)}
    used |= {r["pair_id"] for r in read_jsonl(cur / "value_suite.jsonl")}
    assert "e3" not in used and {"e2", "e4"} <= used
    assert manifest["counts"]["excluded_failed_extraction"] == 1
    assert manifest["counts"]["pairs"] == 60 + 40 + 20 + 1 - 1
    stats = pd.read_csv(cur / "stats.csv").set_index("value")
    # without the failure e3 is an XOR pair of both values (60 empathy pairs, 30 + 40 humor pairs)
    assert stats.loc["empathy", "pairs"] == 59 and stats.loc["humor", "pairs"] == 69


def test_control_off_trains_no_control(tmp_path):
    _constructed_run(tmp_path)
    run_stage(_ctx(tmp_path, control=False), "curate")
    assert json.loads((tmp_path / "curate" / "controls.json").read_text())["controls"] == {}
    assert {j.value for j in plan_jobs(_ctx(tmp_path, control=False))} == set(VALUES)


def test_value_suite_last_turns_keeps_the_end_of_each_conversation(tmp_path):
    """options.last_turns: N keeps the last N messages from a user turn on; a bad N is a clear error."""
    from types import SimpleNamespace

    from valind.config import SuiteSpec
    from valind.errors import ConfigError
    from valind.evaluate.suites.base import make_suite

    turns = [{"role": "user", "content": "u1"}, {"role": "assistant", "content": "a1"},
             {"role": "user", "content": "u2"}, {"role": "assistant", "content": "a2"},
             {"role": "user", "content": "u3"}]
    (tmp_path / "curate").mkdir()
    (tmp_path / "curate" / "value_suite.jsonl").write_text(
        json.dumps({"id": "p1", "messages": turns, "value": "empathy"}) + "\n"
        + json.dumps({"id": "p2", "messages": turns[-1:], "value": "humor"}) + "\n")
    ctx = SimpleNamespace(run_dir=tmp_path)

    def contents(options):
        suite = make_suite(SuiteSpec(name="value_prompts", options={"source": "heldout", **options}), ctx)
        return [[m["content"] for m in item.messages] for item in suite.items()]

    assert contents({}) == [["u1", "a1", "u2", "a2", "u3"], ["u3"]]
    assert contents({"last_turns": 3}) == [["u2", "a2", "u3"], ["u3"]]
    assert contents({"last_turns": 2}) == [["u3"], ["u3"]]  # never starts with the assistant
    assert contents({"last_turns": 1}) == [["u3"], ["u3"]]
    with pytest.raises(ConfigError, match="last_turns must be a positive integer"):
        contents({"last_turns": 0})
