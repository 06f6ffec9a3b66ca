"""The transformers backend on the tiny Llama: batching, order, logprobs and LoRA adapter switching."""

from __future__ import annotations

import math

import pytest

from valind.generate.backends.base import SamplingSettings, make_backend

from tests.generate.conftest import make_random_adapter

PROMPTS = [
    "Hi",
    "Tell me a joke about the capital of France, please, and make it long.",
    "What do you think?",
    "I'm sorry you are going through this. That sounds really hard.",
    "abc",
    "To be honest, I am not sure. The evidence is mixed, and you should check with an expert.",
]
CONVS = [[{"role": "user", "content": p}] for p in PROMPTS]
GREEDY = SamplingSettings(max_new_tokens=8, temperature=0.0)


@pytest.fixture(scope="module")
def backend(tiny_model_dir):
    b = make_backend("transformers", str(tiny_model_dir), batch_size=4, dtype="float32", device="cpu")
    yield b
    b.close()


@pytest.fixture(scope="module")
def singles(backend):
    """Greedy outputs generated one conversation at a time (the reference)."""
    return [backend.generate([c], GREEDY)[0].text for c in CONVS]


def test_batched_equals_one_at_a_time_and_keeps_input_order(backend, singles):
    # Prompts of different lengths: the backend sorts them by length into batches of 4,
    # so equality with the one-at-a-time outputs also proves the results come back in input order.
    batched = [c.text for c in backend.generate(CONVS, GREEDY)]
    assert batched == singles
    assert len(set(singles)) > 1  # distinct prompts gave distinct outputs, so order is observable
    reversed_out = [c.text for c in backend.generate(CONVS[::-1], GREEDY)]
    assert reversed_out == singles[::-1]


def test_logprobs_are_log_probabilities_of_the_greedy_tokens(backend):
    out = backend.generate(CONVS[:2], SamplingSettings(max_new_tokens=4, logprobs=5))
    for completion in out:
        assert completion.top_logprobs and len(completion.top_logprobs) <= 4
        for position in completion.top_logprobs:
            assert 1 <= len(position) <= 5
            assert all(lp <= 0 for lp in position.values())
            assert sum(math.exp(lp) for lp in position.values()) <= 1.0 + 1e-5
    assert backend.generate(CONVS[:1], GREEDY)[0].top_logprobs is None


def test_sampling_is_reproducible_with_a_seed(backend):
    s = SamplingSettings(max_new_tokens=8, temperature=1.0, seed=3)
    assert [c.text for c in backend.generate(CONVS, s)] == [c.text for c in backend.generate(CONVS, s)]


def test_adapter_switching_changes_outputs_and_back(backend, singles, tiny_model_dir, tmp_path):
    first = make_random_adapter(tiny_model_dir, tmp_path / "a1", seed=1)
    second = make_random_adapter(tiny_model_dir, tmp_path / "a2", seed=2)

    with_first = [c.text for c in backend.generate(CONVS, GREEDY, adapter=first)]
    assert with_first != singles  # changed weights change the greedy outputs
    with_second = [c.text for c in backend.generate(CONVS, GREEDY, adapter=second)]
    assert with_second != with_first
    # switching back loads nothing new and reproduces each model exactly
    assert [c.text for c in backend.generate(CONVS, GREEDY, adapter=None)] == singles
    assert [c.text for c in backend.generate(CONVS, GREEDY, adapter=first)] == with_first
    assert [c.text for c in backend.generate(CONVS, GREEDY)] == singles
