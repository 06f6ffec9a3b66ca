"""One engine at a time: the ledger of live engines, the process's engine slot, and a whole run.

An engine is a backend that holds a model in this process (transformers, vLLM). The ledger counts
every engine opened and not yet closed; these tests fail as soon as two are alive at once.
"""

from __future__ import annotations

import pytest

from valind.config import parse_study
from valind.context import RunContext
from valind.generate.backends.base import ENGINES, SamplingSettings, make_backend, release_engines
from valind.generate.backends.hf import TransformersBackend
from valind.pipeline import run_stage
from tests.conftest import DEMO_PAIRS

PROMPT = [[{"role": "user", "content": "Hello there"}]]


@pytest.fixture(autouse=True)
def fresh_ledger():
    release_engines()
    ENGINES.reset()
    yield
    release_engines()


@pytest.fixture(scope="module")
def other_model_dir(tmp_path_factory):
    from valind.testing import build_tiny_llama

    return build_tiny_llama(tmp_path_factory.mktemp("other") / "tiny-llama-2", seed=1)


def test_the_ledger_sees_two_engines_built_side_by_side(tiny_model_dir):
    """What the slot prevents, built by hand: the ledger counts it (so the checks below can fail)."""
    a = TransformersBackend(str(tiny_model_dir), dtype="float32")
    b = TransformersBackend(str(tiny_model_dir), dtype="float32")
    assert ENGINES.max_alive == 2 and len(ENGINES.alive) == 2
    a.close()
    b.close()
    assert ENGINES.alive == [] and a.base is None


def test_the_slot_reuses_one_model_and_closes_it_before_another(tiny_model_dir, other_model_dir):
    gen = make_backend("transformers", str(tiny_model_dir), batch_size=4, dtype="float32")
    first = gen.engine
    judge = make_backend("transformers", str(tiny_model_dir))  # same model, options a subset: the same engine
    assert judge.engine is first and ENGINES.opened_total == 1
    out = judge.generate(PROMPT, SamplingSettings(max_new_tokens=3))
    other = make_backend("transformers", str(other_model_dir))   # another model: the first is closed first
    assert first.base is None and ENGINES.alive == [other.engine] and ENGINES.max_alive == 1
    assert gen.generate(PROMPT, SamplingSettings(max_new_tokens=3))[0].text == out[0].text  # reopened on use
    assert ENGINES.opened_total == 3 and ENGINES.max_alive == 1
    make_backend("transformers", str(tiny_model_dir), batch_size=2)  # a setting that differs: reopened
    assert ENGINES.opened_total == 4 and ENGINES.max_alive == 1
    release_engines()
    assert ENGINES.alive == []


def test_a_run_with_llm_instruments_never_holds_two_engines(tiny_model_dir, tmp_path):
    """Extraction, generation, LLM judges and feedback sycophancy on one model: one engine at a time,
    the judges reuse the extractor's engine, and no engine outlives its stage."""
    model = str(tiny_model_dir)
    llm_judge = {"judge": "llm", "options": {"judge_options": {"model": model, "max_new_tokens": 4}}}
    cfg = parse_study({
        "name": "engines",
        "models": [{"name": model, "label": "tiny"}],
        "values": ["empathy"],
        "sources": [{"kind": "generic", "path": DEMO_PAIRS, "limit": 3,
                     "columns": {"id": "id", "prompt": "prompt", "chosen": "chosen", "rejected": "rejected"}}],
        "extractor": {"name": "llm", "options": {"model": model, "max_new_tokens": 8, "max_retries": 0,
                                                "scoring": "listing", "max_chars": 200}},
        "curation": {"min_subset_size": 1},
        "training": {"max_steps": 1, "batch_size": 2, "max_length": 64},
        "generation": {"max_new_tokens": 4, "batch_size": 4},
        "evaluation": {"suites": [{"name": "value_prompts", "limit": 2},
                                  {"name": "harmful_requests", "limit": 2, **llm_judge},
                                  {"name": "sycophancy", "limit": 2, **llm_judge},
                                  {"name": "feedback_sycophancy", "limit": 2}]},
    })
    ctx = RunContext(config=cfg, run_dir=tmp_path / "run", progress=False)
    opened = {}
    for stage in ["ingest", "extract", "curate", "train", "generate", "evaluate"]:
        before = ENGINES.opened_total
        run_stage(ctx, stage)
        opened[stage] = ENGINES.opened_total - before
        assert ENGINES.alive == [], f"an engine outlived the {stage} stage"
    assert ENGINES.max_alive == 1
    # extraction: one; generation: one for the base model and every adapter; evaluation: the extractor's
    # engine serves both LLM judges, the generation settings (feedback sycophancy) open one more
    assert opened == {"ingest": 0, "extract": 1, "curate": 0, "train": 0, "generate": 1, "evaluate": 2}
