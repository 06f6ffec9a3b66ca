"""The one interface every evaluation suite implements.

A generation suite gives prompts (`items`); the generate stage produces one
response per (model, adapter, item); the suite's `score` turns those rows into
tidy metric rows. A direct suite (QA through lm-eval) has no generation step
and computes its rows from the model itself (`run_direct`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Sequence

from ...instruments.judges import Verdicts, make_judge
from ...registry import suites  # noqa: F401 - the suite registry, re-exported for the suite modules

if TYPE_CHECKING:
    from ...config import SuiteSpec
    from ...context import RunContext


@dataclass
class SuiteItem:
    id: str
    messages: list[dict]  # chat messages sent to the model
    meta: dict = field(default_factory=dict)  # e.g. category, label, prompt type

    @property
    def prompt_text(self) -> str:
        return "\n".join(m["content"] for m in self.messages if m["role"] == "user")


class Suite(ABC):
    """Base class. `score` receives the generation rows for this suite and returns metric rows.

    A generation row has: item_id, prompt (text), response, plus model/induced_value/seed.
    A metric row has: item_id, metric, value (float), and optional `details` (dict, kept per item).
    """

    registry_name: str = "?"
    needs_generation: bool = True
    # The facts other modules read (validation, `valind plan`, the report): which judge task scores it
    # (refusal, anthro, sycophancy; None: no judge), and the family of each metric it writes (an exact
    # name, or a prefix ending in `*`; families: see valind/report/kinds.py).
    task: str | None = None
    metrics: dict[str, str] = {}

    def __init__(self, spec: "SuiteSpec", ctx: "RunContext"):
        self.spec = spec
        self.ctx = ctx

    @property
    def name(self) -> str:
        return self.spec.name

    def items(self) -> list[SuiteItem]:
        """Prompts to generate for (limited by spec.limit)."""
        return []

    @abstractmethod
    def score(self, rows: Sequence[dict]) -> list[dict]:
        """Metric rows (item_id, metric, value, details) for one model/adapter's generation rows."""

    @classmethod
    def metric_family(cls, metric: str) -> str | None:
        """The family of `metric` if this suite writes it (from `metrics`), else None."""
        for pattern, family in cls.metrics.items():
            if metric == pattern or (pattern.endswith("*") and metric.startswith(pattern[:-1])):
                return family
        return None

    def judge_rows(self, rows: Sequence[dict]) -> Verdicts:
        """The verdicts of the suite's judge for its `task` (`judge:` and `options.judge_options` in the config,
        else the task's offline default) on generation rows (prompt, response); the judge is freed after."""
        options = (self.spec.options or {}).get("judge_options", {})
        with make_judge(self.task, self.spec.judge, **options) as judge:
            return judge.judge([r["prompt"] for r in rows], [r["response"] for r in rows])

    def run_direct(self, model_name: str, adapter: str | None) -> list[dict]:
        """Direct suites (no generation): metric rows computed from the model itself."""
        raise NotImplementedError


def make_suite(spec: "SuiteSpec", ctx: "RunContext") -> Suite:
    return suites.get(spec.name)(spec, ctx)
