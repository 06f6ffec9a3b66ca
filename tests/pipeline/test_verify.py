"""`valind verify RUN_DIR` on a small run built with the real manifest writer, then damaged in each way.

Each damage must be reported on a line naming the damaged path, with exit
status 1; the intact run exits 0. (The kill tests in test_kill_resume.py also
run verify on real interrupted and resumed runs.)
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from valind.artifacts import atomic_write_bytes, atomic_write_json, hash_path, write_manifest
from valind.cli import main as cli_main
from valind.verify import verify_run

ADAPTER = Path("train/tiny/empathy/seed0")


def build_run(root: Path) -> Path:
    """ingest -> extract -> train (one adapter) -> generate, each with a manifest as the stages write them."""
    run = root / "run"
    atomic_write_bytes(run / "ingest" / "pairs.parquet", b"PAR1 pairs v1")
    write_manifest(run / "ingest", stage="ingest", config_hash="c0", inputs={}, outputs=["pairs.parquet"])
    atomic_write_bytes(run / "extract" / "annotations.parquet", b"PAR1 annotations")
    write_manifest(run / "extract", stage="extract", config_hash="c1",
                   inputs={"ingest/pairs.parquet": hash_path(run / "ingest" / "pairs.parquet")},
                   outputs=["annotations.parquet"])
    adapter = run / ADAPTER
    atomic_write_bytes(adapter / "adapter" / "adapter_model.safetensors", b"weights")
    atomic_write_json(adapter / "adapter" / "adapter_config.json", {"r": 4})
    atomic_write_json(adapter / "metrics.json", {"first_loss": 0.69})
    write_manifest(adapter, stage="train-job", config_hash="j", inputs={"train_file": "abc"},
                   outputs=["adapter", "metrics.json"])
    atomic_write_json(run / "train" / "summary.json", [])
    write_manifest(run / "train", stage="train", config_hash="c2", inputs={"tiny/empathy/seed0": "j"},
                   outputs=[adapter / "manifest.json", run / "train" / "summary.json"])
    atomic_write_bytes(run / "generate" / "tiny" / "base" / "seed0" / "value_prompts.jsonl", b'{"response": "hi"}\n')
    write_manifest(run / "generate", stage="generate", config_hash="c3", inputs={"tiny/base/seed0/value_prompts": "k"},
                   outputs=["tiny/base/seed0/value_prompts.jsonl"])
    return run


@pytest.fixture
def run(tmp_path) -> Path:
    return build_run(tmp_path)


def test_intact_run_verifies(run, capsys):
    result = verify_run(run)
    assert result.ok, result.problems
    assert result.manifests == 5 and result.adapters == 1 and result.outputs == 7  # 1+1+2+2+1
    assert cli_main(["verify", str(run)]) == 0
    assert "is intact" in capsys.readouterr().err


def test_relative_run_folder_verifies(tmp_path, monkeypatch):
    """A run written to a cwd-relative folder (as `--out runs/default` does) records real hashes under
    keys relative to each stage folder, and verifies clean."""
    monkeypatch.chdir(tmp_path)
    run = build_run(Path("runs"))
    assert not run.is_absolute()
    train = json.loads((run / "train" / "manifest.json").read_text())
    assert set(train["outputs"]) == {"tiny/empathy/seed0/manifest.json", "summary.json"}
    empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"  # sha256 of nothing
    assert empty not in train["outputs"].values()
    result = verify_run(run)
    assert result.ok, result.problems
    assert result.outputs == 7


def test_manifest_refuses_a_missing_output(tmp_path):
    from valind.errors import StageError

    with pytest.raises(StageError, match="does not exist"):
        write_manifest(tmp_path / "generate", stage="generate", config_hash="c", inputs={}, outputs=["nope.jsonl"])


def _append(path: Path) -> None:
    with open(path, "ab") as fh:
        fh.write(b"!")


# (damage, the path the report must name, words the line must carry)
DAMAGE = {
    "output missing": (lambda r: (r / "extract" / "annotations.parquet").unlink(),
                       "extract/annotations.parquet", "missing"),
    "output changed": (lambda r: _append(r / "generate" / "tiny" / "base" / "seed0" / "value_prompts.jsonl"),
                       "generate/tiny/base/seed0/value_prompts.jsonl", "hash mismatch"),
    "adapter weights changed": (lambda r: _append(r / ADAPTER / "adapter" / "adapter_model.safetensors"),
                                str(ADAPTER / "adapter"), "hash mismatch"),
    "adapter file added": (lambda r: atomic_write_bytes(r / ADAPTER / "adapter" / "extra.bin", b"x"),
                           str(ADAPTER / "adapter"), "hash mismatch"),
    "adapter folder removed": (lambda r: shutil.rmtree(r / ADAPTER),
                               str(ADAPTER / "manifest.json"), "missing"),
    "stage manifest removed": (lambda r: (r / "generate" / "manifest.json").unlink(),
                               "generate/manifest.json", "did not finish"),
    "manifest not JSON": (lambda r: (r / "extract" / "manifest.json").write_text('{"outputs": {'),
                          "extract/manifest.json", "unreadable"),
    "input changed after use": (lambda r: (atomic_write_bytes(r / "ingest" / "pairs.parquet", b"PAR1 pairs v2"),
                                           write_manifest(r / "ingest", stage="ingest", config_hash="c0", inputs={},
                                                          outputs=["pairs.parquet"])),
                                "ingest/pairs.parquet", "stale"),
    "temp file of a killed write": (lambda r: (r / "extract" / ".annotations.parquet.k3j2.tmp").write_bytes(b"PA"),
                                    "extract/.annotations.parquet.k3j2.tmp", "interrupted write"),
    "partial adapter": (lambda r: (r / "train" / "tiny" / "humor" / "seed0.partial" / "trainer").mkdir(parents=True),
                        "train/tiny/humor/seed0.partial", "interrupted"),
    "unfinished generation chunks": (lambda r: (r / "generate" / "tiny" / "base" / "seed0" / ".harmful_requests.parts")
                                     .mkdir(), "generate/tiny/base/seed0/.harmful_requests.parts", "resume"),
    "output outside the run dir": (lambda r: (r / "extract" / "manifest.json").write_text(json.dumps(
        {"stage": "extract", "outputs": {"../../elsewhere.txt": "0" * 64}})), "extract/manifest.json",
        "outside the run directory"),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_each_damage_is_named(run, damage, capsys):
    act, where, words = DAMAGE[damage]
    act(run)
    result = verify_run(run)
    lines = [p for p in result.problems if str(run / where) in p]
    assert lines, f"no line names {where}: {result.problems}"
    assert any(words in line for line in lines), lines
    assert cli_main(["verify", str(run)]) == 1
    out, err = capsys.readouterr()
    assert str(run / where) in out and "problem(s)" in err


def test_problems_elsewhere_do_not_hide_each_other(run):
    for damage in ("output missing", "adapter weights changed", "partial adapter"):
        DAMAGE[damage][0](run)
    assert len(verify_run(run).problems) == 3


def test_verify_a_folder_that_is_not_there(tmp_path, capsys):
    assert cli_main(["verify", str(tmp_path / "nope")]) == 2
    assert "not a run directory" in capsys.readouterr().err
