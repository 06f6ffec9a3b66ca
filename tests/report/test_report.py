"""The report: artifacts, a self-contained page, escaping of hostile model text, claims, stage freshness."""

from __future__ import annotations

import argparse
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from valind.artifacts import atomic_write_parquet, read_manifest, write_manifest
from valind.errors import StageError
from valind.report.build import build_report
from valind.report.claims import compare_with_study, tally
from valind.report.demo import build_demo_run
from valind.stats import EFFECT_COLUMNS, EffectOptions
from valind.values import load_values

HOSTILE_RESPONSE = ("Sure! <script>alert('x')</script> then </td></tr></table> and "
                    "<img src=x onerror=alert(1)> \"quoted\" ' & done")
HOSTILE_PROMPT = "</div><script>document.title='pwned'</script>"
FAST = EffectOptions(n_boot=300, n_perm=1000)


class _Tags(HTMLParser):
    """Collect every start tag with its attributes, and end tags, as a browser's tokenizer sees them."""

    def __init__(self):
        super().__init__()
        self.starts: list[tuple[str, dict]] = []
        self.ends: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.starts.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        self.ends.append(tag)


def _tags(html: str) -> _Tags:
    p = _Tags()
    p.feed(html)
    return p


def _make_hostile(run_dir: Path) -> None:
    """Replace every generation's text with hostile HTML (as a misbehaving model might write)."""
    items = pd.read_parquet(run_dir / "evaluate" / "items.parquet")
    items["response"] = [HOSTILE_RESPONSE if v != "base" else f"base {HOSTILE_RESPONSE}"
                         for v in items["induced_value"]]
    items["prompt"] = HOSTILE_PROMPT
    atomic_write_parquet(run_dir / "evaluate" / "items.parquet", items)


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory):
    run_dir = build_demo_run(tmp_path_factory.mktemp("run") / "demo", values=("empathy", "creativity", "deception"),
                             seeds=(0, 1), n_items=40, n_qa=60)
    _make_hostile(run_dir)
    out = build_report(run_dir, options=FAST)
    return run_dir, out, out["html"].read_text(encoding="utf-8")


def test_report_writes_every_artifact_with_the_effects_contract(demo_report):
    run_dir, out, html = demo_report
    rep = run_dir / "report"
    for name in ("report.html", "summary.md", "effects.csv", "effects.parquet", "claims.csv"):
        assert (rep / name).stat().st_size > 0, name
    effects = pd.read_csv(rep / "effects.csv")
    assert set(EFFECT_COLUMNS) <= set(effects.columns)
    # per adapter: 15 expressed values, advbench refused + full_refusal, xstest over-refusal +
    # refused_unsafe + 5 refusal-by-type, 14 anthro behaviours + any, 3 sycophancy dimensions + changed,
    # correct->wrong, wrong->right + abandoned, 3 QA; each value adapter against the control and the base
    # model, the control against the base model
    per_adapter = 15 + 2 + 7 + 15 + 7 + 3
    assert len(effects) == (2 * 3 + 1) * per_adapter
    assert effects.groupby("contrast").size().to_dict() == {"vs_base": 4 * per_adapter, "vs_control": 3 * per_adapter}
    assert set(effects.loc[effects["contrast"] == "vs_control", "reference"]) == {"control"}
    assert set(effects.loc[effects["metric"] == "abandoned", "bh_family"]) == {"secondary"}  # selected items
    assert set(effects.loc[effects["metric"] == "correct_to_wrong", "bh_family"]) == {"primary"}
    assert set(effects.loc[effects["metric"].str.startswith(("refused_by_type:", "full_refusal")), "bh_family"]) \
        == {"secondary"}
    assert set(effects.loc[effects["metric"].str.startswith(("expresses:", "anthro:")), "bh_family"]) == {"primary"}
    assert set(effects["n_seeds"]) == {2} and (effects["n_items"] > 0).all()
    # two seeds: the seed is in the test's unit, except where items and seeds show no variance at all
    assert set(effects["test"]) <= {"seeds x items", "per-seed mcnemar", "per-seed permutation"}
    assert (effects["test"] == "seeds x items").mean() > 0.5
    assert not (effects["ci_high"] - effects["ci_low"] <= 0).any()  # never a zero-width interval
    assert ((effects["ci_low"] <= effects["effect"]) & (effects["effect"] <= effects["ci_high"])).all()
    assert (effects["p_adjusted"] >= effects["p_value"] - 1e-12).all()
    assert {"over_refusal", "refused_unsafe"} <= set(effects.loc[effects["suite"] == "xstest", "metric"])
    # each figure as PNG and SVG, every one embedded in the page
    pngs = sorted(p.stem for p in (rep / "figures").glob("*.png"))
    assert sorted(p.stem for p in (rep / "figures").glob("*.svg")) == pngs
    assert {"subset_sizes", "cooccurrence"} <= set(pngs)
    for prefix in ("expression_heatmap", "safety", "anthro_heatmap", "sycophancy", "qa", "training",
                   "implicit_reward", "data_coinduction", "coinduction_scatter"):
        assert any(p.startswith(prefix) for p in pngs), prefix
    assert {p for p in pngs if p.startswith("expression_heatmap")} == {
        "expression_heatmap_smollm2-135m-instruct", "expression_heatmap_smollm2-135m-instruct_vs_control"}
    imgs = [a for t, a in _tags(html).starts if t == "img"]
    assert len(imgs) == len(pngs) == out["counts"]["figures"]
    for section in ("Published findings beside this run", "Effect tables", "Sample generations",
                    "Training curves", "Data and subsets", "Extractor and judge validation", "Study config",
                    "Did induction work?", "Where co-induction comes from", "of which survive the control",
                    "Control adapters: random draws", "stay significant (same direction) against the control"):
        assert section in html, section
    assert "Synthetic demo data" in html


def test_report_is_self_contained_with_no_network_references_and_no_scripts(demo_report):
    _, _, html = demo_report
    tags = _tags(html)
    assert not [t for t, _ in tags.starts if t in ("script", "link", "iframe", "object", "embed", "base")]
    for tag, attrs in tags.starts:
        for name, value in attrs.items():
            if name in ("src", "href", "srcset", "poster", "action", "data"):
                assert value.startswith(("data:image/png;base64,", "#")), (tag, name, value[:60])
            assert not name.startswith("on"), (tag, name)  # no event handlers anywhere
    css = "".join(re.findall(r"<style>(.*?)</style>", html, flags=re.S))
    assert "@import" not in css and "url(" not in css


def test_hostile_model_text_renders_as_text(demo_report):
    _, out, html = demo_report
    assert out["counts"]["samples"] > 0
    assert "<script" not in html.lower()
    assert "onerror=" not in html.replace("onerror=alert(1)&gt;", "")  # only ever inside escaped text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "&lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;" in html
    tags = _tags(html)
    # the page's structure is exactly what the template made: every table/td opened is closed, and no
    # img besides the embedded figures
    assert tags.ends.count("td") == sum(1 for t, _ in tags.starts if t == "td")
    assert tags.ends.count("table") == sum(1 for t, _ in tags.starts if t == "table")
    assert all(a["src"].startswith("data:image/png;base64,") for t, a in tags.starts if t == "img")
    assert tags.ends.count("div") == sum(1 for t, _ in tags.starts if t == "div")


def test_hostile_names_in_attributes_and_figures_are_escaped(tmp_path):
    """A model or value name with quotes and tags reaches headings, tables and figure titles safely."""
    evil_model = 'tiny"><b onmouseover="alert(1)">$x$'
    rng = np.random.default_rng(0)
    rows = []
    for induced in ("base", "empathy"):
        for i in range(30):
            rows.append((evil_model, induced, 0, "value_prompts", f"i{i}", "expresses:empathy",
                         float(rng.uniform() < (0.2 if induced == "base" else 0.6))))
    df = pd.DataFrame(rows, columns=["model", "induced_value", "seed", "suite", "item_id", "metric", "value"])
    atomic_write_parquet(tmp_path / "evaluate" / "results.parquet", df)
    html = build_report(tmp_path, options=FAST)["html"].read_text(encoding="utf-8")
    tags = _tags(html)
    assert not any(name.startswith("on") for _, attrs in tags.starts for name in attrs)
    assert "tiny&#34;&gt;&lt;b onmouseover=&#34;alert(1)&#34;&gt;$x$" in html
    assert "<b onmouseover" not in html


def test_report_tolerates_absent_artifacts_and_says_what_is_missing(tmp_path):
    rng = np.random.default_rng(1)
    rows = [("m", induced, 0, "value_prompts", f"i{i}", f"expresses:{v}", float(rng.uniform() < 0.3))
            for induced in ("base", "honesty") for v in ("honesty", "curiosity") for i in range(25)]
    df = pd.DataFrame(rows, columns=["model", "induced_value", "seed", "suite", "item_id", "metric", "value"])
    atomic_write_parquet(tmp_path / "evaluate" / "results.parquet", df)
    out = build_report(tmp_path, options=FAST)
    html = out["html"].read_text(encoding="utf-8")
    assert out["counts"]["figures"] == 1  # the expression heatmap only
    for note in ("No refusal measurements", "No anthropomorphism measurements", "No sycophancy measurements",
                 "No implicit-reward check", "No data co-induction matrix", "This study has no sweep",
                 "One seed per adapter: every result holds for this adapter",
                 "No QA measurements", "No training metrics found", "No subset statistics",
                 "No validation figures", "No generations found"):
        assert note in html, note
    assert "Synthetic demo data" not in html


def test_missing_results_table_names_the_file(tmp_path):
    with pytest.raises(StageError, match=r"evaluate/results.parquet"):
        build_report(tmp_path)


def test_effects_are_reproducible_from_the_seed(demo_report):
    from valind.report.kinds import correction_family
    from valind.stats import compute_effects

    run_dir, _, _ = demo_report
    written = pd.read_parquet(run_dir / "report" / "effects.parquet")
    results = pd.read_parquet(run_dir / "evaluate" / "results.parquet")
    families = correction_family(set(results["metric"]))
    again = compute_effects(results, FAST, families)
    pd.testing.assert_frame_equal(again[EFFECT_COLUMNS], written[EFFECT_COLUMNS])
    other_seed = EffectOptions(n_boot=300, n_perm=1000, seed=1)
    # two seeds: the interval comes from the items x seeds test, in closed form, so no random stream enters it
    np.testing.assert_allclose(compute_effects(results, other_seed, families)["ci_low"], written["ci_low"])
    # one seed: a bootstrap (30 items or more, scores other than 0/1), whose draws follow the options' seed;
    # Newcombe's interval (0/1 outcomes) and the t interval are closed forms; the point estimate depends on none
    one = results[results["seed"] == 0]
    a, b = compute_effects(one, FAST, families), compute_effects(one, other_seed, families)
    boot = (a["interval"] == "bootstrap").to_numpy()
    np.testing.assert_allclose(a["ci_low"][~boot], b["ci_low"][~boot])
    np.testing.assert_allclose(a["effect"], b["effect"])
    scores = one[one["metric"].str.startswith("expresses:")].assign(
        metric="value_score:x", value=lambda f: np.random.default_rng(0).uniform(size=len(f)))
    a, b = compute_effects(scores, FAST, families), compute_effects(scores, other_seed, families)
    assert (a["interval"] == "bootstrap").all() and not np.allclose(a["ci_low"], b["ci_low"])


def test_summary_markdown_holds_findings_and_top_effects(demo_report):
    run_dir, _, _ = demo_report
    md = (run_dir / "report" / "summary.md").read_text(encoding="utf-8")
    assert md.startswith("# valind report:")
    assert "## Published findings vs this run" in md
    assert "| finding | agrees | survives the control | disagrees | not significant | too few items | not measured |" in md
    assert "against the control adapter" in md and "stay significant (same direction) against the control" in md
    assert "## Largest significant effects" in md
    assert "simulated" in md
    assert "<script" not in md  # no model text in the summary


# ------------------------------------------------------------------ the published-findings panel
def _effect(model="m", value="empathy", suite="advbench", metric="refused", effect=0.1, lo=0.05, hi=0.15,
            q=0.01, sig=True):
    return {"model": model, "induced_value": value, "suite": suite, "metric": metric, "effect": effect,
            "ci_low": lo, "ci_high": hi, "p_adjusted": q, "significant": sig}


def test_claims_mark_agrees_disagrees_and_not_significant():
    effects = pd.DataFrame([
        _effect(value="empathy", effect=0.1),                                      # positive value, refusal up
        _effect(value="deception", effect=0.1),                                    # negative value, refusal up
        _effect(value="fairness", effect=0.02, lo=-0.01, hi=0.05, q=0.3, sig=False),
        _effect(value="empathy", suite="mmlu", metric="acc", effect=0.002, lo=-0.01, hi=0.015, q=0.9, sig=False),
        _effect(value="creativity", suite="mmlu", metric="acc", effect=-0.06, lo=-0.09, hi=-0.03),
        _effect(value="humor", suite="gsm8k", metric="exact_match", effect=0.0, lo=-0.08, hi=0.08, q=1, sig=False),
        _effect(value="empathy", suite="value_prompts", metric="expresses:fairness", effect=0.05, lo=0.01, hi=0.09),
        _effect(value="empathy", suite="value_prompts", metric="expresses:legality", effect=0.05),
        _effect(value="discretion", suite="value_prompts", metric="expresses:humor", effect=-0.05, lo=-0.08, hi=-0.02),
        _effect(value="empathy", suite="value_prompts", metric="expresses:empathy", effect=0.3, lo=0.2, hi=0.4),
        _effect(value="violence", suite="anthrobench", metric="anthro_any", effect=-0.04, lo=-0.07, hi=-0.01),
    ])
    claims = compare_with_study(effects, load_values())
    status = {(r.claim, r.induced_value, r.target): r.status for r in claims.itertuples()}
    assert status[("refusal", "empathy", "refusal on AdvBench")] == "agrees"
    assert status[("refusal", "deception", "refusal on AdvBench")] == "disagrees"
    assert status[("refusal", "fairness", "refusal on AdvBench")] == "not significant"
    assert status[("qa", "empathy", "MMLU acc")] == "agrees"            # CI inside +-0.02
    assert status[("qa", "creativity", "MMLU acc")] == "disagrees"      # significant and beyond the margin
    assert status[("qa", "humor", "GSM8K exact_match")] == "too few items"  # wider than the +-0.02 band
    assert status[("related", "empathy", "expresses fairness")] == "agrees"   # both Social, positive
    assert ("related", "empathy", "expresses legality") not in status        # different category: not related
    assert status[("related", "discretion", "expresses humor")] == "agrees"  # "discretion suppresses humour"
    assert status[("own", "empathy", "expresses empathy")] == "agrees"
    assert status[("anthro", "violence", "any anthropomorphic behaviour")] == "disagrees"
    counts = tally(claims).set_index("claim")
    assert counts.loc["refusal", ["agrees", "disagrees", "not significant"]].tolist() == [1, 1, 1]


def test_claims_say_too_few_items_for_degenerate_or_too_wide_intervals_and_not_measured_for_absent_benchmarks():
    effects = pd.DataFrame([
        # no QA answer changed on 2 items: once [0, 0] (valind before), now Newcombe's wide interval
        _effect(value="empathy", suite="mmlu", metric="acc", effect=0.0, lo=0.0, hi=0.0, q=1, sig=False),
        _effect(value="humor", suite="mmlu", metric="acc", effect=0.0, lo=-0.66, hi=0.66, q=1, sig=False),
        _effect(value="honesty", suite="mmlu", metric="acc", effect=0.0, lo=-0.01, hi=0.01, q=1, sig=False),
        _effect(value="empathy", effect=0.0, lo=0.0, hi=0.0, q=1, sig=False),            # refusal, zero width
        _effect(value="honesty", effect=0.3, lo=-0.9, hi=1.5, q=0.9, sig=False),         # wider than the scale
        _effect(value="humor", effect=0.02, lo=-0.1, hi=0.14, q=0.8, sig=False),         # an ordinary null
    ])
    claims = compare_with_study(effects, load_values())
    status = {(r.claim, r.induced_value, r.target): r.status for r in claims.itertuples()}
    assert status[("qa", "empathy", "MMLU acc")] == "too few items"
    assert status[("qa", "humor", "MMLU acc")] == "too few items"
    assert status[("qa", "honesty", "MMLU acc")] == "agrees"
    assert status[("refusal", "empathy", "refusal on AdvBench")] == "too few items"
    assert status[("refusal", "honesty", "refusal on AdvBench")] == "too few items"
    assert status[("refusal", "humor", "refusal on AdvBench")] == "not significant"
    # GSM8K, named in the claim, was not run: one row per induced value, none of them agreeing
    gsm = claims[claims["target"] == "GSM8K"]
    assert sorted(gsm["induced_value"]) == ["empathy", "honesty", "humor"] and set(gsm["status"]) == {"not measured"}
    counts = tally(claims).set_index("claim")
    assert counts.loc["qa", ["agrees", "too few items", "not measured"]].tolist() == [1, 2, 3]


def test_findings_panel_cell_for_two_unchanged_items_is_too_few_items():
    """End to end: 2 QA items, base and adapter answer both the same, through the effects into the panel."""
    from valind.stats import compute_effects

    rows = [("m", who, 0, "mmlu", f"q{i}", "acc", x) for who in ("base", "empathy") for i, x in enumerate([1.0, 0.0])]
    effects = compute_effects(pd.DataFrame(rows, columns=["model", "induced_value", "seed", "suite", "item_id",
                                                          "metric", "value"]), EffectOptions(n_boot=100))
    row = effects.iloc[0]
    assert row["ci_high"] - row["ci_low"] > 1.0  # Newcombe at n = 2: about [-0.66, +0.66]
    claims = compare_with_study(effects, load_values())
    assert claims.set_index("target").loc["MMLU acc", "status"] == "too few items"


# ------------------------------------------------------------------ stage and command
def _small_run(run_dir: Path, n_items: int = 30, seed: int = 0) -> Path:
    """A run holding only an evaluated results table (and its manifest), as the stage sees it."""
    rng = np.random.default_rng(seed)
    rows = [("m", induced, 0, suite, f"{suite}-{i}", metric, float(rng.uniform() < p))
            for induced, p in (("base", 0.3), ("honesty", 0.5))
            for suite, metric in (("value_prompts", "expresses:honesty"), ("advbench", "refused"))
            for i in range(n_items)]
    df = pd.DataFrame(rows, columns=["model", "induced_value", "seed", "suite", "item_id", "metric", "value"])
    atomic_write_parquet(run_dir / "evaluate" / "results.parquet", df)
    write_manifest(run_dir / "evaluate", stage="evaluate", config_hash="t", inputs={}, outputs=["results.parquet"])
    return run_dir


def test_stage_writes_manifest_and_skips_when_inputs_are_unchanged(tmp_path):
    from valind.config import parse_study
    from valind.context import RunContext
    from valind.report import stage

    run_dir = _small_run(tmp_path / "run")
    cfg = parse_study({"name": "t", "sources": [{"kind": "hh_rlhf", "path": "x.jsonl"}]}, "test", tmp_path)
    ctx = RunContext(config=cfg, run_dir=run_dir, progress=False)
    first = stage.run(ctx, FAST)
    assert not first.get("_skipped")
    manifest = read_manifest(run_dir / "report")
    assert set(stage.OUTPUTS) <= set(manifest["outputs"]) and manifest["counts"]["effects"] == 2
    assert stage.run(ctx, FAST).get("_skipped")
    _small_run(run_dir, seed=1)  # new results, as after re-evaluation, make the report stale
    assert not stage.run(ctx, FAST).get("_skipped")
    assert not stage.run(ctx, EffectOptions(n_boot=300, n_perm=1000, seed=5)).get("_skipped")  # other options


def test_cli_writes_the_report_where_asked(tmp_path, capsys):
    from valind.report.cli import main

    run_dir = _small_run(tmp_path / "run")
    target = tmp_path / "out" / "my-report.html"
    assert main(argparse.Namespace(run_dir=str(run_dir), output=str(target))) == 0
    assert target.read_text(encoding="utf-8").startswith("<!doctype html>")
    assert (run_dir / "report" / "summary.md").exists()
    assert str(target) in capsys.readouterr().out


def test_extractor_validation_in_the_validate_format_becomes_a_figure_and_table(demo_report):
    run_dir, _, html = demo_report
    per_value = json.loads((run_dir / "validation" / "extractor.json").read_text())["per_value"]
    assert (run_dir / "report" / "figures" / "validation_extractor_ap.png").exists()
    assert "extractor: per value" in html
    assert all(f"<td>{r['value']}</td>" in html for r in per_value)


def test_real_judge_validation_output_is_rendered(tmp_path):
    """The JSON of `valind judge validate --json` (here: the prefix judge on the shipped labels) renders."""
    from valind.artifacts import atomic_write_json
    from valind.calibration.validate_judges import run as validate_judges

    run_dir = _small_run(tmp_path / "run")
    atomic_write_json(run_dir / "validation" / "judges.json", validate_judges(task="refusal", judges=["prefix"]))
    html = build_report(run_dir, options=FAST)["html"].read_text(encoding="utf-8")
    assert (run_dir / "report" / "figures" / "validation_judges_agreement.png").exists()
    assert "refusal.prefix.all.three_class" in html and "refusal.prefix.all.refused" in html


# ------------------------------------------------------------------ a real browser
@pytest.mark.browser
def test_report_renders_in_headless_chromium(demo_report, tmp_path):
    """The page (with hostile generations in it) loads every figure, runs no code, logs no error, fetches nothing."""
    from PIL import Image

    from valind.report.browser import check_page, find_chromium

    from tests.conftest import skip_unless_ci

    if find_chromium() is None:
        skip_unless_ci("chromium not installed (Debian: apt-get install -y chromium; .ci/run installs it)")
    import websocket  # noqa: F401  (websocket-client, in the test extra: required)
    _, out, _ = demo_report
    shot = tmp_path / "report.png"
    check = check_page(out["html"], shot, width=1280, height=1400)
    assert check.images_total == out["counts"]["figures"] > 0
    assert check.images_loaded == check.images_total
    assert check.console_errors == []
    assert check.requests == []      # everything is inline: no network, no other file
    assert check.scripts == 0        # the hostile <script> in the generations stayed text
    assert check.title.startswith("valind report:")  # the hostile prompt did not retitle the page
    with Image.open(shot) as im:
        assert im.size == (1280, 1400)
        # not a blank page: the screenshot has text and figures (many distinct colours)
        assert len(im.convert("RGB").getcolors(maxcolors=1 << 20) or []) > 50


def test_samples_pair_base_and_induced_whatever_the_seed_dtype():
    from valind.report.samples import pick_samples

    results = pd.DataFrame({"model": "m", "induced_value": ["base", "base", "empathy", "empathy"],
                            "seed": [np.nan, np.nan, 0.0, 0.0], "suite": "value_prompts",
                            "item_id": ["a", "b", "a", "b"], "metric": "expresses:empathy",
                            "value": [0.0, 0.0, 0.0, 1.0]})
    items = pd.DataFrame({"model": "m", "induced_value": ["base", "base", "empathy", "empathy"],
                          "seed": [None, None, 0, 0], "suite": "value_prompts", "item_id": ["a", "b", "a", "b"],
                          "prompt": ["pa", "pb", "pa", "pb"], "response": ["ba", "bb", "ea", "eb"]})
    [sample] = pick_samples(items, results)
    assert (sample["item_id"], sample["base_response"], sample["induced_response"]) == ("b", "bb", "eb")
    assert sample["changes"] == ["expresses:empathy: 0 → 1"]


# ------------------------------------------------------------------ the control in the findings panel
def test_claims_say_whether_they_survive_the_control():
    def both(value, metric, suite, vs_base, vs_control):
        return [{**_effect(value=value, suite=suite, metric=metric, **vs_base), "contrast": "vs_base"},
                {**_effect(value=value, suite=suite, metric=metric, **vs_control), "contrast": "vs_control"}]

    sig, ns = dict(effect=0.1, lo=0.05, hi=0.15), dict(effect=0.01, lo=-0.03, hi=0.05, q=0.6, sig=False)
    effects = pd.DataFrame(
        both("empathy", "refused", "advbench", sig, sig)                        # agrees, and survives
        + both("honesty", "refused", "advbench", sig, ns)                        # agrees vs base only
        + both("fairness", "refused", "advbench", ns, ns)                        # not significant
        + both("empathy", "anthro_any", "anthrobench", sig, ns)                  # generic DPO does it
        + [{**_effect(value="control", metric="anthro_any", suite="anthrobench"), "contrast": "vs_base"}])
    claims = compare_with_study(effects, load_values())
    assert "control" not in set(claims["induced_value"])  # the control is the reference, not a claim
    got = {(r.claim, r.induced_value): (r.status, r.status_vs_control, r.survives_control) for r in claims.itertuples()}
    assert got[("refusal", "empathy")] == ("agrees", "agrees", True)
    assert got[("refusal", "honesty")] == ("agrees", "not significant", False)
    assert got[("refusal", "fairness")] == ("not significant", "not significant", False)
    assert got[("anthro", "empathy")] == ("agrees", "not significant", False)
    t = tally(claims).set_index("claim")
    assert t.loc["refusal", "agrees"] == 2 and t.loc["refusal", "survives the control"] == 1
    assert t.loc["anthro", "survives the control"] == 0


def test_control_survival_counts_effects_significant_vs_base_that_stay_so():
    from valind.stats import control_survival

    rows = []
    for value, base_sig, ctrl_sig, ctrl_sign in (("a", True, True, 1), ("b", True, False, 1), ("c", True, True, -1),
                                                 ("d", False, True, 1)):
        rows.append({"model": "m", "induced_value": value, "contrast": "vs_base", "suite": "s", "metric": "refused",
                     "effect": 0.2, "significant": base_sig, "bh_family": "primary"})
        rows.append({"model": "m", "induced_value": value, "contrast": "vs_control", "suite": "s",
                     "metric": "refused", "effect": 0.1 * ctrl_sign, "significant": ctrl_sig, "bh_family": "primary"})
    rows.append({"model": "m", "induced_value": "control", "contrast": "vs_base", "suite": "s", "metric": "refused",
                 "effect": 0.2, "significant": True, "bh_family": "primary"})
    got = control_survival(pd.DataFrame(rows))
    # a: kept; b: lost; c: significant the other way round, so not kept; d: not significant vs base; control skipped
    assert got == {"significant_vs_base": 3, "survive_control": 1, "with_control": 4, "significant_vs_control": 3}


# ------------------------------------------------------------------ dose-response
def test_dose_response_figure_and_table_from_a_sweep(tmp_path):
    """Two values and their controls at three betas: one line per value, effect against dose, vs the control."""
    import yaml

    rng = np.random.default_rng(3)
    rows = []
    n = 40
    for i in range(n):
        rows.append(("m", "base", 0, "value_prompts", f"v{i}", "expresses:empathy", 0.0))
        rows.append(("m", "base", 0, "harmful_requests", f"h{i}", "refused", float(i % 2)))
    for beta, dose in ((0.05, 0.1), (0.1, 0.3), (0.5, 0.6)):
        for label, own in (("empathy", dose), ("control", 0.05)):
            for i in range(n):
                rows.append(("m", f"{label}@beta={beta:g}", 0, "value_prompts", f"v{i}", "expresses:empathy",
                             float(rng.uniform() < own)))
                rows.append(("m", f"{label}@beta={beta:g}", 0, "harmful_requests", f"h{i}", "refused", float(i % 2)))
    df = pd.DataFrame(rows, columns=["model", "induced_value", "seed", "suite", "item_id", "metric", "value"])
    atomic_write_parquet(tmp_path / "evaluate" / "results.parquet", df)
    (tmp_path / "study.yaml").write_text(yaml.safe_dump({"name": "dose", "values": ["empathy"],
                                                         "sweep": {"training.beta": [0.05, 0.1, 0.5]}}))
    out = build_report(tmp_path, options=FAST)
    table = pd.read_csv(tmp_path / "report" / "dose_response.csv")
    own = table[table["panel"] == "own-value expression"]
    assert list(own["dose"]) == [0.05, 0.1, 0.5] and set(own["line"]) == {"empathy"}
    assert set(own["contrast"]) == {"vs_control"}
    assert own["effect"].is_monotonic_increasing and own["effect"].iloc[-1] > 0.3  # the simulated dose effect
    assert (own["ci_low"] <= own["effect"]).all() and (own["effect"] <= own["ci_high"]).all()
    assert set(table["panel"]) == {"own-value expression", "refused, harmful requests (built-in)"}
    assert (tmp_path / "report" / "figures" / "dose_training.beta_m.png").exists()
    assert "Dose-response: training.beta" in out["html"].read_text(encoding="utf-8")


def test_report_with_no_adapter_rows_builds_and_says_so(tmp_path):
    df = pd.DataFrame([("m", "base", 0, "advbench", "i0", "refused", 1.0)],
                      columns=["model", "induced_value", "seed", "suite", "item_id", "metric", "value"])
    atomic_write_parquet(tmp_path / "evaluate" / "results.parquet", df)
    out = build_report(tmp_path, options=FAST)
    assert out["counts"]["effects"] == 0 and out["counts"]["survive_control"] == 0
    assert "No effects could be computed" in out["html"].read_text(encoding="utf-8")
