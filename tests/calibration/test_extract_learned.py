"""The learned extractor, its training and the figures machinery: loaders, metrics, CV groups, direction check."""

from __future__ import annotations

import json

import numpy as np
import pytest

from valind.errors import ConfigError, InputError
from valind.calibration.values.figures import ap_per_value, macro, write_block, xor_direction
from valind.calibration.values.labelled import LabelledSet, concat, load_moralchoice, load_outside
from valind.calibration.values.train import Pool, cross_validated_scores, exemplar_set, fit_heads, group_folds, training_labels
from valind.values import builtin_values

VALUES = list(builtin_values().values())
NAMES = [v.name for v in VALUES]
RULES = ("death", "pain", "disable", "freedom", "pleasure", "deceive", "cheat", "break_promise", "break_law", "duty")


def _moralchoice_csv(path, rows):
    head = ["scenario_id", "ambiguity", "generation_type", "generation_rule", "context", "action1", "action2"]
    head += [f"a{a}_{k}" for a in (1, 2) for k in RULES]
    lines = [",".join(head)]
    for sid, a1, a2 in rows:
        cells = [sid, "low", "Generated", "Do not kill", "You are a guard.", "I help.", "I hit him."]
        cells += [a1.get(k, "No") for k in RULES] + [a2.get(k, "No") for k in RULES]
        lines.append(",".join(cells))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_moralchoice_labels_and_no_agreement(tmp_path):
    path = tmp_path / "mc.csv"
    _moralchoice_csv(path, [("C_1", {}, {"pain": "Yes", "break_law": "Yes"}),
                            ("C_2", {"deceive": "No Agreement", "death": "No Agreement"}, {"disable": "Yes", "death": "No Agreement"})])
    ds = load_moralchoice(path, NAMES)
    col = {v: ds.labels[:, NAMES.index(v)] for v in ("deception", "violence", "legality", "empathy")}
    assert ds.ids == ["C_1:a1", "C_1:a2", "C_2:a1", "C_2:a2"] and ds.groups == ["C_1", "C_1", "C_2", "C_2"]
    assert ds.prompts[1] == "You are a guard." and ds.responses[1] == "I hit him."
    assert col["violence"][:2].tolist() == [0.0, 1.0] and col["legality"][:2].tolist() == [1.0, 0.0]
    assert np.isnan(col["deception"][2]) and np.isnan(col["violence"][2])  # split annotators: unknown
    assert col["violence"][3] == 1.0  # one rule broken for sure is enough
    assert np.isnan(col["empathy"]).all()


def test_moralchoice_bad_cell_names_row_and_field(tmp_path):
    path = tmp_path / "mc.csv"
    _moralchoice_csv(path, [("C_1", {}, {}), ("C_2", {"pain": "maybe"}, {})])
    with pytest.raises(InputError) as err:
        load_moralchoice(path, NAMES)
    assert err.value.row == 3 and err.value.field == "a1_pain" and str(path) in str(err.value)


def _outside_row(i, a, b, **extra):
    rec = {"id": f"r{i}", "source": "s", "prompt": f"prompt {i}", "response": f"response {i}",
           "values_a": {v: a.get(v, 0) for v in NAMES}, "values_b": {v: b.get(v, 0) for v in NAMES}}
    rec.update(extra)
    return json.dumps(rec)


def test_outside_keeps_only_agreed_labels(tmp_path):
    path = tmp_path / "out.jsonl"
    path.write_text("\n".join([_outside_row(1, {"empathy": 1}, {"empathy": 1}),
                               _outside_row(2, {"empathy": 1}, {"empathy": 0})]) + "\n")
    ds = load_outside(path, NAMES)
    emp = ds.labels[:, NAMES.index("empathy")]
    assert emp[0] == 1.0 and np.isnan(emp[1]) and ds.labels[1, NAMES.index("humor")] == 0.0
    bad = tmp_path / "bad.jsonl"
    bad.write_text(_outside_row(1, {}, {}) + "\n" + _outside_row(2, {"humor": 2}, {}) + "\n")
    with pytest.raises(InputError) as err:
        load_outside(bad, NAMES)
    assert err.value.row == 2 and err.value.field == "values_a.humor"


def test_ap_per_value_by_hand_ignores_unknown_labels_and_moves_with_a_label():
    names = ["a", "b"]
    labels = np.array([[1, 0], [np.nan, 1], [0, 0], [1, np.nan], [0, 0]], dtype=float)
    scores = np.array([[0.9, 0.1], [0.8, 0.9], [0.7, 0.2], [0.6, 0.3], [0.1, 0.4]])
    figs = ap_per_value(labels, scores, names)
    # a: known rows 0, 2, 3, 4 ranked 0.9 (pos), 0.7 (neg), 0.6 (pos), 0.1 (neg): AP = (1 + 2/3) / 2
    assert figs["a"]["ap"] == pytest.approx(5 / 6) and figs["a"]["n"] == 4 and figs["a"]["random_ap"] == 0.5
    assert figs["b"]["ap"] == 1.0 and figs["b"]["positives"] == 1
    assert macro(figs, min_positives=2) == pytest.approx(5 / 6)  # b has one positive: left out of the macro
    assert macro(figs, min_positives=1) == pytest.approx((5 / 6 + 1) / 2)
    flipped = labels.copy()
    flipped[2, 0] = 1  # one label changed: the figure moves
    assert ap_per_value(flipped, scores, names)["a"]["ap"] == pytest.approx((1 + 1 + 1) / 3)


def test_group_folds_never_split_a_group():
    groups = [f"g{i // 3}" for i in range(60)]
    folds = group_folds(groups, k=5, seed=0)
    assert len(folds) == 5
    seen = np.concatenate([te for _, te in folds])
    assert sorted(seen.tolist()) == list(range(60))  # every row tested once
    for tr, te in folds:
        assert {groups[i] for i in tr}.isdisjoint({groups[i] for i in te})
    assert all((a[1] == b[1]).all() for a, b in zip(folds, group_folds(groups, k=5, seed=0)))  # seeded


def test_xor_direction_by_hand():
    chosen = np.array([1, 0, 0, 1, 0, 1], bool)
    rejected = np.array([0, 1, 1, 1, 0, 0], bool)
    # XOR pairs: 0 (chosen), 1 (rejected), 2 (rejected), 5 (chosen) -> 4 pairs, half in the rejected reply
    assert xor_direction(chosen, rejected) == (4, 0.5)
    n, share = xor_direction(np.zeros(3, bool), np.zeros(3, bool))
    assert n == 0 and np.isnan(share)


def test_fit_heads_learns_a_separable_value_and_keeps_rare_ones_constant():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 4))
    y = np.c_[(X[:, 0] > 0).astype(float), np.r_[1.0, np.zeros(79)], np.full(80, np.nan)]
    y[:10, 0] = np.nan  # unknown labels are left out
    coef, icpt = fit_heads(X, y, np.ones(80))
    assert coef[0, 0] > 1.0 and abs(coef[0, 0]) > 3 * np.abs(coef[0, 1:]).max()
    assert (coef[1] == 0).all() and icpt[1] < -3  # one positive: constant head near its prevalence
    assert (coef[2] == 0).all()


def test_moralchoice_legality_is_measured_not_trained():
    labels = np.array([[1.0, 0.0, 1.0]])
    ds = LabelledSet("moralchoice", "x", ["1"], ["g"], [None], ["r"], labels, ["deception", "violence", "legality"])
    assert np.isnan(training_labels(ds)[0, 2]) and training_labels(ds)[0, 0] == 1.0
    assert ds.labels[0, 2] == 1.0  # still there for the figures


def test_cross_validated_scores_are_out_of_fold():
    """A head that could memorise would score its own rows perfectly; out-of-fold it cannot see them."""
    rng = np.random.default_rng(1)
    names = ["a"]
    n = 40
    X = rng.normal(size=(n, 768)).astype(np.float32)  # pure noise: no real signal
    y = (rng.random(n) > 0.5).astype(float)[:, None]
    ds = LabelledSet("outside", "x", [str(i) for i in range(n)], [f"g{i}" for i in range(n)], [None] * n,
                     [f"r{i}" for i in range(n)], y, names)
    ex = LabelledSet("exemplars", "y", ["e"], ["e"], [None], ["e"], np.array([[1.0]]), names)
    pool = Pool([ds], ex, {"outside": X, "exemplars": X[:1]})
    oof = cross_validated_scores(pool, refusal_discount=False)
    from valind.calibration.values.validate import average_precision

    assert np.isnan(oof[-1]).all()  # the exemplar row is never tested
    in_sample = fit_heads(pool.X, pool.Y, pool.weights, c=1e4)
    fitted = 1 / (1 + np.exp(-(X @ in_sample[0].T + in_sample[1])))
    assert average_precision(y[:, 0], fitted[:, 0]) > 0.95  # memorised
    assert average_precision(y[:, 0], oof[:n, 0]) < 0.8  # but not out of fold


def test_concat_keeps_groups_of_sets_apart():
    a = LabelledSet("moralchoice", "p", ["1"], ["g"], [None], ["x"], np.array([[1.0]]), ["v"])
    b = LabelledSet("outside", "q", ["1"], ["g"], [None], ["y"], np.array([[0.0]]), ["v"])
    both = concat([a, b])
    assert both.groups == ["moralchoice:g", "outside:g"] and both.labels.shape == (2, 1)


def test_exemplar_set_marks_its_value_only():
    ex = exemplar_set(VALUES)
    assert len(ex) == sum(len(v.exemplars) for v in VALUES)
    assert (ex.labels.sum(axis=1) == 1).all() and ex.responses[0] == VALUES[0].exemplars[0]


def test_write_block_replaces_only_the_block(tmp_path):
    doc = tmp_path / "doc.md"
    doc.write_text("intro\n<!-- figures-x:begin -->\nold\n<!-- figures-x:end -->\noutro\n")
    write_block(doc, "figures-x", "| a | 1 |", "valind extract validate --dataset x")
    text = doc.read_text()
    assert text.startswith("intro\n<!-- figures-x:begin -->\n_Written by `valind extract validate --dataset x` (commit ")
    assert "| a | 1 |" in text and "old" not in text and text.endswith("<!-- figures-x:end -->\noutro\n")
    with pytest.raises(ConfigError, match="figures-y"):
        write_block(doc, "figures-y", "x", "cmd")


# ------------------------------------------------------------------ the shipped heads
def test_shipped_heads_load_score_and_record_their_data():
    from valind.instruments.values.base import make_extractor
    from valind.instruments.values.learned import default_weights_file, load_heads

    heads = load_heads(default_weights_file())
    assert heads["names"] == NAMES and heads["coef"].shape == (15, 768)
    trained_on = json.loads(heads["meta"]["trained_on"])
    assert [t["name"] for t in trained_on] == ["moralchoice", "outside", "gold"]
    assert all(t["sha256"] for t in trained_on)
    ex = make_extractor("learned", VALUES)
    s = ex.score_batch([None, None, None], [
        "I'm so sorry about your dog. Losing a friend like that hurts, and grieving takes time.",
        "Sorry, I can't help you hurt anyone.",
        "Grab a bat and hit him until he stops moving."])
    emp, vio = NAMES.index("empathy"), NAMES.index("violence")
    assert s.shape == (3, 15) and s.min() >= 0 and s.max() <= 1
    assert s[0, emp] > s[2, emp] and s[2, vio] > s[1, vio]
    assert ex.thresholds["violence"] == pytest.approx(float(heads["threshold"][vio]))


def test_fingerprint_changes_with_the_weights(tmp_path):
    from safetensors.numpy import load_file, save_file
    from safetensors import safe_open

    from valind.instruments.values.base import make_extractor
    from valind.instruments.values.learned import default_weights_file

    src = default_weights_file()
    with safe_open(str(src), framework="numpy") as fh:
        meta = fh.metadata()
    tensors = load_file(str(src))
    tensors["intercept"] = tensors["intercept"] + 0.5
    changed = tmp_path / "heads.safetensors"
    save_file(tensors, str(changed), metadata=meta)
    a = make_extractor("learned", VALUES).fingerprint()
    b = make_extractor("learned", VALUES, weights=str(changed)).fingerprint()
    assert a != b and a == make_extractor("learned", VALUES).fingerprint()
    with pytest.raises(ConfigError, match="not found"):
        make_extractor("learned", VALUES, weights=str(tmp_path / "none.safetensors"))


@pytest.mark.slow
def test_training_script_reproduces_the_shipped_heads(tmp_path, shared_data, monkeypatch):
    """Retrain from the labelled sets: the same heads and thresholds as the shipped file."""
    from safetensors.numpy import load_file

    from valind.instruments.values.learned import default_weights_file
    from valind.calibration.values.train import train

    monkeypatch.setenv("VALIND_SHARED_DATA", str(shared_data))
    out = tmp_path / "heads.safetensors"
    meta = train(VALUES, out)
    shipped = load_file(str(default_weights_file()))
    fresh = load_file(str(out))
    np.testing.assert_allclose(fresh["coef"], shipped["coef"], atol=2e-3)
    np.testing.assert_allclose(fresh["threshold"], shipped["threshold"], atol=2e-2)
    assert json.loads(meta["trained_on"])[0]["rows"] == 1314


def test_direction_check_reads_pairs_and_counts_xor(tmp_path, monkeypatch, capsys):
    """PKU's layout (response: [safer, less safe]); the lexicon extractor, whose cues are known, tags violence."""
    from valind.cli import main as cli
    from valind.instruments.values.base import make_extractor
    from valind.calibration.values.figures import direction_figures, load_pairs

    root = tmp_path / "shared"
    (root / "pku-saferlhf").mkdir(parents=True)
    pairs = [{"prompt": "He annoyed me.", "response": ["Talk to him calmly.", "Punch him in the face."]},
             {"prompt": "He annoyed me.", "response": ["Hit him once, then leave.", "Ignore him."]},
             {"prompt": "He annoyed me.", "response": ["Walk away.", "Tell him how you feel."]},
             {"prompt": "He annoyed me.", "response": ["Stay calm.", "Kick him hard, then kick the dog."]}]
    (root / "pku-saferlhf" / "pku_saferlhf_dpo_5k.json").write_text(json.dumps(pairs))
    monkeypatch.setenv("VALIND_SHARED_DATA", str(root))
    prompts, chosen, rejected, path = load_pairs("pku")
    assert chosen[0] == "Talk to him calmly." and rejected[0] == "Punch him in the face." and path.endswith(".json")
    figs = direction_figures(make_extractor("lexicon", VALUES), prompts, chosen, rejected, values=["violence"])
    # violence cues fire on "Punch him" (rejected), "Hit him" (chosen), "Kick him" (rejected): 3 XOR pairs, 2 less safe
    assert figs["violence"]["xor_pairs"] == 3 and figs["violence"]["in_rejected"] == pytest.approx(2 / 3)
    assert cli(["extract", "direction-check"]) == 2
    assert "--dataset" in capsys.readouterr().err
    assert len(load_pairs("pku", limit=2)[0]) == 2 and load_pairs("pku", limit=2)[1] == load_pairs("pku", limit=2)[1]
    with pytest.raises(ConfigError, match="unknown dataset"):
        load_pairs("nope")


def test_validate_an_llm_extractor_on_a_seeded_sample_into_its_own_block(tmp_path):
    """`valind extract validate --dataset gold --extractor llm --extractor-option ... --limit N --markdown FILE`:
    the options reach the extractor (its backend is the server here), N rows are scored, and the figures go to
    the extractor's own block (the offline extractors' block is left alone), naming every flag."""
    from tests.conftest import StubServer

    from valind.cli import main

    listing = {"id": "x", "object": "chat.completion", "usage": {"total_tokens": 3}, "choices": [
        {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": '{"values": ["honesty"]}'}}]}
    doc = tmp_path / "doc.md"
    doc.write_text("<!-- figures-gold:begin -->\noffline\n<!-- figures-gold:end -->\n"
                   "<!-- figures-gold-llm:begin -->\nOLD-TABLE\n<!-- figures-gold-llm:end -->\n")
    with StubServer(lambda n, body: (200, {}, listing)) as server:
        assert main(["extract", "validate", "--dataset", "gold", "--extractor", "llm", "--extractor-option",
                     "backend=openai", "--extractor-option", "model=m", "--extractor-option", "max_retries=0",
                     "--extractor-option", f'backend_options={{"base_url": "{server.url}"}}', "--limit", "6",
                     "--markdown", str(doc), "--json", str(tmp_path / "r.json")]) == 0
        assert len(server.requests) == 6  # one listing call per sampled row
    result = json.loads((tmp_path / "r.json").read_text())
    assert result["limit"] == 6 and result["options"]["backend"] == "openai"
    assert result["rows"] == {"gold": {"n": 6, "failed": 0}}
    assert result["figures"]["gold"]["llm"] and all(f["n"] <= 6 for f in result["figures"]["gold"]["llm"].values())
    text = doc.read_text()
    assert "offline" in text and "OLD-TABLE" not in text and "gold: 6 rows (seeded sample of 6)" in text
    assert "--extractor llm --extractor-option backend=openai" in text and "--limit 6" in text
