"""The scripts that write figures into the docs read them from the run, not from anyone's hand.

scripts/collect_replication.py: stage times summed over resumed runs, peak memory from /usr/bin/time, the
induction table from each adapter's metrics.json, the README block replaced in place.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


LOG = """\
00:16:43 valind [ingest] done in 1.5s -> runs/x/ingest
00:50:25 valind [extract] done in 1615.5s -> runs/x/extract
\tMaximum resident set size (kbytes): 2097152
01:17:31 valind [ingest] skipped (up to date) -> runs/x/ingest
01:50:00 valind [train] done in 1800.0s -> runs/x/train
\tMaximum resident set size (kbytes): 3145728
"""


def test_stage_times_sum_over_resumed_runs_and_peak_memory_is_the_largest():
    collect = _script("collect_replication")
    assert collect.stage_times(LOG) == {"ingest": 1.5, "extract": 1615.5, "train": 1800.0}
    assert collect.peak_memory_gb(LOG) == 3.0
    assert collect.peak_memory_gb("no time output") is None


def _run(tmp_path: Path) -> Path:
    run = tmp_path / "run"
    for adapter, seed, checks in [("deception", 0, {"deception": 0.75, "violence": 0.5}),
                                  ("control", 0, {"deception": 0.5, "violence": 0.25})]:
        job = run / "train" / "m" / adapter / f"seed{seed}"
        job.mkdir(parents=True)
        job.joinpath("metrics.json").write_text(json.dumps({
            "log_history": [{"loss": 0.693, "step": 1}, {"loss": 0.41, "step": 20}, {"train_loss": 0.5}],
            "heldout_rewards": {"values": {v: {"accuracy": a, "margin": 0.1, "pairs": 8} for v, a in checks.items()}}}))
    report = run / "report"
    (report / "figures").mkdir(parents=True)
    (report / "figures" / "f.png").write_bytes(b"png")
    (report / "summary.md").write_text("# r\n\n## Was each value induced? (the manipulation check)\n\n"
                                       "- **deception**: induced **yes**; expressed more than the control: **no**.\n\n"
                                       "## Published findings vs this run (against the base model)\n\n"
                                       "| finding | agrees |\n|---|---:|\n| own | 1 |\n\n## Largest\n")
    for name in ("effects.csv", "claims.csv"):
        (report / name).write_text("a\n1\n")
    (report / "manifest.json").write_text(json.dumps({"finished_at": "2026-11-30T02:00:00+00:00"}))
    (run / "study.yaml").write_text("name: x\nvalues: [deception]\nsources: [{kind: pku_saferlhf, label: pku, limit: 1500}]\n"
                                    "training: {seeds: [0]}\nevaluation: {suites: [{name: value_prompts}]}\n")
    return run


def test_induction_table_reads_each_adapters_own_value(tmp_path):
    table = _script("collect_replication").induction_table(_run(tmp_path)).set_index("adapter")
    assert table.loc["deception", "own_heldout_accuracy"] == 0.75
    assert table.loc["deception", "other_values_mean_accuracy"] == 0.5
    assert table.loc["deception", "loss_first"] == 0.693 and table.loc["deception", "loss_last"] == 0.41
    assert table.loc["deception", "control_on_own_pairs"] == 0.5  # the control's check on deception's pairs
    assert table.loc["control", "own_heldout_accuracy"] is None or table["own_heldout_accuracy"].isna()["control"]


def test_collect_writes_the_docs_folder_and_replaces_only_the_readme_block(tmp_path, monkeypatch):
    import sys

    run = _run(tmp_path)
    log = tmp_path / "run.log"
    log.write_text(LOG)
    readme = tmp_path / "README.md"
    readme.write_text("before\n<!-- replication:start -->\nold text\n<!-- replication:end -->\nafter\n")
    out = tmp_path / "docs"
    monkeypatch.setattr(sys, "argv", ["collect", str(run), str(log), "--out", str(out), "--readme", str(readme),
                                      "--commit", "abc1234"])
    assert _script("collect_replication").main() == 0
    assert {p.name for p in out.iterdir()} >= {"README.md", "summary.md", "effects.csv", "claims.csv",
                                                "induction.csv", "figures", "study.yaml"}
    doc = (out / "README.md").read_text()
    assert "`abc1234`" in doc and "peak memory (maximum resident set size): 3.0 GB" in doc
    assert "| deception | seed0 | 0.693 -> 0.410 | 0.75 | 0.50 |" in doc and "| own | 1 |" in doc
    assert "what ran: pku (first 1,500 rows); values deception and the control; 1 seed; suites value_prompts" in doc
    assert "**deception**: induced **yes**" in doc
    text = readme.read_text()
    assert text.startswith("before\n<!-- replication:start -->\n") and text.endswith("<!-- replication:end -->\nafter\n")
    assert "old text" not in text and "0.75 on average" in text and "57 min of stage time" in text
    assert "**deception**: induced **yes**" in text and "pku (first 1,500 rows)" in text
    cpu = _script("collect_replication").cpu_name()
    assert cpu and f"({cpu}, " in text and f"- machine: {cpu}, " in doc  # every figure names the CPU it ran on


def test_time_default_splits_set_up_from_the_run_and_writes_only_its_block(tmp_path):
    timing = _script("time_default")
    assert timing.seconds("8:54.20") == 534.2 and timing.seconds("1:02:03") == 3723.0
    assert timing.mmss(534.2) == "8:54.20"
    t0 = 1_765_065_600.0 + 23 * 3600 + 59 * 60  # 23:59:00 UTC; the run's first line after midnight
    log = "setup: installing torch\n00:01:30 valind [ingest] start\n00:01:31 valind [ingest] done in 1.0s -> x\n"
    assert timing.first_log_time(log, t0) - t0 == 150.0
    try:
        timing.first_log_time("setup: only\n", t0)
    except SystemExit as exc:
        assert "cannot split set-up" in str(exc)
    else:
        raise AssertionError("a log without a valind line must stop the script")
    readme = tmp_path / "README.md"
    readme.write_text("a\n<!-- fresh-timings:start -->\nold\n<!-- fresh-timings:end -->\nb\n"
                      "<!-- default-timings:start -->\nkeep\n<!-- default-timings:end -->\n")
    timing.write_block(readme, "fresh-timings", ["new"])
    assert readme.read_text() == ("a\n<!-- fresh-timings:start -->\nnew\n<!-- fresh-timings:end -->\nb\n"
                                  "<!-- default-timings:start -->\nkeep\n<!-- default-timings:end -->\n")
