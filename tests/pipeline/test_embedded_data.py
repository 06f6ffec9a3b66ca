"""The real data the embedded default ships (src/valind/data/embedded): reproducible, attributed, readable.

The subsets are written by scripts/make_embedded_data.py from ../shared/data; rebuilding them must give
the shipped bytes, so the README's account of how they were chosen is the whole story. Every suite of the
default study must load its items from them, with nothing read from ../shared/data.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from tests.conftest import SHARED_DATA
from valind.artifacts import data_path

ROOT = Path(__file__).resolve().parents[2]
EMBEDDED = data_path("package:embedded")


def _script():
    spec = importlib.util.spec_from_file_location("make_embedded_data", ROOT / "scripts" / "make_embedded_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_the_script_rebuilds_the_shipped_subsets_byte_for_byte(tmp_path):
    if not (SHARED_DATA / "hh-rlhf").exists():
        pytest.skip(f"../shared/data not found at {SHARED_DATA}: cannot rebuild the subsets from their sources")
    script = _script()
    made = script.build(SHARED_DATA, tmp_path)
    script.write_readme(tmp_path, made)
    assert _files(tmp_path) == _files(EMBEDDED)


def test_every_shipped_dataset_is_permissive_and_attributed():
    script = _script()
    notice = (ROOT / "NOTICE").read_text(encoding="utf-8")
    for folder, (_, licence, origin) in script.SOURCES.items():
        assert licence in {"MIT", "Apache-2.0", "CC-BY-4.0"}, folder
        assert (EMBEDDED / folder).is_dir(), folder
        assert f"src/valind/data/embedded/{folder}" in notice, f"{folder} is not in the NOTICE"
    assert "pku" not in " ".join(_files(EMBEDDED)).lower()  # never the non-commercial PKU-SafeRLHF


def test_every_suite_of_the_default_reads_the_shipped_data(monkeypatch, tmp_path):
    """With no ../shared/data reachable, each default suite still finds its items (in the package)."""
    from valind.config import load_study
    from valind.evaluate.suites import _data
    from valind.evaluate.suites.base import make_suite
    from valind.evaluate.suites.qa import prepare_tasks

    monkeypatch.setattr(_data, "shared_data_roots",
                        lambda data_dir=None, _orig=_data.shared_data_roots: _orig(data_dir) if data_dir
                        else [tmp_path / "nowhere"])
    study = load_study()
    counts = {}
    for spec in study.evaluation.suites:
        if spec.name in ("value_prompts", "qa"):
            continue  # value_prompts comes from curation; qa is checked through its task folder below
        suite = make_suite(spec, None)
        if spec.name == "feedback_sycophancy":
            from valind.evaluate.suites.sycophancy import load_feedback_items

            counts[spec.name] = len(load_feedback_items(spec))
        else:
            counts[spec.name] = len(suite.items())
        assert counts[spec.name] == spec.limit, (spec.name, counts[spec.name])
    assert {"advbench", "xstest", "anthrobench", "sycophancy", "feedback_sycophancy"} <= set(counts)
    qa = next(s for s in study.evaluation.suites if s.name == "qa")
    tasks = prepare_tasks(tmp_path / "tasks", data_dir=qa.options["data_dir"])
    assert (tasks / "truthfulqa_mc1.yaml").exists() and (tasks / "gsm8k.yaml").exists()
    assert (tasks / "data" / "truthfulqa" / "truthfulqa_mc.jsonl").read_text().count("\n") == 40
    assert sorted(p.name for p in (tasks / "data" / "mmlu").glob("*_test.jsonl")) == [
        f"{s}_test.jsonl" for s in ("high_school_geography", "high_school_psychology", "miscellaneous")]


def test_default_study_ingests_every_shipped_pair(tmp_path):
    from valind.config import load_study
    from valind.ingest.stage import ingest

    study = load_study()
    counts = ingest(study.sources, tmp_path / "pairs.parquet")
    (label, c), = counts.items()
    assert label == "hh-harmless"
    assert c["kept"] == study.sources[0].limit and c.get("bad_rows_skipped", 0) == 0 and c.get("duplicates", 0) == 0
