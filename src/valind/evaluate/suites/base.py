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

from ...registry import Registry

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

    def run_direct(self, model_name: str, adapter: str | None) -> list[dict]:
        """Direct suites (no generation): metric rows computed from the model itself."""
        raise NotImplementedError


def run_judge(spec: "SuiteSpec", task: str, prompts: Sequence[str | None], responses: Sequence[str]) -> list:
    """Run the suite's judge for `task` (spec.judge, spec.options.judge_options) and free it after."""
    from ...instruments.judges import make_judge

    judge = make_judge(task, spec.judge, **(spec.options or {}).get("judge_options", {}))
    try:
        return judge.judge(prompts, responses)
    finally:
        if hasattr(judge, "close"):
            judge.close()


suites: Registry[Suite] = Registry("evaluation suite", {
    "value_prompts": "valind.evaluate.suites.builtin",
    "harmful_requests": "valind.evaluate.suites.builtin",
    "advbench": "valind.evaluate.suites.safety",
    "harmbench": "valind.evaluate.suites.safety",
    "strongreject": "valind.evaluate.suites.safety",
    "xstest": "valind.evaluate.suites.safety",
    "anthrobench": "valind.evaluate.suites.anthro",
    "sycophancy": "valind.evaluate.suites.sycophancy",
    "feedback_sycophancy": "valind.evaluate.suites.sycophancy",
    "qa": "valind.evaluate.suites.qa",
})


def make_suite(spec: "SuiteSpec", ctx: "RunContext") -> Suite:
    return suites.get(spec.name)(spec, ctx)
