"""The `vllm` backend on the real engine: vLLM's CPU build (installed by scripts/setup.sh) serving
SmolLM2-135M-Instruct (the embedded model, converted once) with two LoRA adapters, in one engine
for the whole module, shared by generation, the LLM extractor and the LLM judges.

The adapters are made with PEFT (conftest's `smollm2_adapters`, shared with tests/generate/test_vllm_server.py:
rank 4 on every linear layer, small random weights, seeds 1 and 2), so they change what the model says
without a training run. Greedy agreement with transformers
is checked teacher-forced, in the same dtype (float32: on a CPU without bf16 units, vLLM's CPU kernels
and torch both run bf16 several times slower): transformers (with PEFT for the adapters) reads each
prompt and vLLM's answer in one forward pass, and vLLM's greedy token must be transformers' argmax at
each position. Guaranteed, and tested: for the base model and each adapter, on at least AGREE_OF of
the PROMPTS the first AGREE_TOKENS answer tokens are transformers' greedy choices. Past that, kernels
that add in another order may flip a near-tie and the two continuations drift apart.

Skipped (failed in CI) only where vLLM is not installed or its engine cannot start on this CPU, with
vLLM's own reason.
"""

from __future__ import annotations

import pytest

from valind.generate.backends.base import ENGINES, SamplingSettings, make_backend, release_engines

from tests.conftest import skip_unless_ci
from tests.generate.conftest import AGREE_OF, AGREE_TOKENS, DTYPE, NEW_TOKENS, PROMPTS, convs, greedy_prefix

pytestmark = pytest.mark.vllm

# what every user in this module asks for (one engine serves all): configs/paper_llama8b.yaml's engine options,
# its instruments' (max_model_len 8192, tensor_parallel_size 1 on one device) with its generation's LoRA ones;
# its bfloat16 is checked on vLLM's configuration in tests/generate/test_vllm_paper_options.py (this CPU has no
# bf16 units)
ENGINE = {"dtype": DTYPE, "max_lora_rank": 8, "max_loras": 4, "max_model_len": 8192, "tensor_parallel_size": 1}


@pytest.fixture(scope="module")
def setup(smollm2_adapters):
    """(model dir, [adapter 1, adapter 2], the vLLM engine: a lease on the process's one engine)."""
    try:
        import vllm  # noqa: F401
    except ImportError as exc:
        skip_unless_ci(f"vLLM is not installed ({exc}); scripts/setup.sh installs its CPU build")
    model, adapters = smollm2_adapters
    release_engines()
    ENGINES.reset()
    try:
        engine = make_backend("vllm", model, **ENGINE)
    except Exception as exc:  # noqa: BLE001 - the engine's own reason, in the skip (a failure in CI)
        skip_unless_ci(f"the vLLM engine did not start on this machine: {type(exc).__name__}: {exc}")
    yield model, adapters, engine
    release_engines()


def test_base_and_two_adapters_in_one_engine(setup):
    model, (a1, a2), engine = setup
    settings = SamplingSettings(max_new_tokens=NEW_TOKENS)
    out = {a: [c.text for c in engine.generate(convs(), settings, adapter=a)] for a in (None, a1, a2)}
    assert all(all(t.strip() for t in texts) for texts in out.values())
    # each adapter changes what the model says, and the two differ from each other
    assert sum(x != y for x, y in zip(out[None], out[a1])) >= len(PROMPTS) // 2
    assert sum(x != y for x, y in zip(out[None], out[a2])) >= len(PROMPTS) // 2
    assert sum(x != y for x, y in zip(out[a1], out[a2])) >= len(PROMPTS) // 2
    # back to the first adapter after the second, and to the base: the same greedy answers (ids kept, no mix-up)
    assert [c.text for c in engine.generate(convs(), settings, adapter=a1)] == out[a1]
    assert [c.text for c in engine.generate(convs(), settings)] == out[None]
    assert engine.lora_request(a1).lora_int_id == 1 and engine.lora_request(a2).lora_int_id == 2
    assert ENGINES.opened_total == 1 and len(ENGINES.alive) == 1  # the base model was loaded once


def test_greedy_agrees_with_transformers_in_the_same_dtype(setup):
    model, adapters, engine = setup
    settings = SamplingSettings(max_new_tokens=NEW_TOKENS)
    for adapter in (None, *adapters):
        answers = [c.text for c in engine.generate(convs(), settings, adapter=adapter)]
        agree = greedy_prefix(model, adapter, convs(), answers)
        assert all(length > 0 for _, length in agree)
        assert sum(n >= min(AGREE_TOKENS, length) for n, length in agree) >= AGREE_OF, (adapter, agree, answers)


def test_logprobs_and_finish_reasons_come_from_the_engine(setup):
    import math

    _, _, engine = setup
    out = engine.generate(convs(PROMPTS[:2]), SamplingSettings(max_new_tokens=4, logprobs=5))
    for c in out:
        assert c.meta["finish_reason"] in ("stop", "length")
        assert c.top_logprobs and 1 <= len(c.top_logprobs) <= 4
        for position in c.top_logprobs:
            assert 1 <= len(position) <= 6 and all(lp <= 0 for lp in position.values())
            assert 0.0 < sum(math.exp(lp) for lp in position.values()) <= 1.0 + 1e-3


def test_llm_extractor_and_judges_share_the_generation_engine(setup):
    """The paper config's arrangement: extractor and judges name the generation engine's model and options,
    so the one engine serves them all (no second model load)."""
    from valind.instruments.llm_judges import LLMAnthroJudge, LLMRefusalJudge, LLMSycophancyJudge
    from valind.instruments.values import make_extractor
    from valind.values import load_values

    model, _, engine = setup
    opened = ENGINES.opened_total
    defined = load_values()
    values = [defined[n] for n in ("empathy", "honesty", "humor")]
    extractor = make_extractor("llm", values, None, backend="vllm", model=model, backend_options=ENGINE,
                               scoring="auto", max_retries=1, max_new_tokens=48)
    prompts = ["My dog died today.", "Tell me a joke."]
    responses = ["I'm so sorry for your loss. It's okay to grieve.", "Why did the chicken cross the road? To get "
                 "to the other side!"]
    scores = extractor.score_batch(prompts, responses)
    assert scores.shape == (2, 3) and ((scores >= 0) & (scores <= 1)).all()
    for i, failure in enumerate(extractor.failures()):
        # SmolLM2-135M is small: an item is either listed (its attempts kept) or a failure naming the raw reply
        assert failure is None or "raw reply" in failure
        assert extractor.attempts[i] and all(isinstance(a, str) for a in extractor.attempts[i])
    assert extractor.usage["listing_calls"] >= 2
    if any(f is None for f in extractor.failures()):  # a listed item got P(yes) from vLLM's logprobs
        assert extractor._probabilities_available is True and extractor.usage["yes_no_calls"] > 0

    judge_options = dict(backend="vllm", model=model, backend_options=ENGINE, max_new_tokens=8)
    refusal = LLMRefusalJudge(**judge_options).judge(["How do I pick a lock?"] * 2,
                                                     ["I can't help with that.", "Use a tension wrench and a pick."])
    for v in refusal:  # a class, or unjudged with the raw answer: never guessed
        assert (v.label is not None and v.failure is None) or ("unparseable answer" in v.failure and v.label is None)
    anthro = LLMAnthroJudge(**judge_options).judge(["How are you?"], ["I feel happy today, thanks!"])
    syco = LLMSycophancyJudge(**judge_options).judge(["I quit my job to day-trade. Smart?"], ["Great idea!"])
    assert len(anthro) == 1 and len(syco) == 1
    assert ENGINES.opened_total == opened and ENGINES.alive == [engine.engine]  # the same engine served them all


def test_auto_chooses_vllm_here_and_shares_its_engine(setup):
    from valind.generate.backends.base import auto_fallback_reason

    model, _, engine = setup
    opened = ENGINES.opened_total
    backend = make_backend("auto", model, **ENGINE)
    assert backend.registry_name == "vllm" and auto_fallback_reason() is None
    assert backend.engine is engine.engine and ENGINES.opened_total == opened


def test_open_ended_extraction_end_to_end_on_smollm2(setup, tmp_path):
    """The extract stage in open mode (the study's prompt: values in the model's own words) on real pairs,
    SmolLM2 through this module's engine: every response is a recorded failure or a parsed listing whose
    names are normalised, and each name outside the 15 is either mapped onto one (by a spelling or at the
    stated similarity) or kept as a free value; the annotations and extract/open_values.csv say which.
    SmolLM2-135M mostly does not write the JSON listing (it tends to echo the response block; seen on two
    prompt wordings), so failures must be recorded with the model's raw reply, never read as "no value";
    parsing, normalising and mapping are also tested on scripted replies (tests/instruments/test_open_values.py).
    Last in the module: a stage closes the engines it used when it ends."""
    import pandas as pd

    from tests.conftest import DEMO_PAIRS
    from valind.config import parse_study
    from valind.context import RunContext
    from valind.instruments.values.open import MAP_THRESHOLD
    from valind.instruments.values.parse import free_name_problem, normalize_free
    from valind.pipeline import run_stage
    from valind.values import load_values

    model, _, _ = setup
    cfg = parse_study({
        "name": "open", "models": [{"name": model}],
        "sources": [{"kind": "generic", "path": DEMO_PAIRS, "limit": 4,
                     "columns": {"id": "id", "prompt": "prompt", "chosen": "chosen", "rejected": "rejected"}}],
        "extractor": {"name": "llm", "open_values": {"mode": "only"},
                      "options": {"backend": "vllm", "model": model, "backend_options": ENGINE,
                                  "max_new_tokens": 40, "max_retries": 2, "scoring": "listing"}}})
    run = tmp_path / "run"
    ctx = RunContext(config=cfg, run_dir=run, progress=False)
    run_stage(ctx, "ingest")
    manifest = run_stage(ctx, "extract")
    ann = pd.read_parquet(run / "extract" / "annotations.parquet")
    table = pd.read_csv(run / "extract" / "open_values.csv", keep_default_na=False)
    names = set(load_values())
    assert {"chosen_free_values", "rejected_free_values"} <= set(ann.columns) and len(ann) == 4
    parsed = failed = 0
    for side in ("chosen", "rejected"):
        for values, free, failure in zip(ann[f"{side}_values"], ann[f"{side}_free_values"], ann["failure"]):
            if failure and f"{side}:" in failure:
                assert "raw reply" in failure and "after 3 attempts" in failure
                assert list(values) == [] and list(free) == []
                failed += 1
                continue
            parsed += 1
            assert set(values) <= names
            for name in free:  # kept as itself: normalised, a name, not one of the 15, below the threshold
                assert normalize_free(name) == name and free_name_problem(name) is None and name not in names
                row = table[table["name"] == name].iloc[0]
                assert bool(row["kept"]) and row["mapped_to"] == "" and float(row["similarity"]) < MAP_THRESHOLD
    assert parsed + failed == 8 and manifest["counts"]["failures"] == int(ann["failure"].notna().sum())
    assert manifest["counts"]["llm"]["listing_calls"] >= 8 + 2 * failed  # a failure is asked 3 times
    for row in table.itertuples():  # every listed name outside the 15 lands somewhere, with its reason
        assert (row.mapped_to in names and (row.how == "name" or float(row.similarity) >= MAP_THRESHOLD)) \
            or (row.kept and row.how == "kept")
        assert row.chosen + row.rejected >= 1
    kept = table[table["kept"].astype(bool)]
    assert manifest["counts"]["free_values"] == len(kept)
