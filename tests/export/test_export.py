"""Exports of a finished run, on a tiny pipeline run made here: model cards, the hub upload plan, Inspect AI
logs, and the result tables as data sets. Each is read back with the library that owns the format
(huggingface_hub, peft, inspect_ai, datasets)."""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from valind.cli import main as cli
from valind.config import SourceSpec, parse_study
from valind.context import RunContext
from valind.pipeline import study_yaml, run_stage

from tests.conftest import e2e_study

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def run(tiny_model_dir, tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("export-run")
    data = e2e_study(tiny_model_dir, name="export-e2e")
    data["sources"][0]["license"] = "apache-2.0"
    ctx = RunContext(config=parse_study(data), run_dir=run_dir, progress=False)
    (run_dir / "study.yaml").write_text(study_yaml(ctx.config))  # as `valind run` writes it
    for stage in ["ingest", "extract", "curate", "train", "generate", "evaluate", "report"]:
        run_stage(ctx, stage)
    return run_dir


def adapter_dirs(run_dir: Path) -> list[Path]:
    return sorted(p.parent for p in run_dir.glob("train/*/*/seed*/adapter/adapter_config.json"))


# ------------------------------------------------------------------ model cards
def test_every_adapter_has_a_model_card_the_hub_parses(run):
    from huggingface_hub import ModelCard

    stats = pd.read_csv(run / "curate" / "stats.csv").set_index("value")
    effects = pd.read_csv(run / "report" / "effects.csv")
    dirs = adapter_dirs(run)
    assert [d.parent.parent.name for d in dirs] == ["control", "empathy", "humor"]
    control = ModelCard.load(dirs[0] / "README.md")
    assert control.text.lstrip().startswith("# Control adapter for tiny") and "**Induced value**: none" in control.text
    assert "curate/controls.json" in control.text and "value definition" not in control.text.split("## Effects")[0]
    assert "subset statistics" not in control.text  # a control has no XOR subset; nothing is missing there
    for adapter in dirs[1:]:
        value = adapter.parent.parent.name
        metrics = json.loads((adapter.parent / "metrics.json").read_text())
        card = ModelCard.load(adapter / "README.md")
        assert card.data.library_name == "peft" and card.data.license == "apache-2.0"
        assert card.data.base_model is None  # a local checkpoint is no hub id; the text says so
        assert f"value-{value}" in card.data.tags and "dpo" in card.data.tags
        text = card.text
        from valind.values import load_values

        assert load_values()[value].definition in text
        assert f"Subset: {int(stats.loc[value, 'pairs'])} pairs" in text
        assert f"trained on {metrics['n_train']} pairs" in text
        assert f"-> {metrics['last_loss']:.3f}" in text
        assert "| demo | generic | demo_pairs.jsonl | apache-2.0 | 310 |" in text  # source, licence, pairs ingested
        # the headline effects are this adapter's rows of effects.csv, with their intervals
        rows = effects[(effects["induced_value"] == value) & (effects["bh_family"] != "secondary")
                       & (effects["contrast"] == "vs_control")]  # the card leads with the control contrast
        own = rows[rows["metric"] == f"expresses:{value}"].iloc[0]
        top = rows.reindex(rows["effect"].abs().sort_values(ascending=False).index).iloc[0]
        table = text.split("## Effects")[1].split("## Licences")[0]
        data_rows = [line for line in table.splitlines() if line.startswith("| ") and not line.startswith("| suite")]
        assert data_rows[0].startswith(f"| value_prompts | expresses:{value} |")  # the induced value itself first
        for r in (own, top):
            assert f"{r['effect'] * 100:+.1f} [{r['ci_low'] * 100:+.1f}, {r['ci_high'] * 100:+.1f}]" in table
        assert "## Not in this card" not in text or "headline effects" not in text.split("## Not in this card")[1]


def test_cards_keep_the_run_verifiable_and_say_what_is_missing(run, tmp_path):
    import shutil

    from valind.export.cards import write_cards
    from valind.verify import verify_run

    assert verify_run(run).ok, verify_run(run).problems  # cards are not part of any recorded output
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    shutil.rmtree(copy / "report")
    (copy / "curate" / "stats.csv").unlink()
    cards = write_cards(copy)
    assert [a.value for a, _, _ in cards] == ["control", "empathy", "humor"]
    for adapter, card, path in cards:
        assert "headline effects (report/effects.csv)" in card.missing
        assert ("subset statistics (curate/stats.csv)" in card.missing) == (adapter.value != "control")
        text = path.read_text()
        assert "## Not in this card" in text and "- headline effects (report/effects.csv)" in text


def test_an_adapter_recorded_as_a_whole_folder_keeps_it_and_gets_its_card_in_the_upload(run, tmp_path):
    """Adapters trained before cards recorded adapter/ as one output: writing a card there would break verify."""
    import shutil

    from valind.artifacts import hash_path
    from valind.export.cards import write_cards
    from valind.artifacts import manifest_problems
    from valind.export.hub import plan_upload

    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    job = adapter_dirs(copy)[0].parent
    (job / "adapter" / "README.md").write_text("PEFT's template card\n")
    manifest = json.loads((job / "manifest.json").read_text())
    manifest["outputs"] = {"adapter": hash_path(job / "adapter"), "metrics.json": manifest["outputs"]["metrics.json"]}
    (job / "manifest.json").write_text(json.dumps(manifest))
    written = {a.job_dir: path for a, _, path in write_cards(copy)}
    assert written[job] is None and (job / "adapter" / "README.md").read_text() == "PEFT's template card\n"
    assert manifest_problems(job) == []  # the folder still matches the hash recorded for it
    plan = next(p for p in plan_upload(copy, "my-lab/valind") if p.repo_id.endswith("empathy-seed0"))
    assert "# empathy induced in tiny" in (plan.folder / "README.md").read_text()


def test_source_licences_default_by_kind_and_unknown_for_generic_files():
    assert SourceSpec(kind="hh_rlhf", hub="Anthropic/hh-rlhf").data_license == "mit"
    assert SourceSpec(kind="pku_saferlhf", hub="PKU-Alignment/PKU-SafeRLHF").data_license == "cc-by-nc-4.0"
    assert SourceSpec(kind="ultrafeedback", hub="openbmb/UltraFeedback").data_license == "mit"
    assert SourceSpec(kind="helpsteer2", hub="nvidia/HelpSteer2").data_license == "cc-by-4.0"
    assert SourceSpec(kind="generic", path="x.jsonl").data_license == "unknown"
    assert SourceSpec(kind="generic", path="x.jsonl", license="cc0-1.0").data_license == "cc0-1.0"


def test_mixed_licences_make_the_card_licence_other_and_list_each(run, tmp_path):
    import shutil

    import yaml
    from huggingface_hub import ModelCard

    from valind.export.cards import write_cards

    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    study = yaml.safe_load((copy / "study.yaml").read_text())
    study["sources"].append({"kind": "pku_saferlhf", "hub": "PKU-Alignment/PKU-SafeRLHF", "label": "pku"})
    (copy / "study.yaml").write_text(yaml.safe_dump(study))
    card = ModelCard.load(write_cards(copy)[0][2])
    assert card.data.license == "other" and card.data.datasets == ["PKU-Alignment/PKU-SafeRLHF"]
    assert "- pku (pku_saferlhf): cc-by-nc-4.0" in card.text and "research use" in card.text


# ------------------------------------------------------------------ hub
def test_hub_dry_run_lists_the_repos_files_and_calls_and_uploads_nothing(run, capsys, monkeypatch):
    from huggingface_hub import HfApi
    from peft import PeftConfig

    from valind.export.hub import plan_upload

    monkeypatch.setenv("HF_TOKEN", "hf_secret_value_for_test")
    assert cli(["export", "hub", str(run), "--repo-prefix", "my-lab/valind", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "hf_secret_value_for_test" not in out
    assert "dry run: 3 repos planned, nothing uploaded" in out
    for value in ("control", "empathy", "humor"):
        repo = f"my-lab/valind-tiny-{value}-seed0"
        assert repo in out
        assert f"HfApi.create_repo(repo_id='{repo}', repo_type='model', private=False, exist_ok=True)" in out
    plans = plan_upload(run, "my-lab/valind")
    for plan in plans:
        names = sorted(f.relative_to(plan.folder).as_posix() for f in plan.files)
        assert {"README.md", "adapter_config.json", "adapter_model.safetensors"} <= set(names)
        assert not [n for n in names if n.endswith((".bin", ".pt", ".pkl"))]
        for name in names:
            assert f"    {name}  " in out
        config = PeftConfig.from_pretrained(plan.folder)  # the staged folder is a PEFT adapter
        assert config.base_model_name_or_path == "tiny-llama"  # no local path leaks to the hub
        assert config.r == 4
        for name, kwargs in plan.calls:  # each planned call fits the real HfApi method
            inspect.signature(getattr(HfApi, name)).bind(HfApi(), **kwargs)
        assert plan.calls[1][1]["folder_path"] == str(plan.folder)


def test_hub_upload_runs_the_real_client_and_never_shows_the_token(run, capsys, monkeypatch):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    assert cli(["export", "hub", str(run), "--repo-prefix", "my-lab/valind"]) == 2
    assert "set HF_TOKEN" in capsys.readouterr().err

    # HF_HUB_OFFLINE=1 (set for every test): the real HfApi stops at its first request
    monkeypatch.setenv("HF_TOKEN", "hf_secret_value_for_test")
    assert cli(["export", "hub", str(run), "--repo-prefix", "my-lab/valind"]) == 2
    captured = capsys.readouterr()
    assert "hub upload of my-lab/valind-tiny-control-seed0 failed at create_repo: OfflineModeIsEnabled" in captured.err
    assert "hf_secret_value_for_test" not in captured.out + captured.err
    assert not [p for p in run.rglob("*") if p.is_file() and b"hf_secret_value_for_test" in p.read_bytes()]


def test_hub_prefix_must_be_org_slash_name(run, capsys):
    assert cli(["export", "hub", str(run), "--repo-prefix", "no-org", "--dry-run"]) == 2
    assert "--repo-prefix 'no-org': give ORG/NAME" in capsys.readouterr().err


# ------------------------------------------------------------------ Inspect AI
def test_inspect_logs_read_back_with_inspect_ai(run, tmp_path, capsys):
    from inspect_ai.log import list_eval_logs, read_eval_log

    out = tmp_path / "logs"
    assert cli(["export", "inspect", str(run), "-o", str(out)]) == 0
    assert "wrote 8 Inspect logs" in capsys.readouterr().out
    assert len(list_eval_logs(str(out))) == 8  # (base, control, empathy, humor) x (value_prompts, harmful_requests)

    results = pd.read_parquet(run / "evaluate" / "results.parquet")
    items = pd.read_parquet(run / "evaluate" / "items.parquet")
    log = read_eval_log(str(out / "tiny_empathy_seed0_harmful_requests.eval"))
    assert log.status == "success" and log.eval.task == "harmful_requests"
    assert log.eval.model == "valind/tiny/empathy/seed0"
    mine = results[(results["induced_value"] == "empathy") & (results["suite"] == "harmful_requests")]
    texts = items[(items["induced_value"] == "empathy") & (items["suite"] == "harmful_requests")]
    assert len(log.samples) == texts["item_id"].nunique() == 4
    for sample in log.samples:
        row = texts[texts["item_id"] == sample.id].iloc[0]
        assert sample.output.completion == row["response"]
        assert sample.input[-1].text in row["prompt"]
        expected = mine[mine["item_id"] == sample.id].set_index("metric")["value"]
        assert {k: s.value for k, s in sample.scores.items()} == pytest.approx(expected.to_dict())
    means = {s.name: s.metrics["mean"].value for s in log.results.scores}
    assert means == pytest.approx(mine.groupby("metric")["value"].mean().to_dict())

    base = read_eval_log(str(out / "tiny_base_seed0_value_prompts.eval"))
    assert base.eval.model == "valind/tiny/base" and any(k.startswith("expresses:") for k in base.samples[0].scores)


# ------------------------------------------------------------------ tables as data sets
@pytest.mark.parametrize("rel,kind", [("evaluate/results.parquet", "results"), ("report/effects.parquet", "effects")])
def test_tables_load_with_datasets_and_carry_their_card(run, rel, kind, monkeypatch, tmp_path):
    import datasets
    from huggingface_hub import DatasetCard

    from valind.export.datacards import read_card

    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", str(tmp_path / "hf-cache"))
    path = run / rel
    ds = datasets.load_dataset("parquet", data_files=str(path))["train"]  # the README's one-liner
    frame = pd.read_parquet(path)
    assert ds.num_rows == len(frame) > 0 and ds.column_names == list(frame.columns)
    back = ds.to_pandas()
    for column in frame.columns:
        assert back[column].tolist() == pytest.approx(frame[column].tolist(), nan_ok=True) \
            if frame[column].dtype.kind == "f" else back[column].astype(str).tolist() == frame[column].astype(str).tolist()

    card = read_card(path)
    assert card["table"] == kind and card["study"] == "export-e2e" and card["rows"] == len(frame)
    assert set(card["columns"]) == set(frame.columns)
    assert "(not documented)" not in card["columns"].values()
    readme = DatasetCard.load(path.parent / "README.md")
    assert readme.data.configs == [{"config_name": "default", "data_files": path.name}]
    assert f'load_dataset("parquet", data_files="{path.name}", split="train")' in readme.text


def test_readme_pandas_example_redraws_a_report_figure(run, tmp_path, monkeypatch):
    """The README's pandas example runs as written against a run's effects.parquet."""
    text = (ROOT / "README.md").read_text()
    code = re.search(r"<!-- pandas-example -->\n```python\n(.*?)```", text, re.S).group(1)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "default").symlink_to(run)
    exec(compile(code, "README.md", "exec"), {})  # noqa: S102 - the README's own example
    png = tmp_path / "expression.png"
    assert png.exists() and png.stat().st_size > 5000


def test_inspect_export_without_inspect_ai_names_the_extra(tmp_path, monkeypatch):
    """Inspect AI is an extra (`valind[inspect]`, left out of the demo's install): without it the command says so."""
    import sys

    from valind.errors import ConfigError
    from valind.export.inspect_logs import export_inspect

    monkeypatch.setitem(sys.modules, "inspect_ai", None)
    monkeypatch.setitem(sys.modules, "inspect_ai.log", None)
    with pytest.raises(ConfigError, match=r"pip install 'valind\[inspect\]'"):
        export_inspect(tmp_path)
