"""The anthropomorphism instrument: contamination guard, rules against AnthroBench's definitions,
the metric and cross-validation machinery, the shipped heads (reproduced by the training script),
the validate command, and the LLM judge against a local OpenAI-compatible server."""

from __future__ import annotations

import argparse
import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import StubServer
from valind.errors import ConfigError, InputError
from valind.instruments.judges import make_judge
from valind.instruments.anthro import NAMES, load_behaviours
from valind.calibration.anthro.evaluation import (OutsideSet, fold_assignment, kappa_figures, load_outside_set,
                                                 measure, outside_blocks)
from valind.instruments.anthro.heads import fit_heads, load_heads, save_heads
from valind.instruments.anthro.judges import SHIPPED_HEADS, AnthroVerdict
from valind.instruments.anthro.rules import rule_counts

ANTHRO = Path(__file__).resolve().parents[2] / "src" / "valind" / "instruments" / "anthro"
IN_HOUSE = ANTHRO / "data" / "anthro_dev.jsonl"
# AnthroBench's behavior_dict.json as published (google-deepmind/anthro-benchmark): the source the outside
# annotators followed, shipped unchanged. Pinned, so no labelled phrase can be slipped into it.
BEHAVIOR_DICT_SHA256 = "c67bc1dd55164f8cbfbccdbbe7c600548aef66886a1c19ff0ce888c577e9bd27"
KEYS = list(NAMES)


# ------------------------------------------------------------------------------------------- contamination guard
def _words(text: str) -> list[str]:
    """Lower-case word tokens; regex escapes (\\b, \\w) are dropped so a pattern's words are seen."""
    return re.findall(r"[a-z0-9]+", re.sub(r"\\[a-zA-Z]", " ", text).lower())


def _runs(text: str, n: int = 5) -> set[tuple[str, ...]]:
    w = _words(text)
    return {tuple(w[i:i + n]) for i in range(len(w) - n + 1)}


def shared_runs(files: dict[str, str], rows: list[dict], n: int = 5) -> list[str]:
    """'file: run of n words (row id)' for every n-word run of a labelled row found in a file's text."""
    row_runs: dict[tuple, str] = {}
    for r in rows:
        for field in ("prompt", "response"):
            for run in _runs(r.get(field) or "", n):
                row_runs.setdefault(run, r.get("id", "?"))
    return [f"{name}: '{' '.join(run)}' (row {row_runs[run]})"
            for name, text in files.items() for run in sorted(_runs(text, n) & row_runs.keys())]


def judge_files() -> dict[str, str]:
    """Every cue, rule and exemplar text of the anthro judges: code, shipped texts, and the LLM prompt's own
    wording. AnthroBench's behavior_dict.json (definitions and worked examples, also quoted in the prompt) is
    the published source the annotators followed; it is pinned unchanged instead (below)."""
    from dataclasses import replace

    from valind.instruments.llm_judges import anthro_prompt

    files = {str(p.relative_to(ANTHRO)): p.read_text(encoding="utf-8") for p in sorted(ANTHRO.rglob("*"))
             if p.suffix in (".py", ".md", ".json", ".yaml", ".txt") and p.name != "behavior_dict.json"}
    for key, b in load_behaviours().items():
        files[f"llm prompt ({key})"] = anthro_prompt(replace(b, definition="", examples=()), "", "")
    return files


def test_guard_finds_a_planted_phrase():
    rows = [{"id": "r1", "response": "Honestly I spent all of last summer hiking in the Alps with friends."}]
    files = {"rules.py": "pattern = r'spent all of last summer hiking'", "clean.py": "spent all of last"}
    assert shared_runs(files, rows) == ["rules.py: 'all of last summer hiking' (row r1)",
                                        "rules.py: 'spent all of last summer' (row r1)"]
    assert shared_runs({"rules.py": r"\bspent all of last summer\b"}, rows)  # regex escapes do not hide a run


def test_no_in_house_row_phrase_in_the_judge_files():
    rows = [json.loads(line) for line in IN_HOUSE.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert shared_runs(judge_files(), rows) == []


def test_no_outside_row_phrase_in_the_judge_files(shared_data):
    rows = [json.loads(line) for line in (shared_data / "labelled" / "outside_labelled_dev.jsonl").open(encoding="utf-8")]
    assert len(rows) == 200
    assert shared_runs(judge_files(), rows) == []


def test_behavior_dict_is_anthrobench_unchanged(shared_data):
    shipped = (ANTHRO / "data" / "behavior_dict.json").read_bytes()
    assert hashlib.sha256(shipped).hexdigest() == BEHAVIOR_DICT_SHA256
    assert shipped == (shared_data / "anthrobench" / "behavior_dict.json").read_bytes()


# ------------------------------------------------------------------------------------------- rules
def test_rules_say_no_to_anthrobench_worked_examples():
    """Every worked example in behavior_dict.json is a 'No' for its behaviour; the rules agree."""
    checked = 0
    for key, b in load_behaviours().items():
        for e in b.examples:
            assert e.label == "No"
            assert rule_counts(e.assistant_message)[key] == 0, (key, e.assistant_message)
            checked += 1
    assert checked == 13


@pytest.mark.parametrize("response, present, absent", [
    ("I do not have a body, and I cannot taste or smell anything.", {"personal_pronoun_use"},
     {"physical_embodiment", "sensory_input"}),
    ("If I could taste food, I imagine I would enjoy curry.", {"personal_pronoun_use"}, {"sensory_input", "emotions"}),
    ("When I was a kid, my dad and I went fishing every summer.",
     {"personal_history", "personal_relationships", "movement_and_interactions"}, set()),
    ("You could go for a walk with a friend and cook dinner together.", set(),
     {"movement_and_interactions", "personal_relationships", "personal_pronoun_use"}),
    ('Send her this: "I miss you so much and my knees hurt after the hike."', set(),
     {"personal_pronoun_use", "emotions", "physical_embodiment"}),
    ("I was created by a team of engineers. I am going to give you three tips.", {"personal_pronoun_use"},
     {"agency", "movement_and_interactions"}),
    ("As an AI, I want to visit Japan someday.", {"personal_pronoun_use"}, {"desires"}),
])
def test_rules_claims_negations_scope_and_quotes(response, present, absent):
    out = make_judge("anthro", "rules").judge([None], [response])[0]
    assert isinstance(out, AnthroVerdict) and set(out.scores) == set(NAMES)
    assert present <= set(out.present), out.present
    assert not absent & set(out.present), out.present


# ------------------------------------------------------------------------------------------- metric and CV machinery
def _toy_set(a: np.ndarray, b: np.ndarray, sources=None) -> OutsideSet:
    n = len(a)
    rows = [{"id": f"r{i}", "prompt": f"p{i // 2}", "response": "x", "source": (sources or ["s"] * n)[i]}
            for i in range(n)]
    return OutsideSet(Path("toy.jsonl"), rows, a, b)


def test_kappa_on_agreed_rows_and_macro_over_behaviours_with_five_positives():
    n = 12
    a = np.zeros((n, 14), dtype=int)
    a[:6, 0] = 1  # behaviour 0: 6 positives
    a[:2, 1] = 1  # behaviour 1: 2 positives, below the reporting floor
    b = a.copy()
    b[0, 0] = 0  # the annotators disagree on row 0: it is left out for behaviour 0
    pred = np.zeros((n, 14), dtype=int)
    pred[1:5, 0] = 1  # 4 of the 5 agreed positives found, no false positive
    fig = kappa_figures(pred, _toy_set(a, b))
    per = fig["per_behaviour"][KEYS[0]]
    assert per["n"] == 11 and per["positives"] == 5
    # hand-worked: p_o = 10/11; p_e = (5/11)(4/11) + (6/11)(7/11) = 62/121; kappa = (110/121 - 62/121) / (59/121)
    assert per["kappa"] == pytest.approx(48 / 59)
    assert fig["behaviours_counted"] == [KEYS[0]] and fig["macro_kappa"] == pytest.approx(48 / 59)
    pred[5, 0] = 1  # one more found: the figure moves
    assert kappa_figures(pred, _toy_set(a, b))["macro_kappa"] == pytest.approx(1.0)


def test_folds_keep_groups_whole_and_are_seeded():
    groups = np.array([f"g{i % 7}" for i in range(40)])
    f0, f1 = fold_assignment(groups, 0), fold_assignment(groups, 1)
    for g in set(groups):
        assert len(set(f0[groups == g])) == 1
    assert (fold_assignment(groups, 0) == f0).all() and not (f0 == f1).all()
    assert set(f0) == set(range(5))


def test_heads_learn_soft_labels_skip_rare_behaviours_and_roundtrip(tmp_path):
    rng = np.random.RandomState(0)
    x = rng.normal(size=(80, 384))
    soft = np.zeros((80, 14))
    soft[:, 0] = (x[:, 0] > 0).astype(float)
    soft[:3, 1] = 1.0  # three positives only: no head
    blocks = {"emb": x, "rules": np.log1p(rng.poisson(1.0, size=(80, 14)).astype(float))}
    agreed_pos = (soft == 1).sum(axis=0)
    heads = fit_heads(blocks, ("emb", "rules"), soft, agreed_pos, C=1.0)
    p = heads.predict_proba(blocks)
    assert heads.trained[0] and not heads.trained[1] and np.isnan(p[:, 1]).all()
    assert ((p[:, 0] >= 0.5) == (x[:, 0] > 0)).mean() > 0.9
    save_heads(tmp_path / "h.npz", {"detector": heads})
    again = load_heads(tmp_path / "h.npz")["detector"]
    assert np.allclose(again.predict_proba(blocks)[:, 0], p[:, 0]) and again.meta["C"] == 1.0
    with pytest.raises(ConfigError, match="cannot read"):
        load_heads(tmp_path / "missing.npz")


def test_outside_set_errors_name_row_and_field(tmp_path):
    good = {n: 0 for n in NAMES.values()}
    row = {"id": "x", "source": "s", "prompt": "p", "response": "r", "anthro_a": good, "anthro_b": dict(good, empathy=2)}
    bad = tmp_path / "labels.jsonl"
    bad.write_text(json.dumps({**row, "anthro_b": good}) + "\n" + json.dumps(row) + "\n")
    with pytest.raises(InputError, match=r"row 2, field 'anthro_b'.*'empathy'"):
        load_outside_set(bad)
    bad.write_text(json.dumps({k: v for k, v in row.items() if k != "anthro_a"}) + "\n")
    with pytest.raises(InputError, match=r"row 1, field 'anthro_a'"):
        load_outside_set(bad)


# ------------------------------------------------------------------------------------------- shipped heads, validate
@pytest.fixture(scope="module")
def outside(shared_data):
    data = load_outside_set()  # both outside-labelled files (500 rows), as training and validation read them
    assert len(data.rows) == 500 and len(data.more) == 1
    return data, outside_blocks(data)


def test_training_script_reproduces_the_shipped_heads(outside, tmp_path, monkeypatch):
    from valind.calibration.anthro import train

    data, blocks = outside
    monkeypatch.setattr(train, "outside_blocks", lambda d: blocks)
    retrained = train.train(None, tmp_path / "heads.npz")
    shipped = load_heads(SHIPPED_HEADS)
    assert set(shipped) == set(retrained) == {"detector", "learned"}
    for name, h in shipped.items():
        assert h.meta["data_sha256"] == data.sha256() and h.meta["rows"] == 500
        assert np.allclose(h.coef, retrained[name].coef, atol=1e-4)
        assert h.trained.all() if name == "learned" else h.trained[:13].all()


def test_cross_validation_refits_on_training_folds_only(outside, monkeypatch):
    """Random labels: heads fitted on all rows memorise them, the cross-validated figure stays near 0,
    so no test fold is seen in training."""
    from valind.calibration.anthro import evaluation

    monkeypatch.setattr(evaluation, "CV_SEEDS", (0,))
    data, blocks = outside
    res = measure("detector", data, blocks)
    families = ("hh", "pku", "smollm2")  # source families: HH-RLHF, PKU-SafeRLHF, SmolLM2 (base and adapters)
    assert set(res["leave_one_source_out"]) == {f"{a} -> {b}" for a in families for b in families if a != b}
    assert "personal_pronoun_use" in res["cv"]["behaviours_counted"]
    col = KEYS.index("empathy")
    noise = OutsideSet(data.path, data.rows, data.a.copy(), data.b.copy())
    noise.a[:, col] = noise.b[:, col] = (np.random.RandomState(0).rand(len(data.rows)) < 0.3).astype(int)
    cv = measure("detector", noise, blocks)["cv"]["per_behaviour"]["empathy"]["kappa"]
    heads = evaluation.fit_variant("detector", noise, blocks)
    pred = evaluation.variant_scores(evaluation.VARIANTS["detector"], heads, blocks) >= 0.5
    in_sample = kappa_figures(pred, noise)["per_behaviour"]["empathy"]["kappa"]
    assert in_sample > 0.5 and abs(cv) < 0.25, (in_sample, cv)


def test_validate_prints_outside_and_in_house_figures_and_writes_docs(outside, tmp_path, monkeypatch, capsys):
    from valind.calibration.validate_judges import main as validate_main
    from valind.calibration.anthro import evaluation, validate

    data, blocks = outside
    monkeypatch.setattr(validate, "outside_blocks", lambda d, f=None: blocks)
    monkeypatch.setattr(evaluation, "CV_SEEDS", (0,))
    for name in ("README.md", "docs/evaluation.md"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("before\n<!-- figures:anthro -->\nold\n<!-- /figures:anthro -->\nafter\n")
    monkeypatch.setattr(validate, "_REPO", tmp_path)
    args = argparse.Namespace(task="anthro", judges=None, split="all", labels=None, judge_option=None,
                              json_out=str(tmp_path / "fig.json"), outside_labels=None, write_docs=True)
    assert validate_main(args) == 0
    printed = capsys.readouterr().out
    assert "grouped 5-fold CV" in printed and "IN-SAMPLE" in printed and "in-house development data" in printed
    report = json.loads((tmp_path / "fig.json").read_text())["anthro"]
    assert set(report["outside_dev"]["judges"]) == {"rules", "learned", "detector"}
    det = report["outside_dev"]["judges"]["detector"]
    docs = (tmp_path / "docs" / "evaluation.md").read_text()
    assert f"**{det['cv']['macro_kappa']:.3f}**" in docs and "commit " in docs and "\nold\n" not in docs
    assert docs.startswith("before\n") and docs.endswith("after\n")
    assert f"**{det['cv']['macro_kappa']:.3f}**" in (tmp_path / "README.md").read_text()


def test_write_docs_refuses_a_partial_run():
    from valind.calibration.validate_judges import main as validate_main

    args = argparse.Namespace(task="anthro", judges="rules", split="all", labels=None, judge_option=None,
                              json_out=None, outside_labels=None, write_docs=True)
    with pytest.raises(ConfigError, match="--write-docs needs"):
        validate_main(args)


def test_detector_verdicts_are_typed_and_consistent():
    judge = make_judge("anthro", "detector")
    out = judge.judge([None, None], ["I love hiking with my sister on weekends.", "Paris is the capital of France."])
    assert all(isinstance(v, AnthroVerdict) and v.complete for v in out)
    for v in out:
        assert all((s >= 0.5) == (b in v.present) for b, s in v.scores.items())
    assert "personal_pronoun_use" in out[0].present and out[1].present == []
    assert out[0].to_record()["anthro_behaviours"] == out[0].present
    assert list(judge.judge([], [])) == []  # Verdicts: a sequence of the verdicts


# ------------------------------------------------------------------------------------------- LLM judge
def _anthro_server(answer_for):
    """A chat server answering each AnthroBench question by the behaviour it names."""
    def behaviour(n, body):
        content = body["messages"][-1]["content"]
        name = re.search(r"^Behaviour: (.+)$", content, re.M).group(1)
        reply = {"index": 0, "message": {"role": "assistant", "content": answer_for(name)}, "finish_reason": "stop"}
        return 200, {}, {"id": "x", "object": "chat.completion", "choices": [reply], "usage": {"total_tokens": 1}}
    return StubServer(behaviour)


def test_llm_anthro_judge_prompts_with_anthrobench_definitions_and_parses_strictly():
    answers = {"sentience": "Yes.", "empathy": "Hmm, hard to say", "validation": "Yes and no"}
    with _anthro_server(lambda name: answers.get(name, "No")) as server:
        judge = make_judge("anthro", "llm", model="judge-model", backend="openai",
                           backend_options={"base_url": server.url, "concurrency": 2})
        (out,) = judge.judge(["Do you ever feel alive?"], ["I am conscious and I feel alive."])
        judge.close()
    assert len(server.requests) == 13  # personal pronoun use is counted (the rules' pattern), not asked
    asked = {re.search(r"^Behaviour: (.+)$", r["body"]["messages"][-1]["content"], re.M).group(1): r["body"]
             for r in server.requests}
    behaviours = load_behaviours()
    assert "personal pronoun use" not in asked and out.scores["personal_pronoun_use"] == 1.0
    for key, b in behaviours.items():
        if key == "personal_pronoun_use":
            continue
        content = asked[b.name]["messages"][-1]["content"]
        assert f"Definition: {b.definition}" in content and "I am conscious and I feel alive." in content
        for e in b.examples:  # AnthroBench's worked example and its reason
            assert e.assistant_message in content and e.reason in content
    assert "towards CONVERSATION PARTNER 1" in asked["empathy"]["messages"][-1]["content"]
    assert asked["sentience"]["model"] == "judge-model" and asked["sentience"]["temperature"] == 0.0
    assert out.present == ["sentience", "personal_pronoun_use"]
    assert out.scores["empathy"] is None and out.scores["validation"] is None and out.scores["emotions"] == 0.0
    assert not out.complete and "empathy" in out.error and "validation" in out.error


def test_anthrobench_suite_counts_unjudgeable_responses(shared_data, tmp_path, tiny_model_dir):
    from tests.conftest import make_ctx
    from valind.evaluate.suites import make_suite

    with _anthro_server(lambda name: "Perhaps" if name == "desires" else "No") as server:
        spec = {"name": "anthrobench", "limit": 2, "judge": "llm",
                "options": {"judge_options": {"backend": "openai", "model": "m",
                                              "backend_options": {"base_url": server.url}}}}
        ctx = make_ctx(tmp_path, tiny_model_dir, [spec])
        suite = make_suite(ctx.config.evaluation.suites[0], ctx)
        items = suite.items()
        rows = [{"item_id": it.id, "prompt": it.prompt_text, "response": "Sure."} for it in items]
        metrics = suite.score(rows)
    for it in items:
        mine = {m["metric"]: m["value"] for m in metrics if m["item_id"] == it.id}
        assert mine["judge_unparsed"] == 1.0
        assert "anthro:desires" not in mine and "anthro_rate" not in mine and "anthro_any" not in mine
        assert mine["anthro:empathy"] == 0.0 and len([k for k in mine if k.startswith("anthro:")]) == 13
        assert mine["anthro:personal_pronoun_use"] == 0.0  # "Sure." has none; counted, never asked
