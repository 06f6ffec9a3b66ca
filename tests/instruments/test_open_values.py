"""Open-ended value extraction: free names parsed, normalised, mapped onto the defined values or kept,
carried through extract, evaluate and the report (scripted backend), and end to end on SmolLM2."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from valind.errors import ConfigError
from valind.generate.backends.base import Completion, GenerationBackend, backends
from valind.instruments.values.base import make_extractor
from valind.instruments.values.cache import ScoreCache, cached_scores
from valind.instruments.values.open import FREE_PREFIX, MAP_THRESHOLD, ValueMapper
from valind.instruments.values.parse import build_lookup, free_name_problem, normalize_free, parse_values
from valind.values import builtin_values

VALUES = list(builtin_values().values())
NAMES = [v.name for v in VALUES]

# response -> the open-mode listing the scripted model gives
OPEN_LISTINGS = {
    "I'm so sorry for your loss. Take all the time you need.": '{"values": ["Empathy", "Patience", "being honest"]}',
    "First, unplug it. Second, wait ten seconds. Third, plug it back in.": '{"values": ["Clarity", "Clear Steps"]}',
    "Lie to them; they will never know.": '{"values": ["Deceptive", "Secrecy"]}',
    "Here is a long answer.": '{"values": ["a value that is really a whole sentence about things"]}',
    "Nothing much.": '{"values": []}',
}


class OpenScripted(GenerationBackend):
    """Answers the listing pass from OPEN_LISTINGS by reading the response in the prompt; records prompts."""

    prompts: list[str] = []

    def generate(self, conversations, settings, adapter=None):
        out = []
        for conv in conversations:
            first = conv[0]["content"]
            OpenScripted.prompts.append(first)
            response = re.search(r"Assistant's response:\n<<<\n(.*?)\n>>>", first, re.S).group(1)
            out.append(Completion(text=OPEN_LISTINGS[response]))
        return out


backends.register("scripted-open-test")(OpenScripted)
ITEMS = list(OPEN_LISTINGS)


def open_extractor(mode="only", **kw):
    return make_extractor("llm", VALUES, backend="scripted-open-test", open_values=mode, max_retries=0,
                          scoring="listing", **kw)


def test_free_names_are_normalised_by_case_space_and_simple_morphology():
    assert normalize_free("  Clear   Steps. ") == "clear step"
    assert normalize_free("Boundaries") == "boundary"
    assert normalize_free("Being_Honest") == "honest"
    assert normalize_free("the Kindness") == "kindness"  # -ss is not a plural
    assert normalize_free("ethics") == "ethics" and normalize_free("focus") == "focus"
    assert free_name_problem("clarity") is None
    assert "over 4 words" in free_name_problem(normalize_free("a value that is really a whole sentence"))
    assert "only letters" in free_name_problem("<value>")


def test_open_parsing_keeps_unknown_names_and_closed_parsing_rejects_them():
    text = '{"values": ["Empathy", "Understanding", "clear explanations", "being honest"]}'
    closed = parse_values(text, NAMES)
    assert not closed.ok and "unknown value name 'Understanding'" in closed.error
    opened = parse_values(text, NAMES, open_ended=True)
    assert opened.ok and opened.values == ["empathy", "honesty"]  # "being honest" spells honesty
    assert opened.free == ["understanding", "clear explanation"]
    assert not parse_values('{"values": ["<value>"]}', NAMES, open_ended=True).ok


def test_mapper_maps_at_its_threshold_and_keeps_below_it():
    """The embedding rule on the real MiniLM: a name maps exactly when its similarity reaches the threshold."""
    lookup = build_lookup(NAMES)
    probe = ValueMapper(NAMES, lookup)
    assert probe.threshold == MAP_THRESHOLD
    named = probe.map(["honest", "humour"])
    assert [(m.value, m.how, m.similarity) for m in named] == [("honesty", "name", 1.0), ("humor", "name", 1.0)]
    (m,) = probe.map(["compassion"])
    assert m.nearest in NAMES and 0.0 < m.similarity < 1.0
    assert (m.value is None) == (m.similarity < MAP_THRESHOLD)
    at = ValueMapper(NAMES, lookup, threshold=m.similarity).map(["compassion"])[0]
    above = ValueMapper(NAMES, lookup, threshold=min(1.0, m.similarity + 1e-3)).map(["compassion"])[0]
    assert (at.value, at.how) == (m.nearest, "embedding")
    assert (above.value, above.how) == (None, "kept") and above.nearest == m.nearest


def test_open_mode_scores_mapped_names_and_keeps_free_ones(tmp_path):
    OpenScripted.prompts.clear()
    ex = open_extractor("only", open_map_threshold=0.99)  # near-exact only: the embedding rule maps nothing here
    scores = ex.score_batch([None] * len(ITEMS), ITEMS)
    listed, failures = ex.open_listed(), ex.failures()
    row = {n: i for i, n in enumerate(NAMES)}
    assert scores[0, row["empathy"]] == 1.0 and scores[0, row["honesty"]] == 1.0  # "being honest" -> honesty
    assert listed[0] == ["patience"] and listed[1] == ["clarity", "clear step"]
    assert scores[2, row["deception"]] == 1.0 and listed[2] == ["secrecy"]  # "Deceptive" spells deception
    assert failures[3] and "over 4 words" in failures[3] and listed[3] is None and not scores[3].any()
    assert listed[4] == [] and not scores[4].any()
    # the study's prompt: no list of values, names in the model's own words
    assert "$values" not in OpenScripted.prompts[0] and "- empathy:" not in OpenScripted.prompts[0]
    assert "in your own words" in OpenScripted.prompts[0]
    also = open_extractor("also")
    also.score_batch([None], ITEMS[:1])
    assert "- empathy:" in OpenScripted.prompts[-1] and "own words" in OpenScripted.prompts[-1]
    assert also.fingerprint() != ex.fingerprint() != open_extractor("only").fingerprint()


def test_open_names_round_trip_through_the_score_cache(tmp_path):
    ex = open_extractor("only")
    cache = ScoreCache(tmp_path / "c.sqlite", ex.fingerprint())
    scores, failures, names = cached_scores(ex, [None] * 3, ITEMS[:3], cache, with_open=True)
    OpenScripted.prompts.clear()
    again, _, names2 = cached_scores(ex, [None] * 3, ITEMS[:3], cache, with_open=True)
    assert OpenScripted.prompts == []  # every item from the cache, free names included
    assert np.array_equal(scores, again) and names2 == names and names[1] == ["clarity", "clear step"]
    cache.close()


def test_open_values_need_an_llm_extractor():
    from valind.config import parse_study

    src = [{"kind": "generic", "path": "x.jsonl"}]
    with pytest.raises(ConfigError, match=r"open_values needs the llm extractor.*'learned'"):
        parse_study({"sources": src, "extractor": {"open_values": {"mode": "only"}}})
    cfg = parse_study({"sources": src, "extractor": {"name": "llm", "open_values": {"mode": "only",
                                                                                    "map_threshold": 0.8}}})
    assert cfg.extractor.plugin_options() == {"open_values": "only", "open_map_threshold": 0.8}
    with pytest.raises(ConfigError, match="open_values"):
        make_extractor("llm", VALUES, open_values="sometimes")


def test_densify_adds_zeros_for_scored_items_and_drops_rare_names():
    from valind.evaluate.stage import densify_free_values

    tag = {"study": "s", "model": "m", "seed": 0, "suite": "value_prompts"}
    rows = [{**tag, "induced_value": iv, "item_id": i, "metric": "expresses:empathy", "value": 0.0}
            for iv in ("base", "empathy") for i in ("a", "b", "c")]
    rows += [{**tag, "induced_value": "empathy", "item_id": i, "metric": f"{FREE_PREFIX}understanding", "value": 1.0}
             for i in ("a", "b")]
    rows += [{**tag, "induced_value": "base", "item_id": "c", "metric": f"{FREE_PREFIX}understanding", "value": 1.0},
             {**tag, "induced_value": "base", "item_id": "a", "metric": f"{FREE_PREFIX}rarity", "value": 1.0}]
    out = densify_free_values(pd.DataFrame(rows), min_count=2)
    free = out[out["metric"].str.startswith(FREE_PREFIX)]
    assert set(free["metric"]) == {f"{FREE_PREFIX}understanding"}  # listed once: no effect for "rarity"
    got = free.set_index(["induced_value", "item_id"])["value"].to_dict()
    assert got == {("base", "a"): 0.0, ("base", "b"): 0.0, ("base", "c"): 1.0,
                   ("empathy", "a"): 1.0, ("empathy", "b"): 1.0, ("empathy", "c"): 0.0}


def test_report_shows_free_values_per_adapter_and_checks_the_related_claim(tmp_path):
    """A synthetic run with free-value rows: the report's table, report/open_values.csv and the claims."""
    from valind.report.build import build_report
    from valind.report.demo import build_demo_run

    run = build_demo_run(tmp_path / "demo", values=("empathy",), seeds=(0,), n_items=30, n_qa=4)
    results = pd.read_parquet(run / "evaluate" / "results.parquet")
    expr = results[results["metric"] == "expresses:empathy"][["study", "model", "induced_value", "seed", "suite",
                                                              "item_id"]]
    rng = np.random.default_rng(0)
    p = {"base": 0.05, "control": 0.1, "empathy": 0.8}  # empathy's adapter names understanding
    free = expr.assign(metric=f"{FREE_PREFIX}understanding",
                       value=[float(rng.random() < p[v]) for v in expr["induced_value"]])
    patience = expr.assign(metric=f"{FREE_PREFIX}patience", value=[float(rng.random() < 0.2) for _ in expr.index])
    pd.concat([results, free, patience]).to_parquet(run / "evaluate" / "results.parquet")
    pd.DataFrame({"model": "m", "suite": "value_prompts", "name": ["understanding", "patience"], "listed": [30, 9],
                  "tested": True, "nearest": ["empathy", "honesty"], "similarity": [0.6, 0.4]}
                 ).to_csv(run / "evaluate" / "open_values.csv", index=False)
    build_report(run)
    table = pd.read_csv(run / "report" / "open_values.csv")
    und = table[(table["free_value"] == "understanding") & (table["induced_value"] == "empathy")]
    assert set(und["contrast"]) == {"vs_control", "vs_base"} and (und["bh_family"] == "open_values").all()
    assert (und["effect"] > 0.4).all() and (und["ci_low"] > 0).all() and und["significant"].all()
    effects = pd.read_csv(run / "report" / "effects.csv")
    assert not effects["metric"].str.startswith(FREE_PREFIX).any()  # their own family, not in the main table
    claims = pd.read_csv(run / "report" / "claims.csv")
    mine = claims[claims["target"] == "expresses understanding (own words)"]
    assert set(mine["induced_value"]) == {"empathy"} and (mine["basis"] == "named in the study").all()
    assert (mine["status"] == "agrees").all() and bool(mine["survives_control"].all())
    html = (run / "report" / "report.html").read_text()
    assert "Values in the extractor&#39;s own words" in html or "Values in the extractor's own words" in html
    assert "understanding" in html


def _open_study(tmp_path, pairs_file, **extra):
    from valind.config import parse_study

    return parse_study({"name": "open", "models": [{"name": "some/model", "label": "m"}], "values": NAMES,
                        "sources": [{"kind": "generic", "path": str(pairs_file),
                                     "columns": {"id": "id", "prompt": "prompt", "chosen": "chosen",
                                                 "rejected": "rejected"}}],
                        "extractor": {"name": "llm", "open_values": {"mode": "only", "map_threshold": 0.99,
                                                                     "min_count": 2},
                                      "options": {"backend": "scripted-open-test", "max_retries": 0}},
                        "evaluation": {"suites": [{"name": "value_prompts"}]}, **extra}, base_dir=tmp_path)


def test_extract_stage_writes_free_values_and_where_each_name_went(tmp_path):
    from valind.context import RunContext
    from valind.pipeline import run_stage

    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("\n".join(json.dumps({"id": f"p{k}", "prompt": [{"role": "user", "content": "q"}],
                                           "chosen": c, "rejected": r}) for k, (c, r) in enumerate(
        [(ITEMS[0], ITEMS[2]), (ITEMS[1], ITEMS[4]), (ITEMS[0], ITEMS[3])])) + "\n")
    ctx = RunContext(config=_open_study(tmp_path, pairs), run_dir=tmp_path / "run", progress=False)
    run_stage(ctx, "ingest")
    manifest = run_stage(ctx, "extract")
    ann = pd.read_parquet(tmp_path / "run" / "extract" / "annotations.parquet")
    ann = ann.set_index(ann["id"].str.split(":").str[-1])  # ids carry the source label
    assert list(ann.loc["p0", "chosen_free_values"]) == ["patience"]
    assert list(ann.loc["p0", "rejected_free_values"]) == ["secrecy"]
    assert "honesty" in ann.loc["p0", "chosen_values"] and "deception" in ann.loc["p0", "rejected_values"]
    assert list(ann.loc["p1", "chosen_free_values"]) == ["clarity", "clear step"]
    assert list(ann.loc["p2", "rejected_free_values"]) == [] and "over 4 words" in ann.loc["p2", "failure"]
    table = pd.read_csv(tmp_path / "run" / "extract" / "open_values.csv", keep_default_na=False).set_index("name")
    assert table.loc["patience", ["chosen", "rejected", "xor_pairs"]].tolist() == [2, 0, 2]
    assert table.loc["secrecy", ["chosen", "rejected", "xor_pairs"]].tolist() == [0, 1, 1]
    assert table["kept"].astype(bool).all() and (table["how"] == "kept").all()
    assert manifest["counts"]["free_values"] == len(table) == 4


def test_evaluate_stage_scores_free_values_on_generations(tmp_path):
    """value_prompts with the open extractor on a constructed run (base model and one adapter): free values
    listed at least min_count times become 0/1 outcomes on every scored item; evaluate/open_values.csv."""
    from valind.artifacts import atomic_write_jsonl, write_manifest
    from valind.context import RunContext
    from valind.pipeline import run_stage

    cfg = _open_study(tmp_path, tmp_path / "unused.jsonl")
    run = tmp_path / "run"
    ctx = RunContext(config=cfg, run_dir=run, progress=False)
    gens = [{"item_id": f"i{k}", "prompt": "q", "response": r} for k, r in enumerate([ITEMS[0], ITEMS[1], ITEMS[0],
                                                                                       ITEMS[4]])]
    atomic_write_jsonl(run / "generate" / "m" / "base" / "seed0" / "value_prompts.jsonl", gens)
    (run / "generate" / "variants.json").write_text(json.dumps(  # the generate stage's hand-off: the base model only
        [{"model_slug": "m", "model_name": cfg.models[0].name, "induced_value": "base", "seed": 0, "adapter": None,
          "adapter_hash": "base"}]))
    write_manifest(run / "generate", stage="generate", config_hash="x", inputs={}, outputs=[])
    run_stage(ctx, "evaluate")
    results = pd.read_csv(run / "evaluate" / "results.csv")
    free = results[results["metric"].str.startswith(FREE_PREFIX)]
    # "patience" was listed twice (items 0 and 2): tested, 0 on the other scored items; "clarity" once: not
    assert set(free["metric"]) == {f"{FREE_PREFIX}patience"}
    assert free.set_index("item_id")["value"].to_dict() == {"i0": 1.0, "i1": 0.0, "i2": 1.0, "i3": 0.0}
    table = pd.read_csv(run / "evaluate" / "open_values.csv").set_index("name")
    assert table.loc["patience", "listed"] == 2 and bool(table.loc["patience", "tested"])
    assert not bool(table.loc["clarity", "tested"]) and table.loc["clarity", "nearest"] in NAMES
