"""The report shows the instruments' validity as it is (issue 21, items 2 and 3).

Out-of-sample figures of the run's validation files (grouped cross-validation, transfer) are shown, an
in-sample figure is marked IN-SAMPLE, one line names every instrument with no validation (however long
the tables are), `valind extract validate` says when its figure is in-sample and `--calibrate` splits by
group; the curate stage's direction check lands in curate/stats.csv and a WRONG WAY flag in the report.
"""

from __future__ import annotations

import json
import logging
import re

import numpy as np
import pandas as pd
import pytest

from valind.artifacts import atomic_write_json, atomic_write_parquet, write_manifest
from valind.report.build import build_report
from valind.report.demo import build_demo_run
from valind.stats import EffectOptions

FAST = EffectOptions(n_boot=200, n_perm=500, seed=0)


def _agreement(acc, kappa):
    return {"refused": {"accuracy": acc, "kappa": kappa}, "three_class": {"accuracy": acc, "kappa": kappa,
                                                                          "macro_f1": 0.5}, "unparsed": 0}


def _run_validation(version="v-test"):
    """Validation files in the run's schema: a fitted extractor with CV and transfer figures, a fitted refusal
    judge, many fixed judges, and the sycophancy judge (no labelled set) last."""
    per_value = {"deception": {"ap": 0.9, "random_ap": 0.2, "positives": 9, "n": 40, "failed": 0}}
    fig = lambda ap: {"how": "grouped CV", "macro_ap": ap, "macro_random_ap": 0.2, "per_value": per_value}  # noqa
    extractor = {"extractor": "learned", "instruments_version": version, "in_sample": True,
                 "macro": {"ap": 0.938, "random_ap": 0.055}, "cross_validated": fig(0.626),
                 "transfer": {**fig(0.567), "how": "trained on the other labelled sets only"},
                 "labelled_sets": {"moralchoice": {"n": 1314, "in_sample": True, "macro_ap": 0.688,
                                                   "macro_random_ap": 0.458, "per_value": per_value,
                                                   "cross_validated": fig(0.599),
                                                   "transfer": {**fig(0.521), "how": "transfer"}}}}
    judges = {"refusal:learned": {"task": "refusal", "judge": "learned", "labels": "XSTest", "n": 450,
                                  "all": _agreement(0.929, 0.847), "in_sample": True,
                                  "cross_validated": {"how": "grouped by prompt", **_agreement(0.924, 0.837)},
                                  "transfer": {"how": "leave one model out", **_agreement(0.900, 0.783)}}}
    for i in range(140):  # a long list: nothing may push the notice below a cut
        judges[f"refusal:fixed-{i:03d}"] = {"task": "refusal", "judge": f"fixed-{i:03d}", "labels": "XSTest",
                                            "n": 450, "all": _agreement(0.8, 0.6), "in_sample": False}
    judges["sycophancy:detector"] = {"task": "sycophancy", "judge": "detector", "suites": ["sycophancy"],
                                     "not_measured": "no labelled sycophancy set ships with valind"}
    return extractor, {"instruments_version": version, "judges": judges}


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    run_dir = build_demo_run(tmp_path_factory.mktemp("run") / "demo", values=("empathy", "deception"), seeds=(0,),
                             n_items=20, n_qa=20)
    extractor, judges = _run_validation()
    for f in (run_dir / "validation").glob("*.json"):
        f.unlink()
    atomic_write_json(run_dir / "validation" / "extractor.json", extractor)
    atomic_write_json(run_dir / "validation" / "judges.json", judges)
    stats = pd.read_csv(run_dir / "curate" / "stats.csv")
    stats["safety_xor_pairs"] = 40
    stats["in_less_safe_share"] = [0.25 if v == "deception" else 0.1 for v in stats["value"]]
    stats["direction"] = ["WRONG WAY" if v == "deception" else "" for v in stats["value"]]
    stats.to_csv(run_dir / "curate" / "stats.csv", index=False)
    out = build_report(run_dir, options=FAST)
    return out["html"].read_text(encoding="utf-8")


def _rows(html: str) -> list[list[str]]:
    return [re.findall(r"<td[^>]*>(.*?)</td>", r) for r in re.findall(r"<tr[^>]*>(.*?)</tr>", html, re.S)]


def test_the_report_shows_cross_validated_and_transfer_figures_and_marks_in_sample(report):
    rows = [r for r in _rows(report) if len(r) == 6]
    learned = {(r[1], r[2]): r[4] for r in rows if r[0] == "extractor `learned`"}
    assert learned[("moralchoice", "grouped CV")] == "0.599" and learned[("moralchoice", "transfer")] == "0.521"
    assert learned[("moralchoice", "IN-SAMPLE (fitted on these rows)")] == "0.688"
    assert learned[("in-house (gold)", "grouped CV")] == "0.626"
    assert learned[("in-house (gold)", "IN-SAMPLE (written in-house)")] == "0.938"
    judge = {r[2]: r[4] for r in rows if r[0] == "judge refusal:learned"}
    assert judge == {"grouped by prompt": "0.924 / 0.837", "leave one model out": "0.900 / 0.783",
                     "IN-SAMPLE (fitted on these rows)": "0.929 / 0.847"}
    assert sum(r[0].startswith("judge refusal:fixed-") for r in rows) == 140  # no row cut
    assert "judge agreement with labels" not in report  # the run's files are not charted as plain agreement


def test_one_visible_line_names_the_instruments_with_no_validation(report):
    line = re.search(r'<p class="skipped">(No validation at all: [^<]*)</p>', report).group(1)
    assert "judge sycophancy:detector (no labelled sycophancy set" in line and "learned" not in line
    section = report[report.index('<section id="validation"'):]
    assert section.index("No validation at all") < section.index("<table")  # before any table


def test_a_wrong_way_harm_value_is_flagged_at_the_top_and_in_the_data_section(report):
    banner = re.findall(r'<div class="banner">(.*?)</div>', report, re.S)
    assert any("WRONG WAY for deception" in b and "25%" in b and "40 XOR pairs" in b for b in banner)
    assert not any("WRONG WAY for empathy" in b for b in banner)


def test_generic_validation_files_keep_every_row_and_mark_in_sample_agreement(tmp_path):
    run_dir = build_demo_run(tmp_path / "demo", values=("empathy",), seeds=(0,), n_items=10, n_qa=10)
    for f in (run_dir / "validation").glob("*.json"):
        f.unlink()
    atomic_write_json(run_dir / "validation" / "judges.json", {
        "refusal": {"learned": {"fitted": True, "all": _agreement(0.93, 0.85)}, "prefix": {"fitted": False,
                                                                                           "all": _agreement(0.9, 0.8)}},
        **{f"note_{i:03d}": f"text {i}" for i in range(120)}})
    html = build_report(run_dir, options=FAST)["html"].read_text(encoding="utf-8")
    assert "refusal.learned.all.refused (IN-SAMPLE)" in html and "refusal.prefix.all.refused (IN-SAMPLE)" not in html
    assert "refusal.prefix.all.refused" in html
    assert "note_119" in html  # the 120th scalar row is not cut


# ------------------------------------------------------------------ valind extract validate (gold)
def test_validate_without_dataset_says_when_its_figure_is_in_sample(tmp_path, capsys):
    from valind.cli import main as cli
    from valind.calibration.values.validate import DEFAULT_GOLD, in_sample_note

    assert "IN-SAMPLE" in in_sample_note("learned", DEFAULT_GOLD)
    assert "IN-SAMPLE" in in_sample_note("lexicon", DEFAULT_GOLD)
    other = tmp_path / "gold.jsonl"
    other.write_text(json.dumps({"id": "a", "response": "hello", "values": []}) + "\n")
    assert in_sample_note("learned", other) is None and in_sample_note("llm", DEFAULT_GOLD) is None
    out = tmp_path / "fig.json"
    assert cli(["extract", "validate", "--extractor", "lexicon", "--json", str(out)]) == 0
    assert "IN-SAMPLE" in capsys.readouterr().out and json.loads(out.read_text())["in_sample"] is True


def test_calibrate_splits_by_group(tmp_path):
    from valind.instruments.values.base import make_extractor
    from valind.calibration.values.validate import calibration_split, gold_groups, load_gold, validate
    from valind.values import STUDY_VALUES, builtin_values

    groups = [f"g{i // 4}" for i in range(40)]  # ten groups of four rows
    cal, held = calibration_split(40, 0.5, seed=3, groups=groups)
    assert len(cal) + len(held) == 40 and {groups[i] for i in cal}.isdisjoint({groups[i] for i in held})
    assert len(cal) == 20  # whole groups up to the share
    from tests.conftest import register_fixed_scores

    register_fixed_scores()  # the `test-fixed` extractor

    rows = [{"id": str(i), "prompt": f"prompt {i // 2}", "response": f"score={s}",
             "values": ["empathy"] if s > 0.45 else []} for i, s in enumerate(np.linspace(0, 1, 40).round(3))]
    gold = tmp_path / "gold.jsonl"
    gold.write_text("".join(json.dumps(r) + "\n" for r in rows))
    records = load_gold(gold, STUDY_VALUES)
    assert len(set(gold_groups(records))) == 20  # two rows per prompt
    ex = make_extractor("test-fixed", list(builtin_values().values()))
    result = validate(ex, records, calibrate=tmp_path / "th.yaml", split=0.5)
    cal, held = calibration_split(40, 0.5, 0, groups=gold_groups(records))
    assert {records[i]["prompt"] for i in cal}.isdisjoint({records[i]["prompt"] for i in held})
    assert result["calibrated_on"] == len(cal) and "by group" in result["split"]


# ------------------------------------------------------------------ the curate stage's direction check
def test_curate_records_the_direction_share_and_flags_a_harm_value_pointed_the_wrong_way(tmp_path, caplog):
    from valind.config import parse_study
    from valind.context import RunContext
    from valind.pipeline import run_stage

    pairs, ann = [], []

    def add(pid, source, cv, rv):
        pairs.append({"id": pid, "source": source, "prompt": [{"role": "user", "content": f"prompt {pid}"}],
                      "chosen": f"chosen {pid}", "rejected": f"rejected {pid}"})
        ann.append({"id": pid, "chosen_values": cv, "rejected_values": rv})

    for i in range(15):  # PKU (chosen = safer): deception tagged in the safer reply 15 times...
        add(f"a{i}", "pku", ["deception"], [])
    for i in range(5):  # ...and in the less safe one 5 times
        add(f"b{i}", "pku", [], ["deception"])
    for i in range(30):  # helpfulness preferences: no safety order, not counted
        add(f"c{i}", "uf", [], ["deception", "empathy"])
    for i in range(20):
        add(f"d{i}", "pku", ["empathy"], [])
    atomic_write_parquet(tmp_path / "ingest" / "pairs.parquet", pd.DataFrame(pairs))
    write_manifest(tmp_path / "ingest", stage="ingest", config_hash="x", inputs={}, outputs=["pairs.parquet"])
    atomic_write_parquet(tmp_path / "extract" / "annotations.parquet", pd.DataFrame(ann))
    write_manifest(tmp_path / "extract", stage="extract", config_hash="x", inputs={}, outputs=["annotations.parquet"])
    cfg = parse_study({"values": ["deception", "empathy"],
                       "sources": [{"kind": "pku_saferlhf", "path": "p.json", "label": "pku"},
                                   {"kind": "ultrafeedback", "path": "u.jsonl", "label": "uf"}],
                       "curation": {"min_subset_size": 5, "heldout_fraction": 0.1, "value_suite_per_value": 1}})
    with caplog.at_level(logging.WARNING, logger="valind"):
        run_stage(RunContext(config=cfg, run_dir=tmp_path, progress=False), "curate")
    stats = pd.read_csv(tmp_path / "curate" / "stats.csv").set_index("value")
    assert stats.loc["deception", "safety_xor_pairs"] == 20 and stats.loc["deception", "in_less_safe_share"] == 0.25
    assert stats.loc["deception", "direction"] == "WRONG WAY"
    assert stats.loc["empathy", "safety_xor_pairs"] == 20 and stats.loc["empathy", "in_less_safe_share"] == 0.0
    assert pd.isna(stats.loc["empathy", "direction"])  # not a harm value: the share is recorded, not judged
    assert any("deception" in r.message and "less safe" in r.message for r in caplog.records)


def test_direction_stats_by_hand():
    from valind.curate.direction import direction_stats

    decisions = {f"p{i}": ("flip" if i < 8 else "keep") for i in range(10)}
    src = {f"p{i}": "pku" for i in range(10)}
    assert direction_stats(decisions, src, {"pku"}, True) == {"safety_xor_pairs": 10, "in_less_safe_share": 0.8,
                                                              "direction": "ok"}
    few = direction_stats(dict(list(decisions.items())[:4]), src, {"pku"}, True)
    assert few["direction"].startswith("too few") and few["in_less_safe_share"] == 1.0
    assert direction_stats(decisions, src, set(), True)["direction"] == "no safety-ordered source"
