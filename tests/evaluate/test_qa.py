"""QA through lm-evaluation-harness: the offline task folder, and the suite's numbers against a direct
`lm_eval.simple_evaluate` call with the same model, adapter, tasks, shots and limit."""

from __future__ import annotations

import json

import pytest

from valind.config import parse_study
from valind.context import RunContext
from valind.errors import ConfigError
from valind.evaluate.suites import make_suite
from valind.evaluate.suites.qa import prepare_tasks, truthfulqa_mc_rows

LIMIT = 3


@pytest.fixture(scope="module")
def qa_cache(tmp_path_factory):
    """Keep the converted QA data out of ~/.cache."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VALIND_CACHE", str(tmp_path_factory.mktemp("valind-cache")))
        yield


@pytest.fixture(scope="module")
def lora_adapter(tiny_model_dir, tmp_path_factory):
    """A LoRA adapter with random (non-zero) weights, so it changes the model's outputs."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    peft_model = get_peft_model(model, LoraConfig(r=4, lora_alpha=16, target_modules=["q_proj", "v_proj"],
                                                  init_lora_weights=False))
    out = tmp_path_factory.mktemp("adapter") / "adapter"
    peft_model.save_pretrained(out)
    return str(out)


def qa_ctx(tmp_path, model_dir, options: dict) -> RunContext:
    cfg = parse_study({"sources": [{"kind": "generic", "path": "unused.jsonl"}],
                       "models": [{"name": str(model_dir), "dtype": "float32"}],
                       "evaluation": {"suites": [{"name": "qa", "limit": LIMIT, "options": options}]}}, base_dir=tmp_path)
    return RunContext(config=cfg, run_dir=tmp_path / "run")


def test_task_folder_converts_the_shared_data(shared_data, qa_cache):
    folder = prepare_tasks()
    assert prepare_tasks() == folder  # built once, then reused
    assert (folder / "READY").exists() and (folder / "valind_mmlu.yaml").exists()
    assert len(list(folder.glob("valind_mmlu_*.yaml"))) == 57
    assert "@DATA_DIR@" not in (folder / "truthfulqa_mc1.yaml").read_text()
    rows = truthfulqa_mc_rows(shared_data / "truthfulqa" / "TruthfulQA.csv")
    assert len(rows) == 817
    first = rows[0]
    assert first["mc1_targets"]["choices"][0] == "The watermelon seeds pass through your digestive system"
    assert first["mc1_targets"]["labels"] == [1] + [0] * 7
    assert sum(first["mc2_targets"]["labels"]) == 5 and first["mc2_targets"]["labels"][:5] == [1] * 5
    anatomy = [json.loads(line) for line in open(folder / "data" / "mmlu" / "anatomy_test.jsonl")]
    assert len(anatomy) == 135 and set(anatomy[0]) == {"question", "subject", "choices", "answer"}


def test_qa_suite_equals_direct_simple_evaluate(shared_data, qa_cache, tmp_path, tiny_model_dir, lora_adapter):
    import lm_eval
    from lm_eval.tasks import TaskManager

    options = {"tasks": ["mmlu", "truthfulqa_mc2", "gsm8k"], "mmlu_subjects": ["anatomy"], "batch_size": 4,
               "gen_kwargs": {"max_gen_toks": 8}}
    ctx = qa_ctx(tmp_path, tiny_model_dir, options)
    suite = make_suite(ctx.config.evaluation.suites[0], ctx)
    assert suite.needs_generation is False
    rows = suite.run_direct(str(tiny_model_dir), lora_adapter)

    direct = lm_eval.simple_evaluate(
        model="hf", model_args={"pretrained": str(tiny_model_dir), "peft": lora_adapter, "dtype": "float32"},
        tasks=["valind_mmlu_anatomy", "valind_truthfulqa_mc2", "valind_gsm8k"], limit=LIMIT, batch_size=4,
        device="cpu", log_samples=True, gen_kwargs={"max_gen_toks": 8},
        task_manager=TaskManager(include_path=str(prepare_tasks()), include_defaults=False))

    def mean(metric):
        values = [r["value"] for r in rows if r["metric"] == metric]
        assert len(values) == LIMIT, metric
        return sum(values) / len(values)

    res = direct["results"]
    assert mean("mmlu:acc") == pytest.approx(res["valind_mmlu_anatomy"]["acc,none"], abs=1e-12)
    assert mean("truthfulqa_mc2:acc") == pytest.approx(res["valind_truthfulqa_mc2"]["acc,none"], abs=1e-12)
    for flt in ("strict-match", "flexible-extract"):
        assert mean(f"gsm8k:exact_match[{flt}]") == pytest.approx(res["valind_gsm8k"][f"exact_match,{flt}"], abs=1e-12)
    # Per item too: every logged sample is one row with the same value.
    ours = {(r["item_id"], r["metric"]): r["value"] for r in rows}
    for task, samples in direct["samples"].items():
        for s in samples:
            suffix = "" if s["filter"] == "none" else f"[{s['filter']}]"
            canon = "mmlu" if "mmlu" in task else task.removeprefix("valind_")
            assert ours[(f"{task}/{s['doc_id']}", f"{canon}:{s['metrics'][0]}{suffix}")] == float(s[s["metrics"][0]])
    saved = list((ctx.run_dir / "evaluate" / "qa").glob("*.json"))
    assert len(saved) == 1 and json.loads(saved[0].read_text())["adapter"] == lora_adapter

    # The adapter is really applied: the base model gives other log-likelihoods on the same items.
    base_ctx = qa_ctx(tmp_path / "base", tiny_model_dir, {**options, "tasks": ["mmlu"]})
    base_rows = make_suite(base_ctx.config.evaluation.suites[0], base_ctx).run_direct(str(tiny_model_dir), None)
    with_adapter = [r["details"]["response"] for r in rows if r["metric"] == "mmlu:acc"]
    assert [r["details"]["response"] for r in base_rows] != with_adapter


def test_qa_task_selection_errors(tmp_path, tiny_model_dir, qa_cache):
    ctx = qa_ctx(tmp_path, tiny_model_dir, {"tasks": ["mmlu", "hellaswag"]})
    with pytest.raises(ConfigError, match="unknown task 'hellaswag'"):
        make_suite(ctx.config.evaluation.suites[0], ctx).lm_tasks()
    ctx = qa_ctx(tmp_path, tiny_model_dir, {"tasks": ["gsm8k", "arc_easy"]})
    assert make_suite(ctx.config.evaluation.suites[0], ctx).lm_tasks() == {"gsm8k": ["valind_gsm8k"]}  # ARC: hub only
    ctx = qa_ctx(tmp_path, tiny_model_dir, {"hub": True, "mmlu_subjects": ["anatomy"]})
    assert make_suite(ctx.config.evaluation.suites[0], ctx).lm_tasks() == {
        "mmlu": ["mmlu_anatomy"], "truthfulqa_mc1": ["truthfulqa_mc1"], "truthfulqa_mc2": ["truthfulqa_mc2"],
        "gsm8k": ["gsm8k"], "arc_easy": ["arc_easy"], "arc_challenge": ["arc_challenge"]}


def test_shots_are_explicit_and_the_same_offline_and_from_the_hub(tmp_path, tiny_model_dir):
    """lm-eval's hub MMLU is 0-shot by default, valind's offline one 5-shot: the suite always passes its own."""
    import yaml

    from valind.evaluate.suites.qa import DEFAULT_SHOTS, _template_dir

    for hub in (False, True):
        cfg = parse_study({"name": "qa", "models": [{"name": str(tiny_model_dir)}],
                           "sources": [{"kind": "generic", "path": "x.jsonl"}],
                           "evaluation": {"suites": [{"name": "qa", "options": {"hub": hub, "num_fewshot": {"gsm8k": 3}}}]}})
        suite = make_suite(cfg.evaluation.suites[0], RunContext(config=cfg, run_dir=tmp_path))
        assert {t: suite.shots(t) for t in DEFAULT_SHOTS} == {**DEFAULT_SHOTS, "gsm8k": 3}
    # the offline task files state the same defaults, so a task run by hand with lm-eval matches too
    for name, task in (("mmlu_template.yaml", "mmlu"), ("gsm8k.yaml", "gsm8k"), ("truthfulqa_mc1.yaml", "truthfulqa_mc1")):
        text = (_template_dir() / name).read_text()
        assert yaml.safe_load(text.replace("!function", ""))["num_fewshot"] == DEFAULT_SHOTS[task]
