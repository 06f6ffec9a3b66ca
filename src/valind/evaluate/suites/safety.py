"""Refusal suites: AdvBench (the study's measure), HarmBench, StrongREJECT, and XSTest (over-refusal).

Each reads its benchmark from `../shared/data` (or `path:`, or the hub with `options: {hub: true}`),
asks the model every prompt, and judges the responses with a refusal judge (`judge:`; default the
offline `learned` judge; judge options go in `options: {judge_options: {...}}`).

Per-item metric rows (value 0/1; the mean of a metric is the rate):
- advbench, harmbench, strongreject: `refused`, `full_refusal`, `partial_refusal`;
- xstest: `over_refusal` on the 250 safe prompts, `refused_unsafe` on the 200 unsafe contrasts, and
  `refused_by_type:<type>` per XSTest prompt type; `full_refusal`/`partial_refusal` split as
  `full_refusal_safe`, `partial_refusal_safe`, ... .
An answer the judge cannot parse (LLM judges) gives a `judge_unparsed` row instead, never a compliance.
An XSTest prompt whose label is neither safe nor unsafe is an error.

`options: {also_judges: [prefix, ...]}` (advbench, harmbench, strongreject, harmful_requests) judges the same
responses with further refusal judges, built with their defaults, each giving `refused[<judge>]` rows beside
the main judge's `refused`: e.g. the study's own AdvBench measure (`prefix`, string match) beside a
validated judge. A response such a judge cannot judge has no row for it.
"""

from __future__ import annotations

from typing import Sequence

from ...errors import ConfigError, InputError
from ...instruments.refusal.verdict import RefusalVerdict, metric_rows
from ._data import limit_rows, load_suite_rows, pick
from .base import Suite, SuiteItem, suites


class RefusalSuite(Suite):
    """A benchmark of requests, scored by refusal rate."""

    task = "refusal"
    metrics = {"refused": "refusal", "refused[*": "refusal",  # refused[<judge>]: a further judge (also_judges)
               "full_refusal*": "refusal_detail", "partial_refusal*": "refusal_detail",
               "judge_unparsed": "other"}
    rel_path = ""
    hub_name = ""
    hub_config: str | None = None
    prompt_columns: tuple[str, ...] = ("prompt",)
    id_column: str | None = None
    meta_columns: tuple[str, ...] = ()

    def _rows(self) -> tuple[list[dict], str]:
        return load_suite_rows(self.name, self.spec, self.rel_path, self.hub_name, hub_config=self.hub_config)

    def select(self, rows: list[dict]) -> list[dict]:
        return rows

    def prompt_of(self, row: dict, source: str, n: int) -> str:
        return pick(row, *self.prompt_columns, source=source, row_no=n)

    def check_row(self, row: dict, source: str, n: int) -> None:
        """Raise an InputError naming the row and field when a row lacks what scoring needs."""

    def items(self) -> list[SuiteItem]:
        rows, source = self._rows()
        numbered = self.select(list(enumerate(rows, 1)))
        out = []
        for n, row in limit_rows(numbered, self.spec):
            self.check_row(row, source, n)
            item_id = str(row.get(self.id_column) or "") if self.id_column else ""
            meta = {c: row[c] for c in self.meta_columns if c in row and row[c] not in (None, "")}
            out.append(SuiteItem(id=item_id or f"{self.name}-{n}",
                                 messages=[{"role": "user", "content": self.prompt_of(row, source, n)}], meta=meta))
        return out

    def metric_rows(self, row: dict, verdict: RefusalVerdict) -> list[dict]:
        return metric_rows(row["item_id"], verdict)

    def score(self, rows: Sequence[dict]) -> list[dict]:
        verdicts = self.judge_rows(rows)
        out = []
        for row, verdict in zip(rows, verdicts):
            out += self.metric_rows(row, verdict)
        return out + self.also_judged(rows)

    def also_judged(self, rows: Sequence[dict]) -> list[dict]:
        """`refused[<judge>]` rows from each of `options.also_judges` (see the module docstring)."""
        from ...instruments.judges import make_judge

        names = (self.spec.options or {}).get("also_judges") or []
        if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
            raise ConfigError(f"suite {self.name}: options.also_judges must be a list of refusal judge names, "
                              f"got {names!r}")
        out = []
        for name in names:
            judge = make_judge("refusal", name)
            try:
                verdicts = judge.judge([r["prompt"] for r in rows], [r["response"] for r in rows])
            finally:
                if hasattr(judge, "close"):
                    judge.close()
            out += [{"item_id": row["item_id"], "metric": f"refused[{name}]", "value": float(v.refused)}
                    for row, v in zip(rows, verdicts) if v.judged]
        return out


@suites.register("advbench")
class AdvBenchSuite(RefusalSuite):
    """AdvBench's 520 harmful behaviours (walledai/AdvBench on the hub)."""

    rel_path = "advbench/harmful_behaviors.csv"
    hub_name = "walledai/AdvBench"
    prompt_columns = ("Behavior", "prompt", "goal")
    id_column = "BehaviorID"


@suites.register("harmbench")
class HarmBenchSuite(RefusalSuite):
    """HarmBench text behaviours; `options: {categories: [standard, contextual, copyright]}` (default standard)."""

    rel_path = "harmbench/harmbench_behaviors_text_all.csv"
    hub_name = "walledai/HarmBench"
    hub_config = "standard"
    prompt_columns = ("Behavior", "prompt")
    id_column = "BehaviorID"
    meta_columns = ("FunctionalCategory", "SemanticCategory", "category")

    def select(self, numbered):
        wanted = set((self.spec.options or {}).get("categories", ["standard"]))
        return [(n, r) for n, r in numbered if r.get("FunctionalCategory", "standard") in wanted]

    def prompt_of(self, row, source, n):
        behaviour = pick(row, *self.prompt_columns, source=source, row_no=n)
        context = row.get("ContextString") or row.get("context")
        # HarmBench's format for contextual behaviours: the context, a separator, then the request.
        return f"{context}\n\n---\n\n{behaviour}" if context else behaviour


@suites.register("strongreject")
class StrongRejectSuite(RefusalSuite):
    """StrongREJECT's 313 forbidden prompts, scored by refusal (not its rubric score)."""

    rel_path = "strongreject/strongreject_dataset.csv"
    hub_name = "walledai/StrongREJECT"
    prompt_columns = ("forbidden_prompt", "prompt")
    meta_columns = ("category", "source")


@suites.register("xstest")
class XSTestSuite(RefusalSuite):
    """XSTest v2: over-refusal on 250 safe prompts, refusal on 200 unsafe contrasts, by prompt type."""

    rel_path = "xstest/xstest_prompts.csv"
    hub_name = "walledai/XSTest"
    prompt_columns = ("prompt",)
    id_column = "id"
    meta_columns = ("type", "label", "focus", "note")
    metrics = {"over_refusal": "over_refusal", "over_refused": "over_refusal", "refused_unsafe": "refusal",
               "refused_by_type:*": "refusal_detail", **RefusalSuite.metrics}

    def check_row(self, row: dict, source: str, n: int) -> None:
        if row.get("label") not in ("safe", "unsafe"):  # a missing label must not count as "safe"
            raise InputError(source, n, "label", f"expected 'safe' or 'unsafe', got {row.get('label')!r}")

    def items(self):
        items = super().items()
        for it in items:
            if not it.id.startswith("xstest"):
                it.id = f"xstest-{it.id}"
        return items

    def score(self, rows: Sequence[dict]) -> list[dict]:
        meta_by_id = {it.id: it.meta for it in self.items()}
        verdicts = self.judge_rows(rows)
        out = []
        for row, verdict in zip(rows, verdicts):
            item = row["item_id"]
            meta = {**meta_by_id.get(item, {}), **(row.get("meta") or {})}
            if meta.get("label") not in ("safe", "unsafe"):
                raise InputError(f"generations of suite {self.name}", None, "label",
                                 f"item {item} has no XSTest label (safe/unsafe); regenerate from a labelled file")
            safe = meta["label"] == "safe"
            rows_ = metric_rows(item, verdict, suffix="_safe" if safe else "_unsafe",
                                main="over_refusal" if safe else "refused_unsafe",
                                details={"type": meta.get("type"), "label": meta.get("label")})
            if verdict.judged:
                rows_.insert(1, {"item_id": item, "metric": f"refused_by_type:{meta.get('type', 'unknown')}",
                                 "value": float(verdict.refused)})
            out += rows_
        return out
