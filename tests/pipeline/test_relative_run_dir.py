"""A run written to a relative folder, as a user types it (`valind run study.yaml --out runs/rel`).

Every stage's manifest must hold real hashes under keys relative to its own folder, `valind verify`
must pass, and a second `valind run` must skip every stage and verify clean again.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from valind.cli import main as cli_main
from tests.conftest import DEMO_PAIRS

EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
STAGES = ["ingest", "extract", "curate", "train", "generate", "evaluate", "report"]


def _study(model_dir: Path) -> dict:
    return {
        "name": "relative",
        "models": [{"name": str(model_dir), "label": "tiny"}],
        "values": ["empathy"],
        # the lexicon extractor: its validation on the labelled sets takes seconds where the learned one's
        # (MiniLM features of every labelled text, grouped CV) takes minutes; paths and hashes are the same
        "extractor": {"name": "lexicon", "options": {"context": False}},
        "sources": [{"kind": "generic", "path": DEMO_PAIRS, "label": "demo",
                     "columns": {"id": "id", "prompt": "prompt", "chosen": "chosen", "rejected": "rejected"}}],
        "curation": {"min_subset_size": 5, "heldout_fraction": 0.1},
        "training": {"method": "dpo", "max_steps": 2, "batch_size": 4, "learning_rate": 0.02, "max_length": 64},
        "generation": {"max_new_tokens": 4, "batch_size": 8},
        "evaluation": {"suites": [{"name": "harmful_requests", "limit": 3}]},
    }


def _manifests(run: Path) -> dict[str, dict]:
    return {str(p.relative_to(run)): json.loads(p.read_text()) for p in sorted(run.rglob("manifest.json"))}


def test_relative_out_records_real_hashes_verifies_and_resumes(tiny_model_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    Path("study.yaml").write_text(yaml.safe_dump(_study(tiny_model_dir)))
    assert cli_main(["run", "study.yaml", "--out", "runs/rel", "--no-progress"]) == 0
    run = Path("runs/rel")
    first = _manifests(run)
    assert {s + "/manifest.json" for s in STAGES} <= set(first)
    for name, manifest in first.items():
        for key, digest in manifest.get("outputs", {}).items():
            assert not key.startswith("runs/"), f"{name}: output key {key} is relative to the working directory"
            assert (run / Path(name).parent / key).exists(), f"{name}: {key} does not exist"
            assert digest != EMPTY_SHA256 or (run / Path(name).parent / key).stat().st_size == 0
    assert cli_main(["verify", "runs/rel"]) == 0

    capsys.readouterr()
    assert cli_main(["run", "study.yaml", "--out", "runs/rel", "--no-progress"]) == 0
    second = _manifests(run)
    for stage in STAGES:
        key = stage + "/manifest.json"
        assert second[key]["finished_at"] == first[key]["finished_at"], f"{stage} ran again instead of being skipped"
    assert cli_main(["verify", "runs/rel"]) == 0

    # `valind report RUN` rebuilds the report in place: its manifest is rewritten with it, so verify still holds
    (run / "report" / "summary.md").write_text("stale")
    assert cli_main(["report", "runs/rel"]) == 0
    assert (run / "report" / "summary.md").read_text() != "stale"
    assert json.loads((run / "report" / "manifest.json").read_text())["finished_at"] != \
        second["report/manifest.json"]["finished_at"]
    assert cli_main(["verify", "runs/rel"]) == 0
