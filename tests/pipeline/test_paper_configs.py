"""The published configuration and ours: configs/paper_llama8b.yaml (the study's choices where known) and
configs/paper_plus.yaml (what valind adds), their plan side by side, and the study's refusal measure beside
the validated judge."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
import pytest

from valind.config import load_study

REPO = Path(__file__).resolve().parents[2]
PAPER, PLUS = REPO / "configs" / "paper_llama8b.yaml", REPO / "configs" / "paper_plus.yaml"
# The study's eight variants: three families, base (no chat template of their own), SFT and instruct.
STUDY_MODELS = {"meta-llama/Llama-3.1-8B", "allenai/Llama-3.1-Tulu-3-8B-SFT", "meta-llama/Llama-3.1-8B-Instruct",
                "allenai/OLMo-2-1124-13B", "allenai/OLMo-2-1124-13B-SFT", "allenai/OLMo-2-1124-13B-Instruct",
                "mistralai/Mistral-Nemo-Base-2407", "mistralai/Mistral-Nemo-Instruct-2407"}
BASE_MODELS = {"meta-llama/Llama-3.1-8B", "allenai/OLMo-2-1124-13B", "mistralai/Mistral-Nemo-Base-2407"}


def _suite(cfg, name):
    return next(s for s in cfg.evaluation.suites if s.name == name)


def test_paper_config_reproduces_the_published_choices():
    cfg = load_study(PAPER)
    assert {m.name for m in cfg.models} == STUDY_MODELS
    assert all((m.chat_template == "tulu") == (m.name in BASE_MODELS) for m in cfg.models)
    assert cfg.values == [] and cfg.training.epochs == 5 and (cfg.training.lora.r, cfg.training.lora.alpha) == (4, 16)
    assert cfg.curation.equalize is False and cfg.curation.control is False and cfg.training.seeds == [0]
    advbench = _suite(cfg, "advbench")
    assert advbench.judge == "prefix" and advbench.options["also_judges"] == ["learned"]
    assert {s.name for s in cfg.evaluation.suites} == {"value_prompts", "advbench", "anthrobench", "qa"}
    assert cfg.extractor.name == "llm" and cfg.extractor.open_values.mode == "only"
    assert cfg.plan.subset_sizes == "published"


def test_plus_config_adds_what_valind_adds_to_the_same_study():
    paper, plus = load_study(PAPER), load_study(PLUS)
    assert [m.name for m in plus.models] == [m.name for m in paper.models]
    assert plus.sources == paper.sources and plus.training.epochs == paper.training.epochs
    assert plus.curation.equalize and plus.curation.control and len(plus.training.seeds) >= 3
    names = {s.name for s in plus.evaluation.suites}
    assert {"xstest", "sycophancy", "feedback_sycophancy"} <= names and names >= {s.name for s in paper.evaluation.suites}
    advbench = _suite(plus, "advbench")
    assert advbench.judge == "learned" and advbench.options["also_judges"] == ["prefix"]
    assert plus.training.reward_check_pairs > 0 and "reward_vs_control" in plus.analysis.manipulation_check.outcomes
    assert plus.extractor.open_values.mode == "also"


def test_plan_prints_both_costs_with_the_published_subset_bound(tmp_path, monkeypatch, capsys):
    """`valind plan PAPER PLUS`: each config's cost, then side by side; training bounded by the published sizes
    (empathy 66.5k, violence 637; the other 13 values unpublished, bounded by the largest)."""
    from valind.sweep import plan

    monkeypatch.chdir(tmp_path)  # no run folders here: the plan before anything ran
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    plan.main(argparse.Namespace(study=[str(PAPER), str(PLUS)], utilisation=0.4, summary=True, out=None))
    out = capsys.readouterr().out
    paper, plus = load_study(PAPER), load_study(PLUS)

    def train_pairs(size, heldout):
        return size - max(1, round(size * heldout))
    h = paper.curation.heldout_fraction
    per_model = 14 * train_pairs(66_500, h) + train_pairs(637, h)  # unequal: each value its own subset
    assert f"train     120 adapters, {8 * per_model:,} pairs x 5 epochs" in out
    equal = train_pairs(637, plus.curation.heldout_fraction)  # equal budgets: all at the smallest, control too
    adapters = 8 * 16 * len(plus.training.seeds)
    assert f"train     {adapters} adapters, {adapters * equal:,} pairs x 5 epochs" in out
    assert f"equalized to {equal:,}" in out and "empathy 66,500, violence 637 pairs" in out
    assert "every induced value's subset holding all" not in out  # the all-pairs bound is not used
    side = out.split("Side by side:")[1].strip().splitlines()
    assert side[1].split()[:2] == ["paper-llama8b", "120"] and side[2].split()[:2] == ["paper-plus", str(adapters)]
    assert all(line.endswith("published subset sizes") for line in side[1:])


def test_plan_without_published_sizes_keeps_the_all_pairs_bound(tmp_path, monkeypatch):
    from valind.context import RunContext
    from valind.sweep import plan

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    cfg = load_study(PAPER)
    cfg.plan.subset_sizes = "all_pairs"
    cfg.models = cfg.models[:1]
    est = plan.estimate(RunContext(config=cfg, run_dir=tmp_path / "fresh"), 0.4)
    train = next(s for s in est["stages"] if s.stage == "train")
    assert train.calls == 15 * sum(plan.HUB_SOURCE_PAIRS.values()) and not est["published_sizes"]


def test_refusal_suite_reports_further_judges_beside_the_main_one(tmp_path):
    from valind.config import parse_study
    from valind.context import RunContext
    from valind.evaluate.suites import make_suite
    from valind.report.kinds import correction_family, metric_family, metric_name

    cfg = parse_study({"sources": [{"kind": "generic", "path": "x.jsonl"}],
                       "evaluation": {"suites": [{"name": "harmful_requests", "judge": "xstest-strmatch",
                                                  "options": {"also_judges": ["prefix"]}}]}}, base_dir=tmp_path)
    suite = make_suite(cfg.evaluation.suites[0], RunContext(config=cfg, run_dir=tmp_path / "run"))
    # the string match reads the opening; the prefix list matches anywhere (here: "As an AI" mid-reply)
    rows = [{"item_id": "a", "prompt": "p", "response": "I'm sorry, I can't help with that."},
            {"item_id": "b", "prompt": "p", "response": "Sure. As an AI I will explain it step by step."},
            {"item_id": "c", "prompt": "p", "response": "Sure, here is how."}]
    got = {(m["item_id"], m["metric"]): m["value"] for m in suite.score(rows)}
    assert [got[i, "refused"] for i in "abc"] == [1.0, 0.0, 0.0]
    assert [got[i, "refused[prefix]"] for i in "abc"] == [1.0, 1.0, 0.0]
    assert metric_family("refused[prefix]") == "refusal" and metric_name("refused[prefix]") == "refused (prefix judge)"
    assert correction_family(["refused", "refused[prefix]"])["refused[prefix]"] == "primary"
    bad = cfg.evaluation.suites[0].model_copy(update={"options": {"also_judges": "prefix"}})
    with pytest.raises(Exception, match="also_judges"):
        make_suite(bad, RunContext(config=cfg, run_dir=tmp_path / "run")).score(rows)


def test_the_refusal_claim_is_checked_with_each_judge():
    from valind.report.claims import compare_with_study

    from valind.values import builtin_values

    base = {"model": "m", "induced_value": "deception", "contrast": "vs_base", "suite": "advbench",
            "ci_low": -0.3, "ci_high": -0.1, "effect": -0.2, "p_adjusted": 0.001, "significant": True}
    effects = pd.DataFrame([{**base, "metric": "refused"}, {**base, "metric": "refused[prefix]"}])
    claims = compare_with_study(effects, builtin_values())
    refusal = claims[claims["claim"] == "refusal"]
    assert set(refusal["target"]) == {"refusal on AdvBench", "refusal on AdvBench (prefix judge)"}
    assert (refusal["status"] == "agrees").all()
