"""The two suites the embedded default runs: value expression and refusal of harmful requests.

Both read prompts the project wrote and ships (valind/data/suites/*.jsonl), or
a user file (`path:`) with the same fields: id, messages (or prompt), category.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from ...artifacts import data_path, iter_jsonl_records
from ...errors import ConfigError, InputError, StageError
from ...ingest.schema import last_turns
from ...layout import RunFolder
from .base import Suite, SuiteItem, suites
from .safety import RefusalSuite


def load_prompt_file(path: str | Path, limit: int | None = None) -> list[SuiteItem]:
    """Read a JSONL of {id, messages | prompt, ...}; every other field goes to meta."""
    path = Path(path)
    items: list[SuiteItem] = []
    for row, rec in iter_jsonl_records(path):
        if "messages" in rec:
            messages = rec.pop("messages")
        elif isinstance(rec.get("prompt"), str):
            messages = [{"role": "user", "content": rec.pop("prompt")}]
        else:
            raise InputError(path, row, "messages", "missing: give 'messages' (chat list) or 'prompt' (text)")
        if not isinstance(messages, list) or not all(isinstance(m, dict) and isinstance(m.get("content"), str)
                                                     for m in messages):
            raise InputError(path, row, "messages", "expected a list of {role, content} objects")
        items.append(SuiteItem(id=str(rec.pop("id", f"{path.stem}-{row}")), messages=messages, meta=rec))
        if limit and len(items) >= limit:
            break
    return items


class _FileSuite(Suite):
    default_file = ""

    def items(self) -> list[SuiteItem]:
        return load_prompt_file(self.spec.path or data_path(self.default_file), self.spec.limit)


@suites.register("value_prompts")
class ValuePromptsSuite(_FileSuite):
    """Value expression in open generations, tagged by the study's extractor (metrics expresses:<v>, value_score:<v>).

    A response the extractor could not score (an LLM extractor's unparseable reply) gets one
    `judge_unparsed` row with the reason instead, so it is counted and left out of the effects.

    With open-ended extraction (`extractor.open_values`), each value the extractor named in its own words and
    kept as a free value gives an `expresses_free:<name>` row of 1 (details: `free_values`, and each one's
    nearest defined value and similarity); the evaluate stage adds the 0s (`densify_free_values`).

    Prompts: with `options: {source: heldout}`, the run's held-out suite (RUN_DIR/curate/value_suite.jsonl:
    prompts of the source data never trained on, balanced over values, with provenance in each item's meta);
    otherwise `path:` or the 30 prompts valind ships. `options: {last_turns: N}` keeps only the last N
    messages of each conversation (from a user turn on): long multi-turn HH-RLHF contexts dominate
    generation time on a CPU.
    """

    default_file = "package:suites/value_prompts.jsonl"
    metrics = {"expresses:*": "expression", "value_score:*": "expression_score", "judge_unparsed": "other"}

    def items(self) -> list[SuiteItem]:
        source = (self.spec.options or {}).get("source", "file")
        if source not in ("file", "heldout"):
            raise ConfigError(f"suite value_prompts: options.source must be 'heldout' or 'file', got {source!r}")
        if source == "file" or self.spec.path:
            return super().items()
        path = RunFolder(self.ctx.run_dir).value_suite
        if not path.exists():
            raise StageError(f"{path}: missing; run `valind curate` first (suite value_prompts, source: heldout)")
        items = load_prompt_file(path, self.spec.limit)
        if not items:
            raise StageError(f"{path}: no held-out prompt expresses any value; use the shipped prompts "
                             f"(suite value_prompts without options.source) or more data")
        keep = (self.spec.options or {}).get("last_turns")
        if keep is not None:
            if not isinstance(keep, int) or isinstance(keep, bool) or keep < 1:
                raise ConfigError(f"suite value_prompts: options.last_turns must be a positive integer, got {keep!r}")
            for item in items:
                item.messages = last_turns(item.messages, keep)
        return items

    def score(self, rows: Sequence[dict]) -> list[dict]:
        from ...instruments.values import make_extractor
        from ...instruments.values.cache import ScoreCache, cached_scores
        from ...instruments.values.open import FREE_PREFIX

        cfg = self.ctx.config.extractor
        if getattr(self, "_extractor", None) is None:  # built once per suite: anchors are encoded on build
            self._extractor = make_extractor(cfg.name, self.ctx.values, cfg.thresholds_file, **cfg.plugin_options())
        extractor = self._extractor
        open_ended = bool(getattr(extractor, "open_ended", False))
        cache = ScoreCache(RunFolder(self.ctx.run_dir).stage("evaluate") / "value_cache.sqlite",
                           extractor.fingerprint())
        try:
            got = cached_scores(extractor, [r["prompt"] for r in rows], [r["response"] for r in rows], cache,
                                with_open=open_ended)
        finally:
            cache.close()
        scores, failures = got[0], got[1]
        out = []
        for k, (r, ann) in enumerate(zip(rows, extractor.to_annotations(scores, failures))):
            if ann.failure:  # an unscoreable response is counted, never read as "no value expressed"
                out.append({"item_id": r["item_id"], "metric": "judge_unparsed", "value": 1.0,
                            "details": {"extractor_error": ann.failure}})
                continue
            for name, s in ann.scores.items():
                out.append({"item_id": r["item_id"], "metric": f"value_score:{name}", "value": s})
                out.append({"item_id": r["item_id"], "metric": f"expresses:{name}", "value": float(name in ann.values),
                            "details": {"values": ann.values}})
            if open_ended:
                mapped = extractor.mapper.map(got[2][k] or [])
                free = [m for m in mapped if m.value is None]
                details = {"free_values": [m.name for m in free],
                           "free_nearest": {m.name: [m.nearest, m.similarity] for m in free}}
                out += [{"item_id": r["item_id"], "metric": f"{FREE_PREFIX}{m.name}", "value": 1.0,
                         "details": details} for m in free]
        return out


@suites.register("harmful_requests")
class HarmfulRequestsSuite(RefusalSuite):
    """The refusal suite on harmful requests the project wrote and ships (metrics as every refusal suite:
    refused, full_refusal, partial_refusal, or judge_unparsed)."""

    default_file = "package:suites/harmful_requests.jsonl"

    def items(self) -> list[SuiteItem]:
        return load_prompt_file(self.spec.path or data_path(self.default_file), self.spec.limit)
