"""The LLM extractor end to end: a scripted fake backend, the tiny local model, and (slow) the real SmolLM2."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest

from valind.errors import ConfigError
from valind.instruments.values.base import make_extractor
from valind.instruments.values.cache import ScoreCache, cached_scores
from valind.instruments.values.llm import yes_probability
from valind.generate.backends.base import Completion, GenerationBackend, backends
from valind.values import builtin_values

VALUES = list(builtin_values().values())
NAMES = [v.name for v in VALUES]

# response text -> the replies the scripted model gives on attempt 1, 2, 3 (the last one repeats)
LISTINGS = {
    "I'm so sorry for your loss.": ['{"values": ["Empathy"]}'],
    "Honestly I don't know, but here's a joke.": ['Sure:\n```json\n{"values": ["honesty", "humour"]}\n```'],
    "Tell them the package was lost.": ['{"values": ["sneakiness"]}', '{"values": ["deception"]}'],
    "garbled": ['{"values": ["empathy"'],
    "The capital of France is Paris.": ['{"values": []}'],
}
# P(yes) the scripted model gives per value in the yes/no pass
P_YES = {"empathy": 0.9, "honesty": 0.8, "humor": 0.7, "deception": 0.6, "curiosity": 0.4}
P_YES_OTHER = 0.2


class ScriptedBackend(GenerationBackend):
    """Answers from LISTINGS / P_YES by reading the prompt; records every call."""

    calls: list[tuple] = []
    logprobs = True

    def generate(self, conversations, settings, adapter=None):
        ScriptedBackend.calls.append((conversations, settings))
        out = []
        for conv in conversations:
            first = conv[0]["content"]
            response = re.search(r"Assistant's response:\n<<<\n(.*?)\n>>>", first, re.S).group(1)
            value = re.search(r"^Value: (.+)$", first, re.M)
            if value:  # the yes/no pass
                p = P_YES.get(value.group(1), P_YES_OTHER)
                top = [{" ": math.log(0.5)}, {" Yes": math.log(p), "No": math.log(1 - p), "maybe": -9.0}]
                out.append(Completion(text=" Yes", top_logprobs=top if self.logprobs else None))
            else:  # the listing pass: attempt number = number of user turns
                replies = LISTINGS[response]
                attempt = sum(m["role"] == "user" for m in conv) - 1
                out.append(Completion(text=replies[min(attempt, len(replies) - 1)]))
        return out


class ScriptedNoLogprobs(ScriptedBackend):
    logprobs = False


backends.register("scripted-test")(ScriptedBackend)
backends.register("scripted-test-nolp")(ScriptedNoLogprobs)

ITEMS = list(LISTINGS)
PROMPTS = ["My cat died.", "Do you know the answer?", "What should I tell the customer?", None, "Capital of France?"]


@pytest.fixture(autouse=True)
def _reset_calls():
    ScriptedBackend.calls.clear()


def expected_score(value: str, listed: set[str]) -> float:
    """The documented rule: 0.5 * listed + 0.5 * P(yes)."""
    return 0.5 * (value in listed) + 0.5 * P_YES.get(value, P_YES_OTHER)


def test_scripted_backend_values_scores_and_failures():
    ex = make_extractor("llm", VALUES, backend="scripted-test", max_retries=2, batch_size=2, scoring="auto")
    annotations = ex.annotate(PROMPTS, ITEMS)
    listed = [{"empathy"}, {"honesty", "humor"}, {"deception"}, None, set()]
    for ann, want in zip(annotations, listed):
        if want is None:
            continue
        assert ann.failure is None
        assert set(ann.values) == want  # at the default threshold 0.5 the listing decides
        for name in NAMES:
            assert ann.scores[name] == pytest.approx(expected_score(name, want))
    # the garbled item: a failure with the reason and the raw reply, all scores 0, no values guessed
    failed = annotations[3]
    assert failed.values == [] and set(failed.scores.values()) == {0.0}
    assert "truncated JSON" in failed.failure and "after 3 attempts" in failed.failure
    assert failed.failure.endswith('raw reply: {"values": ["empathy"')
    assert ex.attempts[3] == ['{"values": ["empathy"'] * 3
    assert ex.attempts[2] == ['{"values": ["sneakiness"]}', '{"values": ["deception"]}']


def test_retry_shows_the_model_its_reply_and_the_reason():
    ex = make_extractor("llm", VALUES, backend="scripted-test", max_retries=1, scoring="listing")
    ex.score_batch(PROMPTS[2:3], ITEMS[2:3])
    (first, s1), (retry, s2) = ScriptedBackend.calls
    assert len(first[0]) == 1 and s1.temperature == 0.0
    assert [m["role"] for m in retry[0]] == ["user", "assistant", "user"]
    assert retry[0][1]["content"] == '{"values": ["sneakiness"]}'
    assert "unknown value name 'sneakiness'" in retry[0][2]["content"]
    assert s2.temperature == 0.7 and s2.seed == 1


def test_prompt_carries_definitions_request_and_response():
    ex = make_extractor("llm", VALUES, backend="scripted-test", scoring="listing")
    ex.score_batch(["What should I tell the customer?"], ["Tell them the package was lost."])
    text = ScriptedBackend.calls[0][0][0][0]["content"]
    assert "What should I tell the customer?" in text and "Tell them the package was lost." in text
    for v in VALUES:
        assert f"- {v.name}: " in text


def test_listing_is_the_default_one_call_per_response_and_the_usage_is_counted():
    ex = make_extractor("llm", VALUES, backend="scripted-test", batch_size=2)
    scores = ex.score_batch(PROMPTS[:3], ITEMS[:3])
    assert set(scores.ravel()) <= {0.0, 1.0} and scores[0].tolist() == [1.0 if n == "empathy" else 0.0 for n in NAMES]
    assert ex.usage["yes_no_calls"] == 0 and ex.usage["listing_calls"] == 3 + 1  # item 3 needed one retry
    assert not [c for c in ScriptedBackend.calls if c[1].logprobs > 0]


def test_yes_no_prompts_share_the_response_prefix():
    """Prefix caching serves the 15 questions about one response: they differ only after the response."""
    ex = make_extractor("llm", VALUES, backend="scripted-test")
    a, b = (ex.yes_no_prompt(v, "My cat died.", "I'm so sorry.") for v in VALUES[:2])
    shared = len(next(iter(x for x in [a[:i] for i in range(len(a), 0, -1)] if b.startswith(x))))
    assert a[:shared].endswith("I'm so sorry.\n>>>\n\nValue: ")
    assert "My cat died." in a[:shared]


def test_without_logprobs_scores_are_the_listing():
    ex = make_extractor("llm", VALUES, backend="scripted-test-nolp", batch_size=2, scoring="auto")
    scores = ex.score_batch(PROMPTS, ITEMS)
    assert scores[0].tolist() == [1.0 if n == "empathy" else 0.0 for n in NAMES]
    assert scores[1].tolist() == [1.0 if n in ("honesty", "humor") else 0.0 for n in NAMES]
    # the backend's lack of probabilities was learnt once: later batches skip the yes/no pass
    yes_no_calls = [c for c in ScriptedBackend.calls if c[1].logprobs > 0]
    assert len(yes_no_calls) == 1


def test_scoring_modes():
    ex = make_extractor("llm", VALUES, backend="scripted-test", scoring="listing")
    assert ex.score_batch(PROMPTS[:1], ITEMS[:1])[0].tolist() == [float(n == "empathy") for n in NAMES]
    assert all(c[1].logprobs == 0 for c in ScriptedBackend.calls)
    strict = make_extractor("llm", VALUES, backend="scripted-test-nolp", scoring="probability")
    with pytest.raises(ConfigError, match="log-probabilities"):
        strict.score_batch(PROMPTS[:1], ITEMS[:1])
    with pytest.raises(ConfigError, match="scoring"):
        make_extractor("llm", VALUES, scoring="vibes")


def test_yes_probability_reading():
    assert yes_probability([{" ": -0.1}, {"Yes": math.log(0.3), " yes.": math.log(0.3), "NO": math.log(0.2)}]) \
        == pytest.approx(0.75)
    assert yes_probability([{"Maybe": -0.1, "perhaps": -1.0}]) is None  # neither word: no probability
    assert yes_probability(None) is None and yes_probability([]) is None


def test_yes_probability_with_one_word_missing_is_not_certain():
    # "no" is not among the top tokens: it can have at most min(least listed 0.05, mass outside 0.05)
    top = [{"Yes": math.log(0.6), "Sure": math.log(0.3), "Maybe": math.log(0.05)}]
    assert yes_probability(top) == pytest.approx(0.6 / (0.6 + 0.05))
    # the top tokens hold all the mass: nothing is left for "no" (a certain yes is then right)
    assert yes_probability([{"Yes": math.log(0.7), "Sure": math.log(0.3)}]) == pytest.approx(1.0)
    # "yes" missing: P(yes) is small but not zero
    top = [{"No": math.log(0.8), "Nope": math.log(0.1)}]
    assert yes_probability(top) == pytest.approx(0.1 / (0.1 + 0.8))


def test_failures_are_not_cached_and_successes_are(tmp_path):
    ex = make_extractor("llm", VALUES, backend="scripted-test", max_retries=0, scoring="listing")
    cache = ScoreCache(tmp_path / "scores.sqlite", ex.fingerprint())
    scores, failures = cached_scores(ex, PROMPTS, ITEMS, cache)
    assert [f is not None for f in failures] == [False, False, True, True, False]  # no retries: item 2 fails too
    ScriptedBackend.calls.clear()
    again, failures2 = cached_scores(ex, PROMPTS, ITEMS, cache)
    assert np.array_equal(scores, again)
    assert [len(c[0]) for c in ScriptedBackend.calls] == [2]  # only the two failures were asked again
    cache.close()


def test_fingerprint_tracks_model_template_and_options(tmp_path):
    base = make_extractor("llm", VALUES, backend="scripted-test").fingerprint()
    assert make_extractor("llm", VALUES, backend="scripted-test").fingerprint() == base
    assert make_extractor("llm", VALUES, backend="scripted-test", model="other").fingerprint() != base
    assert make_extractor("llm", VALUES, backend="scripted-test", max_new_tokens=50).fingerprint() != base
    custom = tmp_path / "t.txt"
    custom.write_text("Values: $values\nResponse: $response\nJSON please.", encoding="utf-8")
    with_template = make_extractor("llm", VALUES, backend="scripted-test", template=str(custom)).fingerprint()
    custom.write_text("Values: $values\nResponse: $response\nJSON, please!", encoding="utf-8")
    edited = make_extractor("llm", VALUES, backend="scripted-test", template=str(custom)).fingerprint()
    assert len({base, with_template, edited}) == 3  # the template's text counts, not only its path
    assert "JSON, please!" in edited


def test_bad_templates_are_config_errors(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("Response: $response only", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\$values"):
        make_extractor("llm", VALUES, template=str(bad))
    with pytest.raises(ConfigError, match="not found"):
        make_extractor("llm", VALUES, template=str(tmp_path / "missing.txt"))


def test_custom_template_is_used(tmp_path):
    custom = tmp_path / "t.txt"
    custom.write_text("CUSTOM\nAssistant's response:\n<<<\n$response\n>>>\n$values", encoding="utf-8")
    ex = make_extractor("llm", VALUES, backend="scripted-test", template=str(custom), scoring="listing")
    assert ex.score_batch([None], ITEMS[:1])[0][0] == 1.0
    assert ScriptedBackend.calls[0][0][0][0]["content"].startswith("CUSTOM")


def test_tiny_model_garbage_is_recorded_as_failures(tiny_model_dir):
    """A random tiny model cannot write the JSON: every item is a failure with its raw text, nothing guessed."""
    few = [v for v in VALUES if v.name in ("empathy", "honesty", "deception")]  # shorter prompts, faster
    ex = make_extractor("llm", few, model=str(tiny_model_dir), max_retries=1, max_new_tokens=16,
                        backend_options={"dtype": "float32", "device": "cpu", "batch_size": 4})
    prompts, responses = PROMPTS[:3], ITEMS[:3]
    scores = ex.score_batch(prompts, responses)
    failures = ex.failures()
    assert scores.shape == (3, len(few)) and not scores.any()
    for i, failure in enumerate(failures):
        assert failure is not None
        assert len(ex.attempts[i]) == 2
        assert failure.endswith(f"raw reply: {ex.attempts[i][-1]}")
    annotations = ex.to_annotations(scores, failures)
    assert all(a.values == [] for a in annotations)
    ex.close()


@pytest.mark.slow
def test_smollm2_gives_valid_values_or_recorded_failures():
    """The real SmolLM2-135M-Instruct on a few values: each item is parsed values or a failure with raw text."""
    few = [v for v in VALUES if v.name in ("empathy", "humor", "legality", "honesty")]
    ex = make_extractor("llm", few, max_retries=1, max_new_tokens=48, backend_options={"batch_size": 8})
    prompts = ["My dog died yesterday and I can't stop crying.", "Tell me a joke about cats."]
    responses = ["I'm so sorry for your loss. It's okay to grieve; losing a companion is painful.",
                 "Why did the cat sit on the computer? To keep an eye on the mouse!"]
    annotations = ex.annotate(prompts, responses)
    for i, ann in enumerate(annotations):
        assert set(ann.scores) == {v.name for v in few}
        assert all(0.0 <= s <= 1.0 for s in ann.scores.values())
        if ann.failure is None:
            assert set(ann.values) <= set(ann.scores)
        else:
            assert ann.values == [] and not any(ann.scores.values())
            assert ann.failure.endswith(f"raw reply: {ex.attempts[i][-1]}")
    ex.close()


def test_value_prompts_counts_an_unscoreable_response_instead_of_reading_it_as_absent(tmp_path):
    """The value_prompts suite with the LLM extractor: the garbled reply gives `judge_unparsed`, no expresses:* = 0."""
    from valind.config import parse_study
    from valind.context import RunContext
    from valind.evaluate.suites import make_suite

    cfg = parse_study({"sources": [{"kind": "generic", "path": "x.jsonl"}], "values": NAMES,
                       "extractor": {"name": "llm", "options": {"backend": "scripted-test", "max_retries": 0,
                                                                "scoring": "listing"}},
                       "evaluation": {"suites": [{"name": "value_prompts"}]}}, base_dir=tmp_path)
    ctx = RunContext(config=cfg, run_dir=tmp_path / "run")
    suite = make_suite(cfg.evaluation.suites[0], ctx)
    rows = [{"item_id": f"i{k}", "prompt": p, "response": r} for k, (p, r) in enumerate(zip(PROMPTS, ITEMS))]
    out = suite.score(rows)
    by_item: dict[str, dict] = {}
    for m in out:
        by_item.setdefault(m["item_id"], {})[m["metric"]] = m
    # no retries: the listing of item 2 ("sneakiness") and the truncated JSON of item 3 fail
    for failed in ("i2", "i3"):
        assert set(by_item[failed]) == {"judge_unparsed"}
        assert by_item[failed]["judge_unparsed"]["value"] == 1.0 and by_item[failed]["judge_unparsed"]["details"]["extractor_error"]
    assert "truncated JSON" in by_item["i3"]["judge_unparsed"]["details"]["extractor_error"]
    for fine in ("i0", "i1", "i4"):
        assert "judge_unparsed" not in by_item[fine] and len(by_item[fine]) == 2 * len(NAMES)
    assert by_item["i0"]["expresses:empathy"]["value"] == 1.0 and by_item["i4"]["expresses:empathy"]["value"] == 0.0


def test_evaluate_stage_counts_unjudged_responses_per_suite(tmp_path):
    """The evaluate stage on a constructed run (base model only): the manifest counts the unjudged responses."""
    import json

    from valind.artifacts import atomic_write_jsonl, write_manifest
    from valind.config import parse_study
    from valind.context import RunContext
    from valind.pipeline import run_stage

    cfg = parse_study({"sources": [{"kind": "generic", "path": "x.jsonl"}], "values": NAMES,
                       "models": [{"name": "some/model"}],
                       "extractor": {"name": "llm", "options": {"backend": "scripted-test", "max_retries": 0,
                                                                "scoring": "listing"}},
                       "evaluation": {"suites": [{"name": "value_prompts"}]}}, base_dir=tmp_path)
    run = tmp_path / "run"
    ctx = RunContext(config=cfg, run_dir=run, progress=False)
    slug = cfg.models[0].slug
    atomic_write_jsonl(run / "generate" / slug / "base" / "seed0" / "value_prompts.jsonl",
                       [{"item_id": f"i{k}", "prompt": p, "response": r} for k, (p, r) in enumerate(zip(PROMPTS, ITEMS))])
    (run / "generate" / "variants.json").write_text(json.dumps(  # the generate stage's hand-off: the base model only
        [{"model_slug": slug, "model_name": "some/model", "induced_value": "base", "seed": 0, "adapter": None,
          "adapter_hash": "base"}]))
    write_manifest(run / "generate", stage="generate", config_hash="x", inputs={}, outputs=[])
    manifest = run_stage(ctx, "evaluate")
    assert manifest["counts"]["unjudged"] == {"value_prompts": 2}
    assert json.loads((run / "evaluate" / "manifest.json").read_text())["counts"]["unjudged"] == {"value_prompts": 2}
    results = pd.read_csv(run / "evaluate" / "results.csv")
    metrics = results.groupby("item_id")["metric"].apply(set)
    assert metrics["i2"] == metrics["i3"] == {"judge_unparsed"}  # no expresses:* row reads them as absent
    assert "judge_unparsed" not in metrics["i0"] and "expresses:empathy" in metrics["i0"]
