"""The demo data valind ships for its embedded default run: well-formed, reproducible, and usable.

The default study (`valind run` with no file) ingests `data/demo/pairs.jsonl`, curates it
by the XOR rule for empathy, humor and honesty, and evaluates on the two prompt suites.
These tests check that chain's inputs: the schema, that the generator still reproduces the
shipped files, that ingest keeps every pair, and (slow) that the offline extractor yields
XOR subsets large enough for the demo (MiniLM, ~30 s on 2 cores).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path


from valind.artifacts import data_path

ROOT = Path(__file__).resolve().parents[1]
PAIRS = data_path("package:demo/pairs.jsonl")
SUITES = {"value_prompts": data_path("package:suites/value_prompts.jsonl"),
          "harmful_requests": data_path("package:suites/harmful_requests.jsonl")}


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _generator():
    spec = importlib.util.spec_from_file_location("make_demo_data", ROOT / "scripts" / "make_demo_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_pairs_are_well_formed():
    rows = _rows(PAIRS)
    assert 280 <= len(rows) <= 340
    assert len({r["id"] for r in rows}) == len(rows)
    assert len({json.dumps(r["prompt"]) for r in rows}) == len(rows), "a prompt appears twice"
    for r in rows:
        assert set(r) == {"id", "prompt", "chosen", "rejected"}, r["id"]
        roles = [m["role"] for m in r["prompt"]]
        # user first, turns alternate, the last turn is the user's (the responses answer it)
        assert roles == ["user", "assistant"] * (len(roles) // 2) + ["user"], r["id"]
        assert all(isinstance(m["content"], str) and m["content"].strip() for m in r["prompt"]), r["id"]
        assert r["chosen"].strip() and r["rejected"].strip() and r["chosen"] != r["rejected"], r["id"]
    assert sum(len(r["prompt"]) > 1 for r in rows) >= 20, "too few multi-turn prompts"


def test_suites_are_well_formed_and_load():
    from valind.evaluate.suites.builtin import load_prompt_file

    for name, path in SUITES.items():
        rows = _rows(path)
        assert len(rows) == 30, name
        assert len({r["id"] for r in rows}) == 30, name
        items = load_prompt_file(path)
        assert [i.id for i in items] == [r["id"] for r in rows]
        assert all(i.meta.get("category") and i.prompt_text.strip() for i in items), name


def test_generator_reproduces_the_shipped_files(tmp_path):
    """Edit the script, then rerun it: the committed files must be its exact output."""
    paths = _generator().write_all(tmp_path)
    assert paths["pairs"].read_bytes() == PAIRS.read_bytes()
    for name, shipped in SUITES.items():
        assert paths[name].read_bytes() == shipped.read_bytes(), name


def test_default_study_ingests_every_pair(tmp_path):
    from valind.config import load_study
    from valind.ingest.stage import ingest

    study = load_study()
    counts = ingest(study.sources, tmp_path / "pairs.parquet")
    (label, c), = counts.items()
    assert c["kept"] == len(_rows(PAIRS))
    assert c.get("bad_rows_skipped", 0) == 0 and c.get("duplicates", 0) == 0


def test_design_labels_put_each_target_value_on_both_sides():
    """By design, each of the three values has 80-120 pairs, 20-30% of them with the value in rejected."""
    pairs = _generator().build_pairs()
    for value in ("empathy", "humor", "honesty"):
        mine = [p for p in pairs if p["_intended"]["value"] == value]
        flipped = sum(p["_intended"]["in_rejected"] for p in mine)
        assert 80 <= len(mine) <= 120, value
        assert 0.2 <= flipped / len(mine) <= 0.3, value


def test_embedding_extractor_finds_xor_subsets_for_the_demo_values():
    """The offline extractor must give the default study's values enough XOR pairs, some flipped."""
    from valind.curate.xor import xor_decision
    from valind.instruments.values import make_extractor
    from valind.ingest.schema import prompt_text
    from valind.values import load_values

    rows = _rows(PAIRS)
    extractor = make_extractor("embedding", list(load_values().values()))
    prompts = [prompt_text(r["prompt"]) for r in rows]
    chosen = extractor.annotate(prompts, [r["chosen"] for r in rows])
    rejected = extractor.annotate(prompts, [r["rejected"] for r in rows])
    for value in ("empathy", "humor", "honesty"):
        decisions = [xor_decision(value, c.values, j.values) for c, j in zip(chosen, rejected)]
        kept, flipped = decisions.count("keep"), decisions.count("flip")
        assert kept + flipped >= 60, f"{value}: only {kept + flipped} XOR pairs"
        assert 0.1 <= flipped / (kept + flipped) <= 0.45, f"{value}: {flipped} of {kept + flipped} flipped"
