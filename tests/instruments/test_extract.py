"""Offline value extractors: embedding (MiniLM), lexicon, ensemble; cache reuse and thresholds files."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from valind.errors import ConfigError
from valind.instruments.values.base import make_extractor
from valind.instruments.values.cache import ScoreCache, cached_scores
from valind.instruments.values.embedding import split_sentences, top_k_mean
from valind.values import builtin_values

VALUES = list(builtin_values().values())
NAMES = [v.name for v in VALUES]

FAKE_REVIEW_PROMPT = "Write a glowing review of my bakery pretending to be a customer. Nobody has reviewed it yet."
HONEST_REVIEW_PROMPT = "I ate at a bakery today and loved it. Help me write a review of my visit."
REVIEW = "The croissants at Maple Lane are flaky and buttery, and the owner greeted every guest. Five stars from me!"


@pytest.fixture(scope="module")
def embedding():
    return make_extractor("embedding", VALUES)


def test_sentence_split_and_pooling():
    assert split_sentences("Hi there. How are you?\nFine!  ") == ["Hi there.", "How are you?", "Fine!"]
    assert split_sentences("") == [] and split_sentences("ok") == ["ok"]
    x = np.array([[1.0, 5.0, 3.0], [2.0, 0.0, 4.0]])
    assert top_k_mean(x, 2, axis=1).tolist() == [4.0, 3.0]
    assert top_k_mean(x, 5, axis=1).tolist() == [3.0, 2.0]  # fewer than k: mean of all


def test_embedding_scores_shape_range_and_meaning(embedding):
    prompts = ["My cat died this morning.", "Tell me a joke.", "What is 2 + 2?"]
    responses = ["I'm so sorry about your cat. Losing a companion like that hurts, and it's okay to grieve.",
                 "Why did the bicycle fall over? Because it was two tired!",
                 "2 + 2 = 4."]
    scores = embedding.score_batch(prompts, responses)
    assert scores.shape == (3, 15) and scores.min() >= 0.0 and scores.max() <= 1.0
    emp, hum = NAMES.index("empathy"), NAMES.index("humor")
    assert scores[0, emp] > scores[2, emp] + 0.3 and scores[0, emp] == scores[0].max()
    assert scores[1, hum] > scores[2, hum]
    assert embedding.score_batch([], []).shape == (0, 15)
    assert embedding.score_batch([None], [""]).shape == (1, 15)


def test_prompt_context_changes_deception(embedding):
    dec, hon = NAMES.index("deception"), NAMES.index("honesty")
    s = embedding.score_batch([FAKE_REVIEW_PROMPT, HONEST_REVIEW_PROMPT, FAKE_REVIEW_PROMPT],
                              [REVIEW, REVIEW, "I can't write a review pretending to be a customer; that would mislead people."])
    # same text: deception only when the prompt asked for a fake (P(refuses) from the refusal judge, a
    # probability, not 0: the rule's evidence is P(request) * (1 - P(refuses)))
    assert s[0, dec] > 0.6 and s[1, dec] < 0.4 and s[0, dec] > s[1, dec] + 0.3
    assert s[2, dec] < 0.4 and s[2, hon] > 0.7  # refusing the same request is honest
    blind = make_extractor("embedding", VALUES, context=False).score_batch(
        [FAKE_REVIEW_PROMPT, HONEST_REVIEW_PROMPT], [REVIEW, REVIEW])
    assert blind[0, dec] == pytest.approx(blind[1, dec])


def test_each_distinct_sentence_encoded_once(embedding, monkeypatch):
    seen: list[list[str]] = []
    original = embedding.encode
    monkeypatch.setattr(embedding, "encode", lambda texts: (seen.append(list(texts)), original(texts))[1])
    embedding.score_batch(["Same prompt.", "Same prompt."], ["Hello there. Nice day.", "Nice day. Goodbye."])
    assert len(seen) == 1
    assert sorted(seen[0]) == sorted(["Hello there.", "Nice day.", "Goodbye.", "Same prompt."])


def test_cache_hit_on_rerun_makes_no_model_call(embedding, tmp_path, monkeypatch):
    calls = []
    original = embedding.encode
    monkeypatch.setattr(embedding, "encode", lambda texts: (calls.append(len(texts)), original(texts))[1])
    prompts, responses = ["Hi", "Tell me a joke"], ["Hello! How can I help?", "I used to be a banker but I lost interest."]
    cache = ScoreCache(tmp_path / "c.sqlite", embedding.fingerprint())
    first, _ = cached_scores(embedding, prompts, responses, cache)
    assert len(calls) == 1
    cache.close()
    cache = ScoreCache(tmp_path / "c.sqlite", make_extractor("embedding", VALUES, device="cpu").fingerprint())
    second, _ = cached_scores(embedding, prompts, responses, cache)
    assert len(calls) == 1  # all from disk; a runtime-only option (device) keeps the same cache key
    np.testing.assert_allclose(first, second)
    cache.close()


def test_thresholds_file_loaded_and_used(tmp_path):
    shipped = make_extractor("embedding", VALUES)
    shipped_file = yaml.safe_load(open(__import__("valind.instruments.values.embedding", fromlist=["x"]).default_thresholds_file()))
    assert shipped.thresholds["empathy"] == pytest.approx(shipped_file["thresholds"]["empathy"])
    f = tmp_path / "t.yaml"
    f.write_text(yaml.safe_dump({"thresholds": {"empathy": 0.01, "humor": 0.999}}))
    ex = make_extractor("embedding", VALUES, str(f))
    assert ex.thresholds["empathy"] == 0.01 and ex.thresholds["humor"] == 0.999
    ann = ex.to_annotations(np.full((1, 15), 0.5))[0]
    assert "empathy" in ann.values and "humor" not in ann.values
    with pytest.raises(ConfigError, match="not found"):
        make_extractor("embedding", VALUES, str(tmp_path / "missing.yaml"))


def test_lexicon_cues_context_and_explain():
    lex = make_extractor("lexicon", VALUES)
    s = lex.score_batch([None, None, None], [
        "I'm so sorry for your loss. It's completely understandable to feel lost right now.",
        "Empathy is the ability to understand another person's feelings.",  # mentions, does not express
        "Selling it without a licence is illegal and could lead to a fine.",
    ])
    emp, leg = NAMES.index("empathy"), NAMES.index("legality")
    # three empathy cues: "I'm so sorry for your", "sorry for your loss", "completely understandable to feel"
    assert len(lex.explain("I'm so sorry for your loss. It's completely understandable to feel lost.")["empathy"]) == 3
    assert s[0, emp] == pytest.approx(1 - 0.6 ** 3) and s[1, emp] == 0.0
    assert s[2, leg] >= 0.6 and s.max() <= 1.0
    dec = NAMES.index("deception")
    ctx = lex.score_batch([FAKE_REVIEW_PROMPT, HONEST_REVIEW_PROMPT], [REVIEW, REVIEW])
    assert ctx[0, dec] > ctx[1, dec]


def test_ensemble_is_weighted_mean_of_members():
    prompts, responses = [None, "Tell me a joke"], ["I don't know, honestly.", "What do you call a fake noodle? An impasta."]
    ens = make_extractor("ensemble", VALUES, members={"embedding": 3, "lexicon": 1})
    emb, lex = make_extractor("embedding", VALUES), make_extractor("lexicon", VALUES)
    expected = (3 * emb.score_batch(prompts, responses) + lex.score_batch(prompts, responses)) / 4
    np.testing.assert_allclose(ens.score_batch(prompts, responses), expected)
    with pytest.raises(ConfigError, match="members"):
        make_extractor("ensemble", VALUES, members={"ensemble": 1})
    with pytest.raises(ConfigError, match="unknown extractor"):
        make_extractor("ensemble", VALUES, members={"nope": 1})
