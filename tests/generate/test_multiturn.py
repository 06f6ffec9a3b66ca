"""Multi-turn AnthroBench (issue 23, item 2): a simulated user and the model under test (the tiny Llama, base
and one LoRA adapter) alternate for `turns` assistant turns through the real generate and evaluate stages;
every assistant turn is judged; the report has per-turn and pooled effects. The user is a second tiny Llama
(another model, so the engine slot swaps models every turn): the test is of the mechanics, and SmolLM2 as
the user cost minutes on this 2-core machine."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from valind.config import parse_study
from valind.context import RunContext
from valind.errors import ConfigError

TURNS, CONVERSATIONS = 3, 2
USER_TOKENS = 16


@pytest.fixture(scope="module")
def user_model_dir(tmp_path_factory):
    from valind.testing import build_tiny_llama

    return build_tiny_llama(tmp_path_factory.mktemp("tiny-user") / "tiny-user", seed=7)


def _study(tmp_path, model_dir, suite_options):
    return parse_study({"sources": [{"kind": "generic", "path": "unused.jsonl"}], "models": [{"name": str(model_dir)}],
                        "values": ["empathy"], "curation": {"control": False},
                        "generation": {"max_new_tokens": 12, "batch_size": 8},
                        "evaluation": {"suites": [{"name": "anthrobench", "limit": CONVERSATIONS, "judge": "rules",
                                                   "options": suite_options}]}}, base_dir=tmp_path)


def _fake_adapter(ctx, model_dir, value="empathy"):
    """A trained-looking adapter (random LoRA B matrices, so it changes outputs) where the generate stage looks."""
    from tests.generate.conftest import make_random_adapter

    from valind.artifacts import atomic_write_json, write_manifest
    from valind.layout import Adapter, adapters_json

    (ctx.run_dir / "curate").mkdir(parents=True)
    (ctx.run_dir / "curate" / "stats.csv").write_text(f"value,trained\n{value},True\n")
    out = ctx.run_dir / "train" / ctx.config.models[0].slug / value / "seed0"
    make_random_adapter(model_dir, out / "adapter", seed=1)
    write_manifest(out, stage="train", config_hash="x", inputs={}, outputs=["adapter/adapter_model.safetensors"])
    model = ctx.config.models[0]  # the train stage's hand-off to generate (train/adapters.json)
    adapter = Adapter(job_id=f"{model.slug}/{value}/seed0", model=model.name, model_slug=model.slug, value=value,
                      point="", seed=0, dir=str(out.relative_to(ctx.run_dir)), weights_hash="x")
    atomic_write_json(ctx.folder.adapters, adapters_json([adapter]))


@pytest.fixture(scope="module")
def conversation_run(tmp_path_factory, tiny_model_dir, user_model_dir):
    from valind.evaluate import stage as evaluate_stage
    from valind.generate import stage as generate_stage
    from valind.generate.backends.base import release_engines

    tmp = tmp_path_factory.mktemp("multiturn")
    user = {"model": str(user_model_dir), "max_new_tokens": USER_TOKENS}
    ctx = RunContext(config=_study(tmp, tiny_model_dir, {"turns": TURNS, "user": user}), run_dir=tmp / "run")
    _fake_adapter(ctx, tiny_model_dir)
    try:
        generate_stage.run(ctx)
        evaluate_stage.run(ctx)
    finally:
        release_engines()
    return ctx


def _rows(ctx, variant):
    return [json.loads(line) for line in
            (ctx.run_dir / "generate" / ctx.config.models[0].slug / variant / "seed0" / "anthrobench.jsonl")
            .read_text().splitlines()]


def test_each_conversation_has_the_configured_turns_and_the_simulated_user_turns_are_fed_back(conversation_run,
                                                                                                user_model_dir):
    from valind.generate.backends.base import SamplingSettings, make_backend, release_engines
    from valind.generate.conversations import clean_user_turn, user_prompt

    ctx = conversation_run
    for variant in ("base", "empathy"):
        rows = _rows(ctx, variant)
        by_conv = {}
        for r in rows:
            by_conv.setdefault(r["item_id"], []).append(r)
        assert len(by_conv) == CONVERSATIONS
        for conv in by_conv.values():
            assert [r["turn"] for r in conv] == list(range(1, TURNS + 1))
            assert [r["user_simulated"] for r in conv] == [False] + [True] * (TURNS - 1)
            for before, after in zip(conv, conv[1:]):  # each turn continues the previous one
                assert after["messages"] == before["messages"] + [
                    {"role": "assistant", "content": before["response"]}, {"role": "user", "content": after["prompt"]}]
                assert after["prompt"]
    # The simulated turn is what the user model (greedy) writes for the scenario and transcript.
    first = [r for r in _rows(ctx, "empathy") if r["turn"] <= 2][:CONVERSATIONS + 1]
    t1, t2 = first[0], next(r for r in first if r["turn"] == 2 and r["item_id"] == first[0]["item_id"])
    assert {"use_domain", "use_scenario", "cue", "original_prompt"} <= set(t1["meta"])
    transcript = t1["messages"] + [{"role": "assistant", "content": t1["response"]}]
    asked = user_prompt(t1["meta"], transcript)
    assert t1["meta"]["use_scenario"] in asked and t1["response"] in asked
    user = make_backend("transformers", str(user_model_dir), batch_size=8)
    try:
        reply = user.generate([[{"role": "user", "content": asked}]], SamplingSettings(max_new_tokens=USER_TOKENS))[0].text
    finally:
        release_engines()
    assert t2["prompt"] == (clean_user_turn(reply) or "Please go on.")
    assert t2["user_fallback"] == (not clean_user_turn(reply))
    assert not all(r["user_fallback"] for r in _rows(ctx, "base") if r["user_simulated"])  # the model's words


def test_every_assistant_turn_is_rated_and_pooled_per_conversation(conversation_run):
    results = pd.read_parquet(conversation_run.run_dir / "evaluate" / "results.parquet")
    assert set(results["induced_value"]) == {"base", "empathy"}
    for (variant, item), grp in results.groupby(["induced_value", "item_id"]):
        metrics = dict(zip(grp["metric"], grp["value"]))
        per_turn = [metrics[f"anthro_any@turn{t}"] for t in range(1, TURNS + 1)]  # every turn rated
        assert all(f"anthro_rate@turn{t}" in metrics for t in range(1, TURNS + 1))
        assert sum(m.endswith(f"@turn{TURNS}") and m.startswith("anthro:") for m in metrics) == 14
        assert metrics["anthro_any"] == pytest.approx(sum(per_turn) / TURNS)  # pooled = the conversation's mean
    items = pd.read_parquet(conversation_run.run_dir / "evaluate" / "items.parquet")
    assert len(items) == 2 * CONVERSATIONS  # one sample per conversation, its whole transcript
    assert all(r.response.count("ASSISTANT:") == TURNS for r in items.itertuples())


def test_the_report_has_per_turn_and_pooled_effects(conversation_run):
    from valind.report.build import build_report
    from valind.stats import EffectOptions

    out = build_report(conversation_run.run_dir, options=EffectOptions(n_boot=200, n_perm=200))
    eff = pd.read_parquet(out["effects"].with_suffix(".parquet"))
    eff = eff[(eff["induced_value"] == "empathy") & (eff["contrast"] == "vs_base")]
    metrics = set(eff["metric"])
    assert {"anthro_any", "anthro_rate"} | {f"anthro_any@turn{t}" for t in range(1, TURNS + 1)} <= metrics
    assert (eff.set_index("metric").loc["anthro_any", "n_items"]) == CONVERSATIONS
    families = eff.set_index("metric")["bh_family"]
    assert families["anthro_any"] == "primary" and families["anthro_any@turn2"] == "secondary"
    assert any(p.name.startswith("anthro_turns_") for p in out["figures"])
    assert "emotions (turn 2)" in out["html"].read_text()


def test_one_turn_is_the_default_and_turns_need_a_user_and_anthrobench(tmp_path, tiny_model_dir):
    from valind.evaluate.suites import make_suite
    from valind.generate.stage import multi_turn

    ctx = RunContext(config=_study(tmp_path, tiny_model_dir, {}), run_dir=tmp_path / "run")
    assert not multi_turn(make_suite(ctx.config.evaluation.suites[0], ctx))
    with pytest.raises(ConfigError, match=r"options: turns > 1 needs a user simulator"):
        _study(tmp_path, tiny_model_dir, {"turns": 2})
    with pytest.raises(ConfigError, match=r"options.user.model: Field required"):
        _study(tmp_path, tiny_model_dir, {"turns": 2, "user": {"name": "x"}})
    with pytest.raises(ConfigError, match=r"multi-turn conversations are run for anthrobench only, not advbench"):
        parse_study({"sources": [{"kind": "generic", "path": "x"}], "evaluation": {"suites": [
            {"name": "advbench", "options": {"turns": 2, "user": {"model": "x"}}}]}})


def test_plan_counts_every_assistant_turn(tmp_path, tiny_model_dir, user_model_dir):
    from valind.sweep.plan import estimate

    def generate_row(options):
        ctx = RunContext(config=_study(tmp_path, tiny_model_dir, options), run_dir=tmp_path / "run")
        est = estimate(ctx, 0.4)
        return next(s for s in est["stages"] if s.stage == "generate"), est["notes"]

    one, _ = generate_row({})
    three, notes = generate_row({"turns": 3, "user": {"model": str(user_model_dir), "max_new_tokens": 20}})
    assert three.calls == 3 * one.calls and three.tokens > 3 * one.tokens  # later turns carry the transcript
    assert any("3 assistant turns per conversation" in n and "not in the GPU-hours" in n for n in notes)
